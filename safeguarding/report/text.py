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

from safeguarding.disclosure.policy import Policy
from safeguarding.report.context import ReportContext, fy_label, policy_of
from safeguarding.stats import verdicts

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
        return ":"
    v = _num(b["england"]["value"])
    if not np.isfinite(v):
        return ":"
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
    """This year's count against last year's, with the exact test of the change (stats.change_verdict).

    'Referrals to children's social care rose by 3.0%, from 1,446 in 2023-24 to 1,490 in 2024-25, which is
    not statistically significant (it could be chance).' ``phrase`` words the sentence when there is no
    earlier year to compare with, or when the count is withheld.
    """
    if code not in ctx.catalogue:
        return ""
    cur = ctx.row(code, period_type)
    prev = ctx.row(code, period_type, period_end=ctx.year_end - pd.DateOffset(years=1))
    if cur is None or not np.isfinite(_num(cur["value"])):
        return f"No figure is available for {_name(ctx, code).lower()} in {ctx.config.year_label}."
    n = _num(cur["value"])
    shown = ctx.fmt_count(n)
    if ctx.fmt_value(cur) == "c":  # a count from 1 to 5, or hidden by secondary suppression
        return _withheld(ctx, code)
    lead = f"In {ctx.config.year_label}, {shown} {phrase}"
    if prev is None or not np.isfinite(_num(prev["value"])) or ctx.fmt_value(prev) == "c":
        return lead + "."
    return verdicts.change_verdict(
        _name(ctx, code), _num(prev["value"]), None, n, None, kind="count", label1=fy_label(ctx.year - 1),
        label2=fy_label(ctx.year), polarity=_polarity(ctx, code))


def rate_with_benchmarks(ctx: ReportContext, code: str, phrase: str, *, lead: str = "That is") -> str:
    """The rate per 10,000 this year, compared with England, the region and statistical neighbours.

    The sentence is ``lead`` + the rate + ``phrase``: "That is" follows a count
    sentence; a key message, which stands alone, gives its own lead.
    """
    if code not in ctx.catalogue:
        return ""
    cur = ctx.row(code, "year")
    if cur is None or not np.isfinite(_num(cur["value"])):
        return f"The rate per 10,000 children is not available: {_note(cur) or 'no population figure configured'}."
    if ctx.fmt_value(cur) == "c":
        return "The rate per 10,000 children is withheld to protect children's privacy."
    rate = _num(cur["value"])
    out = f"{lead} {rate:,.1f} {phrase}"
    b = benchmark_for(ctx, code)
    if not b:
        return out + "."
    parts = []
    for key, label in (("england", "England"), ("region", b.get("region", {}).get("name") or "the region")):
        v = _num(b.get(key, {}).get("value"))
        if np.isfinite(v):
            parts.append(f"{label} {v:,.1f}")
    nm = _num(b.get("neighbour_mean"))
    if np.isfinite(nm):
        parts.append(f"statistical neighbours {nm:,.1f} on average")
    when = "" if b.get("year_used") == ctx.year else f" in {fy_label(int(b['year_used']))}, the latest published year"
    if parts:
        out += f", compared with {verdicts._join(parts)}{when}"
    return out + "."


def _withheld(ctx: ReportContext, code: str) -> str:
    """The sentence for a withheld figure: the same for every reason, so that it reveals no bound."""
    return f"{_name(ctx, code)}: the figure for {ctx.config.year_label} is withheld to protect children's privacy."


def _note(row: pd.Series | None) -> str:
    if row is None:
        return ""
    note = row.get("note")
    return "" if note is None or (isinstance(note, float) and math.isnan(note)) else str(note)


def percentage_verdict(ctx: ReportContext, code: str, benchmark: bool = True) -> str:
    """One sentence on this year's percentage: its interval, month-to-month variation and England."""
    use_bench = benchmark
    if code not in ctx.catalogue:
        return ""
    cur = ctx.row(code, "year")
    name = _name(ctx, code)
    if cur is None or not np.isfinite(_num(cur["denominator"])) or _num(cur["denominator"]) == 0:
        reason = _note(cur)
        return f"{name}: no cases in {ctx.config.year_label}" + (f" ({reason})." if reason else ".")
    num, den = _num(cur["numerator"]), _num(cur["denominator"])
    if ctx.fmt_value(cur) == "c":
        return _withheld(ctx, code)
    chart = spc_frame(ctx, code)
    bench = None
    label = "England"
    if use_bench:
        b = benchmark_for(ctx, code)
        if b and np.isfinite(_num(b["england"]["value"])):
            bench = _num(b["england"]["value"]) / 100.0
            if b.get("year_used") != ctx.year:
                label = f"England in {fy_label(int(b['year_used']))}"
    sentence = verdicts.proportion_verdict(name, num, den, chart_df=chart, benchmark=bench, benchmark_label=label,
                                           polarity=_polarity(ctx, code), verb=_verb(name))
    target = _num(cur.get("target"))
    if np.isfinite(target):
        rag = str(cur.get("rag", "N/A"))
        sentence += f" The target is {format_target(ctx, code, target)}; status: {rag}."
    return sentence


_PLURAL_NOUNS = {"plans", "icpcs", "allegations", "re-referrals", "referrals", "visits", "conferences",
                 "notifications", "arrangements", "enquiries", "children"}


def _verb(name: str) -> str:
    """'were' when the indicator's name is about a plural noun ('Plans reviewed on time'), else 'was'."""
    words = {w.strip(",()").lower() for w in name.split()[:6]}
    return "were" if words & _PLURAL_NOUNS else "was"


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
    """Which months are usually busiest and quietest (STL), when two full years exist."""
    from safeguarding.stats.trend import InsufficientDataError, seasonal_decomposition

    s = ctx.series(code, "month")
    s = s[s["value"].notna()]
    if len(s) < 24:
        return "There are fewer than two full years of monthly figures, so seasonal patterns cannot be separated."
    series = pd.Series(s["value"].to_numpy(float), index=pd.DatetimeIndex(s["period_start"]))
    try:
        dec = seasonal_decomposition(series)
    except InsufficientDataError as exc:
        return f"Seasonal patterns cannot be separated: {exc}."
    seasonal = dec["seasonal"] if "seasonal" in dec.columns else dec.iloc[:, 1]
    by_month = seasonal.groupby(seasonal.index.month).mean()
    level = float(series.mean())
    hi, lo = int(by_month.idxmax()), int(by_month.idxmin())
    month = pd.Timestamp(2000, hi, 1).strftime("%B"), pd.Timestamp(2000, lo, 1).strftime("%B")
    return (f"Referrals follow a seasonal pattern: {month[0]} is usually the busiest month, about "
            f"{abs(by_month.max()) / level * 100:.0f}% above the underlying level, and {month[1]} the quietest, "
            f"about {abs(by_month.min()) / level * 100:.0f}% below it (seasonal decomposition over "
            f"{len(series)} months).")


def trend(ctx: ReportContext, code: str, years: int = 5) -> str:
    """A multi-year trend test with population exposure where available."""
    from safeguarding.stats import trend_test

    rows = []
    for y in range(ctx.year - years + 1, ctx.year + 1):
        r = ctx.row(code, "year", period_end=pd.Timestamp(year=y, month=3, day=31))
        if r is not None and np.isfinite(_num(r["value"])):
            if ctx.fmt_value(r) == "c":  # a fitted trend would carry information about the withheld figure
                return (f"No trend is tested for {_name(ctx, code).lower()}: the figure for {fy_label(y)} is "
                        "withheld to protect children's privacy.")
            pop = ctx.config.population.get(y)
            rows.append((y, _num(r["value"]), float(pop) if pop else 1.0))
    if len(rows) < 3:
        return "There are fewer than three full years of figures, so no trend test is made."
    ys, counts, exposure = zip(*rows, strict=True)
    result = trend_test(np.array(counts), np.array(exposure), np.array(ys))
    name = _name(ctx, code).lower()
    if ctx.config.population:
        name += " (allowing for the number of children in the area)"
    return verdicts.trend_verdict(verdicts._cap(name), result, polarity=_polarity(ctx, code))


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
    """A few words for the report card: direction against last year and target status."""
    cur = ctx.row(code, "year")
    prev = ctx.row(code, "year", period_end=ctx.year_end - pd.DateOffset(years=1))
    if cur is None or not np.isfinite(_num(cur["value"])):
        return "No data this year"
    if ctx.fmt_value(cur) == "c":
        return "Withheld to protect privacy"
    bits = []
    if prev is not None and np.isfinite(_num(prev["value"])) and ctx.fmt_value(prev) != "c":
        c, p = _num(cur["value"]), _num(prev["value"])
        pol = _polarity(ctx, code)
        if c == p:
            bits.append("unchanged")
        else:
            up = c > p
            better = (up and pol == "increase") or (not up and pol == "decrease")
            worse = (up and pol == "decrease") or (not up and pol == "increase")
            bits.append(("up" if up else "down") + (" (better)" if better else " (worse)" if worse else ""))
    rag = str(cur.get("rag", "N/A"))
    if rag not in {"N/A", "nan", "None"}:
        bits.append(f"{rag} against target")
    return "; ".join(bits) if bits else "First year of data"


def key_messages(ctx: ReportContext, codes: list[str], limit: int = 7) -> list[str]:
    """Key messages: the essential indicators whose change or position matters most, first.

    Indicators whose figure for the year is withheld (public audience) give no
    message of their own: they are named together in one closing sentence,
    which comes after every message that carries a figure and takes one of the
    ``limit`` places, so that a board member reads what is known first.
    """
    scored: list[tuple[float, str]] = []
    withheld: list[str] = []
    for code in codes:
        cur = ctx.row(code, "year")
        if cur is None or not np.isfinite(_num(cur["value"])):
            continue
        if ctx.fmt_value(cur) == "c":
            withheld.append(_name(ctx, code))
            continue
        unit = ctx.unit(code)
        if unit == "percent":
            sentence = percentage_verdict(ctx, code)
            score = 1.0
            chart = spc_frame(ctx, code)
            if chart is not None and bool(chart["special_cause"].iloc[-1]):
                score += 2
            if str(cur.get("rag", "")) == "Red":
                score += 1.5
        elif unit == "count":
            phrase = {"REFERRALS": "referrals were made to children's social care",
                      "CPP_STARTED": "child protection plans started",
                      "CPP_OPEN": "children were on a child protection plan at 31 March",
                      "LADO_REFERRALS": "allegations were referred to the LADO",
                      "PF_NOTIFICATIONS": "private fostering notifications were received"}.get(
                code, f"— {_name(ctx, code).lower()}")
            sentence = count_with_change(ctx, code, phrase)
            score = 1.5 if "significant" in sentence and "not" not in sentence else 0.5
        else:
            phrase = {"CPP_RATE": "children were on a child protection plan at 31 March for every 10,000 "
                                  "children aged 0-17",
                      "REFERRAL_RATE": "referrals were made for every 10,000 children aged 0-17"}.get(
                code, f"per 10,000 children aged 0-17: {_name(ctx, code).lower()}")
            sentence = rate_with_benchmarks(ctx, code, phrase, lead=f"In {ctx.config.year_label},")
            score = 0.8
        if sentence:
            scored.append((score, sentence))
    scored.sort(key=lambda t: -t[0])
    messages = [s for _, s in scored]
    if withheld:
        many = len(withheld) > 1
        closing = (f"The {ctx.config.year_label} figure{'s' if many else ''} for {verdicts._join(withheld)} "
                   f"{'are' if many else 'is'} withheld to protect children's privacy.")
        return [*messages[:max(limit - 1, 0)], closing]
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
    if ctx.public:
        out.append(f"Counts {policy_of(ctx).threshold_text}, and figures from which they could be worked out, are "
                   "withheld (shown as c) to protect children's privacy.")
    return out
