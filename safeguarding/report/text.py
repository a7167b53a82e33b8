"""Sentences for the chapters, built from the indicator table by
:mod:`safeguarding.stats.verdicts` and made safe for the audience.

For the public audience no sentence quotes a figure that the
disclosure-controlled table withholds (a count from 1 to 5, a figure from
which one could be worked out, or a percentage or rate built on either):
such a figure is said to be withheld, without saying why, so that a reader
learns no bound on it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from safeguarding import markers as mk
from safeguarding.disclosure.policy import Policy
from safeguarding.report.context import ReportContext, fy_label, policy_of
from safeguarding.report.findings import WITHHELD, Finding, gap_text, lower_first, rank_score, target_text
from safeguarding.stats import verdicts
from safeguarding.stats.spc import normalise_improvement

SPC_MONTHS = 24


def _polarity(ctx: ReportContext, code: str) -> str | None:
    pol = str(getattr(ctx.catalogue[code], "polarity", "neither"))
    return {"higher_is_better": "increase", "lower_is_better": "decrease"}.get(pol)


def _name(ctx: ReportContext, code: str) -> str:
    return str(ctx.catalogue[code].name)


def _num(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


def benchmark_for(ctx: ReportContext, code: str) -> dict[str, Any] | None:
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


def format_target(ctx: ReportContext, code: str, target: Any) -> str:
    """A target as shown in the scorecard: 'at least 95%', or 'none set' when the indicator has no target."""
    t = _num(target)
    if not np.isfinite(t):
        return "none set"
    unit = ctx.unit(code)
    pol = str(getattr(ctx.catalogue[code], "polarity", ""))
    sign = "at most " if pol == "lower_is_better" else ("at least " if pol == "higher_is_better" else "")
    return sign + (f"{t:.0f}%" if unit == "percent" else f"{t:,.0f}")


def count_with_change(ctx: ReportContext, code: str, phrase: str, period_type: str = "year") -> str:
    """This year's count against last year's: the year-on-year finding's sentence (:func:`year_on_year`).

    ``phrase`` words the sentence when there is no earlier year to compare with
    ('In 2024-25, 1,490 referrals ...'); a withheld count gives the withheld sentence.
    """
    if code not in ctx.catalogue:
        return ""
    cur = ctx.row(code, period_type)
    if cur is None or not np.isfinite(_num(cur["value"])):
        return f"No figure is available for {_name(ctx, code).lower()} in {ctx.config.year_label}."
    if ctx.fmt_value(cur) == mk.WITHHELD:  # a count from 1 to 5, or hidden by secondary suppression
        return _withheld(ctx, code)
    finding = year_on_year(ctx, code)
    if finding is None or finding.verdict == "no earlier year":
        return f"In {ctx.config.year_label}, {ctx.fmt_count(_num(cur['value']))} {phrase}."
    return finding.sentence


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


def year_on_year(ctx: ReportContext, code: str) -> Finding | None:
    """The year-on-year finding for an indicator: this year's figure against last year's, with its test.

    Percentages: difference in percentage points with Newcombe's hybrid score
    interval, and the pooled score (z) test, or Fisher's exact test when an
    expected cell count is below 5 (:func:`safeguarding.stats.compare_proportions`).
    Counts: the exact conditional Poisson test with the rate ratio and its
    interval; rates per 10,000 the same with the population as exposure
    (:func:`safeguarding.stats.compare_rates`). Only published figures are used:
    when either year's figure is withheld the finding is ``not published`` and
    nothing is computed. None when there is no figure this year.
    """
    if code not in ctx.catalogue:
        return None
    cur = ctx.row(code, "year")
    prev = ctx.row(code, "year", period_end=ctx.year_end - pd.DateOffset(years=1))
    if cur is None or not np.isfinite(_num(cur["value"])):
        return None
    unit = ctx.unit(code)
    label1, label2 = fy_label(ctx.year - 1), fy_label(ctx.year)
    base = {"indicator": code, "name": _name(ctx, code), "period": label2, "comparison": "year on year",
            "baseline_period": label1, "polarity": normalise_improvement(_polarity(ctx, code))}
    if ctx.fmt_value(cur) == mk.WITHHELD:
        return Finding(**base, method="not computed", verdict="not published",
                       detail=f"the figure for {label2} {WITHHELD}")
    percent = unit == "percent"
    if percent and not _num(cur["denominator"]) > 0:
        return None
    if prev is None or not np.isfinite(_num(prev["value"])) or (percent and not _num(prev["denominator"]) > 0):
        return Finding(**base, method="not computed", verdict="no earlier year", value=ctx.fmt_value(cur))
    if ctx.fmt_value(prev) == mk.WITHHELD:  # this year's figure is published: say it, compare nothing
        return Finding(**base, method="not computed", verdict="not published", value=ctx.fmt_value(cur),
                       detail=f"the figure for {label1} {WITHHELD}")
    from safeguarding.stats import compare_proportions, compare_rates

    if percent:
        n1, d1, n2, d2 = (_num(prev["numerator"]), _num(prev["denominator"]), _num(cur["numerator"]),
                          _num(cur["denominator"]))
        res = compare_proportions(n1, d1, n2, d2)
        v1, v2 = _pct_text(n1, d1), _pct_text(n2, d2)
        if verdicts.format_percent(100 * res.p1) == verdicts.format_percent(100 * res.p2):
            return Finding(**base, method=res.method, verdict="no change", baseline_value=v1,
                           value=verdicts.format_percent(100 * res.p2))
        verdict = (("significant increase" if res.difference > 0 else "significant decrease") if res.significant
                   else "no significant change")
        return Finding(**base, method=res.method, verdict=verdict, baseline_value=v1, value=v2,
                       estimate=res.difference, lower=res.lower, upper=res.upper,
                       estimate_unit="percentage points", statistic=res.statistic,
                       statistic_name="z" if res.method.startswith("two-proportion") else "odds ratio",
                       p_value=res.p_value)
    if unit == "rate_per_10k":
        c1, e1, c2, e2 = (_num(prev["numerator"]), _num(prev["denominator"]), _num(cur["numerator"]),
                          _num(cur["denominator"]))
        if not (np.isfinite(c1) and e1 > 0 and np.isfinite(c2) and e2 > 0):
            return Finding(**base, method="not computed", verdict="no earlier year", value=ctx.fmt_value(cur))
        v1, v2 = ctx.fmt_value(prev), ctx.fmt_value(cur)
    else:
        c1, e1, c2, e2 = _num(prev["value"]), 1.0, _num(cur["value"]), 1.0
        v1, v2 = verdicts.format_number(c1), verdicts.format_number(c2)
    if (c1 == c2 and e1 == e2) or v1 == v2:
        return Finding(**base, method="exact conditional Poisson test", verdict="no change", baseline_value=v1,
                       value=v2)
    res = compare_rates(c1, e1, c2, e2)
    if not np.isfinite(res.ratio):  # none last year: a ratio has no meaning
        return Finding(**base, method="not computed", verdict="no earlier year", value=v2)
    verdict = (("significant increase" if res.ratio > 1 else "significant decrease") if res.significant
               else "no significant change")
    return Finding(**base, method="exact conditional Poisson test", verdict=verdict, baseline_value=v1, value=v2,
                   estimate=res.ratio, lower=res.lower, upper=res.upper, estimate_unit="rate ratio",
                   statistic=c2, statistic_name=f"events in {label2} of {verdicts.format_number(c1 + c2)}",
                   p_value=res.p_value)


def target_finding(ctx: ReportContext, code: str) -> Finding | None:
    """This year's figure against its target, with the status and, when missed, by how much.

    The status (Green within 5% of the target, Amber within 10%, Red beyond) is
    the indicator table's; a figure short of its target is said to have missed
    it whatever the colour. None without a target or a published figure.
    """
    if code not in ctx.catalogue:
        return None
    cur = ctx.row(code, "year")
    if not _shown(ctx, cur, percent=ctx.unit(code) == "percent"):
        return None
    target = _num(cur.get("target"))
    rag = str(cur.get("rag", "N/A"))
    if not np.isfinite(target) or rag in ("N/A", "nan", "None"):
        return None
    value = _num(cur["value"])
    pol = normalise_improvement(_polarity(ctx, code))
    unit = ctx.unit(code)
    shown_value = float(ctx.fmt_value(cur).rstrip("%").replace(",", ""))  # the published, rounded figure
    gap = shown_value - target
    met = (gap >= 0) if pol >= 0 else (gap <= 0)
    return Finding(indicator=code, name=_name(ctx, code), period=fy_label(ctx.year), comparison="target",
                   method="status against target (Green within 5%, Amber within 10%)",
                   verdict="met" if met else f"missed ({rag})", value=ctx.fmt_value(cur),
                   estimate=round(gap, 1) if np.isfinite(value) else math.nan,
                   estimate_unit="percentage points" if unit == "percent" else "count", status=rag, target=target,
                   polarity=pol)


def benchmark_finding(ctx: ReportContext, code: str) -> Finding | None:
    """This year's percentage against England's: significant when England lies outside the local 95% Wilson interval."""
    if code not in ctx.catalogue or ctx.unit(code) != "percent":
        return None
    cur = ctx.row(code, "year")
    if not _shown(ctx, cur, percent=True):
        return None
    b = benchmark_for(ctx, code)
    if not b or not np.isfinite(_num(b["england"]["value"])):
        return None
    from safeguarding.stats import wilson_interval

    bench = _num(b["england"]["value"]) / 100.0
    label = "England" if b.get("year_used") == ctx.year else f"England in {fy_label(int(b['year_used']))}"
    num, den = _num(cur["numerator"]), _num(cur["denominator"])
    lo, hi = wilson_interval(num, den)
    verdict = ("significantly higher" if lo > bench else "significantly lower" if hi < bench
               else "not significantly different")
    name = _name(ctx, code)
    return Finding(indicator=code, name=name, period=fy_label(ctx.year), comparison="benchmark",
                   method="benchmark outside the 95% Wilson interval of the local figure", verdict=verdict,
                   baseline_period=label, baseline_value=verdicts.format_percent(100 * bench),
                   value=_pct_text(num, den), estimate=num / den, lower=float(lo), upper=float(hi),
                   estimate_unit="proportion", polarity=normalise_improvement(_polarity(ctx, code)))


def rate_finding(ctx: ReportContext, code: str) -> Finding | None:
    """This year's rate per 10,000 beside England's, the region's and the statistical neighbours' (no test).

    The verdict is ``listed``: the figures are set side by side and nothing is
    said about whether they differ. None without a published rate or without
    benchmarks.
    """
    if code not in ctx.catalogue:
        return None
    cur = ctx.row(code, "year")
    if cur is None or not np.isfinite(_num(cur["value"])) or ctx.fmt_value(cur) in (mk.WITHHELD, mk.NOT_AVAILABLE):
        return None
    b = benchmark_for(ctx, code)
    if not b:
        return None
    parts = []
    for key, label in (("england", "England"), ("region", b.get("region", {}).get("name") or "the region")):
        v = _num(b.get(key, {}).get("value"))
        if np.isfinite(v):
            parts.append(f"{label} {v:,.1f}")
    nm = _num(b.get("neighbour_mean"))
    if np.isfinite(nm):
        parts.append(f"statistical neighbours {nm:,.1f} on average")
    if not parts:
        return None
    return Finding(indicator=code, name=_name(ctx, code), period=fy_label(ctx.year), comparison="benchmark",
                   method="figures listed side by side, no test", verdict="listed",
                   baseline_period=fy_label(int(b["year_used"])), baseline_value=verdicts._join(parts),
                   value=ctx.fmt_value(cur), estimate=_num(cur["value"]), estimate_unit="rate per 10,000",
                   polarity=normalise_improvement(_polarity(ctx, code)))


def rate_with_benchmarks(ctx: ReportContext, code: str) -> str:
    """The rate per 10,000 this year, with England's, the region's and the statistical neighbours' beside it.

    The sentence of :func:`rate_finding`; without benchmarks the rate alone, and
    a withheld or missing rate says so.
    """
    if code not in ctx.catalogue:
        return ""
    cur = ctx.row(code, "year")
    if cur is None or not np.isfinite(_num(cur["value"])):
        return f"The rate per 10,000 children is not available: {_note(cur) or 'no population figure configured'}."
    if ctx.fmt_value(cur) == mk.WITHHELD:
        return "The rate per 10,000 children is withheld to protect privacy."
    finding = rate_finding(ctx, code)
    if finding is not None:
        return finding.sentence
    return f"The rate of {_name(ctx, code).lower()} was {ctx.fmt_value(cur)} in {fy_label(ctx.year)}."


def _withheld(ctx: ReportContext, code: str) -> str:
    """The sentence for a withheld figure: the same for every reason, so that it reveals no bound."""
    return f"{_name(ctx, code)}: the figure for {ctx.config.year_label} is withheld to protect privacy."


def _note(row: pd.Series | None) -> str:
    if row is None:
        return ""
    note = row.get("note")
    return "" if note is None or (isinstance(note, float) and math.isnan(note)) else str(note)


def percentage_verdict(ctx: ReportContext, code: str, benchmark: bool = True) -> str:
    """This year's percentage: the year-on-year finding, then England and the target as separate sentences.

    Month-to-month variation is not judged here: a control chart's verdict is about
    months, not the year, and goes with its chart (:func:`within_year`).
    """
    if code not in ctx.catalogue:
        return ""
    cur = ctx.row(code, "year")
    name = _name(ctx, code)
    if cur is None or not np.isfinite(_num(cur["denominator"])) or _num(cur["denominator"]) == 0:
        reason = _note(cur)
        return f"{name}: no cases in {ctx.config.year_label}" + (f" ({reason})." if reason else ".")
    if ctx.fmt_value(cur) == mk.WITHHELD:
        return _withheld(ctx, code)
    return " ".join(f.sentence for f in percentage_findings(ctx, code, benchmark=benchmark))


def percentage_findings(ctx: ReportContext, code: str, benchmark: bool = True) -> list[Finding]:
    """The findings behind :func:`percentage_verdict`: year on year, England (optional) and the target."""
    out = [year_on_year(ctx, code)]
    if benchmark:
        out.append(benchmark_finding(ctx, code))
    out.append(target_finding(ctx, code))
    return [f for f in out if f is not None]


def spc_frame(ctx: ReportContext, code: str, months: int = SPC_MONTHS) -> pd.DataFrame | None:
    """The control chart of the last ``months`` months to the year end (p-chart or XmR by unit)."""
    from safeguarding.stats import p_chart, xmr_chart

    s = ctx.series(code, "month")
    s = s[s["period_end"] > ctx.year_end - pd.DateOffset(months=months)]
    if s.empty:
        return None
    unit = ctx.unit(code)
    periods = pd.DatetimeIndex(s["period_start"])
    improvement = _polarity(ctx, code)
    target = _num(s["target"].iloc[-1]) if "target" in s.columns else math.nan
    target = target if np.isfinite(target) else None
    if unit == "percent":
        ok = s["denominator"].fillna(0) > 0
        if ok.sum() < 12:
            return None
        s = s[ok]
        return p_chart(s["numerator"].to_numpy(float), s["denominator"].to_numpy(float),
                       periods=pd.DatetimeIndex(s["period_start"]), improvement=improvement, target=target)
    vals = s["value"].to_numpy(float)
    if np.isfinite(vals).sum() < 12:
        return None
    return xmr_chart(vals, periods=periods, improvement=improvement, target=target)


def seasonality(ctx: ReportContext, code: str) -> str:
    """The seasonal finding's sentence (:func:`seasonal_finding`)."""
    return seasonal_finding(ctx, code).sentence


def seasonal_finding(ctx: ReportContext, code: str) -> Finding:
    """Whether a monthly count varies with the month of the year, allowing for its trend.

    Uses every consecutive published month up to the year end (at least 36: three
    full years) in :func:`safeguarding.stats.seasonality_test` (Poisson, or negative
    binomial when overdispersed, likelihood ratio test). The busiest month is
    reported with its size and interval, and called 'usually' the busiest only when
    it was the busiest month in most complete years.
    """
    from safeguarding.stats import seasonality_test
    from safeguarding.stats.trend import InsufficientDataError

    name = _name(ctx, code)
    s = ctx.series(code, "month")
    s = s[s["value"].notna()]
    base = {"indicator": code, "name": name, "comparison": "seasonal", "polarity": 0}
    if ctx.public and len(s) and ctx.hidden_mask(s).any():
        s = s[~ctx.hidden_mask(s)]
    # the longest run of consecutive months ending at the year end
    months = pd.DatetimeIndex(s["period_start"]).to_period("M")
    keep = len(months)
    for i in range(len(months) - 1, 0, -1):
        if (months[i] - months[i - 1]).n != 1:
            keep = len(months) - i
            break
    s = s.tail(keep)
    period = (f"{pd.Timestamp(s['period_start'].iloc[0]):%B %Y} to {pd.Timestamp(s['period_start'].iloc[-1]):%B %Y}"
              if len(s) else ctx.config.year_label)
    series = pd.Series(s["value"].to_numpy(float), index=pd.DatetimeIndex(s["period_start"]))
    try:
        res = seasonality_test(series)
    except InsufficientDataError:
        return Finding(**base, period=period, method="not computed", verdict="not tested",
                       detail="there are fewer than three full years of monthly figures")
    method = (f"{'negative binomial' if res.family != 'poisson' else 'Poisson'} model with trend, "
              "likelihood ratio test")
    if not res.significant:
        return Finding(**base, period=period, method=method, verdict="no seasonal pattern",
                       statistic=res.lr_statistic, statistic_name=f"likelihood ratio (chi-squared, {res.df} df)",
                       p_value=res.p_value)
    usual = res.peak_years > res.n_years / 2
    return Finding(**base, period=period, method=method, verdict="seasonal, usual peak" if usual else "seasonal",
                   value=pd.Timestamp(2000, res.peak_month, 1).strftime("%B"), estimate=res.peak_ratio,
                   lower=res.peak_lower, upper=res.peak_upper, estimate_unit="ratio to an average month",
                   statistic=res.lr_statistic, statistic_name=f"likelihood ratio (chi-squared, {res.df} df)",
                   p_value=res.p_value, limits=f"{res.peak_years} of {res.n_years} years")


#: catalogue methods whose figure is a month-end snapshot (a stock): successive months count largely the same
#: cases, so control-chart rules, which assume independent points, do not apply (the engine's 'stock' methods)
SNAPSHOT_METHODS = frozenset({"cpp_open", "cpp_open_band", "cpp_rate", "cpp_reviews_on_time", "lado_open",
                              "pf_open"})

#: a percentage at 0% or 100% in more than this share of months has too few exceptions for a p-chart
CEILING_SHARE = 0.5


def is_snapshot(ctx: ReportContext, code: str) -> bool:
    """True when the indicator is a month-end snapshot (see :data:`SNAPSHOT_METHODS`)."""
    return str(getattr(ctx.catalogue[code], "method", "")) in SNAPSHOT_METHODS


def within_year(ctx: ReportContext, code: str, months: int = SPC_MONTHS) -> tuple[Finding | None, pd.DataFrame | None]:
    """The month-by-month finding for an indicator and, when a control chart is valid, the chart's frame.

    No control chart (and no rule for unusual months) for a month-end snapshot
    (verdict ``snapshot``: a run chart is drawn), for a percentage at 0% or 100%
    in most months (``too few exceptions``), or, for the public, when any monthly
    figure in the window is withheld (``not published``: nothing is computed).
    Otherwise a p-chart (percentages) or XmR chart (counts) over ``months`` months.
    """
    s = ctx.series(code, "month")
    s = s[s["period_end"] > ctx.year_end - pd.DateOffset(months=months)]
    if s.empty or code not in ctx.catalogue:
        return None, None
    name = _name(ctx, code)
    n_months = len(s)
    period = f"the {n_months} months to {pd.Timestamp(s['period_start'].iloc[-1]):%B %Y}"
    base = {"indicator": code, "name": name, "period": period, "comparison": "within year",
            "polarity": normalise_improvement(_polarity(ctx, code))}
    if ctx.public:
        small = policy_of(ctx).small
        num = s["numerator"] if ctx.unit(code) == "percent" else s["value"]
        rest = (s["denominator"] - s["numerator"]) if ctx.unit(code) == "percent" else pd.Series(dtype=float)
        if ctx.hidden_mask(s).any() or bool(np.any(small(num.to_numpy(float)))) or bool(
                np.any(small(rest.to_numpy(float)))):
            return Finding(**base, method="not computed", verdict="not published"), None
    if is_snapshot(ctx, code):
        return Finding(**base, method="run chart (month-end snapshot, no signal rules)", verdict="snapshot"), None
    unit = ctx.unit(code)
    if unit == "percent":
        ok = s["denominator"].fillna(0) > 0
        if ok.sum() < 12:
            return Finding(**base, method="not computed", verdict="too few months"), None
        v = (s.loc[ok, "numerator"] / s.loc[ok, "denominator"]).to_numpy(float)
        at_top, at_zero = int((v >= 1).sum()), int((v <= 0).sum())
        if max(at_top, at_zero) > CEILING_SHARE * ok.sum():
            edge, k = ("100%", at_top) if at_top >= at_zero else ("0%", at_zero)
            return Finding(**base, method="not charted (too few exceptions)", verdict="too few exceptions",
                           detail=edge, limits=str(k)), None
    chart = spc_frame(ctx, code, months=months)
    if chart is None:
        return Finding(**base, method="not computed", verdict="too few months"), None
    percent = unit == "percent"
    method = "p-chart" if percent else "XmR chart"
    have = chart[np.isfinite(chart["value"].to_numpy(float))]
    last = have.iloc[-1]
    fmt = verdicts.format_percent if percent else verdicts.format_number
    limits = f"{fmt(float(last['lower']))} to {fmt(float(last['upper']))} in {pd.Timestamp(last['period']):%B %Y}"
    special = have[have["special_cause"]]
    if special.empty:
        return Finding(**base, method=method, verdict="common cause", limits=limits, statistic=0,
                       statistic_name="unusual months"), chart
    listed = [f"{pd.Timestamp(r.period):%B %Y} ({fmt(float(r.value))}, "
              f"{verdicts._rule_text(r.rule, r.direction, 'month')})" for r in special.head(3).itertuples()]
    more = len(special) - len(listed)
    detail = verdicts._join(listed + ([f"{more} more"] if more > 0 else []))
    directions = {d for d in special["direction"] if d}
    pol = base["polarity"]
    if pol and len(directions) == 1:
        detail += verdicts._judgement(1 if directions == {"higher"} else -1, pol)
    return Finding(**base, method=method, verdict="special cause", limits=limits, statistic=len(special),
                   statistic_name="unusual months", detail=detail), chart


def trend(ctx: ReportContext, code: str, years: int = 5) -> str:
    """The multi-year trend finding's sentence (:func:`trend_finding`)."""
    f = trend_finding(ctx, code, years=years)
    return "" if f is None else f.sentence


def trend_finding(ctx: ReportContext, code: str, years: int = 5) -> Finding | None:
    """The average change a year over the last ``years`` years of a count (:func:`safeguarding.stats.trend_test`).

    A Poisson regression of the yearly counts on the year (negative binomial when
    the counts vary more than chance would explain), with the population of children
    as exposure when the configuration gives it for every year, so the change is in
    the rate per child. Only published figures are used: a withheld year gives the
    verdict ``not published`` and nothing is computed; fewer than three consecutive
    years to the reporting year, ``not tested``.
    """
    from safeguarding.stats import trend_test

    if code not in ctx.catalogue:
        return None
    base = {"indicator": code, "name": _name(ctx, code), "period": fy_label(ctx.year), "comparison": "trend",
            "polarity": normalise_improvement(_polarity(ctx, code))}
    rows = []
    for y in range(ctx.year, ctx.year - years, -1):  # back from the reporting year, consecutive years only
        r = ctx.row(code, "year", period_end=pd.Timestamp(year=y, month=3, day=31))
        if r is None or not np.isfinite(_num(r["value"])):
            break
        if ctx.fmt_value(r) == mk.WITHHELD:  # a fitted trend would carry information about the withheld figure
            return Finding(**base, method="not computed", verdict="not published",
                           detail=f"the figure for {fy_label(y)} {WITHHELD}")
        rows.append((y, _num(r["value"]), ctx.config.population.get(y)))
    rows.reverse()
    if len(rows) < 3:
        return Finding(**base, method="not computed", verdict="not tested")
    ys, counts, pops = zip(*rows, strict=True)
    per_child = all(p for p in pops)
    exposure = np.array([float(p) if per_child else 1.0 for p in pops])
    result = trend_test(np.array(counts), exposure, np.array(ys))
    family = {"poisson": "Poisson regression", "negative binomial": "negative binomial regression",
              "quasi-poisson": "quasi-Poisson regression"}.get(result.family, result.family)
    verdict = (("significant rise" if result.annual_change_pct > 0 else "significant fall") if result.significant
               else "no significant trend")
    return Finding(**{**base, "period": fy_label(ys[-1])}, baseline_period=fy_label(ys[0]),
                   method=f"{family}{' with the number of children as exposure' if per_child else ''}",
                   verdict=verdict, estimate=result.annual_change_pct, lower=result.lower, upper=result.upper,
                   estimate_unit="percent a year per child" if per_child else "percent a year",
                   p_value=result.p_value, value=verdicts.format_number(counts[-1]),
                   baseline_value=verdicts.format_number(counts[0]))


def funnel_finding(ctx: ReportContext, code: str) -> Finding | None:
    """Where this year's percentage sits on the funnel plot of every council in England (England's figure the centre).

    The 95% and 99.8% limits at this council's denominator come from
    :func:`safeguarding.stats.funnel_limits` (Wilson), as the chart's. None when
    there are no benchmarks for the indicator, or for a figure the audience may
    not see (the chapter then says the comparison is not shown).
    """
    if code not in ctx.catalogue or ctx.unit(code) != "percent" or not ctx.la_code:
        return None
    if not getattr(ctx.benchmarks, "available", False):
        return None
    from safeguarding.stats import classify_funnel, funnel_limits

    b = ctx.benchmarks.benchmarks_for(code, ctx.la_code, ctx.year)
    if not b.get("available"):
        return None
    bench = funnel_centre(ctx, code, b)
    cur = ctx.row(code, "year")
    if bench is None or not _shown(ctx, cur, percent=True):
        return None
    units = funnel_units(ctx, code, int(b["year_used"]))
    if units.empty:  # no council to plot: no chart, and no caption
        return None
    num, den = _num(cur["numerator"]), _num(cur["denominator"])
    cls = classify_funnel(np.array([num]), np.array([den]), bench, kind="proportion")
    label = str(np.asarray(cls)[0]) if not isinstance(cls, pd.DataFrame) else str(cls.iloc[0, -1])
    lim = funnel_limits(bench, np.array([den]), kind="proportion").iloc[0]
    pct = verdicts.format_percent
    limits = (f"95% limits {pct(100 * lim['lower_95'])} to {pct(100 * lim['upper_95'])}, 99.8% limits "
              f"{pct(100 * lim['lower_998'])} to {pct(100 * lim['upper_998'])}")
    return Finding(indicator=code, name=_name(ctx, code), period=fy_label(ctx.year), comparison="funnel",
                   method="funnel plot of every council in England (Wilson limits around England's figure)",
                   verdict=label, baseline_period=fy_label(int(b["year_used"])), baseline_value=pct(100 * bench),
                   value=_pct_text(num, den), estimate=num / den, estimate_unit="proportion", limits=limits,
                   polarity=normalise_improvement(_polarity(ctx, code)))


def funnel_units(ctx: ReportContext, code: str, year: int) -> pd.DataFrame:
    """Every council's published numerator and denominator for the funnel plot (those with a denominator)."""
    units = ctx.benchmarks.all_councils(code, year)
    ok = np.isfinite(units["numerator"]) & np.isfinite(units["denominator"]) & (units["denominator"] > 0)
    return units[ok]


def funnel_centre(ctx: ReportContext, code: str, b: dict[str, Any]) -> float | None:
    """England's proportion for the funnel plot: its numerator over its denominator, else all councils pooled."""
    eng = b["england"]
    if _num(eng.get("denominator")) > 0:
        return _num(eng["numerator"]) / _num(eng["denominator"])
    units = funnel_units(ctx, code, int(b["year_used"]))
    if units.empty:
        return None
    return float(np.nansum(units.numerator) / np.nansum(units.denominator))


def largest_share_title(raw: pd.DataFrame, what: str, *, public: bool = False,
                        policy: Policy | None = None) -> str:
    """A chart title that states the finding: 'Neglect is the largest group: 45% of children on a plan'.

    ``raw`` is :func:`safeguarding.report.tables.breakdown_counts`. For the
    public, when any group is withheld (a count of 1 to 5, the ``policy``'s
    threshold, or a ``hidden`` cell) the title names the largest group shown
    and gives no share: a share of the whole, or the claim to be the largest
    of all, would say something about the withheld groups.
    """
    if raw.empty or raw["count"].sum() <= 0:
        return f"No {what} in the year"
    if public:
        hidden = (policy if policy is not None else Policy()).small(raw["count"])
        if "hidden" in raw.columns:
            hidden |= raw["hidden"].astype(bool)
        if hidden.any():
            shown = raw[~hidden & (raw["count"] > 0)]
            if shown.empty:
                return f"{verdicts._cap(what.removeprefix('of '))} by group"
            top = shown.sort_values("count", ascending=False).iloc[0]
            return f"{top['label']} is the largest of the groups shown"
    top = raw.sort_values("count", ascending=False).iloc[0]
    share = top["count"] / raw["count"].sum() * 100
    return f"{top['label']} is the largest group: {share:.0f}% {what}"


def short_story(ctx: ReportContext, code: str) -> str:
    """One line for the report card: direction and verdict against last year, target status, England.

    'Down 10.9 points, a significant fall (a deterioration); Red: 13.4 points short of the 90% target;
    England: not significantly different'.
    """
    cur = ctx.row(code, "year")
    if cur is None or not np.isfinite(_num(cur["value"])):
        return "No data this year"
    if ctx.fmt_value(cur) == mk.WITHHELD:
        return "Withheld to protect privacy"
    bits = []
    yoy = year_on_year(ctx, code)
    if yoy is not None:
        if yoy.verdict == "not published":
            bits.append("last year's figure withheld, so no comparison")
        elif yoy.verdict == "no change":
            bits.append("unchanged from last year")
        elif yoy.verdict != "no earlier year":
            up = yoy.estimate > (1 if yoy.estimate_unit == "rate ratio" else 0)
            if yoy.estimate_unit == "percentage points":
                size = f"{'up' if up else 'down'} {abs(100 * yoy.estimate):.1f} points"
            else:
                size = f"{'up' if up else 'down'} {abs(100 * (yoy.estimate - 1)):.1f}%"
            if yoy.significant:
                judged = ""
                if yoy.polarity:
                    judged = " (better)" if (1 if up else -1) * yoy.polarity > 0 else " (worse)"
                bits.append(f"{size} on last year, a significant change{judged}")
            else:
                bits.append(f"{size} on last year, which could be chance")
    tgt = target_finding(ctx, code)
    if tgt is not None:
        if tgt.verdict == "met":
            bits.append(f"{tgt.status}: {target_text(tgt)} target met")
        else:
            bits.append(f"{tgt.status}: {target_text(tgt)} target missed by {gap_text(tgt)}")
    bench = benchmark_finding(ctx, code)
    if bench is not None:
        bits.append(f"{bench.baseline_period}: {bench.verdict}")
    return "; ".join(bits) if bits else "First year of data"


#: the number of key messages the summary leads with
KEY_MESSAGES = 5
#: how a count reads after its figure ("1,490 referrals were made to children's social care")
COUNT_PHRASES: dict[str, str] = {
    "REFERRALS": "referrals were made to children's social care",
    "CPP_STARTED": "child protection plans started",
    "CPP_OPEN": "children were on a child protection plan at 31 March",
    "LADO_REFERRALS": "allegations were referred to the LADO",
    "PF_NOTIFICATIONS": "private fostering notifications were received",
    "S47_STARTED": "section 47 enquiries started",
    "ICPC_HELD": "initial child protection conferences were held",
}


def key_messages(ctx: ReportContext, codes: list[str], limit: int = KEY_MESSAGES, *,
                 optional: list[str] | tuple[str, ...] = (),
                 priorities: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Key messages: one per essential indicator, the most important first.

    Each message leads with the year-on-year verdict (:func:`year_on_year`); for a
    percentage the target status follows as its own sentence. The order is
    :func:`safeguarding.report.findings.rank_score` (the highest of the message's
    findings): significant changes, deteriorations first, then missed targets by
    how far they were missed, then the rest in the catalogue's order.
    Indicators whose figure for the year is withheld (public audience) give no
    message of their own: they are named together in one closing sentence,
    which comes after every message that carries a figure and takes one of the
    ``limit`` places, so that a board member reads what is known first.

    ``optional`` codes (partners' aggregate measures, :func:`partner_codes`) compete
    for a place only when one of their findings ranks (a significant change, a
    missed target): they are never forced in, and a withheld one is not named.
    ``priorities``: the indicator codes the board's priorities name
    (:func:`board_priority_codes`); their messages come first within each rank.
    """
    return [sentence for sentence, _ in key_messages_with_findings(ctx, codes, limit, optional=optional,
                                                                   priorities=priorities)]


def key_messages_with_findings(ctx: ReportContext, codes: list[str], limit: int = KEY_MESSAGES, *,
                               optional: list[str] | tuple[str, ...] = (),
                               priorities: frozenset[str] | set[str] = frozenset(),
                               ) -> list[tuple[str, list[Finding]]]:
    """:func:`key_messages`, each message with the findings whose sentences it prints (none for the closing one)."""
    scored: list[tuple[float, int, str, list[Finding]]] = []
    withheld: list[str] = []
    extra = [c for c in optional if c not in codes]
    for order, code in enumerate([*codes, *extra]):
        is_optional = order >= len(codes)
        cur = ctx.row(code, "year")
        if cur is None or not np.isfinite(_num(cur["value"])):
            continue
        if ctx.fmt_value(cur) == mk.WITHHELD:
            if not is_optional:
                withheld.append(_name(ctx, code))
            continue
        unit = ctx.unit(code)
        found = key_message_findings(ctx, code)
        if is_optional and max((rank_score(f) for f in found), default=0.0) <= 0:
            continue
        if unit == "percent":
            sentence = percentage_verdict(ctx, code, benchmark=False)
        elif unit == "count":
            phrase = COUNT_PHRASES.get(code, f"— {_name(ctx, code).lower()}")
            sentence = count_with_change(ctx, code, phrase)
        else:  # a rate: the year-on-year finding, then England, the region and neighbours beside it
            sentence = " ".join(f.sentence for f in found) or rate_with_benchmarks(ctx, code)
        score = max((rank_score(f, priorities) for f in found), default=0.0)
        if sentence:
            scored.append((score, order, sentence, found))
    scored.sort(key=lambda t: (-t[0], t[1]))
    messages = [(sentence, found) for _, _, sentence, found in scored]
    if withheld:
        many = len(withheld) > 1
        closing = (f"The {ctx.config.year_label} figure{'s' if many else ''} for "
                   f"{verdicts._join([lower_first(w) for w in withheld])} "
                   f"{'are' if many else 'is'} withheld to protect privacy.")
        return [*messages[:max(limit - 1, 0)], (closing, [])]
    return messages[:limit]


def limitations(ctx: ReportContext) -> list[str]:
    """Plain statements of what the data cannot tell."""
    out = [
        "These figures count what agencies recorded and did. They cannot on their own say whether children are "
        "safer: that needs the audits, case reviews and the voices of children and families reported elsewhere "
        "in this review.",
        "Small numbers swing. A percentage based on a few dozen children can move by ten points by chance; "
        "the control charts and intervals show which movements are more than chance.",
        "Comparisons with England and other councils use DfE's published figures for the same definitions; "
        "councils record and organise their work differently, so a difference is a question to ask, not a "
        "verdict.",
    ]
    cur = ctx.row("CPP_SUBSEQUENT", "year") if "CPP_SUBSEQUENT" in ctx.catalogue else None
    note = _note(cur)
    if note:
        out.append(f"Second or subsequent plans: {note}.")
    part = partial_years(ctx.indicators, ctx.year_end, {c: _name(ctx, c) for c in ctx.catalogue.codes})
    if part:
        listed = "; ".join(f"{lower_first(name)} ({verdicts._join(years)})" for name, years in part.items())
        out.append(f"Some yearly figures cover only part of the year, because the data start or end inside it: "
                   f"{listed}. They count what the data hold, are marked partial in the data files, and should "
                   f"not be compared with full years.")
    if ctx.public:
        out.append(f"Counts {policy_of(ctx).threshold_text}, and figures from which they could be worked out, are "
                   "withheld (shown as c) to protect privacy.")
    return out


def partial_years(indicators: pd.DataFrame, year_end: pd.Timestamp, names: dict[str, str],
                  years: int = 6) -> dict[str, list[str]]:
    """The headline yearly figures of the last ``years`` years to ``year_end`` whose status is ``partial``.

    Returns the indicator's name (from ``names``; indicators not named are left out) and its years as labels
    ('2018-19'), in the order of ``names``. The report shows at most six years in a table, so older partial
    years (those before an extract starts) are left to the data files' notes.
    """
    if "status" not in indicators.columns:
        return {}
    first = pd.Timestamp(year_end) - pd.DateOffset(years=years)
    sel = indicators[(indicators["period_type"] == "year") & (indicators["breakdown"] == "all")
                     & (indicators["status"].astype(str) == "partial")
                     & (pd.to_datetime(indicators["period_end"]) > first)
                     & (pd.to_datetime(indicators["period_end"]) <= pd.Timestamp(year_end))]
    out: dict[str, list[str]] = {}
    for code, name in names.items():
        ends = sorted(pd.to_datetime(sel.loc[sel["indicator_id"] == code, "period_end"]))
        if ends:
            out[name] = [fy_label(int(e.year)) for e in ends]
    return out


#: what each chapter says, as (indicator, kind): 'count' a year-on-year count sentence, 'percent' the
#: percentage sentences with England, 'percent-local' without England, 'monthly' the month-by-month chart
#: (months shown), 'seasonal' the seasonal sentence, 'trend' the multi-year trend, 'rate' the rate beside
#: England, the region and neighbours, 'funnel' the funnel plot's caption. Key messages reuse the same findings.
REPORTED: tuple[tuple[str, str, int], ...] = (
    ("CPP_OPEN", "count", 0), ("CPP_STARTED", "count", 0), ("CPP_ENDED", "count", 0),
    ("CPP_SUBSEQUENT", "percent", 24), ("CPP_ENDED_2YRS", "percent", 24), ("CPP_OPEN_2YRS", "percent", 24),
    ("CPP_REVIEWS_ON_TIME", "percent", 24), ("ICPC_15WD", "percent", 24),
    ("CPP_RATE", "rate", 0), ("CPP_SUBSEQUENT", "funnel", 0), ("CPP_ENDED_2YRS", "funnel", 0),
    ("CPP_OPEN_2YRS", "funnel", 0), ("CPP_REVIEWS_ON_TIME", "funnel", 0), ("ICPC_15WD", "funnel", 0),
    ("S47_STARTED", "count", 24), ("ICPC_HELD", "count", 0),
    ("REFERRALS", "count", 36), ("REFERRAL_RATE", "rate", 0), ("REFERRALS", "seasonal", 0),
    ("REFERRALS", "trend", 0), ("REREFERRALS_12M", "percent", 24), ("REREFERRALS_12M", "funnel", 0),
    ("LADO_REFERRALS", "count", 0), ("LADO_CONCLUDED_1M", "percent-local", 0),
    ("LADO_CONCLUDED_3M", "percent-local", 0), ("LADO_CONCLUDED_12M", "percent-local", 0),
    ("PF_NOTIFICATIONS", "count", 0), ("PF_OPEN", "count", 0), ("PF_VISIT_7WD", "percent-local", 0),
)


def report_findings(ctx: ReportContext) -> list[Finding]:  # noqa: C901
    """Every finding whose sentence the chapters print (see :data:`REPORTED`), once each, in report order.

    A year-on-year finding is left out when this year's figure is withheld or there is
    no earlier year (the chapter then prints a sentence that states no comparison).
    """
    out: list[Finding] = []
    seen: set[tuple[str, str, str]] = set()

    def add(f: Finding | None) -> None:
        if f is None:
            return
        key = (f.indicator, f.comparison, f.sentence)
        if key not in seen:
            seen.add(key)
            out.append(f)

    for code, kind, months in REPORTED:
        if code not in ctx.catalogue:
            continue
        cur = ctx.row(code, "year")
        hidden = cur is not None and ctx.fmt_value(cur) == mk.WITHHELD
        one = {"seasonal": seasonal_finding, "trend": trend_finding, "rate": rate_finding,
               "funnel": funnel_finding}.get(kind)
        if one is not None:
            add(one(ctx, code))
            continue
        if kind == "count":
            f = year_on_year(ctx, code)
            if f is not None and not hidden and f.verdict != "no earlier year":
                add(f)
        elif not hidden and cur is not None and _num(cur["denominator"]) > 0:
            for f in percentage_findings(ctx, code, benchmark=kind == "percent"):
                add(f)
        if months:
            add(within_year(ctx, code, months=months)[0])
    # partners' aggregate measures, in the chapters their catalogue entries name (sections/partners.py)
    for code in partner_codes(ctx):
        for f in partner_findings(ctx, code):
            add(f)
    # the key messages' findings (a rate's year on year is printed only there), for the messages printed
    for _, found in key_messages_with_findings(ctx, essential_codes(ctx), optional=partner_codes(ctx),
                                               priorities=board_priority_codes(ctx)):
        for f in found:
            add(f)
    return out


def essential_codes(ctx: ReportContext) -> list[str]:
    """The catalogue's essential indicators, in its order (the scorecard, the report card and the key messages)."""
    return [code for code in ctx.catalogue.codes if ctx.catalogue[code].status == "essential"]


def key_message_findings(ctx: ReportContext, code: str) -> list[Finding]:
    """The findings a key message for ``code`` prints (none when its figure is withheld or missing)."""
    cur = ctx.row(code, "year")
    if cur is None or not np.isfinite(_num(cur["value"])) or ctx.fmt_value(cur) == mk.WITHHELD:
        return []
    unit = ctx.unit(code)
    if unit == "percent":
        return percentage_findings(ctx, code, benchmark=False) if _num(cur["denominator"]) > 0 else []
    found = [year_on_year(ctx, code)] + ([rate_finding(ctx, code)] if unit == "rate_per_10k" else [])
    return [f for f in found if f is not None and f.verdict != "no earlier year"]


def findings_table(ctx: ReportContext) -> pd.DataFrame:
    """:func:`report_findings` as the ``findings.csv`` table (:data:`safeguarding.report.findings.COLUMNS`)."""
    from safeguarding.report.findings import COLUMNS

    return pd.DataFrame([f.row() for f in report_findings(ctx)], columns=COLUMNS)


# ------------------------------------------------------------------ partners' aggregate returns


def board_priority_codes(ctx: ReportContext) -> frozenset[str]:
    """The catalogue codes the board's priorities name (``priorities.yml`` ``indicators``), for the ranking."""
    editorial = getattr(ctx, "editorial", None)
    priorities = getattr(editorial, "priorities", ()) or ()
    return frozenset(code for p in priorities for code in getattr(p, "indicators", ()) if code in ctx.catalogue)


def partner_codes(ctx: ReportContext, chapter: str | None = None) -> list[str]:
    """Partners' aggregate measures (``method: aggregate``) in catalogue order; those of ``chapter`` when given."""
    out = []
    for code in ctx.catalogue.codes:
        info = ctx.catalogue[code]
        if str(getattr(info, "method", "")) == "aggregate" and (chapter is None
                                                              or getattr(info, "chapter", None) == chapter):
            out.append(code)
    return out


def has_figures(ctx: ReportContext, code: str) -> bool:
    """True when the indicator has a monthly or yearly figure up to the year end (a partner returned it)."""
    for period_type in ("month", "year"):
        s = ctx.series(code, period_type)
        if len(s) and bool(np.isfinite(pd.to_numeric(s["value"], errors="coerce").to_numpy(float)).any()):
            return True
    return False


def partner_months(ctx: ReportContext, code: str, most: int = SPC_MONTHS) -> int:
    """The months of a partner's measure to chart: its run of consecutive monthly figures ending at the year end.

    At most ``most`` (24, as for the other monthly flows); 0 when the last month of the year has no figure.
    A partner's returns start when the partnership began collecting them, and a control chart
    reaching back before that would chart months without a figure.
    """
    s = ctx.series(code, "month")
    s = s[s["period_end"] > ctx.year_end - pd.DateOffset(months=most)]
    if s.empty or pd.Timestamp(s["period_end"].iloc[-1]).normalize() != ctx.year_end.normalize():
        return 0
    values = pd.to_numeric(s["value"], errors="coerce").to_numpy(float)
    run = 0
    for v in values[::-1]:
        if not np.isfinite(v):
            break
        run += 1
    return run


def partner_count(ctx: ReportContext, code: str) -> str:
    """This year's count of a partner's measure against last year's (:func:`year_on_year`: the exact conditional
    Poisson test and the rate ratio), or, in the first year of the return, a sentence that says there is no
    comparison yet. A withheld figure gives the withheld sentence; a measure no return holds says so."""
    name = _name(ctx, code)
    cur = ctx.row(code, "year")
    if cur is None or not np.isfinite(_num(cur["value"])):
        return f"No figure was returned for {lower_first(name)} for {ctx.config.year_label}."
    if ctx.fmt_value(cur) == mk.WITHHELD:
        return _withheld(ctx, code)
    finding = year_on_year(ctx, code)
    if finding is None or finding.verdict == "no earlier year":
        return (f"{name}: {ctx.fmt_value(cur)} in {ctx.config.year_label}. This is the first year of this return, "
                f"so there is no earlier year to set it against yet.")
    return finding.sentence


def partner_findings(ctx: ReportContext, code: str) -> list[Finding]:
    """The findings the chapter prints for a partner's measure (:mod:`safeguarding.report.sections.partners`).

    The year on year (not in the first year of the return, nor for a withheld figure), the
    month-by-month control chart over the return's months (:func:`partner_months`), and the
    trend when the return goes back three years or more.
    """
    if not has_figures(ctx, code):
        return []
    out: list[Finding | None] = []
    cur = ctx.row(code, "year")
    yoy = year_on_year(ctx, code)
    withheld = cur is not None and ctx.fmt_value(cur) == mk.WITHHELD
    if yoy is not None and yoy.verdict != "no earlier year" and not withheld:
        out.append(yoy)
    months = partner_months(ctx, code)
    if months:
        out.append(within_year(ctx, code, months=months)[0])
    out.append(partner_trend(ctx, code))
    return [f for f in out if f is not None]


def partner_trend(ctx: ReportContext, code: str) -> Finding | None:
    """The trend of a partner's measure (:func:`trend_finding`), or None with fewer than three years of returns
    (the year-on-year sentence, or the first-year sentence, already says what there is)."""
    f = trend_finding(ctx, code)
    return None if f is None or f.verdict == "not tested" else f
