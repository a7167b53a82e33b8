"""Writing published tables as CSV and XLSX that no spreadsheet can run as formulas.

:func:`safe_text` neutralises text that a spreadsheet would treat as a
formula (OWASP CSV injection); :func:`write_csv` and :func:`write_xlsx` write
a frame with every text cell so treated, and the workbook gets a ``notes``
sheet explaining the disclosure markers (``c``, ``z``, ``x``, ``:``, ``0``).

This module writes what it is given: it does not suppress anything (that
is :mod:`safeguarding.disclosure`, which must run first for public tables).
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import numpy as np
import pandas as pd

from safeguarding.disclosure.policy import MARKERS

#: first characters that make a spreadsheet read text as a formula (with their full-width forms)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


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
    """A copy of ``df`` whose column names and text cells have passed through :func:`safe_text`."""
    out = df.copy()
    out.columns = [safe_text(str(c)) for c in out.columns]
    for c in out.columns:
        col = out[c]
        if _all_text(col):  # once per distinct value; missing values kept as they are
            codes, uniques = pd.factorize(col, use_na_sentinel=True)
            safe = np.array([safe_text(u) for u in uniques] + [None], dtype=object)
            values = col.to_numpy(dtype=object, copy=True)
            known = codes >= 0
            values[known] = safe[codes[known]]
            out[c] = pd.Series(values, index=out.index, dtype=object)
        elif not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_datetime64_any_dtype(col)):
            out[c] = col.map(safe_text).astype(object)
    return out


def _all_text(col: pd.Series) -> bool:
    """Whether every value of ``col`` is a ``str`` or missing (so that :func:`pandas.factorize` cannot confuse
    ``1`` with ``True`` or ``1.0``)."""
    return ((col.dtype == object or isinstance(col.dtype, pd.StringDtype))
            and pd.api.types.infer_dtype(col, skipna=True) in ("string", "empty"))


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


#: text that is written to a workbook as a number: an optional minus, digits, and optionally a decimal part
_NUMBER_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


def _number(text: str) -> int | float | None:
    """``text`` as a number when it is one as the published tables write numbers (``"13"``, ``"42.5"``), else None."""
    if not _NUMBER_TEXT.fullmatch(text):
        return None
    return float(text) if "." in text else int(text)


def numeric_columns(df: pd.DataFrame, markers: Mapping[str, str] | None = None) -> list[str]:
    """The columns of ``df`` that hold numbers: numeric dtypes, and text columns whose every non-empty cell is a
    number written as text (``"13"``, ``"42.5"``) or a marker (``c``, ``x``, ``z``, ``:``), with at least one number.

    A column such as ``breakdown_value`` ("1", "2", "3+") is text: one cell that is not a number or a marker
    keeps the whole column as text, so that a column never mixes numbers with number-like text.
    """
    symbols = set(MARKERS if markers is None else markers)
    out = []
    for name in df.columns:
        col = df[name]
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_datetime64_any_dtype(col):
            continue
        if pd.api.types.is_numeric_dtype(col):
            out.append(name)
            continue
        seen_number = False
        for v in col.dropna().unique():
            if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)):
                seen_number = True
            elif isinstance(v, str) and (v == "" or v in symbols):
                continue
            elif isinstance(v, str) and _number(v) is not None:
                seen_number = True
            else:
                break
        else:
            if seen_number:
                out.append(name)
    return out


#: the creation date written into every workbook's properties, so that the same table gives the same bytes
FIXED_CREATED = datetime(2000, 1, 1)


def _inline_text(text: str) -> str:
    """``text`` as XlsxWriter's constant-memory mode writes it literally.

    In that mode XlsxWriter writes a string that starts with ``<r>`` and ends
    with ``</r>`` as raw rich-text XML; such text is escaped here into one run
    of plain text, so that it reads back as itself and cannot corrupt the sheet.
    """
    if text.startswith("<r>") and text.endswith("</r>"):
        space = ' xml:space="preserve"' if text != text.strip() else ""
        return f"<r><t{space}>{xml_escape(text)}</t></r>"
    return text


#: a workbook cell: nothing, text, a flag, a number, or a number with its decimal places (for ``0.0``)
_Cell = None | str | bool | int | float | tuple[float, int]


def _cell(v: object, is_numeric: bool) -> _Cell:
    """The workbook cell for ``v`` (from :func:`_safe_frame`, or from the raw frame in a numeric column)."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return v.item() if hasattr(v, "item") else v
    text = str(v)
    if text == "":
        return None
    if is_numeric:
        number = _number(text)
        if isinstance(number, float):
            return number, len(text) - text.index(".") - 1
        if number is not None:
            return number
    return text


#: literal ``_xHHHH_`` text, which Excel would read as an escaped character (so its underscore is escaped)
_ESCAPE_LIKE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
#: control characters, which XML cannot hold: written as ``_xHHHH_``
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")


def _string_xml(text: str) -> str:
    """An inline-string cell's type and content (after ``<c r="A1"``), escaped exactly as XlsxWriter escapes text."""
    data = _ESCAPE_LIKE.sub(r"_x005F\1", text)
    data = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", data)
    data = data.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    data = data.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    space = ' xml:space="preserve"' if re.search(r"^\s|\s$", text) else ""
    return f' t="inlineStr"><is><t{space}>{data}</t></is></c>'


def _cell_xml(cell: _Cell, number_style: Callable[[int], int]) -> str:
    """What follows ``<c r="A1"`` in the sheet for ``cell`` (XlsxWriter's own markup), or ``""`` for no cell.

    ``number_style(places)`` is the style index of the number format with that many decimal places.
    """
    if cell is None:
        return ""
    if isinstance(cell, str):
        return _string_xml(cell)
    if isinstance(cell, bool):
        return f' t="b"><v>{int(cell)}</v></c>'
    if isinstance(cell, tuple):
        number, places = cell
        return f' s="{number_style(places)}"><v>{number:.16G}</v></c>'
    if math.isinf(cell):
        raise TypeError(f"an infinite number ({cell}) cannot be written to a workbook")
    return f"><v>{cell:.16G}</v></c>"


def _column_xml(col: pd.Series, is_numeric: bool,
                number_style: Callable[[int], int]) -> tuple[np.ndarray, list[str]]:
    """One column as ``(codes, markup)``: the cell of row ``i`` is ``markup[codes[i]]`` (``""``: no cell).

    A column of text (the published tables hold every cell as text) is
    converted once per distinct value (:func:`pandas.factorize`); any other
    column value by value, as :func:`_cell` says.
    """
    if _all_text(col):
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        markup = [_cell_xml(_cell(v, is_numeric), number_style) for v in uniques]
        markup.append("")  # code -1: a missing value
        return codes, markup
    seen: dict[str, int] = {}
    codes = np.array([seen.setdefault(_cell_xml(_cell(v, is_numeric), number_style), len(seen))
                      for v in col.tolist()], dtype=np.int64)
    return codes, list(seen)


def _column_letter(j: int) -> str:
    """The letters of the ``j``-th column, from 0 (``A``, ..., ``Z``, ``AA``, ...)."""
    letters = ""
    j += 1
    while j:
        j, rest = divmod(j - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _rows_xml(columns: Sequence[tuple[np.ndarray, list[str]]], first_row: int, chunk: int = 1024) -> Iterator[str]:
    """The ``<row>`` elements of the data, ``chunk`` rows at a time; a row without a cell is left out, as XlsxWriter
    leaves it out. ``first_row`` is the (1-based) number of the first data row."""
    n = len(columns[0][0]) if columns else 0
    letters = [_column_letter(j) for j in range(len(columns))]
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        numbers = range(first_row + start, first_row + stop)
        cells = []
        for letter, (codes, markup) in zip(letters, columns, strict=True):
            cells.append([f'<c r="{letter}{r}"{markup[k]}' if markup[k] else ""
                          for r, k in zip(numbers, codes[start:stop].tolist(), strict=True)])
        out = []
        for r, row in zip(numbers, zip(*cells, strict=True), strict=True):
            body = "".join(row)
            if body:
                out.append(f'<row r="{r}">{body}</row>')
        yield "".join(out)


def write_xlsx(df: pd.DataFrame, path: str | Path, sheet_name: str = "data", *, title: str | None = None,
               markers: Mapping[str, str] | None = None,
               notes: Sequence[tuple[str, Sequence[tuple[str, str]]]] = (),
               created: datetime | None = None) -> Path:
    """Write ``df`` to an XLSX workbook with a header row and a ``notes`` sheet explaining the markers.

    ``markers`` maps each marker to its meaning (default
    :data:`~safeguarding.disclosure.policy.MARKERS`; a policy's own wording:
    ``policy.markers()``). ``notes`` adds sections to the notes sheet after the
    markers, each a heading and its (term, meaning) rows (e.g. the columns and
    the statuses).

    Numbers are written as numbers, also when the table holds them as text
    (``"13"``, ``"42.5"``) in a column of numbers and markers
    (:func:`numeric_columns`): a decimal keeps its places through a number
    format (``0.0``), so the workbook shows what the CSV says. The markers
    (``c``, ``x``, ``z``, ``:``) and all other text are written as text, never
    as a formula or a link (formula-like text is neutralised by
    :func:`safe_text` and written as a string); dates are written as
    ``YYYY-MM-DD`` text. An infinite number has no place in a workbook: it
    raises :class:`TypeError` (XlsxWriter would write it as a formula).

    XlsxWriter (constant-memory mode) writes the workbook: styles, properties,
    header, column widths, frozen header row and the notes sheet. The data
    rows are then added to its data sheet in XlsxWriter's own markup
    (:func:`_add_rows`), converted column by column once per distinct value
    and written a few thousand rows at a time, which is several times faster
    than XlsxWriter's cell-by-cell writing and keeps memory to the rows of
    one chunk beside one code per cell.

    The workbook's creation date is ``created`` (default
    :data:`FIXED_CREATED`), so the same table written twice gives the same bytes.
    """
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    markers = MARKERS if markers is None else markers
    numeric = set(numeric_columns(df, markers))
    safe = _safe_frame(df)

    package = io.BytesIO()
    wb = xlsxwriter.Workbook(package, {"constant_memory": True, "strings_to_formulas": False,
                                       "strings_to_urls": False, "strings_to_numbers": False})
    try:
        wb.set_properties({"created": created or FIXED_CREATED})
        bold = wb.add_format({"bold": True})
        styles: dict[int, int] = {}

        def number_style(places: int) -> int:
            if places not in styles:
                fmt = wb.add_format({"num_format": "0." + "0" * places})
                styles[places] = fmt._get_xf_index()  # registers the format: the data cells are not written through it
            return styles[places]

        columns = [_column_xml(df[c] if c in numeric else safe[s], c in numeric, number_style)
                   for c, s in zip(df.columns, safe.columns, strict=True)]

        ws = wb.add_worksheet(sheet_name[:31])
        for j, name in enumerate(safe.columns):
            width = max([len(str(name))] + [len(str(v)) for v in safe.iloc[:200, j]]) + 2
            ws.set_column_pixels(j, j, 7 * min(width, 60))  # 7 pixels a character: the width is stored as given
        ws.freeze_panes(1, 0)
        for j, name in enumerate(safe.columns):
            ws.write_string(0, j, _inline_text(str(name)), bold)

        sheet = wb.add_worksheet("notes")
        sheet.set_column_pixels(0, 0, 7 * 24)
        sheet.set_column_pixels(1, 1, 7 * 100)

        def note(r: int, c: int, value: object, *, strong: bool = False) -> None:
            sheet.write_string(r, c, _inline_text(str(safe_text(str(value)))), bold if strong else None)

        note(0, 0, title or "Notes", strong=True)
        r = 1
        for heading, rows in [("Symbol", list(markers.items())), *notes]:
            r += 1  # a blank row before each section
            note(r, 0, heading, strong=True)
            note(r, 1, "Meaning", strong=True)
            r += 1
            for term, meaning in rows:
                note(r, 0, term)
                note(r, 1, meaning)
                r += 1
    finally:
        wb.close()
    _add_rows(package, path, "xl/worksheets/sheet1.xml", columns)
    return path


def _add_rows(package: io.BytesIO, path: Path, member: str,
              columns: Sequence[tuple[np.ndarray, list[str]]]) -> None:
    """Copy the workbook ``package`` to ``path`` with the data rows (:func:`_rows_xml`) after the header row of
    its sheet ``member``, and the sheet's dimension (its used range) widened to them.

    XlsxWriter writes the workbook (styles, properties, header, notes), and
    the rows are added here in its own markup, column by column: XlsxWriter's
    cell-by-cell writing takes most of a second per 100,000 cells.
    """
    rows = len(columns[0][0]) if columns else 0
    filled = np.zeros(rows, dtype=bool)
    for codes, markup in columns:
        empty = np.array([m == "" for m in markup], dtype=bool)
        filled |= ~empty[codes]
    last_row = int(np.flatnonzero(filled)[-1]) + 2 if filled.any() else 1
    package.seek(0)
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename != member:
                target.writestr(info, data)
                continue
            text = data.decode("utf-8")
            if "</sheetData>" not in text:  # no header, so no rows (a table without columns)
                target.writestr(info, data)
                continue
            if columns:
                ref = f"A1:{_column_letter(len(columns) - 1)}{last_row}" if (last_row, len(columns)) != (1, 1) else "A1"
                text = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="{ref}"/>', text, count=1)
            head, tail = text.split("</sheetData>", 1)
            with target.open(info, "w") as out:
                out.write(head.encode("utf-8"))
                for chunk in _rows_xml(columns, first_row=2):
                    out.write(chunk.encode("utf-8"))
                out.write(b"</sheetData>" + tail.encode("utf-8"))
