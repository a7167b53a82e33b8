"""Read one source file (CSV or XLSX) into raw columns, keeping spreadsheet row numbers.

CSV files are read here; workbooks in :mod:`safeguarding.ingest.workbooks`
(:func:`read_input` chooses by extension, then by content). Readers that find
their own header and read across as well as down (partners' returns) take
every row with :func:`read_grid`, decoded and split the same way.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from safeguarding.ingest.encodings import WIDE_ENCODINGS, decode_wide, sniff_wide
from safeguarding.ingest.errors import IngestError

ENCODINGS = ("auto", "utf-8", "utf-8-sig", "cp1252", *WIDE_ENCODINGS)
HEADER_SCAN_ROWS = 20
#: Delimiters a CSV export may use (found from the header, see ``_sniff_delimiter``), as named in messages.
DELIMITERS = {",": "commas (',')", ";": "semicolons (';')", "\t": "tabs ('\\t')", "|": "vertical bars ('|')"}
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
    #: per header, its values: a pyarrow text column (CSV read fast) or an object array
    columns: list[pa.ChunkedArray | np.ndarray]
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


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def header_names(row: Sequence[object], hidx: int, where: str, key: str) -> list[str]:
    """The column names of header row ``hidx`` (0-based), trailing blank cells dropped; a blank row is refused."""
    headers = [_cell_text(c) for c in row]
    while headers and headers[-1] == "":
        headers.pop()
    if not headers:
        raise IngestError(f"{where}: row {hidx + 1} (the header row) is blank.", row=hidx + 1,
                          key=f"{key}.header_row", fix=f"set {key}.header_row to the row holding the column names")
    return headers


def _bad_header_row(header_row: object, where: str, key: str) -> IngestError:
    return IngestError(f"{where}: header_row must be a whole number from 1, not {header_row!r}.",
                       key=f"{key}.header_row", fix=f"set {key}.header_row to the row holding the column names",
                       code="header not found")


def find_header(rows: Sequence[Sequence[object]], score: Callable[[list[str]], int], header_row: object,
                where: str, key: str, *, least: int = 2) -> int:
    """Return the 0-based index of the header among the first rows.

    With ``header_row`` (1-based) set, that row is used (a setting that is not a whole number from 1 is
    refused, naming it). Otherwise the row whose
    cells match the most known column names is taken (at least ``least`` must
    match; the first such row on a tie).
    """
    if header_row is not None:
        if not isinstance(header_row, int) or isinstance(header_row, bool) or header_row < 1:
            raise _bad_header_row(header_row, where, key)
        if header_row > len(rows):
            raise IngestError(f"{where}: header_row is {header_row} but the file has only {len(rows)} rows there.",
                              key=f"{key}.header_row", row=header_row,
                              fix=f"set {key}.header_row to the row holding the column names", code="header not found")
        return header_row - 1
    best, best_score = -1, least - 1
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        s = score([_cell_text(c) for c in row])
        if s > best_score:
            best, best_score = i, s
    if best < 0:
        raise IngestError(
            f"{where}: header not found: none of the first {min(len(rows), HEADER_SCAN_ROWS)} rows holds "
            f"{'two' if least == 2 else least} or more recognised column names.", key=f"{key}.header_row",
            fix=f"set {key}.header_row to the spreadsheet row holding the column names and map them under "
                f"{key}.columns (canonical name: source header)", code="header not found")
    return best


def _decode(data: bytes, encoding: str, where: str, key: str) -> tuple[str, str, list[str]]:
    """Decode bytes: auto = BOM -> utf-8-sig, else utf-8, else cp1252."""
    warnings: list[str] = []
    if encoding not in ENCODINGS:
        raise IngestError(f"{where}: encoding {encoding!r} is not supported.", key=f"{key}.encoding",
                          fix=f"set {key}.encoding to one of {', '.join(ENCODINGS)}", code="encoding")
    wide = decode_wide(data, encoding, where, key)  # UTF-16/UTF-32, by BOM or NUL bytes: see encodings.py
    if wide is not None:
        return wide
    setting = encoding
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
        why = " although the file starts with a UTF-8 byte-order mark" if setting == "auto" else ""
        # here the setting is auto, utf-8 or utf-8-sig: name a concrete other encoding, never the setting itself
        raise IngestError(f"{where}: line {line} is not valid {encoding} text{why} (byte {exc.start}).", row=line,
                          file=where, key=f"{key}.encoding",
                          fix=f"set {key}.encoding to cp1252 (Windows-1252, common in Excel exports), "
                              "or save the file again from Excel as 'CSV UTF-8'", code="encoding") from None


def _physical_lines(raw: bytes) -> int:
    n = raw.count(b"\n")
    if b"\r" in raw:  # old Mac line ends count as lines too; Windows pairs count once
        n += raw.count(b"\r") - raw.count(b"\r\n")
    if raw and raw[-1:] not in (b"\r", b"\n"):
        n += 1
    return n


def _csv_text(path: Path, encoding: str, key: str) -> tuple[bytes, bytes, str | None, str, list[str]]:
    """The bytes of a CSV file, its body (without a UTF-8 mark), its text, the encoding used and warnings.

    The text is None for plain ASCII read as UTF-8 (the bytes read the same:
    callers decode only what they need). Raises :class:`IngestError` for a
    missing, unreadable, empty or undecodable file.
    """
    where = str(path)
    data = _read_bytes(path, key)
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if not body.lstrip(b" \t\r\n\x00"):  # all blank (lstrip copies nothing unless the file starts blank)
        raise IngestError(f"{where}: the file is empty.", file=where, key=f"{key}.file",
                          fix=f"export the data again, or point {key}.file at the right file", code="empty file")
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    if encoding in ("auto", "utf-8", "utf-8-sig") and data.isascii() and sniff_wide(data) is None:
        # plain ASCII reads the same in all of these: decode only what the header scan needs
        return data, body, None, ("utf-8-sig" if encoding == "utf-8-sig" else "utf-8"), []
    text, used, warnings = _decode(data, encoding, where, key)
    return data, body, text, used, warnings


def read_csv(path: Path, score: Callable[[list[str]], int], *, header_row: object = None,
             encoding: str = "auto", key: str = "inputs") -> RawTable:
    """Read a CSV file into a :class:`RawTable` (all values as text).

    ``header_row`` is the setting as written: None, or a whole number from 1 (anything else is refused, naming it).
    """
    where = str(path)
    data, body, text, used, warnings = _csv_text(path, encoding, key)
    if header_row is not None and not isinstance(header_row, int):  # refused here, before the delimiter is sniffed
        raise _bad_header_row(header_row, where, key)
    wanted = HEADER_SCAN_ROWS if header_row is None else max(header_row, 1)
    delimiter, head, head_lines = _sniff_delimiter(data if text is None else text, wanted, score, header_row,
                                                   where, key)
    named = where if delimiter == "," else f"{where} (values separated by {DELIMITERS[delimiter]})"
    hidx = find_header(head, score, header_row, named, key)
    if delimiter != "," and not (delimiter == "\t" and path.suffix.lower() == ".tsv"):
        warnings.append(f"values are separated by {DELIMITERS[delimiter]}, not commas; read as such")
    headers = header_names(head[hidx], hidx, where, key)
    table = None
    if head_lines == len(head) and hidx + 1 <= len(head):
        table = _fast_csv(None if used in ("utf-8", "utf-8-sig") else text, body, hidx, len(headers),
                          delimiter=delimiter)
    if table is not None:
        cols, n = table
        rows = np.arange(hidx + 2, hidx + 2 + n, dtype=np.int64)
        return RawTable(path, "csv", headers, cols, rows, hidx + 1, header_row is None, used, None, {}, warnings)
    return _slow_csv(path, data.decode("ascii") if text is None else text, hidx, headers, header_row is None, used,
                     warnings, delimiter=delimiter)


def _sniff_delimiter(text: str | bytes, wanted: int, score: Callable[[list[str]], int], header_row: int | None,
                     where: str, key: str) -> tuple[str, list[list[str]], int]:
    """The delimiter of a CSV text, with the first ``wanted`` records read with it and the lines they span.

    There is no setting for it: commas, unless the head read with commas names
    fewer than two known columns and read with another of :data:`DELIMITERS` it
    names more. When none names two, the delimiter splitting the most head
    lines into the same number of values is taken (the idea of
    ``csv.Sniffer``), so that naming the columns under ``columns`` can work.
    """
    def known(head: list[list[str]]) -> int:
        if header_row is not None:
            return score([_cell_text(c) for c in head[header_row - 1]]) if 0 < header_row <= len(head) else 0
        return max((score([_cell_text(c) for c in r]) for r in head[:HEADER_SCAN_ROWS]), default=0)

    def alike(head: list[list[str]]) -> int:
        counts = [len(r) for r in head if len(r) > 1]
        return max((counts.count(c) for c in set(counts)), default=0)

    found = {",": _head_records(text, wanted, where, key)}
    if known(found[","][0]) >= 2:
        return ",", *found[","]
    sample = text[:HEAD_PREFIX_CHARS]
    for d in DELIMITERS:
        if d not in found and (d.encode() in sample if isinstance(sample, bytes) else d in sample):
            try:
                found[d] = _head_records(text, wanted, where, key, delimiter=d)
            except IngestError:
                continue
    best = max(found, key=lambda d: known(found[d][0]))  # the first best, so commas on a tie
    if known(found[best][0]) < (1 if header_row is not None else 2):
        best = max(found, key=lambda d: alike(found[d][0]))
    return best, *found[best]


def _head_records(text: str | bytes, wanted: int, where: str, key: str,
                  delimiter: str = ",") -> tuple[list[list[str]], int]:
    """The first ``wanted`` CSV records of ``text`` (a str, or ASCII bytes) and the physical lines they span.

    Parses only the start of a large text when that provably gives the same
    records: one more record must begin inside it, so the first ``wanted`` ended there.
    """
    def decoded(part: str | bytes) -> str:
        return part.decode("ascii") if isinstance(part, bytes) else part

    if len(text) > HEAD_PREFIX_CHARS:
        try:
            reader = csv.reader(io.StringIO(decoded(text[:HEAD_PREFIX_CHARS]), newline=""), delimiter=delimiter)
            head = list(itertools.islice(reader, wanted))
            lines = reader.line_num
            if len(head) == wanted and next(reader, None) is not None:
                return head, lines
        except csv.Error:
            pass  # parse the whole text below, which reports the error as before
    try:
        reader = csv.reader(io.StringIO(decoded(text), newline=""), delimiter=delimiter)
        head = list(itertools.islice(reader, wanted))
        return head, reader.line_num
    except csv.Error as exc:
        raise IngestError(f"{where}: not readable as CSV near line {reader.line_num}: {exc}.", file=where,
                          key=f"{key}.file", fix="open the file in Excel and save it again as CSV") from None


def _read_bytes(path: Path, key: str) -> bytes:
    where = str(path)
    if not path.exists():
        raise IngestError(f"{where}: file not found.", file=where, key=f"{key}.file",
                          fix=f"put the extract there, or set {key}.file to its path (relative to report.yml)",
                          code="missing file")
    if path.is_dir():
        raise IngestError(f"{where} is a folder, not a file.", file=where, key=f"{key}.file",
                          fix=f"set {key}.file to the file inside it", code="missing file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{where}: cannot be read ({exc.strerror}).", file=where, key=f"{key}.file",
                          fix="check the file's permissions and that it is not open and locked") from None


def _fast_csv(text: str | None, body: bytes, hidx: int, ncols: int, *,
              delimiter: str = ",") -> tuple[list[pa.ChunkedArray], int] | None:
    """Parse with pyarrow when every physical line after the header is one record; else None."""
    invalid: list[int] = []

    def on_invalid(row: object) -> str:
        invalid.append(1)
        return "skip"

    raw = body if text is None else text.encode("utf-8")
    names = [f"c{i}" for i in range(ncols)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(raw),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=hidx + 1, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid,
                                             newlines_in_values=True),
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


def _split_line(line: str, delimiter: str) -> list[str]:
    """One physical line read as a CSV record on its own."""
    return next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), [])


def _runaway_field(rec: list[str], ncols: int, delimiter: str) -> int | None:
    """The position of a value that ran over line breaks because a quote was never closed, or None.

    Such a value holds, after its first line, a line that reads as a whole
    record by itself (at least as many values as there are headers, two of
    them filled in); a real multi-line value (an address, a note) does not.
    """
    for j, value in enumerate(rec):
        if "\n" in value or "\r" in value:
            for line in value.splitlines()[1:]:
                alone = _split_line(line, delimiter)
                if len(alone) >= ncols and sum(1 for v in alone if v.strip()) >= 2:
                    return j
    return None


def _quotes_balanced(lines: list[str], delimiter: str) -> bool:
    """True when ``lines`` read as CSV with strict quoting: every quote closed, and closed at the end of a value.

    A quote left open runs to the end of the file, or is "closed" by the next
    opening quote, which is followed by more text: strict reading fails on both.
    """
    try:
        for _ in csv.reader(io.StringIO("".join(lines), newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error:
        return False
    return True


def _line_record(line: str, ncols: int, delimiter: str) -> list[str]:
    """A line of a record that ran together, read as a record: its stray quote read as text if that fits better."""
    rec = _split_line(line, delimiter)
    if len(rec) == ncols or line.count('"') % 2 == 0:
        return rec
    text = line.rstrip("\r\n")
    for q in reversed([i for i, c in enumerate(text) if c == '"']):
        alt = _split_line(text[:q] + text[q + 1:], delimiter)
        if len(alt) == ncols:
            return alt
    return rec


def _slow_csv(path: Path, text: str, hidx: int, headers: list[str], detected: bool, used: str,
              warnings: list[str], *, delimiter: str = ",") -> RawTable:
    """Parse record by record with the csv module (multi-line values, blank lines, ragged rows).

    A record that runs over line breaks because a quote was never closed (see
    :func:`_runaway_field`) would swallow the records after it: its lines are
    read one by one instead, each as a row, and a warning names the row.
    """
    ncols = len(headers)
    records: list[list[str]] = []
    numbers: list[int] = []
    extra: dict[int, str] = {}
    short = 0
    lines: list[str] | None = None
    unclosed: list[str] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = end = 0
    try:
        for whole in reader:
            start, end = end, reader.line_num
            number += 1
            if number <= hidx + 1:
                continue
            parts = [whole]
            runaway = _runaway_field(whole, ncols, delimiter) if end - start > 1 and ncols > 1 else None
            if runaway is not None and lines is None:
                lines = list(io.StringIO(text, newline=""))
            if runaway is not None and lines is not None and not _quotes_balanced(lines[start:end], delimiter):
                parts = [_line_record(line, ncols, delimiter) for line in lines[start:end]]
                column = headers[runaway] if runaway < ncols else "(beyond the last header)"
                unclosed.append(f"row {number} (a quote in '{column}' runs over lines {start + 1}-{end}, "
                                f"read as {len(parts)} rows)")
            for k, rec in enumerate(parts):
                number += k > 0
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
                numbers.append(number)
    except csv.Error as exc:
        raise IngestError(f"{path}: not readable as CSV at row {reader.line_num}: {exc}.", file=str(path),
                          row=reader.line_num, fix="open the file in Excel and save it again as CSV") from None
    if unclosed:
        listed = "; ".join(unclosed[:5]) + (f"; and {len(unclosed) - 5} more" if len(unclosed) > 5 else "")
        warnings.append(f"{len(unclosed)} quote(s) never closed, which would have swallowed the records after them: "
                        f"{listed}. Each line was read as its own row, the stray quote as text. Fix: remove the "
                        "stray quote (or close it) in the source, or export the CSV again")
    if short:
        warnings.append(f"{short} row(s) have fewer values than there are headers; the missing values are blank")
    cols = [np.array([r[j] for r in records], dtype=object) for j in range(ncols)]
    return RawTable(path, "csv", headers, cols, np.array(numbers, dtype=np.int64), hidx + 1, detected, used,
                    None, extra, warnings)


def _is_workbook(path: Path, key: str) -> bool:
    """True for an Excel (or OpenDocument) workbook: by extension, else by its first bytes."""
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return True
    if suffix in CSV_SUFFIXES:
        return False
    head = _read_bytes(path, key)[:8]
    return head[:4] == b"PK\x03\x04" or head == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_input(path: Path, score: Callable[[list[str]], int], *, sheet: object = None,
               header_row: object = None, encoding: str = "auto", key: str = "inputs") -> RawTable:
    """Read a CSV or XLSX source (chosen by extension, then by content) into a :class:`RawTable`."""
    if _is_workbook(path, key):
        from safeguarding.ingest.workbooks import read_xlsx

        return read_xlsx(path, score, sheet=sheet, header_row=header_row, key=key)
    return read_csv(path, score, header_row=header_row, encoding=encoding, key=key)


def column_as_series(values: pd.Series | np.ndarray) -> pd.Series:
    """Wrap a raw column (pandas Series or object array) as a Series without copying text."""
    return values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)


@dataclass
class Grid:
    """Every row of one CSV file or sheet as read, title rows and all: ``rows[i]`` is row ``numbers[i]``.

    For readers that find their own header and read across as well as down
    (partners' returns: one column per month). Rows are padded to one width:
    CSV cells are text (``""`` when empty), sheet cells as the workbook holds
    them (None when empty; whole numbers as ``int``, as typed).
    """

    path: Path
    fmt: str
    rows: list[list[object]]
    numbers: list[int]
    encoding: str | None = None
    sheet: str | None = None
    delimiter: str | None = None
    #: (row number, 0-based column) -> formula, for cells whose formula has no saved result (read as blank)
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def read_grid(path: Path, score: Callable[[list[str]], int], *, sheet: object = None,
              encoding: str = "auto", delimiter: object = None, key: str = "inputs") -> Grid:
    """Read a CSV file or one sheet of a workbook into a :class:`Grid`, decoding as :func:`read_input` does.

    The same layer as :func:`read_input`: encodings (BOMs, UTF-16/32, cp1252),
    sheets (by name, loosely matched, or 1-based number; else the first
    visible one) and the delimiter (``delimiter``, else found with ``score``,
    which counts the header-like cells of a row: see :func:`_sniff_delimiter`;
    the one used is :attr:`Grid.delimiter`). Raises :class:`IngestError` (with a ``code``) when the file cannot be read.
    """
    where = str(path)
    if _is_workbook(path, key):
        from safeguarding.ingest.workbooks import uncached_formulas, workbook_rows

        data, name, rows, warnings = workbook_rows(path, sheet, key)
        width = max((len(r) for r in rows), default=0)
        rows = [[int(c) if isinstance(c, float) and c.is_integer() else c for c in r] + [None] * (width - len(r))
                for r in rows]
        formulas: dict[tuple[int, int], str] = {}
        if any(c is None for r in rows for c in r):
            formulas = {(r, c - 1): f for r, c, _ref, f in uncached_formulas(data, name)}
        return Grid(path, "xlsx", rows, list(range(1, len(rows) + 1)), None, name, None, formulas, warnings)
    data, _body, text, used, warnings = _csv_text(path, encoding, key)
    if text is None:
        text = data.decode("ascii")
    if text.startswith("\ufeff"):
        text = text[1:]
    if not (isinstance(delimiter, str) and len(delimiter) == 1):
        delimiter = _sniff_delimiter(text, HEADER_SCAN_ROWS, score, None, where, key)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[list[str]] = []
    try:
        for record in reader:
            records.append(record)
    except csv.Error as exc:
        raise IngestError(f"{where}: not readable as CSV at row {len(records) + 1}: {exc}.", file=where,
                          row=len(records) + 1, key=f"{key}.file",
                          fix="open the file in Excel and save it again as CSV UTF-8; look for a quotation mark "
                              "that is never closed") from None
    width = max((len(r) for r in records), default=0)
    cells: list[list[object]] = [[*r, *[""] * (width - len(r))] for r in records]
    return Grid(path, "csv", cells, list(range(1, len(records) + 1)), used, None, delimiter, {}, warnings)
