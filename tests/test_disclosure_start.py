"""The protection intervals start from the vertex the bounds rule's whole-group programme ended at.

The bounds rule (:func:`~safeguarding.disclosure.secondary.bounds._lp_moves`)
solves programmes over a whole group's moves; the protection intervals
(:func:`~safeguarding.disclosure.secondary.intervals.reach_group`) then ask
the same region again, and searched for a first vertex of it from nothing
(on the benchmark's group of about 4,600 linked cells, 40 to 50 ms, in the
pass's longest chain of work). The check now hands on the last optimal
basis of its programme (:attr:`~.bounds.GroupCheck.basis`) and the
intervals start there. These tests check that:

* :meth:`~.lp.Programme.start_from` takes a basis of the same region (the
  optimum is the same, reached in fewer simplex iterations) and refuses
  one of another size (and then solves from nothing, as before);
* the answers of :func:`~.intervals.reach_group` are those of a fresh
  ``linprog`` per cell, with or without the basis, and a group whose
  intervals leave out rows (the bounds a reader is told) ignores it;
* a suppression hands each check's basis to its intervals (it did not),
  and the protected table is the same as when the intervals start afresh.
"""

from __future__ import annotations

import numpy as np
import pytest

from safeguarding.disclosure import Policy
from safeguarding.disclosure.secondary import driver
from safeguarding.disclosure.secondary.bounds import _lp_moves
from safeguarding.disclosure.secondary.intervals import reach_group
from safeguarding.disclosure.secondary.lp import Programme, Status
from safeguarding.disclosure.tables import protect_indicator_table
from tests.test_disclosure_large import small_council
from tests.test_disclosure_memo import _grid_group
from tests.test_disclosure_witness import _fresh_reach


def _region(group, scal) -> Programme:
    low = np.where(scal, -np.inf, group.lb - group.x)
    return Programme(group.A, np.zeros(group.A.shape[0]), low, np.full(group.n, np.inf), primal=True)


@pytest.mark.parametrize("seed", range(5))
def test_a_programme_started_from_another_ones_basis_reaches_the_same_optimum_sooner(seed: int) -> None:
    group, scal, _ = _grid_group(200 + seed, 8, 9)
    first = _region(group, scal)
    cols = np.flatnonzero(~scal & (group.x > 0))
    w = np.zeros(group.n)
    w[cols[0]] = 1.0
    assert first.maximise(w)[0] == Status.OPTIMAL
    basis = first.basis()
    assert basis is not None and basis[0].size == group.n and basis[1].size == group.A.shape[0]
    w = np.zeros(group.n)
    w[cols[-1]] = 1.0
    cold, warm = _region(group, scal), _region(group, scal)
    assert warm.start_from(basis)
    (s_cold, x_cold), (s_warm, x_warm) = cold.maximise(w), warm.maximise(w)
    assert s_cold == s_warm
    if s_cold == Status.OPTIMAL:
        assert x_cold[cols[-1]] == pytest.approx(x_warm[cols[-1]], abs=1e-7)
    iters = [p._highs.getInfo().simplex_iteration_count for p in (cold, warm)]
    assert iters[1] < iters[0], iters


def test_a_basis_of_another_region_is_refused() -> None:
    group, scal, _ = _grid_group(3, 4, 5)
    prog = _region(group, scal)
    assert not prog.start_from((np.zeros(group.n + 1, dtype=np.int8), np.zeros(group.A.shape[0], dtype=np.int8)))
    assert not prog.start_from((np.zeros(group.n, dtype=np.int8), np.zeros(group.A.shape[0] - 1, dtype=np.int8)))
    w = np.zeros(group.n)
    w[int(np.flatnonzero(~scal & (group.x > 0))[0])] = 1.0
    assert prog.maximise(w)[0] in (Status.OPTIMAL, Status.UNBOUNDED)
    unsolved = _region(group, scal)
    assert unsolved.basis() is None  # nothing asked yet: no vertex to hand on


@pytest.mark.parametrize("seed", range(8))
def test_intervals_from_the_checks_basis_answer_as_fresh_programmes(seed: int) -> None:
    group, scal, _ = _grid_group(60 + seed, 3 + seed % 4, 4 + seed % 3)
    _, _, top, basis = _lp_moves(group, scal, ~scal & (group.x > 0), {}, Policy(max_single_lps=group.n))
    assert basis is not None
    need = group.primary & ~scal
    cold, _ = reach_group(group, need, scal, top)
    warm, _ = reach_group(group, need, scal, top, basis)
    assert np.array_equal(cold, warm)
    assert np.array_equal(warm[need], _fresh_reach(group, need, scal)[need])


def test_intervals_that_leave_rows_out_start_afresh(monkeypatch) -> None:
    group, scal, _ = _grid_group(7, 4, 5)
    _, _, _, basis = _lp_moves(group, scal, ~scal & (group.x > 0), {}, Policy(max_single_lps=group.n))
    assert basis is not None
    started = []
    real = Programme.start_from
    monkeypatch.setattr(Programme, "start_from", lambda self, b: started.append(1) or real(self, b))
    need = group.primary & ~scal
    reach_group(group, need, scal, None, basis)
    assert started, "the fixture's intervals should start from the basis"
    started.clear()
    group.cap_rows = np.zeros(group.A.shape[0], dtype=bool)
    group.cap_rows[0] = True  # (as if the first row were a bound a reader is told: another region)
    reach_group(group, need, scal, None, basis)
    assert not started


@pytest.mark.parametrize("seed", [0, 1])
def test_a_suppression_hands_each_checks_basis_to_its_intervals(monkeypatch, seed: int) -> None:
    ind = small_council(seed)
    handed = []
    real = driver.reach_group

    def spy(group, need, scal, top=None, basis=None):
        handed.append(basis is not None)
        return real(group, need, scal, top, basis)

    monkeypatch.setattr(driver, "reach_group", spy)
    warm = protect_indicator_table(ind)
    assert any(handed), "a check that solved a whole-group programme should hand its basis on"
    monkeypatch.setattr(driver, "reach_group", lambda group, need, scal, top=None, basis=None:
                        real(group, need, scal, top))  # every interval check starts afresh
    cold = protect_indicator_table(ind)
    assert warm.shown.equals(cold.shown)
    assert np.array_equal(warm.report.suppressed, cold.report.suppressed)


# --- the bounds rule's whole-group programme starts from the elimination's basis -------------------------------
# Its first solve searched for a vertex from nothing (about 0.03 s on the benchmark's group of about 4,600 linked
# cells, in each of the last passes' longest chains of work). The elimination's pivot columns make a basis
# (:func:`~.bounds._echelon_start`). Every undecided column gets its own programme (up to the policy's
# ``max_single_lps``), so the columns shown are the same whichever vertex the solves meet (tests below).


@pytest.mark.parametrize("seed", range(6))
def test_the_elimination_gives_a_basis_that_reaches_the_same_optimum(seed: int) -> None:
    from scipy import sparse

    from safeguarding.disclosure.secondary.bounds import TOLERANCE, _echelon_start, _region
    from safeguarding.disclosure.secondary.exact import _Echelon

    group, scal, _ = _grid_group(700 + seed, 4 + seed % 4, 5 + seed % 3)
    at = (group.x - group.lb < TOLERANCE) & ~scal
    npub = group.published.size
    ech = _Echelon(sparse.hstack([group.A, group.P], format="csr"),
                   np.r_[np.where(scal, 0, np.where(at, 2, 1)), np.full(npub, 3)])
    ech.run(2)
    piv = np.array([c for c, _ in ech.pivots], dtype=int)
    start = _echelon_start(ech, group, piv, scal)
    assert start is not None
    cols, rows = start
    assert np.count_nonzero(cols == 1) + np.count_nonzero(rows == 1) == group.A.shape[0]  # one basic per row
    for j in np.flatnonzero(~scal & (group.x > 0))[:3]:
        for sign in (-1.0, 1.0):
            w = np.zeros(group.n)
            w[j] = sign
            cold = _region(group, scal, np.arange(group.n))[0]
            warm = _region(group, scal, np.arange(group.n))[0]
            assert warm.start_from(start)
            (s_cold, x_cold), (s_warm, x_warm) = cold.maximise(w), warm.maximise(w)
            assert s_cold == s_warm
            if s_cold == Status.OPTIMAL:
                assert w @ x_warm == pytest.approx(w @ x_cold, abs=1e-7)


def test_the_elimination_basis_is_where_the_whole_group_programme_starts(monkeypatch) -> None:
    group, scal, _ = _grid_group(11, 5, 6)
    todo = ~scal & (group.x > 0)
    started = []
    real = Programme.start_from
    monkeypatch.setattr(Programme, "start_from", lambda self, b: started.append(1) or real(self, b))
    start = (np.zeros(group.n, dtype=np.int8), np.ones(group.A.shape[0], dtype=np.int8))  # (the slack basis)
    few = _lp_moves(group, scal, todo, {}, Policy(max_single_lps=group.n), start)
    assert started == [1]
    started.clear()
    _lp_moves(group, scal, todo, {}, Policy(max_single_lps=int(todo.sum()) - 1), start)
    assert started == [1]  # (also where the limit leaves columns unasked: the moves met pick them there anyway)
    plain = _lp_moves(group, scal, todo, {}, Policy(max_single_lps=group.n))
    assert np.array_equal(few[0], plain[0])


@pytest.mark.parametrize("seed", [0, 1])
def test_a_suppression_is_the_same_with_the_elimination_basis_or_without(monkeypatch, seed: int) -> None:
    from safeguarding.disclosure.secondary import bounds

    ind = small_council(seed)
    used = []
    real = bounds._echelon_start
    monkeypatch.setattr(bounds, "_echelon_start", lambda *a: used.append(1) or real(*a))
    warm = protect_indicator_table(ind)
    assert used
    monkeypatch.setattr(bounds, "_echelon_start", lambda *a: None)
    cold = protect_indicator_table(ind)
    assert warm.shown.equals(cold.shown)
    assert np.array_equal(warm.report.suppressed, cold.report.suppressed)


# --- every undecided column is asked, and the programme is solved by the primal method -------------------------
# Found measuring the benchmark: its group of about 4,600 linked cells had 23 undecided columns for the programme
# over the whole group, and the policy's limit (10) asked only some; which ones depended on the vertices the solves
# met, and the others stayed hidden though a programme would have shown them. The default limit is now 100 (at
# most 23 are met there, 40 on the demo), and the region, asked one question after another, is solved by the
# primal simplex method from the elimination's basis (about 4 ms a solve on that group instead of 15).


def _fresh_wide(group, scal, todo: np.ndarray) -> np.ndarray:
    """Columns of ``todo`` whose range over the group's moves is at least 1: two fresh ``linprog`` each."""
    from scipy.optimize import linprog

    low = np.where(scal, -np.inf, group.lb - group.x)
    bounds = np.c_[low, np.full(group.n, np.inf)]
    out = np.zeros(group.n, dtype=bool)
    for j in np.flatnonzero(todo):
        ends = []
        for sign in (1.0, -1.0):  # lowest, then highest
            w = np.zeros(group.n)
            w[j] = sign
            ref = linprog(w, A_eq=group.A, b_eq=np.zeros(group.A.shape[0]), bounds=bounds, method="highs")
            assert ref.status in (0, 3)
            ends.append(sign * (-np.inf if ref.status == 3 else ref.fun))
        out[j] = ends[1] - ends[0] >= 1 - 1e-7
    return out


@pytest.mark.parametrize("seed", range(6))
def test_by_default_every_column_a_programme_can_move_is_shown(seed: int) -> None:
    group, scal, _ = _grid_group(seed, 5 + seed % 3, 6 + seed % 3)
    todo = ~scal & (group.x > 0)
    assert todo.sum() > 10  # more than the old limit asked
    wide, lps, _, _ = _lp_moves(group, scal, todo, {}, Policy())
    assert np.array_equal(wide, _fresh_wide(group, scal, todo))
    assert 0 < lps <= 2 * todo.sum()


@pytest.mark.parametrize("seed", range(4))
def test_the_columns_shown_do_not_depend_on_the_start_or_the_simplex_method(monkeypatch, seed: int) -> None:
    from safeguarding.disclosure.secondary import bounds

    group, scal, _ = _grid_group(40 + seed, 6, 7)
    todo = ~scal & (group.x > 0)
    methods = []
    real = Programme.__init__

    def spy(self, *a, primal=False, **k):
        methods.append(primal)
        real(self, *a, primal=primal, **k)

    monkeypatch.setattr(Programme, "__init__", spy)
    slack = (np.zeros(group.n, dtype=np.int8), np.ones(group.A.shape[0], dtype=np.int8))
    primal = [_lp_moves(group, scal, todo, {}, Policy(), start)[0] for start in (None, slack)]
    assert methods == [True, True]  # (one programme each, over the whole group, by the primal method)
    real_region = bounds._region
    monkeypatch.setattr(bounds, "_region", lambda g, s, c, primal=False: real_region(g, s, c))  # the dual method
    dual = _lp_moves(group, scal, todo, {}, Policy())[0]
    assert methods[-1] is False
    assert np.array_equal(primal[0], primal[1]) and np.array_equal(primal[0], dual)


# --- a check that solved no programme over the whole group hands its intervals the elimination's basis -----------
# Found measuring the benchmark: most checks of groups of 250 to 3,000 cells show every cell without a programme over
# the whole group, so their protection intervals had no basis and each group's first solve searched for a vertex
# from nothing (0.26 s of the 0.64 s those groups' programmes took; 0.10 s from the elimination's basis).


@pytest.mark.parametrize("seed", range(6))
def test_a_check_without_a_whole_group_programme_hands_on_the_elimination_basis(seed: int) -> None:
    from scipy import sparse

    from safeguarding.disclosure.secondary.bounds import TOLERANCE, _check_group, _echelon_start
    from safeguarding.disclosure.secondary.exact import _Echelon

    group, scal, _ = _grid_group(seed, 4 + seed % 2, 5 + seed % 2)
    check = _check_group(group, np.zeros(group.n, dtype=bool), Policy())
    assert check.lps == 0 and check.need is not None and check.need.any()  # (the case: intervals, no programme)
    assert check.basis is not None
    at = (group.x - group.lb < TOLERANCE) & ~scal
    ech = _Echelon(sparse.hstack([group.A, group.P], format="csr"),
                   np.r_[np.where(scal, 0, np.where(at, 2, 1)), np.full(group.published.size, 3)])
    ech.run(2)
    expected = _echelon_start(ech, group, np.array([c for c, _ in ech.pivots], dtype=int), scal)
    assert expected is not None
    assert all(np.array_equal(a, b) for a, b in zip(check.basis, expected, strict=True))
    assert _region(group, scal).start_from(check.basis)  # a basis of the intervals' region: HiGHS takes it
    warm, _ = reach_group(group, check.need, scal, check.top, check.basis)
    assert np.array_equal(warm[check.need], _fresh_reach(group, check.need, scal)[check.need])
    cold, _ = reach_group(group, check.need, scal, check.top)
    assert np.array_equal(warm, cold)
