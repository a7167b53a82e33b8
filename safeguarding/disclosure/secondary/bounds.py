"""The checks on one group of linked suppressed cells: which cells a reader could pin down.

:func:`_check_group` applies the linear-algebra rule (a cell determined by
the published cells, found exactly by :mod:`.exact`) and the *bounds rule*:
a reader knows that a ``c`` is at least 1 (zeros are shown), so a cell whose
possible values, given everything published, span less than 1 is as good as
published. Whole-number moves of the null space (:func:`_basis_moves`) and
linear programmes (:func:`_range_lp`, :func:`_lp_moves`, HiGHS through :mod:`.lp`)
show which cells can move by at least 1. :func:`_residual_rule` is the
cheap single-relation version for groups too large for the full check.

This module reports pinned cells; it never hides one. Choosing partners is
:mod:`.partners`; the pass loop is :mod:`.driver`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from safeguarding.disclosure.policy import TOLERANCE, Policy
from safeguarding.disclosure.secondary.exact import _blame, _cone_fixed, _Echelon, _Group, solve_transposed
from safeguarding.disclosure.secondary.lp import Programme, Status
from safeguarding.disclosure.secondary.system import _System, spans
from safeguarding.disclosure.secondary.triangular import UpperSolver


class GroupCheck(NamedTuple):
    """What :func:`_check_group` found (the first two are bool per column of the group)."""

    #: columns shown safe (a reader cannot pin them down)
    safe: np.ndarray
    #: columns a reader can pin down: each needs a partner
    pinned: np.ndarray
    #: pinned column -> positions, in ``group.published``, of the published cells it is worked out from
    #: (None: not traced this pass)
    blame: dict[int, np.ndarray | None]
    #: linear programmes solved
    lps: int
    #: columns shown to move that are small counts whose protection interval is still to be checked
    #: (:mod:`.intervals`); None when the check stopped early (pinned cells first)
    need: np.ndarray | None = None
    #: the scaling set (:meth:`_Group.scaling_set`): columns free to grow without limit
    scal: np.ndarray | None = None
    #: per column, the largest rise seen in a checked move of the linear programmes (a *witness*: ``x + d``
    #: is a table that fits everything published); :func:`~.intervals.reach_group` needs no programme for
    #: a small count already seen to rise above the ceiling. None when no programme was solved
    top: np.ndarray | None = None
    #: per published cell of the group (``group.published``), whether it is in a relation among the published
    #: cells alone once the hidden ones are solved for (:meth:`~.exact._Echelon.tied`): hiding it alone frees
    #: no pinned cell, which that relation works out another way. None when nothing is pinned
    tied: np.ndarray | None = None
    #: where :func:`~.intervals.reach_group` starts its programmes over the moves region the protection
    #: intervals ask about: the last optimal basis of the linear programme over the whole group
    #: (:meth:`~.lp.Programme.basis`, a vertex of that region), or, when no such programme was solved, the
    #: elimination's basis of it (:func:`_echelon_start`). None when neither was needed
    basis: tuple[np.ndarray, np.ndarray] | None = None


def _basis_moves(group: _Group, piv: np.ndarray, U, F, fixed: np.ndarray, scal: np.ndarray,
                 todo: np.ndarray, rise: np.ndarray | None = None
                 ) -> tuple[np.ndarray, dict[int, np.ndarray], np.ndarray]:
    """Columns moved by at least 1 by an integer null-space basis vector that fits the bounds.

    For each free column ``f`` the basis vector ``v`` (``v_f = 1``, other free
    and fixed columns 0, pivots by back-substitution) is computed in floating
    point, rounded and then checked *exactly*: ``A v = 0`` in integers and
    ``x + v >= lb`` or ``x - v >= lb`` outside the scaling set (a shortfall in
    ``S`` is made up by adding ``t x_S``). Such a ``v`` is another table of whole
    numbers that fits everything published, so every column it changes moves
    by at least 1. Stops once every column in ``todo`` is shown.

    ``rise`` (per column, NaN where not asked) asks more of the small counts:
    can a whole multiple ``t v`` that fits the bounds raise the column by at
    least ``rise`` (its protection interval, :mod:`.intervals`)? ``t`` is the
    largest whole step that keeps every checked column at or above its bound,
    so ``x + t v`` is again a table of whole numbers that fits everything
    published. Columns so shown need no linear programme.

    Returns ``(shown, near, reached)``: ``near`` maps each column of ``todo``
    not shown to the columns of the basis vectors through it (where to look
    for a move); ``reached`` marks the columns of ``rise`` shown to rise enough.
    """
    from scipy import sparse
    from scipy.sparse.linalg import splu

    n = group.n
    A, x, lb = group.A, group.x, group.lb
    shown = np.zeros(n, dtype=bool)
    is_piv = np.zeros(n, dtype=bool)
    is_piv[piv] = True
    free_cols = np.flatnonzero(~is_piv & ~fixed)
    Fc = F.tocsc()
    check = ~scal
    solver = UpperSolver(U) if piv.size else None  # exact and fast when it can be (:mod:`.triangular`)
    lu = None
    supports: list[np.ndarray] = []
    asked = np.zeros(n, dtype=bool) if rise is None else ~np.isnan(rise)
    reached = np.zeros(n, dtype=bool)
    if solver is not None and free_cols.size > 256:  # only the vectors that move a column asked about matter
        free_cols = free_cols[_moving(free_cols, todo | asked, piv, U, Fc)]
    # a zero entry keeps its cell at its true value, which fits its bound (the true table fits everything)
    fits = not np.any(check & ~(x >= lb))
    for start in range(0, free_cols.size, 256):
        if not (todo & ~shown).any() and not (asked & ~reached).any():
            break
        chunk = free_cols[start:start + 256]
        k = chunk.size
        sol = None
        if solver is not None:
            rhs = -Fc[:, chunk].toarray()
            if rhs.any():
                sol = solver.solve(rhs)
                if sol is None:  # not sure to be exact: SuperLU
                    if lu is None:
                        lu = splu(U.tocsc(), permc_spec="NATURAL", diag_pivot_thresh=0.0)
                    with np.errstate(all="ignore"):
                        sol = lu.solve(rhs)
        # the vectors' non-zero entries (a vector is a few dozen cells of thousands): 1 at its own free column,
        # the back-substitution's values at the pivots
        rows, cols, vals = chunk, np.arange(k), np.ones(k)
        if sol is not None:
            pr, pc = np.nonzero(sol)  # (NaN and infinity too: such a vector is not checked to fit)
            rows, cols, vals = np.r_[piv[pr], rows], np.r_[pc, cols], np.r_[sol[pr, pc], vals]
        r = np.round(vals)
        with np.errstate(invalid="ignore"):
            ok = np.bincount(cols, weights=~(np.abs(vals - r) < 1e-6), minlength=k) == 0
        # exactly a move: A r = 0 in whole numbers (small whole coefficients: exact in floating point)
        live = ok[cols] & (r != 0)
        prod = (A @ sparse.csc_matrix((r[live], (rows[live], cols[live])), shape=(n, k))).tocoo()
        ok &= np.bincount(prod.col, weights=prod.data != 0, minlength=k) == 0
        # and within the bounds one way or the other
        held = check[rows]
        with np.errstate(invalid="ignore"):
            fail_up = held & ~(x[rows] + r >= lb[rows])
            fail_down = held & ~(x[rows] - r >= lb[rows])
        ok &= fits & ((np.bincount(cols, weights=fail_up, minlength=k) == 0)
                      | (np.bincount(cols, weights=fail_down, minlength=k) == 0))
        with np.errstate(invalid="ignore"):
            nz = np.abs(vals) > 1e-9
        shown[rows[nz & ok[cols]]] = True
        # each vector's support, rows ascending
        order = np.lexsort((rows[nz], cols[nz]))
        supports.extend(np.split(rows[nz][order], np.cumsum(np.bincount(cols[nz], minlength=k))[:-1]))
        if rise is not None and ok.any() and (asked & ~reached).any():  # (nothing is asked without a rise)
            keep = ok[cols]
            reached |= _reach_by_steps(rows[keep], cols[keep], r[keep], k, x - lb, check, rise, asked)
    near: dict[int, list[np.ndarray]] = defaultdict(list)
    wanted = todo & ~shown
    for sup in supports:
        for c in sup[wanted[sup]]:
            near[int(c)].append(sup)
    return shown, {c: np.unique(np.concatenate(v)) for c, v in near.items()}, reached


def _moving(free_cols: np.ndarray, targets: np.ndarray, piv: np.ndarray, U, Fc) -> np.ndarray:
    """Which free columns' basis vectors (:func:`_basis_moves`) move a column of ``targets`` (bool per free column).

    The basis vector of free column ``f`` is ``-U^-1 F[:, f]`` on the pivots
    (and 1 at ``f``), so its value at the pivot in position ``i`` is
    ``-(e_i U^-1) F[:, f]``: one solve with ``U`` transposed per target
    pivot gives that row for every free column at once. A vector that moves
    no target shows nothing :func:`_basis_moves` is asked, and its support
    is in no target's ``near``, so leaving it out changes no answer; where
    the targets are many (a group's first check) every vector is kept. The
    values are floating point: anything above 1e-12 counts as moving (the
    vectors' own supports are read at 1e-9), so no vector is wrongly left
    out.
    """
    keep = targets[free_cols].copy()
    pos = np.full(targets.size, -1)
    pos[piv] = np.arange(piv.size)
    rows = pos[np.flatnonzero(targets & (pos >= 0))]
    if rows.size == 0 or rows.size * 4 > free_cols.size:
        return np.ones(free_cols.size, dtype=bool)
    E = np.zeros((piv.size, rows.size))
    E[rows, np.arange(rows.size)] = 1.0
    Z = solve_transposed(U, E)
    if not np.all(np.isfinite(Z)):
        return np.ones(free_cols.size, dtype=bool)
    C = np.asarray(Fc[:, free_cols].T @ Z)
    return keep | np.any(np.abs(C) > 1e-12, axis=1)


def _reach_by_steps(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, k: int, room: np.ndarray,
                    check: np.ndarray, rise: np.ndarray, asked: np.ndarray) -> np.ndarray:
    """Columns raised by at least ``rise`` by a whole multiple of one integer move (one of ``k`` moves).

    The moves are given by their entries (``rows``, ``cols`` in ``range(k)``,
    ``vals``: exact integer null-space vectors; entries not given are 0);
    ``room`` is each column's distance above its bound; only ``check``
    columns are held to their bound (the scaling set makes up any shortfall
    of the others). In the direction ``+v`` the largest whole step is
    ``min floor(room_i / -v_i)`` over checked ``i`` with ``v_i < 0``
    (unlimited when there is none); ``-v`` likewise. A column asked for a
    rise of 0 is raised by any move (the step 0).
    """
    out = np.zeros(room.size, dtype=bool)
    if k == 0:
        return out
    live = vals != 0  # a zero entry limits no step and gains nothing
    rows, cols, vals = rows[live], cols[live], vals[live]
    rc = np.maximum(room[rows], 0.0)
    held = check[rows]
    up = np.full(k, np.inf)
    down = np.full(k, np.inf)
    neg = held & (vals < 0)
    pos = held & (vals > 0)
    np.minimum.at(up, cols[neg], np.floor(rc[neg] / -vals[neg] + 1e-9))
    np.minimum.at(down, cols[pos], np.floor(rc[pos] / vals[pos] + 1e-9))
    need = np.where(asked, rise, np.inf)
    a = asked[rows]
    ra, ca, va = rows[a], cols[a], vals[a]
    gain = np.where(va > 0, va * up[ca], -va * down[ca])
    out[ra[gain >= need[ra] - 1e-9]] = True
    out |= 0.0 >= need - 1e-9  # (a step of 0, or a move that leaves the column where it is)
    return out & asked


def _feasible_move(A, low: np.ndarray, d: np.ndarray) -> np.ndarray | None:
    """Check a move ``d`` from a linear programme: ``A d = 0`` and ``d >= low``; return it, or None.

    A move that rounds to integers is checked exactly (the coefficients are
    small integers, so the products are exact in floating point). A
    fractional move is accepted within a relative tolerance of 1e-9.
    """
    r = np.round(d)
    if np.all(A @ r == 0) and np.all(r >= low):
        return r
    scale = 1.0 + float(np.max(np.abs(d), initial=0.0))
    if np.max(np.abs(A @ d), initial=0.0) <= 1e-9 * scale and np.all(d >= low - 1e-9 * scale):
        return d
    return None



def _region(group: _Group, scal: np.ndarray, cols: np.ndarray, primal: bool = False
            ) -> tuple[Programme, object, np.ndarray]:
    """The moves of ``cols`` with every other column held at its true value: ``(programme, its matrix, low)``.

    ``primal``: solved by the primal simplex method (:class:`~.lp.Programme`), for a region asked many questions.
    """
    A, x, lb = group.A, group.x, group.lb
    sub = A[:, cols]
    sub = sub[np.diff(sub.indptr) > 0]
    low = np.where(scal[cols], -np.inf, (lb - x)[cols])
    return Programme(sub, np.zeros(sub.shape[0]), low, np.full(cols.size, np.inf), primal=primal), sub, low


def _range_lp(group: _Group, scal: np.ndarray, j: int, cols: np.ndarray | None,
              region: tuple[Programme, object, np.ndarray] | None = None) -> tuple[float, float, list]:
    """Smallest and largest move of column ``j`` (as ``(low, high)``), over ``cols`` only (others held).

    Holding the other columns at their true values keeps every move found a
    move of the whole group (every constraint touching ``cols`` is kept).
    Returns the checked moves found too (each as ``(columns, d)``).
    ``region`` (:func:`_region` of the same ``cols``) is solved again
    instead of building the programme afresh: HiGHS then starts from the
    last optimal basis of that region (the same optimum, fewer pivots).
    """
    if cols is None:
        cols = np.arange(group.n)
    prog, sub, low = region if region is not None else _region(group, scal, cols)
    jj = int(np.searchsorted(cols, j))
    ends, moves = [], []
    for s in (-1.0, 1.0):  # lowest, then highest (the second solve starts from the first's basis)
        obj = np.zeros(cols.size)
        obj[jj] = s
        status, sol = prog.maximise(obj)
        if status == Status.UNBOUNDED:  # the cell can move without limit
            ends.append(s * np.inf)
            continue
        d = _feasible_move(sub, low, sol) if status == Status.OPTIMAL and sol is not None else None
        if d is not None:
            moves.append((cols, d))
        ends.append(0.0 if d is None else float(d[jj]))
    return ends[0], ends[1], moves


def _lp_moves(group: _Group, scal: np.ndarray, todo: np.ndarray, near: Mapping[int, np.ndarray],
              policy: Policy, start: tuple[np.ndarray, np.ndarray] | None = None
              ) -> tuple[np.ndarray, int, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Columns in ``todo`` whose feasible range, by linear programming, is at least 1 wide; bool.

    Cells of the scaling set may go below their bound (``t x_S`` makes up the
    shortfall). Each undecided column first gets its smallest and largest
    value over the columns ``near`` it (at most ``policy.max_local_lps``
    columns per call), then, for at most ``policy.max_single_lps`` columns,
    over the whole group. Every move found also shows the other columns it
    shifts by at least 1. Columns still undecided stay unshown
    (over-suppression only). Returns ``(wide, linear programmes solved,
    top, basis)``: ``top`` is, per column, the largest rise over the checked moves
    found (0, the true table, when none raises it): witnesses for
    :mod:`.intervals`; ``basis`` the last optimal basis of the programme over
    the whole group (None if none was solved), where :mod:`.intervals` starts.

    ``start`` (optional: :func:`_echelon_start`) is a basis of the programme
    over the whole group to start its first solve from. That programme is
    solved by the primal simplex method: from one question to the next only
    the objective changes, so the last optimum stays a feasible vertex and
    the primal method goes on from it (on the benchmark's group of about
    4,600 linked cells, about 4 ms a solve instead of 15 by the dual method).
    Which vertices the solves meet changes nothing shown while every
    undecided column gets asked (no more of them than
    ``policy.max_single_lps``, 100 by default: at most 23 are met on the
    benchmark, 40 on the demo): each is then decided by its own optimum or by a
    move that already shows it (only ``top``, the programmes solved and the
    basis handed on may differ). Past the limit, the moves met on the way
    pick the columns asked.
    """
    wide = np.zeros(group.n, dtype=bool)
    top = np.zeros(group.n)
    lps = 0
    whole: tuple[Programme, object, np.ndarray] | None = None  # the whole group's region, built once
    for tries, scope in ((policy.max_local_lps, "near"), (policy.max_single_lps, "all")):
        for j in np.flatnonzero(todo & ~wide)[:tries]:
            if wide[j]:
                continue
            cols = None
            region = None
            if scope == "near":
                cols = near.get(int(j))
                if cols is None or cols.size > 3000:
                    continue
            else:  # every cell asks the same region: one programme, solved warm from cell to cell
                if whole is None:
                    whole = _region(group, scal, np.arange(group.n), primal=True)
                    if start is not None:
                        whole[0].start_from(start)
                region = whole
            lo, hi, moves = _range_lp(group, scal, int(j), cols, region)
            lps += 2
            for c, d in moves:
                wide[c[np.abs(d) >= 1 - 1e-9]] = True
                top[c] = np.maximum(top[c], d)
            if hi - lo >= 1 - 1e-9:
                wide[j] = True
    return wide & todo, lps, top, None if whole is None else whole[0].basis()


def _check_group(group: _Group, known: np.ndarray, policy: Policy) -> GroupCheck:
    """Rules 2 and 3 on one group: a :class:`GroupCheck` (``safe``, ``pinned``, ``blame``, ``lps``).

    ``known``: columns already shown safe (suppressing more cells never makes
    a safe cell unsafe, since every table that fitted before still fits).
    ``blame`` maps a pinned column to the positions, in ``group.published``,
    of the published cells through which a reader works it out.

    1. Columns in the scaling set ``S`` (:meth:`_Group.scaling_set`) are safe:
       they can grow without limit. They also make up any shortfall below
       their bounds (add ``t x_S``), so for the others they are unconstrained.
    2. Exact elimination (:class:`_Echelon`) first of ``S``, then of the cells
       above their bound, leaves the relations among the at-bound cells; one
       linear programme on those (:func:`_cone_fixed`) finds the at-bound
       cells that cannot move at all. With those fixed, the rest of the
       elimination and a modular back-substitution find the cells whose unit
       vector lies in the row space (rule 2): any other cell moves, since a
       null-space move plus a large multiple of the programme's direction
       (and of ``x_S``) stays feasible. Fixed and determined cells are pinned.
    3. If nothing is pinned, the bounds rule proper: every other column must
       move by at least 1 in some table that fits; shown with integer
       null-space basis vectors (:func:`_basis_moves`), then linear programmes
       (:func:`_lp_moves`). Columns not shown are pinned too.
    """
    from scipy import sparse

    A, x, lb = group.A, group.x, group.lb
    n = group.n
    # a hidden true zero needs no protection of its own (0 is published anyway), nor does a slack cell
    safe = known | (x == 0) | group.slack
    none = np.zeros(n, dtype=bool)
    if A.shape[0] == 0:
        return GroupCheck(np.ones(n, dtype=bool), none, {}, 0)
    scal = group.scaling_set()
    safe |= scal
    if safe.all():
        return GroupCheck(safe, none, {}, 0)
    at = (x - lb < TOLERANCE) & ~scal
    npub = group.published.size
    klass = np.r_[np.where(scal, 0, np.where(at, 2, 1)), np.full(npub, 3)]
    ech = _Echelon(sparse.hstack([A, group.P], format="csr"), klass)
    ech.run(1)
    at_cols = np.flatnonzero(at)
    fixed = np.zeros(n, dtype=bool)
    fixed[at_cols[_cone_fixed(ech.residual(at_cols))]] = True
    ech.drop(np.flatnonzero(fixed))
    ech.run(2)
    movable = ech.free(np.r_[fixed, np.ones(npub, dtype=bool)])[:n]
    pinned = ~movable & ~safe
    piv, U, F, P = ech.blocks(n)
    if pinned.any():
        return GroupCheck(safe, pinned, _blame(piv, U, P, pinned, policy.max_blame), 0, tied=ech.tied(n))
    rise = None
    if group.ceiling is not None:
        rise = np.where(group.primary & ~scal & ~known, group.ceiling + 1 - x, np.nan)
    shown, near, reached = _basis_moves(group, piv, U, F, fixed, scal, ~safe, rise)
    safe |= shown
    lps = 0
    top = basis = start = None
    if not safe.all():
        start = _echelon_start(ech, group, piv, scal)
        wide, lps, top, basis = _lp_moves(group, scal, ~safe, near, policy, start)
        safe |= wide
    need = group.primary & safe & ~scal & ~known & ~reached
    if basis is None and need.any():  # no programme over the whole group solved: the intervals start from here
        basis = start if start is not None else _echelon_start(ech, group, piv, scal)
    return GroupCheck(safe, ~safe, {}, lps, need, scal, top, basis=basis)




def _echelon_start(ech: _Echelon, group: _Group, piv: np.ndarray, scal: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray] | None:
    """A basis of the programme over the whole group (:func:`_region` of every column) from the elimination.

    The pivot columns are basic, the rows not used as pivots (relations the
    pivot rows already imply, once the published cells are set aside) keep
    their slack basic, every other column sits at its bound (the scaling
    set's, free, at zero). The pivot rows restricted to the pivot columns
    are triangular in pivot order with a non-zero diagonal, so this is a
    basis; the solver need not search for one (on the benchmark's group of
    about 4,600 linked cells, its first solve 0.03 s down to about 0.012 s).
    None when the region has other rows than ``group.A`` (never so today).
    """
    from safeguarding.disclosure.secondary.lp import statuses

    if np.any(np.diff(group.A.indptr) == 0):  # pragma: no cover - a group's relations are never empty
        return None
    basic = np.zeros(group.n, dtype=bool)
    basic[piv] = True
    return statuses(basic, scal, ech.active)


def _residual_rule(system: _System, cells: list[int], cons: list[int], suppressed: np.ndarray) -> list[int]:
    """Cheap bounds rule for groups too large to check: in a sum whose hidden parts must all be at their bound.

    Finds the cells of a single relation whose hidden parts, all with the same
    coefficient, add up to no more than their lower bounds (each ``c`` at least
    1): a reader then knows every one of them. Relations combined with others
    are not examined (that is what the full check does).
    """
    if not cons:
        return []
    all_rows, all_cols, all_coefs = system.arrays()  # (entries relation by relation, each in its own order)
    at = np.asarray(cons, dtype=np.int64)
    starts = np.searchsorted(all_rows, at, side="left")
    sizes = np.searchsorted(all_rows, at, side="right") - starts
    m = sizes.size
    row = np.repeat(np.arange(m), sizes)  # every (relation, cell) entry, relation by relation in their order
    ent = spans(starts, sizes)
    idx = all_cols[ent]
    coef = all_coefs[ent]
    vals = system.values[idx]
    hid = suppressed[idx]
    free = system.free_slack()[idx]
    real = hid & ~free
    n_hid = np.bincount(row, weights=hid, minlength=m)
    n_real = np.bincount(row, weights=real, minlength=m)
    # the hidden parts all carry one coefficient: their smallest and largest coefficients agree
    lo = np.full(m, np.inf)
    hi = np.full(m, -np.inf)
    np.minimum.at(lo, row[hid], coef[hid])
    np.maximum.at(hi, row[hid], coef[hid])
    # the published part, moved to the hidden side (whole numbers times small whole coefficients: exact)
    sign = np.where(np.isfinite(lo), lo, 0.0)
    rest = -np.bincount(row, weights=np.where(hid, 0.0, coef * vals), minlength=m) * sign
    lbs = np.bincount(row, weights=hid & (vals >= 1) & ~free, minlength=m)
    hit = (n_hid >= 2) & (n_hid < sizes) & (n_real > 0) & (lo == hi) & (rest <= lbs + TOLERANCE)
    # each such relation gives its first real hidden cell
    first = np.flatnonzero(real & hit[row])
    _, at = np.unique(row[first], return_index=True)
    return [int(c) for c in idx[first[at]]]
