"""An independent reader-attacker for a published indicator table.

It is written apart from :mod:`safeguarding.disclosure` and
:mod:`safeguarding.published_data` and shares none of their code (it imports
only pandas, numpy and scipy). It reads the *published strings* of the public
table and the true table, writes down every relation a reader who knows the
definitions could use, and asks linear programmes how far each hidden cell
(``c`` or ``x``) could move. A reader knows:

* the groups of a breakdown add up to the headline (where they do);
* months add up to quarters and years, and quarters to years (flows);
* a stock at a month end is the quarter's and the year's figure too;
* the same count published twice, under two indicators or two breakdowns
  (``CPP_OPEN_UNDER_3M`` is ``CPP_OPEN`` by plan length "Under 3 months");
* one breakdown refines another: groups of one breakdown's values add up to
  groups of the other's (plan length in DfE bands and in 6-month bands), and
  a headline figure can be a sum of another indicator's breakdown values
  (allegations concluded within 3 months = "Within 1 month" + "1 to 3
  months" of the time to conclusion);
* headline figures add up: ``a = b + c`` (plans open = plans under 3 months
  + plans at least 3 months old, the reviews' denominator), at the headline
  and by every breakdown where it holds;
* inequalities: a percentage's numerator is at most its denominator; nested
  thresholds (concluded within 1 month <= within 3 months <= within 12
  months, by every breakdown); a count stated in a note as counted in the
  denominator but not the numerator (``num + noted <= den``);
* plans (or cases) open at a period end = open at the previous end + started
  - ended (child protection, private fostering, allegations), by every
  breakdown and period type, the previous stock taken from whichever period
  type has it;
* a percentage whose ``status`` is ``ok`` has a denominator of at least 1
  (and ``no data`` on a row with data means 0);
* notes that give a count ("11 ICPCs with no section 47 enquiry for the child
  are excluded", or "fewer than 6 ...") are unknowns of their own (exact,
  from 1 to 5, or 0 when the note is absent from a row with data of an
  indicator whose published notes do state such counts), tied to the
  published figures by the relations above (ICPCs held = ICPCs timed + ICPCs
  excluded); where the publication states no such count they are unknowns at
  least 0, still tied by the relations;
* a published percentage or rate whose numerator or denominator is hidden
  bounds the ratio of the two (to the rounding of the published value);
* what the publication says of its annual figures (:func:`stated_rule`):
  "every annual figure for the whole area for the reporting year and the
  year before is published unless it rests on a count from 1 to 5", the
  exceptions listed. So a withheld such figure not listed has a numerator
  of at most 5 (a count, or a percentage's numerator: at most its
  denominator, and one of the two is small), and its denominator too when
  the numerator is shown; a listed one rests on no count from 1 to 5: its
  hidden counts are at least 6. A cell the reader knows to be at most 5 is
  not asked for its protection interval (being small is what it is said to
  be), only whether it is pinned;
* a ``c`` is at least 1 (true zeros are shown as ``0``), and no count is
  negative. A figure withheld as ``x``, or left out of the published table,
  is an unknown too, known only to be at least 0: relations through it are
  kept, so the check covers what a reader could combine through unpublished
  figures.

The truth is used only to decide which relations hold, which makes this
attacker *better* informed than a real reader. Relations found by searching
the truth for exact sums and equalities are kept only when they hold on
several periods and are not all zero (see :data:`MIN_PERIODS` and
:data:`MIN_NONZERO`), so that coincidences between sparse series are not
taken for definitions.

Three questions are asked of the system:

* :func:`recoverable`: a hidden cell pinned to a range narrower than 1;
* :func:`unprotected`: a primary hidden cell (true value 1 to 5) whose every
  consistent value lies in [1, 5] (the reader learns it is small and
  nonzero); the rule adopted is that for every primary cell the values
  consistent with everything published include 0 or 6 or more;
* :func:`inconsistent`: the same count shown as a number in one place and
  hidden in another.

To keep the work small, a few linear programmes that push all the cells not
yet settled together (then random mixes) settle most cells; only the cells
left get their own linear programmes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from itertools import combinations, pairwise

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

BALANCES = (("CPP_OPEN", "CPP_STARTED", "CPP_ENDED"), ("PF_OPEN", "PF_NEW", "PF_ENDED"),
            ("LADO_OPEN", "LADO_REFERRALS", ("LADO_CONCLUDED_1M", "denominator")))

KEY = ["indicator_id", "period_type", "period_start", "breakdown", "breakdown_value"]
SERIES = ["indicator_id", "measure", "breakdown", "breakdown_value"]
COUNTS = ("numerator", "denominator")
NOTE = "note: "  # measure prefix of a count given in a note
RANK = {"month": 0, "quarter": 1, "year": 2, "rolling12": 3}
#: a relation found by searching the truth must hold on at least this many periods ...
MIN_PERIODS = 3
#: ... and be nonzero on at least this many periods of the finest period type it covers (months, say)
MIN_NONZERO = 3
#: largest breakdown whose every group of values is tried in the refinement search (else pairs only)
MAX_SUBSET_VALUES = 10
#: how many relations away from a cell its first, local programmes look (see :class:`_Local`)
LOCAL_RADIUS = 3
_FEWER = "fewer than 6"
_NOTE_COUNT = re.compile(r"^\s*(\d+|fewer than 6)\s+(.+?)\s*$")
_EPS = 1e-6

Relation = tuple[list[int], list[float]]


# ------------------------------------------------------------------------------------------------ cells
def _is_count(text: str) -> bool:
    return text in ("c", "x") or text.isdigit()


def _text(values: pd.Series) -> np.ndarray:
    """Published strings, with ``13.0`` read as ``13`` and missing as ``''``."""
    s = values.astype("object").where(values.notna(), "").astype(str).str.strip()
    s = s.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    return s.to_numpy(dtype=object)


def _keyed(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({c: df[c].astype(str).to_numpy() for c in KEY if c != "period_start"})
    out["period_start"] = pd.to_datetime(df["period_start"]).to_numpy()
    return out[KEY]


def _note_counts(note: str) -> dict[str, str]:
    """``{kind: number or 'fewer than 6'}`` for each piece of a note that starts with a count."""
    out = {}
    for piece in str(note).split(";"):
        m = _NOTE_COUNT.match(piece)
        if m:
            out[_note_kind(m.group(2))] = m.group(1)
    return out


def _note_kind(text: str) -> str:
    return re.sub(r"fewer than 6|\d+", "#", text.strip())


def _align(published: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """The published columns row for row with the truth; rows the published table lacks are all ``x``."""
    cols = [c for c in ("numerator", "denominator", "value", "status", "note") if c in published.columns]
    tk, pk = _keyed(truth), _keyed(published)
    if len(published) == len(truth) and all((tk[c].to_numpy() == pk[c].to_numpy()).all() for c in KEY):
        pub = published[cols].reset_index(drop=True)
        present = np.ones(len(truth), dtype=bool)
    else:
        if pk.duplicated().any():
            raise ValueError("reader_cells: the published table has a row twice")
        right = pd.concat([pk, published[cols].reset_index(drop=True)], axis=1)
        right["_present"] = True
        merged = tk.merge(right, on=KEY, how="left", validate="one_to_one")
        present = merged["_present"].eq(True).to_numpy()
        pub = merged[cols].reset_index(drop=True)
    out = pd.DataFrame(index=range(len(truth)))
    for c in ("numerator", "denominator", "value"):
        shown = _text(pub[c]) if c in pub else np.full(len(truth), "", dtype=object)
        out[c] = np.where(present, shown, "x")
    for c in ("status", "note"):
        shown = _text(pub[c]) if c in pub else np.full(len(truth), "", dtype=object)
        out[c] = np.where(present, shown, "")
    out["present"] = present
    return out


def reader_cells(published: pd.DataFrame, truth: pd.DataFrame, *, notes: bool = True,
                 status: bool = True) -> pd.DataFrame:
    """One row per count a reader could reason about: where it is, its published text and its true value.

    ``truth`` is the whole unsuppressed table; ``published`` is the protected
    table, either row for row with it (the old form) or any subset of its rows
    (the published CSV, say), matched on indicator, period type and start and
    breakdown and value; rows the published table lacks count as ``x``.
    Columns: ``row`` (the truth's row), ``measure`` (numerator, denominator,
    value, or ``note: <kind>`` for a count stated in a note), ``shown``
    (a number, ``c`` or ``x``), ``true``, ``lb`` and ``ub`` (what the reader
    knows from ``c``, ``status`` and "fewer than 6"), the row's place, and the
    published ``status``, ``note`` and ``value`` strings. ``notes=False`` leaves
    out the counts stated in notes, ``status=False`` what ``status`` says.
    """
    truth = truth.reset_index(drop=True)
    pub = _align(published, truth)
    tstatus = (truth["status"].astype(str).to_numpy() if "status" in truth else np.full(len(truth), ""))
    parts = []
    num_true = pd.to_numeric(truth["numerator"], errors="coerce").to_numpy(dtype=float)
    den_true = pd.to_numeric(truth["denominator"], errors="coerce").to_numpy(dtype=float)
    for measure, true in (("numerator", num_true), ("denominator", den_true)):
        shown = pub[measure].to_numpy(dtype=object)
        ok = ~np.isnan(true) & (np.mod(np.nan_to_num(true, nan=0.5), 1) == 0)  # counts only (not a rate)
        idx = np.flatnonzero(ok)
        s = shown[idx]
        s = np.where(np.array([_is_count(v) for v in s], dtype=bool), s, "x")  # ':' on a count: unknown
        parts.append(pd.DataFrame({"row": idx, "measure": measure, "shown": s, "true": true[idx]}))
    # a count indicator's value is its numerator: a value shown where the numerator is hidden (or the reverse)
    val_true = pd.to_numeric(truth["value"], errors="coerce").to_numpy(dtype=float) if "value" in truth else None
    if val_true is not None:
        ind = truth["indicator_id"].astype(str).to_numpy()
        same = pd.Series(np.isnan(val_true) | np.isnan(num_true) | (val_true == num_true)).groupby(ind).all()
        no_den = pd.Series(np.isnan(den_true)).groupby(ind).all()
        count_ind = set(same.index[same & no_den])
        vs, ns = pub["value"].to_numpy(dtype=object), pub["numerator"].to_numpy(dtype=object)
        hid = lambda a: np.isin(a, ["c", "x"])  # noqa: E731
        dig = lambda a: np.array([str(v).isdigit() for v in a], dtype=bool)  # noqa: E731
        pick = (np.isin(ind, list(count_ind)) & ~np.isnan(val_true)
                & ((dig(vs) & hid(ns)) | (hid(vs) & dig(ns))))
        idx = np.flatnonzero(pick)
        if idx.size:
            parts.append(pd.DataFrame({"row": idx, "measure": "value", "shown": vs[idx], "true": val_true[idx]}))
    if notes and "note" in truth:
        parts.append(_note_cells(truth, pub, num_true))
    cells = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else parts[0]
    cells["row"] = cells["row"].astype(np.int64)
    cells["true"] = cells["true"].astype(float)
    cells = cells.sort_values(["row", "measure"], kind="stable").reset_index(drop=True)
    meta = truth[["indicator_id", "period_type", "period_start", "period_end", "breakdown",
                  "breakdown_value"]].reset_index(drop=True)
    cells = cells.join(meta, on="row")
    for col in ("period_start", "period_end"):
        cells[col] = pd.to_datetime(cells[col])
    for col in ("indicator_id", "period_type", "breakdown", "breakdown_value"):
        cells[col] = cells[col].astype(str)
    cells["status"] = pub["status"].to_numpy()[cells["row"]]
    cells["note"] = pub["note"].to_numpy()[cells["row"]]
    cells["value_shown"] = pub["value"].to_numpy()[cells["row"]]
    cells["true_status"] = tstatus[cells["row"]]
    cells["shown"] = cells["shown"].astype(str)
    true = cells["true"].to_numpy()
    c = cells["shown"].eq("c").to_numpy()
    noted = cells["measure"].str.startswith(NOTE).to_numpy()
    cells["lb"] = np.where(c & (true >= 1), 1.0, 0.0)
    cells["ub"] = np.where(c & noted, 5.0, np.inf)  # "fewer than 6"
    if status:
        _status_bounds(cells)
    return cells.reset_index(drop=True)


def stated_rule(cells: pd.DataFrame, ends: list[pd.Timestamp], listed: set[tuple[str, pd.Timestamp]],
                threshold: int = 5) -> pd.DataFrame:
    """``cells`` with the bounds the publication's rule for annual figures states (see the module docstring).

    ``ends``: the period ends of the years whose annual headline figures the
    rule covers; ``listed``: the exceptions, ``(indicator, period end)``.
    Sets ``ub`` (at most ``threshold``) and ``lb`` (at least ``threshold + 1``)
    and marks the cells known small in ``stated_small``.
    """
    out = cells.copy()
    out["stated_small"] = False
    covered = (out["period_type"].eq("year") & out["breakdown"].eq("all")
               & out["period_end"].isin([pd.Timestamp(e) for e in ends])).to_numpy()
    hidden = out["shown"].isin(["c", "x"]).to_numpy()
    key = list(zip(out["indicator_id"], out["period_end"], strict=True))
    is_listed = np.array([k in listed for k in key], dtype=bool)
    measure = out["measure"].to_numpy()
    counts = np.isin(measure, [*COUNTS, "value"])
    shown_num = {}
    for r, m, sh in zip(out["row"], measure, out["shown"], strict=True):
        if m == "numerator":
            shown_num[r] = sh not in ("c", "x")
    num_shown = np.array([shown_num.get(r, False) for r in out["row"]], dtype=bool)
    small = covered & hidden & counts & ~is_listed & (np.isin(measure, ["numerator", "value"])
                                                        | ((measure == "denominator") & num_shown))
    big = covered & hidden & counts & is_listed
    out.loc[small, "ub"] = np.minimum(out.loc[small, "ub"], float(threshold))
    out.loc[small, "stated_small"] = True
    out.loc[big, "lb"] = np.maximum(out.loc[big, "lb"], float(threshold + 1))
    return out


def _note_cells(truth: pd.DataFrame, pub: pd.DataFrame, num_true: np.ndarray) -> pd.DataFrame:
    """A cell for each count a note can state, on every row with data of an indicator that has such notes."""
    tnotes = truth["note"].astype("object").where(truth["note"].notna(), "").astype(str).to_numpy()
    ind = truth["indicator_id"].astype(str).to_numpy()
    true_counts = [_note_counts(n) if n else {} for n in tnotes]
    kinds: dict[str, set[str]] = defaultdict(set)
    for i, d in enumerate(true_counts):
        for k in d:
            if d[k].isdigit():
                kinds[ind[i]].add(k)
    rows = []
    present = pub["present"].to_numpy()
    pnotes = pub["note"].to_numpy(dtype=object)
    stated: dict[str, set[str]] = defaultdict(set)  # the kinds of count the publication does state, by indicator
    for i in np.flatnonzero(present & np.isin(ind, list(kinds))):
        stated[ind[i]].update(_note_counts(pnotes[i]))
    for code, ks in kinds.items():
        for i in np.flatnonzero((ind == code) & ~np.isnan(num_true)):
            shown_counts = _note_counts(pnotes[i]) if present[i] else {}
            for k in ks:
                t = float(true_counts[i].get(k, "0"))
                if not present[i]:
                    s = "x"
                elif k in shown_counts:
                    s = "c" if shown_counts[k] == _FEWER else shown_counts[k]
                elif k in stated[code] and t == 0:
                    s = "0"  # the publication states this count wherever it is not 0
                else:
                    s = "x"  # a publication that never states it (or dropped it here) tells the reader nothing
                rows.append((i, NOTE + k, s, t))
    return pd.DataFrame(rows, columns=["row", "measure", "shown", "true"])


def _status_bounds(cells: pd.DataFrame) -> None:
    """``status`` tells a reader whether a percentage's denominator is 0: learn where it does, from the truth."""
    den = cells[cells["measure"].eq("denominator")]
    for _, g in den.groupby("indicator_id", sort=False):
        ok = g["true_status"].eq("ok").to_numpy()
        zero = g["true"].to_numpy() == 0
        if not zero.any() or not ok.any() or (ok & zero).any() or (~ok & ~zero).any():
            continue  # status does not say whether the denominator is 0 here
        same = g["status"].eq(g["true_status"]).to_numpy()  # a status the publisher rewrote says nothing here
        shown_ok = g["status"].eq("ok").to_numpy() & same
        shown_other = g["status"].ne("ok").to_numpy() & g["status"].ne("").to_numpy() & same
        cells.loc[g.index[shown_ok], "lb"] = np.maximum(cells.loc[g.index[shown_ok], "lb"], 1.0)
        cells.loc[g.index[shown_other], "ub"] = 0.0


# -------------------------------------------------------------------------------------- series helpers
class _Grid:
    """The cells as series (indicator, measure, breakdown, value) by period (type, start)."""

    def __init__(self, cells: pd.DataFrame):
        s_code = cells.groupby(SERIES, sort=False).ngroup().to_numpy()
        p_code = cells.groupby(["period_type", "period_start"], sort=True).ngroup().to_numpy()
        ns, npd = int(s_code.max()) + 1, int(p_code.max()) + 1
        self.V = np.full((ns, npd), np.nan)
        self.I = np.full((ns, npd), -1, dtype=np.int64)
        self.V[s_code, p_code] = cells["true"].to_numpy(dtype=float) + 0.0
        self.I[s_code, p_code] = np.arange(len(cells))
        first = pd.Series(np.arange(len(cells))).groupby(s_code).first().to_numpy()
        self.meta = cells.iloc[first][SERIES].reset_index(drop=True)
        ptype = pd.Series(cells["period_type"].to_numpy()).groupby(p_code).first().to_numpy()
        self.rank = np.array([RANK.get(str(t), 9) for t in ptype])
        self.index = {tuple(r): i for i, r in enumerate(self.meta.itertuples(index=False, name=None))}

    def nonzero_enough(self, v: np.ndarray, common: np.ndarray, need: int) -> bool:
        fine = common & (self.rank == self.rank[common].min())
        return int(np.count_nonzero(v[fine])) >= need


def _mask_groups(V: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    mask = ~np.isnan(V)
    if len(V) == 0:
        return []
    uniq, inv = np.unique(mask, axis=0, return_inverse=True)
    inv = np.asarray(inv).reshape(-1)
    return [(uniq[g], np.flatnonzero(inv == g)) for g in range(len(uniq))]


def _equal_rows(grid: _Grid, VA: np.ndarray, VB: np.ndarray, *, min_periods: int,
                min_nonzero: int) -> list[tuple[int, int, np.ndarray]]:
    """Pairs (a, b) of rows of ``VA`` and ``VB`` equal on every period both have (enough of them, not all 0)."""
    out = []
    gb = _mask_groups(VB)
    for mask_a, rows_a in _mask_groups(VA):
        for mask_b, rows_b in gb:
            common = mask_a & mask_b
            if common.sum() < min_periods:
                continue
            table: dict[bytes, list[int]] = defaultdict(list)
            sub_b = np.ascontiguousarray(VB[np.ix_(rows_b, np.flatnonzero(common))])
            for r, vec in zip(rows_b, sub_b, strict=True):
                table[vec.tobytes()].append(int(r))
            sub_a = np.ascontiguousarray(VA[np.ix_(rows_a, np.flatnonzero(common))])
            for r, vec in zip(rows_a, sub_a, strict=True):
                hits = table.get(vec.tobytes())
                if hits and grid.nonzero_enough(VA[r], common, min_nonzero):
                    out.extend((int(r), q, common) for q in hits)
    return out


class _Union:
    def __init__(self, n: int):
        self.p = list(range(n))

    def find(self, a: int) -> int:
        while self.p[a] != a:
            self.p[a] = self.p[self.p[a]]
            a = self.p[a]
        return a

    def join(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.p[max(ra, rb)] = min(ra, rb)
        return True


# ------------------------------------------------------------------------------------------- relations
def reader_relations(cells: pd.DataFrame, *, min_periods: int = MIN_PERIODS,
                     min_nonzero: int = MIN_NONZERO) -> list[Relation]:
    """Every equality (cells, coefficients; sum of coefficient times value = 0) that holds in the truth."""
    return reader_system(cells, min_periods=min_periods, min_nonzero=min_nonzero)[0]


def reader_inequalities(cells: pd.DataFrame, *, min_periods: int = MIN_PERIODS,
                        min_nonzero: int = MIN_NONZERO) -> list[Relation]:
    """Every inequality (cells, coefficients; sum of coefficient times value <= 0) that holds in the truth."""
    return reader_system(cells, min_periods=min_periods, min_nonzero=min_nonzero)[1]


#: the families of relations :func:`reader_system` writes down (names for ``skip`` and ``families``)
FAMILIES = ("breakdown to headline", "months to quarters and years", "stock under several period types",
            "value is the numerator", "same count, two series", "breakdown refines breakdown or headline",
            "headline a = b + c", "nested thresholds a <= b", "row inequalities", "published ratio",
            "stock and flow")


def reader_system(cells: pd.DataFrame, *, min_periods: int = MIN_PERIODS, min_nonzero: int = MIN_NONZERO,  # noqa: C901
                  families: dict | None = None, skip=()) -> tuple[list[Relation], list[Relation]]:
    """``(equalities, inequalities)`` a reader could use, each verified on the truth.

    ``families``, if given, receives the number of relations of each family
    (see :data:`FAMILIES`); the families named in ``skip`` are left out (to
    see what each one finds). The classes of equal series are still worked
    out when "same count, two series" is skipped: the sums and refinements
    use them.
    """
    unknown = set(skip) - set(FAMILIES)
    if unknown:
        raise ValueError(f"reader_system: no relation family {sorted(unknown)}")
    true = cells["true"].to_numpy()
    eqs: list[Relation] = []
    ineqs: list[Relation] = []
    count = families if families is not None else {}

    def add(name: str, target: list, rel: Relation) -> None:
        if name not in skip:
            target.append(rel)
        count[name] = count.get(name, 0) + 1

    def total(name: str, t: int, parts: list[int]) -> None:
        if parts and abs(true[t] - true[parts].sum()) < 1e-9:
            add(name, eqs, ([t, *parts], [-1.0] + [1.0] * len(parts)))

    counts = cells["measure"].isin(COUNTS).to_numpy() | cells["measure"].str.startswith(NOTE).to_numpy()
    # breakdowns add up to the headline
    key = ["indicator_id", "measure", "period_type", "period_start"]
    for _, g in cells[counts].groupby(key, sort=False):
        head = g.index[g["breakdown"].eq("all")]
        if len(head) != 1:
            continue
        for _, parts in g[~g["breakdown"].eq("all")].groupby("breakdown", sort=False):
            total("breakdown to headline", int(head[0]), parts.index.tolist())
    # months -> quarters -> years, within each series
    for _, g in cells[counts].groupby(SERIES, sort=False):
        by_type = {pt: dict(zip(s["period_start"], s.index, strict=True)) for pt, s in g.groupby("period_type")}
        months, quarters = by_type.get("month", {}), by_type.get("quarter", {})
        for pt, n, sub, step in (("quarter", 3, months, 1), ("year", 12, months, 1), ("year", 4, quarters, 3)):
            for start, t in by_type.get(pt, {}).items():
                kids = [sub.get(start + pd.DateOffset(months=step * k)) for k in range(n)]
                if all(k is not None for k in kids):
                    total("months to quarters and years", int(t), [int(k) for k in kids])
    # a stock under several period types
    align = ["indicator_id", "measure", "period_end", "breakdown", "breakdown_value"]
    for a, b in (("month", "quarter"), ("month", "year"), ("quarter", "year")):
        pairs = cells[counts & cells["period_type"].eq(a).to_numpy()].reset_index().merge(
            cells[counts & cells["period_type"].eq(b).to_numpy()].reset_index(), on=align, suffixes=("_a", "_b"))
        for _, g in pairs.groupby(["indicator_id", "measure"]):
            if np.allclose(g["true_a"], g["true_b"]) and (g["true_a"] > 0).any():
                for x, y in zip(g["index_a"], g["index_b"], strict=True):
                    add("stock under several period types", eqs, ([int(x), int(y)], [1.0, -1.0]))
    # a count indicator's value is its numerator
    vals = cells[cells["measure"].eq("value")]
    if len(vals):
        num_at = {r: i for i, r in zip(cells.index[cells["measure"].eq("numerator")],
                                       cells.loc[cells["measure"].eq("numerator"), "row"], strict=True)}
        for i, r in zip(vals.index, vals["row"], strict=True):
            if r in num_at and true[num_at[r]] == true[i]:
                add("value is the numerator", eqs, ([int(i), num_at[r]], [1.0, -1.0]))
    grid = _Grid(cells[counts]) if counts.any() else None
    sub_index = np.flatnonzero(counts)  # grid cell number -> cells index

    def keep(name: str) -> list:
        return [] if name in skip else (ineqs if name in ("nested thresholds a <= b", "row inequalities",
                                                          "published ratio") else eqs)
    if grid is not None:
        reps = _equal_series(grid, sub_index, keep("same count, two series"), count, min_periods, min_nonzero)
        _refinements(grid, sub_index, reps, keep("breakdown refines breakdown or headline"), count, min_periods,
                     min_nonzero)
        sums = _headline_sums(grid, reps, min_periods, min_nonzero)
        _apply_sums(grid, sub_index, reps, sums, keep("headline a = b + c"), count, min_periods)
        _nested(grid, sub_index, reps, keep("nested thresholds a <= b"), count, min_periods)
    _row_inequalities(cells, keep("row inequalities"), count)
    _ratio_bounds(cells, keep("published ratio"), count)
    _balances(cells, keep("stock and flow"), count)
    return eqs, ineqs


def _equal_series(grid: _Grid, sub_index: np.ndarray, eqs: list, count: dict, min_periods: int,
                  min_nonzero: int) -> dict[int, int]:
    """The same count under two indicators or two breakdowns: equal on every period both have.

    Two figures equal by one breakdown value only are taken as the same count
    only when their headline figures are equal too, and a percentage's
    numerator never as its denominator.

    Returns each series' class representative (the first series of its class).
    """
    pairs = _equal_rows(grid, grid.V, grid.V, min_periods=min_periods, min_nonzero=min_nonzero)
    meta = grid.meta
    fig = list(zip(meta["indicator_id"], meta["measure"], strict=True))
    place = list(zip(meta["breakdown"], meta["breakdown_value"], strict=True))
    head_equal = {(fig[a], fig[b]) for a, b, _ in pairs if place[a] == place[b] == ("all", "all")}
    uf = _Union(len(grid.V))
    n = 0
    for a, b, common in sorted(pairs, key=lambda p: (p[0], p[1])):
        if a == b or (fig[a][0] == fig[b][0] and {fig[a][1], fig[b][1]} == set(COUNTS)):
            continue  # a percentage always 100% is a fact of the data, not of the definitions
        if place[a] == place[b] != ("all", "all") and (fig[a], fig[b]) not in head_equal:
            continue  # two figures equal by one group only (no exclusions in it, say) are not the same count
        if not uf.join(a, b):
            continue  # a spanning tree of each class is enough
        cols = np.flatnonzero(common)
        for x, y in zip(sub_index[grid.I[a, cols]], sub_index[grid.I[b, cols]], strict=True):
            eqs.append(([int(x), int(y)], [1.0, -1.0]))
            n += 1
    count["same count, two series"] = count.get("same count, two series", 0) + n
    return {i: uf.find(i) for i in range(len(grid.V))}


def _refinements(grid: _Grid, sub_index: np.ndarray, reps: dict[int, int], eqs: list, count: dict,  # noqa: C901
                 min_periods: int, min_nonzero: int) -> None:
    """Groups of one breakdown's values that add up to groups of another's, or to a headline figure."""
    meta = grid.meta
    fam: dict[tuple, list[int]] = defaultdict(list)
    for i, r in enumerate(meta.itertuples(index=False)):
        if r.breakdown != "all":
            fam[(r.indicator_id, r.measure, r.breakdown)].append(i)
    subsets: dict[tuple, tuple[list[int], np.ndarray]] = {}
    for f, rows in fam.items():
        V = grid.V[rows]
        live = [k for k in range(len(rows)) if np.nansum(np.abs(V[k])) > 0]
        if len(live) < 2:
            continue
        sizes = range(1, len(live)) if len(live) <= MAX_SUBSET_VALUES else (1, 2)
        masks, vecs = [], []
        for size in sizes:
            for combo in combinations(live, size):
                m = 0
                for k in combo:
                    m |= 1 << k
                masks.append(m)
                vecs.append(V[list(combo)].sum(axis=0))
        subsets[f] = (rows, np.array(masks, dtype=object), np.array(vecs))
    head = sorted({reps[i] for i in range(len(meta)) if meta.at[i, "breakdown"] == "all"})
    n = 0

    def emit(rows_a: list[int], mask_a: int, rows_b: list[int], mask_b: int, common: np.ndarray) -> int:
        left = [rows_a[k] for k in range(len(rows_a)) if mask_a >> k & 1]
        right = [rows_b[k] for k in range(len(rows_b)) if mask_b >> k & 1]
        k = 0
        for p in np.flatnonzero(common):
            la, rb = grid.I[left, p], grid.I[right, p]
            if (la < 0).any() or (rb < 0).any():
                continue
            eqs.append(([*sub_index[la].tolist(), *sub_index[rb].tolist()],
                        [1.0] * len(la) + [-1.0] * len(rb)))
            k += 1
        return k

    # (i) two breakdowns of the same figure: minimal pairs of groups with equal sums
    by_figure: dict[tuple, list[tuple]] = defaultdict(list)
    for f in subsets:
        by_figure[f[:2]].append(f)
    for fs in by_figure.values():
        for f1, f2 in combinations(fs, 2):
            (r1, m1, v1), (r2, m2, v2) = subsets[f1], subsets[f2]
            found = _equal_rows(grid, v1, v2, min_periods=min_periods, min_nonzero=min_nonzero)
            found = [(int(m1[a]), int(m2[b]), c) for a, b, c in found]
            found.sort(key=lambda t: (bin(t[0]).count("1") + bin(t[1]).count("1"), t[0], t[1]))
            kept: list[tuple[int, int]] = []
            for a, b, common in found:
                if any((x & ~a) == 0 and (y & ~b) == 0 for x, y in kept):
                    continue  # a union of smaller relations already kept
                kept.append((a, b))
                if bin(a).count("1") + bin(b).count("1") > 2:  # one value equal to one value: a series equality
                    n += emit(r1, a, r2, b, common)
    # (ii) a headline figure that is the sum of several of another figure's breakdown values
    if head:
        VH = grid.V[head]
        for f, (rows, masks, vecs) in subsets.items():
            multi = np.array([bin(int(m)).count("1") >= 2 for m in masks])
            if not multi.any():
                continue
            idx = np.flatnonzero(multi)
            found = _equal_rows(grid, vecs[idx], VH, min_periods=min_periods, min_nonzero=min_nonzero)
            best: dict[int, int] = {}
            for a, b, _ in found:
                size = bin(int(masks[idx[a]])).count("1")
                best[b] = min(best.get(b, size), size)
            for a, b, common in found:
                m = int(masks[idx[a]])
                if bin(m).count("1") != best[b]:
                    continue
                t = head[b]
                if grid.meta.at[t, "indicator_id"] == f[0] and grid.meta.at[t, "measure"] == f[1]:
                    continue
                n += emit(rows, m, [t], 1, common)
    count["breakdown refines breakdown or headline"] = count.get("breakdown refines breakdown or headline", 0) + n


def _headline_sums(grid: _Grid, reps: dict[int, int], min_periods: int,
                   min_nonzero: int) -> list[tuple[int, int, int]]:
    """Headline series ``a = b + c`` on every period all three have (class representatives only)."""
    meta = grid.meta
    head = sorted({reps[i] for i in range(len(meta)) if meta.at[i, "breakdown"] == "all"})
    head = [h for h in head if np.nansum(np.abs(grid.V[h])) > 0]
    if len(head) < 3:
        return []
    VH = grid.V[head]
    nh = len(head)
    bi, ci = np.triu_indices(nh, k=1)
    S = VH[bi] + VH[ci]  # (pairs, periods)
    present_bc = ~np.isnan(S)
    out = []
    for a in range(nh):
        va = VH[a]
        common = present_bc & ~np.isnan(va)
        ncommon = common.sum(axis=1)
        diff = np.where(common, np.abs(S - va), 0.0)
        hit = (ncommon >= min_periods) & (diff.max(axis=1) < 1e-9) & (bi != a) & (ci != a)
        for k in np.flatnonzero(hit):
            cm = common[k]
            b, c = bi[k], ci[k]
            if (not grid.nonzero_enough(va, cm, min_nonzero) or not np.count_nonzero(VH[b][cm])
                    or not np.count_nonzero(VH[c][cm])):
                continue
            out.append((head[a], head[b], head[c]))
    return out


def _apply_sums(grid: _Grid, sub_index: np.ndarray, reps: dict[int, int], sums: list, eqs: list, count: dict,
                min_periods: int) -> None:
    """Each headline ``a = b + c`` at the headline and at every breakdown value where it holds."""
    meta = grid.meta
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(meta)):
        members[reps[i]].append(i)
    n = 0
    places = sorted({(r.breakdown, r.breakdown_value) for r in meta.itertuples(index=False)})
    for a, b, c in sums:
        figures = [[tuple(meta.loc[m, ["indicator_id", "measure"]]) for m in members[x]
                    if meta.at[m, "breakdown"] == "all"] for x in (a, b, c)]
        for place in places:
            rows = []
            for figs in figures:
                row = next((grid.index[(*fig, *place)] for fig in figs if (*fig, *place) in grid.index), None)
                rows.append(row)
            if any(r is None for r in rows):
                continue
            va, vb, vc = grid.V[rows]
            cm = ~np.isnan(va) & ~np.isnan(vb) & ~np.isnan(vc)
            if cm.sum() < min_periods or np.abs(va[cm] - vb[cm] - vc[cm]).max() > 1e-9:
                continue
            for p in np.flatnonzero(cm):
                ia, ib, ic = sub_index[grid.I[rows, p]]
                eqs.append(([int(ia), int(ib), int(ic)], [1.0, -1.0, -1.0]))
                n += 1
    count["headline a = b + c"] = count.get("headline a = b + c", 0) + n


def _nested(grid: _Grid, sub_index: np.ndarray, reps: dict[int, int], ineqs: list, count: dict,
            min_periods: int) -> None:
    """Nested thresholds: numerators of percentages over the same denominator with ``a <= b`` everywhere.

    Kept only when ``a + b`` exceeds the denominator somewhere (two disjoint
    groups, like plan-length bands, never do: for them ``a <= b`` would be a
    fact of the data, not of the definitions), and applied by every breakdown
    value where it holds on every period.
    """
    meta = grid.meta
    at = grid.index
    head_num = [i for i in range(len(meta)) if meta.at[i, "breakdown"] == "all" and meta.at[i, "measure"]
                == "numerator" and ((meta.at[i, "indicator_id"], "denominator", "all", "all") in at)]
    by_den: dict[int, list[int]] = defaultdict(list)
    for i in head_num:
        by_den[reps[at[(meta.at[i, "indicator_id"], "denominator", "all", "all")]]].append(i)
    n = 0
    for den, nums in by_den.items():
        vd = grid.V[den]
        for a, b in ((a, b) for a in nums for b in nums if a != b):
            va, vb = grid.V[a], grid.V[b]
            cm = ~np.isnan(va) & ~np.isnan(vb) & ~np.isnan(vd)
            if (cm.sum() < min_periods or (va[cm] > vb[cm]).any() or not (va[cm] < vb[cm]).any()
                    or not (va[cm] + vb[cm] > vd[cm]).any()):
                continue
            ia, ib = meta.at[a, "indicator_id"], meta.at[b, "indicator_id"]
            for r in meta.itertuples(index=False):
                if r.indicator_id != ia or r.measure != "numerator":
                    continue
                ra, rb = at[(ia, "numerator", r.breakdown, r.breakdown_value)], at.get((ib, "numerator", r.breakdown,
                                                                                       r.breakdown_value))
                if rb is None:
                    continue
                xa, xb = grid.V[ra], grid.V[rb]
                c2 = ~np.isnan(xa) & ~np.isnan(xb)
                if not c2.any() or (xa[c2] > xb[c2]).any():
                    continue
                for p in np.flatnonzero(c2):
                    ineqs.append(([int(sub_index[grid.I[ra, p]]), int(sub_index[grid.I[rb, p]])], [1.0, -1.0]))
                    n += 1
    count["nested thresholds a <= b"] = count.get("nested thresholds a <= b", 0) + n


def _row_inequalities(cells: pd.DataFrame, ineqs: list, count: dict) -> None:
    """Within a row: numerator <= denominator, and numerator + a noted count <= denominator, where always true."""
    true = cells["true"].to_numpy()
    wide = cells.reset_index().pivot_table(index="row", columns="measure", values="index", aggfunc="first")
    ind = cells.groupby("row")["indicator_id"].first().reindex(wide.index).to_numpy()
    if "numerator" not in wide or "denominator" not in wide:
        return
    notes = [c for c in wide.columns if str(c).startswith(NOTE)]
    n = 0
    for extra in [None, *notes]:
        cols = ["numerator", "denominator"] + ([extra] if extra else [])
        sub = wide[cols].dropna().astype(int)
        if sub.empty:
            continue
        lhs = true[sub["numerator"]] + (true[sub[extra]] if extra else 0.0)
        ok = pd.Series(lhs <= true[sub["denominator"]] + 1e-9).groupby(ind[wide.index.get_indexer(sub.index)]).all()
        if extra:  # a noted count matters only where it is not always 0
            ok &= pd.Series(true[sub[extra]] > 0).groupby(ind[wide.index.get_indexer(sub.index)]).any()
        good = np.isin(ind[wide.index.get_indexer(sub.index)], list(ok.index[ok]))
        coef = [1.0, -1.0] + ([1.0] if extra else [])
        for idx in sub.to_numpy()[good]:
            ineqs.append(([int(i) for i in idx], coef))
            n += 1
    count["row inequalities"] = count.get("row inequalities", 0) + n


def _ratio_bounds(cells: pd.DataFrame, ineqs: list, count: dict) -> None:
    """A published percentage or rate with its numerator or denominator hidden bounds their ratio."""
    num = cells[cells["measure"].eq("numerator")].set_index("row")
    den = cells[cells["measure"].eq("denominator")].set_index("row")
    both = num.index.intersection(den.index)
    if both.empty:
        return
    n_i = pd.Series(cells.index[cells["measure"].eq("numerator")], index=num.index)
    d_i = pd.Series(cells.index[cells["measure"].eq("denominator")], index=den.index)
    vshown = num.loc[both, "value_shown"].astype(str)
    hid = num.loc[both, "shown"].isin(["c", "x"]) | den.loc[both, "shown"].isin(["c", "x"])
    vnum = pd.to_numeric(vshown, errors="coerce")
    pick = hid & vnum.notna() & (den.loc[both, "true"] > 0)
    n = 0
    for r in both[pick.to_numpy()]:
        text = vshown[r]
        dec = len(text.split(".")[1]) if "." in text else 0
        h = 0.5 * 10.0 ** -dec + 1e-9
        v = float(text)
        tn, td = num.at[r, "true"], den.at[r, "true"]
        scale = next((k for k in (100.0, 10000.0, 1.0, 1000.0, 100000.0) if abs(k * tn / td - v) <= h), None)
        if scale is None:
            continue
        i, j = int(n_i[r]), int(d_i[r])
        ineqs.append(([i, j], [scale, -(v + h)]))
        ineqs.append(([i, j], [-scale, v - h]))
        n += 2
    count["published ratio"] = count.get("published ratio", 0) + n


def _balances(cells: pd.DataFrame, eqs: list, count: dict) -> None:
    """Open at the end = open at the previous end + started - ended, by every breakdown and period type."""
    true = cells["true"].to_numpy()
    at = {(r.indicator_id, r.measure, r.period_type, r.period_end, r.breakdown, r.breakdown_value): i
          for i, r in enumerate(cells.itertuples())}
    stock_at: dict[tuple, list[int]] = defaultdict(list)  # a stock at a date, whichever period types publish it
    for (ind_id, m, pt, end, bd, bv), i in at.items():
        if pt in ("month", "quarter", "year"):
            stock_at[(ind_id, m, end, bd, bv)].append(i)
    n = 0
    for stock, inflow, outflow in BALANCES:
        in_id, in_m = (inflow, "numerator") if isinstance(inflow, str) else inflow
        out_id, out_m = (outflow, "numerator") if isinstance(outflow, str) else outflow
        for r in cells[cells["indicator_id"].eq(stock) & cells["measure"].eq("numerator")].itertuples():
            if r.period_type not in ("month", "quarter", "year"):
                continue
            prevs = stock_at.get((stock, "numerator", r.period_start - pd.Timedelta(days=1), r.breakdown,
                                  r.breakdown_value), [])
            ci = at.get((in_id, in_m, r.period_type, r.period_end, r.breakdown, r.breakdown_value))
            co = at.get((out_id, out_m, r.period_type, r.period_end, r.breakdown, r.breakdown_value))
            if not prevs or ci is None or co is None:
                continue
            for prev in prevs:  # each period type the previous stock is published under (they may differ in text)
                four = [r.Index, prev, ci, co]
                if abs(true[four] @ np.array([1.0, -1.0, -1.0, 1.0])) < 1e-9:
                    eqs.append((four, [1.0, -1.0, -1.0, 1.0]))
                    n += 1
    count["stock and flow"] = count.get("stock and flow", 0) + n


# ------------------------------------------------------------------------------------------ the system
class _System:
    """The relations over the hidden cells, with the published figures moved to the right-hand side."""

    def __init__(self, cells: pd.DataFrame, eqs: list[Relation], ineqs: list[Relation] = ()):
        unknown = cells["shown"].isin(["c", "x"]).to_numpy()
        self.hidden = np.flatnonzero(unknown)
        true = cells["true"].to_numpy()
        shown_vals = np.where(unknown, np.nan, pd.to_numeric(cells["shown"], errors="coerce"))
        col = np.full(len(cells), -1)
        col[self.hidden] = np.arange(self.hidden.size)
        nh = self.hidden.size

        def build(rels):
            r, c, v, rhs = [], [], [], []
            k = 0
            for idx, coef in rels:
                idx_a, coef_a = np.asarray(idx), np.asarray(coef, dtype=float)
                unk = col[idx_a] >= 0
                if not unk.any():
                    continue
                r.extend([k] * int(unk.sum()))
                c.extend(col[idx_a[unk]].tolist())
                v.extend(coef_a[unk].tolist())
                rhs.append(-float(coef_a[~unk] @ shown_vals[idx_a[~unk]]))
                k += 1
            return sparse.csr_matrix((v, (r, c)), shape=(k, nh)), np.asarray(rhs, dtype=float)

        self.A, self.b = build(eqs)
        self.U, self.u = build(ineqs)
        self.x_true = true[self.hidden]
        assert np.allclose(self.A @ self.x_true, self.b), "the attacker's relations do not fit the truth"
        assert (self.U @ self.x_true <= self.u + 1e-6).all(), "the attacker's inequalities do not fit the truth"
        default_lb = np.where((self.x_true >= 1) & cells["shown"].eq("c").to_numpy()[self.hidden], 1.0, 0.0)
        lb = cells["lb"].to_numpy(dtype=float)[self.hidden] if "lb" in cells else default_lb
        ub = cells["ub"].to_numpy(dtype=float)[self.hidden] if "ub" in cells else np.full(nh, np.inf)
        self.lb = np.maximum(np.nan_to_num(lb, nan=0.0), default_lb)
        self.ub = np.nan_to_num(ub, nan=np.inf)
        assert ((self.lb <= self.x_true + 1e-9) & (self.x_true <= self.ub + 1e-9)).all(), \
            "the attacker's bounds do not fit the truth"
        ka, ku = self.A.shape[0], self.U.shape[0]
        M = sparse.vstack([self.A, self.U]).tocsr() if ka + ku else sparse.csr_matrix((0, nh))
        graph = sparse.bmat([[None, M], [M.T, None]], format="csr") if ka + ku else sparse.csr_matrix((nh, nh))
        _, labels = connected_components(graph, directed=False)
        row_lab, col_lab = labels[:ka + ku], labels[ka + ku:]
        self.groups: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (columns, eq rows, ineq rows)
        order = np.argsort(col_lab, kind="stable")
        bounds = np.flatnonzero(np.r_[True, np.diff(col_lab[order]) != 0, True])
        rows_by = defaultdict(list)
        for i, lab in enumerate(row_lab):
            rows_by[int(lab)].append(i)
        for s, e in pairwise(bounds):
            cols_g = order[s:e]
            rows = np.asarray(rows_by.get(int(col_lab[cols_g[0]]), []), dtype=int)
            self.groups.append((cols_g, rows[rows < ka], rows[rows >= ka] - ka))

    def group(self, cols_g, eq_rows, in_rows):
        A = self.A[eq_rows][:, cols_g] if eq_rows.size else None
        b = self.b[eq_rows] if eq_rows.size else None
        U = self.U[in_rows][:, cols_g] if in_rows.size else None
        u = self.u[in_rows] if in_rows.size else None
        bounds = np.c_[self.lb[cols_g], self.ub[cols_g]]
        return A, b, U, u, bounds


class _Local:
    """Programmes over the relations near one cell only: fewer relations, so a range at least as wide.

    A cell pinned (or kept within [1, 5]) by the relations near it is pinned
    by all of them; only a cell that moves near it needs the whole group's
    programme.
    """

    def __init__(self, A, b, U, u, bounds: np.ndarray):
        n = bounds.shape[0]
        parts = [M for M in (A, U) if M is not None]
        self.M = sparse.vstack(parts).tocsr() if parts else sparse.csr_matrix((0, n))
        self.C = self.M.tocsc()
        self.ka = 0 if A is None else A.shape[0]
        self.A, self.b, self.U, self.u, self.bounds = A, b, U, u, bounds

    def range(self, j: int, radius: int) -> tuple[float, float, bool]:
        """Smallest and largest value of cell ``j`` under the relations ``radius`` steps from it or nearer.

        The third value says whether those are all the relations of its group
        (the range is then exact).
        """
        cols, rows = np.array([j]), np.array([], dtype=int)
        frontier = cols
        complete = False
        for _ in range(radius + 1):
            new_rows = np.setdiff1d(np.unique(np.concatenate(
                [self.C.indices[self.C.indptr[c]:self.C.indptr[c + 1]] for c in frontier])), rows)
            if new_rows.size == 0:
                complete = True
                break
            if _ == radius:
                break
            rows = np.union1d(rows, new_rows)
            new_cols = np.setdiff1d(np.unique(self.M[new_rows].indices), cols)
            cols = np.union1d(cols, new_cols)
            frontier = new_cols
            if frontier.size == 0:
                complete = True
                break
        er, ur = rows[rows < self.ka], rows[rows >= self.ka] - self.ka
        A = self.A[er][:, cols] if er.size else None
        b = self.b[er] if er.size else None
        U = self.U[ur][:, cols] if ur.size else None
        u = self.u[ur] if ur.size else None
        obj = (cols == j).astype(float)
        out = []
        for sign in (1.0, -1.0):  # smallest, then largest
            res = _solve(sign * obj, A, b, U, u, self.bounds[cols])
            assert res.status in (0, 3), f"attacker's system infeasible: {res.message}"
            out.append(-np.inf * sign if res.status == 3 else float(res.x[obj > 0][0]))
        return out[0], out[1], complete

    def widening(self, j: int, decided) -> tuple[float, float]:
        """The range of cell ``j`` over ever wider neighbourhoods, until ``decided(low, high)`` or exact."""
        radius = LOCAL_RADIUS
        while True:
            low, high, complete = self.range(j, radius)
            if complete or decided(low, high):
                return low, high
            radius *= 2


def _capped(bounds: np.ndarray, x_true: np.ndarray) -> np.ndarray:
    """Bounds with a large cap: the probes' programmes stay bounded, and their solutions stay feasible."""
    cap = max(1e6, 10 * float(np.max(x_true, initial=0.0)))
    return np.c_[bounds[:, 0], np.minimum(bounds[:, 1], cap)]


def _solve(obj, A, b, U, u, bounds):
    return linprog(obj, A_ub=U, b_ub=u, A_eq=A, b_eq=b, bounds=bounds, method="highs")


def _push(A, b, U, u, bounds: np.ndarray, cols: np.ndarray, base: np.ndarray, cap: float,
          sign: float) -> np.ndarray | None:
    """A solution moving as many of ``cols`` as it can by ``cap`` from ``base`` (up if ``sign`` is 1, else down).

    Maximises the sum of ``min(sign * (x - base), cap)`` over ``cols``: no
    cell gains by moving further than ``cap``, so the programme moves many
    cells at once instead of one a long way.
    """
    n, m = bounds.shape[0], cols.size
    if m == 0:
        return None
    T = sparse.csr_matrix((np.r_[np.ones(m), -sign * np.ones(m)],
                           (np.r_[np.arange(m), np.arange(m)], np.r_[n + np.arange(m), cols])), shape=(m, n + m))
    rhs = -sign * base
    pad = lambda M: None if M is None else sparse.hstack([M, sparse.csr_matrix((M.shape[0], m))]).tocsr()  # noqa: E731
    U2 = T if U is None else sparse.vstack([pad(U), T]).tocsr()
    u2 = rhs if u is None else np.r_[u, rhs]
    obj = np.r_[np.zeros(n), -np.ones(m)]
    bnd = np.r_[bounds, np.c_[np.full(m, -np.inf), np.full(m, cap)]]
    res = linprog(obj, A_ub=U2, b_ub=u2, A_eq=pad(A), b_eq=b, bounds=bnd, method="highs")
    return res.x[:n] if res.status == 0 else None


def _probe(obj: np.ndarray, A, b: np.ndarray, bounds: np.ndarray, lo: np.ndarray,
           hi: np.ndarray, U=None, u=None) -> tuple[np.ndarray, np.ndarray, bool]:
    """Minimise and maximise ``obj``; widen the seen ranges; say whether a cell was newly seen to move by 1."""
    before = int((hi - lo < 1 - _EPS).sum())
    for sign in (1.0, -1.0):
        res = _solve(sign * obj, A, b, U, u, bounds)
        if res.status == 0:
            lo, hi = np.minimum(lo, res.x), np.maximum(hi, res.x)
    return lo, hi, int((hi - lo < 1 - _EPS).sum()) < before


def recoverable(cells: pd.DataFrame, eqs: list[Relation], ineqs: list[Relation] = (), *, seed: int = 0,  # noqa: C901
                probes: int = 12) -> list[tuple[int, float, float]]:
    """Unpublished cells a reader could pin down to a range narrower than 1: ``(cell, low, high)``.

    Every ``c`` counts, and every ``x`` (or figure left out) whose true value
    is from 1 to 5 (a withheld figure worked out exactly is only a disclosure
    when it is small). Raises AssertionError if the truth does not fit the
    relations (the attacker would be wrong).
    """
    if not cells["shown"].isin(["c", "x"]).any():
        return []
    sys_ = _System(cells, eqs, ineqs)
    true = cells["true"].to_numpy()
    must_protect = (cells["shown"].eq("c").to_numpy() | ((true >= 1) & (true <= 5)))[sys_.hidden]
    rng = np.random.default_rng(seed)
    out = []
    for cols_g, eq_rows, in_rows in sys_.groups:
        if not must_protect[cols_g].any():
            continue
        if eq_rows.size == 0 and in_rows.size == 0:  # no relation: only the bounds
            for j in cols_g:
                if must_protect[j] and sys_.ub[j] - sys_.lb[j] < 1 - _EPS:
                    out.append((int(sys_.hidden[j]), float(sys_.lb[j]), float(sys_.ub[j])))
            continue
        A, b, U, u, bounds = sys_.group(cols_g, eq_rows, in_rows)
        lo = sys_.x_true[cols_g].copy()
        hi = sys_.x_true[cols_g].copy()
        hi[~must_protect[cols_g]] = np.inf  # no need to show these move
        capped = _capped(bounds, sys_.x_true[cols_g])
        x0 = sys_.x_true[cols_g]
        for _ in range(probes):  # move as many cells as possible by 1, up then down
            todo = np.flatnonzero(hi - lo < 1 - _EPS)
            for sign in (1.0, -1.0):
                x = _push(A, b, U, u, capped, todo, x0[todo], 1.0, sign)
                if x is not None:
                    lo, hi = np.minimum(lo, x), np.maximum(hi, x)
            if not (hi - lo < 1 - _EPS).any() or (hi - lo < 1 - _EPS).sum() == todo.size:
                break
        for _ in range(probes):  # then random mixes
            todo = hi - lo < 1 - _EPS
            if not todo.any():
                break
            lo, hi, gained = _probe(rng.normal(size=cols_g.size) * todo, A, b, capped, lo, hi, U, u)
            if not gained:
                break
        near = _Local(A, b, U, u, bounds)
        for j in np.flatnonzero(hi - lo < 1 - _EPS):
            # pinned by the relations near it (then by all of them), or not by all of them
            low, high = near.widening(j, lambda low, high: high - low < 1 - _EPS)
            if high - low < 1 - _EPS:
                out.append((int(sys_.hidden[cols_g[j]]), low, high))
    return out


def primary(cells: pd.DataFrame) -> np.ndarray:
    """Hidden counts whose true value is from 1 to 5 (counts stated in notes are not cells of the table)."""
    true = cells["true"].to_numpy()
    stated = cells["stated_small"].to_numpy(bool) if "stated_small" in cells else np.zeros(len(cells), dtype=bool)
    return (cells["shown"].isin(["c", "x"]).to_numpy() & (true >= 1) & (true <= 5)
            & cells["measure"].isin(COUNTS).to_numpy() & ~stated)


def unprotected(cells: pd.DataFrame, eqs: list[Relation], ineqs: list[Relation] = (), *, seed: int = 0,  # noqa: C901
                probes: int = 12, top: float = 6.0) -> list[tuple[int, float, float]]:
    """Primary hidden cells a reader can tell are from 1 to 5: ``(cell, low, high)``.

    A primary cell (true value 1 to 5, shown ``c`` or ``x`` or left out) is
    protected when the values consistent with everything published include
    0 or ``top`` (6) or more: its smallest value under every relation and
    bound is 0 (at most), or its largest is 6 (at least). ``low`` and ``high``
    are the linear programmes' smallest and largest values. The programmes
    are continuous relaxations, so a cell reported here is certainly
    unprotected; one passed may be narrower in whole numbers.
    """
    prim = primary(cells)
    if not prim.any():
        return []
    sys_ = _System(cells, eqs, ineqs)
    want = prim[sys_.hidden]
    rng = np.random.default_rng(seed)
    out = []
    for cols_g, eq_rows, in_rows in sys_.groups:
        if not want[cols_g].any():
            continue
        if eq_rows.size == 0 and in_rows.size == 0:
            for j in cols_g:
                if want[j] and sys_.lb[j] > _EPS and sys_.ub[j] < top - _EPS:
                    out.append((int(sys_.hidden[j]), float(sys_.lb[j]), float(sys_.ub[j])))
            continue
        A, b, U, u, bounds = sys_.group(cols_g, eq_rows, in_rows)
        lo = sys_.x_true[cols_g].copy()
        hi = sys_.x_true[cols_g].copy()
        w = want[cols_g]
        lo[~w], hi[~w] = -np.inf, np.inf  # nothing to show for these
        capped = _capped(bounds, sys_.x_true[cols_g])

        def done(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:  # seen at 6 or more, or at 0
            return (hi >= top - _EPS) | (lo <= _EPS)

        for _ in range(probes):  # as many cells as possible up to 6, then down to 0
            todo = np.flatnonzero(~done(lo, hi))
            if todo.size == 0:
                break
            x = _push(A, b, U, u, capped, todo, np.zeros(todo.size), top, 1.0)
            if x is not None:
                lo, hi = np.minimum(lo, x), np.maximum(hi, x)
            down = np.zeros(cols_g.size)
            down[np.flatnonzero(~done(lo, hi) & (bounds[:, 0] <= _EPS))] = 1.0
            if down.any():
                res = _solve(down, A, b, U, u, capped)
                if res.status == 0:
                    lo, hi = np.minimum(lo, res.x), np.maximum(hi, res.x)
            if int((~done(lo, hi)).sum()) >= todo.size:
                break
        for _ in range(probes if (~done(lo, hi)).any() else 0):  # then random mixes
            todo = ~done(lo, hi)
            before = int(todo.sum())
            obj = rng.normal(size=cols_g.size) * todo
            for sign in (1.0, -1.0):
                res = _solve(sign * obj, A, b, U, u, capped)
                if res.status == 0:
                    lo, hi = np.minimum(lo, res.x), np.maximum(hi, res.x)
            if int((~done(lo, hi)).sum()) >= before:
                break
        near = _Local(A, b, U, u, bounds)
        for j in np.flatnonzero(~done(lo, hi)):
            # kept within [1, 5] by the relations near it (then by all of them), or not by all of them
            low, high = near.widening(j, lambda low, high: low > _EPS and high < top - _EPS)
            if low > _EPS and high < top - _EPS:
                out.append((int(sys_.hidden[cols_g[j]]), low, high))
    return out


def same_count(cells: pd.DataFrame, eqs: list[Relation]) -> np.ndarray:
    """A label per cell: cells tied by a chain of two-cell equalities (``a - b = 0``) are the same count."""
    uf = _Union(len(cells))
    for idx, coef in eqs:
        if len(idx) == 2 and abs(coef[0] + coef[1]) < 1e-12 and coef[0] != 0:
            uf.join(int(idx[0]), int(idx[1]))
    return np.array([uf.find(i) for i in range(len(cells))])


def inconsistent(cells: pd.DataFrame, eqs: list[Relation]) -> list[tuple[int, int]]:
    """The same count shown as a number in one place and hidden (``c``/``x``) in another: ``(shown, hidden)``.

    Two cells are the same count when a chain of two-cell equalities
    (``a - b = 0``) ties them. For each hidden cell tied to a published one,
    one pair is returned (its published twin).
    """
    label = same_count(cells, eqs)
    shown = cells["shown"].to_numpy(dtype=object)
    hidden = np.isin(shown, ["c", "x"])
    twin: dict[int, int] = {}
    for i in np.flatnonzero(~hidden):
        twin.setdefault(int(label[i]), int(i))
    return [(twin[int(label[i])], int(i)) for i in np.flatnonzero(hidden) if int(label[i]) in twin]
