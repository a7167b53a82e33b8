"""Turn executed notebooks into Markdown the way Quarto would.

Pandoc alone reads ``.ipynb`` but prints ``<IPython.core.display.Markdown object>``
for Markdown outputs, ignores ``#|`` cell options and cell tags, and drops raw
HTML in Typst. This module does what Quarto does before pandoc runs:

- parses the ``#|`` options at the top of each code cell (``echo``, ``output``
  including ``asis``, ``include``, ``label``, ``fig-cap``, ``fig-alt``,
  ``tbl-cap``);
- drops cells tagged ``parameters`` / ``injected-parameters`` and papermill's
  error banner, and refuses a notebook with an error output;
- converts outputs: ``text/markdown`` as Markdown, images to files with a
  numbered caption and alt text, HTML tables to raw HTML (web page) or a
  Markdown table (PDF), ``stdout`` only with ``output: asis``;
- numbers figures and tables per chapter (``Figure 2.1``) and resolves
  ``@fig-...`` / ``@tbl-...`` cross references.

Output metadata is honoured too, so captions and alt text can be computed:
``display(fig, metadata={"fig-cap": ..., "fig-alt": ...})`` (built-in
publisher only; Quarto uses the cell options).
"""

from __future__ import annotations

import base64
import re
import struct
from dataclasses import dataclass, field
from html import escape as html_escape
from pathlib import Path
from typing import Any

import nbformat
import yaml

from safeguarding import escape

TARGETS = ("html", "typst")

DROP_TAGS = {"parameters", "injected-parameters", "papermill-error-cell-tag", "remove-cell"}

#: Quarto cell options the built-in publisher knowingly ignores (layout hints, knitr-isms)
IGNORED_OPTIONS = {
    "fig-width", "fig-height", "fig-align", "fig-dpi", "fig-format", "warning", "message", "error",
    "code-fold", "code-summary", "code-overflow", "tbl-colwidths", "fig-pos", "tbl-cap-location",
    "fig-cap-location", "eval", "cache", "classes", "lst-label", "lst-cap",
}
KNOWN_OPTIONS = {"echo", "output", "include", "label", "fig-cap", "fig-alt", "tbl-cap"} | IGNORED_OPTIONS

_REPR_RE = re.compile(r"^<[\w.]+(?: [\w.]+)* (?:object|at 0x[0-9a-f]+)[^>]*>$")
_XREF_RE = re.compile(r"(?<![\w.@])@((?:fig|tbl)-[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*)")
_ATX_RE = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*$")


class PublishError(RuntimeError):
    """A notebook cannot be published as it stands (the message names notebook, cell and fix)."""


@dataclass
class Part:
    """A piece of the document: the same Markdown for all targets, or one per target."""

    common: str | None = None
    per_target: dict[str, str] = field(default_factory=dict)

    def text(self, target: str) -> str:
        """The Markdown for ``target`` ('html' or 'typst')."""
        return self.common if self.common is not None else self.per_target.get(target, "")


@dataclass
class Chapter:
    """One converted chapter (notebook or Markdown/qmd file)."""

    source: Path
    number: int | None
    title: str
    parts: list[Part] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def markdown(self, target: str) -> str:
        """The chapter as Markdown for ``target``."""
        return "\n\n".join(p.text(target) for p in self.parts if p.text(target).strip())


# ---------------------------------------------------------------- cell options
def split_cell_options(source: str) -> tuple[str, str]:
    """Split a code cell into its leading ``#|`` option lines (YAML) and the remaining code."""
    lines = source.splitlines()
    opts: list[str] = []
    i = 0
    while i < len(lines) and lines[i].lstrip().startswith("#|"):
        opts.append(lines[i].lstrip()[2:].removeprefix(" "))
        i += 1
    return "\n".join(opts), "\n".join(lines[i:]).strip("\n")


def parse_cell_options(source: str, where: str = "cell") -> tuple[dict[str, object], str]:
    """Parse the ``#|`` options of a code cell; return (options, code without them).

    Raises :class:`PublishError` naming ``where`` when the options are not valid YAML.
    """
    text, code = split_cell_options(source)
    if not text.strip():
        return {}, code
    try:
        opts = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise PublishError(f"{where}: the '#|' cell options are not valid YAML ({exc}); "
                           "write one 'key: value' per '#|' line") from exc
    if not isinstance(opts, dict):
        raise PublishError(f"{where}: the '#|' cell options must be 'key: value' lines")
    return {str(k): v for k, v in opts.items()}, code


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return "" if value is None else str(value)


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    return None


def typst_string(text: str) -> str:
    """Quote ``text`` as a Typst string literal (:func:`safeguarding.escape.typst`; long words kept whole)."""
    return escape.typst(text, breakable=False)


def _attr_value(text: str) -> str:
    """Quote text for a pandoc attribute value (:func:`safeguarding.escape.attribute`)."""
    return escape.attribute(text)


def _plain(text: str) -> str:
    """Markdown inline text as plain text: emphasis and link syntax removed, backslash escapes undone.

    Escaped characters (``\\*``, ``\\[`` ...) are literal text and are kept, so a
    caption holding a value from the data reads exactly as the value.
    """
    held: list[str] = []

    def hold(m: re.Match[str]) -> str:
        held.append(m.group(1))
        return f"\ue000{len(held) - 1}\ue001"

    text = escape.MARKDOWN_ESCAPED.sub(hold, text)
    text = re.sub(r"[*_`]{1,3}([^*_`]+)[*_`]{1,3}", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text).strip()
    return re.sub("\ue000(\\d+)\ue001", lambda m: held[int(m.group(1))], text)


def merge_index_header(html: str) -> str:
    """Fold pandas' separate index-name header row into the column header row.

    ``DataFrame.to_html`` with a named index writes two header rows: the column
    names, then the index name above an otherwise empty row. Readers (and
    screen readers) expect one header row, so the index name moves into the
    first cell of the first row.
    """
    m = re.search(r"<thead>(.*?)</thead>", html, flags=re.S | re.I)
    if not m:
        return html
    rows = re.findall(r"<tr[^>]*>.*?</tr>", m.group(1), flags=re.S | re.I)
    if len(rows) != 2:
        return html
    cells2 = re.findall(r"<th[^>]*>(.*?)</th>", rows[1], flags=re.S | re.I)
    cells1 = re.findall(r"<th[^>]*>(.*?)</th>", rows[0], flags=re.S | re.I)
    if not cells2 or not cells2[0].strip() or any(c.strip() for c in cells2[1:]) or len(cells1) != len(cells2):
        return html
    first = re.sub(r"(<th[^>]*>)(.*?)(</th>)", lambda t: t.group(1) + cells2[0] + t.group(3), rows[0], count=1,
                   flags=re.S | re.I)
    return html[: m.start()] + f"<thead>\n{first}\n</thead>" + html[m.end():]


def html_table_to_markdown(html: str) -> str:
    """Convert an HTML table (e.g. ``DataFrame.to_html``) to a pandoc Markdown table."""
    import pypandoc

    html = merge_index_header(re.sub(r"<style.*?</style>", "", html, flags=re.S | re.I))
    md = pypandoc.convert_text(
        html, "markdown-raw_html-native_divs-native_spans-fenced_divs-bracketed_spans-link_attributes"
        "-simple_tables-multiline_tables", format="html", extra_args=["--wrap=none"],
    )
    return md.strip()


def _inject_caption(html: str, caption: str | None, label: str | None) -> str:
    """Give a raw HTML table its caption and id (the first ``<table`` only)."""
    m = re.search(r"<table\b([^>]*)>", html, flags=re.I)
    if not m:
        return html
    attrs = m.group(1)
    html = re.sub(r"<style scoped>.*?</style>", "", html, flags=re.S | re.I)  # pandas' own table style
    m = re.search(r"<table\b([^>]*)>", html, flags=re.I)
    if not m:
        return html
    if label and "id=" not in attrs:
        attrs += f' id="{html_escape(label)}"'
    attrs = re.sub(r'\sborder="\d+"', "", attrs)
    opening = f"<table{attrs}>"
    if caption:
        opening += f"<caption>{html_escape(caption)}</caption>"
    return html[: m.start()] + opening + html[m.end():]


# ---------------------------------------------------------------- conversion
@dataclass
class _State:
    chapter_number: int | None
    chapter_slug: str
    media_dir: Path
    media_prefix: str
    figures: int = 0
    tables: int = 0
    images: int = 0

    def number(self, kind: str) -> str:
        if kind == "fig":
            self.figures += 1
            n = self.figures
        else:
            self.tables += 1
            n = self.tables
        return f"{self.chapter_number}.{n}" if self.chapter_number is not None else str(n)


def _first_heading(markdown: str) -> tuple[int, str] | None:
    fence = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
            continue
        if fence:
            continue
        m = _ATX_RE.match(line)
        if m:
            title = re.sub(r"\s*\{[^}]*\}\s*$", "", m.group(2))
            return len(m.group(1)), title.strip().rstrip("#").strip()
    return None


def _count_h1(markdown: str) -> int:
    fence, n = False, 0
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        elif not fence and re.match(r"^#[ \t]+\S", line):
            n += 1
    return n


def _unnumber_headings(markdown: str) -> str:
    """Add ``{.unnumbered}`` to every ATX heading without attributes (front matter chapters)."""
    out, fence = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        if not fence and _ATX_RE.match(line) and not line.rstrip().endswith("}"):
            line = line.rstrip() + " {.unnumbered}"
        out.append(line)
    return "\n".join(out)


def _figure_parts(state: _State, data: bytes, ext: str, caption: str, alt: str, label: str | None,
                  narrow: bytes | None = None) -> Part:
    """The figure for each target; ``narrow`` is a phone-sized rendering the web page shows on narrow screens."""
    state.images += 1
    name = f"{state.chapter_slug}-{state.images:03d}.{ext}"
    (state.media_dir / name).write_bytes(data)
    rel = f"{state.media_prefix}/{name}"
    ident = f"#{label} " if label else ""
    extra = ""
    if narrow is not None:
        narrow_name = f"{state.chapter_slug}-{state.images:03d}.narrow.{ext}"
        (state.media_dir / narrow_name).write_bytes(narrow)
        # guard.lua (HTML only) turns this attribute into a second image shown below the phone breakpoint
        extra = f" narrow={_attr_value(f'{state.media_prefix}/{narrow_name}')}"
        narrow_size = _png_size(narrow) if ext == "png" else None
        if narrow_size:
            extra += f' narrow-width="{narrow_size[0] // 2}"'  # CSS pixels: drawn at 150 dpi, shown at 75
    html = f"![{caption}]({rel}){{{ident}alt={_attr_value(alt)}{extra}}}" if caption else (
        f"![]({rel}){{{ident}alt={_attr_value(alt)}{extra}}}\\ "
    )
    size = _png_size(data) if ext == "png" else None
    width = ", width: 100%" if size is None or size[0] >= 600 else ""
    cap = f", caption: {escape.typst(_plain(caption))}" if caption else ""
    lab = f" <{label}>" if label else ""
    # a chart floats to the top or bottom of a page (placement: auto) so the text goes on filling the page
    # instead of leaving it half empty when the chart does not fit below it
    typ = (f"```{{=typst}}\n#figure(image({typst_string(rel)}, alt: {typst_string(alt)}{width}){cap}, "
           f"placement: auto){lab}\n```")
    return Part(per_target={"html": html, "typst": typ})


def _table_caption_line(caption: str | None, label: str | None) -> str:
    if not caption:
        return ""
    ident = f" {{#{label}}}" if label else ""
    return f"\n\n: {caption}{ident}"


_FIG_LINE_RE = re.compile(r"^!\[(?P<cap>(?:\\.|[^\]\\])*)\]\((?P<src>[^)\s]+)\)"
                          r'(?:\{(?P<attrs>(?:"(?:\\.|[^"\\])*"|[^}"])*)\})?\s*$')
_CAPTION_RE = re.compile(r"^(?::|Table:)\s+(?P<cap>.+?)(?:\s+\{(?P<attrs>[^}]*)\})?\s*$")
_ATTR_KV_RE = re.compile(r'([\w-]+)="((?:\\.|[^"\\])*)"')


def _parse_attrs(attrs: str | None) -> tuple[str | None, dict[str, str]]:
    if not attrs:
        return None, {}
    ident = re.search(r"(?:^|\s)#([A-Za-z][\w-]*)", attrs)
    values = {k: re.sub(r"\\(.)", r"\1", v) for k, v in _ATTR_KV_RE.findall(attrs)}
    return (ident.group(1) if ident else None), values


def _number_table_captions(text: str, state: _State, chapter: Chapter) -> str:
    """Number every pipe-table caption (``: caption {#tbl-x}``) in Markdown text; register its label."""
    lines = text.split("\n")

    def neighbour_is_table(i: int, step: int) -> bool:
        j = i + step
        while 0 <= j < len(lines) and not lines[j].strip():
            j += step
        return 0 <= j < len(lines) and lines[j].lstrip().startswith("|")

    fence = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        m = None if fence else _CAPTION_RE.match(line)
        if not m or not (neighbour_is_table(i, -1) or neighbour_is_table(i, 1)):
            continue
        cap = m.group("cap")
        label, _ = _parse_attrs(m.group("attrs"))
        if not re.match(r"Table \d", cap):
            number = state.number("tbl")
            cap = f"Table {number}: {cap}"
            if label:
                chapter.labels[label] = f"Table {number}"
        attrs = f" {{{m.group('attrs')}}}" if m.group("attrs") else ""
        lines[i] = f": {cap}{attrs}"
    return "\n".join(lines)


def _has_table_caption(text: str) -> bool:
    return any(_CAPTION_RE.match(line) for line in text.split("\n"))


_COMMENT_RE = re.compile(r"<!--.*?(-->|\Z)", re.S)


def strip_comments(text: str) -> str:
    """Remove HTML comments (``<!-- note to analysts -->``) outside code fences, as Quarto does.

    Raw HTML is off in the published Markdown, so a comment would otherwise be
    shown as text; HTML for the page belongs in a raw cell (format ``html``).
    """
    out: list[str] = []
    chunk: list[str] = []
    fence = False
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            if not fence:
                out.append(_COMMENT_RE.sub("", "\n".join(chunk)))
                chunk = []
                out.append(line)
            else:
                out.append(line)
            fence = not fence
            continue
        (out if fence else chunk).append(line)
    if chunk:
        out.append(_COMMENT_RE.sub("", "\n".join(chunk)))
    return "\n".join(out)


def markdown_parts(text: str, where: str, state: _State, chapter: Chapter, base_dir: Path) -> list[Part]:
    """Split Markdown into parts: figure lines (``![cap](file){#fig-x fig-alt="..."}``) become numbered
    figures with alt text in both targets; table captions are numbered; the rest passes through."""
    text = _number_table_captions(strip_comments(text), state, chapter)
    parts: list[Part] = []
    buffer: list[str] = []
    fence = False
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        m = None if fence else _FIG_LINE_RE.match(line.strip())
        if not m:
            buffer.append(line)
            continue
        if buffer:
            parts.append(Part(common="\n".join(buffer)))
            buffer = []
        label, kv = _parse_attrs(m.group("attrs"))
        src = m.group("src")
        if re.match(r"^(https?:)?//", src):
            raise PublishError(f"{where}: figure {src!r} is on the web; the report must be self-contained, so save "
                               "the image in the build folder")
        narrow = None
        if src.startswith("data:"):
            mime, _, payload = src[5:].partition(";base64,")
            blob, ext = base64.b64decode(payload), mime.split("/")[-1].replace("svg+xml", "svg")
        else:
            path = (base_dir / src).resolve()
            if Path(src).is_absolute() or not path.is_relative_to(base_dir.resolve()):
                raise PublishError(f"{where}: figure {src!r} is outside the build folder; only images the "
                                   "notebooks saved in the build folder are published")
            if not path.is_file():
                raise PublishError(f"{where}: figure file {src!r} not found (looked in {path.parent})")
            blob, ext = path.read_bytes(), path.suffix.lstrip(".").lower()
            narrow_file = path.with_name(f"{path.stem}.narrow{path.suffix}")
            narrow = narrow_file.read_bytes() if narrow_file.is_file() else None
        cap = m.group("cap").strip()
        alt = kv.get("fig-alt") or kv.get("alt")
        if not alt:
            if not cap:
                raise PublishError(f"{where}: figure {src!r} has no alt text or caption; add fig-alt=\"...\"")
            chapter.warnings.append(f"{where}: figure {src!r} has no fig-alt; its caption is used as alt text")
            alt = _plain(cap)
        caption = ""
        if cap:
            number = state.number("fig")
            caption = f"Figure {number}: {cap}"
            if label:
                chapter.labels[label] = f"Figure {number}"
        parts.append(_figure_parts(state, blob, ext, caption, alt, label if cap else None, narrow))
    if buffer:
        parts.append(Part(common="\n".join(buffer)))
    return parts


def convert_notebook(path: Path, *, chapter_number: int | None, media_dir: Path, media_prefix: str = "media",
                     default_echo: bool = False) -> Chapter:
    """Convert one executed notebook to a :class:`Chapter`.

    Images are written to ``media_dir`` and referenced as ``media_prefix/<file>``.
    Raises :class:`PublishError` when a cell has an error output, or options are invalid.
    """
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises several types for a corrupt file
        raise PublishError(f"{path}: cannot read the notebook ({exc}); re-run the notebook step") from exc
    name = path.name
    slug = re.sub(r"[^A-Za-z0-9]+", "-", path.stem).strip("-").lower() or "chapter"
    media_dir.mkdir(parents=True, exist_ok=True)
    state = _State(chapter_number, slug, media_dir, media_prefix)
    chapter = Chapter(source=path, number=chapter_number, title="")

    for index, cell in enumerate(nb.cells, start=1):
        tags = set(cell.get("metadata", {}).get("tags", []) or [])
        where = f"{name}, cell {index}"
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    raise PublishError(
                        f"{where}: the cell raised {out.get('ename', 'an error')}: {out.get('evalue', '')}. "
                        "Fix the notebook (or its data) and rebuild; a report with a failed cell is not published."
                    )
        if tags & DROP_TAGS:
            continue
        if cell.cell_type == "markdown":
            chapter.parts.extend(markdown_parts(_as_text(cell.source), where, state, chapter, path.parent))
        elif cell.cell_type == "raw":
            fmt = str(cell.get("metadata", {}).get("format", "") or cell.get("metadata", {}).get("raw_mimetype", ""))
            text = _as_text(cell.source)
            if "html" in fmt:
                chapter.parts.append(Part(per_target={"html": f"```{{=html}}\n{text}\n```"}))
            elif "typst" in fmt:
                chapter.parts.append(Part(per_target={"typst": f"```{{=typst}}\n{text}\n```"}))
            else:
                chapter.parts.append(Part(common=text))
        elif cell.cell_type == "code":
            chapter.parts.extend(_convert_code_cell(cell, where, state, chapter, default_echo, path.parent))

    whole = chapter.markdown("html")
    first = _first_heading(whole)
    if first is None or first[0] != 1:
        chapter.warnings.append(f"{name}: no level-1 heading first; Quarto uses the first '# ' heading as the "
                                "chapter title")
        chapter.title = first[1] if first else path.stem
    else:
        chapter.title = first[1]
    if _count_h1(whole) > 1:
        chapter.warnings.append(f"{name}: more than one level-1 heading; each notebook should have one '# ' "
                                "heading (the chapter title) and use '##' below it")
    return chapter


def _convert_code_cell(cell: Any, where: str, state: _State, chapter: Chapter, default_echo: bool,  # noqa: C901
                       base_dir: Path) -> list[Part]:
    opts, code = parse_cell_options(_as_text(cell.source), where)
    unknown = sorted(set(opts) - KNOWN_OPTIONS)
    if unknown:
        chapter.warnings.append(f"{where}: cell option(s) {', '.join(unknown)} not supported by the built-in "
                                "publisher (ignored)")
    if opts.get("include") is False:
        return []
    parts: list[Part] = []
    echo = opts.get("echo", default_echo)
    if echo and code.strip():
        parts.append(Part(common=f"```python\n{code}\n```"))
    output = opts.get("output", True)
    if output is False:
        return parts
    asis = str(output).lower() == "asis"
    label = opts.get("label")
    label = str(label) if label else None
    if label and not re.fullmatch(r"[A-Za-z][\w-]*", label):
        raise PublishError(f"{where}: label {label!r} must start with a letter and hold only letters, digits, "
                           "'-' and '_' (e.g. fig-referrals)")
    fig_caps = opts.get("fig-cap")
    fig_alts = opts.get("fig-alt")
    fig_caps = fig_caps if isinstance(fig_caps, list) else ([fig_caps] if fig_caps else [])
    fig_alts = fig_alts if isinstance(fig_alts, list) else ([fig_alts] if fig_alts else [])
    tbl_cap = opts.get("tbl-cap")
    n_fig = n_tbl = 0

    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            text = _as_text(out.get("text"))
            if asis and out.get("name") == "stdout":
                parts.append(Part(common=text))
            elif text.strip():
                stream = out.get("name", "stream")
                chapter.warnings.append(f"{where}: {stream} output not published ({text.strip()[:60]!r}); "
                                        "use display(Markdown(...)) or '#| output: asis' to publish text")
            continue
        if kind not in {"display_data", "execute_result"}:
            continue
        data = out.get("data", {})
        meta = out.get("metadata", {}) or {}
        if "text/markdown" in data:
            md = _as_text(data["text/markdown"])
            is_table = bool(re.search(r"^\s*\|.*\|\s*$", md, flags=re.M))
            if is_table and tbl_cap and n_tbl == 0 and not _has_table_caption(md):
                md += _caption_for_table(state, chapter, tbl_cap, label if _is_tbl(label) else None, meta)
            n_tbl += int(is_table)
            parts.extend(markdown_parts(md, where, state, chapter, base_dir))
        elif any(m in data for m in ("image/png", "image/svg+xml", "image/jpeg")):
            mime = next(m for m in ("image/png", "image/svg+xml", "image/jpeg") if m in data)
            raw = data[mime]
            blob = _as_text(raw).encode("utf-8") if mime == "image/svg+xml" else base64.b64decode(_as_text(raw))
            ext = {"image/png": "png", "image/svg+xml": "svg", "image/jpeg": "jpg"}[mime]
            cap = meta.get("fig-cap") or (fig_caps[n_fig] if n_fig < len(fig_caps) else None)
            alt = meta.get("fig-alt") or (fig_alts[n_fig] if n_fig < len(fig_alts) else None)
            if not alt:
                if not cap:
                    raise PublishError(
                        f"{where}: a figure has no alt text or caption; add '#| fig-alt: ...' and '#| fig-cap: ...' "
                        "(screen-reader users and the accessible PDF need them)"
                    )
                chapter.warnings.append(f"{where}: figure has no fig-alt; its caption is used as alt text")
                alt = _plain(str(cap))
            fig_label = label if (n_fig == 0 and _is_fig(label)) else None
            caption = ""
            if cap:
                number = state.number("fig")
                caption = f"Figure {number}: {cap}"
                if fig_label:
                    chapter.labels[fig_label] = f"Figure {number}"
            elif fig_label:
                chapter.warnings.append(f"{where}: label {fig_label} has no fig-cap, so it cannot be referenced")
                fig_label = None
            parts.append(_figure_parts(state, blob, ext, caption, str(alt), fig_label))
            n_fig += 1
        elif "text/html" in data:
            html = _as_text(data["text/html"])
            if re.search(r"<script\b", html, flags=re.I):
                chapter.warnings.append(f"{where}: HTML output contains a script; it may make network requests")
            if "<table" in html.lower():
                cap_line, cap_text = "", None
                tlabel = label if (n_tbl == 0 and _is_tbl(label)) else None
                if tbl_cap and n_tbl == 0:
                    cap_line = _caption_for_table(state, chapter, tbl_cap, tlabel, meta)
                    cap_text = cap_line.split(": ", 1)[1].rsplit(" {#", 1)[0] if cap_line else None
                n_tbl += 1
                html_part = ('```{=html}\n<div class="table-wrap" tabindex="0" role="region" '
                             f'aria-label="{html_escape(_plain(cap_text or "Table"))}">\n'
                             f"{_inject_caption(merge_index_header(html), cap_text, tlabel)}\n</div>\n```")
                parts.append(Part(per_target={"html": html_part,
                                              "typst": html_table_to_markdown(html) + cap_line}))
            else:
                parts.append(Part(per_target={"html": f"```{{=html}}\n{html}\n```",
                                              "typst": html_table_to_markdown(html)}))
        elif "text/plain" in data:
            text = _as_text(data["text/plain"]).strip()
            if asis and not _REPR_RE.match(text):
                parts.append(Part(common=text))
            elif text:
                chapter.warnings.append(f"{where}: plain-text result not published ({text[:60]!r}); end the cell "
                                        "with ';' or display(Markdown(...))")
    if tbl_cap and n_tbl == 0:
        chapter.warnings.append(f"{where}: tbl-cap given but the cell shows no table")
    if fig_caps and n_fig == 0:
        chapter.warnings.append(f"{where}: fig-cap given but the cell shows no figure")
    return parts


def _is_fig(label: str | None) -> bool:
    return bool(label) and str(label).startswith("fig-")


def _is_tbl(label: str | None) -> bool:
    return bool(label) and str(label).startswith("tbl-")


def _caption_for_table(state: _State, chapter: Chapter, tbl_cap: Any, label: str | None, meta: dict) -> str:
    cap = meta.get("tbl-cap") or tbl_cap
    number = state.number("tbl")
    if label:
        chapter.labels[label] = f"Table {number}"
    return _table_caption_line(f"Table {number}: {cap}", label)


def convert_markdown_file(path: Path, *, chapter_number: int | None) -> Chapter:
    """Convert a ``.md``/``.qmd`` chapter (Markdown only; no code chunks) to a :class:`Chapter`."""
    text = path.read_text(encoding="utf-8")
    meta: dict[str, Any] = {}
    m = re.match(r"^---\s*\n(.*?)\n---\s*\n", text, flags=re.S)
    if m:
        meta = yaml.safe_load(m.group(1)) or {}
        text = text[m.end():]
    if re.search(r"^```\s*\{(python|r|julia)", text, flags=re.M | re.I):
        raise PublishError(f"{path.name}: the built-in publisher does not execute code chunks in .qmd files; "
                           "move the code to a notebook chapter")
    text = strip_comments(text)
    chapter = Chapter(source=path, number=chapter_number, title="")
    first = _first_heading(text)
    if (first is None or first[0] != 1) and meta.get("title"):
        text = f"# {meta['title']}\n\n{text}"
    if chapter_number is None:
        text = _unnumber_headings(text)
    first = _first_heading(text)
    chapter.title = first[1] if first else path.stem
    chapter.parts.append(Part(common=text))
    return chapter


def resolve_cross_references(markdown: str, labels: dict[str, str]) -> tuple[str, list[str]]:
    """Replace ``@fig-x`` / ``@tbl-x`` with links to the numbered figure or table; list unresolved ones."""
    missing: list[str] = []

    def repl(m: re.Match[str]) -> str:
        label = m.group(1)
        if label in labels:
            return f"[{labels[label]}](#{label})"
        missing.append(label)
        return f"?{label}"

    out_lines, fence = [], False
    for line in markdown.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        out_lines.append(line if fence else _XREF_RE.sub(repl, line))
    return "\n".join(out_lines), missing
