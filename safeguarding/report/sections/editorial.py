"""The board's own words (:mod:`safeguarding.editorial`): the foreword and the partnership chapter.

Each function returns an empty :class:`Block` when its part is absent, so a
missing file leaves no heading and no placeholder (the build warns instead).
Values from the YAML and CSV files are plain text in every table and sentence;
the Markdown files are published through :meth:`AuthoredText.markdown`, which
escapes every word and moves headings below the section they sit in.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

import pandas as pd

from safeguarding.editorial import ACTION_STATUSES, AUDIT_STATUSES, Action, Editorial
from safeguarding.report.context import ReportContext
from safeguarding.report.markdown import Block, md_table

NOT_RECORDED = "Not recorded"


def _ed(ctx: ReportContext) -> Editorial:
    return ctx.editorial


def _word(status_label: str) -> str:
    """The word of a status label (``◐ At risk`` -> ``at risk``) for a sentence."""
    return status_label.split("\u00a0", 1)[1].lower()


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def progress(actions: Iterable[Action]) -> str:
    """How far a set of actions has got, in the statuses' order: '1 complete, 2 on track, 1 at risk'."""
    counts = Counter(a.status for a in actions)
    return ", ".join(f"{counts[s]:,} {_word(ACTION_STATUSES[s])}" for s in ACTION_STATUSES if counts[s])


def lateness(actions: Iterable[Action], year_end: dt.date) -> str:
    """'; 2 actions due by the year end were not complete by their due date' (:meth:`Action.late`), or ''."""
    n = sum(a.late(year_end) for a in actions)
    if not n:
        return ""
    return (f"; {_count(n, 'action', 'actions')} due by the year end {'was' if n == 1 else 'were'} not complete by "
            f"{'its' if n == 1 else 'their'} due date")


def foreword(ctx: ReportContext) -> Block:
    """The chair's foreword (``foreword.md``), opening the summary chapter."""
    b = Block()
    text = _ed(ctx).foreword
    if text is None:
        return b
    b.heading("Foreword by the chair")
    b.add(text.markdown(2))
    return b


def chapter_intro(ctx: ReportContext) -> Block:
    """One sentence naming what the partnership chapter holds (only the parts present)."""
    ed = _ed(ctx)
    names = {"priorities": "the board's priorities and how far each action has got",
             "partners": "what each agency contributed",
             "audits": "what case reviews and multi-agency audits taught",
             "training": "the training partners delivered",
             "attendance": "attendance at the board",
             "governance": "how the partnership is governed",
             "budget": "its budget"}
    present = [v for k, v in names.items() if ed.present(k)]
    b = Block()
    if not present:
        return b
    listed = present[0] if len(present) == 1 else ", ".join(present[:-1]) + " and " + present[-1]
    b.text(f"This chapter is written by the partnership itself rather than from the case records: {listed}.")
    return b


def priorities(ctx: ReportContext) -> Block:
    """The board's priorities: one row per action with owner, due date and status (symbol and word)."""
    ed = _ed(ctx)
    b = Block()
    if not ed.priorities:
        return b
    b.heading("The board's priorities")
    acts = ed.actions
    said = progress(a for _p, a in acts)
    end = ctx.year_end.date()
    b.text(f"The board set {_count(len(ed.priorities), 'priority', 'priorities')} for the year, with "
           f"{_count(len(acts), 'action', 'actions')}: {said}{lateness([a for _p, a in acts], end)}. The symbol "
           "and the word carry each action's status, so the table reads the same in black and white.")
    described = [f"{p.title}: {p.description}" for p in ed.priorities if p.description]
    b.bullets(described)
    rows = [{"Priority": p.title, "Action": a.action, "Owner": a.owner, "Due": a.due.label,
             "Status": a.status_label + (", not complete by its due date" if a.late(end) else "")}
            for p, a in acts]
    if rows:
        b.add(md_table(pd.DataFrame(rows), caption="The board's priorities: actions, owners, due dates and progress",
                       label="partnership-priorities", align=["l"] * 5, widths=[4, 7, 4, 4, 3]))
    return b


def partner_contributions(ctx: ReportContext) -> Block:
    """One section per agency, in the order of the files' names (``partners/*.md``)."""
    ed = _ed(ctx)
    b = Block()
    if not ed.partners:
        return b
    b.heading("Partner contributions")
    b.text("Each agency wrote its own account of its safeguarding work in the year.")
    for contribution in ed.partners:
        b.heading(contribution.agency, 3)
        b.add(contribution.text.markdown(3))
    return b


def learning(ctx: ReportContext) -> Block:
    """Learning from case reviews and multi-agency audits: the audit programme table."""
    ed = _ed(ctx)
    b = Block()
    if not ed.audits:
        return b
    b.heading("Learning from case reviews and audits")
    counts = Counter(a.status for a in ed.audits)
    said = ", ".join(f"{counts[s]:,} {_word(AUDIT_STATUSES[s])}" for s in AUDIT_STATUSES
                     if counts[s])
    # "has", not "held": a planned review (or one in progress) has not been held
    listed = _count(len(ed.audits), "case review or audit", "case reviews and audits")
    b.text(f"The partnership's programme has {listed} ({said}). Each row gives what was found and what the "
           "partners are doing about it.")
    # the public review dates each by its month: a day beside what a case review found (a rapid review after a
    # serious incident, 'a young person missing from school') helps to identify the child; the board pack keeps it
    rows = [{"Review or audit": a.audit, "Agencies": ", ".join(a.agencies),
             "Date": a.date.date.strftime("%B %Y") if ctx.public else a.date.label,
             "Findings": a.findings, "Actions": a.actions, "Status": a.status_label} for a in ed.audits]
    b.add(md_table(pd.DataFrame(rows), caption="Case reviews and multi-agency audits: findings, actions and status",
                   label="partnership-audits", align=["l"] * 6, widths=[4, 4, 4, 6, 6, 3]))
    return b


def _n(value: int | None) -> str:
    return NOT_RECORDED if value is None else f"{value:,}"


def _total(values: list[int | None]) -> int | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def training(ctx: ReportContext) -> Block:
    """Training delivered by agency: courses, sessions and people trained, with the total."""
    ed = _ed(ctx)
    b = Block()
    if not ed.training:
        return b
    b.heading("Training")
    people = _total([r.people_trained for r in ed.training])
    sessions = _total([r.sessions for r in ed.training])
    if people is not None and sessions is not None:
        b.text(f"Partners delivered {_count(sessions, 'training session', 'training sessions')} to "
               f"{_count(people, 'person', 'people')} in the year.")
    rows = [{"Agency": r.agency, "Courses": _n(r.courses), "Sessions": _n(r.sessions),
             "People trained": _n(r.people_trained)} for r in ed.training]
    rows.append({"Agency": "Total", "Courses": _n(_total([r.courses for r in ed.training])),
                 "Sessions": _n(sessions), "People trained": _n(people)})
    b.add(md_table(pd.DataFrame(rows), caption=f"Training delivered by agency, {ctx.config.year_label}",
                   label="partnership-training", align=["l", "r", "r", "r"], widths=[6, 2, 2, 3]))
    return b


def attendance(ctx: ReportContext) -> Block:
    """Board attendance by agency: meetings attended of meetings held."""
    ed = _ed(ctx)
    b = Block()
    if not ed.attendance:
        return b
    b.heading("Board attendance")
    full = sum(r.attended == r.held for r in ed.attendance)
    b.text(f"Attendance is the share of the board's meetings each agency was expected at that it attended; "
           f"{full:,} of {_count(len(ed.attendance), 'agency', 'agencies')} attended every meeting.")
    rows = [{"Agency": r.agency, "Meetings attended": f"{r.attended:,} of {r.held:,}",
             "Attendance": f"{r.share:.0%}"} for r in ed.attendance]
    b.add(md_table(pd.DataFrame(rows), caption=f"Board meetings attended by agency, {ctx.config.year_label}",
                   label="partnership-attendance", align=["l", "r", "r"], widths=[6, 3, 2]))
    return b


def _pounds(value: float) -> str:
    return f"£{value:,.0f}" if float(value).is_integer() else f"£{value:,.2f}"


def governance_and_budget(ctx: ReportContext) -> Block:
    """Governance (``governance.md``) and the budget contributions by agency, with the total and shares."""
    ed = _ed(ctx)
    b = Block()
    if ed.governance is None and not ed.budget:
        return b
    title = {(True, True): "Governance and budget", (True, False): "Governance", (False, True): "Budget"}
    b.heading(title[(ed.governance is not None, bool(ed.budget))])
    if ed.governance is not None:
        b.add(ed.governance.markdown(2))
    if ed.budget:
        total = sum(r.contribution for r in ed.budget)
        if ed.governance is not None:
            b.heading("Budget contributions", 3)
        b.text(f"Partners contributed {_pounds(total)} to the partnership's budget for the year.")
        rows = [{"Agency": r.agency, "Contribution": _pounds(r.contribution),
                 "Share of the budget": f"{r.contribution / total:.0%}" if total else "–"} for r in ed.budget]
        rows.append({"Agency": "Total", "Contribution": _pounds(total),
                     "Share of the budget": "100%" if total else "–"})
        b.add(md_table(pd.DataFrame(rows), caption=f"Budget contributions by agency, {ctx.config.year_label}",
                       label="partnership-budget", align=["l", "r", "r"], widths=[6, 3, 3]))
    return b
