"""Messy council extracts (issue #12 item 10): each case read correctly or named with its row, column and fix."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml

from safeguarding.config import load_config
from safeguarding.ingest import run_ingest
from safeguarding.ingest.dates import parse_dates
from safeguarding.ingest.errors import IngestError
from safeguarding.ingest.mapping import header_scorer
from safeguarding.ingest.readers import read_csv, read_input
from safeguarding.ingest.validate import convert
from safeguarding.ingest.workbooks import read_xlsx
from safeguarding.schema import ENTITIES

SCORE = header_scorer(ENTITIES["referrals"], {})
HEADER = ["Referral ID", "Child ID", "Date of referral", "Team"]


def _config(tmp_path: Path, inputs: dict) -> object:
    cfg = {"area": {"name": "Testshire"}, "year": 2025,
           "paths": {"raw": "raw", "processed": "out", "reports": "reports"},
           "pseudonymisation": {"key_file": str(tmp_path / "secret" / "pseudonym.key")}, "inputs": inputs}
    path = tmp_path / "report.yml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return load_config(path)


def _raw(tmp_path: Path, name: str, data: bytes) -> str:
    p = tmp_path / "raw" / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return f"raw/{name}"


def _entry(result, table: str) -> dict:
    return next(e for e in result.report["inputs"] if e["table"] == table)


def _rejected(result) -> pd.DataFrame:
    return pd.read_csv(result.processed_dir / "ingest_rejected.csv", dtype=str, keep_default_na=False,
                       encoding="utf-8-sig")


def _backend(monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    if backend == "openpyxl":
        monkeypatch.setitem(sys.modules, "python_calamine", None)   # import fails -> openpyxl
    else:
        pytest.importorskip("python_calamine")


# a. files delimited by something other than commas


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_semicolon_tab_and_pipe_delimited_files_are_read_and_said_so(tmp_path, sep):
    p = tmp_path / "r.csv"
    lines = ["Referrals extract", sep.join(HEADER), sep.join(["R1", "C1", "01/02/2024", "East, North"]),
             sep.join(["R2", "C2", "02/02/2024", "West"])]
    p.write_text("\n".join(lines) + "\n")
    t = read_csv(p, SCORE)
    assert t.headers == HEADER and t.header_row == 2
    assert t.row_numbers.tolist() == [3, 4]
    assert [str(v) for v in t.columns[3]] == ["East, North", "West"]
    assert any(repr(sep) in w and "separated" in w for w in t.warnings)


def test_semicolon_file_with_unknown_headers_gets_advice_that_works(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("Ref;Kid;When\nR1;C1;01/02/2024\nR2;C2;02/02/2024\n")
    with pytest.raises(IngestError) as info:
        read_csv(p, SCORE, key="inputs.referrals")
    assert "';'" in str(info.value) and "inputs.referrals.columns" in str(info.value)
    # following the advice reads the file
    configured = {"referral_id": "Ref", "child_id": "Kid", "referral_date": "When"}
    t = read_csv(p, header_scorer(ENTITIES["referrals"], configured), header_row=1, key="inputs.referrals")
    assert t.headers == ["Ref", "Kid", "When"] and t.n_rows == 2


def test_semicolon_file_ingests_end_to_end_with_every_row_counted(tmp_path):
    text = "Referral ID;Child ID;Date of referral;Team\nR1;C1;01/02/2024;East\nR2;C2;31/02/2024;West\n"
    result = run_ingest(_config(tmp_path, {"referrals": {"file": _raw(tmp_path, "r.csv", text.encode())}}))
    e = _entry(result, "referrals")
    assert result.ok
    assert (e["rows_read"], e["rows_accepted"], e["rows_rejected"]) == (2, 1, 1)


def test_a_header_glued_by_another_delimiter_gets_advice_that_works(tmp_path):
    text = "Referral ID,Child ID;Date of referral;Team\nR1,C1,01/02/2024,East\n"
    result = run_ingest(_config(tmp_path, {"referrals": {"file": _raw(tmp_path, "r.csv", text.encode())}}))
    error = result.failed["referrals"]
    assert "'Referral ID,Child ID'" in error and "mixes delimiters" in error
    assert "inputs.referrals.columns" not in error and "Comma delimited" in error


# b. the encoding hint names a concrete encoding that is not the current setting


@pytest.mark.parametrize("setting", ["auto", "utf-8", "utf-8-sig"])
def test_encoding_hint_names_another_concrete_encoding(tmp_path, setting):
    p = tmp_path / "r.csv"
    # a UTF-8 byte-order mark, then Windows-1252 text: not valid UTF-8
    p.write_bytes(b"\xef\xbb\xbf" + "Referral ID,Child ID,Date of referral,Team\nR1,C1,01/02/2024,Caf\xe9\n"
                  .encode("latin-1"))
    with pytest.raises(IngestError) as info:
        read_csv(p, SCORE, encoding=setting, key="inputs.referrals")
    fix = info.value.fix or ""
    assert info.value.key == "inputs.referrals.encoding" and info.value.row == 2
    assert "cp1252" in fix
    assert f"encoding to {setting}" not in fix and f" {setting} " not in fix.replace(",", " ")


# c. an unterminated quote must not swallow the records after it


def test_unterminated_quote_does_not_swallow_the_next_records(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text('Referral ID,Child ID,Date of referral,Team\nR1,C1,01/02/2024,"East\nR2,C2,02/02/2024,West\n'
                 'R3,C3,03/02/2024,East\n')
    t = read_csv(p, SCORE)
    assert t.n_rows == 3 and t.row_numbers.tolist() == [2, 3, 4]
    assert [str(v) for v in t.columns[0]] == ["R1", "R2", "R3"]
    assert [str(v) for v in t.columns[3]] == ["East", "West", "East"]
    warning = next(w for w in t.warnings if "quote" in w)
    assert "row 2" in warning and "'Team'" in warning and "Fix" in warning


def test_quote_closed_by_a_later_record_is_split_back_into_records(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text('Referral ID,Child ID,Date of referral,Team\nR1,"C1,01/02/2024,East\nR2,C2,02/02/2024,"West\n'
                 'R3,C3,03/02/2024,East\n')
    t = read_csv(p, SCORE)
    assert [str(v) for v in t.columns[0]] == ["R1", "R2", "R3"]
    assert [str(v) for v in t.columns[1]] == ["C1", "C2", "C3"]
    assert any("row 2" in w and "quote" in w for w in t.warnings)


def test_real_multi_line_values_are_left_alone(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text('Referral ID,Child ID,Date of referral,Team\nR1,C1,01/02/2024,"East\nside, by the river"\n'
                 'R2,C2,02/02/2024,West\n')
    t = read_csv(p, SCORE)
    assert t.n_rows == 2 and [str(v) for v in t.columns[3]] == ["East\nside, by the river", "West"]
    assert not any("quote" in w for w in t.warnings)
    # even a properly quoted value with a line that looks like a record is one value
    p.write_text('Referral ID,Child ID,Date of referral,Team\nR1,C1,01/02/2024,"moved from\nR9,C9,01/01/2024,North"\n'
                 'R2,C2,02/02/2024,West\n')
    t = read_csv(p, SCORE)
    assert t.n_rows == 2 and str(t.columns[3][0]) == "moved from\nR9,C9,01/01/2024,North"
    assert not any("quote" in w for w in t.warnings)


def test_unterminated_quote_rows_are_counted_in_the_ingest(tmp_path):
    text = ('Referral ID,Child ID,Date of referral,Team\nR1,C1,01/02/2024,"East\nR2,C2,02/02/2024,West\n'
            'R3,C3,31/02/2024,East\n')
    result = run_ingest(_config(tmp_path, {"referrals": {"file": _raw(tmp_path, "r.csv", text.encode())}}))
    e = _entry(result, "referrals")
    assert (e["rows_read"], e["rows_accepted"], e["rows_rejected"]) == (3, 2, 1)
    assert any("row 2" in w and "quote" in w for w in e["warnings"])


# d. Excel serial dates with a time of day


def test_excel_serials_with_a_time_of_day_take_the_date():
    d, r, _ = parse_dates(np.array(["45383.75", 45383.75, "45383.5", "45383"], dtype=object))
    assert list(r) == [None] * 4
    assert all(x.astype(object) == dt.date(2024, 4, 1) for x in d)
    # an eight-digit whole number is still year-month-day
    d, r, _ = parse_dates(np.array(["20240401"], dtype=object))
    assert d[0].astype(object) == dt.date(2024, 4, 1)


# e. a column written month-first


US_COLUMN = ["01/02/2024", "03/15/2024", "04/05/2024", "05/05/2024", "12/31/2024"]


def test_month_first_column_is_not_half_read_with_day_and_month_swapped():
    c = convert("date", np.array(US_COLUMN, dtype=object), column="Date of referral",
                key="inputs.referrals")
    values = c.values()
    # 05/05/2024 reads the same either way; every other value is rejected, none swapped
    assert values[3].astype(object) == dt.date(2024, 5, 5)
    assert np.isnat(values[[0, 1, 2, 4]]).all()
    assert set(c.reason_u[[0, 1, 2, 4]]) == {"unparseable_date"}
    assert all('"%m/%d/%Y"' in m for m in c.message_u[[0, 1, 2, 4]])
    (warning,) = c.warnings
    assert "'Date of referral'" in warning and 'inputs.referrals.date_format: "%m/%d/%Y"' in warning


def test_day_first_columns_are_not_mistaken_for_month_first():
    c = convert("date", np.array(["01/02/2024", "15/03/2024", "31/02/2024", "04/05/2024"], dtype=object))
    assert c.values()[0].astype(object) == dt.date(2024, 2, 1)
    assert c.reason_u[2] == "impossible_date" and not c.warnings


def test_month_first_date_format_reads_the_column():
    d, r, _ = parse_dates(np.array([*US_COLUMN, "45292"], dtype=object), "%m/%d/%Y")
    assert list(r) == [None] * 6
    assert [x.astype(object) for x in d] == [dt.date(2024, 1, 2), dt.date(2024, 3, 15), dt.date(2024, 4, 5),
                                             dt.date(2024, 5, 5), dt.date(2024, 12, 31), dt.date(2024, 1, 1)]
    _, r, m = parse_dates(np.array(["15/03/2024"], dtype=object), "%m/%d/%Y")
    assert r[0] == "unparseable_date" and "%m/%d/%Y" in m[0]


def test_month_first_column_rows_are_rejected_and_counted_in_the_ingest(tmp_path):
    text = "Referral ID,Child ID,Date of referral\n" + "".join(
        f"R{i},C{i},{d}\n" for i, d in enumerate(US_COLUMN))
    result = run_ingest(_config(tmp_path, {"referrals": {"file": _raw(tmp_path, "r.csv", text.encode())}}))
    e = _entry(result, "referrals")
    assert (e["rows_read"], e["rows_accepted"], e["rows_rejected"]) == (5, 1, 4)
    rej = _rejected(result)
    assert set(rej["reason"]) == {"unparseable_date"}
    assert all("month/day/year" in m for m in rej["message"])
    assert all("inputs.referrals.date_format" in f for f in rej["fix"])


# f. a hidden first sheet


@pytest.mark.parametrize("backend", ["calamine", "openpyxl"])
def test_hidden_first_sheet_is_passed_over_and_named(tmp_path, monkeypatch, backend):
    _backend(monkeypatch, backend)
    wb = openpyxl.Workbook()
    old = wb.active
    old.title = "Old extract"
    old.append(HEADER)
    old.append(["OLD1", "C9", "01/01/2020", "Gone"])
    old.sheet_state = "hidden"
    ws = wb.create_sheet("Referrals")
    ws.append(HEADER)
    ws.append(["R1", "C1", "01/02/2024", "East"])
    p = tmp_path / "r.xlsx"
    wb.save(p)
    t = read_xlsx(p, SCORE)
    assert t.sheet == "Referrals" and [str(v) for v in t.columns[0]] == ["R1"]
    assert any("'Old extract'" in w and "hidden" in w and "'Referrals'" in w for w in t.warnings)


# g. formulas saved without their results


@pytest.mark.parametrize("backend", ["calamine", "openpyxl"])
def test_formulas_without_saved_results_are_named_not_called_blank(tmp_path, monkeypatch, backend):
    _backend(monkeypatch, backend)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["Referrals"])
    ws.append([*HEADER, "Helper"])
    ws.append(["R1", "C1", "=DATE(2024,2,1)", "East", "=1+1"])
    ws.append(["R2", "C2", 45292, "West", "=1+1"])
    p = tmp_path / "r.xlsx"
    wb.save(p)   # openpyxl never calculates: the formulas have no saved result
    with pytest.raises(IngestError) as info:
        read_input(p, SCORE, key="inputs.referrals")
    err = info.value
    assert "C3" in str(err) and "formula" in str(err) and "'Date of referral'" in str(err)
    assert err.row == 3 and err.column == "Date of referral"
    assert "save" in (err.fix or "") and "paste" in (err.fix or "")


def test_formulas_with_saved_results_are_read(tmp_path):
    # a workbook whose formula has a cached result: write it by hand as Excel does
    import zipfile

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["R1", "C1", "=DATE(2024,2,1)", "East"])
    src = tmp_path / "src.xlsx"
    wb.save(src)
    p = tmp_path / "r.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(p, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<v></v>", b"<v>45323</v>").replace(b"<v />", b"<v>45323</v>")
            zout.writestr(item, data)
    t = read_input(p, SCORE)
    assert float(t.columns[2][0]) == 45323.0


# h. free-text categories differing only in case, spacing or control characters


def test_team_spellings_differing_by_case_spaces_or_control_characters_are_one_team():
    raw = np.array(["East\x00Locality", "east locality", "East  Locality ", "East Locality", "East Locality",
                    "West", "\tWest\r"], dtype=object)
    c = convert("str", raw)
    assert c.values().tolist() == ["East Locality"] * 5 + ["West", "West"]
    ids = c.value_ids()
    assert len(set(ids[:5].tolist())) == 1 and ids[5] == ids[6]


def test_team_spellings_are_merged_in_the_ingest(tmp_path):
    text = ("Referral ID,Child ID,Date of referral,Team\nR1,C1,01/02/2024,East\x00Locality\n"
            "R2,C2,01/02/2024,east locality\nR3,C3,01/02/2024,East Locality\nR4,C4,01/02/2024,East Locality\n")
    result = run_ingest(_config(tmp_path, {"referrals": {"file": _raw(tmp_path, "r.csv", text.encode())}}))
    assert result.ok
    df = pd.read_parquet(tmp_path / "out" / "referrals.parquet")
    assert df["team"].tolist() == ["East Locality"] * 4



def test_formulas_filled_down_past_the_data_do_not_stop_the_read(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["R1", "C1", 45292, "East"])
    ws.append([None, None, "=IF(A3=\"\",\"\",C2+1)", None])   # a template row: nothing but the formula
    ws.append(["R3", "C3", 45293, "West"])
    p = tmp_path / "r.xlsx"
    wb.save(p)
    t = read_input(p, SCORE)
    assert t.n_rows == 3 and [v for v in t.columns[0]] == ["R1", None, "R3"]
