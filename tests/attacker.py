"""An independent reader-attacker for a published indicator table.

It is written apart from :mod:`safeguarding.disclosure` and shares none of
its code. It reads the *published strings* of the public table and the true
table row by row, writes down every relation a reader who knows the
definitions could use, and asks linear programmes how far each ``c`` could
move. A reader knows:

* the groups of a breakdown add up to the headline (where they do);
* months add up to quarters and years, and quarters to years (flows);
* a stock at a month end is the quarter's and the year's figure too, and the
  same count published under two indicators is the same number;
* plans (or cases) open at a period end = open at the previous end + started
  - ended (child protection, private fostering, allegations);
* a ``c`` is at least 1 (true zeros are shown as ``0``), and no count is
  negative. A figure withheld as ``x`` (not published at all) is an unknown
  too, known only to be at least 0: relations through it are kept, so the
  check covers what a reader could combine through unpublished figures.

The truth is used only to decide which relations hold, which makes this
attacker *better* informed than a real reader. A hidden cell is
**recoverable** when the smallest and largest values consistent with the
published figures are less than 1 apart.

To keep the work small, a few linear programmes that push all the cells not
yet seen to move up together, then down together (then random mixes), show
most cells moving; only the cells left get their own pair of linear
programmes.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

BALANCES = (("CPP_OPEN", "CPP_STARTED", "CPP_ENDED"), ("PF_OPEN", "PF_NEW", "PF_ENDED"),
            ("LADO_OPEN", "LADO_REFERRALS", ("LADO_CONCLUDED_1M", "denominator")))


def _is_count(text: str) -> bool:
    return text in ("c", "x") or text.isdigit()


def reader_cells(published: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """One row per published count: where it is, its published text and its true value."""
    rows = []
    for measure in ("numerator", "denominator"):
        shown = published[measure].astype(str).to_numpy()
        true = pd.to_numeric(truth[measure], errors="coerce").to_numpy(dtype=float)
        for i in np.flatnonzero([_is_count(s) for s in shown]):
            if np.isnan(true[i]) or not float(true[i]).is_integer():
                continue  # not a count (a population estimate, say): not part of any relation
            rows.append((i, measure, shown[i], true[i]))
    cells = pd.DataFrame(rows, columns=["row", "measure", "shown", "true"])
    meta = truth[["indicator_id", "period_type", "period_start", "period_end", "breakdown",
                  "breakdown_value"]].reset_index(drop=True)
    cells = cells.join(meta, on="row")
    for col in ("period_start", "period_end"):
        cells[col] = pd.to_datetime(cells[col])
    return cells.reset_index(drop=True)


def reader_relations(cells: pd.DataFrame) -> list[tuple[list[int], list[float]]]:
    """Every relation (cells, coefficients; sum of coefficient times value = 0) that holds in the truth."""
    true = cells["true"].to_numpy()
    eqs: list[tuple[list[int], list[float]]] = []

    def total(t: int, parts: list[int]) -> None:
        if parts and abs(true[t] - true[parts].sum()) < 1e-9:
            eqs.append(([t, *parts], [-1.0] + [1.0] * len(parts)))

    # breakdowns add up to the headline
    key = ["indicator_id", "measure", "period_type", "period_start"]
    for _, g in cells.groupby(key, sort=False):
        head = g.index[g["breakdown"].eq("all")]
        if len(head) != 1:
            continue
        for _, parts in g[~g["breakdown"].eq("all")].groupby("breakdown", sort=False):
            total(int(head[0]), parts.index.tolist())
    # months -> quarters -> years, within each series
    series = ["indicator_id", "measure", "breakdown", "breakdown_value"]
    for _, g in cells.groupby(series, sort=False):
        by_type = {pt: dict(zip(s["period_start"], s.index, strict=True)) for pt, s in g.groupby("period_type")}
        months, quarters = by_type.get("month", {}), by_type.get("quarter", {})
        for pt, n, sub, step in (("quarter", 3, months, 1), ("year", 12, months, 1), ("year", 4, quarters, 3)):
            for start, t in by_type.get(pt, {}).items():
                kids = [sub.get(start + pd.DateOffset(months=step * k)) for k in range(n)]
                if all(k is not None for k in kids):
                    total(int(t), [int(k) for k in kids])
    # the same count published twice: a stock under several period types, or one count under two indicators
    align = ["indicator_id", "measure", "period_end", "breakdown", "breakdown_value"]
    for a, b in (("month", "quarter"), ("month", "year"), ("quarter", "year")):
        pairs = cells[cells["period_type"].eq(a)].reset_index().merge(
            cells[cells["period_type"].eq(b)].reset_index(), on=align, suffixes=("_a", "_b"))
        for _, g in pairs.groupby(["indicator_id", "measure"]):
            if np.allclose(g["true_a"], g["true_b"]) and (g["true_a"] > 0).any():
                eqs.extend(([int(x), int(y)], [1.0, -1.0]) for x, y in zip(g["index_a"], g["index_b"], strict=True))
    place = ["period_type", "period_start", "breakdown", "breakdown_value"]
    wide = cells.reset_index().pivot_table(index=place, columns=["indicator_id", "measure"], values="index",
                                           aggfunc="first")
    cols = list(wide.columns)
    for i, a in enumerate(cols):
        for b in cols[i + 1:]:
            both = wide[[a, b]].dropna().astype(int)
            if len(both) >= 3 and np.allclose(true[both[a]], true[both[b]]) and (true[both[a]] > 0).any():
                eqs.extend(([int(x), int(y)], [1.0, -1.0]) for x, y in zip(both[a], both[b], strict=True))
    # stock and flow
    at = {(r.indicator_id, r.measure, r.period_type, r.period_end, r.breakdown, r.breakdown_value): i
          for i, r in enumerate(cells.itertuples())}
    stock_at = {}  # a stock at a date, whichever table (month, quarter or year) publishes it
    for (ind_id, m, pt, end, bd, bv), i in at.items():
        if pt in ("month", "quarter", "year"):
            stock_at.setdefault((ind_id, m, end, bd, bv), i)
    for stock, inflow, outflow in BALANCES:
        in_id, in_m = (inflow, "numerator") if isinstance(inflow, str) else inflow
        out_id, out_m = (outflow, "numerator") if isinstance(outflow, str) else outflow
        for r in cells[cells["indicator_id"].eq(stock) & cells["measure"].eq("numerator")].itertuples():
            prev = stock_at.get((stock, "numerator", r.period_start - pd.Timedelta(days=1), r.breakdown,
                                 r.breakdown_value))
            ci = at.get((in_id, in_m, r.period_type, r.period_end, r.breakdown, r.breakdown_value))
            co = at.get((out_id, out_m, r.period_type, r.period_end, r.breakdown, r.breakdown_value))
            if prev is None or ci is None or co is None:
                continue
            four = [r.Index, prev, ci, co]
            if abs(true[four] @ np.array([1.0, -1.0, -1.0, 1.0])) < 1e-9:
                eqs.append((four, [1.0, -1.0, -1.0, 1.0]))
    return eqs


def _probe(obj: np.ndarray, A, b: np.ndarray, bounds: np.ndarray, lo: np.ndarray,
           hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Minimise and maximise ``obj``; widen the seen ranges; say whether a cell was newly seen to move by 1."""
    before = int((hi - lo < 1 - 1e-6).sum())
    for sign in (1.0, -1.0):
        res = linprog(sign * obj, A_eq=A, b_eq=b, bounds=bounds, method="highs")
        if res.status == 0:
            lo, hi = np.minimum(lo, res.x), np.maximum(hi, res.x)
    return lo, hi, int((hi - lo < 1 - 1e-6).sum()) < before


def recoverable(cells: pd.DataFrame, eqs: list[tuple[list[int], list[float]]], *, seed: int = 0,
                probes: int = 12) -> list[tuple[int, float, float]]:
    """Unpublished cells a reader could pin down to a range narrower than 1: ``(cell, low, high)``.

    Every ``c`` counts, and every ``x`` whose true value is from 1 to 5 (a
    withheld figure worked out exactly is only a disclosure when it is
    small). Raises AssertionError if the truth does not fit the relations
    (the attacker would be wrong).
    """
    unknown = cells["shown"].isin(["c", "x"]).to_numpy()
    hidden = np.flatnonzero(unknown)
    if hidden.size == 0:
        return []
    true = cells["true"].to_numpy()
    shown_vals = np.where(unknown, np.nan, pd.to_numeric(cells["shown"], errors="coerce"))
    must_protect = cells["shown"].eq("c").to_numpy() | ((true >= 1) & (true <= 5))
    col = np.full(len(cells), -1)
    col[hidden] = np.arange(hidden.size)
    r, c, v, rhs = [], [], [], []
    k = 0
    for idx, coef in eqs:
        idx_a, coef_a = np.asarray(idx), np.asarray(coef)
        unk = col[idx_a] >= 0
        if not unk.any():
            continue
        r.extend([k] * int(unk.sum()))
        c.extend(col[idx_a[unk]].tolist())
        v.extend(coef_a[unk].tolist())
        rhs.append(-float(coef_a[~unk] @ shown_vals[idx_a[~unk]]))
        k += 1
    A = sparse.csr_matrix((v, (r, c)), shape=(k, hidden.size))
    b = np.asarray(rhs)
    x_true = true[hidden]
    assert np.allclose(A @ x_true, b), "the attacker's relations do not fit the truth"
    lb = np.where((x_true >= 1) & cells["shown"].eq("c").to_numpy()[hidden], 1.0, 0.0)
    protect = must_protect[hidden]
    # independent groups of hidden cells (linked by relations)
    graph = sparse.bmat([[None, A], [A.T, None]], format="csr")
    _, labels = connected_components(graph, directed=False)
    groups: dict[int, list[int]] = defaultdict(list)
    for j, lab in enumerate(labels[k:]):
        groups[int(lab)].append(j)
    rows_of = labels[:k]
    rng = np.random.default_rng(seed)
    out = []
    for lab, members in groups.items():
        cols_g = np.asarray(members)
        rows_g = np.flatnonzero(rows_of == lab)
        if rows_g.size == 0 or not protect[cols_g].any():
            continue  # no relation touches these cells (unbounded above), or none needs protecting
        A_g = A[rows_g][:, cols_g]
        b_g = b[rows_g]
        bounds = np.c_[lb[cols_g], np.full(cols_g.size, np.inf)]
        lo = x_true[cols_g].copy()
        hi = x_true[cols_g].copy()
        hi[~protect[cols_g]] = np.inf  # no need to show these move
        # push every cell not yet seen to move, all together, while that shows more; then random mixes
        for mix in (False, True):
            for _ in range(probes):
                todo = hi - lo < 1 - 1e-6
                if not todo.any():
                    break
                obj = rng.normal(size=cols_g.size) * todo if mix else todo.astype(float)
                lo, hi, gained = _probe(obj, A_g, b_g, bounds, lo, hi)
                if not gained:
                    break
        for j in np.flatnonzero(hi - lo < 1 - 1e-6):
            if hi[j] - lo[j] >= 1 - 1e-6:
                continue  # seen to move by an earlier cell's programme
            obj = np.zeros(cols_g.size)
            obj[j] = 1.0
            for sign in (-1.0, 1.0):  # largest value first, then smallest
                res = linprog(sign * obj, A_eq=A_g, b_eq=b_g, bounds=bounds, method="highs")
                if res.status == 3:  # unbounded above
                    hi[j] = np.inf
                    break
                assert res.status == 0, f"attacker's system infeasible: {res.message}"
                lo, hi = np.minimum(lo, res.x), np.maximum(hi, res.x)
                if hi[j] - lo[j] >= 1 - 1e-6:
                    break
            if hi[j] - lo[j] < 1 - 1e-6:
                out.append((int(hidden[cols_g[j]]), float(lo[j]), float(hi[j])))
    return out
