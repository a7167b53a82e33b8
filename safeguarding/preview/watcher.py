"""Watching what the review is made from: a file counts as changed only when its content does."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from safeguarding.hashing import file_sha256

if TYPE_CHECKING:
    from safeguarding.config import Config

#: file names in a watched folder that are never sources (editor and Jupyter leftovers)
_IGNORED_NAME = re.compile(r"^[.#~]|~$|\.(swp|swo|swx|tmp|bak|pyc)$")


def _sha256(path: Path) -> str | None:
    """A watched file's SHA-256, or None when it cannot be read (removed, or being replaced)."""
    try:
        return file_sha256(path)
    except OSError:
        return None


def _expand(roots: Iterable[Path]) -> Iterator[Path]:
    """The files of ``roots``: a file as it is, a folder's files at any depth (hidden and editor files left out)."""
    for root in roots:
        if root.is_dir():
            for folder, dirs, files in os.walk(root):
                dirs[:] = sorted(d for d in dirs if not _IGNORED_NAME.search(d))
                for name in sorted(files):
                    if not _IGNORED_NAME.search(name):
                        yield Path(folder) / name
        else:
            yield root  # a file, or one that is not there (yet): its appearance is a change


class Watcher:
    """Say when the content of the watched files changes.

    Each :meth:`poll` looks at every file's modification time and size; only
    when those differ from last time is the file read and its SHA-256 compared,
    so a file saved (or touched) with the same bytes is not a change, and a
    large input file is read only when it may have changed. A file appearing or
    disappearing is a change.
    """

    def __init__(self, roots: Iterable[Path] = ()) -> None:
        self._roots: list[Path] = []
        self._seen: dict[Path, tuple[int, int, str | None]] = {}
        self.set_roots(roots)

    @property
    def roots(self) -> list[Path]:
        """The files and folders watched."""
        return list(self._roots)

    def set_roots(self, roots: Iterable[Path]) -> None:
        """Watch ``roots`` (files or folders) from now on; files not watched before are taken as they are now."""
        self._roots = sorted({Path(r) for r in roots}, key=str)
        current = set(_expand(self._roots))
        self._seen = {p: s for p, s in self._seen.items() if p in current}
        for path in current - set(self._seen):
            self._seen[path] = self._state(path, None)

    def _state(self, path: Path, before: tuple[int, int, str | None] | None) -> tuple[int, int, str | None]:
        try:
            st = path.stat()
        except OSError:
            return (-1, -1, None)
        if before is not None and before[:2] == (st.st_mtime_ns, st.st_size):
            return before
        return (st.st_mtime_ns, st.st_size, _sha256(path))

    def poll(self) -> list[Path]:
        """The files whose content changed (or that appeared or went) since the last poll; remember the new state."""
        changed: list[Path] = []
        current = set(_expand(self._roots))
        for path in sorted(current | set(self._seen), key=str):
            before = self._seen.get(path)
            if path not in current:  # a file gone from a watched folder
                del self._seen[path]
                changed.append(path)
                continue
            now = self._state(path, before)
            if before is None or now[2] != before[2]:
                changed.append(path)
            self._seen[path] = now
        return changed


def watched_sources(cfg: Config) -> list[Path]:
    """What the review of ``cfg`` (a loaded :class:`~safeguarding.config.Config`) is made from.

    ``report.yml``, the project's own ``_quarto.yml`` (if any), the chapter
    notebooks' folder, the editorial folder ``report.yml`` names and every
    configured input file.
    """
    from safeguarding.build import input_files, project_notebooks
    from safeguarding.editorial import editorial_folder

    roots = [Path(cfg.path).resolve(), cfg.root / "_quarto.yml", project_notebooks(cfg)]
    editorial = editorial_folder(cfg)
    if editorial is not None:
        roots.append(editorial)
    roots += input_files(cfg).values()
    return roots
