"""The build driver: the lock, the run id, the record of the run, the stages in order, and what an
interruption or a failed stage leaves (see :mod:`safeguarding.build`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from safeguarding.build.notebooks import WorkersAhead
from safeguarding.build.outcome import BuildError, BuildInterrupted, BuildResult
from safeguarding.build.processes import descendants, stop_descendants
from safeguarding.build.project import (
    chapter_notebooks,
    chapters_left_out,
    check_editorial,
    input_files,
    output_dir_for,
    package_versions,
    project_notebooks,
)
from safeguarding.build.record import _fail, _run_logger, _write_record
from safeguarding.build.stages import (
    _stage_data,
    _stage_disclosure,
    _stage_indicators,
    _stage_ingest,
    _stage_notebooks,
    _stage_publish,
    _stage_replace,
    _stage_site,
    publication_lines,
)
from safeguarding.cache import Incremental
from safeguarding.config import Config, load_config
from safeguarding.editorial import Editorial
from safeguarding.hashing import file_sha256
from safeguarding.lock import build_lock

STAGES = ("ingest", "indicators", "disclosure", "notebooks", "publish", "data", "replace", "site")


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
    at once (default :data:`DEFAULT_JOBS`, or one per core if fewer), and the processes of the
    disclosure stage (the same table whatever their number).
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


class _Background:
    """``fn()`` run in a thread of this process; :meth:`result` waits for it and returns (or raises) what it did."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        import threading

        self._box: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._run, args=(fn,), name="build-background", daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            self._box["value"] = fn()
        except BaseException as exc:  # handed to the caller of result()
            self._box["error"] = exc

    def wait(self) -> None:
        """Wait for ``fn`` to end, whatever its outcome."""
        self._thread.join()

    def result(self) -> Any:
        """Wait for ``fn``; its value, or the exception it raised."""
        self.wait()
        if "error" in self._box:
            raise self._box["error"]
        return self._box["value"]


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

    # once figures are being worked out, chapters will run: their workers and kernels start meanwhile
    ahead = WorkersAhead(lambda: len([nb for nb in chapter_notebooks(project_notebooks(cfg))
                                      if nb.name not in record["chapters_left_out"]]),
                         jobs, log_dir / "kernels.log", logger)
    data_job: _Background | None = None
    closing: _Background | None = None
    try:
        stage(1, "ingest", lambda: _stage_ingest(cfg, allow_missing_inputs, record, logger, inc=inc))
        stage(2, "indicators", lambda: _stage_indicators(cfg, logger, inc=inc, on_compute=ahead.start))
        stage(3, "disclosure", lambda: _stage_disclosure(cfg, aud, record, logger, inc=inc, jobs=jobs,
                                                         on_compute=ahead.start))
        for line in publication_lines(record.get("disclosure", {}).get("publication")):
            echo(line)
        built = stage(4, "notebooks", lambda: _stage_notebooks(cfg, aud, work, logger, log_dir,
                                                               leave_out=record["chapters_left_out"], inc=inc,
                                                               jobs=jobs, workers=ahead.workers))
        # the chapter workers closed, and the kernels the chapters did not use shut down, while publishing
        closing = _Background(ahead.close)
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        # the data files are written while the review is published (pandoc and typst leave a core idle)
        data_job = _Background(lambda: _stage_data(cfg, aud, staging, inc=inc, work=work))
        published = stage(5, "publish", lambda: _stage_publish(cfg, aud, renderer, built, staging, record, inc=inc))
        data_files = stage(6, "data", data_job.result)
        stage(7, "replace", lambda: _stage_replace(cfg, staging, final_dir))
        stage(8, "site", lambda: _stage_site(cfg, aud, record, logger, echo))
        closing.result()
    except BuildError:
        if data_job is not None:  # still writing into the staging folder: let it finish first
            data_job.wait()
        shutil.rmtree(staging, ignore_errors=True)
        raise  # the working folder is kept so the failed notebook can be read
    except (KeyboardInterrupt, BuildInterrupted) as exc:
        name = exc.signal_name if isinstance(exc, BuildInterrupted) else "SIGINT"
        stopped = stop_descendants(keep=already_running)
        if data_job is not None:
            data_job.wait()
        shutil.rmtree(staging, ignore_errors=True)
        record["outcome"] = "interrupted"
        record["interrupted_by"] = name
        record["processes_stopped"] = stopped
        record["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        logger.error("build interrupted by %s; stopped %d process(es)", name, stopped)
        _write_record(record, log_dir)
        raise BuildInterrupted(name, log_dir) from None
    finally:
        if closing is not None:  # (closing them already: done first)
            closing.wait()
        ahead.close(stop=True)  # (a stage failed or was interrupted before the chapters ran)
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
