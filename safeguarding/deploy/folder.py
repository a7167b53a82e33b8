"""The folder target: a folder on this machine (a mounted web share)."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path

from safeguarding.deploy.errors import PublishError
from safeguarding.deploy.site_files import sha256_file


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
