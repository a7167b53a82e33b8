"""The relations found with arrays are the relations of their definitions, constraint for constraint.

``add_breakdown_sums``, ``add_shared_stocks`` and ``add_balances`` were written cell by cell (dict lookups,
merges, one ``Series.get`` per stock cell) and ``add_equal_series`` read a pivot table; they now work on
arrays (issue 19: the relations are found again for each of a publication's 29 runs). The order in which
constraints are added matters (the suppression's groups and partners follow it), so each is checked here,
on random tables with rows left out, missing values and relations broken at random, against a plain
implementation of its definition: the same constraints, in the same order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from safeguarding.disclosure.policy import TOLERANCE
from safeguarding.disclosure.primary import indicator_cells
from safeguarding.disclosure.relations import (
    _grid,
    _series_table,
    add_balances,
    add_breakdown_sums,
    add_shared_stocks,
)
from safeguarding.disclosure.secondary.system import _System, spans

BALANCE = (("STOCK:value", "IN:value", "OUT:value"),)


def _table(seed: int) -> pd.DataFrame:
    """A stock and its two flows (and a fourth count), months, quarters and a year, a breakdown of three values;
    rows left out, values missing and values changed at random."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2023-04-01", periods=15, freq="MS")
    rows = []
    for value in ("all", "a", "b", "c"):
        inflow = rng.poisson(4, months.size).astype(float)
        outflow = rng.poisson(4, months.size).astype(float)
        stock = 20 + np.cumsum(inflow - outflow)
        other = rng.poisson(3, months.size).astype(float)
        series = {"IN": inflow, "OUT": outflow, "STOCK": stock, "OTHER": other}
        bd = "all" if value == "all" else "group"
        for code, x in series.items():
            for i, m in enumerate(months):
                rows.append((code, "month", m, m + pd.offsets.MonthEnd(0), bd, value, x[i]))
            for q in range(months.size // 3):
                ix = slice(3 * q, 3 * q + 3)
                y = x[3 * q + 2] if code == "STOCK" else x[ix].sum()
                rows.append((code, "quarter", months[3 * q], months[3 * q + 2] + pd.offsets.MonthEnd(0), bd, value, y))
            y = x[11] if code == "STOCK" else x[:12].sum()
            rows.append((code, "year", months[0], months[11] + pd.offsets.MonthEnd(0), bd, value, y))
    df = pd.DataFrame(rows, columns=["indicator_id", "period_type", "period_start", "period_end", "breakdown",
                                     "breakdown_value", "value"])
    # the headline is the sum of the breakdown: rebuild it so that most sums hold
    parts = df[df["breakdown"] != "all"].groupby(["indicator_id", "period_type", "period_start"])["value"].sum()
    head = df["breakdown"] == "all"
    keyed = pd.MultiIndex.from_frame(df.loc[head, ["indicator_id", "period_type", "period_start"]])
    df.loc[head, "value"] = parts.reindex(keyed).to_numpy()
    df = df.sample(frac=0.85, random_state=seed).sort_index() if seed % 2 else df.sample(frac=0.85, random_state=seed)
    df.loc[rng.random(len(df)) < 0.04, "value"] = np.nan
    bump = rng.random(len(df)) < 0.04
    df.loc[bump, "value"] = df.loc[bump, "value"] + 1
    df["numerator"] = np.nan
    df["denominator"] = np.nan
    return df.reset_index(drop=True)


def _long(seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    cells = indicator_cells(_table(seed))
    return cells.long, cells.values


def _constraints(system: _System) -> list[tuple[list[int], list[float], list[bool]]]:
    return [(i.tolist(), c.tolist(), p.tolist()) for i, c, p in system.constraints]


def _breakdown_sums_by_definition(system: _System, long: pd.DataFrame) -> None:
    """Each breakdown (in the order it first appears) adds up to its headline: headline first, then the parts."""
    keys = ["indicator_id", "measure", "period_type", "period_start"]
    heads: dict[tuple, int] = {}
    groups: dict[tuple, list[int]] = {}
    for rec in long.itertuples(index=False):
        k = tuple(getattr(rec, c) for c in keys)
        if rec.breakdown == "all":
            heads.setdefault(k, rec.cell)
        else:
            groups.setdefault((*k, rec.breakdown), []).append(rec.cell)
    for g, members in groups.items():
        head = heads.get(g[:4])
        if head is None:
            continue
        hv, pv = system.values[head], system.values[members]
        if np.isnan(hv) or np.isnan(pv).any() or abs(pv.sum() - hv) > TOLERANCE:
            continue
        system.add([head, *members], [-1.0] + [1.0] * len(members), [False] + [True] * len(members))


def _shared_stocks_by_definition(system: _System, long: pd.DataFrame) -> None:
    """A series published for a shorter and a longer period type, equal at every shared end (and not all zero),
    is one figure: pairs indicator by indicator, in the order of the shorter periods' rows."""
    align = ["indicator_id", "measure", "period_end", "breakdown", "breakdown_value"]
    recs = list(long.itertuples(index=False))
    for short, big in (("month", "quarter"), ("month", "year"), ("quarter", "year")):
        pairs: dict[tuple, list[tuple[int, int, float, float]]] = {}
        for s in recs:
            if s.period_type != short:
                continue
            for b in recs:
                if b.period_type == big and all(getattr(s, c) == getattr(b, c) for c in align) \
                        and not np.isnan(s.v) and not np.isnan(b.v):
                    pairs.setdefault((s.indicator_id, s.measure), []).append((s.cell, b.cell, s.v, b.v))
        for members in pairs.values():
            if any(vs > 0 for _, _, vs, _ in members) and all(abs(vs - vb) <= TOLERANCE for _, _, vs, vb in members):
                for a, b, _, _ in members:
                    system.constraints.append((np.array([a, b]), np.array([1.0, -1.0]), np.array([True, True])))


def _balances_by_definition(system: _System, long: pd.DataFrame, wide: pd.DataFrame) -> None:
    """stock(end) = stock(previous end) + in - out, stock cell by stock cell in the order of ``wide``'s rows;
    the previous end's stock of the same period type, or else of any type, months first."""
    order = {"month": 0, "quarter": 1, "year": 2}
    end_of = dict(zip(long["cell"], long["period_end"], strict=True))
    stock, inflow, outflow = wide[("STOCK", "value")], wide[("IN", "value")], wide[("OUT", "value")]
    same: dict[tuple, int] = {}
    for (ptype, _, bd, bv), c in stock.dropna().items():
        same[(ptype, bd, bv, pd.Timestamp(end_of[int(c)]))] = int(c)
    anytype: dict[tuple, int] = {}
    for (_ptype, bd, bv, end), c in sorted(same.items(), key=lambda kc: order.get(kc[0][0], 9)):
        anytype.setdefault((bd, bv, end), c)
    for k, c in stock.dropna().items():
        prev_end = pd.Timestamp(k[1]) - pd.Timedelta(days=1)
        prev = same.get((k[0], k[2], k[3], prev_end), anytype.get((k[2], k[3], prev_end)))
        ci, co = inflow[k], outflow[k]
        if prev is None or np.isnan(ci) or np.isnan(co):
            continue
        four = [int(c), prev, int(ci), int(co)]
        v = system.values[four]
        if not np.isnan(v).any() and abs(v[0] - v[1] - v[2] + v[3]) <= TOLERANCE:
            system.add(four, [1.0, -1.0, -1.0, 1.0], [True] * 4)


@pytest.mark.parametrize("seed", range(6))
def test_breakdown_sums_shared_stocks_and_balances_are_their_definitions(seed):
    long, values = _long(seed)
    wide = _series_table(long)
    found = 0
    for fast, plain, args in ((add_breakdown_sums, _breakdown_sums_by_definition, ()),
                              (add_shared_stocks, _shared_stocks_by_definition, ()),
                              (lambda s, lg, w: add_balances(s, lg, w, BALANCE), _balances_by_definition, (wide,))):
        a, b = _System(values.copy()), _System(values.copy())
        fast(a, long, *args)
        plain(b, long, *args)
        assert _constraints(a) == _constraints(b), (seed, plain.__name__)
        found += len(a.constraints)
    assert found > 50, "the table has relations of every kind to find"


@pytest.mark.parametrize("seed", range(4))
def test_the_grid_is_the_pivot_table(seed):
    long, _ = _long(seed)
    keys = ["indicator_id", "measure", "breakdown", "breakdown_value", "period_type"]
    for _, by_type in long[long["v"].notna()].groupby("period_type", sort=False):
        expected = by_type.pivot_table(index="period_start", columns=keys, values="cell", aggfunc="first").to_numpy()
        np.testing.assert_array_equal(_grid(by_type, keys), expected)


def _balances_that_hold_by_merges(rows: pd.DataFrame, balances) -> set:
    """The definition, as merges: a stock, its inflow and outflow at one end, and the stock at the end before."""
    out = set()
    for balance in balances:
        specs = [spec.partition(":") for spec in balance]
        frames = []
        for ind, _, measure in specs:
            sel = rows["indicator_id"].astype(str).eq(ind)
            frames.append(pd.DataFrame({
                "bd": rows.loc[sel, "breakdown"].astype(str), "pt": rows.loc[sel, "period_type"].astype(str),
                "vk": rows.loc[sel, "breakdown_value"].astype(str), "end": pd.to_datetime(rows.loc[sel, "period_end"]),
                "start": pd.to_datetime(rows.loc[sel, "period_start"]),
                "v": pd.to_numeric(rows.loc[sel, measure or "value"], errors="coerce")}))
        stock, inflow, outflow = frames
        on = ["bd", "pt", "vk", "end"]
        m = stock.merge(inflow[[*on, "v"]], on=on, suffixes=("", "_in")).merge(
            outflow[[*on, "v"]].rename(columns={"v": "v_out"}), on=on)
        m["prev_end"] = m["start"] - pd.Timedelta(days=1)
        m = m.merge(stock[[*on, "v"]].rename(columns={"end": "prev_end", "v": "v_prev"}),
                    on=["bd", "pt", "vk", "prev_end"])
        ok = (m["v"] - m["v_prev"] - m["v_in"] + m["v_out"]).abs() <= TOLERANCE
        out |= {(frozenset(i for i, _, _ in specs), bd, pt) for bd, pt in zip(m.loc[ok, "bd"], m.loc[ok, "pt"],
                                                                            strict=True)}
    return out


@pytest.mark.parametrize("seed", range(6))
def test_the_balances_that_hold_are_those_the_merges_find(seed):
    """``scope._balances_that_hold`` (which series a withheld stock or flow ties together, found again in each
    round of the publication) looks the figures up by key instead of merging frames: the same set."""
    from safeguarding.disclosure.scope import _balances_that_hold

    rows = _table(seed)
    if seed % 3 == 0:  # a key published twice (two rows), and a month left without its flows
        rows = pd.concat([rows, rows.iloc[[5, 40]]], ignore_index=True)
        rows = rows[~((rows["indicator_id"] == "IN") & (rows["period_type"] == "quarter"))]
    balances = (*BALANCE, ("OTHER:value", "IN:value", "OUT:value"))
    found = _balances_that_hold(rows, balances)
    assert found == _balances_that_hold_by_merges(rows, balances)
    assert any(f == frozenset({"STOCK", "IN", "OUT"}) for f, _, _ in found), "some balance holds in the table"


def test_spans_are_the_positions_of_each_span_in_order() -> None:
    """``spans`` (read by the group blocks and the residual rule) against a plain loop, empty spans included."""
    rng = np.random.default_rng(5)
    starts = rng.integers(0, 1000, size=50)
    lens = rng.integers(0, 6, size=50)
    expected = [p for s, n in zip(starts.tolist(), lens.tolist(), strict=True) for p in range(s, s + n)]
    assert spans(starts, lens).tolist() == expected
    assert spans(np.zeros(0, dtype=int), np.zeros(0, dtype=int)).size == 0
