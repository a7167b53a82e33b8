"""Protection intervals: a hidden small count must not be narrowed to "somewhere from 1 to 5".

Not being pinned exactly is not enough. Two hidden counts beside a
published total of 4 cannot be told apart, but a reader learns that each is
from 1 to 3: both are small, and the child or family behind them is close to
identified. The rule (the protection interval, as statistical offices set
it for magnitude tables) is: for every primary cell (a true count in the
policy's threshold range) the values consistent with everything published
must include a value above the range (6 or more for DfE's 1 to 5). A ``c``
is known to be at least 1, so reaching 0 is not an option for it.

:func:`reach_group` decides this for the small counts of one group:

1. a single relation whose hidden cells all carry the same sign, and no
   cell of the scaling set, caps a cell at the published total less the
   other cells' floors (no linear programme needed): a cap below the
   ceiling fails at once (:func:`_capped`);
2. a group with many small counts still open (:data:`~safeguarding.disclosure.policy.INTERVAL_TOGETHER`
   or more) first raises them all at once, in one programme: its table
   is a witness for each cell it raises enough (:func:`_all_at_once`);
3. then each cell left on its own: one region kept in HiGHS and re-solved
   warm, by the primal simplex method, for each cell's objective; every
   optimal table also shows the other cells it raises enough
   (:func:`_one_by_one`, :class:`~.lp.Programme`). Only the objective
   changes between solves, so the last optimal basis stays feasible and
   the primal method goes on from it in a few pivots (on the benchmark
   and the demo about a third of the time of the dual method, and faster
   than first maximising every cell's rise together in one programme,
   which this module did before). Each cell is asked first with the other
   open cells nudged up a little, so that one table shows more of them;
   a cell that table does not raise enough is then maximised alone.
4. Witnesses found before need no programme: a small count that a checked
   move of the bounds rule (:attr:`~.bounds.GroupCheck.top`) already raises
   above the ceiling is decided.

Each group is decided on its own, from its own content only, so the driver
may reuse the answer for a group of the same content (:mod:`.memo`).
A cell of the scaling set can grow without limit and is never asked. This
module decides; the driver (:mod:`.driver`) gives the cells that fail a
partner, and the next pass checks again.
"""

from __future__ import annotations

import numpy as np

from safeguarding.disclosure.policy import INTERVAL_NUDGE, INTERVAL_TOGETHER
from safeguarding.disclosure.secondary.exact import _Group
from safeguarding.disclosure.secondary.lp import Programme, Status, widened

#: slack for floating-point linear programmes (counts are whole numbers)
_EPS = 1e-7


def _capped(group: _Group, need: np.ndarray, scal: np.ndarray) -> np.ndarray:
    """Columns of ``need`` kept at or below the ceiling by one relation alone (bool per column).

    In a relation ``sum |a_k| y_k = c`` whose hidden cells all carry the same
    sign (and none is in the scaling set, whose shortfall can be made up
    elsewhere), ``y_j <= (c - sum_{k != j} |a_k| lb_k) / |a_j|``.
    """
    A = _region_matrix(group)
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


def reach_group(group: _Group, need: np.ndarray, scal: np.ndarray, top: np.ndarray | None = None,
                basis: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, int]:
    """The columns of ``need`` that can rise above the ceiling (bool per column), and the programmes solved.

    ``need`` marks the small counts to check (columns of the group) and
    ``scal`` the group's scaling set (free below: its shortfall is made up by
    scaling it up, so it bounds nothing). The programmes are built from this
    group alone, so the result is a function of the group's content (and
    ``need``, ``scal``).

    ``top`` (optional, per column) holds witnesses: the largest rise of each
    column over moves already found and checked (:attr:`~.bounds.GroupCheck.top`:
    each such move, within the same region of moves, is a table that fits
    everything published). A column of ``need`` whose witness already rises
    above the ceiling (by the same margin :func:`_one_by_one` accepts) is
    decided without a programme: its own programme's optimum is at least the
    witness's rise, so the answer is the same; only fewer programmes are
    solved.

    ``basis`` (optional: :attr:`~.bounds.GroupCheck.basis`) is a basis of
    the same region: a vertex found by the bounds rule's programme over the
    whole group, or the elimination's basis when the check solved no such
    programme (on the benchmark the first solves of the groups of 250 to
    3,000 cells took 0.10 s in all from it instead of 0.26). The programmes
    start there instead of searching for a first vertex (used only when the
    region is the same: no bound a reader is told, whose rows the intervals
    leave out). Each answer is an optimum or a table that fits, whatever the
    start: only the time and the witnesses met on the way change.
    """
    ok = np.zeros(group.n, dtype=bool)
    done = _capped(group, need, scal)  # decided: cannot rise enough
    if top is not None:
        _, rise = _moves_region(group, scal)
        ok |= need & ~done & (top >= rise - _EPS)
    if basis is not None and group.cap_rows.any():  # (another region: the bounds' rows are left out here)
        basis = None
    lps = 0
    if np.count_nonzero(need & ~done & ~ok) >= INTERVAL_TOGETHER:
        lps += _all_at_once((group, need, scal), ok, done, basis=basis)
    if (need & ~done & ~ok).any():
        lps += _one_by_one((group, need, scal), ok, done, basis=basis)
    return ok & need, lps


def _region_matrix(group: _Group):
    """The group's relations for the protection intervals (CSR): all but the bounds a reader is told.

    A count the publication says is small (:attr:`~.system._System.capped`) makes its copies and its parts
    small too: that is what it says, not what the figures reveal. So the intervals ask what the published
    figures allow without those bounds (every other relation kept); whether a cell can be pinned is asked
    with them (:mod:`.bounds`). A move found with them is a move without them, so witnesses stay witnesses.
    """
    A = group.A.tocsr()
    return A[~group.cap_rows] if group.cap_rows.any() else A


def _moves_region(group: _Group, scal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower bounds of the moves ``d = y - x`` (free in the scaling set) and the rise each cell must reach."""
    assert group.ceiling is not None, "protection intervals are asked only of a group with a threshold"
    low = np.where(scal, -np.inf, group.lb - group.x)
    rise = group.ceiling + 1 - group.x
    return low, rise


def _all_at_once(item: tuple[_Group, np.ndarray, np.ndarray], ok: np.ndarray, done: np.ndarray,
                 basis: tuple[np.ndarray, np.ndarray] | None = None) -> int:
    """Raise every open small count of one group at once, in one programme; marks ``ok``, returns 1.

    Over the moves ``d`` of the region (:func:`_moves_region`) and, per open
    cell ``j``, the share ``t_j`` of its rise it reaches (``rise_j t_j <= d_j``,
    ``0 <= t_j <= 1``), maximise the sum of the shares. The optimal table fits
    everything published, so it is a witness for every cell it raises enough
    (the same test as :func:`_one_by_one`'s). It decides no cell that cannot
    rise: those, and the cells it leaves short, are asked alone afterwards,
    so every answer is the same; on a group with many small counts one table
    does the work of most of their programmes. ``basis`` (a basis of the
    region) is where it starts, the shares at 0.
    """
    from scipy import sparse

    group, need, scal = item
    low, rise = _moves_region(group, scal)
    A = _region_matrix(group)
    m, n = A.shape
    open_ = np.flatnonzero(need & ~ok & ~done)
    k = open_.size
    at = np.arange(k)
    shares = sparse.csr_matrix((np.r_[-np.ones(k), rise[open_]], (np.r_[at, at], np.r_[open_, n + at])),
                               shape=(k, n + k))
    prog = Programme(sparse.hstack([A, sparse.csr_matrix((m, k))], format="csr"), np.zeros(m),
                     np.r_[low, np.zeros(k)], np.r_[np.full(n, np.inf), np.ones(k)], A_ub=shares, b_ub=np.zeros(k))
    if basis is not None:
        prog.start_from(widened(basis, k, k))
    status, sol = prog.maximise(np.r_[np.zeros(n), np.ones(k)])
    if status == Status.OPTIMAL and sol is not None:  # (an optimal programme always has a solution)
        ok |= (sol[:n] >= rise - _EPS) & need
    return 1


def _one_by_one(item: tuple[_Group, np.ndarray, np.ndarray], ok: np.ndarray, done: np.ndarray,
                nudge: float = INTERVAL_NUDGE, basis: tuple[np.ndarray, np.ndarray] | None = None) -> int:
    """Maximise each open cell of one group on its own (one region, re-solved warm); marks ``ok``/``done``.

    Every optimal table also shows the other cells it raises enough (a
    witness: a table that fits everything published). To find more such
    witnesses per programme, each cell ``j`` is first asked with the other
    open cells nudged up too (objective ``y_j + nudge * sum of the other open
    cells``, :data:`~safeguarding.disclosure.policy.INTERVAL_NUDGE`); only if
    that table does not raise ``j`` enough is ``j`` maximised alone (warm,
    from the nudged optimum), as before. Either way ``j`` is decided by a
    table that raises it enough, or by its own maximum: the same answer,
    with fewer (and shorter) programmes. ``nudge=0`` asks each cell alone.
    ``basis``: a basis of the region to start from (:meth:`~.lp.Programme.start_from`).
    Returns the programmes solved.
    """
    group, need, scal = item
    low, rise = _moves_region(group, scal)
    A = _region_matrix(group)
    prog = Programme(A, np.zeros(A.shape[0]), low, np.full(group.n, np.inf), primal=True)
    if basis is not None:
        prog.start_from(basis)
    solved = 0
    for j in np.flatnonzero(need & ~ok & ~done):
        if ok[j] or done[j]:  # shown by an earlier table, or held down by an earlier proof
            continue
        obj = np.zeros(group.n)
        if nudge:
            obj[need & ~ok & ~done] = nudge
            obj[j] = 1.0
            status, sol = prog.maximise(obj)
            solved += 1
            if status == Status.OPTIMAL and sol is not None:  # (an optimal programme always has a solution)
                ok |= (sol >= rise - _EPS) & need
            if ok[j]:
                done[j] = True
                continue
            obj[:] = 0.0
        obj[j] = 1.0
        status, sol = prog.maximise(obj)
        solved += 1
        if status == Status.UNBOUNDED:
            ok[j] = True
        elif status == Status.OPTIMAL and sol is not None:
            ok |= (sol >= rise - _EPS) & need
            if not ok[j]:  # the programme's proof that j cannot rise enough may hold others down too
                duals = prog.row_duals()
                if duals is not None:
                    done |= _held_down(A, duals, scal, -low, rise) & need & ~ok
        done[j] = True
    return solved


def _held_down(A, duals: np.ndarray, scal: np.ndarray, room: np.ndarray, rise: np.ndarray) -> np.ndarray:
    """Cells that no move raises by ``rise``, by the combination of relations a programme's duals give (bool).

    For a combination ``c = A^T y`` of the relations, every move ``d`` has
    ``c @ d = 0``. When ``c`` is at least 0 in every column and 0 in the
    scaling set (free both ways), each column ``i`` with ``c_i > 0`` then
    rises by at most ``(sum of c_k * room_k over k other than i) / c_i``,
    ``room_k`` being how far column ``k`` can fall (to its bound). The duals
    of a programme that maximised one column and fell short of its rise
    give such a combination for that column, and it often holds down the
    other small counts of the same relations, which then need no programme
    of their own. The duals are floating point: they are rounded to halves
    and the combination is checked exactly (whole coefficients), so a
    column is reported only when the bound is proved; otherwise none is.
    """
    out = np.zeros(A.shape[1], dtype=bool)
    finite = np.where(np.isfinite(room), room, 0.0)
    for scale in (1.0, 2.0):
        c = A.T @ (np.round(duals * scale) / scale)
        for sign in (1.0, -1.0):
            cs = sign * c
            if np.any(cs[scal] != 0) or np.any(cs < 0) or not np.any(cs > 0):
                continue
            total = float(cs[~scal] @ finite[~scal])
            pos = np.flatnonzero(cs > 0)
            cap = (total - cs[pos] * finite[pos]) / cs[pos]
            out[pos[cap < rise[pos] - _EPS]] = True
            return out
    return out
