"""The Quarto path: used when the ``quarto`` command is on PATH (``--renderer quarto`` or ``auto``).

- PDF: the book itself. ``_quarto.yml`` and the executed notebooks are copied
  into a staging project and ``quarto render --to typst`` renders them without
  executing anything (``execute: enabled: false``).
- HTML: a Quarto *book* in HTML is a multi-page website and Quarto refuses or
  ignores ``embed-resources`` for books (quarto-cli issues #360, #11316), but
  the board needs one self-contained file. So the chapters are merged into one
  ``annual-review.qmd`` (by the same notebook conversion the built-in publisher
  uses) and Quarto renders that single document with ``embed-resources``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import yaml

from safeguarding.publish.builtin import (
    AUDIENCES,
    MARKING,
    PublishResult,
    assemble,
    convert_chapters,
    find_chapter,
)
from safeguarding.publish.notebook_md import PublishError
from safeguarding.publish.quarto_config import QuartoConfig


def _run_quarto(args: list[str], cwd: Path) -> None:
    exe = shutil.which("quarto")
    if exe is None:
        raise PublishError("the 'quarto' command is not on PATH; use --renderer builtin")
    proc = subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise PublishError(f"quarto {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr.strip()[-3000:]}")


def staged_quarto_yml(qcfg: QuartoConfig, audience: str, overrides: Mapping[str, object] | None
                      ) -> dict[str, object]:
    """The ``_quarto.yml`` content for the staging project: overrides applied, board marking added."""
    raw = yaml.safe_load(qcfg.path.read_text(encoding="utf-8")) or {}
    book = raw.setdefault("book", {})
    book.update(overrides or {})
    raw.setdefault("execute", {})["enabled"] = False
    if audience == "board":
        typ = raw.setdefault("format", {}).setdefault("typst", {})
        typ["include-in-header"] = {
            "text": '#set page(header: align(center, text(weight: "bold", fill: rgb("#8a1c1c"))['
                    + MARKING + "]))"
        }
    return raw


def publish_quarto(build_dir: Path, out_dir: Path, qcfg: QuartoConfig, *, audience: str = "public",
                   basename: str = "annual-review", metadata_overrides: Mapping[str, object] | None = None
                   ) -> PublishResult:
    """Render the book's PDF and a single-file HTML page with Quarto; return where they are."""
    if audience not in AUDIENCES:
        raise PublishError(f"audience must be 'public' or 'board', not {audience!r}")
    warnings: list[str] = []
    stage = build_dir / "_quarto_project"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    for asset in build_dir.iterdir():  # figures/ and other files the notebooks wrote and reference
        if asset.is_dir() and not asset.name.startswith(("_", ".")):
            shutil.copytree(asset, stage / asset.name)
    for name in qcfg.chapters:
        src = find_chapter(name, build_dir, qcfg.path)
        dest = stage / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
    raw = staged_quarto_yml(qcfg, audience, metadata_overrides)
    (stage / "_quarto.yml").write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    _run_quarto(["render", ".", "--to", "typst"], cwd=stage)
    pdfs = sorted((stage / qcfg.output_dir).glob("*.pdf"))
    if not pdfs:
        raise PublishError(f"quarto produced no PDF in {stage / qcfg.output_dir}")

    single = build_dir / "_quarto_single"
    if single.exists():
        shutil.rmtree(single)
    single.mkdir(parents=True)
    chapters, chapter_warnings = convert_chapters(build_dir, qcfg, single / "media")
    warnings += chapter_warnings
    body, xref_warnings = assemble(chapters, "html")
    warnings += xref_warnings
    formats = raw.get("format") or {}
    assert isinstance(formats, dict), "load_quarto_config has checked that format is a mapping"
    html_fmt = dict(formats.get("html") or {})
    html_fmt["embed-resources"] = True
    if audience == "board":
        html_fmt["include-before-body"] = {"text": f'<p class="marking" role="note"><strong>{MARKING}</strong></p>'}
    front = {
        "title": qcfg.title, "subtitle": qcfg.subtitle or None, "author": qcfg.authors or None,
        "date": qcfg.date or None, "lang": qcfg.lang, "format": {"html": html_fmt},
    }
    front = {k: v for k, v in front.items() if v is not None}
    doc = single / f"{basename}.qmd"
    doc.write_text("---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n\n" + body,
                   encoding="utf-8")
    _run_quarto(["render", doc.name, "--to", "html"], cwd=single)

    out_dir.mkdir(parents=True, exist_ok=True)
    html_out, pdf_out = out_dir / f"{basename}.html", out_dir / f"{basename}.pdf"
    shutil.copy2(single / f"{basename}.html", html_out)
    shutil.copy2(pdfs[0], pdf_out)
    return PublishResult(html=html_out, pdf=pdf_out, warnings=warnings, renderer="quarto")
