"""Summary chapter: key messages, scorecard (RAG) and the OBA report card."""

from __future__ import annotations

import pandas as pd

from safeguarding.markers import NOT_AVAILABLE, WITHHELD
from safeguarding.report import text
from safeguarding.report.context import ReportContext, fy_label
from safeguarding.report.findings import lower_first
from safeguarding.report.markdown import Block, md_table
from safeguarding.report.tables import ci_header
from safeguarding.stats import verdicts

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
    messages = text.key_messages(ctx, _essential(ctx), optional=text.partner_codes(ctx),
                                 priorities=text.board_priority_codes(ctx))
    if not messages:
        b.add("There is not enough data for the reporting year to draw key messages.")
    b.bullets(messages)
    return b


def _quadrant_codes(ctx: ReportContext, quadrant: str) -> list[str]:
    return [c for c in _essential(ctx) if ctx.catalogue[c].oba == quadrant]


def _lead_findings(ctx: ReportContext, codes: list[str], priorities: frozenset[str], printed: set[str],
                   limit: int = 2) -> list[str]:
    """The findings' sentences of the ``limit`` highest-ranked indicators of ``codes`` that rank at all (a
    significant change, a missed target or a board priority), most important first, each indicator's sentences
    together (its year on year, then its target status). Sentences in ``printed`` (the key messages', or an
    earlier question's) are not repeated, and the ones returned are added to it."""
    from safeguarding.report.findings import rank_score

    ranked = []
    for order, code in enumerate(codes):
        found = text.key_message_findings(ctx, code)
        score = max((rank_score(f, priorities) for f in found), default=0.0)
        if score > 0:
            ranked.append((-score, order, [f.sentence for f in found]))
    ranked.sort(key=lambda r: (r[0], r[1]))
    out: list[str] = []
    for _, _, sentences in ranked:
        new = [s for s in sentences if s not in printed]
        if not new:
            continue
        out.append(" ".join(new))
        printed.update(new)
        if len(out) == limit:
            break
    return out


def _volumes(ctx: ReportContext, codes: list[str]) -> str:
    """One sentence of the year's volumes: the published counts of ``codes`` (a withheld one is named as such)."""
    parts, withheld = [], []
    for code in codes:
        if ctx.unit(code) != "count":
            continue
        cur = ctx.row(code, "year")
        shown = ctx.fmt_value(cur)
        if shown == NOT_AVAILABLE:
            continue
        if shown == WITHHELD:
            withheld.append(lower_first(ctx.catalogue[code].name))
            continue
        parts.append(f"{shown} {text.COUNT_PHRASES.get(code, ctx.catalogue[code].name.lower())}")
    if not parts and not withheld:
        return ""
    said = f"In {ctx.config.year_label}, " + "; ".join(parts) + "." if parts else ""
    if withheld:
        said += f" The figure for {' and '.join(withheld)} is withheld to protect privacy."
    return said.strip()


def _target_statuses(ctx: ReportContext, codes: list[str]) -> dict[str, list[str]]:
    """The reporting year's target statuses of those of ``codes`` with a target: status -> names (in order)."""
    counts: dict[str, list[str]] = {"Green": [], "Amber": [], "Red": [], "withheld": []}
    for code in codes:
        cur = ctx.row(code, "year")
        if cur is None or cur.get("target") is None or pd.isna(cur.get("target")):
            continue
        rag = "withheld" if ctx.fmt_value(cur) in (WITHHELD, NOT_AVAILABLE) else str(cur.get("rag", ""))
        if rag in counts:
            counts[rag].append(ctx.catalogue[code].name)
    return counts


def _status_words(counts: dict[str, list[str]]) -> str:
    """``1 Amber and 2 Red, and 1 withheld`` (empty when there is no status)."""
    bits = [f"{len(counts[k])} {k}" for k in ("Green", "Amber", "Red") if counts[k]]
    said = verdicts._join(bits)
    if counts["withheld"]:
        said += f"{', and ' if said else ''}{len(counts['withheld'])} withheld"
    return said


def _statuses(ctx: ReportContext, codes: list[str], others: list[str] | None = None) -> str:
    """One sentence counting the target statuses of ``codes`` (the scorecard's, without verdict words).

    ``others``: the quadrant's measures not on the scorecard; those with a target are counted after it,
    with their statuses, so that the sentence does not read as every measure with a target.
    """
    counts = _target_statuses(ctx, codes)
    total = sum(len(v) for v in counts.values())
    rest = _target_statuses(ctx, others or [])
    more = sum(len(v) for v in rest.values())
    if not total and not more:
        return ""
    said = ""
    if total:
        said = (f"Of the {total} measure{'s' if total != 1 else ''} of how well the work was done on the scorecard "
                f"that have a target, {_status_words(counts) or 'none has a status to show'}.")
        if counts["Red"]:
            names = [lower_first(n) for n in counts["Red"]]
            said += f" Red: {verdicts._join(names)}."
    if more:
        said += (f" {more} more measure{'s' if more != 1 else ''} of how well the work was done, not on the "
                 f"scorecard, {'have' if more != 1 else 'has'} a target: "
                 f"{verdicts._join([lower_first(n) for v in rest.values() for n in v])} ({_status_words(rest)}).")
    return said.strip()


def four_questions(ctx: ReportContext) -> Block:
    """The year in the four questions of Outcomes Based Accountability, each answered from the findings.

    How much did we do (the year's volumes, and the most important change among
    them), how well did we do it (the target statuses, and the most important
    finding), is anyone better off (the findings on outcomes, and the children's
    survey) and what will we do next (the board's priorities, their actions'
    progress, and the findings on the indicators each priority names). Every
    sentence that states a change is a findings.csv (or survey.csv) row's.
    """
    from safeguarding.report.sections.editorial import lateness, progress
    from safeguarding.report.sections.voice import survey_sentences

    priorities = text.board_priority_codes(ctx)
    # what the key messages above already say is not said again
    printed = {f.sentence for _, found in text.key_messages_with_findings(
        ctx, _essential(ctx), optional=text.partner_codes(ctx), priorities=priorities) for f in found}
    b = Block()
    b.heading("The year in four questions")
    b.add("Outcomes Based Accountability asks four questions of a partnership's work. Each answer below draws on "
          "the findings set out in the chapters that follow.")
    b.heading("How much did we do?", 3)
    codes = _quadrant_codes(ctx, "how_much")
    b.text(_volumes(ctx, codes))
    for sentence in _lead_findings(ctx, codes, priorities, printed, limit=1):
        b.text(sentence)
    b.heading("How well did we do it?", 3)
    codes = _quadrant_codes(ctx, "how_well")
    b.text(_statuses(ctx, codes, [c for c in ctx.catalogue.codes
                                  if ctx.catalogue[c].oba == "how_well" and c not in codes]))
    for sentence in _lead_findings(ctx, codes, priorities, printed):
        b.text(sentence)
    b.heading("Is anyone better off?", 3)
    codes = _quadrant_codes(ctx, "better_off")
    said = _lead_findings(ctx, codes, priorities, printed)
    for sentence in said:
        b.text(sentence)
    voices = survey_sentences(ctx)
    if voices:
        b.text("In the children's survey (section 'Voice of children and families'):")
        b.bullets(voices)
    if not said and not voices:
        b.text("No measure of whether children are better off changed by more than chance this year, and there "
               "was no children's survey to report.")
    editorial = getattr(ctx, "editorial", None)
    plans = getattr(editorial, "priorities", ()) or ()
    if plans:
        b.heading("What will we do next?", 3)
        b.text(f"The board's {len(plans)} priorit{'ies' if len(plans) != 1 else 'y'} and how far their actions "
               "have got (the partnership chapter lists every action with its owner and due date):")
        items = []
        said_here: set[str] = set()
        for p in plans:
            line = (f"{p.title}: {len(p.actions)} action{'s' if len(p.actions) != 1 else ''} "
                    f"({progress(p.actions)}{lateness(p.actions, ctx.year_end.date())}).")
            named = [c for c in p.indicators if c in ctx.catalogue]
            if named:
                line += " Measured by " + verdicts._join([lower_first(ctx.catalogue[c].name)
                                                              for c in named]) + "."
            # each measure's year on year in its priority's item (a reader of a sentence after the list took it
            # for the last priority's), unless the key messages, an answer above or an earlier priority gave it
            for c in named:
                for f in text.key_message_findings(ctx, c)[:1]:
                    if f.sentence not in printed and f.sentence not in said_here:
                        said_here.add(f.sentence)
                        line += " " + f.sentence
            items.append(line)
        b.bullets(items)
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
        shown = ctx.fmt_value(cur) if cur is not None else NOT_AVAILABLE
        if shown in {WITHHELD, NOT_AVAILABLE}:  # no status for a figure the reader cannot see (or that does not exist)
            has_target = target is not None and pd.notna(target)
            rag = "N/A" if not has_target else ("withheld" if shown == WITHHELD else "no figure")
        this, last = fy_label(ctx.year), fy_label(ctx.year - 1)
        # this year first, as in the report cards: a reader reading across takes the same column for the same
        # year in every summary table, and on a phone the year the review is about is the one in view
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
            # this year first, as in the scorecard (the two tables had the years in opposite orders)
            rows.append({"Measure": ctx.catalogue[code].name,
                         this: ctx.fmt_value(cur), ci_header(this): ctx.fmt_interval(cur),
                         last: ctx.fmt_value(prev), ci_header(last): ctx.fmt_interval(prev),
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
