"""Seeded synthetic data: a whole fictional council (or all of England) as councils export it.

Nothing here is real data. :func:`generate_council` writes one council's
source-shaped extracts (council column names, UK dates, Excel sheets with
title rows, Windows-1252 and BOM encodings, a partner's wide aggregate return)
and a ``ground_truth.json`` holding every parameter used, so that later stages
can be tested for *recovery* of known values. :func:`generate_england` writes
153 fictional councils of realistic, varied size.
"""

from __future__ import annotations

from safeguarding.synth.england import generate_england
from safeguarding.synth.generator import SCALES, SynthParams, generate_council

__all__ = ["SCALES", "SynthParams", "generate_council", "generate_england"]
