"""The exact relations a reader can use between the cells of the indicator table.

Each ``add_*`` function finds one kind of relation in the table and adds it,
as a constraint, to the :class:`~safeguarding.disclosure.secondary.system._System`
that secondary suppression protects:

1. :func:`add_breakdown_sums`: breakdown values add up to the headline;
2. :func:`add_period_sums`: months add up to quarters, years and rolling 12
   months, quarters to years; consecutive rolling windows differ by a month
   in and a month out;
3. :func:`add_repeated_counts`: the same count published twice, under two
   indicators or measures (``REFERRAL_RATE`` numerator and ``REFERRALS``);
   :func:`add_equal_series`: the same counts under two breakdowns or
   breakdown values (police referrals as a headline and as a referral
   source; a plan-length band that two breakdowns share);
4. :func:`add_shared_stocks`: a stock published for several period types
   (the figure at a month end is the quarter's and the year's figure too);
5. :func:`add_balances`: stock-flow balances (open at end = open at the
   previous end + started - ended), listed in :data:`DEFAULT_BALANCES`;
6. the relations declared in the catalogue's relation model
   (:mod:`.model`) that the data alone cannot show: :func:`add_declared_sums`
   (a count that is the sum of other indicators' counts),
   :func:`add_band_equalities` (two band systems of one length), and the
   inequalities :func:`add_orders` (nested thresholds) and
   :func:`add_ratio_orders` (a numerator is at most its denominator), each
   as an equality with a slack cell (:meth:`_System.add_many_at_most
   <safeguarding.disclosure.secondary.system._System.add_many_at_most>`),
   and :func:`add_unpublished_counts` (a count never published that is the
   difference of published ones, protected when small).

:func:`indicator_relations` calls them all. Every relation is checked in the
data before it is used (within :data:`~safeguarding.disclosure.policy.TOLERANCE`):
a breakdown that does not add up to its headline, because of an unpublished
"unknown" group, is no constraint.

This module finds relations; it suppresses nothing and sets no costs
(:mod:`.costs`). Relations with figures published elsewhere (another
organisation's report) cannot be seen here.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from safeguarding.disclosure.model import RelationModel, default_model, parse_figure
from safeguarding.disclosure.policy import TOLERANCE
from safeguarding.disclosure.secondary.system import _System

#: stock = stock at previous period end + inflow - outflow, checked in the data before use (the
#: catalogue's ``relations: balances``)
DEFAULT_BALANCES: tuple[tuple[str, str, str], ...] = default_model().balances

#: order in which period types are tried for a stock at the previous period end (balances)
_TYPE_ORDER = {"month": 0, "quarter": 1, "year": 2}

#: the columns naming one series of an indicator's figures
_SERIES_KEYS = ["indicator_id", "measure", "breakdown", "breakdown_value"]


def indicator_relations(long: pd.DataFrame, system: _System,
                        balances: Sequence[tuple[str, str, str]] = DEFAULT_BALANCES,
                        model: RelationModel | None = None, margin: float | None = None) -> None:
    """Add every relation between the cells of ``long`` to ``system`` (steps 1 to 6 of the module).

    ``long`` has one row per cell (see
    :func:`safeguarding.disclosure.primary.indicator_cells`): ``cell``,
    ``measure``, the row's ``indicator_id``, ``period_type``,
    ``period_start``, ``period_end``, ``breakdown``, ``breakdown_value``
    and ``v`` (the value). ``balances`` lists stock-flow balances as
    ``("STOCK:measure", "INFLOW:measure", "OUTFLOW:measure")``. ``model``
    (default: the catalogue's, :func:`~.model.default_model`) gives the
    declared sums, band systems and inequalities. An inequality ``a <= b`` is
    added only where ``b - a`` is at most ``margin`` (None: everywhere): a
    wider gap cannot stop any move the protection of a small count needs
    (see :func:`~safeguarding.disclosure.tables.inequality_margin`).
    """
    model = default_model() if model is None else model
    add_breakdown_sums(system, long)
    add_period_sums(system, long)
    wide = _series_table(long)
    add_repeated_counts(system, wide)
    add_equal_series(system, long)
    add_shared_stocks(system, long)
    add_balances(system, long, wide, balances)
    places = _Places(long)  # read once for the three steps that line figures up by place
    add_declared_sums(system, long, model, places)
    add_band_equalities(system, long, model)
    add_orders(system, long, model, margin, places)
    if model.numerator_at_most_denominator:
        add_ratio_orders(system, long, margin)
    add_unpublished_counts(system, long, model, places)


#: the columns that place a cell in a table: its period and breakdown value
_PLACE = ["period_type", "period_start", "breakdown", "breakdown_value"]


class _Places:
    """Each cell of ``long`` by figure and place (:data:`_PLACE`), read once for the many figures of the model."""

    def __init__(self, long: pd.DataFrame) -> None:
        codes = long["indicator_id"].astype(str).to_numpy()
        measures = long["measure"].astype(str).to_numpy()
        #: ``(indicator_id, measure)`` -> positions of its cells in ``long``, in order
        self.rows: dict[tuple[str, str], np.ndarray] = pd.Series(np.arange(len(long))).groupby(
            [codes, measures], sort=False).indices
        self.period_type = long["period_type"].astype(object).tolist()
        # a period start as its number of nanoseconds: equal starts, equal numbers
        self.period_start = pd.DatetimeIndex(long["period_start"]).asi8.tolist()
        self.breakdown = long["breakdown"].astype(str).tolist()
        self.breakdown_value = long["breakdown_value"].astype(str).tolist()
        self.cell = long["cell"].tolist()

    def cells(self, figure: str) -> dict[tuple, int]:
        """The cells of one figure (:func:`~.model.parse_figure`) by place, the first cell of each place.

        A figure with a breakdown value (``CODE:measure[breakdown=value]``)
        is placed as a headline, so that it lines up with a headline total.
        """
        code, measure, selector = parse_figure(figure)
        out: dict[tuple, int] = {}
        for i in self.rows.get((code, measure), ()):
            bd, bv = self.breakdown[i], self.breakdown_value[i]
            if selector is not None:
                if (bd, bv) != selector:
                    continue
                bd, bv = "all", "all"
            out.setdefault((self.period_type[i], self.period_start[i], bd, bv), int(self.cell[i]))
        return out


def add_declared_sums(system: _System, long: pd.DataFrame, model: RelationModel,
                      places: _Places | None = None) -> None:
    """Step 6a: a count that is the sum of other indicators' counts, place by place, where it holds.

    ``places``: :class:`_Places` of ``long``, when the caller has it already.
    """
    places = places if places is not None else _Places(long)
    for total, parts in model.sums:
        totals, part_cells = _lined_up(places, total, parts)
        if totals.size:
            _add_sums(system, totals, list(np.array(part_cells).T))


def _lined_up(places: _Places, total: str, parts: tuple[str, ...]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The cells of a declared total and of each part, place by place where all are present (:data:`_PLACE`).

    Places in the order of the total's cells.
    """
    tot = places.cells(total)
    each = [places.cells(part) for part in parts]
    keep = [place for place in tot if all(place in p for p in each)]
    return (np.array([tot[k] for k in keep], dtype=int),
            [np.array([p[k] for k in keep], dtype=int) for p in each])


def add_unpublished_counts(system: _System, long: pd.DataFrame, model: RelationModel,
                           places: _Places | None = None) -> None:
    """Step 6e: a count never published but the difference of published ones is a cell of its own, place by place.

    Protected like a published count when it is small
    (:meth:`~.secondary.system._System.add_unpublished`), where it holds
    (not negative, a whole number). ``places`` as for :func:`add_declared_sums`.
    """
    places = places if places is not None else _Places(long)
    for _name, total, parts in model.unpublished:
        totals, part_cells = _lined_up(places, total, parts)
        if totals.size:
            system.add_unpublished(totals, part_cells)


def add_band_equalities(system: _System, long: pd.DataFrame, model: RelationModel) -> None:
    """Step 6b: two band systems of one length: each declared union of bands of one equals one of the other."""
    key = ["indicator_id", "measure", "period_type", "period_start"]
    for bands in model.bands:
        first, second = bands.breakdowns
        sub = long[long["breakdown"].astype(str).isin([first, second])]
        lookup = {(*k, bd, str(bv)): c for k, bd, bv, c in zip(
            sub[key].itertuples(index=False, name=None), sub["breakdown"].astype(str),
            sub["breakdown_value"], sub["cell"], strict=True)}
        for k in sub[key].drop_duplicates().itertuples(index=False, name=None):
            for left, right in bands.equal:
                found_a = [lookup.get((*k, first, v)) for v in left]
                found_b = [lookup.get((*k, second, v)) for v in right]
                if any(c is None for c in found_a + found_b):
                    continue
                a = [c for c in found_a if c is not None]  # all of them (none is None)
                b = [c for c in found_b if c is not None]
                va, vb = system.values[a], system.values[b]
                if np.isnan(va).any() or np.isnan(vb).any() or abs(va.sum() - vb.sum()) > TOLERANCE:
                    continue
                system.add([*a, *b], [1.0] * len(a) + [-1.0] * len(b), [True] * (len(a) + len(b)))


def _at_most(system: _System, small: np.ndarray, big: np.ndarray, margin: float | None) -> None:
    """``small <= big`` pair by pair, where the gap is at most ``margin`` (None: every pair)."""
    if margin is not None:
        near = system.values[big] - system.values[small] <= margin
        small, big = small[near], big[near]
    system.add_many_at_most(small, big)


def add_orders(system: _System, long: pd.DataFrame, model: RelationModel, margin: float | None = None,
               places: _Places | None = None) -> None:
    """Step 6c: nested thresholds, each figure at most the next, place by place (with slack cells).

    ``places`` as for :func:`add_declared_sums`.
    """
    places = places if places is not None else _Places(long)
    for order in model.orders:
        for small, big in itertools.pairwise(order):
            smalls, (bigs,) = _lined_up(places, small, (big,))
            _at_most(system, smalls, bigs, margin)


def add_ratio_orders(system: _System, long: pd.DataFrame, margin: float | None = None) -> None:
    """Step 6d: every percentage's numerator is at most its denominator (with slack cells)."""
    num = long[long["measure"].eq("numerator")][["row", "cell"]]
    den = long[long["measure"].eq("denominator")][["row", "cell"]]
    pairs = num.merge(den, on="row", suffixes=("_n", "_d"))
    _at_most(system, pairs["cell_n"].to_numpy(), pairs["cell_d"].to_numpy(), margin)


def _add_sums(system: _System, totals: np.ndarray, parts: list[np.ndarray]) -> None:
    """Add ``total = sum(parts)`` for each total whose parts add up to it in the data."""
    vals = system.values
    for t, ps in zip(totals, parts, strict=True):
        tv, pv = vals[t], vals[ps]
        if not np.isnan(tv) and not np.isnan(pv).any() and abs(pv.sum() - tv) <= TOLERANCE:
            n = len(ps)
            system.add([int(t), *ps.tolist()], [-1.0] + [1.0] * n, [False] + [True] * n)


def _add_pairs(system: _System, a: np.ndarray, b: np.ndarray) -> None:
    """Add ``a[k] = b[k]`` for each k in turn (as :meth:`_System.add` would, one by one)."""
    coefs, parts = np.array([1.0, -1.0]), np.array([True, True])
    known = ~np.isnan(system.values[a]) & ~np.isnan(system.values[b])
    for x, y in zip(a[known].tolist(), b[known].tolist(), strict=True):
        system.constraints.append((np.array([x, y]), coefs.copy(), parts.copy()))


def add_breakdown_sums(system: _System, long: pd.DataFrame) -> None:
    """Step 1: the values of each breakdown add up to the headline (``breakdown == "all"``).

    Breakdowns are taken in the order they first appear in ``long``, each
    value in its order; a breakdown with a missing value adds up to nothing.
    """
    head_keys = ["indicator_id", "measure", "period_type", "period_start"]
    place = long.groupby(head_keys, sort=False, observed=True, dropna=True).ngroup().to_numpy()
    bd_code, _ = pd.factorize(long["breakdown"])
    is_all = long["breakdown"].eq("all").to_numpy()
    v = long["v"].to_numpy(dtype=float)
    cells = long["cell"].to_numpy()
    heads = np.flatnonzero(is_all & (place >= 0))
    parts = np.flatnonzero(~is_all & (place >= 0) & (bd_code >= 0))
    if heads.size == 0 or parts.size == 0:
        return
    n_places = int(place.max()) + 1
    none = np.iinfo(np.int64).max
    head_row = np.full(n_places, none, dtype=np.int64)
    np.minimum.at(head_row, place[heads], heads)  # the first headline row of each place
    head_row[head_row == none] = -1
    group, _ = pd.factorize(place[parts].astype(np.int64) * (int(bd_code.max()) + 1) + bd_code[parts])
    n = int(group.max()) + 1
    known = ~np.isnan(v[parts])
    psum = np.bincount(group, weights=np.where(known, v[parts], 0.0), minlength=n)
    complete = np.bincount(group, weights=~known, minlength=n) == 0
    first = np.full(n, parts.size)
    np.minimum.at(first, group, np.arange(parts.size))
    total = head_row[place[parts[first]]]
    has_head = total >= 0
    tv = np.where(has_head, v[np.maximum(total, 0)], np.nan)
    ok = has_head & complete & ~np.isnan(tv) & (np.abs(psum - tv) <= TOLERANCE)
    order = np.argsort(group, kind="stable")  # the parts of each group, in their order
    bounds = np.r_[0, np.cumsum(np.bincount(group, minlength=n))]
    members = cells[parts[order]]
    keep = np.flatnonzero(ok)
    _add_sums(system, cells[total[keep]], [members[bounds[g]:bounds[g + 1]] for g in keep])


def _month_number(long: pd.DataFrame) -> np.ndarray:
    """Months since year 0 of each cell's period start (-1e6 for a start that is not the 1st of a month)."""
    ps = pd.DatetimeIndex(long["period_start"])
    return np.where(ps.day == 1, ps.year * 12 + ps.month - 1, -10**6)


def add_period_sums(system: _System, long: pd.DataFrame) -> None:
    """Step 2: shorter periods add up to longer ones; consecutive rolling 12-month windows.

    Months add up to quarters, years and rolling 12 months, quarters to
    years (flows only: checked in the data, so a stock, which does not add
    up, takes no part). For rolling windows, ``R(m) - R(m-1) = x(m) - x(m-12)``
    is made explicit for the line rule.

    Each period is found by its series, period type and first month
    (:class:`_PeriodIndex`); the relations are added in the order of the
    longer periods' rows, each plan in turn, then the rolling windows.
    """
    at = _PeriodIndex(long)
    vals = system.values
    cells = long["cell"].to_numpy()
    period_end = pd.DatetimeIndex(long["period_end"])
    ends, end_known = period_end.asi8, ~period_end.isna()
    plans = (("quarter", "month", 3, 1), ("year", "month", 12, 1), ("year", "quarter", 4, 3),
             ("rolling12", "month", 12, 1))
    for ptype, sub, n, step in plans:
        big = np.flatnonzero(long["period_type"].eq(ptype).to_numpy() & at.aligned)
        kids = np.stack([at.find(big, sub, step * i) for i in range(n)], axis=1)  # rows, or -1
        ok = (kids >= 0).all(axis=1)
        last = kids[:, -1]
        ok &= end_known[big] & end_known[last] & (ends[last] == ends[big])  # the last part ends with the whole
        big, kids = big[ok], kids[ok]
        tv, pv = vals[cells[big]], vals[cells[kids]]
        holds = ~np.isnan(tv) & ~np.isnan(pv).any(axis=1) & (np.abs(pv.sum(axis=1) - tv) <= TOLERANCE)
        coefs, parts = np.r_[-1.0, np.ones(n)], np.r_[False, np.ones(n, dtype=bool)]
        # each relation's cells: the whole, then its parts (one row each of one array, not one np.r_ each)
        rows = np.column_stack([cells[big[holds]], cells[kids[holds]]])
        system.constraints.extend((r, coefs.copy(), parts.copy()) for r in rows)
    roll = np.flatnonzero(long["period_type"].eq("rolling12").to_numpy() & at.aligned)
    four = np.stack([roll, at.find(roll, "rolling12", -1), at.find(roll, "month", 11), at.find(roll, "month", -1)],
                    axis=1)
    four = cells[four[(four >= 0).all(axis=1)]]
    v = vals[four]
    holds = ~np.isnan(v).any(axis=1) & (np.abs(v[:, 0] - v[:, 1] - v[:, 2] + v[:, 3]) <= TOLERANCE)
    coefs, parts = np.array([1.0, -1.0, -1.0, 1.0]), np.array([False, False, True, True])
    for cells4 in four[holds]:
        system.constraints.append((cells4.astype(int), coefs.copy(), parts.copy()))


class _PeriodIndex:
    """The rows of ``long`` by series (:data:`_SERIES_KEYS`), period type and first month, for :func:`add_period_sums`.

    Where two rows share all three, the later one is found (as a mapping
    filled in row order keeps the last). A row with a missing series key
    is never found, and a period that does not start on the 1st of a
    month is never found nor looked from (``aligned``).
    """

    _MONTH_BITS = 20  # months since year 0, with room for the offsets looked up
    _TYPE_BITS = 4

    def __init__(self, long: pd.DataFrame) -> None:
        mon = _month_number(long)
        series = long.groupby(_SERIES_KEYS, sort=False, observed=True, dropna=True).ngroup().to_numpy()
        types, names = pd.factorize(long["period_type"])
        self.types = {str(t): i for i, t in enumerate(names)}
        if len(names) >= 1 << self._TYPE_BITS or (mon.size and mon.max() + 32 >= 1 << self._MONTH_BITS):
            raise ValueError("add_period_sums: more period types or later months than the index holds")
        self.aligned = mon >= 0
        self._mon = mon
        self._series = series
        usable = self.aligned & (series >= 0) & (types >= 0)
        rows = np.flatnonzero(usable)[::-1]  # last first, so that the first of each key is the last row
        keys, first = np.unique(self._key(series[rows], types[rows], mon[rows]), return_index=True)
        self._keys, self._rows = keys, rows[first]

    def _key(self, series: np.ndarray, types: np.ndarray | int, mon: np.ndarray) -> np.ndarray:
        return ((series.astype(np.int64) << (self._TYPE_BITS + self._MONTH_BITS))
                | (np.int64(1) * types << self._MONTH_BITS) | (mon.astype(np.int64) + 16))

    def find(self, rows: np.ndarray, ptype: str, months: int) -> np.ndarray:
        """For each of ``rows``, the row of its series' ``ptype`` period starting ``months`` later (-1: none)."""
        out = np.full(rows.size, -1, dtype=np.int64)
        t = self.types.get(ptype)
        if t is None or not self._keys.size:
            return out
        series, mon = self._series[rows], self._mon[rows] + months
        good = (series >= 0) & (mon >= -16)
        q = self._key(series[good], t, mon[good])
        pos = np.minimum(np.searchsorted(self._keys, q), self._keys.size - 1)
        hit = self._keys[pos] == q
        out[np.flatnonzero(good)[hit]] = self._rows[pos[hit]]
        return out


def _series_table(long: pd.DataFrame) -> pd.DataFrame:
    """Cell ids with one column per series ``(indicator_id, measure)`` and one row per period and breakdown value."""
    key_cols = ["period_type", "period_start", "breakdown", "breakdown_value"]
    return long.pivot_table(index=key_cols, columns=["indicator_id", "measure"], values="cell", aggfunc="first")


def add_repeated_counts(system: _System, wide: pd.DataFrame) -> None:
    """Step 3: the same count published twice (checked series by series; ``wide`` from :func:`_series_table`).

    Two series are tied when they are equal wherever both are present, in at
    least 3 periods, and not all zero.
    """
    vals = system.values
    series = list(wide.columns)
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
            if not (x > 0).any() or not np.allclose(x, y, rtol=0, atol=TOLERANCE):
                continue
            for k in np.flatnonzero(both):
                system.add([int(cells_m[k, a]), int(cells_m[k, b])], [1.0, -1.0], [True, True])


def add_equal_series(system: _System, long: pd.DataFrame, min_periods: int = 3, min_nonzero: int = 3) -> None:
    """Step 3b: two series equal in every period, whatever their indicator, measure, breakdown and value.

    A series is one ``(indicator, measure, breakdown, breakdown value)`` by
    one period type. Series with the same periods and the same values in
    each (at least ``min_periods`` of them, ``min_nonzero`` of them not
    zero, so that two sparse series equal by coincidence are not tied) are
    tied period by period: police referrals published as a headline indicator and as the
    police group of referrals by source are one count, and a reader who sees
    one sees the other. Pairs :func:`add_repeated_counts` already ties (same
    breakdown value) are tied again, which changes nothing.
    """
    keys = ["indicator_id", "measure", "breakdown", "breakdown_value", "period_type"]
    data = long[long["v"].notna()]
    for _, by_type in data.groupby("period_type", sort=False):
        cells_m = _grid(by_type, keys)
        present = ~np.isnan(cells_m)
        vals = np.where(present, system.values[np.where(present, cells_m, 0).astype(int)], 0.0)
        # series are compared where both are present: a breakdown published for a year against a headline
        # published for three, say. Series are grouped by the periods they cover; each pair of groups is
        # compared on the periods they share, by hashing each series' values there.
        masks: dict[bytes, list[int]] = {}
        for j in range(present.shape[1]):
            masks.setdefault(present[:, j].tobytes(), []).append(j)
        spans = [(np.frombuffer(m, dtype=bool), cols) for m, cols in masks.items()]
        seen: set[tuple[int, int]] = set()
        for a in range(len(spans)):
            for b in range(a, len(spans)):
                rows = np.flatnonzero(spans[a][0] & spans[b][0])
                if rows.size < min_periods:
                    continue
                cols = spans[a][1] if a == b else spans[a][1] + spans[b][1]
                sub = vals[np.ix_(rows, np.asarray(cols, dtype=np.intp))]
                ok = (sub > 0).sum(axis=0) >= min_nonzero
                groups: dict[bytes, list[int]] = {}
                for k in np.flatnonzero(ok):
                    groups.setdefault(np.round(sub[:, k], 6).tobytes(), []).append(cols[k])
                for members in groups.values():
                    for x, y in itertools.pairwise(members):  # a chain ties them all
                        if (x, y) in seen:
                            continue
                        seen.add((x, y))
                        _add_pairs(system, cells_m[rows, x].astype(int), cells_m[rows, y].astype(int))


def _grid(df: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Cell ids by period start (rows, in order) and series (``columns``' values, in order): the first cell of
    each; NaN where there is none. The array ``df.pivot_table(index="period_start", columns=columns,
    values="cell", aggfunc="first")`` holds, without building the frame."""
    col = df.groupby(columns, sort=True, observed=True, dropna=True).ngroup().to_numpy()
    starts = pd.DatetimeIndex(df["period_start"])
    row_codes, uniques = pd.factorize(starts, sort=True)
    ok = (col >= 0) & (row_codes >= 0)
    cells = df["cell"].to_numpy(dtype=float)[ok]
    r, c = row_codes[ok], col[ok]
    ncols = int(c.max()) + 1 if c.size else 0
    out = np.full((len(uniques), ncols), np.nan)
    _, first = np.unique(r.astype(np.int64) * max(ncols, 1) + c, return_index=True)  # the first of each place
    out[r[first], c[first]] = cells[first]
    return out


def add_shared_stocks(system: _System, long: pd.DataFrame) -> None:
    """Step 4: a stock published for several period types is one figure (the month end is the quarter's too).

    Checked indicator by indicator: every aligned pair (same period end and
    breakdown value) must be equal, and not all zero.
    """
    span = long[long["period_type"].isin(["month", "quarter", "year"])]
    align = ["indicator_id", "measure", "period_end", "breakdown", "breakdown_value"]
    # one number per aligned place (rows with a missing key align with nothing, as in a merge they do not)
    place = span.groupby(align, sort=False, observed=True, dropna=True).ngroup().to_numpy()
    series_all = span.groupby(["indicator_id", "measure"], sort=False, observed=True, dropna=True).ngroup().to_numpy()
    ptype = span["period_type"].astype(str).to_numpy()
    v_all = span["v"].to_numpy(dtype=float)
    cells = span["cell"].to_numpy()
    for short, big in (("month", "quarter"), ("month", "year"), ("quarter", "year")):
        left = np.flatnonzero((ptype == short) & (place >= 0))
        right = np.flatnonzero((ptype == big) & (place >= 0))
        li, ri = _inner_join(place[left], place[right])
        s_rows, b_rows = left[li], right[ri]
        both = ~np.isnan(v_all[s_rows]) & ~np.isnan(v_all[b_rows])
        s_rows, b_rows = s_rows[both], b_rows[both]
        if s_rows.size == 0:
            continue
        # indicator by indicator, in the order they first appear (factorize numbers them so), each pair in its order
        series, _ = pd.factorize(series_all[s_rows])
        v_s, v_b = v_all[s_rows], v_all[b_rows]
        n = series.max() + 1
        some = np.bincount(series, weights=v_s > 0, minlength=n) > 0
        equal = np.bincount(series, weights=~np.isclose(v_s, v_b, rtol=0, atol=TOLERANCE), minlength=n) == 0
        order = np.argsort(series, kind="stable")
        order = order[(some & equal)[series[order]]]
        _add_pairs(system, cells[s_rows][order], cells[b_rows][order])


def _inner_join(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(in left, in right)`` of every pair with equal keys, as an inner merge orders them: left
    rows in order, each with its matches in right's order."""
    order = np.argsort(right, kind="stable")
    sorted_right = right[order]
    lo = np.searchsorted(sorted_right, left, side="left")
    hi = np.searchsorted(sorted_right, left, side="right")
    count = hi - lo
    li = np.repeat(np.arange(left.size), count)
    offset = np.arange(li.size) - np.repeat(np.cumsum(count) - count, count)
    ri = order[np.repeat(lo, count) + offset]
    return li, ri


def add_balances(system: _System, long: pd.DataFrame, wide: pd.DataFrame,
                 balances: Sequence[tuple[str, str, str]] = DEFAULT_BALANCES) -> None:
    """Step 5: stock-flow balances, ``stock(end) = stock(previous end) + inflow - outflow``, where they hold.

    ``wide`` is :func:`_series_table` of ``long``. The stock at the previous
    end may be published only under another period type (the month before
    the first published month is a quarter end and a year end): any of them
    will do, months first. Balances are added stock cell by stock cell in the
    order of ``wide``'s rows.
    """
    vals = system.values
    cell_end = pd.Series(pd.DatetimeIndex(long["period_end"]).asi8, index=long["cell"].to_numpy())
    # (duplicate cell ids keep the first end, as a lookup by cell id does)
    cell_end = cell_end[~cell_end.index.duplicated(keep="first")]
    keys = wide.index
    ptype = np.asarray(keys.get_level_values(0).astype(str), dtype=object)
    start = pd.DatetimeIndex(keys.get_level_values(1))
    bd = np.asarray(keys.get_level_values(2), dtype=object)
    bv = np.asarray(keys.get_level_values(3), dtype=object)
    prev_end = (start - pd.Timedelta(days=1)).asi8

    def series_of(spec: str) -> np.ndarray | None:
        ind_id, _, measure = spec.partition(":")
        key = (ind_id, measure or "value")
        return wide[key].to_numpy(dtype=float) if key in wide.columns else None

    for stock_s, in_s, out_s in balances:
        stock, inflow, outflow = series_of(stock_s), series_of(in_s), series_of(out_s)
        if stock is None or inflow is None or outflow is None:
            continue
        rows = np.flatnonzero(~np.isnan(stock))
        cells = stock[rows].astype(int)
        ends = cell_end.reindex(cells).to_numpy()
        # each stock cell by (period type, breakdown, value, end), the later of two with one key; and by
        # (breakdown, value, end) under any period type, months first, then quarters, then years
        by_end: dict[tuple, int] = {}
        for t, b, v, e, c in zip(ptype[rows].tolist(), bd[rows].tolist(), bv[rows].tolist(), ends.tolist(),
                                 cells.tolist(), strict=True):
            by_end[(t, b, v, e)] = c
        any_end: dict[tuple, int] = {}
        for (_t, b, v, e), c in sorted(by_end.items(), key=lambda kc: _TYPE_ORDER.get(kc[0][0], 9)):
            any_end.setdefault((b, v, e), c)
        ci_all, co_all = inflow[rows], outflow[rows]
        for k, (r, c) in enumerate(zip(rows.tolist(), cells.tolist(), strict=True)):
            ci, co = ci_all[k], co_all[k]
            if ci != ci or co != co:  # (NaN: no inflow or outflow published for this period)
                continue
            b, v, pe = bd[r], bv[r], int(prev_end[r])
            prev = by_end.get((ptype[r], b, v, pe), any_end.get((b, v, pe)))
            if prev is None:
                continue
            four = [c, int(prev), int(ci), int(co)]
            x = vals[four]
            if not np.isnan(x).any() and abs(x[0] - x[1] - x[2] + x[3]) <= TOLERANCE:
                system.add(four, [1.0, -1.0, -1.0, 1.0], [True] * 4)
