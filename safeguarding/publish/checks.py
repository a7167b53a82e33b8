"""Check a published report as a reader would: the HTML in a browser, the PDF as a file.

Each check returns a list of problems (empty = passed), so the same functions
serve the unit tests (on a toy report), the end-to-end test (on the demo
council) and an analyst checking a real build by hand::

    from safeguarding.publish.checks import check_html_in_browser, check_pdf
    check_html_in_browser(Path("reports/northwold/2025/annual-review.html"))
    check_pdf(Path("reports/northwold/2025/annual-review.pdf"), ["Referrals"])

The browser check needs Debian ``chromium`` and the ``playwright`` and
``axe-playwright-python`` packages; the PDF check needs only ``pypdf``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

MARKING_WORDS = ("OFFICIAL-SENSITIVE", "not for publication")
A4_POINTS = (595.28, 841.89)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
_EXTERNAL_RE = re.compile(r"^\s*(https?:)?//", re.I)
#: elements a published page never needs, each of which can run code, load a page or change where links go
_UNSAFE_TAGS = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "form", "portal"}
_URL_ATTRS = ("src", "href", "srcset", "poster", "data", "action", "formaction", "background", "xlink:href",
              "ping", "cite", "longdesc")
_SAFE_HREF = re.compile(r"^\s*(#|https?:|mailto:)", re.I)
#: a link to a file beside the page or below it (the area's site): plain path characters, no scheme, no ``..``
_RELATIVE_HREF = re.compile(r"[A-Za-z0-9_~%-][A-Za-z0-9._~%/-]*")


class ToolMissingError(RuntimeError):
    """A program the check needs (chromium, pdftoppm) is not installed."""


# ------------------------------------------------------------------ static HTML
class _Scan(HTMLParser):
    def __init__(self, *, relative_links: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.relative_links = relative_links
        self.problems: list[str] = []
        self.headings: list[tuple[int, str]] = []
        self.images = 0
        self.lang = ""
        self.title = False
        self._heading: int | None = None
        self._text: list[str] = []
        self.in_style = False
        self.styles: list[str] = []
        self.unsafe: list[str] = []

    def _check_safety(self, tag: str, a: dict[str, str]) -> None:
        """Record anything that would run code or make the page fetch or embed something from outside it."""
        if tag in _UNSAFE_TAGS:
            self.unsafe.append(f"<{tag}> element")
        if tag == "meta" and a.get("http-equiv", "").lower() == "refresh":
            self.unsafe.append("<meta http-equiv=refresh>")
        if tag == "link":
            self.unsafe.append(f"<link href={a.get('href', '')[:80]!r}> (stylesheets must be embedded)")
        for key, value in a.items():
            if key.startswith("on"):
                self.unsafe.append(f"<{tag} {key}=...> event handler")
            if key not in _URL_ATTRS:
                continue
            if tag == "a" and key == "href":
                if (self.relative_links and _RELATIVE_HREF.fullmatch(value)
                        and ".." not in unquote(value).split("/")):  # a browser reads %2e%2e as ..
                    continue
                if not _SAFE_HREF.match(value):
                    self.unsafe.append(f"<a href={value[:80]!r}> link that is not to http(s), mailto or the page")
            elif not value.strip().lower().startswith("data:") and not (key == "href" and value.startswith("#")):
                self.unsafe.append(f"<{tag} {key}={value[:80]!r}> loads a resource from outside the page")
        if "style" in a and re.search(r"url\(\s*['\"]?(?!data:|#)", a["style"], re.I):
            self.unsafe.append(f"<{tag} style> loads a resource from outside the page")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        self._check_safety(tag, a)
        if tag == "html":
            self.lang = a.get("lang", "")
        if tag == "title":
            self.title = True
        if tag == "style":
            self.in_style = True
        for key in ("src", "href", "srcset", "poster", "data", "action", "formaction"):
            if key in a and _EXTERNAL_RE.match(a[key]) and not (tag == "a" and key == "href"):
                self.problems.append(f"<{tag} {key}={a[key][:80]!r}> loads an external resource")
        if "style" in a and re.search(r"url\(\s*['\"]?(https?:)?//", a["style"], re.I):
            self.problems.append(f"<{tag} style> loads an external resource")
        if tag == "img":
            self.images += 1
            if not a.get("alt", "").strip():
                self.problems.append(f"image {self.images} has no alt text")
            if not a.get("src", "").startswith("data:"):
                self.problems.append(f"image {self.images} is not embedded (src={a.get('src', '')[:60]!r})")
        if tag == "script" and a.get("src"):
            self.problems.append(f"script from {a['src'][:80]!r}")
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = int(tag[1])
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self.in_style = False
        if self._heading is not None and tag == f"h{self._heading}":
            self.headings.append((self._heading, " ".join("".join(self._text).split())))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._text.append(data)
        if self.in_style:
            self.styles.append(data)


def heading_problems(headings: list[tuple[int, str]]) -> list[str]:
    """Headings must start at level 1 and never skip a level going down (h2 -> h4)."""
    problems: list[str] = []
    previous = 0
    for level, text in headings:
        if level > previous + 1:
            problems.append(f"heading h{level} {text[:50]!r} skips a level (previous was h{previous or 'none'})")
        previous = level
    return problems


def safety_problems(path: Path, *, relative_links: bool = False) -> list[str]:
    """What in a published HTML file could run code or fetch or embed something from outside it (empty = safe).

    No ``<script>``, frames, objects, forms, ``<base>``, ``<link>`` or meta
    refresh; no ``on...=`` event handler; every ``src`` (and every ``href``
    other than a link) a ``data:`` URI; every link to the page itself, http(s)
    or mailto; no stylesheet ``url(...)`` or ``@import`` other than ``data:``.
    Both publishers' pages are checked with it before they are kept.
    ``relative_links`` also allows links to files beside or below the page
    (``2025/annual-review.pdf``, never ``../`` or another scheme): the area's site.
    """
    scan = _Scan(relative_links=relative_links)
    scan.feed(Path(path).read_text(encoding="utf-8"))
    problems = list(scan.unsafe)
    css = "\n".join(scan.styles)
    if re.search(r"url\(\s*['\"]?(?!data:|#)", css, re.I) or re.search(r"@import", css, re.I):
        problems.append("a stylesheet loads a resource from outside the page")
    return problems


def check_html_static(path: Path) -> list[str]:
    """Check the HTML file without a browser: embedded images with alt text, no external resources, lang, headings."""
    scan = _Scan()
    scan.feed(Path(path).read_text(encoding="utf-8"))
    problems = list(scan.problems)
    if not scan.lang:
        problems.append("<html> has no lang attribute")
    if not scan.title:
        problems.append("no <title>")
    css = "\n".join(scan.styles)
    if re.search(r"url\(\s*['\"]?(https?:)?//", css, re.I) or re.search(r"@import\s+['\"]?(url\()?\s*['\"]?https?:",
                                                                          css, re.I):
        problems.append("a stylesheet loads an external resource")
    problems += heading_problems(scan.headings)
    return problems


# ------------------------------------------------------------------ browser
def chromium_path() -> str:
    """Path of the Debian ``chromium`` browser; raises :class:`ToolMissingError` if absent."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        raise ToolMissingError("chromium is not installed (apt-get install chromium)")
    return exe


def check_html_in_browser(path: Path, *, screenshot: Path | None = None,
                          viewport: tuple[int, int] = (1280, 900)) -> list[str]:
    """Open the HTML in headless Chromium and return what a reader (or screen reader) would trip over.

    Checks: no console errors or page errors, no failed requests, no request
    other than the file itself, every image loaded with alt text, headings
    in order, and axe-core with no serious or critical violations.
    ``screenshot`` saves a full-page PNG.
    """
    from playwright.sync_api import sync_playwright

    path = Path(path).resolve()
    url = path.as_uri()
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text[:200]}")
                    if m.type in {"error", "warning"} else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url[:120]}"))
            page.on("request", lambda r: None if (r.url == url or r.url.startswith("data:"))
                    else problems.append(f"request other than the file itself: {r.url[:120]}"))
            page.goto(url, wait_until="load")
            images = page.evaluate(
                "() => Array.from(document.images).map(i => ({ok: i.complete && i.naturalWidth > 0,"
                " alt: i.getAttribute('alt') || '', src: (i.currentSrc || i.src).slice(0, 40)}))")
            for n, img in enumerate(images, start=1):
                if not img["ok"]:
                    problems.append(f"image {n} did not load ({img['src']})")
                if not img["alt"].strip():
                    problems.append(f"image {n} has no alt text")
            headings = page.evaluate(
                "() => Array.from(document.querySelectorAll('h1,h2,h3,h4,h5,h6'))"
                ".map(h => [Number(h.tagName[1]), h.textContent.trim()])")
            problems += heading_problems([(int(level), text) for level, text in headings])
            problems += _axe_problems(page)
            if screenshot is not None:
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return problems


def print_html_to_pdf(path: Path, pdf: Path) -> Path:
    """Print the HTML page to an A4 PDF with headless Chromium, as a reader pressing Print would."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(Path(path).resolve().as_uri(), wait_until="load")
            page.pdf(path=str(pdf), format="A4", prefer_css_page_size=True)
        finally:
            browser.close()
    return pdf


def _axe_problems(page: object) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    out = []
    for v in results.response.get("violations", []):
        if v.get("impact") in {"serious", "critical"}:
            targets = [", ".join(n.get("target", [])) for n in v.get("nodes", [])[:3]]
            out.append(f"axe {v['impact']}: {v['id']} ({v.get('help', '')}) at {'; '.join(targets)}")
    return out


# ------------------------------------------------------------------ PDF
def _font_is_embedded(font: Any) -> bool:  # a pypdf indirect object: its dictionaries are untyped
    font = font.get_object()
    descriptor = font.get("/FontDescriptor")
    if descriptor is None and "/DescendantFonts" in font:
        descendant = font["/DescendantFonts"][0].get_object()
        descriptor = descendant.get("/FontDescriptor")
    if descriptor is None:
        return font.get("/Subtype") == "/Type3"
    descriptor = descriptor.get_object()
    return any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def pdf_fonts(path: Path) -> dict[str, bool]:
    """Font base names used in the PDF -> whether each is embedded."""
    from pypdf import PdfReader

    fonts: dict[str, bool] = {}
    for page in PdfReader(str(path)).pages:
        resources = page.get("/Resources")
        if resources is None:
            continue
        font_dict = resources.get_object().get("/Font")
        if font_dict is None:
            continue
        for ref in font_dict.get_object().values():
            obj = ref.get_object()
            name = str(obj.get("/BaseFont", "?"))
            fonts[name] = fonts.get(name, True) and _font_is_embedded(obj)
    return fonts


def _norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def check_pdf(path: Path, expected_texts: list[str] | tuple[str, ...] = (), *, board: bool | None = None,  # noqa: C901
              min_pages: int = 2, require_tagged: bool = True, page_numbers: bool = True) -> list[str]:
    """Check the PDF: A4 pages, fonts embedded, text layer with ``expected_texts``, page numbers, marking.

    ``board=True`` requires the OFFICIAL-SENSITIVE marking on every page;
    ``board=False`` requires it on none; ``None`` skips that check.
    ``require_tagged`` requires a tagged (structure tree) PDF, as PDF/UA-1 produces;
    ``page_numbers`` requires "Page N of M" on every page after the cover.
    """
    from pypdf import PdfReader

    problems: list[str] = []
    reader = PdfReader(str(path))
    pages = reader.pages
    if len(pages) < min_pages:
        problems.append(f"only {len(pages)} page(s); expected at least {min_pages}")
    texts = []
    for n, page in enumerate(pages, start=1):
        box = page.mediabox
        w, h = float(box.width), float(box.height)
        if abs(w - A4_POINTS[0]) > 1 or abs(h - A4_POINTS[1]) > 1:
            problems.append(f"page {n} is {w:.0f} x {h:.0f} pt, not A4 (595 x 842)")
        texts.append(_norm(page.extract_text() or ""))
    whole = " ".join(texts)
    if not whole.strip():
        problems.append("the PDF has no text layer")
    for expected in expected_texts:
        if _norm(expected) not in whole:
            problems.append(f"text {expected!r} not found in the PDF text layer")
    numbered = [n for n, t in enumerate(texts, start=1) if re.search(r"Page \d+ of \d+", t)]
    if page_numbers and len(pages) > 1 and len(numbered) < len(pages) - 1:
        missing = [n for n in range(2, len(pages) + 1) if n not in numbered]
        problems.append(f"no page number on page(s) {missing}")
    if board is not None:
        for n, t in enumerate(texts, start=1):
            marked = all(word in t for word in MARKING_WORDS)
            if board and not marked:
                problems.append(f"page {n} lacks the OFFICIAL-SENSITIVE marking")
            if not board and "OFFICIAL-SENSITIVE" in t:
                problems.append(f"page {n} of a public report carries the OFFICIAL-SENSITIVE marking")
    fonts = pdf_fonts(Path(path))
    if not fonts:
        problems.append("no fonts found in the PDF")
    problems += [f"font {name} is not embedded" for name, ok in fonts.items() if not ok]
    if require_tagged:
        root: Any = reader.trailer["/Root"].get_object()
        mark = root.get("/MarkInfo")
        if "/StructTreeRoot" not in root or mark is None or not mark.get_object().get("/Marked", False):
            problems.append("the PDF is not tagged (no structure tree): not accessible to screen readers")
        if "/Lang" not in root:
            problems.append("the PDF has no document language")
    return problems


def pdf_to_pngs(path: Path, out_dir: Path, *, dpi: int = 60) -> list[Path]:
    """Render each PDF page to ``out_dir/page-N.png`` with poppler's ``pdftoppm`` (for looking at it)."""
    exe = shutil.which("pdftoppm")
    if not exe:
        raise ToolMissingError("pdftoppm is not installed (apt-get install poppler-utils)")
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run([exe, "-r", str(dpi), "-png", str(path), str(out_dir / "page")], check=True)
    return sorted(out_dir.glob("page-*.png"))


# ------------------------------------------------------------------ layout
#: the screen widths the page is laid out for: a phone (390 px) and a laptop (1280 px)
LAYOUT_WIDTHS: tuple[int, ...] = (390, 1280)
#: smallest chart label a reader should be asked to read, in CSS pixels (the charts' smallest text is 9 pt)
MIN_CHART_TEXT_PX = 8.0
#: From this screen width (the contents beside the text) a table's label column is at least
#: :data:`MIN_LABEL_COLUMN_PX` wide, so an indicator's name takes a few lines, not five.
WIDE_SCREEN_PX = 1024
MIN_LABEL_COLUMN_PX = 160
CHART_DPI = 150
CHART_SMALLEST_PT = 9.0

_LAYOUT_JS = """() => {
  const out = {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
               broken: [], wideTables: [], charts: []};
  // a cell holding one figure or period ("1,490", "22.0%", "2024-25") must render on one line
  for (const cell of document.querySelectorAll('main td, main th')) {
    const text = cell.textContent.trim();
    if (!/\\d/.test(text) || /\\s/.test(text)) continue;
    const range = document.createRange();
    range.selectNodeContents(cell);
    const tops = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top)));
    if (tops.size > 1) out.broken.push(text);
  }
  // a table wider than the text scrolls inside its own box, never the page
  for (const table of document.querySelectorAll('main table')) {
    const box = table.closest('.table-wrap');
    const style = box ? getComputedStyle(box) : null;
    if (!box || !['auto', 'scroll'].includes(style.overflowX))
      out.wideTables.push(table.id || table.caption?.textContent || 'table');
  }
  // a table's caption is read without scrolling: it wraps within its box, however wide the table
  out.cutCaptions = [];
  for (const table of document.querySelectorAll('main .table-wrap table')) {
    const caption = table.caption;
    if (!caption || !caption.textContent.trim()) continue;
    const box = table.closest('.table-wrap').getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(caption);
    const right = Math.max(...Array.from(range.getClientRects()).map(r => r.right));
    if (right > box.right + 1) out.cutCaptions.push(caption.textContent.trim().slice(0, 60));
  }
  // a table's label column (the first) wide enough to read a label in a few lines
  out.labelColumns = [];
  for (const table of document.querySelectorAll('main table')) {
    const first = table.querySelector('tbody tr td:first-child, tbody tr th:first-child');
    const columns = table.querySelectorAll('thead th').length;
    if (first && columns >= 4 && /[a-z]/i.test(first.textContent))
      out.labelColumns.push({table: table.id || table.caption?.textContent || 'table', columns,
                             width: Math.round(first.getBoundingClientRect().width)});
  }
  // each visible chart: how large its image is drawn compared with its pixels, and whether it fits its figure
  for (const img of document.querySelectorAll('main figure img')) {
    if (img.offsetParent === null || !img.naturalWidth) continue;
    const figure = img.closest('figure');
    out.charts.push({src: img.getAttribute('src').slice(0, 30), alt: (img.alt || '').slice(0, 60),
                     scale: img.clientWidth / img.naturalWidth,
                     overflow: Math.round(img.getBoundingClientRect().width - figure.clientWidth)});
  }
  return out;
}"""


def check_layout_in_browser(path: Path, widths: tuple[int, ...] = LAYOUT_WIDTHS, *,
                            screenshots: Path | None = None) -> list[str]:
    """Open the page in headless Chromium at each width and return what breaks the layout (empty = fine).

    At every width: no horizontal scrolling of the page (``scrollWidth <= innerWidth``); every table
    inside a box that scrolls sideways; no table cell holding one figure or period broken across lines;
    chart labels at least :data:`MIN_CHART_TEXT_PX` high as drawn (the charts' smallest text is
    :data:`CHART_SMALLEST_PT` points at :data:`CHART_DPI` dots per inch, scaled as the image is shown);
    no chart wider than its figure (a phone chart that scrolls sideways); no table caption running past
    the edge of its box (it wraps there, even when the table scrolls); from :data:`WIDE_SCREEN_PX`,
    the label column of a table of four or more columns at least :data:`MIN_LABEL_COLUMN_PX` wide.
    ``screenshots`` (a folder) keeps a full-page PNG per width.
    """
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            for width in widths:
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(Path(path).resolve().as_uri(), wait_until="load")
                info = page.evaluate(_LAYOUT_JS)
                if info["scrollWidth"] > info["innerWidth"]:
                    problems.append(f"{width} px: the page is {info['scrollWidth']} px wide (scrolls sideways)")
                problems += [f"{width} px: figure {t!r} is broken across lines in a table" for t in info["broken"]]
                problems += [f"{width} px: table {t!r} is not in a box that scrolls sideways"
                             for t in info["wideTables"]]
                problems += [f"{width} px: the caption of table {t!r} runs past the edge of its box "
                             "(cut off until the table is scrolled)" for t in info["cutCaptions"]]
                if width >= WIDE_SCREEN_PX:
                    problems += [f"{width} px: the label column of table {t['table']!r} ({t['columns']} columns) "
                                 f"is {t['width']} px wide (less than {MIN_LABEL_COLUMN_PX})"
                                 for t in info["labelColumns"] if t["width"] < MIN_LABEL_COLUMN_PX]
                for chart in info["charts"]:
                    if chart["overflow"] > 1:
                        problems.append(f"{width} px: chart {chart['alt']!r} is {chart['overflow']} px wider than "
                                        "the screen leaves for it (it scrolls sideways)")
                    text_px = CHART_SMALLEST_PT / 72 * CHART_DPI * chart["scale"]
                    if text_px < MIN_CHART_TEXT_PX:
                        problems.append(f"{width} px: chart labels drawn {text_px:.1f} px high "
                                        f"(less than {MIN_CHART_TEXT_PX:g}) in {chart['src']}")
                if screenshots is not None:
                    screenshots.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(screenshots / f"page-{width}.png"), full_page=True)
                page.close()
        finally:
            browser.close()
    return problems


def pdf_page_texts(path: Path) -> list[str]:
    """The text of each page of the PDF as poppler's ``pdftotext -layout`` reads it (zero-width spaces removed)."""
    exe = shutil.which("pdftotext")
    if not exe:
        raise ToolMissingError("pdftotext is not installed (apt-get install poppler-utils)")
    text = subprocess.run([exe, "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return [page.replace("\u200b", "") for page in text.split("\f")[:-1]]


def pdf_overlapping_words(path: Path, *, tolerance: float = 0.5, max_height: float = 60.0) -> list[str]:
    """Words printed over one another on a page, by their boxes in ``pdftotext -bbox-layout`` (empty = none).

    Words more than ``max_height`` points tall (a watermark drawn behind the text) are left out.
    """
    exe = shutil.which("pdftotext")
    if not exe:
        raise ToolMissingError("pdftotext is not installed (apt-get install poppler-utils)")
    xml = subprocess.run([exe, "-bbox-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    problems: list[str] = []
    word_re = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')
    for n, page in enumerate(xml.split("<page ")[1:], start=1):
        words = [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in word_re.findall(page)]
        # text drawn taller than 60 pt is a watermark behind the page (DRAFT), not a word of the report
        words = [w for w in words if w[4].strip("\u200b") and w[3] - w[1] <= max_height]
        words.sort()
        for i, (x0, y0, x1, y1, w) in enumerate(words):
            for u0, v0, u1, v1, other in words[i + 1:]:
                if u0 >= x1 - tolerance:
                    break
                if min(y1, v1) - max(y0, v0) > tolerance and min(x1, u1) - max(x0, u0) > tolerance:
                    problems.append(f"page {n}: {w!r} and {other!r} are printed over each other")
    return problems


#: a page of a chapter, other than its last, filled to less than this share of its height is half empty
MIN_PAGE_FILL = 0.6


def pdf_page_fill(path: Path, *, dpi: int = 30) -> list[float]:
    """How far down each page of the PDF its content reaches, between header and footer (0 empty, 1 full).

    Each page is drawn in grey at ``dpi`` (poppler's ``pdftoppm``); the lowest row holding a dark pixel
    (darker than a light grey, so the pale DRAFT watermark does not count) between the header's rule (11%
    of the height) and the footer's (90%) gives the share. Charts and tables count as well as text.
    """
    import tempfile

    import numpy as np
    from PIL import Image

    exe = shutil.which("pdftoppm")
    if not exe:
        raise ToolMissingError("pdftoppm is not installed (apt-get install poppler-utils)")
    fills: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([exe, "-gray", "-r", str(dpi), str(path), f"{tmp}/p"], check=True, capture_output=True)
        for page in sorted(Path(tmp).glob("p*.pgm"), key=lambda p: int(re.sub(r"\D", "", p.stem) or 0)):
            grey = np.asarray(Image.open(page), dtype=np.uint8)
            top, bottom = int(grey.shape[0] * 0.11), int(grey.shape[0] * 0.90)
            rows = np.nonzero((grey[top:bottom] < 170).any(axis=1))[0]
            fills.append(float(rows.max() + 1) / (bottom - top) if rows.size else 0.0)
    return fills


def _page_lines(text: str) -> list[str]:
    """A PDF page's non-empty lines, stripped, without the letters of the DRAFT watermark (drawn behind the
    page, they may come anywhere in the text layer)."""
    return [ln.strip() for ln in text.splitlines()
            if ln.strip() and not re.fullmatch(r"(?:[DRAFT]\s*)+", ln.strip())]


def pdf_chapter_problems(path: Path, *, min_fill: float = MIN_PAGE_FILL) -> list[str]:
    """What is wrong with where the PDF's chapters, figures and blank space fall (empty = nothing).

    The chapters and their first pages are read from the contents page (``1 Summary . . . 4``). Each
    chapter's first page begins with its heading; every figure captioned ``Figure N.M`` is printed between
    the start of chapter N and the start of the next; no table's caption (``Table N.M: ...``, above its
    table) ends a page, its table on the next; and every page from the first chapter on, other than
    a chapter's last page, is at least ``min_fill`` full (:func:`pdf_page_fill`): a half-empty page before a
    large figure is what floating figures are meant to prevent.
    """
    pages = pdf_page_texts(path)
    fills = pdf_page_fill(path)
    contents = next((p for p in pages if re.search(r"^\s*Contents\s*$", p, flags=re.M)), "")
    starts = {int(n): (title.strip(), int(page)) for n, title, page in
              re.findall(r"^\s*(\d+)\s+(\S[^\n]*?)\s*(?:\.\s*)+\u2060?(\d+)\s*$", contents, flags=re.M)}
    if not starts:
        return ["no chapters found in the contents page"]
    problems: list[str] = []
    order = sorted(starts)
    first_page = {n: starts[n][1] for n in order}
    for n in order:
        title, page = starts[n]
        body = _page_lines(pages[page - 1])
        while body and ("Page " in body[0] or "review" in body[0] or body[0].startswith("OFFICIAL")):
            body = body[1:]  # the running header (and the board copy's marking above it)
        head = re.sub(r"\s+", " ", " ".join(body[:2]))
        if not head.startswith(f"{n} {title.split()[0]}"):
            problems.append(f"page {page}: chapter {n} ({title}) does not begin with its heading: {head[:80]!r}")
    for i, text in enumerate(pages, start=1):
        for n in {int(m) for m in re.findall(r"^\s*Figure (\d+)\.\d+:", text, flags=re.M)}:
            end = min((first_page[m] for m in order if m > n), default=len(pages) + 1)
            if n in first_page and not first_page[n] <= i < end:
                problems.append(f"page {i}: a figure of chapter {n} is printed outside its chapter "
                                f"(pages {first_page[n]} to {end - 1})")
    for i, text in enumerate(pages, start=1):
        body = _page_lines(text)
        if body and re.search(r"Page \d+ of \d+\s*$", body[-1]):
            body = body[:-1]  # the footer
        caption = next((ln for ln in body[-2:] if re.match(r"Table \d+\.\d+:", ln)), None)
        if caption is not None and i < len(pages):
            problems.append(f"page {i}: the caption {caption[:60]!r} ends the page, its table on the next")
    last_pages = {first_page[m] - 1 for m in order} | {len(pages)}
    for i in range(first_page[order[0]], len(pages) + 1):
        if i not in last_pages and fills[i - 1] < min_fill:
            problems.append(f"page {i} is {fills[i - 1]:.0%} full (a page inside a chapter should be at least "
                            f"{min_fill:.0%} full)")
    return problems
