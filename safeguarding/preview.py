"""``pipeline.py preview``: serve the review on 127.0.0.1 and rebuild it whenever a source is saved.

The preview builds once (:func:`safeguarding.build.build`, the same build as
``pipeline.py build``), serves the area's reports folder (``reports/<area>/``)
on ``http://127.0.0.1:PORT/`` and then watches what the review is made from:
``report.yml``, the project's ``_quarto.yml``, the chapter notebooks' folder,
the editorial folder and the configured input files. When one of them is saved
with different content, it rebuilds; a change saved during a build is picked up
by one more build after it.

Every HTML page it serves carries a small inline script (added to the response
only, never to the file on disk) that asks ``/__preview/status`` twice a second
and reloads the page when a build has finished, showing "Rebuilding…" while one
runs. When a build fails, every page shows a panel naming the stage, the
message (which says how to put it right) and the run's log, above the last good
review, until a build succeeds.

Only files under the area's folder are served (no ``..``, no hidden files, no
symbolic link out of it), only to requests addressed to ``127.0.0.1`` or
``localhost`` (a web page elsewhere cannot reach it through a rebound DNS name).
The build runs in the main thread, so Ctrl-C stops it, its kernels and the
server as ``pipeline.py build`` would.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import mimetypes
import os
import re
import secrets
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from safeguarding import escape
from safeguarding.hashing import file_sha256

#: the address the preview answers on (never another interface)
HOST = "127.0.0.1"
#: where the page asks how the build is going
STATUS_PATH = "/__preview/status"
#: seconds between two looks at the watched files
POLL_SECONDS = 0.5
#: a save is built once the files have been still this long (editors write in several steps)
SETTLE_SECONDS = 0.3
#: seconds between two attempts while another build holds the lock
LOCKED_RETRY_SECONDS = 5.0
#: file names in a watched folder that are never sources (editor and Jupyter leftovers)
_IGNORED_NAME = re.compile(r"^[.#~]|~$|\.(swp|swo|swx|tmp|bak|pyc)$")


# --------------------------------------------------------------------------
# watching
# --------------------------------------------------------------------------

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


def watched_sources(cfg: Any) -> list[Path]:
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


# --------------------------------------------------------------------------
# the state the page asks about
# --------------------------------------------------------------------------

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


# --------------------------------------------------------------------------
# what is added to a served page
# --------------------------------------------------------------------------

_SCRIPT = """(function () {
  var version = %(version)d, box = null;
  function say(text) {
    if (!box) {
      box = document.createElement("div");
      box.id = "preview-banner";
      box.setAttribute("role", "status");
      box.style.cssText = "position:fixed;top:0;right:0;z-index:2147483647;margin:8px;padding:6px 12px;" +
        "font:bold 16px/1.4 system-ui,sans-serif;background:#0b0c0c;color:#fff;border:3px solid #ffdd00";
      document.body.appendChild(box);
    }
    box.textContent = text;
    box.hidden = !text;
  }
  function poll() {
    fetch("%(status)s", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (s) {
      if (s.version !== version) { window.location.reload(); return; }
      say(s.state === "building" ? "Rebuilding\\u2026" : "");
      window.setTimeout(poll, 500);
    }).catch(function () {
      say("Preview stopped: start pipeline.py preview again");
      window.setTimeout(poll, 2000);
    });
  }
  window.setTimeout(poll, 500);
})();"""

_PANEL_STYLE = ("margin:0;padding:16px 20px;background:#fff;color:#0b0c0c;border:5px solid #d4351c;"
                "font:16px/1.5 system-ui,sans-serif;position:relative;z-index:2147483646")
_CSP_META = re.compile(r"""<meta\b[^>]*http-equiv\s*=\s*["']?content-security-policy["']?[^>]*>""", re.I)
_CONTENT_ATTR = re.compile(r"""(\bcontent\s*=\s*)(["'])(.*?)\2""", re.I | re.S)


def preview_script(version: int, nonce: str | None = None) -> str:
    """The ``<script>`` element added to every served page: it reloads the page when ``version`` changes."""
    attr = f' nonce="{escape.html(nonce, breakable=False)}"' if nonce else ""
    return f"<script{attr}>{_SCRIPT % {'version': int(version), 'status': STATUS_PATH}}</script>"


def error_panel(status: Status) -> str:
    """The failed build's stage, message and log as an HTML panel: every value escaped as text.

    The message keeps its lines (a configuration error lists one problem per line).
    """
    e = escape.html
    lines = "<br>".join(e(line) for line in (status.message or "").splitlines()) or "(no message)"
    log = f'<p style="margin:8px 0 0">Log: <code>{e(status.log, breakable=False)}</code></p>' if status.log else ""
    return (f'<div id="preview-error" role="alert" style="{_PANEL_STYLE}">'
            f'<p style="margin:0 0 8px;font-weight:bold;font-size:19px">Preview: the build failed at stage '
            f'\u201c{e(status.stage or "unknown")}\u201d</p>'
            f'<p style="margin:0;overflow-wrap:anywhere">{lines}</p>{log}'
            '<p style="margin:8px 0 0">Save the fix: the preview rebuilds and this page reloads. '
            "Below is the last review that built.</p></div>")


def allow_nonce(html: str, nonce: str) -> str:
    """Let a script with ``nonce`` run under the page's own Content-Security-Policy ``<meta>`` (if it has one).

    Adds ``'nonce-…'`` to ``script-src`` (or, without it, a ``script-src`` made from
    ``default-src``) and ``'self'`` to ``connect-src`` likewise, in the served copy only.
    A page without such a ``<meta>`` is returned unchanged.
    """
    def fix_policy(policy: str) -> str:
        directives = [d.strip() for d in policy.split(";") if d.strip()]
        names = [d.split()[0].lower() for d in directives]
        default = next((d.split()[1:] for d in directives if d.split()[0].lower() == "default-src"), None)
        for name, source in (("script-src", f"'nonce-{nonce}'"), ("connect-src", "'self'")):
            if name in names:
                i = names.index(name)
                parts = [p for p in directives[i].split() if p.lower() != "'none'"]
                directives[i] = " ".join([*parts, source])
            elif default is not None:
                directives.append(" ".join([name, *(p for p in default if p.lower() != "'none'"), source]))
        return "; ".join(directives)

    def fix_meta(meta: re.Match[str]) -> str:
        return _CONTENT_ATTR.sub(lambda m: m.group(1) + m.group(2) + fix_policy(m.group(3)) + m.group(2),
                                 meta.group(0), count=1)

    return _CSP_META.sub(fix_meta, html)


_BODY_OPEN = re.compile(r"<body\b[^>]*>", re.I)
_BODY_CLOSE = re.compile(r"</body\s*>", re.I)


def inject(html: str, status: Status) -> str:
    """A page as the preview serves it: the reload script before ``</body>``, the error panel after ``<body>``.

    The page on disk is never changed: this works on the text read from it.
    """
    nonce = secrets.token_urlsafe(16) if _CSP_META.search(html) else None
    if nonce:
        html = allow_nonce(html, nonce)
    if status.state == "failed":
        panel = error_panel(status)
        m = _BODY_OPEN.search(html)
        html = html[:m.end()] + panel + html[m.end():] if m else panel + html
    script = preview_script(status.version, nonce)
    closes = list(_BODY_CLOSE.finditer(html))
    if closes:
        at = closes[-1].start()
        return html[:at] + script + html[at:]
    return html + script


def placeholder_page(status: Status, path: str) -> str:
    """The page served for an HTML address with no file (yet): says so, with the script (and the error panel)."""
    e = escape.html
    if status.state == "building":
        text = "The review is being built; this page reloads when it is ready."
    else:
        text = f"There is no page at {e(path, breakable=False)}."
    link = f' <a href="{e(status.page, breakable=False)}">The review being previewed</a>.' if status.page else ""
    return ('<!DOCTYPE html>\n<html lang="en-GB">\n<head><meta charset="utf-8"><title>Preview</title></head>\n'
            f'<body>\n<main><h1>Preview</h1><p>{text}{link}</p></main>\n</body>\n</html>\n')


# --------------------------------------------------------------------------
# serving
# --------------------------------------------------------------------------

def resolve_request(root: Path, url_path: str) -> Path | None:
    """The file under ``root`` that ``url_path`` names, or None when it names anything else.

    Refused: ``..`` or ``.`` segments (also percent-encoded), hidden names
    (staging folders, the build lock), backslashes and NUL, and any path whose
    real location (symbolic links followed) is not inside ``root``.
    """
    path = unquote(urlsplit(url_path).path)
    if "\\" in path or "\x00" in path:
        return None
    parts = [p for p in path.split("/") if p]
    if any(p in (".", "..") or p.startswith(".") for p in parts):
        return None
    base = root.resolve()
    target = base.joinpath(*parts).resolve() if parts else base
    if target != base and not target.is_relative_to(base):
        return None
    if target.is_dir():
        target = target / "index.html"
    return target


class PreviewServer(ThreadingHTTPServer):
    """The HTTP server on 127.0.0.1, holding the shared :class:`PreviewState`."""

    daemon_threads = True

    def __init__(self, state: PreviewState, port: int = 0) -> None:
        self.state = state
        super().__init__((HOST, port), PreviewHandler)

    @property
    def port(self) -> int:
        """The port it listens on (chosen by the system when 0 was asked for)."""
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        """The address of the review being previewed."""
        page = self.state.status.page or "/"
        return f"http://{HOST}:{self.port}{page}"


class PreviewHandler(BaseHTTPRequestHandler):
    """GET and HEAD only: the status, and the files of the area's folder (HTML with the reload script)."""

    server: PreviewServer
    server_version = "safeguarding-preview"

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged (the terminal shows the builds)."""

    def _send(self, code: int, body: bytes, content_type: str, *, head: bool = False,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _host_allowed(self) -> bool:
        host = (self.headers.get("Host") or "").strip().lower()
        port = self.server.port
        return host in {f"127.0.0.1:{port}", f"localhost:{port}"}

    def do_HEAD(self) -> None:
        """As GET, without the body."""
        self._answer(head=True)

    def do_GET(self) -> None:
        """The status JSON, or a file of the area's folder."""
        self._answer(head=False)

    def _answer(self, *, head: bool) -> None:
        if not self._host_allowed():
            self._send(HTTPStatus.FORBIDDEN, b"preview: only http://127.0.0.1 or http://localhost\n",
                       "text/plain; charset=utf-8", head=head)
            return
        state = self.server.state
        status = state.status
        path = urlsplit(self.path).path
        if path == STATUS_PATH:
            self._send(HTTPStatus.OK, status.to_json().encode("utf-8"), "application/json", head=head)
            return
        if path == "/" and status.page and status.page != "/":
            self._send(HTTPStatus.FOUND, b"", "text/plain", head=head, headers={"Location": status.page})
            return
        root = state.root
        target = resolve_request(root, path) if root is not None else None
        wants_html = path == "/" or path.endswith((".html", "/"))
        if target is None and root is not None:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", head=head)
            return
        if target is None or not target.is_file():
            if wants_html:
                page = inject(placeholder_page(status, path), status)
                self._send(HTTPStatus.NOT_FOUND, page.encode("utf-8"), "text/html; charset=utf-8", head=head)
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", head=head)
            return
        try:
            body = target.read_bytes()
        except OSError:  # replaced by a build between the look and the read
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", head=head)
            return
        if target.suffix.lower() in (".html", ".htm"):
            text = inject(body.decode("utf-8", errors="replace"), status)
            self._send(HTTPStatus.OK, text.encode("utf-8"), "text/html; charset=utf-8", head=head)
            return
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/json", "application/xml"):
            kind += "; charset=utf-8"
        self._send(HTTPStatus.OK, body, kind, head=head)


def start_server(state: PreviewState, port: int = 0) -> tuple[PreviewServer, threading.Thread]:
    """Listen on 127.0.0.1:``port`` (0: a free port) and serve in a background thread."""
    server = PreviewServer(state, port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name="preview-server", daemon=True)
    thread.start()
    return server, thread


# --------------------------------------------------------------------------
# building
# --------------------------------------------------------------------------

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


# --------------------------------------------------------------------------
# pipeline.py preview
# --------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pipeline.py preview``."""
    parser.add_argument("--config", default="report.yml", help="configuration file (default: report.yml)")
    parser.add_argument("--port", type=int, default=0,
                        help="port on 127.0.0.1 (default 0: a free one; the address is printed)")
    parser.add_argument("--year", type=int, help="reporting year ending 31 March, e.g. 2025 for 2024-25")
    parser.add_argument("--audience", choices=("public", "board"),
                        help="public (suppressed, default) or board (everything, OFFICIAL-SENSITIVE)")
    parser.add_argument("--renderer", choices=("auto", "quarto", "builtin"), default="auto",
                        help="quarto if on PATH (auto), or the built-in pandoc + typst publisher")


@contextlib.contextmanager
def _sigterm_stops() -> Iterator[None]:
    """While waiting for changes, SIGTERM stops the preview as Ctrl-C does (a build handles it itself)."""
    def on_term(_signum: int, _frame: object) -> None:
        raise StopPreview()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(args: argparse.Namespace) -> int:
    """Run ``pipeline.py preview``: serve, build, watch and rebuild until Ctrl-C; return the exit status."""
    from safeguarding.build import BuildInterrupted

    if not Path(args.config).is_file():
        print(f"error: configuration file not found: {args.config} (pass --config with the path to report.yml)",
              file=sys.stderr)
        return 2
    preview = Preview(args.config, year=args.year, audience=args.audience, renderer=args.renderer,
                      echo=lambda line: print(line, flush=True))
    try:
        server, thread = start_server(preview.state, args.port)
    except OSError as exc:
        print(f"error: cannot listen on {HOST}:{args.port}: {exc}; choose another --port (0: any free one)",
              file=sys.stderr)
        return 2
    print(f"Previewing at {server.url} (Ctrl-C to stop)", flush=True)
    if preview.state.status.page is None:
        print("  (report.yml could not be read yet: the page shows why)", flush=True)
    code = 0
    try:
        with _sigterm_stops():
            preview.run_forever()
    except (KeyboardInterrupt, StopPreview):
        print("\npreview stopped", flush=True)
    except BuildInterrupted as exc:
        print(f"\npreview stopped ({exc.signal_name}): the build in progress was stopped and nothing was "
              "published; the previous report, if any, was left unchanged.", flush=True)
        code = 0 if exc.signal_name == "SIGINT" else 143
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    return code
