"""Keyed pseudonyms for identifiers: keyed BLAKE2b with a secret key kept outside git.

The same source identifier always gives the same pseudonym for the same kind
of identifier (``child_id``, ``plan_id``, ...), whatever table it is in and in
every run with the same key, so joins across tables still work. The key is a
random 32-byte value created on first run (mode 0600). Losing it means next
year's pseudonyms will not match this year's; it must never be committed.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from safeguarding.ingest.errors import IngestError

#: Prefix of each identifier kind's pseudonym (the canonical column name is the kind).
PREFIXES: dict[str, str] = {
    "child_id": "C",
    "referral_id": "R",
    "s47_id": "S",
    "icpc_id": "I",
    "plan_id": "P",
    "allegation_id": "A",
    "pf_id": "F",
}

DEFAULT_KEY_FILE = Path("~/.config/safeguarding/pseudonym.key")
KEY_ENV = "SAFEGUARDING_KEY_FILE"
_NAMESPACE = "safeguarding-pseudonym-v2"
#: What the ingest report says of the method.
METHOD = ("keyed BLAKE2b (RFC 7693 keyed mode, 64-bit digest) of each identifier, "
          "namespaced by identifier kind; 16 hex digits")


def key_file_path(config: Any) -> Path:
    """Return the key file: ``pseudonymisation.key_file``, else $SAFEGUARDING_KEY_FILE, else the default."""
    section = config.section("pseudonymisation") if config is not None else {}
    if section.get("key_file"):
        return config.resolve(section["key_file"])
    env = os.environ.get(KEY_ENV)
    if env:
        return Path(os.path.expanduser(env))
    return Path(os.path.expanduser(str(DEFAULT_KEY_FILE)))


def load_or_create_key(path: Path) -> tuple[bytes, bool, list[str]]:
    """Read the key at ``path``, creating a new random one (mode 0600) if absent.

    Returns ``(key, created, warnings)``. The key itself is never printed or
    logged. Raises :class:`IngestError` when the file exists but cannot be used.
    """
    warnings: list[str] = []
    created = False
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = os.urandom(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # created by a concurrent run: use that one
            return load_or_create_key(path)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key.hex() + "\n")
        created = True
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"pseudonymisation key file {path} cannot be read ({exc.strerror}).",
                          key="pseudonymisation.key_file",
                          fix="check its permissions, or set pseudonymisation.key_file to another path") from None
    text = data.strip()
    try:
        key = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        key = data
    if len(key) < 16:
        raise IngestError(f"pseudonymisation key file {path} holds fewer than 16 bytes of key.",
                          key="pseudonymisation.key_file",
                          fix="restore the key from your backup; only if this is the first year, delete the file "
                              "so that a new key is created")
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            warnings.append(f"the key file {path} can be read by other users (mode {mode:o}); run chmod 600 on it")
    except OSError:  # pragma: no cover - stat after a successful read
        pass
    return key, created, warnings


@dataclass
class Pseudonymiser:
    """Turns identifiers into keyed pseudonyms, remembering those already computed in this run.

    ``BLAKE2b(key=key, digest_size=8)(namespace + kind + value)`` as 16 hex
    digits after a one-letter prefix per kind. BLAKE2b's keyed mode is built
    to be a MAC (RFC 7693), so it needs no HMAC wrapping; a hash state holding
    the key and the kind's namespace is prepared once per kind and copied for
    each value, which costs less than half of HMAC-SHA256 per value. Keys
    longer than BLAKE2b's 64-byte limit are first reduced with unkeyed BLAKE2b.
    """

    key: bytes
    _states: dict[str, Any] = field(default_factory=dict, repr=False)
    _cache: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    def _state(self, kind: str) -> Any:
        if kind not in self._states:
            key = hashlib.blake2b(self.key).digest() if len(self.key) > 64 else self.key
            state = hashlib.blake2b(key=key, digest_size=8)
            state.update(f"{_NAMESPACE}\x1f{kind}\x1f".encode())
            self._states[kind] = state
        return self._states[kind]

    def one(self, kind: str, value: str) -> str:
        """Return the pseudonym of one normalised identifier ``value`` of ``kind``."""
        return str(self.many(kind, np.array([value], dtype=object))[0])

    def many(self, kind: str, values: np.ndarray) -> np.ndarray:
        """Return an object array of pseudonyms for an object array of normalised identifiers.

        ``None`` stays ``None``. Call it with unique values: each value not yet seen costs one keyed hash.
        """
        cache = self._cache.setdefault(kind, {})
        prefix = PREFIXES.get(kind, "X")
        vals = values.tolist() if isinstance(values, np.ndarray) else list(values)
        found = list(map(cache.get, vals)) if cache else [None] * len(vals)
        miss = [i for i, f in enumerate(found) if f is None and vals[i] is not None]
        out = np.empty(len(vals), dtype=object)
        out[:] = found
        if miss:
            todo = [vals[i] for i in miss]
            copy = self._state(kind).copy
            hashed: list[str] = []
            append = hashed.append
            for v in todo:
                h = copy()
                h.update(v.encode("utf-8", "surrogatepass"))
                append(prefix + h.hexdigest())
            cache.update(zip(todo, hashed, strict=True))
            hashed_arr = np.empty(len(hashed), dtype=object)
            hashed_arr[:] = hashed
            out[np.asarray(miss, dtype=np.int64)] = hashed_arr
        return out
