"""Turning suppressed cells into what is published: strings, markers, and charts of small counts.

:func:`render_indicator_table` writes each row of the indicator table as it
is published: counts as whole numbers, percentages and rates to one decimal
place, ``c`` for a suppressed figure (and for a percentage or rate built on
one), ``:`` not available, ``z`` not applicable. :func:`small_count_series`
makes a monthly series safe to chart.

This module decides nothing about what is hidden: it is given the
suppressed cells (:mod:`.primary`, :mod:`.secondary`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from safeguarding.disclosure.policy import MARKERS, Policy
from safeguarding.disclosure.primary import IndicatorCells
from safeguarding.markers import NOT_APPLICABLE, NOT_AVAILABLE, WITHHELD
from safeguarding.measures import round_half_up


def _count_text(v: float) -> str:
    """A count as published: ``:`` when missing, a whole number without decimals, else as short as it goes."""
    return NOT_AVAILABLE if pd.isna(v) else (str(int(v)) if float(v).is_integer() else f"{v:g}")


def _count_texts(values: np.ndarray) -> np.ndarray:
    """:func:`_count_text` of each value (an object array of strings)."""
    v = np.asarray(values, dtype=float)
    out = np.full(v.size, NOT_AVAILABLE, dtype=object)
    whole = np.isfinite(v) & (v == np.floor(v))
    small = whole & (np.abs(v) < 2.0 ** 53)  # (exact as 64-bit integers)
    out[small] = v[small].astype(np.int64).astype(str).astype(object)
    out[whole & ~small] = [str(int(x)) for x in v[whole & ~small].tolist()]
    other = ~np.isnan(v) & ~whole
    out[other] = [f"{x:g}" for x in v[other].tolist()]
    return out


def render_indicator_table(df: pd.DataFrame, cells: IndicatorCells, suppressed: np.ndarray,
                           markers: Mapping[str, str] = MARKERS) -> pd.DataFrame:
    """A copy of ``df`` with its figures as published, given the suppressed cells (bool per cell).

    ``numerator``, ``denominator`` and ``value`` become strings; a
    percentage is hidden when its numerator or denominator is, a rate when
    its numerator is. ``suppressed`` (a new column) is True where any figure
    of the row is hidden, and ``marker`` holds the marker of ``value``
    (``c``, ``:``, ``z``, or empty when published). Counts are written as
    :func:`_count_text` writes them, percentages and rates to one decimal
    place (halves away from zero).
    """
    out = df.copy()
    n = len(cells.kind)
    suppressed = np.asarray(suppressed, dtype=bool)

    def hidden(measure: str) -> np.ndarray:
        """Per row, whether its ``measure`` is a suppressed cell."""
        ids = cells.ids[measure]
        out = np.zeros(n, dtype=bool)
        out[ids >= 0] = suppressed[ids[ids >= 0]]
        return out

    count = cells.kind == "count"
    pct = cells.kind == "percentage"
    num, den, val = (cells.figures[m] for m in ("numerator", "denominator", "value"))
    h_value = hidden("value")
    hn = np.where(count, h_value, hidden("numerator"))
    hd = ~count & hidden("denominator")
    hv = np.where(count, h_value, hn | hd)
    # counts: the numerator as written, or z where it has none; the value as written
    n_txt = np.where(count & np.isnan(num), NOT_APPLICABLE, _count_texts(num))
    # percentages and rates: a rate's denominator (a population) is written whole
    d_txt = np.where(count, NOT_APPLICABLE, _count_texts(np.where(pct | np.isnan(den), den, np.round(den))))
    v_txt = np.full(n, NOT_AVAILABLE, dtype=object)
    v_txt[count] = _count_texts(val[count])
    rounded = ~count & ~np.isnan(val)
    v_txt[rounded] = [f"{x:.1f}" for x in np.asarray(round_half_up(val[rounded], 1), dtype=float).tolist()]
    n_txt = np.where(hn, WITHHELD, n_txt)
    d_txt = np.where(hd, WITHHELD, d_txt)
    v_txt = np.where(hv, WITHHELD, v_txt)
    marker = np.where(np.isin(v_txt, list(markers)) & (v_txt != "0"), v_txt, "")
    out["numerator"] = pd.Series(n_txt.tolist(), dtype="string")
    out["denominator"] = pd.Series(d_txt.tolist(), dtype="string")
    out["value"] = pd.Series(v_txt.tolist(), dtype="string")
    out["suppressed"] = pd.Series((hn | hd | hv).tolist(), dtype=bool)
    out["marker"] = pd.Series(marker.tolist(), dtype="string")
    return out


def small_count_series(values: pd.Series, threshold: int = 5, *,
                       policy: Policy | None = None) -> tuple[pd.Series | None, str]:
    """Make a monthly count series safe to chart.

    ``values`` is indexed by month (any date in the month, or a monthly
    ``PeriodIndex``). Small counts are those in ``policy``'s threshold range
    (without a policy: from 1 to ``threshold``). If no month holds one the
    series is returned unchanged with an empty note. Otherwise the months are
    added up into financial quarters (April to June, ...); if no quarter is
    small the quarterly series (indexed by quarter start) is returned with a
    note saying so; otherwise ``(None, note)``: the chart must not be drawn,
    and the note says why.
    """
    if policy is None:
        policy = Policy(threshold=(1, threshold)) if threshold >= 1 else Policy.unsuppressed()
    s = pd.to_numeric(pd.Series(values), errors="coerce")
    small = policy.small(s)
    if not small.any():
        return s, ""
    idx = s.index
    if isinstance(idx, pd.PeriodIndex):
        idx = idx.to_timestamp()
    months = pd.DatetimeIndex(idx).to_period("M")
    quarters = months.asfreq("Q-MAR")
    q = s.groupby(quarters.to_timestamp(how="start")).sum(min_count=1)
    q.index.name = s.index.name
    q_small = policy.small(q)
    if not q_small.any():
        return q, (
            f"Monthly figures include counts {policy.threshold_text}, which are not published; "
            "the chart shows quarterly totals instead."
        )
    return None, (
        f"Chart not shown: the numbers are too small to publish safely (counts {policy.threshold_text} "
        "even when added up by quarter)."
    )
