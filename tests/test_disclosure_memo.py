"""The speed-ups of the secondary suppression decide what the plain computations decide.

* :mod:`~safeguarding.disclosure.secondary.memo`: a group check is reused
  only for a group of the same content (a change in any value, bound,
  coefficient or known column is a new key), and runs sharing a memo
  suppress exactly what fresh runs do, including a run over other values
  of the same structure (a key that ignored the values would reuse the
  wrong answers there);
* :func:`~safeguarding.disclosure.secondary.intervals.reach_group` (primal
  simplex, one programme per group) against a fresh ``linprog`` per small
  count: can it rise above the threshold?
* :func:`~safeguarding.disclosure.secondary.bounds._residual_rule`
  (vectorised) against the relation-by-relation loop it replaced.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from safeguarding.disclosure import Policy
from safeguarding.disclosure.policy import TOLERANCE
from safeguarding.disclosure.secondary.bounds import _residual_rule
from safeguarding.disclosure.secondary.exact import _Group
from safeguarding.disclosure.secondary.intervals import reach_group
from safeguarding.disclosure.secondary.memo import CheckMemo, content_key
from safeguarding.disclosure.secondary.system import _coefficients, _components, _incidence, _System
from safeguarding.disclosure.tables import protect_indicator_table
from tests.test_disclosure_large import small_council


def _grid_system(rng: np.random.Generator, rows: int = 3, cols: int = 4, top: int = 5) -> tuple[_System, np.ndarray]:
    """A rows x cols table of small counts with row and column totals (and the grand total); all inner cells hidden."""
    body = rng.integers(0, top + 1, size=(rows, cols)).astype(float)
    values = np.r_[body.ravel(), body.sum(axis=1), body.sum(axis=0), body.sum()]
    system = _System(values)
    n = rows * cols
    for r in range(rows):
        system.add([n + r, *range(r * cols, (r + 1) * cols)], [-1.0] + [1.0] * cols, [False] + [True] * cols)
    for c in range(cols):
        system.add([n + rows + c, *range(c, n, cols)], [-1.0] + [1.0] * rows, [False] + [True] * rows)
    system.add([len(values) - 1, *range(n, n + rows)], [-1.0] + [1.0] * rows, [False] + [True] * rows)
    hidden = np.zeros(len(values), dtype=bool)
    hidden[:n] = True
    return system, hidden


def _only_group(system: _System, hidden: np.ndarray) -> _Group:
    cells, cons = _components(system, hidden, _incidence(system))[0]
    return _Group(system, cells, cons, _coefficients(system), system.equalities(), hidden, (1, 5))


def _grid_group(seed: int, rows: int, cols: int) -> tuple[_Group, np.ndarray, np.ndarray]:
    """The group of a :func:`_grid_system` (seeded), its scaling set and its small counts outside it."""
    system, hidden = _grid_system(np.random.default_rng(seed), rows, cols)
    group = _only_group(system, hidden)
    scal = group.scaling_set()
    return group, scal, group.primary & ~scal


def test_the_key_is_the_content() -> None:
    a_sys, a_hid = _grid_system(np.random.default_rng(1))
    b_sys, b_hid = _grid_system(np.random.default_rng(1))  # built again: same content
    a, b = _only_group(a_sys, a_hid), _only_group(b_sys, b_hid)
    known = np.zeros(a.n, dtype=bool)
    assert content_key(a, known) == content_key(b, known)
    changed = [content_key(a, known, extra=("other",)), content_key(a, ~known)]
    for attr in ("x", "lb"):
        setattr(b, attr, getattr(b, attr).copy())
        getattr(b, attr)[0] += 1
        changed.append(content_key(b, known))
        getattr(b, attr)[0] -= 1
    b.A = b.A.copy()
    b.A.data[0] = 2.0
    changed.append(content_key(b, known))
    assert content_key(a, known) not in changed and len(set(changed)) == len(changed)


def test_a_memo_returns_copies() -> None:
    memo = CheckMemo()
    first, reused = memo.get(b"k", lambda: np.zeros(3))
    first[0] = 9.0  # the caller changes what it got
    again, reused_again = memo.get(b"k", lambda: np.ones(3))
    assert not reused and reused_again and again.tolist() == [0.0, 0.0, 0.0]
    assert (memo.hits, memo.misses) == (1, 1)


def _protect(ind: pd.DataFrame, memo: CheckMemo | None) -> pd.DataFrame:
    return protect_indicator_table(ind, policy=Policy(), memo=memo).shown


@pytest.mark.parametrize("seed", [3, 4])
def test_runs_sharing_a_memo_suppress_what_fresh_runs_do(seed: int) -> None:
    ind = small_council(seed, indicators=2, years=1)
    other = small_council(seed + 100, indicators=2, years=1)  # same structure, other counts
    memo = CheckMemo()
    first = _protect(ind, memo)
    misses = memo.misses
    pd.testing.assert_frame_equal(first, _protect(ind, None))
    pd.testing.assert_frame_equal(_protect(ind, memo), first)  # the same table again: every check reused
    assert memo.hits >= misses > 0 and memo.misses == misses
    pd.testing.assert_frame_equal(_protect(other, memo), _protect(other, None))


@pytest.mark.parametrize("seed", range(6))
def test_reach_group_matches_a_fresh_linprog_per_cell(seed: int) -> None:
    rng = np.random.default_rng(seed)
    system, hidden = _grid_system(rng, 3 + seed % 2, 4)
    group = _only_group(system, hidden)
    scal = group.scaling_set()
    need = group.primary & ~scal
    ok, _ = reach_group(group, need, scal)
    low = np.where(scal, -np.inf, group.lb - group.x)
    rise = group.ceiling + 1 - group.x
    for j in np.flatnonzero(need):
        w = np.zeros(group.n)
        w[j] = -1.0
        ref = linprog(w, A_eq=group.A, b_eq=np.zeros(group.A.shape[0]), bounds=np.c_[low, np.full(group.n, np.inf)],
                      method="highs")
        can = ref.status == 3 or (ref.status == 0 and -ref.fun >= rise[j] - 1e-7)
        assert ok[j] == can, (j, group.x[j], ref.status, getattr(ref, "fun", None))
    assert need.any(), "fixture should hold small counts to check"


def _residual_loop(system: _System, cons: list[int], suppressed: np.ndarray) -> list[int]:
    """The relation-by-relation rule as it was written before (the reference)."""
    out = []
    free_all = system.free_slack()
    for k in cons:
        idx, coef, _ = system.constraints[k]
        hid = suppressed[idx]
        free = free_all[idx]
        real = hid & ~free
        if hid.sum() < 2 or hid.sum() == len(idx) or not real.any():
            continue
        if not np.all(coef[hid] == coef[hid][0]):
            continue
        rest = -float(np.dot(coef[~hid], system.values[idx][~hid])) * coef[hid][0]
        lbs = np.where((system.values[idx][hid] >= 1) & ~free[hid], 1.0, 0.0)
        if rest <= lbs.sum() + TOLERANCE:
            out.append(int(idx[real][0]))
    return out


@pytest.mark.parametrize("seed", range(8))
def test_residual_rule_matches_the_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    system, _ = _grid_system(rng, 4, 5, top=2)  # counts of 0 to 2: many relations at their bounds
    system.add_many_at_most(np.array([0, 1, 2]), np.array([5, 6, 7]))  # slack cells, coefficients of -1
    hidden = rng.random(len(system.values)) < 0.6
    hidden[len(hidden) - 3:] = True  # the slack cells are never published
    cons = list(range(len(system.constraints)))
    got = _residual_rule(system, [], cons, hidden)
    assert got == _residual_loop(system, cons, hidden)
    assert _residual_rule(system, [], [], hidden) == []
    some = [int(k) for k in rng.permutation(len(cons))[: len(cons) // 2]]  # a group's relations, in any order
    assert _residual_rule(system, [], some, hidden) == _residual_loop(system, some, hidden)


def test_the_residual_fixture_finds_cells() -> None:
    found = 0
    for seed in range(8):
        rng = np.random.default_rng(seed)
        system, _ = _grid_system(rng, 4, 5, top=2)
        system.add_many_at_most(np.array([0, 1, 2]), np.array([5, 6, 7]))
        hidden = rng.random(len(system.values)) < 0.6
        hidden[len(hidden) - 3:] = True
        found += len(_residual_loop(system, list(range(len(system.constraints))), hidden))
    assert found >= 8, found


def test_checks_started_ahead_in_another_process_give_the_same_suppression(monkeypatch) -> None:
    """workers=2 starts each pass's group checks in a forked process; every cell and count of stats is unchanged."""
    from safeguarding.disclosure import suppress_indicator_table
    from safeguarding.disclosure.secondary import memo as memo_module

    ind = small_council(5, indicators=2)
    one_stats: dict = {}
    one = suppress_indicator_table(ind, stats=one_stats, workers=1)
    started = []
    real = memo_module.ProcessPoolExecutor

    class Recorded(real):
        def submit(self, fn, /, *args, **kwargs):
            started.append(fn.__name__)
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(memo_module, "ProcessPoolExecutor", Recorded)
    two_stats: dict = {}
    two = suppress_indicator_table(ind, stats=two_stats, workers=2)
    assert "_check_group" in started, "the group checks were started in the worker"
    pd.testing.assert_frame_equal(one, two)
    assert one_stats == two_stats


def test_a_check_started_ahead_is_counted_as_the_memo_counts_it_and_the_pool_is_stopped() -> None:
    memo = CheckMemo()
    memo.get(b"held", abs, -1)
    memo.prefetch([(b"held", abs, (-2,)), (b"a", abs, (-3,)), (b"b", abs, (-4,)), (b"a", abs, (-3,))], workers=2)
    assert set(memo._pending) == {b"a", b"b"}, "only checks the memo does not hold are started, each once"
    assert memo.get(b"b", abs, -4) == (4, False) and memo.get(b"a", abs, -3) == (3, False)
    assert (memo.hits, memo.misses) == (0, 3)
    memo.prefetch([(b"c", abs, (-5,)), (b"d", abs, (-6,))], workers=2)
    memo.close()
    assert memo._pool is None and not memo._pending
    assert memo.get(b"c", abs, -5) == (5, False), "a check dropped unasked is done when asked"


def test_groups_of_hidden_cells_in_order_of_their_first_cell():
    """``_components``: linked hidden cells grouped, groups in the order of their first (lowest) cell, cells and
    relations ascending, a hidden cell in no relation alone, a group of inequality slack only left out."""
    system = _System([5, 3, 2, 7, 4, 3, 9, 1, 1])
    system.add([0, 1, 2], [1, -1, -1], [False, True, True])  # relation 0: 5 = 3 + 2
    system.add([3, 4, 5], [1, -1, -1], [False, True, True])  # relation 1: 7 = 4 + 3
    system.add([6, 2, 8], [1, -1, -1], [False, True, True])  # relation 2 links cell 8 to cell 2
    system.add_many_at_most(np.array([7]), np.array([6]))  # relation 3: 9 - 1 - s = 0, slack cell 9
    hidden = np.zeros(len(system.values), dtype=bool)
    hidden[[8, 4, 1, 2, 5, 9, 0]] = True
    got = _components(system, hidden, _incidence(system))
    # 0, 1, 2 (relation 0) and 8 (relation 2, through 2); 4 and 5 (relation 1); slack 9 alone: left out
    assert got == [([0, 1, 2, 8], [0, 2]), ([4, 5], [1])]
    hidden[3] = True
    hidden[7] = True  # 7 joins the slack cell 9 through relation 3: the group has a real cell, so it is kept
    got = _components(system, hidden, _incidence(system))
    assert got == [([0, 1, 2, 8], [0, 2]), ([3, 4, 5], [1]), ([7, 9], [3])]


def _slow_check(tag: object, seconds: float) -> tuple[object, int, float]:
    """A stand-in for a group check: takes ``seconds``; says where and when it finished."""
    import os
    import time

    time.sleep(seconds)
    return tag, os.getpid(), time.monotonic()


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork")
def test_waiting_for_a_check_under_way_the_driver_does_the_next_ones_not_begun():
    """While the driver waits for a check another process is doing, it does the checks nobody has begun (from
    the start of the list; the other process works from its end), instead of sitting idle; each result is
    still taken, and counted, when it is asked for."""
    import os

    memo = CheckMemo()
    small = [(bytes([i]), _slow_check, (i, 0.05)) for i in range(8)]
    asks = [*small, (b"big", _slow_check, ("big", 2.0))]
    memo.prefetch(asks, 2)  # the other process begins with the last: "big"
    try:
        import time

        deadline = time.monotonic() + 10
        while not memo._pending[b"big"].running() and time.monotonic() < deadline:
            time.sleep(0.01)
        (tag, pid, big_done), reused = memo.get(b"big", _slow_check, "big", 2.0)
        assert tag == "big" and pid != os.getpid() and not reused
        results = [memo.get(key, f, *args)[0] for key, f, args in small]
    finally:
        memo.close()
    assert [r[0] for r in results] == list(range(8))
    here = [r for r in results if r[1] == os.getpid()]
    # the first ones were done here while "big" was under way, not after it
    assert len(here) >= 4 and all(r[2] < big_done for r in here), results
    assert memo.misses == 9 and memo.hits == 0


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork")
def test_the_other_process_begins_with_the_heaviest_check():
    """With weights, the other process begins with the heaviest check, wherever it is in the list (without
    them it works from the end, and a heavy check at the start is left to this process); results unchanged."""
    import os
    import time

    for weighed in (True, False):
        memo = CheckMemo()
        # the light ones take the other process 0.9 s in all: it has not reached "heavy" when it is asked for
        asks = [(b"heavy", _slow_check, ("heavy", 0.6))] + [(bytes([i]), _slow_check, (i, 0.15)) for i in range(6)]
        memo.prefetch(asks, 2, weights=[10.0] + [1.0] * 6 if weighed else None)
        try:
            time.sleep(0.3)  # the other process has begun
            (tag, pid, _), _ = memo.get(b"heavy", _slow_check, "heavy", 0.6)
            rest = [memo.get(key, f, *args)[0][0] for key, f, args in asks[1:]]
        finally:
            memo.close()
        assert tag == "heavy" and rest == list(range(6))
        assert (pid != os.getpid()) == weighed, (weighed, pid)


@pytest.mark.parametrize("seed", range(6))
def test_linked_worlds_answer_as_a_search_through_the_relations_would(seed):
    """Issue 19: whether a protected published figure is linked to a stuck cell was a breadth-first search in
    Python, run again for every world (0.6 s of the demo's disclosure). The worlds are now found once, as
    connected components; each answer is checked here against a plain search through the relations (the cell
    asked about left out, every other cell of its world in), on random systems with cells in no relation."""
    from safeguarding.disclosure.secondary.driver import _only_protected_left, _Worlds
    from safeguarding.disclosure.secondary.system import _incidence, _System

    rng = np.random.default_rng(seed)
    n = 60
    system = _System(rng.integers(0, 9, n).astype(float))
    for _ in range(25):
        cells = rng.choice(n - 5, size=int(rng.integers(2, 5)), replace=False)  # the last five in no relation
        system.add(cells, np.r_[1.0, -np.ones(len(cells) - 1)], np.r_[False, np.ones(len(cells) - 1, bool)])
    system.protected[:] = rng.random(n) < 0.15
    suppressed = rng.random(n) < 0.5

    def search(cell):
        seen, frontier, found = {cell}, [cell], False
        while frontier:
            c = frontier.pop()
            for idx, _, _ in system.constraints:
                if c in idx:
                    for o in map(int, idx):
                        if o not in seen:
                            seen.add(o)
                            found = found or bool(not suppressed[o] and system.protected[o])
                            frontier.append(o)
        return found

    worlds = _Worlds(system, _incidence(system))
    answers = [_only_protected_left(system, c, suppressed, worlds, {}) for c in range(n)]
    assert answers == [search(c) for c in range(n)]
    assert not any(answers[n - 5:]), "a cell in no relation has nothing linked to it"
    assert any(answers) and not all(answers), "the random systems test both answers"
