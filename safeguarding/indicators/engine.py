"""The indicator engine: every catalogue indicator, for every period and breakdown.

One pass per indicator turns the processed tables into *events*:

* a **flow** indicator (referrals received, plans started, ICPCs on time) has
  one event per record, dated by the record's date, carrying a numerator (1 for
  a count; 0/1 for a percentage) and a denominator (1 for a percentage);
* a **stock** indicator (plans open at the end of the period) has one event per
  record per month end at which it is open, so that the characteristics that
  depend on the date (age, plan length so far, reviews overdue) are taken at
  that month end.

Events are summed into a month grid (``numpy.bincount``) per breakdown value;
quarters, financial years and rolling 12 months are sums of months (flows) or
the value at their last month end (stocks). Nothing loops over rows in Python.

Status of each row: ``ok``; ``partial`` where the source covers only part of the
period (the data start or end inside it, or it falls before the start of an
extract of episodes that holds only those still open then: the note says
which; the value is what the data hold); ``no data`` where the period lies outside the
months the source table covers or a percentage has no cases in its
denominator (value NaN, never 0); ``not available`` where the source table (or
the population, for rates) was not supplied, with the reason in ``note``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from safeguarding import schema
from safeguarding.atomic import write_atomic
from safeguarding.indicators.catalogue import Catalogue, Indicator, load_catalogue
from safeguarding.indicators.periods import (
    Window,
    add_months,
    age_in_years,
    completed_months,
    financial_year,
    month_end,
    month_index,
    period_table,
)
from safeguarding.indicators.workdays import working_days_between
from safeguarding.measures import percentage, rate_per_10k
from safeguarding.periods import financial_year_labels

log = logging.getLogger(__name__)

#: columns written after :data:`schema.INDICATOR_COLUMNS`
EXTRA_COLUMNS = ("status", "note", "unknown", "target", "rag")

#: DfE age bands: (lower bound in years, label); ages below 0 are "Unborn"
DEFAULT_AGE_BANDS: tuple[tuple[int, str], ...] = ((0, "Under 1"), (1, "1-4"), (5, "5-9"), (10, "10-15"),
                                                  (16, "16+"))
PLAN_LENGTH_D5 = ("Under 3 months", "3 months to under 6 months", "6 months to under 1 year",
                  "1 year to under 2 years", "2 years or more")
PLAN_LENGTH_6M = ("Under 6 months", "6 months to under 1 year", "1 year to under 18 months",
                  "18 months to under 2 years", "2 years or more")
CONCLUSION_BANDS = ("Within 1 month", "1 to 3 months", "3 to 12 months", "Over 12 months")
REFERRALS_IN_12M = ("1", "2", "3+")
REFERRALS_IN_PERIOD = ("1", "2", "3+")
NOT_RECORDED = "Not recorded"

#: primary date of each table (decides where its data starts)
PRIMARY_DATE = {
    "referrals": "referral_date", "s47": "s47_start_date", "icpc": "icpc_date",
    "cp_plans": "plan_start_date", "cp_reviews": "review_date", "allegations": "referral_date",
    "private_fostering": "notification_date",
}


#: the date on which an episode of each table ends (an extract of episodes holds those open at any time from its
#: start, so records dated earlier are only those still open then: see ``_Context.extract_start``)
END_DATE = {"cp_plans": "plan_end_date", "allegations": "concluded_date",
            "private_fostering": "arrangement_end_date"}


#: the status of a figure the source covers only in part (the period starts before the extract's start or
#: before the data start, or ends after the data end); its value is what the data hold, and its note says why
PARTIAL = "partial"


class IndicatorInputError(ValueError):
    """A processed table breaks the data contract (names the table, row, column and fix)."""


@dataclass
class Events:
    """Records prepared for aggregation (see the module docstring)."""

    kind: str  # "flow" or "stock"
    frame: pd.DataFrame  # column "month" plus measures and breakdown columns
    coverage: np.ndarray  # bool per window month: the source holds data for it
    #: bool per window month: the source holds only part of it (before the extract's start: see
    #: ``_Context.extract_start``); None when every covered month is complete
    partly: np.ndarray | None = None
    extract_start: pd.Timestamp | None = None
    notes: dict[str, str] = field(default_factory=dict)  # measure -> note text after the count
    unknown_note: str = ""
    #: the headline's events, when a breakdown's values overlap (``Indicator.overlapping``): ``frame`` then
    #: has one row per record and value, and the headline counts each record once from this frame instead
    headline: pd.DataFrame | None = None


# --------------------------------------------------------------------------- inputs


def _prepare(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Check and coerce processed tables to the canonical dtypes (copies)."""
    out: dict[str, pd.DataFrame] = {}
    for name, df in tables.items():
        if df is None:
            continue
        if name not in schema.ENTITIES:
            out[name] = df
            continue
        ent = schema.ENTITIES[name]
        df = df.copy()
        missing = [c for c in ent.required if c not in df.columns]
        if missing:
            raise IndicatorInputError(
                f"{name}: required column(s) {', '.join(missing)} missing (columns present: "
                f"{', '.join(map(str, df.columns))}); re-run 'python pipeline.py ingest' to rebuild {name}.parquet"
            )
        for col in ent.columns:
            if col.name not in df.columns:
                df[col.name] = pd.Series(pd.NA, index=df.index, dtype="object")
            s = df[col.name]
            if col.kind == "date":
                conv = pd.to_datetime(s, errors="coerce")
                bad = conv.isna() & s.notna()
                if bad.any():
                    i = int(np.flatnonzero(bad.to_numpy())[0])
                    raise IndicatorInputError(
                        f"{name}: row {i + 1}, column {col.name}: {s.iloc[i]!r} is not a date; "
                        f"fix the source and re-run ingest"
                    )
                df[col.name] = conv.astype("datetime64[ns]").dt.normalize()
                if col.required and df[col.name].isna().any():
                    i = int(np.flatnonzero(df[col.name].isna().to_numpy())[0])
                    raise IndicatorInputError(
                        f"{name}: row {i + 1}, column {col.name}: required date is missing; "
                        f"fix the source (ingest should have rejected this row) and re-run ingest"
                    )
            elif col.kind in ("id", "str", "code", "codes"):
                df[col.name] = s.astype("string")
            elif col.kind == "bool":
                df[col.name] = s.astype("boolean")
            elif col.kind == "int":
                df[col.name] = pd.to_numeric(s, errors="coerce").astype("Float64")
        for earlier, later in ent.date_order:
            bad = df[later] < df[earlier]
            if bad.any():
                i = int(np.flatnonzero(bad.fillna(False).to_numpy())[0])
                raise IndicatorInputError(
                    f"{name}: row {i + 1}: {later} {df[later].iloc[i]:%d/%m/%Y} is before {earlier} "
                    f"{df[earlier].iloc[i]:%d/%m/%Y}; correct the dates in the source and re-run ingest"
                )
        out[name] = df.reset_index(drop=True)
    return out


class _Context:
    """Prepared tables, window, child characteristics and shared settings."""

    def __init__(self, tables: dict[str, pd.DataFrame], window: Window, population: dict[int, float] | None,
                 aggregates: pd.DataFrame | None, age_bands: tuple[tuple[int, str], ...],
                 history_start: pd.Timestamp | None, data_end: pd.Timestamp | None):
        self.tables = tables
        self.data_end = data_end
        self.window = window
        self.population = {int(k): float(v) for k, v in (population or {}).items()}
        self.aggregates = aggregates
        self.age_bands = age_bands
        self.history_start = history_start
        self.warnings: list[str] = []
        self.W = window.last - window.first + 1
        children = tables.get("children")
        if children is not None and len(children):
            ch = children.drop_duplicates("child_id", keep="first")
            self.child_index = pd.Index(ch["child_id"].astype(str).to_numpy(dtype=object))
            self.dob = pd.Series(ch["date_of_birth"].to_numpy(), index=self.child_index)
            self._dob_arr = np.r_[ch["date_of_birth"].to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT")]
            self._gender_arr = np.append(_labels(ch["sex"], schema.SEX), NOT_RECORDED).astype(object)
            self._ethnic_arr = np.append(_labels(ch["ethnicity"], schema.ETHNIC_GROUP), NOT_RECORDED).astype(object)
        else:
            self.dob = None
        self._cov: dict[str, np.ndarray] = {}
        self.cache: dict[Any, Any] = {}

    # ---------------------------------------------------------------- coverage
    def coverage(self, table: str) -> np.ndarray:
        """Window months a table covers: from the month of its first primary date (e.g. the first
        referral) to the month of the data end (the latest date in any table, or ``data_end``)."""
        if table not in self._cov:
            df = self.tables[table]
            cov = np.zeros(self.W, dtype=bool)
            if len(df) and self.data_end is not None:
                first = df[PRIMARY_DATE[table]].min()
                a = int(month_index(pd.DatetimeIndex([first]))[0]) - self.window.first
                b = int(month_index(pd.DatetimeIndex([self.data_end]))[0]) - self.window.first
                cov[max(a, 0): max(min(b + 1, self.W), 0)] = True
            self._cov[table] = cov
        return self._cov[table]

    def extract_start(self, table: str) -> pd.Timestamp | None:
        """The date from which ``table`` is complete, when it holds records dated before it; else None.

        ``history_start`` (``indicators: {history_start: DATE}`` in report.yml) when given. Otherwise, for a
        table of episodes (:data:`END_DATE`: plans, allegations, private fostering arrangements), 1 April of the
        financial year of the earliest end date, when records start before it: such an extract holds the
        episodes open at any time from its start, so an episode that started before then is there only if it
        was still open, and none ended before it. Periods before this date are only partly covered.
        """
        df = self.tables.get(table)
        if df is None or not len(df):
            return None
        first = df[PRIMARY_DATE[table]].min()
        if self.history_start is not None:
            start = self.history_start
        elif table in END_DATE and df[END_DATE[table]].notna().any():
            end = df[END_DATE[table]].min()
            start = pd.Timestamp(end.year if end.month >= 4 else end.year - 1, 4, 1)
        else:
            return None
        return start if first < start else None

    def partly(self, table: str, kind: str = "flow") -> np.ndarray:
        """Window months only partly covered by ``table``: covered, and before its :meth:`extract_start`.

        For a flow, a month that starts before the extract's start; for a stock (taken at the month end), a
        month that ends before the day before it (an episode open at the end of the day before the start is
        still open at the start, so it is in the extract).
        """
        start = self.extract_start(table)
        cov = self.coverage(table)
        if start is None:
            return np.zeros(self.W, dtype=bool)
        first_complete = start if kind == "flow" else start - pd.Timedelta(days=1)
        months = np.arange(self.W) + self.window.first
        return cov & (months < int(month_index(pd.DatetimeIndex([first_complete]))[0]))

    def events(self, kind: str, frame: pd.DataFrame, table: str, **kwargs: Any) -> Events:
        """:class:`Events` of ``table``, with its coverage and the months its extract covers only partly."""
        return Events(kind, frame, self.coverage(table), partly=self.partly(table, kind),
                      extract_start=self.extract_start(table), **kwargs)

    def data_start(self, table: str) -> pd.Timestamp:
        """Earliest primary date in a table (the start of its history)."""
        return self.tables[table][PRIMARY_DATE[table]].min()

    # ---------------------------------------------------------------- breakdowns
    def child_breakdowns(self, frame: pd.DataFrame, child: pd.Series, ref: pd.Series, wanted: tuple[str, ...]) -> None:
        """Add age_band (at ``ref``), gender and ethnicity columns for the wanted breakdowns."""
        need = [b for b in ("age_band", "gender", "ethnicity") if b in wanted]
        if not need:
            return
        if self.dob is None:
            msg = "children table not supplied: breakdowns by age band, gender and ethnicity are not available"
            if msg not in self.warnings:
                self.warnings.append(msg)
            return
        pos = self.child_positions(child)
        if "age_band" in need:
            frame["age_band"] = self.age_band(pd.DatetimeIndex(self._dob_arr[pos]), ref)
        if "gender" in need:
            frame["gender"] = self._gender_arr[pos]
        if "ethnicity" in need:
            frame["ethnicity"] = self._ethnic_arr[pos]

    def child_positions(self, child: pd.Series) -> np.ndarray:
        """Row of each child in the children table (the last, missing, row when not found)."""
        pos = self.child_index.get_indexer(child.astype(str).to_numpy(dtype=object))
        return np.where(pos < 0, len(self.child_index), pos)

    def age_band(self, dob: pd.Series, ref: pd.Series) -> np.ndarray:
        """Age band labels at ``ref`` ("Unborn" before birth, "Not recorded" without a date of birth)."""
        age = age_in_years(dob, ref)
        lowers = np.array([b[0] for b in self.age_bands])
        labels = np.array([b[1] for b in self.age_bands], dtype=object)
        pos = np.searchsorted(lowers, np.nan_to_num(age, nan=-1), side="right") - 1
        out = labels[np.clip(pos, 0, len(labels) - 1)]
        out = np.where(pd.DatetimeIndex(ref) < pd.DatetimeIndex(dob), "Unborn", out)
        return np.where(np.isnan(age), NOT_RECORDED, out)

    def band_values(self, breakdown: str, observed: list[str]) -> list[str]:  # noqa: C901
        """Ordered values of a breakdown: the fixed list, plus any others observed."""
        fixed: tuple[str, ...] = ()
        if breakdown == "age_band":
            fixed = ("Unborn", *[b[1] for b in self.age_bands])
        elif breakdown == "gender":
            fixed = tuple(schema.SEX.values())
        elif breakdown == "ethnicity":
            fixed = tuple(dict.fromkeys(schema.ETHNIC_GROUP.values()))
        elif breakdown == "referral_source":
            fixed = tuple(dict.fromkeys(schema.REFERRAL_SOURCE_GROUP.values()))
        elif breakdown == "primary_need":
            fixed = tuple(schema.PRIMARY_NEED.values())
        elif breakdown in ("initial_category", "latest_category"):
            fixed = tuple(schema.CATEGORY_OF_ABUSE.values())
        elif breakdown == "plan_length":
            fixed = PLAN_LENGTH_D5
        elif breakdown == "plan_length_6m":
            fixed = PLAN_LENGTH_6M
        elif breakdown == "sector":
            fixed = tuple(schema.LADO_SECTOR.values())
        elif breakdown == "category":
            fixed = tuple(schema.LADO_CATEGORY.values())
        elif breakdown == "outcome":
            fixed = tuple(schema.LADO_OUTCOME.values())
        elif breakdown == "time_to_conclusion":
            fixed = CONCLUSION_BANDS
        elif breakdown == "referrals_in_12m":
            fixed = REFERRALS_IN_12M
        elif breakdown == "referrals_in_period":
            fixed = REFERRALS_IN_PERIOD
        elif breakdown == "action":
            fixed = tuple(schema.LADO_ACTION.values())
        seen = list(dict.fromkeys(observed))
        extra = sorted(str(v) for v in seen if v not in fixed)
        if breakdown == "age_band":
            fixed = tuple(v for v in fixed if v != "Unborn" or "Unborn" in set(seen))
        return [*fixed, *extra]

    # ---------------------------------------------------------------- frames
    def flow(self, dates: pd.Series, **measures: Any) -> pd.DataFrame:
        """A flow frame: the month of each date plus measure columns."""
        frame = pd.DataFrame({"month": month_index(dates)})
        for k, v in measures.items():
            frame[k] = np.asarray(v, dtype=float) if not np.isscalar(v) else float(v)
        return frame

    def expand(self, start: pd.Series, end: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """(row positions, month numbers) for each window month end at which [start, end) is open.

        Open at a month end ``E`` means ``start <= E`` and (no end or ``end > E``).
        """
        first = month_index(start)
        endm = month_index(end)
        last = np.where(pd.isna(end).to_numpy() if hasattr(end, "to_numpy") else pd.isna(end),
                        self.window.last, endm - 1)
        first = np.maximum(first, self.window.first)
        last = np.minimum(last, self.window.last)
        n = np.where(pd.isna(start).to_numpy(), 0, np.maximum(last - first + 1, 0))
        rows = np.repeat(np.arange(len(first)), n)
        offs = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        return rows, np.repeat(first, n) + offs


def _labels(series: pd.Series, codes: dict[str, str]) -> np.ndarray:
    """Map codes to labels through the distinct values (fast on large columns); missing -> Not recorded."""
    idx, uniq = pd.factorize(series, use_na_sentinel=True)
    lab = np.array([codes.get(str(u), NOT_RECORDED) for u in uniq] + [NOT_RECORDED], dtype=object)
    return lab[np.where(idx < 0, len(uniq), idx)]


def _text(series: pd.Series) -> np.ndarray:
    idx, uniq = pd.factorize(series, use_na_sentinel=True)
    lab = np.array([str(u).strip() or NOT_RECORDED for u in uniq] + [NOT_RECORDED], dtype=object)
    return lab[np.where(idx < 0, len(uniq), idx)]


def _band(values: np.ndarray, cuts: list[float], labels: tuple[str, ...]) -> np.ndarray:
    idx = np.searchsorted(np.asarray(cuts, dtype=float), values, side="right")
    out = np.asarray(labels, dtype=object)[np.clip(idx, 0, len(labels) - 1)]
    return np.where(np.isnan(values), NOT_RECORDED, out)


def _length_bands(start: pd.Series, ref: pd.Series, frame: pd.DataFrame, wanted: tuple[str, ...]) -> np.ndarray:
    months = completed_months(start, ref)
    if "plan_length" in wanted:
        frame["plan_length"] = _band(months, [3, 6, 12, 24], PLAN_LENGTH_D5)
    if "plan_length_6m" in wanted:
        frame["plan_length_6m"] = _band(months, [6, 12, 18, 24], PLAN_LENGTH_6M)
    return months


# --------------------------------------------------------------------------- methods
# Each method returns Events for one indicator. ``ind.breakdowns`` says which
# breakdown columns to add.


def _m_referrals(ctx: _Context, ind: Indicator) -> Events:
    df = ctx.tables["referrals"]
    dup = df.duplicated(["child_id", "referral_date"], keep="first").to_numpy()
    frame = ctx.flow(df["referral_date"], num=1.0, dup=dup)
    _referral_breakdowns(ctx, ind, df, frame)
    if "referrals_in_12m" in ind.breakdowns:
        frame["referrals_in_12m"] = _band(_referrals_in_12m(df), [2, 3], REFERRALS_IN_12M)
    return ctx.events("flow", frame, "referrals",
                  notes={"dup": "same-child same-day referrals (possible duplicates) are included"})


def _m_referral_children(ctx: _Context, ind: Indicator) -> Events:
    """Children referred: one event per child and financial year, dated by the child's first referral in the
    year and banded by the child's referrals in the year (records, same-day duplicates included, as
    ``REFERRALS`` counts them). Summed over the months of a year this counts each child once; over a
    month or a quarter it would not, so the catalogue allows only ``year`` for this method."""
    df = ctx.tables["referrals"]
    months = month_index(df["referral_date"])
    df = df[(months >= ctx.window.first) & (months <= ctx.window.last)]  # a partial year counts what it covers
    codes, _ = pd.factorize(df["child_id"].astype("string"))
    per = pd.DataFrame({"child": codes, "fy": financial_year(df["referral_date"]),
                        "date": df["referral_date"].to_numpy()})
    grouped = per.groupby(["child", "fy"], sort=False)["date"]
    first, n = grouped.min(), grouped.size()
    frame = ctx.flow(pd.Series(first.to_numpy()), num=1.0)
    if "referrals_in_period" in ind.breakdowns:
        frame["referrals_in_period"] = _band(n.to_numpy(dtype=float), [2, 3], REFERRALS_IN_PERIOD)
    return ctx.events("flow", frame, "referrals")


def _referral_breakdowns(ctx: _Context, ind: Indicator, df: pd.DataFrame, frame: pd.DataFrame) -> None:
    if df is ctx.tables["referrals"]:
        if "referral_breakdowns" not in ctx.cache:
            tmp = pd.DataFrame(index=frame.index)
            every = ("age_band", "gender", "ethnicity", "referral_source", "primary_need", "team")
            _referral_breakdowns_uncached(ctx, Indicator(**{**ind.__dict__, "breakdowns": every}), df, tmp)
            ctx.cache["referral_breakdowns"] = tmp
        cached = ctx.cache["referral_breakdowns"]
        for c in ind.breakdowns:
            if c in cached.columns:
                frame[c] = cached[c].to_numpy()
        return
    _referral_breakdowns_uncached(ctx, ind, df, frame)


def _referral_breakdowns_uncached(ctx: _Context, ind: Indicator, df: pd.DataFrame, frame: pd.DataFrame) -> None:
    ctx.child_breakdowns(frame, df["child_id"], df["referral_date"], ind.breakdowns)
    if "referral_source" in ind.breakdowns:
        frame["referral_source"] = _labels(df["referral_source"], schema.REFERRAL_SOURCE_GROUP)
    if "primary_need" in ind.breakdowns:
        frame["primary_need"] = _labels(df["primary_need"], schema.PRIMARY_NEED)
    if "team" in ind.breakdowns:
        frame["team"] = _text(df["team"])


def _day_keys(child: pd.Series, dates: pd.Series | pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    codes, _ = pd.factorize(child.astype("string"))
    days = pd.DatetimeIndex(dates).to_numpy().astype("datetime64[D]").astype(np.int64)
    return codes.astype(np.int64), days


def _referrals_in_12m(df: pd.DataFrame) -> np.ndarray:
    """The child's referrals dated on or before this one whose 12-month anniversary is after it
    (the same test as a re-referral), this one and same-day records included."""
    codes, days = _day_keys(df["child_id"], df["referral_date"])
    anniv = pd.DatetimeIndex(add_months(df["referral_date"], 12)).to_numpy().astype("datetime64[D]").astype(np.int64)
    big = 1_000_000
    order = np.lexsort((days, codes))
    date_keys = (codes * big + days)[order]
    # anniversaries are non-decreasing in the date within a child, so both keys sort the same way
    anniv_keys = np.sort(codes * big + anniv)
    hi = np.searchsorted(date_keys, codes * big + days, side="right")
    lo = np.searchsorted(anniv_keys, codes * big + days, side="right")
    return (hi - lo).astype(float)


def _previous_referral(df: pd.DataFrame) -> pd.Series:
    """Date of the child's latest referral on an earlier day (NaT if none)."""
    days = df[["child_id", "referral_date"]].drop_duplicates().sort_values(["child_id", "referral_date"])
    days["prev"] = days.groupby("child_id", sort=False)["referral_date"].shift(1)
    merged = df[["child_id", "referral_date"]].merge(days, on=["child_id", "referral_date"], how="left")
    return merged["prev"]


def _m_rereferrals(ctx: _Context, ind: Indicator) -> Events:
    df = ctx.tables["referrals"]
    prev = _previous_referral(df)
    d = df["referral_date"]
    rerefer = (prev.notna() & (d < pd.Series(add_months(prev, 12), index=df.index))).to_numpy()
    lookback_incomplete = (d < add_months(pd.DatetimeIndex([ctx.data_start("referrals")] * len(d)), 12)).to_numpy()
    unknown = (~rerefer) & lookback_incomplete
    frame = ctx.flow(d, num=rerefer, den=1.0, unknown=unknown)
    _referral_breakdowns(ctx, ind, df, frame)
    return ctx.events("flow", frame, "referrals",
                  unknown_note="referrals fall less than 12 months after the referral data starts, so a previous "
                               "referral may be missing (counted as not re-referrals)")


def _m_s47_started(ctx: _Context, ind: Indicator) -> Events:
    df = ctx.tables["s47"]
    frame = ctx.flow(df["s47_start_date"], num=1.0)
    ctx.child_breakdowns(frame, df["child_id"], df["s47_start_date"], ind.breakdowns)
    if "team" in ind.breakdowns:
        frame["team"] = _text(df["team"])
    return ctx.events("flow", frame, "s47")


def _m_icpc_held(ctx: _Context, ind: Indicator) -> Events:
    df = ctx.tables["icpc"]
    frame = ctx.flow(df["icpc_date"], num=1.0)
    ctx.child_breakdowns(frame, df["child_id"], df["icpc_date"], ind.breakdowns)
    return ctx.events("flow", frame, "icpc")


def link_icpc_s47(icpc: pd.DataFrame, s47: pd.DataFrame) -> pd.Series:
    """S47 start date for each ICPC: by ``s47_id`` where recorded and found, else the child's
    latest enquiry started on or before the ICPC (NaT when there is none)."""
    starts = s47.drop_duplicates("s47_id").set_index("s47_id")["s47_start_date"]
    linked = icpc["s47_id"].map(starts)
    todo = linked.isna()
    if todo.any():
        left = pd.DataFrame({"pos": np.flatnonzero(todo.to_numpy()),
                             "child_id": icpc.loc[todo, "child_id"].astype(str).to_numpy(),
                             "date": icpc.loc[todo, "icpc_date"].to_numpy()}).sort_values("date")
        right = pd.DataFrame({"child_id": s47["child_id"].astype(str).to_numpy(),
                              "date": s47["s47_start_date"].to_numpy(),
                              "start": s47["s47_start_date"].to_numpy()}).sort_values("date")
        m = pd.merge_asof(left, right, on="date", by="child_id", direction="backward", allow_exact_matches=True)
        vals = linked.to_numpy(dtype="datetime64[ns]").copy()
        vals[m["pos"].to_numpy()] = m["start"].to_numpy(dtype="datetime64[ns]")
        linked = pd.Series(vals, index=icpc.index)
    return pd.to_datetime(linked)


def _m_icpc_15wd(ctx: _Context, ind: Indicator) -> Events:
    df = ctx.tables["icpc"]
    start = link_icpc_s47(df, ctx.tables["s47"])
    unmatched = start.isna().to_numpy()
    invalid = (~unmatched) & (df["icpc_date"] < start).to_numpy()
    valid = ~unmatched & ~invalid
    wd = working_days_between(start, df["icpc_date"])
    on_time = valid & (np.nan_to_num(wd, nan=np.inf) <= 15)
    frame = ctx.flow(df["icpc_date"], num=on_time, den=valid, invalid=invalid, unmatched=unmatched)
    ctx.child_breakdowns(frame, df["child_id"], df["icpc_date"], ind.breakdowns)
    return ctx.events("flow", frame, "icpc",
                  notes={"invalid": "ICPCs dated before their section 47 start are invalid and excluded",
                         "unmatched": "ICPCs with no section 47 enquiry for the child are excluded"})


def _plan_breakdowns(ctx: _Context, ind: Indicator, df: pd.DataFrame, frame: pd.DataFrame, ref: pd.Series) -> None:
    ctx.child_breakdowns(frame, df["child_id"], ref, ind.breakdowns)
    if "initial_category" in ind.breakdowns:
        frame["initial_category"] = _labels(df["initial_category"], schema.CATEGORY_OF_ABUSE)
    if "latest_category" in ind.breakdowns:
        latest = df["latest_category"].fillna(df["initial_category"])
        frame["latest_category"] = _labels(latest, schema.CATEGORY_OF_ABUSE)
    if "team" in ind.breakdowns:
        frame["team"] = _text(df["team"])
    _length_bands(df["plan_start_date"], ref, frame, ind.breakdowns)


def _m_cpp_started(ctx: _Context, ind: Indicator) -> Events:
    df = ctx.tables["cp_plans"]
    frame = ctx.flow(df["plan_start_date"], num=1.0)
    _plan_breakdowns(ctx, ind, df, frame, df["plan_start_date"])
    return ctx.events("flow", frame, "cp_plans")


def subsequent_plans(plans: pd.DataFrame, dob: pd.Series | None, history_start: pd.Timestamp) -> pd.DataFrame:
    """Classify each plan: ``subsequent`` (bool) and ``unknown`` (history unknown, bool).

    Subsequent: the child has a plan starting on an earlier day in the data, or
    ``previous_plans`` > 0 is recorded. Known: subsequent, or ``previous_plans``
    recorded, or the child was born on or after ``history_start`` (the start of
    the plan data, so every plan of the child is in it). Otherwise unknown.
    ``dob`` maps child_id to date of birth (None when there is no children table).
    """
    first = plans.groupby("child_id")["plan_start_date"].transform("min")
    earlier = (plans["plan_start_date"] > first).to_numpy()
    prev = pd.to_numeric(plans["previous_plans"], errors="coerce")
    recorded = prev.notna().to_numpy()
    subsequent = earlier | (prev.fillna(0) > 0).to_numpy()
    if dob is not None:
        born = pd.to_datetime(plans["child_id"].astype("string").map(dob))
        born_in_window = (born >= history_start).fillna(False).to_numpy(dtype=bool)
    else:
        born_in_window = np.zeros(len(plans), dtype=bool)
    unknown = ~(subsequent | recorded | born_in_window)
    return pd.DataFrame({"subsequent": subsequent, "unknown": unknown}, index=plans.index)


def _m_cpp_subsequent(ctx: _Context, ind: Indicator) -> Events:
    df = ctx.tables["cp_plans"]
    hs = ctx.history_start if ctx.history_start is not None else ctx.data_start("cp_plans")
    cls = subsequent_plans(df, ctx.dob, hs)
    frame = ctx.flow(df["plan_start_date"], num=cls["subsequent"], den=1.0, unknown=cls["unknown"])
    _plan_breakdowns(ctx, ind, df, frame, df["plan_start_date"])
    return ctx.events("flow", frame, "cp_plans",
                  unknown_note=f"plans have unknown history (no recorded previous plans and the child was born "
                               f"before the plan data starts on {hs:%d/%m/%Y}); counted as first plans, "
                               f"so the figure is a lower bound")


def _ended_plans(ctx: _Context) -> pd.DataFrame:
    df = ctx.tables["cp_plans"]
    return df[df["plan_end_date"].notna()].reset_index(drop=True)


def _m_cpp_ended(ctx: _Context, ind: Indicator) -> Events:
    df = _ended_plans(ctx)
    frame = ctx.flow(df["plan_end_date"], num=1.0)
    _plan_breakdowns(ctx, ind, df, frame, df["plan_end_date"])
    return ctx.events("flow", frame, "cp_plans")


def _m_cpp_ended_2yrs(ctx: _Context, ind: Indicator) -> Events:
    df = _ended_plans(ctx)
    two = completed_months(df["plan_start_date"], df["plan_end_date"]) >= 24
    frame = ctx.flow(df["plan_end_date"], num=two, den=1.0)
    _plan_breakdowns(ctx, ind, df, frame, df["plan_end_date"])
    return ctx.events("flow", frame, "cp_plans")


_PLAN_BREAKDOWNS = ("age_band", "gender", "ethnicity", "initial_category", "latest_category", "team",
                    "plan_length", "plan_length_6m")


def _open_plans(ctx: _Context, ind: Indicator) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Plans open at each window month end (computed once per run, with every plan breakdown)."""
    if "open_plans" not in ctx.cache:
        df = ctx.tables["cp_plans"]
        rows, months = ctx.expand(df["plan_start_date"], df["plan_end_date"])
        sub = df.iloc[rows].reset_index(drop=True)
        ref = pd.Series(month_end(months), name="ref")
        frame = pd.DataFrame({"month": months})
        every = Indicator(**{**ind.__dict__, "breakdowns": _PLAN_BREAKDOWNS})
        _plan_breakdowns(ctx, every, sub, frame, ref)
        frame["_months"] = completed_months(sub["plan_start_date"], ref)
        ctx.cache["open_plans"] = (rows, sub, frame, ref)
    rows, sub, full, ref = ctx.cache["open_plans"]
    cols = ["month", "_months", *[b for b in ind.breakdowns if b in full.columns]]
    return sub, full[cols].copy(), ref


def _m_cpp_open(ctx: _Context, ind: Indicator) -> Events:
    _, frame, _ = _open_plans(ctx, ind)
    frame["num"] = 1.0
    return ctx.events("stock", frame, "cp_plans")


def _m_cpp_open_band(ctx: _Context, ind: Indicator) -> Events:
    _, frame, _ = _open_plans(ctx, ind)
    if ind.band not in PLAN_LENGTH_D5:
        raise ValueError(f"{ind.code}: band {ind.band!r} is not a DfE D5 band; valid: {', '.join(PLAN_LENGTH_D5)}")
    band = _band(frame["_months"].to_numpy(dtype=float), [3, 6, 12, 24], PLAN_LENGTH_D5)
    frame["num"] = (band == ind.band).astype(float)
    frame["den"] = 1.0
    return ctx.events("stock", frame, "cp_plans")


def review_late_from(plans: pd.DataFrame, reviews: pd.DataFrame) -> pd.Series:
    """For each plan, the first day on which it has a review overdue or held late (NaT never).

    The first review is due on or before ``plan start + 3 months``, each later
    one on or before ``previous review + 6 months``. A review held after its due
    date, or not held by it, makes the plan late from the day after the due
    date. Reviews outside the plan (before its start or after its end) are
    ignored; several reviews on one day count once.
    """
    p = plans[["plan_id", "plan_start_date", "plan_end_date"]]
    r = reviews[["plan_id", "review_date"]].merge(p, on="plan_id", how="inner")
    r = r[(r["review_date"] >= r["plan_start_date"])
          & (r["plan_end_date"].isna() | (r["review_date"] <= r["plan_end_date"]))]
    r = r.drop_duplicates(["plan_id", "review_date"]).sort_values(["plan_id", "review_date"]).reset_index(drop=True)
    prev = r.groupby("plan_id", sort=False)["review_date"].shift(1)
    is_first = prev.isna().to_numpy()
    base = prev.fillna(r["plan_start_date"])
    due = pd.Series(add_months(base, np.where(is_first, 3, 6)), index=r.index)
    late = r["review_date"] > due
    first_late_due = due[late].groupby(r.loc[late, "plan_id"]).first()
    last_review = r.groupby("plan_id")["review_date"].last()
    pid = plans["plan_id"].astype(str).to_numpy()
    last_review.index = last_review.index.astype(str)
    first_late_due.index = first_late_due.index.astype(str)
    lr = pd.Series(last_review.reindex(pid).to_numpy(dtype="datetime64[ns]"), index=plans.index)
    next_due = pd.Series(add_months(lr, 6), index=plans.index).fillna(
        pd.Series(add_months(plans["plan_start_date"], 3), index=plans.index))
    fl = pd.Series(first_late_due.reindex(pid).to_numpy(dtype="datetime64[ns]"), index=plans.index)
    return fl.fillna(next_due) + pd.Timedelta(days=1)


def _m_cpp_reviews_on_time(ctx: _Context, ind: Indicator) -> Events:
    df = ctx.tables["cp_plans"]
    late_from = review_late_from(df, ctx.tables["cp_reviews"])
    _, frame, ref = _open_plans(ctx, ind)
    rows = ctx.cache["open_plans"][0]
    eligible = frame["_months"].to_numpy(dtype=float) >= 3
    on_time = eligible & (ref.to_numpy() < late_from.to_numpy()[rows])
    frame["num"] = on_time.astype(float)
    frame["den"] = eligible.astype(float)
    return ctx.events("stock", frame, "cp_plans")


def _lado_breakdowns(ind: Indicator, df: pd.DataFrame, frame: pd.DataFrame) -> None:
    if "sector" in ind.breakdowns:
        frame["sector"] = _labels(df["sector"], schema.LADO_SECTOR)
    if "category" in ind.breakdowns:
        frame["category"] = _labels(df["category"], schema.LADO_CATEGORY)
    if "outcome" in ind.breakdowns:
        frame["outcome"] = _labels(df["outcome"], schema.LADO_OUTCOME)
    if "time_to_conclusion" in ind.breakdowns:
        ref, con = df["referral_date"], df["concluded_date"]
        band = np.select(
            [con <= add_months(ref, 1), con <= add_months(ref, 3), con <= add_months(ref, 12), con.notna()],
            list(CONCLUSION_BANDS), NOT_RECORDED)
        frame["time_to_conclusion"] = band


def _m_lado_referrals(ctx: _Context, ind: Indicator) -> Events:
    df = ctx.tables["allegations"]
    frame = ctx.flow(df["referral_date"], num=1.0)
    _lado_breakdowns(ind, df, frame)
    return ctx.events("flow", frame, "allegations")


def _concluded(ctx: _Context) -> pd.DataFrame:
    df = ctx.tables["allegations"]
    return df[df["concluded_date"].notna()].reset_index(drop=True)


def _m_lado_concluded(ctx: _Context, ind: Indicator) -> Events:
    df = _concluded(ctx)
    frame = ctx.flow(df["concluded_date"], num=1.0)
    _lado_breakdowns(ind, df, frame)
    return ctx.events("flow", frame, "allegations")


def _m_lado_concluded_within(ctx: _Context, ind: Indicator) -> Events:
    df = _concluded(ctx)
    within = (df["concluded_date"] <= add_months(df["referral_date"], int(ind.months or 1))).to_numpy()
    frame = ctx.flow(df["concluded_date"], num=within, den=1.0)
    _lado_breakdowns(ind, df, frame)
    return ctx.events("flow", frame, "allegations")


def _m_lado_actions(ctx: _Context, ind: Indicator) -> Events:
    """Allegations concluded, by action taken: the ``action`` breakdown overlaps (an allegation with several
    actions is counted under each, one with none under none), so the breakdown has one event per allegation
    and distinct action, and the headline one per allegation with at least one action."""
    df = _concluded(ctx)
    acts = pd.DataFrame({"pos": np.arange(len(df)),
                         "action": df["actions"].astype("string").str.split(";").to_numpy()}).explode("action")
    acts["action"] = acts["action"].astype("string").str.strip()
    acts = acts[acts["action"].notna() & acts["action"].ne("")].drop_duplicates(["pos", "action"])
    pos = acts["pos"].to_numpy(dtype=np.int64)
    frame = ctx.flow(df["concluded_date"].iloc[pos], num=1.0)
    if "action" in ind.breakdowns:
        idx, uniq = pd.factorize(acts["action"])
        labels = np.array([schema.LADO_ACTION.get(str(u), str(u)) for u in uniq], dtype=object)
        frame["action"] = labels[idx]
    head = ctx.flow(df["concluded_date"].iloc[np.unique(pos)], num=1.0)
    return ctx.events("flow", frame, "allegations", headline=head)


def _m_lado_open(ctx: _Context, ind: Indicator) -> Events:
    df = ctx.tables["allegations"]
    rows, months = ctx.expand(df["referral_date"], df["concluded_date"])
    frame = pd.DataFrame({"month": months, "num": 1.0})
    _lado_breakdowns(ind, df.iloc[rows].reset_index(drop=True), frame)
    return ctx.events("stock", frame, "allegations")


def _pf_arrangements(ctx: _Context) -> pd.DataFrame:
    df = ctx.tables["private_fostering"]
    keep = df["arrangement_start_date"].notna() & (df["confirmed"].fillna(True).astype(bool))
    return df[keep.to_numpy()].reset_index(drop=True)


def _pf_flow(ctx: _Context, ind: Indicator, df: pd.DataFrame, date: pd.Series, **measures: Any) -> Events:
    frame = ctx.flow(date, **measures)
    ctx.child_breakdowns(frame, df["child_id"], date, ind.breakdowns)
    return ctx.events("flow", frame, "private_fostering")


def _m_pf_notifications(ctx: _Context, ind: Indicator) -> Events:
    df = ctx.tables["private_fostering"]
    return _pf_flow(ctx, ind, df, df["notification_date"], num=1.0)


def _m_pf_new(ctx: _Context, ind: Indicator) -> Events:
    df = _pf_arrangements(ctx)
    return _pf_flow(ctx, ind, df, df["arrangement_start_date"], num=1.0)


def _m_pf_ended(ctx: _Context, ind: Indicator) -> Events:
    df = _pf_arrangements(ctx)
    df = df[df["arrangement_end_date"].notna()].reset_index(drop=True)
    return _pf_flow(ctx, ind, df, df["arrangement_end_date"], num=1.0)


def _m_pf_open(ctx: _Context, ind: Indicator) -> Events:
    df = _pf_arrangements(ctx)
    rows, months = ctx.expand(df["arrangement_start_date"], df["arrangement_end_date"])
    frame = pd.DataFrame({"month": months, "num": 1.0})
    sub = df.iloc[rows].reset_index(drop=True)
    ctx.child_breakdowns(frame, sub["child_id"], pd.Series(month_end(months)), ind.breakdowns)
    return ctx.events("stock", frame, "private_fostering")


def _m_pf_visit_7wd(ctx: _Context, ind: Indicator) -> Events:
    df = _pf_arrangements(ctx)
    wd = working_days_between(df["notification_date"], df["initial_visit_date"])
    on_time = np.nan_to_num(wd, nan=np.inf) <= 7
    ev = _pf_flow(ctx, ind, df, df["arrangement_start_date"], num=on_time, den=1.0,
                  novisit=df["initial_visit_date"].isna().to_numpy())
    ev.notes["novisit"] = "new arrangements have no initial visit recorded (counted as not on time)"
    return ev


def _match(series: pd.Series, value: Any) -> np.ndarray:
    """Rows of ``series`` equal to ``value`` (a list means any of; null means missing)."""
    if value is None:
        return series.isna().to_numpy()
    if isinstance(value, list | tuple | set):
        out = np.zeros(len(series), dtype=bool)
        for v in value:
            out |= _match(series, v)
        return out
    if isinstance(value, bool) or str(series.dtype) == "boolean":
        truth = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
        v = value if isinstance(value, bool) else truth.get(str(value).strip().lower())
        return (series.astype("boolean") == v).fillna(False).to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(series):
        return (pd.to_numeric(series, errors="coerce") == float(value)).fillna(False).to_numpy(dtype=bool)
    return (series.astype("string") == str(value)).fillna(False).to_numpy(dtype=bool)


def _filter(df: pd.DataFrame, flt: dict[str, Any]) -> np.ndarray:
    keep = np.ones(len(df), dtype=bool)
    for col, value in flt.items():
        keep &= _match(df[col], value)
    return keep


def _m_local(ctx: _Context, ind: Indicator) -> Events:
    table = str(ind.table)
    full = ctx.tables[table]
    keep = _filter(full, ind.filter) & full[str(ind.date)].notna().to_numpy()
    df = full[keep].reset_index(drop=True)
    date = df[str(ind.date)]
    if ind.method == "ratio":
        den = _filter(df, ind.denominator_filter)
        num = den & _filter(df, ind.numerator_filter)
        frame = ctx.flow(date, num=num, den=den)
    else:
        frame = ctx.flow(date, num=1.0)
    if table == "referrals":
        _referral_breakdowns(ctx, ind, df, frame)
        if "referrals_in_12m" in ind.breakdowns:
            frame["referrals_in_12m"] = _band(_referrals_in_12m(full)[keep], [2, 3], REFERRALS_IN_12M)
    elif table == "cp_plans":
        _plan_breakdowns(ctx, ind, df, frame, date)
    elif table == "allegations":
        _lado_breakdowns(ind, df, frame)
    else:
        if "child_id" in df.columns:
            ctx.child_breakdowns(frame, df["child_id"], date, ind.breakdowns)
        if "team" in ind.breakdowns and "team" in df.columns:
            frame["team"] = _text(df["team"])
    return ctx.events("flow", frame, table)


METHODS: dict[str, Callable[[_Context, Indicator], Events]] = {
    "referrals": _m_referrals, "referral_rate": _m_referrals, "rereferrals": _m_rereferrals,
    "s47_started": _m_s47_started, "icpc_held": _m_icpc_held, "icpc_15wd": _m_icpc_15wd,
    "cpp_started": _m_cpp_started, "cpp_subsequent": _m_cpp_subsequent, "cpp_ended": _m_cpp_ended,
    "cpp_ended_2yrs": _m_cpp_ended_2yrs, "cpp_open": _m_cpp_open, "cpp_open_band": _m_cpp_open_band,
    "cpp_rate": _m_cpp_open, "cpp_reviews_on_time": _m_cpp_reviews_on_time,
    "lado_referrals": _m_lado_referrals, "lado_concluded": _m_lado_concluded,
    "lado_concluded_within": _m_lado_concluded_within, "lado_open": _m_lado_open,
    "lado_actions": _m_lado_actions, "referral_children": _m_referral_children,
    "pf_notifications": _m_pf_notifications, "pf_new": _m_pf_new, "pf_ended": _m_pf_ended,
    "pf_open": _m_pf_open, "pf_visit_7wd": _m_pf_visit_7wd, "count": _m_local, "ratio": _m_local,
}


# --------------------------------------------------------------------------- aggregation


def _periods_for(ind: Indicator, periods: pd.DataFrame) -> pd.DataFrame:
    return periods[periods["period_type"].isin(ind.frequencies)].reset_index(drop=True)


def _summarise(ctx: _Context, ind: Indicator, ev: Events, periods: pd.DataFrame, breakdowns: bool) -> pd.DataFrame:
    """Turn events into indicator rows for every period and breakdown value.

    The headline sums ``ev.headline`` where the method gives one (a breakdown whose values overlap),
    otherwise the same events as the breakdowns.
    """
    def in_window(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        inside = (frame["month"] >= ctx.window.first) & (frame["month"] <= ctx.window.last)
        frame = frame[inside.to_numpy()]
        return frame, (frame["month"].to_numpy() - ctx.window.first).astype(np.int64)

    frame, m = in_window(ev.frame)
    head_frame, head_m = in_window(ev.headline) if ev.headline is not None else (frame, m)
    ratio = ind.unit == "percent"
    measures = ["num", *(["den"] if ratio else []), *(["unknown"] if "unknown" in frame else []),
                *[k for k in ev.notes if k in frame]]
    first = periods["first_month"].to_numpy() - ctx.window.first
    last = periods["last_month"].to_numpy() - ctx.window.first
    ncov = np.concatenate([[0], np.cumsum(ev.coverage)])
    covered_months = ncov[last + 1] - ncov[first]
    if ev.kind == "flow":
        covered = covered_months > 0
        period_months = (periods["end_month"] - periods["period_start"].pipe(month_index)).to_numpy() + 1
        partial = covered & (covered_months < period_months)
        truncated = np.zeros(len(periods), dtype=bool)
        if ev.partly is not None:
            npart = np.concatenate([[0], np.cumsum(ev.partly)])
            truncated = covered & (npart[last + 1] - npart[first] > 0)
    else:
        # a stock is taken at the last month end with data inside the period
        lc = np.where(ev.coverage, np.arange(ctx.W), -1)
        lc = np.maximum.accumulate(lc)[last]
        covered = lc >= first
        partial = covered & ((lc + ctx.window.first) < periods["end_month"].to_numpy())
        truncated = (covered & ev.partly[np.maximum(lc, 0)]) if ev.partly is not None else np.zeros(len(periods), bool)
        last = np.where(covered, lc, last)
    wanted = ["all", *([b for b in ind.breakdowns if b in frame.columns] if breakdowns else [])]
    parts = []
    for bd in wanted:
        src, months = (head_frame, head_m) if bd == "all" else (frame, m)
        if bd == "all":
            values = ["all"]
            codes = np.zeros(len(src), dtype=np.int64)
        else:
            fcodes, uniq = pd.factorize(frame[bd].to_numpy(dtype=object), use_na_sentinel=True)
            uniq_s = [NOT_RECORDED if (u is None or u is pd.NA or u != u) else str(u) for u in uniq]
            values = ctx.band_values(bd, [*uniq_s, *([NOT_RECORDED] if (fcodes < 0).any() else [])])
            where = {v: i for i, v in enumerate(values)}
            lut = np.array([where[u] for u in uniq_s] + [where.get(NOT_RECORDED, 0)], dtype=np.int64)
            codes = lut[np.where(fcodes < 0, len(uniq_s), fcodes)]
        nv = len(values)
        idx = codes * ctx.W + months
        res = {}
        for meas in measures:
            grid = np.bincount(idx, weights=src[meas].to_numpy(dtype=float), minlength=nv * ctx.W)
            grid = grid.reshape(nv, ctx.W)
            if ev.kind == "flow":
                cs = np.concatenate([np.zeros((nv, 1)), np.cumsum(grid, axis=1)], axis=1)
                res[meas] = cs[:, last + 1] - cs[:, first]
            else:
                res[meas] = grid[:, last]
        npd = len(periods)
        part = pd.DataFrame({
            "indicator_id": ind.code,
            "period_type": np.tile(periods["period_type"].to_numpy(), nv),
            "period_start": np.tile(periods["period_start"].to_numpy(), nv),
            "period_end": np.tile(periods["period_end"].to_numpy(), nv),
            "breakdown": bd,
            "breakdown_value": np.repeat(np.asarray(values, dtype=object), npd),
        })
        for meas in measures:
            part[meas] = res[meas].reshape(-1)
        part["_covered"] = np.tile(covered, nv)
        part["_partial"] = np.tile(partial, nv)
        part["_truncated"] = np.tile(truncated, nv)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    return _finish(ctx, ind, ev, out)


def _finish(ctx: _Context, ind: Indicator, ev: Events, out: pd.DataFrame) -> pd.DataFrame:
    """Value, status and note columns from summed measures."""
    covered = out.pop("_covered").to_numpy(dtype=bool)
    partial = out.pop("_partial").to_numpy(dtype=bool)
    truncated = out.pop("_truncated").to_numpy(dtype=bool) if "_truncated" in out else np.zeros(len(out), bool)
    num = out.pop("num").to_numpy(dtype=float)
    status = np.where(covered, "ok", "no data").astype(object)
    note = pd.Series(np.where(covered, "", "no source data for this period"), dtype="object")
    if ind.unit == "percent":
        den = out.pop("den").to_numpy(dtype=float)
        value = np.asarray(percentage(num, den), dtype=float)
        zero = covered & (den == 0)
        status[zero] = "no data"
        note[zero] = "no cases in the denominator"
    elif ind.unit == "rate_per_10k":
        fy = financial_year(out["period_end"])
        pop = np.array([ctx.population.get(int(y), np.nan) for y in fy], dtype=float)
        den = pop
        value = np.asarray(rate_per_10k(num, pop), dtype=float)
        nopop = covered & ~np.isfinite(pop)
        status[nopop] = "not available"
        missing_years = pd.Series(fy[nopop]).astype(int)
        note[nopop] = ("no population figure for " + pd.Series(financial_year_labels(missing_years))
                       + " (add population: {" + missing_years.astype(str)
                       + ": N} to report.yml, or benchmarks.ons_file)").to_numpy()
    else:
        den = np.full(len(num), np.nan)
        value = num.copy()
    nodata = ~covered
    num = np.where(nodata, np.nan, num)
    den = np.where(nodata, np.nan, den)
    value = np.where(status == "ok", value, np.nan)
    out["numerator"] = num
    out["denominator"] = den
    out["value"] = value
    # a figure the data cover only in part is never 'ok' without a note: its status says so
    status[(status == "ok") & (partial | truncated)] = PARTIAL
    out["status"] = status
    extra = []
    if "unknown" in out:
        unk = out.pop("unknown").to_numpy(dtype=float)
        out["unknown"] = np.where(nodata, np.nan, unk)
        if ev.unknown_note:
            extra.append((unk, ev.unknown_note))
    else:
        out["unknown"] = np.nan
    for meas, text in ev.notes.items():
        if meas in out:
            extra.append((out.pop(meas).to_numpy(dtype=float), text))
    ok = covered
    text = ("partial period: the data cover only part of it" if ev.kind == "flow"
            else "partial period: value at the last month end with data")
    part_note = pd.Series(np.where(ok & partial & ~truncated, text, ""))
    if ev.extract_start is not None:
        # an ISO date, so that the public note keeps it (safeguarding.published_data.safe_note)
        part_note[ok & truncated] = (f"the extract starts on {ev.extract_start:%Y-%m-%d} (earlier records are only "
                                     f"those still open then); this period is only partly covered")
    pieces = [note, part_note]
    for counts, text in extra:
        show = ok & (counts > 0)
        s = pd.Series("", index=out.index, dtype="object")
        if show.any():
            s[show] = pd.Series(counts[show]).astype(int).astype(str).to_numpy() + " " + text
        pieces.append(s)
    joined = pieces[0].astype(str)
    for p in pieces[1:]:
        p = p.astype(str)
        joined = np.where((joined != "") & (p != ""), joined + "; " + p, joined + p)
    out["note"] = pd.Series(joined, index=out.index).astype(str)
    return out


def _not_available(ind: Indicator, periods: pd.DataFrame, reason: str) -> pd.DataFrame:
    p = periods
    return pd.DataFrame({
        "indicator_id": ind.code, "period_type": p["period_type"].to_numpy(),
        "period_start": p["period_start"].to_numpy(), "period_end": p["period_end"].to_numpy(),
        "breakdown": "all", "breakdown_value": "all", "numerator": np.nan, "denominator": np.nan,
        "value": np.nan, "status": "not available", "note": reason, "unknown": np.nan,
    })


def _aggregate_rows(ctx: _Context, ind: Indicator, agg: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    """Rows for an indicator supplied by partners' aggregate returns."""
    months = agg[agg["period_type"].astype(str) == "month"]
    other = agg[agg["period_type"].astype(str) != "month"]
    parts = []
    if len(months):
        mi = month_index(pd.to_datetime(months["period_start"]))
        cov = np.zeros(ctx.W, dtype=bool)
        inside = (mi >= ctx.window.first) & (mi <= ctx.window.last)
        cov[np.unique(mi[inside]) - ctx.window.first] = True
        for (bd,), grp in months.groupby(["breakdown"], sort=False):
            frame = pd.DataFrame({"month": month_index(pd.to_datetime(grp["period_start"])),
                                  "num": pd.to_numeric(grp["numerator"], errors="coerce").fillna(0).to_numpy()})
            if ind.unit == "percent":
                frame["den"] = pd.to_numeric(grp["denominator"], errors="coerce").fillna(0).to_numpy()
            local = Indicator(**{**ind.__dict__, "breakdowns": () if bd == "all" else (str(bd),)})
            if bd != "all":
                frame[str(bd)] = grp["breakdown_value"].astype(str).to_numpy()
            ev = Events("flow", frame, cov)
            rows = _summarise(ctx, local, ev, periods, breakdowns=True)
            if bd != "all":
                rows = rows[rows["breakdown"] != "all"]
            parts.append(rows)
    if len(other):
        o = other.copy()
        start = pd.to_datetime(o["period_start"])
        length = o["period_type"].map({"quarter": 3, "year": 12, "rolling12": 12}).fillna(1).astype(int)
        end = pd.Series(add_months(start, length), index=o.index) - pd.Timedelta(days=1)
        num = pd.to_numeric(o["numerator"], errors="coerce").to_numpy(dtype=float)
        den = pd.to_numeric(o["denominator"], errors="coerce").to_numpy(dtype=float)
        value = np.asarray(percentage(num, den), dtype=float) if ind.unit == "percent" else num
        parts.append(pd.DataFrame({
            "indicator_id": ind.code, "period_type": o["period_type"].astype(str).to_numpy(),
            "period_start": start.to_numpy(), "period_end": end.to_numpy(),
            "breakdown": o["breakdown"].astype(str).to_numpy(),
            "breakdown_value": o["breakdown_value"].astype(str).to_numpy(),
            "numerator": num, "denominator": den if ind.unit == "percent" else np.nan, "value": value,
            "status": np.where(np.isnan(value), "no data", "ok"), "note": "as returned by the partner",
            "unknown": np.nan,
        }))
    out = pd.concat(parts, ignore_index=True) if parts else _not_available(ind, periods, "no rows in the return")
    if len(months) and len(other):
        # a period returned directly replaces the one summed from months
        key = ["period_type", "period_start", "breakdown", "breakdown_value"]
        out = out.drop_duplicates(key, keep="last")
    return out


# --------------------------------------------------------------------------- public API


def _window(tables: dict[str, pd.DataFrame], aggregates: pd.DataFrame | None, start: Any, end: Any,
            data_end: Any) -> tuple[Window | None, pd.Timestamp | None]:
    """The months to report and the data end (latest date anywhere in the data, unless given)."""
    firsts, lasts = [], []
    for name, df in tables.items():
        if name not in PRIMARY_DATE or df is None or not len(df):
            continue
        firsts.append(df[PRIMARY_DATE[name]].min())
        for c in schema.ENTITIES[name].columns:
            if c.kind == "date" and df[c.name].notna().any():
                lasts.append(df[c.name].max())
    if aggregates is not None and len(aggregates):
        ps = pd.to_datetime(aggregates["period_start"])
        firsts.append(ps.min())
        lasts.append(ps.max())
    dend = pd.Timestamp(data_end) if data_end is not None else (max(lasts) if lasts else None)
    a = pd.Timestamp(start) if start is not None else (min(firsts) if firsts else None)
    b = pd.Timestamp(end) if end is not None else dend
    if a is None or b is None:
        return None, dend
    return Window.from_dates(a, b), dend


def compute_indicators(tables: dict[str, pd.DataFrame], catalogue: Catalogue | None = None, *,
                       population: dict[int, float] | None = None, aggregates: pd.DataFrame | None = None,
                       start: Any = None, end: Any = None, breakdowns: bool = True,
                       age_bands: tuple[tuple[int, str], ...] | None = None,
                       history_start: Any = None, data_end: Any = None) -> pd.DataFrame:
    """Compute every catalogue indicator for every period and breakdown.

    ``tables`` maps entity names (``referrals``, ``cp_plans``, ...) to processed
    frames in the canonical schema; a missing table makes its indicators
    ``not available``. ``population`` maps financial year (ending 31 March) to
    children aged 0-17. ``aggregates`` holds partners' returns
    (:data:`schema.AGGREGATE_COLUMNS`). ``start``/``end`` fix the window (by
    default the months the data cover). ``data_end`` is the date the data are
    complete to (default: the latest date in any table); months after it are
    ``no data``. ``history_start`` overrides the date from which plan history is
    complete (default: the first plan start).

    Returns :data:`schema.INDICATOR_COLUMNS` then ``status``, ``note``,
    ``unknown``, ``target`` and ``rag``. ``frame.attrs["warnings"]`` lists
    anything the run could not do (e.g. breakdowns without a children table).
    """
    catalogue = catalogue if catalogue is not None else load_catalogue()
    prepared = _prepare({k: v for k, v in tables.items() if v is not None})
    agg = aggregates if aggregates is not None and len(aggregates) else None
    window, dend = _window(prepared, agg, start, end, data_end)
    if window is None:
        raise IndicatorInputError("no data: none of the processed tables has any rows and no start/end was given")
    ctx = _Context(prepared, window, population, agg, age_bands or DEFAULT_AGE_BANDS,
                   pd.Timestamp(history_start) if history_start is not None else None, dend)
    periods_all = period_table(window)
    agg_ids = set(agg["indicator_id"].astype(str)) if agg is not None else set()
    results = []
    for ind in catalogue.values():
        periods = _periods_for(ind, periods_all)
        tables_needed = [t for t in ind.source if t != "aggregates"]
        missing = [t for t in tables_needed if t not in prepared]
        if ind.method == "aggregate" or (missing and ind.code in agg_ids):
            if ind.code in agg_ids:
                sel = agg[agg["indicator_id"].astype(str) == ind.code]
                results.append(_aggregate_rows(ctx, ind, sel, periods))
            else:
                results.append(_not_available(ind, periods, "not supplied: no aggregate return holds this measure"))
            continue
        if ind.code in agg_ids:
            ctx.warnings.append(f"{ind.code}: computed from child-level data; the aggregate return's rows are not used")
        if missing:
            reason = (f"not available: the {' and '.join(missing)} table{'s were' if len(missing) > 1 else ' was'} "
                      f"not supplied (add it under inputs: in report.yml and run ingest)")
            if ind.unit == "rate_per_10k" and not ctx.population:
                reason += "; no population figure either"
            results.append(_not_available(ind, periods, reason))
            continue
        if ind.unit == "rate_per_10k" and not ctx.population:
            results.append(_not_available(
                ind, periods, "not available: no population figure (add population: {YEAR: N} to report.yml "
                              "or set benchmarks.ons_file and area.la_code)"))
            continue
        ev = METHODS[ind.method](ctx, ind)
        results.append(_summarise(ctx, ind, ev, periods, breakdowns))
    unknown_ids = sorted(agg_ids - set(catalogue))
    if unknown_ids:
        ctx.warnings.append(f"aggregate return measure(s) not in the catalogue, ignored: {', '.join(unknown_ids)}; "
                            f"valid: {', '.join(catalogue)}")
    out = pd.concat(results, ignore_index=True)
    out = _add_targets(out, catalogue)
    out = add_intervals(out, catalogue)
    cols = [*schema.INDICATOR_COLUMNS, *EXTRA_COLUMNS]
    out = out[cols]
    for c in ("period_start", "period_end"):
        out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
    for c in ("numerator", "denominator", "value", "unknown", "target"):
        out[c] = out[c].astype(float)
    for c in ("indicator_id", "period_type", "breakdown", "breakdown_value", "status", "note", "rag"):
        out[c] = out[c].astype(str)
    for w in ctx.warnings:
        log.warning(w)
    out.attrs["warnings"] = list(ctx.warnings)
    out.attrs["window"] = (str(window.start.date()), str(window.end.date()))
    return out


def rag_column(value: np.ndarray, target: np.ndarray, polarity: np.ndarray) -> np.ndarray:
    """Vectorised :func:`safeguarding.indicators.catalogue.rag_status`."""
    v = np.asarray(value, dtype=float)
    t = np.asarray(target, dtype=float)
    pol = np.asarray(polarity, dtype=object)
    higher = pol == "higher_is_better"
    lower = pol == "lower_is_better"
    num = np.where(higher, v, t)
    den = np.where(higher, t, v)
    with np.errstate(divide="ignore", invalid="ignore"):
        ach = np.where(den == 0, np.where(num >= 0, np.inf, np.nan), num / den)
    ach = np.where((higher | lower) & np.isfinite(v) & np.isfinite(t), ach, np.nan)
    return np.select([ach >= 0.95 - 1e-12, ach >= 0.90 - 1e-12, np.isfinite(ach) | np.isinf(ach)],
                     ["Green", "Amber", "Red"], "N/A").astype(object)


def add_intervals(out: pd.DataFrame, catalogue: Catalogue, confidence: float = 0.95) -> pd.DataFrame:
    """Add ``ci_lower`` and ``ci_upper`` (95%) in the unit of ``value``.

    Percentages: Wilson score interval of numerator / denominator, x 100.
    Rates per 10,000: exact Poisson below 10 events and Byar's method from 10
    on the count, divided by the population. Counts: the same Poisson
    interval on the count itself (how much the number could vary by chance).
    Rows without a value get NaN.
    """
    from safeguarding.stats import poisson_interval, wilson_interval

    units = out["indicator_id"].astype(str).map({c: i.unit for c, i in catalogue.items()}).fillna("count")
    num = out["numerator"].to_numpy(dtype=float)
    den = out["denominator"].to_numpy(dtype=float)
    val = out["value"].to_numpy(dtype=float)
    lo = np.full(len(out), np.nan)
    hi = np.full(len(out), np.nan)
    ok = np.isfinite(val) & np.isfinite(num)
    pct = ok & (units.to_numpy() == "percent") & np.isfinite(den) & (den > 0)
    if pct.any():
        lo_p, hi_p = wilson_interval(num[pct], den[pct], confidence)
        lo[pct], hi[pct] = 100 * np.asarray(lo_p), 100 * np.asarray(hi_p)
    rate = ok & (units.to_numpy() == "rate_per_10k") & np.isfinite(den) & (den > 0)
    count = ok & (units.to_numpy() == "count") & (num >= 0)
    for mask, scale in ((rate, 10_000 / np.where(rate, den, 1.0)), (count, np.ones(len(out)))):
        if mask.any():
            lo_c, hi_c = poisson_interval(num[mask], confidence)
            lo[mask], hi[mask] = np.asarray(lo_c) * scale[mask], np.asarray(hi_c) * scale[mask]
    out["ci_lower"] = lo
    out["ci_upper"] = hi
    return out


def _add_targets(out: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    ids = out["indicator_id"].astype(str)
    targets = {c: (np.nan if i.target is None else i.target) for c, i in catalogue.items()}
    pol = {c: i.polarity for c, i in catalogue.items()}
    out["target"] = ids.map(targets).astype(float)
    polarity = ids.map(pol).fillna("neither")
    rag = rag_column(out["value"].to_numpy(dtype=float), out["target"].to_numpy(), polarity.to_numpy())
    out["rag"] = np.where(np.isin(out["status"].to_numpy(), ["ok", PARTIAL]), rag, "N/A")
    return out


def read_processed(processed_dir: Path) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None]:
    """Read ``<processed_dir>/<entity>.parquet`` for each entity present, and ``aggregates.parquet``."""
    tables = {}
    for name in schema.ENTITIES:
        p = processed_dir / f"{name}.parquet"
        if p.exists():
            tables[name] = pd.read_parquet(p)
    agg_path = processed_dir / "aggregates.parquet"
    aggregates = pd.read_parquet(agg_path) if agg_path.exists() else None
    return tables, aggregates


def population_from_config(config: Any) -> dict[int, float]:
    """Population 0-17 by financial year: ``population:`` in report.yml, else the ONS file.

    The ONS file (``benchmarks.ons_file``, or the ``ons_mid-year_population_estimates``
    CSV in ``benchmarks.folder``) is looked up by ``area.la_code`` (old or new
    code); year Y (Y-1 to Y) uses the mid-(Y-1) estimate, as DfE does.
    """
    if config.population:
        return dict(config.population)
    bench = config.section("benchmarks")
    la = str((config.raw.get("area") or {}).get("la_code") or "").strip()
    path = bench.get("ons_file")
    if path is None and bench.get("folder"):
        folder = config.resolve(bench["folder"])
        found = sorted(folder.glob("ons_mid-year_population_estimates*.csv")) if folder.exists() else []
        path = found[0] if found else None
    if not la or path is None or not config.resolve(path).exists():
        return {}
    ons = pd.read_csv(config.resolve(path), dtype=str)
    sel = ons[(ons.get("old_la_code") == la) | (ons.get("new_la_code") == la)]
    if "age_group" in sel:
        sel = sel[sel["age_group"].str.contains("0 to 17", na=False)]
    pop = pd.to_numeric(sel["population_estimate"], errors="coerce")
    return {int(y) + 1: float(v) for y, v in zip(sel["time_period"], pop, strict=True) if pd.notna(v)}


def _config_options(config: Any) -> dict[str, Any]:
    ind = config.raw.get("indicators")
    opts: dict[str, Any] = {}
    if isinstance(ind, dict):
        unknown = set(ind) - {"local", "start", "end", "history_start", "data_end"}
        if unknown:
            from safeguarding.indicators.catalogue import CatalogueError

            raise CatalogueError(f"report.yml indicators: unknown key(s) {', '.join(sorted(unknown))}; "
                                 f"valid: local, start, end, history_start, data_end")
        opts = {k: ind[k] for k in ("start", "end", "history_start", "data_end") if ind.get(k) is not None}
    bands = config.raw.get("age_bands")
    if bands:
        if not isinstance(bands, list) or not all(isinstance(b, int) for b in bands) or bands != sorted(bands):
            raise ValueError("report.yml age_bands: give the lower bounds in years, e.g. [0, 1, 5, 10, 16]")
        labels = []
        for i, lo in enumerate(bands):
            hi = bands[i + 1] - 1 if i + 1 < len(bands) else None
            labels.append((lo, "Under 1" if (lo, hi) == (0, 0) else f"{lo}-{hi}" if hi is not None else f"{lo}+"))
        opts["age_bands"] = tuple(labels)
    return opts


def run_indicators(config: Any) -> pd.DataFrame:
    """Read the processed tables named by ``config``, compute every indicator, and write
    ``indicators.parquet`` and ``indicators.csv`` to the processed folder. Returns the table."""
    catalogue = load_catalogue(config)
    tables, aggregates = read_processed(config.processed_dir)
    opts = _config_options(config)
    end = opts.pop("end", None)
    if end is None and (tables or aggregates is not None):
        end = config.year_end
    table = compute_indicators(tables, catalogue, population=population_from_config(config),
                               aggregates=aggregates, end=end, **opts)
    out = Path(config.processed_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "indicators.parquet", lambda tmp: table.to_parquet(tmp, index=False))
    csv = table.copy()
    for c in ("period_start", "period_end"):
        csv[c] = csv[c].dt.strftime("%Y-%m-%d")
    write_atomic(out / "indicators.csv", lambda tmp: csv.to_csv(tmp, index=False))
    return table
