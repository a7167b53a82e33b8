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

import functools
import hashlib
import multiprocessing as mp
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from typing import Any, TypeVar, TypeVarTuple

import numpy as np

from safeguarding.disclosure.secondary.exact import _Group

T = TypeVar("T")
Args = TypeVarTuple("Args")


def content_key(group: _Group, *arrays: np.ndarray, extra: tuple = ()) -> bytes:
    """A digest of everything a check of ``group`` reads, with ``arrays`` and ``extra`` (plain values) asked.

    Covers the group's ``A`` and ``P`` (shape, ``indptr``, ``indices``,
    ``data``), ``x``, ``lb``, ``slack``, ``primary``, ``cap_slack`` and ``ceiling``; each
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
    for arr in (group.x, group.lb, group.slack, group.primary, group.cap_slack, *arrays):
        put(arr)
    h.update(repr((group.ceiling, *extra)).encode())
    return h.digest()


class CheckMemo:
    """Results of group checks by content (see the module docstring); shared by the runs of one publication.

    ``hits`` and ``misses`` count the look-ups.
    """

    def __init__(self, parent: CheckMemo | None = None) -> None:
        self._results: dict[bytes, object] = {}
        self._parent = parent
        self._pending: dict[bytes, Future[Any]] = {}  # checks started ahead in another process (prefetch)
        # what each check of the last prefetch not yet asked for asks (to do it here while waiting), in order
        self._asks: OrderedDict[bytes, tuple[Callable[..., object], tuple[object, ...]]] = OrderedDict()
        self._pool: ProcessPoolExecutor | None = None
        self._workers = 0  # the other processes (prefetch)
        # what the other processes take next, in their order, and how many they have under way: a check is
        # handed to one only when it is free (:meth:`_feed`), so that this process can take any other
        self._queue: list[bytes] = []
        self._weights: dict[bytes, float] = {}  # the weight of each check in the queue (prefetch)
        # the asks of a prefetch too small to start on its own, started if more follow (``more``)
        self._held: tuple[list[Any], list[float] | None] | None = None
        self._calls: dict[bytes, tuple[Callable[..., object], tuple[object, ...], Future[Any]]] = {}
        self._busy = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def child(self) -> CheckMemo:
        """A memo that reads this one's results as they are now, and keeps its own new results apart.

        The runs of one round of a publication each get a child, so that
        what a run finds in the memo does not depend on which other run of
        the round went first, or on whether they ran in other processes
        (:func:`~safeguarding.disclosure.publication.protect_publication`);
        :meth:`merge` then adds the children's results in a fixed order.
        """
        return CheckMemo(parent=self)

    def new_results(self) -> dict[bytes, object]:
        """The results this memo computed itself (not its parent's)."""
        return self._results

    def merge(self, results: Mapping[bytes, object], hits: int, misses: int) -> None:
        """Add a child's results (:meth:`new_results`) and look-up counts to this memo."""
        for key, value in results.items():
            self._results.setdefault(key, value)
        self.hits += hits
        self.misses += misses

    def _find(self, key: bytes) -> tuple[bool, object]:
        memo: CheckMemo | None = self
        while memo is not None:
            if key in memo._results:
                return True, memo._results[key]
            memo = memo._parent
        return False, None

    def get(self, key: bytes, compute: Callable[[*Args], T], *args: *Args) -> tuple[T, bool]:
        """``(result, reused)``: the result stored under ``key`` (reused), else ``compute(*args)``, stored.

        Arrays are copied both ways: callers may change the arrays they get
        without touching the stored result.
        """
        found, stored = self._find(key)
        if found:
            self.hits += 1
            return _copy(stored), True
        self.misses += 1
        ahead = self._pending.pop(key, None)
        self._asks.pop(key, None)
        if ahead is not None and not ahead.cancel():
            # under way in another process: meanwhile, do here the next checks not yet begun, then wait
            while not ahead.done() and self._do_next():
                pass
            result = ahead.result()
        else:  # not started ahead, or not begun yet (taken back): done here
            result = compute(*args)
        self._results[key] = _copy(result)
        return result, False

    def _do_next(self) -> bool:
        """Do here the first check started ahead that no process has begun (in the asks' order); False if none.

        Its result waits in :attr:`_pending` as a finished future, for :meth:`get` to take when the check is
        asked for (counted then, as any check started ahead).
        """
        while self._asks:
            key, (compute, args) = self._asks.popitem(last=False)
            ahead = self._pending.get(key)
            if ahead is None or not ahead.cancel():
                continue  # begun by another process
            done: Future[Any] = Future()
            try:
                done.set_result(compute(*args))
            except Exception as exc:  # raised where the check is asked for, as from another process
                done.set_exception(exc)
            self._pending[key] = done
            return True
        return False

    def prefetch(self, asks: Sequence[tuple[bytes, Callable[..., object], tuple[object, ...]]],
                 workers: int, weights: Sequence[float] | None = None, *, more: bool = False) -> None:
        """Start the checks ``asks`` lists (``(key, compute, args)``) that the memo does not hold, in other processes.

        Up to ``workers - 1`` forked processes take them from the end of the
        list, one at a time (:meth:`_feed`), while this process works from
        its start (:meth:`get` does a check not yet started itself; while it
        waits for one under way, it does the next ones not yet begun,
        :meth:`_do_next`), so two
        processes meet in the middle and neither waits while the other has
        checks not begun. Nothing changes but the time: a result
        is the same whichever process computes it (a check is a pure
        function of its arguments), and it is still counted as a miss when
        :meth:`get` asks for it. Does nothing with fewer than two workers or
        two new checks, or where processes cannot be forked.

        ``weights`` (one per ask: how long each check is expected to take)
        makes the other processes take the heaviest first instead: the
        longest check is then begun at once rather than when the two
        processes meet at it, when one of them would wait for the other.

        ``more``: the asks add to those of the last call (one prefetch given
        in parts, so that the other processes begin on the first part while
        the caller prepares the rest); the queue is then ordered again by
        weight, the checks under way untouched. A first part of fewer than
        two new checks is kept (:attr:`_held`) and started with the rest, so
        that the rule above applies to the whole prefetch.
        """
        if more and self._held is not None:  # the first part was too small to start alone: start both as one
            held, held_weights = self._held
            self._held = None
            both = None if weights is None or held_weights is None else [*held_weights, *weights]
            self.prefetch([*held, *asks], workers, both)
            return
        self._held = None
        weight = dict(zip((key for key, _, _ in asks), weights, strict=True)) if weights is not None else {}
        if not more:
            # checks of an earlier prefetch not asked for by now are not asked for at all (their group changed
            # before its turn): neither process takes them any more, unless one has begun (or asked again)
            with self._lock:
                for key in self._queue:
                    stale = self._calls.pop(key, None)
                    if stale is not None and stale[2].cancel() and self._pending.get(key) is stale[2]:
                        del self._pending[key]
                self._queue = []
                self._weights = {}
            self._asks = OrderedDict()
        todo = {key: (compute, args) for key, compute, args in asks
                if key not in self._pending and not self._find(key)[0]}
        if workers < 2 or "fork" not in mp.get_all_start_methods():
            return
        if len(todo) < (1 if more else 2):
            if not more:  # kept, in case more follow (:attr:`_held`)
                self._held = (list(asks), None if weights is None else list(weights))
            return
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=workers - 1, mp_context=mp.get_context("fork"))
            self._workers = workers - 1
        # from the end of the list (the heaviest first, when weighed); this process takes them from its start
        keys = list(reversed(todo))
        with self._lock:
            self._weights.update({k: weight.get(k, 0.0) for k in keys})
            keys = self._queue + keys
            if weight:
                keys.sort(key=lambda k: -self._weights[k])  # (a stable sort: equal weights stay from the end)
            self._queue = keys
            for key in todo:
                proxy: Future[Any] = Future()  # begun when a process takes it (:meth:`_feed`), or cancelled
                self._pending[key] = proxy
                self._calls[key] = (*todo[key], proxy)
        self._asks.update(todo)  # this process takes them from the start while it waits (:meth:`_do_next`)
        self._feed()

    def _feed(self) -> None:
        """Hand the next free checks of the queue to the other processes, one each while they have none.

        A check handed over cannot be taken back, so each process gets one at
        a time: the executor would otherwise claim two at once (one running,
        one queued), and the second, often the next longest, could not be
        done here while this process waits.
        """
        while True:
            with self._lock:
                if self._pool is None or self._busy >= self._workers or not self._queue:
                    return
                call = self._calls.pop(self._queue.pop(0), None)
                # (the proxy, not what :attr:`_pending` holds now: a check done here replaced it there)
                if call is None or not call[2].set_running_or_notify_cancel():
                    continue  # taken by this process (cancelled) meanwhile
                self._busy += 1
                pool = self._pool
            compute, args, proxy = call
            try:
                real = pool.submit(compute, *args)
            except RuntimeError as exc:  # shut down meanwhile (close)
                proxy.set_exception(exc)
                with self._lock:
                    self._busy -= 1
                return
            real.add_done_callback(functools.partial(self._finished, proxy=proxy))

    def _finished(self, done: Future[Any], *, proxy: Future[Any]) -> None:
        """A check handed over has ended (in the executor's thread): pass its result on, hand over the next."""
        with self._lock:
            self._busy -= 1
        if done.cancelled():
            proxy.set_exception(CancelledError())
        elif done.exception() is not None:
            proxy.set_exception(done.exception())
        else:
            proxy.set_result(done.result())
        self._feed()

    def close(self) -> None:
        """Drop the checks started ahead and not asked for, and stop the processes :meth:`prefetch` started."""
        with self._lock:
            for ahead in self._pending.values():
                ahead.cancel()
            self._pending.clear()
            self._asks.clear()
            self._queue = []
            self._weights = {}
            self._held = None
            self._calls.clear()
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


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
