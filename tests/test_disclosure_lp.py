"""The warm-started linear programmes of the secondary suppression, against scipy's linprog.

:class:`~safeguarding.disclosure.secondary.lp.Programme` keeps one region in
HiGHS and re-solves it for many objectives; every answer here is compared
with a fresh ``scipy.optimize.linprog`` solve of the same programme (an
independent front end), objective by objective, in the order the
suppression asks them (so later solves start from earlier bases).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import linprog

from safeguarding.disclosure.secondary.lp import Programme, Status


def _table_region(rng: np.random.Generator, rows: int, cols: int):
    """Moves ``d`` of a rows x cols table with published margins: row and column sums of ``d`` are 0."""
    x = rng.integers(0, 6, size=(rows, cols)).astype(float)
    n = rows * cols
    eq = []
    for r in range(rows):
        eq.append(np.r_[np.zeros(r * cols), np.ones(cols), np.zeros(n - (r + 1) * cols)])
    for c in range(cols):
        v = np.zeros(n)
        v[c::cols] = 1
        eq.append(v)
    A = sparse.csr_matrix(np.array(eq))
    low = -x.ravel()  # each cell at least 0
    return A, low


@pytest.mark.parametrize("primal", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_each_objective_matches_a_fresh_linprog(seed: int, primal: bool) -> None:
    rng = np.random.default_rng(seed)
    A, low = _table_region(rng, 3 + seed % 2, 4)
    n = A.shape[1]
    prog = Programme(A, np.zeros(A.shape[0]), low, np.full(n, np.inf), primal=primal)
    for j in rng.permutation(n):
        for sign in (1.0, -1.0):
            w = np.zeros(n)
            w[j] = sign
            status, sol = prog.maximise(w)
            ref = linprog(-w, A_eq=A, b_eq=np.zeros(A.shape[0]), bounds=np.c_[low, np.full(n, np.inf)],
                          method="highs")
            if ref.status == 3:
                assert status == Status.UNBOUNDED
                continue
            assert ref.status == 0 and status == Status.OPTIMAL
            assert w @ sol == pytest.approx(-ref.fun, abs=1e-7)
            assert np.abs(A @ sol).max(initial=0) < 1e-7 and (sol >= low - 1e-7).all()


def test_unbounded_and_inequality_rows() -> None:
    # d0 - d1 = 0, d0 free above: unbounded; with d0 + d1 <= 4 the maximum of d0 is 2
    A = sparse.csr_matrix(np.array([[1.0, -1.0]]))
    free = Programme(A, np.zeros(1), np.zeros(2), np.full(2, np.inf))
    assert free.maximise(np.array([1.0, 0.0]))[0] == Status.UNBOUNDED
    capped = Programme(A, np.zeros(1), np.zeros(2), np.full(2, np.inf),
                       A_ub=sparse.csr_matrix(np.array([[1.0, 1.0]])), b_ub=np.array([4.0]))
    status, sol = capped.maximise(np.array([1.0, 0.0]))
    assert status == Status.OPTIMAL and sol[0] == pytest.approx(2.0)
    status, sol = capped.maximise(np.array([-1.0, 0.0]))  # the same region, the other way
    assert status == Status.OPTIMAL and sol[0] == pytest.approx(0.0)


def test_solving_prints_nothing() -> None:
    # HiGHS prints a banner once per process when its Python class is built: a fresh process shows it
    code = ("import numpy as np; from scipy import sparse; "
            "from safeguarding.disclosure.secondary.lp import Programme; "
            "Programme(sparse.csr_matrix(np.ones((1, 2))), np.zeros(1), np.zeros(2), np.ones(2))"
            ".maximise(np.array([1.0, 0.0]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.stdout == "" and done.stderr == ""
