"""Aggregate returns: partners' monthly counts, read, checked and made tidy.

Partners who never send child-level records (the LADO, the private fostering
officer, the police) send a table of counts. Two layouts are accepted, each
named by an entry of ``aggregates:`` in ``report.yml``:

``layout: tidy``
    A CSV (or XLSX) with the columns ``indicator_id, period_start, period_type,
    breakdown, breakdown_value, numerator, denominator``. ``breakdown`` and
    ``breakdown_value`` default to ``all``; ``denominator`` is blank for counts.
    Source column names can be mapped with ``columns: {indicator_id: "Measure"}``.

``layout: wide``
    The shape partners actually send: one row per measure or breakdown, one
    column per month (``Apr`` .. ``Mar`` of ``financial_year``, also written
    ``April``, ``Apr-24``, ``Apr 2024``, an Excel date, or ``YYYY-MM``), an
    optional year-to-date column, and title rows above the header. Row labels
    are mapped to indicator codes with ``rows:``.

Keys of one entry (``aggregates[i]``): ``file`` (looked up in ``paths.raw``,
then beside ``report.yml``), ``layout`` (``tidy`` | ``wide``; default ``wide``
when ``rows`` is given), ``sheet`` (XLSX sheet name or 1-based number; default
the first), ``header_row`` (1-based; default found automatically),
``financial_year`` (default the report ``year``), ``label_column`` (heading,
1-based number or letter; default the first column), ``ytd_column`` (heading;
default any of ``YTD``, ``Year to date``, ``Total``; ``none`` to switch off),
``rows`` (``{"Row label": ID}`` or ``{"Row label": {indicator: ID, breakdown:
sector, breakdown_value: education}}``; without ``rows`` only labels that are
themselves indicator codes are read), ``columns`` (tidy: canonical name ->
source heading), ``proportions`` (tidy: indicator codes whose numerator may not
exceed the denominator), ``stock_flow``, ``encoding``, ``delimiter``.

Every entry is read independently: a missing, empty or unreadable file is an
error *for that return* and the others still load. Nothing is lost silently.
For the wide layout, the *data cells* are the month cells of every non-blank
row below the header; for the tidy layout, the non-blank rows below the
header. Each data cell (row) either becomes one tidy row or is counted in the
``dropped`` field of exactly one issue, so that::

    cells in = rows out + sum(issue["dropped"] for issue in issues)

The per-return figures are attached to the returned frame as
``frame.attrs["accounting"]`` (a list of dicts with ``file``, ``layout``,
``cells_in``, ``rows_out``, ``cells_dropped``, ``errors``, ``warnings``).

Checks made (reported by row and month, never accepted silently):

* a year-to-date column must equal the sum of its months; when it does not,
  the months are still used and the year-to-date figure is not;
* stock and flow (``stock_flow: [{open: ID, new: ID, closed: ID, opening: N}]``):
  open at the end of each month must equal the previous month's open plus new
  minus closed.

Each issue is a dict with the keys ``file, row, column, value, reason, message,
fix, severity`` (``'error'`` or ``'warning'``) and ``dropped`` (how many data
cells the issue accounts for as not loaded; 0 for checks and warnings on
loaded values). ``row`` is the 1-based spreadsheet row (CSV line) number, or
``None`` for an issue with the whole file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from safeguarding import schema
from safeguarding.atomic import write_atomic
from safeguarding.config import Config

#: Columns of the tidy frame returned by :func:`load_aggregates`.
OUTPUT_COLUMNS: tuple[str, ...] = (*schema.AGGREGATE_COLUMNS, "source_file", "source_row")

#: Keys of every issue dict.
ISSUE_KEYS: tuple[str, ...] = ("file", "row", "column", "value", "reason", "message", "fix", "severity",
                               "dropped")

#: Keys an ``aggregates:`` entry may hold.
SPEC_KEYS = frozenset({
    "file", "name", "layout", "sheet", "header_row", "financial_year", "label_column", "ytd_column",
    "rows", "columns", "proportions", "stock_flow", "encoding", "delimiter",
})

PERIOD_TYPES = ("month", "quarter", "year")
TIDY_REQUIRED = ("indicator_id", "period_start", "period_type", "numerator")
TIDY_OPTIONAL = ("breakdown", "breakdown_value", "denominator")

#: Cell texts that mean "no figure" (reported as a warning, never read as zero).
MISSING_MARKERS = frozenset({
    "-", "–", "—", "n/a", "na", "n.a.", "n/k", "nk", "..", ":", "not available", "not known",
    "c", "x", "z", "*", "none", "null",
})

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}
_YTD_NAMES = frozenset({"ytd", "y.t.d.", "year to date", "ytd total", "total ytd", "total", "year total",
                        "annual total", "total year to date", "year-to-date", "ytd to date"})
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_ISO_MONTH_RE = re.compile(r"^(\d{4})[-/](\d{1,2})(?:[-/](\d{1,2}))?(?:[ t]\d{1,2}:\d{2}(?::\d{2})?)?$")
_MONTH_NAME_RE = re.compile(r"^([a-z]{3,9})\.?(?:[\s\-'/,.]*(\d{4}|\d{2}))?$")
_NUM_MONTH_RE = re.compile(r"^(\d{1,2})[/-](\d{4})$")
_UK_DATE_RE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_TEXT_DATE_RE = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[\s\-]+([a-z]{3,9})\.?[\s\-,]+(\d{4}|\d{2})$")
_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]*[A-Z0-9]$")
_HEADER_SCAN_ROWS = 50
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_PLAUSIBLE = (dt.date(1990, 1, 1), dt.date(2100, 12, 31))


# --------------------------------------------------------------------------
# Collecting issues and rows for one return
# --------------------------------------------------------------------------

@dataclass
class _Return:
    """Everything gathered while reading one configured return."""

    file: str
    key: str
    layout: str
    issues: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    #: (indicator, breakdown, breakdown_value, period_type, period_start) -> (row, column label)
    where: dict[tuple, tuple[int | None, str]] = field(default_factory=dict)
    cells_in: int = 0

    def add(self, row: int | None, column: str | None, value: Any, reason: str, message: str, fix: str,
            severity: str = "error", dropped: int = 0) -> None:
        """Record one issue."""
        self.issues.append({
            "file": self.file, "row": row, "column": column, "value": _show(value), "reason": reason,
            "message": message, "fix": fix, "severity": severity, "dropped": int(dropped),
        })

    def fatal(self, reason: str, message: str, fix: str, column: str | None = None, value: Any = None,
              row: int | None = None) -> None:
        """Record an error that stops this return from loading."""
        self.add(row, column, value, reason, message, fix, "error", 0)


def _show(value: Any) -> Any:
    """Make a cell value safe for JSON reports (plain str/int/float/None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        return value
    if isinstance(value, (np.integer, np.floating)):
        return _show(value.item())
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _fmt(x: float) -> str:
    """Format a number as an analyst would write it (no needless .0)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "blank"
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------

def load_aggregates(config: Config) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Read every entry of ``config.aggregates`` into one tidy frame.

    Returns ``(frame, issues)``: the frame has :data:`OUTPUT_COLUMNS`
    (``schema.AGGREGATE_COLUMNS`` + ``source_file``, ``source_row``); issues are
    dicts with :data:`ISSUE_KEYS`. File paths are looked up in ``config.raw_dir``
    first, then relative to the configuration file's folder. A return that
    cannot be read is reported (severity ``error``) and the others still load.
    The same figure given by two returns is reported and the first one kept.
    """
    frames: list[pd.DataFrame] = []
    issues: list[dict[str, Any]] = []
    accounting: list[dict[str, Any]] = []
    entries = config.aggregates if isinstance(config.aggregates, list) else [config.aggregates]
    for i, spec in enumerate(entries):
        base = config.raw_dir
        if isinstance(spec, dict) and isinstance(spec.get("file"), str):
            f = spec["file"]
            if not (config.raw_dir / f).exists() and config.resolve(f).exists():
                base = config.root
        frame, found = read_aggregate_return(spec, base, index=i, default_year=config.year)
        frames.append(frame)
        issues.extend(found)
        accounting.extend(frame.attrs.get("accounting", []))
    out = pd.concat(frames, ignore_index=True) if frames else _empty_frame()
    if len(frames) > 1 and len(out):
        out = _drop_cross_return_duplicates(out, issues, accounting)
    out = _typed(out)
    out.attrs["accounting"] = accounting
    return out, issues


def read_aggregate_return(spec: dict[str, Any], base_dir: Path, *, index: int = 0,
                          default_year: int | None = None) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Read one aggregate return described by ``spec`` (one ``aggregates:`` entry).

    ``base_dir`` is the folder relative paths are resolved against; ``index`` is
    the entry's position (used to name the configuration key in messages, e.g.
    ``aggregates[0].rows``); ``default_year`` is the report year, used when the
    entry gives no ``financial_year``. Never raises on bad input: problems are
    returned as issues. The frame's ``attrs["accounting"]`` holds the return's
    cells-in / rows-out / cells-dropped figures.
    """
    key = f"aggregates[{index}]"
    if not isinstance(spec, dict):
        ret = _Return(file=str(spec), key=key, layout="?")
        ret.fatal("bad configuration", f"{key} must be a mapping with at least 'file' and 'layout', "
                  f"not {type(spec).__name__}", f"edit {key} in report.yml, e.g. {{file: return.csv, layout: tidy}}")
        return _finish(ret)
    file_value = spec.get("file")
    ret = _Return(file=str(file_value), key=key, layout=str(spec.get("layout") or ""))
    if not isinstance(file_value, str) or not file_value.strip():
        ret.fatal("bad configuration", f"{key} has no 'file'", f"set {key}.file to the return's path")
        return _finish(ret)
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        ret.add(None, None, ", ".join(sorted(map(str, unknown))), "unknown setting",
                f"{key} has setting(s) this reader does not use: {', '.join(sorted(map(str, unknown)))}",
                f"remove them or correct the spelling; valid keys: {', '.join(sorted(SPEC_KEYS))}", "warning")
    layout = str(spec.get("layout") or ("wide" if spec.get("rows") else "tidy")).strip().lower()
    ret.layout = layout
    if layout not in {"tidy", "wide"}:
        ret.fatal("bad configuration", f"{key}.layout is {layout!r}; it must be 'tidy' or 'wide'",
                  f"set {key}.layout to tidy (one row per figure) or wide (one column per month)")
        return _finish(ret)
    path = Path(file_value).expanduser()
    if not path.is_absolute():
        path = Path(base_dir) / path
    try:
        grid = _read_grid(path, spec, ret)
    except Exception as exc:  # pragma: no cover - last-resort guard: never crash the run
        ret.fatal("unreadable file", f"{ret.file}: could not be read ({type(exc).__name__}: {exc})",
                  "check the file opens in Excel; save it again as .xlsx or UTF-8 CSV")
        grid = None
    if grid is None:
        return _finish(ret)
    try:
        if layout == "tidy":
            _parse_tidy(grid, spec, ret)
        else:
            _parse_wide(grid, spec, ret, default_year)
        _check_stock_flow(spec.get("stock_flow"), ret)
    except Exception as exc:  # pragma: no cover - last-resort guard: never crash the run
        ret.fatal("unreadable file", f"{ret.file}: could not be interpreted ({type(exc).__name__}: {exc})",
                  "check the layout matches the configuration; report this as a bug with the file's shape")
        ret.records.clear()
        ret.issues = [i for i in ret.issues if i["dropped"] == 0]
        ret.cells_in = 0
    return _finish(ret)


def write_aggregates(frame: pd.DataFrame, processed_dir: Path) -> Path:
    """Write the tidy aggregate frame to ``<processed_dir>/aggregates.parquet`` and return the path."""
    processed_dir = Path(processed_dir)
    processed_dir.mkdir(parents=True, exist_ok=True)
    out = processed_dir / "aggregates.parquet"
    frame = _typed(frame.copy())
    frame.attrs = {}
    write_atomic(out, lambda tmp: frame.to_parquet(tmp, index=False))
    return out


def accounting_holds(frame: pd.DataFrame, issues: list[dict[str, Any]]) -> bool:
    """True when cells in = rows out + cells reported, for every return and in total."""
    acc = frame.attrs.get("accounting", [])
    cells_in = sum(a["cells_in"] for a in acc)
    dropped = sum(int(i.get("dropped", 0)) for i in issues)
    return cells_in == len(frame) + dropped and all(
        a["cells_in"] == a["rows_out"] + a["cells_dropped"] for a in acc)


# --------------------------------------------------------------------------
# Reading files into a grid of cells
# --------------------------------------------------------------------------

@dataclass
class _Grid:
    """Cells of one sheet or CSV: ``rows[i]`` is spreadsheet row ``numbers[i]``."""

    rows: list[list[Any]]
    numbers: list[int]
    formula: Any = None  # callable (row_number, col_index) -> str | None for XLSX, else None


def _read_grid(path: Path, spec: dict[str, Any], ret: _Return) -> _Grid | None:
    key = ret.key
    if not path.exists():
        ret.fatal("missing file", f"{ret.file}: file not found (looked for {path})",
                  f"put the partner's return at that path, or correct {key}.file in report.yml "
                  f"(relative paths are read from {path.parent})")
        return None
    if path.is_dir():
        ret.fatal("missing file", f"{ret.file}: is a folder, not a file", f"set {key}.file to the return file")
        return None
    head = path.read_bytes()[:8] if path.stat().st_size else b""
    if not head:
        ret.fatal("empty file", f"{ret.file}: the file is empty (0 bytes)",
                  "ask the partner to resend the return; remove the entry from report.yml if none is due")
        return None
    suffix = path.suffix.lower()
    if suffix == ".xls" or head.startswith(b"\xd0\xcf\x11\xe0"):
        ret.fatal("unreadable workbook", f"{ret.file}: old Excel 97-2003 (.xls) workbooks are not read",
                  "open it in Excel and save as .xlsx (Excel Workbook) or CSV UTF-8")
        return None
    if suffix in {".xlsx", ".xlsm"} or head.startswith(b"PK\x03\x04"):
        grid = _read_xlsx(path, spec, ret)
    else:
        grid = _read_csv(path, spec, ret)
    if grid is None:
        return None
    if not any(not _blank(c) for r in grid.rows for c in r):
        ret.fatal("empty file", f"{ret.file}: the file has no cells with content",
                  "ask the partner to resend the return; check the right sheet is named in report.yml")
        return None
    return grid


def _read_xlsx(path: Path, spec: dict[str, Any], ret: _Return) -> _Grid | None:
    from openpyxl import load_workbook  # imported here: only XLSX returns need it

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        ret.fatal("unreadable workbook", f"{ret.file}: not a readable Excel workbook ({type(exc).__name__}: {exc})",
                  "open it in Excel and save it again as .xlsx, or export the sheet as CSV UTF-8")
        return None
    try:
        ws, name = _pick_sheet(wb, spec.get("sheet"), ret)
        if ws is None:
            return None
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
    except Exception as exc:
        ret.fatal("unreadable workbook", f"{ret.file}: the sheet could not be read ({type(exc).__name__}: {exc})",
                  "open it in Excel and save it again as .xlsx, or export the sheet as CSV UTF-8")
        return None
    finally:
        wb.close()
    width = max((len(r) for r in rows), default=0)
    rows = [r + [None] * (width - len(r)) for r in rows]
    formulas: dict[tuple[int, int], str] | None = None

    def formula(row_number: int, col: int) -> str | None:
        nonlocal formulas
        if formulas is None:
            formulas = {}
            try:
                wbf = load_workbook(path, read_only=True, data_only=False)
                try:
                    for r, values in enumerate(wbf[name].iter_rows(values_only=True), start=1):
                        for c, v in enumerate(values):
                            if isinstance(v, str) and v.startswith("="):
                                formulas[(r, c)] = v
                finally:
                    wbf.close()
            except Exception:
                formulas = {}
        return formulas.get((row_number, col))

    return _Grid(rows, list(range(1, len(rows) + 1)), formula)


def _pick_sheet(wb: Any, sheet: Any, ret: _Return) -> tuple[Any, str]:
    names = list(wb.sheetnames)
    if sheet is None or sheet == "":
        if not names:
            ret.fatal("unreadable workbook", f"{ret.file}: the workbook has no sheets", "resave the workbook")
            return None, ""
        return wb[names[0]], names[0]
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        if 1 <= sheet <= len(names):
            return wb[names[sheet - 1]], names[sheet - 1]
    else:
        wanted = " ".join(str(sheet).split()).casefold()
        for n in names:
            if " ".join(n.split()).casefold() == wanted:
                return wb[n], n
    ret.fatal("sheet not found", f"{ret.file}: no sheet {sheet!r}; the workbook has: {', '.join(names)}",
              f"set {ret.key}.sheet to one of: {', '.join(names)}", column=None, value=sheet)
    return None, ""


def _decode(data: bytes, encoding: str | None, ret: _Return) -> str:
    if encoding:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            ret.add(None, None, encoding, "encoding", f"{ret.file}: could not decode as {encoding} ({exc}); "
                    "trying UTF-8 and Windows-1252", f"correct or remove {ret.key}.encoding", "warning")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        ret.add(None, None, None, "encoding",
                f"{ret.file}: neither UTF-8 nor Windows-1252; undecodable bytes were replaced",
                "save the file as CSV UTF-8 from Excel, or set the right encoding in "
                f"{ret.key}.encoding", "warning")
        return data.decode("cp1252", errors="replace")


def _read_csv(path: Path, spec: dict[str, Any], ret: _Return) -> _Grid | None:
    text = _decode(path.read_bytes(), spec.get("encoding"), ret)
    delimiter = spec.get("delimiter")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        sample = "\n".join(text.splitlines()[:20])
        counts = {d: sample.count(d) for d in (",", ";", "\t")}
        delimiter = max(counts, key=lambda d: (counts[d], d == ","))
    rows: list[list[Any]] = []
    numbers: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    last = 0
    try:
        for record in reader:
            rows.append(record)
            numbers.append(last + 1)
            last = reader.line_num
    except csv.Error as exc:
        ret.fatal("unreadable file", f"{ret.file}: not a readable CSV file near line {last + 1} ({exc})",
                  "open it in Excel and save as CSV UTF-8; check for an unclosed quotation mark",
                  row=last + 1)
        return None
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]
    return _Grid(rows, numbers)


# --------------------------------------------------------------------------
# Cell helpers
# --------------------------------------------------------------------------

def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and math.isnan(value))


def _norm(value: Any) -> str:
    """Normalise a label for matching: trimmed, single spaces, case-folded, no trailing colon."""
    text = " ".join(str(value).replace("\u00a0", " ").split()).casefold()
    return text.rstrip(":").strip()


def _header_key(value: Any) -> str:
    return re.sub(r"[\s\-]+", "_", _norm(value))


def _parse_number(value: Any) -> tuple[str, float | None]:
    """Classify a cell: ('blank'|'missing'|'number'|'text'|'date', value)."""
    if _blank(value):
        return "blank", None
    if isinstance(value, bool):
        return "text", None
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        return ("number", v) if math.isfinite(v) else ("text", None)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return "date", None
    text = str(value).replace("\u00a0", " ").strip()
    if text.casefold() in MISSING_MARKERS:
        return "missing", None
    cleaned = text.replace(" ", "")
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?", cleaned):
        cleaned = cleaned.replace(",", "")
    if _NUMBER_RE.match(cleaned):
        return "number", float(cleaned)
    return "text", None


def _month_of(value: Any, financial_year: int | None) -> tuple[int, int] | str | None:
    """Return (year, month) for a month heading, None if it is not one, 'noyear' if a year is needed."""
    if isinstance(value, dt.datetime | dt.date):
        return value.year, value.month
    if not isinstance(value, str) or not value.strip():
        return None
    text = " ".join(value.replace("\u00a0", " ").split()).casefold()
    m = _ISO_MONTH_RE.match(text)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        return (y, mo) if 1 <= mo <= 12 and 1900 <= y <= 2200 else None
    m = _NUM_MONTH_RE.match(text)
    if m:
        mo, y = int(m.group(1)), int(m.group(2))
        return (y, mo) if 1 <= mo <= 12 else None
    m = _MONTH_NAME_RE.match(text)
    if m and m.group(1) in _MONTHS:
        mo = _MONTHS[m.group(1)]
        if m.group(2):
            y = int(m.group(2))
            return (2000 + y if y < 100 else y), mo
        if financial_year is None:
            return "noyear"
        return (financial_year - 1 if mo >= 4 else financial_year), mo
    return None


def _parse_date(value: Any) -> tuple[pd.Timestamp | None, str]:
    """Parse a period start: Excel date/serial, ISO, UK day-first, '1 Apr 2024', 'Apr 2024', 'YYYY-MM'."""
    try:
        if isinstance(value, dt.datetime | dt.date):
            d = dt.date(value.year, value.month, value.day)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if not (math.isfinite(value) and 20000 <= value <= 80000):
                return None, "not a date"
            d = (_EXCEL_EPOCH + dt.timedelta(days=int(value))).date()
        else:
            text = " ".join(str(value).split()).casefold()
            if not text:
                return None, "blank"
            if re.fullmatch(r"\d{5}(\.0+)?", text):
                return _parse_date(float(text))
            m = _ISO_MONTH_RE.match(text)
            u = _UK_DATE_RE.match(text)
            t = _TEXT_DATE_RE.match(text)
            if m:
                d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
            elif u:
                y = int(u.group(3))
                d = dt.date(2000 + y if y < 100 else y, int(u.group(2)), int(u.group(1)))
            elif t and t.group(2) in _MONTHS:
                y = int(t.group(3))
                d = dt.date(2000 + y if y < 100 else y, _MONTHS[t.group(2)], int(t.group(1)))
            else:
                ym = _month_of(text, None)
                if not isinstance(ym, tuple):
                    return None, "not a date"
                d = dt.date(ym[0], ym[1], 1)
    except (ValueError, OverflowError):
        return None, "impossible date"
    if not (_PLAUSIBLE[0] <= d <= _PLAUSIBLE[1]):
        return None, "implausible date"
    return pd.Timestamp(d), ""


# --------------------------------------------------------------------------
# Wide layout
# --------------------------------------------------------------------------

@dataclass
class _Target:
    indicator: str
    breakdown: str
    breakdown_value: str


def _row_map(spec: dict[str, Any], ret: _Return) -> dict[str, _Target] | None:
    rows = spec.get("rows")
    if rows is None:
        return None
    if not isinstance(rows, dict):
        ret.add(None, None, None, "bad configuration", f"{ret.key}.rows must map row labels to indicator codes",
                f'write {ret.key}.rows as {{"Row label": INDICATOR_ID}}', "error")
        return {}
    out: dict[str, _Target] = {}
    for label, target in rows.items():
        if isinstance(target, str) and target.strip():
            out[_norm(label)] = _Target(target.strip(), "all", "all")
        elif isinstance(target, dict) and isinstance(target.get("indicator"), str):
            bd = str(target.get("breakdown") or "all").strip()
            bv = target.get("breakdown_value")
            bv = str(bv).strip() if bv not in (None, "") else ("all" if bd == "all" else str(label).strip())
            out[_norm(label)] = _Target(target["indicator"].strip(), bd, bv)
        else:
            ret.add(None, None, label, "bad configuration",
                    f"{ret.key}.rows[{label!r}] must be an indicator code or "
                    "{indicator: ID, breakdown: ..., breakdown_value: ...}",
                    f"correct {ret.key}.rows[{label!r}] in report.yml", "error")
    return out


def _financial_year(spec: dict[str, Any], default_year: int | None, ret: _Return) -> int | None:
    fy = spec.get("financial_year", default_year)
    if fy is None:
        return None
    try:
        fy = int(str(fy).strip()[:4]) if not isinstance(fy, int) else fy
    except ValueError:
        fy = -1
    if not 2000 <= fy <= 2100:
        ret.add(None, None, spec.get("financial_year"), "bad configuration",
                f"{ret.key}.financial_year must be the year ending 31 March, e.g. 2025 for 2024-25",
                f"correct {ret.key}.financial_year", "error")
        return None
    return fy


def _find_wide_header(grid: _Grid, spec: dict[str, Any], fy: int | None, ret: _Return) -> int | None:
    """Return the index into grid.rows of the header row, or None (issue recorded)."""
    header_row = spec.get("header_row")
    if header_row not in (None, ""):
        try:
            hr = int(header_row)
        except (TypeError, ValueError):
            hr = 0
        if hr < 1 or hr not in grid.numbers:
            ret.fatal("header not found", f"{ret.file}: header_row {header_row!r} is not a row of the sheet "
                      f"(it has {len(grid.rows)} rows)",
                      f"set {ret.key}.header_row to the 1-based row number holding the month headings, "
                      "or remove it to let the reader find them")
            return None
        return grid.numbers.index(hr)
    best, best_count = None, 0
    for i, row in enumerate(grid.rows[:_HEADER_SCAN_ROWS]):
        n = sum(1 for c in row if _month_of(c, fy if fy is not None else 2000) is not None)
        if n > best_count:
            best, best_count = i, n
    if best is None:
        ret.fatal("header not found",
                  f"{ret.file}: no row in the first {_HEADER_SCAN_ROWS} rows has month headings "
                  "(Apr .. Mar, April 2024, Apr-24 or YYYY-MM)",
                  f"check the sheet ({ret.key}.sheet) and set {ret.key}.header_row to the row with the months")
    return best


def _label_index(spec: dict[str, Any], header: list[Any], ret: _Return, header_row: int) -> int | None:
    lc = spec.get("label_column")
    if lc in (None, ""):
        return 0
    if isinstance(lc, int) and not isinstance(lc, bool):
        if 1 <= lc <= len(header):
            return lc - 1
    else:
        wanted = _norm(lc)
        for i, h in enumerate(header):
            if not _blank(h) and _norm(h) == wanted:
                return i
        if re.fullmatch(r"[A-Za-z]{1,2}", str(lc).strip()):
            letters = str(lc).strip().upper()
            idx = 0
            for ch in letters:
                idx = idx * 26 + (ord(ch) - 64)
            if idx <= len(header):
                return idx - 1
    ret.fatal("required column missing",
              f"{ret.file}: label column {lc!r} not found in the header (row {header_row})",
              f"set {ret.key}.label_column to the heading of the column holding the row labels, "
              "its 1-based number, or its letter", column=str(lc), value=lc, row=header_row)
    return None


def _parse_wide(grid: _Grid, spec: dict[str, Any], ret: _Return, default_year: int | None) -> None:  # noqa: C901
    fy = _financial_year(spec, default_year, ret)
    hi = _find_wide_header(grid, spec, fy, ret)
    if hi is None:
        return
    header = grid.rows[hi]
    header_row = grid.numbers[hi]
    label_col = _label_index(spec, header, ret, header_row)
    if label_col is None:
        return

    # year-to-date column
    ytd_setting = spec.get("ytd_column")
    ytd_col: int | None = None
    disabled = ytd_setting is False or (isinstance(ytd_setting, str) and ytd_setting.strip().casefold() in {
        "none", "no", "false"})
    if not disabled:
        names = {_norm(ytd_setting)} if isinstance(ytd_setting, str) and ytd_setting.strip() else _YTD_NAMES
        for i, h in enumerate(header):
            if i != label_col and not _blank(h) and _norm(h) in names:
                ytd_col = i
                break
        if ytd_col is None and isinstance(ytd_setting, str) and ytd_setting.strip():
            ret.add(header_row, ytd_setting, ytd_setting, "ytd column not found",
                    f"{ret.file}: year-to-date column {ytd_setting!r} not in the header (row {header_row}); "
                    "year-to-date totals were not checked",
                    f"set {ret.key}.ytd_column to the heading used, or to none if there is no such column",
                    "warning")

    # month columns
    months: dict[int, tuple[pd.Timestamp, str]] = {}
    seen: dict[pd.Timestamp, int] = {}
    duplicate_cols: dict[int, int] = {}
    ignored: list[str] = []
    needs_year = False
    for i, h in enumerate(header):
        if i in (label_col, ytd_col) or _blank(h):
            continue
        ym = _month_of(h, fy)
        if ym == "noyear":
            needs_year = True
            continue
        if ym is None:
            ignored.append(str(h))
            continue
        ts = pd.Timestamp(ym[0], ym[1], 1)
        label = h.strftime("%b %Y") if isinstance(h, dt.date) else " ".join(str(h).split())
        if ts in seen:
            duplicate_cols[i] = seen[ts]
        else:
            seen[ts] = i
        months[i] = (ts, label)
    if needs_year:
        ret.fatal("bad configuration", f"{ret.file}: the month headings have no year and no financial year is set",
                  f"set {ret.key}.financial_year (e.g. 2025 for April 2024 to March 2025)", row=header_row)
        return
    if not months:
        ret.fatal("month columns not found",
                  f"{ret.file}: row {header_row} has no month headings (Apr .. Mar, April 2024, Apr-24 or "
                  f"YYYY-MM); it holds: {', '.join(str(h) for h in header if not _blank(h))[:200]}",
                  f"set {ret.key}.header_row to the row holding the month headings", row=header_row)
        return
    if spec.get("financial_year") not in (None, "") and fy is not None:
        outside = [months[c][1] for c in months
                   if not pd.Timestamp(fy - 1, 4, 1) <= months[c][0] <= pd.Timestamp(fy, 3, 1)]
        if outside:
            ret.add(header_row, ", ".join(outside), None, "month outside year",
                    f"{ret.file}: month heading(s) {', '.join(outside)} in row {header_row} fall outside financial "
                    f"year {fy - 1}-{str(fy)[-2:]}; loaded as headed",
                    f"check the headings (Excel may have turned 'Apr-24' into 24 April) and {ret.key}.financial_year",
                    "warning")
    if ignored:
        ret.add(header_row, ", ".join(ignored), None, "column ignored",
                f"{ret.file}: column(s) {', '.join(repr(x) for x in ignored)} in row {header_row} are neither "
                "months, the row label nor year to date, and were not read",
                f"if one holds year-to-date totals set {ret.key}.ytd_column to its heading; otherwise no action",
                "warning")

    mapping = _row_map(spec, ret)
    month_cols = sorted(months, key=lambda c: (months[c][0], c))
    unmapped: list[str] = []
    for ri in range(hi + 1, len(grid.rows)):
        row = grid.rows[ri]
        rn = grid.numbers[ri]
        label = row[label_col] if label_col < len(row) else None
        cells = [row[c] if c < len(row) else None for c in month_cols]
        ytd_value = row[ytd_col] if ytd_col is not None and ytd_col < len(row) else None
        if _blank(label) and all(_blank(c) for c in cells) and _blank(ytd_value):
            continue
        n = len(cells)
        ret.cells_in += n
        if _blank(label):
            ret.add(rn, str(header[label_col]) if not _blank(header[label_col]) else "label", None, "blank label",
                    f"{ret.file} row {rn}: figures with no row label; its {n} month cell(s) were not loaded",
                    "add the measure's name in the label column and map it in "
                    f"{ret.key}.rows, or delete the row", "error", dropped=n)
            continue
        target = _target_for(label, mapping)
        if target is None:
            unmapped.append(str(label))
            has_figures = any(not _blank(c) for c in cells)
            ret.add(rn, str(header[label_col]) if not _blank(header[label_col]) else "label", label, "unmapped row",
                    f"{ret.file} row {rn}: row label {str(label)!r} is not mapped to an indicator; "
                    + (f"its {n} month cell(s) were not loaded" if has_figures else "it has no figures"),
                    f'add it to {ret.key}.rows in report.yml, e.g. "{" ".join(str(label).split())}": INDICATOR_ID',
                    "warning", dropped=n)
            continue
        _wide_row_cells(grid, ret, rn, label, target, month_cols, months, duplicate_cols, cells)
        if ytd_col is not None:
            _check_ytd(grid, ret, rn, label, str(header[ytd_col]), ytd_col, ytd_value, cells)


def _target_for(label: Any, mapping: dict[str, _Target] | None) -> _Target | None:
    if mapping is None:
        text = " ".join(str(label).split())
        return _Target(text, "all", "all") if _CODE_RE.match(text) else None
    return mapping.get(_norm(label))


def _wide_row_cells(grid: _Grid, ret: _Return, rn: int, label: Any, target: _Target, month_cols: list[int],
                    months: dict[int, tuple[pd.Timestamp, str]], duplicate_cols: dict[int, int],
                    cells: list[Any]) -> None:
    lab = " ".join(str(label).split())
    for col, value in zip(month_cols, cells, strict=True):
        ts, mlabel = months[col]
        when = mlabel if mlabel == f"{ts:%b %Y}" else f"{mlabel} ({ts:%b %Y})"
        where = f"{ret.file} row {rn} ({lab!r}), {when}"
        if col in duplicate_cols:
            ret.add(rn, mlabel, value, "duplicate month column",
                    f"{where}: a second column for {ts:%B %Y}; the first one was used and this cell not loaded",
                    "delete or relabel the duplicate month column", "error", dropped=1)
            continue
        kind, number = _parse_number(value)
        if kind == "blank":
            if grid.formula is not None and grid.formula(rn, col):
                ret.add(rn, mlabel, grid.formula(rn, col), "formula without value",
                        f"{where}: the cell holds a formula with no saved result; not loaded",
                        "open the workbook in Excel and save it (so the result is stored), or type the value",
                        "error", dropped=1)
            else:
                ret.add(rn, mlabel, None, "blank cell",
                        f"{where}: blank; treated as missing, not as zero",
                        "enter 0 if there were none, or leave blank if the figure is not yet known", "warning",
                        dropped=1)
            continue
        if kind == "missing":
            ret.add(rn, mlabel, value, "marked missing", f"{where}: {str(value).strip()!r} read as missing, not zero",
                    "enter the figure, or 0 if there were none", "warning", dropped=1)
            continue
        if kind in {"text", "date"}:
            ret.add(rn, mlabel, value, "not a number",
                    f"{where}: {_show(value)!r} is not a number; not loaded",
                    "type the count as a whole number (no words, % signs or notes in the cell)", "error", dropped=1)
            continue
        assert number is not None
        if number < 0:
            ret.add(rn, mlabel, value, "negative", f"{where}: {_fmt(number)} is negative; a count cannot be",
                    "correct the figure in the return", "error", dropped=1)
            continue
        if not float(number).is_integer():
            ret.add(rn, mlabel, value, "not a whole number",
                    f"{where}: {_fmt(number)} is not a whole number; loaded as given",
                    "check the figure: monthly returns hold counts", "warning")
        key = (target.indicator, target.breakdown, target.breakdown_value, "month", ts)
        if key in ret.where:
            first_row, _ = ret.where[key]
            ret.add(rn, mlabel, value, "duplicate",
                    f"{where}: {target.indicator} ({target.breakdown}={target.breakdown_value}) for {ts:%B %Y} "
                    f"was already given in row {first_row}; this cell not loaded",
                    f"map each row to a different indicator or breakdown in {ret.key}.rows", "error", dropped=1)
            continue
        ret.where[key] = (rn, mlabel)
        ret.records.append(_record(target.indicator, "month", ts, target.breakdown, target.breakdown_value,
                                   number, np.nan, ret.file, rn))


def _check_ytd(grid: _Grid, ret: _Return, rn: int, label: Any, ytd_label: str, ytd_col: int, value: Any,
               cells: list[Any]) -> None:
    lab = " ".join(str(label).split())
    kind, given = _parse_number(value)
    if kind == "blank":
        if grid.formula is not None and grid.formula(rn, ytd_col):
            ret.add(rn, ytd_label, grid.formula(rn, ytd_col), "ytd not checked",
                    f"{ret.file} row {rn} ({lab!r}): the year-to-date cell is a formula with no saved result; "
                    "not checked", "open the workbook in Excel and save it", "warning")
        return
    if kind == "missing":
        return
    if kind != "number":
        ret.add(rn, ytd_label, value, "ytd not checked",
                f"{ret.file} row {rn} ({lab!r}): year-to-date {_show(value)!r} is not a number; not checked",
                "type the year-to-date total as a number or leave it blank", "warning")
        return
    numbers = [_parse_number(c) for c in cells]
    used = [v for k, v in numbers if k == "number" and v is not None and v >= 0]
    expected = float(sum(used))
    assert given is not None
    if math.isclose(expected, given, rel_tol=0, abs_tol=1e-6):
        return
    missing = len(cells) - len(used)
    note = f"; {missing} month(s) blank or unreadable, so the sum is of {len(used)} months" if missing else ""
    ret.add(rn, ytd_label, value, "ytd mismatch",
            f"{ret.file} row {rn} ({lab!r}): year to date {_fmt(given)} does not equal the sum of its months: "
            f"expected {_fmt(expected)}, given {_fmt(given)} (difference {_fmt(given - expected)}){note}. "
            "The monthly figures were loaded; the year-to-date figure was not used",
            "ask the partner which is right: correct the monthly figures or the year-to-date total "
            "(a total typed over a formula is the usual cause)", "warning")


def _record(indicator: str, period_type: str, period_start: pd.Timestamp, breakdown: str, breakdown_value: str,
            numerator: float, denominator: float, source_file: str, source_row: int) -> dict[str, Any]:
    return {
        "indicator_id": indicator, "period_type": period_type, "period_start": period_start,
        "breakdown": breakdown, "breakdown_value": breakdown_value, "numerator": float(numerator),
        "denominator": float(denominator), "source_file": source_file, "source_row": source_row,
    }


# --------------------------------------------------------------------------
# Tidy layout
# --------------------------------------------------------------------------

def _parse_tidy(grid: _Grid, spec: dict[str, Any], ret: _Return) -> None:
    columns = spec.get("columns") or {}
    if not isinstance(columns, dict):
        ret.fatal("bad configuration", f"{ret.key}.columns must map canonical names to source headings",
                  f'write {ret.key}.columns as {{indicator_id: "Measure", ...}}')
        return
    wanted = {c: _header_key(columns.get(c, c)) for c in (*TIDY_REQUIRED, *TIDY_OPTIONAL)}
    header_row = spec.get("header_row")
    if header_row not in (None, ""):
        try:
            hr = int(header_row)
        except (TypeError, ValueError):
            hr = 0
        if hr not in grid.numbers:
            ret.fatal("header not found", f"{ret.file}: header_row {header_row!r} is not a row of the file",
                      f"set {ret.key}.header_row to the 1-based row holding the column headings")
            return
        hi = grid.numbers.index(hr)
    else:
        hi = None
        for i, row in enumerate(grid.rows[:_HEADER_SCAN_ROWS]):
            keys = {_header_key(c) for c in row if not _blank(c)}
            if len(keys & set(wanted.values())) >= 2:
                hi = i
                break
        if hi is None:
            hi = next(i for i, r in enumerate(grid.rows) if any(not _blank(c) for c in r))
    header = [_header_key(c) if not _blank(c) else "" for c in grid.rows[hi]]
    header_rn = grid.numbers[hi]
    index: dict[str, int] = {}
    for canon, source in wanted.items():
        if source in header:
            index[canon] = header.index(source)
    missing = [c for c in TIDY_REQUIRED if c not in index]
    if "breakdown" in index and "breakdown_value" not in index:
        missing.append("breakdown_value")
    if missing:
        ret.fatal("required column missing",
                  f"{ret.file}: required column(s) {', '.join(missing)} not found in the header (row {header_rn}); "
                  f"it holds: {', '.join(str(c) for c in grid.rows[hi] if not _blank(c))[:200]}",
                  "rename the column(s) in the file, or set " +
                  ", ".join(f"{ret.key}.columns.{c}" for c in missing) + " to the source column's heading",
                  column=", ".join(missing), row=header_rn)
        return
    proportions = {str(p).strip() for p in (spec.get("proportions") or []) if isinstance(p, str)}
    heading = {c: str(grid.rows[hi][i]) for c, i in index.items()}

    def cell(row: list[Any], name: str) -> Any:
        i = index.get(name)
        return row[i] if i is not None and i < len(row) else None

    for ri in range(hi + 1, len(grid.rows)):
        row = grid.rows[ri]
        if all(_blank(c) for c in row):
            continue
        rn = grid.numbers[ri]
        ret.cells_in += 1
        _tidy_row(ret, row, rn, cell, heading, proportions)


def _tidy_row(ret: _Return, row: list[Any], rn: int, cell: Any, heading: dict[str, str],  # noqa: C901
              proportions: set[str]) -> None:
    where = f"{ret.file} row {rn}"

    def reject(col: str, value: Any, reason: str, message: str, fix: str, severity: str = "error") -> None:
        name = heading.get(col, col)
        ret.add(rn, name, value, reason, f"{where}, {name}: {message}; row not loaded", fix, severity, dropped=1)

    ind = cell(row, "indicator_id")
    if _blank(ind):
        return reject("indicator_id", ind, "blank identifier", "no indicator_id", "give the indicator code")
    ind = " ".join(str(ind).split())
    ptype_raw = cell(row, "period_type")
    ptype = _norm(ptype_raw) if not _blank(ptype_raw) else ""
    ptype = {"monthly": "month", "quarterly": "quarter", "annual": "year", "yearly": "year",
             "financial year": "year"}.get(ptype, ptype)
    if ptype not in PERIOD_TYPES:
        shown = "is blank" if _blank(ptype_raw) else f"{_show(ptype_raw)!r} is not one of {', '.join(PERIOD_TYPES)}"
        return reject("period_type", ptype_raw, "bad period type", f"period_type {shown}",
                      "use month, quarter or year")
    raw_start = cell(row, "period_start")
    start, why = _parse_date(raw_start)
    if start is None:
        return reject("period_start", raw_start, "bad date" if why != "blank" else "blank date",
                      f"period_start {_show(raw_start)!r}: {why}",
                      "write the first day of the period as DD/MM/YYYY or YYYY-MM-DD")
    aligned = start.day == 1 and (ptype == "month" or (ptype == "quarter" and start.month in (1, 4, 7, 10))
                                  or (ptype == "year" and start.month == 4))
    if not aligned:
        first = {"month": "the 1st of a month", "quarter": "1 April, 1 July, 1 October or 1 January",
                 "year": "1 April (financial years)"}[ptype]
        return reject("period_start", raw_start, "bad date",
                      f"period_start {start:%d/%m/%Y} is not the start of a {ptype}", f"use {first}")
    bd_raw, bv_raw = cell(row, "breakdown"), cell(row, "breakdown_value")
    bd = " ".join(str(bd_raw).split()) if not _blank(bd_raw) else "all"
    bv = " ".join(str(bv_raw).split()) if not _blank(bv_raw) else "all"
    if (bd == "all") != (bv == "all"):
        return reject("breakdown_value", bv_raw, "bad breakdown",
                      f"breakdown {bd!r} with breakdown_value {bv!r}",
                      "give both breakdown and breakdown_value, or neither (all)")
    num_raw = cell(row, "numerator")
    kind, num = _parse_number(num_raw)
    if kind in {"blank", "missing"}:
        return reject("numerator", num_raw, "blank cell" if kind == "blank" else "marked missing",
                      "no figure (treated as missing, not zero)", "enter the figure, or 0 if there were none",
                      "warning")
    if kind != "number" or num is None:
        return reject("numerator", num_raw, "not a number", f"{_show(num_raw)!r} is not a number",
                      "type the figure as a number")
    if num < 0:
        return reject("numerator", num_raw, "negative", f"{_fmt(num)} is negative", "correct the figure")
    den_raw = cell(row, "denominator")
    dkind, den = _parse_number(den_raw)
    if dkind in {"blank", "missing"}:
        den = np.nan
        if ind in proportions:
            return reject("denominator", den_raw, "blank cell",
                          f"{ind} is a proportion but has no denominator", "give the denominator")
    elif dkind != "number" or den is None:
        return reject("denominator", den_raw, "not a number", f"{_show(den_raw)!r} is not a number",
                      "type the denominator as a number, or leave it blank for a count")
    elif den < 0:
        return reject("denominator", den_raw, "negative", f"{_fmt(den)} is negative", "correct the figure")
    elif ind in proportions and num > den:
        return reject("numerator", num_raw, "numerator exceeds denominator",
                      f"{ind} is a proportion but numerator {_fmt(num)} > denominator {_fmt(den)}",
                      "check the two figures are the right way round")
    key = (ind, bd, bv, ptype, start)
    if key in ret.where:
        first, _ = ret.where[key]
        same = next((r for r in ret.records if r["source_row"] == first), None)
        identical = same is not None and same["numerator"] == num and (
            (math.isnan(same["denominator"]) and math.isnan(den)) or same["denominator"] == den)
        return reject("indicator_id", ind, "duplicate",
                      f"{ind} {ptype} starting {start:%d/%m/%Y} ({bd}={bv}) was already given in row {first}"
                      + (" with the same figures" if identical else f" with different figures "
                         f"({_fmt(same['numerator']) if same else '?'} there, {_fmt(num)} here)"),
                      "delete the repeated row" if identical else "keep the right row and delete the other",
                      "warning" if identical else "error")
    ret.where[key] = (rn, "numerator")
    ret.records.append(_record(ind, ptype, start, bd, bv, num, den, ret.file, rn))


# --------------------------------------------------------------------------
# Stock and flow
# --------------------------------------------------------------------------

def _check_stock_flow(rules: Any, ret: _Return) -> None:
    if not rules:
        return
    if isinstance(rules, dict):
        rules = [rules]
    if not isinstance(rules, list):
        ret.add(None, None, None, "bad configuration", f"{ret.key}.stock_flow must be a list",
                f"write {ret.key}.stock_flow as [{{open: ID, new: ID, closed: ID}}]", "error")
        return
    values: dict[tuple, float] = {
        (r["indicator_id"], r["breakdown"], r["breakdown_value"], r["period_start"]): r["numerator"]
        for r in ret.records if r["period_type"] == "month"
    }
    for n, rule in enumerate(rules):
        ids = {k: rule.get(k) if isinstance(rule, dict) else None for k in ("open", "new", "closed")}
        if not all(isinstance(v, str) and v for v in ids.values()):
            ret.add(None, None, None, "bad configuration",
                    f"{ret.key}.stock_flow[{n}] needs open, new and closed indicator codes",
                    f"write {ret.key}.stock_flow[{n}] as {{open: ID, new: ID, closed: ID}}", "error")
            continue
        opening = rule.get("opening")
        groups = sorted({(b, v) for (i, b, v, _p) in values if i == ids["open"]})
        if not groups:
            ret.add(None, None, ids["open"], "stock-flow not checked",
                    f"{ret.file}: no monthly figures for {ids['open']} named in {ret.key}.stock_flow[{n}]; not checked",
                    f"map a row to {ids['open']} in {ret.key}.rows, or correct {ret.key}.stock_flow", "warning")
            continue
        for bd, bv in groups:
            periods = sorted(p for (i, b, v, p) in values if i == ids["open"] and (b, v) == (bd, bv))
            for p in periods:
                prev = p - pd.DateOffset(months=1)
                now = {k: values.get((ids[k], bd, bv, p)) for k in ids}
                if now["new"] is None or now["closed"] is None:
                    continue
                if (ids["open"], bd, bv, prev) in values:
                    before, source = values[(ids["open"], bd, bv, prev)], f"open at end of {prev:%b %Y}"
                elif p == periods[0] and isinstance(opening, (int, float)) and not isinstance(opening, bool):
                    before, source = float(opening), "opening figure in report.yml"
                else:
                    continue
                expected = before + now["new"] - now["closed"]
                if math.isclose(expected, now["open"], rel_tol=0, abs_tol=1e-6):
                    continue
                row, col = ret.where.get((ids["open"], bd, bv, "month", p), (None, f"{p:%b %Y}"))
                rows = sorted({ret.where.get((ids[k], bd, bv, "month", p), (None, ""))[0] or 0 for k in ids})
                scope = "" if (bd, bv) == ("all", "all") else f" ({bd}={bv})"
                ret.add(row, col, int(now["open"]) if float(now["open"]).is_integer() else now["open"],
                        "stock-flow mismatch",
                        f"{ret.file} row {row}, {col}: {ids['open']}{scope} open at end of {p:%b %Y} should be "
                        f"{source} {_fmt(before)} + new {_fmt(now['new'])} - closed {_fmt(now['closed'])}: "
                        f"expected {_fmt(expected)}, given {_fmt(now['open'])} "
                        f"(difference {_fmt(now['open'] - expected)})",
                        f"check the {p:%b %Y} figures in rows {', '.join(str(r) for r in rows)}: "
                        "open at month end must equal the previous month's open plus new minus closed "
                        "(cases reopened or transferred in are the usual cause)", "warning")


# --------------------------------------------------------------------------
# Assembling
# --------------------------------------------------------------------------

def _empty_frame() -> pd.DataFrame:
    return _typed(pd.DataFrame({c: [] for c in OUTPUT_COLUMNS}))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
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


def _finish(ret: _Return) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    frame = _typed(pd.DataFrame(ret.records, columns=list(OUTPUT_COLUMNS))) if ret.records else _empty_frame()
    dropped = sum(i["dropped"] for i in ret.issues)
    frame.attrs["accounting"] = [{
        "file": ret.file, "layout": ret.layout, "cells_in": ret.cells_in, "rows_out": len(frame),
        "cells_dropped": dropped,
        "errors": sum(1 for i in ret.issues if i["severity"] == "error"),
        "warnings": sum(1 for i in ret.issues if i["severity"] == "warning"),
    }]
    return frame, ret.issues


def _drop_cross_return_duplicates(out: pd.DataFrame, issues: list[dict[str, Any]],
                                  accounting: list[dict[str, Any]]) -> pd.DataFrame:
    keys = ["indicator_id", "period_type", "period_start", "breakdown", "breakdown_value"]
    dup = out.duplicated(keys, keep="first")
    if not dup.any():
        return out
    first = out.drop_duplicates(keys, keep="first").set_index(keys)
    for _, r in out[dup].iterrows():
        k = tuple(r[c] for c in keys)
        f = first.loc[k]
        issues.append({
            "file": r["source_file"], "row": int(r["source_row"]), "column": None, "value": _show(r["numerator"]),
            "reason": "duplicate",
            "message": f"{r['source_file']} row {r['source_row']}: {r['indicator_id']} for {r['period_type']} "
                       f"starting {r['period_start']:%d/%m/%Y} ({r['breakdown']}={r['breakdown_value']}) is also "
                       f"given by {f['source_file']} row {f['source_row']}; the first was kept",
            "fix": "remove the figure from one of the two returns in report.yml (aggregates)",
            "severity": "error", "dropped": 1,
        })
        for a in accounting:
            if a["file"] == r["source_file"]:
                a["rows_out"] -= 1
                a["cells_dropped"] += 1
                a["errors"] += 1
                break
    return out[~dup].reset_index(drop=True)
