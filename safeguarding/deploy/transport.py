"""What the release engine needs of a target (:class:`Transport`), and the connection to one (:func:`open_transport`).

Paths are relative to the target's root, '/'-separated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from safeguarding.deploy.folder import FolderTransport
from safeguarding.deploy.sftp import SFTPTransport
from safeguarding.deploy.targets import Target


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


def open_transport(target: Target) -> Transport:
    """Connect to ``target``: a :class:`FolderTransport` or an :class:`SFTPTransport`."""
    if target.kind == "folder":
        return FolderTransport(target.path)
    return SFTPTransport(target)
