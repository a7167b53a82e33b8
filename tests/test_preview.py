"""``pipeline.py preview``: the watcher, the served pages (reload script, error panel), the status and the refusals.

The unit tests serve a small folder; the end-to-end tests run ``pipeline.py preview`` on a copy of the demo
(two full builds: the first, and the one after a chapter is edited) and, with Chromium, watch a page reload itself.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import skip_or_fail
from e2e import PROJECT, demo_config_copy

from safeguarding.preview import (
    STATUS_PATH,
    PreviewState,
    Status,
    Watcher,
    allow_nonce,
    error_panel,
    inject,
    resolve_request,
    start_server,
)

PAGE = ('<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8"><title>Review</title></head>\n'
        "<body>\n<main><h1>Review</h1><p>The figures.</p></main>\n</body>\n</html>\n")


def test_the_command_is_listed() -> None:
    from safeguarding.cli import COMMANDS

    assert COMMANDS["preview"][0] == "safeguarding.preview"
    doc = (PROJECT / "pipeline.py").read_text(encoding="utf-8")
    listed = re.search(r"Commands: ([^.]+)\.", doc.replace("\n", " ")).group(1)
    assert [c.strip() for c in listed.split(",")] == list(COMMANDS)


# --------------------------------------------------------------------------
# the watcher
# --------------------------------------------------------------------------

def test_watcher_sees_content_changes_not_touches(tmp_path: Path) -> None:
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    chapter = notebooks / "01-summary.ipynb"
    chapter.write_text("one", encoding="utf-8")
    config = tmp_path / "report.yml"
    config.write_text("year: 2025\n", encoding="utf-8")
    w = Watcher([notebooks, config])
    assert w.poll() == []

    later = time.time() + 5
    os.utime(chapter, (later, later))  # touched: a new time, the same bytes
    chapter.write_text("one", encoding="utf-8")  # saved again unchanged
    assert w.poll() == []

    chapter.write_text("two", encoding="utf-8")
    assert w.poll() == [chapter]
    assert w.poll() == []  # reported once

    config.write_text("year: 2024\n", encoding="utf-8")  # same size, different bytes
    os.utime(config, (later + 5, later + 5))
    assert w.poll() == [config]

    added = notebooks / "02-new.ipynb"
    added.write_text("new", encoding="utf-8")
    assert w.poll() == [added]
    added.unlink()
    assert w.poll() == [added]


def test_watcher_ignores_checkpoints_and_editor_files(tmp_path: Path) -> None:
    folder = tmp_path / "editorial"
    folder.mkdir()
    (folder / "foreword.md").write_text("Foreword", encoding="utf-8")
    w = Watcher([folder])
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".ipynb_checkpoints" / "x.ipynb").write_text("x", encoding="utf-8")
    (folder / ".foreword.md.swp").write_text("x", encoding="utf-8")
    (folder / "foreword.md~").write_text("x", encoding="utf-8")
    assert w.poll() == []
    (folder / "foreword.md").write_text("Foreword, edited", encoding="utf-8")
    assert w.poll() == [folder / "foreword.md"]


def test_watcher_new_roots_are_not_changes(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("a", encoding="utf-8")
    b.write_text("b", encoding="utf-8")
    w = Watcher([a])
    w.set_roots([a, b])
    assert w.poll() == []
    b.write_text("bb", encoding="utf-8")
    assert w.poll() == [b]


# --------------------------------------------------------------------------
# what a page gets
# --------------------------------------------------------------------------

def test_inject_adds_the_script_before_body_end() -> None:
    out = inject(PAGE, Status(version=7, state="ok"))
    assert out.count("<script>") == 1
    assert out.index("<script>") > out.index("</main>") and out.index("</script>") < out.index("</body>")
    assert "var version = 7" in out and STATUS_PATH in out
    assert "preview-error" not in out


def test_error_panel_shows_the_message_as_text() -> None:
    status = Status(version=3, state="failed", stage="<b>notebooks</b>",
                    message='03-referrals.ipynb, cell 4: <script>alert("x")</script>\nsecond line & more',
                    log="/tmp/logs/<run>/build.log")
    panel = error_panel(status)
    assert "<script>" not in panel and "<b>" not in panel and "<run>" not in panel
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in panel
    assert "&lt;b&gt;notebooks&lt;/b&gt;" in panel
    assert "<br>second line &amp; more" in panel  # the message keeps its lines
    page = inject(PAGE, status)
    assert page.index('id="preview-error"') < page.index("<main>")  # above the last good review
    assert page.count("<script") == 1  # only the preview's own


def test_a_content_security_policy_lets_the_script_run() -> None:
    policy = ('<meta http-equiv="Content-Security-Policy" '
              "content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">")
    page = PAGE.replace("<title>", policy + "<title>")
    out = inject(page, Status(version=1, state="ok"))
    nonce = re.search(r'<script nonce="([^"]+)">', out).group(1)
    meta = re.search(r"<meta http-equiv=\"Content-Security-Policy\" content=\"([^\"]*)\">", out).group(1)
    assert f"script-src 'nonce-{nonce}'" in meta and "connect-src 'self'" in meta
    assert "default-src 'none'" in meta  # nothing else loosened
    explicit = allow_nonce("<meta http-equiv='content-security-policy' content=\"script-src 'none'\">", "abc")
    assert "script-src 'nonce-abc'" in explicit and "'none'" not in explicit
    assert allow_nonce(PAGE, "abc") == PAGE


# --------------------------------------------------------------------------
# the server
# --------------------------------------------------------------------------

@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[PreviewState, int, Path]]:
    area = tmp_path / "reports" / "northwold"
    (area / "2025" / "data").mkdir(parents=True)
    (area / "2025" / "annual-review.html").write_text(PAGE, encoding="utf-8")
    (area / "2025" / "data" / "indicators.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (area / ".2025.staging-x").mkdir()
    (area / ".2025.staging-x" / "annual-review.html").write_text("staged", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    (area / "2025" / "link.txt").symlink_to(tmp_path / "secret.txt")
    state = PreviewState()
    state.set_target(area, "/2025/annual-review.html")
    server, thread = start_server(state, 0)
    try:
        yield state, server.port, area
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def get(port: int, path: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """A raw GET (http.client sends the path as written: no ``..`` tidied away)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("GET", path, skip_host=True)
        conn.putheader("Host", host or f"127.0.0.1:{port}")
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def test_served_page_has_the_script_and_the_file_is_unchanged(served: tuple[PreviewState, int, Path]) -> None:
    state, port, area = served
    state.finished(ok=True)
    on_disk = (area / "2025" / "annual-review.html").read_bytes()
    code, headers, body = get(port, "/2025/annual-review.html")
    assert code == 200 and headers["content-type"].startswith("text/html")
    assert headers["cache-control"] == "no-store"
    text = body.decode("utf-8")
    assert "<script>" in text and "var version = 1" in text and "<p>The figures.</p>" in text
    assert (area / "2025" / "annual-review.html").read_bytes() == on_disk
    assert b"<script" not in on_disk
    code, headers, body = get(port, "/2025/data/indicators.csv")
    assert (code, body) == (200, b"a,b\n1,2\n") and headers["content-type"].startswith("text/csv")
    code, headers, _ = get(port, "/")
    assert code == 302 and headers["location"] == "/2025/annual-review.html"


def test_status_json(served: tuple[PreviewState, int, Path]) -> None:
    state, port, _ = served
    code, headers, body = get(port, STATUS_PATH)
    assert code == 200 and headers["content-type"] == "application/json"
    assert json.loads(body) == {"version": 0, "state": "building", "stage": None, "message": None, "log": None,
                                "page": "/2025/annual-review.html", "seconds": None, "finished": None}
    state.finished(ok=False, stage="ingest", message="bad file", log="/x/build.log", seconds=1.25)
    status = json.loads(get(port, STATUS_PATH)[2])
    assert (status["version"], status["state"], status["stage"], status["message"], status["log"]) == (
        1, "failed", "ingest", "bad file", "/x/build.log")
    state.building()
    assert json.loads(get(port, STATUS_PATH)[2])["state"] == "building"
    state.finished(ok=True)
    status = json.loads(get(port, STATUS_PATH)[2])
    assert (status["version"], status["state"], status["stage"], status["message"]) == (2, "ok", None, None)


def test_failed_build_panel_on_every_page_escaped(served: tuple[PreviewState, int, Path]) -> None:
    state, port, _ = served
    state.finished(ok=False, stage="configuration", message="report.yml: year: <script>alert(1)</script> is wrong",
                   log=None)
    code, _, body = get(port, "/2025/annual-review.html")
    text = body.decode("utf-8")
    assert code == 200 and 'id="preview-error"' in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>alert(1)" not in text
    assert "configuration" in text and "<p>The figures.</p>" in text  # the last good review below
    code, _, body = get(port, "/2025/missing.html")  # a page not there: said so, with the panel and the script
    assert code == 404 and 'id="preview-error"' in body.decode() and "<script>" in body.decode()


@pytest.mark.parametrize("path", [
    "/../secret.txt", "/2025/../../secret.txt", "/%2e%2e/secret.txt", "/2025/%2E%2E/%2e%2e/secret.txt",
    "/..%2fsecret.txt", "/2025/..%5c..%5csecret.txt", "/.2025.staging-x/annual-review.html",
    "/.build.lock", "/2025/link.txt", "//etc/passwd", "/%00",
])
def test_nothing_outside_the_area_folder(served: tuple[PreviewState, int, Path], path: str) -> None:
    _, port, _ = served
    code, _, body = get(port, path)
    assert code == 404, (path, code)
    assert b"secret" not in body and b"staged" not in body and b"root:" not in body


def test_resolve_request(tmp_path: Path) -> None:
    (tmp_path / "2025").mkdir()
    page = tmp_path.resolve() / "2025" / "annual-review.html"
    assert resolve_request(tmp_path, "/2025/annual-review.html?x=1") == page
    assert resolve_request(tmp_path, "/") == tmp_path.resolve() / "index.html"
    assert resolve_request(tmp_path, "/2025/") == tmp_path.resolve() / "2025" / "index.html"
    for bad in ("/../x", "/a/%2e%2e/%2e%2e/x", "/.hidden", "/a\\..\\x", "/x%00"):
        assert resolve_request(tmp_path, bad) is None, bad


def test_other_hosts_are_refused(served: tuple[PreviewState, int, Path]) -> None:
    """A page elsewhere that rebinds its DNS name to 127.0.0.1 still cannot read the (perhaps board) review."""
    _, port, _ = served
    assert get(port, "/2025/annual-review.html", host=f"evil.example:{port}")[0] == 403
    assert get(port, STATUS_PATH, host="evil.example")[0] == 403
    assert get(port, STATUS_PATH, host=f"localhost:{port}")[0] == 200


def test_listens_on_loopback_only(served: tuple[PreviewState, int, Path]) -> None:
    import socket

    _, port, _ = served
    addrs = [a for a in {i[4][0] for i in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
             if not a.startswith("127.")]
    for addr in addrs:
        with pytest.raises(OSError), socket.create_connection((addr, port), timeout=2):
            pass


# --------------------------------------------------------------------------
# pipeline.py preview on the demo
# --------------------------------------------------------------------------

BUILD_TIMEOUT = 900  # seconds: a full build of the demo, on a loaded 2-core machine
MARKER = "Preview marker 4417: the commentary of the LADO, edited while previewing"


class Running:
    """A ``pipeline.py preview`` process and what it prints."""

    def __init__(self, proc: subprocess.Popen[str], root: Path) -> None:
        self.proc, self.root = proc, root
        self.lines: list[str] = []
        self.port: int | None = None
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            m = re.search(r"Previewing at http://127\.0\.0\.1:(\d+)/", line)
            if m:
                self.port = int(m.group(1))
                self._ready.set()
        self._ready.set()

    def wait_ready(self) -> int:
        assert self._ready.wait(60) and self.port, "".join(self.lines)
        return self.port

    def status(self) -> dict:
        return json.loads(get(self.wait_ready(), STATUS_PATH)[2])

    def wait_version(self, after: int, timeout: float = BUILD_TIMEOUT) -> dict:
        """Wait until a build ends after version ``after``; return the status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "preview ended:\n" + "".join(self.lines[-40:])
            status = self.status()
            if status["version"] > after and status["state"] != "building":
                return status
            time.sleep(0.5)
        raise AssertionError(f"no build ended within {timeout} s:\n" + "".join(self.lines[-40:]))

    def page(self) -> str:
        code, _, body = get(self.wait_ready(), "/2025/annual-review.html")
        assert code == 200, code
        return body.decode("utf-8")


def _ctrl_c_works() -> None:
    """In the child: SIGINT as in a terminal (a shell's background job would have it ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("preview")
    demo_config_copy(root)
    shutil.copytree(PROJECT / "notebooks", root / "notebooks")  # the project's own chapters, beside report.yml
    env = dict(os.environ, SAFEGUARDING_KEY_FILE=str(root / "pseudonym.key"), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, str(PROJECT / "pipeline.py"), "preview", "--config",
                             str(root / "report.yml"), "--renderer", "builtin"],
                            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=_ctrl_c_works)
    running = Running(proc, root)
    try:
        running.wait_ready()
        status = running.wait_version(0)
        assert status["state"] == "ok", status
        yield running
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _edit_chapter(notebook: Path, text: str) -> None:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    nb["cells"][-1] = {"cell_type": "markdown", "metadata": {}, "source": [text]}
    notebook.write_text(json.dumps(nb, indent=1), encoding="utf-8")


@pytest.mark.slow
def test_preview_rebuilds_shows_errors_and_recovers(preview: Running) -> None:
    page = preview.page()
    assert "<script>" in page and 'id="preview-error"' not in page
    on_disk = (preview.root / "reports" / "northwold" / "2025" / "annual-review.html").read_text(encoding="utf-8")
    assert "<script" not in on_disk and MARKER not in on_disk
    version = preview.status()["version"]

    # a mistake in report.yml: the configuration stage, the fix, and the last good review below
    config = preview.root / "report.yml"
    good = config.read_text(encoding="utf-8")
    config.write_text(good.replace("\nyear: 2025", "\nyear: 2o25", 1), encoding="utf-8")
    status = preview.wait_version(version, timeout=120)
    assert status["state"] == "failed" and status["stage"] == "configuration", status
    assert "year: must be a whole number" in status["message"] and "docs/configuration.md" in status["message"]
    page = preview.page()
    assert 'id="preview-error"' in page and "configuration" in page and "docs/configuration.md" in page
    assert "<p>" in page and page.count("<script") == 1
    version = status["version"]

    # fix it and edit a chapter's commentary: the next build publishes the new text and clears the panel
    _edit_chapter(preview.root / "notebooks" / "04-allegations.ipynb", MARKER)
    config.write_text(good, encoding="utf-8")
    status = preview.wait_version(version)
    for _ in range(2):  # the two saves normally make one build; should they make two, wait for the second
        if status["state"] == "ok" and MARKER in preview.page():
            break
        status = preview.wait_version(status["version"])
    assert status["state"] == "ok", status
    page = preview.page()
    assert MARKER in page and 'id="preview-error"' not in page
    assert "preview: changed: " in "".join(preview.lines)


@pytest.fixture(scope="module")
def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        skip_or_fail("chromium is not installed (apt-get install chromium)")
    return exe  # type: ignore[return-value]


@pytest.mark.slow
@pytest.mark.browser
def test_browser_page_reloads_itself(preview: Running, chromium: str) -> None:
    """The page open in Chromium shows the error panel by itself after report.yml is saved broken."""
    from playwright.sync_api import sync_playwright

    port = preview.wait_ready()
    version = preview.status()["version"]
    config = preview.root / "report.yml"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
            assert page.url.endswith("/2025/annual-review.html")
            assert page.locator("#preview-error").count() == 0
            page.evaluate("window.__notReloaded = true")
            config.write_text(config.read_text(encoding="utf-8") + "\nyeer: 2025\n", encoding="utf-8")
            preview.wait_version(version, timeout=120)
            page.wait_for_selector("#preview-error", timeout=30_000)  # no reload asked for: the page did it
            assert page.evaluate("window.__notReloaded") is None
            panel = page.inner_text("#preview-error")
            assert "configuration" in panel and "yeer: unknown setting (did you mean 'year'?)" in panel
            assert errors == []
        finally:
            browser.close()


@pytest.mark.slow
def test_ctrl_c_stops_the_preview(preview: Running) -> None:
    """Ctrl-C ends the preview with status 0, its server closed and no process of it left."""
    from safeguarding.build import descendants

    port = preview.wait_ready()
    children = descendants(preview.proc.pid)
    preview.proc.send_signal(signal.SIGINT)
    assert preview.proc.wait(60) == 0, "".join(preview.lines[-20:])
    time.sleep(0.5)  # the output thread reads the last lines
    assert "preview stopped" in "".join(preview.lines[-5:])
    assert [pid for pid in children if Path(f"/proc/{pid}").exists()] == []
    with pytest.raises(OSError):
        get(port, STATUS_PATH)


@pytest.mark.browser
def test_browser_banner_reload_and_place_kept(served: tuple[PreviewState, int, Path], chromium: str) -> None:
    """In Chromium: "Rebuilding…" while a build runs; the page reloads itself when it ends, at the same place."""
    from playwright.sync_api import sync_playwright

    state, port, area = served
    state.finished(ok=True)
    long_page = PAGE.replace("<p>The figures.</p>", "".join(f"<p>Paragraph {i}.</p>" for i in range(400)))
    (area / "2025" / "annual-review.html").write_text(long_page, encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 800, "height": 600})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"http://127.0.0.1:{port}/2025/annual-review.html", wait_until="load")
            page.evaluate("window.scrollTo(0, 3000); window.__notReloaded = true")
            state.building()
            page.wait_for_function("document.getElementById('preview-banner') && "
                                   "!document.getElementById('preview-banner').hidden", timeout=10_000)
            assert page.inner_text("#preview-banner") == "Rebuilding\u2026"
            assert page.evaluate("window.__notReloaded") is True
            state.finished(ok=False, stage="notebooks", message="03-referrals.ipynb, cell 4: <i>NameError</i>")
            page.wait_for_selector("#preview-error", timeout=10_000)
            assert page.evaluate("window.__notReloaded") is None  # reloaded by itself
            assert "cell 4: <i>NameError</i>" in page.inner_text("#preview-error")  # as text
            page.wait_for_function("window.scrollY > 2000", timeout=10_000)  # at the same place
            state.finished(ok=True)
            page.wait_for_selector("#preview-error", state="detached", timeout=10_000)
            assert page.locator("#preview-banner").count() == 0 or page.is_hidden("#preview-banner")
            assert errors == []
        finally:
            browser.close()
