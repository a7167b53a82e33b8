"""Disclosure control: small counts hidden, nothing recoverable, safe CSV and XLSX.

The "attacker" below is independent of the implementation: it reads only the
*published* strings, rebuilds the equations a reader could write down from the
table's structure (rows add to the row total, columns to the column total,
months to quarters, the same count in two places), and asks a linear programme
for the smallest and largest value each ``c`` cell could take given that a
``c`` is never negative (at least 1 when the true count is not zero, since true
zeros are shown). A cell is recoverable when min == max.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from safeguarding.disclosure import (
    MARKERS,
    small_count_series,
    suppress_indicator_table,
    suppress_table,
)
from safeguarding.publish.writers import safe_text, write_csv, write_xlsx

# --------------------------------------------------------------------------- the attacker


def attack(published: dict, truth: dict, equations: list[dict]) -> dict:
    """Feasible range of every unknown cell: {cell: (min, max)}.

    published: cell -> number, or "c" for suppressed; truth: cell -> true value
    (used only for the lower bound: a suppressed true zero has bound 0, others 1,
    which makes this attacker *better* informed than a real reader).
    equations: list of {cell: coefficient} meaning sum(coef * value) == 0.
    """
    unknown = sorted(c for c, v in published.items() if v == "c")
    if not unknown:
        return {}
    col = {c: j for j, c in enumerate(unknown)}
    rows, rhs = [], []
    for eq in equations:
        if not any(c in col for c in eq):
            continue
        a = np.zeros(len(unknown))
        b = 0.0
        for c, k in eq.items():
            if c in col:
                a[col[c]] += k
            else:
                b -= k * float(published[c])
        rows.append(a)
        rhs.append(b)
    bounds = [(1.0 if truth[c] >= 1 else 0.0, None) for c in unknown]
    out = {}
    for c in unknown:
        obj = np.zeros(len(unknown))
        obj[col[c]] = 1.0
        if not rows:
            out[c] = (bounds[col[c]][0], np.inf)
            continue
        lo = linprog(obj, A_eq=np.array(rows), b_eq=rhs, bounds=bounds, method="highs")
        hi = linprog(-obj, A_eq=np.array(rows), b_eq=rhs, bounds=bounds, method="highs")
        assert lo.status == 0, f"attacker's system infeasible: {lo.message}"
        out[c] = (lo.fun, np.inf if hi.status == 3 else -hi.fun)
    return out


def line_solver(published: dict, equations: list[dict]) -> set:
    """A second, simpler attacker: repeatedly solve any equation with one unknown."""
    known = {c: float(v) for c, v in published.items() if v != "c"}
    solved: set = set()
    changed = True
    while changed:
        changed = False
        for eq in equations:
            unk = [c for c in eq if c not in known]
            if len(unk) == 1:
                c = unk[0]
                known[c] = -sum(k * known[d] for d, k in eq.items() if d != c) / eq[c]
                solved.add(c)
                changed = True
    return solved


def table_equations(rows, cols, total_row, total_col, column_sums=None) -> list[dict]:
    body_rows = [r for r in rows if r != total_row]
    sums = column_sums or {}
    derived = set(sums) | {total_col}
    plain = [c for c in cols if c not in derived]
    eqs = []
    for r in rows:
        eqs.append({(r, total_col): -1.0, **{(r, c): 1.0 for c in plain}})
        for k, parts in sums.items():
            eqs.append({(r, k): -1.0, **{(r, c): 1.0 for c in parts}})
    for c in cols:
        eqs.append({(total_row, c): -1.0, **{(r, c): 1.0 for r in body_rows}})
    return eqs


def assert_nothing_recoverable(display, df, eqs):
    cols = list(display.columns)
    published = {(r, c): display.at[r, c] for r in display.index for c in cols}
    truth = {(r, c): float(df.at[r, c]) for r in display.index for c in cols}
    ranges = attack(published, truth, eqs)
    for cell, (lo, hi) in ranges.items():
        assert lo - 1e-6 <= truth[cell] <= hi + 1e-6, "attacker's equations are wrong"
        assert hi - lo > 1e-6, f"cell {cell} (true value {truth[cell]:g}) recoverable: range [{lo}, {hi}]"
    assert not line_solver(published, eqs)


def with_totals(body: pd.DataFrame) -> pd.DataFrame:
    df = body.copy()
    df["total"] = df.sum(axis=1)
    df.loc["total"] = df.sum()
    return df


# --------------------------------------------------------------------------- suppress_table


def test_markers_primary_zero_and_not_available():
    df = pd.DataFrame({"n": [0, 1, 5, 6, np.nan, 250]}, index=list("abcdef"))
    display, mask = suppress_table(df, ["n"])
    assert display["n"].tolist() == ["0", "c", "c", "6", ":", "250"]
    assert mask["n"].tolist() == [False, True, True, False, False, False]


def test_threshold_is_configurable_and_secondary_can_be_off():
    body = pd.DataFrame({"a": [3, 20], "b": [30, 40]}, index=["x", "y"])
    df = with_totals(body)
    display, _ = suppress_table(df, ["a", "b"], total_row="total", total_column="total", secondary=False)
    assert display.at["x", "a"] == "c"
    assert (display == "c").sum().sum() == 1  # board pack: primary only
    display, _ = suppress_table(df, ["a", "b"], threshold=(1, 2), total_row="total", total_column="total")
    assert (display == "c").sum().sum() == 0


def test_single_small_cell_gets_partners_in_row_and_column():
    body = pd.DataFrame({"a": [3, 10, 12], "b": [20, 40, 15], "c": [7, 8, 9]}, index=["x", "y", "z"])
    df = with_totals(body)
    display, mask = suppress_table(df, ["a", "b", "c"], total_row="total", total_column="total")
    assert display.at["x", "a"] == "c"
    # every row and column line has 0 or at least 2 suppressed cells
    assert set(mask.sum(axis=1)) <= {0, 2, 3, 4} and set(mask.sum(axis=0)) <= {0, 2, 3, 4}
    # the partners are the smallest non-zero cells: 7 in row x, 10 in column a, then 8
    assert display.at["x", "c"] == "c" and display.at["y", "a"] == "c" and display.at["y", "c"] == "c"
    assert_nothing_recoverable(display, df, table_equations(df.index, df.columns, "total", "total"))


def test_two_suppressed_cells_summing_to_two_are_protected():
    # row x: 1 + 1 + 30 = 32; a reader knows each c >= 1, so c + c = 2 gives both away
    body = pd.DataFrame({"a": [1, 20, 30], "b": [1, 25, 35], "c": [30, 40, 50]}, index=["x", "y", "z"])
    df = with_totals(body)
    display, _ = suppress_table(df, ["a", "b", "c"], total_row="total", total_column="total")
    assert_nothing_recoverable(display, df, table_equations(df.index, df.columns, "total", "total"))


def test_bridge_between_two_safe_blocks_is_caught():
    # every row/column has 0 or 2+ suppressed cells after the line rule, yet cell (r1, c3)
    # links two closed cycles; the linear-algebra rule must still hide it properly
    body = pd.DataFrame(0, index=[f"r{i}" for i in range(1, 5)], columns=[f"c{j}" for j in range(1, 5)])
    body.loc[:, :] = [[2, 3, 4, 40], [4, 2, 50, 60], [30, 40, 3, 2], [50, 60, 2, 4]]
    df = with_totals(body)
    display, _ = suppress_table(df, list(df.columns), total_row="total", total_column="total")
    assert_nothing_recoverable(display, df, table_equations(df.index, df.columns, "total", "total"))


def test_period_totals_are_a_dimension():
    months = ["Apr", "May", "Jun", "Jul", "Aug", "Sep"]
    body = pd.DataFrame([[3, 12, 14, 20, 22, 25], [10, 11, 9, 8, 30, 31]], index=["a", "b"], columns=months)
    body["Q1"] = body[months[:3]].sum(axis=1)
    body["Q2"] = body[months[3:]].sum(axis=1)
    df = body.copy()
    df["total"] = df[months].sum(axis=1)
    df.loc["total"] = df.sum()
    sums = {"Q1": months[:3], "Q2": months[3:]}
    display, mask = suppress_table(df, list(df.columns), total_row="total", total_column="total", column_sums=sums)
    assert display.at["a", "Apr"] == "c"
    assert mask.loc["a", months[:3]].sum() >= 2  # another month of Q1 hidden too
    eqs = table_equations(df.index, df.columns, "total", "total", sums)
    assert_nothing_recoverable(display, df, eqs)


def test_attacker_has_teeth_on_primary_only_tables():
    # without secondary suppression the same table gives the small cell away
    body = pd.DataFrame({"a": [3, 10, 12], "b": [20, 40, 15], "c": [7, 8, 9]}, index=["x", "y", "z"])
    df = with_totals(body)
    display, _ = suppress_table(df, ["a", "b", "c"], total_row="total", total_column="total", secondary=False)
    with pytest.raises(AssertionError, match="recoverable"):
        assert_nothing_recoverable(display, df, table_equations(df.index, df.columns, "total", "total"))


def test_bad_input_is_reported():
    df = pd.DataFrame({"a": [1, 2], "total": [0, 2]}, index=["x", "y"])
    with pytest.raises(ValueError, match=r"row .x.*more than the total"):
        suppress_table(df, ["a"], total_column="total")
    with pytest.raises(ValueError, match="not in the table"):
        suppress_table(df, ["zzz"])
    with pytest.raises(ValueError, match="total_row"):
        suppress_table(df, ["a"], total_row="nope")


cell_values = st.one_of(st.just(0), st.integers(1, 5), st.integers(6, 40), st.integers(6, 400))


@st.composite
def tables(draw):
    n_rows = draw(st.integers(2, 5))
    n_cols = draw(st.integers(2, 5))
    data = [[draw(cell_values) for _ in range(n_cols)] for _ in range(n_rows)]
    body = pd.DataFrame(data, index=[f"r{i}" for i in range(n_rows)], columns=[f"k{j}" for j in range(n_cols)])
    return with_totals(body)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_no_suppressed_cell_can_be_recovered(df):
    display, mask = suppress_table(df, list(df.columns), total_row="total", total_column="total")
    values = df.to_numpy(dtype=float)
    # every count 1-5 is hidden, nothing else shows a number it should not
    assert mask.to_numpy()[(values >= 1) & (values <= 5)].all()
    shown = display.to_numpy()[~mask.to_numpy()]
    assert all(s != "c" for s in shown)
    assert_nothing_recoverable(display, df, table_equations(df.index, df.columns, "total", "total"))


# --------------------------------------------------------------------------- indicator table


def _month_starts(year: int) -> list[pd.Timestamp]:
    return list(pd.date_range(f"{year - 1}-04-01", periods=12, freq="MS"))


def _rows(indicator, num, den, value, start, end, ptype, breakdown="all", bvalue="all"):
    return dict(indicator_id=indicator, period_type=ptype, period_start=start, period_end=end,
                breakdown=breakdown, breakdown_value=bvalue, numerator=num, denominator=den, value=value)


def synthetic_indicators(seed: int = 1) -> pd.DataFrame:
    """Months, quarters, a year, a breakdown, a percentage, a rate, a stock and flows."""
    rng = np.random.default_rng(seed)
    months = _month_starts(2025)
    rows = []
    sources = ["school", "police", "health", "other"]
    ref = {s: rng.choice([0, 1, 2, 3, 4, 7, 9, 12, 20], size=12) for s in sources}
    icpc = rng.integers(2, 12, size=12)
    on_time = np.array([rng.integers(0, n + 1) for n in icpc])
    started = rng.integers(0, 9, size=12)
    ended = rng.integers(0, 9, size=12)
    open_ = 40 + np.cumsum(started - ended)

    def add_periods(ind, series_num, series_den, kind, breakdown="all", bvalue="all"):
        spans = [("month", [m], m, m + pd.offsets.MonthEnd(0)) for m in months]
        for q in range(4):
            ms = months[3 * q:3 * q + 3]
            spans.append(("quarter", ms, ms[0], ms[-1] + pd.offsets.MonthEnd(0)))
        spans.append(("year", months, months[0], months[-1] + pd.offsets.MonthEnd(0)))
        for ptype, ms, start, end in spans:
            ix = [months.index(m) for m in ms]
            n = float(np.sum(series_num[ix]))
            if kind == "count":
                rows.append(_rows(ind, np.nan, np.nan, n, start, end, ptype, breakdown, bvalue))
            elif kind == "pct":
                d = float(np.sum(series_den[ix]))
                rows.append(_rows(ind, n, d, 100 * n / d if d else np.nan, start, end, ptype, breakdown, bvalue))
            else:
                rows.append(_rows(ind, n, 98_765.0, 10_000 * n / 98_765, start, end, ptype, breakdown, bvalue))

    total = sum(ref.values())
    add_periods("REFERRALS", total, None, "count")
    for s in sources:
        add_periods("REFERRALS", ref[s], None, "count", "source", s)
    add_periods("REFERRAL_RATE", total, None, "rate")
    add_periods("ICPC_HELD", icpc, None, "count")
    add_periods("ICPC_15WD", on_time, icpc, "pct")
    add_periods("CPP_STARTED", started, None, "count")
    add_periods("CPP_ENDED", ended, None, "count")
    prev_end = months[0] - pd.Timedelta(days=1)
    rows.append(_rows("CPP_OPEN", np.nan, np.nan, 40.0, prev_end.replace(day=1), prev_end, "month"))
    for i, m in enumerate(months):
        rows.append(_rows("CPP_OPEN", np.nan, np.nan, float(open_[i]), m, m + pd.offsets.MonthEnd(0), "month"))
    df = pd.DataFrame(rows)
    df["status"] = "ok"
    return df


def indicator_equations(pub: pd.DataFrame, ind: pd.DataFrame) -> tuple[dict, dict, list[dict]]:
    """The reader's view of the published table: cells, truths and the equations they know."""
    published, truth = {}, {}
    kinds = {"REFERRAL_RATE": ("numerator",), "ICPC_15WD": ("numerator", "denominator")}
    for r in range(len(pub)):
        row = pub.iloc[r]
        for m in kinds.get(row.indicator_id, ("value",)):
            key = (row.indicator_id, m, row.period_type, row.period_start, row.breakdown, row.breakdown_value)
            published[key] = row[m]
            truth[key] = float(ind.iloc[r][m])
    eqs: list[dict] = []
    keys = list(published)
    by = {k: k for k in keys}
    # breakdown -> headline
    for k in keys:
        ind_id, m, pt, ps, bd, _ = k
        if bd == "all":
            parts = [j for j in keys if j[:4] == k[:4] and j[4] != "all"]
            if parts:
                eqs.append({k: -1.0, **{j: 1.0 for j in parts}})
    # months -> quarters -> year
    for k in keys:
        ind_id, m, pt, ps, bd, bv = k
        if ind_id == "CPP_OPEN" or pt == "month":
            continue
        end = ps + (pd.DateOffset(months=3) if pt == "quarter" else pd.DateOffset(months=12))
        months = [j for j in keys if j[0] == ind_id and j[1] == m and j[2] == "month" and j[4:] == (bd, bv)
                  and ps <= j[3] < end]
        eqs.append({k: -1.0, **{j: 1.0 for j in months}})
        if pt == "year":
            qs = [j for j in keys if j[0] == ind_id and j[1] == m and j[2] == "quarter" and j[4:] == (bd, bv)]
            eqs.append({k: -1.0, **{j: 1.0 for j in qs}})
    # the same count in two indicators
    for k in keys:
        if k[0] == "REFERRAL_RATE":
            eqs.append({k: 1.0, by[("REFERRALS", "value", *k[2:])]: -1.0})
        if k[0] == "ICPC_15WD" and k[1] == "denominator":
            eqs.append({k: 1.0, by[("ICPC_HELD", "value", *k[2:])]: -1.0})
    # stock and flow
    opens = sorted((k for k in keys if k[0] == "CPP_OPEN"), key=lambda k: k[3])
    for prev, cur in itertools.pairwise(opens):
        eqs.append({cur: 1.0, prev: -1.0, ("CPP_STARTED", "value", *cur[2:]): -1.0,
                    ("CPP_ENDED", "value", *cur[2:]): 1.0})
    return published, truth, eqs


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_indicator_table_nothing_small_and_nothing_recoverable(seed):
    ind = synthetic_indicators(seed)
    pub = suppress_indicator_table(ind)
    assert len(pub) == len(ind) and list(pub.columns[:9]) == list(ind.columns[:9])
    # no published count from 1 to 5 (rate denominators are populations)
    for col in ("numerator", "denominator", "value"):
        mask = ~pub["indicator_id"].eq("REFERRAL_RATE") | col.__eq__("numerator")
        if col == "value":
            mask = ~pub["indicator_id"].isin(["REFERRAL_RATE", "ICPC_15WD"])
        nums = pd.to_numeric(pub.loc[mask, col], errors="coerce")
        assert not nums.between(1, 5).any(), f"{col} shows a count from 1 to 5"
    # percentages and rates hidden with their numerators
    for ind_id in ("ICPC_15WD", "REFERRAL_RATE"):
        sub = pub[pub["indicator_id"].eq(ind_id)]
        assert (sub.loc[sub["numerator"].eq("c"), "value"] == "c").all()
    pct = pub[pub["indicator_id"].eq("ICPC_15WD")]
    assert (pct.loc[pct["denominator"].eq("c"), "value"] == "c").all()
    assert pub.loc[pub["value"].eq("c"), "marker"].eq("c").all()
    assert pub["suppressed"].eq(pub[["numerator", "denominator", "value"]].eq("c").any(axis=1)).all()
    published, truth, eqs = indicator_equations(pub, ind)
    assert any(v == "c" for v in published.values()), "fixture should exercise suppression"
    ranges = attack(published, truth, eqs)
    for cell, (lo, hi) in ranges.items():
        assert lo - 1e-6 <= truth[cell] <= hi + 1e-6
        assert hi - lo > 1e-6, f"{cell} recoverable (true {truth[cell]:g})"


def test_one_small_month_in_a_quarter_hides_another_month():
    months = _month_starts(2025)[:3]
    vals = [3.0, 40.0, 50.0]
    rows = [_rows("S47_STARTED", np.nan, np.nan, v, m, m + pd.offsets.MonthEnd(0), "month")
            for m, v in zip(months, vals, strict=True)]
    rows.append(_rows("S47_STARTED", np.nan, np.nan, 93.0, months[0], months[-1] + pd.offsets.MonthEnd(0), "quarter"))
    pub = suppress_indicator_table(pd.DataFrame(rows))
    assert pub["value"].tolist() == ["c", "c", "50", "93"]
    assert pub["denominator"].tolist() == ["z"] * 4
    assert pub["marker"].tolist() == ["c", "c", "", ""]


def test_stock_months_are_not_treated_as_flows():
    # plans open at month end do not add up to anything: one small month needs no partner
    months = _month_starts(2025)[:3]
    rows = [_rows("LADO_OPEN", np.nan, np.nan, v, m, m + pd.offsets.MonthEnd(0), "month")
            for m, v in zip(months, [3.0, 40.0, 50.0], strict=True)]
    rows.append(_rows("LADO_OPEN", np.nan, np.nan, 50.0, months[0], months[-1] + pd.offsets.MonthEnd(0), "quarter"))
    pub = suppress_indicator_table(pd.DataFrame(rows))
    assert pub["value"].tolist() == ["c", "40", "50", "50"]


def test_a_stock_published_at_a_month_end_and_a_quarter_end_is_hidden_in_both():
    """Plans open at 31 March appear in the March row and the January-March quarter row: one number.

    Here the balance (open at end = open before + started - ended) hides March's figure as the partner
    of a small number started; the quarter row states the same figure and must be hidden with it, or a
    reader gets March back from the quarter and then the small number from the balance.
    """
    feb, mar, jan = pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-01"), pd.Timestamp("2024-01-01")
    feb_end, mar_end = pd.Timestamp("2024-02-29"), pd.Timestamp("2024-03-31")
    rows = [_rows("S", np.nan, np.nan, 19.0, feb, feb_end, "month"),
            _rows("S", np.nan, np.nan, 10.0, mar, mar_end, "month"),
            _rows("I", np.nan, np.nan, 2.0, mar, mar_end, "month"),
            _rows("O", np.nan, np.nan, 11.0, mar, mar_end, "month"),
            _rows("S", np.nan, np.nan, 10.0, jan, mar_end, "quarter")]
    ind = pd.DataFrame(rows)
    ind["status"] = "ok"
    pub = suppress_indicator_table(ind, balances=(("S:value", "I:value", "O:value"),))
    published, truth = {}, {}
    for i, r in pub.iterrows():
        published[i] = r["value"]
        truth[i] = float(ind.loc[i, "value"])
    equations = [{1: 1.0, 0: -1.0, 2: -1.0, 3: 1.0},  # open(Mar) = open(Feb) + started - ended
                 {1: 1.0, 4: -1.0}]  # open at 31 March, in the month row and the quarter row
    assert published[2] == "c"
    ranges = attack(published, truth, equations)
    assert all(hi - lo > 1e-6 for lo, hi in ranges.values()), ranges
    assert (published[1] == "c") == (published[4] == "c")


def test_partner_costs_spare_headline_and_latest_year_figures():
    from safeguarding.disclosure import partner_costs

    cells = pd.DataFrame({
        "period_type": ["month", "quarter", "year", "month", "quarter", "year", "year", "rolling12"],
        "period_end": pd.to_datetime(["2025-03-31"] * 6 + ["2024-03-31", "2025-03-31"]),
        "breakdown": ["age"] * 3 + ["all"] * 5,
    })
    cost = partner_costs(cells).tolist()
    assert cost[0] < cost[1] < cost[3] < cost[4] < cost[6] < cost[5]  # the latest headline year is dearest
    assert cost[2] > cost[3]  # the latest year's breakdown table before the headline months
    assert cost == [0, 1, 5, 3, 4, 8, 5, 4]


def test_not_available_and_missing_columns():
    rows = [_rows("ICPC_15WD", np.nan, np.nan, np.nan, pd.Timestamp("2024-04-01"), pd.Timestamp("2024-04-30"),
                  "month")]
    rows.append(_rows("ICPC_15WD", 9.0, 12.0, 75.0, pd.Timestamp("2024-05-01"), pd.Timestamp("2024-05-31"), "month"))
    pub = suppress_indicator_table(pd.DataFrame(rows))
    assert pub["value"].tolist() == [":", "75.0"]
    assert pub["marker"].tolist() == [":", ""]
    with pytest.raises(ValueError, match="INDICATOR_COLUMNS"):
        suppress_indicator_table(pd.DataFrame(rows).drop(columns="breakdown"))


# --------------------------------------------------------------------------- charts of small counts


def test_small_count_series_monthly_quarterly_or_nothing():
    idx = pd.date_range("2024-04-01", periods=12, freq="MS")
    big = pd.Series(np.arange(10, 22), index=idx)
    s, note = small_count_series(big)
    assert (note == "" and s.equals(big.astype(float))) or s.tolist() == big.tolist()
    some = big.copy()
    some.iloc[1] = 2
    s, note = small_count_series(some)
    assert s is not None and len(s) == 4 and "quarter" in note
    assert s.iloc[0] == 10 + 2 + 12 and s.index[0] == pd.Timestamp("2024-04-01")
    assert s.index[3] == pd.Timestamp("2025-01-01")  # financial quarters: Jan-Mar is the fourth
    tiny = pd.Series([1, 0, 0, 2, 0, 0, 0, 1, 0, 9, 9, 9], index=idx)
    s, note = small_count_series(tiny)
    assert s is None and "not shown" in note


# --------------------------------------------------------------------------- safe writers

NASTY = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "\r=x", "  =HYPERLINK(\"http://x\")", "\uff1d1+1"]


def test_safe_text():
    for s in NASTY:
        assert safe_text(s).startswith("'")
    assert safe_text("Police") == "Police"
    assert safe_text("a=b") == "a=b"
    assert safe_text(-5) == -5 and safe_text(3.5) == 3.5
    assert safe_text(None) is None


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "team": [*NASTY, "Team A"],
        "count": list(range(len(NASTY) + 1)),
        "rate": [0.5] * (len(NASTY) + 1),
        "value": ["c", "12", ":", "z", "0", "x", "7", "8", "9"],
        "when": pd.to_datetime(["2024-04-01"] * (len(NASTY) + 1)),
    })


def test_write_csv_neutralises_formulas(tmp_path):
    path = write_csv(_frame(), tmp_path / "out.csv")
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["team", "count", "rate", "value", "when"]
    assert len(rows) == len(NASTY) + 2  # a carriage return in text cannot start a new row
    for row in rows[1:]:
        for cell in row:
            assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert rows[1][1] == "0" and rows[1][4] == "2024-04-01"
    assert rows[1][0] == "'=1+1"


def test_write_xlsx_text_is_text_and_notes_explain_markers(tmp_path):
    path = write_xlsx(_frame(), tmp_path / "out.xlsx", sheet_name="indicators")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["indicators", "notes"]
    ws = wb["indicators"]
    assert [c.value for c in ws[1]] == ["team", "count", "rate", "value", "when"]
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"{cell.coordinate} is a formula"
            if isinstance(cell.value, str):
                assert not cell.value.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")), cell.value
    assert ws["B3"].value == 1 and isinstance(ws["B3"].value, int)  # numbers stay numbers
    assert ws["C2"].value == 0.5
    assert ws["D2"].value == "c"
    notes = "\n".join(str(c.value) for row in wb["notes"].iter_rows() for c in row if c.value is not None)
    for sym in MARKERS:
        assert sym in notes
    assert "1 to 5" in notes


def test_publication_scope_follows_the_published_spans():
    from safeguarding.published_data import publication_scope

    year_end = pd.Timestamp("2025-03-31")
    spec = [  # period type, period end, breakdown, in scope?
        ("year", "2025-03-31", "all", True), ("year", "2015-03-31", "all", False), ("year", "2016-03-31", "age", True),
        ("quarter", "2022-06-30", "age", True), ("quarter", "2022-03-31", "all", False),
        ("month", "2022-04-30", "all", True), ("month", "2022-03-31", "all", False),
        ("month", "2024-04-30", "age", True), ("month", "2024-03-31", "age", False),
        ("month", "2025-04-30", "all", False), ("rolling12", "2025-03-31", "all", False),
    ]
    ind = pd.DataFrame({"period_type": [s[0] for s in spec], "period_end": pd.to_datetime([s[1] for s in spec]),
                        "breakdown": [s[2] for s in spec]})
    assert publication_scope(ind, year_end).tolist() == [s[3] for s in spec]


def test_sparse_breakdowns_by_month_are_withheld_whole():
    """A breakdown by month that is mostly counts from 1 to 5 is withheld; its year, and the headline, stay."""
    from safeguarding.published_data import sparse_series

    months = pd.date_range("2024-04-01", periods=4, freq="MS")
    rows = []
    series = (("sector", "A", [1, 2, 0, 3]), ("sector", "B", [9, 12, 8, 2]), ("all", "all", [10, 14, 8, 5]))
    for bd, bv, values in series:
        for m, v in zip(months, values, strict=True):
            rows.append(_rows("R", np.nan, np.nan, float(v), m, m + pd.offsets.MonthEnd(0), "month", bd, bv))
        rows.append(_rows("R", np.nan, np.nan, float(sum(values)), months[0], months[-1] + pd.offsets.MonthEnd(0),
                          "year", bd, bv))
    ind = pd.DataFrame(rows)
    scope = pd.Series(True, index=ind.index)
    out = sparse_series(ind, scope)
    # 4 of the 8 sector-month counts are from 1 to 5 (half, not more): kept; one more small month tips it
    assert not out.any()
    ind.loc[(ind["breakdown_value"] == "B") & (ind["value"] == 9), "value"] = 4.0
    out = sparse_series(ind, scope)
    assert out.tolist() == (ind["breakdown"].eq("sector") & ind["period_type"].eq("month")).tolist()
    assert not sparse_series(ind, pd.Series(False, index=ind.index)).any()  # only rows in scope count
    # R is in no balance: a copy of its counts (a denominator, say) states nothing R's own sums do not
    copy = ind[ind["breakdown"].eq("sector") & ind["period_type"].eq("month")].copy()
    copy["indicator_id"] = "P"
    copy["denominator"] = copy["value"]
    copy["numerator"] = 0.0
    copy["value"] = 0.0
    both = pd.concat([ind, copy], ignore_index=True)
    out = sparse_series(both, pd.Series(True, index=both.index))
    assert out[both["indicator_id"].eq("R") & both["breakdown"].eq("sector") & both["period_type"].eq("month")].all()
    assert not out[both["indicator_id"].eq("P")].any()


def test_a_sparse_flow_is_withheld_with_its_balance_and_its_copies():
    """Open = previous open + referred - concluded: withholding referrals alone would give them away."""
    from safeguarding.published_data import sparse_series

    months = pd.date_range("2024-04-01", periods=4, freq="MS")
    opened, referred, concluded = [20, 19, 23, 24], [3, 2, 4, 1], [1, 3, 0, 0]
    rows = []
    for i, m in enumerate(months):
        end = m + pd.offsets.MonthEnd(0)
        rows.append(_rows("LADO_OPEN", np.nan, np.nan, float(opened[i]), m, end, "month", "sector", "A"))
        rows.append(_rows("LADO_REFERRALS", np.nan, np.nan, float(referred[i]), m, end, "month", "sector", "A"))
        rows.append(_rows("LADO_CONCLUDED_1M", 0.0, float(concluded[i]), 0.0, m, end, "month", "sector", "A"))
        # a percentage of referrals (its denominator repeats them), and an unrelated sparse count
        rows.append(_rows("P", 1.0, float(referred[i]), 50.0, m, end, "month", "sector", "A"))
        rows.append(_rows("R", np.nan, np.nan, 2.0, m, end, "month", "sector", "A"))
    ind = pd.DataFrame(rows)
    out = sparse_series(ind, pd.Series(True, index=ind.index))
    by = out.groupby(ind["indicator_id"]).all()
    assert by.to_dict() == {"LADO_CONCLUDED_1M": True, "LADO_OPEN": True, "LADO_REFERRALS": True, "P": True,
                            "R": True}
    # where the balance does not hold (open does not move with the flows), the stock stays
    ind.loc[ind["indicator_id"].eq("LADO_OPEN"), "value"] = 40.0
    out = sparse_series(ind, pd.Series(True, index=ind.index))
    assert not out[ind["indicator_id"].eq("LADO_OPEN")].any()
    assert out[ind["indicator_id"].eq("LADO_REFERRALS")].all()


def test_published_indicator_table_round_trips(tmp_path):
    pub = suppress_indicator_table(synthetic_indicators(4))
    write_csv(pub, tmp_path / "indicators.csv")
    back = pd.read_csv(tmp_path / "indicators.csv", dtype=str, keep_default_na=False)
    assert back["value"].tolist() == pub["value"].tolist()
    assert back["period_start"].iloc[0] == dt.date(2024, 4, 1).isoformat()
    write_xlsx(pub, tmp_path / "indicators.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "indicators.xlsx")
    assert wb.active.max_row == len(pub) + 1
