"""SSH credentials and host keys for an SFTP target: the key file, the known hosts file, unknown hosts refused."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

from safeguarding.deploy.errors import ConnectError

ENV_KEY = "SAFEGUARDING_SFTP_KEY"
ENV_PASSPHRASE = "SAFEGUARDING_SFTP_PASSPHRASE"
ENV_KNOWN_HOSTS = "SAFEGUARDING_SFTP_KNOWN_HOSTS"
ENV_USER = "SAFEGUARDING_SFTP_USER"


def _fingerprint(key: Any) -> str:
    """OpenSSH's ``SHA256:...`` fingerprint of a host key."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def known_hosts_file() -> Path:
    """``$SAFEGUARDING_SFTP_KNOWN_HOSTS``, else ``~/.ssh/known_hosts``."""
    return Path(os.path.expanduser(os.environ.get(ENV_KNOWN_HOSTS) or "~/.ssh/known_hosts"))


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
        # (the stubs say str; paramiko reads bytes, and the tests load a key with a passphrase through here)
        return paramiko.PKey.from_path(key_path, passphrase.encode() if passphrase else None)  # type: ignore[arg-type]
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
