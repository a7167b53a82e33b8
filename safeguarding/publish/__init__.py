"""Publish executed notebooks as the annual review: one self-contained HTML page and an A4 PDF.

``_quarto.yml`` describes the report (a Quarto book whose chapters are the
executed notebooks). :func:`publish` renders it with Quarto when the ``quarto``
command is installed, and otherwise with the built-in publisher (pandoc and
typst driven directly), which reads the same file.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from safeguarding.publish.builtin import MARKING, PublishResult, publish_builtin
from safeguarding.publish.checks import safety_problems
from safeguarding.publish.notebook_md import PublishError
from safeguarding.publish.quarto_config import QuartoConfig, QuartoConfigError, load_quarto_config

__all__ = [
    "MARKING",
    "PublishError",
    "PublishResult",
    "QuartoConfig",
    "QuartoConfigError",
    "choose_renderer",
    "load_quarto_config",
    "publish",
]

RENDERERS = ("auto", "quarto", "builtin")


def choose_renderer(renderer: str = "auto") -> str:
    """Resolve ``auto`` to ``quarto`` when the command is on PATH, else ``builtin``; check the name."""
    if renderer not in RENDERERS:
        raise PublishError(f"renderer must be one of {', '.join(RENDERERS)}, not {renderer!r}")
    if renderer == "auto":
        return "quarto" if shutil.which("quarto") else "builtin"
    if renderer == "quarto" and not shutil.which("quarto"):
        raise PublishError(
            "--renderer quarto: the 'quarto' command is not on PATH. Install Quarto (https://quarto.org) "
            "or use --renderer builtin (the default when Quarto is absent)"
        )
    return renderer


def publish(build_dir: Path, out_dir: Path, *, quarto_yml: Path, renderer: str = "auto",
            audience: str = "public", metadata_overrides: Mapping[str, object] | None = None,
            basename: str = "annual-review") -> PublishResult:
    """Publish the executed notebooks in ``build_dir`` to ``out_dir/<basename>.html`` and ``.pdf``.

    ``quarto_yml`` is the project's ``_quarto.yml`` (chapter list and format
    options); its ``book.chapters`` are looked up in ``build_dir``.
    ``metadata_overrides`` may set ``title``, ``subtitle``, ``author``, ``date``
    or ``chapters`` (e.g. the area and year from ``report.yml``). ``audience``
    ``board`` marks every page OFFICIAL-SENSITIVE. Raises :class:`PublishError`
    (or :class:`QuartoConfigError`) with the notebook, cell and fix on failure.
    """
    qcfg = load_quarto_config(quarto_yml, metadata_overrides)
    chosen = choose_renderer(renderer)
    if chosen == "quarto":
        from safeguarding.publish.quarto import publish_quarto

        result = publish_quarto(Path(build_dir), Path(out_dir), qcfg, audience=audience, basename=basename,
                                metadata_overrides=metadata_overrides)
        problems = safety_problems(result.html)
        if problems:
            Path(result.html).unlink(missing_ok=True)
            raise PublishError("the web page Quarto made would load or run something from outside it, so it "
                               "was not published: " + "; ".join(problems[:10]))
        return result
    return publish_builtin(Path(build_dir), Path(out_dir), qcfg, audience=audience, basename=basename)
