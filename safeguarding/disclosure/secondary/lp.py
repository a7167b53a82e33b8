"""Linear programmes of the secondary suppression, solved by HiGHS and re-solved warm.

The checks ask many questions of the same feasible region: how far can
this cell rise, how far can that one fall, over the tables that fit what is
published. :class:`Programme` keeps one region (``A_eq x = b_eq``,
``A_ub x <= b_ub``, bounds) loaded in HiGHS (``highspy``) and answers each
question by changing only the objective: HiGHS starts from the last optimal
basis, so a second question over the same region costs a few pivots instead
of a whole solve, and no matrices are converted again.

Every solution is used only as a *candidate*: the callers check moves
exactly (:func:`~.bounds._feasible_move`) or only use them to show that a
cell can move (over-suppression at worst when a programme gives up).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

#: HiGHS's "infinity" (bounds beyond it are free)
_INF = 1e30

#: HiGHS's ``simplex_strategy`` for the primal simplex method
_PRIMAL_SIMPLEX = 4


class Status(IntEnum):
    """The outcome of :meth:`Programme.maximise` (numbers as ``scipy.optimize.linprog``'s status)."""

    OPTIMAL = 0
    OTHER = 1  # iteration limit, numerical trouble: no answer
    INFEASIBLE = 2
    UNBOUNDED = 3


class Programme:
    """One feasible region in HiGHS, for many objectives.

    Args:
        A_eq: equality rows (scipy sparse, any format) over ``n`` columns.
        b_eq: their right-hand sides.
        lower, upper: column bounds (``-inf``/``inf`` for none).
        A_ub, b_ub: optional ``<=`` rows over the same columns.
        primal: solve by the primal simplex method (HiGHS chooses, usually
            the dual method, otherwise). Between questions only the
            objective changes, so the last optimal basis stays feasible and
            the primal method goes on from it; worth it for many questions
            over one region (:func:`~.intervals._one_by_one`).
    """

    def __init__(self, A_eq, b_eq: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                 A_ub=None, b_ub: np.ndarray | None = None, primal: bool = False) -> None:
        import highspy
        from scipy import sparse

        try:  # the bare solver: highspy.Highs adds Python callbacks (and prints a banner) on construction
            from highspy._core import _Highs
            solver: type[_Highs] = _Highs
        except ImportError:  # pragma: no cover - a highspy without it
            solver = highspy.Highs

        rows = [sparse.csr_matrix(A_eq)]
        row_lo = [np.asarray(b_eq, dtype=float)]
        row_hi = [np.asarray(b_eq, dtype=float)]
        if A_ub is not None:
            rows.append(sparse.csr_matrix(A_ub))
            row_lo.append(np.full(A_ub.shape[0], -_INF))
            row_hi.append(np.asarray(b_ub, dtype=float))
        A = sparse.vstack(rows, format="csc") if len(rows) > 1 else rows[0].tocsc()
        self.n = A.shape[1]
        self._rows = A.shape[0]
        self._ok = highspy.HighsStatus.kOk
        lp = highspy.HighsLp()
        lp.num_col_ = self.n
        lp.num_row_ = A.shape[0]
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = np.clip(np.asarray(lower, dtype=float), -_INF, _INF)
        lp.col_upper_ = np.clip(np.asarray(upper, dtype=float), -_INF, _INF)
        lp.row_lower_ = np.concatenate(row_lo) if row_lo else np.zeros(0)
        lp.row_upper_ = np.concatenate(row_hi) if row_hi else np.zeros(0)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = A.indices.astype(np.int32)
        lp.a_matrix_.value_ = A.data.astype(float)
        lp.a_matrix_.num_col_ = self.n
        lp.a_matrix_.num_row_ = A.shape[0]
        self._highs = solver()
        self._highs.setOptionValue("output_flag", False)
        if primal:
            self._highs.setOptionValue("simplex_strategy", _PRIMAL_SIMPLEX)
        self._highs.passModel(lp)
        self._status = highspy.HighsModelStatus
        self._cost = np.zeros(self.n)
        self._solution: highspy.HighsSolution | None = None  # the last optimum's (:meth:`row_duals`)
        self._basis_status = highspy.HighsBasisStatus
        self._basis_type = highspy.HighsBasis

    def maximise(self, weights: np.ndarray) -> tuple[Status, np.ndarray | None]:
        """Maximise ``weights @ x`` over the region; ``(status, x)`` (``x`` None unless optimal).

        Starts from the previous optimal basis when there is one.
        """
        w = np.asarray(weights, dtype=float)
        changed = np.flatnonzero(w != -self._cost)
        if changed.size:
            self._cost[changed] = -w[changed]
            self._highs.changeColsCost(int(changed.size), changed.astype(np.int32), self._cost[changed])
        self._highs.run()
        st = self._highs.getModelStatus()
        self._solution = None
        if st == self._status.kOptimal:
            solution = self._highs.getSolution()
            self._solution = solution
            return Status.OPTIMAL, np.asarray(solution.col_value)
        if st in (self._status.kUnbounded, self._status.kUnboundedOrInfeasible):
            return Status.UNBOUNDED, None  # every region here holds the true table: never infeasible
        if st == self._status.kInfeasible:
            return Status.INFEASIBLE, None
        return Status.OTHER, None

    def basis(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The last optimum's basis (HiGHS's status of each column and row, as small integers); None if the
        last question had no optimum.

        It is a vertex of the region, so a programme over the same region
        (same rows, columns and bounds, whatever its objective) can start
        from it (:meth:`start_from`) instead of searching for a first vertex.
        """
        if self._solution is None:
            return None
        b = self._highs.getBasis()
        if not b.valid:  # pragma: no cover - an optimum always has a basis
            return None
        return (np.array([int(v) for v in b.col_status], dtype=np.int8),
                np.array([int(v) for v in b.row_status], dtype=np.int8))

    def start_from(self, basis: tuple[np.ndarray, np.ndarray]) -> bool:
        """Start the next solve from ``basis`` (:meth:`basis` of a programme over the same region); whether
        HiGHS took it (a basis of other sizes, or one HiGHS refuses, is left out: the solve starts afresh).

        Only the time changes: the optimum of each question is the optimum
        of the region, whichever vertex the solver starts from.
        """
        cols, rows = basis
        if cols.size != self.n or rows.size != self._rows:
            return False
        b = self._basis_type()
        b.col_status = [self._basis_status(int(v)) for v in cols]
        b.row_status = [self._basis_status(int(v)) for v in rows]
        b.valid = True
        return self._highs.setBasis(b) == self._ok

    def row_duals(self) -> np.ndarray | None:
        """The dual values of the rows at the last optimum (HiGHS's signs, as it minimises ``-weights``); None if
        the last question had no optimum."""
        return None if self._solution is None else np.asarray(self._solution.row_dual)


def widened(basis: tuple[np.ndarray, np.ndarray], columns: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """``basis`` (:meth:`Programme.basis`) for the region with ``columns`` columns and ``rows`` rows added last:
    the new columns at their lower bound, the new rows' slacks in the basis.

    Still a basis (its matrix is block triangular, the new rows' block the
    identity), so :meth:`Programme.start_from` takes it; it need not be
    feasible for the new rows, which the solver then mends from there.
    """
    import highspy

    cols, row_status = basis
    at_lower, basic = int(highspy.HighsBasisStatus.kLower), int(highspy.HighsBasisStatus.kBasic)
    return (np.r_[cols, np.full(columns, at_lower, dtype=cols.dtype)],
            np.r_[row_status, np.full(rows, basic, dtype=row_status.dtype)])


def statuses(basic: np.ndarray, free: np.ndarray, basic_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A basis as :meth:`Programme.basis` gives it: ``basic`` columns in the basis, the others at their lower
    bound (at zero where ``free``: no bound), the slacks of ``basic_rows`` in the basis, the other rows tight."""
    import highspy

    kind = highspy.HighsBasisStatus
    cols = np.where(basic, int(kind.kBasic), np.where(free, int(kind.kZero), int(kind.kLower))).astype(np.int8)
    return cols, np.where(basic_rows, int(kind.kBasic), int(kind.kLower)).astype(np.int8)
