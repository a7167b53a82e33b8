"""The public indicator table: what is published, what is withheld, and why; headline figures first.

The review exists for its annual headline figures (children on a plan at
the year end, the re-registration rate NI 65, notifications of private
fostering). DfE publishes these for every council, small counts apart. When
months, quarters and breakdowns are published too, protecting *their*
small counts can cost the annual figures, because every hidden detail
needs partners and the headline is the partner at hand. The policy's
priorities settle it the other way round: **detail yields first**.

:func:`protect_publication`:

1. takes the rows published anywhere (:func:`~.scope.publication_scope`)
   less the breakdowns too sparse to publish (:func:`~.scope.sparse_series`);
2. protects the annual headline figures of the last ``policy.protect_years``
   years whose counts are above the threshold: they are never hidden as a
   partner while anything else would do (:func:`protected_rows`);
3. runs the suppression (:func:`~.tables.protect_indicator_table`). Small
   counts that only a protected figure could protect are reported *stuck*;
   the detail around them is withheld (``x``), level by level in
   ``policy.yield_order`` (months by breakdown first, then months, then
   quarters by breakdown, ...), together with every series a withheld one
   could be worked out from (:func:`~.scope._copies_of`, :func:`~.closure.closure`),
   and the families of linked indicators involved are protected again;
4. when nothing is left to yield, the last run hides a protected figure
   (the annual table alone forces it): each such *exception* is listed with
   its reason. A reader then knows it is 6 or more, and that run knows it
   too (:meth:`~.secondary.system._System.add_many_at_least_bound`).

Withheld rows take no part in the suppression (see
:func:`~.scope.publication_scope` for why leaving out whole levels is safe,
and :mod:`.closure` for the published series withheld with a series so
that it cannot be worked out; the independent attacker in
``tests/attacker.py`` checks both, treating every ``x`` as an unknown).
"""

from __future__ import annotations

import functools
import multiprocessing as mp
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np
import pandas as pd

from safeguarding.disclosure.closure import closure
from safeguarding.disclosure.policy import Policy
from safeguarding.disclosure.relations import DEFAULT_BALANCES
from safeguarding.disclosure.scope import _copies_of, publication_scope, sparse_series
from safeguarding.disclosure.secondary.memo import CheckMemo
from safeguarding.disclosure.tables import ProtectedTable, protect_indicator_table

#: rounds of withholding detail before the last, forced run (each yields at least one level)
MAX_ROUNDS = 20


class WithheldSeries(TypedDict):
    """A series withheld whole so that protected figures could be published (:attr:`Publication.yielded`)."""

    indicator_id: str
    breakdown: str
    period_type: str
    level: str


class HiddenHeadline(TypedDict):
    """A protected figure hidden all the same, and why (:attr:`Publication.exceptions`); ``period_end`` ISO."""

    indicator_id: str
    period_end: str
    measure: str
    reason: str


@dataclass
class Publication:
    """What :func:`protect_publication` decided, row for row with the indicator table given.

    Attributes:
        shown: the table as published: ``numerator``, ``denominator``,
            ``value`` as strings (``x`` for withheld rows), ``suppressed``
            and ``marker`` (see :func:`~.tables.suppress_indicator_table`).
        withheld: True for rows not published (``x``).
        yielded: the detail withheld so that protected figures could be
            published: ``{"indicator_id", "breakdown", "period_type", "level"}``.
        exceptions: protected figures hidden all the same, each
            ``{"indicator_id", "period_end", "measure", "reason"}``.
        stats: what the suppression did (summed over runs), with ``rounds``.
    """

    shown: pd.DataFrame
    withheld: pd.Series
    yielded: list[WithheldSeries] = field(default_factory=list)
    exceptions: list[HiddenHeadline] = field(default_factory=list)
    stats: dict = field(default_factory=dict)


def protected_rows(ind: pd.DataFrame, year_end: pd.Timestamp, policy: Policy) -> pd.Series:
    """Annual headline rows of the last ``policy.protect_years`` years to ``year_end`` (True).

    Their counts above the threshold are protected (a count in the
    threshold range is suppressed whatever its row).
    """
    ends = [pd.Timestamp(year_end) - pd.DateOffset(years=k) for k in range(policy.protect_years)]
    return (ind["period_type"].astype(str).eq("year") & ind["breakdown"].astype(str).eq("all")
            & pd.to_datetime(ind["period_end"]).isin(ends))


def level_of(ind: pd.DataFrame) -> pd.Series:
    """Each row's level as ``policy.yield_order`` names it: ``"month breakdown"``, ``"year headline"``, ..."""
    head = np.where(ind["breakdown"].astype(str).eq("all"), "headline", "breakdown")
    return pd.Series(ind["period_type"].astype(str).to_numpy() + " " + head, index=ind.index)


def protect_publication(ind: pd.DataFrame, year_end: pd.Timestamp, policy: Policy | None = None, *,
                        balances: Sequence[tuple[str, str, str]] = DEFAULT_BALANCES,
                        workers: int = 1) -> Publication:
    """Decide the public table: scope, detail withheld, suppression; see the module docstring.

    ``ind`` is the indicator table (data contract columns, plus any others,
    which are kept); rows keep their order and index. ``balances`` are the
    stock-flow balances (see :func:`~.tables.suppress_indicator_table`).
    ``workers``: processes to use: a run's group checks are started ahead
    in the others (:meth:`~.secondary.memo.CheckMemo.prefetch`), and the
    families of one round are protected side by side
    (:func:`_protect_families`); the result is the same, figure for figure
    and in every count of ``stats``, whatever the number.
    """
    policy = policy if policy is not None else Policy()
    ind = ind.copy()
    year_end = pd.Timestamp(year_end)
    scope = publication_scope(ind, year_end, policy)
    withheld = ~scope | sparse_series(ind, scope, policy)
    withheld |= closure(ind[scope], withheld[scope], policy).reindex(ind.index, fill_value=False)
    protected = protected_rows(ind, year_end, policy).to_numpy()
    levels = level_of(ind)
    keep = ~withheld.to_numpy()
    memo = CheckMemo()  # a family protected again mostly has the groups of its run before: checked once
    first = protect_indicator_table(ind[keep], policy=policy, balances=balances, protected=protected[keep],
                                    memo=memo, workers=workers)
    pieces: dict[int, tuple[pd.Index, ProtectedTable]] = {}
    family = pd.Series(-1, index=ind.index)
    family[keep] = first.families
    for fam in np.unique(first.families):
        pieces[int(fam)] = (ind.index[keep][first.families == fam], first)
    stats = dict(first.stats)
    stats["rounds"] = 1
    yielded: list[WithheldSeries] = []
    stuck = _stuck_rows(first)
    forced_run = False
    for round_no in range(MAX_ROUNDS):
        if stuck.empty:
            break
        # families never share a relation, so each yields its own next level in the same round and is
        # protected on its own (from here on its result depends on its own rows only); a family with nothing
        # left to yield (or in the last round) is protected once more with its protected figures open to
        # hiding (forced)
        picks, yielding, forcing = [], [], []
        for fam in sorted({int(f) for f in family[stuck]}):
            rows_f = stuck[family[stuck].eq(fam).to_numpy()]
            order = [lvl for lvl in policy.yield_order if lvl in set(levels[rows_f])]
            if order and round_no < MAX_ROUNDS - 1:
                picks.append(rows_f[levels[rows_f].eq(order[0]).to_numpy()])
                yielding.append(fam)
            else:
                forcing.append(fam)
        if picks:
            pick = picks[0].append(picks[1:]) if len(picks) > 1 else picks[0]
            series = set(zip(ind.loc[pick, "indicator_id"].astype(str), ind.loc[pick, "breakdown"].astype(str),
                             ind.loc[pick, "period_type"].astype(str), strict=True))
            near = family.isin(yielding)  # relations never cross families: copies lie within them
            new = _withhold(ind, scope & near, withheld, series, balances, policy) & ~withheld
            withheld = withheld | new
            # every series withheld this round: those the stuck counts are in, and those that would give
            # them away (the rest of a stock-flow balance, copies of their counts)
            took = ind.loc[new.to_numpy(), ["indicator_id", "breakdown", "period_type"]].astype(str)
            yielded += [{"indicator_id": i, "breakdown": b, "period_type": p, "level": level_of(
                pd.DataFrame({"breakdown": [b], "period_type": [p]})).iloc[0]}
                for i, b, p in sorted(set(took.itertuples(index=False, name=None)))]
        still: list[pd.Index] = []
        jobs = [([f], False) for f in yielding] + [([f], True) for f in forcing]
        # every run's rows are settled before any runs: the family numbers given below are new ones
        runs = [ind.index[family.isin(families).to_numpy() & ~withheld.to_numpy()] for families, _ in jobs]
        results = _protect_families(
            [(ind.loc[rows], protected[ind.index.get_indexer(rows)], forced)
             for rows, (_, forced) in zip(runs, jobs, strict=True)], policy, balances, memo, workers)
        for (families, forced), rows, done in zip(jobs, runs, results, strict=True):
            forced_run = forced_run or forced
            _add(stats, done.stats)
            for fam in families:
                pieces.pop(fam, None)
            base = max(pieces, default=-1) + 1
            for fam in np.unique(done.families):
                pieces[base + int(fam)] = (rows[done.families == fam], done)
            family[rows] = base + done.families
            if not forced:
                still.append(_stuck_rows(done))
        stuck = still[0].append(still[1:]) if still else pd.Index([])
    for labels, done in pieces.values():  # every small count the runs kept protects itself, or the table is wrong
        left = _stuck_rows(done).intersection(labels)
        if len(left):
            raise RuntimeError(f"disclosure: {len(left)} small counts were left unprotected (rows {list(left[:5])})")
    shown = _assemble(ind, withheld, pieces)
    exceptions = _exceptions(ind, pieces, policy) if forced_run else []
    stats.update(_final_counts(pieces, policy))
    stats["withheld_rows"] = int(withheld.sum())
    stats["checks_reused"] = memo.hits
    return Publication(shown, withheld, yielded, exceptions, stats)


#: rows a round's runs must hold between them before they are spread over processes (forking costs more
#: than a few small runs take); the result does not depend on it
PARALLEL_ROWS = 2_000

_Run = tuple[pd.DataFrame, np.ndarray, bool]


def _protect_families(runs: list[_Run], policy: Policy, balances: Sequence[tuple[str, str, str]],
                      memo: CheckMemo, workers: int) -> list[ProtectedTable]:
    """Protect each family of a round (its rows, protected rows, forced) on its own, in ``workers`` processes.

    The largest run goes in this process, its group checks started ahead
    in a worker (as for a run alone); the others go meanwhile, one by one,
    to ``workers - 1`` forked processes.

    Each run reads the checks in ``memo`` as they were when the round
    began, plus its own (:meth:`~.secondary.memo.CheckMemo.child`); its
    new checks are added to ``memo`` after the round, in the order of
    ``runs``. So a run's result, and its counts of checks done and
    reused, are the same whether the runs go one after another or at once
    in forked processes (a run is a pure function of its rows, the policy
    and what the memo holds).
    """
    parallel = workers > 1 and len(runs) > 1 and sum(len(r[0]) for r in runs) >= PARALLEL_ROWS \
        and "fork" in mp.get_all_start_methods()

    def one(run: _Run, checkers: int) -> tuple[ProtectedTable, CheckMemo]:
        table, prot, forced = run
        child = memo.child()
        done = protect_indicator_table(table, policy=policy, balances=balances, protected=prot, forced=forced,
                                       memo=child, workers=checkers)
        return done, child

    if not parallel:
        out = []
        for run in runs:
            done, child = one(run, workers)
            memo.merge(child.new_results(), child.hits, child.misses)
            out.append(done)
        return out
    # the largest run here, its group checks started ahead in a worker as a run alone would; the others, one
    # by one, in ``workers - 1`` forked processes meanwhile
    largest = max(range(len(runs)), key=lambda i: len(runs[i][0]))
    global _ROUND
    _ROUND = functools.partial(one, checkers=1)  # the forked workers find the round here
    got: dict[int, tuple[ProtectedTable, dict, int, int]] = {}
    try:
        with ProcessPoolExecutor(max_workers=workers - 1, mp_context=mp.get_context("fork")) as pool:
            futures = {i: pool.submit(_run_in_worker, run) for i, run in enumerate(runs) if i != largest}
            done, child = one(runs[largest], workers)
            got[largest] = (done, child.new_results(), child.hits, child.misses)
            got.update({i: f.result() for i, f in futures.items()})
    finally:
        _ROUND = None
    out = []
    for i in range(len(runs)):
        done, results, hits, misses = got[i]
        memo.merge(results, hits, misses)
        out.append(done)
    return out


#: the round being protected, for the forked workers of :func:`_protect_families`
_ROUND: Callable[[_Run], tuple[ProtectedTable, CheckMemo]] | None = None


def _run_in_worker(run: _Run) -> tuple[ProtectedTable, dict, int, int]:
    """One run of :func:`_protect_families` in a forked worker: the table, and the memo's new checks and counts."""
    assert _ROUND is not None, "a disclosure worker must be forked by _protect_families"
    done, child = _ROUND(run)
    return done, child.new_results(), child.hits, child.misses


def _stuck_rows(done: ProtectedTable) -> pd.Index:
    """Index labels of the rows holding the cells ``done`` reports stuck."""
    return done.index_labels[done.rows_of(done.report.stuck)]


def _withhold(ind: pd.DataFrame, scope: pd.Series, withheld: pd.Series, series: set[tuple[str, str, str]],
              balances: Sequence[tuple[str, str, str]], policy: Policy) -> pd.Series:
    """Rows of ``series`` (indicator, breakdown, period type), and of every series they could be worked out from.

    Those are the rest of a stock-flow balance and copies of its counts
    (:func:`~.scope._copies_of`), and the published series that would give
    a withheld one away through any other relation (:func:`~.closure.closure`).
    """
    keys = pd.MultiIndex.from_arrays([ind["indicator_id"].astype(str), ind["breakdown"].astype(str),
                                      ind["period_type"].astype(str)])
    new = pd.Series(keys.isin(list(series)), index=ind.index) & scope
    cand = scope & ~withheld | new
    new = _copies_of(ind[cand], new[cand], balances).reindex(ind.index, fill_value=False) | new
    more = closure(ind[scope], (withheld | new)[scope], policy).reindex(ind.index, fill_value=False)
    return new | more


def _add(stats: dict, more: dict) -> None:
    for k, v in more.items():
        if k in ("largest_group",):
            stats[k] = max(stats.get(k, 0), v)
        elif k in ("cells", "primary", "suppressed"):
            continue  # the final table's figures are counted at the end
        else:
            stats[k] = stats.get(k, 0) + v
    stats["rounds"] = stats.get("rounds", 0) + 1


def _assemble(ind: pd.DataFrame, withheld: pd.Series,
              pieces: dict[int, tuple[pd.Index, ProtectedTable]]) -> pd.DataFrame:
    """The published table in ``ind``'s order: each row from the last run that protected it, ``x`` if withheld."""
    parts = []
    for labels, done in pieces.values():
        table = done.shown.set_axis(done.index_labels)
        parts.append(table.loc[labels])
    shown = pd.concat(parts)
    shown = shown[~shown.index.duplicated(keep="last")]
    held = ind[withheld.to_numpy()].copy()
    for col in ("numerator", "denominator", "value", "marker"):
        held[col] = pd.Series("x", index=held.index, dtype="string")
    held["suppressed"] = True
    out = pd.concat([shown, held[shown.columns]]).loc[ind.index]
    for col in ("numerator", "denominator", "value", "marker"):
        out[col] = out[col].astype("string")
    out["suppressed"] = out["suppressed"].astype(bool)
    return out


def _final_counts(pieces: dict[int, tuple[pd.Index, ProtectedTable]], policy: Policy) -> dict[str, int]:
    """Cells of the published table, small counts among them, and cells suppressed, over each row's last run."""
    cells = primary = suppressed = 0
    for labels, done in pieces.values():
        long = done.cells.long
        keep = done.index_labels[long["row"].to_numpy()].isin(labels)
        ids = long["cell"].to_numpy()[keep]
        cells += int(ids.size)
        primary += int(np.asarray(policy.small(done.cells.values[ids]), dtype=bool).sum())
        suppressed += int(done.report.suppressed[ids].sum())
    return {"cells": cells, "primary": primary, "suppressed": suppressed}


def _exceptions(ind: pd.DataFrame, pieces: dict[int, tuple[pd.Index, ProtectedTable]],
                policy: Policy) -> list[HiddenHeadline]:
    """The protected figures hidden in the forced run, each with its reason."""
    out: list[HiddenHeadline] = []
    runs = {id(d): d for _, d in pieces.values()}
    for done in runs.values():
        for cell in done.report.forced:
            r = done.cells.long.loc[done.cells.long["cell"] == cell].iloc[0]
            label = done.index_labels[int(r["row"])]
            row = ind.loc[label]
            out.append({"indicator_id": str(row["indicator_id"]),
                        "period_end": pd.Timestamp(row["period_end"]).date().isoformat(),
                        "measure": str(r["measure"]),
                        "reason": f"the annual figures alone would reveal a linked count {policy.threshold_text} "
                                  "if this one were published, and no month, quarter or breakdown left to "
                                  "withhold could prevent it"})
    # a figure is listed once, however many of its cells (or runs) were forced
    once = {(e["indicator_id"], e["period_end"], e["measure"]): e for e in out}
    return sorted(once.values(), key=lambda e: (e["indicator_id"], e["period_end"], e["measure"]))
