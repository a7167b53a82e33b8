"""Content hashes, in one place: the SHA-256 of a file or of bytes, in hex.

Used wherever the project judges files by their content: the build's record of its inputs,
the incremental build's cache keys and manifests, the site's ``review.json``, the publish
manifests and read-back checks, the preview's watcher and the benchmark download checks.
"""

from __future__ import annotations

import hashlib
import os

#: bytes read at a time
CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    """SHA-256 of ``data`` in hex."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes in hex, read in chunks (raises ``OSError`` when it cannot be read)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()
