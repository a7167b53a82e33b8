"""The SFTP target: an OpenSSH server, through paramiko (imported only when a connection is made)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

from safeguarding.deploy.credentials import (
    ENV_KEY,
    ENV_PASSPHRASE,
    ENV_USER,
    _fingerprint,
    _HostKeyRefusedError,
    _load_key,
    _login_name,
    _RefuseUnknownHost,
    known_hosts_file,
)
from safeguarding.deploy.errors import ConnectError, TransportError
from safeguarding.deploy.targets import Target

CONNECT_TIMEOUT = 30.0


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
        # duck-typed (paramiko calls only missing_host_key), so paramiko is imported only when publishing
        client.set_missing_host_key_policy(_RefuseUnknownHost(hosts_file, target.port))  # type: ignore[arg-type]
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
