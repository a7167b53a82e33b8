"""Summary chapter: key messages, scorecard (RAG) and the OBA report card."""

from __future__ import annotations

import pandas as pd

from safeguarding.report import text
from safeguarding.report.context import ReportContext, fy_label
from safeguarding.report.markdown import Block, md_table
from safeguarding.report.tables import ci_header

QUADRANTS = {
    "how_much": "How much did we do?",
    "how_well": "How well did we do it?",
    "better_off": "Is anyone better off?",
}
RAG_SYMBOL = {"Green": "● Green (on target)", "Amber": "◐ Amber (close)", "Red": "○ Red (off target)",
              "N/A": "– No target", "withheld": "– Not shown (figure withheld)",
              "no figure": "– No figure this year"}


def _essential(ctx: ReportContext) -> list[str]:
    return text.essential_codes(ctx)


def key_messages(ctx: ReportContext) -> Block:
    """The few sentences a board member must read, generated from the numbers."""
    b = Block()
    b.heading("Key messages")
    # partners' measures compete for a place only when their verdict ranks (a significant change)
    messages = text.key_messages(ctx, _essential(ctx), optional=text.partner_codes(ctx))
    if not messages:
        b.add("There is not enough data for the reporting year to draw key messages.")
    b.bullets(messages)
    return b


def scorecard(ctx: ReportContext) -> Block:
    """RAG table of the essential indicators: this year, last year, target, status, England."""
    b = Block()
    b.heading("Scorecard")
    b.add("Status compares this year's figure with its target: Green when at least 95% of the target is "
          "achieved, Amber when at least 90%, Red below that. The symbol and the word carry the status, so "
          "the table reads the same in black and white. Each percentage and rate is followed by its 95% "
          "confidence interval (95% CI), the range in which the underlying figure is likely to lie, allowing for "
          "chance; a count is what was recorded and has none (z, not applicable).")
    rows = []
    prev_end = ctx.year_end - pd.DateOffset(years=1)
    for code in _essential(ctx):
        info = ctx.catalogue[code]
        cur = ctx.row(code, "year")
        prev = ctx.row(code, "year", period_end=prev_end)
        rag = str(cur.get("rag", "N/A")) if cur is not None else "N/A"
        target = cur.get("target") if cur is not None else None
        shown = ctx.fmt_value(cur) if cur is not None else ":"
        if shown in {"c", ":"}:  # no status for a figure the reader cannot see (or that does not exist)
            has_target = target is not None and pd.notna(target)
            rag = "N/A" if not has_target else ("withheld" if shown == "c" else "no figure")
        this, last = fy_label(ctx.year), fy_label(ctx.year - 1)
        rows.append({
            "Indicator": info.name,
            this: ctx.fmt_value(cur),
            ci_header(this): ctx.fmt_interval(cur),
            last: ctx.fmt_value(prev),
            ci_header(last): ctx.fmt_interval(prev),
            "Target": text.format_target(ctx, code, target),
            "Status": RAG_SYMBOL.get(rag, rag),
            "England": text.england_value(ctx, code),
        })
    b.add(md_table(pd.DataFrame(rows), caption=f"Scorecard of essential indicators, {ctx.config.year_label}",
                   label="scorecard", align=["l", "r", "r", "r", "r", "r", "l", "r"],
                   widths=[5, 2, 3, 2, 3, 2, 3, 2]))
    return b


def report_card(ctx: ReportContext) -> Block:
    """Outcomes Based Accountability report card grouped by the catalogue's quadrants."""
    b = Block()
    b.heading("Report card")
    b.add("The report card groups the measures as Outcomes Based Accountability does: how much we did, "
          "how well we did it, and whether anyone is better off.")
    for quadrant, title in QUADRANTS.items():
        codes = [c for c in ctx.catalogue.codes
                 if ctx.catalogue[c].oba == quadrant and ctx.catalogue[c].status == "essential"]
        if not codes:
            continue
        rows = []
        for code in codes:
            cur = ctx.row(code, "year")
            prev = ctx.row(code, "year", period_end=ctx.year_end - pd.DateOffset(years=1))
            last, this = fy_label(ctx.year - 1), fy_label(ctx.year)
            rows.append({"Measure": ctx.catalogue[code].name,
                         last: ctx.fmt_value(prev), ci_header(last): ctx.fmt_interval(prev),
                         this: ctx.fmt_value(cur), ci_header(this): ctx.fmt_interval(cur),
                         "Story behind the figure": text.short_story(ctx, code)})
        b.heading(title, 3)
        b.add(md_table(pd.DataFrame(rows), caption=f"Report card: {title}", label=f"card-{quadrant}",
                       align=["l", "r", "r", "r", "r", "l"], widths=[4, 2, 3, 2, 3, 6]))
    return b


def about_the_data(ctx: ReportContext) -> Block:
    """What the data cannot tell, and how to read the figures."""
    b = Block()
    b.heading("What the data can and cannot tell")
    b.bullets(text.limitations(ctx))
    return b
