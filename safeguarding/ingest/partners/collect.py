"""What reading one partner's return gathers: its problems, its figures and its cell accounting.

:class:`Return` is filled by the layout readers (:mod:`.wide`, :mod:`.tidy`)
and the checks (:mod:`.stock_flow`); :func:`finish` turns it into the tidy
frame with :data:`OUTPUT_COLUMNS` and the return's :class:`Accounting`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict

import pandas as pd

from safeguarding import schema
from safeguarding.ingest.errors import IngestError
from safeguarding.ingest.partners.cells import blank
from safeguarding.ingest.problem import Problem, Severity, show_value
from safeguarding.ingest.readers import Grid, find_header
from safeguarding.settings_inputs import AggregateSpec

#: Columns of the tidy frame of figures (``aggregates.parquet``).
OUTPUT_COLUMNS: tuple[str, ...] = (*schema.AGGREGATE_COLUMNS, "source_file", "source_row")

#: (indicator, breakdown, breakdown_value, period_type, period_start): one figure's identity.
FigureKey = tuple[str, str, str, str, pd.Timestamp]


class AccountingEntry(TypedDict):
    """One return's :class:`Accounting` as ``ingest_report.json`` lists it (``aggregates.returns``)."""

    file: str
    layout: str
    cells_in: int
    rows_out: int
    cells_dropped: int
    errors: int
    warnings: int


class Figure(TypedDict):
    """One figure read from a return, as :meth:`Return.keep` records it (a row of the frame of figures)."""

    indicator_id: str
    period_type: str
    period_start: pd.Timestamp
    breakdown: str
    breakdown_value: str
    numerator: float
    denominator: float
    source_file: str
    source_row: int


@dataclass
class Accounting:
    """One return's cells in, rows out and cells dropped (in = out + dropped), and its problem counts."""

    file: str
    layout: str
    cells_in: int = 0
    rows_out: int = 0
    cells_dropped: int = 0
    errors: int = 0
    warnings: int = 0

    @property
    def holds(self) -> bool:
        """True when every data cell either became a figure or is counted by a problem."""
        return self.cells_in == self.rows_out + self.cells_dropped

    def to_dict(self) -> AccountingEntry:
        """The figures as ``ingest_report.json`` lists them (``aggregates.returns``); numpy integers as plain ones."""
        return {"file": self.file, "layout": self.layout, "cells_in": int(self.cells_in),
                "rows_out": int(self.rows_out), "cells_dropped": int(self.cells_dropped), "errors": int(self.errors),
                "warnings": int(self.warnings)}


@dataclass
class Return:
    """Everything gathered while reading one configured return."""

    file: str
    key: str
    layout: str
    problems: list[Problem] = field(default_factory=list)
    records: list[Figure] = field(default_factory=list)
    #: figure -> (row, column heading) where it was read
    where: dict[FigureKey, tuple[int | None, str]] = field(default_factory=dict)
    cells_in: int = 0

    def add(self, *, reason: str, message: str, fix: str, row: int | None = None, column: str | None = None,
            value: object = None, severity: Severity = "error", dropped: int = 0) -> None:
        """Record one problem of this return (``dropped``: the data cells it accounts for as not loaded)."""
        self.problems.append(Problem(message, fix, file=self.file, row=row, column=column, value=show_value(value),
                                     reason=reason, severity=severity, dropped=int(dropped)))

    def fatal(self, reason: str, message: str, fix: str, column: str | None = None, value: object = None,
              row: int | None = None) -> None:
        """Record an error that stops this return from loading."""
        self.add(reason=reason, message=message, fix=fix, row=row, column=column, value=value)

    def keep(self, indicator: str, period_type: str, period_start: pd.Timestamp, breakdown: str,
             breakdown_value: str, numerator: float, denominator: float, row: int, column: str) -> None:
        """Load one figure, read from ``row`` and the column headed ``column``."""
        self.where[(indicator, breakdown, breakdown_value, period_type, period_start)] = (row, column)
        self.records.append({
            "indicator_id": indicator, "period_type": period_type, "period_start": period_start,
            "breakdown": breakdown, "breakdown_value": breakdown_value, "numerator": float(numerator),
            "denominator": float(denominator), "source_file": self.file, "source_row": row,
        })


def empty_frame() -> pd.DataFrame:
    """A frame of figures with no rows."""
    return typed(pd.DataFrame({c: [] for c in OUTPUT_COLUMNS}))


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with exactly :data:`OUTPUT_COLUMNS`, each of its type (its ``attrs`` kept)."""
    for c in OUTPUT_COLUMNS:
        if c not in frame.columns:
            frame[c] = pd.Series([None] * len(frame), dtype="object")
    out = pd.DataFrame({
        "indicator_id": frame["indicator_id"].astype("string"),
        "period_type": frame["period_type"].astype("string"),
        "period_start": pd.to_datetime(frame["period_start"]).astype("datetime64[ns]"),
        "breakdown": frame["breakdown"].astype("string"),
        "breakdown_value": frame["breakdown_value"].astype("string"),
        "numerator": pd.to_numeric(frame["numerator"]).astype("float64"),
        "denominator": pd.to_numeric(frame["denominator"]).astype("float64"),
        "source_file": frame["source_file"].astype("string"),
        "source_row": pd.to_numeric(frame["source_row"]).astype("Int64"),
    })
    out.attrs = dict(frame.attrs)
    return out


def finish(ret: Return) -> tuple[pd.DataFrame, list[Problem]]:
    """The return's figures (``attrs["accounting"]``: its :class:`Accounting`, in a list) and its problems."""
    frame = typed(pd.DataFrame(ret.records, columns=list(OUTPUT_COLUMNS))) if ret.records else empty_frame()
    frame.attrs["accounting"] = [Accounting(
        ret.file, ret.layout, ret.cells_in, len(frame), sum(p.dropped for p in ret.problems),
        errors=sum(1 for p in ret.problems if p.is_error),
        warnings=sum(1 for p in ret.problems if not p.is_error),
    )]
    return frame, ret.problems


def header_index(grid: Grid, spec: AggregateSpec, ret: Return, score: Callable[[list[str]], int], *, least: int,
                 not_found: tuple[str, str] | None) -> int | None:
    """The index into ``grid.rows`` of the header: ``header_row`` when set, else found by ``score``.

    Uses the readers' own header search (:func:`~safeguarding.ingest.readers.find_header`).
    When no row has ``least`` header-like cells, ``not_found`` (message, fix)
    is recorded as a fatal problem and None returned; without ``not_found``,
    the first row with content is taken instead (its headings are then named
    in the problem that follows). A bad ``header_row`` is recorded as it is.
    """
    header_row = spec.header_row
    try:
        return find_header(grid.rows, score, header_row, ret.file, ret.key, least=least)
    except IngestError as exc:
        if header_row is not None:
            ret.problems.append(exc.problem.replace(file=ret.file))
            return None
    if not_found is None:
        return next(i for i, r in enumerate(grid.rows) if any(not blank(c) for c in r))
    ret.fatal("header not found", *not_found)
    return None
