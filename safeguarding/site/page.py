"""What the site's pages share: the settings from ``report.yml``'s ``site:`` block, the inline CSS and the page
around the content."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from safeguarding import escape
from safeguarding.config import Config
from safeguarding.site.record import INDEX_NAME, _iso


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
        site = cfg.site
        return cls(area_name=cfg.area_name, organisation=site.organisation, contact_email=site.contact_email,
                   base_url=site.base_url, statement_prepared_on=_iso(site.statement_prepared_on))

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
