"""What the public indicator table covers at all: the publication scope and the breakdowns withheld whole.

:func:`publication_scope` keeps the periods published anywhere, in the
report or the files (the policy's ``published_span``); :func:`sparse_series`
finds breakdowns by month or quarter made up mostly of small counts, which
are withheld (``x``) as a whole rather than suppressed cell by cell, with
the series a reader could recover them from (:func:`_copies_of`).

Rows outside the scope and sparse series take no part in the suppression
(see :func:`publication_scope` for why that is safe). This module only
selects rows: suppressing the rest is :func:`~safeguarding.disclosure.suppress_indicator_table`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from safeguarding.disclosure.policy import TOLERANCE, Policy
from safeguarding.disclosure.relations import DEFAULT_BALANCES


def publication_scope(ind: pd.DataFrame, year_end: pd.Timestamp, policy: Policy | None = None) -> pd.Series:
    """Rows published anywhere, in the report or the files (True), by the policy's ``published_span``.

    By default years go back 10 years, quarters 3; months 3 years for
    headline figures (the control charts and the seasonal pattern) and 1
    year for breakdowns (all the report charts); nothing after the year end.
    Rolling 12-month figures are never published: the one at the year end
    equals the year, and the others overlap each other, which would let a
    reader difference suppressed months out of them.

    Disclosure control runs on exactly these rows, so that every relation a
    reader could use among them (months to quarters and years, breakdowns to
    headline, stock and flow) is protected, and the groups of linked hidden
    cells stay small enough for the full check. Rows outside the scope are
    withheld (``x``) and take no part. That is safe because each rule leaves
    out whole levels of the table: a reader who combined the relations
    through unpublished figures would get only relations among published
    ones that the table states directly (a quarter is the sum of its
    months whether the months are published or not). The end-to-end test
    checks this with an attacker that treats the withheld figures as unknowns.
    """
    policy = policy if policy is not None else Policy()
    end = pd.to_datetime(ind["period_end"])
    ptype = ind["period_type"].astype(str)
    headline = ind["breakdown"].astype(str).eq("all").to_numpy()
    keep = pd.Series(False, index=ind.index)
    for name, (head_months, part_months) in policy.published_span.items():
        # the two cut-offs as datetime64 scalars: a choice between Timestamps would be an array of objects
        after = np.where(headline, (year_end - pd.DateOffset(months=head_months)).to_datetime64(),
                         (year_end - pd.DateOffset(months=part_months)).to_datetime64()).astype("datetime64[ns]")
        keep |= ptype.eq(name) & (end <= year_end) & (end.to_numpy() > after)
    return keep


def sparse_series(ind: pd.DataFrame, scope: pd.Series, policy: Policy | None = None,
                  balances: Sequence[tuple[str, str, str]] = DEFAULT_BALANCES) -> pd.Series:
    """Rows of breakdowns by month or quarter too sparse to publish (True), for the public audience.

    A breakdown (indicator, breakdown, period type) by month or quarter whose
    counts in the publication scope are mostly (more than the policy's
    ``sparse_share``) small (in its threshold range, by default 1 to 5)
    would show little but ``c``; protecting its few other cells would cost
    the figures that matter (the year's table by the same breakdown, the
    headline). Such a series is withheld (``x``) as a whole, the way a
    statistician aggregates before suppressing: the year's figures by that
    breakdown, and the monthly headline, stay. The count is the numerator
    where the indicator has one, else the value.

    When a withheld series belongs to a stock-flow balance that holds for
    its breakdown (open = previous open + started - ended), the other series
    of the balance are withheld with it, since two of them published would
    give the third away, and so is any series repeating its counts under
    another indicator (plans started, as the denominator of
    re-registrations). Any other withheld series takes part in no relation
    beyond its own sums, which its copies (a denominator repeating plans
    open, say) state anyway, so its copies stay.
    """
    policy = policy if policy is not None else Policy()
    count = pd.to_numeric(ind["numerator"], errors="coerce").fillna(pd.to_numeric(ind["value"], errors="coerce"))
    candidate = scope & ind["period_type"].astype(str).isin(["month", "quarter"]) & ~ind["breakdown"].astype(
        str).eq("all")
    small = policy.small(count) & candidate
    keys = [ind["indicator_id"].astype(str), ind["breakdown"].astype(str), ind["period_type"].astype(str)]
    share = small.groupby(keys).transform("sum") / candidate.groupby(keys).transform("sum").replace(0, np.nan)
    out = candidate & share.gt(policy.sparse_share).fillna(False)
    return out | _copies_of(ind[candidate], out[candidate], balances).reindex(ind.index, fill_value=False)


def _balances_that_hold(rows: pd.DataFrame, balances: Sequence[tuple[str, str, str]] = DEFAULT_BALANCES,
                        ) -> set[tuple[frozenset, str, str]]:
    """``(family, breakdown, period type)`` for which a stock-flow balance holds in at least one period.

    ``family`` is the set of the balance's three indicators (see
    :data:`~safeguarding.disclosure.relations.DEFAULT_BALANCES`). Open plans by length
    of plan, say, do not balance (a plan moves between lengths while open), so
    withholding plans ended by length need not withhold plans open by length.
    """
    out: set[tuple[frozenset, str, str]] = set()
    codes = rows["indicator_id"].astype(str).to_numpy()
    bds = rows["breakdown"].astype(str).tolist()
    pts = rows["period_type"].astype(str).tolist()
    vks = rows["breakdown_value"].astype(str).tolist()
    # dates as nanoseconds (a missing date is one number, and meets only another missing one, as in a merge)
    ends = pd.DatetimeIndex(pd.to_datetime(rows["period_end"])).asi8.tolist()
    prev_ends = (pd.DatetimeIndex(pd.to_datetime(rows["period_start"])) - pd.Timedelta(days=1)).asi8.tolist()
    figures: dict[str, list[float]] = {}
    for balance in balances:
        specs = [spec.partition(":") for spec in balance]
        family = frozenset(ind for ind, _, _ in specs)
        # each figure's values by (breakdown, period type, breakdown value, period end); a key may hold several
        by_key: list[dict[tuple, list[float]]] = []
        at: list[np.ndarray] = []
        for ind, _, measure in specs:
            col = measure or "value"
            if col not in figures:
                figures[col] = pd.to_numeric(rows[col], errors="coerce").to_numpy(dtype=float).tolist()
            vals = figures[col]
            where = np.flatnonzero(codes == ind)
            keyed: dict[tuple, list[float]] = {}
            for i in where.tolist():
                keyed.setdefault((bds[i], pts[i], vks[i], ends[i]), []).append(vals[i])
            by_key.append(keyed)
            at.append(where)
        stock, inflow, outflow = by_key
        vals = figures[specs[0][2] or "value"]
        holds: set[tuple[str, str]] = set()
        for i in at[0].tolist():  # each stock figure with its flows and the stock at the previous end
            key = (bds[i], pts[i], vks[i], ends[i])
            if (key[0], key[1]) in holds:
                continue  # (this breakdown and period type hold already)
            ins, outs = inflow.get(key), outflow.get(key)
            prevs = stock.get((key[0], key[1], key[2], prev_ends[i]))
            if ins is None or outs is None or prevs is None:
                continue
            v = vals[i]
            if any(abs(v - p - a + b) <= TOLERANCE for a in ins for b in outs for p in prevs):
                holds.add((key[0], key[1]))
        out |= {(family, bd, pt) for bd, pt in holds}
    return out


def _copies_of(rows: pd.DataFrame, withheld: pd.Series,
               balances: Sequence[tuple[str, str, str]] = DEFAULT_BALANCES) -> pd.Series:
    """Rows of every series tied to a withheld balance series (True), withheld ones included.

    A series is an indicator's rows for one breakdown and period type. A
    series of a stock-flow balance (``balances``, by default
    :data:`~safeguarding.disclosure.relations.DEFAULT_BALANCES`) that holds
    for its breakdown in some period (:func:`_balances_that_hold`) is tied
    to the other two series of the balance and to every series whose counts
    (numerators, denominators or values, aligned by period and breakdown
    value) repeat its own. Ties are followed until no series is new.
    """
    if rows.empty or not withheld.any():
        return withheld.copy()
    keys = ["indicator_id", "breakdown", "period_type"]
    signatures: dict[tuple, list[tuple]] = {}
    series_measures: dict[tuple, list[tuple]] = {}
    # each series in period and breakdown value order: sorted once (stable), then split by series
    ordered = rows.sort_values(["period_start", "breakdown_value"], kind="stable")
    starts = pd.DatetimeIndex(ordered["period_start"]).asi8.tolist()  # as nanoseconds: equal dates, equal numbers
    values_of = ordered["breakdown_value"].astype(str).tolist()
    figures = {m: pd.to_numeric(ordered[m], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
               for m in ("numerator", "denominator", "value")}
    for key, at in ordered.groupby(keys, sort=False).indices.items():
        where = tuple((starts[i], values_of[i]) for i in at)
        for measure in ("numerator", "denominator", "value"):
            v = figures[measure][at]
            if np.isnan(v).any() or not (v > 0).any():
                continue
            sig = (key[1], key[2], where, tuple(np.round(v, 6).tolist()))
            signatures.setdefault(sig, []).append(key)
            series_measures.setdefault(key, []).append(sig)
    families = [{spec.partition(":")[0] for spec in balance} for balance in balances]
    present = _balances_that_hold(rows, balances)
    held = {k for k, g in rows[withheld.to_numpy()].groupby(keys, sort=False)}
    changed = True
    while changed:
        changed = False
        for key in list(held):
            linked = []
            for family in families:
                if key[0] in family and (frozenset(family), key[1], key[2]) in present:
                    # a withheld flow or stock of a balance: the rest of the balance, and any copy of its
                    # counts under another indicator, would give it away
                    linked += [(member, key[1], key[2]) for member in family]
                    linked += [other for sig in series_measures.get(key, []) for other in signatures[sig]]
            for other in linked:
                if other not in held:
                    held.add(other)
                    changed = True
    idx = pd.MultiIndex.from_frame(rows[keys].astype(str))
    return pd.Series(idx.isin(list(held)), index=rows.index)
