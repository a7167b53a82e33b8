"""Keyed pseudonyms for identifiers: SipHash-2-4 with a secret key kept outside git.

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
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from safeguarding.ingest.errors import IngestError

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.config import Config

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
METHOD = ("SipHash-2-4 keyed pseudorandom function of each identifier, with a 128-bit key per identifier "
          "kind derived from the secret key by keyed BLAKE2b; 16 hex digits")

_U64 = np.uint64
_INIT = (0x736F6D6570736575, 0x646F72616E646F6D, 0x6C7967656E657261, 0x7465646279746573)


def _rotl(x: np.ndarray, b: int, tmp: np.ndarray) -> None:
    """Rotate ``x`` left by ``b`` bits in place (``tmp``: scratch of the same shape)."""
    np.left_shift(x, _U64(b), out=tmp)
    np.right_shift(x, _U64(64 - b), out=x)
    x |= tmp


def _sipround(v0: np.ndarray, v1: np.ndarray, v2: np.ndarray, v3: np.ndarray, tmp: np.ndarray) -> None:
    """One SipRound over the four state arrays, in place."""
    v0 += v1
    _rotl(v1, 13, tmp)
    v1 ^= v0
    _rotl(v0, 32, tmp)
    v2 += v3
    _rotl(v3, 16, tmp)
    v3 ^= v2
    v0 += v3
    _rotl(v3, 21, tmp)
    v3 ^= v0
    v2 += v1
    _rotl(v1, 17, tmp)
    v1 ^= v2
    _rotl(v2, 32, tmp)


def siphash24(key: bytes, messages: list[bytes]) -> np.ndarray:
    """SipHash-2-4 (Aumasson and Bernstein, 2012) of each message under a 16-byte ``key``, as uint64.

    ``int(result[i])`` equals the reference implementation's 64-bit output for
    ``messages[i]``. See :func:`_siphash_packed` for how it is computed.
    """
    return _siphash_packed(key, *_pack(messages))


def _pack(messages: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """The messages end to end as uint8, and the offset of each one's start (plus the end)."""
    lengths = np.fromiter(map(len, messages), dtype=np.int64, count=len(messages))
    return np.frombuffer(b"".join(messages), dtype=np.uint8), np.concatenate([[0], np.cumsum(lengths)])


def _siphash_packed(key: bytes, data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """SipHash-2-4 of the messages ``data[offsets[i]:offsets[i + 1]]``, vectorised with numpy.

    Messages are grouped by their number of 8-byte blocks; block ``j`` of
    every message in a group is read in one gather of little-endian words
    (the last one masked to the message's tail and given the length byte at
    the top, as the specification says) and the group is hashed in one pass of
    in-place array operations, so that hundreds of thousands of identifiers
    cost a few hundred array operations rather than a Python call each. A long
    message costs only its own group's gathers.
    """
    if len(key) != 16:
        raise ValueError("SipHash needs a 16-byte key")
    k0, k1 = int.from_bytes(key[:8], "little"), int.from_bytes(key[8:], "little")
    offsets = np.asarray(offsets, dtype=np.int64)
    lengths = np.diff(offsets)
    out = np.zeros(len(lengths), dtype=np.uint64)
    # the 8 bytes from every position of the data as one little-endian word (zeros past the end)
    padded = np.zeros(len(data) + 8, dtype=np.uint8)
    padded[:len(data)] = data
    words = np.ndarray((len(data) + 1,), dtype="<u8", buffer=padded, strides=(1,))
    blocks = lengths // 8 + 1
    with np.errstate(over="ignore"):
        for nb in np.unique(blocks).tolist():
            rows = np.nonzero(blocks == nb)[0]
            n, starts, lens = len(rows), offsets[rows], lengths[rows]
            tmp = np.empty(n, dtype=np.uint64)
            v0 = np.full(n, k0 ^ _INIT[0], dtype=np.uint64)
            v1 = np.full(n, k1 ^ _INIT[1], dtype=np.uint64)
            v2 = np.full(n, k0 ^ _INIT[2], dtype=np.uint64)
            v3 = np.full(n, k1 ^ _INIT[3], dtype=np.uint64)
            for j in range(nb):
                m = words[starts + 8 * j].astype(np.uint64, copy=False)
                if j == nb - 1:
                    # keep the message's own 0-7 tail bytes, put the length byte on top
                    tail = (lens - 8 * j).astype(np.uint64)
                    m &= (_U64(1) << (tail * _U64(8))) - _U64(1)
                    m |= (lens.astype(np.uint64) & _U64(0xFF)) << _U64(56)
                v3 ^= m
                _sipround(v0, v1, v2, v3, tmp)
                _sipround(v0, v1, v2, v3, tmp)
                v0 ^= m
            v2 ^= _U64(0xFF)
            for _ in range(4):
                _sipround(v0, v1, v2, v3, tmp)
            v0 ^= v1
            v0 ^= v2
            v0 ^= v3
            out[rows] = v0
    return out


def _label_array(prefix: str, digests: np.ndarray) -> pa.Array:
    """``prefix`` + 16 lower-case hex digits of each uint64, as a pyarrow string array (vectorised).

    The digits are written into one buffer of fixed-width ASCII labels with
    in-place uint8 arithmetic (each big-endian byte split into its two
    nibbles, 0-9 to ``0``-``9`` and 10-15 to ``a``-``f``), which becomes
    the data of the pyarrow array as it is: no per-value Python call, no wide
    intermediate arrays.
    """
    n = len(digests)
    raw = np.asarray(digests, dtype=">u8").view(np.uint8).reshape(n, 8)
    buf = np.empty((n, 17), dtype=np.uint8)
    buf[:, 0] = ord(prefix)
    digits = buf[:, 1:]
    nibbles = digits.reshape(n, 8, 2)  # a view: each byte's high nibble, then its low one
    np.right_shift(raw, 4, out=nibbles[:, :, 0])
    np.bitwise_and(raw, 15, out=nibbles[:, :, 1])
    letters = np.greater(digits, 9).view(np.uint8)
    letters *= ord("a") - ord("0") - 10
    digits += letters
    digits += ord("0")
    if 17 * n > np.iinfo(np.int32).max:  # more text than a pyarrow string array's 32-bit offsets can address
        wide = np.arange(0, 17 * n + 1, 17, dtype=np.int64)
        return pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(wide), pa.py_buffer(buf)])
    offsets = np.arange(0, 17 * n + 1, 17, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(buf)])


def _utf8(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes and offsets of an object array of str (lone surrogates kept, as 'surrogatepass')."""
    try:
        arr = pa.array(values, type=pa.large_string(), from_pandas=False)
    except (pa.ArrowException, UnicodeEncodeError):
        return _pack([v.encode("utf-8", "surrogatepass") for v in values.tolist()])
    _, off_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(off_buf, dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, dtype=np.uint8)
    return data, offsets


def _arrow_utf8(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes and offsets (into those bytes) of a pyarrow string or large_string array without nulls."""
    _, off_buf, data_buf = arr.buffers()
    wide = pa.types.is_large_string(arr.type)
    offsets = np.frombuffer(off_buf, dtype=np.int64 if wide else np.int32)[arr.offset:arr.offset + len(arr) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, dtype=np.uint8)
    return data, offsets.astype(np.int64)


def key_file_path(config: Config | None) -> Path:
    """Return the key file: ``pseudonymisation.key_file``, else $SAFEGUARDING_KEY_FILE, else the default."""
    if config is not None and config.pseudonymisation.key_file:
        return config.resolve(config.pseudonymisation.key_file)
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
    """Turns identifiers into keyed pseudonyms.

    ``SipHash-2-4(kind_key, value)`` as 16 hex digits after a one-letter
    prefix per kind, where ``kind_key`` is 16 bytes of keyed BLAKE2b of the
    namespace and the kind under the secret key (keys over BLAKE2b's 64-byte
    limit are first reduced with unkeyed BLAKE2b). SipHash is a keyed
    pseudorandom function designed for short inputs; it is computed for all
    values of a call at once (:func:`siphash24`), which keeps the ingest's
    main thread free of a Python call per identifier.
    """

    key: bytes
    _keys: dict[str, bytes] = field(default_factory=dict, repr=False)

    def kind_key(self, kind: str) -> bytes:
        """The 16-byte SipHash key of one identifier kind."""
        if kind not in self._keys:
            key = hashlib.blake2b(self.key).digest() if len(self.key) > 64 else self.key
            self._keys[kind] = hashlib.blake2b(f"{_NAMESPACE}\x1f{kind}".encode(), key=key, digest_size=16).digest()
        return self._keys[kind]

    def one(self, kind: str, value: str) -> str:
        """Return the pseudonym of one normalised identifier ``value`` of ``kind``."""
        return str(self.many(kind, np.array([value], dtype=object))[0])

    def many(self, kind: str, values: np.ndarray) -> np.ndarray:
        """Return an object array of pseudonyms for an object array of normalised identifiers.

        ``None`` stays ``None``. Every value is hashed, all at once (:func:`siphash24`): hashing a
        value in numpy costs less than looking it up in a per-run table of those already seen.
        """
        return np.asarray(self.many_arrow(kind, values).to_numpy(zero_copy_only=False), dtype=object)

    def many_arrow(self, kind: str, values: np.ndarray | pa.Array) -> pa.Array:
        """:meth:`many` as a pyarrow string array (null for ``None``), the pseudonyms never made Python objects.

        ``values`` may also be a pyarrow string array without nulls: its UTF-8 bytes are hashed as they are.
        """
        if isinstance(values, pa.Array) and values.null_count == 0 and (
                pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            return _label_array(PREFIXES.get(kind, "X"), _siphash_packed(self.kind_key(kind), *_arrow_utf8(values)))
        if isinstance(values, pa.Array):
            values = np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)
        arr = values if isinstance(values, np.ndarray) and values.dtype == object else np.asarray(values, dtype=object)
        present = ~pd.isna(arr)
        if present.all():
            return _label_array(PREFIXES.get(kind, "X"), _siphash_packed(self.kind_key(kind), *_utf8(arr)))
        labels = _label_array(PREFIXES.get(kind, "X"), _siphash_packed(self.kind_key(kind), *_utf8(arr[present])))
        at = np.full(len(arr), -1, dtype=np.int64)
        at[present] = np.arange(len(labels))
        return labels.take(pa.array(at, mask=~present))
