"""Exact linear algebra on one group of linked suppressed cells: can a reader work a cell out?

A reader who sees the published cells of a group's constraints knows every
other table of whole numbers that fits them. :class:`_Group` is that view
of one group (its constraint matrix over the suppressed cells, their true
values and the bounds a reader knows). :class:`_Echelon` eliminates in exact
integer arithmetic, so a cell whose unit vector lies in the row space of the
constraints (determined by them: *linear-algebra rule*) is found without
rounding; :func:`_cone_fixed` finds the cells held at their bound by the
others; :func:`_blame` traces a determined cell to the published cells it is
worked out from, to guide the choice of a partner.

This module answers questions about a group; it hides nothing. The bounds
rule (whether a cell can move by at least 1) is :mod:`.bounds`; choosing
partners is :mod:`.partners`; the pass loop is :mod:`.driver`.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from safeguarding.disclosure.secondary.system import _System, spans


class _Group:
    """One group of linked suppressed cells as a reader sees it.

    A reader's alternative values for the group are ``x + d`` with ``A d = 0``
    (the published cells of each constraint are constants) and ``x + d >= lb``.
    Cells tied by an equality constraint (the same count published twice) share
    a column: ``col[i]`` is the column of ``cells[i]``. ``A`` (sparse CSR, integer
    coefficients) holds every other constraint of the group restricted to its
    columns; ``x`` holds the true values and ``lb`` what a reader knows: a ``c``
    is at least 1 (0 for a suppressed true zero, which keeps the truth feasible,
    and for a slack cell, ``slack``: the slack of an inequality).
    ``published`` lists the published cells of those constraints and ``P``
    their coefficients (same rows as ``A``). ``primary`` marks the columns
    whose true value is in ``threshold`` (the small counts, which must keep
    their protection interval: :mod:`.intervals`; not those a reader is told
    are at most a bound, :attr:`_System.capped`), and ``ceiling`` is the
    top of that range.
    """

    def __init__(self, system: _System, cells: list[int], cons: list[int], coef, is_eq: np.ndarray,
                 suppressed: np.ndarray, threshold: tuple[int, int] | None = None):
        self.cells = np.asarray(cells, dtype=int)
        self.n, self.col, self.A, self.published, self.P = _group_blocks(self.cells, np.asarray(cons, dtype=int),
                                                                         coef, is_eq, suppressed)
        self.x = np.zeros(self.n)
        self.x[self.col] = system.values[self.cells]
        #: columns of slack cells only (of inequalities): at least 0, in need of no protection
        self.slack = np.ones(self.n, dtype=bool)
        np.logical_and.at(self.slack, self.col, system.free_slack()[self.cells])
        self.lb = np.where((self.x >= 1) & ~self.slack, 1.0, 0.0)
        self.ceiling = None if threshold is None else threshold[1]
        # a column a reader is told is at most a bound (:attr:`_System.capped`) need not be able to rise above it
        capped = np.zeros(self.n, dtype=bool)
        np.logical_or.at(capped, self.col, system.capped[self.cells])
        self.primary = (np.zeros(self.n, dtype=bool) if threshold is None
                        else (self.x >= threshold[0]) & (self.x <= threshold[1]) & ~self.slack & ~capped)
        #: columns of the slack of such bounds, and the rows of ``A`` that are the bounds (each the only row
        #: of its slack): left out of the protection intervals' region (:mod:`.intervals`)
        self.cap_slack = np.zeros(self.n, dtype=bool)
        np.logical_or.at(self.cap_slack, self.col, system.cap_slack[self.cells])
        self.cap_rows = np.zeros(self.A.shape[0], dtype=bool)
        if self.cap_slack.any():
            self.cap_rows = np.asarray(self.A[:, np.flatnonzero(self.cap_slack)].getnnz(axis=1) > 0).ravel()

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


def _group_blocks(cells: np.ndarray, cons: np.ndarray, coef, is_eq: np.ndarray, suppressed: np.ndarray):
    """The blocks of a :class:`_Group`: ``(n, col, A, published, P)``, straight from the arrays of ``coef``.

    The same arrays, entry for entry, as the sparse operations of
    :func:`_group_blocks_sparse` (the relations' rows of ``coef``, their
    columns of ``cells``, equal pairs merged into one column by a sparse
    product, rounded, empty rows dropped; the published cells' columns),
    which cost far more in scipy's checks and conversions than in
    arithmetic for the small groups there are most of. ``coef`` is in
    canonical form (rows sorted by column, no duplicates: scipy's
    conversion from coordinates makes it so); the product keeps scipy's
    order (per row, each merged column at its first entry, last first, and
    a sum of exactly zero dropped).
    """
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    nc = cells.size
    if not coef.has_canonical_format or np.any(cells[1:] <= cells[:-1]):  # pragma: no cover - never so here
        return _group_blocks_sparse(cells, cons, coef, is_eq, suppressed)
    m = cons.size
    starts = coef.indptr[cons].astype(np.int64)
    lens = coef.indptr[cons + 1].astype(np.int64) - starts
    total = int(lens.sum())
    ent = spans(starts, lens)
    f_idx = coef.indices[ent]
    f_dat = coef.data[ent]
    f_row = np.repeat(np.arange(m), lens)
    at = np.minimum(np.searchsorted(cells, f_idx), max(nc - 1, 0))
    in_cells = cells[at] == f_idx if nc else np.zeros(total, dtype=bool)
    sub_len = np.bincount(f_row[in_cells], minlength=m)
    eq = is_eq[cons] & (sub_len == 2)
    pairs = at[in_cells & eq[f_row]].reshape(-1, 2)
    if pairs.size:
        link = sparse.csr_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(nc, nc))
        n, col = connected_components(link, directed=False)
    else:  # no cell is published twice: each its own column (what the components of no link number them)
        n, col = nc, np.arange(nc, dtype=np.int32)
    # A: the other relations over the merged columns (entries in order, summed per (row, column))
    a_ent = in_cells & ~eq[f_row]
    rows_ne = np.flatnonzero(~eq)  # rows of A before empty ones are dropped
    new_row = np.cumsum(~eq) - 1
    e_row = new_row[f_row[a_ent]]
    e_col = col[at[a_ent]]
    key = e_row.astype(np.int64) * n + e_col
    uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
    sums = np.round(np.bincount(inv.ravel(), weights=f_dat[a_ent], minlength=uniq.size))
    u_row, u_col = uniq // n, uniq % n
    live = sums != 0
    order = np.lexsort((-first[live], u_row[live]))
    a_row = u_row[live][order]
    a_col = u_col[live][order]
    a_dat = sums[live][order]
    counts = np.bincount(a_row, minlength=rows_ne.size)
    keep = counts > 0
    indptr = np.r_[0, np.cumsum(counts[keep])]
    A = _csr(a_dat, a_col, indptr, (int(keep.sum()), n))
    # P: the published cells of the relations kept, in the order of their rows
    kept_rows = np.zeros(m, dtype=bool)
    kept_rows[rows_ne[keep]] = True
    p_ent = kept_rows[f_row]
    p_idx = f_idx[p_ent]
    published = np.unique(p_idx[~suppressed[p_idx]])
    on = np.isin(p_idx, published)
    p_rows = np.cumsum(kept_rows) - 1
    p_counts = np.bincount(p_rows[f_row[p_ent][on]], minlength=int(kept_rows.sum()))
    P = _csr(f_dat[p_ent][on], np.searchsorted(published, p_idx[on]), np.r_[0, np.cumsum(p_counts)],
             (int(kept_rows.sum()), published.size))
    return n, col, A, published, P


def _csr(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]):
    """A CSR matrix from its arrays, with the index type scipy's own operations give (32-bit where it fits)."""
    from scipy import sparse

    kind = np.int32 if max(shape[1], int(indptr[-1]) if len(indptr) else 0) < 2 ** 31 - 1 else np.int64
    return sparse.csr_matrix((np.asarray(data, dtype=float), np.asarray(indices, dtype=kind),
                              np.asarray(indptr, dtype=kind)), shape=shape)


def _group_blocks_sparse(cells: np.ndarray, cons: np.ndarray, coef, is_eq: np.ndarray, suppressed: np.ndarray):
    """:func:`_group_blocks` by scipy's sparse operations (how it was first written; kept to test it against)."""
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    nc = cells.size
    full = coef[cons]
    sub = full[:, cells].tocsr()
    eq = is_eq[cons] & (np.diff(sub.indptr) == 2)
    pairs = sub[eq].indices.reshape(-1, 2)
    link = sparse.csr_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(nc, nc))
    n, col = connected_components(link, directed=False)
    merge = sparse.csr_matrix((np.ones(nc), (np.arange(nc), col)), shape=(nc, n))
    A = (sub[~eq] @ merge).tocsr()
    A.data = np.round(A.data)
    A.eliminate_zeros()
    keep = np.diff(A.indptr) > 0
    A = A[keep]
    full = full[~eq][keep].tocsr()
    published = np.unique(full.indices[~suppressed[full.indices]])
    P = full[:, published].tocsr()
    return n, col, A, published, P


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
        ip, indices = A.indptr.tolist(), A.indices.tolist()
        data = A.data.astype(np.int64).tolist()  # whole numbers (coefficients of relations), as Python ints
        # (slices of one length: a strict zip would only cost its checks, a third of the time here)
        self.rows: list[dict[int, int]] = [dict(zip(indices[a:b], data[a:b]))  # noqa: B905
                                           for a, b in itertools.pairwise(ip)]
        self.col_rows: list[set[int]] = [set() for _ in range(self.n)]
        for i, row in enumerate(self.rows):  # rows added in order: the sets' iteration order is part of the result
            for c in row:
                self.col_rows[c].add(i)
        counts = np.array([len(s) for s in self.col_rows])
        self.klass = np.asarray(klass, dtype=int)
        order = np.lexsort((np.arange(self.n), counts, self.klass))
        self.order = order[self.klass[order] < 3].tolist()
        self._order_klass = self.klass[self.order].tolist()  # the class of each column of ``order``
        self.next = 0
        self.active = np.ones(self.m, dtype=bool)
        self.pivots: list[tuple[int, dict[int, int]]] = []

    def run(self, upto: int) -> None:
        """Pivot on every column of class ``upto`` or lower that still appears in a row."""
        rows, col_rows, order, order_klass = self.rows, self.col_rows, self.order, self._order_klass
        active, pivots, row_of = self.active, self.pivots, rows.__getitem__
        while self.next < len(order) and order_klass[self.next] <= upto:
            c = order[self.next]
            self.next += 1
            live = col_rows[c]
            if not live:
                continue
            # the sparsest row, the first of them in the set's order (the position breaks ties, never the row)
            p = next(iter(live)) if len(live) == 1 else min(zip(map(len, map(row_of, live)), itertools.count(),
                                                                  live))[2]
            prow = rows[p]
            active[p] = False
            for cc in prow:
                col_rows[cc].discard(p)
            a_p = prow[c]
            others = [(cc, v) for cc, v in prow.items() if cc != c]
            multiples = {1: others}  # ``others`` times each factor met (1 and -1 for most rows), made once
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
                terms = multiples.get(f)
                if terms is None:
                    terms = multiples[f] = [(cc, f * v) for cc, v in others]
                for cc, fv in terms:  # row -= f * prow
                    old = row.get(cc)
                    if old is None:
                        row[cc] = -fv
                        col_rows[cc].add(i)
                    elif old == fv:
                        del row[cc]
                        col_rows[cc].discard(i)
                    else:
                        row[cc] = old - fv
                if scaled and row:
                    g = 0
                    for v in row.values():
                        g = math.gcd(g, v)
                    if g > 1:
                        for cc in row:
                            row[cc] //= g
            live.clear()
            pivots.append((c, prow))

    def residual(self, columns: np.ndarray):
        """The rows not used as pivots, restricted to ``columns`` (CSR, columns renumbered in order)."""
        from scipy import sparse

        rows = [self.rows[i] for i in np.flatnonzero(self.active)]
        r, c, v = _entries(rows)
        pos = np.full(self.n, -1)
        pos[np.asarray(columns, dtype=int)] = np.arange(len(columns))
        keep = pos[c] >= 0
        r, c, v = r[keep], pos[c[keep]], v[keep]
        # rows with no entry among ``columns`` are left out: the others renumbered in order
        r = np.cumsum(np.bincount(r, minlength=len(rows)) > 0)[r] - 1 if r.size else r
        return sparse.csr_matrix((v, (r, c)), shape=(int(r.max()) + 1 if r.size else 0, len(columns)))

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
        for z in np.flatnonzero(zero):
            v[z] = 0
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

    def tied(self, n: int) -> np.ndarray:
        """Columns from ``n`` on (class 3) in a row not used as a pivot (bool per such column).

        Call after every column below ``n`` is pivoted: such a row is then a
        relation among the columns from ``n`` on alone. For a group, those
        are its published cells: a reader can work out a published cell of
        such a relation from the others, so a cell whose expression uses it
        has another expression without it (hiding it alone frees nothing).
        """
        out = np.zeros(self.n - n, dtype=bool)
        for i in np.flatnonzero(self.active):
            for c in self.rows[i]:
                if c >= n:
                    out[c - n] = True
        return out

    def blocks(self, n: int):
        """The pivot rows as sparse blocks: ``(pivot columns, U, F, P)``.

        ``U`` (upper triangular, pivot order) holds the pivot columns, ``F`` the
        other columns below ``n`` and ``P`` the columns from ``n`` on (class 3).
        """
        from scipy import sparse

        piv = np.array([c for c, _ in self.pivots], dtype=int)
        pos = np.full(self.n, -1)
        pos[piv] = np.arange(piv.size)
        r_a, c_a, v_a = _entries([prow for _, prow in self.pivots])
        is_piv = pos[c_a] >= 0
        k = piv.size
        U = sparse.csr_matrix((v_a[is_piv], (r_a[is_piv], pos[c_a[is_piv]])), shape=(k, k))
        low = ~is_piv & (c_a < n)
        F = sparse.csr_matrix((v_a[low], (r_a[low], c_a[low])), shape=(k, n))
        high = ~is_piv & (c_a >= n)
        P = sparse.csr_matrix((v_a[high], (r_a[high], c_a[high] - n)), shape=(k, self.n - n))
        return piv, U, F, P


def _entries(rows: list[dict[int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The entries of sparse rows as arrays ``(row, column, value)``, row by row, each in its dict's order."""
    lens = [len(row) for row in rows]
    total = sum(lens)
    c = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64, count=total)
    v = np.fromiter(itertools.chain.from_iterable(row.values() for row in rows), dtype=float, count=total)
    return np.repeat(np.arange(len(rows)), lens), c, v


def _cone_fixed(R) -> np.ndarray:
    """Columns of ``R`` that are zero in every ``d >= 0`` with ``R d = 0`` (bool per column).

    One linear programme (HiGHS, sparse) maximises ``sum t_j`` with
    ``0 <= t_j <= min(1, d_j)``: the set of such ``d`` is a cone, closed under
    addition, so every column that can be non-zero at all gets ``t_j = 1``.
    """
    from scipy import sparse

    from safeguarding.disclosure.secondary.lp import Programme, Status

    m, n = R.shape
    fixed = np.zeros(n, dtype=bool)
    if n == 0 or m == 0:
        return fixed
    ar = np.arange(n)
    A_eq = sparse.hstack([R, sparse.csr_matrix((m, n))], format="csr")
    A_ub = sparse.csr_matrix((np.r_[-np.ones(n), np.ones(n)], (np.r_[ar, ar], np.r_[ar, n + ar])), shape=(n, 2 * n))
    prog = Programme(A_eq, np.zeros(m), np.zeros(2 * n), np.r_[np.full(n, np.inf), np.ones(n)],
                     A_ub=A_ub, b_ub=np.zeros(n))
    status, sol = prog.maximise(np.r_[np.zeros(n), np.ones(n)])
    if status == Status.OPTIMAL and sol is not None:  # (an optimal programme always has a solution)
        fixed[sol[n:] < 0.5] = True
    else:  # pragma: no cover - the zero vector is always feasible; be safe anyway
        fixed[:] = True
    return fixed


def _blame(piv: np.ndarray, U, P, pinned: np.ndarray, max_blame: int) -> dict[int, np.ndarray | None]:
    """For pinned pivot columns, the published columns with a non-zero weight in their expression.

    Columns past the first ``max_blame`` (:attr:`Policy.max_blame
    <safeguarding.disclosure.policy.Policy.max_blame>`) map to None (not traced).

    A determined cell equals a fixed combination of published cells; row
    ``j`` of ``-U^-1 P`` gives the weights (floating point: this only guides
    the choice of partners, every choice is checked again).
    """

    pos = np.full(pinned.size, -1)
    pos[piv] = np.arange(piv.size)
    cols = np.flatnonzero(pinned & (pos >= 0))
    out: dict[int, np.ndarray | None] = {int(c): None for c in cols[max_blame:]}  # not traced this time
    cols = cols[:max_blame]
    if cols.size == 0 or P.shape[1] == 0:
        return out
    E = np.zeros((piv.size, cols.size))
    E[pos[cols], np.arange(cols.size)] = 1.0
    W = np.abs(np.asarray((P.T @ solve_transposed(U, E)).T))
    for i, c in enumerate(cols):
        w = W[i]
        top = np.max(w, initial=0.0)
        if np.isfinite(top) and top > 0:
            out[int(c)] = np.flatnonzero(w > 1e-7 * top)
    return out


def solve_transposed(U, E: np.ndarray) -> np.ndarray:
    """``Z`` with ``U^T Z = E``, for an upper triangular sparse ``U`` (so ``Z^T = E^T U^-1``: rows of ``U^-1``).

    ``U^T`` is lower triangular; read backwards it is upper triangular,
    which the exact level solve takes (bit for bit what
    ``spsolve_triangular`` gives, when it can promise that:
    :mod:`.triangular`); otherwise ``spsolve_triangular`` itself.
    """
    from scipy.sparse.linalg import spsolve_triangular

    from safeguarding.disclosure.secondary.triangular import UpperSolver

    L = U.T.tocsr()
    Z = UpperSolver(L[::-1, ::-1]).solve(E[::-1])
    if Z is not None:
        return Z[::-1]
    with np.errstate(all="ignore"):
        return spsolve_triangular(L, E, lower=True)
