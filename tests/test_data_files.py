"""The published data files as an analyst opens them: numbers as numbers in the XLSX, markers as text, and
the same values as the CSV (issue 16, item 8)."""

from __future__ import annotations

import re

import openpyxl
import pandas as pd

from safeguarding.disclosure import suppress_indicator_table
from safeguarding.disclosure.policy import MARKERS
from safeguarding.publish.writers import numeric_columns, write_csv, write_xlsx
from tests.test_disclosure import synthetic_indicators

NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _published(seed: int = 4) -> pd.DataFrame:
    return suppress_indicator_table(synthetic_indicators(seed))


def test_xlsx_numbers_are_numbers_markers_are_text_and_values_equal_the_csv(tmp_path):
    """Every cell the CSV writes as a number (in a column of numbers and markers) is a number in the workbook,
    every marker is text, and every value equals the CSV's. Before, the numerator, denominator and value were
    written as text ('13'), which a spreadsheet cannot sum."""
    pub = _published()
    write_csv(pub, tmp_path / "indicators.csv")
    write_xlsx(pub, tmp_path / "indicators.xlsx", sheet_name="Indicators")
    csv = pd.read_csv(tmp_path / "indicators.csv", dtype=str, keep_default_na=False)
    ws = openpyxl.load_workbook(tmp_path / "indicators.xlsx")["Indicators"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == list(csv.columns)
    assert len(rows) == len(csv) + 1
    numeric = set(numeric_columns(csv))
    assert {"numerator", "denominator", "value"} <= numeric
    assert "breakdown_value" not in numeric and "period_start" not in numeric
    counts = {"number": 0, "marker": 0}
    for got, want in zip(rows[1:], csv.itertuples(index=False), strict=True):
        for name, cell, text in zip(csv.columns, got, want, strict=True):
            if text == "":
                assert cell is None, (name, cell)
            elif name in numeric and NUMBER.fullmatch(text):
                assert isinstance(cell, (int, float)) and not isinstance(cell, bool), (name, text, cell)
                assert cell == float(text), (name, text, cell)
                counts["number"] += 1
            elif isinstance(cell, bool):  # a flag column: TRUE/FALSE in the workbook, True/False in the CSV
                assert str(cell) == text, (name, text, cell)
            else:
                assert isinstance(cell, str) and cell == text, (name, text, cell)
                counts["marker"] += text in MARKERS
    assert counts["number"] > 100 and counts["marker"] > 10, counts


def test_xlsx_decimals_show_as_the_csv_writes_them(tmp_path):
    """A one-decimal figure keeps its decimal in the workbook's display ('80.0', not '80')."""
    frame = pd.DataFrame({"value": ["80.0", "12.5", "c", "7"], "label": ["1", "2", "3+", "x"]})
    write_xlsx(frame, tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["data"]
    assert ws["A2"].value == 80 and ws["A2"].number_format == "0.0"
    assert ws["A3"].value == 12.5 and ws["A5"].value == 7 and ws["A4"].value == "c"
    assert [ws[f"B{i}"].value for i in range(2, 6)] == ["1", "2", "3+", "x"]  # a text column stays text


def test_notes_describe_every_column_status_and_findings_column():
    """The notes and README have a line for every column the data files can have and every status the engine
    and the disclosure control write (a new one must be explained before it is published)."""
    from safeguarding.indicators import engine
    from safeguarding.publish import data_notes
    from safeguarding.published_data import PUBLISHED_COLUMNS
    from safeguarding.report.findings import COLUMNS

    assert list(data_notes.FINDINGS_COLUMNS) == COLUMNS
    assert set(PUBLISHED_COLUMNS) | {"marker", "note"} <= set(data_notes.INDICATOR_COLUMNS)
    assert {"ok", engine.PARTIAL, "no data", "not available", "withheld"} <= set(data_notes.STATUSES)


def test_workbook_notes_and_readme_explain_every_marker_in_the_table(tmp_path):
    """Every marker present in the table (``x`` included: detail withheld so that the year's figures can be
    published) has its line in the workbook's notes sheet and in the README, in the policy's words."""
    from safeguarding.disclosure import Policy
    from safeguarding.publish.data_notes import notes_sections, readme_text

    pub = _published()
    pub.loc[pub.index[:3], ["value", "marker"]] = "x"
    columns = [c for c in pub.columns if c != "suppressed"]
    markers = Policy().markers()
    write_xlsx(pub[columns], tmp_path / "t.xlsx", markers=markers, notes=notes_sections(columns))
    sheet = [tuple(v for v in row if v is not None)
             for row in openpyxl.load_workbook(tmp_path / "t.xlsx")["notes"].iter_rows(values_only=True)]
    readme = readme_text(markers, columns, title="Test")
    present = {v for c in ("numerator", "denominator", "value") for v in pub[c].astype(str) if v in MARKERS}
    assert {"x", "c"} <= present
    for marker in present:
        assert (marker, markers[marker]) in sheet, marker
        assert re.search(rf"^\s*{re.escape(marker)}\s+{re.escape(markers[marker])}$", readme, flags=re.M), marker
    assert "year's figures can be published" in markers["x"]
    for column in columns:
        assert any(row and row[0] == column for row in sheet), column
