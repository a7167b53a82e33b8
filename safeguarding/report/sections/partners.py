"""Partners' aggregate returns in the chapter each measure's catalogue entry names (``chapter:``).

A chapter notebook calls :func:`returns` with its own chapter name; each partner's
measure placed there gets this year's count against last year's (or a sentence
that this is the first year of the return), a control chart of its monthly counts
and, with three years or more, its trend: the findings of
:func:`safeguarding.report.text.partner_findings`. The figures are counts of events as
the partner returns them, not of children; they are formatted through the
disclosure-controlled table like every other figure (``ctx.fmt_value``).
"""

from __future__ import annotations

from safeguarding.indicators.catalogue import CHAPTERS
from safeguarding.report import figures, text
from safeguarding.report.context import ReportContext
from safeguarding.report.findings import lower_first
from safeguarding.report.markdown import Block
from safeguarding.stats.verdicts import _join

HEADING = "From partners' returns"


def returns(ctx: ReportContext, chapter: str) -> Block:
    """The partners' measures whose catalogue entry names ``chapter``: sentences and a chart each.

    An empty block when the catalogue places no partner's measure in the chapter. A
    measure no return holds is named in one sentence rather than left out silently.
    """
    if chapter not in CHAPTERS:
        raise ValueError(f"unknown chapter {chapter!r}; valid: {', '.join(CHAPTERS)}")
    codes = text.partner_codes(ctx, chapter)
    b = Block()
    if not codes:
        return b
    shown = [c for c in codes if text.has_figures(ctx, c)]
    missing = [c for c in codes if c not in shown]
    b.heading(HEADING)
    owners = _join(sorted({str(ctx.catalogue[c].owner) for c in shown or codes}))
    b.text(f"The figures below count events, not children, as the partner returned them ({owners}, monthly "
           "aggregate return); the partnership does not validate them. Their definitions are in the appendix.")
    for code in shown:
        info = ctx.catalogue[code]
        b.heading(str(info.name), 3)
        b.text(text.partner_count(ctx, code))
        months = text.partner_months(ctx, code)
        if months:
            b.add(figures.xmr(ctx, code, label=f"partner-{code.lower()}", months=months,
                              source=f"Source: {info.owner}, monthly aggregate return (as returned, not "
                                     "validated by the partnership)."))
        trend = text.partner_trend(ctx, code)
        if trend is not None:
            b.text(trend.sentence)
    if missing:
        names = _join([lower_first(str(ctx.catalogue[c].name)) for c in missing])
        b.text(f"No return holding {names} was supplied for {ctx.config.year_label}.")
    return b
