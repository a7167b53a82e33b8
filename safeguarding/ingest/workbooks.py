"""Read one sheet of an Excel (or OpenDocument) workbook: sheets, formulas without results, row numbers.

Uses python-calamine when installed (fast; also reads old .xls files),
openpyxl otherwise. :func:`read_xlsx` gives a :class:`~.readers.RawTable` as
:func:`~.readers.read_csv` does for CSV files; :func:`workbook_rows` gives a
sheet's rows as they are (also used by :func:`~.readers.read_grid`).
"""

from __future__ import annotations

import html
import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from safeguarding.ingest.errors import IngestError
from safeguarding.ingest.readers import RawTable, _cell_text, _read_bytes, find_header, header_names
from safeguarding.ingest.validate import is_none


def _sheet_name(names: list[str], sheet: object, visible: list[bool] | None = None) -> str:
    """The sheet to read: the configured name, a 1-based sheet number, or the first visible sheet."""
    if sheet is None:
        shown = [n for n, v in zip(names, visible or [True] * len(names), strict=False) if v]
        return shown[0] if shown else names[0] if names else ""
    if isinstance(sheet, int) and not isinstance(sheet, bool) and 1 <= sheet <= len(names) \
            and str(sheet) not in names:
        return names[sheet - 1]
    if str(sheet) not in names:  # 'police return ' names the sheet 'Police return'
        wanted = " ".join(str(sheet).split()).casefold()
        return next((n for n in names if " ".join(n.split()).casefold() == wanted), str(sheet))
    return str(sheet)


def _sheet_rows_calamine(data: bytes, sheet: object) -> tuple[list[str], str, list[list[object]]]:
    """Read one sheet with python-calamine (fast, Rust): rows from A1, empty cells as None."""
    import python_calamine

    wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    names = list(wb.sheet_names)
    shown = getattr(getattr(python_calamine, "SheetVisibleEnum", None), "Visible", None)
    visible = [shown is None or m.visible == shown for m in getattr(wb, "sheets_metadata", [])] or None
    name = _sheet_name(names, sheet, visible)
    if name not in names:
        return names, name, []
    rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    return names, name, [[None if c == "" else c for c in r] for r in rows]


def _sheet_rows_openpyxl(data: bytes, sheet: object) -> tuple[list[str], str, list[list[object]]]:
    """Read one sheet with openpyxl in read-only mode (slower; used when python-calamine is absent)."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        names = list(wb.sheetnames)
        name = _sheet_name(names, sheet, [getattr(wb[n], "sheet_state", "visible") == "visible" for n in names])
        if name not in names:
            return names, name, []
        ws = wb[name]
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()
        return names, name, [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


#: ends of formula elements (``</f>``, ``<f/>``, also prefixed): found by a plain byte search, far faster than a regex
_FORMULA_ENDS = (b"f>", b"f/>")
#: a formula cell and how its value element ends: missing (``</c>``) or empty means no result was saved
_FORMULA_CELL = re.compile(
    rb"<(?:\w+:)?c\s([^>]*)>\s*<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)\s*"
    rb"(<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>|</(?:\w+:)?c>)", re.S)
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')


def _sheet_part(z: zipfile.ZipFile, name: str) -> str | None:
    """The member of an .xlsx holding the sheet called ``name`` (from the workbook and its relationships)."""
    from xml.etree import ElementTree

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    rid = None
    for el in ElementTree.fromstring(z.read("xl/workbook.xml")).iter():
        if local(el.tag) == "sheet" and el.get("name") == name:
            rid = next((v for k, v in el.attrib.items() if local(k) == "id"), None)
    for el in ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels")).iter():
        if rid is not None and el.get("Id") == rid:
            target = el.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
    return None


def uncached_formulas(data: bytes, sheet: str) -> list[tuple[int, int, str, str]]:
    """Formula cells of an .xlsx sheet saved without their result: (row, column, cell, formula), 1-based.

    The formula is shown as written (``=A2+14``), or as ``a shared formula``
    for a cell that only points to another cell's formula.

    Programs that write workbooks without calculating them (scripts, some
    exports) leave such cells, which every reader then sees as blank. Returns
    [] when there are none or the workbook cannot be looked into.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            part = _sheet_part(z, sheet)
            if part is None:
                return []
            with z.open(part) as fh:  # most sheets hold no formula: find one before reading the whole sheet
                tail = b""
                while chunk := fh.read(1 << 22):
                    edge = tail + chunk[:16]  # an end split between two chunks (the chunk itself is not copied)
                    if any(end in chunk or end in edge for end in _FORMULA_ENDS):  # perhaps a formula: look closer
                        break
                    tail = chunk[-16:]
                else:
                    return []
            xml = z.read(part)
    except Exception:  # only a closer look: the sheet itself was read already, so never fail here
        return []
    found = []
    for m in _FORMULA_CELL.finditer(xml):
        attrs, formula, end = m.groups()
        ref = _CELL_REF.search(attrs)
        if ref is None or (b't="str"' in attrs and not end.endswith(b"c>")):  # a saved empty text result
            continue
        letters = ref.group(1).decode()
        col = 0
        for ch in letters:
            col = col * 26 + ord(ch) - 64
        shown = "=" + html.unescape(formula.decode("utf-8", "replace")) if formula else "a shared formula"
        found.append((int(ref.group(2)), col, f"{letters}{int(ref.group(2))}", shown))
    return found


def _check_formulas(data: bytes, sheet: str, rows: list[list[object]], hidx: int, headers: list[str],
                    cols: list[np.ndarray], score: Callable[[list[str]], int], where: str, key: str) -> None:
    """Raise :class:`IngestError` when a formula without a saved result sits in a known column of a data row.

    Read as blank, such cells would be rejected as blank or, worse, taken as
    blank (an open plan, no team). Formulas in columns not read, or in rows
    otherwise blank (a template filled down), do not matter. The workbook is
    only looked into when a known column (``cols``, by header) has a blank cell.
    """
    ncols = len(headers)
    known = [bool(h) and score([h]) > 0 for h in headers]
    if data[:4] != b"PK\x03\x04" or not any(k and is_none(c).any() for k, c in zip(known, cols, strict=True)):
        return
    cells = uncached_formulas(data, sheet)
    if not cells:
        return
    hits = []
    for r, c, ref, formula in cells:
        i, j = r - 1, c - 1
        if i <= hidx or i >= len(rows) or j >= ncols or not known[j]:
            continue
        row = rows[i]
        if j < len(row) and row[j] is not None:
            continue  # the reader has a value for it after all
        if any(_cell_text(v) for k, v in enumerate(row[:ncols]) if k != j):
            hits.append((r, headers[j], ref, formula))
    if hits:
        r, header, ref, formula = hits[0]
        raise IngestError(
            f"{where} (sheet {sheet!r}): {len(hits)} formula cell(s) in the data have no saved result and would "
            f"read as blank, the first {ref} in '{header}' (row {r}): {formula}. The workbook was saved by a "
            "program that does not calculate formulas.", file=where, key=f"{key}.file", row=r, column=header,
            fix="open the workbook in Excel (or LibreOffice Calc) and save it, so that the results are stored; or "
                "copy the sheet and paste it as values")


def workbook_rows(path: Path, sheet: object, key: str) -> tuple[bytes, str, list[list[object]], list[str]]:
    """The bytes of a workbook, the sheet read, its rows from A1 (trailing blank rows dropped) and warnings.

    Uses python-calamine when installed (also reads old .xls files), openpyxl
    otherwise. Raises :class:`IngestError` for a missing, empty or unreadable
    workbook, a sheet that is not there, and an empty sheet.
    """
    where = str(path)
    data = _read_bytes(path, key)
    if not data.strip():
        raise IngestError(f"{where}: the file is empty.", file=where, key=f"{key}.file",
                          fix=f"save the workbook again, or point {key}.file at the right file", code="empty file")
    fix = "open it in Excel and save it again as an Excel Workbook (.xlsx), or export the sheet as CSV"
    try:
        import python_calamine  # noqa: F401

        backend = _sheet_rows_calamine
    except ImportError:
        backend = _sheet_rows_openpyxl
        if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise IngestError(f"{where}: unreadable workbook: this is an old .xls (Excel 97-2003) file.",
                              file=where, key=f"{key}.file", fix=fix, code="unreadable workbook") from None
    try:
        names, sheet_name, rows = backend(data, sheet)
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except BaseException as exc:  # damaged files raise many kinds (zip, XML, Rust panics)
        raise IngestError(f"{where}: unreadable workbook ({type(exc).__name__}).", file=where,
                          key=f"{key}.file", fix=fix, code="unreadable workbook") from None
    if not names:
        raise IngestError(f"{where}: the workbook has no sheets.", file=where, key=f"{key}.file", fix=fix,
                          code="unreadable workbook")
    if sheet is not None and sheet_name not in names:
        listed = ", ".join(map(repr, names))
        raise IngestError(f"{where}: there is no sheet called {sheet!r}; sheets: {listed}.",
                          file=where, key=f"{key}.sheet", fix=f"set {key}.sheet to one of the sheet names: {listed}",
                          code="sheet not found")
    warnings: list[str] = []
    if sheet is None and sheet_name in names and sheet_name != names[0]:
        hidden = names[:names.index(sheet_name)]
        warnings.append(f"the first sheet{'s' if len(hidden) > 1 else ''}, {', '.join(map(repr, hidden))}, "
                        f"{'are' if len(hidden) > 1 else 'is'} hidden; read the first visible sheet, {sheet_name!r} "
                        f"(set {key}.sheet to choose another)")
    elif sheet is None and len(names) > 1:
        warnings.append(f"the workbook has {len(names)} sheets; read the first, {names[0]!r} "
                        f"(set {key}.sheet to choose another)")
    while rows and all(c is None or (isinstance(c, str) and not c.strip()) for c in rows[-1]):
        rows.pop()
    if not rows:
        raise IngestError(f"{where}: sheet {sheet_name!r} is empty.", file=where, key=f"{key}.sheet",
                          fix=f"set {key}.sheet to the sheet holding the data", code="empty file")
    return data, sheet_name, rows, warnings


def read_xlsx(path: Path, score: Callable[[list[str]], int], *, sheet: object = None,
              header_row: object = None, key: str = "inputs") -> RawTable:
    """Read one sheet of an Excel workbook into a :class:`RawTable` (cell values as the reader gives them).

    Uses python-calamine when installed (also reads old .xls files), openpyxl otherwise.
    """
    where = str(path)
    data, sheet_name, rows, warnings = workbook_rows(path, sheet, key)
    hidx = find_header(rows, score, header_row, f"{where} (sheet {sheet_name!r})", key)
    headers = header_names(rows[hidx], hidx, where, key)
    ncols = len(headers)
    body = rows[hidx + 1:]
    extra: dict[int, str] = {}
    for i, r in enumerate(body):
        if len(r) > ncols:
            tail = [_cell_text(v) for v in r[ncols:] if _cell_text(v)]
            if tail:
                extra[i] = ",".join(tail)
    by_column: Sequence[Sequence[object]]
    if not body:
        by_column = [() for _ in range(ncols)]
    elif all(len(r) >= ncols for r in body):  # the usual rectangular sheet: transpose in C
        by_column = [*zip(*body, strict=False)][:ncols]
    else:
        by_column = [[r[j] if j < len(r) else None for r in body] for j in range(ncols)]
    cols = []
    for values in by_column:
        col = np.empty(len(body), dtype=object)
        col[:] = values
        cols.append(col)
    _check_formulas(data, sheet_name, rows, hidx, headers, cols, score, where, key)
    numbers = np.arange(hidx + 2, hidx + 2 + len(body), dtype=np.int64)
    return RawTable(path, "xlsx", headers, cols, numbers, hidx + 1, header_row is None, None, sheet_name,
                    extra, warnings)
