"""Loading the editorial folder: every file read and checked, every problem reported with its fix."""

from __future__ import annotations

import calendar
import csv
import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from safeguarding import escape
from safeguarding.editorial.markdown import _has_image, _stringify, parse_markdown, strip_comments
from safeguarding.editorial.model import (
    _CODE,
    _RAW_LOOKING,
    _SMALL_CHILDREN,
    ACTION_KEYS,
    ACTION_STATUSES,
    AUDIT_KEYS,
    AUDIT_STATUSES,
    CSV_COLUMNS,
    DATE_FIX,
    FILES,
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

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.config import Config

# --------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------

def editorial_folder(cfg: Config) -> Path | None:
    """The editorial folder ``report.yml`` names (``editorial:``), or None when it names none."""
    folder = cfg.editorial.folder
    return cfg.resolve(folder) if folder is not None else None


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
            heading = first.get("c") if first.get("t") == "Header" else None  # [level, attributes, words]
            if not isinstance(heading, list) or heading[0] != 1:
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


def parse_due(value: object) -> Due | None:
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
