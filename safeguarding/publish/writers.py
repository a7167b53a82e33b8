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
from collections.abc import Mapping
from pathlib import Path

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


def write_xlsx(df: pd.DataFrame, path: str | Path, sheet_name: str = "data", *, title: str | None = None,
               markers: Mapping[str, str] | None = None) -> Path:
    """Write ``df`` to an XLSX workbook with a header row and a ``notes`` sheet explaining the markers.

    ``markers`` maps each marker to its meaning (default
    :data:`~safeguarding.disclosure.policy.MARKERS`; a policy's own wording:
    ``policy.markers()``).

    Text is written as text, never as a formula (formula-like text is
    neutralised by :func:`safe_text` and typed as a string); numbers stay
    numbers; dates are written as ``YYYY-MM-DD`` text.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_name[:31]
    safe = _safe_frame(df)

    def put(r: int, c: int, v: object, bold: bool = False) -> None:
        cell = ws.cell(row=r, column=c)
        if isinstance(v, pd.Timestamp):
            v = v.strftime("%Y-%m-%d")
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
            return
        if isinstance(v, (bool, np.bool_)):
            cell.value = bool(v)
        elif isinstance(v, (int, float, np.integer, np.floating)):
            cell.value = v.item() if hasattr(v, "item") else v
        else:
            cell.value = str(v)
            cell.data_type = "s"  # never a formula, whatever the text
        if bold:
            cell.font = Font(bold=True)

    for j, name in enumerate(safe.columns, start=1):
        put(1, j, name, bold=True)
    for i, row in enumerate(safe.itertuples(index=False), start=2):
        for j, v in enumerate(row, start=1):
            put(i, j, v)
    ws.freeze_panes = "A2"
    for j, name in enumerate(safe.columns, start=1):
        width = max([len(str(name))] + [len(str(v)) for v in safe.iloc[:200, j - 1]]) + 2
        ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = min(width, 60)

    notes = wb.create_sheet("notes")
    markers = MARKERS if markers is None else markers
    lines = [title or "Notes", "", "Symbol", *markers.keys()]
    notes.cell(row=1, column=1, value=str(safe_text(lines[0]))).font = Font(bold=True)
    notes.cell(row=3, column=1, value="Symbol").font = Font(bold=True)
    notes.cell(row=3, column=2, value="Meaning").font = Font(bold=True)
    for i, (sym, meaning) in enumerate(markers.items(), start=4):
        notes.cell(row=i, column=1, value=sym).data_type = "s"
        notes.cell(row=i, column=2, value=meaning).data_type = "s"
    notes.column_dimensions["A"].width = 10
    notes.column_dimensions["B"].width = 100
    wb.save(path)
    return path
