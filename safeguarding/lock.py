"""One build at a time per folder: a lock file holding the builder's PID.

Two builds that share ``data/processed/`` or ``reports/`` would overwrite
each other's tables half-way (a team left out of a table whose total still
includes it). :func:`build_lock` takes an exclusive ``flock`` on
``.build.lock`` in each shared folder and writes the holder's PID, host and
start time into it. The operating system releases the lock when the holder
dies, so a lock left by a killed build is never in the way: it is reported as
stale and taken over.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = ".build.lock"


class LockedError(RuntimeError):
    """Another build holds the lock on a folder this build needs."""


def _holder(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def _alive(pid: object) -> bool:
    if not isinstance(pid, int | str):
        return False
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError):
        return False
    except PermissionError:
        return True
    return True


def _acquire(folder: Path, wait: float, notes: list[str]) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + max(wait, 0.0)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise
            if time.monotonic() >= deadline:
                holder = _holder(path)
                os.close(fd)
                who = (f"process {holder.get('pid')} on {holder.get('host')}, started {holder.get('started')}"
                       if holder else "another process")
                raise LockedError(
                    f"{folder} is in use by another build ({who}). Two builds sharing a folder would corrupt "
                    "each other's tables: wait for it to finish (or rerun with --wait SECONDS), or give this "
                    "build its own paths.processed and paths.reports in report.yml") from None
            time.sleep(0.2)
    previous = _holder(path)
    if previous.get("pid") and previous.get("pid") != os.getpid() and not previous.get("released"):
        state = "still running" if _alive(previous["pid"]) else "no longer running"
        notes.append(f"{path}: a previous build (process {previous['pid']}, started {previous.get('started')}, "
                     f"{state}) stopped without releasing its lock; it was taken over")
    record = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(record).encode("utf-8"), 0)
    return fd


def _release(fd: int) -> None:
    with contextlib.suppress(OSError):
        record = json.loads(os.pread(fd, 4096, 0) or b"{}")
        record["released"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode("utf-8"), 0)
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


@contextlib.contextmanager
def build_lock(folders: list[Path], *, wait: float = 0.0) -> Iterator[list[str]]:
    """Hold the build lock on every folder in ``folders`` (resolved, de-duplicated, in a fixed order).

    Waits up to ``wait`` seconds for a lock held by another build, then raises
    :class:`LockedError` naming the folder, the holder and the fix. Yields the
    notes about stale locks that were taken over (for the run log).
    """
    unique = sorted({Path(f).resolve() for f in folders}, key=str)
    notes: list[str] = []
    held: list[int] = []
    try:
        for folder in unique:
            held.append(_acquire(folder, wait, notes))
        yield notes
    finally:
        for fd in reversed(held):
            _release(fd)
