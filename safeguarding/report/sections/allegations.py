"""Allegations chapter (LADO): referrals by sector and category, timeliness, outcomes, open cases."""

from __future__ import annotations

import pandas as pd

from safeguarding.report import figures, text
from safeguarding.report.context import ReportContext
from safeguarding.report.markdown import Block, md_table
from safeguarding.report.tables import breakdown_counts, publish_breakdown
from safeguarding.schema import LADO_ACTION, LADO_CATEGORY, LADO_OUTCOME, LADO_SECTOR


def overview(ctx: ReportContext) -> Block:
    """Allegations referred to the LADO by sector and category, and open cases."""
    b = Block()
    b.heading("Allegations referred to the designated officer")
    b.text(text.count_with_change(ctx, "LADO_REFERRALS", "allegations were referred to the LADO in the year"))
    for breakdown, title, labels in (("sector", "Employer sector", LADO_SECTOR),
                                     ("category", "Category of allegation", LADO_CATEGORY)):
        raw = breakdown_counts(ctx, "LADO_REFERRALS", breakdown, order=list(labels), labels=labels)
        if raw.empty:
            continue
        b.add(md_table(publish_breakdown(ctx, raw, label_title=title, sort=True),
                       caption=f"Allegations referred in {ctx.config.year_label} by {title.lower()}",
                       label=f"lado-{breakdown}"))
        if breakdown == "sector":
            chart_title = text.largest_share_title(raw, "of allegations", public=ctx.public)
            b.add(figures.category_bar(ctx, raw, title=chart_title,
                                       label="lado-sector", what="allegations referred in the year"))
    b.add(figures.sector_over_time(ctx, "LADO_REFERRALS", "sector", labels=LADO_SECTOR, noun="allegations",
                                   y_label="Allegations referred", label="lado-sector-period"))
    b.add(figures.monthly_line(ctx, "LADO_OPEN", title="Allegations open at each month end",
                               label="lado-open", what="allegations open"))
    return b


def timeliness(ctx: ReportContext) -> Block:
    """Time from referral to conclusion against the long-standing expectations."""
    b = Block()
    b.heading("How quickly allegations are concluded", 3)
    for code in ("LADO_CONCLUDED_1M", "LADO_CONCLUDED_3M", "LADO_CONCLUDED_12M"):
        if code in ctx.catalogue:
            b.text(text.percentage_verdict(ctx, code, benchmark=False))
    raw = breakdown_counts(ctx, "LADO_CONCLUDED", "time_to_conclusion")
    if not raw.empty:
        b.add(md_table(publish_breakdown(ctx, raw, label_title="Time from referral to conclusion",
                                         count_title="Allegations concluded"),
                       caption=f"Allegations concluded in {ctx.config.year_label} by time taken",
                       label="lado-time"))
    return b


def outcomes_and_actions(ctx: ReportContext) -> Block:
    """Outcomes of concluded allegations and the actions taken."""
    b = Block()
    b.heading("Outcomes and actions", 3)
    raw = breakdown_counts(ctx, "LADO_CONCLUDED", "outcome", order=list(LADO_OUTCOME), labels=LADO_OUTCOME)
    if not raw.empty:
        b.add(md_table(publish_breakdown(ctx, raw, label_title="Outcome", count_title="Allegations concluded"),
                       caption=f"Outcomes of allegations concluded in {ctx.config.year_label}",
                       label="lado-outcome"))
    raw = actions_taken(ctx)
    if raw is not None and not raw.empty:
        b.add("A case can lead to several actions or to none, so the actions do not add up to the number of cases.")
        b.add(md_table(publish_breakdown(ctx, raw, label_title="Action", count_title="Cases",
                                         with_percent=False, sort=True,
                                         total_label="Cases with at least one action"),
                       caption=f"Actions taken on allegations concluded in {ctx.config.year_label} "
                               "(data files: LADO_ACTIONS by action)",
                       label="lado-actions"))
    return b


def actions_taken(ctx: ReportContext) -> pd.DataFrame | None:
    """Allegations concluded in the year by action taken (a case may have several, or none).

    Read from the indicator table (``LADO_ACTIONS`` by ``action``, in the code list's order: the table
    sorts by published figures), so that for the public each cell is as the protected table publishes it.
    The total is the allegations with at least one action. Actions with a published count of 0 are left
    out; None when the table has no such rows.
    """
    raw = breakdown_counts(ctx, "LADO_ACTIONS", "action", order=list(LADO_ACTION.values()))
    if raw.empty:
        return None
    shown_zero = raw["count"].eq(0) & ~raw["hidden"]  # a 0 the reader can see anyway
    out = raw[~shown_zero].reset_index(drop=True)
    out.attrs.update(raw.attrs)
    return out
