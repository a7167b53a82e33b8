"""Partners' returns read by the common reader layer (safeguarding.ingest.readers.read_grid).

The encodings, delimiters, title blocks and sheets that child-level extracts
may come in are read the same way for a partner's return; some of these the
old separate reader (safeguarding/aggregates.py until 2026) got wrong.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from safeguarding.ingest import partners
from safeguarding.ingest.partners import accounting_holds, read_aggregate_return
from safeguarding.ingest.problem import Problem
from safeguarding.ingest.readers import read_grid

MONTHS = ["Apr", "May", "Jun"]
ROWS = {"Referrals": "REF"}


def _wide(tmp_path: Path, name: str, **spec) -> tuple[pd.DataFrame, list[Problem]]:
    return read_aggregate_return({"file": name, "layout": "wide", "financial_year": 2025, "rows": ROWS, **spec},
                                 tmp_path)


def _figures(df: pd.DataFrame) -> list[tuple[str, str, float]]:
    return [(r.indicator_id, f"{r.period_start:%Y-%m}", r.numerator) for r in df.itertuples()]


EXPECTED = [("REF", "2024-04", 3.0), ("REF", "2024-05", 4.0), ("REF", "2024-06", 5.0)]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_tab_separated_return_as_excel_unicode_text_writes_it(tmp_path, codec):
    # utf-16 writes a byte-order mark; -le/-be do not: the old reader read those as UTF-8 full of NUL bytes
    text = "LADO return 2024-25\r\nMeasure\tApr\tMay\tJun\r\nReferrals\t3\t4\t5\r\n"
    (tmp_path / "r.txt").write_bytes(text.encode(codec))
    df, problems = _wide(tmp_path, "r.txt")
    assert _figures(df) == EXPECTED and problems == []


def test_semicolon_return_whose_numbers_hold_thousands_commas(tmp_path):
    # more commas than semicolons: the old reader guessed the delimiter by counting and split on commas
    rows = ["Police return", "Measure;Apr;May;Jun", "Referrals;1,204,000;2,305,000;3,406,000",
            "Other;1,000;2,000;3,000"]
    (tmp_path / "r.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    df, problems = _wide(tmp_path, "r.csv")
    assert _figures(df) == [("REF", "2024-04", 1204000.0), ("REF", "2024-05", 2305000.0),
                            ("REF", "2024-06", 3406000.0)]
    assert [p.reason for p in problems] == ["unmapped row"] and problems[0].row == 4
    assert accounting_holds(df, problems)


def test_semicolon_tidy_return_with_a_title_block_in_cp1252(tmp_path):
    text = ("Private fostering \u2013 return for 2024-25\n\nCompiled by: Zo\u00eb\n"
            "indicator_id;period_start;period_type;numerator\nPF_NEW;01/04/2024;month;3\nPF_NEW;01/05/2024;month;4\n")
    (tmp_path / "t.csv").write_bytes(text.encode("cp1252"))
    df, problems = read_aggregate_return({"file": "t.csv", "layout": "tidy"}, tmp_path)
    assert problems == [] and df.numerator.tolist() == [3.0, 4.0] and df.source_row.tolist() == [5, 6]


def test_configured_delimiter_is_used_as_given(tmp_path):
    (tmp_path / "r.csv").write_text("Measure|Apr|May|Jun\nReferrals|3|4|5\n", encoding="utf-8")
    df, problems = _wide(tmp_path, "r.csv", delimiter="|")
    assert _figures(df) == EXPECTED and problems == []


def _book(path: Path, sheets: dict[str, list[list]], hidden: tuple[str, ...] = ()) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
        if name in hidden:
            ws.sheet_state = "hidden"
    wb.save(path)
    return path


RETURN = [["LADO monthly return"], ["Measure", *MONTHS], ["Referrals", 3, 4, 5]]
NOTES = [["Notes"], ["Please return by the 10th"]]


@pytest.mark.parametrize("sheet", [2, "Return", "  return ", "RETURN"])
def test_second_sheet_by_number_or_by_name_written_loosely(tmp_path, sheet):
    _book(tmp_path / "r.xlsx", {"Notes": NOTES, "Return": RETURN})
    df, problems = _wide(tmp_path, "r.xlsx", sheet=sheet)
    assert _figures(df) == EXPECTED and problems == []
    assert df.source_row.tolist() == [3, 3, 3]


def test_no_sheet_set_reads_the_first_visible_sheet_and_says_so(tmp_path):
    _book(tmp_path / "r.xlsx", {"Old": NOTES, "Return": RETURN}, hidden=("Old",))
    df, problems = _wide(tmp_path, "r.xlsx")
    assert _figures(df) == EXPECTED
    assert [(p.reason, p.severity) for p in problems] == [("read note", "warning")]
    assert "'Return'" in problems[0].message and "aggregates[0].sheet" in problems[0].message


def test_missing_sheet_names_the_sheets_and_the_setting(tmp_path):
    _book(tmp_path / "r.xlsx", {"Notes": NOTES, "Return": RETURN})
    df, problems = _wide(tmp_path, "r.xlsx", sheet="Police")
    (p,) = problems
    assert (p.reason, p.severity, p.file, p.key) == ("sheet not found", "error", "r.xlsx", "aggregates[0].sheet")
    assert "'Notes', 'Return'" in p.fix and df.empty


def test_unsupported_encoding_setting_is_an_error_naming_the_setting(tmp_path):
    (tmp_path / "r.csv").write_text("Measure,Apr,May,Jun\nReferrals,3,4,5\n", encoding="utf-8")
    df, problems = _wide(tmp_path, "r.csv", encoding="ebcdic")
    (p,) = problems
    assert (p.reason, p.key, p.file) == ("encoding", "aggregates[0].encoding", "r.csv")
    assert "utf-16" in p.fix and df.empty
    assert df.attrs["accounting"][0].cells_in == 0


def test_explicit_utf16_setting_reads_a_file_without_a_mark(tmp_path):
    (tmp_path / "r.csv").write_bytes("Measure,Apr,May,Jun\nReferrals,3,4,5\n".encode("utf-16-le"))
    df, problems = _wide(tmp_path, "r.csv", encoding="UTF-16")
    assert _figures(df) == EXPECTED and problems == []


def test_bad_header_row_is_the_readers_problem_with_the_setting(tmp_path):
    (tmp_path / "r.csv").write_text("Measure,Apr,May,Jun\nReferrals,3,4,5\n", encoding="utf-8")
    _, problems = _wide(tmp_path, "r.csv", header_row=7)
    (p,) = problems
    assert (p.reason, p.key, p.row) == ("header not found", "aggregates[0].header_row", 7)


def test_read_grid_keeps_title_rows_and_numbers_rows_as_a_spreadsheet_does(tmp_path):
    (tmp_path / "g.csv").write_text('Title\n\nMeasure;Apr\n"Two\nlines";3\nLast;4\n', encoding="utf-8")
    grid = read_grid(tmp_path / "g.csv", partners.wide.header_score)
    assert grid.delimiter == ";" and grid.fmt == "csv"
    assert grid.rows == [["Title", ""], ["", ""], ["Measure", "Apr"], ["Two\nlines", "3"], ["Last", "4"]]
    assert grid.numbers == [1, 2, 3, 4, 5]  # a value over two lines is one row, as Excel shows it


def test_read_grid_gives_whole_numbers_from_a_workbook_as_int(tmp_path):
    _book(tmp_path / "r.xlsx", {"Return": [["Measure", "Apr"], ["Referrals", 3], ["Half", 2.5]]})
    grid = read_grid(tmp_path / "r.xlsx", partners.wide.header_score)
    assert grid.rows[1:] == [["Referrals", 3], ["Half", 2.5]] and type(grid.rows[1][1]) is int
    assert grid.sheet == "Return" and grid.formulas == {}


def test_partners_package_has_no_reader_of_its_own():
    """One stack: no module of safeguarding.ingest.partners decodes bytes or parses CSV or workbooks itself."""
    folder = Path(partners.__file__).parent
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not imported & {"csv", "io", "openpyxl", "python_calamine", "codecs"}, path.name
        calls = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
        assert not calls & {"decode", "read_bytes", "read_text"}, path.name
