"""Protection intervals: a hidden small count must not be narrowed to "somewhere from 1 to 5".

Not being pinned exactly is not enough. Two hidden counts beside a
published total of 4 cannot be told apart, but a reader learns that each is
from 1 to 3: both are small, and the child or family behind them is close to
identified. The rule (the protection interval, as statistical offices set
it for magnitude tables) is: for every primary cell (a true count in the
policy's threshold range) the values consistent with everything published
must include a value above the range (6 or more for DfE's 1 to 5). A ``c``
is known to be at least 1, so reaching 0 is not an option for it.

:func:`reach` decides this for the small counts of many groups at once:

1. a single relation whose hidden cells all carry the same sign, and no
   cell of the scaling set, caps a cell at the published total less the
   other cells' floors (no linear programme needed): a cap below the
   ceiling fails at once (:func:`_capped`);
2. linear programmes over all the groups together (block-diagonal): one
   maximises the sum of every open cell's rise, capped at what it needs, so
   that every cell reaching its need in that one table is shown; repeated
   while it shows more;
3. then one cell per group per programme (each group's cell is maximised
   independently, since the groups share nothing).

A cell of the scaling set can grow without limit and is never asked. This
module decides; the driver (:mod:`.driver`) gives the cells that fail a
partner, and the next pass checks again.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from safeguarding.disclosure.secondary.exact import _Group

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
    joint = True
    while open_:
        lps += 1
        progress = _round([items[k] for k in open_], [ok[k] for k in open_], [done[k] for k in open_], joint)
        if joint and not progress:
            joint = False
        open_ = [k for k in open_ if (items[k][1] & ~ok[k] & ~done[k]).any()]
    return [o & need for o, (_, need, _) in zip(ok, items, strict=True)], lps


#: most variables in one linear programme of the one-cell-at-a-time stage (copies of groups side by side)
_MAX_VARIABLES = 12000


def _round(items: Sequence[tuple[_Group, np.ndarray, np.ndarray]], oks: list[np.ndarray], done: list[np.ndarray],
           joint: bool) -> bool:
    """One linear programme over the given groups; marks cells shown (``oks``) or decided (``done``), in place.

    ``joint``: maximise every open cell's rise together (capped at what each
    needs). Otherwise each open cell is maximised on its own, in a copy of
    its group: several copies of a group sit side by side in one programme
    (they share nothing, so each copy's optimum is that cell's own).
    Returns whether any cell was newly shown to rise enough.
    """
    from scipy import sparse
    from scipy.optimize import linprog

    todo = [need & ~o & ~d for (_, need, _), o, d in zip(items, oks, done, strict=True)]
    if joint:
        copies = [(k, np.flatnonzero(t)) for k, t in enumerate(todo)]
    else:
        per_group = max(1, _MAX_VARIABLES // max(sum(g.n for g, _, _ in items), 1))
        copies = [(k, np.array([j])) for k, t in enumerate(todo) for j in np.flatnonzero(t)[:per_group]]
    blocks = [items[k][0] for k, _ in copies]
    offs = np.cumsum([0] + [g.n for g in blocks])
    n = int(offs[-1])
    A = sparse.block_diag([g.A for g in blocks], format="csr")
    low = np.concatenate([np.where(items[k][2], -np.inf, g.lb - g.x) for (k, _), g in zip(copies, blocks,
                                                                                          strict=True)])
    rise = np.concatenate([g.ceiling + 1 - g.x for g in blocks])  # how far each cell must be able to rise
    targets = np.concatenate([offs[i] + cols for i, (_, cols) in enumerate(copies)])
    bounds = np.c_[low, np.full(n, np.inf)]
    b_eq = np.zeros(A.shape[0])
    got = np.zeros(n, dtype=bool)
    if joint:
        # maximise sum t_i, t_i <= d_j(i), 0 <= t_i <= rise_j(i)
        m = targets.size
        A_eq = sparse.hstack([A, sparse.csr_matrix((A.shape[0], m))], format="csr")
        ar = np.arange(m)
        A_ub = sparse.csr_matrix((np.r_[-np.ones(m), np.ones(m)], (np.r_[ar, ar], np.r_[targets, n + ar])),
                                 shape=(m, n + m))
        res = linprog(np.r_[np.zeros(n), -np.ones(m)], A_ub=A_ub, b_ub=np.zeros(m), A_eq=A_eq, b_eq=b_eq,
                      bounds=np.r_[bounds, np.c_[np.zeros(m), rise[targets]]], method="highs")
        if res.status == 0:
            got[targets[res.x[n:] >= rise[targets] - _EPS]] = True
    else:
        obj = np.zeros(n)
        obj[targets] = -1.0
        res = linprog(obj, A_eq=A, b_eq=b_eq, bounds=bounds, method="highs")
        if res.status == 0:
            got = res.x >= rise - _EPS
        else:  # unbounded somewhere (a cell free to grow): ask each copy's cell alone
            for i, j in enumerate(targets):
                sl = slice(offs[i], offs[i + 1])
                one = np.zeros(int(offs[i + 1] - offs[i]))
                one[j - offs[i]] = -1.0
                r = linprog(one, A_eq=blocks[i].A, b_eq=np.zeros(blocks[i].A.shape[0]), bounds=bounds[sl],
                            method="highs")
                if r.status == 3:
                    got[j] = True
                elif r.status == 0:
                    got[sl] = r.x >= rise[sl] - _EPS
    progress = False
    for i, (k, cols) in enumerate(copies):
        need = items[k][1]
        new = got[offs[i]:offs[i + 1]] & need & ~oks[k]
        progress |= bool(new.any())
        oks[k] |= new
        if not joint:
            done[k][cols] = True
    return progress
