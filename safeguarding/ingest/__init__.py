"""Ingest: read the partnership's child-level extracts, validate, pseudonymise and account for every row.

``run_ingest(config)`` is the entry point; ``python pipeline.py ingest`` calls it.
"""

from __future__ import annotations

from safeguarding.ingest.core import IngestResult, run_ingest
from safeguarding.ingest.errors import IngestError

__all__ = ["IngestError", "IngestResult", "run_ingest"]
