"""Readers: header detection, encodings, row numbers, workbook back ends, mapping rules."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from safeguarding.ingest.errors import IngestError
from safeguarding.ingest.mapping import header_scorer, is_personal, map_columns
from safeguarding.ingest.readers import read_csv, read_input
from safeguarding.ingest.workbooks import read_xlsx
from safeguarding.schema import ENTITIES

SCORE = header_scorer(ENTITIES["referrals"], {})


def _xlsx(path: Path, rows: list[list]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_csv_title_rows_header_detected_and_row_numbers(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("Referrals extract\nRun on 01/04/2025\n\nReferral ID,Child ID,Date of referral\nR1,C1,01/02/2024\n"
                 "R2,C2,02/02/2024\n")
    t = read_csv(p, SCORE)
    assert t.header_row == 4 and t.header_detected
    assert t.headers == ["Referral ID", "Child ID", "Date of referral"]
    assert t.row_numbers.tolist() == [5, 6]


def test_multiline_quoted_values_keep_spreadsheet_row_numbers(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text('Referral ID,Child ID,Team\nR1,C1,"East\nside"\nR2,C2,West\n')
    t = read_csv(p, SCORE)
    assert t.row_numbers.tolist() == [2, 3]
    assert [str(v) for v in t.columns[2]] == ["East\nside", "West"]


def test_ragged_rows(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("Referral ID,Child ID,Date of referral\nR1,C1\nR2,C2,01/02/2024,oops,more\n")
    t = read_csv(p, SCORE)
    assert t.n_rows == 2 and t.extra_fields == {1: "oops,more"}
    assert any("fewer values" in w for w in t.warnings)


@pytest.mark.parametrize("backend", ["calamine", "openpyxl"])
def test_workbook_backends_agree(tmp_path, monkeypatch, backend):
    if backend == "openpyxl":
        monkeypatch.setitem(sys.modules, "python_calamine", None)   # import fails -> openpyxl
    else:
        pytest.importorskip("python_calamine")
    p = _xlsx(tmp_path / "r.xlsx", [["Referrals"], [], ["Referral ID", "Child ID", "Date of referral"],
                                    ["R1", 1001, 45292], [None, None, None], ["R2", "C2", "01/02/2024"]])
    t = read_xlsx(p, SCORE)
    assert t.header_row == 3 and t.sheet == "Data"
    assert t.row_numbers.tolist() == [4, 5, 6]
    assert [v for v in t.columns[0]] == ["R1", None, "R2"]
    assert float(t.columns[1][0]) == 1001.0 and float(t.columns[2][0]) == 45292.0


@pytest.mark.parametrize("data", [b"", b"   \n", b"\xef\xbb\xbf"])
def test_empty_csv_is_fatal(tmp_path, data):
    p = tmp_path / "e.csv"
    p.write_bytes(data)
    with pytest.raises(IngestError, match="empty") as info:
        read_input(p, SCORE, key="inputs.referrals")
    assert info.value.key == "inputs.referrals.file" and str(p) in str(info.value)


def test_unreadable_and_missing_workbooks(tmp_path):
    p = tmp_path / "bad.xlsx"
    p.write_bytes(b"PK\x03\x04 broken zip")
    with pytest.raises(IngestError, match="unreadable workbook") as info:
        read_input(p, SCORE, key="inputs.referrals")
    assert "Fix:" in str(info.value)
    with pytest.raises(IngestError, match="file not found"):
        read_input(tmp_path / "nope.xlsx", SCORE, key="inputs.referrals")


def test_header_row_setting_out_of_range(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("Referral ID,Child ID,Date of referral\nR1,C1,01/02/2024\n")
    with pytest.raises(IngestError, match="header_row is 9") as info:
        read_input(p, SCORE, header_row=9, key="inputs.referrals")
    assert info.value.key == "inputs.referrals.header_row"


@pytest.mark.parametrize("setting", ["3", 2.5, [3]])
def test_a_csv_header_row_setting_that_is_not_a_whole_number_is_refused_naming_it(tmp_path, setting):
    """As for a workbook: an IngestError naming the setting, not a TypeError (or ValueError) from sniffing the
    delimiter, which compared the setting with row counts before the header search checked it (found by mypy)."""
    p = tmp_path / "r.csv"
    p.write_text("Referral ID,Child ID\nR1,C1\n", encoding="utf-8")
    with pytest.raises(IngestError, match="header_row must be a whole number from 1") as info:
        read_input(p, SCORE, header_row=setting, key="inputs.referrals")
    assert info.value.key == "inputs.referrals.header_row" and repr(setting) in str(info.value)


def test_annex_a_sample_header_row_is_found_by_its_column_names(fixtures):
    """The real Ofsted Annex A layout (fake data): the header of list 3 (referrals) is found by its names."""
    path = fixtures / "formats" / "annex_a" / "Annex_A_2024_Jan_sample.xlsx"
    wb = openpyxl.load_workbook(path, read_only=True)
    sheet = next(n for n in wb.sheetnames if "3" in n and "ist" in n)
    rows = [list(r) for r in wb[sheet].iter_rows(values_only=True)]
    wb.close()
    header_at = next(i for i, r in enumerate(rows) if any(isinstance(c, str) and "Child Unique ID" in c for c in r))
    score = header_scorer(ENTITIES["referrals"], {"child_id": "Child Unique ID",
                                                  "referral_date": "Date of referral"})
    t = read_xlsx(path, score, sheet=sheet)
    assert t.header_row == header_at + 1


def test_mapping_normalises_headers_and_drops_personal_columns():
    headers = ["LA_Child_ID", "REFERRAL-ID", "Date of Referral", "Child Forename", "Home Address", "Notes",
               "Postcode", "Flavour"]
    cmap = map_columns(headers, ENTITIES["referrals"], {}, where="f.csv", key="inputs.referrals")
    assert cmap.positions == {"child_id": 0, "referral_id": 1, "referral_date": 2}
    assert cmap.personal_dropped == ["Child Forename", "Home Address", "Notes", "Postcode"]
    assert cmap.extra_ignored == ["Flavour"]
    assert is_personal("NHS Number") and is_personal("UPN") and not is_personal("Primary need")
    with pytest.raises(IngestError) as info:
        map_columns(["Child ID", "When"], ENTITIES["referrals"], {}, where="f.csv", key="inputs.referrals")
    assert info.value.key == "inputs.referrals.columns.referral_id"


def test_cp1252_bytes_outside_utf8(tmp_path):
    p = tmp_path / "r.csv"
    p.write_bytes("Referral ID,Child ID,Team\nR1,C1,Équipe – Nord\n".encode("cp1252"))
    t = read_csv(p, SCORE)
    assert t.encoding == "cp1252"
    assert [str(v) for v in t.columns[2]] == ["Équipe – Nord"]
    assert np.asarray(t.row_numbers).tolist() == [2]


@pytest.mark.parametrize(("multiline", "place"), [(True, "East"), (False, "East"), (False, "Café – Nord")])
def test_header_scan_on_the_start_of_a_text_matches_the_whole_text(tmp_path, monkeypatch, multiline, place):
    """The header is looked for in the first characters only; wherever that cut falls (inside a quoted
    multi-line value, between \\r and \\n, ...), the result is what parsing the whole file gives,
    for plain ASCII files (decoded only as far as needed) and others."""
    from safeguarding.ingest import readers

    title = '"Run on\r\n01/04/2025"' if multiline else "Run on 01/04/2025"
    team = f'"{place}\r\nside"' if multiline else place
    text = (f"Referrals\r\n{title}\r\n\r\nReferral ID,Child ID,Date of referral,Team\r\n"
            f"R1,C1,01/02/2024,{team}\r\nR2,C2,02/02/2024,West\r\n"
            + "".join(f"R{i},C{i},03/02/2024,North\r\n" for i in range(3, 40)))
    p = tmp_path / "r.csv"
    p.write_bytes(text.encode("utf-8"))
    for header_row in (None, 4):
        monkeypatch.setattr(readers, "HEAD_PREFIX_CHARS", len(text) + 1)   # the whole text: the reference
        want = read_csv(p, SCORE, header_row=header_row)
        assert want.header_row == 4 and want.row_numbers.tolist()[:3] == [5, 6, 7]
        for cut in range(1, len(text)):
            monkeypatch.setattr(readers, "HEAD_PREFIX_CHARS", cut)
            got = read_csv(p, SCORE, header_row=header_row)
            assert (got.header_row, got.headers, got.row_numbers.tolist()) == \
                (want.header_row, want.headers, want.row_numbers.tolist()), cut
            assert [list(map(str, c)) for c in got.columns] == [list(map(str, c)) for c in want.columns], cut


@pytest.mark.parametrize(("data", "lines"), [(b"", 0), (b"a", 1), (b"a\n", 1), (b"a\nb", 2), (b"a\r\nb\r\n", 2),
                                             (b"a\rb\rc", 3), (b"a\r\n\rb\n\nc", 5)])
def test_physical_lines_counts_every_line_end(data, lines):
    from safeguarding.ingest.readers import _physical_lines

    assert _physical_lines(data) == lines


def test_ragged_workbook_rows_are_padded_and_trimmed(tmp_path, monkeypatch):
    from safeguarding.ingest import workbooks

    rows = [["Referral ID", "Child ID", "Date of referral"], ["R1", "C1"], ["R2", "C2", 45292, "extra"],
            ["R3", "C3", "01/02/2024"]]
    monkeypatch.setattr(workbooks, "_sheet_rows_calamine", lambda data, sheet: (["Data"], "Data", rows))
    monkeypatch.setattr(workbooks, "_sheet_rows_openpyxl", lambda data, sheet: (["Data"], "Data", rows))
    p = tmp_path / "r.xlsx"
    p.write_bytes(b"PK\x03\x04 stands in for a workbook")
    t = read_xlsx(p, SCORE)
    assert [list(c) for c in t.columns] == [["R1", "R2", "R3"], ["C1", "C2", "C3"], [None, 45292, "01/02/2024"]]
    assert t.extra_fields == {1: "extra"}
    rows[1].append(None)   # now rectangular up to the headers: the other way of splitting into columns
    t = read_xlsx(p, SCORE)
    assert [list(c) for c in t.columns] == [["R1", "R2", "R3"], ["C1", "C2", "C3"], [None, 45292, "01/02/2024"]]
