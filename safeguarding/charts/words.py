"""Words about a series (alt text and captions) and the axes' number formats."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg", force=False)

import numpy as np
import pandas as pd


# --------------------------------------------------------------------------- words
def _fmt(v: float | None, percent: bool = False, decimals: int | None = None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "not available"
    if percent:
        return f"{v:.1f}%"
    if decimals is not None:
        return f"{v:,.{decimals}f}"
    return f"{v:,.0f}" if float(v).is_integer() or abs(v) >= 100 else f"{v:,.1f}"


def _period_label(p) -> str:
    if isinstance(p, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(p).strftime("%B %Y")
    if isinstance(p, pd.Period):
        return p.strftime("%B %Y")
    return str(p)


def _trend_words(values: np.ndarray, percent: bool = False) -> str:
    """Compare the first and last thirds of the series (simple, explainable words, not a test)."""
    v = values[~np.isnan(values)]
    if v.size < 4:
        return "too short to describe a trend"
    k = max(1, v.size // 3)
    first, last = v[:k].mean(), v[-k:].mean()
    base = max(abs(first), 1e-9)
    change = (last - first) / base
    if abs(change) < 0.1:
        return "broadly level over the period"
    return f"{'higher' if change > 0 else 'lower'} at the end of the period than at the start " \
           f"(average {_fmt(first, percent)} in the first {k} points, {_fmt(last, percent)} in the last {k})"


def describe_series(s: pd.Series, what: str, percent: bool = False) -> str:
    """One paragraph of alt text for a series: range, latest value and trend, from the data."""
    s = pd.Series(s).astype(float)
    valid = s.dropna()
    if valid.empty:
        return f"{what}: no data."
    lo_i, hi_i = valid.idxmin(), valid.idxmax()
    return (
        f"{what}, {len(valid)} points from {_period_label(valid.index[0])} to {_period_label(valid.index[-1])}. "
        f"Lowest {_fmt(valid[lo_i], percent)} ({_period_label(lo_i)}), highest {_fmt(valid[hi_i], percent)} "
        f"({_period_label(hi_i)}); latest {_fmt(valid.iloc[-1], percent)} in {_period_label(valid.index[-1])}. "
        f"The series is {_trend_words(valid.to_numpy(), percent)}."
    )


def _date_axis(ax, index) -> None:
    if len(index) and isinstance(index[0], (pd.Timestamp, np.datetime64)):
        import matplotlib.dates as mdates

        span = (pd.Timestamp(index[-1]) - pd.Timestamp(index[0])).days
        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(4, 10) if span > 900 else (1, 4, 7, 10)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
        ax.grid(axis="x", visible=False)


def _percent_axis(ax) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))


def _count_axis(ax) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True, min_n_ticks=3))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
