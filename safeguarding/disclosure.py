"""Disclosure control for everything the public sees.

The rules follow the Department for Education's statistical publications:

* a count from 1 to 5 is replaced by ``c`` (primary suppression);
* a true zero is shown as ``0``; a figure that is not available is ``:``; a
  figure that does not apply (a denominator of a count) is ``z``; ``x`` marks a
  figure withheld for another reason;
* **secondary suppression**: further cells are hidden so that no suppressed
  value can be worked out from the totals that are published with it (row,
  column, headline and period totals, and figures repeated in other
  indicators);
* a percentage or rate is suppressed when its numerator is suppressed (and a
  percentage also when its denominator is).

How secondary suppression works
-------------------------------
Every publishable count is a *cell*; every exact additive relation between
published cells is a linear *constraint* (``total - part_1 - ... - part_n = 0``,
``stock_end - stock_start - inflow + outflow = 0``, or ``a - b = 0`` when the
same count appears twice, as a stock at a month end does in the quarter and
year tables). Starting from the primary cells we repeat, until
nothing changes:

1. **line rule**: any constraint holding exactly one suppressed cell would give
   that cell away by subtraction, so the cheapest non-zero published cell of
   that constraint is suppressed as well (by :attr:`_System.cost`, then parts
   before totals, then the smallest value; the indicator table's costs,
   :func:`partner_costs`, spare headline and latest-year figures);
2. **linear-algebra rule**: a suppressed cell is recoverable from *several*
   constraints together when its unit vector lies in the row space of the
   constraint matrix restricted to the suppressed cells (it has no component in
   the null space). Such a cell gets a partner as in rule 1;
3. **bounds rule**: a reader knows that a ``c`` cell is at least 1 (zeros are
   shown). Where a group of suppressed cells contains values at that bound, a
   linear programme (``scipy.optimize.linprog``) finds the smallest and largest
   value each cell could take; a cell whose range is narrower than 1 is treated
   as recoverable and gets a partner.

Limitations (documented, deliberate): only relations that hold *exactly* in
the data are used (a breakdown whose values do not add up to the headline,
because of an unpublished "unknown" group, is not a constraint);
the complement ``denominator - numerator`` of a percentage is not treated as a
published cell (it is not published by this project; a reader who sees 18 of
20 knows 2 were not, as in DfE's own tables). Relations with figures published
elsewhere (another organisation's report) cannot be seen here.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from safeguarding.measures import round_half_up
from safeguarding.schema import INDICATOR_COLUMNS

#: markers used in published tables and what they mean
MARKERS: dict[str, str] = {
    "c": "Suppressed to protect confidentiality: a count from 1 to 5, or a figure from which one could be "
    "worked out (secondary suppression).",
    "z": "Not applicable (for example the denominator of a count).",
    "x": "Withheld for another reason (for example data quality).",
    ":": "Not available (no data for this period).",
    "0": "A true zero: nothing happened.",
}

#: stock = stock at previous period end + inflow - outflow, checked in the data before use
DEFAULT_BALANCES: tuple[tuple[str, str, str], ...] = (
    ("CPP_OPEN:value", "CPP_STARTED:value", "CPP_ENDED:value"),
    ("PF_OPEN:value", "PF_NEW:value", "PF_ENDED:value"),
    ("LADO_OPEN:value", "LADO_REFERRALS:value", "LADO_CONCLUDED_1M:denominator"),
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_TOL = 1e-6


# --------------------------------------------------------------------------- engine
class _System:
    """Cells (true values) and exact linear constraints between them."""

    def __init__(self, values: Sequence[float]):
        self.values = np.asarray(values, dtype=float)
        # each constraint: (cell indices, coefficients, is_part flags)
        self.constraints: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        #: cost of hiding each cell as a partner (lower is chosen first; ties go to the smaller value)
        self.cost = np.zeros(len(self.values), dtype=int)

    def add(self, cells: Sequence[int], coefs: Sequence[float], parts: Sequence[bool]) -> None:
        """Add ``sum(coef * value) == 0`` over cells; cells with NaN values are treated as known."""
        idx = np.asarray(cells, dtype=int)
        keep = ~np.isnan(self.values[idx])
        if keep.sum() < 2:
            return
        self.constraints.append((idx[keep], np.asarray(coefs, float)[keep], np.asarray(parts, bool)[keep]))


def _partner(system: _System, con_ids: Iterable[int], suppressed: np.ndarray, zeros: bool = True,
             below: int | None = None) -> int | None:
    """Best published cell to suppress among the given constraints: cheapest, then parts, then smallest.

    Cells are compared by :attr:`_System.cost` first, then parts before
    totals, then by value. With ``zeros=False`` a true zero is never chosen (it
    is shown as ``0``); otherwise a zero comes last. With ``below``, only
    cells costing less than it are considered.
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
    if not zeros:
        open_ &= system.values[idx] != 0
    if below is not None:
        open_ &= system.cost[idx] < below
    if not open_.any():
        return None
    idx, parts = idx[open_], parts[open_]
    v = system.values[idx]
    # sort keys, last is primary: zero last, cheapest first, parts first, smallest value, lowest id
    order = np.lexsort((idx, v, ~parts, system.cost[idx], v == 0))
    return int(idx[order[0]])


def _incidence(system: _System):
    """Sparse constraint-by-cell 0/1 matrix (CSR)."""
    from scipy import sparse

    rows = np.concatenate([np.full(len(c[0]), k) for k, c in enumerate(system.constraints)] or [np.zeros(0, int)])
    cols = np.concatenate([c[0] for c in system.constraints] or [np.zeros(0, int)])
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(system.constraints), len(system.values)))


def _line_rule(system: _System, suppressed: np.ndarray, inc) -> None:
    """Rule 1: no constraint may hold exactly one suppressed cell."""
    while True:
        counts = inc @ suppressed.astype(float)
        lonely = np.flatnonzero(np.abs(counts - 1) < 0.5)
        added = False
        for k in lonely:
            idx = system.constraints[k][0]
            if int(suppressed[idx].sum()) != 1:
                continue  # a partner was added earlier in this pass
            cell = _partner(system, [k], suppressed)
            if cell is not None:
                suppressed[cell] = True
                added = True
        if not added:
            return


def _components(system: _System, suppressed: np.ndarray, inc) -> list[tuple[list[int], list[int]]]:
    """Groups of suppressed cells linked by constraints: (cells, constraint ids)."""
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    hidden = np.flatnonzero(suppressed)
    if hidden.size == 0:
        return []
    sub = inc[:, hidden].tocsr()
    active = np.flatnonzero(np.diff(sub.indptr) > 0)
    sub = sub[active]
    m = sub.shape[0]
    graph = sparse.bmat([[None, sub], [sub.T, None]], format="csr")
    _, labels = connected_components(graph, directed=False)
    cells: dict[int, list[int]] = defaultdict(list)
    cons: dict[int, list[int]] = defaultdict(list)
    for j, lab in enumerate(labels[m:]):
        cells[int(lab)].append(int(hidden[j]))
    for i, lab in enumerate(labels[:m]):
        cons[int(lab)].append(int(active[i]))
    return [(sorted(cells[r]), cons.get(r, [])) for r in cells]


def _coefficients(system: _System):
    """Sparse constraint-by-cell matrix of coefficients (CSR)."""
    from scipy import sparse

    rows = np.concatenate([np.full(len(c[0]), k) for k, c in enumerate(system.constraints)] or [np.zeros(0, int)])
    cols = np.concatenate([c[0] for c in system.constraints] or [np.zeros(0, int)])
    data = np.concatenate([c[1] for c in system.constraints] or [np.zeros(0)])
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(system.constraints), len(system.values)))


class _Group:
    """One group of linked suppressed cells as a reader sees it.

    A reader's alternative values for the group are ``x + d`` with ``A d = 0``
    (the published cells of each constraint are constants) and ``x + d >= lb``.
    Cells tied by an equality constraint (the same count published twice) share
    a column: ``col[i]`` is the column of ``cells[i]``. ``A`` (sparse CSR, integer
    coefficients) holds every other constraint of the group restricted to its
    columns; ``x`` holds the true values and ``lb`` what a reader knows: a ``c``
    is at least 1 (0 for a suppressed true zero, which keeps the truth feasible).
    ``published`` lists the published cells of those constraints and ``P``
    their coefficients (same rows as ``A``).
    """

    def __init__(self, system: _System, cells: list[int], cons: list[int], coef, is_eq: np.ndarray,
                 suppressed: np.ndarray):
        from scipy import sparse
        from scipy.sparse.csgraph import connected_components

        self.cells = np.asarray(cells, dtype=int)
        cons_a = np.asarray(cons, dtype=int)
        nc = self.cells.size
        full = coef[cons_a]
        sub = full[:, self.cells].tocsr()
        eq = is_eq[cons_a] & (np.diff(sub.indptr) == 2)
        pairs = sub[eq].indices.reshape(-1, 2)
        link = sparse.csr_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(nc, nc))
        self.n, self.col = connected_components(link, directed=False)
        merge = sparse.csr_matrix((np.ones(nc), (np.arange(nc), self.col)), shape=(nc, self.n))
        A = (sub[~eq] @ merge).tocsr()
        A.data = np.round(A.data)
        A.eliminate_zeros()
        keep = np.diff(A.indptr) > 0
        self.A = A[keep]
        full = full[~eq][keep].tocsr()
        self.published = np.unique(full.indices[~suppressed[full.indices]])
        self.P = full[:, self.published].tocsr()
        self.x = np.zeros(self.n)
        self.x[self.col] = system.values[self.cells]
        self.lb = np.where(self.x >= 1, 1.0, 0.0)

    def scaling_set(self) -> np.ndarray:
        """Columns ``S`` (non-zero counts) such that ``d = x`` on ``S``, 0 elsewhere, is a move (bool per column).

        Then ``x + t d`` fits everything published for every ``t >= 0``: each
        cell of ``S`` can take any value from its true value up. Found by
        starting from every non-zero column and dropping the columns of any
        constraint the move would break, until none is broken (in a connected
        group this leaves either nothing or every non-zero column).
        """
        s = self.x >= 1
        while s.any():
            broken = np.flatnonzero(self.A @ (self.x * s))
            if broken.size == 0:
                break
            s[np.unique(self.A[broken].indices)] = False
        return s

    def cells_of(self, columns: np.ndarray) -> list[int]:
        """System cell ids of the given columns (boolean mask over columns)."""
        return [int(c) for c in self.cells[columns[self.col]]]


#: prime for the modular back-substitution of :meth:`_Echelon.free` (2**61 - 1)
_PRIME = (1 << 61) - 1


class _Echelon:
    """Exact sparse Gaussian elimination of an integer matrix, columns taken in a set order.

    Rows are dicts ``{column: integer}``; arithmetic is in Python integers, so
    nothing is rounded. Columns are pivoted class by class (``klass``, lowest
    first; class 3 is carried along but never pivoted) and within a class the
    sparsest first, so that fill-in stays small. After the columns of classes
    up to ``k`` are pivoted, the rows left over (:meth:`residual`) hold only
    columns of higher classes: they are exactly the relations among those
    columns once the lower classes are solved for.
    """

    def __init__(self, A, klass: np.ndarray):
        A = A.tocsr()
        self.m, self.n = A.shape
        indptr, indices, data = A.indptr, A.indices.tolist(), A.data.tolist()
        self.rows: list[dict[int, int]] = []
        self.col_rows: list[set[int]] = [set() for _ in range(self.n)]
        for i in range(self.m):
            row = {indices[t]: int(data[t]) for t in range(indptr[i], indptr[i + 1])}
            self.rows.append(row)
            for c in row:
                self.col_rows[c].add(i)
        counts = np.array([len(s) for s in self.col_rows])
        self.klass = np.asarray(klass, dtype=int)
        order = np.lexsort((np.arange(self.n), counts, self.klass))
        self.order = order[self.klass[order] < 3].tolist()
        self.next = 0
        self.active = np.ones(self.m, dtype=bool)
        self.pivots: list[tuple[int, dict[int, int]]] = []

    def run(self, upto: int) -> None:
        """Pivot on every column of class ``upto`` or lower that still appears in a row."""
        rows, col_rows, order = self.rows, self.col_rows, self.order
        while self.next < len(order) and self.klass[order[self.next]] <= upto:
            c = order[self.next]
            self.next += 1
            live = col_rows[c]
            if not live:
                continue
            p = min(live, key=lambda i: len(rows[i]))
            prow = rows[p]
            self.active[p] = False
            for cc in prow:
                col_rows[cc].discard(p)
            a_p = prow[c]
            others = [(cc, v) for cc, v in prow.items() if cc != c]
            for i in list(live):
                row = rows[i]
                a_i = row.pop(c)
                scaled = a_i % a_p != 0
                if scaled:
                    for cc in row:
                        row[cc] *= a_p
                    f = a_i
                else:
                    f = a_i // a_p
                for cc, v in others:
                    old = row.get(cc)
                    if old is None:
                        row[cc] = -f * v
                        col_rows[cc].add(i)
                    elif old == f * v:
                        del row[cc]
                        col_rows[cc].discard(i)
                    else:
                        row[cc] = old - f * v
                if scaled and row:
                    g = 0
                    for v in row.values():
                        g = math.gcd(g, v)
                    if g > 1:
                        for cc in row:
                            row[cc] //= g
            live.clear()
            self.pivots.append((c, prow))

    def residual(self, columns: np.ndarray):
        """The rows not used as pivots, restricted to ``columns`` (CSR, columns renumbered in order)."""
        from scipy import sparse

        pos = {int(c): j for j, c in enumerate(columns)}
        r, cc, v = [], [], []
        k = 0
        for i in np.flatnonzero(self.active):
            entries = [(pos[c], a) for c, a in self.rows[i].items() if c in pos]
            if not entries:
                continue
            for j, a in entries:
                r.append(k)
                cc.append(j)
                v.append(a)
            k += 1
        return sparse.csr_matrix((np.array(v, dtype=float), (r, cc)), shape=(k, len(columns)))

    def drop(self, columns: np.ndarray) -> None:
        """Fix the given columns at zero: remove them from the rows not yet used as pivots."""
        for c in columns:
            for i in self.col_rows[c]:
                del self.rows[i][c]
            self.col_rows[c].clear()

    def free(self, zero: np.ndarray, seed: int = 0) -> np.ndarray:
        """Columns ``j`` with ``d_j != 0`` for some ``d`` in the null space (``d = 0`` on ``zero``); bool.

        Call after every column is pivoted. The null space is sampled by one
        back-substitution with random values for the free variables, modulo a
        61-bit prime: a coordinate that is zero over the rationals is zero
        modulo the prime, so a column reported free really is free; a free
        column is missed only if the random combination vanishes there
        (probability about 1e-18), which would merely over-suppress.
        """
        rng = np.random.default_rng(seed)
        v = [int(a) for a in rng.integers(1, _PRIME, size=self.n)]
        for c in np.flatnonzero(zero):
            v[c] = 0
        for c, _ in self.pivots:
            v[c] = 0
        for c, prow in reversed(self.pivots):
            a = prow[c] % _PRIME
            if a == 0:  # pragma: no cover - a pivot divisible by the prime: report nothing free (safe)
                return np.zeros(self.n, dtype=bool)
            s = 0
            for cc, val in prow.items():
                if cc != c:
                    s += val * v[cc]
            v[c] = (-s * pow(a, -1, _PRIME)) % _PRIME
        return np.array([val != 0 for val in v], dtype=bool)

    def blocks(self, n: int):
        """The pivot rows as sparse blocks: ``(pivot columns, U, F, P)``.

        ``U`` (upper triangular, pivot order) holds the pivot columns, ``F`` the
        other columns below ``n`` and ``P`` the columns from ``n`` on (class 3).
        """
        from scipy import sparse

        piv = np.array([c for c, _ in self.pivots], dtype=int)
        pos = np.full(self.n, -1)
        pos[piv] = np.arange(piv.size)
        r, c, v = [], [], []
        for i, (_, prow) in enumerate(self.pivots):
            for cc, a in prow.items():
                r.append(i)
                c.append(cc)
                v.append(a)
        r_a, c_a, v_a = np.array(r, dtype=int), np.array(c, dtype=int), np.array(v, dtype=float)
        is_piv = pos[c_a] >= 0
        k = piv.size
        U = sparse.csr_matrix((v_a[is_piv], (r_a[is_piv], pos[c_a[is_piv]])), shape=(k, k))
        low = ~is_piv & (c_a < n)
        F = sparse.csr_matrix((v_a[low], (r_a[low], c_a[low])), shape=(k, n))
        high = ~is_piv & (c_a >= n)
        P = sparse.csr_matrix((v_a[high], (r_a[high], c_a[high] - n)), shape=(k, self.n - n))
        return piv, U, F, P


def _cone_fixed(R) -> np.ndarray:
    """Columns of ``R`` that are zero in every ``d >= 0`` with ``R d = 0`` (bool per column).

    One linear programme (HiGHS, sparse) maximises ``sum t_j`` with
    ``0 <= t_j <= min(1, d_j)``: the set of such ``d`` is a cone, closed under
    addition, so every column that can be non-zero at all gets ``t_j = 1``.
    """
    from scipy import sparse
    from scipy.optimize import linprog

    m, n = R.shape
    fixed = np.zeros(n, dtype=bool)
    if n == 0 or m == 0:
        return fixed
    ar = np.arange(n)
    A_eq = sparse.hstack([R, sparse.csr_matrix((m, n))], format="csr")
    A_ub = sparse.csr_matrix((np.r_[-np.ones(n), np.ones(n)], (np.r_[ar, ar], np.r_[ar, n + ar])), shape=(n, 2 * n))
    bounds = np.c_[np.zeros(2 * n), np.r_[np.full(n, np.inf), np.ones(n)]]
    res = linprog(np.r_[np.zeros(n), -np.ones(n)], A_ub=A_ub, b_ub=np.zeros(n), A_eq=A_eq, b_eq=np.zeros(m),
                  bounds=bounds, method="highs")
    if res.status == 0:
        fixed[res.x[n:] < 0.5] = True
    else:  # pragma: no cover - the zero vector is always feasible; be safe anyway
        fixed[:] = True
    return fixed


def _basis_moves(group: _Group, piv: np.ndarray, U, F, fixed: np.ndarray, scal: np.ndarray,
                 todo: np.ndarray) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Columns moved by at least 1 by an integer null-space basis vector that fits the bounds.

    For each free column ``f`` the basis vector ``v`` (``v_f = 1``, other free
    and fixed columns 0, pivots by back-substitution) is computed in floating
    point, rounded and then checked *exactly*: ``A v = 0`` in integers and
    ``x + v >= lb`` or ``x - v >= lb`` outside the scaling set (a shortfall in
    ``S`` is made up by adding ``t x_S``). Such a ``v`` is another table of whole
    numbers that fits everything published, so every column it changes moves
    by at least 1. Stops once every column in ``todo`` is shown.

    Returns ``(shown, near)``: ``near`` maps each column of ``todo`` not shown to
    the columns of the basis vectors through it (where to look for a move).
    """
    from scipy.sparse.linalg import splu

    n = group.n
    A, x, lb = group.A, group.x, group.lb
    shown = np.zeros(n, dtype=bool)
    is_piv = np.zeros(n, dtype=bool)
    is_piv[piv] = True
    free_cols = np.flatnonzero(~is_piv & ~fixed)
    Fc = F.tocsc()
    check = ~scal
    lu = splu(U.tocsc(), permc_spec="NATURAL", diag_pivot_thresh=0.0) if piv.size else None
    supports: list[np.ndarray] = []
    for start in range(0, free_cols.size, 256):
        if not (todo & ~shown).any():
            break
        chunk = free_cols[start:start + 256]
        k = chunk.size
        V = np.zeros((n, k))
        if lu is not None:
            rhs = -Fc[:, chunk].toarray()
            if rhs.any():
                with np.errstate(all="ignore"):
                    V[piv] = lu.solve(rhs)
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
        supports.extend(np.flatnonzero(nz[:, i]) for i in range(k))
    near: dict[int, list[np.ndarray]] = defaultdict(list)
    wanted = todo & ~shown
    for sup in supports:
        for c in sup[wanted[sup]]:
            near[int(c)].append(sup)
    return shown, {c: np.unique(np.concatenate(v)) for c, v in near.items()}


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


#: cells per group and pass given a linear programme on the columns near them (bounds rule)
MAX_LOCAL_LPS = 200
#: cells per group and pass given linear programmes on the whole group (bounds rule, last resort)
MAX_SINGLE_LPS = 10


def _range_lp(group: _Group, scal: np.ndarray, j: int, cols: np.ndarray | None) -> tuple[float, float, list]:
    """Smallest and largest move of column ``j`` (as ``(low, high)``), over ``cols`` only (others held).

    Holding the other columns at their true values keeps every move found a
    move of the whole group (every constraint touching ``cols`` is kept).
    Returns the checked moves found too (each as ``(columns, d)``).
    """
    from scipy.optimize import linprog

    A, x, lb = group.A, group.x, group.lb
    if cols is None:
        cols = np.arange(group.n)
    sub = A[:, cols]
    sub = sub[np.diff(sub.indptr) > 0]
    low = np.where(scal[cols], -np.inf, (lb - x)[cols])
    bounds = np.c_[low, np.full(cols.size, np.inf)]
    jj = int(np.searchsorted(cols, j))
    ends, moves = [], []
    for s in (1.0, -1.0):
        obj = np.zeros(cols.size)
        obj[jj] = s
        res = linprog(obj, A_eq=sub, b_eq=np.zeros(sub.shape[0]), bounds=bounds, method="highs")
        if res.status == 3:  # unbounded: the cell can move without limit
            ends.append(-s * np.inf)
            continue
        d = _feasible_move(sub, low, res.x) if res.status == 0 else None
        if d is not None:
            moves.append((cols, d))
        ends.append(0.0 if d is None else float(d[jj]))
    return ends[0], ends[1], moves


def _lp_moves(group: _Group, scal: np.ndarray, todo: np.ndarray, near: Mapping[int, np.ndarray],
              stats: dict | None = None) -> np.ndarray:
    """Columns in ``todo`` whose feasible range, by linear programming, is at least 1 wide; bool.

    Cells of the scaling set may go below their bound (``t x_S`` makes up the
    shortfall). Each undecided column first gets its smallest and largest
    value over the columns ``near`` it (at most :data:`MAX_LOCAL_LPS` columns
    per call), then, for at most :data:`MAX_SINGLE_LPS` columns, over the
    whole group. Every move found also shows the other columns it shifts by
    at least 1. Columns still undecided stay unshown (over-suppression only).
    """
    wide = np.zeros(group.n, dtype=bool)
    lps = 0
    for tries, scope in ((MAX_LOCAL_LPS, "near"), (MAX_SINGLE_LPS, "all")):
        for j in np.flatnonzero(todo & ~wide)[:tries]:
            if wide[j]:
                continue
            cols = None
            if scope == "near":
                cols = near.get(int(j))
                if cols is None or cols.size > 3000:
                    continue
            lo, hi, moves = _range_lp(group, scal, int(j), cols)
            lps += 2
            for c, d in moves:
                wide[c[np.abs(d) >= 1 - 1e-9]] = True
            if hi - lo >= 1 - 1e-9:
                wide[j] = True
    if stats is not None:
        stats["lps"] = stats.get("lps", 0) + lps
    return wide & todo


def _check_group(group: _Group, known: np.ndarray,
                 stats: dict | None = None) -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray | None]]:
    """Rules 2 and 3 on one group: ``(shown_safe, pinned, blame)``, the first two bool per column.

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
    safe = known | (x == 0)  # a hidden true zero needs no protection of its own: 0 is published anyway
    none = np.zeros(n, dtype=bool)
    if A.shape[0] == 0:
        return np.ones(n, dtype=bool), none, {}
    scal = group.scaling_set()
    safe |= scal
    if safe.all():
        return safe, none, {}
    at = (x - lb < _TOL) & ~scal
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
        return safe, pinned, _blame(piv, U, P, pinned)
    shown, near = _basis_moves(group, piv, U, F, fixed, scal, ~safe)
    safe |= shown
    if not safe.all():
        safe |= _lp_moves(group, scal, ~safe, near, stats)
    return safe, ~safe, {}


#: pinned cells per group and pass whose published sources are traced (the rest wait for the next pass)
MAX_BLAME = 512


def _blame(piv: np.ndarray, U, P, pinned: np.ndarray) -> dict[int, np.ndarray | None]:
    """For pinned pivot columns, the published columns with a non-zero weight in their expression.

    Columns past the first :data:`MAX_BLAME` map to None (not traced).

    A determined cell equals a fixed combination of published cells; row
    ``j`` of ``-U^-1 P`` gives the weights (floating point: this only guides
    the choice of partners, every choice is checked again).
    """
    from scipy.sparse.linalg import spsolve_triangular

    pos = np.full(pinned.size, -1)
    pos[piv] = np.arange(piv.size)
    cols = np.flatnonzero(pinned & (pos >= 0))
    out: dict[int, np.ndarray | None] = {int(c): None for c in cols[MAX_BLAME:]}  # not traced this time
    cols = cols[:MAX_BLAME]
    if cols.size == 0 or P.shape[1] == 0:
        return out
    E = np.zeros((piv.size, cols.size))
    E[pos[cols], np.arange(cols.size)] = 1.0
    with np.errstate(all="ignore"):
        Z = spsolve_triangular(U.T.tocsr(), E, lower=True)
    W = np.abs(np.asarray((P.T @ Z).T))
    for i, c in enumerate(cols):
        w = W[i]
        top = np.max(w, initial=0.0)
        if np.isfinite(top) and top > 0:
            out[int(c)] = np.flatnonzero(w > 1e-7 * top)
    return out


def _best(system: _System, cells: np.ndarray) -> int | None:
    """Best cell to suppress among ``cells``: cheapest first, then the smallest value; never a true zero."""
    pool = cells[system.values[cells] != 0]
    if pool.size == 0:
        return None
    order = np.lexsort((pool, system.values[pool], system.cost[pool]))
    return int(pool[order[0]])


def _nearest_partner(system: _System, cell: int, suppressed: np.ndarray, by_cell: Mapping[int, list[int]],
                     zeros: bool, below: int | None = None, depth: int | None = None) -> int | None:
    """Partner for one cell: from its own constraints, else the nearest ones reachable through linked cells.

    Rings of constraints are walked outwards (at most ``depth`` of them, if
    given); the first ring holding a candidate gives its best one
    (:func:`_partner`, with ``zeros`` and ``below``).
    """
    seen_cells, seen_cons = {cell}, set()
    frontier = [cell]
    rings = 0
    while frontier and (depth is None or rings < depth):
        rings += 1
        cons = [k for c in frontier for k in by_cell[c] if k not in seen_cons]
        seen_cons.update(cons)
        partner = _partner(system, cons, suppressed, zeros=zeros, below=below)
        if partner is not None:
            return partner
        nxt = []
        for k in cons:
            for c in system.constraints[k][0]:
                if int(c) not in seen_cells:
                    seen_cells.add(int(c))
                    nxt.append(int(c))
        frontier = nxt
    return None


#: a partner costing this much or more (a headline figure) is taken only if no cheaper cell lies near
EXPENSIVE = 3
#: times a pinned cell is given a cheaper, farther partner before an expensive near one is accepted
MAX_CHEAPER_TRIES = 3
#: how many rings of relations out from a pinned cell the search for a cheaper partner goes
CHEAPER_DEPTH = 3


def _give_partners(system: _System, pinned: list[int], suppressed: np.ndarray,
                   by_cell: Mapping[int, list[int]], tries: dict[int, int] | None = None) -> list[int]:
    """Suppress a partner for each pinned cell; return the pinned cells for which none was found.

    The partner is the best published non-zero cell (:func:`_partner`) of the
    cell's own constraints. When that is an expensive cell (a headline
    figure, cost :data:`EXPENSIVE` or more) and a cheaper one lies a few
    relations away (:func:`_nearest_partner` with a cost ceiling), the cheaper one is hidden
    instead, up to :data:`MAX_CHEAPER_TRIES` times per cell (``tries`` counts
    them across passes; the next pass checks whether it was enough). For a
    cell whose constraints hold none, the
    search widens ring by ring through linked cells, in one breadth-first
    search for all such cells at once (each ring of constraints belonging to
    the cell that reached it first). True zeros are not chosen (a zero is
    shown as ``0``); cells left over are handled by :func:`_far_partners` if
    nothing else changes in a pass.
    """
    left = []
    tries = {} if tries is None else tries
    for cell in pinned:
        partner = _partner(system, by_cell[cell], suppressed, zeros=False)
        if partner is not None and system.cost[partner] >= EXPENSIVE and tries.get(cell, 0) < MAX_CHEAPER_TRIES:
            cheaper = _nearest_partner(system, cell, suppressed, by_cell, zeros=False,
                                       below=int(system.cost[partner]), depth=CHEAPER_DEPTH)
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
                  by_cell: Mapping[int, list[int]]) -> list[int]:
    """A partner for each cell from its own search (:func:`_nearest_partner`), a true zero only as a last resort.

    Returns the cells for which nothing at all could be found.
    """
    stuck = []
    for cell in cells:
        for zeros in (False, True):
            partner = _nearest_partner(system, cell, suppressed, by_cell, zeros)
            if partner is not None:
                suppressed[partner] = True
                break
        else:
            stuck.append(cell)
    return stuck


#: largest group of linked suppressed cells given the full check (:func:`_check_group`); a larger
#: group gets only the single-relation rules (:func:`_residual_rule`) and is reported as unverified
MAX_EXACT = 5_000


def _residual_rule(system: _System, cells: list[int], cons: list[int], suppressed: np.ndarray) -> list[int]:
    """Cheap bounds rule for groups too large to check: in a sum whose hidden parts must all be at their bound.

    Finds the cells of a single relation whose hidden parts, all with the same
    coefficient, add up to no more than their lower bounds (each ``c`` at least
    1): a reader then knows every one of them. Relations combined with others
    are not examined (that is what the full check does).
    """
    out = []
    for k in cons:
        idx, coef, _ = system.constraints[k]
        hid = suppressed[idx]
        if hid.sum() < 2 or hid.sum() == len(idx):
            continue
        if not np.all(coef[hid] == coef[hid][0]):
            continue
        rest = -float(np.dot(coef[~hid], system.values[idx][~hid])) * coef[hid][0]
        lbs = np.where(system.values[idx][hid] >= 1, 1.0, 0.0)
        if rest <= lbs.sum() + _TOL:
            out.append(int(idx[hid][0]))
    return out


def _secondary(system: _System, primary: np.ndarray, stats: dict | None = None) -> np.ndarray:
    """Extend the primary suppression until no suppressed cell can be recovered.

    Each pass applies the line rule, then checks every group of linked
    suppressed cells that still holds a cell not yet shown safe
    (:func:`_check_group`) and gives each pinned cell a partner. A cell shown
    safe stays safe: suppressing more cells only adds tables that fit what is
    published. A group larger than :data:`MAX_EXACT` cells gets only the
    single-relation rule (:func:`_residual_rule`) and is reported, with a
    warning, as unverified: a combination of relations might still pin one of
    its cells. ``stats``, if given, receives ``passes``, ``largest_group``,
    ``lps`` (linear programmes), ``unprotected`` (pinned cells for which no
    partner was found), ``unverified_groups`` and ``unverified_cells`` (groups
    over :data:`MAX_EXACT` in the last pass, and their cells).
    """
    import logging

    suppressed = primary.copy()
    by_cell: dict[int, list[int]] = defaultdict(list)
    for k, (idx, _, _) in enumerate(system.constraints):
        for c in idx:
            by_cell[int(c)].append(k)
    inc = _incidence(system)
    coef = _coefficients(system)
    is_eq = np.array([len(idx) == 2 and a[0] == -a[1] for idx, a, _ in system.constraints], dtype=bool)
    shown = np.zeros(len(system.values), dtype=bool)  # cells shown safe
    tries: dict[int, int] = {}  # cheaper, farther partners given to each pinned cell (_give_partners)
    info: dict = {"passes": 0, "largest_group": 0, "lps": 0}
    for _ in range(10_000):
        info["passes"] += 1
        _line_rule(system, suppressed, inc)
        added = False
        deferred: list[int] = []  # pinned cells still without a partner
        later: list[int] = []  # pinned cells left for the next pass (a partner for them may already be in)
        large: list[int] = []  # sizes of the groups too large for the full check
        for cells, cons in _components(system, suppressed, inc):
            cells_a = np.asarray(cells, dtype=int)
            if shown[cells_a].all():
                continue
            info["largest_group"] = max(info["largest_group"], len(cells))
            if len(cells) > MAX_EXACT:
                large.append(len(cells))
                before = int(suppressed.sum())
                deferred.extend(_give_partners(system, _residual_rule(system, cells, cons, suppressed),
                                               suppressed, by_cell, tries))
                added = added or int(suppressed.sum()) > before
                continue
            group = _Group(system, cells, cons, coef, is_eq, suppressed)
            known = np.zeros(group.n, dtype=bool)
            known[group.col[shown[cells_a]]] = True
            safe, pinned, blame = _check_group(group, known, info)
            shown[cells_a[safe[group.col]]] = True
            if not pinned.any():
                continue
            # a partner among the published cells a pinned cell is worked out from; one partner
            # serves every pinned cell that depends on it (the next pass checks again)
            taken: set[int] = set()
            others = np.zeros(group.n, dtype=bool)
            for j in np.flatnonzero(pinned):
                if int(j) in blame and blame[int(j)] is None:  # not traced this pass
                    later.append(int(group.cells[group.col == j][0]))
                    continue
                pubs = group.published[blame.get(int(j), np.zeros(0, dtype=int))]
                if taken.intersection(pubs.tolist()):
                    later.append(int(group.cells[group.col == j][0]))
                    continue
                best = _best(system, pubs[~suppressed[pubs]])
                if best is None:
                    others[j] = True
                    continue
                suppressed[best] = True
                taken.add(best)
                added = True
            if others.any():
                cells_p = group.cells_of(others)
                stuck = _give_partners(system, cells_p, suppressed, by_cell, tries)
                added = added or len(stuck) < len(cells_p)
                deferred.extend(stuck)
        if not added and (deferred or later):  # nothing else moved: search further for the cells left over
            deferred += later
            stuck = _far_partners(system, deferred, suppressed, by_cell)
            added = len(stuck) < len(deferred)
            deferred = stuck
        if not added:
            if deferred:  # pragma: no cover - every cell linked to them is already hidden
                logging.getLogger(__name__).warning(
                    "secondary suppression: %d suppressed cells could not be protected: every cell linked "
                    "to them is already suppressed", len(deferred))
            info["unprotected"] = len(deferred)
            info["unverified_groups"] = len(large)
            info["unverified_cells"] = int(sum(large))
            if large:
                logging.getLogger(__name__).warning(
                    "secondary suppression: %d groups of linked suppressed cells (%d cells, the largest %d) are "
                    "larger than MAX_EXACT=%d and were checked only relation by relation", len(large), sum(large),
                    max(large), MAX_EXACT)
            if stats is not None:
                stats.update(info)
            return suppressed
    raise RuntimeError("secondary suppression did not converge")  # pragma: no cover


def _in_threshold(values: np.ndarray, threshold: tuple[int, int]) -> np.ndarray:
    lo, hi = threshold
    with np.errstate(invalid="ignore"):
        return (values >= lo) & (values <= hi)


def _count_text(v: float) -> str:
    return ":" if pd.isna(v) else (str(int(v)) if float(v).is_integer() else f"{v:g}")


# --------------------------------------------------------------------------- tables
def suppress_table(
    df: pd.DataFrame,
    count_columns: Sequence[str],
    *,
    total_row: object | None = None,
    total_column: str | None = None,
    column_sums: Mapping[str, Sequence[str]] | None = None,
    threshold: tuple[int, int] = (1, 5),
    secondary: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Suppress small counts in a two-way table and protect them from its totals.

    Args:
        df: one row per category; ``count_columns`` hold counts (NaN = not available).
        count_columns: the columns holding counts (including ``total_column``).
        total_row: index label of the row holding column totals, if published.
        total_column: name of the column holding row totals, if published.
        column_sums: further column totals, e.g. ``{"Q1": ["Apr", "May", "Jun"]}``
            (period totals); each total column must be in ``count_columns``.
        threshold: inclusive range of counts to suppress (DfE: 1 to 5).
        secondary: apply secondary suppression (turn off only for private board packs).

    Returns:
        ``(display, mask)``: ``display`` is a copy of ``df`` whose count columns
        are strings (``"c"`` suppressed, ``":"`` not available, ``"0"`` true zero);
        ``mask`` is a boolean frame (True = suppressed) over the count columns.

    A total that does not equal the sum of its parts is not used as a constraint
    (it cannot be used to recover a part exactly); parts that exceed their total
    raise ``ValueError``.
    """
    cols = list(count_columns)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"suppress_table: columns {missing} not in the table; columns are {list(df.columns)}")
    if total_column is not None and total_column not in cols:
        cols.append(total_column)
    if total_row is not None and total_row not in df.index:
        raise ValueError(f"suppress_table: total_row {total_row!r} is not an index label of the table")
    if df.index.has_duplicates:
        raise ValueError("suppress_table: the table index has duplicate labels; give each row a unique label")
    try:
        values = df[cols].apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"suppress_table: count columns must be numeric ({exc})") from exc
    n_rows, n_cols = values.shape
    if np.any(values[~np.isnan(values)] < 0):
        raise ValueError("suppress_table: counts cannot be negative")
    system = _System(values.ravel())
    pos = {c: j for j, c in enumerate(cols)}
    rows = list(df.index)

    def cell(i: int, j: int) -> int:
        return i * n_cols + j

    def add_line(total: int, parts: list[int], where: str) -> None:
        tv = system.values[total]
        pv = system.values[parts]
        if np.isnan(tv):
            return
        s = np.nansum(pv)
        if s > tv + _TOL:
            raise ValueError(f"suppress_table: {where}: parts add up to {s:g}, more than the total {tv:g}")
        if abs(s - tv) <= _TOL:
            system.add([total, *parts], [-1.0] + [1.0] * len(parts), [False] + [True] * len(parts))

    sums: dict[str, list[str]] = {k: list(v) for k, v in (column_sums or {}).items()}
    for k, v in sums.items():
        if k not in pos or any(c not in pos for c in v):
            raise ValueError(f"suppress_table: column_sums {k!r}: {v} must all be in count_columns")
    total_i = rows.index(total_row) if total_row is not None else None
    derived = set(sums) | ({total_column} if total_column else set())
    plain = [pos[c] for c in cols if c not in derived]
    for i in range(n_rows):
        if total_column is not None:
            add_line(cell(i, pos[total_column]), [cell(i, j) for j in plain], f"row {rows[i]!r}")
        for k, v in sums.items():
            add_line(cell(i, pos[k]), [cell(i, pos[c]) for c in v], f"row {rows[i]!r}, column {k!r}")
    if total_i is not None:
        body = [i for i in range(n_rows) if i != total_i]
        for j in range(n_cols):
            add_line(cell(total_i, j), [cell(i, j) for i in body], f"column {cols[j]!r}")
    primary = _in_threshold(system.values, threshold)
    suppressed = _secondary(system, primary) if secondary else primary
    mask = pd.DataFrame(suppressed.reshape(n_rows, n_cols), index=df.index, columns=cols)
    display = df.copy()
    for j, c in enumerate(cols):
        display[c] = pd.Series(
            ["c" if mask.iat[i, j] else _count_text(values[i, j]) for i in range(n_rows)],
            index=df.index, dtype="string",
        )
    return display, mask


# --------------------------------------------------------------------------- indicator table
def _indicator_kind(g: pd.DataFrame) -> str:
    """'count' (no denominator), 'percentage' (value = 100 n/d) or 'rate' (anything else)."""
    den = pd.to_numeric(g["denominator"], errors="coerce")
    if den.isna().all():
        return "count"
    num = pd.to_numeric(g["numerator"], errors="coerce")
    val = pd.to_numeric(g["value"], errors="coerce")
    ok = den.gt(0) & num.notna() & val.notna()
    if not ok.any():
        return "percentage" if (den.dropna() < 1e4).all() else "rate"
    pct = 100.0 * num[ok] / den[ok]
    return "percentage" if bool(np.all(np.abs(pct - val[ok]) <= 0.051 + 1e-9)) else "rate"


#: order in which period types are tried for a stock at the previous period end (balances)
_TYPE_ORDER = {"month": 0, "quarter": 1, "year": 2}

#: cost of hiding a cell as a secondary partner, by period type (see :func:`partner_costs`)
PERIOD_COST = {"month": 0, "quarter": 1, "rolling12": 1, "year": 2}
#: added to the cost of a headline (``breakdown == "all"``) cell
HEADLINE_COST = 3
#: added for the figures of the latest year in the table, headline and breakdowns (the report's tables)
LATEST_YEAR_COST = 3


def partner_costs(cells: pd.DataFrame) -> np.ndarray:
    """How much the publication loses when each cell is hidden as a secondary partner (integers, per row).

    ``cells`` has ``period_type``, ``period_end`` and ``breakdown`` columns.
    Breakdown cells cost least (months, then quarters, then years); headline
    cells cost :data:`HEADLINE_COST` more, and the latest year's figures
    (headline and breakdowns) :data:`LATEST_YEAR_COST` more again. The
    partner search hides the cheapest cell that protects a suppressed one,
    so the year's key figures are hidden only when nothing cheaper would do.
    Costs steer the choice; they never weaken the protection, which is
    checked again after every choice.
    """
    ptype = cells["period_type"].astype(str)
    cost = ptype.map(PERIOD_COST).fillna(1).astype(int).to_numpy()
    headline = cells["breakdown"].astype(str).eq("all").to_numpy()
    end = pd.to_datetime(cells["period_end"])
    years = end[ptype.eq("year").to_numpy()]
    latest = years.max() if len(years) else None
    cost = cost + HEADLINE_COST * headline
    if latest is not None:  # the year's tables, headline and breakdowns, are what the report is about
        cost = cost + LATEST_YEAR_COST * (ptype.eq("year").to_numpy() & (end == latest).to_numpy())
    return cost


def _share_costs(system: _System) -> None:
    """Give cells tied by an equality (the same count published twice) the highest cost among them.

    Hiding one of them hides the others too, so each is as costly as the most
    costly of the figures it stands for.
    """
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    pairs = [c[0] for c in system.constraints if len(c[0]) == 2 and c[1][0] == -c[1][1]]
    if not pairs:
        return
    p = np.array(pairs, dtype=int)
    n = len(system.values)
    graph = sparse.csr_matrix((np.ones(len(p)), (p[:, 0], p[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    top = np.zeros(labels.max() + 1, dtype=int)
    np.maximum.at(top, labels, system.cost)
    system.cost = top[labels]


def _pos(frame: pd.DataFrame, positions: np.ndarray) -> np.ndarray:
    """Positions in ``frame`` (from ``groupby.indices``) to positions in its parent (``frame.index``)."""
    return frame.index.to_numpy()[positions]


def suppress_indicator_table(
    ind: pd.DataFrame,
    *,
    threshold: tuple[int, int] = (1, 5),
    balances: Sequence[tuple[str, str, str]] = DEFAULT_BALANCES,
    stats: dict | None = None,
) -> pd.DataFrame:
    """Apply disclosure control to the indicator table (data contract columns).

    Counts (the ``value`` of a count indicator, the numerators of percentages
    and rates, the denominators of percentages) from 1 to 5 become ``c``.
    Secondary suppression protects them against every exact relation found in
    the table: breakdown values adding to the headline ``all`` row, months
    adding to quarters, years and rolling 12 months, quarters to years, the same
    count appearing in two indicators (e.g. ``REFERRAL_RATE`` numerator and
    ``REFERRALS``), and stock-flow balances (``balances``: open at end =
    open at previous end + started - ended, each as ``"INDICATOR:measure"``).
    Every relation is checked in the data before it is used.

    A percentage is suppressed when its numerator or denominator is; a rate
    (whose denominator is a published population) when its numerator is.

    ``stats``, if given, receives what the secondary suppression did: ``primary``
    and ``suppressed`` (cells), ``passes``, ``largest_group`` (linked suppressed
    cells), ``lps`` (linear programmes), ``unprotected``, and ``unverified_groups``
    and ``unverified_cells`` (groups over :data:`MAX_EXACT` linked cells, which
    get only the single-relation checks).

    Returns a copy with ``numerator``, ``denominator`` and ``value`` as strings
    (``c``, ``:`` not available, ``z`` not applicable, counts as integers,
    percentages and rates to 1 decimal place), ``suppressed`` (True where any
    figure on the row is hidden) and ``marker`` (the marker of ``value``:
    ``c``, ``:``, ``z`` or empty when published).
    """
    missing = [c for c in INDICATOR_COLUMNS if c not in ind.columns]
    if missing:
        raise ValueError(
            f"suppress_indicator_table: columns {missing} missing; the indicator table must have "
            f"{list(INDICATOR_COLUMNS)} (see safeguarding.schema.INDICATOR_COLUMNS)"
        )
    df = ind.reset_index(drop=True).copy()
    for c in ("numerator", "denominator", "value"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    for c in ("period_start", "period_end"):
        df[c] = pd.to_datetime(df[c])
    kinds = {i: _indicator_kind(g) for i, g in df.groupby("indicator_id", sort=False)}
    kind = df["indicator_id"].map(kinds)

    # cells: (row, measure)
    cols_np = {m: df[m].to_numpy(dtype=float) for m in ("numerator", "denominator", "value")}
    measure_of = {"count": ("value",), "percentage": ("numerator", "denominator"), "rate": ("numerator",)}
    cell_id: dict[tuple[int, str], int] = {}
    values: list[float] = []
    for r, k in enumerate(kind.to_numpy()):
        for m in measure_of[k]:
            cell_id[(r, m)] = len(values)
            values.append(cols_np[m][r])
    system = _System(values)
    vals = system.values
    long = pd.DataFrame(
        [(cid, r, m) for (r, m), cid in cell_id.items()], columns=["cell", "row", "measure"]
    )
    long = long.join(df[["indicator_id", "period_type", "period_start", "period_end", "breakdown",
                         "breakdown_value"]], on="row")
    long["v"] = vals[long["cell"].to_numpy()]
    system.cost[long["cell"].to_numpy()] = partner_costs(long)

    def add_sums(totals: np.ndarray, parts: list[np.ndarray]) -> None:
        for t, ps in zip(totals, parts, strict=True):
            tv, pv = vals[t], vals[ps]
            if not np.isnan(tv) and not np.isnan(pv).any() and abs(pv.sum() - tv) <= _TOL:
                n = len(ps)
                system.add([int(t), *ps.tolist()], [-1.0] + [1.0] * n, [False] + [True] * n)

    # 1. breakdown values add up to the headline
    head_keys = ["indicator_id", "measure", "period_type", "period_start"]
    head = long[long["breakdown"].eq("all")].drop_duplicates(head_keys)
    parts_df = long[~long["breakdown"].eq("all")]
    if not parts_df.empty and not head.empty:
        grouped = parts_df.groupby([*head_keys, "breakdown"], sort=False, observed=True)
        sums = grouped["v"].sum(min_count=1).rename("psum").reset_index()
        sums["has_nan"] = (grouped["v"].count() < grouped["v"].size()).to_numpy()
        sums = sums.merge(head[[*head_keys, "cell", "v"]], on=head_keys, how="inner")
        ok = ~sums["has_nan"] & sums["v"].notna() & (np.abs(sums["psum"] - sums["v"]) <= _TOL)
        idx = grouped.indices
        keys = list(sums.loc[ok, [*head_keys, "breakdown"]].itertuples(index=False, name=None))
        add_sums(sums.loc[ok, "cell"].to_numpy(), [long["cell"].to_numpy()[_pos(parts_df, idx[k])] for k in keys])

    # 2. shorter periods add up to longer ones (flows only: checked in the data)
    series_keys = ["indicator_id", "measure", "breakdown", "breakdown_value"]
    ps = pd.DatetimeIndex(long["period_start"])
    long["mon"] = np.where(ps.day == 1, ps.year * 12 + ps.month - 1, -10**6)  # month number; -1e6: not aligned
    lookup = {k: c for k, c in zip(
        long[[*series_keys, "period_type", "mon"]].itertuples(index=False, name=None), long["cell"], strict=True)}
    ends = dict(zip(long["cell"], long["period_end"], strict=True))
    plans = (("quarter", "month", 3, 1), ("year", "month", 12, 1), ("year", "quarter", 4, 3),
             ("rolling12", "month", 12, 1))
    for ptype, sub, n, step in plans:
        big = long[long["period_type"].eq(ptype) & (long["mon"] >= 0)]
        for row in big[[*series_keys, "mon", "period_end", "cell"]].itertuples(index=False, name=None):
            key, mon, end, cell = row[:4], row[4], row[5], row[6]
            kids = [lookup.get((*key, sub, mon + step * i)) for i in range(n)]
            if any(k is None for k in kids) or ends[kids[-1]] != end:
                continue
            add_sums(np.array([cell]), [np.array(kids)])
    # consecutive rolling windows: R(m) - R(m-1) = x(m) - x(m-12), made explicit for the line rule
    roll = long[long["period_type"].eq("rolling12") & (long["mon"] >= 0)]
    for row in roll[[*series_keys, "mon", "cell"]].itertuples(index=False, name=None):
        key, mon, cell = row[:4], row[4], row[5]
        prev = lookup.get((*key, "rolling12", mon - 1))
        new_m = lookup.get((*key, "month", mon + 11))
        old_m = lookup.get((*key, "month", mon - 1))
        if prev is None or new_m is None or old_m is None:
            continue
        cells4 = [int(cell), int(prev), int(new_m), int(old_m)]
        v = vals[cells4]
        if not np.isnan(v).any() and abs(v[0] - v[1] - v[2] + v[3]) <= _TOL:
            system.add(cells4, [1.0, -1.0, -1.0, 1.0], [False, False, True, True])

    # 3. the same count published twice (checked series by series)
    key_cols = ["period_type", "period_start", "breakdown", "breakdown_value"]
    wide = long.pivot_table(index=key_cols, columns=["indicator_id", "measure"], values="cell", aggfunc="first")
    series = list(wide.columns)
    wv = {s: wide[s] for s in series}
    cells_m = wide.to_numpy()
    has = ~np.isnan(cells_m)
    vals_m = np.full(cells_m.shape, np.nan)
    vals_m[has] = vals[cells_m[has].astype(int)]
    present = ~np.isnan(vals_m)
    for a in range(len(series)):
        for b in range(a + 1, len(series)):
            both = present[:, a] & present[:, b]
            if both.sum() < 3:
                continue
            x, y = vals_m[both, a], vals_m[both, b]
            if not (x > 0).any() or not np.allclose(x, y, rtol=0, atol=_TOL):
                continue
            for k in np.flatnonzero(both):
                system.add([int(cells_m[k, a]), int(cells_m[k, b])], [1.0, -1.0], [True, True])

    # 3b. a stock published for several period types: the figure at a month end is the quarter's and the
    # year's figure too (checked indicator by indicator: every aligned pair must be equal)
    span = long[long["period_type"].isin(["month", "quarter", "year"])]
    align = ["indicator_id", "measure", "period_end", "breakdown", "breakdown_value"]
    for short, big in (("month", "quarter"), ("month", "year"), ("quarter", "year")):
        pairs = span[span["period_type"].eq(short)].merge(span[span["period_type"].eq(big)], on=align,
                                                          suffixes=("_s", "_b"))
        pairs = pairs[pairs["v_s"].notna() & pairs["v_b"].notna()]
        for _, g in pairs.groupby(["indicator_id", "measure"], sort=False):
            if not (g["v_s"] > 0).any() or not np.allclose(g["v_s"], g["v_b"], rtol=0, atol=_TOL):
                continue
            for a, b in zip(g["cell_s"].to_numpy(), g["cell_b"].to_numpy(), strict=True):
                system.add([int(a), int(b)], [1.0, -1.0], [True, True])
    _share_costs(system)

    # 4. stock-flow balances
    def series_of(spec: str) -> pd.Series | None:
        ind_id, _, measure = spec.partition(":")
        return wv.get((ind_id, measure or "value"))

    for stock_s, in_s, out_s in balances:
        stock, inflow, outflow = series_of(stock_s), series_of(in_s), series_of(out_s)
        if stock is None or inflow is None or outflow is None:
            continue
        st = stock.dropna().astype(int)
        ends = df.loc[long.set_index("cell").loc[st.to_numpy(), "row"], "period_end"].to_numpy()
        by_end = {(k[0], k[2], k[3], pd.Timestamp(e)): c for k, c, e in zip(st.index, st, ends, strict=True)}
        # the stock at the previous end may be published only under another period type (the month before
        # the first published month is a quarter end and a year end): any of them will do
        any_end = {}
        for (_, bd, bv, e), c in sorted(by_end.items(), key=lambda t: _TYPE_ORDER.get(t[0][0], 9)):
            any_end.setdefault((bd, bv, e), c)
        for k, c in zip(st.index, st, strict=True):
            prev_end = pd.Timestamp(k[1]) - pd.Timedelta(days=1)
            prev = by_end.get((k[0], k[2], k[3], prev_end), any_end.get((k[2], k[3], prev_end)))
            ci, co = inflow.get(k), outflow.get(k)
            if prev is None or ci is None or co is None or pd.isna(ci) or pd.isna(co):
                continue
            cells = [int(c), int(prev), int(ci), int(co)]
            v = vals[cells]
            if not np.isnan(v).any() and abs(v[0] - v[1] - v[2] + v[3]) <= _TOL:
                system.add(cells, [1.0, -1.0, -1.0, 1.0], [True] * 4)

    primary = _in_threshold(vals, threshold)
    suppressed = _secondary(system, primary, stats)
    if stats is not None:
        stats.update(cells=len(vals), primary=int(primary.sum()), suppressed=int(suppressed.sum()))

    # derived figures and display
    out = df.copy()
    hidden = {key: bool(suppressed[cid]) for key, cid in cell_id.items()}
    num_s, den_s, val_s, flag, marker = [], [], [], [], []
    for r, k in enumerate(kind.to_numpy()):
        num, den, val = cols_np["numerator"][r], cols_np["denominator"][r], cols_np["value"][r]
        if k == "count":
            hv = hidden[(r, "value")]
            hn, hd = hv, False
            n_txt = "c" if hv else (_count_text(num) if pd.notna(num) else "z")
            d_txt = "z"
            v_txt = "c" if hv else _count_text(val)
        else:
            hn = hidden[(r, "numerator")]
            hd = hidden.get((r, "denominator"), False)
            hv = hn or hd
            n_txt = "c" if hn else _count_text(num)
            d_txt = "c" if hd else _count_text(den if k == "percentage" or pd.isna(den) else round(den))
            v_txt = "c" if hv else (":" if pd.isna(val) else f"{round_half_up(val, 1):.1f}")
        num_s.append(n_txt)
        den_s.append(d_txt)
        val_s.append(v_txt)
        flag.append(bool(hn or hd or hv))
        marker.append(v_txt if v_txt in MARKERS and v_txt != "0" else "")
    out["numerator"] = pd.Series(num_s, dtype="string")
    out["denominator"] = pd.Series(den_s, dtype="string")
    out["value"] = pd.Series(val_s, dtype="string")
    out["suppressed"] = pd.Series(flag, dtype=bool)
    out["marker"] = pd.Series(marker, dtype="string")
    return out


# --------------------------------------------------------------------------- charts of small counts
def small_count_series(values: pd.Series, threshold: int = 5) -> tuple[pd.Series | None, str]:
    """Make a monthly count series safe to chart.

    ``values`` is indexed by month (any date in the month, or a monthly
    ``PeriodIndex``). If no month holds a count from 1 to ``threshold`` the
    series is returned unchanged with an empty note. Otherwise the months are
    added up into financial quarters (April to June, ...); if every quarter is 0
    or above ``threshold`` the quarterly series (indexed by quarter start) is
    returned with a note saying so; otherwise ``(None, note)``: the chart must
    not be drawn, and the note says why.
    """
    s = pd.to_numeric(pd.Series(values), errors="coerce")
    small = (s >= 1) & (s <= threshold)
    if not small.any():
        return s, ""
    idx = s.index
    if isinstance(idx, pd.PeriodIndex):
        idx = idx.to_timestamp()
    months = pd.DatetimeIndex(idx).to_period("M")
    quarters = months.asfreq("Q-MAR")
    q = s.groupby(quarters.to_timestamp(how="start")).sum(min_count=1)
    q.index.name = s.index.name
    q_small = (q >= 1) & (q <= threshold)
    if not q_small.any():
        return q, (
            f"Monthly figures include counts from 1 to {threshold}, which are not published; "
            "the chart shows quarterly totals instead."
        )
    return None, (
        f"Chart not shown: the numbers are too small to publish safely (counts from 1 to {threshold} "
        "even when added up by quarter)."
    )


# --------------------------------------------------------------------------- safe writers
def safe_text(value: object) -> object:
    """Neutralise text that a spreadsheet would run as a formula (OWASP CSV injection).

    Text whose first non-space character is ``= + - @``, a tab or a carriage
    return (or their full-width forms) gets a leading single quote. Anything
    that is not a ``str`` (numbers, dates, missing values) is returned unchanged.
    """
    if not isinstance(value, str):
        return value
    if value.lstrip(" ").startswith(_FORMULA_START):
        return "'" + value
    return value


def _safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.columns = [safe_text(str(c)) for c in out.columns]
    for c in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[c]) or pd.api.types.is_datetime64_any_dtype(out[c])):
            out[c] = out[c].map(safe_text).astype(object)
    return out


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as UTF-8 CSV (no index) with formula-like text neutralised by :func:`safe_text`.

    Lines end in CRLF (RFC 4180) so that a carriage return inside a text field
    is quoted and cannot start a new row in a spreadsheet.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _safe_frame(df).to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n",
                           date_format="%Y-%m-%d")
    return path


def write_xlsx(df: pd.DataFrame, path: str | Path, sheet_name: str = "data", *, title: str | None = None) -> Path:
    """Write ``df`` to an XLSX workbook with a header row and a ``notes`` sheet explaining the markers.

    Text is written as text, never as a formula (formula-like text is
    neutralised by :func:`safe_text` and typed as a string); numbers stay
    numbers; dates are written as ``YYYY-MM-DD`` text.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_name[:31]
    safe = _safe_frame(df)

    def put(r: int, c: int, v: object, bold: bool = False) -> None:
        cell = ws.cell(row=r, column=c)
        if isinstance(v, pd.Timestamp):
            v = v.strftime("%Y-%m-%d")
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
            return
        if isinstance(v, (bool, np.bool_)):
            cell.value = bool(v)
        elif isinstance(v, (int, float, np.integer, np.floating)):
            cell.value = v.item() if hasattr(v, "item") else v
        else:
            cell.value = str(v)
            cell.data_type = "s"  # never a formula, whatever the text
        if bold:
            cell.font = Font(bold=True)

    for j, name in enumerate(safe.columns, start=1):
        put(1, j, name, bold=True)
    for i, row in enumerate(safe.itertuples(index=False), start=2):
        for j, v in enumerate(row, start=1):
            put(i, j, v)
    ws.freeze_panes = "A2"
    for j, name in enumerate(safe.columns, start=1):
        width = max([len(str(name))] + [len(str(v)) for v in safe.iloc[:200, j - 1]]) + 2
        ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = min(width, 60)

    notes = wb.create_sheet("notes")
    lines = [title or "Notes", "", "Symbol", *MARKERS.keys()]
    notes.cell(row=1, column=1, value=str(safe_text(lines[0]))).font = Font(bold=True)
    notes.cell(row=3, column=1, value="Symbol").font = Font(bold=True)
    notes.cell(row=3, column=2, value="Meaning").font = Font(bold=True)
    for i, (sym, meaning) in enumerate(MARKERS.items(), start=4):
        notes.cell(row=i, column=1, value=sym).data_type = "s"
        notes.cell(row=i, column=2, value=meaning).data_type = "s"
    notes.column_dimensions["A"].width = 10
    notes.column_dimensions["B"].width = 100
    wb.save(path)
    return path
