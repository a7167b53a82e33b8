"""The built-in publisher: executed notebooks -> one Markdown document -> pandoc -> HTML and Typst -> PDF.

It does what Quarto does for this report with the same two engines Quarto
uses (pandoc from ``pypandoc-binary`` and the ``typst`` Python module), and it
takes every setting from ``_quarto.yml`` (see :mod:`.quarto_config`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import SupportsIndex, SupportsInt

import yaml

from safeguarding import escape
from safeguarding.publish.checks import safety_problems
from safeguarding.publish.notebook_md import (
    Chapter,
    PublishError,
    convert_markdown_file,
    convert_notebook,
    resolve_cross_references,
    typst_string,
)
from safeguarding.publish.quarto_config import QuartoConfig

MARKING = "OFFICIAL-SENSITIVE — not for publication"
#: Pandoc's Markdown with raw HTML, raw TeX and citations switched off: nothing in the text
#: becomes a tag or a citation (HTML for the page comes only from ```{=html} blocks the
#: publisher writes); ``raw_attribute`` stays for those blocks and the Typst figures.
MARKDOWN_FORMAT = "markdown-raw_html-raw_tex-citations"
AUDIENCES = ("public", "board")
_LENGTH_RE = re.compile(r"^\d+(\.\d+)?(cm|mm|in|pt|em)$")
_MARGIN_KEYS = {"x", "y", "top", "bottom", "left", "right", "inside", "outside", "rest"}


@dataclass
class PublishResult:
    """Where the published files are, and what the publisher wants the analyst to know."""

    html: Path
    pdf: Path
    warnings: list[str] = field(default_factory=list)
    renderer: str = "builtin"


def template_path(name: str) -> Path:
    """Path of a packaged template (``report.html``, ``.css``, ``.typ``, ``index.qmd``, ``guard.lua``)."""
    return Path(str(resources.files("safeguarding.publish").joinpath("templates", name)))


def pandoc_path() -> str:
    """The pandoc executable shipped by ``pypandoc-binary`` (or on PATH)."""
    try:
        import pypandoc

        return pypandoc.get_pandoc_path()
    except (ImportError, OSError) as exc:
        found = shutil.which("pandoc")
        if found:
            return found
        raise PublishError("pandoc not found: install the requirements (pypandoc-binary ships pandoc)") from exc


#: the packaged "About this review"'s words for the default threshold, which :func:`front_matter` replaces
SMALL_COUNTS_DEFAULT = ("counts from 1 to 5 are shown as `c`, and so are some larger figures from which one of "
                        "them could be worked out (a `c` is not always a small count), so that no individual child "
                        "can be identified")


def front_matter(threshold_text: str | None) -> str:
    """The packaged "About this review" (``index.qmd``) saying the policy's threshold (``Policy.threshold_text``,
    e.g. ``"from 1 to 9"``; None: no threshold), so the first page never states a threshold the build did not use."""
    text = template_path("index.qmd").read_text(encoding="utf-8")
    if SMALL_COUNTS_DEFAULT not in text:  # pragma: no cover - the template and this constant are edited together
        raise PublishError("templates/index.qmd no longer holds the small-numbers sentence front_matter replaces")
    clause = (f"counts {threshold_text} are shown as `c`, and so are some larger figures from which one of them "
              "could be worked out (a `c` is not always a small count), so that no individual child can be "
              "identified") if threshold_text is not None else \
        "no count is withheld for being small"
    return text.replace(SMALL_COUNTS_DEFAULT, clause)


def find_chapter(name: str, build_dir: Path, quarto_yml: Path) -> Path:
    """Locate a chapter file in the build folder (executed notebooks only).

    Only ``index.qmd`` (front matter, nothing to execute) may also come from
    beside ``_quarto.yml`` or, failing that, the packaged "About this review".
    Unexecuted notebooks beside ``_quarto.yml`` are never used.
    """
    candidate = build_dir / name
    if candidate.is_file():
        return candidate
    if name == "index.qmd":
        beside = quarto_yml.parent / name
        return beside if beside.is_file() else template_path("index.qmd")
    raise PublishError(
        f"chapter {name!r} listed in {quarto_yml.name} (book.chapters) was not found in {build_dir}; "
        "run the notebook step first, or correct the chapter list"
    )


def convert_chapters(build_dir: Path, qcfg: QuartoConfig, media_dir: Path) -> tuple[list[Chapter], list[str]]:
    """Convert every chapter of the book, in order; return the chapters and their warnings."""
    chapters: list[Chapter] = []
    warnings: list[str] = []
    number_sections = bool(qcfg.html_option("number-sections", True))
    n = 0
    for name in qcfg.chapters:
        path = find_chapter(name, build_dir, qcfg.path)
        unnumbered = Path(name).stem == "index"
        number = None if unnumbered else n + 1
        if not unnumbered:
            n += 1
        if path.suffix == ".ipynb":
            ch = convert_notebook(path, chapter_number=number if number_sections else None, media_dir=media_dir,
                                  media_prefix=media_dir.name, default_echo=qcfg.echo)
        elif path.suffix in {".qmd", ".md"}:
            ch = convert_markdown_file(path, chapter_number=number)
        else:
            raise PublishError(f"chapter {name!r}: only .ipynb, .qmd and .md chapters are supported")
        chapters.append(ch)
        warnings.extend(ch.warnings)
    return chapters, warnings


def assemble(chapters: list[Chapter], target: str) -> tuple[str, list[str]]:
    """Join the chapters into one Markdown document for ``target``; resolve cross references."""
    labels: dict[str, str] = {}
    for ch in chapters:
        labels.update(ch.labels)
    body = "\n\n".join(ch.markdown(target) for ch in chapters)
    body, missing = resolve_cross_references(body, labels)
    warnings = [f"cross reference @{m} does not match any labelled figure or table" for m in sorted(set(missing))]
    return body + "\n", warnings


def tune_typst(source: str) -> str:
    """House style pandoc's Typst writer cannot express: tables left-aligned and full width.

    Pandoc centres every table and sizes columns to content; a report reads
    better with tables on the text's left edge, the label column taking the
    spare width and figure columns sized to their numbers.
    """
    source = source.replace("align(center)[#table(", "align(left)[#table(")
    source = _keep_short_tables_together(source)
    # tables converted from HTML carry no alignment: labels left, figures right
    source = re.sub(r"align: \(auto,((?:auto,)*)\)",
                    lambda m: "align: (left," + "right," * m.group(1).count("auto") + ")", source)
    return re.sub(r"(#table\(\s*columns: )(\d+),",
                  lambda m: f"{m.group(1)}(1fr,) + (auto,) * {int(m.group(2)) - 1},", source)


#: a table with at most this many body rows is never split across pages (so none leaves a row behind)
KEEP_TOGETHER_ROWS = 30
_TABLE_FIGURE_RE = re.compile(r"^#figure\(\n  align\(left\)\[#table\(\n(?P<body>.*?)\n  \)\]\n"
                              r"(?P<tail>.*?, kind: table\n  \))(?P<label>\n<[^>\n]+>)?", re.S | re.M)


def _keep_short_tables_together(source: str) -> str:
    """Wrap each table figure of up to :data:`KEEP_TOGETHER_ROWS` rows in an unbreakable block.

    A longer table may break across pages; its header row repeats on the next page.
    """
    def keep(m: re.Match[str]) -> str:
        rows = sum(1 for line in m.group("body").split("\n") if line.startswith("    ["))
        if rows > KEEP_TOGETHER_ROWS:
            return m.group(0)
        label = (m.group("label") or "").strip()
        inner = m.group(0)[: m.end("tail") - m.start()]
        return f"#block(breakable: false)[{inner}{(' ' + label) if label else ''}]"

    return _TABLE_FIGURE_RE.sub(keep, source)


def _run_pandoc(args: list[str], cwd: Path) -> None:
    proc = subprocess.run([pandoc_path(), *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise PublishError(f"pandoc failed ({proc.returncode}): {proc.stderr.strip()[:2000]}")


def _lang_region(lang: str) -> tuple[str, str]:
    parts = re.split(r"[-_]", lang)
    return parts[0].lower(), (parts[1].upper() if len(parts) > 1 else "")


def _int(value: object) -> int:
    """``int(value)`` of a setting of ``_quarto.yml`` (a number or a string; anything else fails as int() does)."""
    if isinstance(value, str | bytes | bytearray | SupportsInt | SupportsIndex):
        return int(value)
    raise TypeError(f"int() argument must be a string, a bytes-like object or a real number, "
                    f"not '{type(value).__name__}'")


def _typst_length(value: object, key: str) -> str:
    text = str(value).strip()
    if not _LENGTH_RE.match(text):
        raise PublishError(f"_quarto.yml: format.typst.{key} = {value!r} is not a length; use e.g. 2cm, 20mm, 1in")
    return text


def typst_settings(qcfg: QuartoConfig, audience: str) -> str:
    """The Typst ``#let`` settings block derived from ``_quarto.yml`` and the audience."""
    margin = qcfg.typst_option("margin", {"x": "2cm", "y": "2.5cm"})
    if isinstance(margin, dict):
        bad = set(margin) - _MARGIN_KEYS
        if bad:
            raise PublishError(f"_quarto.yml: format.typst.margin has unknown side(s) {sorted(bad)}; "
                               f"use {sorted(_MARGIN_KEYS)}")
        margin_typ = "(" + ", ".join(f"{k}: {_typst_length(v, 'margin')}" for k, v in margin.items()) + ",)"
    else:
        margin_typ = _typst_length(margin, "margin")
    font = qcfg.typst_option("mainfont") or "DejaVu Sans"
    if isinstance(font, str):
        fonts = [font]
    elif isinstance(font, Iterable):
        fonts = list(font)
    else:
        raise TypeError(f"'{type(font).__name__}' object is not iterable")  # as list() says
    fonts += [f for f in ("DejaVu Sans", "Libertinus Serif") if f not in fonts]
    fontsize = _typst_length(qcfg.typst_option("fontsize", "10pt"), "fontsize")
    numbered = bool(qcfg.typst_option("number-sections", True))
    numbering = qcfg.typst_option("section-numbering", "1.1") if numbered else None
    lang, region = _lang_region(str(qcfg.typst_option("lang", qcfg.lang)))
    subtitle = qcfg.subtitle
    footer_left = qcfg.title + (f" — {qcfg.subtitle}" if qcfg.subtitle else "")
    lines = [
        f"#let sg-title = {typst_string(qcfg.title)}",
        f"#let sg-subtitle = {typst_string(subtitle)}",
        f"#let sg-date = {typst_string(qcfg.date)}",
        f"#let sg-status = {typst_string(qcfg.status)}",
        f"#let sg-draft = {'true' if qcfg.draft else 'false'}",
        "#let sg-authors = (" + "".join(f"{typst_string(a)}, " for a in qcfg.authors) + ")",
        f"#let sg-footer-left = {typst_string(footer_left)}",
        f"#let sg-lang = {typst_string(lang)}",
        f"#let sg-region = {typst_string(region) if region else 'none'}",
        "#let sg-fonts = (" + "".join(f"{typst_string(f)}, " for f in fonts) + ")",
        f"#let sg-fontsize = {fontsize}",
        f"#let sg-paper = {typst_string(str(qcfg.typst_option('papersize', 'a4')).lower())}",
        f"#let sg-margin = {margin_typ}",
        f"#let sg-numbering = {typst_string(str(numbering)) if numbering else 'none'}",
        f"#let sg-toc = {'true' if qcfg.typst_option('toc', True) else 'false'}",
        f"#let sg-toc-depth = {_int(qcfg.typst_option('toc-depth', 2))}",
        f"#let sg-toc-title = {typst_string(str(qcfg.typst_option('toc-title', 'Contents')))}",
        f"#let sg-board = {'true' if audience == 'board' else 'false'}",
        f"#let sg-marking = {typst_string(MARKING)}",
    ]
    return "\n".join(lines) + "\n"


def _metadata(qcfg: QuartoConfig, audience: str) -> dict:
    # pandoc reads metadata values as Markdown: the title holds the area's name, so every value is escaped
    md = escape.markdown
    meta: dict = {"title": md(qcfg.title), "lang": qcfg.lang,
                  "toc-title": md(str(qcfg.html_option("toc-title", "Contents")))}
    if qcfg.subtitle:
        meta["subtitle"] = md(qcfg.subtitle)
    if qcfg.authors:
        meta["author"] = [md(a) for a in qcfg.authors]
    if qcfg.date:
        meta["date"] = md(qcfg.date)
    if qcfg.status:
        meta["status"] = md(qcfg.status)
    if qcfg.draft:
        meta["draft"] = True
    if audience == "board":
        meta["board"] = True
        meta["marking"] = md(MARKING)
    return meta


def render_html(markdown_path: Path, out: Path, qcfg: QuartoConfig, work: Path) -> list[str]:
    """Run pandoc: Markdown -> one self-contained HTML file (images and CSS embedded, no scripts)."""
    warnings: list[str] = []
    if qcfg.html_option("embed-resources", qcfg.html_option("self-contained", True)) is False:
        warnings.append("_quarto.yml: embed-resources is false; the built-in publisher always embeds resources "
                        "(the page must work offline)")
    args = [
        markdown_path.name, f"--from={MARKDOWN_FORMAT}", "--to=html5", f"--lua-filter={template_path('guard.lua')}",
        "--standalone", "--embed-resources",
        f"--template={template_path('report.html')}", f"--css={template_path('report.css')}",
        "--metadata-file=meta.yml", "--wrap=none", "--section-divs", f"--resource-path={work}",
        "--syntax-highlighting=monochrome",
        "-o", str(out),
    ]
    for css in _as_list(qcfg.html_option("css")):
        css_path = (qcfg.path.parent / css).resolve()
        if not css_path.is_file():
            raise PublishError(f"_quarto.yml: format.html.css {css!r} not found at {css_path}")
        args.append(f"--css={css_path}")
    if qcfg.html_option("toc", True):
        args += ["--toc", f"--toc-depth={_int(qcfg.html_option('toc-depth', 2))}"]
    if qcfg.html_option("number-sections", True):
        args.append("--number-sections")
    _run_pandoc(args, cwd=work)
    problems = safety_problems(out)
    if problems:
        out.unlink(missing_ok=True)
        raise PublishError("the web page would load or run something from outside it, so it was not published: "
                           + "; ".join(problems[:10]))
    return warnings


def render_pdf(markdown_path: Path, out: Path, qcfg: QuartoConfig, audience: str, work: Path) -> list[str]:
    """Run pandoc: Markdown -> Typst source, then ``typst.compile`` -> A4 PDF (PDF/UA-1 where possible)."""
    import typst

    warnings: list[str] = []
    (work / "settings.typ").write_text(typst_settings(qcfg, audience), encoding="utf-8")
    typ = work / "annual-review.typ"
    _run_pandoc([markdown_path.name, f"--from={MARKDOWN_FORMAT}", "--to=typst", "--standalone",
                 f"--lua-filter={template_path('guard.lua')}",
                 f"--template={template_path('report.typ')}", "--include-in-header=settings.typ",
                 "--metadata-file=meta.yml", "--wrap=none", "--syntax-highlighting=monochrome", "-o", typ.name],
                cwd=work)
    typ.write_text(tune_typst(typ.read_text(encoding="utf-8")), encoding="utf-8")
    font_paths = [p for p in ("/usr/share/fonts/truetype/dejavu",) if Path(p).is_dir()]
    try:
        pdf, typst_warnings = typst.compile_with_warnings(
            str(typ), root=str(work), format="pdf", font_paths=font_paths, pdf_standards=["ua-1"])
    except typst.TypstError as exc:
        if "PDF/UA" not in str(exc):
            raise PublishError(f"typst could not compile the PDF: {exc}") from exc
        warnings.append(f"PDF is not PDF/UA-1 (tagged, accessible) because: {exc}")
        try:
            pdf, typst_warnings = typst.compile_with_warnings(str(typ), root=str(work), format="pdf",
                                                              font_paths=font_paths)
        except typst.TypstError as exc2:
            raise PublishError(f"typst could not compile the PDF: {exc2}") from exc2
    for w in typst_warnings or []:
        warnings.append(f"typst: {getattr(w, 'message', w)}")
    out.write_bytes(pdf)
    return warnings


def _as_list(value: object) -> list[str]:
    if not value:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def publish_builtin(build_dir: Path, out_dir: Path, qcfg: QuartoConfig, *, audience: str = "public",
                    basename: str = "annual-review", work_dir: Path | None = None) -> PublishResult:
    """Publish the executed notebooks in ``build_dir`` as ``out_dir/<basename>.html`` and ``.pdf``.

    ``work_dir`` holds the intermediate Markdown, images and Typst source
    (default ``build_dir/_publish``); it is kept so a failed build can be inspected.
    """
    if audience not in AUDIENCES:
        raise PublishError(f"audience must be 'public' or 'board', not {audience!r}")
    build_dir = Path(build_dir)
    out_dir = Path(out_dir)
    work = Path(work_dir) if work_dir is not None else build_dir / "_publish"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    warnings = list(qcfg.warnings)

    chapters, chapter_warnings = convert_chapters(build_dir, qcfg, work / "media")
    warnings += chapter_warnings
    (work / "meta.yml").write_text(yaml.safe_dump(_metadata(qcfg, audience), allow_unicode=True), encoding="utf-8")

    html_md, xref_warnings = assemble(chapters, "html")
    warnings += xref_warnings
    typst_md, _ = assemble(chapters, "typst")
    (work / "annual-review.html.md").write_text(html_md, encoding="utf-8")
    (work / "annual-review.typst.md").write_text(typst_md, encoding="utf-8")

    html_out = out_dir / f"{basename}.html"
    pdf_out = out_dir / f"{basename}.pdf"
    warnings += render_html(work / "annual-review.html.md", html_out.resolve(), qcfg, work)
    warnings += render_pdf(work / "annual-review.typst.md", pdf_out.resolve(), qcfg, audience, work)
    return PublishResult(html=html_out, pdf=pdf_out, warnings=warnings, renderer="builtin")
