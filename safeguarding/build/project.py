"""The project a build reads: its chapters, publishing settings, input files, editorial files, output
folder and the package versions recorded in every run."""

from __future__ import annotations

import importlib.metadata
import platform
from collections.abc import Callable
from pathlib import Path

from safeguarding.config import Config, ConfigError
from safeguarding.editorial import Editorial, EditorialError, load_editorial

#: the project skeleton shipped with the package (links to the repository's ``notebooks/`` and
#: ``_quarto.yml``, so there is one copy): used when a project folder has no chapters of its own
SKELETON = Path(__file__).resolve().parent.parent / "_project"
NOTEBOOK_DIR = SKELETON / "notebooks"
QUARTO_YML = SKELETON / "_quarto.yml"

#: packages whose versions are recorded in every run log
RECORDED_PACKAGES = (
    "pandas", "numpy", "scipy", "statsmodels", "matplotlib", "seaborn", "pyarrow", "openpyxl", "XlsxWriter",
    "holidays", "papermill", "nbformat", "nbclient", "pypandoc-binary", "typst", "PyYAML",
)

#: chapters (``NN-<name>.ipynb``) published only when the editorial content has something for them
OPTIONAL_CHAPTERS: dict[str, Callable[[Editorial], bool]] = {
    "partnership": lambda ed: ed.has_partnership_chapter,
}


def output_dir_for(cfg: Config, audience: str) -> Path:
    """Where a build for ``audience`` is published.

    Public builds go to ``reports/<area>/<year>/``; board builds, which are
    unsuppressed, go to a separate ``reports/<area>/<year>-board/`` so that a
    board pack can never overwrite or sit inside the folder meant for the web.
    """
    suffix = "" if audience == "public" else "-board"
    out = cfg.reports_dir / cfg.area_slug / f"{cfg.year}{suffix}"
    root = cfg.reports_dir.resolve()
    resolved = out.resolve()
    if resolved == root or not resolved.is_relative_to(root) or resolved.parent.parent != root:
        raise ConfigError(f"{cfg.path}: area.slug {cfg.area_slug!r} would publish to {resolved}, outside "
                          f"{root}/<area>/; a slug is lower-case letters, digits and hyphens, e.g. 'northwold'")
    return out


def input_files(cfg: Config) -> dict[str, Path]:
    """Every configured input file (child-level tables and aggregate returns)."""
    files: dict[str, Path] = {}
    for name, spec in cfg.inputs.items():
        files[f"inputs.{name}"] = cfg.resolve(spec.file)
    for ret in cfg.aggregates:
        files[ret.key] = cfg.resolve(ret.file)
    return files


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape the outputs."""
    out = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    from safeguarding import __version__

    out["safeguarding"] = __version__
    return out


def chapter_notebooks(folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """The chapter notebooks in order (``NN-name.ipynb``)."""
    return sorted(p for p in folder.glob("[0-9][0-9]-*.ipynb"))


def project_notebooks(cfg: Config) -> Path:
    """The chapter notebooks' folder: the project's own ``notebooks/`` (beside ``report.yml``), else the package's."""
    own = cfg.root / "notebooks"
    return own if chapter_notebooks(own) else NOTEBOOK_DIR


def project_quarto_yml(cfg: Config) -> Path:
    """The publishing settings: the project's own ``_quarto.yml`` (beside ``report.yml``), else the package's."""
    own = cfg.root / "_quarto.yml"
    return own if own.is_file() else QUARTO_YML


def check_editorial(cfg: Config) -> Editorial:
    """Read and check the editorial files (``report.yml`` ``editorial:``) before anything runs.

    A wrong file stops the build as a configuration error does (exit status 2),
    naming the file, the row or key and the fix; nothing is read or written.
    """
    try:
        editorial = load_editorial(cfg)
    except EditorialError as exc:
        raise ConfigError(f"{cfg.path}: {exc}", ()) from exc
    named = [(i, code) for i, p in enumerate(editorial.priorities, start=1) for code in p.indicators]
    if named:
        from safeguarding.indicators.catalogue import load_catalogue

        known = set(load_catalogue(cfg).codes)
        unknown = [f"priority {i}.indicators: {code!r} is not in the indicator catalogue" for i, code in named
                   if code not in known]
        if unknown:
            raise ConfigError(f"{cfg.path}: {editorial.folder}/priorities.yml: " + "; ".join(unknown)
                              + f"; the indicators are {', '.join(sorted(known))} (docs/catalogue.md)", ())
    return editorial


def chapters_left_out(notebooks: list[Path], editorial: Editorial) -> list[str]:
    """The names of the chapter notebooks with nothing to publish (:data:`OPTIONAL_CHAPTERS`)."""
    out = []
    for nb in notebooks:
        wanted = OPTIONAL_CHAPTERS.get(nb.stem.split("-", 1)[-1])
        if wanted is not None and not wanted(editorial):
            out.append(nb.name)
    return out
