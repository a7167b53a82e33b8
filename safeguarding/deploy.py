"""``pipeline.py publish``: put the area's site on a web server, switched in only once it is whole.

What is published is the area's folder ``reports/<area>/`` as a whole (the index, the
accessibility statement, the sitemap and every year), because the index links every year.
A target is a folder (a mounted web share: a path or ``file://`` URL) or an SFTP server
(``sftp://user@host[:port]/path``), given on the command line or named in ``report.yml``
(``publish: {targets: {website: {url: ..., audience: public}}}``). On the target::

    <root>/releases/<version id>/...              one complete copy of the site per release
    <root>/releases/<version id>/MANIFEST.sha256  every file's SHA-256 (``sha256sum -c`` format)
    <root>/current -> releases/<version id>       what readers see: the web root points here

A release is uploaded to ``releases/<id>.partial/``, every file is read back and its SHA-256
compared with the local file, and only then is the folder renamed to ``releases/<id>/`` and
``current`` switched to it in one rename (a new symbolic link renamed over the old one), so a
reader sees the old site or the new one, never half of one. An upload cut off half-way leaves
``current`` as it was; the next publish removes the ``.partial`` folder. The release ``current``
pointed to before is kept, with the newest others up to ``keep`` (default 3), and
``--rollback`` switches ``current`` back to the release before it. ``--dry-run`` lists the files
the publish would add, change and remove, writing nothing.

A public target (every target unless ``report.yml`` declares it ``audience: board``) never
receives a board build: the ``<year>-board/`` folders are left out, and a year folder holding a
board report (its ``review.json`` says ``audience: board`` or its page carries the
OFFICIAL-SENSITIVE marking) stops the publish. Credentials come from an SSH agent or a key file
named by ``SAFEGUARDING_SFTP_KEY`` (passphrase in ``SAFEGUARDING_SFTP_PASSPHRASE``), never from
``report.yml``; the server's host key must already be in ``known_hosts``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import errno
import hashlib
import os
import posixpath
import re
import shutil
import socket
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from safeguarding.site import HTML_NAME, INDEX_NAME, REVIEW_JSON, SITEMAP_NAME, STATEMENT_NAME, YEAR_FOLDER

AUDIENCES: tuple[str, ...] = ("public", "board")
#: keys of ``publish:`` and of one ``publish.targets.<name>`` in report.yml
PUBLISH_KEYS: tuple[str, ...] = ("targets",)
TARGET_KEYS: tuple[str, ...] = ("url", "audience", "keep")
KEEP_DEFAULT = 3
KEEP_MIN = 2  # the new release and the one before it, for --rollback
MANIFEST_NAME = "MANIFEST.sha256"
RELEASES = "releases"
CURRENT = "current"
PARTIAL_SUFFIX = ".partial"
#: a release's folder name: UTC time of the publish and the start of its manifest's SHA-256
RELEASE_NAME = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{10}")
#: the files of the area's folder a public target receives beside the year folders
SITE_FILES: tuple[str, ...] = (INDEX_NAME, STATEMENT_NAME, SITEMAP_NAME)
BOARD_MARKING = b"OFFICIAL-SENSITIVE"
ENV_KEY = "SAFEGUARDING_SFTP_KEY"
ENV_PASSPHRASE = "SAFEGUARDING_SFTP_PASSPHRASE"
ENV_KNOWN_HOSTS = "SAFEGUARDING_SFTP_KNOWN_HOSTS"
ENV_USER = "SAFEGUARDING_SFTP_USER"
CONNECT_TIMEOUT = 30.0


class PublishError(RuntimeError):
    """The site was not published (or rolled back); the target's ``current`` is as it was."""


class TargetError(PublishError):
    """A target is written wrongly (an unknown scheme, a password in the address, ...)."""


class RefusedError(PublishError):
    """The publish is refused before anything is sent: a board build for a public target, nothing built."""


class ConnectError(PublishError):
    """The target could not be reached or refused us (host key, credentials); nothing was sent."""


class TransportError(PublishError):
    """The connection to the target was lost, or an operation on it failed, part-way."""


class ChecksumError(PublishError):
    """Files read back from the target differ from the local ones; ``current`` was not switched."""


# --------------------------------------------------------------------------
# targets
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """Where the site goes: ``kind`` ``folder`` (``path`` a local folder) or ``sftp`` (``path`` on ``host``)."""

    kind: str
    path: str
    audience: str = "public"
    name: str | None = None
    host: str | None = None
    port: int = 22
    user: str | None = None
    keep: int = KEEP_DEFAULT

    @property
    def label(self) -> str:
        """How the target is named in messages (never holds a secret: a password is refused on parsing)."""
        if self.kind == "sftp":
            user = f"{self.user}@" if self.user else ""
            port = f":{self.port}" if self.port != 22 else ""
            where = f"sftp://{user}{self.host}{port}{self.path if self.path.startswith('/') else '/~/' + self.path}"
        else:
            where = self.path
        return f"{self.name} ({where})" if self.name else where


def parse_target(text: str, *, audience: str = "public", name: str | None = None, keep: int = KEEP_DEFAULT,
                 base: Path | None = None) -> Target:
    """Read a target address: a folder path, ``file:///path`` or ``sftp://user@host[:port]/path``.

    A relative folder path is taken from ``base`` (default: the working folder). ``sftp://host/~/site``
    is ``site`` under the login folder. Raises :class:`TargetError` for any other scheme, an address
    without a host or path, or a password in the address (credentials come from an SSH agent or
    ``SAFEGUARDING_SFTP_KEY``, never from an address that is written down).
    """
    text = str(text).strip()
    shown = _without_password(text)
    if not text:
        raise TargetError("the target is empty; give a folder, file:///path or sftp://user@host/path")
    if "://" not in text:
        folder = Path(os.path.expanduser(text))
        if not folder.is_absolute():
            folder = (base or Path.cwd()) / folder
        return Target("folder", os.path.normpath(folder), audience=audience, name=name, keep=keep)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if parts.password is not None or (parts.username is not None and ":" in (parts.netloc.rsplit("@", 1)[0])):
        raise TargetError(f"the target address {shown} holds a password: remove it "
                          f"(write sftp://user@host/path); the key comes from an SSH agent or the file named by "
                          f"{ENV_KEY} (passphrase in {ENV_PASSPHRASE})")
    if parts.query or parts.fragment:
        raise TargetError(f"the target address {shown!r} has a query or '#'; write sftp://user@host[:port]/path")
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise TargetError(f"{shown!r}: a file:// address names a folder on this machine, file:///path")
        path = unquote(parts.path)
        if not path.startswith("/"):
            raise TargetError(f"{shown!r}: write file:///absolute/path")
        return Target("folder", os.path.normpath(path), audience=audience, name=name, keep=keep)
    if scheme == "sftp":
        if not parts.hostname:
            raise TargetError(f"{shown!r} names no server; write sftp://user@host[:port]/path")
        try:
            port = parts.port or 22
        except ValueError as exc:
            raise TargetError(f"{shown!r}: the port must be a number from 1 to 65535") from exc
        path = unquote(parts.path)
        if path.startswith("/~/") or path == "/~":
            path = path[3:]  # relative to the login folder
        path = posixpath.normpath(path) if path else ""
        if path in ("", ".", "/"):
            raise TargetError(f"{shown!r} names no folder; write sftp://user@host/path/to/the/area (the web "
                              "root then points at path/to/the/area/current)")
        return Target("sftp", path, audience=audience, name=name, host=parts.hostname, port=port,
                      user=unquote(parts.username) if parts.username else None, keep=keep)
    raise TargetError(f"{shown!r}: a target is a folder, file:///path or sftp://user@host[:port]/path, "
                      f"not a {scheme}:// address")


def _without_password(text: str) -> str:
    """The address as messages show it: whatever follows the user name up to the last ``@`` becomes ``***``.

    Wider than the address's own user part on purpose: a password holding ``/`` or ``@`` is hidden too.
    """
    m = re.fullmatch(r"([A-Za-z][A-Za-z0-9+.-]*://)(.*)@(.*)", text, re.S)
    if not m:
        return text
    user = re.split(r"[:/]", m.group(2), maxsplit=1)[0]
    return f"{m.group(1)}{user}{':***' if user != m.group(2) else ''}@{m.group(3)}"


def configured_targets(cfg: Any) -> dict[str, dict[str, Any]]:
    """``report.yml``'s ``publish.targets`` (checked when the file was loaded), or {}."""
    section = cfg.raw.get("publish") or {}
    targets = section.get("targets") if isinstance(section, dict) else None
    return targets if isinstance(targets, dict) else {}


def resolve_target(text: str, cfg: Any | None = None) -> Target:
    """A target named in ``report.yml`` (``publish.targets.<name>``) or written out as an address.

    A target written on the command line is public; only a named target can be ``audience: board``.
    """
    targets = configured_targets(cfg) if cfg is not None else {}
    if text in targets:
        spec = targets[text] or {}
        return parse_target(str(spec.get("url", "")), audience=str(spec.get("audience") or "public"), name=text,
                            keep=int(spec.get("keep") or KEEP_DEFAULT), base=cfg.root)
    if re.fullmatch(r"[A-Za-z0-9_-]+", text):
        names = ", ".join(targets) or "none"
        raise TargetError(f"no target named {text!r} in report.yml's publish.targets (configured: {names}); "
                          f"for a folder of that name write ./{text}")
    return parse_target(text)


# --------------------------------------------------------------------------
# what is published
# --------------------------------------------------------------------------

@dataclass
class LocalSite:
    """The files to publish (path in the release -> local file) and what was left out, and why."""

    area_dir: Path
    files: dict[str, Path]
    left_out: list[str] = field(default_factory=list)


def _is_board_year(folder: Path) -> str | None:
    """Why ``folder`` holds a board report (its record, or its page's marking), or None."""
    import json

    record_path = folder / REVIEW_JSON
    if record_path.is_file():
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = None
        if isinstance(record, dict) and record.get("audience", "public") != "public":
            return f"{record_path} says audience: {record.get('audience')}"
    page = folder / HTML_NAME
    if page.is_file():
        try:
            if BOARD_MARKING in page.read_bytes():
                return f"{page} carries the OFFICIAL-SENSITIVE marking"
        except OSError:
            return f"{page} cannot be read"
    return None


def _walk(folder: Path, prefix: str, files: dict[str, Path], left_out: list[str]) -> None:
    """Every regular, non-hidden file under ``folder`` (no symbolic links followed), keyed ``prefix/rel``."""
    for path in sorted(folder.iterdir()):
        rel = f"{prefix}/{path.name}"
        if path.name.startswith("."):
            continue
        if path.is_symlink():
            left_out.append(f"{rel} (a symbolic link)")
        elif path.is_dir():
            _walk(path, rel, files, left_out)
        elif path.is_file():
            files[rel] = path


def collect_site(area_dir: Path, *, audience: str) -> LocalSite:
    """What a target of ``audience`` receives from ``area_dir`` (``reports/<area>/``).

    Public: ``index.html``, ``accessibility.html``, ``sitemap.xml`` and every ``YYYY/`` folder; a
    ``<year>-board/`` folder or anything else is left out (and listed), and a ``YYYY/`` folder holding a
    board report raises :class:`RefusedError` naming the file. Board: every file of the area's folder.
    Hidden files and folders (staging folders, locks) and symbolic links are never published. Raises
    :class:`RefusedError` when nothing is built (no year folder, or no ``index.html``).
    """
    if not area_dir.is_dir():
        raise RefusedError(f"nothing to publish: {area_dir} does not exist; build the review first "
                           "(python pipeline.py build --config report.yml)")
    files: dict[str, Path] = {}
    left_out: list[str] = []
    years: list[str] = []
    refused: list[str] = []
    for path in sorted(area_dir.iterdir()):
        name = path.name
        if name.startswith("."):
            continue
        if path.is_symlink():
            left_out.append(f"{name} (a symbolic link)")
            continue
        if path.is_file():
            if audience == "board" or name in SITE_FILES:
                files[name] = path
            else:
                left_out.append(f"{name} (not a page of the site)")
            continue
        if not path.is_dir():
            continue
        is_year = YEAR_FOLDER.fullmatch(name) is not None
        if audience == "public":
            if not is_year:
                why = "a board build" if name.endswith("-board") else "not a year folder"
                left_out.append(f"{name}/ ({why}: never published to a public target)")
                continue
            reason = _is_board_year(path)
            if reason:
                refused.append(reason)
                continue
        if is_year and (path / HTML_NAME).is_file():
            years.append(name)
        _walk(path, name, files, left_out)
    if refused:
        raise RefusedError("a board (OFFICIAL-SENSITIVE) build cannot be published to a public target: "
                           + "; ".join(refused) + ". Move that folder out of " + str(area_dir)
                           + " (a board build belongs in <year>-board/: pipeline.py build --audience board), "
                           "or publish to a target that report.yml declares audience: board")
    if not years:
        raise RefusedError(f"nothing to publish: {area_dir} holds no built year (a YYYY/ folder with "
                           f"{HTML_NAME}); build the review first (python pipeline.py build --config report.yml)")
    if INDEX_NAME not in files:
        raise RefusedError(f"nothing to publish: {area_dir / INDEX_NAME} is missing; write it with "
                           "python pipeline.py site --config report.yml")
    return LocalSite(area_dir, files, left_out)


def sha256_file(path: Path) -> str:
    """SHA-256 of a local file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest_text(hashes: dict[str, str]) -> str:
    """``MANIFEST.sha256``: one ``<sha256>  <path>`` line per file, sorted (``sha256sum -c`` reads it)."""
    return "".join(f"{hashes[p]}  {p}\n" for p in sorted(hashes))


def parse_manifest(text: str) -> dict[str, str]:
    """The path -> SHA-256 mapping of a ``MANIFEST.sha256`` (lines it cannot read are skipped)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line)
        if m:
            out[m.group(2)] = m.group(1)
    return out


# --------------------------------------------------------------------------
# transports: paths are relative to the target's root, '/'-separated
# --------------------------------------------------------------------------

class Transport(Protocol):
    """What the engine needs of a target; every path is relative to its root."""

    def makedirs(self, rel: str) -> None:
        """Create folder ``rel`` and its parents (no error if it exists)."""

    def put(self, local: Path, rel: str) -> None:
        """Copy a local file to ``rel``."""

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write ``data`` to ``rel``."""

    def read_bytes(self, rel: str) -> bytes | None:
        """The bytes of ``rel``, or None when it does not exist."""

    def sha256(self, rel: str) -> str | None:
        """The SHA-256 of ``rel`` as read back from the target, or None when it does not exist."""

    def listdir(self, rel: str) -> list[str]:
        """The names in folder ``rel`` ([] when it does not exist)."""

    def readlink(self, rel: str) -> str | None:
        """Where the symbolic link ``rel`` points, or None when it is not one."""

    def switch_link(self, link_target: str, rel: str) -> None:
        """Make ``rel`` a symbolic link to ``link_target`` in one rename (readers never see it missing)."""

    def rename(self, src: str, dst: str) -> None:
        """Rename ``src`` to ``dst`` (which must not exist)."""

    def rmtree(self, rel: str) -> None:
        """Remove folder ``rel`` and everything in it (no error if it does not exist)."""

    def close(self) -> None:
        """Close the connection."""


class FolderTransport:
    """A folder on this machine (a mounted web share)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _p(self, rel: str) -> Path:
        return self.root / rel if rel else self.root

    def makedirs(self, rel: str) -> None:
        """Create folder ``rel`` and its parents."""
        self._p(rel).mkdir(parents=True, exist_ok=True)

    def put(self, local: Path, rel: str) -> None:
        """Copy a local file to ``rel`` and flush it to the disk."""
        with local.open("rb") as src, self._p(rel).open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write ``data`` to ``rel``."""
        with self._p(rel).open("wb") as dst:
            dst.write(data)
            dst.flush()
            os.fsync(dst.fileno())

    def read_bytes(self, rel: str) -> bytes | None:
        """The bytes of ``rel``, or None."""
        try:
            return self._p(rel).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def sha256(self, rel: str) -> str | None:
        """The SHA-256 of ``rel`` read back from the folder, or None."""
        path = self._p(rel)
        return sha256_file(path) if path.is_file() else None

    def listdir(self, rel: str) -> list[str]:
        """The names in folder ``rel``."""
        path = self._p(rel)
        return sorted(os.listdir(path)) if path.is_dir() else []

    def readlink(self, rel: str) -> str | None:
        """Where the symbolic link ``rel`` points, or None."""
        path = self._p(rel)
        return os.readlink(path) if path.is_symlink() else None

    def switch_link(self, link_target: str, rel: str) -> None:
        """A new symbolic link under a temporary name, renamed over ``rel`` (``os.replace``: atomic)."""
        link = self._p(rel)
        tmp = link.with_name(f".{link.name}.tmp-{uuid.uuid4().hex[:8]}")
        try:
            os.symlink(link_target, tmp)
        except OSError as exc:
            raise PublishError(f"cannot make a symbolic link in {self.root}: {exc.strerror or exc}; the web "
                                 "share must allow symbolic links (for a CIFS mount, the mfsymlinks option)") from exc
        try:
            os.replace(tmp, link)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    def rename(self, src: str, dst: str) -> None:
        """Rename ``src`` to ``dst``."""
        os.rename(self._p(src), self._p(dst))

    def rmtree(self, rel: str) -> None:
        """Remove folder ``rel`` and everything in it."""
        path = self._p(rel)
        if path.is_symlink():
            path.unlink()
        elif path.exists():
            shutil.rmtree(path)

    def close(self) -> None:
        """Nothing to close."""


def _fingerprint(key: Any) -> str:
    """OpenSSH's ``SHA256:...`` fingerprint of a host key."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def known_hosts_file() -> Path:
    """``$SAFEGUARDING_SFTP_KNOWN_HOSTS``, else ``~/.ssh/known_hosts``."""
    return Path(os.path.expanduser(os.environ.get(ENV_KNOWN_HOSTS) or "~/.ssh/known_hosts"))


def _connection_errors() -> tuple[type[BaseException], ...]:
    import paramiko

    return (paramiko.SSHException, EOFError, socket.error, OSError)


class SFTPTransport:
    """An SFTP server (OpenSSH), through paramiko.

    Authenticates with the key file named by ``SAFEGUARDING_SFTP_KEY`` (its passphrase in
    ``SAFEGUARDING_SFTP_PASSPHRASE``) and/or an SSH agent (``SSH_AUTH_SOCK``). The server's host key
    must be in the known-hosts file (:func:`known_hosts_file`): an unknown or changed key is refused,
    never added.
    """

    def __init__(self, target: Target) -> None:
        import paramiko

        self.target = target
        self.root = target.path
        hosts_file = known_hosts_file()
        client = paramiko.SSHClient()
        if hosts_file.is_file():
            try:
                client.get_host_keys().load(str(hosts_file))
            except (OSError, paramiko.SSHException) as exc:
                raise ConnectError(f"cannot read the known hosts file {hosts_file}: {exc}") from exc
        client.set_missing_host_key_policy(_RefuseUnknownHost(hosts_file, target.port))
        pkey = _load_key()
        user = target.user or os.environ.get(ENV_USER) or _login_name()
        has_agent = bool(os.environ.get("SSH_AUTH_SOCK"))
        if pkey is None and not has_agent:
            raise ConnectError(f"no SSH credentials: set {ENV_KEY} to the private key file (and "
                                 f"{ENV_PASSPHRASE} if it has a passphrase), or add the key to an SSH agent "
                                 "(ssh-add); a password is never read from report.yml or the address")
        try:
            client.connect(target.host or "", port=target.port, username=user, pkey=pkey, allow_agent=has_agent,
                           look_for_keys=False, timeout=CONNECT_TIMEOUT, banner_timeout=CONNECT_TIMEOUT,
                           auth_timeout=CONNECT_TIMEOUT)
        except _HostKeyRefusedError as exc:
            client.close()
            raise ConnectError(str(exc)) from None
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise ConnectError(f"the host key of {target.host}:{target.port} ({_fingerprint(exc.key)}) is not "
                                 f"the one in {hosts_file}: it may be an impostor, or the server's key changed; "
                                 "check with the server's administrator before removing the old line") from None
        except paramiko.AuthenticationException:
            client.close()
            raise ConnectError(f"the server {target.host}:{target.port} refused the credentials for user "
                                 f"{user!r} (key from {ENV_KEY} or the SSH agent); check that its public key "
                                 "is in the user's authorized_keys") from None
        except paramiko.SSHException as exc:
            client.close()
            raise ConnectError(f"cannot connect to {target.host}:{target.port}: {exc}") from None
        except OSError as exc:
            client.close()
            raise ConnectError(f"cannot connect to {target.host}:{target.port}: {exc.strerror or exc}") from None
        self.client = client
        try:
            self.sftp = client.open_sftp()
        except _connection_errors() as exc:
            client.close()
            raise ConnectError(f"the server {target.host}:{target.port} offers no SFTP: {exc}") from None

    def _p(self, rel: str) -> str:
        return posixpath.join(self.root, rel) if rel else self.root

    @contextlib.contextmanager
    def _lost(self, what: str) -> Iterator[None]:
        """Turn a dropped connection into :class:`TransportError` (a missing file stays an ``OSError``)."""
        import paramiko

        try:
            yield
        except (FileNotFoundError, PermissionError, FileExistsError):
            raise
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise TransportError(f"{what}: {type(exc).__name__}: {exc}") from exc

    def makedirs(self, rel: str) -> None:
        """Create folder ``rel`` and its parents."""
        path = self._p(rel)
        parts = [p for p in path.split("/") if p]
        current = "/" if path.startswith("/") else ""
        with self._lost(f"cannot create {path}"):
            for part in parts:
                current = posixpath.join(current, part) if current else part
                try:
                    self.sftp.stat(current)
                except FileNotFoundError:
                    self.sftp.mkdir(current)

    def put(self, local: Path, rel: str) -> None:
        """Upload a local file to ``rel`` (its size confirmed by the server)."""
        with self._lost(f"the upload of {rel} failed"):
            self.sftp.put(str(local), self._p(rel), confirm=True)

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write ``data`` to ``rel``."""
        with self._lost(f"cannot write {rel}"), self.sftp.open(self._p(rel), "wb") as f:
            f.write(data)

    def read_bytes(self, rel: str) -> bytes | None:
        """The bytes of ``rel``, or None."""
        with self._lost(f"cannot read {rel}"):
            try:
                with self.sftp.open(self._p(rel), "rb") as f:
                    return f.read()
            except FileNotFoundError:
                return None

    def sha256(self, rel: str) -> str | None:
        """The SHA-256 of ``rel`` as read back over the connection, or None."""
        h = hashlib.sha256()
        with self._lost(f"cannot read back {rel}"):
            try:
                with self.sftp.open(self._p(rel), "rb") as f:
                    f.prefetch()
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
            except FileNotFoundError:
                return None
        return h.hexdigest()

    def listdir(self, rel: str) -> list[str]:
        """The names in folder ``rel``."""
        with self._lost(f"cannot list {rel}"):
            try:
                return sorted(self.sftp.listdir(self._p(rel)))
            except FileNotFoundError:
                return []

    def readlink(self, rel: str) -> str | None:
        """Where the symbolic link ``rel`` points, or None."""
        import stat

        with self._lost(f"cannot read {rel}"):
            try:
                st = self.sftp.lstat(self._p(rel))
            except FileNotFoundError:
                return None
            if not stat.S_ISLNK(st.st_mode or 0):
                return None
            return self.sftp.readlink(self._p(rel))

    def switch_link(self, link_target: str, rel: str) -> None:
        """A new symbolic link under a temporary name, renamed over ``rel`` (posix-rename@openssh.com)."""
        link = self._p(rel)
        tmp = posixpath.join(posixpath.dirname(link), f".{posixpath.basename(link)}.tmp-{uuid.uuid4().hex[:8]}")
        with self._lost(f"cannot switch {rel}"):
            self.sftp.symlink(link_target, tmp)
            try:
                self.sftp.posix_rename(tmp, link)
            except OSError:
                with contextlib.suppress(OSError):
                    self.sftp.remove(tmp)
                raise

    def rename(self, src: str, dst: str) -> None:
        """Rename ``src`` to ``dst``."""
        with self._lost(f"cannot rename {src}"):
            self.sftp.rename(self._p(src), self._p(dst))

    def rmtree(self, rel: str) -> None:
        """Remove folder ``rel`` and everything in it (symbolic links removed, never followed)."""
        import stat

        def remove(path: str) -> None:
            try:
                st = self.sftp.lstat(path)
            except FileNotFoundError:
                return
            if stat.S_ISDIR(st.st_mode or 0):
                for entry in self.sftp.listdir_attr(path):
                    remove(posixpath.join(path, entry.filename))
                self.sftp.rmdir(path)
            else:
                self.sftp.remove(path)

        with self._lost(f"cannot remove {rel}"):
            remove(self._p(rel))

    def close(self) -> None:
        """Close the SFTP session and the connection."""
        with contextlib.suppress(Exception):
            self.sftp.close()
        with contextlib.suppress(Exception):
            self.client.close()


class _HostKeyRefusedError(Exception):
    pass


class _RefuseUnknownHost:
    """paramiko's missing-host-key policy: refuse, saying how to check and add the key."""

    def __init__(self, hosts_file: Path, port: int) -> None:
        self.hosts_file = hosts_file
        self.port = port

    def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
        host = hostname.split("]")[0].lstrip("[")
        port = f" -p {self.port}" if self.port != 22 else ""
        raise _HostKeyRefusedError(
            f"the server {hostname} is not in the known hosts file {self.hosts_file} (its {key.get_name()} key's "
            f"fingerprint is {_fingerprint(key)}); nothing was sent. Check that fingerprint with the server's "
            f"administrator, then add the key: ssh-keyscan{port} -t {key.get_name()} {host} >> {self.hosts_file} "
            f"(or set {ENV_KNOWN_HOSTS} to a known hosts file that has it)")


def _login_name() -> str:
    import getpass

    return getpass.getuser()


def _load_key() -> Any | None:
    """The private key named by ``SAFEGUARDING_SFTP_KEY``, or None; the passphrase is never shown."""
    path = os.environ.get(ENV_KEY)
    if not path:
        return None
    import paramiko

    passphrase = os.environ.get(ENV_PASSPHRASE) or None
    key_path = Path(os.path.expanduser(path))
    if not key_path.is_file():
        raise ConnectError(f"{ENV_KEY} names {key_path}, which is not a file")
    try:
        # positional: the argument was renamed from passphrase (3.x, 4.x) to password (5.x)
        return paramiko.PKey.from_path(key_path, passphrase.encode() if passphrase else None)
    except (paramiko.PasswordRequiredException, TypeError) as exc:
        # paramiko 5 lets cryptography's TypeError through for an encrypted key loaded without a passphrase
        if passphrase or (isinstance(exc, TypeError) and "password" not in str(exc).lower()):
            raise ConnectError(f"cannot read the key {key_path} ({type(exc).__name__})") from None
        raise ConnectError(f"the key {key_path} has a passphrase: set {ENV_PASSPHRASE}, or add the key to an "
                             "SSH agent (ssh-add) and leave " + ENV_KEY + " unset") from None
    except (paramiko.SSHException, ValueError) as exc:
        wrong = "the passphrase in " + ENV_PASSPHRASE + " is wrong, or " if passphrase else ""
        raise ConnectError(f"cannot read the key {key_path}: {wrong}it is not an OpenSSH private key "
                             f"({type(exc).__name__})") from None
    except OSError as exc:
        raise ConnectError(f"cannot read the key {key_path}: {exc.strerror or exc}") from None


def open_transport(target: Target) -> Transport:
    """Connect to ``target``: a :class:`FolderTransport` or an :class:`SFTPTransport`."""
    if target.kind == "folder":
        return FolderTransport(target.path)
    return SFTPTransport(target)


# --------------------------------------------------------------------------
# the engine
# --------------------------------------------------------------------------

@dataclass
class Changes:
    """How a local site differs from the release ``current`` points at."""

    release: str | None
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def any(self) -> bool:
        """True when a file would be added, changed or removed."""
        return bool(self.added or self.changed or self.removed)


@dataclass
class Outcome:
    """What a publish or a rollback did."""

    release: str | None
    previous: str | None
    uploaded: int = 0
    removed_releases: list[str] = field(default_factory=list)
    unchanged: bool = False


def current_release(t: Transport) -> str | None:
    """The release ``current`` points at (its folder's name), or None.

    Raises :class:`PublishError` when ``current`` exists but is not a symbolic link (made by hand):
    it cannot be switched atomically, and must be moved aside first.
    """
    link = t.readlink(CURRENT)
    if link is None:
        if CURRENT in t.listdir(""):
            raise PublishError(f"{CURRENT} on the target is not a symbolic link (a folder or file put there by "
                               "other means); move it aside, point the web root at <target>/current, and publish "
                               "again")
        return None
    name = posixpath.basename(posixpath.normpath(link))
    return name if RELEASE_NAME.fullmatch(name) else None


def complete_releases(t: Transport) -> list[str]:
    """The complete releases on the target (folders named as releases, no ``.partial``), oldest first."""
    return sorted(n for n in t.listdir(RELEASES) if RELEASE_NAME.fullmatch(n))


def release_manifest(t: Transport, release: str) -> dict[str, str] | None:
    """A release's manifest, or None when it has none."""
    data = t.read_bytes(f"{RELEASES}/{release}/{MANIFEST_NAME}")
    return None if data is None else parse_manifest(data.decode("utf-8", "replace"))


def compare(local: dict[str, str], t: Transport) -> Changes:
    """What publishing ``local`` (path -> SHA-256) would add, change and remove in the current release."""
    release = current_release(t)
    remote = (release_manifest(t, release) if release else None) or {}
    return Changes(
        release=release,
        added=sorted(p for p in local if p not in remote),
        changed=sorted(p for p in local if p in remote and remote[p] != local[p]),
        removed=sorted(p for p in remote if p not in local),
    )


def _new_release_name(digest: str, existing: list[str], now: dt.datetime | None) -> str:
    """``YYYYMMDDTHHMMSSZ-<10 hex>``, later than every existing release (so they sort by age)."""
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    latest = max(existing, default="")
    while True:
        name = f"{moment:%Y%m%dT%H%M%SZ}-{digest[:10]}"
        if name[:16] > latest[:16]:
            return name
        moment += dt.timedelta(seconds=1)


def publish_files(t: Transport, files: dict[str, Path], *, keep: int = KEEP_DEFAULT,
                  echo: Callable[[str], None] = print, progress: Callable[[int, int, str], None] | None = None,
                  now: dt.datetime | None = None) -> Outcome:
    """Upload ``files`` (path in the release -> local file) as a new release and switch ``current`` to it.

    Order: remove ``.partial`` folders left by a cut-off upload; upload to ``releases/<id>.partial/``;
    read every file back and compare its SHA-256 (:class:`ChecksumError`, the partial folder removed and
    ``current`` untouched, on a difference); write ``MANIFEST.sha256``; rename to ``releases/<id>/``;
    switch ``current``; remove releases beyond the newest ``keep`` (never the one ``current`` pointed to
    before). A lost connection raises :class:`TransportError` with ``current`` untouched. Nothing is
    uploaded when the current release already holds exactly these files.
    """
    hashes = {rel: sha256_file(path) for rel, path in files.items()}
    text = manifest_text(hashes)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    previous = current_release(t)
    if previous is not None and release_manifest(t, previous) == hashes:
        return Outcome(release=previous, previous=previous, unchanged=True)
    t.makedirs(RELEASES)
    for name in t.listdir(RELEASES):
        if name.endswith(PARTIAL_SUFFIX):
            echo(f"removing {RELEASES}/{name}, left by an upload that did not finish")
            t.rmtree(f"{RELEASES}/{name}")
    existing = complete_releases(t)
    release = _new_release_name(digest, existing, now)
    partial = f"{RELEASES}/{release}{PARTIAL_SUFFIX}"
    echo(f"uploading {len(files)} files to {partial}/")
    t.makedirs(partial)
    made = {partial}
    total = len(files)
    for i, rel in enumerate(sorted(files), 1):
        parent = posixpath.dirname(f"{partial}/{rel}")
        if parent not in made:
            t.makedirs(parent)
            made.add(parent)
        t.put(files[rel], f"{partial}/{rel}")
        if progress is not None:
            progress(i, total, rel)
    bad = [rel for rel in sorted(files) if t.sha256(f"{partial}/{rel}") != hashes[rel]]
    if bad:
        t.rmtree(partial)
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise ChecksumError(f"{len(bad)} file(s) read back from the target differ from the local ones ({shown}); "
                            f"the upload was removed and current was not switched "
                            f"({'still ' + previous if previous else 'no release yet'}); publish again, and if "
                            "it happens again check the target's disk space")
    echo(f"read back and verified {total} files (SHA-256)")
    t.write_bytes(f"{partial}/{MANIFEST_NAME}", text.encode("utf-8"))
    if t.read_bytes(f"{partial}/{MANIFEST_NAME}") != text.encode("utf-8"):
        t.rmtree(partial)
        raise ChecksumError(f"{MANIFEST_NAME} read back from the target differs; current was not switched")
    t.rename(partial, f"{RELEASES}/{release}")
    t.switch_link(f"{RELEASES}/{release}", CURRENT)
    if current_release(t) != release:
        raise PublishError(f"{CURRENT} does not point at {RELEASES}/{release} after the switch")
    removed = prune(t, keep=keep, protect={release, *([previous] if previous else [])})
    return Outcome(release=release, previous=previous, uploaded=total, removed_releases=removed)


def prune(t: Transport, *, keep: int, protect: set[str]) -> list[str]:
    """Remove complete releases beyond the newest ``keep``, never one in ``protect``; return those removed."""
    releases = complete_releases(t)
    keep_names = set(releases[-max(keep, KEEP_MIN):]) | protect | ({current_release(t)} - {None})
    removed = []
    for name in releases:
        if name not in keep_names:
            t.rmtree(f"{RELEASES}/{name}")
            removed.append(name)
    return removed


def rollback(t: Transport) -> Outcome:
    """Switch ``current`` to the complete release before the one it points at; raise if there is none."""
    now = current_release(t)
    releases = complete_releases(t)
    if now is None:
        raise PublishError("nothing to roll back: the target has no current release")
    earlier = [r for r in releases if r < now]
    if not earlier:
        raise PublishError(f"nothing to roll back to: {now} is the oldest release on the target "
                           f"(releases: {', '.join(releases)})")
    before = earlier[-1]
    if release_manifest(t, before) is None:
        raise PublishError(f"the release before {now}, {before}, has no {MANIFEST_NAME}; not switching to it")
    t.switch_link(f"{RELEASES}/{before}", CURRENT)
    if current_release(t) != before:
        raise PublishError(f"{CURRENT} does not point at {RELEASES}/{before} after the switch")
    return Outcome(release=before, previous=now)


# --------------------------------------------------------------------------
# pipeline.py publish
# --------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pipeline.py publish``."""
    parser.add_argument("--config", default="report.yml", help="configuration file (default: report.yml)")
    parser.add_argument("--to", required=True, metavar="TARGET",
                        help="a target named in report.yml (publish.targets), a folder or file:///path, or "
                             "sftp://user@host[:port]/path; a target not named in report.yml is public")
    parser.add_argument("--audience", choices=AUDIENCES,
                        help="public (default: report.yml's audience): the index, the statement, the sitemap and "
                             "the YYYY/ folders; board: the whole area's folder, <year>-board/ too (only to a "
                             "target report.yml declares audience: board)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--dry-run", action="store_true",
                      help="list the files that would be added, changed and removed; write nothing")
    what.add_argument("--rollback", action="store_true",
                      help="switch the target's current release back to the one before it")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait up to SECONDS for a build using the same folders to finish (default: stop)")


def _say_changes(changes: Changes, echo: Callable[[str], None]) -> None:
    echo(f"current release: {changes.release or 'none yet'}")
    for label, paths in (("add", changes.added), ("change", changes.changed), ("remove", changes.removed)):
        for p in paths:
            echo(f"  {label:<6} {p}")
    echo(f"{len(changes.added)} to add, {len(changes.changed)} to change, {len(changes.removed)} to remove"
         + ("" if changes.any else ": nothing would change"))


def publish(cfg: Any, target: Target, *, audience: str | None = None, dry_run: bool = False,
            echo: Callable[[str], None] = print, progress: Callable[[int, int, str], None] | None = None,
            transport: Transport | None = None) -> Outcome | Changes:
    """Publish the area's site of ``cfg`` to ``target`` (or, with ``dry_run``, say what would change).

    ``audience`` (default: ``cfg.audience``) chooses what is published (:func:`collect_site`); a board
    publish to a public target raises :class:`RefusedError` before anything is sent. ``transport``
    replaces the connection :func:`open_transport` would make (tests).
    """
    what = audience or cfg.audience
    if what == "board" and target.audience != "board":
        raise RefusedError(f"a board (OFFICIAL-SENSITIVE) build cannot be published to {target.label}: it is a "
                           "public target; declare the board's target in report.yml with audience: board "
                           "(publish: {targets: {board: {url: ..., audience: board}}}), or publish --audience "
                           "public")
    area_dir = cfg.reports_dir / cfg.area_slug
    if target.kind == "folder":
        root = Path(target.path).resolve()
        if root.is_relative_to(area_dir.resolve()) or area_dir.resolve().is_relative_to(root):
            raise TargetError(f"the target folder {target.path} overlaps the area's folder {area_dir}; "
                              "publish to a folder outside it")
    site = collect_site(area_dir, audience="board" if target.audience == "board" and what == "board" else "public")
    for note in site.left_out:
        echo(f"left out: {note}")
    t = transport if transport is not None else open_transport(target)
    try:
        if dry_run:
            changes = compare({rel: sha256_file(p) for rel, p in site.files.items()}, t)
            _say_changes(changes, echo)
            return changes
        return publish_files(t, site.files, keep=target.keep, echo=echo, progress=progress)
    finally:
        if transport is None:
            t.close()


def run(args: argparse.Namespace, echo: Callable[[str], None] = print) -> int:
    """Run ``pipeline.py publish``: publish, dry-run or roll back; exit status (0 done, 1 failed, 2 refused)."""
    from safeguarding.config import ConfigError, load_config
    from safeguarding.lock import LockedError, build_lock

    try:
        cfg = load_config(args.config, audience=getattr(args, "audience", None))
        target = resolve_target(args.to, cfg)
    except (ConfigError, TargetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.rollback:
            t = open_transport(target)
            try:
                outcome = rollback(t)
            finally:
                t.close()
            echo(f"Rolled back {target.label}: current is now {outcome.release} (was {outcome.previous})")
            return 0
        with build_lock([cfg.reports_dir], wait=args.wait):
            result = publish(cfg, target, audience=getattr(args, "audience", None), dry_run=args.dry_run, echo=echo)
    except (RefusedError, TargetError, ConnectError, LockedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TransportError as exc:
        print(f"error: the connection to {target.label} was lost or failed part-way: {exc}. The target's current "
              "release is unchanged; readers see the site as it was. Publish again: the unfinished upload is removed "
              "first.", file=sys.stderr)
        return 1
    except PublishError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            print(f"error: the target is full ({exc}); current is unchanged", file=sys.stderr)
        else:
            print(f"error: {exc}; the target's current release is unchanged", file=sys.stderr)
        return 1
    if isinstance(result, Changes):
        return 0
    if result.unchanged:
        echo(f"{target.label}: nothing changed since release {result.release}; nothing uploaded")
        return 0
    echo(f"Published {result.uploaded} files to {target.label}: current is now {result.release}"
         + (f" (was {result.previous}; publish --rollback switches back)" if result.previous else ""))
    if result.removed_releases:
        echo(f"removed old releases: {', '.join(result.removed_releases)}")
    return 0
