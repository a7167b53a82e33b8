"""Protection intervals: a hidden small count must not be narrowed to "somewhere from 1 to 5".

Not being pinned exactly is not enough. Two hidden counts beside a
published total of 4 cannot be told apart, but a reader learns that each is
from 1 to 3: both are small, and the child or family behind them is close to
identified. The rule (the protection interval, as statistical offices set
it for magnitude tables) is: for every primary cell (a true count in the
policy's threshold range) the values consistent with everything published
must include a value above the range (6 or more for DfE's 1 to 5). A ``c``
is known to be at least 1, so reaching 0 is not an option for it.

:func:`reach` decides this for the small counts of many groups at once
(:func:`reach_group` for one group, as the driver asks):

1. a single relation whose hidden cells all carry the same sign, and no
   cell of the scaling set, caps a cell at the published total less the
   other cells' floors (no linear programme needed): a cap below the
   ceiling fails at once (:func:`_capped`);
2. linear programmes over all the groups together (block-diagonal): one
   maximises the sum of every open cell's rise, capped at what it needs, so
   that every cell reaching its need in that one table is shown; repeated
   while it shows more (:func:`_joint`);
3. then each cell left on its own, group by group: one region per group
   kept in HiGHS and re-solved warm for each cell's objective
   (:func:`_one_by_one`, :class:`~.lp.Programme`).

A cell of the scaling set can grow without limit and is never asked. This
module decides; the driver (:mod:`.driver`) gives the cells that fail a
partner, and the next pass checks again.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from safeguarding.disclosure.secondary.exact import _Group
from safeguarding.disclosure.secondary.lp import Programme, Status

#: slack for floating-point linear programmes (counts are whole numbers)
_EPS = 1e-7


def _capped(group: _Group, need: np.ndarray, scal: np.ndarray) -> np.ndarray:
    """Columns of ``need`` kept at or below the ceiling by one relation alone (bool per column).

    In a relation ``sum |a_k| y_k = c`` whose hidden cells all carry the same
    sign (and none is in the scaling set, whose shortfall can be made up
    elsewhere), ``y_j <= (c - sum_{k != j} |a_k| lb_k) / |a_j|``.
    """
    A = group.A.tocsr()
    out = np.zeros(group.n, dtype=bool)
    if A.shape[0] == 0 or group.ceiling is None:
        return out
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    cols = A.indices
    positive = A.data > 0
    has_scal = np.zeros(A.shape[0], dtype=bool)
    np.logical_or.at(has_scal, rows, scal[cols])
    pos = np.bincount(rows, weights=positive, minlength=A.shape[0])
    neg = np.bincount(rows, weights=~positive, minlength=A.shape[0])
    uniform = ~has_scal & ((pos == 0) | (neg == 0))
    a = np.abs(A.data)
    total = np.bincount(rows, weights=a * group.x[cols], minlength=A.shape[0])
    floors = np.bincount(rows, weights=a * group.lb[cols], minlength=A.shape[0])
    cap = (total[rows] - floors[rows] + a * group.lb[cols]) / a
    hit = uniform[rows] & (cap < group.ceiling + 1 - _EPS)
    out[cols[hit]] = True
    return out & need


def reach(items: Sequence[tuple[_Group, np.ndarray, np.ndarray]]) -> tuple[list[np.ndarray], int]:
    """For each ``(group, need, scal)``, the columns of ``need`` that can rise above the ceiling; and LPs solved.

    ``need`` marks the small counts to check (columns of the group) and
    ``scal`` the group's scaling set (free below: its shortfall is made up by
    scaling it up, so it bounds nothing).
    """
    ok = [np.zeros(g.n, dtype=bool) for g, _, _ in items]
    done = [_capped(g, need, scal) for g, need, scal in items]  # decided: cannot rise enough
    lps = 0
    open_ = [k for k, (_, need, _) in enumerate(items) if (need & ~done[k]).any()]
    while open_:  # all open cells together, while that shows more
        lps += 1
        if not _joint([items[k] for k in open_], [ok[k] for k in open_], [done[k] for k in open_]):
            break
        open_ = [k for k in open_ if (items[k][1] & ~ok[k] & ~done[k]).any()]
    for k in open_:  # then each cell on its own
        lps += _one_by_one(items[k], ok[k], done[k])
    return [o & need for o, (_, need, _) in zip(ok, items, strict=True)], lps


def reach_group(group: _Group, need: np.ndarray, scal: np.ndarray) -> tuple[np.ndarray, int]:
    """:func:`reach` for one group on its own: ``(ok, linear programmes solved)``.

    Its programmes are built from this group alone, so the result is a
    function of the group's content (and ``need``, ``scal``): the driver
    may reuse it for a group of the same content (:mod:`.memo`).
    """
    oks, lps = reach([(group, need, scal)])
    return oks[0], lps


def _moves_region(group: _Group, scal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower bounds of the moves ``d = y - x`` (free in the scaling set) and the rise each cell must reach."""
    low = np.where(scal, -np.inf, group.lb - group.x)
    rise = group.ceiling + 1 - group.x
    return low, rise


def _joint(items: Sequence[tuple[_Group, np.ndarray, np.ndarray]], oks: list[np.ndarray],
           done: list[np.ndarray]) -> bool:
    """One programme over the given groups (block-diagonal): maximise every open cell's rise, capped at its need.

    Marks the cells that reach their need in that one table (``oks``, in
    place); returns whether any did.
    """
    from scipy import sparse

    todo = [need & ~o & ~d for (_, need, _), o, d in zip(items, oks, done, strict=True)]
    blocks = [g for g, _, _ in items]
    offs = np.cumsum([0] + [g.n for g in blocks])
    n = int(offs[-1])
    regions = [_moves_region(g, scal) for g, _, scal in items]
    low = np.concatenate([lo for lo, _ in regions])
    rise = np.concatenate([r for _, r in regions])
    targets = np.concatenate([offs[i] + np.flatnonzero(t) for i, t in enumerate(todo)])
    A = sparse.block_diag([g.A for g in blocks], format="csr")
    # maximise sum t_i, t_i <= d_j(i), 0 <= t_i <= rise_j(i)
    m = targets.size
    A_eq = sparse.hstack([A, sparse.csr_matrix((A.shape[0], m))], format="csr")
    ar = np.arange(m)
    A_ub = sparse.csr_matrix((np.r_[-np.ones(m), np.ones(m)], (np.r_[ar, ar], np.r_[targets, n + ar])),
                             shape=(m, n + m))
    prog = Programme(A_eq, np.zeros(A.shape[0]), np.r_[low, np.zeros(m)], np.r_[np.full(n, np.inf), rise[targets]],
                     A_ub=A_ub, b_ub=np.zeros(m))
    status, sol = prog.maximise(np.r_[np.zeros(n), np.ones(m)])
    got = np.zeros(n, dtype=bool)
    if status == Status.OPTIMAL:
        got[targets[sol[n:] >= rise[targets] - _EPS]] = True
    progress = False
    for i, (_, need, _) in enumerate(items):
        new = got[offs[i]:offs[i + 1]] & need & ~oks[i]
        progress |= bool(new.any())
        oks[i] |= new
    return progress


def _one_by_one(item: tuple[_Group, np.ndarray, np.ndarray], ok: np.ndarray, done: np.ndarray) -> int:
    """Maximise each open cell of one group on its own (one region, re-solved warm); marks ``ok``/``done``.

    Every optimal table also shows the other cells it raises enough.
    Returns the programmes solved.
    """
    group, need, scal = item
    low, rise = _moves_region(group, scal)
    prog = Programme(group.A, np.zeros(group.A.shape[0]), low, np.full(group.n, np.inf))
    solved = 0
    for j in np.flatnonzero(need & ~ok & ~done):
        if ok[j]:
            continue
        obj = np.zeros(group.n)
        obj[j] = 1.0
        status, sol = prog.maximise(obj)
        solved += 1
        if status == Status.UNBOUNDED:
            ok[j] = True
        elif status == Status.OPTIMAL:
            ok |= (sol >= rise - _EPS) & need
        done[j] = True
    return solved
