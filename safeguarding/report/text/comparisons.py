"""Comparisons of the year's figure: with last year, its target, England and its neighbours."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from safeguarding import markers as mk
from safeguarding.report.context import ReportContext, fy_label
from safeguarding.report.findings import WITHHELD, Finding, FindingComparedPeriods
from safeguarding.report.text.basics import _name, _num, _pct_text, _polarity, _shown, benchmark_for
from safeguarding.stats import verdicts
from safeguarding.stats.spc import normalise_improvement

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.stats.trend import Dispersion


def year_on_year(ctx: ReportContext, code: str) -> Finding | None:
    """The year-on-year finding for an indicator: this year's figure against last year's, with its test.

    Percentages: difference in percentage points with Newcombe's hybrid score
    interval, and the pooled score (z) test, or Fisher's exact test when an
    expected cell count is below 5 (:func:`safeguarding.stats.compare_proportions`).
    Counts: the exact conditional Poisson test with the rate ratio and its
    interval; rates per 10,000 the same with the population as exposure
    (:func:`safeguarding.stats.compare_rates`); for a flow whose two years'
    months vary more than chance alone would make them, the quasi-Poisson
    test (:func:`safeguarding.stats.compare_rates_dispersed`, from
    :func:`_monthly_dispersion`). Only published figures are used:
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
    base: FindingComparedPeriods = {"indicator": code, "name": _name(ctx, code), "period": label2,
                                    "comparison": "year on year", "baseline_period": label1,
                                    "polarity": normalise_improvement(_polarity(ctx, code))}
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
    spread = _monthly_dispersion(ctx, code, c1, c2, rate=unit == "rate_per_10k")
    if spread is not None and spread.phi > 1:  # the months vary more than chance alone: quasi-Poisson
        from safeguarding.stats import compare_rates_dispersed

        res = compare_rates_dispersed(c1, e1, c2, e2, spread)
        method = res.method
        statistic = math.log(res.ratio) / math.sqrt(spread.phi * (1 / c1 + 1 / c2))  # the t of the test
        statistic_name = f"t ({spread.df} degrees of freedom)"
        detail = f"month-to-month variation {spread.phi:.1f} times what chance alone gives"
    else:
        method = "exact conditional Poisson test"
        statistic, statistic_name, detail = c2, f"events in {label2} of {verdicts.format_number(c1 + c2)}", ""
    verdict = (("significant increase" if res.ratio > 1 else "significant decrease") if res.significant
               else "no significant change")
    return Finding(**base, method=method, verdict=verdict, baseline_value=v1, value=v2, estimate=res.ratio,
                   lower=res.lower, upper=res.upper, estimate_unit="rate ratio", p_value=res.p_value,
                   statistic=statistic, statistic_name=statistic_name, detail=detail)


def _monthly_dispersion(ctx: ReportContext, code: str, c1: float, c2: float, *, rate: bool) -> Dispersion | None:
    """The dispersion of the two years' monthly counts (:func:`safeguarding.stats.monthly_dispersion`), or None.

    Only for a flow (a month-end snapshot counts largely the same cases each month) whose 24 monthly counts
    are all there, add up to the two years' figures ``c1`` and ``c2`` (the numerators of a rate) and, for the
    public, are all published: nothing withheld is used.
    """
    from safeguarding.report.text.series import is_snapshot
    from safeguarding.stats import monthly_dispersion

    if is_snapshot(ctx, code):
        return None
    s = ctx.series(code, "month")
    s = s[(s["period_start"] >= ctx.year_start - pd.DateOffset(years=1)) & (s["period_end"] <= ctx.year_end)]
    if len(s) != 24 or s["period_start"].nunique() != 24 or (ctx.public and bool(ctx.hidden_mask(s).any())):
        return None
    counts = s.sort_values("period_start")["numerator" if rate else "value"].to_numpy(float)
    first, second = counts[:12], counts[12:]
    if not np.all(np.isfinite(counts)) or first.sum() != c1 or second.sum() != c2:
        return None
    return monthly_dispersion(first, second)


def target_finding(ctx: ReportContext, code: str) -> Finding | None:
    """This year's figure against its target, with the status and, when missed, by how much.

    The status (Green within 5% of the target, Amber within 10%, Red beyond) is
    the indicator table's; a figure short of its target is said to have missed
    it whatever the colour. None without a target or a published figure.
    """
    if code not in ctx.catalogue:
        return None
    cur = ctx.row(code, "year")
    if cur is None or not _shown(ctx, cur, percent=ctx.unit(code) == "percent"):
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
    if cur is None or not _shown(ctx, cur, percent=True):
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
    region = b.get("region", {})
    for point, label in ((b.get("england", {}), "England"), (region, region.get("name") or "the region")):
        v = _num(point.get("value"))
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
        return f"The rate per 10,000 children is not available: {ctx.note(cur) or 'no population figure configured'}."
    if ctx.fmt_value(cur) == mk.WITHHELD:
        return "The rate per 10,000 children is withheld to protect privacy."
    finding = rate_finding(ctx, code)
    if finding is not None:
        return finding.sentence
    return f"The rate of {_name(ctx, code).lower()} was {ctx.fmt_value(cur)} in {fy_label(ctx.year)}."


def _withheld(ctx: ReportContext, code: str) -> str:
    """The sentence for a withheld figure: the same for every reason, so that it reveals no bound."""
    return f"{_name(ctx, code)}: the figure for {ctx.config.year_label} is withheld to protect privacy."


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
        reason = ctx.note(cur)
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
