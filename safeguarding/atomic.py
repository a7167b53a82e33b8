"""Every write is atomic: a file is written under a temporary name in its folder, then renamed.

A reader (the next stage, or a person) sees either the previous file or the
whole new one, never a truncated Parquet table or half a report. When the
disk is full, or any other operating-system error stops the write, the
temporary file is removed, the previous file is left as it was, and
:class:`WriteError` names the file, the error and, for a full disk, the free
space left.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path


class WriteError(OSError):
    """A file could not be written; the previous version of it is intact."""


def _free_space(folder: Path) -> str:
    try:
        free: float = shutil.disk_usage(folder).free
    except OSError:
        return "unknown"
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if free < 1024 or unit == "TB":
            return f"{free:,.0f} {unit}" if unit == "bytes" else f"{free:,.1f} {unit}"
        free /= 1024
    return "unknown"  # pragma: no cover


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` in one rename.

    On any error the temporary file is removed and ``target`` is untouched; an
    ``OSError`` is re-raised as :class:`WriteError` naming the file (and the
    free space when the disk is full).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        yield tmp
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, WriteError):
            raise
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise WriteError(exc.errno, f"cannot write {target}: the disk is full ({_free_space(target.parent)} "
                                        "free); free some space (or set paths.processed / paths.reports to a "
                                        "disk with room) and run again. The previous file is unchanged.") from exc
        raise WriteError(exc.errno or 0, f"cannot write {target}: {exc.strerror or exc}. "
                                         "The previous file is unchanged.") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_atomic(target: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp_path)`` and move the result to ``target`` atomically; return ``target``."""
    with atomic_path(target) as tmp:
        write(tmp)
    return Path(target)


def write_text_atomic(target: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write text to ``target`` atomically."""
    return write_atomic(target, lambda tmp: tmp.write_text(text, encoding=encoding))
