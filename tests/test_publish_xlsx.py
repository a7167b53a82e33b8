"""The XLSX data file as written by XlsxWriter (issue 19, item 2): every cell read back with openpyxl has the value,
the type and the number format the table means, nothing is a formula or a link, and the same table gives the same
bytes."""

from __future__ import annotations

import datetime as dt
import re
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from safeguarding.disclosure.policy import MARKERS
from safeguarding.publish.writers import safe_text, write_xlsx

SHEET = "Indicators of the annual reviews 2025-26"  # 40 characters: cut to 31 for Excel


def _tricky() -> pd.DataFrame:
    """A table with every kind of cell the writer must get right, column by column."""
    return pd.DataFrame({
        # numbers held as text beside markers: a column of numbers
        "value": ["13", "42.5", "80.0", "0.25", "c", "x", "z", ":", "", "-2", "0"],
        # a text column: '3+' keeps '1' and '2' as text
        "label": ["1", "2", "3+", "=1+1", "+SUM(A1)", "@x", "-2", "http://example.org", "<r>x</r>",
                  " =HYPERLINK(\"http://evil\")", "café ✓ 子供"],
        "count": np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], dtype="int64"),
        "rate": [0.5, 1.25, np.nan, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        "when": pd.to_datetime(["2024-04-01"] * 10 + [None]),
        "flag": [True, False] * 5 + [True],
        "mixed": [None, np.nan, "text", "", "mailto:a@b.c", "\tTAB", "2024-04-01", "c", "1.5", "www.x.org",
                  "－1"],
    })


#: (row, column name) -> (value, openpyxl data type, number format) for the cells that matter
EXPECTED: dict[tuple[int, str], tuple[object, str, str]] = {
    (2, "value"): (13, "n", "General"), (3, "value"): (42.5, "n", "0.0"), (4, "value"): (80, "n", "0.0"),
    (5, "value"): (0.25, "n", "0.00"), (6, "value"): ("c", "s", "General"), (7, "value"): ("x", "s", "General"),
    (8, "value"): ("z", "s", "General"), (9, "value"): (":", "s", "General"), (10, "value"): (None, "n", "General"),
    (11, "value"): (-2, "n", "General"), (12, "value"): (0, "n", "General"),
    (2, "label"): ("1", "s", "General"), (3, "label"): ("2", "s", "General"), (4, "label"): ("3+", "s", "General"),
    (5, "label"): ("'=1+1", "s", "General"), (6, "label"): ("'+SUM(A1)", "s", "General"),
    (7, "label"): ("'@x", "s", "General"), (8, "label"): ("'-2", "s", "General"),
    (9, "label"): ("http://example.org", "s", "General"), (10, "label"): ("<r>x</r>", "s", "General"),
    (11, "label"): ("' =HYPERLINK(\"http://evil\")", "s", "General"), (12, "label"): ("café ✓ 子供", "s", "General"),
    (2, "count"): (1, "n", "General"), (12, "count"): (11, "n", "General"),
    (2, "rate"): (0.5, "n", "General"), (3, "rate"): (1.25, "n", "General"), (4, "rate"): (None, "n", "General"),
    (2, "when"): ("2024-04-01", "s", "General"), (12, "when"): (None, "n", "General"),
    (2, "flag"): (True, "b", "General"), (3, "flag"): (False, "b", "General"),
    (2, "mixed"): (None, "n", "General"), (3, "mixed"): (None, "n", "General"), (4, "mixed"): ("text", "s", "General"),
    (5, "mixed"): (None, "n", "General"), (6, "mixed"): ("mailto:a@b.c", "s", "General"),
    (7, "mixed"): ("'\tTAB", "s", "General"), (8, "mixed"): ("2024-04-01", "s", "General"),
    (9, "mixed"): ("c", "s", "General"), (10, "mixed"): ("1.5", "s", "General"),
    (11, "mixed"): ("www.x.org", "s", "General"), (12, "mixed"): ("'－1", "s", "General"),
}


def _written(tmp_path, frame: pd.DataFrame | None = None, **kwargs) -> openpyxl.Workbook:
    path = write_xlsx(_tricky() if frame is None else frame, tmp_path / "t.xlsx", sheet_name=SHEET,
                      title="Tricky: a test", notes=[("Column", [("value", "the figure"), ("=bad", "@worse")])],
                      **kwargs)
    return openpyxl.load_workbook(path)


def test_every_cell_has_its_value_type_and_number_format(tmp_path):
    """Numbers held as text are numbers (with their decimal places as a number format), markers and all other text
    are text (formula-like text neutralised, nothing a formula or a link), dates are YYYY-MM-DD text, missing values
    are empty cells, flags are booleans; and no cell is unexpected."""
    assert len(SHEET) == 40
    wb = _written(tmp_path)
    assert wb.sheetnames == [SHEET[:31], "notes"]
    ws = wb[SHEET[:31]]
    frame = _tricky()
    header = [c.value for c in ws[1]]
    assert header == list(frame.columns)
    assert all(c.data_type == "s" and c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.max_row == len(frame) + 1 and ws.max_column == frame.shape[1]
    for j, name in enumerate(frame.columns, start=1):
        for i in range(2, len(frame) + 2):
            cell = ws.cell(i, j)
            assert cell.data_type != "f" and cell.hyperlink is None, (cell.coordinate, cell.value)
            assert not cell.font.b, cell.coordinate
            if (i, name) in EXPECTED:
                value, data_type, number_format = EXPECTED[i, name]
                got = (cell.value, cell.data_type, cell.number_format)
                assert got == (value, data_type, number_format), (cell.coordinate, name, got)
                assert type(cell.value) is type(value) or (isinstance(value, (int, float)) and not isinstance(
                    cell.value, (bool, str))), (cell.coordinate, cell.value)
            elif name == "count":
                assert (cell.value, cell.data_type) == (i - 1, "n")
            elif name == "rate":
                assert (cell.value, cell.data_type) == (frame["rate"][i - 2], "n")
            elif name == "when":
                assert (cell.value, cell.data_type) == ("2024-04-01", "s")
            elif name == "flag":
                assert (cell.value, cell.data_type) == (i % 2 == 0, "b")
            else:
                pytest.fail(f"no expectation for {cell.coordinate} ({name})")


def test_column_widths_follow_the_longest_value(tmp_path):
    """Each column is as wide as its longest value (or name) as written, plus two, at most 60 characters."""
    ws = _written(tmp_path)[SHEET[:31]]
    frame = _tricky()
    for j, name in enumerate(frame.columns, start=1):
        letter = openpyxl.utils.get_column_letter(j)
        want = min(max(len(name), *(len(str(safe_text(v))) for v in frame[name])) + 2, 60)
        if name == "when":
            want = len("2024-04-01 00:00:00") + 2
        assert ws.column_dimensions[letter].width == want, (name, ws.column_dimensions[letter].width, want)


def test_notes_sheet_lists_markers_and_sections(tmp_path):
    """The notes sheet has the title (bold), then each section: a bold heading and 'Meaning', and its rows as text,
    neutralised like the data."""
    ws = _written(tmp_path)["notes"]
    rows = [tuple(v for v in row if v is not None) for row in ws.iter_rows(values_only=True)]
    want = [("Tricky: a test",), (), ("Symbol", "Meaning"), *MARKERS.items(), (),
            ("Column", "Meaning"), ("value", "the figure"), ("'=bad", "'@worse")]
    assert rows == want
    assert ws["A1"].font.b and ws["A3"].font.b and ws["B3"].font.b and not ws["A4"].font.b
    assert all(c.data_type == "s" for row in ws.iter_rows() for c in row if c.value is not None)
    assert ws.column_dimensions["A"].width == 24 and ws.column_dimensions["B"].width == 100


def test_same_table_same_bytes(tmp_path):
    """The workbook's creation date is fixed (or the caller's), so the same table gives the same file."""
    one = write_xlsx(_tricky(), tmp_path / "one.xlsx")
    two = write_xlsx(_tricky(), tmp_path / "two.xlsx")
    assert one.read_bytes() == two.read_bytes()
    created = dt.datetime(2025, 6, 30, 12, 0, 0)
    three = write_xlsx(_tricky(), tmp_path / "three.xlsx", created=created)
    assert openpyxl.load_workbook(three).properties.created == created
    with zipfile.ZipFile(three) as z:
        assert {info.date_time[:2] for info in z.infolist()} == {(1980, 1)}  # fixed timestamps in the zip


def test_a_broken_writer_fails_these_tests(tmp_path, monkeypatch):
    """Writing numbers held as text as text (as the XLSX did before issue 16) is caught by the cell checks."""
    from safeguarding.publish import writers

    monkeypatch.setattr(writers, "_number", lambda text: None)
    with pytest.raises(AssertionError):
        test_every_cell_has_its_value_type_and_number_format(tmp_path)


def _xlsxwriter_reference(frame: pd.DataFrame, path) -> None:
    """The data sheet as XlsxWriter writes it cell by cell through its own API (slow, but its own markup)."""
    import xlsxwriter

    from safeguarding.publish.writers import _cell, _safe_frame, numeric_columns

    numeric = set(numeric_columns(frame))
    safe = _safe_frame(frame)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_urls": False, "strings_to_numbers": False})
    ws = wb.add_worksheet("data")
    ws.freeze_panes(1, 0)
    bold = wb.add_format({"bold": True})
    formats = {}
    for j, name in enumerate(safe.columns):
        ws.write_string(0, j, str(name), bold)
    values = [(frame[c] if c in numeric else safe[s]).tolist()
              for c, s in zip(frame.columns, safe.columns, strict=True)]
    for i, row in enumerate(zip(*values, strict=True), start=1):
        for j, (name, v) in enumerate(zip(frame.columns, row, strict=True)):
            cell = _cell(v, name in numeric)
            if isinstance(cell, str):
                ws.write_string(i, j, cell)
            elif isinstance(cell, bool):
                ws.write_boolean(i, j, cell)
            elif isinstance(cell, tuple):
                fmt = formats.setdefault(cell[1], wb.add_format({"num_format": "0." + "0" * cell[1]}))
                ws.write_number(i, j, cell[0], fmt)
            elif cell is not None:
                ws.write_number(i, j, cell)
    wb.close()


def test_rows_are_xlsxwriters_own_markup(tmp_path):
    """The data rows, added column by column for speed, are byte for byte what XlsxWriter writes cell by cell
    (style numbers aside: the formats are numbered in another order, and read back above), with the same used
    range; a row with no cell is left out as XlsxWriter leaves it out."""
    from tests.test_data_files import _published

    frame = pd.concat([_tricky()[lambda d: d["label"] != "<r>x</r>"].astype(object),
                       _published().astype(object).iloc[:300, :7].set_axis(list(_tricky().columns), axis=1)],
                      ignore_index=True)
    frame.loc[len(frame)] = [None] * frame.shape[1]  # an empty last row: the used range ends before it
    frame.loc[len(frame) + 1] = ["_x0041_ & <b>", "\x01ctl", 1, 2.0, "2024-01-01", True, " pad "]
    write_xlsx(frame, tmp_path / "fast.xlsx")
    _xlsxwriter_reference(frame, tmp_path / "slow.xlsx")
    sheets = []
    for name in ("fast.xlsx", "slow.xlsx"):
        with zipfile.ZipFile(tmp_path / name) as z:
            xml = z.read("xl/worksheets/sheet1.xml").decode()
        sheets.append((re.search(r'<dimension ref="[^"]*"/>', xml).group(),
                       re.sub(r' s="\d+"', ' s="?"', xml[xml.index("<sheetData>"):xml.index("</sheetData>")])))
    assert sheets[0] == sheets[1]
    assert sheets[0][1].count("<row ") == len(frame)  # the header, and no empty row
