"""What an indicator method works with: the prepared tables, the month window, and the events it returns.

A method (``safeguarding/indicators/methods/``) takes a :class:`Context` and a catalogue entry and returns
:class:`Events`; the engine (``engine.py``) sums the events into periods and breakdowns.

* a **flow** indicator (referrals received, plans started, ICPCs on time) has
  one event per record, dated by the record's date, carrying a numerator (1 for
  a count; 0/1 for a percentage) and a denominator (1 for a percentage);
* a **stock** indicator (plans open at the end of the period) has one event per
  record per month end at which it is open, so that the characteristics that
  depend on the date (age, plan length so far, reviews overdue) are taken at
  that month end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from safeguarding import schema
from safeguarding.indicators.bands import NOT_RECORDED, UNBORN, labels
from safeguarding.indicators.notes import CountNote
from safeguarding.indicators.periods import Window, age_in_years, month_index

#: primary date of each table (decides where its data starts)
PRIMARY_DATE = {
    "referrals": "referral_date", "s47": "s47_start_date", "icpc": "icpc_date",
    "cp_plans": "plan_start_date", "cp_reviews": "review_date", "allegations": "referral_date",
    "private_fostering": "notification_date",
}

#: the date on which an episode of each table ends (an extract of episodes holds those open at any time from its
#: start, so records dated earlier are only those still open then: see ``Context.extract_start``)
END_DATE = {"cp_plans": "plan_end_date", "allegations": "concluded_date",
            "private_fostering": "arrangement_end_date"}

#: the status of a figure the source covers only in part (the period starts before the extract's start or
#: before the data start, or ends after the data end); its value is what the data hold, and its note says why
PARTIAL = "partial"


@dataclass
class Events:
    """Records prepared for aggregation (see the module docstring)."""

    kind: str  # "flow" or "stock"
    frame: pd.DataFrame  # column "month" plus measures and breakdown columns
    coverage: np.ndarray  # bool per window month: the source holds data for it
    #: bool per window month: the source holds only part of it (before the extract's start: see
    #: ``Context.extract_start``); None when every covered month is complete
    partly: np.ndarray | None = None
    extract_start: pd.Timestamp | None = None
    #: measure -> the words after its count in a figure's note (:mod:`safeguarding.indicators.notes`)
    notes: dict[str, str | CountNote] = field(default_factory=dict)
    unknown_note: str | CountNote = ""
    #: the headline's events, when a breakdown's values overlap (``Indicator.overlapping``): ``frame`` then
    #: has one row per record and value, and the headline counts each record once from this frame instead
    headline: pd.DataFrame | None = None


class Context:
    """Prepared tables, window, child characteristics and shared settings."""

    def __init__(self, tables: dict[str, pd.DataFrame], window: Window, population: dict[int, float] | None,
                 aggregates: pd.DataFrame | None, age_bands: tuple[tuple[int, str], ...],
                 history_start: pd.Timestamp | None, data_end: pd.Timestamp | None) -> None:
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
            self._gender_arr = np.append(labels(ch["sex"], schema.SEX), NOT_RECORDED).astype(object)
            self._ethnic_arr = np.append(labels(ch["ethnicity"], schema.ETHNIC_GROUP), NOT_RECORDED).astype(object)
        else:
            self.dob = None
        self._cov: dict[str, np.ndarray] = {}
        #: results shared by several methods in one run (e.g. the plans open at each month end)
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
        if ("extract_start", table) in self.cache:
            return self.cache[("extract_start", table)]
        self.cache[("extract_start", table)] = start = self._extract_start(table)
        return start

    def _extract_start(self, table: str) -> pd.Timestamp | None:
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
        key = ("partly", table, kind)
        if key not in self.cache:
            start = self.extract_start(table)
            cov = self.coverage(table)
            if start is None:
                self.cache[key] = np.zeros(self.W, dtype=bool)
            else:
                first_complete = start if kind == "flow" else start - pd.Timedelta(days=1)
                months = np.arange(self.W) + self.window.first
                self.cache[key] = cov & (months < int(month_index(pd.DatetimeIndex([first_complete]))[0]))
        return self.cache[key].copy()

    def events(self, kind: str, frame: pd.DataFrame, table: str, *, notes: dict[str, str | CountNote] | None = None,
               unknown_note: str | CountNote = "", headline: pd.DataFrame | None = None) -> Events:
        """:class:`Events` of ``table``, with its coverage and the months its extract covers only partly
        (``notes``, ``unknown_note`` and ``headline`` as :class:`Events` has them)."""
        return Events(kind, frame, self.coverage(table), partly=self.partly(table, kind),
                      extract_start=self.extract_start(table), notes={} if notes is None else notes,
                      unknown_note=unknown_note, headline=headline)

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
        names = np.array([b[1] for b in self.age_bands], dtype=object)
        pos = np.searchsorted(lowers, np.nan_to_num(age, nan=-1), side="right") - 1
        out = names[np.clip(pos, 0, len(names) - 1)]
        out = np.where(pd.DatetimeIndex(ref) < pd.DatetimeIndex(dob), UNBORN, out)
        return np.where(np.isnan(age), NOT_RECORDED, out)

    # ---------------------------------------------------------------- frames
    def flow(self, dates: pd.Series, **measures: npt.ArrayLike) -> pd.DataFrame:
        """A flow frame: the month of each date plus measure columns."""
        frame = pd.DataFrame({"month": month_index(dates)})
        for k, v in measures.items():
            frame[k] = np.asarray(v, dtype=float) if not np.isscalar(v) else float(v)  # type: ignore[arg-type]
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
