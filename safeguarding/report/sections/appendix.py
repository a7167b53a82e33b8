"""Appendix: data quality (the ingest report), methods and definitions (the catalogue)."""

from __future__ import annotations

from typing import SupportsIndex, SupportsInt

import pandas as pd

from safeguarding.report.context import ReportContext
from safeguarding.report.markdown import Block, md_table

POLARITY = {"higher_is_better": "Higher is better", "lower_is_better": "Lower is better", "neither": "Neither"}


def rounded_count(n: int, base: int) -> str:
    """A count as the public report shows it about rows of data: 0, 'fewer than BASE', or 'about N' to ``base``.

    Rows read, accepted and rejected are counts about children; exact they could
    be set against a withheld figure (a private fostering file of 4 rows whose
    notifications are shown as ``c``), rounded they cannot.
    """
    if n <= 0:
        return "0"
    if n < base:
        return f"fewer than {base:,}"
    return f"about {int(round(n / base) * base):,}"


def data_quality(ctx: ReportContext) -> Block:
    """Rows read, accepted and rejected per input, and the reasons, from the ingest report.

    The board sees exact counts. The public sees them rounded (rows read to the
    nearest 100, rejected rows to the nearest 10, with 'fewer than' below that),
    and no 'accepted' column, which would give rejected = read - accepted.
    """
    b = Block()
    b.heading("Data quality")
    report = ctx.ingest_report()
    if not report:
        b.text("No ingest report was found for this build.")
        return b
    public = bool(ctx.public)
    labels = report.get("reasons") or {}
    rows: list[dict[str, str]] = []
    reasons: dict[tuple[str, str], int] = {}
    dropped: dict[str, int] = {}
    warnings = 0
    for entry in report.get("inputs") or []:
        name = str(entry.get("table", ""))
        read = int(entry.get("rows_read", 0) or 0)
        accepted = int(entry.get("rows_accepted", 0) or 0)
        rejected = int(entry.get("rows_rejected", 0) or 0)
        label = SOURCE_LABELS.get(name, name.replace("_", " "))
        if public:
            rows.append({"Table": label, "Rows read": rounded_count(read, 100),
                         "Rejected": rounded_count(rejected, 10), "Status": str(entry.get("status", ""))})
        else:
            rows.append({"Table": label, "Rows read": f"{read:,}", "Accepted": f"{accepted:,}",
                         "Rejected": f"{rejected:,}", "Status": str(entry.get("status", ""))})
        for reason, n in (entry.get("rejected_by_reason") or {}).items():
            reasons[(name, reason)] = reasons.get((name, reason), 0) + int(n)
        if entry.get("personal_columns_dropped"):
            dropped[name] = len(entry["personal_columns_dropped"])
        warnings += len(entry.get("warnings") or [])
    b.text("Every row of every input is accounted for: rows read equal rows accepted plus rows rejected. "
           "Rejected rows are listed, with the file, row, column and the fix, in the ingest report kept "
           "with the processed data (not published).")
    if public:
        b.text("Row counts are rounded here (rows read to the nearest 100, rejected rows to the nearest 10) so "
               "that they cannot be set against a figure withheld to protect privacy.")
    caption = "Rows read and rejected by input (rounded)" if public else "Rows read, accepted and rejected by input"
    b.add(md_table(pd.DataFrame(rows), caption=caption, label="dq-rows",
                   align=["l", "r", "r", "l"] if public else ["l", "r", "r", "r", "l"]))
    if reasons:
        tab = pd.DataFrame([{"Table": SOURCE_LABELS.get(t, t.replace("_", " ")),
                             "Reason": labels.get(r, r.replace("_", " ")),
                             "Rows": rounded_count(n, 10) if public else f"{n:,}"}
                            for (t, r), n in sorted(reasons.items())])
        b.add(md_table(tab, caption="Rejected rows by reason", label="dq-reasons", align=["l", "l", "r"]))
    else:
        b.text("No rows were rejected this year.")
    if dropped:
        b.text("Personal or free-text columns present in the sources (names, addresses, notes) were not carried "
               "over: " + "; ".join(f"{k.replace('_', ' ')}: {v} column(s)" for k, v in dropped.items()) + ".")
    if warnings:
        b.text(f"The ingest raised {warnings:,} warning(s) that did not stop rows being used; they are listed in "
               "the ingest report.")
    agg = report.get("aggregates") or {}
    if agg:
        b.text(f"Partners' aggregate returns: {int(agg.get('rows', 0) or 0):,} monthly figures loaded, "
               f"{_n(agg.get('issues')):,} issue(s) reported.")
    return b


def _dispersed_scope(ctx: ReportContext) -> str:
    """When the quasi-Poisson test is used, as this audience's review uses it (the public's and the board's differ)."""
    if ctx.public:
        return ("That variation is worked out from the monthly figures, so the test is used only for a count whose "
                "24 monthly figures are all published; a count with a month withheld is compared with the exact "
                "test. ")
    return ("The public review uses it only where every monthly figure of the two years is published (there the "
            "variation is never worked out from figures it does not publish), and otherwise the exact test: for "
            "such a count its p-value can differ from this pack's. ")


def methods(ctx: ReportContext) -> Block:
    """How intervals, control charts, funnel plots and suppression work, in plain English."""
    b = Block()
    b.heading("How to read the figures")
    b.add("**Change on last year.** Each year-on-year sentence says whether the change is statistically "
          "significant, that is, unlikely to be chance alone. Percentages are compared with a two-proportion test "
          "(Fisher's exact test when the numbers are small) and the change in percentage points is given with a 95% "
          "confidence interval (Newcombe's method); counts and rates with an exact test, the change in per cent with "
          "its 95% confidence interval, or, where the months of a count vary more than chance alone would make "
          "them, with a test that allows for that variation (quasi-Poisson), so that ordinary month-to-month swings "
          "are not taken for a real change. " + _dispersed_scope(ctx) + "A change is "
          "worked out from the unrounded figures, so it can differ by 0.1 from the difference of the rounded "
          "figures shown (for example, 87.43% and 76.56% are shown as 87.4% and 76.6%, and the fall between them "
          "as 10.9 points). Every such "
          "sentence, with the numbers behind it, is listed in the data file "
          "findings.csv published with this report.")
    b.add("**Intervals.** In the tables, every percentage and every rate per 10,000 for this area is followed by "
          "its 95% confidence interval (95% CI), the range in which the underlying figure is likely to lie, allowing "
          "for chance. Percentages use the Wilson score interval, rates the exact Poisson interval (Byar's method "
          "from 10 events), as Public Health England's Fingertips does; both are worked out from the published "
          "numbers." + (" A figure withheld to protect privacy has no interval (c)." if ctx.public else "")
          + " Counts are what was recorded and have none, nor has a total's 100% (z, not applicable). England's "
          "figures are DfE's, shown without an interval.")
    b.add("**Targets.** Green means at least 95% of the target was achieved, Amber at least 90%, Red less. A "
          "figure can be Green and still miss its target: the status then says by how much it was missed.")
    b.add("**Control charts.** Month-by-month charts of monthly flows and of percentages follow NHS England's "
          "*Making Data Count*. The dashed lines show the range expected from ordinary month-to-month variation. A "
          "point outside the dashed lines, a run of seven points on one side of the average, a run of seven rising or "
          "falling, or two of three points in a row close to the same dashed line with all three on that side of the "
          "average is an unusual pattern worth asking about; anything "
          "else is ordinary variation, however much it seems to swing. Figures counted at each month end (plans "
          "open, plans reviewed on time) are largely the same cases from one month to the next, so they are shown "
          "as a run chart with the median and no such rules. A percentage at 0% or 100% in most months has too few "
          "exceptions to chart, and the text says so. A control chart is about months: the year's figure is judged "
          "against last year's, not against the monthly range.")
    b.add("**Seasonal patterns.** A month is called usually the busiest only when a test allowing for the trend "
          "(a count model and a likelihood ratio test over at least three full years) finds a seasonal pattern and "
          "that month was the busiest in most of the years.")
    b.add("**Yearly charts with intervals.** A national indicator that is a percentage is charted year by year, "
          "each figure with its 95% confidence interval (Wilson score) as a vertical bar: the range in which the "
          "underlying figure is likely to lie. Overlapping bars do not by themselves mean no change: the test in "
          "the text, and in the chart's title, compares the two latest years directly.")
    b.add("**Funnel plots.** Each dot is a council. Smaller councils are expected to vary more, so the limits "
          "widen to the left. A council outside the 99.8% limits differs from England by more than chance "
          "would explain.")
    table = getattr(ctx, "table", None)
    if callable(table) and table("survey") is not None:
        b.add("**Survey answers.** The voice of children and families compares each child's answer at the end of "
              "the work with the same child's answer at the start (a paired comparison), counting only children "
              "with a yes or no both times. Whether a change is likely to be chance is judged by the exact "
              "McNemar test, which looks only at the children whose answer changed; its 95% interval is "
              "Newcombe's (1998) for paired answers. A change does not show that the work caused it."
              + (f" Where a group of answers would be a count {ctx.policy.threshold_text}, or could be worked out "
                 "from the figures shown, the figures are withheld (*x*)." if ctx.public else ""))
    if ctx.public:
        b.add("**Small numbers.** To protect the privacy of the people counted (children and their families; in "
              f"allegations, also the adults concerned), counts {ctx.policy.threshold_text} are shown as *c*, and a "
              "further figure "
              "is hidden where the hidden one could be worked out from a total. Percentages and "
              "rates built on a hidden count are hidden too. *:* means not available; *z* not applicable; *0* is a "
              "true zero.")
        b.parts.extend(publication_notes(ctx).parts)
    return b


_LEVEL_WORDS = {"month breakdown": "by month, by group", "month headline": "by month",
                "quarter breakdown": "by quarter, by group", "quarter headline": "by quarter",
                "year breakdown": "by year, by group"}


def _indicator_name(ctx: ReportContext, code: str) -> str:
    """The catalogue's name of an indicator, or its code when the catalogue does not know it."""
    try:
        return str(ctx.info(code).name)
    except (KeyError, AttributeError):
        return code


def publication_notes(ctx: ReportContext) -> Block:
    """What the public table leaves out so that the year's headline figures can be published, and any exception.

    From the build's publication summary
    (:func:`safeguarding.published_data.publication_summary`): the detail
    withheld (*x*), level by level, and each annual headline figure hidden
    all the same, with its reason. Names come from the catalogue.
    """
    b = Block()
    summary = ctx.publication()
    if not summary:
        return b
    policy = ctx.policy
    years = max(policy.protect_years, 1)
    span = "the reporting year" if years == 1 else "the reporting year and the year before" if years == 2 \
        else f"the last {years} years"
    b.add(f"**What comes first.** Every annual figure for the whole area for {span} is published unless it rests "
          f"on a count {policy.threshold_text}. Where protecting a small count in the monthly, quarterly or "
          "group figures would have cost one of those annual figures, the detail is withheld instead, shown as "
          "*x*.")
    detail = summary.get("detail_withheld") or []
    if detail:
        rows = []
        for d in detail:
            name = _indicator_name(ctx, d["indicator_id"])
            group = "" if d["breakdown"] == "all" else str(d["breakdown"]).replace("_", " ")
            rows.append({"Figure": name, "Group": group, "Withheld": _LEVEL_WORDS.get(d["level"], d["level"])})
        b.add(md_table(pd.DataFrame(rows), caption="Detail withheld so that the year's figures can be published",
                       label="detail-withheld", align=["l", "l", "l"], widths=[6, 3, 3]))
    exceptions = summary.get("exceptions") or []
    if exceptions:
        b.text("Annual figures withheld all the same, because the annual figures on their own would otherwise "
               "reveal a small count:")
        items = []
        for e in exceptions:
            items.append(f"{_indicator_name(ctx, e['indicator_id'])}, year to {e['period_end']}: {e['reason']}")
        b.bullets(items)
    else:
        b.text(f"No annual figure of {span} above the threshold is withheld.")
    return b


#: the source tables as the definitions table names them (the table names are code: 'icpc', 'cp_plans')
SOURCE_LABELS: dict[str, str] = {
    "referrals": "referrals", "s47": "section 47 enquiries", "icpc": "ICPCs", "cp_plans": "child protection plans",
    "cp_reviews": "plan reviews", "allegations": "allegations (LADO)", "private_fostering": "private fostering",
    "children": "children", "aggregates": "partners' returns", "survey": "children's survey",
}


def definitions(ctx: ReportContext) -> Block:
    """Every indicator's definition from the catalogue."""
    b = Block()
    b.heading("Definitions")
    rows = []
    for code in ctx.catalogue.codes:
        info = ctx.catalogue[code]
        rows.append({"Code": code, "Indicator": info.name, "Definition": info.definition,
                     "Polarity": POLARITY.get(str(info.polarity), str(info.polarity)),
                     "Source": _source(info)})
    b.add(md_table(pd.DataFrame(rows), caption="Indicator definitions", label="definitions",
                   align=["l", "l", "l", "l", "l"], widths=[5, 4, 8, 3, 3]))
    return b


def _source(info: object) -> str:
    """The definitions table's source: the tables in words; a partner's return names its owner ('Police')."""
    labels = []
    for t in getattr(info, "source", ()) or ():
        label = SOURCE_LABELS.get(t, t)
        if t == "aggregates":
            label = f"{label} ({getattr(info, 'owner', '') or 'partner'})"
        labels.append(label)
    return ", ".join(labels)


def _n(value: object) -> int:
    """A count given either as a number or as a list of items."""
    if isinstance(value, list | tuple | dict):
        return len(value)
    number = value or 0
    if not isinstance(number, str | bytes | bytearray | SupportsInt | SupportsIndex):
        return 0  # what int() refuses (TypeError)
    try:
        return int(number)
    except (TypeError, ValueError):
        return 0
