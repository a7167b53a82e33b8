"""Read one source file (CSV or XLSX) into raw columns, keeping spreadsheet row numbers.

The readers do not interpret values: they find the header row, decode the
text and hand back one column per source header plus, for every data row, the
row number an analyst sees when opening the file (title rows and the header
counted). Anything that stops a table from being read at all raises
:class:`IngestError` naming the file and the configuration key to set.
"""

from __future__ import annotations

import csv
import io
import itertools
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from safeguarding.ingest.errors import IngestError

ENCODINGS = ("auto", "utf-8", "utf-8-sig", "cp1252")
HEADER_SCAN_ROWS = 20
#: Characters parsed first when looking for the header (the whole text only if the records run past them).
HEAD_PREFIX_CHARS = 1 << 16
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
XLSX_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}


@dataclass
class RawTable:
    """A source table before mapping: raw header texts, raw columns and row numbers."""

    path: Path
    fmt: str
    headers: list[str]
    columns: list[Any]
    row_numbers: np.ndarray
    header_row: int
    header_detected: bool
    encoding: str | None = None
    sheet: str | None = None
    #: data-row index -> text of the values beyond the last header (CSV rows with too many fields)
    extra_fields: dict[int, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        """Number of data rows (blank rows included) below the header."""
        return len(self.row_numbers)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def find_header(rows: list[list[Any]], score: Callable[[list[str]], int], header_row: int | None,
                where: str, key: str) -> int:
    """Return the 0-based index of the header among the first rows.

    With ``header_row`` (1-based) set, that row is used. Otherwise the row whose
    cells match the most known column names is taken (at least two must match).
    """
    if header_row is not None:
        if not isinstance(header_row, int) or isinstance(header_row, bool) or header_row < 1:
            raise IngestError(f"{where}: header_row must be a whole number from 1, not {header_row!r}.",
                              key=f"{key}.header_row", fix=f"set {key}.header_row to the row holding the column names")
        if header_row > len(rows):
            raise IngestError(f"{where}: header_row is {header_row} but the file has only {len(rows)} rows there.",
                              key=f"{key}.header_row", row=header_row,
                              fix=f"set {key}.header_row to the row holding the column names")
        return header_row - 1
    best, best_score = -1, 1
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        s = score([_cell_text(c) for c in row])
        if s > best_score:
            best, best_score = i, s
    if best < 0:
        raise IngestError(
            f"{where}: header not found: none of the first {min(len(rows), HEADER_SCAN_ROWS)} rows holds two or "
            "more recognised column names.", key=f"{key}.header_row",
            fix=f"set {key}.header_row to the spreadsheet row holding the column names and map them under "
                f"{key}.columns (canonical name: source header)")
    return best


def _decode(data: bytes, encoding: str, where: str, key: str) -> tuple[str, str, list[str]]:
    """Decode bytes: auto = BOM -> utf-8-sig, else utf-8, else cp1252."""
    warnings: list[str] = []
    if encoding not in ENCODINGS:
        raise IngestError(f"{where}: encoding {encoding!r} is not supported.", key=f"{key}.encoding",
                          fix=f"set {key}.encoding to one of {', '.join(ENCODINGS)}")
    if encoding == "auto":
        if data.startswith(b"\xef\xbb\xbf"):
            encoding = "utf-8-sig"
        else:
            try:
                return data.decode("utf-8"), "utf-8", warnings
            except UnicodeDecodeError:
                encoding = "cp1252"
    if encoding == "cp1252":
        text = data.decode("cp1252", errors="replace")
        bad = text.count("\ufffd") - data.decode("cp1252", errors="ignore").count("\ufffd")
        if bad:
            warnings.append(f"{bad} byte(s) are not valid Windows-1252 text and were replaced by '\ufffd'")
        return text, "cp1252", warnings
    try:
        return data.decode(encoding), encoding, warnings
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise IngestError(f"{where}: line {line} is not valid {encoding} text (byte {exc.start}).", row=line,
                          key=f"{key}.encoding",
                          fix=f"set {key}.encoding to auto or cp1252 (Windows-1252, common in Excel exports)") from None


def _physical_lines(raw: bytes) -> int:
    n = raw.count(b"\n")
    if b"\r" in raw:  # old Mac line ends count as lines too; Windows pairs count once
        n += raw.count(b"\r") - raw.count(b"\r\n")
    if raw and raw[-1:] not in (b"\r", b"\n"):
        n += 1
    return n


def read_csv(path: Path, score: Callable[[list[str]], int], *, header_row: int | None = None,
             encoding: str = "auto", key: str = "inputs") -> RawTable:
    """Read a CSV file into a :class:`RawTable` (all values as text)."""
    where = str(path)
    data = _read_bytes(path, key)
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if not body.strip(b" \t\r\n\x00"):
        raise IngestError(f"{where}: the file is empty.", file=where, key=f"{key}.file",
                          fix=f"export the data again, or point {key}.file at the right file")
    if encoding in ("auto", "utf-8", "utf-8-sig") and data.isascii():
        # plain ASCII reads the same in all of these: decode only what the header scan needs
        text, used, warnings = None, ("utf-8-sig" if encoding == "utf-8-sig" else "utf-8"), []
    else:
        text, used, warnings = _decode(data, encoding, where, key)
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    wanted = HEADER_SCAN_ROWS if header_row is None else max(header_row, 1)
    head, head_lines = _head_records(data if text is None else text, wanted, where, key)
    hidx = find_header(head, score, header_row, where, key)
    headers = [_cell_text(c) for c in head[hidx]]
    while headers and headers[-1] == "":
        headers.pop()
    if not headers:
        raise IngestError(f"{where}: row {hidx + 1} (the header row) is blank.", row=hidx + 1,
                          key=f"{key}.header_row", fix=f"set {key}.header_row to the row holding the column names")
    table = None
    if head_lines == len(head) and hidx + 1 <= len(head):
        table = _fast_csv(None if used in ("utf-8", "utf-8-sig") else text, body, hidx, len(headers))
    if table is not None:
        cols, n = table
        rows = np.arange(hidx + 2, hidx + 2 + n, dtype=np.int64)
        return RawTable(path, "csv", headers, cols, rows, hidx + 1, header_row is None, used, None, {}, warnings)
    return _slow_csv(path, data.decode("ascii") if text is None else text, hidx, headers, header_row is None, used,
                     warnings)


def _head_records(text: str | bytes, wanted: int, where: str, key: str) -> tuple[list[list[str]], int]:
    """The first ``wanted`` CSV records of ``text`` (a str, or ASCII bytes) and the physical lines they span.

    Parses only the start of a large text when that provably gives the same
    records: one more record must begin inside it, so the first ``wanted`` ended there.
    """
    def decoded(part: str | bytes) -> str:
        return part.decode("ascii") if isinstance(part, bytes) else part

    if len(text) > HEAD_PREFIX_CHARS:
        try:
            reader = csv.reader(io.StringIO(decoded(text[:HEAD_PREFIX_CHARS]), newline=""))
            head = list(itertools.islice(reader, wanted))
            lines = reader.line_num
            if len(head) == wanted and next(reader, None) is not None:
                return head, lines
        except csv.Error:
            pass  # parse the whole text below, which reports the error as before
    try:
        reader = csv.reader(io.StringIO(decoded(text), newline=""))
        head = list(itertools.islice(reader, wanted))
        return head, reader.line_num
    except csv.Error as exc:
        raise IngestError(f"{where}: not readable as CSV near line {reader.line_num}: {exc}.", file=where,
                          key=f"{key}.file", fix="open the file in Excel and save it again as CSV") from None


def _read_bytes(path: Path, key: str) -> bytes:
    where = str(path)
    if not path.exists():
        raise IngestError(f"{where}: file not found.", file=where, key=f"{key}.file",
                          fix=f"put the extract there, or set {key}.file to its path (relative to report.yml)")
    if path.is_dir():
        raise IngestError(f"{where} is a folder, not a file.", file=where, key=f"{key}.file",
                          fix=f"set {key}.file to the file inside it")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{where}: cannot be read ({exc.strerror}).", file=where, key=f"{key}.file",
                          fix="check the file's permissions and that it is not open and locked") from None


def _fast_csv(text: str | None, body: bytes, hidx: int, ncols: int) -> tuple[list[Any], int] | None:
    """Parse with pyarrow when every physical line after the header is one record; else None."""
    invalid: list[int] = []

    def on_invalid(row: Any) -> str:
        invalid.append(1)
        return "skip"

    raw = body if text is None else text.encode("utf-8")
    names = [f"c{i}" for i in range(ncols)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(raw),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=hidx + 1, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowException, ValueError, OverflowError):
        return None
    lines_after = _physical_lines(raw) - (hidx + 1)
    if invalid or table.num_rows != lines_after:
        return None
    cols = [table.column(i) for i in range(ncols)]
    return cols, table.num_rows


def _slow_csv(path: Path, text: str, hidx: int, headers: list[str], detected: bool, used: str,
              warnings: list[str]) -> RawTable:
    """Parse record by record with the csv module (multi-line values, blank lines, ragged rows)."""
    ncols = len(headers)
    records: list[list[str]] = []
    numbers: list[int] = []
    extra: dict[int, str] = {}
    short = 0
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for i, rec in enumerate(reader):
            if i <= hidx:
                continue
            if len(rec) > ncols:
                tail = [v for v in rec[ncols:] if v.strip()]
                if tail:
                    extra[len(records)] = ",".join(tail)
                rec = rec[:ncols]
            elif len(rec) < ncols:
                if any(v.strip() for v in rec):
                    short += 1
                rec = rec + [""] * (ncols - len(rec))
            records.append(rec)
            numbers.append(i + 1)
    except csv.Error as exc:
        raise IngestError(f"{path}: not readable as CSV at row {reader.line_num}: {exc}.", file=str(path),
                          row=reader.line_num, fix="open the file in Excel and save it again as CSV") from None
    if short:
        warnings.append(f"{short} row(s) have fewer values than there are headers; the missing values are blank")
    cols = [np.array([r[j] for r in records], dtype=object) for j in range(ncols)]
    return RawTable(path, "csv", headers, cols, np.array(numbers, dtype=np.int64), hidx + 1, detected, used,
                    None, extra, warnings)


def _sheet_name(names: list[str], sheet: Any) -> str:
    """The sheet to read: the configured name, a 1-based sheet number, or the first sheet."""
    if sheet is None:
        return names[0] if names else ""
    if isinstance(sheet, int) and not isinstance(sheet, bool) and 1 <= sheet <= len(names) \
            and str(sheet) not in names:
        return names[sheet - 1]
    return str(sheet)


def _sheet_rows_calamine(data: bytes, sheet: str | None) -> tuple[list[str], str, list[list[Any]]]:
    """Read one sheet with python-calamine (fast, Rust): rows from A1, empty cells as None."""
    import python_calamine

    wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    names = list(wb.sheet_names)
    name = _sheet_name(names, sheet)
    if name not in names:
        return names, name, []
    rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    return names, name, [[None if c == "" else c for c in r] for r in rows]


def _sheet_rows_openpyxl(data: bytes, sheet: str | None) -> tuple[list[str], str, list[list[Any]]]:
    """Read one sheet with openpyxl in read-only mode (slower; used when python-calamine is absent)."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        names = list(wb.sheetnames)
        name = _sheet_name(names, sheet)
        if name not in names:
            return names, name, []
        ws = wb[name]
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()
        return names, name, [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def read_xlsx(path: Path, score: Callable[[list[str]], int], *, sheet: str | None = None,
              header_row: int | None = None, key: str = "inputs") -> RawTable:
    """Read one sheet of an Excel workbook into a :class:`RawTable` (cell values as the reader gives them).

    Uses python-calamine when installed (also reads old .xls files), openpyxl otherwise.
    """
    where = str(path)
    data = _read_bytes(path, key)
    if not data.strip():
        raise IngestError(f"{where}: the file is empty.", file=where, key=f"{key}.file",
                          fix=f"save the workbook again, or point {key}.file at the right file")
    fix = "open it in Excel and save it again as an Excel Workbook (.xlsx), or export the sheet as CSV"
    try:
        import python_calamine  # noqa: F401

        backend = _sheet_rows_calamine
    except ImportError:
        backend = _sheet_rows_openpyxl
        if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise IngestError(f"{where}: unreadable workbook: this is an old .xls (Excel 97-2003) file.",
                              file=where, key=f"{key}.file", fix=fix) from None
    try:
        names, sheet_name, rows = backend(data, sheet)
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except BaseException as exc:  # damaged files raise many kinds (zip, XML, Rust panics)
        raise IngestError(f"{where}: unreadable workbook ({type(exc).__name__}).", file=where,
                          key=f"{key}.file", fix=fix) from None
    if not names:
        raise IngestError(f"{where}: the workbook has no sheets.", file=where, key=f"{key}.file", fix=fix)
    if sheet is not None and sheet_name not in names:
        listed = ", ".join(map(repr, names))
        raise IngestError(f"{where}: there is no sheet called {sheet!r}; sheets: {listed}.",
                          file=where, key=f"{key}.sheet", fix=f"set {key}.sheet to one of the sheet names")
    warnings: list[str] = []
    if sheet is None and len(names) > 1:
        warnings.append(f"the workbook has {len(names)} sheets; read the first, {names[0]!r} "
                        f"(set {key}.sheet to choose another)")
    while rows and all(c is None or (isinstance(c, str) and not c.strip()) for c in rows[-1]):
        rows.pop()
    if not rows:
        raise IngestError(f"{where}: sheet {sheet_name!r} is empty.", file=where, key=f"{key}.sheet",
                          fix=f"set {key}.sheet to the sheet holding the data")
    hidx = find_header(rows, score, header_row, f"{where} (sheet {sheet_name!r})", key)
    headers = [_cell_text(c) for c in rows[hidx]]
    while headers and headers[-1] == "":
        headers.pop()
    if not headers:
        raise IngestError(f"{where}: row {hidx + 1} (the header row) is blank.", row=hidx + 1,
                          key=f"{key}.header_row", fix=f"set {key}.header_row to the row holding the column names")
    ncols = len(headers)
    body = rows[hidx + 1:]
    extra: dict[int, str] = {}
    for i, r in enumerate(body):
        if len(r) > ncols:
            tail = [_cell_text(v) for v in r[ncols:] if _cell_text(v)]
            if tail:
                extra[i] = ",".join(tail)
    if all(len(r) >= ncols for r in body):  # the usual rectangular sheet: transpose in C
        by_column = list(zip(*body, strict=False))[:ncols] if body else [() for _ in range(ncols)]
    else:
        by_column = [[r[j] if j < len(r) else None for r in body] for j in range(ncols)]
    cols = []
    for values in by_column:
        col = np.empty(len(body), dtype=object)
        col[:] = values
        cols.append(col)
    numbers = np.arange(hidx + 2, hidx + 2 + len(body), dtype=np.int64)
    return RawTable(path, "xlsx", headers, cols, numbers, hidx + 1, header_row is None, None, sheet_name,
                    extra, warnings)


def read_input(path: Path, score: Callable[[list[str]], int], *, sheet: str | None = None,
               header_row: int | None = None, encoding: str = "auto", key: str = "inputs") -> RawTable:
    """Read a CSV or XLSX source (chosen by extension, then by content) into a :class:`RawTable`."""
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return read_xlsx(path, score, sheet=sheet, header_row=header_row, key=key)
    if suffix not in CSV_SUFFIXES:
        head = _read_bytes(path, key)[:8]
        if head[:4] == b"PK\x03\x04" or head == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            return read_xlsx(path, score, sheet=sheet, header_row=header_row, key=key)
    return read_csv(path, score, header_row=header_row, encoding=encoding, key=key)


def column_as_series(values: Any) -> pd.Series:
    """Wrap a raw column (pandas Series or object array) as a Series without copying text."""
    return values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
