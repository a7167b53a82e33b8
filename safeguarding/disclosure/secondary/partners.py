"""Choosing partners: the published cells hidden so that a suppressed cell cannot be worked out.

A suppressed cell that a reader could recover (the only hidden cell of a
relation, or pinned by :mod:`.bounds`) gets a *partner*: another published
cell of the same relations, hidden too. :func:`_partner` and :func:`_best`
pick the cheapest one (by :attr:`_System.cost
<safeguarding.disclosure.secondary.system._System.cost>`, from
:func:`safeguarding.disclosure.costs.partner_costs`; then parts before totals;
then the smallest value). :func:`_line_rule` applies the line rule (no
relation may hold exactly one hidden cell); :func:`_give_partners` and
:func:`_far_partners` search outwards through linked relations when a cell's
own relations hold no candidate, and prefer a cheaper cell a few relations
away to an expensive near one (the policy's ``expensive``,
``max_cheaper_tries`` and ``cheaper_depth``).

This module hides cells it is told need partners; deciding which cells need
them is :mod:`.bounds`, and checking that the partners were enough is the
next pass of :mod:`.driver`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import numpy as np

from safeguarding.disclosure.policy import Policy
from safeguarding.disclosure.secondary.system import _System


def _partner(system: _System, con_ids: Iterable[int], suppressed: np.ndarray, zeros: bool = True,
             below: int | None = None, forced: bool = False, at_least: float = 0.0) -> int | None:
    """Best published cell to suppress among the given constraints: cheapest, then parts, then smallest.

    Cells are compared by :attr:`_System.cost` first, then parts before
    totals, then by value. With ``zeros=False`` a true zero is never chosen (it
    is shown as ``0``); otherwise a zero comes last. With ``below``, only
    cells costing less than it are considered. A protected cell
    (:attr:`_System.protected`) is chosen only with ``forced``. Among cells of
    the same cost, one of at least ``at_least`` comes first (a small count
    narrowed to the threshold range needs a partner that can give it room).
    """
    con_ids = list(con_ids)
    if not con_ids:
        return None
    if len(con_ids) == 1:
        idx, _, parts = system.constraints[con_ids[0]]
    else:
        idx = np.concatenate([system.constraints[k][0] for k in con_ids])
        parts = np.concatenate([system.constraints[k][2] for k in con_ids])
    open_ = ~suppressed[idx]
    if not forced:
        open_ &= ~system.protected[idx]
    if not zeros:
        open_ &= system.values[idx] != 0
    if below is not None:
        open_ &= system.cost[idx] < below
    if not open_.any():
        return None
    idx, parts = idx[open_], parts[open_]
    v = system.values[idx]
    # sort keys, last is primary: protected last, zero last, cheapest first, big enough first, parts first,
    # smallest value, lowest id
    order = np.lexsort((idx, v, ~parts, v < at_least, system.cost[idx], v == 0, system.protected[idx]))
    return int(idx[order[0]])



def _line_rule(system: _System, suppressed: np.ndarray, inc, forced: bool = False) -> list[int]:
    """Rule 1: no constraint may hold exactly one suppressed cell; returns the cells it could not protect.

    A relation whose other published cells are all protected (the policy's
    headline figures) gives its one hidden cell away unless one of them is
    hidden too: that happens only with ``forced``; otherwise the cell is
    returned (the caller withholds detail, or forces).
    """
    stuck: set[int] = set()
    real = ~system.free_slack()  # a slack cell alone in a relation (an inequality between published figures)
    # is no leak; an unpublished count alone in one is
    while True:
        counts = inc @ suppressed.astype(float)
        lonely = np.flatnonzero((np.abs(counts - 1) < 0.5) & (np.abs(inc @ (suppressed & real).astype(float) - 1)
                                                                < 0.5))
        added = False
        for k in lonely:
            idx = system.constraints[k][0]
            if int(suppressed[idx].sum()) != 1:
                continue  # a partner was added earlier in this pass
            cell = _partner(system, [int(k)], suppressed, forced=forced)
            if cell is not None:
                suppressed[cell] = True
                added = True
            else:
                stuck.update(int(c) for c in idx[suppressed[idx]])
        if not added:
            lonely_now = np.flatnonzero(np.abs(inc @ suppressed.astype(float) - 1) < 0.5)
            still = {int(c) for k in lonely_now for c in system.constraints[k][0] if suppressed[c] and real[c]}
            return sorted(stuck & still)




def _best(system: _System, cells: np.ndarray) -> int | None:
    """Best cell to suppress among ``cells``: cheapest first, then the smallest value; never a true zero.

    Never a protected cell either (:attr:`_System.protected`).
    """
    pool = cells[(system.values[cells] != 0) & ~system.protected[cells]]
    if pool.size == 0:
        return None
    order = np.lexsort((pool, system.values[pool], system.cost[pool]))
    return int(pool[order[0]])


def _nearest_partner(system: _System, cell: int, suppressed: np.ndarray, by_cell: Mapping[int, list[int]],
                     zeros: bool, below: int | None = None, depth: int | None = None,
                     forced: bool = False, seen_out: set[int] | None = None) -> int | None:
    """Partner for one cell: from its own constraints, else the nearest ones reachable through linked cells.

    Rings of constraints are walked outwards (at most ``depth`` of them, if
    given); the first ring holding a candidate gives its best one
    (:func:`_partner`, with ``zeros``, ``below`` and ``forced``). A search
    that finds nothing adds every cell it reached to ``seen_out`` if given
    (none of them can find anything either, until something changes).
    """
    seen_cells, seen_cons = {cell}, set()
    frontier = [cell]
    rings = 0
    while frontier and (depth is None or rings < depth):
        rings += 1
        cons = [k for c in frontier for k in by_cell[c] if k not in seen_cons]
        seen_cons.update(cons)
        partner = _partner(system, cons, suppressed, zeros=zeros, below=below, forced=forced)
        if partner is not None:
            return partner
        nxt = []
        for k in cons:
            for c in system.constraints[k][0]:
                if int(c) not in seen_cells:
                    seen_cells.add(int(c))
                    nxt.append(int(c))
        frontier = nxt
    if seen_out is not None and depth is None:
        seen_out.update(seen_cells)
    return None


def _give_partners(system: _System, pinned: list[int], suppressed: np.ndarray,
                   by_cell: Mapping[int, list[int]], policy: Policy,
                   tries: dict[int, int] | None = None, rise: Mapping[int, float] | None = None) -> list[int]:
    """Suppress a partner for each pinned cell; return the pinned cells for which none was found.

    The partner is the best published non-zero cell (:func:`_partner`) of the
    cell's own constraints. When that is an expensive cell (a headline
    figure, cost ``policy.expensive`` or more) and a cheaper one lies at most
    ``policy.cheaper_depth`` relations away (:func:`_nearest_partner` with a
    cost ceiling), the cheaper one is hidden instead, up to
    ``policy.max_cheaper_tries`` times per cell (``tries`` counts them across
    passes; the next pass checks whether it was enough). For a
    cell whose constraints hold none, the
    search widens ring by ring through linked cells, in one breadth-first
    search for all such cells at once (each ring of constraints belonging to
    the cell that reached it first). True zeros are not chosen (a zero is
    shown as ``0``); cells left over are handled by :func:`_far_partners` if
    nothing else changes in a pass. ``rise`` maps a small count that must be
    able to rise (:mod:`.intervals`) to how far: its own relations' partner is
    then preferably at least that big.
    """
    left = []
    tries = {} if tries is None else tries
    rise = rise or {}
    for cell in pinned:
        partner = _partner(system, by_cell[cell], suppressed, zeros=False, at_least=rise.get(cell, 0.0))
        if (partner is not None and system.cost[partner] >= policy.expensive
                and tries.get(cell, 0) < policy.max_cheaper_tries):
            cheaper = _nearest_partner(system, cell, suppressed, by_cell, zeros=False,
                                       below=int(system.cost[partner]), depth=policy.cheaper_depth)
            if cheaper is not None:
                tries[cell] = tries.get(cell, 0) + 1
                partner = cheaper
        if partner is None:
            left.append(cell)
        else:
            suppressed[partner] = True
    owner = {c: c for c in left}
    seen_cons: set[int] = set()
    frontier = dict(owner)
    open_ = set(left)
    while frontier and open_:
        rings: dict[int, list[int]] = defaultdict(list)
        for c, who in frontier.items():
            for k in by_cell[c]:
                if k not in seen_cons:
                    seen_cons.add(k)
                    rings[who].append(k)
        nxt: dict[int, int] = {}
        for who, cons in rings.items():
            if who in open_:
                partner = _partner(system, cons, suppressed, zeros=False)
                if partner is not None:
                    suppressed[partner] = True
                    open_.discard(who)
                    continue
            for k in cons:
                for c in system.constraints[k][0]:
                    if int(c) not in owner:
                        owner[int(c)] = who
                        nxt[int(c)] = who
        frontier = nxt
    return [c for c in left if c in open_]


def _far_partners(system: _System, cells: list[int], suppressed: np.ndarray,
                  by_cell: Mapping[int, list[int]], forced: bool = False,
                  dead: dict[tuple[bool, bool], set[int]] | None = None) -> list[int]:
    """A partner for each cell from its own search (:func:`_nearest_partner`), a true zero only as a last resort.

    A protected cell is taken only with ``forced``, and only when nothing
    else is linked. Returns the cells for which nothing at all could be found.
    ``dead`` (kept by the caller across calls) remembers the cells whose whole
    linked world holds no candidate: cells are only ever hidden, never
    published again, so such a world stays empty.
    """
    stuck = []
    dead = {} if dead is None else dead  # cells whose whole linked world holds no candidate, per mode
    for cell in cells:
        for zeros, force in ((False, False), (True, False), (False, True), (True, True)):
            if force and not forced:
                continue
            empty = dead.setdefault((zeros, force), set())
            if cell in empty:
                continue
            partner = _nearest_partner(system, cell, suppressed, by_cell, zeros, forced=force, seen_out=empty)
            if partner is not None:
                suppressed[partner] = True
                break
        else:
            stuck.append(cell)
    return stuck
