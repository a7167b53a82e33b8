"""The processes a build started (chapter workers, Jupyter kernels): found in ``/proc`` and stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


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
