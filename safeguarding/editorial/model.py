"""The editorial parts: their files, statuses and the records a loaded part becomes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from safeguarding.editorial.markdown import PandocBlock, _stringify, render_blocks

#: The parts, in the order the report gives them.
PARTS: tuple[str, ...] = ("foreword", "priorities", "partners", "audits", "training", "attendance",
                          "governance", "budget")
#: The file (or folder) of each part inside the editorial folder.
FILES: dict[str, str] = {
    "foreword": "foreword.md", "priorities": "priorities.yml", "partners": "partners",
    "audits": "audits.yml", "training": "training.csv", "attendance": "attendance.csv",
    "governance": "governance.md", "budget": "budget.csv",
}
#: How each part is named in warnings and the README.
TITLES: dict[str, str] = {
    "foreword": "the chair's foreword", "priorities": "the board's priorities",
    "partners": "partner contributions", "audits": "learning from case reviews and audits",
    "training": "training delivered", "attendance": "board attendance", "governance": "governance",
    "budget": "budget contributions",
}
#: The parts published in the partnership chapter (the foreword opens the summary instead).
PARTNERSHIP_PARTS: tuple[str, ...] = PARTS[1:]

#: Status of a priority's action: the word written in ``priorities.yml`` -> symbol and word shown.
ACTION_STATUSES: dict[str, str] = {
    "complete": "✓\u00a0Complete",  # a no-break space keeps the symbol with its word in a narrow column
    "on track": "●\u00a0On track",
    "at risk": "◐\u00a0At risk",
    "off track": "○\u00a0Off track",
    "not started": "–\u00a0Not started",
}
#: Status of an audit or case review in ``audits.yml``.
AUDIT_STATUSES: dict[str, str] = {
    "complete": "✓\u00a0Complete",
    "in progress": "◐\u00a0In progress",
    "planned": "–\u00a0Planned",
}
PRIORITY_KEYS = ("priority", "description", "indicators", "actions")
ACTION_KEYS = ("action", "owner", "due", "status")
AUDIT_KEYS = ("audit", "agencies", "date", "findings", "actions", "status")
#: CSV tables: columns of each (the first is the agency), and what each number means
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "training": ("agency", "courses", "sessions", "people_trained"),
    "attendance": ("agency", "attended", "held"),
    "budget": ("agency", "contribution"),
}
_CODE = re.compile(r"[A-Z][A-Z0-9_]*")
DATE_FIX = "write the date as YYYY-MM-DD (e.g. 2025-09-30), or YYYY-MM for a month (e.g. 2025-09)"
_RAW_LOOKING = re.compile(r"<[A-Za-z/!]|\{\{<|\{=[A-Za-z]")
#: a count of 1 to 5 children in authored text ("three children", "2 young people")
_SMALL_CHILDREN = re.compile(
    r"\b([1-5]|one|two|three|four|five)\s+(?:[a-z-]+\s+)?(child|children|young (?:people|persons?)|bab(?:y|ies)|"
    r"infants?|pupils?|girls?|boys?)\b(?!\s+(?:protection|in need|sexual|criminal|exploitation|death|safeguarding))",
    re.I)


class EditorialError(ValueError):
    """One or more editorial files are wrong; ``problems`` lists each (file, where, what, fix)."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        n = len(self.problems)
        head = (f"{n} problem{'s' if n != 1 else ''} in the editorial files; correct "
                f"{'them' if n != 1 else 'it'} and run again (see the README, Editorial content):")
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))


# --------------------------------------------------------------------------
# the parts
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Due:
    """A due date: a day, or a month (``month_only``: ``date`` is the month's last day, due by its end)."""

    date: dt.date
    month_only: bool = False

    @property
    def label(self) -> str:
        """As the report writes it: ``30 September 2025`` or ``September 2025``."""
        return self.date.strftime("%B %Y") if self.month_only else f"{self.date.day} {self.date.strftime('%B %Y')}"

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class AuthoredText:
    """Markdown a person wrote, parsed and checked; :meth:`markdown` writes it for the report."""

    source: Path
    blocks: tuple[PandocBlock, ...]

    def markdown(self, level: int = 2) -> str:
        """The text as safe Markdown inside a section of heading ``level``: its headings start at ``level + 1``."""
        return render_blocks(list(self.blocks), level + 1)

    @property
    def plain(self) -> str:
        """The words only (for searching and checks)."""
        return " ".join(_stringify(b) for b in self.blocks)


@dataclass(frozen=True)
class Action:
    """One action of a priority."""

    action: str
    owner: str
    due: Due
    status: str  # a key of ACTION_STATUSES

    @property
    def status_label(self) -> str:
        """Symbol and word, so it reads the same in black and white (``◐ At risk``)."""
        return ACTION_STATUSES[self.status]

    def late(self, year_end: dt.date) -> bool:
        """Due by the year end and not complete: not done in time, whatever its status word ('at risk')."""
        return self.status != "complete" and self.due.date <= year_end


@dataclass(frozen=True)
class Priority:
    """One of the board's priorities with its actions."""

    title: str
    description: str | None
    actions: tuple[Action, ...]
    #: the catalogue's indicators that show whether the priority is working ("how we will know"); their
    #: findings come first in the key messages (:func:`safeguarding.report.findings.rank_score`)
    indicators: tuple[str, ...] = ()


@dataclass(frozen=True)
class PartnerContribution:
    """One agency's contribution (``partners/<file>.md``, first line ``# Agency name``)."""

    agency: str
    text: AuthoredText


@dataclass(frozen=True)
class Audit:
    """One case review or multi-agency audit of the programme."""

    audit: str
    agencies: tuple[str, ...]
    date: Due
    findings: str
    actions: str
    status: str  # a key of AUDIT_STATUSES

    @property
    def status_label(self) -> str:
        """Symbol and word (``◐ In progress``)."""
        return AUDIT_STATUSES[self.status]


@dataclass(frozen=True)
class TrainingRow:
    """Training an agency delivered in the year (``None``: not recorded)."""

    agency: str
    courses: int | None
    sessions: int | None
    people_trained: int | None


@dataclass(frozen=True)
class AttendanceRow:
    """Board meetings an agency attended, of those it was expected at."""

    agency: str
    attended: int
    held: int

    @property
    def share(self) -> float:
        """Attended as a share of held (0 to 1)."""
        return self.attended / self.held


@dataclass(frozen=True)
class BudgetRow:
    """An agency's contribution to the partnership's budget, in pounds."""

    agency: str
    contribution: float


@dataclass(frozen=True)
class Editorial:
    """Every editorial part of one report; an absent part is ``None`` or empty."""

    folder: Path | None
    foreword: AuthoredText | None = None
    priorities: tuple[Priority, ...] = ()
    partners: tuple[PartnerContribution, ...] = ()
    audits: tuple[Audit, ...] = ()
    training: tuple[TrainingRow, ...] = ()
    attendance: tuple[AttendanceRow, ...] = ()
    governance: AuthoredText | None = None
    budget: tuple[BudgetRow, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def present(self, part: str) -> bool:
        """True when ``part`` (one of :data:`PARTS`) has content to publish."""
        return bool(getattr(self, part))

    @property
    def missing(self) -> tuple[str, ...]:
        """The parts that will be left out, in report order."""
        return tuple(p for p in PARTS if not self.present(p))

    @property
    def has_partnership_chapter(self) -> bool:
        """True when at least one part of the partnership chapter is present (else the chapter is left out)."""
        return any(self.present(p) for p in PARTNERSHIP_PARTS)

    @property
    def actions(self) -> list[tuple[Priority, Action]]:
        """Every action of every priority, with its priority, in the file's order."""
        return [(p, a) for p in self.priorities for a in p.actions]

    def next_actions(self, after: dt.date | None = None) -> list[tuple[Priority, Action]]:
        """Actions not yet complete, earliest due first (optionally only those due after ``after``).

        For "what will we do next": the open actions of the board's priorities.
        """
        out = [(p, a) for p, a in self.actions if a.status != "complete" and (after is None or a.due.date > after)]
        return sorted(out, key=lambda pa: pa[1].due.date)
