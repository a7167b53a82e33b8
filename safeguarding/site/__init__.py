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

The package: :mod:`~safeguarding.site.record` (``review.json``), :mod:`~safeguarding.site.years` (what is on disk),
:mod:`~safeguarding.site.page`, :mod:`~safeguarding.site.index_page`, :mod:`~safeguarding.site.statement` and
:mod:`~safeguarding.site.sitemap` (the pages), :mod:`~safeguarding.site.writer` (writing them) and
:mod:`~safeguarding.site.cli` (the command).
"""

from __future__ import annotations

from safeguarding.site.cli import add_arguments, check_site, run
from safeguarding.site.index_page import DRAFT_TEXT, render_index
from safeguarding.site.page import CSS, SiteSettings
from safeguarding.site.record import (
    DATA_FILE_NAMES,
    HTML_NAME,
    INDEX_NAME,
    PDF_NAME,
    REVIEW_JSON,
    SITEMAP_NAME,
    STATEMENT_NAME,
    review_record,
    write_review_record,
)
from safeguarding.site.sitemap import SITEMAP_NS, render_sitemap
from safeguarding.site.statement import EHRC_TEXT, render_statement
from safeguarding.site.writer import BASE_URL_MISSING, CONTACT_MISSING, SiteError, SiteResult, write_site
from safeguarding.site.years import (
    BOARD_MARKING,
    YEAR_FOLDER,
    SiteFile,
    YearEntry,
    board_report_reason,
    scan_years,
    year_label,
)

__all__ = [
    "BASE_URL_MISSING",
    "BOARD_MARKING",
    "CONTACT_MISSING",
    "CSS",
    "DATA_FILE_NAMES",
    "DRAFT_TEXT",
    "EHRC_TEXT",
    "HTML_NAME",
    "INDEX_NAME",
    "PDF_NAME",
    "REVIEW_JSON",
    "SITEMAP_NAME",
    "SITEMAP_NS",
    "STATEMENT_NAME",
    "YEAR_FOLDER",
    "SiteError",
    "SiteFile",
    "SiteResult",
    "SiteSettings",
    "YearEntry",
    "add_arguments",
    "board_report_reason",
    "check_site",
    "render_index",
    "render_sitemap",
    "render_statement",
    "review_record",
    "run",
    "scan_years",
    "write_review_record",
    "write_site",
    "year_label",
]
