"""What each build records about itself beside its outputs (``review.json``), and the names of the site's files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TypedDict

from safeguarding.atomic import write_atomic
from safeguarding.config import Config

REVIEW_JSON = "review.json"
HTML_NAME = "annual-review.html"
PDF_NAME = "annual-review.pdf"
INDEX_NAME = "index.html"
STATEMENT_NAME = "accessibility.html"
SITEMAP_NAME = "sitemap.xml"


#: what a data file holds, by name, in the order the index lists them (others follow, by their name)
DATA_FILE_NAMES: dict[str, str] = {
    "indicators.csv": "Indicators (CSV)",
    "indicators.xlsx": "Indicators (Excel workbook)",
    "findings.csv": "The numbers behind each statement of the review (CSV)",
    "survey.csv": "Survey of children and families (CSV)",
    "README.txt": "What each data file holds (text)",
}


def _iso(value: object) -> str | None:
    """A ``report.yml`` date (a date, or text YYYY-MM-DD) as ISO text, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()[:10]).isoformat()
    except ValueError:
        return None


class ReviewFile(TypedDict):
    """One file of a build's outputs in ``review.json``."""

    path: str
    bytes: int
    sha256: str


class ReviewRecord(TypedDict):
    """What ``review.json`` holds (:func:`review_record`)."""

    area: str
    area_slug: str
    year: int
    year_label: str
    audience: str
    status: str | None
    approved_on: str | None
    version: str | None
    published_on: str | None
    files: list[ReviewFile]


def review_record(cfg: Config, folder: Path) -> ReviewRecord:
    """What a build records about itself in ``review.json``: area, year, standing, and every file in ``folder``.

    The standing (``status``, ``approved_on``, ``version``, ``published_on``) is ``report.yml``'s
    ``report:`` block as the build read it; ``files`` lists each file's path (relative to
    ``folder``, ``/``-separated), size in bytes and SHA-256, hidden files and the record itself left out.
    """
    from safeguarding.hashing import file_sha256

    report = cfg.report
    files: list[ReviewFile] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel == REVIEW_JSON or any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        files.append({"path": rel, "bytes": path.stat().st_size, "sha256": file_sha256(path)})
    return {
        "area": cfg.area_name,
        "area_slug": cfg.area_slug,
        "year": cfg.year,
        "year_label": cfg.year_label,
        "audience": cfg.audience,
        "status": report.status,
        "approved_on": _iso(report.approved_on),
        "version": report.version,
        "published_on": _iso(report.published_on),
        "files": files,
    }


def write_review_record(cfg: Config, folder: Path) -> Path:
    """Write :func:`review_record` to ``folder/review.json`` atomically; return its path."""
    text = json.dumps(review_record(cfg, folder), indent=2, ensure_ascii=False) + "\n"
    return write_atomic(folder / REVIEW_JSON, lambda tmp: tmp.write_text(text, encoding="utf-8"))
