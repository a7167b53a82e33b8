"""Read ``_quarto.yml``: the one file that drives both publishers.

Quarto reads the file itself; the built-in publisher reads it here, keeps the
settings it understands (title, chapters, ``toc``, ``number-sections``, the
html and typst options) and reports every other key as a warning rather than
ignoring it silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class QuartoConfigError(ValueError):
    """``_quarto.yml`` is missing, unreadable or does not describe a book."""


#: keys the built-in publisher understands, by section ("" = top level)
KNOWN_KEYS: dict[str, set[str]] = {
    "": {"project", "book", "execute", "format", "lang", "title", "subtitle", "author", "date"},
    "project": {"type", "output-dir", "execute-dir"},
    "book": {"title", "subtitle", "author", "date", "chapters", "date-format"},
    "execute": {"enabled", "echo", "freeze"},
    "format.html": {
        "embed-resources", "self-contained", "toc", "toc-depth", "toc-title", "number-sections",
        "number-depth", "css", "lang", "fig-responsive", "anchor-sections", "smooth-scroll",
        "html-math-method",
    },
    "format.typst": {
        "papersize", "margin", "mainfont", "fontsize", "toc", "toc-depth", "toc-title",
        "number-sections", "section-numbering", "lang", "fig-format", "keep-typ", "columns",
    },
}

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def format_date_en_gb(value: object, *, today: dt.date | None = None) -> str:
    """Return a date as ``22 November 2025``; ``today``/``last-modified`` mean the build date.

    Strings that are not ISO dates (e.g. ``"March 2025"``) are returned unchanged.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str) and value.strip().lower() in {"today", "now", "last-modified"}:
        value = today or dt.date.today()
    if isinstance(value, str):
        text = value
        try:
            value = dt.date.fromisoformat(text.strip()[:10])
        except ValueError:
            return text
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"
    return str(value)


@dataclass
class QuartoConfig:
    """The settings of ``_quarto.yml`` the built-in publisher uses."""

    path: Path
    raw: dict[str, Any]
    title: str
    subtitle: str
    authors: list[str]
    date: str
    chapters: list[str]
    lang: str
    output_dir: str
    execute_enabled: bool
    echo: bool
    html: dict[str, Any] = field(default_factory=dict)
    typst: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    status: str = ""
    draft: bool = False

    def html_option(self, key: str, default: object = None) -> object:
        """An html format option, falling back to the top level, then ``default``."""
        if key in self.html:
            return self.html[key]
        return self.raw.get(key, default)

    def typst_option(self, key: str, default: object = None) -> object:
        """A typst format option, falling back to the top level, then ``default``."""
        if key in self.typst:
            return self.typst[key]
        return self.raw.get(key, default)


def _mapping(value: Any, where: str, path: Path) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise QuartoConfigError(f"{path}: '{where}' must be a mapping, not {type(value).__name__}")
    return value


def _unknown(section: str, mapping: dict[str, Any]) -> list[str]:
    known = KNOWN_KEYS.get(section, set())
    label = f"{section}." if section else ""
    return [
        f"_quarto.yml: '{label}{key}' is not used by the built-in publisher (Quarto will still use it)"
        for key in mapping
        if key not in known
    ]


def _authors(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict):
            out.append(str(item.get("name", "")).strip())
        else:
            out.append(str(item).strip())
    return [a for a in out if a]


def _chapters(value: Any, path: Path) -> list[str]:
    if not isinstance(value, list) or not value:
        raise QuartoConfigError(f"{path}: 'book.chapters' must list the chapter files (executed notebooks)")
    out: list[str] = []
    for item in value:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and "chapters" in item:
            # a Quarto "part": flatten its chapters (the part title is not rendered by the built-in publisher)
            out.extend(_chapters(item["chapters"], path))
        else:
            raise QuartoConfigError(
                f"{path}: each entry of 'book.chapters' must be a file name, not {item!r}"
            )
    return out


def load_quarto_config(path: str | Path, overrides: Mapping[str, object] | None = None,
                       *, today: dt.date | None = None) -> QuartoConfig:
    """Load ``_quarto.yml`` and return its settings, with unknown keys listed in ``warnings``.

    ``overrides`` replace book metadata (``title``, ``subtitle``, ``author``,
    ``date``, ``chapters``) after reading, e.g. the area and year from
    ``report.yml``. Raises :class:`QuartoConfigError` naming the file and the
    fix when the file is missing, not YAML, or not a book.
    """
    p = Path(path)
    if not p.exists():
        raise QuartoConfigError(f"_quarto.yml not found: {p} (the project root must hold _quarto.yml)")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise QuartoConfigError(f"{p}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise QuartoConfigError(f"{p}: the top level must be a mapping")
    project = _mapping(raw.get("project"), "project", p)
    if project.get("type", "book") != "book":
        raise QuartoConfigError(f"{p}: project.type must be 'book' (chapters = executed notebooks)")
    book = dict(_mapping(raw.get("book"), "book", p))
    execute = _mapping(raw.get("execute"), "execute", p)
    fmt = _mapping(raw.get("format"), "format", p)
    html = _mapping(fmt.get("html"), "format.html", p)
    typ = _mapping(fmt.get("typst"), "format.typst", p)

    warnings: list[str] = []
    warnings += _unknown("", raw)
    warnings += _unknown("project", project)
    warnings += _unknown("book", book)
    warnings += _unknown("execute", execute)
    warnings += _unknown("format.html", html)
    warnings += _unknown("format.typst", typ)
    for other in fmt:
        if other not in {"html", "typst"}:
            warnings.append(f"_quarto.yml: format '{other}' is not produced by the built-in publisher")
    if execute.get("enabled", False):
        warnings.append("_quarto.yml: execute.enabled is true; the built-in publisher never executes notebooks "
                        "(set it to false so Quarto does not re-run them either)")

    for key, value in (overrides or {}).items():
        if key not in {"title", "subtitle", "author", "date", "chapters", "status", "draft"}:
            raise QuartoConfigError(f"metadata override {key!r} is not supported; use title, subtitle, author, "
                                    "date, chapters, status or draft")
        book[key] = value

    title = str(book.get("title") or raw.get("title") or "").strip()
    if not title:
        raise QuartoConfigError(f"{p}: book.title is required (it is the document title in HTML and PDF)")
    return QuartoConfig(
        path=p,
        raw=raw,
        title=title,
        subtitle=str(book.get("subtitle") or raw.get("subtitle") or "").strip(),
        authors=_authors(book.get("author", raw.get("author"))),
        date=format_date_en_gb(book.get("date", raw.get("date")), today=today),
        chapters=_chapters(book.get("chapters"), p),
        lang=str(raw.get("lang") or "en-GB"),
        output_dir=str(project.get("output-dir") or "_book"),
        execute_enabled=bool(execute.get("enabled", False)),
        echo=bool(execute.get("echo", False)),
        html=dict(html),
        typst=dict(typ),
        warnings=warnings,
        status=str(book.get("status") or "").strip(),
        draft=bool(book.get("draft", False)),
    )
