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

import calendar
import csv
import dataclasses
import datetime as dt
import json
import re
import subprocess
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from safeguarding import escape

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.config import Config

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
#: web and e-mail addresses only: a link elsewhere keeps its words and loses the link
_SAFE_LINK = re.compile(r"^(https?://|mailto:)", re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_RAW_LOOKING = re.compile(r"<[A-Za-z/!]|\{\{<|\{=[A-Za-z]")
#: a count of 1 to 5 children in authored text ("three children", "2 young people")
_SMALL_CHILDREN = re.compile(
    r"\b([1-5]|one|two|three|four|five)\s+(?:[a-z-]+\s+)?(child|children|young (?:people|persons?)|bab(?:y|ies)|"
    r"infants?|pupils?|girls?|boys?)\b(?!\s+(?:protection|in need|sexual|criminal|exploitation|death|safeguarding))",
    re.I)
#: pandoc's Markdown with everything but plain writing switched off
PANDOC_READER = "markdown" + "".join(f"-{ext}" for ext in (
    "raw_html", "raw_tex", "raw_attribute", "tex_math_dollars", "tex_math_single_backslash",
    "tex_math_double_backslash", "citations", "fenced_divs", "bracketed_spans", "native_divs", "native_spans",
    "link_attributes", "inline_code_attributes", "fenced_code_attributes", "header_attributes",
    "implicit_figures", "yaml_metadata_block", "pipe_tables", "simple_tables", "multiline_tables", "grid_tables",
    "table_captions", "markdown_in_html_blocks", "latex_macros", "pandoc_title_block", "mmd_title_block",
    "auto_identifiers", "implicit_header_references", "example_lists", "inline_notes", "footnotes", "smart"))


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
    blocks: tuple[Any, ...]

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


# --------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------

def editorial_folder(cfg: Config) -> Path | None:
    """The editorial folder ``report.yml`` names (``editorial:``), or None when it names none."""
    value = cfg.raw.get("editorial")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return cfg.resolve(str(value))


def load_editorial(cfg: Config) -> Editorial:
    """Read and check every editorial file of ``cfg`` once; raise :class:`EditorialError` listing every problem.

    Without an ``editorial:`` key the report has no editorial content (one
    warning says so); a configured folder that does not exist is an error.
    """
    folder = editorial_folder(cfg)
    if folder is None:
        return Editorial(folder=None, warnings=(
            "editorial: report.yml names no editorial folder (editorial: editorial), so the chair's foreword, "
            "the board's priorities and the partnership chapter are left out; `pipeline.py init` writes one",))
    return load_editorial_folder(folder)


def load_editorial_folder(folder: Path) -> Editorial:
    """Read and check the editorial files in ``folder`` (see :func:`load_editorial`)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise EditorialError([f"{folder}: the editorial folder named in report.yml (editorial:) is not there; "
                              "create it (`pipeline.py init` writes one with an example of each file) or remove "
                              "the line"])
    r = _Reader(folder)
    parts: dict[str, Any] = {
        "foreword": r.authored("foreword"),
        "priorities": r.priorities(),
        "partners": r.partners(),
        "audits": r.audits(),
        "training": r.table("training"),
        "attendance": r.table("attendance"),
        "governance": r.authored("governance"),
        "budget": r.table("budget"),
    }
    if r.problems:
        raise EditorialError(r.problems)
    ed = Editorial(folder=folder, **{k: v for k, v in parts.items() if v is not None})
    missing = [f"editorial: no {TITLES[p]} ({folder.name}/{FILES[p]}{'/*.md' if p == 'partners' else ''} "
               f"{'is absent' if not r.seen.get(p) else 'has nothing but comments or a header row'}), so it is left out"
               for p in ed.missing]
    if not ed.has_partnership_chapter:
        missing.append("editorial: no part of the partnership chapter is present, so the chapter is left out")
    return dataclasses.replace(ed, warnings=tuple([*missing, *r.warnings]))


class _Reader:
    """Reads the parts of one folder, collecting problems and warnings."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.seen: dict[str, bool] = {}

    def where(self, path: Path) -> str:
        try:
            return f"{self.folder.name}/{path.relative_to(self.folder).as_posix()}"
        except ValueError:  # pragma: no cover
            return str(path)

    # ---------------------------------------------------------- Markdown
    def authored(self, part: str) -> AuthoredText | None:
        path = self.folder / FILES[part]
        if not path.is_file():
            return None
        self.seen[part] = True
        return self.markdown_file(path)

    def markdown_file(self, path: Path) -> AuthoredText | None:
        text = self.read_text(path)
        if text is None:
            return None
        try:
            parsed = parse_markdown(text)
        except ValueError as exc:
            self.problems.append(f"{self.where(path)}, {exc}")
            return None
        if not parsed:
            return None
        where = self.where(path)
        lines = list(enumerate(strip_comments(text).splitlines(), start=1))
        if _has_image(parsed):
            found = [f"line {n}" for n, line in lines if "![" in line] or ["an image"]
            self.problems.append(f"{where}, {', '.join(found)}: an image cannot be published from this file; "
                                 "remove it and describe what it shows in words")
        for n, line in lines:
            if _RAW_LOOKING.search(line):
                self.warnings.append(f"editorial: {where}, line {n}: HTML, raw blocks and Quarto shortcodes are "
                                     "published as the characters written, not run; remove them if that was not "
                                     "meant")
        out = AuthoredText(source=path, blocks=tuple(parsed))
        self.small_counts(where, out.plain)
        return out

    def read_text(self, path: Path) -> str | None:
        try:
            return path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            self.problems.append(f"{self.where(path)}: is not UTF-8 text; save it as UTF-8 (in Excel or Word: "
                                 "'CSV UTF-8' or 'Plain text, Unicode (UTF-8)')")
        except OSError as exc:
            self.problems.append(f"{self.where(path)}: cannot be read: {exc.strerror or exc}")
        return None

    def small_counts(self, where: str, text: str) -> None:
        for m in _SMALL_CHILDREN.finditer(text):
            self.warnings.append(f"editorial: {where} mentions {m.group(0)!r}: write findings without counts of 1 "
                                 "to 5 children (e.g. 'a small number of children'), so no child can be identified")

    def partners(self) -> tuple[PartnerContribution, ...] | None:
        folder = self.folder / FILES["partners"]
        if not folder.is_dir():
            return None
        files = sorted(p for p in folder.glob("*.md") if not p.name.startswith((".", "_")) and p.name != "README.md")
        self.seen["partners"] = bool(files)
        out = []
        for path in files:
            text = self.markdown_file(path)
            if text is None:
                continue
            first = text.blocks[0]
            if first.get("t") != "Header" or first["c"][0] != 1:
                self.problems.append(f"{self.where(path)}: the first line must be the agency's name as a heading, "
                                     "e.g. '# Northwold Police'")
                continue
            agency = _stringify(first).strip()
            out.append(PartnerContribution(agency=agency, text=AuthoredText(path, text.blocks[1:])))
        return tuple(out)

    # ---------------------------------------------------------- YAML
    def yaml_list(self, part: str, item: str) -> list[Any] | None:
        path = self.folder / FILES[part]
        if not path.is_file():
            return None
        self.seen[part] = True
        text = self.read_text(path)
        if text is None:
            return None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f", line {mark.line + 1}" if mark is not None else ""
            self.problems.append(f"{self.where(path)}{line}: not valid YAML ({getattr(exc, 'problem', exc)}); "
                                 "check the indentation and put text holding ': ' or '#' in quotes")
            return None
        if data is None:
            return None
        if not isinstance(data, list):
            self.problems.append(f"{self.where(path)}: must be a list, one entry per {item}, each starting with "
                                 f"'- {item}:' (see the example in the README), not {_describe(data)}")
            return None
        return data

    def mapping(self, value: Any, where: str, keys: tuple[str, ...], required: tuple[str, ...]) -> dict | None:
        if not isinstance(value, dict):
            self.problems.append(f"{where}: must be a mapping with the keys {', '.join(keys)}, not {_describe(value)}")
            return None
        for k in value:
            if k not in keys:
                self.problems.append(f"{where}.{k}: unknown key; the keys are {', '.join(keys)}")
        for k in required:
            if value.get(k) is None or (isinstance(value.get(k), str) and not value[k].strip()):
                self.problems.append(f"{where}.{k}: is missing; give {k} (the keys are {', '.join(keys)})")
        return value

    def text(self, value: Any, where: str) -> str:
        if isinstance(value, (dict, list)):
            self.problems.append(f"{where}: must be text, not {_describe(value)}; put it in quotes on one line")
            return ""
        return escape.plain(value, breakable=False).strip() if value is not None else ""

    def status(self, value: Any, where: str, allowed: Mapping[str, str]) -> str:
        key = re.sub(r"[\s_-]+", " ", str(value).strip().lower()) if isinstance(value, str) else None
        if key is not None and key in allowed:
            return key
        self.problems.append(f"{where}: {_describe(value)} is not a status; the statuses are "
                             f"{', '.join(allowed)}")
        return next(iter(allowed))

    def codes(self, value: Any, where: str) -> tuple[str, ...]:
        """Indicator codes: one code or a list of them (checked against the catalogue by the build)."""
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        out = []
        for v in items:
            code = str(v).strip().upper() if isinstance(v, str) else ""
            if not _CODE.fullmatch(code):
                self.problems.append(f"{where}: {_describe(v)} is not an indicator code; give the catalogue's codes "
                                     "as a list, e.g. [CPP_SUBSEQUENT, ICPC_15WD] (docs/catalogue.md lists them)")
                continue
            out.append(code)
        return tuple(dict.fromkeys(out))

    def due(self, value: Any, where: str) -> Due:
        parsed = parse_due(value)
        if parsed is None:
            self.problems.append(f"{where}: {_describe(value)} is not a date; {DATE_FIX}")
            return Due(dt.date(1900, 1, 1))
        return parsed

    def priorities(self) -> tuple[Priority, ...] | None:
        data = self.yaml_list("priorities", "priority")
        if data is None:
            return None
        file = self.where(self.folder / FILES["priorities"])
        out = []
        for i, raw in enumerate(data, start=1):
            where = f"{file}, priority {i}"
            item = self.mapping(raw, where, PRIORITY_KEYS, ("priority", "actions"))
            if item is None:
                continue
            actions_raw = item.get("actions")
            if actions_raw is not None and (not isinstance(actions_raw, list) or not actions_raw):
                self.problems.append(f"{where}.actions: must be a list of one or more actions, each starting with "
                                     "'- action:'")
                actions_raw = []
            actions = []
            for j, araw in enumerate(actions_raw or [], start=1):
                awhere = f"{where}, action {j}"
                a = self.mapping(araw, awhere, ACTION_KEYS, ACTION_KEYS)
                if a is None:
                    continue
                actions.append(Action(action=self.text(a.get("action"), f"{awhere}.action"),
                                      owner=self.text(a.get("owner"), f"{awhere}.owner"),
                                      due=self.due(a.get("due"), f"{awhere}.due"),
                                      status=self.status(a.get("status"), f"{awhere}.status", ACTION_STATUSES)))
            out.append(Priority(title=self.text(item.get("priority"), f"{where}.priority"),
                                description=self.text(item.get("description"), f"{where}.description") or None,
                                actions=tuple(actions),
                                indicators=self.codes(item.get("indicators"), f"{where}.indicators")))
        return tuple(out)

    def audits(self) -> tuple[Audit, ...] | None:
        data = self.yaml_list("audits", "audit")
        if data is None:
            return None
        file = self.where(self.folder / FILES["audits"])
        out = []
        for i, raw in enumerate(data, start=1):
            where = f"{file}, audit {i}"
            item = self.mapping(raw, where, AUDIT_KEYS, AUDIT_KEYS)
            if item is None:
                continue
            agencies = item.get("agencies")
            names = agencies if isinstance(agencies, list) else [agencies]
            audit = Audit(audit=self.text(item.get("audit"), f"{where}.audit"),
                          agencies=tuple(self.text(a, f"{where}.agencies") for a in names if a is not None),
                          date=self.due(item.get("date"), f"{where}.date"),
                          findings=self.text(item.get("findings"), f"{where}.findings"),
                          actions=self.text(item.get("actions"), f"{where}.actions"),
                          status=self.status(item.get("status"), f"{where}.status", AUDIT_STATUSES))
            self.small_counts(where, f"{audit.audit} {audit.findings} {audit.actions}")
            out.append(audit)
        return tuple(out)

    # ---------------------------------------------------------- CSV
    def table(self, part: str) -> tuple[Any, ...] | None:
        path = self.folder / FILES[part]
        if not path.is_file():
            return None
        self.seen[part] = True
        text = self.read_text(path)
        if text is None:
            return None
        file = self.where(path)
        rows = [(n, row) for n, row in enumerate(csv.reader(text.splitlines()), start=1)
                if row and any(c.strip() for c in row) and not row[0].lstrip().startswith("#")]
        if not rows:
            return None
        columns = CSV_COLUMNS[part]
        header = [re.sub(r"[\s-]+", "_", c.strip().lower()) for c in rows[0][1]]
        if header != list(columns):
            self.problems.append(f"{file}, line {rows[0][0]}: the header row must be {','.join(columns)} "
                                 f"(in that order), not {','.join(c.strip() for c in rows[0][1])}")
            return None
        out: list[TrainingRow | AttendanceRow | BudgetRow] = []
        for n, row in rows[1:]:
            where = f"{file}, line {n}"
            if len(row) != len(columns):
                self.problems.append(f"{where}: has {len(row)} values, not {len(columns)} ({','.join(columns)}); "
                                     "put a name holding a comma in double quotes")
                continue
            agency = self.text(row[0], f"{where}, agency")
            if not agency:
                self.problems.append(f"{where}, agency: is blank; give the agency's name")
            if part == "training":
                nums = [self.whole(v, f"{where}, {c}", blank_ok=True)
                        for c, v in zip(columns[1:], row[1:], strict=True)]
                out.append(TrainingRow(agency, *nums))
            elif part == "attendance":
                attended = self.whole(row[1], f"{where}, attended") or 0
                held = self.whole(row[2], f"{where}, held") or 0
                if held < 1:
                    self.problems.append(f"{where}, held: must be 1 or more (the meetings the agency was expected at)")
                elif attended > held:
                    self.problems.append(f"{where}: attended {attended} is more than held {held}; attended counts "
                                         "the meetings held that the agency came to")
                out.append(AttendanceRow(agency, attended, max(held, 1)))
            else:
                out.append(BudgetRow(agency, self.money(row[1], f"{where}, contribution")))
        return tuple(out) if out else None

    def whole(self, value: str, where: str, *, blank_ok: bool = False) -> int | None:
        v = value.strip().replace(",", "")
        if not v and blank_ok:
            return None
        if re.fullmatch(r"\d+", v):
            return int(v)
        self.problems.append(f"{where}: {value.strip()!r} is not a whole number; write a count such as 12"
                             + (" (or leave it blank when not recorded)" if blank_ok else ""))
        return None

    def money(self, value: str, where: str) -> float:
        v = value.strip().replace(",", "").replace("£", "").strip()
        if re.fullmatch(r"\d+(\.\d{1,2})?", v):
            return float(v)
        self.problems.append(f"{where}: {value.strip()!r} is not an amount in pounds; write it as 12500 or "
                             "£12,500.00")
        return 0.0


def parse_due(value: Any) -> Due | None:
    """A date (``2025-09-30``, a YAML date) or a month (``2025-09``) as a :class:`Due`; None if it is neither."""
    if isinstance(value, dt.datetime):
        return Due(value.date())
    if isinstance(value, dt.date):
        return Due(value)
    if isinstance(value, str):
        v = value.strip()
        try:
            return Due(dt.date.fromisoformat(v))
        except ValueError:
            pass
        m = re.fullmatch(r"(\d{4})-(\d{2})", v)
        if m and 1 <= int(m.group(2)) <= 12:
            year, month = int(m.group(1)), int(m.group(2))
            return Due(dt.date(year, month, calendar.monthrange(year, month)[1]), month_only=True)
    return None


def _describe(value: Any) -> str:
    from safeguarding.config_schema import describe

    return describe(value)


# --------------------------------------------------------------------------
# authored Markdown
# --------------------------------------------------------------------------

def strip_comments(text: str) -> str:
    """``text`` without ``<!-- comments -->`` (authors' notes, never published); line numbers kept."""
    return _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def parse_markdown(text: str) -> list[dict[str, Any]]:
    """The blocks of pandoc's parse of ``text`` (comments removed; raw HTML, maths, shortcodes left as text).

    Raises ValueError ("line N: ...") for a comment that is never closed.
    """
    clean = strip_comments(text)
    if "<!--" in clean:
        line = clean[:clean.index("<!--")].count("\n") + 1
        raise ValueError(f"line {line}: a comment opened with <!-- is never closed; end it with -->")
    clean = clean.translate({c: None for c in range(0x20) if chr(c) not in "\t\n\r"})
    if not clean.strip():
        return []
    from safeguarding.publish.builtin import pandoc_path

    proc = subprocess.run([pandoc_path(), "--from", PANDOC_READER, "--to", "json"], input=clean,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:  # pragma: no cover - pandoc reads any text as Markdown
        raise ValueError(f"pandoc could not read the text: {proc.stderr.strip()[:200]}")
    return list(json.loads(proc.stdout)["blocks"])


def _has_image(node: Any) -> bool:
    if isinstance(node, dict):
        return node.get("t") == "Image" or _has_image(node.get("c"))
    if isinstance(node, list):
        return any(_has_image(n) for n in node)
    return False


def _content(node: dict[str, Any]) -> Any:
    """A pandoc JSON node's contents (``c``): a list, a string or a nested list, by node type."""
    return node.get("c")


def _stringify(node: Any) -> str:
    """The words of a node, as a reader would read them."""
    if isinstance(node, list):
        return "".join(_stringify(n) for n in node)
    if not isinstance(node, dict):
        return ""
    t, c = node.get("t"), _content(node)
    if t == "Str":
        return str(c)
    if t in {"Space", "SoftBreak", "LineBreak"}:
        return " "
    if t in {"Code", "Math", "RawInline"}:
        return str(c[1])
    if t in {"CodeBlock", "RawBlock"}:
        return str(c[1]) + " "
    if t == "Header":
        return _stringify(c[2]) + " "
    if t in {"Link", "Image"}:
        return _stringify(c[1])
    if t == "Quoted":
        return _stringify(c[1])
    if t in {"Para", "Plain"}:
        return _stringify(c) + " "
    return _stringify(c)


def _indent(text: str, first: str, rest: str) -> str:
    lines = text.split("\n")
    return "\n".join([first + lines[0], *((rest + ln) if ln else ln for ln in lines[1:])])


def render_blocks(blocks: list[Any], top: int) -> str:
    """Blocks as Markdown whose every word is escaped; headings start at level ``top`` (at most 6)."""
    headings = [b["c"][0] for b in _walk_blocks(blocks) if b.get("t") == "Header"]
    shift = top - min(headings) if headings else 0
    return "\n\n".join(s for s in (_block(b, shift) for b in blocks) if s.strip())


def _walk_blocks(blocks: list[Any]) -> Iterable[dict[str, Any]]:
    for b in blocks:
        if not isinstance(b, dict):
            continue
        yield b
        t, c = b.get("t"), _content(b)
        if t == "BlockQuote":
            yield from _walk_blocks(c)
        elif t == "BulletList":
            for item in c:
                yield from _walk_blocks(item)
        elif t == "OrderedList":
            for item in c[1]:
                yield from _walk_blocks(item)


def _block(b: dict[str, Any], shift: int) -> str:
    t, c = b.get("t"), _content(b)
    if t in {"Para", "Plain"}:
        return _inlines(c)
    if t == "Header":
        level = max(1, min(6, c[0] + shift))
        return "#" * level + " " + _inlines(c[2]).replace("\n", " ") + " {.unnumbered}"
    if t == "BulletList":
        return "\n".join(_indent(_blocks(item, shift), "- ", "  ") for item in c)
    if t == "OrderedList":
        start = c[0][0]
        return "\n".join(_indent(_blocks(item, shift), f"{start + i}. ", "   ") for i, item in enumerate(c[1]))
    if t == "BlockQuote":
        return _indent(_blocks(c, shift), "> ", "> ")
    if t == "HorizontalRule":
        return "* * *"
    if t == "LineBlock":
        return "\\\n".join(_inlines(line) for line in c)
    if t in {"CodeBlock", "RawBlock"}:
        return "\\\n".join(escape.markdown(line) for line in str(c[1]).split("\n"))
    return escape.markdown(_stringify(b)).strip()  # anything else: its words, as text


def _blocks(blocks: list[Any], shift: int) -> str:
    return "\n\n".join(_block(b, shift) for b in blocks)


def _inlines(items: list[Any]) -> str:
    return "".join(_inline(i) for i in items)


def _inline(i: dict[str, Any]) -> str:
    t, c = i.get("t"), _content(i)
    if t == "Str":
        return escape.markdown(c)
    if t == "Space":
        return " "
    if t == "SoftBreak":
        return "\n"
    if t == "LineBreak":
        return "\\\n"
    if t == "Emph":
        return f"*{_inlines(c)}*"
    if t == "Strong":
        return f"**{_inlines(c)}**"
    if t == "Strikeout":
        return f"~~{_inlines(c)}~~"
    if t == "Quoted":
        inner = _inlines(c[1])
        return f"‘{inner}’" if c[0].get("t") == "SingleQuote" else f"“{inner}”"
    if t == "Link":
        words = _inlines(c[1])
        url = str(c[2][0]).strip()
        if not _SAFE_LINK.match(url):
            return words
        safe = urllib.parse.quote(url, safe=":/?#@!$&'*+,;=%~-._")
        return f"[{words}]({safe})"
    if t in {"Span", "Cite"}:
        return _inlines(c[1])
    if t in {"Underline", "SmallCaps", "Superscript", "Subscript"}:
        return _inlines(c)
    if t in {"Code", "Math", "RawInline"}:
        return escape.markdown(c[1])
    if t == "Note":
        return " (" + escape.markdown(_stringify(c)).strip() + ")"
    return escape.markdown(_stringify(i))  # an image never gets here: load_editorial refuses it


# --------------------------------------------------------------------------
# examples (`pipeline.py init`)
# --------------------------------------------------------------------------

#: What each file is for, written as a comment above its example by ``pipeline.py init``.
INSTRUCTIONS: dict[str, str] = {
    "foreword.md": "The chair's foreword, in Markdown: paragraphs, *emphasis*, **bold**, lists and links. It opens "
                   "the summary chapter under 'Foreword by the chair'. Headings (## ...) become sub-headings; HTML "
                   "is shown as written; images are refused. Comments like this one are never published.",
    "priorities.yml": "The board's priorities. One entry per priority, each with its actions; every action has an "
                      "owner, a due date (YYYY-MM-DD, or YYYY-MM for a month) and a status: complete, on track, at "
                      "risk, off track or not started. 'indicators' (optional) lists the catalogue's indicators "
                      "that show whether the priority is working: the summary reports them under the priority and "
                      "their findings lead the key messages. Remove the '# ' before each line of the example to "
                      "start.",
    "partners/example-agency.md": "One file per agency in this folder (any name ending .md; files are published "
                                  "in the order of their names, so 01-police.md comes first). The first line is "
                                  "the agency's name as a heading; the rest is Markdown, as in foreword.md.",
    "audits.yml": "Learning from case reviews and multi-agency audits: one entry per review or audit. status: "
                  "planned, in progress or complete. Write findings without counts of 1 to 5 children (say 'a "
                  "small number of children'), so no child can be identified.",
    "training.csv": "Training delivered in the year, one row per agency: courses, sessions, people trained "
                    "(whole numbers; leave a cell blank when it was not recorded). Lines starting with # are not "
                    "read. Keep the header row; add one row per agency below it.",
    "attendance.csv": "Board meetings each agency attended of the meetings it was expected at (whole numbers, "
                      "attended no more than held). Lines starting with # are not read. Keep the header row.",
    "governance.md": "How the partnership is governed, in Markdown (as foreword.md): the partners, the independent "
                     "scrutineer, the subgroups. It opens the chapter's 'Governance and budget' section.",
    "budget.csv": "Contributions to the partnership's budget, one row per agency, in pounds (12500 or "
                  "\"£12,500\": put an amount with a comma in double quotes). Keep the header row.",
}

#: An example of each file (fictional), as ``pipeline.py init`` writes it, commented out.
EXAMPLES: dict[str, str] = {
    "foreword.md": (
        "*Example text: replace it with the chair's own words.*\n\n"
        "I am pleased to introduce this year's annual review of the partnership. It sets out what partners "
        "have done together to keep children safe, and what we have learned.\n\n"
        "**Independent Chair**, Safeguarding Children Partnership\n"),
    "priorities.yml": (
        "- priority: Neglect\n"
        "  description: Children living with neglect are noticed sooner and helped earlier.\n"
        "  indicators: [CPP_SUBSEQUENT, REREFERRALS_12M]\n"
        "  actions:\n"
        "    - action: Launch the multi-agency neglect toolkit\n"
        "      owner: Neglect subgroup chair\n"
        "      due: 2025-09-30\n"
        "      status: on track\n"
        "    - action: Audit the use of the toolkit\n"
        "      owner: Quality assurance subgroup\n"
        "      due: 2026-03\n"
        "      status: not started\n"),
    "partners/example-agency.md": (
        "# Example Police Force\n\n"
        "What the agency did for children's safeguarding this year, and what it will do next.\n\n"
        "## What we will do next\n\n"
        "- Share the learning from our review with every team.\n"),
    "audits.yml": (
        "- audit: Multi-agency audit of neglect\n"
        "  agencies: [Children's social care, Health, Police]\n"
        "  date: 2025-01\n"
        "  findings: Chronologies were not always shared between agencies.\n"
        "  actions: A shared chronology template was agreed.\n"
        "  status: complete\n"),
    "training.csv": "Partnership business unit,12,48,960\nPolice,4,10,180\n",
    "attendance.csv": "Council (children's services),4,4\nPolice,3,4\n",
    "governance.md": (
        "The partnership is led by the three statutory safeguarding partners: the council, the integrated "
        "care board and the police.\n\n"
        "## Subgroups\n\n"
        "- Quality assurance\n- Learning from reviews\n- Training\n"),
    "budget.csv": "Council,\"£120,000\"\nIntegrated care board,80000\nPolice,40000\n",
}


def example_files(*, commented: bool = True) -> dict[str, str]:
    """The editorial folder ``pipeline.py init`` writes: ``{relative path: text}``.

    ``commented`` (the default) writes each example as a comment under its
    instructions, so a new area publishes nothing until a person writes it;
    ``commented=False`` gives the examples themselves (they load without error).
    """
    out: dict[str, str] = {"README.md": (
        "# Editorial content: the board's own words\n\n"
        "Each file here is optional and published in this order: foreword.md (front of the summary), then "
        "in the partnership chapter priorities.yml, partners/*.md, audits.yml, training.csv, attendance.csv, "
        "governance.md and budget.csv. A file that is absent, or holds only comments, is left out with a "
        "warning; a file with a mistake stops the build with the file, the line or key, and the fix. "
        "The pipeline's README (section 'Editorial content') explains every file. This README is not "
        "published.\n")}
    for name, example in EXAMPLES.items():
        note = INSTRUCTIONS[name]
        if name.endswith(".md"):
            out[name] = example if not commented else f"<!--\n{note}\n\nExample:\n\n{example}-->\n"
        elif name.endswith(".yml"):
            lines = [f"# {line}" if line else "#" for line in _wrap(note)]
            rows = example.splitlines()
            out[name] = "\n".join([*lines, *((f"# {r}" for r in rows) if commented else rows)]) + "\n"
        else:
            lines = [f"# {line}" for line in _wrap(note)]
            header = ",".join(CSV_COLUMNS[name.removesuffix(".csv")])
            rows = example.splitlines()
            out[name] = "\n".join([*lines, header, *((f"# {r}" for r in rows) if commented else rows)]) + "\n"
    return out


def _wrap(text: str, width: int = 98) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width)


__all__ = [
    "ACTION_STATUSES", "AUDIT_STATUSES", "EXAMPLES", "FILES", "INSTRUCTIONS", "PARTNERSHIP_PARTS", "PARTS",
    "TITLES", "Action", "AttendanceRow", "Audit", "AuthoredText", "BudgetRow", "Due", "Editorial",
    "EditorialError", "PartnerContribution", "Priority", "TrainingRow", "editorial_folder", "example_files",
    "load_editorial", "load_editorial_folder", "parse_due", "parse_markdown", "render_blocks", "strip_comments",
]
