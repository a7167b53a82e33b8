"""``pipeline.py publish``: folder and SFTP targets, versioned releases, cut-off uploads, rollback, board refusal.

The SFTP tests start a real OpenSSH server (Debian ``openssh-server``) on 127.0.0.1 with a throwaway
host key and user key made by ``ssh-keygen``; without it they skip locally and fail in CI
(``SAFEGUARDING_REQUIRE_TOOLS=1``). The site published is a small one made here by hand, shaped as
a build leaves ``reports/<area>/`` (year folders with ``review.json``, a ``-board`` folder beside).
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from conftest import skip_or_fail

from safeguarding import deploy
from safeguarding.config import ConfigError, load_config

AREA = "northwold"
PASSPHRASE = "correct-horse-battery-staple-4417"


# --------------------------------------------------------------------------
# a built site, made by hand
# --------------------------------------------------------------------------

def _year(folder: Path, year: int, audience: str = "public", *, record: bool = True, marked: bool | None = None,
          ) -> None:
    folder.mkdir(parents=True)
    marked = audience == "board" if marked is None else marked
    marking = "<p class='marking'>OFFICIAL-SENSITIVE \u2014 not for publication</p>" if marked else ""
    (folder / "annual-review.html").write_text(f"<html><body>{marking}<h1>Review {year}</h1></body></html>",
                                               encoding="utf-8")
    (folder / "annual-review.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(3000))
    (folder / "data").mkdir()
    (folder / "data" / "indicators.csv").write_text(f"indicator,year,value\nREF,{year},{year % 97}\n")
    if record:
        (folder / "review.json").write_text(json.dumps({"area": "Northwold", "year": year, "audience": audience}))


def make_site(reports: Path, years: tuple[int, ...] = (2024, 2025), board_folder: bool = True) -> Path:
    area = reports / AREA
    area.mkdir(parents=True)
    for y in years:
        _year(area / str(y), y)
    if board_folder:
        _year(area / f"{years[-1]}-board", years[-1], "board")
    (area / "index.html").write_text("<html><body><h1>Northwold reviews</h1></body></html>", encoding="utf-8")
    (area / "accessibility.html").write_text("<html><body><h1>Accessibility</h1></body></html>", encoding="utf-8")
    (area / ".2026.staging-abc").mkdir()  # a build in progress: never published
    (area / ".2026.staging-abc" / "annual-review.html").write_text("half")
    return area


def write_config(root: Path, targets: dict | None = None, **extra: object) -> Path:
    doc: dict = {"area": {"name": "Northwold", "slug": AREA}, "year": 2025, **extra}
    if targets is not None:
        doc["publish"] = {"targets": targets}
    path = root / "report.yml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """A project folder whose reports/northwold/ holds two public years and a board one."""
    root = tmp_path / "project"
    root.mkdir()
    make_site(root / "reports")
    return root


def args(config: Path, to: str, **kw: object) -> argparse.Namespace:
    ns = argparse.Namespace(config=str(config), to=to, audience=None, dry_run=False, rollback=False, wait=0.0)
    for k, v in kw.items():
        setattr(ns, k, v)
    return ns


def run(config: Path, to: str, capsys: pytest.CaptureFixture[str], **kw: object) -> tuple[int, str]:
    lines: list[str] = []
    code = deploy.run(args(config, to, **kw), echo=lines.append)
    err = capsys.readouterr().err
    return code, "\n".join(lines) + "\n" + err


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (following the ``current`` link), by relative path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def expected_public(area: Path) -> dict[str, bytes]:
    """What a public target must receive: the index, the statement and the YYYY/ folders, nothing else."""
    out = {}
    for rel, data in tree(area).items():
        top = rel.split("/")[0]
        if top in ("index.html", "accessibility.html", "sitemap.xml") or (top.isdigit() and len(top) == 4):
            out[rel] = data
    return out


def published(root: Path) -> dict[str, bytes]:
    files = tree(root / "current")
    manifest = files.pop("MANIFEST.sha256").decode()
    listed = dict(line.split("  ", 1)[::-1] for line in manifest.splitlines())
    assert listed == {rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}  # sha256sum -c
    return files


def releases(root: Path) -> list[str]:
    return sorted(os.listdir(root / "releases")) if (root / "releases").is_dir() else []


# --------------------------------------------------------------------------
# targets and report.yml
# --------------------------------------------------------------------------

def test_target_addresses_are_read_as_written(tmp_path):
    t = deploy.parse_target("sftp://web@files.example.gov.uk:2222/srv/www/scp")
    assert (t.kind, t.user, t.host, t.port, t.path, t.audience) == ("sftp", "web", "files.example.gov.uk", 2222,
                                                                    "/srv/www/scp", "public")
    assert deploy.parse_target("sftp://web@host/~/public_html/scp").path == "public_html/scp"  # the login folder
    assert deploy.parse_target("file:///mnt/web/scp").path == "/mnt/web/scp"
    assert deploy.parse_target("site", base=tmp_path).path == str(tmp_path / "site")
    for bad in ("ftp://host/x", "sftp:///x", "sftp://host/", "sftp://host:99999/x", "https://host/x", ""):
        with pytest.raises(deploy.TargetError):
            deploy.parse_target(bad)


@pytest.mark.parametrize("url", ["sftp://web:hunter2-pw@host/srv", "sftp://:hunter2-pw@host/srv",
                                 "sftp://web:hunter2-pw@host:2222/srv", "sftp://web:hunter2-pw/x@host/srv",
                                 "ftp://web:hunter2-pw@host/srv"])
def test_an_address_holding_a_password_is_refused_without_repeating_it(tmp_path, url, capsys):
    with pytest.raises(deploy.TargetError) as exc:
        deploy.parse_target(url)
    assert "hunter2-pw" not in str(exc.value)
    assert "password" in str(exc.value) or "/x@" in url  # a '/' in the password ends the address's host part
    config = write_config(tmp_path, {"website": {"url": url}})
    with pytest.raises(ConfigError) as cexc:
        load_config(config)
    assert [p.key for p in cexc.value.problems] == ["publish.targets.website.url"]
    assert "hunter2-pw" not in str(cexc.value)
    code, out = run(write_config(tmp_path), url, capsys)
    assert code == 2 and "hunter2-pw" not in out


def test_publish_section_is_checked_with_key_paths(tmp_path):
    config = write_config(tmp_path, {"website": {"url": "sftp://web@host/srv", "audience": "boardd", "keep": 1,
                                                 "uri": "x"},
                                     "share": {"audience": "board"}})
    with pytest.raises(ConfigError) as exc:
        load_config(config)
    keys = sorted(p.key for p in exc.value.problems)
    assert keys == ["publish.targets.share.url", "publish.targets.website.audience", "publish.targets.website.keep",
                    "publish.targets.website.uri"]
    assert "did you mean 'board'" in str(exc.value)
    cfg = load_config(write_config(tmp_path, {"website": {"url": "out/site"},
                                              "board": {"url": "file:///mnt/board", "audience": "board"}}))
    assert deploy.resolve_target("website", cfg).path == str(tmp_path / "out" / "site")  # from report.yml's folder
    assert deploy.resolve_target("website", cfg).audience == "public"
    assert deploy.resolve_target("board", cfg).audience == "board"
    assert deploy.resolve_target("/mnt/x", cfg).audience == "public"  # a target written out is public
    with pytest.raises(deploy.TargetError, match="no target named 'websit'"):
        deploy.resolve_target("websit", cfg)


# --------------------------------------------------------------------------
# a folder target
# --------------------------------------------------------------------------

def test_folder_publish_then_dry_run_then_rollback(built, tmp_path, capsys):
    area = built / "reports" / AREA
    web = tmp_path / "web"
    config = write_config(built)
    code, out = run(config, str(web), capsys)
    assert code == 0, out
    first = releases(web)
    assert len(first) == 1 and os.readlink(web / "current") == f"releases/{first[0]}"
    assert published(web) == expected_public(area)
    assert "2025-board/ (a board build: never published to a public target)" in out
    assert not any(".staging" in rel or "board" in rel for rel in published(web))

    # a second publish of the same files uploads nothing
    code, out = run(config, str(web), capsys)
    assert code == 0 and "nothing uploaded" in out and releases(web) == first

    (area / "index.html").write_text("<html><body><h1>Northwold reviews, 2026</h1></body></html>")
    (area / "2025" / "data" / "findings.csv").write_text("statement\nmore\n")
    (area / "2024" / "annual-review.pdf").unlink()
    before = tree(web)
    code, out = run(config, str(web), capsys, dry_run=True)
    assert code == 0, out
    assert "  add    2025/data/findings.csv" in out
    assert "  change index.html" in out
    assert "  remove 2024/annual-review.pdf" in out
    assert "1 to add, 1 to change, 1 to remove" in out
    assert tree(web) == before and releases(web) == first  # nothing written

    code, out = run(config, f"file://{web}", capsys)
    assert code == 0, out
    second = [r for r in releases(web) if r not in first]
    assert len(second) == 1 and os.readlink(web / "current") == f"releases/{second[0]}"
    assert published(web) == expected_public(area)
    assert (web / "releases" / first[0] / "2024" / "annual-review.pdf").is_file()  # the previous release is kept

    code, out = run(config, str(web), capsys, rollback=True)
    assert code == 0, out
    assert os.readlink(web / "current") == f"releases/{first[0]}"
    assert "2024/annual-review.pdf" in published(web) and "2025/data/findings.csv" not in published(web)
    code, out = run(config, str(web), capsys, rollback=True)
    assert code == 1 and "oldest release" in out
    assert os.readlink(web / "current") == f"releases/{first[0]}"


def test_old_releases_are_pruned_but_never_the_one_current_pointed_to(built, tmp_path, capsys):
    area = built / "reports" / AREA
    web = tmp_path / "web"
    config = write_config(built, {"website": {"url": str(web), "keep": 2}})
    names = []
    for i in range(4):
        (area / "index.html").write_text(f"<html><body><h1>edition {i}</h1></body></html>")
        assert run(config, "website", capsys)[0] == 0
        names.append(os.readlink(web / "current").split("/")[1])
    assert len(set(names)) == 4 and names == sorted(names)  # each release sorts after the one before
    assert releases(web) == names[-2:]
    # after a rollback the release rolled back from is newer than current; the next publish keeps current's
    assert run(config, "website", capsys, rollback=True)[0] == 0
    (area / "index.html").write_text("<html><body><h1>edition 5</h1></body></html>")
    assert run(config, "website", capsys)[0] == 0
    assert names[-2] in releases(web)


class CutOff(deploy.FolderTransport):
    """A folder target whose connection drops after ``after`` files."""

    def __init__(self, root: Path, after: int) -> None:
        super().__init__(root)
        self.after = after
        self.puts = 0

    def put(self, local: Path, rel: str) -> None:
        if self.puts == self.after:
            raise deploy.TransportError("connection reset by peer")
        self.puts += 1
        super().put(local, rel)


class Corrupting(deploy.FolderTransport):
    """A folder target that stores one file with a byte changed (a bad disk, a proxy rewriting pages)."""

    def put(self, local: Path, rel: str) -> None:
        super().put(local, rel)
        if rel.endswith("2025/annual-review.pdf"):
            with (self.root / rel).open("r+b") as f:
                f.seek(100)
                byte = f.read(1)
                f.seek(100)
                f.write(bytes([byte[0] ^ 0xFF]))


def test_folder_upload_cut_off_half_way_leaves_current_and_the_next_publish_succeeds(built, tmp_path, capsys):
    area = built / "reports" / AREA
    web = tmp_path / "web"
    config = write_config(built)
    cfg = load_config(config)
    target = deploy.parse_target(str(web))
    assert run(config, str(web), capsys)[0] == 0
    old = os.readlink(web / "current")
    old_files = published(web)
    (area / "index.html").write_text("<html><body><h1>new</h1></body></html>")
    with pytest.raises(deploy.TransportError):
        deploy.publish(cfg, target, echo=lambda s: None, transport=CutOff(web, after=3))
    assert os.readlink(web / "current") == old and published(web) == old_files  # readers unaffected
    partial = [r for r in releases(web) if r.endswith(".partial")]
    assert len(partial) == 1 and len(tree(web / "releases" / partial[0])) == 3
    code, out = run(config, str(web), capsys)
    assert code == 0, out
    assert f"removing releases/{partial[0]}" in out
    assert not any(r.endswith(".partial") for r in releases(web))
    assert os.readlink(web / "current") != old and published(web) == expected_public(area)


def test_a_file_that_reads_back_differently_stops_the_switch(built, tmp_path):
    area = built / "reports" / AREA
    web = tmp_path / "web"
    cfg = load_config(write_config(built))
    target = deploy.parse_target(str(web))
    deploy.publish(cfg, target, echo=lambda s: None)
    old = os.readlink(web / "current")
    (area / "2025" / "annual-review.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(3000))
    with pytest.raises(deploy.ChecksumError, match=r"2025/annual-review\.pdf"):
        deploy.publish(cfg, target, echo=lambda s: None, transport=Corrupting(web))
    assert os.readlink(web / "current") == old
    assert len(releases(web)) == 1  # the bad upload was removed


def test_board_build_is_refused_by_a_public_target_and_accepted_by_a_board_one(built, tmp_path, capsys):
    area = built / "reports" / AREA
    web, board = tmp_path / "web", tmp_path / "board"
    config = write_config(built, {"website": {"url": str(web)},
                                    "board-share": {"url": str(board), "audience": "board"}})
    # the board's build asked for by name, to a public target
    code, out = run(config, "website", capsys, audience="board")
    assert code == 2 and "cannot be published to website" in out and "audience: board" in out
    assert not web.exists()
    # ... and accepted by the board's target, <year>-board/ included
    code, out = run(config, "board-share", capsys, audience="board")
    assert code == 0, out
    files = published(board)
    assert files["2025-board/annual-review.html"] == (area / "2025-board" / "annual-review.html").read_bytes()
    assert "2025/annual-review.html" in files and not any(".staging" in f for f in files)

    # a board report put in a public year's folder: its record says board
    shutil.rmtree(area / "2024")
    _year(area / "2024", 2024, "board", marked=False)
    code, out = run(config, "website", capsys)
    assert code == 2 and str(area / "2024" / "review.json") in out and "audience: board" in out
    assert not web.exists()
    # ... or only its page's marking does (a build from before review.json)
    shutil.rmtree(area / "2024")
    _year(area / "2024", 2024, "public", record=False, marked=True)
    code, out = run(config, str(web), capsys)
    assert code == 2 and "OFFICIAL-SENSITIVE marking" in out and str(area / "2024" / "annual-review.html") in out
    assert not web.exists()
    # the board's target takes it
    assert run(config, "board-share", capsys, audience="board")[0] == 0


def test_report_yml_audience_board_is_refused_by_a_public_target(built, tmp_path, capsys):
    web = tmp_path / "web"
    config = write_config(built, {"website": {"url": str(web)}}, audience="board")
    code, out = run(config, "website", capsys)
    assert code == 2 and "board (OFFICIAL-SENSITIVE) build cannot be published" in out
    assert run(config, "website", capsys, audience="public")[0] == 0


def test_a_current_that_is_not_a_link_is_left_alone(built, tmp_path, capsys):
    web = tmp_path / "web"
    (web / "current").mkdir(parents=True)
    (web / "current" / "index.html").write_text("the old site, copied by hand")
    code, out = run(write_config(built), str(web), capsys)
    assert code == 1 and "not a symbolic link" in out
    assert (web / "current" / "index.html").read_text() == "the old site, copied by hand"
    assert releases(web) == []


def test_nothing_built_is_refused(tmp_path, capsys):
    web = tmp_path / "web"
    config = write_config(tmp_path)
    code, out = run(config, str(web), capsys)
    assert code == 2 and "nothing to publish" in out
    area = tmp_path / "reports" / AREA
    _year(area / "2025-board", 2025, "board")
    code, out = run(config, str(web), capsys)
    assert code == 2 and "holds no built year" in out
    _year(area / "2025", 2025)
    code, out = run(config, str(web), capsys)
    assert code == 2 and "index.html is missing" in out and "pipeline.py site" in out
    assert not web.exists()


def test_a_target_inside_the_area_folder_is_refused(built, capsys):
    config = write_config(built)
    code, out = run(config, str(built / "reports" / AREA / "web"), capsys)
    assert code == 2 and "overlaps" in out


def test_cli_lists_publish():
    from safeguarding.cli import COMMANDS

    assert COMMANDS["publish"][0] == "safeguarding.deploy.cli"
    doc = (Path(__file__).resolve().parents[1] / "pipeline.py").read_text()
    assert "publish" in doc.split('"""')[1]


# --------------------------------------------------------------------------
# a real OpenSSH server
# --------------------------------------------------------------------------

SSHD = "/usr/sbin/sshd"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A throwaway sshd on 127.0.0.1 serving this machine's files to the current user."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self.user = getpass.getuser()
        keygen = shutil.which("ssh-keygen")
        assert keygen
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(folder / "host_key")], check=True)
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", PASSPHRASE, "-C", "test", "-f",
                        str(folder / "user_key")], check=True)
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", "agent", "-f", str(folder / "agent_key")],
                       check=True)
        (folder / "authorized_keys").write_text((folder / "user_key.pub").read_text()
                                                + (folder / "agent_key.pub").read_text())
        host_pub = " ".join((folder / "host_key.pub").read_text().split()[:2])
        self.known_hosts = folder / "known_hosts"
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {host_pub}\n")
        config = folder / "sshd_config"
        config.write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {folder / 'host_key'}",
            f"PidFile {folder / 'sshd.pid'}", f"AuthorizedKeysFile {folder / 'authorized_keys'}", "StrictModes no",
            "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PubkeyAuthentication yes",
            "PermitRootLogin prohibit-password", "UsePAM no", "Subsystem sftp internal-sftp", "LogLevel VERBOSE",
        ]) + "\n")
        self.log = folder / "sshd.log"
        self._log_file = self.log.open("wb")
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL,
                                     stderr=self._log_file)
        deadline = time.monotonic() + 15
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd stopped: {self.log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(4).startswith(b"SSH-"):
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def url(self, root: Path) -> str:
        return f"sftp://{self.user}@127.0.0.1:{self.port}{root}"

    def cut_sessions(self) -> int:
        """Kill the processes serving the open connections (the listener stays up); how many were killed."""
        from safeguarding.build import descendants

        pids = descendants(self.proc.pid)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(pids)

    def stop(self) -> None:
        self.cut_sessions()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self._log_file.close()


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory):
    if not (os.path.exists(SSHD) and shutil.which("ssh-keygen")):
        skip_or_fail("OpenSSH server not installed (apt-get install openssh-server openssh-client)")
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation folder
    try:
        server = Server(tmp_path_factory.mktemp("sshd"))
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        skip_or_fail(f"cannot start a throwaway sshd on 127.0.0.1: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def ssh_env(sshd, monkeypatch):
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)  # never the developer's own agent
    monkeypatch.setenv("SAFEGUARDING_SFTP_KEY", str(sshd.folder / "user_key"))
    monkeypatch.setenv("SAFEGUARDING_SFTP_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("SAFEGUARDING_SFTP_KNOWN_HOSTS", str(sshd.known_hosts))
    return sshd


def test_sftp_publish_dry_run_and_rollback(built, tmp_path, ssh_env, capsys):
    area = built / "reports" / AREA
    web = tmp_path / "srv" / "scp"
    config = write_config(built, {"website": {"url": ssh_env.url(web)}})
    code, out = run(config, "website", capsys)
    assert code == 0, out
    first = releases(web)
    assert len(first) == 1 and (web / "current").is_symlink()
    assert os.readlink(web / "current") == f"releases/{first[0]}"  # relative: the web root may be moved
    assert published(web) == expected_public(area)

    (area / "accessibility.html").write_text("<html><body><h1>Accessibility, revised</h1></body></html>")
    code, out = run(config, "website", capsys, dry_run=True)
    assert code == 0 and "  change accessibility.html" in out and "0 to add, 1 to change, 0 to remove" in out
    assert releases(web) == first
    assert run(config, "website", capsys)[0] == 0
    assert len(releases(web)) == 2 and published(web) == expected_public(area)
    code, out = run(config, "website", capsys, rollback=True)
    assert code == 0 and os.readlink(web / "current") == f"releases/{first[0]}"
    assert b"revised" not in published(web)["accessibility.html"]


def test_sftp_upload_cut_off_half_way_leaves_current_and_the_next_publish_succeeds(built, tmp_path, ssh_env,
                                                                                   capsys):
    area = built / "reports" / AREA
    web = tmp_path / "srv" / "scp"
    config = write_config(built, {"website": {"url": ssh_env.url(web)}})
    assert run(config, "website", capsys)[0] == 0
    old, old_files = os.readlink(web / "current"), published(web)
    (area / "2025" / "annual-review.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(200_000))
    (area / "index.html").write_text("<html><body><h1>new edition</h1></body></html>")
    killed = []

    def cut(done: int, total: int, rel: str) -> None:
        if done == 3:
            killed.append(ssh_env.cut_sessions())  # the server's side of the connection dies mid-upload

    cfg = load_config(config)
    with pytest.raises(deploy.TransportError):
        deploy.publish(cfg, deploy.resolve_target("website", cfg), echo=lambda s: None, progress=cut)
    assert killed and killed[0] >= 1
    assert os.readlink(web / "current") == old and published(web) == old_files  # readers unaffected
    partial = [r for r in releases(web) if r.endswith(".partial")]
    assert len(partial) == 1
    code, out = run(config, "website", capsys)
    assert code == 0, out
    assert f"removing releases/{partial[0]}" in out and not any(r.endswith(".partial") for r in releases(web))
    assert os.readlink(web / "current") != old and published(web) == expected_public(area)


def test_sftp_cut_off_through_the_command_line_says_current_is_unchanged(built, tmp_path, ssh_env, capsys,
                                                                         monkeypatch):
    web = tmp_path / "srv" / "scp"
    config = write_config(built, {"website": {"url": ssh_env.url(web)}})
    real_put = deploy.SFTPTransport.put
    calls = []

    def put(self, local, rel):
        calls.append(rel)
        if len(calls) == 2:
            ssh_env.cut_sessions()
        return real_put(self, local, rel)

    monkeypatch.setattr(deploy.SFTPTransport, "put", put)
    code, out = run(config, "website", capsys)
    assert code == 1 and "current release is unchanged" in out and "Publish again" in out
    assert not (web / "current").exists()
    monkeypatch.setattr(deploy.SFTPTransport, "put", real_put)
    assert run(config, "website", capsys)[0] == 0 and (web / "current").is_symlink()


def test_sftp_a_file_that_reads_back_differently_stops_the_switch(built, tmp_path, ssh_env):
    area = built / "reports" / AREA
    web = tmp_path / "srv" / "scp"
    cfg = load_config(write_config(built, {"website": {"url": ssh_env.url(web)}}))
    target = deploy.resolve_target("website", cfg)
    deploy.publish(cfg, target, echo=lambda s: None)
    old = os.readlink(web / "current")

    class Corrupt(deploy.SFTPTransport):
        def put(self, local: Path, rel: str) -> None:
            super().put(local, rel)
            if rel.endswith("2024/data/indicators.csv"):
                with self.sftp.open(self._p(rel), "r+b") as f:
                    f.write(b"X")

    (area / "2024" / "data" / "indicators.csv").write_text("indicator,year,value\nREF,2024,1\n")
    with pytest.raises(deploy.ChecksumError, match=r"2024/data/indicators\.csv"):
        deploy.publish(cfg, target, echo=lambda s: None, transport=Corrupt(target))
    assert os.readlink(web / "current") == old and len(releases(web)) == 1


def test_sftp_unknown_host_key_is_refused_and_nothing_is_sent(built, tmp_path, ssh_env, capsys, monkeypatch):
    web = tmp_path / "srv" / "scp"
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    monkeypatch.setenv("SAFEGUARDING_SFTP_KNOWN_HOSTS", str(empty))
    config = write_config(built)
    code, out = run(config, ssh_env.url(web), capsys)
    assert code == 2, out
    assert "not in the known hosts file" in out and f"ssh-keyscan -p {ssh_env.port}" in out and "SHA256:" in out
    assert not web.exists() and empty.read_text() == ""  # never added
    # a different key for the same address: refused as a possible impostor
    other = tmp_path / "other_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    pub = " ".join(Path(f"{other}.pub").read_text().split()[:2])
    empty.write_text(f"[127.0.0.1]:{ssh_env.port} {pub}\n")
    code, out = run(config, ssh_env.url(web), capsys)
    assert code == 2 and "impostor" in out and not web.exists()


def test_sftp_credentials_never_appear_in_output_or_logs(built, tmp_path, ssh_env, capsys, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)  # paramiko's own debug log included
    web = tmp_path / "srv" / "scp"
    config = write_config(built, {"website": {"url": ssh_env.url(web)}})
    code, out = run(config, "website", capsys, dry_run=True)
    assert code == 0 and "to add" in out
    code, out2 = run(config, "website", capsys)
    assert code == 0, out2
    monkeypatch.setenv("SAFEGUARDING_SFTP_PASSPHRASE", PASSPHRASE + "-wrong")
    code, out3 = run(config, "website", capsys)
    assert code == 2 and "passphrase" in out3
    monkeypatch.delenv("SAFEGUARDING_SFTP_PASSPHRASE")
    code, out4 = run(config, "website", capsys)
    assert code == 2 and "SAFEGUARDING_SFTP_PASSPHRASE" in out4
    monkeypatch.delenv("SAFEGUARDING_SFTP_KEY")
    code, out5 = run(config, "website", capsys)
    assert code == 2 and "no SSH credentials" in out5
    assert any("paramiko" in r.name for r in caplog.records)  # the log was captured, so the check means something
    everything = "\n".join([out, out2, out3, out4, out5, caplog.text, ssh_env.log.read_text()])
    assert PASSPHRASE not in everything
    assert (ssh_env.folder / "user_key").read_text().splitlines()[1] not in everything  # nor the key itself


def test_sftp_with_an_ssh_agent(built, tmp_path, ssh_env, capsys, monkeypatch):
    agent = shutil.which("ssh-agent")
    if not agent or not shutil.which("ssh-add"):
        skip_or_fail("ssh-agent not installed (apt-get install openssh-client)")
    sock = tmp_path / "agent.sock"
    proc = subprocess.Popen([agent, "-D", "-a", str(sock)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.05)
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(["ssh-add", "-q", str(ssh_env.folder / "agent_key")], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        monkeypatch.delenv("SAFEGUARDING_SFTP_KEY")
        monkeypatch.delenv("SAFEGUARDING_SFTP_PASSPHRASE")
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        web = tmp_path / "srv" / "scp"
        code, out = run(write_config(built), ssh_env.url(web), capsys)
        assert code == 0, out
        assert published(web) == expected_public(built / "reports" / AREA)
    finally:
        proc.terminate()
        proc.wait(10)
