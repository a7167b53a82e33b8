"""The chart kinds: line, interval, bar, before-and-after, stacked bar, SPC and funnel charts; the RAG table."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg", force=False)

import numpy as np
import pandas as pd

from safeguarding import escape
from safeguarding.charts.style import (
    GREY,
    HATCHES,
    HIGHLIGHT,
    LIGHT_GREY,
    LINESTYLES,
    MARKERS,
    PALETTE,
    RAG_SYMBOLS,
    SIGNAL_STYLE,
    TEXT,
    VALUE_ABOVE,
    VALUE_BESIDE,
    Chart,
    _finish,
    _new_figure,
)
from safeguarding.charts.words import _count_axis, _date_axis, _fmt, _percent_axis, _period_label, describe_series


# --------------------------------------------------------------------------- charts
def line_chart(
    data: pd.Series | pd.DataFrame,
    *,
    title: str,
    caption: str,
    y_label: str,
    label: str | None = None,
    comparison: pd.Series | Mapping[str, pd.Series] | None = None,
    target: float | None = None,
    percent: bool = False,
    y_from_zero: bool = True,
) -> Chart:
    """Lines over time, labelled directly at their right-hand ends (no legend to decode).

    ``data`` is a series (index: dates or period labels) or a frame whose
    columns are the lines (the first is the main series, drawn strongest);
    ``comparison`` adds further lines; ``target`` a dashed reference line.
    """
    if isinstance(data, pd.DataFrame):
        if data.shape[1] == 0:
            raise ValueError("line_chart: the frame has no columns to draw")
        lines: list[tuple[str, pd.Series]] = [(str(c), data[c].astype(float)) for c in data.columns]
        if label:
            lines[0] = (label, lines[0][1])
    else:
        lines = [(label or str(getattr(data, "name", None) or y_label), pd.Series(data).astype(float))]
    if isinstance(comparison, pd.Series):
        lines.append((str(comparison.name or "Comparison"), comparison.astype(float)))
    elif comparison:
        lines += [(str(k), pd.Series(v).astype(float)) for k, v in comparison.items()]
    main_name, main = lines[0]
    dated = len(main.index) > 0 and isinstance(main.index[0], (pd.Timestamp, np.datetime64))
    fig, ax = _new_figure()
    positions = {k: i for i, k in enumerate(main.index)}
    ends = []
    for i, (name, s) in enumerate(lines):
        xs = s.index if dated else [positions.get(k, np.nan) for k in s.index]
        ax.plot(xs, s.to_numpy(), color=PALETTE[i % len(PALETTE)], linestyle=LINESTYLES[i % len(LINESTYLES)],
                marker=MARKERS[i % len(MARKERS)], markersize=4 if len(s) > 24 else 5, label=name,
                linewidth=2.2 if i == 0 else 1.6, zorder=3 - 0.1 * i)
        last = s.dropna()
        if len(last):
            ends.append((last.iloc[-1], name if len(lines) > 1 else _fmt(last.iloc[-1], percent),
                         PALETTE[i % len(PALETTE)]))
    if target is not None and not pd.isna(target):
        ax.axhline(target, color=TEXT, linestyle=(0, (2, 2)), linewidth=1.2, zorder=2)
        ends.append((target, f"Target {_fmt(target, percent)}", TEXT))
    if y_from_zero:
        ax.set_ylim(bottom=0, top=max(ax.get_ylim()[1], 1))
    if dated:
        _date_axis(ax, main.index)
    else:
        n = len(main.index)
        step = max(1, math.ceil(n / 8))
        ticks = list(range(0, n, step))
        ax.set_xticks(ticks, [str(main.index[t]) for t in ticks])
        ax.grid(axis="x", visible=False)
    (_percent_axis if percent else _count_axis)(ax)
    _direct_labels(ax, ends, percent)
    _finish(fig, ax, title, y_label)
    alt = "Line chart. " + describe_series(main, main_name, percent)
    for name, s in lines[1:]:
        v = s.dropna()
        if len(v):
            alt += f" {name}: latest {_fmt(v.iloc[-1], percent)}, range {_fmt(v.min(), percent)} to " \
                   f"{_fmt(v.max(), percent)}."
    if target is not None and not pd.isna(target):
        alt += f" Target {_fmt(target, percent)}."
    frame = pd.DataFrame({name: s for name, s in lines})
    return Chart(fig, title, alt, caption, data=frame)


def _direct_labels(ax, ends: list[tuple[float, str, str]], percent: bool) -> None:
    """Label lines at their right-hand end, nudging labels apart so they do not overlap."""
    if not ends:
        return
    ax.figure.canvas.draw()
    lo, hi = ax.get_ylim()
    gap = (hi - lo) * 0.06
    placed: list[float] = []
    for y, text, colour in sorted(ends, key=lambda e: e[0]):
        yy = y
        for p in placed:
            if abs(yy - p) < gap:
                yy = p + gap
        placed.append(yy)
        ax.annotate(text, xy=(1.0, yy), xycoords=("axes fraction", "data"), xytext=(6, 0),
                    textcoords="offset points", va="center", ha="left", fontsize=10, color=colour,
                    fontweight="bold")


def interval_chart(
    data: pd.DataFrame,
    *,
    title: str,
    caption: str,
    y_label: str,
    what: str,
    target: float | None = None,
    percent: bool = True,
) -> Chart:
    """Each period's figure as a point with its 95% confidence interval as a vertical bar.

    ``data`` has one row per period (the index: period labels, oldest first)
    and columns ``value``, ``lower`` and ``upper`` in the figure's unit
    (percent when ``percent``); a period without a figure is a gap. ``target``
    adds a dashed reference line. The latest period is drawn in the main
    colour, the others in grey, so the eye goes to this year against the last.
    """
    missing = [c for c in ("value", "lower", "upper") if c not in data.columns]
    if missing:
        raise ValueError(f"interval_chart: columns {missing} missing; expected value, lower and upper")
    d = data.astype(float)
    shown = d["value"].notna()
    if int(shown.sum()) == 0:
        raise ValueError("interval_chart: no period has a figure to draw")
    if ((d["lower"] > d["value"]) | (d["upper"] < d["value"]))[shown].any():
        raise ValueError("interval_chart: an interval does not contain its figure")
    fig, ax = _new_figure(8.0, 4.2)
    x = np.arange(len(d))
    latest = int(np.nonzero(shown.to_numpy())[0][-1])
    for i in np.nonzero(shown.to_numpy())[0]:
        colour = PALETTE[0] if i == latest else GREY
        ax.errorbar([x[i]], [d["value"].iloc[i]],
                    yerr=[[d["value"].iloc[i] - d["lower"].iloc[i]], [d["upper"].iloc[i] - d["value"].iloc[i]]],
                    fmt="o" if i == latest else "s", color=colour, ecolor=colour, elinewidth=2.0, capsize=6,
                    capthick=1.6, markersize=8 if i == latest else 6, zorder=3)
        # the figure beside its point; drawn above its bar instead where the bars stand too close for that
        # (a phone-sized rendering: :func:`~safeguarding.charts.fit.fit_to_width`)
        ax.annotate(_fmt(d["value"].iloc[i], percent), xy=(x[i], d["value"].iloc[i]), xytext=(8, 0),
                    textcoords="offset points", va="center", ha="left", fontsize=9, color=colour,
                    gid=VALUE_BESIDE)
        ax.annotate(_fmt(d["value"].iloc[i], percent), xy=(x[i], d["upper"].iloc[i]), xytext=(0, 4),
                    textcoords="offset points", va="bottom", ha="center", fontsize=9, color=colour,
                    gid=VALUE_ABOVE, visible=False, zorder=4,  # on white, over a target line it may cross
                    bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none"})
    ends = []
    if target is not None and not pd.isna(target):
        ax.axhline(target, color=TEXT, linestyle=(0, (2, 2)), linewidth=1.2, zorder=2)
        ends.append((target, f"Target {_fmt(target, percent)}", TEXT))
    ax.set_xticks(list(x), [str(i) for i in d.index])
    ax.set_xlim(-0.5, len(d) - 0.5)
    ax.grid(axis="x", visible=False)
    top = float(np.nanmax(d[["upper"]].to_numpy()))
    if target is not None and not pd.isna(target):
        top = max(top, float(target))
    bottom = float(np.nanmin(d[["lower"]].to_numpy()))
    pad = max(2.0, 0.1 * (top - bottom))
    ax.set_ylim(max(0.0, bottom - pad), min(100.0, top + pad) if percent else top + pad)
    (_percent_axis if percent else _count_axis)(ax)
    _direct_labels(ax, ends, percent)
    _finish(fig, ax, title, y_label)
    parts = [f"{i} {_fmt(r.value, percent)} (95% confidence interval {_fmt(r.lower, percent)} to "
             f"{_fmt(r.upper, percent)})" if not pd.isna(r.value) else f"{i} no figure"
             for i, r in zip(d.index, d.itertuples(), strict=True)]
    alt = (f"Chart of {what} by period, each with its 95% confidence interval as a vertical bar: "
           + "; ".join(parts) + ".")
    if ends:
        alt += f" Target {_fmt(target, percent)}."
    return Chart(fig, title, alt, caption, data=d)


def bar_chart(
    values: pd.Series | Sequence[str],
    counts: Sequence[float] | np.ndarray | None = None,
    *,
    title: str,
    caption: str,
    value_label: str,
    what: str | None = None,
    horizontal: bool | None = None,
    sort: bool = True,
    highlight: Sequence[str] = (),
    percent: bool = False,
) -> Chart:
    """Bars for categories, labelled with their values; horizontal when labels are long (or many).

    Call with a series (index = categories) or with ``(labels, values)``.
    ``what`` names the thing counted in the alt text (default ``value_label``).
    """
    if counts is not None:
        values = pd.Series(np.asarray(counts, dtype=float), index=[str(v) for v in values])
    s = pd.Series(values).astype(float)
    if sort:
        s = s.sort_values(ascending=horizontal is not False)
    labels = [str(i) for i in s.index]
    if horizontal is None:
        horizontal = max((len(x) for x in labels), default=0) > 10 or len(labels) > 6
        if horizontal and sort:
            s = s.sort_values(ascending=True)
            labels = [str(i) for i in s.index]
    n = len(s)
    fig, ax = _new_figure(8.0, max(3.0, 0.42 * n + 1.6) if horizontal else 4.5)
    colours = [HIGHLIGHT if lab in set(highlight) else PALETTE[0] for lab in labels]
    hatches = ["///" if lab in set(highlight) else "" for lab in labels]
    pos = np.arange(n)
    vals = s.fillna(0).to_numpy()
    if horizontal:
        bars = ax.barh(pos, vals, color=colours, height=0.65, edgecolor="white")
        ax.set_yticks(pos, labels)
        ax.grid(axis="y", visible=False)
        ax.grid(axis="x", visible=True)
        ax.tick_params(axis="y", length=0)
    else:
        bars = ax.bar(pos, vals, color=colours, width=0.65, edgecolor="white")
        ax.set_xticks(pos, labels)
        ax.tick_params(axis="x", length=0)
    for bar, h in zip(bars, hatches, strict=True):
        if h:
            bar.set_hatch(h)
            bar.set_edgecolor(TEXT)
    top = np.nanmax(vals) if n else 1
    for i, v in enumerate(s.to_numpy()):
        text = "not available" if np.isnan(v) else _fmt(v, percent)
        if horizontal:
            ax.text(vals[i] + top * 0.01, i, text, va="center", ha="left", fontsize=10)
        else:
            ax.text(i, vals[i] + top * 0.01, text, va="bottom", ha="center", fontsize=10)
    if horizontal:
        ax.set_xlim(0, top * 1.15 if top > 0 else 1)
        ax.xaxis.set_major_formatter(
            matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:.0f}%" if percent else f"{v:,.0f}"))
    else:
        ax.set_ylim(0, top * 1.12 if top > 0 else 1)
        (_percent_axis if percent else _count_axis)(ax)
    _finish(fig, ax, title, None if horizontal else value_label)
    if horizontal:
        ax.set_xlabel(value_label, color=GREY, fontsize=10, loc="left")
    valid = s.dropna()
    alt = f"{'Horizontal bar' if horizontal else 'Bar'} chart of {what or value_label} for {n} categories. "
    if len(valid):
        order = valid.sort_values(ascending=False)
        alt += (f"Largest: {order.index[0]} ({_fmt(order.iloc[0], percent)}); smallest: {order.index[-1]} "
                f"({_fmt(order.iloc[-1], percent)}). ")
        alt += "Values: " + "; ".join(f"{k} {_fmt(v, percent)}" for k, v in order.items()) + "."
    return Chart(fig, title, alt, caption, data=s.to_frame(value_label))


def before_after_chart(
    labels: Sequence[str],
    before: Sequence[float],
    after: Sequence[float],
    *,
    title: str,
    caption: str,
    what: str = "the percentage saying yes",
) -> Chart:
    """One row per item: a dot at the start (open grey circle) joined to a dot at the end (filled blue square).

    ``before`` and ``after`` are percentages (0-100). Marker shape, fill and
    the labels beside each dot carry the meaning, not colour alone.
    """
    import textwrap

    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    n = len(labels)
    wrapped = ["\n".join(textwrap.wrap(str(lab), 30)) or str(lab) for lab in labels]
    fig, ax = _new_figure(8.0, max(2.6, 0.9 * n + 1.4))
    pos = np.arange(n)[::-1]
    for y, x0, x1 in zip(pos, b, a, strict=True):
        ax.plot([x0, x1], [y, y], color=LIGHT_GREY, linewidth=3, zorder=1)
        left, right = (x0, x1) if x0 <= x1 else (x1, x0)
        # set off from the markers in points, so the figures clear them at any width the chart is drawn
        ax.annotate(_fmt(left, True), xy=(left, y), xytext=(-9, 0), textcoords="offset points", va="center",
                    ha="right", fontsize=10, color=TEXT)
        ax.annotate(_fmt(right, True), xy=(right, y), xytext=(9, 0), textcoords="offset points", va="center",
                    ha="left", fontsize=10, color=TEXT)
    ax.scatter(b, pos, s=70, marker="o", facecolors="white", edgecolors=GREY, linewidths=2, zorder=2,
               label="At the start")
    ax.scatter(a, pos, s=70, marker="s", color=PALETTE[0], zorder=3, label="At the end")
    ax.set_yticks(pos, wrapped)
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.7, n - 0.3)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:.0f}%"))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False, fontsize=10)
    _finish(fig, ax, title, None)
    alt = (f"Dot chart of {what} at the start and at the end, for {n} "
           f"{'item' if n == 1 else 'items'}. " + "; ".join(
               f"{lab}: {_fmt(x0, True)} at the start, {_fmt(x1, True)} at the end"
               for lab, x0, x1 in zip(labels, b, a, strict=True)) + ".")
    data = pd.DataFrame({"at the start": b, "at the end": a}, index=[str(x) for x in labels])
    return Chart(fig, title, alt, caption, data=data)


def stacked_bar_chart(
    df: pd.DataFrame,
    *,
    title: str,
    caption: str,
    y_label: str,
    legend_title: str | None = None,
) -> Chart:
    """Stacked bars (one per row of ``df``, one segment per column) with hatching for greyscale print."""
    data = df.astype(float).fillna(0)
    fig, ax = _new_figure(8.0, 4.8)
    x = np.arange(len(data))
    bottom = np.zeros(len(data))
    for i, col in enumerate(data.columns):
        ax.bar(x, data[col].to_numpy(), bottom=bottom, width=0.75, color=PALETTE[i % len(PALETTE)],
               hatch=HATCHES[i % len(HATCHES)], edgecolor="white", linewidth=0.6, label=str(col))
        bottom += data[col].to_numpy()
    labels = data.index
    if len(labels) and isinstance(labels[0], (pd.Timestamp, np.datetime64)):
        ticks = [pd.Timestamp(t).strftime("%b\n%Y") if (k == 0 or pd.Timestamp(t).month in (4, 1))
                 else "" for k, t in enumerate(labels)]
        if len(labels) <= 13:
            ticks = [pd.Timestamp(t).strftime("%b\n%Y" if (k == 0 or pd.Timestamp(t).month == 1) else "%b")
                     for k, t in enumerate(labels)]
    else:
        ticks = [str(t) for t in labels]
    ax.set_xticks(x, ticks)
    ax.tick_params(axis="x", length=0)
    ax.grid(axis="x", visible=False)
    _count_axis(ax)
    ax.set_ylim(0, max(bottom.max() * 1.08, 1))
    handles, names = ax.get_legend_handles_labels()
    # legend reads top to bottom in the same order as the stack
    ax.legend(handles[::-1], names[::-1], title=legend_title, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              handlelength=1.6, handleheight=1.4)
    _finish(fig, ax, title, y_label)
    totals = pd.Series(bottom, index=data.index)
    shares = (data.sum() / max(data.to_numpy().sum(), 1) * 100).sort_values(ascending=False)
    alt = (f"Stacked bar chart of {y_label} by {legend_title or 'category'} for {len(data)} periods. "
           + describe_series(totals, "Total", False)
           + " Share of the total over all periods: "
           + "; ".join(f"{k} {v:.0f}%" for k, v in shares.items()) + ".")
    return Chart(fig, title, alt, caption, data=data)


def spc_chart(
    df: pd.DataFrame,
    *,
    title: str,
    caption: str,
    y_label: str,
    target: float | None = None,
    percent: bool | None = None,
    show_2sigma: bool = False,
) -> Chart:
    """A statistical process control chart from ``stats.xmr_chart`` or ``stats.p_chart`` output.

    Points are joined by a grey line; common-cause points are small grey dots;
    special-cause points are blue squares (improvement), orange triangles
    (concern) or purple diamonds (neither better nor worse), per NHS Making Data Count. The
    mean and 3-sigma process limits are drawn (limits as steps when they vary
    with the denominator) and labelled directly; 2-sigma limits optionally,
    faint. ``percent=None`` treats a p-chart (``numerator``/``denominator``
    columns) as a percentage and rescales proportions (all values <= 1) to %.
    """
    need = ["period", "value", "centre", "lower", "upper", "special_cause", "signal"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValueError(f"spc_chart: columns {missing} missing; expected stats.xmr_chart/p_chart output {need}")
    d = df.copy()
    is_p = "denominator" in d.columns
    if percent is None:
        percent = is_p
    scale = 100.0 if percent and np.nanmax(np.abs(d[["value", "upper"]].to_numpy(dtype=float))) <= 1.0 else 1.0
    for c in ("value", "centre", "lower", "upper", "lower_2s", "upper_2s"):
        if c in d.columns:
            d[c] = d[c].astype(float) * scale
    floor = 0.0
    ceiling = 100.0 if percent else np.inf
    d["lower"] = d["lower"].clip(lower=floor)
    d["upper"] = d["upper"].clip(upper=ceiling)
    x = pd.to_datetime(d["period"]) if not isinstance(d["period"].iloc[0], str) else d["period"]
    fig, ax = _new_figure(8.0, 4.6)
    varying = d["upper"].nunique() > 1 or d["lower"].nunique() > 1
    draw = {"drawstyle": "steps-mid"} if varying else {}
    ax.plot(x, d["centre"], color=GREY, linewidth=1.4, zorder=2, **draw)
    ax.plot(x, d["upper"], color=GREY, linewidth=1.1, linestyle=(0, (4, 2)), zorder=2, **draw)
    ax.plot(x, d["lower"], color=GREY, linewidth=1.1, linestyle=(0, (4, 2)), zorder=2, **draw)
    if show_2sigma and {"lower_2s", "upper_2s"} <= set(d.columns):
        for c in ("lower_2s", "upper_2s"):
            ax.plot(x, d[c].clip(floor, ceiling), color=LIGHT_GREY, linewidth=1.0, linestyle=":", zorder=1, **draw)
    ax.plot(x, d["value"], color=GREY, linewidth=1.2, zorder=3)
    sig = d["signal"].fillna("").astype(str).where(d["special_cause"].fillna(False).astype(bool), "")
    kinds = sig.map(lambda s: s if s in ("improvement", "concern") else ("neither" if s else "common"))
    for kind, style in SIGNAL_STYLE.items():
        m = kinds.eq(kind).to_numpy()
        if m.any():
            ax.scatter(np.asarray(x)[m], d["value"].to_numpy()[m], s=style["s"], marker=style["marker"],
                       color=style["color"], edgecolor="white" if kind == "common" else TEXT, linewidth=0.6,
                       zorder=4, label=style["label"])
    ends = [(d["centre"].iloc[-1], f"Mean {_fmt(d['centre'].iloc[-1], percent)}", GREY),
            (d["upper"].iloc[-1], "Upper limit", GREY), (d["lower"].iloc[-1], "Lower limit", GREY)]
    if target is not None and not pd.isna(target):
        ax.axhline(target, color=TEXT, linestyle="-.", linewidth=1.2, zorder=2, label="Target")
        ends.append((target, f"Target {_fmt(target, percent)}", TEXT))
    top = np.nanmax(d[["value", "upper"]].to_numpy(dtype=float))
    ax.set_ylim(0, min(top * 1.12, 100.0) if percent else top * 1.12)
    _direct_labels(ax, ends, bool(percent))
    if not isinstance(x.iloc[0], str):
        _date_axis(ax, list(x))
    (_percent_axis if percent else _count_axis)(ax)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=4, fontsize=9, handletextpad=0.3,
              columnspacing=1.2)
    _finish(fig, ax, title, y_label)
    series = pd.Series(d["value"].to_numpy(), index=list(x))
    kind_name = "p-chart (percentage, limits vary with the number of cases)" if is_p else "XmR chart"
    alt = (f"Statistical process control {kind_name} of {y_label}. " + describe_series(series, y_label, percent)
           + f" Mean {_fmt(d['centre'].iloc[-1], percent)}; process limits {_fmt(d['lower'].iloc[-1], percent)} "
           f"to {_fmt(d['upper'].iloc[-1], percent)}.")
    n_imp, n_con, n_nei = (int(kinds.eq(k).sum()) for k in ("improvement", "concern", "neither"))
    if n_imp + n_con + n_nei == 0:
        alt += " Every point is within ordinary variation: nothing unusual."
    else:
        parts = []
        for n, kind, words in ((n_imp, "improvement", "of improvement"), (n_con, "concern", "of concern"),
                               (n_nei, "neither", "neither better nor worse")):
            if n:
                when = [_period_label(p) for p, k in zip(series.index, kinds, strict=True) if k == kind]
                parts.append(f"{n} point{'s' if n > 1 else ''} {words} ({', '.join(when[:4])}"
                             f"{', ...' if len(when) > 4 else ''})")
        alt += " Unusual points: " + "; ".join(parts) + "."
    if target is not None and not pd.isna(target):
        alt += f" Target {_fmt(target, percent)}."
    return Chart(fig, title, alt, caption, data=d)


def _interp(limits: pd.DataFrame, col: str, x: float) -> float:
    return float(np.interp(x, limits["denominator"].to_numpy(float), limits[col].to_numpy(float)))


def funnel_chart(
    units: pd.DataFrame,
    limits: pd.DataFrame,
    *,
    title: str,
    caption: str,
    y_label: str = "Percent",
    x_label: str = "Number of cases (denominator)",
    highlight: str | tuple[float, float] | None = None,
    highlight_label: str | None = None,
    neighbours: Sequence[str] = (),
    benchmark: float | None = None,
    benchmark_label: str = "England",
    code_col: str = "la_code",
    name_col: str = "la_name",
    percent: bool = True,
) -> Chart:
    """Funnel plot: every council as a dot against its denominator, 95% and 99.8% limits round the benchmark.

    ``units`` has ``denominator`` and ``value`` (and a code and name column);
    ``limits`` is ``stats.funnel_limits`` output (proportions 0-1). Values and
    ``benchmark`` may be proportions or percentages: the scale is read from
    the limits, so both are drawn in percent when ``percent``. ``highlight`` is
    a council code in ``units`` or a ``(denominator, value)`` point (this
    area's own figure), drawn as a large labelled diamond; ``neighbours``
    (codes) as hollow squares; other councils as small grey dots.
    """
    for col in ("denominator", "value"):
        if col not in units.columns:
            raise ValueError(f"funnel_chart: units need a {col!r} column")
    need = ["denominator", "lower_95", "upper_95", "lower_998", "upper_998"]
    if any(c not in limits.columns for c in need):
        raise ValueError(f"funnel_chart: limits need columns {need} (stats.funnel_limits output)")
    u = units.dropna(subset=["denominator", "value"]).copy()
    lim = limits.sort_values("denominator").copy()
    mid = float((lim["lower_95"].iloc[-1] + lim["upper_95"].iloc[-1]) / 2)
    lim_scale = 100.0 if percent and float(lim["upper_998"].max()) <= 1.0 + 1e-9 else 1.0

    def unit_scale(v: float) -> float:
        # values 100 times the limits' centre are already percentages
        return 1.0 if lim_scale == 1.0 or (mid > 0 and v / mid > 10) else 100.0

    val_scale = unit_scale(float(np.nanmedian(u["value"]))) if len(u) else lim_scale
    for c in need[1:]:
        lim[c] = lim[c] * lim_scale
    u["y"] = u["value"] * val_scale
    if benchmark is None:
        benchmark = (float(u["numerator"].sum() / u["denominator"].sum()) if "numerator" in u.columns else mid)
        bench_y = benchmark * lim_scale
    else:
        bench_y = benchmark * unit_scale(benchmark)
    fig, ax = _new_figure(8.0, 5.0)
    xs = lim["denominator"].to_numpy(float)
    ax.plot(xs, lim["upper_998"], color=TEXT, linestyle=(0, (4, 2)), linewidth=1.1, label="99.8% limits")
    ax.plot(xs, lim["lower_998"], color=TEXT, linestyle=(0, (4, 2)), linewidth=1.1)
    ax.plot(xs, lim["upper_95"], color=GREY, linestyle=":", linewidth=1.5, label="95% limits")
    ax.plot(xs, lim["lower_95"], color=GREY, linestyle=":", linewidth=1.5)
    ax.axhline(bench_y, color=TEXT, linewidth=1.2, label=f"{benchmark_label} {_fmt(bench_y, percent)}")
    codes = u[code_col].astype(str) if code_col in u.columns else pd.Series([""] * len(u), index=u.index)
    is_hi = codes.eq(str(highlight)) if isinstance(highlight, str) else pd.Series(False, index=u.index)
    if isinstance(highlight, str) and not is_hi.any():
        raise ValueError(f"funnel_chart: highlight {highlight!r} not found in units[{code_col!r}]")
    is_nb = codes.isin([str(c) for c in neighbours]) & ~is_hi
    rest = ~is_hi & ~is_nb
    ax.scatter(u.loc[rest, "denominator"], u.loc[rest, "y"], s=16, color="#A0A0A0", edgecolor="none",
               alpha=0.85, zorder=3, label="Other councils")
    if is_nb.any():
        ax.scatter(u.loc[is_nb, "denominator"], u.loc[is_nb, "y"], s=36, marker="s", facecolor="none",
                   edgecolor=PALETTE[0], linewidth=1.4, zorder=4, label="Statistical neighbours")
    point = None
    if is_hi.any():
        row = u.loc[is_hi].iloc[0]
        point = (float(row["denominator"]), float(row["y"]), str(highlight_label or row.get(name_col, highlight)))
    elif isinstance(highlight, tuple):
        x0, v0 = float(highlight[0]), float(highlight[1])
        point = (x0, v0 * unit_scale(v0), highlight_label or "This area")
    alt_council = ""
    if point is not None:
        x0, yv, name = point
        ax.scatter([x0], [yv], s=130, marker="D", color=HIGHLIGHT, edgecolor=TEXT, linewidth=1.0, zorder=5,
                   label=name)
        ax.annotate(f"{name}: {_fmt(yv, percent)}", xy=(x0, yv), xytext=(12, 12), textcoords="offset points",
                    fontsize=10, fontweight="bold", color=TEXT, zorder=6,
                    bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
                    arrowprops={"arrowstyle": "-", "color": TEXT, "linewidth": 0.8})
        where = _funnel_position(yv, {c: _interp(lim, c, x0) for c in need[1:]})
        alt_council = f" {name} (highlighted): {_fmt(yv, percent)} with a denominator of {x0:,.0f}, {where}."
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.grid(axis="x", visible=True)
    ax.set_xlabel(x_label, color=GREY, fontsize=10)
    if percent:
        _percent_axis(ax)
    ax.legend(loc="upper right", fontsize=9)
    _finish(fig, ax, title, y_label)
    ys = u["y"].to_numpy(float)
    pos = [_funnel_position(v, {c: _interp(lim, c, x0) for c in need[1:]})
           for v, x0 in zip(ys, u["denominator"].to_numpy(float), strict=True)]
    outside_hi = sum(p.startswith("above the 99.8%") for p in pos)
    outside_lo = sum(p.startswith("below the 99.8%") for p in pos)
    alt = (f"Funnel plot of {y_label} against {x_label} for {len(u)} councils, with 95% and 99.8% control limits "
           f"around the {benchmark_label} value of {_fmt(bench_y, percent)}. Values range from "
           f"{_fmt(np.nanmin(ys), percent) if len(ys) else '-'} to {_fmt(np.nanmax(ys), percent) if len(ys) else '-'};"
           f" {outside_hi} councils are above and {outside_lo} below the 99.8% limits." + alt_council)
    return Chart(fig, title, alt, caption, data=u)


def _funnel_position(v: float, lim: Mapping[str, float]) -> str:
    if v > lim["upper_998"]:
        return "above the 99.8% limit (a statistically unusual high value)"
    if v < lim["lower_998"]:
        return "below the 99.8% limit (a statistically unusual low value)"
    if v > lim["upper_95"]:
        return "between the upper 95% and 99.8% limits (high, worth a look)"
    if v < lim["lower_95"]:
        return "between the lower 95% and 99.8% limits (low, worth a look)"
    return "within the 95% limits (consistent with the benchmark)"


# --------------------------------------------------------------------------- RAG table
def rag_label(rag: object) -> str:
    """RAG status as symbol plus word (never colour alone): '▲ Green', '● Amber', '▼ Red', '– N/A'."""
    key = str(rag).strip().lower() if rag is not None and not (isinstance(rag, float) and math.isnan(rag)) else "n/a"
    key = {"g": "green", "a": "amber", "r": "red", "na": "n/a", "none": "n/a", "": "n/a"}.get(key, key)
    if key not in RAG_SYMBOLS:
        raise ValueError(f"rag_label: unknown RAG status {rag!r}; use Green, Amber, Red or N/A")
    return RAG_SYMBOLS[key]


def rag_table(df: pd.DataFrame, rag_column: str = "rag") -> str:
    """A Markdown (pipe) table with the RAG column shown as symbol plus word; other columns as given.

    Every cell is plain text, shown literally (:func:`safeguarding.escape.markdown`).
    """
    if rag_column not in df.columns:
        raise ValueError(f"rag_table: no {rag_column!r} column; columns are {list(df.columns)}")
    out = df.copy()
    out[rag_column] = out[rag_column].map(rag_label)

    def cell(v: object) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ""
        if isinstance(v, float):
            v = f"{v:,.1f}"
        return escape.markdown(v).strip()

    header = [cell(c) for c in out.columns]
    numeric = [pd.api.types.is_numeric_dtype(out[c]) for c in out.columns]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if n else ":---" for n in numeric) + "|"]
    for row in out.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines)
