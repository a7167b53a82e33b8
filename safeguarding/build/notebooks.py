"""Executing the chapter notebooks with papermill, several at once, each in its own worker process and kernel."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from safeguarding.build.outcome import BuildError
from safeguarding.build.processes import stop_descendants

#: chapter notebooks executed at once by default (each kernel takes a core while it starts and imports)
DEFAULT_JOBS = 2


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
