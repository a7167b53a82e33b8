"""``sitemap.xml``: the pages and PDFs with absolute addresses under ``site.base_url``."""

from __future__ import annotations

from urllib.parse import quote

from safeguarding import escape
from safeguarding.site.record import HTML_NAME, PDF_NAME, STATEMENT_NAME
from safeguarding.site.years import YearEntry

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


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
