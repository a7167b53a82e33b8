"""Targets: where the site goes (a folder, ``file://`` or ``sftp://``), read from an address or ``report.yml``."""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from safeguarding.deploy.credentials import ENV_KEY, ENV_PASSPHRASE
from safeguarding.deploy.errors import TargetError
from safeguarding.settings import PUBLISH_KEEP_DEFAULT, PublishTarget

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.config import Config

if TYPE_CHECKING:
    from safeguarding.config import Config

AUDIENCES: tuple[str, ...] = ("public", "board")
#: keys of ``publish:`` and of one ``publish.targets.<name>`` in report.yml
PUBLISH_KEYS: tuple[str, ...] = ("targets",)
TARGET_KEYS: tuple[str, ...] = ("url", "audience", "keep")
KEEP_DEFAULT = PUBLISH_KEEP_DEFAULT
KEEP_MIN = 2  # the new release and the one before it, for --rollback


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


def configured_targets(cfg: Config) -> Mapping[str, PublishTarget]:
    """``report.yml``'s ``publish.targets`` by name (checked and parsed when the file was loaded), or {}."""
    return cfg.publish.targets


def resolve_target(text: str, cfg: Config | None = None) -> Target:
    """A target named in ``report.yml`` (``publish.targets.<name>``) or written out as an address.

    A target written on the command line is public; only a named target can be ``audience: board``.
    """
    targets = configured_targets(cfg) if cfg is not None else {}
    if cfg is not None and text in targets:
        spec = targets[text]
        return parse_target(spec.url, audience=spec.audience, name=text, keep=spec.keep, base=cfg.root)
    if re.fullmatch(r"[A-Za-z0-9_-]+", text):
        names = ", ".join(targets) or "none"
        raise TargetError(f"no target named {text!r} in report.yml's publish.targets (configured: {names}); "
                          f"for a folder of that name write ./{text}")
    return parse_target(text)
