"""Sentences about series: within the year (control charts), seasons, trends over years, funnels, shares."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from safeguarding import markers as mk
from safeguarding.disclosure.policy import Policy
from safeguarding.report.context import ReportContext, fy_label, policy_of
from safeguarding.report.findings import WITHHELD, Finding, FindingSubject, FindingSubjectInPeriod
from safeguarding.report.text.basics import SPC_MONTHS, Benchmark, _name, _num, _pct_text, _polarity, _shown
from safeguarding.stats import verdicts
from safeguarding.stats.spc import RULE_OUTSIDE, RULE_RUN, RULE_TREND, RULE_TWO_OF_THREE, normalise_improvement


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
    last_target = _num(s["target"].iloc[-1]) if "target" in s.columns else math.nan
    target = last_target if np.isfinite(last_target) else None
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
    base: FindingSubject = {"indicator": code, "name": name, "comparison": "seasonal", "polarity": 0}
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
                   p_value=res.p_value, limits=f"{res.peak_years} of {res.n_years} years",
                   detail=(f"{pd.Timestamp(2000, res.usual_month, 1):%B} was the busiest month in {res.usual_years} "
                           f"of the {res.n_years}" if res.usual_month and not usual else ""))


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
    base: FindingSubjectInPeriod = {"indicator": code, "name": name, "period": period, "comparison": "within year",
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
    detail = verdicts._join(unusual_months(have, fmt))
    directions = {d for d in special["direction"] if d}
    pol = base["polarity"]
    if pol and len(directions) == 1:
        detail += verdicts._judgement(1 if directions == {"higher"} else -1, pol)
    return Finding(**base, method=method, verdict="special cause", limits=limits, statistic=len(special),
                   statistic_name="unusual months", detail=detail), chart


#: unusual months listed by name in a sentence, at most (spans of a run count as one); the rest are counted
UNUSUAL_LISTED = 4

#: a span of months flagged by one rule, in words (``{k}`` months, ``{unit}``, the direction's words)
_SPAN_TEXT = {
    RULE_TREND: "{k} {unit}s in a row {rising_falling}",
    RULE_TWO_OF_THREE: "{k} {unit}s close to the edge of the expected range",
    RULE_RUN: "{k} {unit}s in a row {above_below} the average",
}


def unusual_months(chart: pd.DataFrame, fmt: Callable[[float], str], unit: str = "month") -> list[str]:
    """The unusual months of a control chart as a reader needs them: those beyond the expected range first.

    Each month beyond the limits is named with its value (``October 2024 (150, beyond the expected
    range)``); then, for each other rule (a run, a trend, 2 of 3 near the limits), the consecutive months it
    flags in one direction are named as one span (``October 2023 to May 2024 (8 months in a row below
    the average)``), in time order. A month flagged by several rules is in each rule's span, so a run is
    named whole even where one of its months is beyond the limits or in a trend too. At most
    :data:`UNUSUAL_LISTED` items; the unusual months no item names are counted (``and 3 more months``).
    ``chart`` is the chart's frame (rows with a value), ``fmt`` formats a value.
    """
    have = chart.reset_index(drop=True)
    rules = have["rule"].astype(str).str.split("; ")
    flagged = np.flatnonzero(have["special_cause"].to_numpy(bool)).tolist()
    items: list[tuple[str, set[int]]] = []  # what is said, and the months (positions) it names
    for j in flagged:
        if RULE_OUTSIDE in rules[j]:
            items.append((f"{pd.Timestamp(have['period'][j]):%B %Y} ({fmt(float(have['value'][j]))}, "
                          f"{verdicts._rule_text(RULE_OUTSIDE, have['direction'][j], unit)})", {j}))
    spans: list[tuple[str, str, int, int]] = []  # (rule, direction, first, last) positions
    for rule in (RULE_TREND, RULE_TWO_OF_THREE, RULE_RUN):
        for j in flagged:
            if rule not in rules[j]:
                continue
            direction = have["direction"][j]
            last = spans[-1] if spans else None
            if last is not None and last[:2] == (rule, direction) and last[3] == j - 1:
                spans[-1] = (rule, direction, last[2], j)
            else:
                spans.append((rule, direction, j, j))
    for rule, direction, a, b in sorted(spans, key=lambda sp: (sp[2], sp[3])):
        start = pd.Timestamp(have["period"][a])
        if a == b:
            items.append((f"{start:%B %Y} ({fmt(float(have['value'][a]))}, "
                          f"{verdicts._rule_text(rule, direction, unit)})", {a}))
            continue
        higher = direction == "higher"
        words = _SPAN_TEXT.get(rule, "{k} unusual {unit}s").format(
            k=b - a + 1, unit=unit, rising_falling="rising" if higher else "falling",
            above_below="above" if higher else "below")
        items.append((f"{start:%B %Y} to {pd.Timestamp(have['period'][b]):%B %Y} ({words})", set(range(a, b + 1))))
    listed = items[:UNUSUAL_LISTED]
    named = set().union(*(months for _, months in listed))
    more = len(set(flagged) - named)
    return [text for text, _ in listed] + ([f"{more} more {unit}{'s' if more != 1 else ''}"] if more else [])


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
    base: FindingSubjectInPeriod = {"indicator": code, "name": _name(ctx, code), "period": fy_label(ctx.year),
                                    "comparison": "trend", "polarity": normalise_improvement(_polarity(ctx, code))}
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
    to_latest: FindingSubjectInPeriod = {**base, "period": fy_label(ys[-1])}
    return Finding(**to_latest, baseline_period=fy_label(ys[0]),
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
    if bench is None or cur is None or not _shown(ctx, cur, percent=True):
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


def funnel_centre(ctx: ReportContext, code: str, b: Benchmark) -> float | None:
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
