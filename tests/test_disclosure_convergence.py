"""Issue 14's speed, from the way the secondary suppression converges, each step against an independent reference.

Found by tracing the benchmark's passes: one count (46) was pinned in 11 passes running, each giving it a new
partner that did not help; the main process was busy 2.8 s against the other process's 6.8 s; and the protection
intervals solved one programme after another for small counts that the first failure had already shown could
not rise.

* **Tied sources** (:meth:`~safeguarding.disclosure.secondary.exact._Echelon.tied`): a published cell in a
  relation among published cells alone (once the hidden ones are solved for) never frees a pinned cell on its
  own: the reader works it out another way. A cell pinned again after such a partner (the cheapest, by the
  policy's costs) gets one of the other sources. Checked by ranks (numpy), not by the elimination.
* **Proofs that hold small counts down** (:func:`~safeguarding.disclosure.secondary.intervals._held_down`): a
  combination of relations from a failed programme's duals bounds other counts too; every count it reports
  is checked against its own ``linprog`` maximum.
* **One check at a time for the other process** (:meth:`~safeguarding.disclosure.secondary.memo.CheckMemo.
  prefetch`): the executor claimed two checks at once, so the second heaviest could never be done by the
  process waiting for the first. And each pass's two largest checks are started before the other groups are
  built (a prefetch given in parts, ``more``): the other process sat idle while every group was built.
* What only saves time gives what it replaced: intervals asked in two parts (``reach_split``), integer moves
  only of the vectors that move a column asked about (``bounds._moving``), the groups of hidden cells
  (``_components``) and the relations by cell and the system's matrices built from arrays.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from scipy.optimize import linprog

from safeguarding.disclosure import Policy
from safeguarding.disclosure.secondary import driver
from safeguarding.disclosure.secondary.bounds import _check_group
from safeguarding.disclosure.secondary.exact import _Echelon, _Group
from safeguarding.disclosure.secondary.intervals import _held_down, _moves_region, _region_matrix
from safeguarding.disclosure.secondary.memo import CheckMemo
from safeguarding.disclosure.secondary.system import _coefficients, _components, _incidence, _System
from safeguarding.disclosure.tables import protect_indicator_table
from tests.test_disclosure_large import small_council
from tests.test_disclosure_memo import _grid_system, _only_group


def _rank(m: np.ndarray) -> int:
    return int(np.linalg.matrix_rank(m)) if m.size else 0


@pytest.mark.parametrize("seed", range(12))
def test_tied_published_cells_are_those_outside_the_hidden_columns_span(seed: int) -> None:
    """A published column is tied exactly when it is not a combination of the hidden columns (ranks)."""
    rng = np.random.default_rng(seed)
    m, h, p = int(rng.integers(3, 9)), int(rng.integers(2, 7)), int(rng.integers(2, 6))
    dense = rng.choice([-1, 0, 0, 1], size=(m, h + p)).astype(float)
    ech = _Echelon(sparse.csr_matrix(dense), np.r_[np.ones(h, dtype=int), np.full(p, 3)])
    ech.run(2)
    got = ech.tied(h)
    hidden = dense[:, :h]
    want = np.array([_rank(np.c_[hidden, dense[:, h + k]]) > _rank(hidden) for k in range(p)])
    assert np.array_equal(got, want), (dense, got, want)


@pytest.mark.parametrize("seed", range(12))
def test_hiding_a_tied_source_never_frees_a_pinned_cell_and_an_untied_one_does(seed: int) -> None:
    """The claim the partner choice rests on, by ranks: a hidden column ``j`` is determined when ``e_j`` lies in
    the row space of the hidden columns; hiding published ``k`` leaves it determined when ``k`` is tied, and
    frees it when ``k`` is untied and in ``j``'s expression."""
    rng = np.random.default_rng(100 + seed)
    found = 0
    for _ in range(200):
        m, h, p = int(rng.integers(3, 8)), int(rng.integers(2, 6)), int(rng.integers(2, 6))
        dense = rng.choice([-1, 0, 0, 1], size=(m, h + p)).astype(float)
        hidden, pub = dense[:, :h], dense[:, h:]
        ech = _Echelon(sparse.csr_matrix(dense), np.r_[np.ones(h, dtype=int), np.full(p, 3)])
        ech.run(2)
        tied = ech.tied(h)
        r = _rank(hidden)
        for j in range(h):
            if _rank(np.r_[hidden, np.eye(h)[j:j + 1]]) != r:
                continue  # not determined
            y = np.linalg.lstsq(hidden.T, np.eye(h)[j], rcond=None)[0]  # a combination giving e_j
            for k in range(p):
                weight = float(y @ pub[:, k])
                wider = np.c_[hidden, pub[:, k]]
                still = _rank(np.r_[wider, np.eye(h + 1)[j:j + 1]]) == _rank(wider)
                if tied[k]:
                    assert still, (dense, j, k)
                    found += 1
                elif abs(weight) > 1e-9:
                    assert not still, (dense, j, k)
                    found += 1
    assert found > 20, "the random systems should hold determined cells with sources of both kinds"


def test_a_cell_pinned_again_after_a_partner_that_could_not_free_it_gets_one_that_can():
    """A 2 x 2 table with one inner cell published (d = 7): the other three are worked out. The totals are tied
    (rows and columns add up to the same grand total), d is not. The cheapest source, a total, is hidden first,
    as the policy's costs say; the cells are still worked out (through the other totals), and the next pass
    takes d, whatever it costs, which frees all three. The benchmark's count of 46 was given a partner that
    could not free it in 11 passes running."""
    # cells: a b c d | R1 R2 C1 C2
    values = np.array([2.0, 3.0, 4.0, 7.0, 5.0, 11.0, 6.0, 10.0])
    system = _System(values)
    system.add([4, 0, 1], [-1.0, 1.0, 1.0], [False, True, True])
    system.add([5, 2, 3], [-1.0, 1.0, 1.0], [False, True, True])
    system.add([6, 0, 2], [-1.0, 1.0, 1.0], [False, True, True])
    system.add([7, 1, 3], [-1.0, 1.0, 1.0], [False, True, True])
    system.cost[:] = 1
    system.cost[3] = 2  # d costs more than any total
    hidden = np.zeros(len(values), dtype=bool)
    hidden[:3] = True
    policy = Policy()

    def check(hid: np.ndarray):
        cells, cons = _components(system, hid, _incidence(system))[0]
        group = _Group(system, cells, cons, _coefficients(system), system.equalities(), hid, policy.threshold)
        return group, _check_group(group, np.zeros(group.n, dtype=bool), policy)

    group, result = check(hidden)
    assert result.pinned.sum() == 3 and result.tied is not None
    assert dict(zip(group.published.tolist(), result.tied.tolist(), strict=True)) == {
        3: False, 4: True, 5: True, 6: True, 7: True}
    first = hidden.copy()
    driver._partners_for_group(system, group, result, first, system.by_cell(), policy, {}, [], again={})
    assert set(np.flatnonzero(first & ~hidden).tolist()) <= {4, 5, 6, 7}  # the cheapest: totals
    for total in (4, 5, 6, 7):  # any one of them alone leaves the three worked out
        one = hidden.copy()
        one[total] = True
        assert check(one)[1].pinned[:3].all()  # columns a, b, c (the total's column after them)
    # pinned again after such a partner: d, which frees all three on its own
    again = {c: 1 for c in range(3)}
    second = hidden.copy()
    driver._partners_for_group(system, group, result, second, system.by_cell(), policy, {}, [], again=again)
    assert np.flatnonzero(second & ~hidden).tolist() == [3]
    assert not check(second)[1].pinned.any()


@pytest.mark.parametrize("seed", range(8))
def test_counts_a_proof_holds_down_cannot_rise_above_the_threshold(seed: int) -> None:
    """Every count ``_held_down`` reports, from the duals of a failed maximisation, has a ``linprog`` maximum
    below its rise; and on these tables it reports more than the count maximised."""
    rng = np.random.default_rng(seed)
    system, hidden = _grid_system(rng, 3 + seed % 2, 4, top=3)
    group = _only_group(system, hidden)
    scal = group.scaling_set()
    low, rise = _moves_region(group, scal)
    A = _region_matrix(group)
    bounds = np.c_[low, np.full(group.n, np.inf)]
    more = 0
    for j in np.flatnonzero(group.primary & ~scal):
        w = np.zeros(group.n)
        w[j] = -1.0
        res = linprog(w, A_eq=A, b_eq=np.zeros(A.shape[0]), bounds=bounds, method="highs")
        if res.status != 0 or -res.fun >= rise[j] - 1e-7:
            continue
        # scipy minimises w @ d; the programme's duals for a maximisation are the negated marginals
        held = _held_down(A, -np.asarray(res.eqlin.marginals), scal, -low, rise)
        for i in np.flatnonzero(held):
            wi = np.zeros(group.n)
            wi[i] = -1.0
            ref = linprog(wi, A_eq=A, b_eq=np.zeros(A.shape[0]), bounds=bounds, method="highs")
            assert ref.status == 0 and -ref.fun < rise[i] - 1e-7, (i, ref.status, getattr(ref, "fun", None))
        more += int(held.sum()) - int(held[j])
    assert more > 0, "the fixture should hold counts held down by another count's proof"


@pytest.mark.parametrize("seed", [5, 6])
def test_protection_intervals_asked_in_two_parts_give_the_same_table(seed: int) -> None:
    """A large group's intervals are asked in two parts (``reach_split``) so that two processes share them; every
    part decides each of its counts as the whole would (a table that raises it enough, or its own maximum)."""
    ind = small_council(seed, indicators=2, years=1)
    whole = protect_indicator_table(ind, policy=Policy(reach_split=10 ** 12))
    parts = protect_indicator_table(ind, policy=Policy(reach_split=1))
    assert parts.stats["interval_lps"] > 0
    assert whole.shown.equals(parts.shown)
    assert np.array_equal(whole.report.suppressed, parts.report.suppressed)


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_basis_moves_only_of_the_columns_asked_about_give_the_same_checks(monkeypatch, seed: int) -> None:
    """The bounds rule's integer moves are worked out only for the free columns whose basis vector moves a
    column still asked about (``bounds._moving``): a group's check is what all of them give. A 20 x 20 table
    of small counts, all hidden, most columns already shown safe (as in a group checked again)."""
    from safeguarding.disclosure.secondary import bounds

    rng = np.random.default_rng(seed)
    system, hidden = _grid_system(rng, 20, 20, top=4)
    group = _only_group(system, hidden)
    known = rng.random(group.n) < 0.97
    left_out = []
    real = bounds._moving

    def spy(free_cols, targets, piv, U, Fc):
        keep = real(free_cols, targets, piv, U, Fc)
        left_out.append(int((~keep).sum()))
        return keep

    monkeypatch.setattr(bounds, "_moving", spy)
    few = _check_group(group, known, Policy())
    monkeypatch.setattr(bounds, "_moving", lambda free_cols, *a: np.ones(free_cols.size, dtype=bool))
    every = _check_group(group, known, Policy())
    assert sum(left_out) > 0, "the fixture should leave vectors out"
    for a, b in zip(few, every, strict=True):
        if isinstance(a, np.ndarray):
            assert np.array_equal(a, b)
        elif isinstance(a, tuple):  # (the basis handed to the intervals)
            assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
        else:
            assert a == b


@pytest.mark.parametrize("seed", range(6))
def test_the_vectors_kept_are_all_those_that_move_a_target(seed: int) -> None:
    """``bounds._moving`` against the vectors themselves (dense solves): every free column whose basis vector
    is non-zero at a target is kept."""
    from safeguarding.disclosure.secondary.bounds import _moving
    from tests.test_disclosure_speed import _random_upper

    rng = np.random.default_rng(seed)
    k, nfree = 60, 300
    U = _random_upper(rng, k, 2)
    n = k + nfree
    piv = rng.permutation(n)[:k]
    free_cols = np.setdiff1d(np.arange(n), piv)
    F = sparse.random(k, n, density=0.01, random_state=seed, format="csc")
    F.data = np.sign(F.data - 0.5)
    F = sparse.csc_matrix(F.toarray() * np.isin(np.arange(n), free_cols))  # entries in free columns only
    targets = np.zeros(n, dtype=bool)
    targets[rng.choice(piv, 5, replace=False)] = True
    targets[rng.choice(free_cols, 3, replace=False)] = True
    keep = _moving(free_cols, targets, piv, U, F)
    V = -np.linalg.solve(U.toarray(), F[:, free_cols].toarray())  # rows: pivots in order; columns: free
    pos = {int(c): i for i, c in enumerate(piv)}
    rows = [pos[int(t)] for t in np.flatnonzero(targets) if int(t) in pos]
    moves = np.any(np.abs(V[rows]) > 1e-9, axis=0) | targets[free_cols]
    assert not np.any(moves & ~keep)
    assert (~keep).any(), "the fixture should leave some vectors out"


def _slow(tag: object, seconds: float) -> tuple[object, int]:
    time.sleep(seconds)
    return tag, os.getpid()


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork")
def test_the_second_heaviest_check_can_be_done_here_while_the_other_process_does_the_heaviest():
    """The other process begins with the heaviest check; the next heaviest waits for whichever process is free
    first. It was claimed by the executor at once (one running, one queued), so this process, waiting for the
    first, could not take it and sat idle."""
    memo = CheckMemo()
    asks = [(b"one", _slow, ("one", 1.0)), (b"two", _slow, ("two", 1.0))] + [
        (bytes([i]), _slow, (i, 0.01)) for i in range(4)]
    memo.prefetch(asks, 2, weights=[10.0, 9.0, 1.0, 1.0, 1.0, 1.0])
    try:
        deadline = time.monotonic() + 10
        while not memo._pending[b"one"].running() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # time for the executor to claim what it would claim
        (tag, pid), _ = memo.get(b"one", _slow, "one", 1.0)
        (tag2, pid2), _ = memo.get(b"two", _slow, "two", 1.0)
        rest = [memo.get(key, f, *args)[0][0] for key, f, args in asks[2:]]
    finally:
        memo.close()
    assert (tag, tag2, rest) == ("one", "two", [0, 1, 2, 3])
    assert pid != os.getpid() and pid2 == os.getpid(), (pid, pid2)
    assert memo.misses == 6 and memo.hits == 0


@pytest.mark.parametrize("seed", range(4))
def test_relations_by_cell_and_the_system_matrices_are_what_the_loops_gave(seed: int) -> None:
    """``by_cell``, ``_incidence`` and ``_coefficients`` from arrays (they were loops over the relations, 0.3 s of
    the benchmark's serial work) against the loops, on random systems, one relation naming a cell twice, and
    a system with no relation."""
    from collections import defaultdict

    rng = np.random.default_rng(seed)
    n = 30
    system = _System(rng.integers(0, 9, n).astype(float))
    for _ in range(25):
        k = int(rng.integers(2, 6))
        cells = rng.choice(n, k, replace=False)
        system.add(cells, rng.choice([-1.0, 1.0], k), rng.random(k) < 0.5)
    system.constraints.append((np.array([3, 3, 7]), np.array([1.0, 1.0, -2.0]), np.array([True, True, False])))
    want: dict[int, list[int]] = defaultdict(list)
    rows, cols, data = [], [], []
    for k, (idx, coef, _) in enumerate(system.constraints):
        for c, a in zip(idx, coef, strict=True):
            want[int(c)].append(k)
            rows.append(k)
            cols.append(int(c))
            data.append(a)
    by_cell = system.by_cell()  # (each cell's list made when asked)
    assert dict(by_cell) == dict(want) and len(by_cell) == len(want)
    assert all(by_cell[c] == [] for c in range(-1, n + 2) if c not in want), "a cell in no relation has none"
    shape = (len(system.constraints), n)
    ones = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
    coefs = sparse.csr_matrix((data, (rows, cols)), shape=shape)
    assert (_incidence(system) != ones).nnz == 0 and (_coefficients(system) != coefs).nnz == 0
    assert dict(_System(np.ones(3)).by_cell()) == {}


@pytest.mark.parametrize("seed", range(6))
def test_groups_of_hidden_cells_are_what_a_search_through_the_relations_finds(seed: int) -> None:
    """``_components`` (one bipartite graph, groups all shown safe left out without being listed) against a
    breadth-first search: groups in the order of their first cell, cells and relations ascending, groups of
    free slack only and groups whose every cell is skipped left out."""
    rng = np.random.default_rng(seed)
    n = 60
    system = _System(rng.integers(0, 9, n).astype(float))
    for _ in range(40):
        k = int(rng.integers(2, 5))
        system.add(rng.choice(n, k, replace=False), np.ones(k), np.ones(k, dtype=bool))
    system.add_many_at_most(np.array([1, 2]), np.array([5, 6]))  # slack cells
    hidden = rng.random(len(system.values)) < 0.4
    hidden |= system.slack
    skip = rng.random(len(system.values)) < 0.5
    got = _components(system, hidden, _incidence(system), skip=skip)
    by_cell = system.by_cell()
    seen: set[int] = set()
    want = []
    for start in np.flatnonzero(hidden).tolist():
        if start in seen:
            continue
        cells, cons, todo = {start}, set(), [start]
        while todo:
            c = todo.pop()
            for k in by_cell[c]:
                cons.add(k)
                for d in system.constraints[k][0].tolist():
                    if hidden[d] and d not in cells:
                        cells.add(d)
                        todo.append(d)
        seen |= cells
        members = sorted(cells)
        if system.free_slack()[members].all() or skip[members].all():
            continue
        want.append((members, sorted(k for k in cons if hidden[system.constraints[k][0]].any())))
    assert got == want


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork")
def test_a_prefetch_given_in_parts_begins_before_the_rest_is_given():
    """The driver starts the pass's two largest checks before it builds the other groups (``more``): the other
    process is at work on the first part meanwhile (it sat idle while every group was built), the parts
    make one queue, heaviest first, and every result is the one asked for."""
    memo = CheckMemo()
    first = [(b"big", _slow, ("big", 0.5)), (b"mid", _slow, ("mid", 0.01))]
    memo.prefetch(first, 2, weights=[10.0, 5.0])
    try:
        deadline = time.monotonic() + 10
        while not memo._pending[b"big"].running() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert memo._pending[b"big"].running(), "the first part is begun before the rest is given"
        rest = [(bytes([i]), _slow, (i, 0.01)) for i in range(4)] + [(b"heavy", _slow, ("heavy", 0.2))]
        memo.prefetch(rest, 2, weights=[1.0] * 4 + [8.0], more=True)
        assert memo._queue[0] == b"heavy", "the parts make one queue, heaviest first"
        assert set(memo._pending) >= {b"big", b"mid", b"heavy", b"\x00"}, "the first part is kept"
        got = [memo.get(key, f, *args)[0][0] for key, f, args in [*first, *rest]]
    finally:
        memo.close()
    assert got == ["big", "mid", 0, 1, 2, 3, "heavy"]
    assert memo.misses == 7 and memo.hits == 0


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork")
def test_a_first_part_too_small_to_start_alone_starts_with_the_rest():
    """A prefetch of fewer than two new checks starts nothing (the driver does one check faster itself); given
    in parts, the first part is kept until the rest comes, and then all start as one prefetch."""
    memo = CheckMemo()
    memo.get(b"known", abs, -1)
    memo.prefetch([(b"known", abs, (-1,)), (b"one", abs, (-2,))], 2, weights=[2.0, 1.0])
    assert memo._pool is None and not memo._pending, "one new check alone starts nothing"
    memo.prefetch([(b"two", abs, (-3,))], 2, weights=[1.0], more=True)
    try:
        assert set(memo._pending) == {b"one", b"two"}
        assert [memo.get(k, abs, v)[0] for k, v in ((b"one", -2), (b"two", -3))] == [2, 3]
    finally:
        memo.close()
    alone = CheckMemo()
    alone.prefetch([(b"one", abs, (-2,))], 2)
    alone.prefetch([(b"two", abs, (-3,))], 2)  # a new prefetch, not more of the last: the first is forgotten
    assert alone._pool is None and not alone._pending
    alone.close()


def test_each_pass_starts_its_two_largest_checks_first(monkeypatch) -> None:
    """In a suppression with two processes, each pass's first prefetch holds the pass's two largest groups
    still to check, the second the rest; the table is the one a single process gives."""
    from safeguarding.disclosure import suppress_indicator_table

    ind = small_council(5, indicators=2)
    one = suppress_indicator_table(ind, workers=1)
    calls = []
    real = CheckMemo.prefetch

    def spy(self, asks, workers, weights=None, *, more=False):
        if asks and asks[0][1] is driver._check_group:
            calls.append((more, [args[0].cells.size for _, _, args in asks]))
        return real(self, asks, workers, weights, more=more)

    monkeypatch.setattr(CheckMemo, "prefetch", spy)
    two = suppress_indicator_table(ind, workers=2)
    pd.testing.assert_frame_equal(one, two)
    firsts = [(i, sizes) for i, (more, sizes) in enumerate(calls) if not more]
    assert len(firsts) >= 3
    for i, sizes in firsts:
        assert len(sizes) <= 2
        rest = calls[i + 1][1] if i + 1 < len(calls) and calls[i + 1][0] else []
        assert all(s <= min(sizes) for s in rest), (sizes, rest)
