"""Serving the area's reports folder on 127.0.0.1 from a thread: only files under it, only to local names."""

from __future__ import annotations

import mimetypes
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from safeguarding.preview.page import inject, placeholder_page
from safeguarding.preview.state import STATUS_PATH, PreviewState

#: the address the preview answers on (never another interface)
HOST = "127.0.0.1"


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

    def log_message(self, format: str, *args: object) -> None:
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
