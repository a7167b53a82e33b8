"""Writing the site (:func:`write_site`): the three files from what is on disk, each atomically and checked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from safeguarding.atomic import write_atomic
from safeguarding.config import Config
from safeguarding.site.index_page import render_index
from safeguarding.site.page import SiteSettings
from safeguarding.site.record import INDEX_NAME, SITEMAP_NAME, STATEMENT_NAME
from safeguarding.site.sitemap import render_sitemap
from safeguarding.site.statement import render_statement
from safeguarding.site.years import YearEntry, scan_years

CONTACT_MISSING = ("report.yml has no site.contact_email or site.organisation: the accessibility statement says "
                   "where to add them (site: {contact_email: ..., organisation: ...}; docs/configuration.md)")
BASE_URL_MISSING = ("report.yml has no site.base_url: no sitemap.xml was written (a sitemap needs absolute "
                    "addresses); add site: {base_url: https://...}, the address reports/<area>/ is published at")


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
