"""Exact back-substitution with the pivot rows of :class:`~.exact._Echelon`, for :func:`~.bounds._basis_moves`.

The null-space basis vectors of a group are ``U^-1`` applied to columns of
the free block: ``U`` is upper triangular (pivot order), very sparse, and in
practice has a diagonal of ``+1`` and ``-1`` only (the elimination divides
rows by their common factor). Then every value of the back-substitution is
a whole number; as long as each stays below 2**50 in size, floating point
holds it exactly, *whatever order the terms are added in*. So a solve by
levels (every row whose unknowns are all known is solved at once, a sparse
product per level) gives bit for bit the numbers of SuperLU's solve, at a
small part of its cost. :func:`solve_upper` says when it cannot promise
that (another diagonal, an entry below it, a value too large) by returning
None; the caller then solves with SuperLU as before.
"""

from __future__ import annotations

import numpy as np

#: the largest size a value (and every partial sum) may reach for the solve to be exact (2**53 with room)
_EXACT_LIMIT = float(2 ** 50)


class UpperSolver:
    """Level-by-level solves with one upper triangular matrix ``U`` (scipy sparse), set up once.

    ``usable`` is False when ``U`` has a diagonal entry other than ``+1``
    or ``-1``, or an entry below the diagonal: :meth:`solve` then always
    returns None.
    """

    def __init__(self, U) -> None:
        U = U.tocsr()
        k = U.shape[0]
        self.k = k
        coo = U.tocoo()
        rows, cols, vals = coo.row, coo.col, coo.data
        diag = np.zeros(k)
        on = rows == cols
        np.add.at(diag, rows[on], vals[on])
        self.usable = bool(np.all(np.abs(diag) == 1.0) and not np.any(cols < rows)
                           and np.all(vals == np.round(vals)))
        if not self.usable:
            return
        self.diag = diag
        off = ~on
        from scipy import sparse

        self.off = sparse.csr_matrix((vals[off], (rows[off], cols[off])), shape=(k, k))
        self.off_abs = abs(self.off)
        # level of a row: 0 when it depends on no other row, else 1 + the highest level of the rows it needs
        ip, ix = self.off.indptr.tolist(), self.off.indices.tolist()
        level = [0] * k
        for i in range(k - 1, -1, -1):
            top = -1
            for t in range(ip[i], ip[i + 1]):
                if level[ix[t]] > top:
                    top = level[ix[t]]
            level[i] = top + 1
        lv = np.asarray(level, dtype=int)
        order = np.argsort(lv, kind="stable")
        bounds = np.searchsorted(lv[order], np.arange(lv.max(initial=-1) + 2))
        self.levels = [order[bounds[t]:bounds[t + 1]] for t in range(bounds.size - 1)]
        self.blocks = [self.off[r] for r in self.levels]

    def solve(self, rhs: np.ndarray) -> np.ndarray | None:
        """``U^-1 rhs`` (dense, one column per right-hand side), exactly; None when that cannot be promised."""
        if not self.usable or not np.all(rhs == np.round(rhs)):
            return None
        # row-major whatever ``rhs`` is (a CSC block's ``toarray`` is column-major): a sparse product with a
        # column-major operand copies it whole first, once per level
        X = np.zeros(rhs.shape)
        for r, block in zip(self.levels, self.blocks, strict=True):
            X[r] = (rhs[r] - block @ X) * self.diag[r, None]  # the diagonal is +-1: dividing is multiplying
        # every partial sum of row i is at most |rhs_i| + sum_j |U_ij| |x_j| in size
        if np.max(np.abs(rhs) + self.off_abs @ np.abs(X), initial=0.0) >= _EXACT_LIMIT:
            return None
        return X
