"""The area's ``index.html``: every published year, newest first, with its files and standing."""

from __future__ import annotations

from safeguarding import escape
from safeguarding.site.page import SiteSettings, _date, _href, _page, _size
from safeguarding.site.record import DATA_FILE_NAMES, HTML_NAME, PDF_NAME, SITEMAP_NAME, STATEMENT_NAME
from safeguarding.site.years import YearEntry

DRAFT_TEXT = "Draft \u2014 not approved"


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
