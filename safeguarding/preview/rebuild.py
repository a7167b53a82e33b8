"""Building, watching and rebuilding one configuration in the main thread (:class:`Preview`)."""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from safeguarding.preview.state import PreviewState
from safeguarding.preview.watcher import Watcher, watched_sources

#: seconds between two looks at the watched files
POLL_SECONDS = 0.5
#: a save is built once the files have been still this long (editors write in several steps)
SETTLE_SECONDS = 0.3
#: seconds between two attempts while another build holds the lock
LOCKED_RETRY_SECONDS = 5.0


class StopPreview(BaseException):
    """SIGTERM while no build runs: stop the preview."""


def _newest_log(logs: Path, since: float) -> str | None:
    """The ``build.log`` of the newest run folder in ``logs`` started at or after ``since`` (epoch seconds)."""
    try:
        runs = [p for p in logs.iterdir() if p.is_dir() and p.stat().st_mtime >= since - 1]
    except OSError:
        return None
    if not runs:
        return None
    return str(max(runs, key=lambda p: p.stat().st_mtime) / "build.log")


class Preview:
    """Build, watch and rebuild one configuration; the state the server shows."""

    def __init__(self, config_path: str | os.PathLike[str], *, year: int | None = None,
                 audience: str | None = None, renderer: str = "auto",
                 echo: Callable[[str], None] = print) -> None:
        self.config_path = Path(config_path)
        self.year = year
        self.audience = audience
        self.renderer = renderer
        self.echo = echo
        self.state = PreviewState()
        self.watcher = Watcher([self.config_path.resolve()])
        self._retry_at: float | None = None
        self._configure()

    def _configure(self) -> bool:
        """Read the configuration: what to serve and what to watch. False when it cannot be read."""
        from safeguarding.build import output_dir_for
        from safeguarding.config import ConfigError, load_config

        try:
            cfg = load_config(self.config_path, year=self.year, audience=self.audience)
            out = output_dir_for(cfg, cfg.audience)
        except ConfigError:
            roots = {*self.watcher.roots, self.config_path.resolve()}  # keep watching what was watched
            self.watcher.set_roots(roots)
            return False
        area = cfg.reports_dir / cfg.area_slug
        self.state.set_target(area, f"/{out.name}/annual-review.html")
        self.watcher.set_roots(watched_sources(cfg))
        return True

    def rebuild(self) -> bool:
        """Build once (in this thread); record the outcome in the state. True when the review was published.

        A :class:`~safeguarding.build.BuildInterrupted` (Ctrl-C, SIGTERM) is passed on.
        """
        from safeguarding.build import BuildError, build
        from safeguarding.config import ConfigError
        from safeguarding.lock import LockedError

        self.state.building()
        self._retry_at = None
        started = time.time()
        t0 = time.perf_counter()
        self.echo(f"preview: building {self.config_path} ...")
        logs = self.config_path.resolve().parent / "logs"
        try:
            result = build(self.config_path, year=self.year, audience=self.audience, renderer=self.renderer,
                           echo=self.echo)
        except BuildError as exc:
            self._failed(exc.stage, exc.message, _newest_log(logs, started), t0)
        except ConfigError as exc:
            self._failed("configuration", str(exc), None, t0)
        except LockedError as exc:
            self._retry_at = time.monotonic() + LOCKED_RETRY_SECONDS
            self._failed("lock", f"{exc} (the preview tries again every {LOCKED_RETRY_SECONDS:.0f} s)", None, t0)
        except Exception as exc:  # the preview stays up; the terminal gets the traceback
            traceback.print_exc()
            self._failed("build", f"{type(exc).__name__}: {exc}", _newest_log(logs, started), t0)
        else:
            seconds = time.perf_counter() - t0
            self._configure()
            self.state.finished(ok=True, seconds=seconds)
            self.echo(f"preview: built in {seconds:.1f} s; {len(result.warnings)} warning(s); "
                      "watching for changes (Ctrl-C to stop)")
            return True
        return False

    def _failed(self, stage: str, message: str, log: str | None, t0: float) -> None:
        seconds = time.perf_counter() - t0
        self._configure()
        self.state.finished(ok=False, stage=stage, message=message, log=log, seconds=seconds)
        self.echo(f"preview: BUILD FAILED at stage '{stage}': {message}")
        self.echo("preview: the last good review is still served; save a fix to rebuild")

    def wait_for_change(self, stop: threading.Event | None = None) -> list[Path]:
        """Poll until a watched file's content changes and the files are still for a moment; return the changes."""
        while stop is None or not stop.is_set():
            changed = self.watcher.poll()
            if changed:
                while True:  # let the editor finish writing
                    time.sleep(SETTLE_SECONDS)
                    more = self.watcher.poll()
                    if not more:
                        return changed
                    changed += more
            if self._retry_at is not None and time.monotonic() >= self._retry_at:
                return []
            time.sleep(POLL_SECONDS)
        return []

    def run_forever(self, stop: threading.Event | None = None) -> None:
        """Build, then rebuild after each change, until ``stop`` is set (or an interrupt)."""
        self.rebuild()
        while stop is None or not stop.is_set():
            changed = self.wait_for_change(stop)
            if stop is not None and stop.is_set():
                break
            names = ", ".join(sorted({p.name for p in changed})) or "retrying"
            self.echo(f"preview: changed: {names}")
            self.rebuild()
