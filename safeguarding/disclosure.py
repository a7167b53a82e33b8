"""Disclosure control for everything the public sees.

The rules follow the Department for Education's statistical publications:

* a count from 1 to 5 is replaced by ``c`` (primary suppression);
* a true zero is shown as ``0``; a figure that is not available is ``:``; a
  figure that does not apply (a denominator of a count) is ``z``; ``x`` marks a
  figure withheld for another reason;
* **secondary suppression**: further cells are hidden so that no suppressed
  value can be worked out from the totals that are published with it (row,
  column, headline and period totals, and figures repeated in other
  indicators);
* a percentage or rate is suppressed when its numerator is suppressed (and a
  percentage also when its denominator is).

How secondary suppression works
-------------------------------
Every publishable count is a *cell*; every exact additive relation between
published cells is a linear *constraint* (``total - part_1 - ... - part_n = 0``,
``stock_end - stock_start - inflow + outflow = 0``, or ``a - b = 0`` when the
same count appears twice). Starting from the primary cells we repeat, until
nothing changes:

1. **line rule**: any constraint holding exactly one suppressed cell would give
   that cell away by subtraction, so the smallest non-zero published cell of
   that constraint (preferring parts to totals) is suppressed as well;
2. **linear-algebra rule**: a suppressed cell is recoverable from *several*
   constraints together when its unit vector lies in the row space of the
   constraint matrix restricted to the suppressed cells (it has no component in
   the null space). Such a cell gets a partner as in rule 1;
3. **bounds rule**: a reader knows that a ``c`` cell is at least 1 (zeros are
   shown). Where a group of suppressed cells contains values at that bound, a
   linear programme (``scipy.optimize.linprog``) finds the smallest and largest
   value each cell could take; a cell whose range is narrower than 1 is treated
   as recoverable and gets a partner.

Limitations (documented, deliberate): only relations that hold *exactly* in
the data are used (a breakdown whose values do not add up to the headline,
because of an unpublished "unknown" group, is not a constraint);
the complement ``denominator - numerator`` of a percentage is not treated as a
published cell (it is not published by this project; a reader who sees 18 of
20 knows 2 were not, as in DfE's own tables). Relations with figures published
elsewhere (another organisation's report) cannot be seen here.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from safeguarding.measures import round_half_up
from safeguarding.schema import INDICATOR_COLUMNS

#: markers used in published tables and what they mean
MARKERS: dict[str, str] = {
    "c": "Suppressed to protect confidentiality: a count from 1 to 5, or a figure from which one could be "
    "worked out (secondary suppression).",
    "z": "Not applicable (for example the denominator of a count).",
    "x": "Withheld for another reason (for example data quality).",
    ":": "Not available (no data for this period).",
    "0": "A true zero: nothing happened.",
}

#: stock = stock at previous period end + inflow - outflow, checked in the data before use
DEFAULT_BALANCES: tuple[tuple[str, str, str], ...] = (
    ("CPP_OPEN:value", "CPP_STARTED:value", "CPP_ENDED:value"),
    ("PF_OPEN:value", "PF_NEW:value", "PF_ENDED:value"),
    ("LADO_OPEN:value", "LADO_REFERRALS:value", "LADO_CONCLUDED_1M:denominator"),
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_TOL = 1e-6


# --------------------------------------------------------------------------- engine
class _System:
    """Cells (true values) and exact linear constraints between them."""

    def __init__(self, values: Sequence[float]):
        self.values = np.asarray(values, dtype=float)
        # each constraint: (cell indices, coefficients, is_part flags)
        self.constraints: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.preferred = np.zeros(len(self.values), dtype=bool)  # cells preferred as partners

    def add(self, cells: Sequence[int], coefs: Sequence[float], parts: Sequence[bool]) -> None:
        """Add ``sum(coef * value) == 0`` over cells; cells with NaN values are treated as known."""
        idx = np.asarray(cells, dtype=int)
        keep = ~np.isnan(self.values[idx])
        if keep.sum() < 2:
            return
        self.constraints.append((idx[keep], np.asarray(coefs, float)[keep], np.asarray(parts, bool)[keep]))


def _partner(system: _System, con_ids: Iterable[int], suppressed: np.ndarray) -> int | None:
    """Best published cell to suppress among the given constraints (smallest non-zero part first)."""
    con_ids = list(con_ids)
    if not con_ids:
        return None
    if len(con_ids) == 1:
        idx, _, parts = system.constraints[con_ids[0]]
    else:
        idx = np.concatenate([system.constraints[k][0] for k in con_ids])
        parts = np.concatenate([system.constraints[k][2] for k in con_ids])
    open_ = ~suppressed[idx]
    if not open_.any():
        return None
    idx, parts = idx[open_], parts[open_]
    v = system.values[idx]
    # sort keys, last is primary: zero last, parts first, preferred first, smallest value, lowest id
    order = np.lexsort((idx, v, ~system.preferred[idx], ~parts, v == 0))
    return int(idx[order[0]])


def _incidence(system: _System):
    """Sparse constraint-by-cell 0/1 matrix (CSR)."""
    from scipy import sparse

    rows = np.concatenate([np.full(len(c[0]), k) for k, c in enumerate(system.constraints)] or [np.zeros(0, int)])
    cols = np.concatenate([c[0] for c in system.constraints] or [np.zeros(0, int)])
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(system.constraints), len(system.values)))


def _line_rule(system: _System, suppressed: np.ndarray, inc) -> None:
    """Rule 1: no constraint may hold exactly one suppressed cell."""
    while True:
        counts = inc @ suppressed.astype(float)
        lonely = np.flatnonzero(np.abs(counts - 1) < 0.5)
        added = False
        for k in lonely:
            idx = system.constraints[k][0]
            if int(suppressed[idx].sum()) != 1:
                continue  # a partner was added earlier in this pass
            cell = _partner(system, [k], suppressed)
            if cell is not None:
                suppressed[cell] = True
                added = True
        if not added:
            return


def _components(system: _System, suppressed: np.ndarray, inc) -> list[tuple[list[int], list[int]]]:
    """Groups of suppressed cells linked by constraints: (cells, constraint ids)."""
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    hidden = np.flatnonzero(suppressed)
    if hidden.size == 0:
        return []
    sub = inc[:, hidden].tocsr()
    active = np.flatnonzero(np.diff(sub.indptr) > 0)
    sub = sub[active]
    m = sub.shape[0]
    graph = sparse.bmat([[None, sub], [sub.T, None]], format="csr")
    _, labels = connected_components(graph, directed=False)
    cells: dict[int, list[int]] = defaultdict(list)
    cons: dict[int, list[int]] = defaultdict(list)
    for j, lab in enumerate(labels[m:]):
        cells[int(lab)].append(int(hidden[j]))
    for i, lab in enumerate(labels[:m]):
        cons[int(lab)].append(int(active[i]))
    return [(sorted(cells[r]), cons.get(r, [])) for r in cells]


def _recoverable(system: _System, cells: list[int], cons: list[int]) -> list[int]:
    """Cells of one component that a reader could pin down (rules 2 and 3).

    A cell can be pinned only if no feasible *direction* moves it. Directions
    form the cone ``{d : A d = 0, d_j >= 0 for cells j at their lower bound}``.
    One linear programme finds which at-bound cells can move up at all (maximise
    ``sum t_j`` with ``0 <= t_j <= min(1, d_j)``: the cone is closed under
    addition, so every cell that can move gets ``t_j = 1``); the others are
    fixed. Every remaining cell moves iff its row of the null space of ``A``
    (fixed columns removed) is non-zero: adding a large multiple of the LP's
    direction keeps any null-space move inside the cone.
    """
    if not cons:
        return []
    from scipy.linalg import svd

    # cells tied by an equality constraint (the same count published twice) share a column
    group = {c: c for c in cells}

    def root(c: int) -> int:
        while group[c] != c:
            group[c] = group[group[c]]
            c = group[c]
        return c

    rest = []
    for k in cons:
        idx, coef, _ = system.constraints[k]
        if len(idx) == 2 and coef[0] == -coef[1] and idx[0] in group and idx[1] in group:
            group[root(int(idx[0]))] = root(int(idx[1]))
        else:
            rest.append(k)
    roots = sorted({root(c) for c in cells})
    col = {r: j for j, r in enumerate(roots)}
    cell_col = np.array([col[root(c)] for c in cells])
    A = np.zeros((max(len(rest), 1), len(roots)))
    for i, k in enumerate(rest):
        idx, coef, _ = system.constraints[k]
        for c, a in zip(idx, coef, strict=True):
            if c in group:
                A[i, col[root(int(c))]] += a
    x = np.array([system.values[r] for r in roots])
    lb = np.where(x >= 1, 1.0, 0.0)
    at_bound = np.flatnonzero(x - lb < _TOL)
    fixed = np.zeros(len(roots), dtype=bool)
    if at_bound.size:
        from scipy.optimize import linprog

        n, nb = len(roots), at_bound.size
        # variables: d (n, free except at-bound >= 0), t (nb, 0..1); t_j - d_j <= 0
        c_obj = np.concatenate([np.zeros(n), -np.ones(nb)])
        A_eq = np.hstack([A, np.zeros((A.shape[0], nb))])
        A_ub = np.zeros((nb, n + nb))
        A_ub[np.arange(nb), at_bound] = -1.0
        A_ub[np.arange(nb), n + np.arange(nb)] = 1.0
        bounds = [(None, None)] * n + [(0.0, 1.0)] * nb
        for j in at_bound:
            bounds[j] = (0.0, None)
        res = linprog(c_obj, A_ub=A_ub, b_ub=np.zeros(nb), A_eq=A_eq, b_eq=np.zeros(A.shape[0]),
                      bounds=bounds, method="highs")
        if res.status == 0:
            fixed[at_bound[res.x[n:] < 0.5]] = True
        else:  # pragma: no cover - the zero direction is always feasible
            fixed[at_bound] = True
    free_cols = np.flatnonzero(~fixed)
    movable = np.zeros(len(roots), dtype=bool)
    if free_cols.size:
        # a column is pinned iff its unit vector lies in the row space of A (projection norm 1)
        sub = A[:, free_cols]
        _, sv, vh = svd(sub, full_matrices=False, lapack_driver="gesdd")
        rank = int(np.sum(sv > 1e-9 * max(1.0, sv[0] if sv.size else 1.0)))
        proj = np.sum(vh[:rank] ** 2, axis=0) if rank else np.zeros(free_cols.size)
        movable[free_cols] = proj < 1 - 1e-9
    return [c for c, j in zip(cells, cell_col, strict=True) if not movable[j]]


def _nearest_partner(system: _System, cell: int, suppressed: np.ndarray,
                     by_cell: Mapping[int, list[int]]) -> int | None:
    """Partner for a pinned cell: from its own constraints, else the nearest ones reachable through hidden cells."""
    seen_cells, seen_cons = {cell}, set()
    frontier = [cell]
    while frontier:
        cons = [k for c in frontier for k in by_cell[c] if k not in seen_cons]
        seen_cons.update(cons)
        partner = _partner(system, cons, suppressed)
        if partner is not None:
            return partner
        nxt = []
        for k in cons:
            for c in system.constraints[k][0]:
                if int(c) not in seen_cells:
                    seen_cells.add(int(c))
                    nxt.append(int(c))
        frontier = nxt
    return None


#: largest group of linked suppressed cells given the exact (linear-algebra and bounds) check
MAX_EXACT = 250


def _residual_rule(system: _System, cells: list[int], cons: list[int], suppressed: np.ndarray) -> list[int]:
    """Cheap bounds rule for large groups: in a sum constraint whose hidden parts must all be 1, all are known."""
    out = []
    for k in cons:
        idx, coef, _ = system.constraints[k]
        hid = suppressed[idx]
        if hid.sum() < 2 or hid.sum() == len(idx):
            continue
        # published cells give the signed total of the hidden ones: sum(coef_h * x_h) = -sum(coef_p * x_p)
        if not (np.all(coef[hid] == coef[hid][0])):
            continue
        rest = -float(np.dot(coef[~hid], system.values[idx][~hid])) * coef[hid][0]
        lbs = np.where(system.values[idx][hid] >= 1, 1.0, 0.0)
        if rest <= lbs.sum() + _TOL:
            out.append(int(idx[hid][0]))
    return out


def _secondary(system: _System, primary: np.ndarray, stats: dict | None = None) -> np.ndarray:
    """Extend the primary suppression until no suppressed cell can be recovered.

    Groups of linked suppressed cells larger than :data:`MAX_EXACT` get the
    line rule and the single-constraint bounds rule only (the exact check
    would take too long); their size is reported in ``stats``.
    """
    suppressed = primary.copy()
    by_cell: dict[int, list[int]] = defaultdict(list)
    for k, (idx, _, _) in enumerate(system.constraints):
        for c in idx:
            by_cell[int(c)].append(k)
    inc = _incidence(system)
    safe: set[frozenset[int]] = set()  # components already checked and found safe
    large: dict[frozenset[int], int] = {}
    for _ in range(10_000):
        _line_rule(system, suppressed, inc)
        added = False
        large = {}
        for cells, cons in _components(system, suppressed, inc):
            key = frozenset(cells)
            if key in safe:
                continue
            if len(cells) > MAX_EXACT:
                pinned = _residual_rule(system, cells, cons, suppressed)
                large[key] = len(cells)
            else:
                pinned = _recoverable(system, cells, cons)
            if not pinned:
                safe.add(key)
            for cell in pinned:
                partner = _nearest_partner(system, cell, suppressed, by_cell)
                if partner is not None:
                    suppressed[partner] = True
                    added = True
        if not added:
            if stats is not None:
                stats["unverified_cells"] = int(sum(large.values()))
                stats["components"] = len(safe)
            return suppressed
    raise RuntimeError("secondary suppression did not converge")  # pragma: no cover


def _in_threshold(values: np.ndarray, threshold: tuple[int, int]) -> np.ndarray:
    lo, hi = threshold
    with np.errstate(invalid="ignore"):
        return (values >= lo) & (values <= hi)


def _count_text(v: float) -> str:
    return ":" if pd.isna(v) else (str(int(v)) if float(v).is_integer() else f"{v:g}")


# --------------------------------------------------------------------------- tables
def suppress_table(
    df: pd.DataFrame,
    count_columns: Sequence[str],
    *,
    total_row: object | None = None,
    total_column: str | None = None,
    column_sums: Mapping[str, Sequence[str]] | None = None,
    threshold: tuple[int, int] = (1, 5),
    secondary: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Suppress small counts in a two-way table and protect them from its totals.

    Args:
        df: one row per category; ``count_columns`` hold counts (NaN = not available).
        count_columns: the columns holding counts (including ``total_column``).
        total_row: index label of the row holding column totals, if published.
        total_column: name of the column holding row totals, if published.
        column_sums: further column totals, e.g. ``{"Q1": ["Apr", "May", "Jun"]}``
            (period totals); each total column must be in ``count_columns``.
        threshold: inclusive range of counts to suppress (DfE: 1 to 5).
        secondary: apply secondary suppression (turn off only for private board packs).

    Returns:
        ``(display, mask)``: ``display`` is a copy of ``df`` whose count columns
        are strings (``"c"`` suppressed, ``":"`` not available, ``"0"`` true zero);
        ``mask`` is a boolean frame (True = suppressed) over the count columns.

    A total that does not equal the sum of its parts is not used as a constraint
    (it cannot be used to recover a part exactly); parts that exceed their total
    raise ``ValueError``.
    """
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
        if s > tv + _TOL:
            raise ValueError(f"suppress_table: {where}: parts add up to {s:g}, more than the total {tv:g}")
        if abs(s - tv) <= _TOL:
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
    primary = _in_threshold(system.values, threshold)
    suppressed = _secondary(system, primary) if secondary else primary
    mask = pd.DataFrame(suppressed.reshape(n_rows, n_cols), index=df.index, columns=cols)
    display = df.copy()
    for j, c in enumerate(cols):
        display[c] = pd.Series(
            ["c" if mask.iat[i, j] else _count_text(values[i, j]) for i in range(n_rows)],
            index=df.index, dtype="string",
        )
    return display, mask


# --------------------------------------------------------------------------- indicator table
def _indicator_kind(g: pd.DataFrame) -> str:
    """'count' (no denominator), 'percentage' (value = 100 n/d) or 'rate' (anything else)."""
    den = pd.to_numeric(g["denominator"], errors="coerce")
    if den.isna().all():
        return "count"
    num = pd.to_numeric(g["numerator"], errors="coerce")
    val = pd.to_numeric(g["value"], errors="coerce")
    ok = den.gt(0) & num.notna() & val.notna()
    if not ok.any():
        return "percentage" if (den.dropna() < 1e4).all() else "rate"
    pct = 100.0 * num[ok] / den[ok]
    return "percentage" if bool(np.all(np.abs(pct - val[ok]) <= 0.051 + 1e-9)) else "rate"


def _pos(frame: pd.DataFrame, positions: np.ndarray) -> np.ndarray:
    """Positions in ``frame`` (from ``groupby.indices``) to positions in its parent (``frame.index``)."""
    return frame.index.to_numpy()[positions]


def _tiles(parent_start, parent_end, starts: pd.Series, ends: pd.Series) -> bool:
    if starts.empty:
        return False
    order = np.argsort(starts.to_numpy())
    s, e = starts.to_numpy()[order], ends.to_numpy()[order]
    if s[0] != np.datetime64(parent_start) or e[-1] != np.datetime64(parent_end):
        return False
    return bool(np.all(s[1:] == e[:-1] + np.timedelta64(1, "D")))


def suppress_indicator_table(
    ind: pd.DataFrame,
    *,
    threshold: tuple[int, int] = (1, 5),
    balances: Sequence[tuple[str, str, str]] = DEFAULT_BALANCES,
) -> pd.DataFrame:
    """Apply disclosure control to the indicator table (data contract columns).

    Counts (the ``value`` of a count indicator, the numerators of percentages
    and rates, the denominators of percentages) from 1 to 5 become ``c``.
    Secondary suppression protects them against every exact relation found in
    the table: breakdown values adding to the headline ``all`` row, months
    adding to quarters, years and rolling 12 months, quarters to years, the same
    count appearing in two indicators (e.g. ``REFERRAL_RATE`` numerator and
    ``REFERRALS``), and stock-flow balances (``balances``: open at end =
    open at previous end + started - ended, each as ``"INDICATOR:measure"``).
    Every relation is checked in the data before it is used.

    A percentage is suppressed when its numerator or denominator is; a rate
    (whose denominator is a published population) when its numerator is.

    Returns a copy with ``numerator``, ``denominator`` and ``value`` as strings
    (``c``, ``:`` not available, ``z`` not applicable, counts as integers,
    percentages and rates to 1 decimal place), ``suppressed`` (True where any
    figure on the row is hidden) and ``marker`` (the marker of ``value``:
    ``c``, ``:``, ``z`` or empty when published).
    """
    missing = [c for c in INDICATOR_COLUMNS if c not in ind.columns]
    if missing:
        raise ValueError(
            f"suppress_indicator_table: columns {missing} missing; the indicator table must have "
            f"{list(INDICATOR_COLUMNS)} (see safeguarding.schema.INDICATOR_COLUMNS)"
        )
    df = ind.reset_index(drop=True).copy()
    for c in ("numerator", "denominator", "value"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    for c in ("period_start", "period_end"):
        df[c] = pd.to_datetime(df[c])
    kinds = {i: _indicator_kind(g) for i, g in df.groupby("indicator_id", sort=False)}
    kind = df["indicator_id"].map(kinds)

    # cells: (row, measure)
    cols_np = {m: df[m].to_numpy(dtype=float) for m in ("numerator", "denominator", "value")}
    measure_of = {"count": ("value",), "percentage": ("numerator", "denominator"), "rate": ("numerator",)}
    cell_id: dict[tuple[int, str], int] = {}
    values: list[float] = []
    for r, k in enumerate(kind.to_numpy()):
        for m in measure_of[k]:
            cell_id[(r, m)] = len(values)
            values.append(cols_np[m][r])
    system = _System(values)
    vals = system.values
    headline = df["breakdown"].eq("all")
    system.preferred[[cell_id[(r, m)] for (r, m) in cell_id if not headline.iat[r]]] = True

    long = pd.DataFrame(
        [(cid, r, m) for (r, m), cid in cell_id.items()], columns=["cell", "row", "measure"]
    )
    long = long.join(df[["indicator_id", "period_type", "period_start", "period_end", "breakdown",
                         "breakdown_value"]], on="row")
    long["v"] = vals[long["cell"].to_numpy()]

    def add_sums(totals: np.ndarray, parts: list[np.ndarray]) -> None:
        for t, ps in zip(totals, parts, strict=True):
            tv, pv = vals[t], vals[ps]
            if not np.isnan(tv) and not np.isnan(pv).any() and abs(pv.sum() - tv) <= _TOL:
                n = len(ps)
                system.add([int(t), *ps.tolist()], [-1.0] + [1.0] * n, [False] + [True] * n)

    # 1. breakdown values add up to the headline
    head_keys = ["indicator_id", "measure", "period_type", "period_start"]
    head = long[long["breakdown"].eq("all")].drop_duplicates(head_keys)
    parts_df = long[~long["breakdown"].eq("all")]
    if not parts_df.empty and not head.empty:
        grouped = parts_df.groupby([*head_keys, "breakdown"], sort=False, observed=True)
        sums = grouped["v"].sum(min_count=1).rename("psum").reset_index()
        sums["has_nan"] = (grouped["v"].count() < grouped["v"].size()).to_numpy()
        sums = sums.merge(head[[*head_keys, "cell", "v"]], on=head_keys, how="inner")
        ok = ~sums["has_nan"] & sums["v"].notna() & (np.abs(sums["psum"] - sums["v"]) <= _TOL)
        idx = grouped.indices
        keys = list(sums.loc[ok, [*head_keys, "breakdown"]].itertuples(index=False, name=None))
        add_sums(sums.loc[ok, "cell"].to_numpy(), [long["cell"].to_numpy()[_pos(parts_df, idx[k])] for k in keys])

    # 2. shorter periods add up to longer ones (flows only: checked in the data)
    series_keys = ["indicator_id", "measure", "breakdown", "breakdown_value"]
    ps = pd.DatetimeIndex(long["period_start"])
    long["mon"] = np.where(ps.day == 1, ps.year * 12 + ps.month - 1, -10**6)  # month number; -1e6: not aligned
    lookup = {k: c for k, c in zip(
        long[[*series_keys, "period_type", "mon"]].itertuples(index=False, name=None), long["cell"], strict=True)}
    ends = dict(zip(long["cell"], long["period_end"], strict=True))
    plans = (("quarter", "month", 3, 1), ("year", "month", 12, 1), ("year", "quarter", 4, 3),
             ("rolling12", "month", 12, 1))
    for ptype, sub, n, step in plans:
        big = long[long["period_type"].eq(ptype) & (long["mon"] >= 0)]
        for row in big[[*series_keys, "mon", "period_end", "cell"]].itertuples(index=False, name=None):
            key, mon, end, cell = row[:4], row[4], row[5], row[6]
            kids = [lookup.get((*key, sub, mon + step * i)) for i in range(n)]
            if any(k is None for k in kids) or ends[kids[-1]] != end:
                continue
            add_sums(np.array([cell]), [np.array(kids)])
    # consecutive rolling windows: R(m) - R(m-1) = x(m) - x(m-12), made explicit for the line rule
    roll = long[long["period_type"].eq("rolling12") & (long["mon"] >= 0)]
    for row in roll[[*series_keys, "mon", "cell"]].itertuples(index=False, name=None):
        key, mon, cell = row[:4], row[4], row[5]
        prev = lookup.get((*key, "rolling12", mon - 1))
        new_m = lookup.get((*key, "month", mon + 11))
        old_m = lookup.get((*key, "month", mon - 1))
        if prev is None or new_m is None or old_m is None:
            continue
        cells4 = [int(cell), int(prev), int(new_m), int(old_m)]
        v = vals[cells4]
        if not np.isnan(v).any() and abs(v[0] - v[1] - v[2] + v[3]) <= _TOL:
            system.add(cells4, [1.0, -1.0, -1.0, 1.0], [False, False, True, True])

    # 3. the same count published twice (checked series by series)
    key_cols = ["period_type", "period_start", "breakdown", "breakdown_value"]
    wide = long.pivot_table(index=key_cols, columns=["indicator_id", "measure"], values="cell", aggfunc="first")
    series = list(wide.columns)
    wv = {s: wide[s] for s in series}
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
            if not (x > 0).any() or not np.allclose(x, y, rtol=0, atol=_TOL):
                continue
            for k in np.flatnonzero(both):
                system.add([int(cells_m[k, a]), int(cells_m[k, b])], [1.0, -1.0], [True, True])

    # 4. stock-flow balances
    def series_of(spec: str) -> pd.Series | None:
        ind_id, _, measure = spec.partition(":")
        return wv.get((ind_id, measure or "value"))

    for stock_s, in_s, out_s in balances:
        stock, inflow, outflow = series_of(stock_s), series_of(in_s), series_of(out_s)
        if stock is None or inflow is None or outflow is None:
            continue
        st = stock.dropna().astype(int)
        ends = df.loc[long.set_index("cell").loc[st.to_numpy(), "row"], "period_end"].to_numpy()
        by_end = {(k[0], k[2], k[3], pd.Timestamp(e)): c for k, c, e in zip(st.index, st, ends, strict=True)}
        for k, c in zip(st.index, st, strict=True):
            prev = by_end.get((k[0], k[2], k[3], pd.Timestamp(k[1]) - pd.Timedelta(days=1)))
            ci, co = inflow.get(k), outflow.get(k)
            if prev is None or ci is None or co is None or pd.isna(ci) or pd.isna(co):
                continue
            cells = [int(c), int(prev), int(ci), int(co)]
            v = vals[cells]
            if not np.isnan(v).any() and abs(v[0] - v[1] - v[2] + v[3]) <= _TOL:
                system.add(cells, [1.0, -1.0, -1.0, 1.0], [True] * 4)

    suppressed = _secondary(system, _in_threshold(vals, threshold))

    # derived figures and display
    out = df.copy()
    hidden = {key: bool(suppressed[cid]) for key, cid in cell_id.items()}
    num_s, den_s, val_s, flag, marker = [], [], [], [], []
    for r, k in enumerate(kind.to_numpy()):
        num, den, val = cols_np["numerator"][r], cols_np["denominator"][r], cols_np["value"][r]
        if k == "count":
            hv = hidden[(r, "value")]
            hn, hd = hv, False
            n_txt = "c" if hv else (_count_text(num) if pd.notna(num) else "z")
            d_txt = "z"
            v_txt = "c" if hv else _count_text(val)
        else:
            hn = hidden[(r, "numerator")]
            hd = hidden.get((r, "denominator"), False)
            hv = hn or hd
            n_txt = "c" if hn else _count_text(num)
            d_txt = "c" if hd else _count_text(den if k == "percentage" or pd.isna(den) else round(den))
            v_txt = "c" if hv else (":" if pd.isna(val) else f"{round_half_up(val, 1):.1f}")
        num_s.append(n_txt)
        den_s.append(d_txt)
        val_s.append(v_txt)
        flag.append(bool(hn or hd or hv))
        marker.append(v_txt if v_txt in MARKERS and v_txt != "0" else "")
    out["numerator"] = pd.Series(num_s, dtype="string")
    out["denominator"] = pd.Series(den_s, dtype="string")
    out["value"] = pd.Series(val_s, dtype="string")
    out["suppressed"] = pd.Series(flag, dtype=bool)
    out["marker"] = pd.Series(marker, dtype="string")
    return out


# --------------------------------------------------------------------------- charts of small counts
def small_count_series(values: pd.Series, threshold: int = 5) -> tuple[pd.Series | None, str]:
    """Make a monthly count series safe to chart.

    ``values`` is indexed by month (any date in the month, or a monthly
    ``PeriodIndex``). If no month holds a count from 1 to ``threshold`` the
    series is returned unchanged with an empty note. Otherwise the months are
    added up into financial quarters (April to June, ...); if every quarter is 0
    or above ``threshold`` the quarterly series (indexed by quarter start) is
    returned with a note saying so; otherwise ``(None, note)``: the chart must
    not be drawn, and the note says why.
    """
    s = pd.to_numeric(pd.Series(values), errors="coerce")
    small = (s >= 1) & (s <= threshold)
    if not small.any():
        return s, ""
    idx = s.index
    if isinstance(idx, pd.PeriodIndex):
        idx = idx.to_timestamp()
    months = pd.DatetimeIndex(idx).to_period("M")
    quarters = months.asfreq("Q-MAR")
    q = s.groupby(quarters.to_timestamp(how="start")).sum(min_count=1)
    q.index.name = s.index.name
    q_small = (q >= 1) & (q <= threshold)
    if not q_small.any():
        return q, (
            f"Monthly figures include counts from 1 to {threshold}, which are not published; "
            "the chart shows quarterly totals instead."
        )
    return None, (
        f"Chart not shown: the numbers are too small to publish safely (counts from 1 to {threshold} "
        "even when added up by quarter)."
    )


# --------------------------------------------------------------------------- safe writers
def safe_text(value: object) -> object:
    """Neutralise text that a spreadsheet would run as a formula (OWASP CSV injection).

    Text whose first non-space character is ``= + - @``, a tab or a carriage
    return (or their full-width forms) gets a leading single quote. Anything
    that is not a ``str`` (numbers, dates, missing values) is returned unchanged.
    """
    if not isinstance(value, str):
        return value
    if value.lstrip(" ").startswith(_FORMULA_START):
        return "'" + value
    return value


def _safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.columns = [safe_text(str(c)) for c in out.columns]
    for c in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[c]) or pd.api.types.is_datetime64_any_dtype(out[c])):
            out[c] = out[c].map(safe_text).astype(object)
    return out


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as UTF-8 CSV (no index) with formula-like text neutralised by :func:`safe_text`.

    Lines end in CRLF (RFC 4180) so that a carriage return inside a text field
    is quoted and cannot start a new row in a spreadsheet.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _safe_frame(df).to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n",
                           date_format="%Y-%m-%d")
    return path


def write_xlsx(df: pd.DataFrame, path: str | Path, sheet_name: str = "data", *, title: str | None = None) -> Path:
    """Write ``df`` to an XLSX workbook with a header row and a ``notes`` sheet explaining the markers.

    Text is written as text, never as a formula (formula-like text is
    neutralised by :func:`safe_text` and typed as a string); numbers stay
    numbers; dates are written as ``YYYY-MM-DD`` text.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_name[:31]
    safe = _safe_frame(df)

    def put(r: int, c: int, v: object, bold: bool = False) -> None:
        cell = ws.cell(row=r, column=c)
        if isinstance(v, pd.Timestamp):
            v = v.strftime("%Y-%m-%d")
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
            return
        if isinstance(v, (bool, np.bool_)):
            cell.value = bool(v)
        elif isinstance(v, (int, float, np.integer, np.floating)):
            cell.value = v.item() if hasattr(v, "item") else v
        else:
            cell.value = str(v)
            cell.data_type = "s"  # never a formula, whatever the text
        if bold:
            cell.font = Font(bold=True)

    for j, name in enumerate(safe.columns, start=1):
        put(1, j, name, bold=True)
    for i, row in enumerate(safe.itertuples(index=False), start=2):
        for j, v in enumerate(row, start=1):
            put(i, j, v)
    ws.freeze_panes = "A2"
    for j, name in enumerate(safe.columns, start=1):
        width = max([len(str(name))] + [len(str(v)) for v in safe.iloc[:200, j - 1]]) + 2
        ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = min(width, 60)

    notes = wb.create_sheet("notes")
    lines = [title or "Notes", "", "Symbol", *MARKERS.keys()]
    notes.cell(row=1, column=1, value=str(safe_text(lines[0]))).font = Font(bold=True)
    notes.cell(row=3, column=1, value="Symbol").font = Font(bold=True)
    notes.cell(row=3, column=2, value="Meaning").font = Font(bold=True)
    for i, (sym, meaning) in enumerate(MARKERS.items(), start=4):
        notes.cell(row=i, column=1, value=sym).data_type = "s"
        notes.cell(row=i, column=2, value=meaning).data_type = "s"
    notes.column_dimensions["A"].width = 10
    notes.column_dimensions["B"].width = 100
    wb.save(path)
    return path
