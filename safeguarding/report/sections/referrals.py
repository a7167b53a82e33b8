"""Referrals chapter: monthly referrals, seasonality and trend, re-referrals, sources and teams."""

from __future__ import annotations

import pandas as pd

from safeguarding.report import figures, text
from safeguarding.report.context import ReportContext
from safeguarding.report.markdown import Block, md_table
from safeguarding.report.tables import breakdown_counts, publish_breakdown, yearly_table_md


def monthly(ctx: ReportContext) -> Block:
    """Referrals each month over several years, with the expected variation, seasonality and trend."""
    b = Block()
    b.heading("Referrals received")
    b.text(text.count_with_change(ctx, "REFERRALS", "referrals to children's social care in the year"))
    b.text(text.rate_with_benchmarks(ctx, "REFERRAL_RATE"))
    b.add(figures.xmr(ctx, "REFERRALS", label="spc-referrals", months=36))
    b.text(text.seasonality(ctx, "REFERRALS"))
    b.text(text.trend(ctx, "REFERRALS"))
    b.add(yearly_table_md(ctx, ["REFERRALS", "REFERRAL_RATE", "REREFERRALS_12M"], {
        "REFERRALS": "Referrals", "REFERRAL_RATE": "Rate per 10,000",
        "REREFERRALS_12M": "Re-referrals within 12 months"},
        caption="Referrals by year", label="ref-years"))
    return b


def rereferrals(ctx: ReportContext) -> Block:
    """Re-referrals within 12 months, and children by number of referrals in the last 12 months."""
    b = Block()
    b.heading("Repeat referrals", 3)
    b.text(text.percentage_verdict(ctx, "REREFERRALS_12M"))
    b.add(figures.p_chart(ctx, "REREFERRALS_12M", label="spc-rereferrals"))
    funnel = figures.funnel(ctx, "REREFERRALS_12M", label="funnel-rereferrals")
    if funnel:
        b.add(funnel)
    raw = repeat_children(ctx)
    if raw is not None and not raw.empty:
        table = publish_breakdown(ctx, raw, label_title=f"Referrals in {ctx.config.year_label}",
                                  count_title="Children")
        # the data files hold two splits by number of referrals: say which one this table is
        b.add(md_table(table, caption=f"Children referred in {ctx.config.year_label}, each counted once, by how "
                                      "many times they were referred in the year (data files: REFERRALS_CHILDREN "
                                      "by referrals_in_period; REFERRALS by referrals_in_12m counts referrals, "
                                      "not children)",
                       label="ref-repeat-children"))
    return b


def repeat_children(ctx: ReportContext) -> pd.DataFrame | None:
    """Children referred in the reporting year by their number of referrals in the year: 1, 2, 3+.

    Read from the indicator table (``REFERRALS_CHILDREN`` by ``referrals_in_period``), so that for the
    public each cell is as the protected table publishes it. None when the table has no such rows.
    """
    raw = breakdown_counts(ctx, "REFERRALS_CHILDREN", "referrals_in_period", order=["1", "2", "3+"],
                           labels={"1": "1 referral", "2": "2 referrals", "3+": "3 or more referrals"})
    return None if raw.empty else raw


def by_source_and_team(ctx: ReportContext) -> Block:
    """Referrals in the year by source and by team."""
    b = Block()
    b.heading("Where referrals come from", 3)
    for breakdown, title in (("referral_source", "Source of referral"), ("team", "Team")):
        raw = breakdown_counts(ctx, "REFERRALS", breakdown)
        if raw.empty:
            b.add(f"Referrals by {title.lower()}: not available in this year's data.")
            continue
        b.add(md_table(publish_breakdown(ctx, raw, label_title=title, sort=True),
                       caption=f"Referrals in {ctx.config.year_label} by {title.lower()}",
                       label=f"ref-{breakdown}"))
        if breakdown == "referral_source":
            chart_title = text.largest_share_title(raw, "of referrals", public=ctx.public)
            b.add(figures.category_bar(ctx, raw, title=chart_title,
                                       label="ref-source", what="referrals in the year"))
    return b
