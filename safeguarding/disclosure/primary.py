"""Primary suppression: which figures of the indicator table are cells, and which cells are small.

A *cell* is a count a reader sees: the ``value`` of a count indicator, the
numerator of a percentage or rate, and the denominator of a percentage (a
rate's denominator is a published population, not a count of children). A
cell whose count is in the policy's threshold range (DfE: 1 to 5) is
suppressed as ``c`` (:func:`_in_threshold`); a true zero is shown as ``0``.

This module only lists the cells and marks the small ones. Protecting them
from the totals published with them is :mod:`.secondary`; the relations
between cells are found by :mod:`.relations`; turning cells back into
published strings is :mod:`.render`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from safeguarding.disclosure.policy import Policy

#: the measures of a row that are cells, by indicator kind (see :func:`_indicator_kind`)
MEASURES_OF: dict[str, tuple[str, ...]] = {
    "count": ("value",),
    "percentage": ("numerator", "denominator"),
    "rate": ("numerator",),
}

#: the figures of an indicator-table row
FIGURES: tuple[str, ...] = ("numerator", "denominator", "value")


def _in_threshold(values: np.ndarray, policy: Policy) -> np.ndarray:
    """Primary suppression: True for each value in the policy's threshold range (NaN: False)."""
    return np.asarray(policy.small(np.asarray(values, dtype=float)), dtype=bool)


def _indicator_kind(g: pd.DataFrame) -> str:
    """'count' (no denominator), 'percentage' (value = 100 n/d) or 'rate' (anything else)."""
    den = pd.to_numeric(g["denominator"], errors="coerce")
    if den.isna().all():
        return "count"
    num = pd.to_numeric(g["numerator"], errors="coerce")
    val = pd.to_numeric(g["value"], errors="coerce")
    ok = den.gt(0) & num.notna() & val.notna()
    if not ok.any():
        return "percentage" if (den.dropna() < 1e4).all() else "rate"
    pct = 100.0 * num[ok] / den[ok]
    return "percentage" if bool(np.all(np.abs(pct - val[ok]) <= 0.051 + 1e-9)) else "rate"


@dataclass
class IndicatorCells:
    """The cells of an indicator table.

    Attributes:
        kind: the indicator kind of each row (``count``, ``percentage``, ``rate``).
        figures: each figure (``numerator``, ``denominator``, ``value``) as a float array, by row.
        ids: for each figure, the cell id of each row's figure (-1 where that figure is not a cell).
        values: the true value of each cell, by cell id.
        long: one row per cell: ``cell``, ``row``, ``measure``, the row's
            ``indicator_id``, ``period_type``, ``period_start``, ``period_end``,
            ``breakdown`` and ``breakdown_value``, and ``v`` (the value).
    """

    kind: np.ndarray
    figures: dict[str, np.ndarray]
    ids: dict[str, np.ndarray]
    values: np.ndarray
    long: pd.DataFrame


def indicator_cells(df: pd.DataFrame) -> IndicatorCells:
    """List the cells of an indicator table (reset index; figures numeric, periods as dates).

    Cells are numbered row by row, each row's in the order of its kind's
    measures (:data:`MEASURES_OF`).
    """
    kinds = {i: _indicator_kind(g) for i, g in df.groupby("indicator_id", sort=False)}
    kind = df["indicator_id"].map(kinds).to_numpy()
    figures = {m: df[m].to_numpy(dtype=float) for m in FIGURES}
    n = len(kind)
    lens = np.zeros(n, dtype=np.int64)
    for k, ms in MEASURES_OF.items():
        lens[kind == k] = len(ms)
    first = np.cumsum(lens) - lens  # the cell id of each row's first cell
    rows = np.repeat(np.arange(n), lens)
    pos = np.arange(rows.size) - first[rows]  # the place of each cell among its row's measures
    measure = np.empty(rows.size, dtype=object)
    for k, ms in MEASURES_OF.items():
        of_kind = kind[rows] == k
        for place, m in enumerate(ms):
            measure[of_kind & (pos == place)] = m
    ids = {m: np.full(n, -1, dtype=np.int64) for m in FIGURES}
    vals = np.zeros(rows.size)
    for m in FIGURES:
        at = np.flatnonzero(measure == m)
        ids[m][rows[at]] = at
        vals[at] = figures[m][rows[at]]
    long = pd.DataFrame({"cell": np.arange(rows.size, dtype=np.int64), "row": rows.astype(np.int64),
                         "measure": pd.Series(measure.tolist())})  # (the string type pandas infers)
    long = long.join(df[["indicator_id", "period_type", "period_start", "period_end", "breakdown",
                         "breakdown_value"]], on="row")
    long["v"] = vals[long["cell"].to_numpy()]
    return IndicatorCells(kind, figures, ids, vals, long)
