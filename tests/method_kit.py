"""Shared helpers for the focused tests of indicator methods (``tests/test_indicator_methods_*.py``).

A test builds a tiny table, runs one registered method on it through :func:`run_method`, and compares the
events it returns (summed by month, or by breakdown value) with figures worked out by hand in its comments.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from safeguarding.indicators.bands import DEFAULT_AGE_BANDS
from safeguarding.indicators.catalogue import Indicator, load_catalogue
from safeguarding.indicators.context import Context, Events
from safeguarding.indicators.inputs import prepare_tables
from safeguarding.indicators.periods import Window, month_start
from safeguarding.indicators.registry import get_method

D = pd.Timestamp
CAT = load_catalogue()


def frame(rows: list[tuple], columns: str) -> pd.DataFrame:
    """A table from rows and a space-separated list of column names."""
    return pd.DataFrame(rows, columns=columns.split())


def entry(method: str, /, **changes: Any) -> Indicator:
    """A catalogue entry computed by ``method`` (the first in the catalogue), with ``changes`` applied."""
    ind = next(i for i in CAT.values() if i.method == method)
    return replace(ind, **changes)


def run_method(tables: dict[str, pd.DataFrame], ind: Indicator, start: str = "2023-04-01",
               end: str = "2024-03-31", **context: Any) -> tuple[Events, Context]:
    """Run ``ind``'s registered method on ``tables`` (prepared as the engine prepares them)."""
    ctx = Context(prepare_tables(tables), Window.from_dates(D(start), D(end)), context.get("population"), None,
                  DEFAULT_AGE_BANDS, context.get("history_start"), D(context.get("data_end", end)))
    return get_method(ind.method).function(ctx, ind), ctx


def by_month(events: Events, measure: str = "num", frame_: pd.DataFrame | None = None) -> dict[str, float]:
    """A measure summed by month (``"2023-04"``), months with no events left out."""
    f = events.frame if frame_ is None else frame_
    sums = f.groupby("month")[measure].sum()
    return {f"{month_start(m)[0]:%Y-%m}": float(v) for m, v in sums.items() if v != 0}


def by_value(events: Events, breakdown: str, measure: str = "num", month: str | None = None) -> dict[str, float]:
    """A measure summed by breakdown value (in one month, ``"2024-03"``, when given), zeros left out."""
    f = events.frame
    if month is not None:
        f = f[[f"{month_start(m)[0]:%Y-%m}" == month for m in f["month"]]]
    sums = f.groupby(breakdown)[measure].sum()
    return {str(k): float(v) for k, v in sums.items() if v != 0}
