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


def render_indicator_table(df: pd.DataFrame, cells: IndicatorCells, suppressed: np.ndarray,
                           markers: Mapping[str, str] = MARKERS) -> pd.DataFrame:
    """A copy of ``df`` with its figures as published, given the suppressed cells (bool per cell).

    ``numerator``, ``denominator`` and ``value`` become strings; a
    percentage is hidden when its numerator or denominator is, a rate when
    its numerator is. ``suppressed`` (a new column) is True where any figure
    of the row is hidden, and ``marker`` holds the marker of ``value``
    (``c``, ``:``, ``z``, or empty when published).
    """
    out = df.copy()
    hidden = {key: bool(suppressed[cid]) for key, cid in cells.cell_id.items()}
    figures = cells.figures
    num_s, den_s, val_s, flag, marker = [], [], [], [], []
    for r, k in enumerate(cells.kind):
        num, den, val = figures["numerator"][r], figures["denominator"][r], figures["value"][r]
        if k == "count":
            hv = hidden[(r, "value")]
            hn, hd = hv, False
            n_txt = WITHHELD if hv else (_count_text(num) if pd.notna(num) else NOT_APPLICABLE)
            d_txt = NOT_APPLICABLE
            v_txt = WITHHELD if hv else _count_text(val)
        else:
            hn = hidden[(r, "numerator")]
            hd = hidden.get((r, "denominator"), False)
            hv = hn or hd
            n_txt = WITHHELD if hn else _count_text(num)
            d_txt = WITHHELD if hd else _count_text(den if k == "percentage" or pd.isna(den) else round(den))
            v_txt = WITHHELD if hv else (NOT_AVAILABLE if pd.isna(val) else f"{round_half_up(val, 1):.1f}")
        num_s.append(n_txt)
        den_s.append(d_txt)
        val_s.append(v_txt)
        flag.append(bool(hn or hd or hv))
        marker.append(v_txt if v_txt in markers and v_txt != "0" else "")
    out["numerator"] = pd.Series(num_s, dtype="string")
    out["denominator"] = pd.Series(den_s, dtype="string")
    out["value"] = pd.Series(val_s, dtype="string")
    out["suppressed"] = pd.Series(flag, dtype=bool)
    out["marker"] = pd.Series(marker, dtype="string")
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
