"""``pipeline.py build``: ingest, indicators, notebooks and publishing in one run.

The build reads like the method: load the configuration, ingest the raw files,
compute the indicators, execute the chapter notebooks with papermill, publish
the HTML and PDF, write the published (suppressed) data, and only then replace
the previously published report. Every run gets a run id and a log
(``logs/<run id>/``) recording the configuration, package versions, input file
hashes, stage timings and the outcome. If any stage fails the exit status is
non-zero, the message says which stage and why, and the last published report
is left exactly as it was.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import json
import logging
import os
import platform
import shutil
import signal
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safeguarding.cache import Incremental
from safeguarding.config import Config, ConfigError, load_config
from safeguarding.editorial import Editorial, EditorialError, load_editorial
from safeguarding.hashing import file_sha256
from safeguarding.lock import LockedError, build_lock

#: the project skeleton shipped with the package (links to the repository's ``notebooks/`` and
#: ``_quarto.yml``, so there is one copy): used when a project folder has no chapters of its own
SKELETON = Path(__file__).resolve().parent / "_project"
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

#: chapter notebooks executed at once by default (each kernel takes a core while it starts and imports)
DEFAULT_JOBS = 2

STAGES = ("ingest", "indicators", "disclosure", "notebooks", "publish", "data", "replace", "site")


class BuildInterrupted(BaseException):
    """The build was stopped by SIGINT (Ctrl-C) or SIGTERM; its processes were stopped and nothing published."""

    def __init__(self, signal_name: str, log_dir: Path | None = None) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name
        self.log_dir = log_dir


class BuildError(RuntimeError):
    """A stage of the build failed; ``stage`` names it."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(f"{stage}: {message}")
        self.stage = stage
        self.message = message


@dataclass
class BuildResult:
    """What a build produced and how long each stage took."""

    run_id: str
    output_dir: Path
    html: Path
    pdf: Path
    data_files: list[Path]
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    log_dir: Path | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pipeline.py build``."""
    parser.add_argument("--config", default="report.yml", help="configuration file (default: report.yml)")
    parser.add_argument("--year", type=int, help="reporting year ending 31 March, e.g. 2025 for 2024-25")
    parser.add_argument("--audience", choices=("public", "board"),
                        help="public (suppressed, default) or board (everything, OFFICIAL-SENSITIVE)")
    parser.add_argument("--renderer", choices=("auto", "quarto", "builtin"), default="auto",
                        help="quarto if on PATH (auto), or the built-in pandoc + typst publisher")
    parser.add_argument("--allow-missing-inputs", action="store_true",
                        help="publish even when an input table could not be built (its sections say 'not available')")
    parser.add_argument("--keep-build", action="store_true", help="keep the working folder with executed notebooks")
    parser.add_argument("--force", action="store_true",
                        help="run every stage even when its inputs are unchanged (the cache is refreshed)")
    parser.add_argument("--kernels", type=int, default=None, metavar="N",
                        help=f"chapter notebooks executed at once, each in its own kernel (default: "
                             f"{DEFAULT_JOBS}, or one per core on a machine with fewer; with --areas, the cores "
                             "shared between the areas built at once)")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait up to SECONDS for another build using the same folders to finish (default: stop)")
    parser.add_argument("--areas", metavar="MANIFEST",
                        help="build every area the manifest (CSV) lists, with --config's settings; see the README, "
                             "'Many areas in one run'")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="with --areas: build N areas at a time, each in its own process (default 1)")


def run(args: argparse.Namespace) -> int:
    """Run ``pipeline.py build`` from parsed arguments; return the exit status."""
    if getattr(args, "areas", None):
        from safeguarding.areas import run_areas

        return run_areas(args)
    try:
        result = build(
            args.config, year=args.year, audience=args.audience, renderer=args.renderer,
            allow_missing_inputs=args.allow_missing_inputs, keep_build=args.keep_build, wait=args.wait,
            force=getattr(args, "force", False), jobs=getattr(args, "kernels", None),
        )
    except (ConfigError, LockedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BuildInterrupted as exc:
        print(f"\nBUILD INTERRUPTED ({exc.signal_name}): its processes were stopped and nothing was published; "
              "the previously published report, if any, was left unchanged.", file=sys.stderr)
        if exc.log_dir:
            print(f"  run log: {exc.log_dir}", file=sys.stderr)
        return 130 if exc.signal_name == "SIGINT" else 143
    except BuildError as exc:
        print(f"\nBUILD FAILED at stage '{exc.stage}': {exc.message}", file=sys.stderr)
        print("The previously published report, if any, was left unchanged.", file=sys.stderr)
        return 1
    print(f"\nPublished {result.output_dir}")
    print(f"  {result.html.name}, {result.pdf.name}, data/: {', '.join(p.name for p in result.data_files)}")
    print(f"  run log: {result.log_dir}")
    if result.warnings:
        where = f", also in {result.log_dir / 'run.json'}" if result.log_dir else ""
        print(f"  {len(result.warnings)} warning(s){where}:")
        for w in result.warnings[:5]:
            print(f"  - {w}")
    return 0


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
        if spec.get("file"):
            files[f"inputs.{name}"] = cfg.resolve(spec["file"])
    for i, spec in enumerate(cfg.aggregates):
        if isinstance(spec, dict) and spec.get("file"):
            files[f"aggregates[{i}]"] = cfg.resolve(spec["file"])
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


def _new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def build(
    config_path: str | os.PathLike[str],
    *,
    year: int | None = None,
    audience: str | None = None,
    renderer: str = "auto",
    allow_missing_inputs: bool = False,
    keep_build: bool = False,
    echo: Callable[[str], None] = print,
    wait: float = 0.0,
    force: bool = False,
    jobs: int | None = None,
) -> BuildResult:
    """Build the annual review for one configuration; see the module docstring.

    Holds the build lock on the processed and reports folders (one build at a
    time; ``wait`` seconds for another to finish, then :class:`LockedError`).
    SIGINT and SIGTERM stop the chapter workers and kernels, remove the staging
    folder, write ``run.json`` with outcome ``interrupted`` and raise
    :class:`BuildInterrupted`.

    A stage whose inputs are unchanged since it last ran is not run again: its
    outputs come from the cache (:mod:`safeguarding.cache`); ``force`` runs
    every stage (and refreshes the cache). ``jobs``: chapter notebooks executed
    at once (default :data:`DEFAULT_JOBS`, or one per core if fewer).
    """
    cfg = load_config(config_path, year=year, audience=audience)
    editorial = check_editorial(cfg)  # the editorial files are checked with the configuration, before any work
    final_dir = output_dir_for(cfg, cfg.audience)  # checks the slug keeps the report inside reports/
    # the reports lock is the area's own folder, so that areas sharing reports/ build side by side
    with build_lock([cfg.processed_dir, cfg.reports_dir / cfg.area_slug], wait=wait) as notes, _signals_interrupt():
        return _build(cfg, final_dir, renderer=renderer, allow_missing_inputs=allow_missing_inputs,
                      keep_build=keep_build, echo=echo, lock_notes=notes, editorial=editorial, force=force,
                      jobs=jobs)


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """While building, SIGTERM interrupts like Ctrl-C does (main thread only; elsewhere nothing changes)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(_signum: int, _frame: object) -> None:
        raise BuildInterrupted("SIGTERM")

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _build(cfg: Config, final_dir: Path, *, renderer: str, allow_missing_inputs: bool, keep_build: bool,
           echo: Callable[[str], None], lock_notes: list[str], editorial: Editorial | None = None,
           force: bool = False, jobs: int | None = None) -> BuildResult:
    aud = cfg.audience
    already_running = frozenset(descendants())  # an interrupt stops only what this build started
    run_id = _new_run_id()
    log_dir = cfg.root / "logs" / run_id  # the project folder is the folder of report.yml
    log_dir.mkdir(parents=True, exist_ok=True)
    logger = _run_logger(run_id, log_dir / "build.log")
    work = cfg.root / "build" / run_id
    work.mkdir(parents=True, exist_ok=True)
    staging = final_dir.parent / f".{final_dir.name}.staging-{run_id}"

    record: dict[str, Any] = {
        "run_id": run_id,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": sys.argv,
        "config_file": str(cfg.path.resolve()),
        "config": cfg.raw,
        "year": cfg.year,
        "audience": aud,
        "renderer_requested": renderer,
        "versions": package_versions(),
        "inputs": {},
        "stages": {},
        "warnings": list(lock_notes),
    }
    hashes: dict[Path, str] = {}  # a census file feeds several tables: hash it once
    for key, path in input_files(cfg).items():
        exists = path.exists()
        if exists and path not in hashes:
            hashes[path] = file_sha256(path)
        record["inputs"][key] = {
            "path": str(path), "sha256": hashes.get(path) if exists else None,
            "bytes": path.stat().st_size if exists else None,
        }
    logger.info("run %s: %s, year %s, audience %s", run_id, cfg.area_name, cfg.year_label, aud)
    editorial = editorial if editorial is not None else check_editorial(cfg)
    record["chapters_left_out"] = chapters_left_out(chapter_notebooks(project_notebooks(cfg)), editorial)
    for warning in editorial.warnings:  # a part left out, text shown as written, a small count of children
        record["warnings"].append(warning)
        logger.warning(warning)
        echo(f"warning: {warning}")

    total = len(STAGES)
    inc = Incremental(cfg, aud, record["versions"], force=force, logger=logger, echo=echo)

    def stage(index: int, name: str, fn: Callable[[], Any]) -> Any:
        echo(f"[{index}/{total}] {name} ...")
        t0 = time.perf_counter()
        try:
            value = fn()
        except BuildError as exc:
            _fail(record, name, exc.message, log_dir, logger)
            raise
        except Exception as exc:  # every failure becomes a named stage failure
            message = f"{type(exc).__name__}: {exc}"
            logger.error("stage %s failed:\n%s", name, traceback.format_exc())
            _fail(record, name, message, log_dir, logger)
            raise BuildError(name, message + f" (details: {log_dir / 'build.log'})") from exc
        seconds = time.perf_counter() - t0
        entry = {"seconds": round(seconds, 3), "status": "ok", **inc.outcome.pop(name, {})}
        record["stages"][name] = entry
        logger.info("stage %s %s in %.2f s", name, entry["status"], seconds)
        if entry["status"] == "cached":
            echo(f"[{index}/{total}] {name} from cache ({seconds:.1f} s)")
        else:
            note = f": {entry['note']}," if entry.get("note") else ""
            echo(f"[{index}/{total}] {name}{note} done in {seconds:.1f} s")
        return value

    try:
        stage(1, "ingest", lambda: _stage_ingest(cfg, allow_missing_inputs, record, logger, inc=inc))
        stage(2, "indicators", lambda: _stage_indicators(cfg, logger, inc=inc))
        stage(3, "disclosure", lambda: _stage_disclosure(cfg, aud, record, logger, inc=inc))
        for line in publication_lines(record.get("disclosure", {}).get("publication")):
            echo(line)
        built = stage(4, "notebooks", lambda: _stage_notebooks(cfg, aud, work, logger, log_dir,
                                                               leave_out=record["chapters_left_out"], inc=inc,
                                                               jobs=jobs))
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        published = stage(5, "publish", lambda: _stage_publish(cfg, aud, renderer, built, staging, record, inc=inc))
        data_files = stage(6, "data", lambda: _stage_data(cfg, aud, staging, inc=inc, work=work))
        stage(7, "replace", lambda: _stage_replace(cfg, staging, final_dir))
        stage(8, "site", lambda: _stage_site(cfg, aud, record, logger, echo))
    except BuildError:
        shutil.rmtree(staging, ignore_errors=True)
        raise  # the working folder is kept so the failed notebook can be read
    except (KeyboardInterrupt, BuildInterrupted) as exc:
        name = exc.signal_name if isinstance(exc, BuildInterrupted) else "SIGINT"
        stopped = stop_descendants(keep=already_running)
        shutil.rmtree(staging, ignore_errors=True)
        record["outcome"] = "interrupted"
        record["interrupted_by"] = name
        record["processes_stopped"] = stopped
        record["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        logger.error("build interrupted by %s; stopped %d process(es)", name, stopped)
        _write_record(record, log_dir)
        raise BuildInterrupted(name, log_dir) from None
    if not keep_build:
        shutil.rmtree(work, ignore_errors=True)

    record["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    record["outcome"] = "published"
    record["output_dir"] = str(final_dir)
    _write_record(record, log_dir)
    html_name, pdf_name = Path(published["html"]).name, Path(published["pdf"]).name
    return BuildResult(
        run_id=run_id,
        output_dir=final_dir,
        html=final_dir / html_name,
        pdf=final_dir / pdf_name,
        data_files=[final_dir / "data" / Path(p).name for p in data_files],
        timings={k: v["seconds"] for k, v in record["stages"].items()},
        warnings=list(record["warnings"]),
        log_dir=log_dir,
    )


# --------------------------------------------------------------------------
# stages
# --------------------------------------------------------------------------


def _stage_ingest(cfg: Config, allow_missing: bool, record: dict[str, Any], logger: logging.Logger,
                  inc: Incremental | None = None) -> Any:
    from safeguarding.ingest import run_ingest

    result = inc.ingest(run_ingest) if inc is not None else run_ingest(cfg)
    fatal = list(getattr(result, "failed", None) or [])
    summary = getattr(result, "summary", None)
    if callable(summary):
        logger.info("ingest summary:\n%s", summary())
    if fatal:
        names = ", ".join(str(f) for f in fatal)
        if not allow_missing:
            raise BuildError(
                "ingest",
                f"these input tables could not be built: {names}. See {cfg.processed_dir / 'ingest_report.md'}. "
                "Fix the inputs, or rerun with --allow-missing-inputs to publish with those sections "
                "marked 'not available'.",
            )
        record["warnings"].append(f"published without input tables: {names}")
    if "survey" not in cfg.inputs:  # optional: the report leaves its section out, and says so here
        from safeguarding.report.sections.voice import ABSENT_WARNING

        record["warnings"].append(ABSENT_WARNING)
    # rows kept with a value the code lists do not know: say so on screen, with where the mapping goes
    report = getattr(result, "report", None) or {}
    for entry in report.get("inputs") or []:
        said = [w for w in entry.get("warnings") or [] if "kept with a coded value" in w]
        if entry.get("rows_kept_with_unknown") and said:
            record["warnings"].append(f"ingest, {entry.get('table')}: {said[0]}")
    return result


def _stage_indicators(cfg: Config, logger: logging.Logger, inc: Incremental | None = None) -> Any:
    from safeguarding.indicators import run_indicators

    if inc is not None:
        return inc.indicators(run_indicators)
    table = run_indicators(cfg)
    logger.info("indicators: %d rows", len(table))
    return table


def _stage_disclosure(cfg: Config, audience: str, record: dict, logger: logging.Logger,
                      inc: Incremental | None = None) -> Path:
    from safeguarding.published_data import disclosure_controlled

    stats: dict = {}
    if inc is not None:
        path = inc.disclosure(disclosure_controlled, stats)
    else:
        path = disclosure_controlled(cfg, audience, stats)
    if stats:
        record["disclosure"] = stats
        logger.info("disclosure control: %s", stats)
        if stats.get("unverified_cells"):
            message = (f"disclosure control: {stats['unverified_cells']:,} hidden cells lie in "
                       f"{stats['unverified_groups']} groups of linked cells too large for the full check; "
                       "each relation on its own was checked, combinations of relations were not "
                       "(see the README, Disclosure control)")
            record["warnings"].append(message)
            logger.warning(message)
    return path


def publication_lines(summary: dict | None) -> list[str]:
    """The disclosure summary as the build prints it: cells published and withheld by level, and withheld headlines."""
    if not summary:
        return []
    lines = ["      published / withheld (c) / not published (x), by level:"]
    for row in summary.get("by_level", []):
        lines.append(f"        {row['period_type']:<10} {row['level']:<9} {row['published']:>7,} / "
                     f"{row['withheld']:>6,} / {row['not_published']:>7,}")
    withheld = summary.get("headline_withheld", [])
    lines.append(f"      annual headline figures withheld (reporting year and the year before): {len(withheld)}")
    lines += [f"        - {w['indicator_id']} ({w['year_end']}): {w['reason']}" for w in withheld]
    detail = summary.get("detail_withheld", [])
    if detail:
        lines.append(f"      detail withheld (x) so that the annual headline figures can be published: {len(detail)} "
                     "series")
        by_level: dict[str, list[str]] = {}
        for d in detail:
            name = d["indicator_id"] + ("" if d["breakdown"] == "all" else f" by {d['breakdown']}")
            by_level.setdefault(d["level"], []).append(name)
        lines += [f"        - {level}: {', '.join(names)}" for level, names in by_level.items()]
    return lines


def _stage_notebooks(cfg: Config, audience: str, work: Path, logger: logging.Logger,
                     log_dir: Path | None = None, leave_out: list[str] | tuple[str, ...] = (),
                     inc: Incremental | None = None, jobs: int | None = None) -> Path:
    """Execute the chapter notebooks into ``work/chapters`` (each chapter's figures in its ``figures/``).

    With ``inc``, a chapter whose inputs are unchanged is copied from the cache instead; each chapter
    runs in its own folder (``work/runs/<chapter>``) so that its notebook and figures are cached together.
    """

    folder = project_notebooks(cfg)
    notebooks = chapter_notebooks(folder)
    if not notebooks:
        raise BuildError("notebooks", f"no chapter notebooks (NN-name.ipynb) found in {folder}")
    logger.info("chapters from %s", folder)
    if leave_out:
        logger.info("chapters left out (nothing to publish): %s", ", ".join(leave_out))
        notebooks = [nb for nb in notebooks if nb.name not in leave_out]
    out_dir = work / "chapters"
    out_dir.mkdir(parents=True, exist_ok=True)
    params = {
        "config_path": str(cfg.path.resolve()),
        "year": cfg.year,
        "audience": audience,
        "build_dir": str(out_dir),
        "saved_context": str(context_folder(work, audience)),
    }
    kernel_log = (log_dir or work) / "kernels.log"

    def execute(nbs: list[Path], dirs: Path | list[Path], ps: dict[str, Any] | list[dict[str, Any]]) -> None:
        if nbs:  # the report context, worked out once for every chapter (not at all when none runs)
            _save_context(cfg, audience, work, inc, logger)
        # the kernels import the installed package (pip install -e .), wherever the project folder is
        _execute_all(nbs, dirs, ps, logger, kernel_log, jobs=jobs)

    if inc is not None:
        inc.notebooks(notebooks, out_dir, work / "runs", params, execute)
        return out_dir
    execute(notebooks, out_dir, params)
    return out_dir


def context_folder(work: Path, audience: str) -> Path:
    """Where a build saves the audience's report context (:mod:`safeguarding.report.prepared`): its
    working folder, never the published report."""
    return work / "context" / audience


def _save_context(cfg: Config, audience: str, work: Path, inc: Incremental | None,
                  logger: logging.Logger | None = None) -> Path:
    """Save the report context for the chapters and the data files, once per build (from the cache when
    its inputs are unchanged); return its folder."""
    from safeguarding.report.prepared import META, save_context

    folder = context_folder(work, audience)
    if (folder / META).is_file():
        return folder
    if cfg.audience != audience:
        raise ValueError(f"the report context for {audience!r} asked of a {cfg.audience!r} configuration")
    t0 = time.perf_counter()
    if inc is not None:
        inc.context(lambda: save_context(cfg, folder), folder)
    else:
        save_context(cfg, folder)
    if logger is not None:
        logger.info("report context (%s) saved in %s in %.2f s", audience, folder, time.perf_counter() - t0)
    return folder


def _execute_all(notebooks: list[Path], out_dir: Path | list[Path], params: dict[str, Any] | list[dict[str, Any]],
                 logger: logging.Logger, kernel_log: Path, *, jobs: int | None = None) -> None:
    """Execute the chapters ``jobs`` at a time (default :data:`DEFAULT_JOBS`, or one per core if fewer), each
    in its own process and kernel.

    ``out_dir`` and ``params`` are the same for every chapter, or one per chapter.

    Processes rather than threads: papermill is not thread-safe (it changes the
    working directory of the process it runs in). The first failure in
    chapter order is reported. What the kernels print on standard error
    (Jupyter's start-up and shutdown chatter) goes to ``kernel_log`` in the
    run's log folder instead of the analyst's terminal.
    """
    from concurrent.futures import ProcessPoolExecutor

    if not notebooks:
        return
    out_dirs = out_dir if isinstance(out_dir, list) else [out_dir] * len(notebooks)
    each = params if isinstance(params, list) else [params] * len(notebooks)
    workers = max(1, min(jobs or min(DEFAULT_JOBS, os.cpu_count() or 1), len(notebooks)))
    logger.info("kernel messages: %s", kernel_log)
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_quiet_worker, initargs=(str(kernel_log),))
    try:
        results = list(pool.map(_execute_one, notebooks, out_dirs, each))
    except BaseException:
        # interrupted (or a worker died): stop the workers and their kernels now rather than wait for them
        stop_descendants(roots=list(getattr(pool, "_processes", None) or {}))
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    for nb, error in zip(notebooks, results, strict=True):
        logger.info("executed %s: %s", nb.name, "ok" if error is None else error)
    for error in results:
        if error is not None:
            raise BuildError("notebooks", error)


def _quiet_worker(log_path: str) -> None:
    """Send this worker's standard error (and its kernels', which inherit it) to ``log_path``.

    Ctrl-C is left to the build process, which stops the workers and kernels
    itself; SIGTERM ends a worker at once.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stderr = open(2, "w", closefd=False, encoding="utf-8", errors="replace")


#: times a chapter's kernel is started before its failure to start is reported
KERNEL_START_ATTEMPTS = 3


def _execute_one(nb: Path, out_dir: Path, params: dict[str, Any]) -> str | None:
    """Run one chapter notebook with papermill; return an error message, or None.

    Two kernels starting at the same moment can be handed the same free port (a
    known Jupyter race); the loser dies before it answers ("Kernel died before
    replying to kernel_info"). Such a start is tried again, up to
    :data:`KERNEL_START_ATTEMPTS` times; an error inside the notebook is not.
    """
    import random

    import papermill as pm

    target = out_dir / nb.name
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        try:
            pm.execute_notebook(
                str(nb), str(target), parameters=params, kernel_name="python3",
                progress_bar=False, log_output=False, request_save_on_cell_execute=False,
            )
        except pm.PapermillExecutionError as exc:
            return (f"{nb.name}, cell {exc.exec_count}: {exc.ename}: {exc.evalue} "
                    f"(the executed notebook with the error is kept in {target})")
        except RuntimeError as exc:
            if "Kernel died before replying" not in str(exc) or attempt == KERNEL_START_ATTEMPTS:
                raise
            print(f"{nb.name}: kernel failed to start ({exc}); starting it again", file=sys.stderr)
            time.sleep(0.5 * attempt + random.random())
        else:
            return None
    return None  # pragma: no cover - the loop returns or raises


def _stage_publish(cfg: Config, audience: str, renderer: str, chapters: Path, staging: Path,
                   record: dict[str, Any], inc: Incremental | None = None) -> dict[str, str]:
    meta = publish_metadata(cfg, record)
    if inc is not None:
        return inc.publish(lambda: _publish_now(cfg, audience, renderer, chapters, staging, record, meta),
                           renderer, meta, project_quarto_yml(cfg), staging, record)
    return _publish_now(cfg, audience, renderer, chapters, staging, record, meta)


def publish_metadata(cfg: Config, record: dict[str, Any]) -> dict[str, Any]:
    """The title, cover and chapter list the report is published with (``report.yml``, ``_quarto.yml``)."""
    meta: dict[str, Any] = {
        "title": f"{cfg.area_name}: safeguarding children partnership annual review",
        "subtitle": f"Data report {cfg.year_label}",
    }
    report_cfg = cfg.section("report")
    meta.update({k: v for k, v in report_cfg.items() if k in {"title", "subtitle", "author", "date"}})
    meta.update(cover_status(report_cfg))
    left_out = record.get("chapters_left_out") or []
    if left_out:  # a chapter with nothing to publish is not executed, so it leaves the book's list too
        from safeguarding.publish.quarto_config import load_quarto_config

        listed = load_quarto_config(project_quarto_yml(cfg)).chapters
        meta["chapters"] = [name for name in listed if name not in left_out]
    return meta


def write_front_matter(cfg: Config, chapters: Path) -> Path | None:
    """Write "About this review" (``index.qmd``) into ``chapters`` with the disclosure policy's threshold, unless
    the project has its own beside ``_quarto.yml`` (then that one is published, as written)."""
    from safeguarding.publish.builtin import front_matter

    if (project_quarto_yml(cfg).parent / "index.qmd").is_file():
        return None
    policy = cfg.disclosure
    target = chapters / "index.qmd"
    target.write_text(front_matter(policy.threshold_text if policy.threshold is not None else None),
                      encoding="utf-8")
    return target


def _publish_now(cfg: Config, audience: str, renderer: str, chapters: Path, staging: Path, record: dict[str, Any],
                 meta: dict[str, Any]) -> dict[str, str]:
    from safeguarding.publish import publish

    write_front_matter(cfg, chapters)
    result = publish(chapters, staging, quarto_yml=project_quarto_yml(cfg), renderer=renderer, audience=audience,
                     metadata_overrides=meta)
    record["warnings"].extend(getattr(result, "warnings", []) or [])
    record["renderer_used"] = getattr(result, "renderer", renderer)
    return {"html": str(result.html), "pdf": str(result.pdf)}


def cover_status(report_cfg: dict[str, Any]) -> dict[str, Any]:
    """What the cover says about the report's standing, from ``report.yml``'s ``report`` section.

    ``status``: "Draft" or "Approved by the board on 12 June 2025", with "version 1.0" when set;
    ``date``: "Published 30 June 2025" from ``published_on`` (never the build date: without
    ``published_on`` and ``date``, the cover gives no date); ``draft``: watermark every page.
    """
    from safeguarding.publish.quarto_config import format_date_en_gb

    status = report_cfg.get("status")
    parts = []
    if status == "draft":
        parts.append("Draft")
    elif status == "approved":
        parts.append(f"Approved by the board on {format_date_en_gb(report_cfg.get('approved_on'))}")
    if report_cfg.get("version") is not None:
        parts.append(f"version {report_cfg['version']}")
    out: dict[str, Any] = {"status": ", ".join(parts), "draft": status == "draft"}
    if report_cfg.get("published_on") is not None:
        out["date"] = f"Published {format_date_en_gb(report_cfg['published_on'])}"
    elif report_cfg.get("date") is None:
        out["date"] = ""
    return out


def _stage_data(cfg: Config, audience: str, staging: Path, inc: Incremental | None = None,
                work: Path | None = None) -> list[Path]:
    if inc is not None:
        return inc.data(lambda: _write_data(cfg, audience, staging, inc=inc, work=work), staging / "data")
    return _write_data(cfg, audience, staging, work=work)


def _write_data(cfg: Config, audience: str, staging: Path, *, inc: Incremental | None = None,
                work: Path | None = None) -> list[Path]:
    from safeguarding.disclosure.policy import Policy
    from safeguarding.published_data import write_published_data
    from safeguarding.survey import survey_readme, write_published_survey

    files = write_published_data(cfg, audience, staging / "data")
    saved = _save_context(cfg, audience, work, inc) if work is not None else None
    findings = write_findings(cfg, audience, staging / "data", saved=saved)
    survey = write_published_survey(cfg, audience, staging / "data")  # None without a survey input
    extra = [findings]
    if survey is not None:
        extra.append(survey)
        for readme in (p for p in files if p.suffix == ".txt"):
            with readme.open("a", encoding="utf-8") as fh:
                fh.write("\n" + survey_readme(cfg.disclosure if audience == "public" else Policy.unsuppressed()))
    # the README last, after the files it explains
    return [*(p for p in files if p.suffix != ".txt"), *extra, *(p for p in files if p.suffix == ".txt")]


def write_findings(cfg: Config, audience: str, out_dir: Path, *, saved: Path | None = None) -> Path:
    """Write ``findings.csv``: one row per sentence of the report that states a change, a signal, a seasonal
    pattern or a comparison, with the numbers behind it (:func:`safeguarding.report.text.findings_table`).

    The findings are worked out from the audience's disclosure-controlled table, as the chapters do;
    ``saved``: the build's saved report context for the audience (:func:`context_folder`), if any.
    """
    import tempfile

    from safeguarding.publish.writers import write_csv
    from safeguarding.report.context import ReportContext
    from safeguarding.report.text import findings_table

    with tempfile.TemporaryDirectory() as tmp:
        ctx = ReportContext.load(cfg.path, year=cfg.year, audience=audience, build_dir=tmp, saved=saved)
        table = findings_table(ctx)
    return write_csv(table, out_dir / "findings.csv")


def _stage_replace(cfg: Config, staging: Path, final_dir: Path) -> None:
    """Record the build beside its outputs (``review.json``, :func:`safeguarding.site.write_review_record`); swap."""
    from safeguarding.site import write_review_record

    write_review_record(cfg, staging)
    _replace(staging, final_dir)


def _stage_site(cfg: Config, audience: str, record: dict[str, Any], logger: logging.Logger,
                echo: Callable[[str], None]) -> None:
    """After a public year is published, rewrite the area's index, accessibility statement and sitemap.

    Never for a board build (its folder is never listed). The year is already published, so a
    failure here is a warning naming the command that rewrites the site, not a failed build.
    """
    if audience != "public":
        logger.info("site: not rewritten for a %s build", audience)
        echo(f"      the area's index is not rewritten by a {audience} build (its folder is never listed)")
        return
    from safeguarding.site import write_site

    try:
        result = write_site(cfg)
    except Exception as exc:  # the year is published either way
        logger.error("site failed:\n%s", traceback.format_exc())
        warnings = [f"the area's index was not rewritten ({type(exc).__name__}: {exc}); "
                    f"run python pipeline.py site --config {cfg.path}"]
    else:
        record["site"] = {"written": [str(p) for p in result.written], "years": [e.year for e in result.years]}
        warnings = result.warnings
    for w in warnings:
        record["warnings"].append(w)
        logger.warning(w)
        echo(f"warning: {w}")


def _replace(staging: Path, final_dir: Path) -> None:
    """Swap the staged report into place; the old one is removed only after the swap."""
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    old = final_dir.parent / f".{final_dir.name}.old-{uuid.uuid4().hex[:6]}"
    if final_dir.exists():
        final_dir.rename(old)
    try:
        staging.rename(final_dir)
    except OSError:
        if old.exists():
            old.rename(final_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------


def descendants(pid: int | None = None) -> list[int]:
    """Every live process below ``pid`` (default: this one), children first; read from ``/proc`` (Linux)."""
    root = os.getpid() if pid is None else pid
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    out: list[int] = []
    todo = list(children.get(root, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def stop_descendants(*, roots: list[int] | None = None, keep: set[int] | frozenset[int] = frozenset(),
                     grace: float = 3.0) -> int:
    """Stop processes the build started (chapter workers, Jupyter kernels): SIGTERM, then SIGKILL.

    ``roots`` are stopped with everything below them; without ``roots``, every
    process below this one except those in ``keep`` (the ones that were there
    before the build began). Returns how many processes were signalled.
    """
    if roots is None:
        pids = [p for p in descendants() if p not in keep]
    else:
        pids = [q for r in roots for q in (*descendants(r), r)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_running(p) for p in pids):
        _reap(pids)
        time.sleep(0.1)
    for pid in pids:
        if _running(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    time.sleep(0.1)
    _reap(pids)
    return len(pids)


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (a kernel whose worker died is no longer our descendant)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"


def _reap(pids: list[int]) -> None:
    """Collect the exit status of those of ``pids`` that are this process's children (no zombies left)."""
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


# --------------------------------------------------------------------------
# logging
# --------------------------------------------------------------------------


def _run_logger(run_id: str, path: Path) -> logging.Logger:
    logger = logging.getLogger(f"safeguarding.build.{run_id}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    return logger


def _fail(record: dict[str, Any], stage: str, message: str, log_dir: Path, logger: logging.Logger) -> None:
    record["stages"][stage] = {"status": "failed", "error": message}
    record["outcome"] = f"failed at {stage}"
    record["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    logger.error("build failed at %s: %s", stage, message)
    _write_record(record, log_dir)


def _write_record(record: dict[str, Any], log_dir: Path) -> None:
    (log_dir / "run.json").write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
