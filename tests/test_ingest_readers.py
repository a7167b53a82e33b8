"""Readers: header detection, encodings, row numbers, workbook back ends, mapping rules."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from safeguarding.ingest.errors import IngestError
from safeguarding.ingest.mapping import header_scorer, is_personal, map_columns
from safeguarding.ingest.readers import read_csv, read_input, read_xlsx
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


def test_annex_a_sample_header_found_below_title_rows(shared):
    """The real Ofsted Annex A layout (fake data): list 3 (referrals) has its header below title rows."""
    path = shared / "formats" / "annex_a" / "Annex_A_2024_Jan_sample.xlsx"
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
