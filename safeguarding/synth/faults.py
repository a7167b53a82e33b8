"""Source-shaped tables and the faults injected into them for testing the ingest.

A :class:`SourceTable` holds one file's rows as the generator knows them
(dates as day numbers, everything else as values) plus the faults to apply on
rendering: values overridden (a bad date, a blank identifier, an unknown code),
dates moved (an end before its start, a conference before its enquiry) and rows
written twice. Every fault is recorded with its file, 1-based row number in the
file (the spreadsheet row: the header is ``header_row``), column and the value
written, so an ingest test can assert that exactly these rows are rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypedDict

import numpy as np
import pandas as pd

#: Missing date (day number) sentinel.
NA_DAY = np.int64(-(2**62))

#: Fault kinds that make a row invalid (ingest must reject exactly these rows).
ROW_FAULT_KINDS = (
    "bad_date", "blank_identifier", "unknown_code", "end_before_start",
    "icpc_before_s47", "duplicate_row",
)

#: What each fault kind means, copied into ground_truth.json.
FAULT_DEFINITIONS = {
    "bad_date": "an impossible or unparseable value in the row's required date column "
                "(e.g. 31/02/2024, 'unknown', 'TBC')",
    "blank_identifier": "a required identifier (record or child id) left blank",
    "unknown_code": "a value in a required code column that is neither a built-in alias nor mapped in "
                    "report.yml codes",
    "end_before_start": "an end date (plan end, allegation concluded, initial visit, arrangement end) "
                        "earlier than its start date in the same row",
    "icpc_before_s47": "an ICPC dated before the start of the section 47 enquiry it links to (the linked "
                       "enquiry row is itself clean)",
    "duplicate_row": "a row written twice in a row; the FIRST copy is valid, the SECOND copy (the row "
                     "recorded here) is the fault",
    "extra_column": "file level, not a row fault: a column the configuration does not map; rows are not "
                    "rejected for it",
    "ytd_mismatch": "aggregate return: the year-to-date cell of one measure differs from the sum of its months",
}


_TABLE_START = -25567  # 1900-01-01 as a day number
_TABLE_END = 47482  # 2099-12-31


@lru_cache(maxsize=4)
def _date_table(style: str) -> np.ndarray:
    """Every date 1900-2099 formatted once (computed on first use)."""
    fmt = {"uk": "%d/%m/%Y", "iso": "%Y-%m-%d"}[style]
    rng = pd.date_range("1900-01-01", "2099-12-31", freq="D")
    return np.asarray(rng.strftime(fmt), dtype=object)


def format_days(days: np.ndarray, style: str) -> np.ndarray:
    """Format day numbers (days since 1970-01-01) as strings; missing -> ''.

    ``style`` is ``uk`` (dd/mm/yyyy) or ``iso`` (yyyy-mm-dd). Uses a lookup
    table, so a million dates cost milliseconds.
    """
    days = np.asarray(days, dtype=np.int64)
    out = np.full(days.shape, "", dtype=object)
    ok = days != NA_DAY
    if not ok.any():
        return out
    if days[ok].min() < _TABLE_START or days[ok].max() > _TABLE_END:
        raise ValueError("synthetic dates must lie between 1900 and 2099")
    out[ok] = _date_table(style)[days[ok] - _TABLE_START]
    return out


class ExcelDate(int):
    """An Excel date serial number (days since 1899-12-30), written with a date format."""

    __slots__ = ()


def days_to_excel(days: np.ndarray) -> np.ndarray:
    """Day numbers -> :class:`ExcelDate` serials (None where missing), for Excel cells."""
    days = np.asarray(days, dtype=np.int64)
    out = np.full(days.shape, None, dtype=object)
    ok = np.flatnonzero(days != NA_DAY)
    out[ok] = [ExcelDate(d) for d in (days[ok] + 25569).tolist()]
    return out


class Fault(TypedDict, total=False):
    """One injected fault as the ground truth records it: the keys depend on the file and the kind.

    ``_index`` (the row before duplicates are written) is replaced by ``row`` and
    ``data_row`` when the file is written (:meth:`SourceTable.finalise_faults`).
    """

    file: str
    kind: str
    _index: int
    #: the column the fault is in (None: a whole row, a duplicate)
    column: str | None
    start_column: str
    data_row: int
    row: int
    value: str
    #: a CIN census fault: the census entity, line and element written
    entity: str
    line: int
    element: str
    written_for: str
    copy_of_row: int
    collateral: str
    #: a partner's return: the measure and the true sum of its months
    label: str
    sum_of_months: int


@dataclass
class SourceTable:
    """One source file before rendering: headers, values, and the faults to apply."""

    file: str
    entity: str | None
    headers: list[str]
    data: dict[str, np.ndarray]
    date_columns: tuple[str, ...] = ()
    date_style: str = "uk"
    header_row: int = 1
    overrides: dict[str, dict[int, Any]] = field(default_factory=dict)
    duplicated: list[int] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        """Rows before duplicates are added."""
        return len(next(iter(self.data.values()))) if self.data else 0

    def order(self) -> np.ndarray:
        """Row order as written: each duplicated row is written again right after itself."""
        n = self.n_rows
        reps = np.ones(n, dtype=np.int64)
        if self.duplicated:
            reps[np.asarray(self.duplicated, dtype=np.int64)] += 1
        return np.repeat(np.arange(n), reps)

    def rendered_columns(self, excel: bool = False) -> dict[str, np.ndarray]:
        """Column values in written order: strings for CSV, Excel cell values for XLSX."""
        order = self.order()
        out: dict[str, np.ndarray] = {}
        for h in self.headers:
            values = self.data[h]
            if h in self.date_columns:
                col = days_to_excel(values) if excel else format_days(values, self.date_style)
            elif excel:
                col = np.array([None if (v is None or v == "") else v for v in values], dtype=object)
            else:
                col = np.asarray(values).astype(str).astype(object)
            for i, v in self.overrides.get(h, {}).items():
                col[i] = (None if excel and v == "" else v)
            out[h] = col[order]
        return out

    def finalise_faults(self) -> list[Fault]:
        """Give each recorded fault its 1-based row in the written file and the value written."""
        if not self.faults:
            return self.faults
        order = self.order()
        # position of the first copy of each original row in the written order
        first_pos = np.full(self.n_rows, -1, dtype=np.int64)
        pos = np.arange(len(order))
        first_pos[order[::-1]] = pos[::-1]
        cols = self.rendered_columns()
        for f in self.faults:
            p = int(first_pos[f["_index"]]) + (1 if f["kind"] == "duplicate_row" else 0)
            f["data_row"] = p + 1
            f["row"] = self.header_row + p + 1
            column = f.get("column")
            if column:
                f["value"] = str(cols[column][p])
            f.pop("_index", None)
        self.faults.sort(key=lambda f: (f["row"], f["kind"]))
        return self.faults


@dataclass(frozen=True)
class FaultSpec:
    """Which faults can be injected into a file, and where."""

    id_columns: tuple[str, ...]
    date_column: str
    bad_dates: tuple[str, ...] = ("31/02/2024", "unknown", "32/01/2023", "TBC", "30/02/2022", "00/00/0000")
    code_column: str | None = None
    unknown_codes: tuple[str, ...] = ()
    order_pairs: tuple[tuple[str, str], ...] = ()
    link_check: bool = False  # icpc_before_s47 applies

    def kinds(self) -> list[str]:
        """Row fault kinds applicable to the file."""
        k = ["bad_date", "blank_identifier", "duplicate_row"]
        if self.code_column:
            k.append("unknown_code")
        if self.order_pairs:
            k.append("end_before_start")
        if self.link_check:
            k.append("icpc_before_s47")
        return k


def inject_row_faults(table: SourceTable, spec: FaultSpec, rng: np.random.Generator, rate: float,
                      link_start: np.ndarray | None = None) -> None:
    """Inject row faults into ``table`` at ``rate`` (each row at most one fault); record them.

    The number of faulty rows is Binomial(rows, rate); their kinds are drawn
    uniformly from the kinds the file supports. ``link_start`` gives, for the
    ICPC file, the start day of each row's linked enquiry when that enquiry is
    in the S47 file and clean (``NA_DAY`` otherwise): only such rows can take an
    ``icpc_before_s47`` fault; ineligible draws fall back to ``bad_date``.
    """
    n = table.n_rows
    if rate <= 0 or n == 0:
        return
    k = int(rng.binomial(n, rate))
    if k == 0:
        return
    rows = np.sort(rng.choice(n, size=k, replace=False))
    kinds_avail = spec.kinds()
    kinds = rng.choice(np.array(kinds_avail, dtype=object), size=k)
    for row, kind in zip(rows.tolist(), kinds.tolist(), strict=True):
        record: Fault = {"file": table.file, "kind": kind, "_index": row}
        if kind == "end_before_start":
            pairs = [(s, e) for s, e in spec.order_pairs if table.data[s][row] != NA_DAY]
            if not pairs:
                kind = record["kind"] = "bad_date"
            else:
                s, e = pairs[int(rng.integers(len(pairs)))]
                table.data[e][row] = table.data[s][row] - int(rng.integers(1, 61))
                record["column"] = e
                record["start_column"] = s
        if kind == "icpc_before_s47":
            if link_start is None or link_start[row] == NA_DAY:
                kind = record["kind"] = "bad_date"
            else:
                table.data[spec.date_column][row] = link_start[row] - int(rng.integers(1, 11))
                record["column"] = spec.date_column
        if kind == "bad_date":
            value = spec.bad_dates[int(rng.integers(len(spec.bad_dates)))]
            table.overrides.setdefault(spec.date_column, {})[row] = value
            record["column"] = spec.date_column
        elif kind == "blank_identifier":
            col = spec.id_columns[int(rng.integers(len(spec.id_columns)))]
            table.overrides.setdefault(col, {})[row] = ""
            record["column"] = col
        elif kind == "unknown_code":
            assert spec.code_column is not None
            value = spec.unknown_codes[int(rng.integers(len(spec.unknown_codes)))]
            table.overrides.setdefault(spec.code_column, {})[row] = value
            record["column"] = spec.code_column
        elif kind == "duplicate_row":
            table.duplicated.append(row)
            record["column"] = None
        table.faults.append(record)


def add_extra_column(table: SourceTable, header: str, values: np.ndarray, position: int) -> None:
    """Add a column the configuration does not map (a file-level fault)."""
    table.headers.insert(position, header)
    table.data[header] = values
    table.extra_columns.append(header)


def summarise(faults: list[Fault], files: list[str]) -> dict[str, dict[str, int]]:
    """Count faults per file and kind (every file listed, zeros included)."""
    out: dict[str, dict[str, int]] = {f: {} for f in files}
    for f in faults:
        out.setdefault(f["file"], {})
        out[f["file"]][f["kind"]] = out[f["file"]].get(f["kind"], 0) + 1
    return {f: dict(sorted(k.items())) for f, k in out.items()}
