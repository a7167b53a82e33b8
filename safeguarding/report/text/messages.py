"""The key messages, the limitations and every finding of the review (``findings.csv``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from safeguarding import markers as mk
from safeguarding.report.context import ReportContext, fy_label, policy_of
from safeguarding.report.findings import Finding, gap_text, lower_first, rank_score, target_text
from safeguarding.report.text.basics import _name, _num
from safeguarding.report.text.comparisons import (
    benchmark_finding,
    count_with_change,
    percentage_findings,
    percentage_verdict,
    rate_finding,
    rate_with_benchmarks,
    target_finding,
    year_on_year,
)
from safeguarding.report.text.partners import board_priority_codes, partner_codes, partner_findings
from safeguarding.report.text.series import funnel_finding, seasonal_finding, trend_finding, within_year
from safeguarding.stats import verdicts


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
    note = ctx.note(cur)
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
        finders: dict[str, Callable[..., Finding | None]] = {
            "seasonal": seasonal_finding, "trend": trend_finding, "rate": rate_finding, "funnel": funnel_finding}
        one = finders.get(kind)
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
