"""Executing the chapter notebooks with papermill, several at once, each in its own worker process and kernel.

A cold build starts the chapter workers early (:class:`ChapterWorkers`): while the figures are being
worked out, each worker starts the Jupyter kernels its chapters will need and has them import the report
layer, at the lowest CPU priority, so that they use the core the figures leave idle; a chapter then begins
with its own work. On Linux the kernels are forked from a process that did those imports once
(:mod:`.kernel_fork`), so that starting them takes little from the figures being worked out.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from safeguarding.build.outcome import BuildError
from safeguarding.build.processes import stop_descendants

#: chapter notebooks executed at once by default (each kernel takes a core while it starts and imports)
DEFAULT_JOBS = 2

#: kernels a chapter worker starts ahead of its chapters, at most (each holds about 220 MB once warm; forked
#: from a kernel zygote, most of that is shared with it until written to)
KERNELS_AHEAD = 4

#: what a kernel started ahead runs while it waits for its chapter: the report layer and every chapter's
#: module imported (silently: nothing is added to the kernel's namespace, history or execution count)
WARM_UP = "__import__('safeguarding.report.sections', fromlist=['import_all']).import_all()"


def chapter_jobs(jobs: int | None, chapters: int) -> int:
    """Chapter workers for ``chapters`` notebooks: ``jobs``, or :data:`DEFAULT_JOBS` (one per core if fewer),
    never more than the chapters."""
    return max(1, min(jobs or min(DEFAULT_JOBS, os.cpu_count() or 1), chapters))


class ChapterWorkers:
    """The chapter workers of a build, started before the chapters are due, with kernels started ahead.

    Each of the ``jobs`` worker processes starts up to :data:`KERNELS_AHEAD` Jupyter kernels (``chapters``
    between them) one after another from the moment it is created, each at the lowest CPU priority (so
    that it takes only what the build's own work leaves idle), and has each import the report layer
    (:data:`WARM_UP`); on Linux each worker forks them from a kernel zygote that imported the report layer
    once (:mod:`.kernel_fork`), so the warm-up finds everything imported.
    A chapter is executed in one of them (papermill given the kernel), which is then shut down: every
    chapter still has a fresh kernel of its own, and its executed notebook is the same. A worker whose
    kernels are used up, or one that died, starts a kernel for its chapter as papermill does. Kernels left
    over are shut down by :meth:`close`.
    """

    def __init__(self, jobs: int, chapters: int, kernel_log: Path) -> None:
        from concurrent.futures import ProcessPoolExecutor

        self.jobs = jobs
        ahead = min(KERNELS_AHEAD, math.ceil(chapters / jobs)) if chapters else 0
        self.pool = ProcessPoolExecutor(max_workers=jobs, initializer=_warm_worker,
                                        initargs=(str(kernel_log), ahead))
        for _ in range(jobs):  # the workers start now, and start their kernels
            self.pool.submit(os.getpid)

    def processes(self) -> list[int]:
        """The workers' process ids (their kernels are below them)."""
        return pool_processes(self.pool)

    def close(self, *, stop: bool = False) -> None:
        """Shut the workers down, with the kernels they did not use; ``stop``: at once, by signal (an interrupt)."""
        if stop:
            stop_descendants(roots=self.processes())
            self.pool.shutdown(wait=False, cancel_futures=True)
            return
        self.pool.shutdown(wait=True, cancel_futures=True)


def pool_processes(pool: object) -> list[int]:
    """The process ids of a ``ProcessPoolExecutor``'s workers (read from its private ``_processes``: the
    executor has no public way to name them, and an interrupt stops them with what is below them)."""
    return list(getattr(pool, "_processes", None) or {})


class WorkersAhead:
    """A build's :class:`ChapterWorkers`, started by the first call of :meth:`start` (when figures are being
    worked out, so chapters will run) and held until the chapters run.

    ``chapters`` counts the chapters that may run (asked when the workers start); ``jobs`` is the build's
    ``--kernels`` (:func:`chapter_jobs`).
    """

    def __init__(self, chapters: Callable[[], int], jobs: int | None, kernel_log: Path,
                 logger: logging.Logger) -> None:
        self._chapters = chapters
        self._jobs = jobs
        self._kernel_log = kernel_log
        self._logger = logger
        self.workers: ChapterWorkers | None = None

    def start(self) -> None:
        """Start the workers and their kernels, unless they are started already, there is no chapter, or the
        build may run only one process at a time (``--kernels 1``, each area's share in a many-area build
        with as many areas as ``--jobs``, or a one-core machine): kernels started ahead would be a second."""
        if self.workers is not None or (self._jobs or min(DEFAULT_JOBS, os.cpu_count() or 1)) < 2:
            return
        n = self._chapters()
        if n:
            self.workers = ChapterWorkers(chapter_jobs(self._jobs, n), n, self._kernel_log)
            self._logger.info("chapter workers started ahead: %d, with kernels", self.workers.jobs)

    def close(self, *, stop: bool = False) -> None:
        """Close the workers, if started (:meth:`ChapterWorkers.close`)."""
        if self.workers is not None:
            self.workers.close(stop=stop)
            self.workers = None


def _execute_all(notebooks: list[Path], out_dir: Path | list[Path], params: dict[str, Any] | list[dict[str, Any]],
                 logger: logging.Logger, kernel_log: Path, *, jobs: int | None = None,
                 workers: ChapterWorkers | None = None) -> None:
    """Execute the chapters ``jobs`` at a time (default :data:`DEFAULT_JOBS`, or one per core if fewer), each
    in its own process and kernel.

    ``out_dir`` and ``params`` are the same for every chapter, or one per chapter. ``workers``: the
    build's chapter workers started ahead (:class:`ChapterWorkers`), used instead of new ones (and left
    for the caller to close).

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
    logger.info("kernel messages: %s", kernel_log)
    if workers is not None:
        pool = workers.pool
        logger.info("chapters executed by %d workers started ahead", workers.jobs)
    else:
        pool = ProcessPoolExecutor(max_workers=chapter_jobs(jobs, len(notebooks)), initializer=_quiet_worker,
                                   initargs=(str(kernel_log),))
    try:
        runs = list(pool.map(_run_chapter, notebooks, out_dirs, each))
    except BaseException:
        # interrupted (or a worker died): stop the workers and their kernels now rather than wait for them
        stop_descendants(roots=pool_processes(pool))
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    if workers is None:
        pool.shutdown()
    results = [error for error, _ in runs]
    for nb, (error, ahead) in zip(notebooks, runs, strict=True):
        logger.info("executed %s: %s%s", nb.name, "ok" if error is None else error,
                    " (in a kernel started ahead)" if ahead else "")
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


#: seconds a kernel started ahead may take to start and import before it is given up (its chapter then
#: starts a kernel of its own)
WARM_UP_TIMEOUT = 120.0


class _KernelsAhead:
    """In a chapter worker of :class:`ChapterWorkers`: ``count`` kernels started ahead, one after another.

    A thread starts a kernel at the lowest priority, has it import the report layer (:data:`WARM_UP`),
    waits for that to finish, hands it over and starts the next: one kernel at a time takes the CPU the
    build leaves idle, not several. :meth:`take` gives the next kernel (waiting for the one on its way),
    or None when none is left or it failed (the chapter then starts its own, as papermill does).
    """

    def __init__(self, count: int) -> None:
        import queue
        import threading

        self.left = count  # kernels still to be taken
        self.zygote: Any | None = None  # the process the kernels are forked from (:mod:`.kernel_fork`), if any
        self.ready: queue.Queue[Any] = queue.Queue()  # kernel managers, or None for one that failed
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._chain, args=(count,), name="kernels-ahead", daemon=True)
        self.thread.start()

    def _chain(self, count: int) -> None:
        self.zygote = _zygote(self.stop) if count else None
        for started in range(count):
            km = None
            if not self.stop.is_set():
                try:
                    km = _start_warm(self.stop, self.zygote)
                except Exception as exc:  # reported; the chapter starts its own kernel
                    print(f"a kernel started ahead of its chapter failed: {exc}", file=sys.stderr)
            self.ready.put(km)
            if km is None:  # failed or stopped: the chapters still waiting start their own
                for _ in range(count - started - 1):
                    self.ready.put(None)
                return

    def take(self) -> Any | None:
        """The next kernel started ahead, its import done (waiting for it if it is on its way); or None."""
        import queue

        if self.left <= 0:
            return None
        self.left -= 1
        try:
            return self.ready.get(timeout=WARM_UP_TIMEOUT + 30)
        except queue.Empty:  # pragma: no cover - the chain always hands over within its own time-out
            return None

    def close(self) -> None:
        """Stop starting kernels and shut down those not taken."""
        import queue

        self.stop.set()
        self.thread.join(timeout=WARM_UP_TIMEOUT + 30)
        while True:
            try:
                km = self.ready.get_nowait()
            except queue.Empty:
                break
            if km is not None:
                _shut(km)
        if self.zygote is not None:
            self.zygote.close()


#: in a chapter worker of :class:`ChapterWorkers`: its kernels started ahead (None elsewhere)
_AHEAD: _KernelsAhead | None = None


def _warm_worker(log_path: str, kernels: int) -> None:
    """Initialise a chapter worker of :class:`ChapterWorkers`: quiet it, then start ``kernels`` kernels ahead."""
    from multiprocessing.util import Finalize

    global _AHEAD
    _quiet_worker(log_path)
    if kernels:
        _AHEAD = _KernelsAhead(kernels)
        Finalize(None, _AHEAD.close, exitpriority=10)  # the worker's exit shuts down the kernels it did not use


def _zygote(stop: Any | None = None) -> Any | None:
    """A :class:`~.kernel_fork.KernelZygote` at the lowest priority, its imports done; None where kernels are
    not forked (not Linux), it failed or took over :data:`WARM_UP_TIMEOUT`, or ``stop`` (an Event) was set
    (kernels then start the usual way)."""
    from safeguarding.build import kernel_fork

    if not kernel_fork.available():
        return None
    zygote = None
    try:
        zygote = kernel_fork.KernelZygote(priority=lowest_priority)
        if zygote.wait_ready(WARM_UP_TIMEOUT, stop):
            return zygote
        print("the kernel zygote was not ready; kernels start the usual way", file=sys.stderr)
    except Exception as exc:  # reported; kernels start the usual way
        print(f"the kernel zygote failed ({exc}); kernels start the usual way", file=sys.stderr)
    if zygote is not None:
        zygote.close()
    return None


def _start_warm(stop: Any, zygote: Any | None = None) -> Any | None:
    """Start a kernel at the lowest priority (forked from ``zygote``, a :class:`~.kernel_fork.KernelZygote`,
    if given), have it import the report layer and wait for that; its manager, or None if it died, took over
    :data:`WARM_UP_TIMEOUT` or ``stop`` (an Event) was set."""
    import uuid

    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    async def start() -> Any | None:
        km = AsyncKernelManager(kernel_name="python3")
        if zygote is not None:
            from safeguarding.build.kernel_fork import ForkedProvisioner

            km.kernel_id = str(uuid.uuid4())
            km.provisioner = ForkedProvisioner(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)
            km.provisioner.zygote = zygote
        await km.start_kernel()
        pid = getattr(km.provisioner, "pid", None)
        if isinstance(pid, int):
            lowest_priority(pid)
        kc = km.client()
        kc.start_channels()
        try:
            ok = await _warmed(km, kc, kc.execute(WARM_UP, silent=True, store_history=False), stop)
        finally:
            kc.stop_channels()
        if not ok:
            await km.shutdown_kernel(now=True)
            return None
        return km

    return run_sync(start)()


def lowest_priority(pid: int) -> None:
    """Give process ``pid`` (and, on Linux, its session's scheduling group) the lowest CPU priority.

    Jupyter starts each kernel in a session of its own, and Linux shares the CPU between sessions
    (autogroups) before it looks at a process's own niceness: both are set, where the system allows.
    """
    with contextlib.suppress(OSError, AttributeError):  # (no setpriority on Windows)
        os.setpriority(os.PRIO_PROCESS, pid, 19)
    with contextlib.suppress(OSError), open(f"/proc/{pid}/autogroup", "w", encoding="ascii") as fh:
        fh.write("19")


async def _warmed(km: Any, kc: Any, msg_id: str, stop: Any) -> bool:
    """Wait for the reply to the kernel's warm-up request; False if it died, took too long or ``stop`` is set."""
    import queue

    deadline = time.monotonic() + WARM_UP_TIMEOUT
    while time.monotonic() < deadline and not stop.is_set():
        try:
            reply = await kc.get_shell_msg(timeout=0.5)
        except queue.Empty:
            if not await km.is_alive():
                return False
            continue
        if reply.get("parent_header", {}).get("msg_id") == msg_id:
            return True
    return False


def _take_ahead() -> Any | None:
    """A kernel this worker started ahead, ready; None when it has none (not a worker of :class:`ChapterWorkers`,
    or none left)."""
    from jupyter_core.utils import run_sync

    while _AHEAD is not None:
        km = _AHEAD.take()
        if km is None:
            return None
        if run_sync(km.is_alive)():
            return km
        _shut(km)
    return None


def _shut(km: Any) -> None:
    from jupyter_core.utils import run_sync

    with contextlib.suppress(Exception):
        run_sync(km.shutdown_kernel)(now=True)


#: times a chapter's kernel is started before its failure to start is reported
KERNEL_START_ATTEMPTS = 3


def _execute_one(nb: Path, out_dir: Path, params: dict[str, Any]) -> str | None:
    """Run one chapter notebook with papermill; return an error message, or None (:func:`_run_chapter`)."""
    return _run_chapter(nb, out_dir, params)[0]


def _run_chapter(nb: Path, out_dir: Path, params: dict[str, Any]) -> tuple[str | None, bool]:
    """Run one chapter notebook with papermill: ``(error message or None, run in a kernel started ahead)``.

    The chapter takes a kernel this worker started ahead (:class:`ChapterWorkers`) if it has one left.

    Two kernels starting at the same moment can be handed the same free port (a
    known Jupyter race); the loser dies before it answers ("Kernel died before
    replying to kernel_info"). Such a start is tried again, up to
    :data:`KERNEL_START_ATTEMPTS` times; an error inside the notebook is not.
    """
    import random

    import papermill as pm

    target = out_dir / nb.name
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        km = _take_ahead() if attempt == 1 else None  # a kernel started ahead, if this worker has one left
        try:
            pm.execute_notebook(
                str(nb), str(target), parameters=params, kernel_name="python3",
                progress_bar=False, log_output=False, request_save_on_cell_execute=False,
                **({"km": km} if km is not None else {}),
            )
        except pm.PapermillExecutionError as exc:
            return (f"{nb.name}, cell {exc.exec_count}: {exc.ename}: {exc.evalue} "
                    f"(the executed notebook with the error is kept in {target})"), km is not None
        except RuntimeError as exc:
            if "Kernel died before replying" not in str(exc) or attempt == KERNEL_START_ATTEMPTS:
                raise
            print(f"{nb.name}: kernel failed to start ({exc}); starting it again", file=sys.stderr)
            time.sleep(0.5 * attempt + random.random())
        else:
            return None, km is not None
        finally:
            if km is not None:  # papermill leaves a kernel it was given running
                _shut(km)
    return None, False  # pragma: no cover - the loop returns or raises
