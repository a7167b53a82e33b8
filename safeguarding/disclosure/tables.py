"""Disclosure control of whole tables: a two-way table (:func:`suppress_table`) and the indicator table.

Both are short drivers: list the cells and mark the small ones
(:mod:`.primary`), state the exact relations between them (row and column
totals here; :mod:`.relations` for the indicator table), price the cells
(:mod:`.costs`), protect the small ones (:func:`.secondary.protect`) and
write the result as published (:mod:`.render`).

The rules themselves live in those modules; the tuning constants in
:class:`~safeguarding.disclosure.policy.Policy`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from safeguarding.disclosure.costs import _share_costs, partner_costs
from safeguarding.disclosure.policy import TOLERANCE, Policy, resolve
from safeguarding.disclosure.primary import FIGURES, IndicatorCells, _in_threshold, indicator_cells
from safeguarding.disclosure.relations import DEFAULT_BALANCES, indicator_relations
from safeguarding.disclosure.render import _count_text, render_indicator_table
from safeguarding.disclosure.secondary import SecondaryReport, _System, protect
from safeguarding.disclosure.secondary.memo import CheckMemo
from safeguarding.schema import INDICATOR_COLUMNS


def suppress_table(  # noqa: C901
    df: pd.DataFrame,
    count_columns: Sequence[str],
    *,
    total_row: object | None = None,
    total_column: str | None = None,
    column_sums: Mapping[str, Sequence[str]] | None = None,
    threshold: tuple[int, int] | None = None,
    secondary: bool | None = None,
    policy: Policy | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Suppress small counts in a two-way table and protect them from its totals.

    Args:
        df: one row per category; ``count_columns`` hold counts (NaN = not available).
        count_columns: the columns holding counts (including ``total_column``).
        total_row: index label of the row holding column totals, if published.
        total_column: name of the column holding row totals, if published.
        column_sums: further column totals, e.g. ``{"Q1": ["Apr", "May", "Jun"]}``
            (period totals); each total column must be in ``count_columns``.
        threshold: inclusive range of counts to suppress; overrides ``policy.threshold``
            (older form: prefer ``policy``).
        secondary: apply secondary suppression (turn off only for private board
            packs); overrides ``policy.secondary``.
        policy: the disclosure policy (default :class:`~safeguarding.disclosure.policy.Policy`:
            DfE's 1 to 5, with secondary suppression).

    Returns:
        ``(display, mask)``: ``display`` is a copy of ``df`` whose count columns
        are strings (``"c"`` suppressed, ``":"`` not available, ``"0"`` true zero);
        ``mask`` is a boolean frame (True = suppressed) over the count columns.

    A total that does not equal the sum of its parts is not used as a constraint
    (it cannot be used to recover a part exactly); parts that exceed their total
    raise ``ValueError``.
    """
    policy = resolve(policy, threshold=threshold, secondary=secondary)
    cols = list(count_columns)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"suppress_table: columns {missing} not in the table; columns are {list(df.columns)}")
    if total_column is not None and total_column not in cols:
        cols.append(total_column)
    if total_row is not None and total_row not in df.index:
        raise ValueError(f"suppress_table: total_row {total_row!r} is not an index label of the table")
    if df.index.has_duplicates:
        raise ValueError("suppress_table: the table index has duplicate labels; give each row a unique label")
    try:
        values = df[cols].apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"suppress_table: count columns must be numeric ({exc})") from exc
    n_rows, n_cols = values.shape
    if np.any(values[~np.isnan(values)] < 0):
        raise ValueError("suppress_table: counts cannot be negative")
    system = _System(values.ravel())
    pos = {c: j for j, c in enumerate(cols)}
    rows = list(df.index)

    def cell(i: int, j: int) -> int:
        return i * n_cols + j

    def add_line(total: int, parts: list[int], where: str) -> None:
        tv = system.values[total]
        pv = system.values[parts]
        if np.isnan(tv):
            return
        s = np.nansum(pv)
        if s > tv + TOLERANCE:
            raise ValueError(f"suppress_table: {where}: parts add up to {s:g}, more than the total {tv:g}")
        if abs(s - tv) <= TOLERANCE:
            system.add([total, *parts], [-1.0] + [1.0] * len(parts), [False] + [True] * len(parts))

    sums: dict[str, list[str]] = {k: list(v) for k, v in (column_sums or {}).items()}
    for k, v in sums.items():
        if k not in pos or any(c not in pos for c in v):
            raise ValueError(f"suppress_table: column_sums {k!r}: {v} must all be in count_columns")
    total_i = rows.index(total_row) if total_row is not None else None
    derived = set(sums) | ({total_column} if total_column else set())
    plain = [pos[c] for c in cols if c not in derived]
    for i in range(n_rows):
        if total_column is not None:
            add_line(cell(i, pos[total_column]), [cell(i, j) for j in plain], f"row {rows[i]!r}")
        for k, v in sums.items():
            add_line(cell(i, pos[k]), [cell(i, pos[c]) for c in v], f"row {rows[i]!r}, column {k!r}")
    if total_i is not None:
        body = [i for i in range(n_rows) if i != total_i]
        for j in range(n_cols):
            add_line(cell(total_i, j), [cell(i, j) for i in body], f"column {cols[j]!r}")
    primary = _in_threshold(system.values, policy)
    suppressed = protect(system, primary, policy).suppressed if policy.secondary else primary
    mask = pd.DataFrame(suppressed.reshape(n_rows, n_cols), index=df.index, columns=cols)
    display = df.copy()
    for j, c in enumerate(cols):
        display[c] = pd.Series(
            ["c" if mask.iat[i, j] else _count_text(values[i, j]) for i in range(n_rows)],
            index=df.index, dtype="string",
        )
    return display, mask


def suppress_indicator_table(
    ind: pd.DataFrame,
    *,
    policy: Policy | None = None,
    threshold: tuple[int, int] | None = None,
    balances: Sequence[tuple[str, str, str]] = DEFAULT_BALANCES,
    stats: dict | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """Apply disclosure control to the indicator table (data contract columns).

    Counts (the ``value`` of a count indicator, the numerators of percentages
    and rates, the denominators of percentages) in the policy's threshold
    range (default 1 to 5) become ``c``. Secondary suppression protects them
    against every exact relation found in the table (:mod:`.relations`):
    breakdown values adding to the headline ``all`` row, months adding to
    quarters, years and rolling 12 months, quarters to years, the same count
    appearing in two indicators (e.g. ``REFERRAL_RATE`` numerator and
    ``REFERRALS``), and stock-flow balances (``balances``: open at end = open
    at previous end + started - ended, each as ``"INDICATOR:measure"``).
    Every relation is checked in the data before it is used.

    A percentage is suppressed when its numerator or denominator is; a rate
    (whose denominator is a published population) when its numerator is.

    ``policy`` holds the threshold and the secondary suppression's limits
    (default :class:`~safeguarding.disclosure.policy.Policy`);
    ``threshold`` (the older form) overrides its threshold, and a range
    whose low end is above its high end, such as ``(0, -1)``, suppresses
    nothing (prefer ``policy=Policy.unsuppressed()``).

    ``stats``, if given, receives what the secondary suppression did: ``cells``,
    ``primary`` and ``suppressed`` (cells), ``passes``, ``largest_group`` (linked
    suppressed cells), ``lps`` (linear programmes), ``unprotected``, and
    ``unverified_groups`` and ``unverified_cells`` (groups over the policy's
    ``max_exact`` linked cells, which get only the single-relation checks).

    Returns a copy with ``numerator``, ``denominator`` and ``value`` as strings
    (``c``, ``:`` not available, ``z`` not applicable, counts as integers,
    percentages and rates to 1 decimal place), ``suppressed`` (True where any
    figure on the row is hidden) and ``marker`` (the marker of ``value``:
    ``c``, ``:``, ``z`` or empty when published).

    ``workers``: processes checking groups of linked cells at once
    (:meth:`~.secondary.memo.CheckMemo.prefetch`); the result is the same
    whatever the number.
    """
    policy = resolve(policy, threshold=threshold)
    done = protect_indicator_table(ind, policy=policy, balances=balances, workers=workers)
    if stats is not None:
        stats.update(done.stats)
    return done.shown


def inequality_margin(policy: Policy) -> float | None:
    """The widest gap ``b - a`` for which an inequality ``a <= b`` is worth modelling (None: every one).

    Protecting a small count needs tables in which it moves by at least 1
    and, for its protection interval, rises above the threshold range: moves
    of at most the top of the range plus 1 for the count itself and, in the
    relations it is worked out through, for its partners. An inequality
    with a wider gap than twice that cannot stop such a move, and leaving it
    out keeps the groups of linked hidden cells small. The attacker tests
    check the result with every inequality in.
    """
    if policy.threshold is None:
        return None
    return 2.0 * (policy.threshold[1] + 1)


@dataclass
class ProtectedTable:
    """What :func:`protect_indicator_table` returns.

    Attributes:
        shown: the table as published (see :func:`suppress_indicator_table`).
        report: what the secondary suppression did (cell ids are rows of ``cells.long``).
        cells: the cells of the table (:func:`~.primary.indicator_cells`).
        families: for each row of the table, a number shared by the rows of
            indicators linked through a relation (a family can be protected
            again on its own: relations never cross families).
        stats: the figures of ``stats`` (see :func:`suppress_indicator_table`).
        index_labels: the index of the table given (``shown`` and the cells
            number its rows from 0).
    """

    shown: pd.DataFrame
    report: SecondaryReport
    cells: IndicatorCells
    families: np.ndarray
    stats: dict
    index_labels: pd.Index
    #: each unpublished count (a cell of no row) -> the table cells of its relation
    homes: dict[int, list[int]] = field(default_factory=dict)

    def rows_of(self, cell_ids: Sequence[int]) -> np.ndarray:
        """Positions (in the table given) of the rows holding the given cells.

        An unpublished count has no row of its own: it stands for the rows of
        the published figures it is the difference of.
        """
        ids = [h for c in cell_ids for h in self.homes.get(int(c), [int(c)])]
        row = self.cells.long.set_index("cell")["row"]
        return np.unique(row.loc[ids].to_numpy(dtype=int)) if ids else np.zeros(0, int)


def protect_indicator_table(
    ind: pd.DataFrame,
    *,
    policy: Policy | None = None,
    balances: Sequence[tuple[str, str, str]] = DEFAULT_BALANCES,
    protected: np.ndarray | None = None,
    forced: bool = False,
    memo: CheckMemo | None = None,
    workers: int = 1,
) -> ProtectedTable:
    """:func:`suppress_indicator_table` with the policy's protected rows, and everything it found.

    ``protected`` (bool per row of ``ind``) marks rows whose counts above the
    threshold are never hidden as partners while anything else would do
    (the annual headline figures the review is about); without ``forced``,
    the small counts only they could protect are reported as
    ``report.stuck`` instead (the caller withholds detail and tries again),
    and with it they are hidden as a last resort (``report.forced``), each
    known to a reader to be above the threshold (it is listed as an exception).
    ``memo`` (:mod:`~.secondary.memo`), shared by several runs over much
    the same table, spares them checking a group of the same content twice.
    ``workers``: processes checking groups at once (same result whatever the number).
    """
    policy = policy if policy is not None else Policy()
    missing = [c for c in INDICATOR_COLUMNS if c not in ind.columns]
    if missing:
        raise ValueError(
            f"suppress_indicator_table: columns {missing} missing; the indicator table must have "
            f"{list(INDICATOR_COLUMNS)} (see safeguarding.schema.INDICATOR_COLUMNS)"
        )
    df = ind.reset_index(drop=True).copy()
    for c in FIGURES:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    for c in ("period_start", "period_end"):
        df[c] = pd.to_datetime(df[c])
    cells = indicator_cells(df)
    system = _System(cells.values)
    primary = _in_threshold(system.values, policy)
    if policy.secondary:
        indicator_relations(cells.long, system, balances, margin=inequality_margin(policy))
        # an unpublished count needs protection only when it is small: otherwise it is a slack cell like any
        system.counted &= np.asarray(_in_threshold(system.values, policy), dtype=bool)
        primary = np.r_[primary, system.counted[len(primary):]]  # slack cells: unpublished small counts
        system.cost[cells.long["cell"].to_numpy()] = partner_costs(cells.long, policy)
        if protected is not None and policy.threshold is not None:
            rows = cells.long["row"].to_numpy()
            big = system.values[cells.long["cell"].to_numpy()] > policy.threshold[1]
            system.protected[cells.long["cell"].to_numpy()] = np.asarray(protected, dtype=bool)[rows] & big
            system.add_many_at_most_bound(stated_small(cells, np.asarray(protected, dtype=bool), policy),
                                          float(policy.threshold[1]))
            if forced:  # a protected figure hidden now is listed as an exception: a reader knows it is not small
                system.add_many_at_least_bound(np.flatnonzero(system.protected), float(policy.threshold[1] + 1))
        _share_costs(system)
        report = protect(system, primary, policy, forced=forced, memo=memo, workers=workers)
    else:  # nothing to protect against: no relations needed
        report = SecondaryReport(suppressed=primary.copy())
    stats = report.stats()
    table_cells = ~system.slack  # not the slack of an inequality, nor an unpublished count
    stats.update(cells=int(table_cells.sum()), primary=int((primary & table_cells[:len(primary)]).sum()),
                 suppressed=int((report.suppressed & table_cells).sum()))
    shown = render_indicator_table(df, cells, report.suppressed, policy.markers())
    return ProtectedTable(shown, report, cells, _families(df, cells, system), stats, ind.index,
                          dict(system.home) if policy.secondary else {})


def stated_small(cells: IndicatorCells, protected: np.ndarray, policy: Policy) -> np.ndarray:
    """The cells a reader is told are small: those of protected rows that rest on a count in the threshold range.

    The publication says every protected figure (an annual headline figure
    of the years the policy protects) is published unless it rests on a
    count in the threshold range, and lists the exceptions. So of a
    protected row withheld and not listed a reader knows its count (a
    count's value, a percentage's or rate's numerator) is at most the top
    of the range: a percentage's numerator is at most its denominator, and
    one of the two is small. Its denominator too when the numerator is
    shown (a zero: then the denominator is the small count). Returns cell
    ids (those of the rows ``protected`` marks whose count is in the range,
    so withheld whatever else happens).
    """
    long = cells.long
    rows = long["row"].to_numpy()
    measure = long["measure"].to_numpy()
    cell = long["cell"].to_numpy()
    small = _in_threshold(cells.values[cell], policy) & protected[rows]
    counted = np.isin(measure, ["value", "numerator"])
    num = cells.figures["numerator"][rows]
    return cell[small & (counted | ((measure == "denominator") & (num == 0)))]


def _families(df: pd.DataFrame, cells: IndicatorCells, system: _System) -> np.ndarray:
    """For each row of ``df``, the number of its family: indicators joined by any relation of ``system``."""
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    from safeguarding.disclosure.secondary.system import _entries

    codes, ind_of_row = np.unique(df["indicator_id"].astype(str).to_numpy(), return_inverse=True)
    row_of_cell = np.full(len(system.values), -1, dtype=int)  # slack cells belong to no row
    row_of_cell[cells.long["cell"].to_numpy()] = cells.long["row"].to_numpy()
    # each relation joins the indicators of its cells (slack cells aside), in a chain: consecutive entries
    relation, cell = _entries(system)
    rows = row_of_cell[cell]
    relation, inds = relation[rows >= 0], ind_of_row[rows[rows >= 0]]
    chain = relation[1:] == relation[:-1]
    a, b = inds[:-1][chain], inds[1:][chain]
    graph = sparse.csr_matrix((np.ones(a.size), (a, b)), shape=(len(codes), len(codes)))
    _, label = connected_components(graph, directed=False)
    return label[ind_of_row]
