"""The state the page asks about (``/__preview/status``): building, the last outcome, its version."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

#: where the page asks how the build is going
STATUS_PATH = "/__preview/status"


@dataclass
class Status:
    """How the preview's builds are going, as ``/__preview/status`` gives it (JSON).

    ``version`` goes up by one each time a build ends (published or failed): the
    page reloads when it changes. ``state`` is ``building``, ``ok`` or ``failed``;
    with ``failed``, ``stage``, ``message`` and ``log`` say where, why and what to
    do. ``page`` is the address of the review being previewed.
    """

    version: int = 0
    state: str = "building"
    stage: str | None = None
    message: str | None = None
    log: str | None = None
    page: str | None = None
    seconds: float | None = None
    finished: str | None = None

    def to_json(self) -> str:
        """The status as JSON text."""
        return json.dumps(asdict(self))


class PreviewState:
    """The status, the folder served and the page previewed, shared by the builder and the server's threads."""

    def __init__(self, root: Path | None = None, page: str | None = None) -> None:
        self._lock = threading.Lock()
        self._status = Status(page=page)
        self._root = root

    @property
    def status(self) -> Status:
        """A copy of the current status."""
        with self._lock:
            return Status(**asdict(self._status))

    @property
    def root(self) -> Path | None:
        """The folder served (``reports/<area>/``), or None before a configuration could be read."""
        with self._lock:
            return self._root

    def set_target(self, root: Path, page: str) -> None:
        """Serve ``root`` and preview ``page`` (its address, e.g. ``/2025/annual-review.html``)."""
        with self._lock:
            self._root, self._status.page = root, page

    def building(self) -> None:
        """A build has started: the version stays, the page shows "Rebuilding…"."""
        with self._lock:
            self._status.state = "building"

    def finished(self, *, ok: bool, stage: str | None = None, message: str | None = None, log: str | None = None,
                 seconds: float | None = None) -> None:
        """A build has ended: record how, and bump the version so the pages reload."""
        with self._lock:
            s = self._status
            s.version += 1
            s.state = "ok" if ok else "failed"
            s.stage, s.message, s.log = (None, None, None) if ok else (stage, message, log)
            s.seconds = None if seconds is None else round(seconds, 1)
            s.finished = time.strftime("%H:%M:%S")
