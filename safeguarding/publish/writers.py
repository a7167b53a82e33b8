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
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

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
        if not (pd.api.types.is_numeric_dtype(out[c]) or pd.api.types.is_datetime64_any_dtype(out[c])):
            out[c] = out[c].map(safe_text).astype(object)
    return out


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


def write_xlsx(df: pd.DataFrame, path: str | Path, sheet_name: str = "data", *, title: str | None = None,
               markers: Mapping[str, str] | None = None,
               notes: Sequence[tuple[str, Sequence[tuple[str, str]]]] = ()) -> Path:
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
    as a formula (formula-like text is neutralised by :func:`safe_text` and
    typed as a string); dates are written as ``YYYY-MM-DD`` text. The data sheet
    is streamed (openpyxl's write-only mode), so memory does not grow with the
    cells kept in it.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    markers = MARKERS if markers is None else markers
    numeric = set(numeric_columns(df, markers))
    safe = _safe_frame(df)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_name[:31])
    bold = Font(bold=True)
    formats: dict[int, str] = {}

    def text_cell(value: str, *, strong: bool = False) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"  # never a formula, whatever the text
        if strong:
            cell.font = bold
        return cell

    def number_cell(value: float, places: int) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=value)
        if places not in formats:
            formats[places] = "0." + "0" * places
        cell.number_format = formats[places]
        return cell

    def convert(v: object, is_numeric: bool) -> object:
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
                return number_cell(number, len(text) - text.index(".") - 1)
            if number is not None:
                return number
        return text_cell(text) if text.startswith("=") else text

    for j, name in enumerate(safe.columns, start=1):
        width = max([len(str(name))] + [len(str(v)) for v in safe.iloc[:200, j - 1]]) + 2
        ws.column_dimensions[get_column_letter(j)].width = min(width, 60)
    ws.freeze_panes = "A2"
    ws.append([text_cell(str(name), strong=True) for name in safe.columns])
    flags = [name in numeric for name in df.columns]
    for row in zip(*(df[c].tolist() if f else safe[s].tolist()
                     for c, s, f in zip(df.columns, safe.columns, flags, strict=True)), strict=True):
        ws.append([convert(v, f) for v, f in zip(row, flags, strict=True)])

    sheet = wb.create_sheet("notes")
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 100

    def note_cell(value: object, *, strong: bool = False) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=str(safe_text(str(value))))
        cell.data_type = "s"
        if strong:
            cell.font = bold
        return cell

    sheet.append([note_cell(title or "Notes", strong=True)])
    for heading, rows in [("Symbol", list(markers.items())), *notes]:
        sheet.append([])
        sheet.append([note_cell(heading, strong=True), note_cell("Meaning", strong=True)])
        for term, meaning in rows:
            sheet.append([note_cell(term), note_cell(meaning)])
    wb.save(path)
    return path
