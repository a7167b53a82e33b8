"""Tests for ``benchmarks fetch`` against a local HTTP server on 127.0.0.1 serving tests/fixtures/ees.

No test reaches the internet: every address points at the local server (or at a
closed local port), and in this process any other host name fails to resolve.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from safeguarding import benchmarks_fetch as bf
from safeguarding.benchmarks import MEASURES, TABLE_FILES, BenchmarkSource, find_table_file
from safeguarding.config import ConfigError, load_config

PROJECT = Path(__file__).resolve().parents[1]
FIXTURES = PROJECT / "tests" / "fixtures" / "ees"
C1 = "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"
FILES = {
    "c1": C1,
    "d3": "d3_cpps_subsequent_plan_2013_to_2025.csv",
    "d5": "d5_cpps_at31march_by_duration_2013_to_2025.csv",
    "b1": "b1_children_in_need_2013_to_2025.csv",
    "ons": "ons_mid-year_population_estimates_2012_to_2024.csv",
    "sn": "sn_model_2025_wide.csv",
}
RELEASE_ID = "3f9c2a4e-0d6b-4c8e-9d55-2b1e0c7a1f10"
RELEASE_PATH = "/api/publications/children-in-need/releases/latest"
PROXY_VARS = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


# ----------------------------------------------------------------------------- the local server

Route = Callable[[BaseHTTPRequestHandler], None]


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 with routes set by each test; it records the paths asked for."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                route = server.routes.get(self.path)
                if route is None:
                    body = b"not found"
                    self.send_response(404)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                route(self)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def serve(self, path: str, body: bytes, content_type: str = "text/csv", status: int = 200,
              headers: dict[str, str] | None = None) -> str:
        def route(h: BaseHTTPRequestHandler) -> None:
            h.send_response(status)
            h.send_header("Content-Type", content_type)
            h.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(body)

        self.routes[path] = route
        return self.url(path)

    def serve_cut(self, path: str, body: bytes) -> str:
        """Promise more bytes than are sent, send half the body, then close the connection."""
        def route(h: BaseHTTPRequestHandler) -> None:
            h.send_response(200)
            h.send_header("Content-Type", "text/csv")
            h.send_header("Content-Length", str(len(body) + 5000))
            h.end_headers()
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            h.close_connection = True

        self.routes[path] = route
        return self.url(path)

    def serve_silent(self, path: str, seconds: float = 5.0) -> str:
        """Accept the request and answer nothing for ``seconds`` (less if the test ends)."""
        def route(h: BaseHTTPRequestHandler) -> None:
            self.stop.wait(seconds)
            h.close_connection = True

        self.routes[path] = route
        return self.url(path)

    def serve_drip(self, path: str, body: bytes, every: float = 0.3) -> str:
        """Send the headers, then one byte every ``every`` seconds."""
        def route(h: BaseHTTPRequestHandler) -> None:
            h.send_response(200)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            for i in range(len(body)):
                if self.stop.wait(every):
                    return
                try:
                    h.wfile.write(body[i:i + 1])
                    h.wfile.flush()
                except OSError:
                    return

        self.routes[path] = route
        return self.url(path)

    def serve_release(self, names: dict[str, str] | None = None, path: str = RELEASE_PATH) -> str:
        """An EES-like release: the latest-release JSON and each EES fixture at /api/releases/{id}/files/{fileId}."""
        names = names if names is not None else {k: v for k, v in FILES.items() if k != "sn"}
        files = []
        for key, name in names.items():
            file_id = f"0000000{len(files)}-aaaa-4bbb-8ccc-{key:0>12}"
            files.append({"id": file_id, "fileName": name, "name": f"Table {key}", "size": "2 Kb", "type": "Data"})
            self.serve(f"/api/releases/{RELEASE_ID}/files/{file_id}", (FIXTURES / name).read_bytes())
        files.append({"id": "99999999-aaaa-4bbb-8ccc-000000000099", "fileName": "children-in-need_2025.pdf",
                      "name": "Ancillary", "size": "1 Mb", "type": "Ancillary"})
        release = {"id": RELEASE_ID, "title": "Reporting year 2025", "yearTitle": "2025", "slug": "2025",
                   "releaseName": "2025", "coverageTitle": "Reporting year", "published": "2025-10-30T09:30:00Z",
                   "downloadFiles": files,
                   "publication": {"title": "Children in need", "slug": "children-in-need"}}
        return self.serve(path, json.dumps(release).encode(), "application/json")

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    srv = LocalServer()
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture(autouse=True)
def _local_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy, and no host but 127.0.0.1 / localhost resolves in this process."""
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")
    real = socket.getaddrinfo

    def local_getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host not in ("127.0.0.1", "localhost", b"127.0.0.1", b"localhost"):
            raise socket.gaierror(socket.EAI_NONAME, f"tests may not resolve {host!r}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_getaddrinfo)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drop_column(data: bytes, column: str) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    i = rows[0].index(column)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([r[:i] + r[i + 1:] for r in rows])
    return out.getvalue().encode()


def quiet(_: str) -> None:
    pass


def stray_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def subprocess_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    env.update(no_proxy="*", NO_PROXY="*")
    return env


# ----------------------------------------------------------------------------- the list of sources


def test_sources_name_every_table_and_every_column_a_measure_needs() -> None:
    assert [s.name for s in bf.SOURCES] == ["c1", "d3", "d5", "b1", "ons", "sn"]
    assert set(bf.SOURCE_NAMES) == {*TABLE_FILES, "release"}
    for s in bf.SOURCES:
        assert s.prefix == TABLE_FILES[s.name]
        assert s.mirror.startswith("https://raw.githubusercontent.com/dfe-analytical-services/CSC_outcomes_and_enablers/")
        assert s.url is None or s.url.startswith("https://")
        assert s.confirmed
    for m in MEASURES.values():
        cols = bf._BY_NAME[m.table].columns
        for col in (m.numerator, m.denominator, m.published):
            if col and col != "population":
                assert col in cols, (m.indicator_id, col)
        if m.denominator == "population":
            assert "population_estimate" in bf._BY_NAME["ons"].columns
    for url in bf.RELEASE_URLS:
        assert url.startswith("https://content.explore-education-statistics.service.gov.uk/api/publications/")


# ----------------------------------------------------------------------------- a good fetch


def test_fetch_through_release_saves_checked_files_and_provenance(server: LocalServer, tmp_path: Path) -> None:
    release_url = server.serve_release()
    sn_url = server.serve("/dfe/sn_model_2025_wide.csv", (FIXTURES / FILES["sn"]).read_bytes())
    folder = tmp_path / "bench"
    before = dt.datetime.now(dt.UTC).date()
    report = bf.fetch_benchmarks(folder, overrides={"release": release_url, "sn": sn_url}, timeout=10, echo=quiet)
    assert report.ok, report.failed
    assert sorted(f.name for f in report.fetched) == sorted(FILES)
    for name in FILES.values():
        assert (folder / name).read_bytes() == (FIXTURES / name).read_bytes()
    assert stray_files(folder) == []

    prov = json.loads((folder / "PROVENANCE.json").read_text(encoding="utf-8"))
    assert prov["licence"] == "Open Government Licence v3.0"
    assert "Open Government Licence v3.0" in prov["attribution"]
    assert set(prov["files"]) == set(FILES)
    for key, name in FILES.items():
        rec = prov["files"][key]
        assert rec["file"] == name
        assert rec["sha256"] == hashlib.sha256((folder / name).read_bytes()).hexdigest()
        assert rec["bytes"] == (folder / name).stat().st_size
        assert rec["url"].startswith(server.base)
        assert before <= dt.date.fromisoformat(rec["download_date"]) <= dt.datetime.now(dt.UTC).date()
        assert dt.datetime.fromisoformat(rec["downloaded"]).tzinfo is not None
    c1 = prov["files"]["c1"]
    assert c1["url"] == server.url(f"/api/releases/{RELEASE_ID}/files/00000000-aaaa-4bbb-8ccc-0000000000c1")
    assert c1["release"] == "Reporting year 2025"
    assert c1["publication"] == "Children in need"
    assert c1["release_page"] == "https://explore-education-statistics.service.gov.uk/find-statistics/children-in-need/2025"
    assert c1["time_periods"] == "2024 to 2025"
    assert prov["files"]["ons"]["time_periods"] == "2023 to 2024"
    assert prov["files"]["sn"]["url"] == sn_url and "release" not in prov["files"]["sn"]
    assert prov["files"]["sn"]["time_periods"] == "model 2025"

    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert readme.startswith(bf.README_MARKER)
    assert "Open Government Licence v3.0" in readme
    for rec in prov["files"].values():
        assert rec["url"] in readme and rec["sha256"] in readme

    # the folder is what the report reads
    src = BenchmarkSource(folder)
    got = src.benchmarks_for("CPP_SUBSEQUENT", "873", 2025)
    assert got["available"] and got["year_used"] == 2025 and got["la_name"] == "Cambridgeshire"
    assert src.population_for("873", 2025)["available"]


def test_second_fetch_of_same_files_is_unchanged_and_keeps_other_records(server: LocalServer, tmp_path: Path) -> None:
    release_url = server.serve_release()
    bf.fetch_benchmarks(tmp_path, overrides={"release": release_url}, only=["c1"], echo=quiet, timeout=10)
    again = bf.fetch_benchmarks(tmp_path, overrides={"release": release_url}, only=["d3", "c1"], echo=quiet,
                                timeout=10)
    assert {f.name: f.status for f in again.fetched} == {"d3": "new", "c1": "unchanged"}
    prov = bf.read_provenance(tmp_path)
    assert list(prov["files"]) == ["c1", "d3"]


def test_direct_address_is_downloaded_as_is_without_release_lookup(server: LocalServer, tmp_path: Path) -> None:
    url = server.serve(f"/mirror/{C1}", (FIXTURES / C1).read_bytes())
    report = bf.fetch_benchmarks(tmp_path, overrides={"c1": url}, only=["c1"], echo=quiet, timeout=10)
    assert report.ok and (tmp_path / C1).is_file()
    assert server.requests == [f"/mirror/{C1}"]
    assert find_table_file(tmp_path, "c1") == tmp_path / C1


@pytest.mark.parametrize(("disposition", "expected"), [
    (None, "c1_children_in_need_referrals_and_rereferrals_2024_to_2025.csv"),
    ('attachment; filename="c1_children_in_need_referrals_and_rereferrals_2013_to_2026.csv"',
     "c1_children_in_need_referrals_and_rereferrals_2013_to_2026.csv"),
    ('attachment; filename="../../c1_children_in_need_referrals_and_rereferrals_9999.csv"',
     "c1_children_in_need_referrals_and_rereferrals_9999.csv"),
    ('attachment; filename="evil.csv"', "c1_children_in_need_referrals_and_rereferrals_2024_to_2025.csv"),
])
def test_file_name_when_the_address_gives_none(server: LocalServer, tmp_path: Path, disposition: str | None,
                                                expected: str) -> None:
    headers = {"Content-Disposition": disposition} if disposition else None
    url = server.serve("/statistics/v1/data-sets/abc/csv", (FIXTURES / C1).read_bytes(), headers=headers)
    report = bf.fetch_benchmarks(tmp_path / "bench", overrides={"c1": url}, only=["c1"], echo=quiet, timeout=10)
    assert report.ok, report.failed
    assert sorted(p.name for p in (tmp_path / "bench").glob("*.csv")) == [expected]
    assert not list(tmp_path.glob("*.csv"))  # nothing escaped the folder


# ----------------------------------------------------------------------------- bad downloads keep the good file


@pytest.fixture
def good_c1(tmp_path: Path) -> Path:
    folder = tmp_path / "bench"
    folder.mkdir()
    (folder / C1).write_bytes((FIXTURES / C1).read_bytes())
    return folder


def test_good_download_replaces_the_previous_file(server: LocalServer, good_c1: Path) -> None:
    new = (FIXTURES / C1).read_bytes().replace(b",6453,1886,", b",6454,1886,", 1)
    assert new != (good_c1 / C1).read_bytes()
    url = server.serve(f"/x/{C1}", new)
    report = bf.fetch_benchmarks(good_c1, overrides={"c1": url}, only=["c1"], echo=quiet, timeout=10)
    assert [(f.name, f.status) for f in report.fetched] == [("c1", "updated")]
    assert (good_c1 / C1).read_bytes() == new
    assert bf.read_provenance(good_c1)["files"]["c1"]["sha256"] == hashlib.sha256(new).hexdigest()
    assert stray_files(good_c1) == []


def test_missing_column_fails_naming_file_and_column_and_keeps_previous(server: LocalServer, good_c1: Path) -> None:
    old = (good_c1 / C1).read_bytes()
    url = server.serve(f"/x/{C1}", drop_column((FIXTURES / C1).read_bytes(), "rereferral_count"))
    report = bf.fetch_benchmarks(good_c1, overrides={"c1": url}, only=["c1"], echo=quiet, timeout=10)
    assert not report.ok and not report.fetched
    msg = report.failed["c1"]
    assert C1 in msg and "'rereferral_count'" in msg and "REREFERRALS_12M" in msg and url in msg
    assert "unchanged" in msg
    assert (good_c1 / C1).read_bytes() == old
    assert stray_files(good_c1) == [] and not (good_c1 / "PROVENANCE.json").exists()


def test_release_file_missing_column_is_named_too(server: LocalServer, tmp_path: Path) -> None:
    name = FILES["d5"]
    release_url = server.serve_release({"d5": name})
    server.serve(f"/api/releases/{RELEASE_ID}/files/00000000-aaaa-4bbb-8ccc-0000000000d5",
                 drop_column((FIXTURES / name).read_bytes(), "2_years_or_more_percent"))
    report = bf.fetch_benchmarks(tmp_path, overrides={"release": release_url}, only=["d5"], echo=quiet, timeout=10)
    assert name in report.failed["d5"] and "'2_years_or_more_percent'" in report.failed["d5"]
    assert "CPP_OPEN_2YRS" in report.failed["d5"]
    assert not (tmp_path / name).exists()


def test_cell_that_is_not_a_number_is_rejected_by_the_projects_reader(server: LocalServer, good_c1: Path) -> None:
    good = (FIXTURES / C1).read_bytes().decode()
    data = good.replace(",Cambridgeshire,Referrals and Re-referrals,6453,",
                        ",Cambridgeshire,Referrals and Re-referrals,6453 (est),", 1)
    assert data != good
    url = server.serve(f"/x/{C1}", data.encode())
    report = bf.fetch_benchmarks(good_c1, overrides={"c1": url}, only=["c1"], echo=quiet, timeout=10)
    msg = report.failed["c1"]
    assert "column 'referral_count'" in msg and "6453 (est)" in msg and "line" in msg
    assert (good_c1 / C1).read_bytes() == (FIXTURES / C1).read_bytes()


def test_web_page_instead_of_csv_is_rejected(server: LocalServer, good_c1: Path) -> None:
    url = server.serve(f"/x/{C1}", b"<!DOCTYPE html><html><body>Service unavailable</body></html>", "text/html")
    report = bf.fetch_benchmarks(good_c1, overrides={"c1": url}, only=["c1"], echo=quiet, timeout=10)
    assert "web page" in report.failed["c1"]
    assert (good_c1 / C1).read_bytes() == (FIXTURES / C1).read_bytes()


def test_download_cut_half_way_keeps_previous_file_and_is_reported(server: LocalServer, good_c1: Path) -> None:
    old = (good_c1 / C1).read_bytes()
    body = (FIXTURES / C1).read_bytes()
    url = server.serve_cut(f"/cut/{C1}", body)
    report = bf.fetch_benchmarks(good_c1, overrides={"c1": url}, only=["c1"], echo=quiet, timeout=10)
    msg = report.failed["c1"]
    assert url in msg and "incomplete" in msg and f"{len(body) + 5000:,} bytes" in msg
    assert (good_c1 / C1).read_bytes() == old
    assert stray_files(good_c1) == []


def test_http_error_is_reported_and_the_other_files_still_fetched(server: LocalServer, tmp_path: Path) -> None:
    d3 = server.serve(f"/x/{FILES['d3']}", (FIXTURES / FILES["d3"]).read_bytes())
    report = bf.fetch_benchmarks(tmp_path, overrides={"c1": server.url("/gone.csv"), "d3": d3}, only=["c1", "d3"],
                                 echo=quiet, timeout=10)
    assert "404" in report.failed["c1"] and server.url("/gone.csv") in report.failed["c1"]
    assert [f.name for f in report.fetched] == ["d3"]
    assert list(bf.read_provenance(tmp_path)["files"]) == ["d3"]


def test_file_missing_from_release_names_the_release_and_the_way_round(server: LocalServer, tmp_path: Path) -> None:
    release_url = server.serve_release({"c1": C1})
    report = bf.fetch_benchmarks(tmp_path, overrides={"release": release_url}, only=["ons"], echo=quiet, timeout=10)
    msg = report.failed["ons"]
    assert "ons_mid-year_population_estimates*.csv" in msg and "Reporting year 2025" in msg
    assert "--source ons=URL" in msg and bf.CSC_DATA_RAW in msg


def test_release_lookup_tries_the_older_slug_after_404(server: LocalServer) -> None:
    old = server.serve_release(path="/api/publications/characteristics-of-children-in-need/releases/latest")
    release = bf.resolve_release([server.url(RELEASE_PATH), old], timeout=10)
    assert release.id == RELEASE_ID and release.url == old
    assert release.file_url("f1") == server.url(f"/api/releases/{RELEASE_ID}/files/f1")


def test_readme_written_by_someone_else_is_left_alone(server: LocalServer, good_c1: Path) -> None:
    (good_c1 / "README.md").write_text("# Our notes\n", encoding="utf-8")
    url = server.serve(f"/x/{C1}", (FIXTURES / C1).read_bytes())
    report = bf.fetch_benchmarks(good_c1, overrides={"c1": url}, only=["c1"], echo=quiet, timeout=10)
    assert report.ok and report.fetched[0].status == "unchanged"
    assert (good_c1 / "README.md").read_text(encoding="utf-8") == "# Our notes\n"
    assert (good_c1 / "PROVENANCE.json").is_file()


# ----------------------------------------------------------------------------- offline and slow servers


def test_offline_gives_the_address_says_offline_and_how_to_download_by_hand(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/publications/children-in-need/releases/latest"
    folder = tmp_path / "bench"
    start = time.monotonic()
    with pytest.raises(bf.OfflineError) as info:
        bf.fetch_benchmarks(folder, overrides={"release": url}, echo=quiet, timeout=10)
    assert time.monotonic() - start < 10
    msg = str(info.value)
    assert url in msg and "refused" in msg and "offline" in msg
    assert "Download all data (ZIP)" in msg and str(folder) in msg and bf.PUBLICATION_PAGE in msg
    assert "Nothing in" in msg
    assert list(folder.iterdir()) == []


def test_dns_failure_is_offline(tmp_path: Path) -> None:
    with pytest.raises(bf.OfflineError, match="DNS failure"):
        bf.fetch_benchmarks(tmp_path, overrides={"sn": "https://no-such-host.invalid/sn_model_2025_wide.csv"},
                            only=["sn"], echo=quiet, timeout=5)


def test_going_offline_part_way_keeps_and_records_what_was_fetched(server: LocalServer, tmp_path: Path) -> None:
    c1 = server.serve(f"/x/{C1}", (FIXTURES / C1).read_bytes())
    dead = f"http://127.0.0.1:{closed_port()}/d3.csv"
    with pytest.raises(bf.OfflineError, match="1 file"):
        bf.fetch_benchmarks(tmp_path, overrides={"c1": c1, "d3": dead}, only=["c1", "d3"], echo=quiet, timeout=10)
    assert list(bf.read_provenance(tmp_path)["files"]) == ["c1"]


def test_server_that_never_answers_times_out(server: LocalServer, tmp_path: Path) -> None:
    url = server.serve_silent("/silent.csv", seconds=5)
    start = time.monotonic()
    with pytest.raises(bf.OfflineError, match="timed out"):
        bf.fetch_benchmarks(tmp_path, overrides={"c1": url}, only=["c1"], echo=quiet, timeout=1)
    assert time.monotonic() - start < 4


def test_slow_download_stops_at_the_deadline(server: LocalServer, good_c1: Path) -> None:
    url = server.serve_drip(f"/drip/{C1}", (FIXTURES / C1).read_bytes(), every=0.3)
    start = time.monotonic()
    report = bf.fetch_benchmarks(good_c1, overrides={"c1": url}, only=["c1"], echo=quiet, timeout=1)
    assert time.monotonic() - start < 4
    assert "longer than 1 seconds" in report.failed["c1"]
    assert (good_c1 / C1).read_bytes() == (FIXTURES / C1).read_bytes()
    assert stray_files(good_c1) == []


# ----------------------------------------------------------------------------- configuration and command line


def test_config_accepts_sources_and_names_bad_ones(tmp_path: Path) -> None:
    cfg = tmp_path / "report.yml"
    cfg.write_text("year: 2025\nbenchmarks:\n  folder: bench\n  sources:\n"
                   "    release: https://example.org/api/publications/x/releases/latest\n"
                   "    sn: https://example.org/sn_model_2025_wide.csv\n", encoding="utf-8")
    assert load_config(cfg).section("benchmarks")["sources"]["sn"].endswith("sn_model_2025_wide.csv")
    cfg.write_text("year: 2025\nbenchmarks:\n  sources:\n    relese: https://example.org/x.csv\n"
                   "    c9: https://example.org/x.csv\n    c1: ftp://example.org/x.csv\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    msg = str(info.value)
    assert "benchmarks.sources.relese: unknown benchmark file (did you mean 'release'?)" in msg
    assert "benchmarks.sources.c9: unknown benchmark file; valid: c1, d3, d5, b1, ons, sn, release" in msg
    assert "benchmarks.sources.c1: must be a web address" in msg


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "pipeline.py", "benchmarks", "fetch", *args], cwd=PROJECT,
                          capture_output=True, text=True, timeout=120, env=subprocess_env())


def test_cli_offline_exits_non_zero_with_the_offline_message(tmp_path: Path) -> None:
    port = closed_port()
    release = f"http://127.0.0.1:{port}/api/publications/children-in-need/releases/latest"
    folder = tmp_path / "bench"
    proc = run_cli("--config", str(tmp_path / "absent.yml"), "--folder", str(folder), "--timeout", "5",
                   "--source", f"release={release}", "--source", f"sn=http://127.0.0.1:{port}/sn.csv")
    assert proc.returncode != 0
    assert release in proc.stderr and "seems to be offline" in proc.stderr
    assert "by hand" in proc.stderr and str(folder) in proc.stderr
    assert not any(folder.iterdir())


def test_cli_uses_benchmarks_folder_relative_to_report_yml(server: LocalServer, tmp_path: Path) -> None:
    release_url = server.serve_release()
    sn_url = server.serve("/dfe/sn_model_2025_wide.csv", (FIXTURES / FILES["sn"]).read_bytes())
    cfg = tmp_path / "project" / "report.yml"
    cfg.parent.mkdir()
    cfg.write_text(f"year: 2025\nbenchmarks:\n  folder: data/bench\n  sources:\n    release: {release_url}\n",
                   encoding="utf-8")
    proc = run_cli("--config", str(cfg), "--source", f"sn={sn_url}", "--timeout", "20")
    assert proc.returncode == 0, proc.stderr
    folder = cfg.parent / "data" / "bench"
    assert sorted(p.name for p in folder.glob("*.csv")) == sorted(FILES.values())
    assert f"provenance: {folder / 'PROVENANCE.json'}" in proc.stdout


def test_cli_failed_check_exits_non_zero(server: LocalServer, good_c1: Path) -> None:
    url = server.serve(f"/x/{C1}", drop_column((FIXTURES / C1).read_bytes(), "referral_count"))
    proc = run_cli("--config", str(good_c1 / "absent.yml"), "--folder", str(good_c1), "--only", "c1",
                   "--source", f"c1={url}", "--timeout", "10")
    assert proc.returncode == 1
    assert "'referral_count'" in proc.stderr and C1 in proc.stderr
    assert (good_c1 / C1).read_bytes() == (FIXTURES / C1).read_bytes()


def test_cli_bad_source_option(tmp_path: Path) -> None:
    proc = run_cli("--config", str(tmp_path / "absent.yml"), "--folder", str(tmp_path), "--source", "c1")
    assert proc.returncode == 1 and "NAME=URL" in proc.stderr
    proc = run_cli("--config", str(tmp_path / "absent.yml"), "--folder", str(tmp_path), "--source", "zz=http://x/")
    assert proc.returncode == 1 and "unknown benchmark source(s) zz" in proc.stderr
