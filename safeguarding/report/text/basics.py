"""The pieces every sentence uses: names, polarity, England's figure, targets, counts with their change."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, SupportsFloat, SupportsIndex, TypedDict

import numpy as np
import pandas as pd

from safeguarding import markers as mk
from safeguarding.report.context import ReportContext, fy_label
from safeguarding.stats import verdicts

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.benchmarks.source import BenchmarkPoint  # one comparator's figures

SPC_MONTHS = 24


def _polarity(ctx: ReportContext, code: str) -> str | None:
    pol = str(getattr(ctx.catalogue[code], "polarity", "neither"))
    return {"higher_is_better": "increase", "lower_is_better": "decrease"}.get(pol)


def _name(ctx: ReportContext, code: str) -> str:
    return str(ctx.catalogue[code].name)


def _num(x: object) -> float:
    if not isinstance(x, float | int | str | bytes | bytearray | memoryview | SupportsFloat | SupportsIndex):
        return math.nan  # what float() refuses (TypeError)
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


class Benchmark(TypedDict, total=False):
    """DfE benchmarks for one indicator, as :meth:`safeguarding.benchmarks.BenchmarkSource.benchmarks_for` gives them.

    Only available ones are passed around here (:func:`benchmark_for`): their ``year_used`` is set.
    """

    available: bool
    indicator_id: str
    unit: str
    label: str
    year_requested: int
    year_used: int
    note: str
    source: list[str]
    la_code: str
    new_la_code: str
    la_name: str
    council: BenchmarkPoint
    england: BenchmarkPoint
    region: BenchmarkPoint
    sub_region: BenchmarkPoint
    neighbours: list[dict[str, object]]
    neighbour_mean: float
    neighbour_median: float
    neighbour_pooled: float
    neighbours_with_data: int
    neighbours_note: str


def benchmark_for(ctx: ReportContext, code: str) -> Benchmark | None:
    """DfE benchmarks for an indicator, or None when not available."""
    if not ctx.la_code or not getattr(ctx.benchmarks, "available", False):
        return None
    b = ctx.benchmarks.benchmarks_for(code, ctx.la_code, ctx.year)
    return b if b.get("available") else None


def england_value(ctx: ReportContext, code: str) -> str:
    """England's published figure for the reporting year (or latest year), formatted."""
    b = benchmark_for(ctx, code)
    if not b:
        return mk.NOT_AVAILABLE
    v = _num(b["england"]["value"])
    if not np.isfinite(v):
        return mk.NOT_AVAILABLE
    unit = ctx.unit(code)
    text = f"{v:.1f}%" if unit == "percent" else (f"{v:,.1f}" if unit == "rate_per_10k" else f"{v:,.0f}")
    if b.get("year_used") != ctx.year:
        text += f" ({fy_label(int(b['year_used']))})"
    return text


def format_target(ctx: ReportContext, code: str, target: object) -> str:
    """A target as shown in the scorecard: 'at least 95%', or 'none set' when the indicator has no target."""
    t = _num(target)
    if not np.isfinite(t):
        return "none set"
    unit = ctx.unit(code)
    pol = str(getattr(ctx.catalogue[code], "polarity", ""))
    sign = "at most " if pol == "lower_is_better" else ("at least " if pol == "higher_is_better" else "")
    figure = f"{t:,.0f}" if t == round(t) else f"{t:,.1f}".rstrip("0").rstrip(".")  # 92.5 is not rounded to 92
    if unit == "percent":
        if (t >= 100 and sign == "at least ") or (t <= 0 and sign == "at most "):
            sign = ""  # no percentage is above 100% or below 0%: 'at least 100%' is '100%'
        return f"{sign}{figure}%"
    return sign + figure


def _shown(ctx: ReportContext, row: pd.Series | None, *, percent: bool = False) -> bool:
    """True when the row has a figure the audience may see (not withheld, not missing)."""
    if row is None or not np.isfinite(_num(row["value"])):
        return False
    if percent and not (_num(row["denominator"]) > 0):
        return False
    return ctx.fmt_value(row) not in (mk.WITHHELD, mk.NOT_AVAILABLE)


def _pct_text(num: float, den: float) -> str:
    pct = verdicts.format_percent(100 * num / den)
    return f"{pct} ({verdicts.format_number(num)} of {verdicts.format_number(den)})"
