"""Witnesses: moves found by the bounds rule's programmes spare the protection-interval programmes.

:func:`~safeguarding.disclosure.secondary.bounds._lp_moves` returns, per
column, the largest rise over the moves it found and checked
(:func:`~safeguarding.disclosure.secondary.bounds._feasible_move`);
:func:`~safeguarding.disclosure.secondary.intervals.reach_group` decides a
small count already seen above the ceiling without a programme of its own.
These tests check that the answers are those of the plain computation (with
no witnesses, and against a fresh ``linprog`` per cell), that fewer
programmes are solved, and that a move breaking a relation or a bound by
more than the tolerance is never taken as a witness. And the interval
check's own programmes, asked with the other open small counts nudged up
(:data:`~safeguarding.disclosure.policy.INTERVAL_NUDGE`), decide what
programmes asked one cell alone decide.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import linprog

from safeguarding.disclosure import Policy
from safeguarding.disclosure.policy import INTERVAL_NUDGE
from safeguarding.disclosure.secondary.bounds import _check_group, _feasible_move, _lp_moves
from safeguarding.disclosure.secondary.intervals import _capped, _one_by_one, reach_group
from tests.test_disclosure_memo import _grid_group, _grid_system, _only_group


def _fresh_reach(group, need: np.ndarray, scal: np.ndarray) -> np.ndarray:
    """Can each column of ``need`` rise above the ceiling? One fresh ``linprog`` per column (the reference)."""
    low = np.where(scal, -np.inf, group.lb - group.x)
    rise = group.ceiling + 1 - group.x
    out = np.zeros(group.n, dtype=bool)
    for j in np.flatnonzero(need):
        w = np.zeros(group.n)
        w[j] = -1.0
        ref = linprog(w, A_eq=group.A, b_eq=np.zeros(group.A.shape[0]), bounds=np.c_[low, np.full(group.n, np.inf)],
                      method="highs")
        out[j] = ref.status == 3 or (ref.status == 0 and -ref.fun >= rise[j] - 1e-7)
    return out


@pytest.mark.parametrize("seed", range(8))
def test_witnesses_change_no_answer_and_spare_programmes(seed: int) -> None:
    group, scal, _ = _grid_group(50 + seed, 3 + seed % 3, 4 + seed % 2)
    todo = ~scal & (group.x > 0)
    # the bounds rule's programmes over the whole group (no columns "near": every column gets its own)
    policy = Policy(max_single_lps=group.n)
    _, lps, top, _ = _lp_moves(group, scal, todo, {}, policy)
    assert lps > 0 and top.shape == (group.n,) and (top >= 0).all()
    need = group.primary & ~scal
    plain, plain_lps = reach_group(group, need, scal)
    seen, seen_lps = reach_group(group, need, scal, top)
    assert (seen == plain).all()
    assert (plain == _fresh_reach(group, need, scal))[need].all()
    assert seen_lps <= plain_lps
    # every witness is a move that fits: its rise never exceeds the column's largest
    low = np.where(scal, -np.inf, group.lb - group.x)
    for j in np.flatnonzero(need):
        w = np.zeros(group.n)
        w[j] = -1.0
        ref = linprog(w, A_eq=group.A, b_eq=np.zeros(group.A.shape[0]), bounds=np.c_[low, np.full(group.n, np.inf)],
                      method="highs")
        assert ref.status == 3 or top[j] <= -ref.fun + 1e-7


def test_witnesses_spare_programmes_somewhere() -> None:
    """Over the seeds above, at least one small count is decided by a witness alone."""
    spared = 0
    for seed in range(8):
        group, scal, _ = _grid_group(50 + seed, 3 + seed % 3, 4 + seed % 2)
        _, _, top, _ = _lp_moves(group, scal, ~scal & (group.x > 0), {}, Policy(max_single_lps=group.n))
        need = group.primary & ~scal
        spared += reach_group(group, need, scal)[1] - reach_group(group, need, scal, top)[1]
    assert spared > 0


@pytest.mark.parametrize("seed", range(4))
def test_check_group_hands_on_its_witnesses(seed: int) -> None:
    rng = np.random.default_rng(seed)
    system, hidden = _grid_system(rng, 3, 4)
    group = _only_group(system, hidden)
    known = np.zeros(group.n, dtype=bool)
    check = _check_group(group, known, Policy())
    assert check.top is None or check.top.shape == (group.n,)
    if check.need is not None and check.need.any():
        plain, _ = reach_group(group, check.need, check.scal)
        seen, _ = reach_group(group, check.need, check.scal, check.top)
        assert (plain == seen).all()


def test_a_move_off_by_more_than_the_tolerance_is_no_witness() -> None:
    # y1 + y2 = published total: moves keep d1 + d2 = 0; both cells at least 1 below their value 3 -> d >= -2
    A = sparse.csr_matrix(np.array([[1.0, 1.0]]))
    low = np.array([-2.0, -2.0])
    for d in ([2.0, -2.0], [2.0 + 1e-12, -2.0], [2.5, -2.5 + 1e-11], [2.5, -2.4]):
        move = _feasible_move(A, low, np.array(d))  # exact, rounds to a table that fits, or within 1e-9 relative
        assert move is not None and abs(float((A @ move)[0])) <= 1e-8 and (move >= low - 1e-8).all(), d
    assert _feasible_move(A, low, np.array([2.6, -2.3])) is None  # breaks the relation, rounded or not
    assert _feasible_move(A, low, np.array([1.5, -1.5 + 1e-6])) is None  # by more than the tolerance
    assert _feasible_move(A, low, np.array([3.0, -3.0])) is None  # takes a cell below 1
    # reach_group believes only the witnesses it is given: a rise short of the ceiling decides nothing
    group, scal, _ = _grid_group(2, 3, 4)
    need = group.primary & ~scal
    rise = group.ceiling + 1 - group.x
    short = np.where(need, rise - 1e-3, 0.0)
    assert (reach_group(group, need, scal, short)[0] == reach_group(group, need, scal)[0]).all()
    assert reach_group(group, need, scal, short)[1] == reach_group(group, need, scal)[1]


@pytest.mark.parametrize("seed", range(8))
def test_nudged_programmes_decide_what_lone_ones_do(seed: int) -> None:
    """Asking each small count with the others nudged up (then alone if need be) changes no answer."""
    group, scal, _ = _grid_group(80 + seed, 3 + seed % 3, 4 + seed % 3)
    need = group.primary & ~scal
    answers = {}
    for nudge in (0.0, INTERVAL_NUDGE, 1.0):
        ok = np.zeros(group.n, dtype=bool)
        done = _capped(group, need, scal)
        _one_by_one((group, need, scal), ok, done, nudge)
        answers[nudge] = ok & need
    assert (answers[0.0] == answers[INTERVAL_NUDGE]).all() and (answers[0.0] == answers[1.0]).all()
    assert (answers[0.0] == _fresh_reach(group, need, scal))[need].all()
