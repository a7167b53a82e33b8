"""Secondary suppression on tables whose linked suppressed cells form large groups.

Small councils' tables are full of counts from 1 to 5; once months, quarters,
years, rolling 12 months and several breakdowns that each add up to the
headline are published together, the hidden cells link into groups of
hundreds or thousands. The attacker here is independent of the
implementation: it knows only the published strings and the table's
structure (each breakdown adds up to the headline; months add up to
quarters, years and rolling 12 months; quarters to years) and asks a sparse
linear programme for the smallest and largest value of every ``c``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from scipy.optimize import linprog

from safeguarding.disclosure import Policy, suppress_indicator_table

DIMS = {"age": ["a", "b", "c", "d"], "sex": ["f", "m"]}


def _spans(months: list[pd.Timestamp]) -> list[tuple[str, list[int]]]:
    spans = [("month", [i]) for i in range(len(months))]
    spans += [("quarter", list(range(3 * q, 3 * q + 3))) for q in range(len(months) // 3)]
    spans += [("year", list(range(12 * y, 12 * y + 12))) for y in range(len(months) // 12)]
    spans += [("rolling12", list(range(e - 11, e + 1))) for e in range(12, len(months))]
    return spans


def small_council(seed: int, indicators: int = 3, years: int = 2, mean: float = 0.8) -> pd.DataFrame:
    """Count indicators whose every breakdown adds up to the headline, with many small cells."""
    rng = np.random.default_rng(seed)
    months = list(pd.date_range("2023-04-01", periods=12 * years, freq="MS"))
    rows = []
    for i in range(indicators):
        # one child-level split by every dimension at once, so that each dimension sums to the headline
        cube = rng.poisson(mean, size=(len(DIMS["age"]), len(DIMS["sex"]), len(months)))
        series = [("all", "all", cube.sum(axis=(0, 1)))]
        series += [("age", v, cube[k].sum(axis=0)) for k, v in enumerate(DIMS["age"])]
        series += [("sex", v, cube[:, k].sum(axis=0)) for k, v in enumerate(DIMS["sex"])]
        for bd, bv, counts in series:
            for ptype, ix in _spans(months):
                start, end = months[ix[0]], months[ix[-1]] + pd.offsets.MonthEnd(0)
                rows.append(dict(indicator_id=f"C{i}", period_type=ptype, period_start=start, period_end=end,
                                 breakdown=bd, breakdown_value=bv, numerator=np.nan, denominator=np.nan,
                                 value=float(counts[ix].sum())))
    df = pd.DataFrame(rows)
    df["status"] = "ok"
    return df


def reader_equations(ind: pd.DataFrame) -> list[list[int]]:
    """Row positions ``[total, part, part, ...]`` of every relation a reader knows from the structure."""
    key = {(r.indicator_id, r.period_type, r.period_start, r.breakdown, r.breakdown_value): i
           for i, r in enumerate(ind.itertuples())}
    eqs = []
    for (ind_id, pt, ps, bd, _), i in key.items():
        if bd == "all":
            for dim, values in DIMS.items():
                eqs.append([i] + [key[(ind_id, pt, ps, dim, v)] for v in values])
    months = ind.loc[ind["period_type"].eq("month"), "period_start"].drop_duplicates().sort_values().tolist()
    for r in ind.itertuples():
        if r.period_type == "month":
            continue
        ends = r.period_end
        inside = [m for m in months if r.period_start <= m <= ends]
        eqs.append([key[(r.indicator_id, r.period_type, r.period_start, r.breakdown, r.breakdown_value)]]
                   + [key[(r.indicator_id, "month", m, r.breakdown, r.breakdown_value)] for m in inside])
        if r.period_type == "year":
            quarters = [m for m in months if r.period_start <= m <= ends and (m.month - 4) % 3 == 0]
            eqs.append([key[(r.indicator_id, "year", r.period_start, r.breakdown, r.breakdown_value)]]
                       + [key[(r.indicator_id, "quarter", q, r.breakdown, r.breakdown_value)] for q in quarters])
    return eqs


def attack(shown: list[str], truth: np.ndarray, eqs: list[list[int]]) -> dict[int, tuple[float, float]]:
    """Feasible range of every ``c`` given the published figures and the relations (sparse LPs)."""
    unknown = [i for i, s in enumerate(shown) if s == "c"]
    col = {c: j for j, c in enumerate(unknown)}
    r, c, v, rhs = [], [], [], []
    k = 0
    for eq in eqs:
        coefs = [(-1.0, eq[0])] + [(1.0, p) for p in eq[1:]]
        if not any(cell in col for _, cell in coefs):
            continue
        b = 0.0
        for a, cell in coefs:
            if cell in col:
                r.append(k)
                c.append(col[cell])
                v.append(a)
            else:
                b -= a * float(shown[cell])
        rhs.append(b)
        k += 1
    A = sparse.csr_matrix((v, (r, c)), shape=(k, len(unknown)))
    bounds = [(1.0 if truth[u] >= 1 else 0.0, None) for u in unknown]
    out = {}
    for u in unknown:
        obj = np.zeros(len(unknown))
        obj[col[u]] = 1.0
        lo = linprog(obj, A_eq=A, b_eq=rhs, bounds=bounds, method="highs")
        hi = linprog(-obj, A_eq=A, b_eq=rhs, bounds=bounds, method="highs")
        assert lo.status == 0, f"attacker's system infeasible: {lo.message}"
        out[u] = (lo.fun, np.inf if hi.status == 3 else -hi.fun)
    return out


@pytest.mark.parametrize("seed", [11, 12])
def test_large_groups_nothing_recoverable(seed):
    ind = small_council(seed)
    stats: dict = {}
    pub = suppress_indicator_table(ind, stats=stats)
    # the fixture must exercise what this test is about: a group far larger than the old limit of 250
    assert stats["largest_group"] > 250, stats
    assert stats["unverified_cells"] == 0 and stats["unprotected"] == 0, stats
    shown = pub["value"].tolist()
    truth = ind["value"].to_numpy(dtype=float)
    values = pd.to_numeric(pub["value"], errors="coerce")
    assert not values.between(1, 5).any()
    ranges = attack(shown, truth, reader_equations(ind))
    assert ranges, "fixture should exercise suppression"
    recoverable = []
    for cell, (lo, hi) in ranges.items():
        assert lo - 1e-6 <= truth[cell] <= hi + 1e-6, "attacker's equations are wrong"
        if hi - lo < 1 - 1e-6:
            recoverable.append((ind.iloc[cell][["indicator_id", "period_type", "period_start", "breakdown",
                                                "breakdown_value"]].tolist(), truth[cell], lo, hi))
    assert not recoverable, f"{len(recoverable)} of {len(ranges)} hidden cells pinned to a range under 1: " \
                            f"{recoverable[:5]}"


def test_groups_too_large_to_check_are_reported(caplog):
    """Above ``MAX_EXACT`` only single relations are checked: the run says so, in its figures and its log."""
    ind = small_council(11, indicators=1, years=1)
    stats: dict = {}
    with caplog.at_level("WARNING", logger="safeguarding.disclosure"):
        pub = suppress_indicator_table(ind, policy=Policy(max_exact=20), stats=stats)
    assert stats["unverified_groups"] >= 1 and stats["unverified_cells"] > 20, stats
    assert "larger than MAX_EXACT=20" in caplog.text
    # the single-relation rule still holds: no relation with all but one cell known, or all hidden at 1
    shown = pub["value"].tolist()
    for eq in reader_equations(ind):
        hidden = [c for c in eq if shown[c] == "c"]
        assert len(hidden) != 1, f"a relation reveals row {hidden}"
