"""The linear system secondary suppression works on: cells, exact relations between them, and their groups.

Every publishable count is a *cell*; every exact additive relation between
published cells is a linear *constraint* (``total - part_1 - ... - part_n = 0``,
``stock_end - stock_start - inflow + outflow = 0``, or ``a - b = 0`` when the
same count appears twice). An inequality ``a <= b`` becomes the constraint
``b - a - s = 0`` with a *slack* cell ``s``: never published, at least 0, and
in need of no protection of its own (:meth:`_System.add_many_at_most`). A
count that is never published but is the difference of published ones
(ICPCs held less those timed: the ICPCs with no section 47 enquiry) is an
*unpublished count*: never published, yet protected like a published count
when it is small (:meth:`_System.add_unpublished`).
:class:`_System` holds them, with the cost of hiding each cell as a partner.
The helpers turn the constraints into sparse matrices and split the
suppressed cells into groups linked by constraints.

This module decides nothing: which cells must be hidden is
:mod:`.driver` (with :mod:`.exact`, :mod:`.bounds` and :mod:`.partners`);
which relations exist is :mod:`safeguarding.disclosure.relations`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike


class _System:
    """Cells (true values) and exact linear constraints between them."""

    def __init__(self, values: ArrayLike):
        self.values = np.asarray(values, dtype=float)
        # each constraint: (cell indices, coefficients, is_part flags)
        self.constraints: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        #: cost of hiding each cell as a partner (lower is chosen first; ties go to the smaller value)
        self.cost = np.zeros(len(self.values), dtype=int)
        #: cells never hidden as a partner while any other cell would do (the policy's protected
        #: headline figures); hidden only when the driver is told they may be (``allow_forced``)
        self.protected = np.zeros(len(self.values), dtype=bool)
        #: the slack cells of inequalities: never published, known to a reader only to be at least 0,
        #: and in need of no protection of their own
        self.slack = np.zeros(len(self.values), dtype=bool)
        #: the unpublished counts among the slack cells (:meth:`add_unpublished`): protected when small
        self.counted = np.zeros(len(self.values), dtype=bool)
        #: each unpublished count -> the published cells of its relation (where a reader meets it)
        self.home: dict[int, list[int]] = {}
        #: cells a reader knows to be at most a bound (:meth:`add_many_at_most_bound`): being small is what
        #: the publication says of them, so they need not be able to rise above the threshold, only to move
        self.capped = np.zeros(len(self.values), dtype=bool)
        #: the slack cells of those bounds: their relations bound what a reader may work out (a capped cell must
        #: not be pinned) but not the protection intervals, which ask what the publication reveals beyond what it
        #: says (:mod:`.intervals`)
        self.cap_slack = np.zeros(len(self.values), dtype=bool)
        #: :meth:`arrays` as last made, with the count of constraints it was made for
        self._arrays: tuple[int, np.ndarray, np.ndarray, np.ndarray] | None = None

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (constraint, cell, coefficient) entry, constraint by constraint: ``(rows, cols, coefs)``, read-only.

        Made once for each count of constraints (constraints are only ever
        appended, so the count tells whether they changed): the pass loop,
        the costs and the families all read them.
        """
        m = len(self.constraints)
        if self._arrays is None or self._arrays[0] != m:
            lens = np.fromiter((len(c[0]) for c in self.constraints), dtype=np.int64, count=m)
            rows = np.repeat(np.arange(m), lens)
            cols = np.concatenate([c[0] for c in self.constraints] or [np.zeros(0, int)])
            coefs = np.concatenate([c[1] for c in self.constraints] or [np.zeros(0)]).astype(float)
            for a in (rows, cols, coefs):
                a.setflags(write=False)
            self._arrays = (m, rows, cols, coefs)
        return self._arrays[1], self._arrays[2], self._arrays[3]

    def add(self, cells: Sequence[int], coefs: Sequence[float], parts: Sequence[bool]) -> None:
        """Add ``sum(coef * value) == 0`` over cells; cells with NaN values are treated as known."""
        idx = np.asarray(cells, dtype=int)
        keep = ~np.isnan(self.values[idx])
        if keep.sum() < 2:
            return
        self.constraints.append((idx[keep], np.asarray(coefs, float)[keep], np.asarray(parts, bool)[keep]))

    def _new_slack(self, values: np.ndarray, *, counted: bool = False, cap: bool = False) -> np.ndarray:
        """Append slack cells with ``values`` (never published, cost 0); their ids.

        ``counted``: unpublished counts (:attr:`counted`); ``cap``: the slack of
        a bound a reader is told (:attr:`cap_slack`). Every per-cell array
        grows here, so a new one is added in one place.
        """
        n = len(values)
        start = len(self.values)
        self.values = np.r_[self.values, values]
        self.cost = np.r_[self.cost, np.zeros(n, dtype=int)]
        for name, flag in (("protected", False), ("slack", True), ("counted", counted), ("capped", False),
                           ("cap_slack", cap)):
            setattr(self, name, np.r_[getattr(self, name), np.full(n, flag, dtype=bool)])
        return np.arange(start, start + n)

    def add_many_at_most(self, small: np.ndarray, big: np.ndarray) -> None:
        """Add ``value[small] <= value[big]`` pair by pair as ``big - small - s = 0`` with a new slack cell ``s``.

        Nothing is added for a pair with a missing value, or where the
        inequality does not hold in the data (a relation is used only where it
        is true).
        """
        small, big = np.asarray(small, dtype=int), np.asarray(big, dtype=int)
        a, b = self.values[small], self.values[big]
        ok = ~np.isnan(a) & ~np.isnan(b) & (a <= b)
        small, big = small[ok], big[ok]
        slack = self._new_slack(b[ok] - a[ok])
        coefs, parts = np.array([1.0, -1.0, -1.0]), np.array([False, True, True])
        self.constraints.extend((np.array([g, s_, k]), coefs, parts) for g, s_, k in zip(big, small, slack,
                                                                                          strict=True))

    def add_unpublished(self, total: np.ndarray, parts: Sequence[np.ndarray]) -> None:
        """Add ``total = sum(parts) + u`` place by place with a new unpublished count ``u`` (see the module docstring).

        ``total`` and each array of ``parts`` are cell ids, one per place.
        Nothing is added where a value is missing or ``u`` would be negative
        or fractional (a relation is used only where it is true).
        """
        total = np.asarray(total, dtype=int)
        parts = [np.asarray(p, dtype=int) for p in parts]
        rest = self.values[total] - sum((self.values[p] for p in parts), np.zeros(total.size))
        ok = ~np.isnan(rest) & (rest >= -1e-9) & (np.abs(rest - np.round(rest)) < 1e-9)
        n = int(ok.sum())
        new = self._new_slack(np.round(rest[ok]), counted=True)
        k = len(parts)
        coefs = np.r_[1.0, -np.ones(k + 1)]
        flags = np.r_[False, np.ones(k + 1, dtype=bool)]
        for t, ps, u in zip(total[ok], np.array([p[ok] for p in parts]).T.reshape(n, k), new, strict=True):
            self.constraints.append((np.r_[t, ps, u].astype(int), coefs, flags))
            self.home[int(u)] = [int(t), *map(int, ps)]

    def add_many_at_most_bound(self, cells: np.ndarray, bound: float) -> None:
        """Add ``value[cell] <= bound`` for each cell as ``cell + s = bound``, ``s`` a new slack cell.

        The bound is what a reader is told (the publication's rule: an annual
        figure withheld and not listed as an exception rests on a count from
        1 to 5). A relation holds no constant, so it is written over the
        cell and its slack only; every check reads a relation through its
        hidden cells and their true values (``cell + s`` is the bound), which
        both always are. The cells are marked :attr:`capped`. Nothing is
        added for a cell above the bound or without a value.
        """
        cells = np.asarray(cells, dtype=int)
        v = self.values[cells]
        cells = cells[~np.isnan(v) & (v <= bound)]
        slack = self._new_slack(bound - self.values[cells], cap=True)
        self.capped[cells] = True
        coefs, parts = np.array([1.0, 1.0]), np.array([True, True])
        self.constraints.extend((np.array([c, s_]), coefs, parts) for c, s_ in zip(cells, slack, strict=True))

    def add_many_at_least_bound(self, cells: np.ndarray, bound: float) -> None:
        """Add ``value[cell] >= bound`` for each cell as ``cell - s = bound``, ``s`` a new slack cell.

        The bound is what a reader is told of an annual figure listed as an
        exception (the publication's rule: such a figure does not rest on a
        count from 1 to 5, so it is at least 6). Written, like
        :meth:`add_many_at_most_bound`, over the cell and its slack only.
        The slack is an inequality's: its relation bounds the protection
        intervals too (a small count beside an exception can be narrowed
        through it, and the publication says nothing of that count). Nothing
        is added for a cell below the bound or without a value.
        """
        cells = np.asarray(cells, dtype=int)
        v = self.values[cells]
        cells = cells[~np.isnan(v) & (v >= bound)]
        slack = self._new_slack(self.values[cells] - bound)
        coefs, parts = np.array([1.0, -1.0]), np.array([False, True])
        self.constraints.extend((np.array([c, s_]), coefs, parts) for c, s_ in zip(cells, slack, strict=True))

    def free_slack(self) -> np.ndarray:
        """Slack cells in need of no protection: the slack of inequalities, not the unpublished counts."""
        return self.slack & ~self.counted

    def by_cell(self) -> Mapping[int, list[int]]:
        """The constraints each cell appears in (cell id -> constraint ids, in the order they were added; a cell in
        none gives []), each looked up when asked (:class:`_ByCell`)."""
        return _ByCell(self)

    def equalities(self) -> np.ndarray:
        """True for each constraint that says two cells are equal (the same count published twice).

        Not a bound's relation (:meth:`add_many_at_least_bound`): a cell and a slack cell differ by the bound.
        """
        rows, cols, coefs = self.arrays()
        m = len(self.constraints)
        lens = np.bincount(rows, minlength=m)
        out = np.zeros(m, dtype=bool)
        two = np.flatnonzero(lens == 2)
        first = (np.cumsum(lens) - lens)[two]  # each such constraint's first entry, the second just after
        out[two] = (coefs[first] == -coefs[first + 1]) & ~self.slack[cols[first]] & ~self.slack[cols[first + 1]]
        return out


class _ByCell(Mapping[int, list[int]]):
    """The constraints of each cell of a system, from one sort of its entries, each list made when asked.

    The pass loop asks for the relations of a few thousand cells of tens of
    thousands: a dict of every cell's list cost more than all the look-ups.
    Iterating gives the cells in at least one constraint, ascending.
    """

    def __init__(self, system: _System) -> None:
        rows, cols = _entries(system)
        self._rows = rows[np.argsort(cols, kind="stable")]  # each cell's constraints in the order they were added
        n = len(system.values)
        self._ptr = np.r_[0, np.cumsum(np.bincount(cols, minlength=n))].tolist() if cols.size else [0] * (n + 1)

    def __getitem__(self, cell: int) -> list[int]:
        if not 0 <= cell < len(self._ptr) - 1:
            return []
        return self._rows[self._ptr[cell]:self._ptr[cell + 1]].tolist()

    def __iter__(self) -> Iterator[int]:
        return iter(np.flatnonzero(np.diff(self._ptr)).tolist())

    def __len__(self) -> int:
        return int(np.count_nonzero(np.diff(self._ptr)))


def spans(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """The positions ``starts[k], ..., starts[k] + lens[k] - 1`` of every span ``k``, spans in order (int64).

    How the entries of some relations are read from arrays that hold every
    relation's entries one after another (:meth:`_System.arrays`, a CSR
    matrix's ``indices`` and ``data``).
    """
    starts = np.asarray(starts, dtype=np.int64)
    lens = np.asarray(lens, dtype=np.int64)
    return np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(int(lens.sum()), dtype=np.int64)


def _entries(system: _System) -> tuple[np.ndarray, np.ndarray]:
    """Every (constraint, cell) entry of the system, constraint by constraint: ``(rows, cols)`` (read-only)."""
    rows, cols, _ = system.arrays()
    return rows, cols


def _incidence(system: _System):
    """Sparse constraint-by-cell 0/1 matrix (CSR)."""
    from scipy import sparse

    rows, cols = _entries(system)
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(system.constraints), len(system.values)))


def _coefficients(system: _System):
    """Sparse constraint-by-cell matrix of coefficients (CSR)."""
    from scipy import sparse

    rows, cols, data = system.arrays()
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(system.constraints), len(system.values)))


def _bipartite(inc):
    """The graph of relations (nodes ``0..m-1``) and cells (``m..m+n-1``) of an ``m x n`` CSR incidence matrix.

    Each edge is held once, relation to cell: an undirected search
    (``connected_components(..., directed=False)``) follows it both ways.
    """
    from scipy import sparse

    m, n = inc.shape
    return sparse.csr_matrix((np.ones(inc.nnz), inc.indices + m, np.r_[inc.indptr, np.full(n, inc.nnz)]),
                             shape=(m + n, m + n))


def _components(system: _System, suppressed: np.ndarray, inc,
                skip: np.ndarray | None = None) -> list[tuple[list[int], list[int]]]:
    """Groups of suppressed cells linked by constraints: (cells, constraint ids).

    Groups come in the order of their first cell, cells and constraints
    ascending within each. A group of slack cells only (an inequality
    between published figures) has nothing to protect and is left out, as
    is one whose every cell ``skip`` marks (the driver's cells shown safe:
    such a group needs no check). Only the groups returned are made into
    lists (a pass has thousands of groups, most of them left out).
    """
    from scipy.sparse.csgraph import connected_components

    hidden = np.flatnonzero(suppressed)
    if hidden.size == 0:
        return []
    sub = inc[:, hidden].tocsr()
    active = np.flatnonzero(np.diff(sub.indptr) > 0)
    sub = sub[active]
    m = sub.shape[0]
    n_groups, labels = connected_components(_bipartite(sub), directed=False)
    # every group holds a cell (a constraint is active only with a hidden cell); a stable sort by group keeps
    # ``hidden`` and ``active`` ascending within each
    cell_lab, con_lab = labels[m:], labels[:m]
    by_cell = np.argsort(cell_lab, kind="stable")
    cells_sorted = hidden[by_cell]
    cell_at = np.r_[0, np.cumsum(np.bincount(cell_lab, minlength=n_groups))]
    cons_sorted = active[np.argsort(con_lab, kind="stable")]
    con_at = np.r_[0, np.cumsum(np.bincount(con_lab, minlength=n_groups))]
    starts = cell_at[:-1]
    drop = np.logical_and.reduceat(system.free_slack()[cells_sorted], starts)
    if skip is not None:
        drop |= np.logical_and.reduceat(skip[cells_sorted], starts)
    first = by_cell[starts]  # each group's first cell, as a position in ``hidden``
    keep = np.flatnonzero(~drop)
    out = []
    for g in keep[np.argsort(first[keep], kind="stable")].tolist():
        out.append((cells_sorted[cell_at[g]:cell_at[g + 1]].tolist(), cons_sorted[con_at[g]:con_at[g + 1]].tolist()))
    return out
