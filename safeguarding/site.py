"""The area's site: ``reports/<area>/index.html``, ``accessibility.html`` and ``sitemap.xml``.

Every build writes ``review.json`` beside its outputs (:func:`write_review_record`):
the area, the year, the report's standing as ``report.yml``'s ``report:`` block gave it
(status, approved_on, version, published_on) and every file with its size and SHA-256.
After the year is published, :func:`write_site` scans ``reports/<area>/`` for year
folders (``YYYY/`` holding ``annual-review.html``; never a ``-board`` folder, a hidden
staging folder, a symbolic link or a folder whose record says it is not public), reads
each one's record and writes, each atomically:

- ``index.html``: every published year, newest first, with links to its page, PDF and
  data files (sizes given), its status (a draft marked "Draft — not approved") and its
  publication date;
- ``accessibility.html``: the accessibility statement, in the structure of GOV.UK's
  model statement, with the contact details from ``report.yml``'s ``site:`` block;
- ``sitemap.xml``: the pages and PDFs with absolute addresses under ``site.base_url``
  (no sitemap without it: a sitemap's addresses must be absolute).

The pages are self-contained (inline CSS, no fonts, images or scripts to fetch) and every
value from the configuration or a record is text, escaped with :mod:`safeguarding.escape`.
``python pipeline.py site`` regenerates the three files from what is on disk.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from safeguarding import escape
from safeguarding.atomic import write_atomic
from safeguarding.config import Config, ConfigError, load_config
from safeguarding.lock import LockedError, build_lock
from safeguarding.periods import financial_year_label

REVIEW_JSON = "review.json"
HTML_NAME = "annual-review.html"
PDF_NAME = "annual-review.pdf"
INDEX_NAME = "index.html"
STATEMENT_NAME = "accessibility.html"
SITEMAP_NAME = "sitemap.xml"
#: a public year's folder: four digits and nothing else (``2025-board`` and ``.2025.staging-...`` never match)
YEAR_FOLDER = re.compile(r"\d{4}")
#: a file path from a record that may be linked: plain names under the year's folder, no ``..``, nothing hidden
_SAFE_RELATIVE = re.compile(r"(?:[A-Za-z0-9_][A-Za-z0-9._-]*/)*[A-Za-z0-9_][A-Za-z0-9._-]*")
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
#: what a data file holds, by name, in the order the index lists them (others follow, by their name)
DATA_FILE_NAMES: dict[str, str] = {
    "indicators.csv": "Indicators (CSV)",
    "indicators.xlsx": "Indicators (Excel workbook)",
    "findings.csv": "The numbers behind each statement of the review (CSV)",
    "survey.csv": "Survey of children and families (CSV)",
    "README.txt": "What each data file holds (text)",
}
DRAFT_TEXT = "Draft \u2014 not approved"
CONTACT_MISSING = ("report.yml has no site.contact_email or site.organisation: the accessibility statement says "
                   "where to add them (site: {contact_email: ..., organisation: ...}; docs/configuration.md)")
BASE_URL_MISSING = ("report.yml has no site.base_url: no sitemap.xml was written (a sitemap needs absolute "
                    "addresses); add site: {base_url: https://...}, the address reports/<area>/ is published at")


# --------------------------------------------------------------------------
# what each build records about itself
# --------------------------------------------------------------------------

def _iso(value: Any) -> str | None:
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


def review_record(cfg: Config, folder: Path) -> dict[str, Any]:
    """What a build records about itself in ``review.json``: area, year, standing, and every file in ``folder``.

    The standing (``status``, ``approved_on``, ``version``, ``published_on``) is ``report.yml``'s
    ``report:`` block as the build read it; ``files`` lists each file's path (relative to
    ``folder``, ``/``-separated), size in bytes and SHA-256, hidden files and the record itself left out.
    """
    from safeguarding.hashing import file_sha256

    report = cfg.section("report")
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel == REVIEW_JSON or any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        files.append({"path": rel, "bytes": path.stat().st_size, "sha256": file_sha256(path)})
    version = report.get("version")
    return {
        "area": cfg.area_name,
        "area_slug": cfg.area_slug,
        "year": cfg.year,
        "year_label": cfg.year_label,
        "audience": cfg.audience,
        "status": report.get("status"),
        "approved_on": _iso(report.get("approved_on")),
        "version": None if version is None else str(version),
        "published_on": _iso(report.get("published_on")),
        "files": files,
    }


def write_review_record(cfg: Config, folder: Path) -> Path:
    """Write :func:`review_record` to ``folder/review.json`` atomically; return its path."""
    text = json.dumps(review_record(cfg, folder), indent=2, ensure_ascii=False) + "\n"
    return write_atomic(folder / REVIEW_JSON, lambda tmp: tmp.write_text(text, encoding="utf-8"))


# --------------------------------------------------------------------------
# what is on disk
# --------------------------------------------------------------------------

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


# --------------------------------------------------------------------------
# the pages
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class SiteSettings:
    """``report.yml``'s ``site:`` block and the area's name, as the pages use them."""

    area_name: str
    organisation: str | None = None
    contact_email: str | None = None
    base_url: str | None = None
    statement_prepared_on: str | None = None

    @classmethod
    def from_config(cls, cfg: Config) -> SiteSettings:
        """Read the settings from a loaded (and so checked) configuration."""
        site = cfg.section("site")

        def text(key: str) -> str | None:
            value = site.get(key)
            return str(value).strip() or None if value is not None else None

        base = text("base_url")
        return cls(area_name=cfg.area_name, organisation=text("organisation"), contact_email=text("contact_email"),
                   base_url=base.rstrip("/") if base else None,
                   statement_prepared_on=_iso(site.get("statement_prepared_on")))

    @property
    def owner(self) -> str:
        """Who runs the site: the organisation, else the area's partnership."""
        return self.organisation or f"{self.area_name} safeguarding children partnership"


CSS = """
:root { --ink: #1b1b1b; --muted: #4a4a4a; --rule: #d4d4d4; --faint: #f4f5f7; --accent: #1d4f91;
        --accent-dark: #123461; --marking: #8a1c1c; color-scheme: light; }
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.6; font-size: 1.0625rem;
       font-family: "Segoe UI", "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans", sans-serif;
       overflow-wrap: anywhere; }
.skip-link { position: absolute; left: 0.5rem; top: -4rem; background: #fd0; color: #0b0c0c;
             padding: 0.5rem 1rem; font-weight: 700; }
.skip-link:focus { top: 0.5rem; }
a { color: var(--accent); text-underline-offset: 0.15em; }
a:hover { color: var(--accent-dark); text-decoration-thickness: 2px; }
a:focus-visible, main:focus-visible { outline: 3px solid #fd0; outline-offset: 0; box-shadow: 0 0 0 5px #0b0c0c; }
main:focus { outline: none; }
.site-header { background: var(--accent-dark); color: #fff; }
.inner { max-width: 46rem; margin: 0 auto; padding: 0 1rem; }
.site-header .inner { padding-top: 1.25rem; padding-bottom: 1.25rem; }
.site-header p { margin: 0; }
.site-header .owner { font-size: 0.95rem; color: #e6ecf5; }
.site-header a { color: #fff; font-weight: 700; font-size: 1.2rem; }
main { display: block; padding-bottom: 2rem; }
h1 { font-size: 2rem; line-height: 1.2; margin: 1.5rem 0 1rem; }
h2 { font-size: 1.45rem; line-height: 1.25; margin: 2rem 0 0.75rem; }
h3 { font-size: 1.15rem; margin: 1.5rem 0 0.5rem; }
.year { border-top: 4px solid var(--accent); margin-top: 2rem; padding-top: 0.25rem; }
.year h2 { margin-top: 0.75rem; }
.standing { margin: 0 0 1rem; padding: 0; list-style: none; }
.standing li { margin: 0.25rem 0; }
.badge { display: inline-block; padding: 0.1rem 0.5rem; font-weight: 700; }
.badge.draft { background: var(--marking); color: #fff; }
.badge.approved { background: #1f5f2e; color: #fff; }
.badge.unknown { background: var(--faint); color: var(--ink); border: 1px solid var(--rule); }
.files { margin: 0 0 1rem; padding-left: 1.25rem; }
.files li { margin: 0.35rem 0; }
.meta, .nowrap { white-space: nowrap; }
.meta { color: var(--muted); }
.notice { border-left: 6px solid var(--marking); background: var(--faint); padding: 0.75rem 1rem; }
code { font-family: "DejaVu Sans Mono", "Liberation Mono", Consolas, monospace; font-size: 0.95em; }
.site-footer { border-top: 1px solid var(--rule); margin-top: 2rem; padding: 1rem 0 2rem; }
.site-footer ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; }
"""


def _size(n: int) -> str:
    """A file size as a reader reads it: ``812 bytes``, ``19 KB``, ``3.1 MB``."""
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{round(n / 1024):,} KB"
    return f"{n / (1024 * 1024):,.1f} MB"


def _date(iso: str | None) -> str:
    from safeguarding.publish.quarto_config import format_date_en_gb

    return format_date_en_gb(iso) if iso else ""


def _href(path: str) -> str:
    """A relative link to a file of the area's folder, percent-encoded, then HTML-escaped."""
    return escape.html(quote(path, safe="/-._~"), breakable=False)


def _page(title: str, settings: SiteSettings, body: str, *, footer_links: list[tuple[str, str]]) -> str:
    """A whole self-contained page: header naming the area, ``main``, footer links."""
    e = escape.html
    links = "\n".join(f'<li><a href="{_href(href)}">{e(text)}</a></li>' for href, text in footer_links)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        '<a class="skip-link" href="#main">Skip to main content</a>\n'
        '<header class="site-header"><div class="inner">'
        f'<p class="owner">{e(settings.owner)}</p>\n'
        f'<p><a href="{INDEX_NAME}">{e(settings.area_name)}: annual reviews</a></p>'
        "</div></header>\n"
        f'<main id="main" tabindex="-1"><div class="inner">\n{body}\n</div></main>\n'
        f'<footer class="site-footer"><div class="inner"><ul>{links}</ul></div></footer>\n'
        "</body>\n</html>\n"
    )


def _standing(entry: YearEntry) -> str:
    """The year's status and publication date, as list items."""
    e = escape.html
    version = f", version {e(entry.version)}" if entry.version else ""
    if entry.status == "draft":
        status = f'<span class="badge draft">{DRAFT_TEXT}</span>{version}'
    elif entry.status == "approved":
        when = f" on {e(_date(entry.approved_on))}" if entry.approved_on else ""
        status = f'<span class="badge approved">Approved by the board{when}</span>{version}'
    else:
        status = f'<span class="badge unknown">Status not recorded</span>{version}'
    published = (f"Published {e(_date(entry.published_on))}" if entry.published_on
                 else "Publication date not set")
    return f"<li>Status: {status}</li>\n<li>{published}</li>"


def render_index(entries: list[YearEntry], settings: SiteSettings, *, sitemap: bool) -> str:
    """``index.html``: every year in ``entries`` (already newest first) with its files, status and date."""
    e = escape.html
    area = e(settings.area_name)
    parts = [f"<h1>{area}: safeguarding children partnership annual reviews</h1>",
             "<p>Each year's annual review of the safeguarding children partnership, as a web page and as a "
             "PDF, with the data files behind it. A draft has not been approved by the board and may change.</p>"]
    if not entries:
        parts.append("<p>No annual review has been published yet.</p>")
    for entry in entries:
        label = f'<span class="nowrap">{e(entry.label)}</span>'
        items = []
        html_file, pdf_file = entry.file(HTML_NAME), entry.file(PDF_NAME)
        if html_file:
            items.append(f'<li><a href="{_href(html_file.path)}">Annual review {label} (web page)</a> '
                         f'<span class="meta">HTML, {_size(html_file.bytes)}</span></li>')
        if pdf_file:
            items.append(f'<li><a href="{_href(pdf_file.path)}">Annual review {label} (PDF)</a> '
                         f'<span class="meta">PDF, {_size(pdf_file.bytes)}</span></li>')
        data = []
        for f in entry.data_files:
            what = DATA_FILE_NAMES.get(f.name, f.name)
            kind = f.name.rsplit(".", 1)[-1].upper() if "." in f.name else "file"
            data.append(f'<li><a href="{_href(f.path)}">{e(what)}, {label}</a> '
                        f'<span class="meta">{e(kind)}, {_size(f.bytes)}</span></li>')
        section = [f'<section class="year" aria-labelledby="year-{entry.year}">',
                   f'<h2 id="year-{entry.year}">{e(entry.label)}</h2>',
                   f'<ul class="standing">{_standing(entry)}</ul>',
                   "<ul class=\"files\">\n" + "\n".join(items) + "\n</ul>"]
        if data:
            section += [f"<h3>Data files, {label}</h3>", "<ul class=\"files\">\n" + "\n".join(data) + "\n</ul>"]
        section.append("</section>")
        parts.append("\n".join(section))
    footer = [(STATEMENT_NAME, "Accessibility statement")] + ([(SITEMAP_NAME, "Sitemap")] if sitemap else [])
    return _page(f"{settings.area_name}: safeguarding children partnership annual reviews", settings,
                 "\n".join(parts), footer_links=footer)


EHRC_TEXT = (
    "The Equality and Human Rights Commission (EHRC) is responsible for enforcing the Public Sector Bodies "
    "(Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018 (the \u2018accessibility "
    "regulations\u2019). If you\u2019re not happy with how we respond to your complaint, contact the "
)


def render_statement(settings: SiteSettings, *, prepared_on: dt.date, sitemap: bool) -> str:
    """``accessibility.html``: the accessibility statement, in the structure of GOV.UK's model statement."""
    e = escape.html
    owner, area = e(settings.owner), e(settings.area_name)
    where = (f' published at <a href="{e(settings.base_url, breakable=False)}/">{e(settings.base_url)}/</a>'
             if settings.base_url else "")
    email = settings.contact_email
    contact = (f'email <a href="mailto:{e(email, breakable=False)}">{e(email)}</a>' if email
               else "contact the partnership")
    missing = ""
    if not (settings.contact_email and settings.organisation):
        missing = ('<p class="notice"><strong>Contact details are missing.</strong> The site\u2019s owner '
                   "should add them to <code>report.yml</code> as <code>site: {contact_email: ..., "
                   "organisation: ...}</code> (see docs/configuration.md) and run <code>python pipeline.py "
                   "site</code> to rewrite this statement.</p>")
    body = f"""<h1>Accessibility statement for the annual reviews of {area}</h1>
{missing}
<p>This accessibility statement applies to the safeguarding children partnership annual reviews of {area}{where}:
the list of reviews, each year\u2019s review as a web page and as a PDF, and the data files published with it.</p>
<p>This website is run by {owner}. We want as many people as possible to be able to use it. For example, that
means you should be able to:</p>
<ul>
<li>change colours, contrast levels and fonts using browser or device settings</li>
<li>zoom in up to 400% without the text spilling off the screen</li>
<li>read every page on a phone without scrolling sideways</li>
<li>navigate the website using just a keyboard or speech recognition software</li>
<li>listen to the website using a screen reader</li>
</ul>
<p>We\u2019ve also made the website text as simple as we can to understand.</p>
<h2>How accessible this website is</h2>
<p>We know some parts of this website are not fully accessible:</p>
<ul>
<li>charts are images: each has a text alternative and its figures are in the data files, but a chart cannot
be explored with a screen reader</li>
<li>on a narrow screen, wide tables scroll sideways inside their own box</li>
<li>the PDF is tagged for screen readers (PDF/UA-1) but has not been checked by hand with assistive technology;
the web page has the same content</li>
<li>the data files (CSV and Excel) are tables of figures; their README explains every column</li>
</ul>
<h2>Feedback and contact information</h2>
<p>If you need information on this website in a different format like accessible PDF, large print, easy read,
audio recording or braille, {contact}. We\u2019ll consider your request and get back to you.</p>
<h2>Reporting accessibility problems with this website</h2>
<p>We\u2019re always looking to improve the accessibility of this website. If you find any problems not listed on
this page or think we\u2019re not meeting accessibility requirements, {contact}.</p>
<h2>Enforcement procedure</h2>
<p>{EHRC_TEXT}<a href="https://www.equalityadvisoryservice.com/">Equality Advisory and Support Service
(EASS)</a>.</p>
<p>If you are in Northern Ireland and are not happy with how we respond to your complaint, you can contact the
<a href="https://www.equalityni.org/Home">Equality Commission for Northern Ireland (ECNI)</a>.</p>
<h2>Technical information about this website\u2019s accessibility</h2>
<p>{owner} is committed to making its website accessible, in accordance with the Public Sector Bodies (Websites
and Mobile Applications) (No. 2) Accessibility Regulations 2018.</p>
<h3>Compliance status</h3>
<p>This website is partially compliant with the
<a href="https://www.w3.org/TR/WCAG22/">Web Content Accessibility Guidelines version 2.2</a> AA standard,
due to the non-compliances and known issues listed below.</p>
<h2>Non-accessible content</h2>
<p>The content listed below is non-accessible for the following reasons.</p>
<h3>Non-compliance with the accessibility regulations</h3>
<p>The pages are checked automatically for failures of WCAG 2.2 AA, as described below. Automated checks find
only some kinds of problem and the website has not yet been audited by hand, so until it is we describe it as
partially compliant. The known issues are listed under \u201cHow accessible this website is\u201d.</p>
<h3>Disproportionate burden</h3>
<p>We are not claiming that fixing any problem would be a disproportionate burden.</p>
<h3>Content that\u2019s not within the scope of the accessibility regulations</h3>
<p>None of this website\u2019s content is outside the scope of the regulations.</p>
<h2>What we\u2019re doing to improve accessibility</h2>
<p>Every page is produced by the same pipeline and checked in the same way each time the pipeline changes. We
will fix any problem reported to us and list it here until it is fixed.</p>
<h2>Preparation of this accessibility statement</h2>
<p>This statement was prepared on {e(_date(prepared_on.isoformat()))}.</p>
<p>The pages are tested with automated checks: each kind of page (this list of reviews, this statement and the
annual review) is opened in the Chromium browser at two widths, 390 pixels (a phone) and 1280 pixels (a laptop),
and checked with axe-core for failures of the Web Content Accessibility Guidelines (none serious or critical is
allowed), for images without a text alternative, headings out of order, requests for anything outside the page,
and content wider than the screen. The PDF is produced tagged (PDF/UA-1), with its language set and its fonts
embedded, and checked for its structure tree.</p>"""
    footer = [(INDEX_NAME, "All annual reviews")] + ([(SITEMAP_NAME, "Sitemap")] if sitemap else [])
    return _page(f"Accessibility statement: {settings.area_name} annual reviews", settings, body,
                 footer_links=footer)


def _url(base: str, path: str) -> str:
    return f"{base}/{quote(path, safe='/-._~')}"


def render_sitemap(entries: list[YearEntry], base_url: str) -> str:
    """``sitemap.xml`` (sitemaps.org 0.9): the index, the statement and each year's page and PDF, absolute."""
    base = base_url.rstrip("/")
    rows: list[tuple[str, str | None]] = [(f"{base}/", None), (_url(base, STATEMENT_NAME), None)]
    for entry in entries:
        for name in (HTML_NAME, PDF_NAME):
            f = entry.file(name)
            if f is not None:
                rows.append((_url(base, f.path), entry.published_on))
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<urlset xmlns="{SITEMAP_NS}">']
    for loc, lastmod in rows:
        extra = f"<lastmod>{escape.xml(lastmod)}</lastmod>" if lastmod else ""
        out.append(f"  <url><loc>{escape.xml(loc)}</loc>{extra}</url>")
    out.append("</urlset>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------

class SiteError(RuntimeError):
    """A page of the site failed its safety check; the previous page was left in place."""


@dataclass
class SiteResult:
    """What :func:`write_site` wrote, the years it listed and what the analyst should know."""

    area_dir: Path
    written: list[Path]
    years: list[YearEntry]
    warnings: list[str]


def _write_page(target: Path, text: str) -> Path:
    """Write an HTML page atomically, refusing it (previous page kept) if it could run or fetch anything."""
    from safeguarding.publish.checks import safety_problems

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")
        problems = safety_problems(tmp, relative_links=True)
        if problems:
            raise SiteError(f"{target.name} was not written: {'; '.join(problems)}")

    return write_atomic(target, write)


def write_site(cfg: Config, *, today: dt.date | None = None) -> SiteResult:
    """(Re)write ``reports/<area>/``'s ``index.html``, ``accessibility.html`` and ``sitemap.xml`` from disk.

    Reads the year folders (:func:`scan_years`) and ``report.yml``'s ``site:`` block. Without
    ``site.base_url`` no sitemap is written (one left from before is removed, so it cannot list
    old addresses); that and missing contact details are returned as warnings.
    """
    settings = SiteSettings.from_config(cfg)
    area_dir = cfg.reports_dir / cfg.area_slug
    area_dir.mkdir(parents=True, exist_ok=True)
    warnings: list[str] = []
    entries = scan_years(area_dir, warnings)
    written: list[Path] = []
    sitemap = area_dir / SITEMAP_NAME
    if settings.base_url:
        written.append(write_atomic(sitemap, lambda tmp: tmp.write_text(
            render_sitemap(entries, settings.base_url or ""), encoding="utf-8")))
    else:
        warnings.append(BASE_URL_MISSING)
        if sitemap.is_file():
            sitemap.unlink()
    if not (settings.contact_email and settings.organisation):
        warnings.append(CONTACT_MISSING)
    prepared = (dt.date.fromisoformat(settings.statement_prepared_on) if settings.statement_prepared_on
                else (today or dt.date.today()))
    has_sitemap = bool(settings.base_url)
    written.append(_write_page(area_dir / STATEMENT_NAME,
                               render_statement(settings, prepared_on=prepared, sitemap=has_sitemap)))
    written.append(_write_page(area_dir / INDEX_NAME, render_index(entries, settings, sitemap=has_sitemap)))
    return SiteResult(area_dir=area_dir, written=written, years=entries, warnings=warnings)


# --------------------------------------------------------------------------
# pipeline.py site
# --------------------------------------------------------------------------

def check_site(result: SiteResult) -> list[str]:
    """Open every page of the site in headless Chromium as a reader would; return the problems (empty = fine).

    The index, the statement and each listed year's review, at 390 and 1280 px: axe-core (no serious
    or critical violation), images and headings, no request outside the page
    (:func:`~safeguarding.publish.checks.check_html_in_browser`), and no sideways scrolling
    (:func:`~safeguarding.publish.checks.check_layout_in_browser`). Raises
    :class:`~safeguarding.publish.checks.ToolMissingError` without Chromium.
    """
    from safeguarding.publish.checks import LAYOUT_WIDTHS, check_html_in_browser, check_layout_in_browser

    pages = [result.area_dir / INDEX_NAME, result.area_dir / STATEMENT_NAME]
    pages += [result.area_dir / f.path for e in result.years if (f := e.file(HTML_NAME)) is not None]
    problems: list[str] = []
    for page in pages:
        name = page.relative_to(result.area_dir).as_posix()
        for width in LAYOUT_WIDTHS:
            problems += [f"{name} at {width} px: {p}" for p in check_html_in_browser(page, viewport=(width, 900))]
        problems += [f"{name}: {p}" for p in check_layout_in_browser(page)]
    return problems


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pipeline.py site``."""
    parser.add_argument("--config", default="report.yml", help="configuration file (default: report.yml)")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait up to SECONDS for a build using the same folders to finish (default: stop)")
    parser.add_argument("--check", action="store_true",
                        help="then open every page (index, statement, each year's review) in Chromium at 390 and "
                             "1280 px: axe, layout, no outside requests; exit 1 on a problem")


def run(args: argparse.Namespace, echo: Callable[[str], None] = print) -> int:
    """Run ``pipeline.py site``: rewrite the area's index, accessibility statement and sitemap; exit status."""
    try:
        cfg = load_config(args.config)
        with build_lock([cfg.reports_dir / cfg.area_slug], wait=args.wait):  # the build's lock on the area
            result = write_site(cfg)
    except (ConfigError, LockedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (SiteError, OSError) as exc:
        print(f"error: the area's site was not rewritten: {exc}", file=sys.stderr)
        return 1
    years = ", ".join(e.label for e in result.years) or "none yet"
    echo(f"Wrote {', '.join(p.name for p in result.written)} in {result.area_dir} (years: {years})")
    for w in result.warnings:
        echo(f"warning: {w}")
    if not getattr(args, "check", False):
        return 0
    from safeguarding.publish.checks import ToolMissingError

    try:
        problems = check_site(result)
    except ToolMissingError as exc:
        print(f"error: cannot check the pages: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        echo(f"problem: {problem}")
    echo(f"Checked in Chromium at 390 and 1280 px: {len(problems)} problem(s)")
    return 1 if problems else 0
