"""What is on disk: the published year folders under ``reports/<area>/`` and their records (never a board
report's folder)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safeguarding.periods import financial_year_label
from safeguarding.site.record import DATA_FILE_NAMES, HTML_NAME, PDF_NAME, REVIEW_JSON, _iso

#: a public year's folder: four digits and nothing else (``2025-board`` and ``.2025.staging-...`` never match)
YEAR_FOLDER = re.compile(r"\d{4}")
#: a file path from a record that may be linked: plain names under the year's folder, no ``..``, nothing hidden
_SAFE_RELATIVE = re.compile(r"(?:[A-Za-z0-9_][A-Za-z0-9._-]*/)*[A-Za-z0-9_][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class SiteFile:
    """One file of a year: its path from the area's folder (``2025/data/indicators.csv``) and size."""

    path: str
    bytes: int

    @property
    def name(self) -> str:
        """The file's name."""
        return self.path.rsplit("/", 1)[-1]


@dataclass
class YearEntry:
    """One published year as the index lists it."""

    year: int
    label: str
    status: str | None = None
    approved_on: str | None = None
    version: str | None = None
    published_on: str | None = None
    recorded: bool = False
    files: list[SiteFile] = field(default_factory=list)

    def file(self, name: str) -> SiteFile | None:
        """The year's file ``name`` at the top of its folder (``annual-review.pdf``), or None."""
        return next((f for f in self.files if f.path == f"{self.year}/{name}"), None)

    @property
    def data_files(self) -> list[SiteFile]:
        """The files under the year's ``data/`` folder: those of :data:`DATA_FILE_NAMES` in its order, then others."""
        order = list(DATA_FILE_NAMES)
        data = [f for f in self.files if f.path.startswith(f"{self.year}/data/")]
        return sorted(data, key=lambda f: (order.index(f.name) if f.name in order else len(order), f.name))


def year_label(year: int) -> str:
    """``2024-25`` for the year ending 31 March 2025 (:func:`safeguarding.periods.financial_year_label`)."""
    return financial_year_label(year)


def _read_record(folder: Path) -> dict[str, Any] | None:
    try:
        record = json.loads((folder / REVIEW_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _files_on_disk(folder: Path) -> list[str]:
    """A year's files without a record: the page, the PDF and ``data/``, in that order."""
    names = [n for n in (HTML_NAME, PDF_NAME) if (folder / n).is_file()]
    data = folder / "data"
    if data.is_dir():
        names += [f"data/{p.name}" for p in sorted(data.iterdir()) if p.is_file() and not p.name.startswith(".")]
    return names


#: the board report's marking (``safeguarding.publish.builtin.MARKING``): a page carrying it is never listed
BOARD_MARKING = b"OFFICIAL-SENSITIVE"


def board_report_reason(folder: Path) -> str | None:
    """Why a year's folder holds a board report, or None: the one rule for the index and for publishing.

    A board report is one whose ``review.json`` gives an audience other than ``public``, or whose page
    carries the OFFICIAL-SENSITIVE marking; a page that cannot be read counts as one (never listed,
    never published).
    """
    record = _read_record(folder)
    if record is not None and record.get("audience", "public") != "public":
        return f"{folder / REVIEW_JSON} says audience: {record.get('audience')}"
    page = folder / HTML_NAME
    if page.is_file():
        try:
            if BOARD_MARKING in page.read_bytes():
                return f"{page} carries the OFFICIAL-SENSITIVE marking"
        except OSError:
            return f"{page} cannot be read"
    return None


def scan_years(area_dir: Path, refused: list[str] | None = None) -> list[YearEntry]:
    """Every public year published under ``area_dir``, newest first.

    A year is a folder named with four digits holding ``annual-review.html``. Never listed: a
    ``-board`` folder (or any other name), a symbolic link, a hidden (staging) folder, or a
    year folder holding a board report (its ``review.json`` gives an audience other than
    ``public``, or its page carries the OFFICIAL-SENSITIVE marking): such a folder is named in
    ``refused``. A file is listed only if it exists, inside the year's folder, under a plain name.
    """
    entries: list[YearEntry] = []
    if not area_dir.is_dir():
        return entries
    for folder in area_dir.iterdir():
        if not YEAR_FOLDER.fullmatch(folder.name) or folder.is_symlink() or not folder.is_dir():
            continue
        if not (folder / HTML_NAME).is_file() or (folder / HTML_NAME).is_symlink():
            continue
        year = int(folder.name)
        if board_report_reason(folder) is not None:
            if refused is not None:  # an unsuppressed report put in a public year's folder is never listed
                refused.append(f"{folder} holds a board report (OFFICIAL-SENSITIVE): it is not listed in the "
                               "index and must not be published; move it out of the area's folder")
            continue
        record = _read_record(folder)
        if record is not None and record.get("year") not in (None, year):
            record = None  # a record copied from another year says nothing about this one
        recorded = (record or {}).get("files")
        paths = [str(f.get("path", "")) for f in recorded if isinstance(f, dict)] if isinstance(recorded, list) else []
        if not paths:
            paths = _files_on_disk(folder)
        files = []
        inside = folder.resolve()
        for rel in paths:
            target = folder / rel
            if (_SAFE_RELATIVE.fullmatch(rel) and ".." not in rel.split("/") and target.is_file()
                    and not target.is_symlink() and target.resolve().is_relative_to(inside)):
                files.append(SiteFile(f"{year}/{rel}", target.stat().st_size))
        if not any(f.path == f"{year}/{HTML_NAME}" for f in files):  # the page is always listed first
            files.insert(0, SiteFile(f"{year}/{HTML_NAME}", (folder / HTML_NAME).stat().st_size))
        rec = record or {}
        status = rec.get("status") if rec.get("status") in ("draft", "approved") else None
        version = rec.get("version")
        entries.append(YearEntry(
            year=year, label=year_label(year), status=status, approved_on=_iso(rec.get("approved_on")),
            version=None if version is None else str(version), published_on=_iso(rec.get("published_on")),
            recorded=record is not None, files=files,
        ))
    return sorted(entries, key=lambda e: e.year, reverse=True)
