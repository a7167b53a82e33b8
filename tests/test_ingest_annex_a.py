"""The Annex A preset (format: annex_a) on Ofsted's sample workbook in tests/fixtures/formats/annex_a.

Expected counts and values are read independently with openpyxl.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

from safeguarding.config import load_config
from safeguarding.ingest import run_ingest
from safeguarding.ingest.annex_a import find_list

TABLES = ("referrals", "s47", "icpc", "cp_plans")


@pytest.fixture(scope="module")
def workbook(fixtures) -> Path:
    return fixtures / "formats" / "annex_a" / "Annex_A_2024_Jan_sample.xlsx"


def _sheet(path: Path, name: str) -> list[dict]:
    """Rows of one sheet as {header: value} with their spreadsheet row number under '_row'."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = [list(r) for r in wb[name].iter_rows(values_only=True)]
    wb.close()
    head = next(i for i, r in enumerate(rows) if "Child Unique ID" in r)
    out = []
    for n, r in enumerate(rows[head + 1:], start=head + 2):
        if any(v not in (None, "") for v in r):
            out.append({"_row": n, **{h: v for h, v in zip(rows[head], r, strict=False) if h}})
    return out


def _config(tmp_path: Path, inputs: dict, year: int = 2021) -> object:
    path = tmp_path / "report.yml"
    path.write_text(yaml.safe_dump({"area": {"name": "Annex"}, "year": year, "paths": {"processed": "out"},
                                    "pseudonymisation": {"key_file": str(tmp_path / "k.key")}, "inputs": inputs}))
    return load_config(path)


def _entry(result, table: str) -> dict:
    return next(e for e in result.report["inputs"] if e["table"] == table)


@pytest.fixture(scope="module")
def ingested(workbook, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("annex")
    inputs = {t: {"file": str(workbook), "format": "annex_a"} for t in TABLES}
    inputs["children"] = {"file": str(workbook), "format": "annex_a", "sheet": "List 7"}
    result = run_ingest(_config(tmp, inputs))
    return tmp / "out", result


def test_sheets_found_by_list_number(workbook):
    assert find_list(workbook, 3, key="inputs.referrals") == "List 3"
    assert find_list(workbook, 1, key="inputs.x") == "List 1"  # not List 10 or List 11


def test_rows_read_match_the_lists(workbook, ingested):
    out, result = ingested
    assert result.ok, result.failed
    list3, list5, list7 = (_sheet(workbook, f"List {n}") for n in (3, 5, 7))
    with_icpc = [r for r in list5 if r["Date of Initial Child Protection Conference"] is not None]
    expected = {"referrals": list3, "s47": list5, "icpc": with_icpc, "cp_plans": list7, "children": list7}
    assert len(with_icpc) == 3 and len(list5) == 5
    for table, rows in expected.items():
        e = _entry(result, table)
        assert e["format"] == "annex_a"
        assert e["rows_read"] == len(rows) == e["rows_accepted"] + e["rows_rejected"], table
        assert len(pd.read_parquet(out / f"{table}.parquet")) == e["rows_accepted"]
    assert _entry(result, "referrals")["sheet"] == "List 3"
    assert _entry(result, "icpc")["sheet"] == "List 5"
    assert any("2 row(s)" in w and "no conference date" in w for w in _entry(result, "icpc")["warnings"])


def test_coded_values_and_dates(workbook, ingested):
    out, _ = ingested
    refs = pd.read_parquet(out / "referrals.parquet")
    list3 = _sheet(workbook, "List 3")
    sources = {"s) 8: Other": "8", "j) 3D: Health services": "3D", "q) 6: Police": "6", "e) 2A: Schools": "2A"}
    assert Counter(refs["referral_source"]) == Counter(sources[r["Referral Source"]] for r in list3)
    assert Counter(refs["team"]) == Counter(r["Allocated Team"] for r in list3)
    assert refs["nfa"].tolist() == [r["Referral NFA?"] == "Yes" for r in list3]
    assert refs["referral_date"].tolist() == [pd.Timestamp(r["Date of Referral"]) for r in list3]
    plans = pd.read_parquet(out / "cp_plans.parquet")
    list7 = _sheet(workbook, "List 7")
    labels = {"Physical abuse": "PHY", "Emotional abuse": "EMO"}
    assert plans["initial_category"].tolist() == [labels[r["Initial Category of Abuse"]] for r in list7]
    assert plans["previous_plans"].tolist() == [r["Number of Previous Child Protection Plans"] for r in list7]
    assert int(plans["plan_end_date"].isna().sum()) == sum(r["Child Protection Plan End Date"] is None for r in list7)
    kids = pd.read_parquet(out / "children.parquet")
    genders = {"a) Male": "M", "b) Female": "F"}
    assert Counter(kids["sex"]) == Counter(genders[r["Gender"]] for r in list7)
    assert Counter(kids["ethnicity"]) == Counter(r["Ethnicity"].split(") ")[1] for r in list7)
    assert not kids["disability"].any()  # every List 7 child is "b) No"


def test_derived_identifiers_link_conferences_to_enquiries(ingested):
    out, _ = ingested
    s47 = pd.read_parquet(out / "s47.parquet")
    icpc = pd.read_parquet(out / "icpc.parquet")
    assert s47["s47_id"].is_unique and icpc["icpc_id"].is_unique
    assert set(icpc["s47_id"]) <= set(s47["s47_id"])
    assert icpc["plan_resulted"].all()
    plans = pd.read_parquet(out / "cp_plans.parquet")
    assert plans["plan_id"].is_unique and plans["plan_id"].str.startswith("P").all()


def test_staff_names_and_raw_ids_never_carried_over(workbook, ingested):
    out, result = ingested
    for table in (*TABLES, "children"):
        assert _entry(result, table)["personal_columns_dropped"] == ["Allocated Worker"]
    list3 = _sheet(workbook, "List 3")
    blobs = b"".join(p.read_bytes() for p in out.iterdir())
    for r in list3:
        assert str(r["Child Unique ID"]).encode() not in blobs
        assert r["Allocated Worker"].split("\xa0")[-1].encode() not in blobs


def test_unsupported_tables_name_the_setting(workbook, tmp_path):
    inputs = {"cp_reviews": {"file": str(workbook), "format": "annex_a"},
              "children": {"file": str(workbook), "format": "annex_a"},
              "allegations": {"file": str(workbook), "format": "annex_a"},
              "referrals": {"file": str(workbook), "format": "annex_a", "sheet": "List 2"}}
    result = run_ingest(_config(tmp_path, inputs))
    assert result.built == []
    assert "latest review date" in result.failed["cp_reviews"]
    assert _entry(result, "children")["config_key"] == "inputs.children.sheet"
    assert "no allegations list" in result.failed["allegations"]
    # the wrong list: the date the identifier is made from is missing
    assert "Date of Referral" in result.failed["referrals"]


def _annex_workbook(path: Path) -> None:
    """An Annex A workbook as councils send it: title rows, coded values, and a few faults."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "List 7 - CP plans"
    ws.append(["Annex A: List 7 - children who are the subject of a child protection plan"])
    ws.append(["Fictional council, extract 31/03/2025"])
    ws.append([])
    ws.append(["Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Does the Child have a Disability",
               "Child Protection Plan Start Date", "Initial Category of Abuse", "Latest Category of Abuse",
               "Child Protection Plan End Date", "Number of Previous Child Protection Plans", "Allocated Team",
               "Allocated Worker"])
    d = dt.datetime
    ws.append(["A1", "a) Male", "a) WBRI", d(2015, 1, 1), "a) Yes", d(2024, 5, 1), "a) Neglect", "a) Neglect",
               None, 0, "Team 1", "Sam Smith"])                                    # row 5: fine
    ws.append(["A2", "c) Not stated/recorded", "s) NOBT", d(2016, 1, 1), "b) No", d(2024, 6, 1),
               "d) Emotional abuse", "e) Multiple/not recommended", d(2024, 3, 1), 1, "Team 1", "Sam Smith"])  # 6
    ws.append(["A3", "b) Female", "a) WBRI", d(2017, 1, 1), "b) No", d(2024, 7, 1), "z) Spiritual", "a) Neglect",
               None, 0, "Team 2", "Al Jones"])                                     # row 7: unknown category
    ws.append(["A1", "a) Male", "a) WBRI", d(2015, 1, 1), "a) Yes", d(2024, 5, 1), "a) Neglect", "a) Neglect",
               None, 0, "Team 1", "Sam Smith"])                                    # row 8: repeats row 5
    ws.append([])
    ws.append(["A4", "b) Female", "a) WBRI", d(2012, 1, 1), "b) No", "31/02/2024", "b) Physical abuse",
               "b) Physical abuse", None, 2, "Team 2", "Al Jones"])                # row 10: impossible date
    wb.create_sheet("List 3")
    wb.save(path)


def test_title_rows_codes_and_rejections_with_row_numbers(tmp_path):
    path = tmp_path / "annex.xlsx"
    _annex_workbook(path)
    inputs = {"cp_plans": {"file": str(path), "format": "annex_a"},
              "children": {"file": str(path), "format": "annex_a", "sheet": "List 7 - CP plans"}}
    result = run_ingest(_config(tmp_path, inputs, year=2025))
    assert result.ok, result.failed
    plans = _entry(result, "cp_plans")
    assert plans["header_row"] == 4 and plans["header_row_detected"]
    assert (plans["rows_read"], plans["rows_accepted"], plans["blank_rows_skipped"]) == (5, 1, 1)
    rej = pd.read_csv(tmp_path / "out" / "ingest_rejected.csv", dtype=str, keep_default_na=False,
                      encoding="utf-8-sig")
    first = rej[rej["table"] == "cp_plans"].drop_duplicates("row_number")
    assert dict(zip(first["row_number"].astype(int), first["reason"], strict=True)) == {
        6: "end_before_start", 7: "unknown_code", 8: "duplicate_row", 10: "impossible_date"}
    kids = pd.read_parquet(tmp_path / "out" / "children.parquet")
    # row 8 repeats row 5 exactly: the child is read once (and said so), not rejected
    assert _entry(result, "children")["rows_read"] == 4 == len(kids)
    assert any("read once" in w for w in _entry(result, "children")["warnings"])
    assert sorted(kids["sex"]) == ["F", "F", "M", "U"]
    assert sorted(kids["disability"].tolist()) == [False, False, False, True]
    ok = pd.read_parquet(tmp_path / "out" / "cp_plans.parquet")
    assert ok[["initial_category", "plan_start_date"]].values.tolist() == [["NEG", pd.Timestamp("2024-05-01")]]


def test_configured_columns_and_codes_override_the_preset(tmp_path):
    path = tmp_path / "annex.xlsx"
    _annex_workbook(path)
    wb = openpyxl.load_workbook(path)
    wb["List 7 - CP plans"]["G4"] = "Category at start"
    wb.save(path)
    inputs = {"cp_plans": {"file": str(path), "format": "annex_a",
                           "columns": {"initial_category": "Category at start"},
                           "codes": {"initial_category": {"z) Spiritual": "EMO"}}}}
    result = run_ingest(_config(tmp_path, inputs, year=2025))
    e = _entry(result, "cp_plans")
    assert e["column_mapping"]["initial_category"] == "Category at start"
    assert "unknown_code" not in e["rejected_by_reason"]
    assert e["rows_accepted"] == 2
