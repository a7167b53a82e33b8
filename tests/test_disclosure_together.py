"""A group with many open small counts first raises them all at once, in one programme.

The protection intervals (:func:`~safeguarding.disclosure.secondary.intervals.reach_group`)
asked each open small count of a group on its own, two programmes for most
(nudged, then alone): on the benchmark's group of about 4,500 linked cells,
214 programmes and half a second in the pass's longest chain of work.
:func:`~.intervals._all_at_once` first maximises the sum of the shares of
their rise that the open counts reach; its optimal table is a witness for
every count it raises enough, and only the others are asked alone. These
tests check that:

* every count it marks can rise above the ceiling (a fresh ``linprog`` per
  count, the reference), and it marks some on a table where many can;
* the answers of ``reach_group`` are the same whether the counts are first
  raised together or not, and are the reference's;
* where every open count can rise at once, its one programme shows them
  all, and ``reach_group`` uses it for a group with at least
  :data:`~safeguarding.disclosure.policy.INTERVAL_TOGETHER` open counts
  only (on a grid of small counts, where each can rise only at the others'
  expense, it shows few: it only pays on large groups, which the benchmark
  measures);
* the basis of the bounds rule's programme, widened by the new columns and
  rows (:func:`~.lp.widened`), is taken as a start and leads to the same
  optimum.
"""

from __future__ import annotations

import numpy as np
import pytest

from safeguarding.disclosure import Policy
from safeguarding.disclosure.secondary import intervals
from safeguarding.disclosure.secondary.bounds import _lp_moves
from safeguarding.disclosure.secondary.intervals import _all_at_once, reach_group
from safeguarding.disclosure.secondary.lp import Programme, Status, widened
from safeguarding.disclosure.secondary.system import _System
from tests.test_disclosure_memo import _grid_group, _only_group
from tests.test_disclosure_witness import _fresh_reach


def _star(rng: np.random.Generator, k: int, large: float = 1000.0):
    """One published total of ``k`` hidden small counts and one large hidden count: every small count can rise
    above the ceiling at once (the large one gives way)."""
    small = rng.integers(1, 6, size=k).astype(float)
    values = np.r_[small, large, small.sum() + large]
    system = _System(values)
    system.add([k + 1, *range(k + 1)], [-1.0] + [1.0] * (k + 1), [False] + [True] * (k + 1))
    hidden = np.r_[np.ones(k + 1, dtype=bool), False]
    group = _only_group(system, hidden)
    scal = group.scaling_set()
    return group, scal, group.primary & ~scal


@pytest.mark.parametrize("seed", range(6))
def test_every_count_raised_together_can_rise_above_the_ceiling(seed: int) -> None:
    group, scal, need = _grid_group(300 + seed, 5 + seed % 3, 6 + seed % 2)
    ok = np.zeros(group.n, dtype=bool)
    done = np.zeros(group.n, dtype=bool)
    assert _all_at_once((group, need, scal), ok, done) == 1
    assert not (ok & ~_fresh_reach(group, need, scal)).any(), "a count marked that cannot rise above the ceiling"
    assert not (ok & ~need).any() and not done.any()  # it decides no count that cannot rise


@pytest.mark.parametrize("k", [5, 80])
def test_where_all_can_rise_at_once_one_programme_shows_them_all(k: int) -> None:
    group, scal, need = _star(np.random.default_rng(k), k)
    assert need.sum() == k
    ok = np.zeros(group.n, dtype=bool)
    _all_at_once((group, need, scal), ok, np.zeros(group.n, dtype=bool))
    assert np.array_equal(ok, need)
    assert np.array_equal(ok[need], _fresh_reach(group, need, scal)[need])


@pytest.mark.parametrize("seed", range(8))
def test_the_answers_are_the_same_raised_together_or_one_by_one(monkeypatch, seed: int) -> None:
    group, scal, need = _grid_group(400 + seed, 3 + seed % 4, 4 + seed % 3)
    monkeypatch.setattr(intervals, "INTERVAL_TOGETHER", 1)  # every group: together first
    together, _ = reach_group(group, need, scal)
    monkeypatch.setattr(intervals, "INTERVAL_TOGETHER", 10 ** 9)  # never
    alone, _ = reach_group(group, need, scal)
    assert np.array_equal(together, alone)
    assert np.array_equal(together[need], _fresh_reach(group, need, scal)[need])


def test_a_group_with_many_open_counts_raises_them_together_first(monkeypatch) -> None:
    group, scal, need = _star(np.random.default_rng(5), intervals.INTERVAL_TOGETHER + 20)
    small, small_scal, small_need = _star(np.random.default_rng(6), intervals.INTERVAL_TOGETHER - 1)
    raised = []
    real = intervals._all_at_once
    monkeypatch.setattr(intervals, "_all_at_once", lambda *a, **k: raised.append(a[0][0].n) or real(*a, **k))
    ok, lps = reach_group(group, need, scal)
    assert raised == [group.n] and lps == 1  # one programme decided every count
    assert np.array_equal(ok, need)
    raised.clear()
    ok, _ = reach_group(small, small_need, small_scal)
    assert not raised  # fewer open counts than the policy's INTERVAL_TOGETHER: each asked on its own
    assert np.array_equal(ok, small_need)


@pytest.mark.parametrize("seed", range(4))
def test_the_widened_basis_is_taken_and_reaches_the_same_optimum(seed: int) -> None:
    group, scal, need = _grid_group(500 + seed, 6, 7)
    _, _, _, basis = _lp_moves(group, scal, ~scal & (group.x > 0), {}, Policy(max_single_lps=group.n))
    assert basis is not None
    from scipy import sparse

    low = np.where(scal, -np.inf, group.lb - group.x)
    rise = group.ceiling + 1 - group.x
    open_ = np.flatnonzero(need)
    k, (m, n) = open_.size, group.A.shape
    at = np.arange(k)
    shares = sparse.csr_matrix((np.r_[-np.ones(k), rise[open_]], (np.r_[at, at], np.r_[open_, n + at])),
                               shape=(k, n + k))

    def programme() -> Programme:
        return Programme(sparse.hstack([group.A, sparse.csr_matrix((m, k))], format="csr"), np.zeros(m),
                         np.r_[low, np.zeros(k)], np.r_[np.full(n, np.inf), np.ones(k)], A_ub=shares,
                         b_ub=np.zeros(k))

    w = np.r_[np.zeros(n), np.ones(k)]
    cold, warm = programme(), programme()
    assert warm.start_from(widened(basis, k, k))
    (s_cold, x_cold), (s_warm, x_warm) = cold.maximise(w), warm.maximise(w)
    assert s_cold == s_warm == Status.OPTIMAL
    assert w @ x_warm == pytest.approx(w @ x_cold, abs=1e-6)
    assert not warm.start_from(widened(basis, k + 1, k))  # another size: refused
