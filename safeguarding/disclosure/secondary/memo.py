"""Checks already done: the results of group checks kept by the exact content of what they were asked.

When detail is withheld and a family of indicators is protected again
(:mod:`safeguarding.disclosure.publication`), most of its groups of linked
suppressed cells are the groups of the run before: same relations, same
true values, same cells hidden. Their checks (:func:`~.bounds._check_group`,
and the protection intervals of :func:`~.intervals.reach_group`) are pure
functions of the group's content: every linear programme in them is built
afresh from that content and solved by the same deterministic solver. So a
result may be reused when, and only when, everything the check reads is
the same.

:class:`CheckMemo` enforces that by keying each result by a digest of that
content (:func:`content_key`): the shape, dtype and bytes of every matrix
and vector the check reads (the group's constraint matrix over its hidden
cells and over its published cells, true values, lower bounds, slack
columns, small counts, threshold ceiling), the columns already known safe
or asked about (and, for the protection intervals, the witnesses the
bounds rule handed over: :attr:`~.bounds.GroupCheck.top`), and the
policy's limits it uses. A group whose content
differs in any byte (other cell numbering, another order of relations) is
checked again: a miss costs time, never protection. The digest is BLAKE2b
with 256 bits: two different contents share one with probability about
2**-128.

This module decides nothing; it remembers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar, TypeVarTuple

import numpy as np

from safeguarding.disclosure.secondary.exact import _Group

T = TypeVar("T")
Args = TypeVarTuple("Args")


def content_key(group: _Group, *arrays: np.ndarray, extra: tuple = ()) -> bytes:
    """A digest of everything a check of ``group`` reads, with ``arrays`` and ``extra`` (plain values) asked.

    Covers the group's ``A`` and ``P`` (shape, ``indptr``, ``indices``,
    ``data``), ``x``, ``lb``, ``slack``, ``primary`` and ``ceiling``; each
    array with its dtype and shape, so that different contents never
    serialise alike.
    """
    h = hashlib.blake2b(digest_size=32)

    def put(arr: Any) -> None:
        a = np.ascontiguousarray(arr)
        h.update(f"{a.dtype.str}{a.shape};".encode())
        h.update(a.tobytes())

    for m in (group.A, group.P):
        h.update(f"csr{m.shape};".encode())
        for part in (m.indptr, m.indices, m.data):
            put(part)
    for arr in (group.x, group.lb, group.slack, group.primary, *arrays):
        put(arr)
    h.update(repr((group.ceiling, *extra)).encode())
    return h.digest()


class CheckMemo:
    """Results of group checks by content (see the module docstring); shared by the runs of one publication.

    ``hits`` and ``misses`` count the look-ups.
    """

    def __init__(self) -> None:
        self._results: dict[bytes, Any] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: bytes, compute: Callable[[*Args], T], *args: *Args) -> tuple[T, bool]:
        """``(result, reused)``: the result stored under ``key`` (reused), else ``compute(*args)``, stored.

        Arrays are copied both ways: callers may change the arrays they get
        without touching the stored result.
        """
        if key in self._results:
            self.hits += 1
            return _copy(self._results[key]), True
        self.misses += 1
        result = compute(*args)
        self._results[key] = _copy(result)
        return result, False


def _copy(value: Any) -> Any:
    """A copy of ``value`` deep enough that no array is shared (arrays, tuples, named tuples, dicts, lists)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_copy(v) for v in value))
    if isinstance(value, tuple):
        return tuple(_copy(v) for v in value)
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value
