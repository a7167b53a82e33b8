"""Checking a downloaded file (columns, years, areas) and naming it as the benchmarks expect."""

from __future__ import annotations

import csv
import datetime as dt
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TypedDict

from safeguarding.benchmarks import (
    LOCAL_AUTHORITY,
    NATIONAL,
    BenchmarkError,
    read_ees_csv,
    read_population,
    read_statistical_neighbours,
)
from safeguarding.benchmarks_fetch.release import _last_year
from safeguarding.benchmarks_fetch.sources import FetchError, SourceFile

# --------------------------------------------------------------------------- checking a file


class FileSummary(TypedDict):
    """What :func:`check_file` found in a file: its data rows (neighbour model: areas) and its time periods."""

    rows: int
    time_periods: str


def _label(source: SourceFile, name: str, url: str) -> str:
    return f"{name or source.prefix + '*.csv'} ({source.table}, downloaded from {url})"


def check_file(source: SourceFile, path: Path, label: str | None = None, file_name: str | None = None,
               ) -> FileSummary:
    """Check a downloaded file as the report will read it; return ``rows`` and ``time_periods``.

    Every column in ``source.columns`` must be present (the message names the
    file, the column and the indicators that need it), each value column must
    hold numbers, and the file must pass the project's own reader
    (``read_ees_csv``, ``read_population`` or ``read_statistical_neighbours``),
    which rejects cells that are neither numbers nor DfE markers and incomplete
    neighbour lists. Messages start with ``label`` (default: the path). For the
    neighbour model, ``time_periods`` is the model year in ``file_name``, if any.
    Raises :class:`FetchError`.
    """
    label = label or str(path)

    def fail(msg: str) -> FetchError:
        return FetchError(f"{label}: {msg}")

    head = path.read_bytes()[:512].lstrip(b"\xef\xbb\xbf \r\n\t").lower()
    if head.startswith((b"<!doctype", b"<html", b"<?xml", b"{", b"[")):
        raise fail("this is a web page or JSON, not a CSV data file; the address may be wrong or the server "
                   "may be showing an error page")
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            header = [c.strip() for c in next(csv.reader(fh), [])]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise fail(f"cannot be read as a UTF-8 CSV file ({exc})") from exc
    missing = [c for c in source.columns if c not in header]
    if missing:
        why = "; ".join(f"'{c}'" + (f" (needed for {', '.join(source.needed_by[c])})" if c in source.needed_by
                                     else "") for c in missing)
        raise fail(f"missing column(s) {why}. DfE may have renamed or dropped them in this release: the file was "
                   "not saved, and the file already in the folder is unchanged")
    try:
        if source.reader == "neighbours":
            sn = read_statistical_neighbours(path)
            year = _last_year(file_name or "")
            return {"rows": int(sn["la_code"].nunique()), "time_periods": f"model {year}" if year else ""}
        df = read_ees_csv(path)
        if source.reader == "population":
            read_population(path)
    except BenchmarkError as exc:
        raise fail(str(exc).replace(str(path), "the file")) from exc
    except (ValueError, OSError, UnicodeDecodeError) as exc:  # pandas parser errors are ValueErrors
        raise fail(f"cannot be read as a CSV data file ({exc})") from exc
    not_numbers = [c for c in source.value_columns if c not in df.attrs.get("value_columns", [])]
    if not_numbers:
        raise fail(f"column(s) {', '.join(repr(c) for c in not_numbers)} hold no numbers")
    levels = set(df["geographic_level"].dropna())
    want = {LOCAL_AUTHORITY} | ({NATIONAL} if source.reader == "ees" else set())
    if not want <= levels:
        raise fail(f"no '{' or '.join(sorted(want - levels))}' rows; the file is incomplete")
    years = sorted(int(y) for y in df["time_period"].unique())
    span = f"{years[0]} to {years[-1]}" if len(years) > 1 else str(years[0])
    return {"rows": len(df), "time_periods": span}


# --------------------------------------------------------------------------- naming


def _acceptable_name(source: SourceFile, name: str | None) -> str | None:
    """``name`` when it is a plain file name the loader will find for ``source``, else None."""
    if not name:
        return None
    name = Path(urllib.parse.unquote(name)).name
    if re.fullmatch(rf"{re.escape(source.prefix)}[A-Za-z0-9_.\-]*\.csv", name) and not name.startswith("."):
        return name
    return None


def _derived_name(source: SourceFile, summary: FileSummary, today: dt.date) -> str:
    """A file name for a download whose address gives none, built so ``find_table_file`` prefers the newest."""
    if source.reader == "neighbours":
        return f"sn_model_{today.year}_wide.csv"
    span = str(summary.get("time_periods", "")).replace(" ", "_")
    return f"{source.prefix}_{span}.csv" if span else f"{source.prefix}_{today.year}.csv"
