"""The board's own words: editorial content that analysts and partners write as files.

A partnership's annual review is more than its figures: the chair's foreword,
the board's priorities and how far each action has got, what each agency did,
what case reviews and audits taught, training, attendance, governance and
budget. Each is an optional file in the editorial folder that ``report.yml``
names (``editorial: editorial``, relative to ``report.yml``):

============================  ========================================================  =====================
file                          what                                                      where it is published
============================  ========================================================  =====================
``foreword.md``               the chair's foreword (Markdown)                            front of the summary
``priorities.yml``            priorities, each with actions, owner, due date, status     partnership chapter
``partners/*.md``             one contribution per agency (Markdown, ``# Agency``)       partnership chapter
``audits.yml``                learning from case reviews and multi-agency audits          partnership chapter
``training.csv``              courses, sessions and people trained per agency            partnership chapter
``attendance.csv``            board meetings attended of meetings held, per agency       partnership chapter
``governance.md``             governance (Markdown)                                      partnership chapter
``budget.csv``                budget contributions per agency                            partnership chapter
============================  ========================================================  =====================

:func:`load_editorial` reads and checks every file once, into the typed
dataclasses below; every problem found, in every file, is raised together as
one :class:`EditorialError` naming the file, the row or key and the fix. A
part whose file is absent (or holds only comments) is left out of the report,
with a warning in :attr:`Editorial.warnings` that the build prints and logs.

Everything in the tables is plain text (escaped by
:func:`safeguarding.escape.markdown` where it is shown). The Markdown files are
published as Markdown, but only its writing: paragraphs, emphasis, lists,
quotations, links to web or e-mail addresses and headings (moved below the
section they sit in). Raw HTML, raw blocks, Quarto shortcodes, code and maths
are shown as the characters written; images are refused. The text is parsed
by pandoc with those features switched off and written back by this module
from the parsed document, every word escaped, so the Quarto path (which runs
no filter) publishes exactly what the built-in one does.
"""

from __future__ import annotations

from safeguarding.editorial.examples import EXAMPLES, INSTRUCTIONS, example_files
from safeguarding.editorial.markdown import PANDOC_READER, parse_markdown, render_blocks, strip_comments
from safeguarding.editorial.model import (
    ACTION_KEYS,
    ACTION_STATUSES,
    AUDIT_KEYS,
    AUDIT_STATUSES,
    CSV_COLUMNS,
    DATE_FIX,
    FILES,
    PARTNERSHIP_PARTS,
    PARTS,
    PRIORITY_KEYS,
    TITLES,
    Action,
    AttendanceRow,
    Audit,
    AuthoredText,
    BudgetRow,
    Due,
    Editorial,
    EditorialError,
    PartnerContribution,
    Priority,
    TrainingRow,
)
from safeguarding.editorial.reader import editorial_folder, load_editorial, load_editorial_folder, parse_due

__all__ = [
    "ACTION_KEYS",
    "ACTION_STATUSES",
    "AUDIT_KEYS",
    "AUDIT_STATUSES",
    "CSV_COLUMNS",
    "DATE_FIX",
    "EXAMPLES",
    "FILES",
    "INSTRUCTIONS",
    "PANDOC_READER",
    "PARTNERSHIP_PARTS",
    "PARTS",
    "PRIORITY_KEYS",
    "TITLES",
    "Action",
    "AttendanceRow",
    "Audit",
    "AuthoredText",
    "BudgetRow",
    "Due",
    "Editorial",
    "EditorialError",
    "PartnerContribution",
    "Priority",
    "TrainingRow",
    "editorial_folder",
    "example_files",
    "load_editorial",
    "load_editorial_folder",
    "parse_due",
    "parse_markdown",
    "render_blocks",
    "strip_comments",
]
