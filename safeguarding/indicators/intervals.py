"""Confidence intervals, targets and RAG ratings of indicator rows (added after the values are summed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from safeguarding.indicators.context import PARTIAL

if TYPE_CHECKING:
    from safeguarding.indicators.catalogue import Catalogue

#: the statuses of a row whose value is shown (and so rated against its target)
RATED_STATUSES = ("ok", PARTIAL)


def rag_column(value: np.ndarray, target: np.ndarray, polarity: np.ndarray) -> np.ndarray:
    """Vectorised :func:`safeguarding.indicators.catalogue.rag_status`."""
    v = np.asarray(value, dtype=float)
    t = np.asarray(target, dtype=float)
    pol = np.asarray(polarity, dtype=object)
    higher = pol == "higher_is_better"
    lower = pol == "lower_is_better"
    num = np.where(higher, v, t)
    den = np.where(higher, t, v)
    with np.errstate(divide="ignore", invalid="ignore"):
        ach = np.where(den == 0, np.where(num >= 0, np.inf, np.nan), num / den)
    ach = np.where((higher | lower) & np.isfinite(v) & np.isfinite(t), ach, np.nan)
    return np.select([ach >= 0.95 - 1e-12, ach >= 0.90 - 1e-12, np.isfinite(ach) | np.isinf(ach)],
                     ["Green", "Amber", "Red"], "N/A").astype(object)


def _indicator_codes(out: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Each row's position in the list of distinct indicator codes, and that list (each code looked up once)."""
    codes, uniq = pd.factorize(out["indicator_id"].astype(str))
    return codes, [str(u) for u in uniq]


def add_targets(out: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Add ``target`` (from the catalogue) and ``rag`` (N/A for a row whose value is not shown)."""
    codes, ids = _indicator_codes(out)
    targets = np.array([np.nan if c not in catalogue or catalogue[c].target is None else catalogue[c].target
                        for c in ids], dtype=float)
    polarity = np.array([catalogue[c].polarity if c in catalogue else "neither" for c in ids], dtype=object)
    out["target"] = targets[codes]
    rag = rag_column(out["value"].to_numpy(dtype=float), out["target"].to_numpy(), polarity[codes])
    out["rag"] = np.where(np.isin(out["status"].to_numpy(), list(RATED_STATUSES)), rag, "N/A")
    return out


def add_intervals(out: pd.DataFrame, catalogue: Catalogue, confidence: float = 0.95) -> pd.DataFrame:
    """Add ``ci_lower`` and ``ci_upper`` (95%) in the unit of ``value``.

    Percentages: Wilson score interval of numerator / denominator, x 100.
    Rates per 10,000: exact Poisson below 10 events and Byar's method from 10
    on the count, divided by the population. Counts: the same Poisson
    interval on the count itself (how much the number could vary by chance).
    Rows without a value get NaN.
    """
    from safeguarding.stats import poisson_interval, wilson_interval

    codes, ids = _indicator_codes(out)
    units = pd.Series(np.array([catalogue[c].unit if c in catalogue else "count" for c in ids], dtype=object)[codes])
    num = out["numerator"].to_numpy(dtype=float)
    den = out["denominator"].to_numpy(dtype=float)
    val = out["value"].to_numpy(dtype=float)
    lo = np.full(len(out), np.nan)
    hi = np.full(len(out), np.nan)
    ok = np.isfinite(val) & np.isfinite(num)
    pct = ok & (units.to_numpy() == "percent") & np.isfinite(den) & (den > 0)
    if pct.any():
        lo_p, hi_p = wilson_interval(num[pct], den[pct], confidence)
        lo[pct], hi[pct] = 100 * np.asarray(lo_p), 100 * np.asarray(hi_p)
    rate = ok & (units.to_numpy() == "rate_per_10k") & np.isfinite(den) & (den > 0)
    count = ok & (units.to_numpy() == "count") & (num >= 0)
    for mask, scale in ((rate, 10_000 / np.where(rate, den, 1.0)), (count, np.ones(len(out)))):
        if mask.any():
            # each distinct count once (the exact limits are chi-squared quantiles, the costly part): the
            # interval of a count depends on that count alone
            counts, which = np.unique(num[mask], return_inverse=True)
            lo_c, hi_c = poisson_interval(counts, confidence)
            lo_c, hi_c = np.asarray(lo_c)[which.reshape(-1)], np.asarray(hi_c)[which.reshape(-1)]
            lo[mask], hi[mask] = lo_c * scale[mask], hi_c * scale[mask]
    out["ci_lower"] = lo
    out["ci_upper"] = hi
    return out
