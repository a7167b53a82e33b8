"""The later speed-ups of the secondary suppression compute exactly what they replace.

* :class:`~safeguarding.disclosure.secondary.triangular.UpperSolver` (a
  solve by levels) gives bit for bit SuperLU's solution on random upper
  triangular systems of whole numbers with a diagonal of +-1, and declines
  (None) where it cannot promise that; :func:`~.exact._blame` through it
  traces the cells ``spsolve_triangular`` traces;
* :func:`~safeguarding.disclosure.secondary.driver._group_of` (a group of
  the pass before kept when its cells are the same) hands out only groups
  of the same content as a group built afresh;
* :func:`~safeguarding.disclosure.secondary.exact._group_blocks` (a group's
  matrices straight from the arrays) gives entry for entry, dtypes
  included, what the sparse operations it replaced give, on random systems
  of sums, equalities, balances and inequalities;
* :func:`~safeguarding.disclosure.secondary.bounds._reach_by_steps` and
  :func:`~safeguarding.disclosure.secondary.bounds._basis_moves` (the moves
  kept as their non-zero entries, not as dense columns of every cell)
  against the dense originals, on random tables and in whole suppressions;
  :class:`~safeguarding.disclosure.secondary.exact._Echelon` starts from
  the same rows and column sets, in the same order, as built entry by entry;
* the level solve works row-major whatever the layout of its right-hand
  side (a CSC block's ``toarray`` is column-major, and a sparse product
  copied such an operand whole at every level), bit for bit as before;
* :func:`~safeguarding.disclosure.secondary.bounds._lp_moves` builds the
  whole group's programme once and solves it again, warm, for each cell
  (it built a fresh one per cell): every cell's range is still the range
  a fresh ``linprog`` finds.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.linalg import splu

from safeguarding.disclosure import Policy
from safeguarding.disclosure.secondary import bounds, driver
from safeguarding.disclosure.secondary.bounds import _reach_by_steps
from safeguarding.disclosure.secondary.exact import _blame, _Echelon, _Group, _group_blocks, _group_blocks_sparse
from safeguarding.disclosure.secondary.memo import content_key
from safeguarding.disclosure.secondary.system import _coefficients, _components, _incidence, _System
from safeguarding.disclosure.secondary.triangular import UpperSolver
from safeguarding.disclosure.tables import protect_indicator_table
from tests.test_disclosure_large import small_council
from tests.test_disclosure_memo import _grid_system, _only_group


def _random_upper(rng: np.random.Generator, k: int, per_row: int, unit: bool = True) -> sparse.csr_matrix:
    """An upper triangular k x k matrix of small whole numbers, diagonal +-1 (or any non-zero whole number)."""
    rows, cols, vals = [], [], []
    for i in range(k):
        d = rng.choice([-1.0, 1.0]) if unit else float(rng.choice([-3, -2, 2, 3]))
        rows.append(i)
        cols.append(i)
        vals.append(d)
        for j in rng.choice(np.arange(i + 1, k), size=min(per_row, k - i - 1), replace=False) if i + 1 < k else []:
            rows.append(i)
            cols.append(int(j))
            vals.append(float(rng.choice([-2, -1, 1, 2])))
    return sparse.csr_matrix((vals, (rows, cols)), shape=(k, k))


def _splu_solve(U, rhs: np.ndarray) -> np.ndarray:
    lu = splu(U.tocsc(), permc_spec="NATURAL", diag_pivot_thresh=0.0)
    with np.errstate(all="ignore"):
        return lu.solve(rhs)


@pytest.mark.parametrize("seed", range(12))
def test_level_solve_is_superlu_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 400))
    U = _random_upper(rng, k, per_row=int(rng.integers(0, 3)))
    rhs = rng.integers(-2, 3, size=(k, int(rng.integers(1, 40)))).astype(float)
    rhs[:, rng.random(rhs.shape[1]) < 0.3] = 0.0
    solver = UpperSolver(U)
    assert solver.usable
    got = solver.solve(rhs)
    if got is None:  # values too large to promise exactness: the caller uses SuperLU
        return
    want = _splu_solve(U, rhs)
    assert got.shape == want.shape
    assert np.array_equal(got, want)
    assert np.all(np.abs(got) < 2.0 ** 50)


def test_level_solve_declines_what_it_cannot_promise() -> None:
    rng = np.random.default_rng(0)
    assert not UpperSolver(_random_upper(rng, 30, 2, unit=False)).usable  # a diagonal other than +-1
    lower = sparse.csr_matrix(np.array([[1.0, 0.0], [1.0, 1.0]]))
    assert not UpperSolver(lower).usable  # an entry below the diagonal
    U = sparse.csr_matrix(np.array([[1.0, 1.0], [0.0, 1.0]]))
    assert UpperSolver(U).solve(np.array([[0.5], [1.0]])) is None  # a right-hand side not whole
    # a chain that doubles at every step: past 2**50 the solve is not promised exact
    k = 60
    chain = sparse.diags([np.ones(k), -2.0 * np.ones(k - 1)], [0, 1], format="csr")
    rhs = np.zeros((k, 1))
    rhs[-1] = 1.0
    assert UpperSolver(chain).solve(rhs) is None
    small = UpperSolver(chain[-20:, -20:]).solve(rhs[-20:])
    assert np.array_equal(small, _splu_solve(chain[-20:, -20:], rhs[-20:]))


@pytest.mark.parametrize("seed", range(4))
def test_level_solve_is_row_major_whatever_the_right_hand_side(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    k = int(rng.integers(50, 300))
    U = _random_upper(rng, k, per_row=2)
    rhs = rng.integers(-2, 3, size=(k, 30)).astype(float)
    solver = UpperSolver(U)
    by_rows = solver.solve(np.ascontiguousarray(rhs))
    by_cols = solver.solve(np.asfortranarray(rhs))
    if by_rows is None:  # (values too large to promise: declined alike)
        assert by_cols is None
        return
    assert by_cols is not None and by_cols.flags.c_contiguous
    assert np.array_equal(by_rows, by_cols)
    assert np.array_equal(by_cols, _splu_solve(U, rhs))


def _range_by_linprog(group, scal: np.ndarray, j: int) -> float:
    """The width of column ``j``'s feasible range over the whole group, by two fresh ``linprog`` solves."""
    low = np.where(scal, -np.inf, group.lb - group.x)
    ends = []
    for s in (1.0, -1.0):
        w = np.zeros(group.n)
        w[j] = s
        res = linprog(w, A_eq=group.A, b_eq=np.zeros(group.A.shape[0]), bounds=np.c_[low, np.full(group.n, np.inf)],
                      method="highs")
        if res.status == 3:
            return np.inf
        ends.append(s * res.fun)
    return ends[1] - ends[0]


@pytest.mark.parametrize("seed", range(6))
def test_whole_group_programmes_are_one_region_solved_warm(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    rng = np.random.default_rng(70 + seed)
    system, hidden = _grid_system(rng, 3 + seed % 3, 4 + seed % 2)
    group = _only_group(system, hidden)
    scal = group.scaling_set()
    todo = ~scal & (group.x > 0)
    built = []

    class Counted(bounds.Programme):
        def __init__(self, *args, **kwargs) -> None:
            built.append(args[0].shape)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(bounds, "Programme", Counted)
    wide, lps, _, _ = bounds._lp_moves(group, scal, todo, {}, Policy(max_single_lps=group.n))
    if lps == 0:
        return
    assert len(built) == 1  # (one programme per cell before)
    assert lps >= 2
    # with a programme for every cell that asks, a cell is wide exactly when its range is at least 1
    want = np.array([todo[j] and _range_by_linprog(group, scal, j) >= 1 - 1e-9 for j in range(group.n)])
    assert np.array_equal(wide, want)


@pytest.mark.parametrize("seed", [0, 1])
def test_kept_groups_are_groups_built_afresh(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    original = driver._group_of

    def checked(last, system, cells, cons, coef, is_eq, suppressed, threshold):
        group = original(last, system, cells, cons, coef, is_eq, suppressed, threshold)
        fresh = _Group(system, cells, cons, coef, is_eq, suppressed, threshold)
        assert content_key(group) == content_key(fresh)
        for name in ("cells", "col", "published", "x", "lb", "slack", "primary"):
            assert np.array_equal(getattr(group, name), getattr(fresh, name)), name
        return group

    ind = small_council(seed, indicators=2, years=2, mean=0.8)
    monkeypatch.setattr(driver, "_group_of", checked)
    with_check = protect_indicator_table(ind, policy=Policy())
    monkeypatch.setattr(driver, "_group_of", lambda last, *args: _Group(*args))  # never keep one
    fresh = protect_indicator_table(ind, policy=Policy())
    assert np.array_equal(with_check.report.suppressed, fresh.report.suppressed)
    assert with_check.shown.equals(fresh.shown)


def test_a_group_is_kept_only_while_its_published_cells_stay_published() -> None:
    system, hidden = _grid_system(np.random.default_rng(5), rows=3, cols=4)
    hidden[:] = False
    hidden[[0, 1, 4, 5]] = True  # a 2 x 2 block of inner cells: its row and column totals are published
    cells, cons = _components(system, hidden, _incidence(system))[0]
    coef, is_eq = _coefficients(system), system.equalities()
    old = _Group(system, cells, cons, coef, is_eq, hidden, (1, 5))
    last = {np.asarray(cells, dtype=int).tobytes(): old}
    assert driver._group_of(last, system, cells, cons, coef, is_eq, hidden, (1, 5)) is old
    # a published cell of its relations hidden since (earlier in the pass): built again, as a fresh one is
    later = hidden.copy()
    later[int(old.published[0])] = True
    got = driver._group_of(last, system, cells, cons, coef, is_eq, later, (1, 5))
    fresh = _Group(system, cells, cons, coef, is_eq, later, (1, 5))
    assert got is not old
    assert content_key(got) == content_key(fresh) != content_key(old)
    assert driver._group_of({}, system, cells, cons, coef, is_eq, hidden, (1, 5)) is not old


def _random_system(rng: np.random.Generator, cells: int = 60, relations: int = 40) -> tuple[_System, np.ndarray]:
    """Sums, equalities (the same count twice), balances and inequalities with slack cells over random counts."""
    system = _System(rng.integers(0, 8, size=cells).astype(float))
    for _ in range(relations):
        kind = rng.integers(0, 4)
        if kind == 0:  # total = sum of parts
            parts = rng.choice(cells, size=int(rng.integers(2, 6)), replace=False)
            total = int(rng.integers(0, cells))
            if total in parts:
                continue
            system.values[total] = system.values[parts].sum()
            system.add([total, *parts.tolist()], [-1.0] + [1.0] * parts.size, [False] + [True] * parts.size)
        elif kind == 1:  # the same count twice
            a, b = rng.choice(cells, size=2, replace=False)
            system.values[b] = system.values[a]
            system.add([int(a), int(b)], [1.0, -1.0], [True, True])
        elif kind == 2:  # a balance
            c = rng.choice(cells, size=4, replace=False)
            v = system.values
            v[c[0]] = v[c[1]] + v[c[2]] - v[c[3]]
            if v[c[0]] >= 0:
                system.add(c.tolist(), [1.0, -1.0, -1.0, 1.0], [True] * 4)
        else:  # an inequality
            a, b = rng.choice(cells, size=2, replace=False)
            system.add_many_at_most(np.array([a]), np.array([b]))
    hidden = (rng.random(len(system.values)) < 0.4) | system.slack
    return system, hidden


@pytest.mark.parametrize("seed", range(25))
def test_group_blocks_are_the_sparse_operations_entry_for_entry(seed: int) -> None:
    rng = np.random.default_rng(seed)
    system, hidden = _random_system(rng)
    coef, is_eq = _coefficients(system), system.equalities()
    groups = _components(system, hidden, _incidence(system))
    assert groups
    for cells, cons in groups:
        args = (np.asarray(cells, dtype=int), np.asarray(cons, dtype=int), coef, is_eq, hidden)
        got, want = _group_blocks(*args), _group_blocks_sparse(*args)
        assert got[0] == want[0]
        for a, b in ((got[1], want[1]), (got[3], want[3])):
            assert a.dtype == b.dtype and np.array_equal(a, b)
        for a, b in ((got[2], want[2]), (got[4], want[4])):
            assert a.shape == b.shape
            for part in ("indptr", "indices", "data"):
                u, v = getattr(a, part), getattr(b, part)
                assert u.dtype == v.dtype and np.array_equal(u, v), part


def test_group_blocks_fixture_has_groups_with_and_without_a_count_published_twice() -> None:
    """The test above meets both ways of numbering a group's columns: merged pairs, and none to merge (where the
    components of no link are not searched for)."""
    kinds = set()
    for seed in range(25):
        system, hidden = _random_system(np.random.default_rng(seed))
        coef, is_eq = _coefficients(system), system.equalities()
        for cells, cons in _components(system, hidden, _incidence(system)):
            kinds.add(_group_blocks(np.asarray(cells, dtype=int), np.asarray(cons, dtype=int), coef, is_eq,
                                    hidden)[0] == len(cells))
    assert kinds == {True, False}


def _reach_by_steps_dense(R, room, check, rise, asked):
    """``_reach_by_steps`` as first written: every row in the arithmetic (to test the faster one against)."""
    out = np.zeros(R.shape[0], dtype=bool)
    if R.shape[1] == 0:
        return out
    Rc = R[check]
    rc = np.maximum(room[check], 0.0)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(Rc < 0, np.floor(rc / -Rc + 1e-9), np.inf).min(axis=0)
        down = np.where(Rc > 0, np.floor(rc / Rc + 1e-9), np.inf).min(axis=0)
    with np.errstate(invalid="ignore"):
        gain = np.maximum(np.where(R > 0, R * up, 0.0), np.where(R < 0, -R * down, 0.0))
    gain = np.nan_to_num(gain, nan=0.0, posinf=np.inf)
    need = np.where(asked, rise, np.inf)
    return np.any(gain >= need[:, None] - 1e-9, axis=1) & asked


def test_reach_by_steps_is_the_dense_computation() -> None:
    rng = np.random.default_rng(1)
    tried = 0
    while tried < 1500:
        n, k = int(rng.integers(1, 40)), int(rng.integers(0, 8))
        R = rng.integers(-3, 4, size=(n, k)).astype(float) * (rng.random((n, k)) < rng.uniform(0.05, 0.9))
        room = rng.integers(-1, 6, n).astype(float)
        check = rng.random(n) < 0.7
        if not check.any():  # never so in a group (the scaling set is never every column there)
            continue
        rise = np.where(rng.random(n) < 0.5, rng.choice([0.0, 1e-10, 1.0, 2.0, 5.0], n), np.nan)
        asked = ~np.isnan(rise)
        # the moves by their entries, zeros among them as a vector's entries can be
        rows, cols = np.nonzero((R != 0) | (rng.random((n, k)) < 0.1))
        assert np.array_equal(_reach_by_steps(rows, cols, R[rows, cols], k, room, check, rise, asked),
                              _reach_by_steps_dense(R, room, check, rise, asked))
        tried += 1


def _basis_moves_dense(group, piv, U, F, fixed, scal, todo, rise=None):
    """``bounds._basis_moves`` as written before it kept only the vectors' non-zero entries: every basis vector
    a dense column of all the group's cells (to test the sparse one against)."""
    n = group.n
    A, x, lb = group.A, group.x, group.lb
    shown = np.zeros(n, dtype=bool)
    is_piv = np.zeros(n, dtype=bool)
    is_piv[piv] = True
    free_cols = np.flatnonzero(~is_piv & ~fixed)
    Fc = F.tocsc()
    check = ~scal
    solver = UpperSolver(U) if piv.size else None
    lu = None
    supports = []
    asked = np.zeros(n, dtype=bool) if rise is None else ~np.isnan(rise)
    reached = np.zeros(n, dtype=bool)
    if solver is not None and free_cols.size > 256:
        free_cols = free_cols[bounds._moving(free_cols, todo | asked, piv, U, Fc)]
    for start in range(0, free_cols.size, 256):
        if not (todo & ~shown).any() and not (asked & ~reached).any():
            break
        chunk = free_cols[start:start + 256]
        k = chunk.size
        V = np.zeros((n, k))
        if solver is not None:
            rhs = -Fc[:, chunk].toarray()
            if rhs.any():
                sol = solver.solve(rhs)
                if sol is None:
                    if lu is None:
                        lu = splu(U.tocsc(), permc_spec="NATURAL", diag_pivot_thresh=0.0)
                    with np.errstate(all="ignore"):
                        sol = lu.solve(rhs)
                V[piv] = sol
        V[chunk, np.arange(k)] = 1.0
        R = np.round(V)
        ok = np.all(np.abs(V - R) < 1e-6, axis=0) & np.all(np.isfinite(V), axis=0)
        ok &= ~np.any(A @ R != 0, axis=0)
        xs = x[check, None]
        up = np.all(xs + R[check] >= lb[check, None], axis=0)
        down = np.all(xs - R[check] >= lb[check, None], axis=0)
        ok &= up | down
        nz = np.abs(V) > 1e-9
        shown |= np.any(nz[:, ok], axis=1)
        cols_nz, rows_nz = np.nonzero(nz.T)
        supports.extend(np.split(rows_nz, np.cumsum(np.bincount(cols_nz, minlength=k))[:-1]))
        if rise is not None and (asked & ~reached).any():
            reached |= _reach_by_steps_dense(R[:, ok], x - lb, check, rise, asked)
    near: dict[int, list[np.ndarray]] = {}
    wanted = todo & ~shown
    for sup in supports:
        for c in sup[wanted[sup]]:
            near.setdefault(int(c), []).append(sup)
    return shown, {c: np.unique(np.concatenate(v)) for c, v in near.items()}, reached


def _same_moves(got, want) -> None:
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[2], want[2])
    assert got[1].keys() == want[1].keys()
    for c in want[1]:
        assert np.array_equal(got[1][c], want[1][c]), c


@pytest.mark.parametrize("seed", range(6))
def test_basis_moves_by_their_entries_are_the_dense_computation(seed: int) -> None:
    """The bounds rule's integer moves kept as their non-zero entries (a vector is a few dozen cells of the
    thousands of a large group) show the same cells, trace the same supports and reach the same rises as
    dense columns of every cell did; tables of up to 22 x 24 hidden cells (two chunks of 256 vectors)."""
    rng = np.random.default_rng(seed)
    size = [(3, 4), (6, 7), (22, 24)][seed % 3]
    system, hidden = _grid_system(rng, *size, top=int(rng.integers(2, 6)))
    group = _only_group(system, hidden)
    scal = group.scaling_set()
    at = (group.x - group.lb < 1e-9) & ~scal
    klass = np.r_[np.where(scal, 0, np.where(at, 2, 1)), np.full(group.published.size, 3)]
    ech = _Echelon(sparse.hstack([group.A, group.P], format="csr"), klass)
    ech.run(2)
    piv, U, F, _ = ech.blocks(group.n)
    fixed = np.zeros(group.n, dtype=bool)
    rise = np.where(group.primary & ~scal, group.ceiling + 1 - group.x, np.nan)
    shown = 0
    for todo in (~scal, rng.random(group.n) < 0.1):
        for r in (None, rise):
            want = _basis_moves_dense(group, piv, U, F, fixed, scal, todo, r)
            _same_moves(bounds._basis_moves(group, piv, U, F, fixed, scal, todo, r), want)
            shown += int(want[0].sum())
    assert shown > 0, "the fixture should show cells"


@pytest.mark.parametrize("seed", [0, 4])
def test_basis_moves_by_their_entries_in_a_whole_suppression(monkeypatch, seed: int) -> None:
    """Every call of the bounds rule's integer moves in a table's suppression (groups with scaling sets,
    slack cells and bounds, as the checks meet them) gives what the dense computation gives."""
    calls = []
    real = bounds._basis_moves

    def both(*args):
        got = real(*args)
        _same_moves(got, _basis_moves_dense(*args))
        calls.append(1)
        return got

    monkeypatch.setattr(bounds, "_basis_moves", both)
    protect_indicator_table(small_council(seed))
    assert len(calls) > 5


def _echelon_rows_plain(A) -> tuple[list[dict[int, int]], list[set[int]]]:
    """The rows and column sets of ``_Echelon`` built entry by entry, as first written."""
    A = A.tocsr()
    indptr, indices, data = A.indptr, A.indices.tolist(), A.data.tolist()
    rows: list[dict[int, int]] = []
    col_rows: list[set[int]] = [set() for _ in range(A.shape[1])]
    for i in range(A.shape[0]):
        row = {indices[t]: int(data[t]) for t in range(indptr[i], indptr[i + 1])}
        rows.append(row)
        for c in row:
            col_rows[c].add(i)
    return rows, col_rows


@pytest.mark.parametrize("seed", range(10))
def test_echelon_starts_from_the_same_rows_in_the_same_order(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(1, 200)), int(rng.integers(1, 300))
    A = sparse.random(m, n, density=float(rng.uniform(0.01, 0.2)), random_state=seed, format="csr")
    A.data = np.round(rng.uniform(-3, 3, A.nnz))
    A.eliminate_zeros()
    ech = _Echelon(A, rng.integers(0, 4, n))
    rows, col_rows = _echelon_rows_plain(A)
    # dicts in the same insertion order, sets in the same iteration order (the pivot chosen among equally
    # sparse rows is the first in the set's order)
    assert [list(r.items()) for r in ech.rows] == [list(r.items()) for r in rows]
    assert [list(s) for s in ech.col_rows] == [list(s) for s in col_rows]


@pytest.mark.parametrize("seed", range(8))
def test_blame_by_the_level_solve_is_blame_by_spsolve_triangular(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 300))
    U = _random_upper(rng, k, int(rng.integers(0, 3)), unit=seed % 4 != 3)
    piv = rng.permutation(k + 10)[:k]
    P = sparse.random(k, int(rng.integers(1, 40)), density=0.1, random_state=seed, format="csr")
    P.data = np.round(P.data * 4 - 2)
    pinned = rng.random(k + 10) < 0.3
    fast = _blame(piv, U, P, pinned, 50)
    monkeypatch.setattr(UpperSolver, "solve", lambda self, rhs: None)  # always scipy's solve
    plain = _blame(piv, U, P, pinned, 50)
    assert fast.keys() == plain.keys()
    for c, sources in fast.items():
        assert (sources is None and plain[c] is None) or np.array_equal(sources, plain[c])


def _families_by_loop(df, cells, system) -> np.ndarray:
    """:func:`~safeguarding.disclosure.tables._families` as first written (a loop over the relations): the reference."""
    from scipy.sparse.csgraph import connected_components

    codes, ind_of_row = np.unique(df["indicator_id"].astype(str).to_numpy(), return_inverse=True)
    row_of_cell = np.full(len(system.values), -1, dtype=int)
    row_of_cell[cells.long["cell"].to_numpy()] = cells.long["row"].to_numpy()
    a, b = [], []
    for idx, _, _ in system.constraints:
        rows = row_of_cell[idx]
        inds = ind_of_row[rows[rows >= 0]]
        a.extend(inds[:-1].tolist())
        b.extend(inds[1:].tolist())
    graph = sparse.csr_matrix((np.ones(len(a)), (a, b)), shape=(len(codes), len(codes)))
    return connected_components(graph, directed=False)[1][ind_of_row]


@pytest.mark.parametrize("seed", range(4))
def test_families_from_the_relations_arrays_are_the_loops(seed: int) -> None:
    import pandas as pd

    from safeguarding.disclosure.primary import indicator_cells
    from safeguarding.disclosure.tables import _families

    rng = np.random.default_rng(seed)
    df = small_council(seed).reset_index(drop=True)
    df["period_start"], df["period_end"] = pd.to_datetime(df["period_start"]), pd.to_datetime(df["period_end"])
    cells = indicator_cells(df)
    system = _System(cells.values)
    ids = df["indicator_id"].to_numpy()[cells.long["row"].to_numpy()]
    cell = cells.long["cell"].to_numpy()
    codes = np.unique(ids)
    assert codes.size >= 3
    # relations within each indicator, one joining the first two indicators, and bounds (with slack cells)
    for code in codes:
        mine = cell[ids == code]
        for _ in range(5):
            pick = rng.choice(mine, size=3, replace=False)
            system.add(pick.tolist(), [1.0, 1.0, -1.0], [True, True, True])
    system.add([int(cell[ids == codes[0]][0]), int(cell[ids == codes[1]][0])], [1.0, -1.0], [True, True])
    system.add_many_at_most_bound(rng.choice(cell, size=10, replace=False), 5.0)
    ours = _families(df, cells, system)
    assert np.array_equal(ours, _families_by_loop(df, cells, system))
    rows = df["indicator_id"].to_numpy()
    assert np.unique(ours[np.isin(rows, codes[:2])]).size == 1  # joined by the one relation between them
    assert np.unique(ours).size == codes.size - 1


def test_the_systems_arrays_are_made_once_and_follow_new_constraints() -> None:
    from safeguarding.disclosure.secondary.system import _entries

    system = _System(np.arange(12, dtype=float))
    system.add([0, 1, 2], [1.0, 1.0, -1.0], [True, True, False])
    first = system.arrays()
    assert system.arrays()[0] is first[0]  # made once
    with pytest.raises(ValueError):
        first[1][0] = 5  # read-only: a caller cannot change what the others read
    system.add([3, 4], [1.0, -1.0], [True, True])
    system.add_many_at_most_bound(np.array([4, 5]), 5.0)
    rows, cols, coefs = system.arrays()
    assert rows.tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 3]
    assert cols.tolist()[:5] == [0, 1, 2, 3, 4] and cols.tolist()[5::2] == [4, 5]
    assert coefs.tolist()[:5] == [1.0, 1.0, -1.0, 1.0, -1.0]
    assert [a.tolist() for a in _entries(system)] == [rows.tolist(), cols.tolist()]


@pytest.mark.parametrize("seed", range(3))
def test_equalities_from_the_arrays_are_the_loops(seed: int) -> None:
    rng = np.random.default_rng(seed)
    system = _System(rng.integers(0, 9, size=40).astype(float))
    for _ in range(30):
        k = int(rng.integers(2, 5))
        cells = rng.choice(40, size=k, replace=False)
        coefs = rng.choice([-1.0, 1.0, 2.0], size=k)
        system.add(cells.tolist(), coefs.tolist(), [True] * k)
    system.add([0, 1], [1.0, -1.0], [True, True])  # an equal pair (if both values are the same, it is a relation)
    system.add_many_at_most_bound(np.arange(5), 8.0)  # bounds: a cell and a slack, coefficients 1 and 1
    system.add_many_at_least_bound(np.arange(5, 10), 0.0)  # a cell and a slack with 1 and -1: not an equality
    reference = np.array([len(idx) == 2 and a[0] == -a[1] and not system.slack[idx].any()
                          for idx, a, _ in system.constraints], dtype=bool)
    assert np.array_equal(system.equalities(), reference)
    assert reference.any() and not reference.all()
    assert np.array_equal(_System(np.ones(3)).equalities(), np.zeros(0, dtype=bool))
