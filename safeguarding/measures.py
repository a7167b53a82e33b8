"""Arithmetic shared by the indicator engine and the benchmark cross-check.

One place computes a percentage or a rate, and one place rounds it, so the
figure in the indicator table, the figure in the report and the figure
checked against DfE's publications are the same calculation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ArrayLike = "float | int | np.ndarray | pd.Series"


def percentage(numerator, denominator):
    """Return 100 x numerator / denominator, NaN where the denominator is 0 or missing."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where((den > 0) & np.isfinite(den), 100.0 * num / den, np.nan)
    return _like(out, numerator)


def rate_per_10k(count, population):
    """Return count per 10,000 of population, NaN where the population is 0 or missing."""
    num = np.asarray(count, dtype=float)
    den = np.asarray(population, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where((den > 0) & np.isfinite(den), 10_000.0 * num / den, np.nan)
    return _like(out, count)


def round_half_up(value, decimals: int = 1):
    """Round halves away from zero (12.25 -> 12.3), as published statistics do.

    Python's ``round`` and numpy round halves to even, which disagrees with
    DfE's published figures on exact halves. A tiny epsilon absorbs binary
    representation error (``0.285`` is stored as ``0.28499999...``).

    With :func:`percentage` this reproduces 17,927 of the 17,928 council-year
    percentages in DfE's 2013-2025 tables C1, D3 and D5 exactly (the exception
    is documented in ``tests/test_dfe_crosscheck.py``); half-to-even would not.
    """
    x = np.asarray(value, dtype=float)
    factor = 10.0**decimals
    out = np.sign(x) * np.floor(np.abs(x) * factor + 0.5 + 1e-9) / factor
    return _like(out, value)


def _like(out: np.ndarray, template):
    if isinstance(template, pd.Series):
        return pd.Series(out, index=template.index)
    if np.ndim(out) == 0:
        return float(out)
    return out
