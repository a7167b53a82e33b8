"""Figures for the chapters: data prepared from the indicator table, drawn by
:mod:`safeguarding.charts` in the house style, saved as PNG under the build
folder and shown as Markdown with a caption and generated alt text.

For the public audience, monthly series with counts from 1 to 5 (the
disclosure policy's threshold, ``ctx.policy``) are aggregated to quarters
(or left out with a note), so a chart never shows a small count that a
table would suppress.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from safeguarding import charts, escape
from safeguarding.markers import NOT_AVAILABLE, WITHHELD
from safeguarding.report.context import ReportContext, fy_label, policy_of
from safeguarding.report.findings import Finding
from safeguarding.report.markdown import md_figure
from safeguarding.report.tables import month_notes_text, notes_text
from safeguarding.stats.verdicts import _cap  # first letter up, the rest as written ('31 March')

SOURCE = "Source: council case records, processed by the annual review pipeline."


def _note(sentence: str) -> str:
    """A chart left out, said in italics; the sentence is plain text and shown literally."""
    return f"*{escape.markdown(sentence)}*\n"


def _emit(ctx: ReportContext, chart: charts.Chart, label: str) -> str:
    path = ctx.figure_path(label)
    charts.save_chart(chart, path)
    charts.save_narrow_chart(chart, path)
    rel = path.relative_to(ctx.build_dir).as_posix()
    # the title (the finding) is drawn in the image: say it to screen-reader users first
    title = chart.title.strip().rstrip(".")
    alt = chart.alt_text if not title or chart.alt_text.startswith(title) else f"{title}. {chart.alt_text}"
    return md_figure(rel, chart.caption, alt, label)


def _small(ctx: ReportContext, values: np.ndarray, rows: pd.DataFrame | None = None) -> bool:
    """True when, for the public, a chart of ``values`` would show a withheld figure.

    Withheld means a count from 1 to 5 (``ctx.policy``), or (given the
    indicator-table ``rows`` behind the values) any figure the
    disclosure-controlled table hides, including cells hidden by secondary
    suppression.
    """
    if not ctx.public:
        return False
    v = np.asarray(values, dtype=float)
    if bool(np.any(policy_of(ctx).small(v))):
        return True
    return rows is not None and bool(ctx.hidden_mask(rows).any())


def _window_rows(ctx: ReportContext, code: str, months: int) -> pd.DataFrame:
    """The headline monthly rows of an indicator in the ``months`` to the year end (what an SPC chart shows)."""
    s = ctx.series(code, "month")
    return s[s["period_end"] > ctx.year_end - pd.DateOffset(months=months)]


def _hidden_columns(ctx: ReportContext, sel: pd.DataFrame, table: pd.DataFrame) -> list:
    """Columns (breakdown values) of a pivoted chart table with any withheld cell, before relabelling."""
    if not ctx.public:
        return []
    small = [c for c in table.columns if policy_of(ctx).small(table[c]).any()]
    hidden = sel.loc[ctx.hidden_mask(sel), "breakdown_value"].astype(str).unique().tolist()
    return sorted(set(small) | {c for c in table.columns if str(c) in hidden}, key=str)


def category_bar(ctx: ReportContext, raw: pd.DataFrame, *, title: str, label: str, what: str) -> str:
    """Horizontal bars of a breakdown (suppressed categories left out and said so)."""
    data = raw.copy()
    note = ""
    if ctx.public:
        hidden = policy_of(ctx).small(data["count"])
        if "hidden" in data.columns:
            hidden |= data["hidden"].astype(bool)
        if hidden.any():
            data = data[~hidden]
            note = f" {int(hidden.sum())} group(s) withheld to protect privacy are not shown."
        if len(data) < 2:  # one bar, or none, would say nothing the table does not
            some = "every group's figure is" if data.empty else "every group's figure but one is"
            return _note(f"{_cap(what)} by group are not charted: {some} withheld to protect privacy.")
    chart = charts.bar_chart(data["label"].tolist(), data["count"].to_numpy(float), title=title,
                             value_label="Number", what=what,
                             caption=f"{_cap(what)} by group, {ctx.config.year_label}.{note} {SOURCE}")
    return _emit(ctx, chart, label)


def yearly_lines(ctx: ReportContext, codes: dict[str, str], *, title: str, label: str, years: int = 6) -> str:
    """Lines of yearly values for several count indicators."""
    series = {}
    rows = []
    plotted = []
    for code, name in codes.items():
        s = ctx.series(code, "year")
        s = s[s["value"].notna()].tail(years)
        rows.append(s)
        if not s.empty:
            series[name] = pd.Series(s["value"].to_numpy(float), index=[fy_label(d.year) for d in s.period_end])
            plotted += [(f"{name}, {fy_label(r.period_end.year)}", r) for _, r in s.iterrows()]
    if not series:
        return ""
    frame = pd.DataFrame(series)
    if _small(ctx, frame.to_numpy(), pd.concat(rows)):
        return _note("The yearly chart is not shown because some yearly figures are withheld to protect privacy.")
    chart = charts.line_chart(frame, title=title, y_label="Number per year",
                              caption=f"{', '.join(codes.values())} by financial year.{notes_text(ctx, plotted)} "
                                      f"{SOURCE}")
    return _emit(ctx, chart, label)


def yearly_title(finding: Finding | None, name: str) -> str:
    """A yearly interval chart's title, from the year-on-year finding its text states."""
    if finding is None or finding.verdict in ("not published", "no earlier year", "not computed"):
        return f"{name}: each year with its 95% confidence interval"
    if finding.verdict == "no change":
        return f"{name}: the same in {finding.period} as in {finding.baseline_period}"
    if finding.significant:
        higher = finding.estimate > 0 if finding.estimate_unit == "percentage points" else finding.estimate > 1
        return (f"{name}: {'higher' if higher else 'lower'} in {finding.period} than in "
                f"{finding.baseline_period}, unlikely to be chance")
    return f"{name}: the change from {finding.baseline_period} to {finding.period} could be chance"


def yearly_interval(ctx: ReportContext, code: str, *, label: str, years: int = 6) -> str:
    """A percentage's yearly figures, each with its 95% confidence interval (Wilson score), as points and bars.

    The figures and intervals are worked out from the numerators and
    denominators the audience's table publishes (as the tables' interval
    columns are); a withheld or missing year is a gap. Drawn only for a
    percentage with at least three years shown; the title states the
    year-on-year finding the text beside it gives (:func:`text.year_on_year`).
    """
    from safeguarding.report.context import _num
    from safeguarding.report.text import year_on_year
    from safeguarding.stats import wilson_interval

    if code not in ctx.catalogue or ctx.unit(code) != "percent":
        return ""
    s = ctx.series(code, "year")
    s = s[s["period_end"] <= ctx.year_end].tail(years)
    rows = []
    plotted = []
    for _, row in s.iterrows():
        shown = ctx.fmt_value(row)
        pub = ctx.published(row) if ctx.public else None
        source = pub if pub is not None else row
        num, den = _num(source.get("numerator")), _num(source.get("denominator"))
        label_y = fy_label(pd.Timestamp(row["period_end"]).year)
        if shown in (WITHHELD, NOT_AVAILABLE) or num is None or den is None or not den > 0:
            rows.append((label_y, np.nan, np.nan, np.nan))
            continue
        lo, hi = wilson_interval(num, den)
        rows.append((label_y, 100 * num / den, 100 * float(lo), 100 * float(hi)))
        plotted.append((label_y, row))
    frame = pd.DataFrame(rows, columns=["year", "value", "lower", "upper"]).set_index("year")
    if int(frame["value"].notna().sum()) < 3:
        return ""
    name = ctx.info(code).name
    finding = year_on_year(ctx, code)
    cur = ctx.row(code, "year")
    target = cur.get("target") if cur is not None else None
    target = float(target) if target is not None and pd.notna(target) else None
    withheld = [str(i) for i, v in frame["value"].items() if pd.isna(v)]
    gap = f" No figure is shown for {', '.join(withheld)} (withheld or not available)." if withheld else ""
    chart = charts.interval_chart(
        frame, title=yearly_title(finding, name), y_label="Percent", what=name[:1].lower() + name[1:], target=target,
        caption=f"{name} by financial year, each with its 95% confidence interval as a bar.{gap}"
                f"{notes_text(ctx, plotted)} {SOURCE}")
    return _emit(ctx, chart, label)


def monthly_line(ctx: ReportContext, code: str, *, title: str, label: str, what: str, months: int = 24) -> str:
    """A line of month-end values (stock), aggregated to quarter ends when small counts would show."""
    s = ctx.series(code, "month")
    s = s[s["period_end"] > ctx.year_end - pd.DateOffset(months=months)]
    s = s[s["value"].notna()]
    if s.empty:
        return ""
    values = s["value"].to_numpy(float)
    index = [d.strftime("%b %Y") for d in s.period_start]
    note = ""
    shown = s
    if _small(ctx, values, s):
        q = s[s["period_end"].dt.month.isin([3, 6, 9, 12])]
        if q.empty or _small(ctx, q["value"].to_numpy(float), q):
            return _note(f"The chart of {what} is not shown: the monthly figures are below 6 and are withheld to "
                    "protect privacy.")
        values, index = q["value"].to_numpy(float), [d.strftime("%b %Y") for d in q.period_start]
        note = " Shown at quarter ends because some monthly figures are withheld."
        shown = q
    frame = pd.DataFrame({_cap(what): values}, index=index)
    chart = charts.line_chart(frame, title=title, y_label="Number",
                              caption=f"{_cap(what)} at each month end.{note}{month_notes_text(ctx, shown)} "
                                      f"{SOURCE}")
    return _emit(ctx, chart, label)


#: the segment of a stacked bar chart that combines the groups with a withheld figure
COMBINED_GROUPS = "Other (groups withheld)"


def monthly_stacked(ctx: ReportContext, code: str, breakdown: str, *, labels: dict[str, str] | None, title: str,
                    label: str, months: int = 12) -> str:
    """Stacked bars of a stock by a breakdown at each month end of the year (quarters if small counts)."""
    ind = ctx.indicators
    sel = ind[(ind.indicator_id == code) & (ind.period_type == "month") & (ind.breakdown == breakdown)
              & (ind.period_end <= ctx.year_end)
              & (ind.period_end > ctx.year_end - pd.DateOffset(months=months))]
    if sel.empty:
        if ctx.public:  # the public table withholds the whole breakdown by month (too sparse to publish)
            return _note(f"{title}: not shown because the monthly figures by group are withheld to protect privacy.")
        return ""
    table = sel.pivot_table(index="period_start", columns="breakdown_value", values="value", aggfunc="sum")
    table = table.fillna(0)
    note = ""
    gone = _hidden_totals(ctx, code, "month", table.index)
    if len(gone) == len(table.index):
        return _note(f"{title}: not shown because the monthly totals are withheld to protect privacy.")
    if gone:  # a bar's height is its month's total: months whose total is withheld are left out
        table = table.drop(index=gone)
        sel = sel[~sel["period_start"].isin(gone)]
        note = (" Months whose total is withheld to protect privacy are left out ("
                + ", ".join(ctx.period_label(p) for p in gone) + ").")
    hidden_cols = _hidden_columns(ctx, sel, table)
    if hidden_cols:
        # combine every group with a withheld cell, so that no segment shows a withheld figure
        other = table[hidden_cols].sum(axis=1)
        table = table.drop(columns=hidden_cols)
        if _small(ctx, other.to_numpy()):
            return _note(f"{title}: not shown because some groups are withheld to protect privacy.")
        table[COMBINED_GROUPS] = other  # (not "small": a group is combined for any withheld figure, which may be large)
        note += " Groups with a figure withheld to protect privacy in any month are combined."
    if labels:
        table = table.rename(columns=labels)
    chart = charts.stacked_bar_chart(table, title=title, y_label="Plans open at month end",
                                     caption=f"{title}.{note} {SOURCE}")
    return _emit(ctx, chart, label)


#: most segments a stacked bar chart shows before the smallest are combined
MAX_STACKED = 7


def _hidden_totals(ctx: ReportContext, code: str, period_type: str, period_starts: pd.Index) -> list:
    """The periods (starts, in order) whose all-groups figure the public table withholds.

    A stacked bar's height is the sum of its segments, which is that figure:
    drawing the bar would publish it.
    """
    if not ctx.public:
        return []
    ind = ctx.indicators
    sel = ind[(ind.indicator_id == code) & (ind.period_type == period_type) & (ind.breakdown == "all")
              & ind.period_start.isin(period_starts)]
    hidden = set(sel.loc[ctx.hidden_mask(sel), "period_start"])
    return [p for p in period_starts if p in hidden]


def _by_period_table(ctx: ReportContext, code: str, breakdown: str, period_type: str
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    ind = ctx.indicators
    sel = ind[(ind.indicator_id == code) & (ind.period_type == period_type) & (ind.breakdown == breakdown)
              & (ind.period_end <= ctx.year_end) & (ind.period_start >= ctx.year_start)]
    if sel.empty:
        return sel, pd.DataFrame()
    table = sel.pivot_table(index="period_start", columns="breakdown_value", values="value", aggfunc="sum").fillna(0)
    return sel, table


def _finding(table: pd.DataFrame, period_word: str, noun: str, *, shown_only: bool = False) -> str:
    """A title that states what the chart shows: which named group was largest, and how often.

    ``shown_only``: some sectors are withheld, so the claim is limited to the
    sectors shown (saying 'the largest sector' would tell the reader that each
    withheld sector was smaller).
    """
    named = [c for c in table.columns if c != "All other sectors"]
    if not named or table.empty:
        return f"{_cap(noun)} by sector each {period_word}"
    leader = table[named].sum().idxmax()
    if len(named) == 1 and "All other sectors" in table.columns:  # one sector against the rest: its share
        totals = table.sum(axis=1)
        share = (table[leader] / totals.where(totals > 0)).dropna() * 100
        if not share.empty:
            lo, hi = round(float(share.min())), round(float(share.max()))
            size = f"about {lo}%" if lo == hi else f"{lo}% to {hi}%"
            return f"{leader} made up {size} of {noun} each {period_word}"
    k, n = int((table[leader] >= table[named].max(axis=1)).sum()), len(table)  # ties count as largest
    claim = "the largest of the sectors shown" if shown_only else "the largest sector"
    if k == n:
        return f"{leader} was {claim} in every {period_word}"
    return f"{leader} was {claim} in {k} of {n} {period_word}s"


def sector_over_time(ctx: ReportContext, code: str, breakdown: str, *, labels: dict[str, str], noun: str,
                     y_label: str, label: str) -> str:
    """Stacked bars of a flow by breakdown for each month of the year, or each quarter when months are too small.

    For the public, a breakdown value with any withheld figure is combined into
    'All other sectors'. Months are used when that still leaves most of the
    breakdown visible; otherwise quarters (the caption says so), if at least
    one sector can be shown on its own; otherwise the chart is not shown and
    the text says why. The board sees months.
    """
    choice = None
    for period_type in ("month", "quarter"):
        sel, table = _by_period_table(ctx, code, breakdown, period_type)
        if table.empty or _hidden_totals(ctx, code, period_type, table.index):
            continue
        hidden_cols = _hidden_columns(ctx, sel, table)
        other = table[hidden_cols].sum(axis=1) if hidden_cols else None
        if other is not None and _small(ctx, other.to_numpy()):
            continue
        visible = len(table.columns) - len(hidden_cols)
        if visible == 0:
            continue  # a bar of 'All other sectors' alone says nothing about sectors
        if period_type == "month" and hidden_cols and visible < max(2, len(table.columns) // 2):
            continue  # most sectors would vanish into 'Other': quarters say more
        choice = (period_type, table, hidden_cols, other)
        break
    if choice is None:
        return _note(f"{_cap(noun)} by sector over the year are not charted: too many of the monthly and quarterly "
                "figures by sector are withheld to protect privacy, so no sector could be shown on its own.")
    period_type, table, hidden_cols, other = choice
    note = ""
    if hidden_cols:
        table = table.drop(columns=hidden_cols)
        note = f" Sectors with a figure withheld to protect privacy in any {period_type} are combined."
    if len(table.columns) > MAX_STACKED:  # a readable legend: the smallest sectors join 'All other sectors'
        keep = table.sum().sort_values(ascending=False).index[:MAX_STACKED - 1]
        rest = table.drop(columns=keep).sum(axis=1)
        other = rest if other is None else other + rest
        table = table[keep]
        note += f" Sectors beyond the {MAX_STACKED - 1} largest are combined."
    if other is not None:
        table["All other sectors"] = other
    if period_type == "quarter" and ctx.public:
        note += " Shown by quarter because monthly figures by sector are too small to publish."
    table = table.rename(columns=labels)
    title = _finding(table, period_type, noun, shown_only=bool(hidden_cols))
    if period_type != "month":  # months keep their dates: the chart writes compact month ticks
        table.index = [ctx.period_label(d, period_type) for d in table.index]
    chart = charts.stacked_bar_chart(table, title=title, y_label=y_label, legend_title="Sector",
                                     caption=f"{_cap(noun)} by sector each {period_type}, "
                                             f"{ctx.config.year_label}.{note} {SOURCE}")
    return _emit(ctx, chart, label)


def xmr(ctx: ReportContext, code: str, *, label: str, months: int = 24, source: str = "") -> str:
    """A 'Making Data Count' XmR chart of a monthly count (see :func:`monthly_chart`)."""
    return monthly_chart(ctx, code, label=label, months=months, source=source)


def p_chart(ctx: ReportContext, code: str, *, label: str, months: int = 24) -> str:
    """A p-chart of a monthly percentage (see :func:`monthly_chart`)."""
    return monthly_chart(ctx, code, label=label, months=months)


def monthly_chart(ctx: ReportContext, code: str, *, label: str, months: int = 24, source: str = "") -> str:
    """The month-by-month chart of an indicator, its title and caption from one finding (:func:`text.within_year`).

    A control chart (XmR for counts, p-chart for percentages) where one is valid;
    a run chart without signal rules for a month-end snapshot; a sentence instead
    of a chart when a percentage has too few exceptions, or for the public when
    any monthly figure is withheld (nothing is computed from it). ``source``, when
    given, ends the caption of a control chart (a partner's return names itself).
    """
    from safeguarding.report.text import within_year

    finding, df = within_year(ctx, code, months=months)
    if finding is None:
        return ""
    name = ctx.info(code).name
    if finding.verdict == "snapshot":
        s = _window_rows(ctx, code, months)
        percent = ctx.unit(code) == "percent"
        values = s["value"].to_numpy(float)
        index = [d.strftime("%b %Y") for d in s["period_start"]]
        frame = pd.DataFrame({name: values}, index=index)
        median = pd.Series(float(np.nanmedian(values)), index=index, name="Median")
        chart = charts.line_chart(frame, title=spc_title(finding), y_label="Percent" if percent else "Number",
                                  comparison={"Median": median}, percent=percent, y_from_zero=not percent,
                                  caption=f"{name} at each month end (run chart with the median). "
                                          f"{finding.sentence}{month_notes_text(ctx, s[s['value'].notna()])} {SOURCE}")
        return _emit(ctx, chart, label)
    if df is None:
        return _note(finding.sentence)
    percent = ctx.unit(code) == "percent"
    kind = "p-chart" if percent else "XmR chart"
    plotted = _window_rows(ctx, code, months)
    notes = month_notes_text(ctx, plotted[plotted["value"].notna()])
    chart = charts.spc_chart(df, title=spc_title(finding), y_label="Percent" if percent else name, percent=percent,
                             caption=f"{name} each month, with dashed lines marking the range expected from "
                                     f"month-to-month variation (Making Data Count {kind}). {finding.sentence}"
                                     f"{notes}" + (f" {source}" if source else ""))
    return _emit(ctx, chart, label)


def spc_title(finding: Finding) -> str:
    """A monthly chart's title, from the same finding as its caption and text."""
    name = finding.name
    if finding.verdict == "snapshot":
        return f"{name}: month-end figures (a run chart, no signal rules)"
    if finding.verdict == "common cause":
        return f"{name}: every month within the expected range"
    n = int(finding.statistic)
    return f"{name}: {n} unusual month{'s' if n != 1 else ''} in {finding.period}"


def funnel(ctx: ReportContext, code: str, *, label: str) -> str:
    """A funnel plot of all councils for the latest published year, this area highlighted.

    The caption's sentence is the funnel finding's (:func:`text.funnel_finding`), from the same
    England figure and limits as the chart.
    """
    if not ctx.la_code or not getattr(ctx.benchmarks, "available", False):
        return ""
    from safeguarding.report.text import funnel_centre, funnel_finding, funnel_units
    from safeguarding.stats import funnel_limits

    b = ctx.benchmarks.benchmarks_for(code, ctx.la_code, ctx.year)
    if not b.get("available") or ctx.unit(code) != "percent":
        return ""
    year = int(b["year_used"])
    units = funnel_units(ctx, code, year)
    bench = funnel_centre(ctx, code, b)
    if units.empty or bench is None:
        return ""
    cur = ctx.row(code, "year")
    ours = None
    if cur is not None and np.isfinite(float(cur["denominator"])) and float(cur["denominator"]) > 0:
        ours = (float(cur["numerator"]), float(cur["denominator"]))
    if ours and ctx.fmt_value(cur) == WITHHELD:
        return _note(f"The comparison of {ctx.info(code).name.lower()} with every council in England is not shown: "
                     "this year's figure is withheld to protect privacy.")
    grid = np.unique(np.linspace(max(5, units.denominator.min() * 0.8), units.denominator.max() * 1.05, 200).round())
    limits = funnel_limits(bench, grid, kind="proportion")
    name = ctx.info(code).name
    finding = funnel_finding(ctx, code) if ours else None
    sentence = finding.sentence if finding is not None else ""
    chart = charts.funnel_chart(
        units.assign(value=100 * units.numerator / units.denominator), limits, benchmark=100 * bench,
        highlight=(ours[1], 100 * ours[0] / ours[1]) if ours else None,
        highlight_label=f"{ctx.config.area_name} {ctx.config.year_label}",
        title=f"{name}: how {ctx.config.area_name.split(' (')[0]} compares with every council in England",
        caption=(f"{name}, every council in England, {fy_label(year)} (DfE), with 95% and 99.8% limits around "
                 f"England's {100 * bench:.1f}%. {sentence}").strip())
    return _emit(ctx, chart, label)
