"""The pass loop of secondary suppression: hide partners until no suppressed cell can be worked out.

Starting from the primary cells, :func:`protect` repeats, until nothing
changes:

1. **line rule** (:func:`~.partners._line_rule`): any constraint holding
   exactly one suppressed cell would give that cell away by subtraction, so
   the cheapest non-zero published cell of that constraint is suppressed as
   well;
2. **linear-algebra rule** and 3. **bounds rule** (:func:`~.bounds._check_group`),
   group by group of linked suppressed cells: a cell determined by the
   published cells, or pinned to a range narrower than 1 given that a ``c``
   is at least 1, gets a partner (:mod:`.partners`), preferably among the
   published cells it is worked out from.

A cell shown safe stays safe: suppressing more cells only adds tables that
fit what is published. A group larger than the policy's ``max_exact`` gets
only the single-relation rule (:func:`~.bounds._residual_rule`) and is
reported, with a warning, as unverified.

A group's checks are kept by its exact content (:mod:`.memo`): runs that
share a memo (the runs of one publication) check a group of the same
content once.

This module runs the loop and counts what it did (:class:`SecondaryReport`);
the rules themselves are in :mod:`.partners`, :mod:`.bounds` and
:mod:`.exact`, and the relations it protects against come from
:mod:`safeguarding.disclosure.relations`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from safeguarding.disclosure.policy import Policy
from safeguarding.disclosure.secondary.bounds import GroupCheck, _check_group, _residual_rule
from safeguarding.disclosure.secondary.exact import _Group
from safeguarding.disclosure.secondary.intervals import reach_group
from safeguarding.disclosure.secondary.memo import CheckMemo, content_key
from safeguarding.disclosure.secondary.partners import _best, _far_partners, _give_partners, _line_rule
from safeguarding.disclosure.secondary.system import _bipartite, _coefficients, _components, _incidence, _System

log = logging.getLogger(__name__)

#: passes after which the loop gives up (it has always converged in a few dozen)
MAX_PASSES = 10_000


@dataclass
class SecondaryReport:
    """What :func:`protect` did.

    Attributes:
        suppressed: True for every suppressed cell, primary and secondary.
        passes: passes of the loop.
        largest_group: cells in the largest group of linked suppressed cells checked.
        lps: linear programmes solved (bounds rule).
        unprotected: pinned cells for which no partner was found.
        unverified_groups: groups over ``max_exact`` cells in the last pass
            (checked only relation by relation).
        unverified_cells: the cells of those groups.
    """

    suppressed: np.ndarray
    passes: int = 0
    largest_group: int = 0
    lps: int = 0
    unprotected: int = 0
    unverified_groups: int = 0
    unverified_cells: int = 0
    interval_lps: int = 0
    #: suppressed cells left unprotected because only protected cells could have protected them
    #: (when not ``forced``): the caller withholds detail around them, or runs again with ``forced``
    stuck: list[int] = field(default_factory=list)
    #: protected cells hidden all the same (``forced``): nothing else could protect a small count
    forced: list[int] = field(default_factory=list)

    def stats(self) -> dict[str, int]:
        """The figures as the ``stats`` dict of :func:`~safeguarding.disclosure.suppress_indicator_table`."""
        return {"passes": self.passes, "largest_group": self.largest_group, "lps": self.lps,
                "interval_lps": self.interval_lps, "unprotected": self.unprotected,
                "unverified_groups": self.unverified_groups, "unverified_cells": self.unverified_cells,
                "stuck": len(self.stuck), "forced": len(self.forced)}


def protect(system: _System, primary: np.ndarray, policy: Policy | None = None, *,
            forced: bool = False, memo: CheckMemo | None = None, workers: int = 1) -> SecondaryReport:
    """:func:`_protect` (see there), the group checks of each pass started ahead in ``workers - 1`` other processes.

    The report is the same whatever ``workers`` is (:meth:`.memo.CheckMemo.prefetch`).
    """
    memo = memo if memo is not None else CheckMemo()
    try:
        return _protect(system, primary, policy, forced=forced, memo=memo, workers=workers)
    finally:
        memo.close()


def _protect(system: _System, primary: np.ndarray, policy: Policy | None = None, *,  # noqa: C901
             forced: bool = False, memo: CheckMemo | None = None, workers: int = 1) -> SecondaryReport:
    """Extend the primary suppression until no suppressed cell can be recovered; see the module docstring.

    ``primary`` (bool per cell) is not changed. Limits and costs come from
    ``policy`` (default :class:`~safeguarding.disclosure.policy.Policy`).
    Protected cells (:attr:`_System.protected`) are hidden only with
    ``forced``, and then only when no other cell would do; without it, the
    cells they alone could protect are reported as ``stuck``. ``memo``
    keeps the group checks by content (:mod:`.memo`): give one to runs
    that share groups (the runs of one publication); a group of the same
    content is then not checked again.
    """
    policy = policy if policy is not None else Policy()
    memo = memo if memo is not None else CheckMemo()
    limits = (policy.max_local_lps, policy.max_single_lps, policy.max_blame)
    primary = np.r_[primary, np.zeros(len(system.values) - len(primary), dtype=bool)] & ~system.free_slack()
    suppressed = primary | system.slack  # slack cells (of inequalities, unpublished counts) are never published
    by_cell = system.by_cell()
    inc = _incidence(system)
    coef = _coefficients(system)
    is_eq = system.equalities()
    shown = np.zeros(len(system.values), dtype=bool)  # cells shown safe
    tries: dict[int, int] = {}  # cheaper, farther partners given to each pinned cell (_give_partners)
    tied_tries: dict[int, int] = {}  # partners given to each pinned cell that could not free it alone
    dead: dict[tuple[bool, bool], set[int]] = {}  # cells with no candidate partner anywhere (_far_partners)
    far_tries: dict[int, int] = {}  # far partners given to each cell
    worlds = _Worlds(system, inc)
    near_protected: dict[int, bool] = {}  # linked world -> a protected published cell is in it
    given_up: set[int] = set()  # cells near a protected figure that far partners did not protect: stuck
    report = SecondaryReport(suppressed=suppressed)
    rounds: dict[int, int] = {}  # passes in which each cell was found unprotected
    # a group of the pass before with the same cells is the same group when none of its published cells has
    # been hidden since (its relations are those of its cells; every other hidden cell of them would be in it)
    groups: dict[bytes, _Group] = {}

    def give_up(group: _Group, pinned: np.ndarray) -> np.ndarray:
        """Columns of ``pinned`` to stop giving partners: unprotected for too many passes, near a protected figure.

        Without ``forced`` such a cell is reported stuck (the caller withholds detail for it).
        """
        out = np.zeros(group.n, dtype=bool)
        if forced or not (system.protected.any() or system.capped.any()):
            return out
        for j in np.flatnonzero(pinned):
            cell = int(group.cells[group.col == j][0])
            rounds[cell] = rounds.get(cell, 0) + 1
            if cell in given_up or (rounds[cell] > policy.max_far_tries
                                    and _only_protected_left(system, cell, suppressed, worlds, near_protected)):
                given_up.add(cell)
                out[j] = True
        return out

    for _ in range(MAX_PASSES):
        report.passes += 1
        lonely = _line_rule(system, suppressed, inc, forced=forced)
        added = False
        deferred: list[int] = []  # pinned cells still without a partner
        later: list[int] = []  # pinned cells left for the next pass (a partner for them may already be in)
        large: list[int] = []  # sizes of the groups too large for the full check
        narrow: list[tuple[_Group, np.ndarray, GroupCheck]] = []  # groups with small counts to check (intervals)
        last, groups = groups, {}  # the groups of the pass before (most are unchanged)
        components = _components(system, suppressed, inc, skip=shown)  # (a group all shown safe needs no check)
        if workers > 1:  # the pass's checks started ahead: groups built now, checked by another process
            last = _prefetch_checks(components, last, system, coef, is_eq, suppressed, shown, policy, limits, memo,
                                    workers)
        for cells, cons in components:
            cells_a = np.asarray(cells, dtype=int)
            if shown[cells_a].all():
                continue
            report.largest_group = max(report.largest_group, len(cells))
            if len(cells) > policy.max_exact:
                large.append(len(cells))
                before = int(suppressed.sum())
                deferred.extend(_give_partners(system, _residual_rule(system, cells, cons, suppressed),
                                               suppressed, by_cell, policy, tries))
                added = added or int(suppressed.sum()) > before
                continue
            group = _group_of(last, system, cells, cons, coef, is_eq, suppressed, policy.threshold)
            groups[cells_a.tobytes()] = group
            known = np.zeros(group.n, dtype=bool)
            known[group.col[shown[cells_a]]] = True
            check, reused = memo.get(content_key(group, known, extra=("check", *limits)),
                                     _check_group, group, known, policy)
            report.lps += 0 if reused else check.lps  # programmes solved in this run
            if check.need is not None and check.need.any():
                narrow.append((group, cells_a, check))
                continue
            shown[cells_a[check.safe[group.col]]] = True
            check = check._replace(pinned=check.pinned & ~give_up(group, check.pinned))
            if not check.pinned.any():
                continue
            found, stuck = _partners_for_group(system, group, check, suppressed, by_cell, policy, tries, later,
                                               again=tied_tries)
            added = added or found
            deferred.extend(stuck)
        if narrow:  # small counts shown to move: can each rise above the threshold? (protection interval)
            # each group on its own, so that its result depends on its content only; witnesses from the bounds
            # rule's programmes are part of what is asked
            asks = []
            weights = []  # a group's programmes: about one per small count asked, each over the whole group
            owner = []  # the group of each ask
            for i, (g, _, c) in enumerate(narrow):
                # a check that asks for intervals ran to its end: it holds the scaling set too
                assert c.need is not None and c.scal is not None
                seen = () if c.top is None else (c.top,)
                start = () if c.basis is None else c.basis  # (where the programmes start: their counts depend on it)
                for part in _reach_parts(g, c.need, policy.reach_split):
                    weights.append(float(g.A.nnz * int(part.sum())))
                    asks.append((content_key(g, part, c.scal, *seen, *start, extra=("reach", len(seen), len(start))),
                                 reach_group, (g, part, c.scal, c.top, c.basis)))
                    owner.append(i)
            memo.prefetch(asks, workers, weights=weights)
            oks = [np.zeros(g.n, dtype=bool) for g, _, _ in narrow]
            for i, (key, _, args) in zip(owner, asks, strict=True):
                (ok, lps), reused = memo.get(key, reach_group, *args)
                oks[i] |= ok
                if not reused:
                    report.lps += lps
                    report.interval_lps += lps
            for (group, cells_a, check), ok in zip(narrow, oks, strict=True):
                safe = check.safe & ~(check.need & ~ok)
                shown[cells_a[safe[group.col]]] = True
                safe |= give_up(group, ~safe)
                if safe.all():
                    continue
                found, stuck = _partners_for_group(system, group, GroupCheck(safe, ~safe, {}, 0), suppressed,
                                                   by_cell, policy, tries, later, narrow=check.need & ~ok)
                added = added or found
                deferred.extend(stuck)
        if not added and (deferred or later):  # nothing else moved: search further for the cells left over
            deferred = [c for c in dict.fromkeys(deferred + later) if c not in given_up]
            if not forced:  # a cell near a protected figure gets a few far partners, then detail yields for it
                for cell in deferred:
                    far_tries[cell] = far_tries.get(cell, 0) + 1
                    if (far_tries[cell] > policy.max_far_tries
                            and _only_protected_left(system, cell, suppressed, worlds, near_protected)):
                        given_up.add(cell)
                deferred = [c for c in deferred if c not in given_up]
            stuck = _far_partners(system, deferred, suppressed, by_cell, forced=forced, dead=dead)
            added = len(stuck) < len(deferred)
            deferred = stuck
        if not added:
            _finish(report, sorted(set(deferred) | set(lonely) | given_up), large, policy, system, forced,
                    worlds)
            return report
    raise RuntimeError("secondary suppression did not converge")  # pragma: no cover


def _reach_parts(group: _Group, need: np.ndarray, split: int) -> list[np.ndarray]:
    """``need`` as one mask, or in two parts when the group's intervals are a long job (more than ``split``,
    the policy's ``reach_split``, small counts asked times relation entries; each part is its own programme
    over the whole group, so two processes can share the work).

    The parts take every other column, so that each holds small counts from
    all over the group (the first half of a group's columns held about twice
    the work of the second on the benchmark). Either part's answer is the
    same as the whole's for its columns: each column is decided by a table
    that raises it enough, or by its own maximum.
    """
    cols = np.flatnonzero(need)
    if group.A.nnz * cols.size <= split or cols.size < 2:
        return [need]
    parts = []
    for chunk in (cols[0::2], cols[1::2]):
        m = np.zeros(group.n, dtype=bool)
        m[chunk] = True
        parts.append(m)
    return parts


def _prefetch_checks(components: list[tuple[list[int], list[int]]], last: dict[bytes, _Group], system: _System,
                     coef, is_eq: np.ndarray, suppressed: np.ndarray, shown: np.ndarray, policy: Policy,
                     limits: tuple[int, int, int], memo: CheckMemo, workers: int) -> dict[bytes, _Group]:
    """Build the pass's groups and start their checks in other processes (:meth:`.memo.CheckMemo.prefetch`).

    The two largest groups are built and started first, the rest after
    them (``more``): the largest check is the pass's longest, and the other
    process begins it while this one builds the others (it waited for all
    of them). Returns ``last`` with the groups built here, for the pass to
    take (:func:`_group_of` builds one again if a cell of it is hidden
    before its turn; its key then differs, and it is checked in this
    process).
    """
    built = dict(last)
    todo = []
    for cells, cons in components:
        cells_a = np.asarray(cells, dtype=int)
        if not (shown[cells_a].all() or len(cells) > policy.max_exact):
            todo.append((cells, cons, cells_a))
    order = sorted(range(len(todo)), key=lambda i: -len(todo[i][0]))  # (stable: equal sizes in their order)
    for batch, more in ((order[:2], False), (order[2:], True)):
        asks = []
        for i in sorted(batch):
            cells, cons, cells_a = todo[i]
            group = _group_of(last, system, cells, cons, coef, is_eq, suppressed, policy.threshold)
            built[cells_a.tobytes()] = group
            known = np.zeros(group.n, dtype=bool)
            known[group.col[shown[cells_a]]] = True
            asks.append((content_key(group, known, extra=("check", *limits)), _check_group, (group, known, policy)))
        # a check's work grows with its group's relations: the worker begins with the largest
        memo.prefetch(asks, workers, weights=[float(group.A.nnz) for _, _, (group, _, _) in asks], more=more)
    return built


def _group_of(last: Mapping[bytes, _Group], system: _System, cells: list[int], cons: list[int], coef,
              is_eq: np.ndarray, suppressed: np.ndarray, threshold: tuple[int, int] | None) -> _Group:
    """The :class:`_Group` of ``cells``: the one of the pass before (``last``, by cells) when it is still the same.

    A group is a connected set of hidden cells, so its relations are those
    of its cells, and every other cell of them was published when the
    components were found (a hidden one would be in the group). The group
    of the pass before with the same cells therefore differs from a new one
    only if one of its published cells has been hidden since (earlier in
    this pass): then it is built again.
    """
    group = last.get(np.asarray(cells, dtype=int).tobytes())
    if group is None or suppressed[group.published].any():
        group = _Group(system, cells, cons, coef, is_eq, suppressed, threshold)
    return group


def _partners_for_group(system: _System, group: _Group, check: GroupCheck, suppressed: np.ndarray,
                        by_cell: Mapping[int, list[int]], policy: Policy, tries: dict[int, int],
                        later: list[int], narrow: np.ndarray | None = None,
                        again: dict[int, int] | None = None) -> tuple[bool, list[int]]:
    """Partners for a group's pinned cells; ``(any added, cells still without one)``.

    A partner is taken among the published cells a pinned cell is worked out
    from; one partner serves every pinned cell that depends on it (the next
    pass checks again), so cells sharing a taken source, or not traced this
    pass, are appended to ``later``. Cells whose sources are all hidden get
    one from their relations (:func:`~.partners._give_partners`); a small
    count kept inside the threshold range (``narrow``, bool per column)
    preferably one big enough to give it room. The partner is the cheapest
    source (the policy's costs); when that source is *tied* (in a relation
    among published cells alone, :attr:`~.bounds.GroupCheck.tied`) it cannot
    free the cell on its own, and a cell pinned again after such a partner
    (``again`` counts them, across passes) gets an untied source instead,
    which does, whatever it costs.
    """
    added = False
    taken: set[int] = set()
    others = np.zeros(group.n, dtype=bool)
    blame = check.blame
    again = {} if again is None else again
    for j in np.flatnonzero(check.pinned):
        if int(j) in blame and blame[int(j)] is None:  # not traced this pass
            later.append(int(group.cells[group.col == j][0]))
            continue
        pos = blame.get(int(j), np.zeros(0, dtype=int))
        assert pos is not None  # (a cell not traced went to ``later`` above)
        pubs = group.published[pos]
        if taken.intersection(pubs.tolist()):
            later.append(int(group.cells[group.col == j][0]))
            continue
        best = _best(system, pubs[~suppressed[pubs]])
        cell = int(group.cells[group.col == j][0])
        tied = check.tied
        if best is not None and tied is not None and tied[pos[pubs == best][0]]:
            # the cheapest source is in a relation among published cells, so hiding it alone frees nothing (the
            # reader works the cell out another way): a cell pinned again after such a partner gets a source in
            # no such relation, which frees it on its own, whatever it costs
            if again.get(cell, 0) > 0:
                alone = pubs[~tied[pos]]
                untied = _best(system, alone[~suppressed[alone]])
                best = best if untied is None else untied
            again[cell] = again.get(cell, 0) + 1
        if best is None:
            others[j] = True
            continue
        suppressed[best] = True
        taken.add(best)
        added = True
    stuck: list[int] = []
    if others.any():
        cells_p = group.cells_of(others)
        rise: dict[int, float] = {}
        if narrow is not None and group.ceiling is not None:
            for j in np.flatnonzero(narrow):
                for c in group.cells[group.col == j]:
                    rise[int(c)] = float(group.ceiling + 1 - group.x[j])
        stuck = _give_partners(system, cells_p, suppressed, by_cell, policy, tries, rise)
        added = added or len(stuck) < len(cells_p)
    return added, stuck


def _finish(report: SecondaryReport, deferred: list[int], large: list[int], policy: Policy, system: _System,
            forced: bool, worlds: _Worlds) -> None:
    """Record the last pass's leftovers in ``report`` and warn about them (``worlds``: the system's linked worlds)."""
    near: dict[int, bool] = {}  # linked world -> a protected published cell is in it
    protected_near = [c for c in deferred if _only_protected_left(system, c, report.suppressed, worlds, near)]
    report.forced = [int(c) for c in np.flatnonzero(report.suppressed & system.protected)]
    if not forced and protected_near:
        report.stuck = protected_near  # the caller decides: withhold detail, or force
        deferred = [c for c in deferred if c not in set(protected_near)]
    if deferred:  # pragma: no cover - every cell linked to them is already hidden
        log.warning("secondary suppression: %d suppressed cells could not be protected: every cell linked "
                    "to them is already suppressed", len(deferred))
    report.unprotected = len(deferred)
    report.unverified_groups = len(large)
    report.unverified_cells = int(sum(large))
    if large:
        log.warning("secondary suppression: %d groups of linked suppressed cells (%d cells, the largest %d) are "
                    "larger than MAX_EXACT=%d (disclosure.max_exact) and were checked only relation by relation",
                    len(large), sum(large), max(large), policy.max_exact)


class _Worlds:
    """The linked worlds of a system: its cells joined through any chain of relations (found once, on first use)."""

    def __init__(self, system: _System, inc) -> None:
        self._system, self._inc = system, inc
        self._label: np.ndarray | None = None
        self._members: list[np.ndarray] = []

    def members(self, cell: int) -> tuple[int, np.ndarray]:
        """The world of ``cell``: its number and its cells (ascending)."""
        if self._label is None:
            from scipy.sparse.csgraph import connected_components

            inc = self._inc.tocsr()
            m = inc.shape[0]
            _, labels = connected_components(_bipartite(inc), directed=False)
            self._label = labels[m:]
            order = np.argsort(self._label, kind="stable")
            sizes = np.bincount(self._label, minlength=int(labels.max()) + 1 if labels.size else 0)
            self._members = np.split(order, np.cumsum(sizes)[:-1])
        lab = int(self._label[cell])
        return lab, self._members[lab]


def _only_protected_left(system: _System, cell: int, suppressed: np.ndarray, worlds: _Worlds,
                         memo: dict[int, bool]) -> bool:
    """True when some cell linked to ``cell`` (through any chain of relations) is published and protected,
    or is a count the publication says is small (:attr:`_System.capped`).

    Either way the policy's rule for the headline figures is what leaves the cell unprotected (a small
    headline figure's parts are pinned through what the review says of it), and withholding detail, not
    another partner, is the remedy. ``memo`` keeps the answer, as it was when first asked, for the whole
    linked world (by its number).
    """
    lab, members = worlds.members(cell)
    if lab not in memo:
        others = members[members != cell]
        memo[lab] = bool(np.any(~suppressed[others] & system.protected[others]) or system.capped[members].any())
    return memo[lab]
