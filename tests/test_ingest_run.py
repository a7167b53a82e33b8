"""End-to-end ingest on small fixtures written in each test: every bad input, accounting, pseudonyms."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguarding.config import ConfigError, load_config
from safeguarding.ingest import run_ingest
from safeguarding.schema import ENTITIES
from safeguarding.settings import PseudonymisationSettings

PROJECT = Path(__file__).resolve().parents[1]


def make_config(tmp_path: Path, inputs: dict, **extra) -> object:
    cfg = {"area": {"name": "Testshire"}, "year": 2025,
           "paths": {"raw": "raw", "processed": "out", "reports": "reports"},
           "pseudonymisation": {"key_file": str(tmp_path / "secret" / "pseudonym.key")},
           "inputs": inputs, **extra}
    path = tmp_path / "report.yml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return load_config(path)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> str:
    p = tmp_path / "raw" / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(text.encode(encoding))
    return f"raw/{name}"


def rejected(result) -> pd.DataFrame:
    return pd.read_csv(result.processed_dir / "ingest_rejected.csv", dtype=str, keep_default_na=False,
                       encoding="utf-8-sig")


def entry(result, table: str) -> dict:
    return next(e for e in result.report["inputs"] if e["table"] == table)


REFERRALS = """Referral ID,Child ID,Date of referral,Source,Primary need,NFA,Team
R1,C1,01/02/2024,Schools,N1,No,East
R2,C2,15/03/2024,Police,N4,Yes,West
R3,C3,2024-04-05,6,N1,,East
"""


def test_clean_referrals_written_with_canonical_columns_and_dtypes(tmp_path):
    cfg = make_config(tmp_path, {"referrals": {"file": write(tmp_path, "ref.csv", REFERRALS)}})
    result = run_ingest(cfg)
    assert result.ok
    df = pd.read_parquet(tmp_path / "out" / "referrals.parquet")
    assert list(df.columns) == ENTITIES["referrals"].column_names
    assert str(df["referral_date"].dtype) == "datetime64[ns]"
    assert df["referral_date"].tolist() == [pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-15"),
                                            pd.Timestamp("2024-04-05")]
    assert df["referral_source"].tolist() == ["2A", "6", "6"]
    assert str(df["nfa"].dtype) == "boolean"
    assert df["nfa"].tolist()[:2] == [False, True] and pd.isna(df["nfa"].iloc[2])
    assert str(df["child_id"].dtype).startswith("string")
    assert all(len(c) == 17 and c[0] == "C" for c in df["child_id"])
    e = entry(result, "referrals")
    assert (e["rows_read"], e["rows_accepted"], e["rows_rejected"]) == (3, 3, 0)
    assert e["header_row"] == 1 and e["encoding"] == "utf-8"


def test_every_row_level_fault_named_with_file_row_column_and_fix(tmp_path):
    text = ("Referral ID,Child ID,Date of referral,Source,Primary need\n"
            "R1,C1,01/02/2024,Schools,N1\n"          # row 2 ok
            "R2,C2,31/02/2024,Schools,N1\n"          # row 3 impossible date
            "R3,C3,someday,Schools,N1\n"             # row 4 unparseable
            "R4,C4,01/02/2024,Martians,N1\n"         # row 5 unknown optional code: kept, source unknown
            "R5,,01/02/2024,Schools,N1\n"            # row 6 blank child id
            "R1,C1,01/02/2024,Schools,N1\n"          # row 7 exact duplicate of row 2
            "R6,C6,01/02/1999,Schools,N1\n"          # row 8 out of range
            "R2b,C2,01/02/2024,Schools,N1\n"         # row 9 ok
            "R2b,C9,02/02/2024,Schools,N1\n")        # row 10 same id, different content
    cfg = make_config(tmp_path, {"referrals": {"file": write(tmp_path, "ref.csv", text)}})
    result = run_ingest(cfg)
    rej = rejected(result)
    got = {(int(r.row_number), r.reason) for r in rej.itertuples()}
    assert got == {(3, "impossible_date"), (4, "unparseable_date"), (6, "blank_identifier"),
                   (7, "duplicate_row"), (8, "date_out_of_range"), (10, "duplicate_key")}
    assert set(rej["source_file"]) == {"raw/ref.csv"}
    by_row = {int(r.row_number): r for r in rej.itertuples()}
    assert by_row[3].column == "Date of referral" and by_row[3].value == "31/02/2024"
    assert "February 2024 has no day 31" in by_row[3].message
    assert by_row[6].column == "Child ID"
    assert "row 2" in by_row[7].message and "row 9" in by_row[10].message
    assert "ingest.min_date" in by_row[8].fix
    assert all(rej["fix"].str.len() > 10)
    e = entry(result, "referrals")
    # issue #13 item 6: row 5's unknown source is optional, so the row is kept and the value listed to map
    assert e["rows_read"] == 9 and e["rows_accepted"] == 3 and e["rows_rejected"] == 6
    assert e["rows_read"] == e["rows_accepted"] + e["rows_rejected"]
    assert [(u["source_column"], u["value"], u["rows_kept"]) for u in e["unmapped_values"]] == [
        ("Source", "Martians", 1)]
    assert e["rejected_by_reason"]["duplicate_row"] == 1 and e["rejected_by_reason"]["duplicate_key"] == 1


def test_row_problems_as_problem_records_match_the_rejected_file_and_account_for_every_row(tmp_path):
    text = ("Referral ID,Child ID,Date of referral,Source,Primary need\n"
            "R1,C1,01/02/2024,Schools,N1\n"          # row 2 ok
            "R2,,31/02/2024,Schools,N1\n"            # row 3: blank child id and an impossible date
            "R3,C3,someday,Schools,N1\n")            # row 4 unparseable
    cfg = make_config(tmp_path, {"referrals": {"file": write(tmp_path, "ref.csv", text)}})
    result = run_ingest(cfg)
    t = result.tables["referrals"]
    records = t.problem_records()
    rej = rejected(result)
    assert [(p.row, p.reason, p.column, p.message, p.fix) for p in records] == [
        (int(r.row_number), r.reason, r.column, r.message, r.fix) for r in rej.itertuples()]
    assert all(p.table == "referrals" and p.file == t.source_file and p.is_error for p in records)
    assert [(p.row, p.dropped) for p in records] == [(3, 1), (3, 0), (4, 1)]
    e = entry(result, "referrals")
    assert e["rows_read"] == e["rows_accepted"] + sum(p.dropped for p in records)


def test_row_with_several_problems_is_one_rejected_row(tmp_path):
    text = ("Referral ID,Child ID,Date of referral,Source,NFA\n"
            ",C1,31/02/2024,Martians,maybe\n"
            "R2,C2,01/02/2024,Schools,No\n")
    result = run_ingest(make_config(tmp_path, {"referrals": {"file": write(tmp_path, "r.csv", text)}}))
    e = entry(result, "referrals")
    assert (e["rows_read"], e["rows_accepted"], e["rows_rejected"]) == (2, 1, 1)
    # first reason in priority order; all three problems listed (an unknown optional code is not one: issue #13)
    assert e["rejected_by_reason"] == {"blank_identifier": 1}
    assert e["problems_by_reason"] == {"blank_identifier": 1, "impossible_date": 1, "invalid_bool": 1}
    assert sorted(rejected(result)["reason"]) == ["blank_identifier", "impossible_date", "invalid_bool"]
    assert [(u["value"], u["rows"], u["rows_kept"]) for u in e["unmapped_values"]] == [("Martians", 1, 0)]


def test_end_before_start_and_conference_before_enquiry_and_unknown_plan(tmp_path):
    plans = ("Plan ID,Child ID,Plan start date,Plan end date,Initial category\n"
             "P1,C1,01/04/2024,01/03/2024,Neglect\n"     # row 2: end before start
             "P2,C2,01/04/2024,,NEG\n"
             "P3,C3,01/05/2024,02/06/2024,a) Neglect\n")
    reviews = ("Plan ID,Review date\nP2,01/06/2024\nP9,01/06/2024\n")
    s47 = "S47 ID,Child ID,S47 start date\nS1,C1,10/01/2024\nS2,C2,10/01/2024\n"
    icpc = ("ICPC ID,Child ID,ICPC date,S47 ID\n"
            "I1,C1,05/01/2024,S1\n"        # row 2: before its enquiry
            "I2,C2,20/01/2024,S2\n"
            "I3,C3,20/01/2024,\n")
    cfg = make_config(tmp_path, {
        "cp_plans": {"file": write(tmp_path, "plans.csv", plans)},
        "cp_reviews": {"file": write(tmp_path, "reviews.csv", reviews)},
        "s47": {"file": write(tmp_path, "s47.csv", s47)},
        "icpc": {"file": write(tmp_path, "icpc.csv", icpc)},
    })
    result = run_ingest(cfg)
    rej = rejected(result)
    rows = {(r.table, int(r.row_number), r.reason, r.column) for r in rej.itertuples()}
    assert rows == {("cp_plans", 2, "end_before_start", "Plan end date"),
                    ("icpc", 2, "conference_before_enquiry", "ICPC date"),
                    ("cp_reviews", 3, "unknown_plan", "Plan ID")}
    msg = rej.loc[rej.reason == "conference_before_enquiry", "message"].iloc[0]
    assert "2024-01-05" in msg and "2024-01-10" in msg
    plans_df = pd.read_parquet(tmp_path / "out" / "cp_plans.parquet")
    assert plans_df["initial_category"].tolist() == ["NEG", "NEG"]
    reviews_df = pd.read_parquet(tmp_path / "out" / "cp_reviews.parquet")
    assert reviews_df["plan_id"].iloc[0] in set(plans_df["plan_id"])   # plan ids join across tables


def test_fatal_tables_do_not_stop_the_others(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "empty.csv").write_bytes(b"")
    (tmp_path / "raw" / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    cfg = make_config(tmp_path, {
        "referrals": {"file": write(tmp_path, "ref.csv", REFERRALS)},
        "s47": {"file": "raw/nowhere.csv"},
        "icpc": {"file": "raw/empty.csv"},
        "cp_plans": {"file": "raw/broken.xlsx"},
        "children": {"file": write(tmp_path, "kids.csv", "Title of the report\nfoo,bar\n1,2\n")},
        "allegations": {"file": write(tmp_path, "lado.csv", "LADO ref,Date referred\nA1,01/02/2024\n")},
    })
    result = run_ingest(cfg)
    assert result.built == ["referrals"]
    failed = result.failed
    assert set(failed) == {"s47", "icpc", "cp_plans", "children", "allegations"}
    assert "file not found" in failed["s47"] and "nowhere.csv" in failed["s47"] and "inputs.s47.file" in failed["s47"]
    assert "empty" in failed["icpc"] and "empty.csv" in failed["icpc"]
    assert "unreadable workbook" in failed["cp_plans"] and "broken.xlsx" in failed["cp_plans"]
    assert "header not found" in failed["children"] and "inputs.children.header_row" in failed["children"]
    assert "'sector'" in failed["allegations"] and "inputs.allegations.columns.sector" in failed["allegations"]
    assert all("Fix:" in m for m in failed.values())
    assert (tmp_path / "out" / "referrals.parquet").exists()
    assert not (tmp_path / "out" / "s47.parquet").exists()
    md = (tmp_path / "out" / "ingest_report.md").read_text()
    assert "Tables **not built**" in md and "s47" in md


def test_cli_exit_status_and_summary(tmp_path):
    cfg = make_config(tmp_path, {"referrals": {"file": write(tmp_path, "ref.csv", REFERRALS)},
                                 "s47": {"file": "raw/missing.csv"}})
    proc = subprocess.run([sys.executable, str(PROJECT / "pipeline.py"), "ingest", "--config", str(cfg.path)],
                          capture_output=True, text=True, cwd=PROJECT, timeout=120)
    assert proc.returncode == 1
    assert "Tables built: referrals" in proc.stdout
    assert "s47" in proc.stderr and "could not be built" in proc.stderr
    cfg = make_config(tmp_path, {"referrals": {"file": write(tmp_path, "ref.csv", REFERRALS)}})
    proc = subprocess.run([sys.executable, str(PROJECT / "pipeline.py"), "ingest", "--config", str(cfg.path)],
                          capture_output=True, text=True, cwd=PROJECT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "referrals" in proc.stdout and "built" in proc.stdout


def test_configured_column_mapping_and_missing_configured_header(tmp_path):
    text = "Ref,Kid,When\nR1,C1,01/02/2024\n"
    cfg = make_config(tmp_path, {"referrals": {"file": write(tmp_path, "r.csv", text), "columns": {
        "referral_id": "Ref", "child_id": "Kid", "referral_date": "When"}}})
    assert run_ingest(cfg).ok
    cfg = make_config(tmp_path, {"referrals": {"file": write(tmp_path, "r.csv", text), "header_row": 1,
                                               "columns": {"referral_id": "Ref", "child_id": "Kid",
                                                           "referral_date": "Date"}}})
    result = run_ingest(cfg)
    assert "inputs.referrals.columns.referral_date" in result.failed["referrals"]
    assert "'Date'" in result.failed["referrals"]


def test_code_aliases_and_configured_codes(tmp_path):
    plans = ("Plan ID,Child ID,Plan start date,Initial category,Latest category\n"
             "P1,C1,01/04/2024,Neglect,Spiritual\n"
             "P2,C2,01/04/2024,NEG,b) Physical Abuse\n"
             "P3,C3,01/04/2024,a) Neglect,emotional\n"
             "P4,C4,01/04/2024,  neglect ,SEXUAL ABUSE\n")
    cfg = make_config(tmp_path, {"cp_plans": {"file": write(tmp_path, "p.csv", plans),
                                              "codes": {"latest_category": {"Spiritual": "EMO"}}}})
    result = run_ingest(cfg)
    assert result.ok
    df = pd.read_parquet(tmp_path / "out" / "cp_plans.parquet")
    assert df["initial_category"].tolist() == ["NEG"] * 4
    assert df["latest_category"].tolist() == ["EMO", "PHY", "EMO", "SAB"]


def test_allegation_actions_split_and_written(tmp_path):
    text = ("LADO ref,Date referred,Employer sector,Actions taken\n"
            "A1,01/05/2024,School,Suspended; Dismissed\n"
            "A2,02/05/2024,Health,\n"
            "A3,03/05/2024,Nursery,DBS referral|Police\n")
    result = run_ingest(make_config(tmp_path, {"allegations": {"file": write(tmp_path, "l.csv", text)}}))
    assert result.ok
    df = pd.read_parquet(tmp_path / "out" / "allegations.parquet")
    assert df["sector"].tolist() == ["education", "health", "early_years"]
    assert df["actions"].iloc[0] == "suspension;dismissal" and pd.isna(df["actions"].iloc[1])
    acts = pd.read_parquet(tmp_path / "out" / "allegation_actions.parquet")
    assert list(acts.columns) == ["allegation_id", "action"]
    assert sorted(acts["action"]) == ["barring_referral", "dismissal", "police_investigation", "suspension"]
    assert set(acts["allegation_id"]) <= set(df["allegation_id"])


def test_encodings_bom_and_cp1252(tmp_path):
    text = "Referral ID,Child ID,Date of referral,Team\nR1,C1,01/02/2024,Café – Nord\n"
    bom = tmp_path / "raw" / "bom.csv"
    bom.parent.mkdir(parents=True)
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    write(tmp_path, "win.csv", text, encoding="cp1252")
    result = run_ingest(make_config(tmp_path, {"referrals": {"file": "raw/bom.csv"},
                                               "s47": {"file": "raw/missing.csv"}}))
    assert entry(result, "referrals")["encoding"] == "utf-8-sig"
    assert pd.read_parquet(tmp_path / "out" / "referrals.parquet")["team"].tolist() == ["Café – Nord"]
    result = run_ingest(make_config(tmp_path, {"referrals": {"file": "raw/win.csv"}}))
    assert entry(result, "referrals")["encoding"] == "cp1252"
    assert pd.read_parquet(tmp_path / "out" / "referrals.parquet")["team"].tolist() == ["Café – Nord"]
    result = run_ingest(make_config(tmp_path, {"referrals": {"file": "raw/win.csv", "encoding": "utf-8"}}))
    assert "inputs.referrals.encoding" in result.failed["referrals"]


def _workbook(path: Path, rows: list[list], sheet: str = "CP Plans", other_first: bool = True) -> None:
    wb = openpyxl.Workbook()
    if other_first:
        wb.active.title = "Notes"
        wb.active.append(["This sheet explains the extract"])
        ws = wb.create_sheet(sheet)
    else:
        ws = wb.active
        ws.title = sheet
    for r in rows:
        ws.append(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def test_xlsx_title_rows_named_sheet_and_excel_dates(tmp_path):
    rows = [["Child protection plans, Testshire"], ["Extract date 31/03/2025"],
            ["Plan ID", "Child ID", "Plan Start Date", "Plan End Date", "Initial Category of Abuse",
             "Number of previous CPP"],
            ["P1", 1001, dt.datetime(2024, 4, 1), None, "a) Neglect", 0],
            [None, None, None, None, None, None],
            ["P2", 1002, 45292, dt.datetime(2024, 6, 30, 15, 30), "NEG", 2.0],
            ["P3", 1003, "31/02/2024", None, "NEG", 1]]
    _workbook(tmp_path / "raw" / "plans.xlsx", rows)
    result = run_ingest(make_config(tmp_path, {"cp_plans": {"file": "raw/plans.xlsx", "sheet": "CP Plans"}}))
    e = entry(result, "cp_plans")
    assert e["header_row"] == 3 and e["sheet"] == "CP Plans" and e["header_row_detected"]
    assert (e["rows_read"], e["rows_accepted"], e["rows_rejected"], e["blank_rows_skipped"]) == (3, 2, 1, 1)
    rej = rejected(result)
    assert rej["row_number"].tolist() == ["7"]          # the spreadsheet row, title rows and blank row counted
    df = pd.read_parquet(tmp_path / "out" / "cp_plans.parquet")
    assert df["plan_start_date"].tolist() == [pd.Timestamp("2024-04-01"), pd.Timestamp("2024-01-01")]
    assert df["plan_end_date"].iloc[1] == pd.Timestamp("2024-06-30")
    assert df["previous_plans"].tolist() == [0, 2] and str(df["previous_plans"].dtype) == "Int64"
    # wrong sheet name: fatal with the key to set
    result = run_ingest(make_config(tmp_path, {"cp_plans": {"file": "raw/plans.xlsx", "sheet": "Plans"}}))
    assert "inputs.cp_plans.sheet" in result.failed["cp_plans"] and "'CP Plans'" in result.failed["cp_plans"]
    # explicit header row
    result = run_ingest(make_config(tmp_path, {"cp_plans": {"file": "raw/plans.xlsx", "sheet": "CP Plans",
                                                            "header_row": 3}}))
    assert entry(result, "cp_plans")["rows_read"] == 3


def test_pseudonyms_stable_across_tables_and_runs_and_raw_ids_never_written(tmp_path):
    kids = "Child ID,DOB,Gender,Child name,Home address,Case notes\nKID-77,01/02/2015,F,Jane Doe,1 High St,private\n"
    refs = "Referral ID,Child ID,Date of referral\nREF-55, KID-77 ,01/02/2024\n"
    s47 = "S47 ID,Child ID,S47 start date,Referral ID\nS47-9,KID-77,03/02/2024,REF-55\n"
    inputs = {"children": {"file": write(tmp_path, "k.csv", kids)},
              "referrals": {"file": write(tmp_path, "r.csv", refs)},
              "s47": {"file": write(tmp_path, "s.csv", s47)}}
    result = run_ingest(make_config(tmp_path, inputs))
    assert result.ok
    out = tmp_path / "out"
    k1 = pd.read_parquet(out / "children.parquet")
    r1 = pd.read_parquet(out / "referrals.parquet")
    s1 = pd.read_parquet(out / "s47.parquet")
    assert k1["child_id"].iloc[0] == r1["child_id"].iloc[0] == s1["child_id"].iloc[0]
    assert r1["referral_id"].iloc[0] == s1["referral_id"].iloc[0]
    assert r1["referral_id"].iloc[0] != r1["child_id"].iloc[0]
    assert entry(result, "children")["personal_columns_dropped"] == ["Child name", "Home address", "Case notes"]
    md = (out / "ingest_report.md").read_text()
    assert "'Child name'" in md
    for f in sorted(out.iterdir()):
        data = f.read_bytes()
        for raw in (b"KID-77", b"REF-55", b"S47-9", b"Jane", b"High St", b"private"):
            assert raw not in data, (f.name, raw)
    key = (tmp_path / "secret" / "pseudonym.key")
    assert key.exists() and (key.stat().st_mode & 0o777) == 0o600
    assert result.report["pseudonymisation"]["key_file"] == str(key)
    assert key.read_text().strip() not in json.dumps(result.report)
    # second run: same key file, same pseudonyms
    run_ingest(make_config(tmp_path, inputs))
    assert pd.read_parquet(out / "children.parquet")["child_id"].iloc[0] == k1["child_id"].iloc[0]
    # another key gives other pseudonyms
    other = make_config(tmp_path, inputs)
    other.pseudonymisation = PseudonymisationSettings(key_file=str(tmp_path / "other.key"))
    run_ingest(other)
    assert pd.read_parquet(out / "children.parquet")["child_id"].iloc[0] != k1["child_id"].iloc[0]


def _reference_pseudonym(key: bytes, kind: str, prefix: str, value: str) -> str:
    """The documented construction, computed with the C reference SipHash (siphashc) and hashlib."""
    import hashlib

    import siphashc

    kind_key = hashlib.blake2b(f"safeguarding-pseudonym-v2\x1f{kind}".encode(), key=key, digest_size=16).digest()
    return prefix + format(siphashc.siphash(kind_key, value.encode("utf-8", "surrogatepass")), "016x")


def test_siphash_matches_the_published_test_vector_and_a_c_implementation():
    import random

    import siphashc

    from safeguarding.ingest.pseudonym import siphash24

    # SipHash paper (Aumasson and Bernstein 2012), appendix A: key 00..0f, message 00..0e
    assert int(siphash24(bytes(range(16)), [bytes(range(15))])[0]) == 0xA129CA6149BE45E5
    rng = random.Random(7)
    key = bytes(rng.randrange(256) for _ in range(16))
    # every length from 0 to 80 bytes (all block counts and tails), and one long message in its own group
    msgs = [bytes(rng.randrange(256) for _ in range(n)) for n in range(81) for _ in range(3)] + [b"x" * 5000]
    got = siphash24(key, msgs)
    assert [int(g) for g in got] == [siphashc.siphash(key, m) for m in msgs]


def test_pseudonym_is_siphash_under_a_per_kind_key(tmp_path):
    import hashlib

    from safeguarding.ingest.pseudonym import Pseudonymiser

    key = bytes(range(32))
    p = Pseudonymiser(key)
    expected = _reference_pseudonym(key, "child_id", "C", "00123")
    assert p.one("child_id", "00123") == expected
    assert p.one("child_id", "123") != expected          # leading zeros are not merged
    assert p.one("plan_id", "00123") == _reference_pseudonym(key, "plan_id", "P", "00123")
    assert p.one("plan_id", "00123")[1:] != expected[1:]  # each kind has its own key
    # non-ASCII and lone surrogates (from undecodable bytes) are hashed as their UTF-8 bytes
    for odd in ("Zoë-7", "x\udc9d", ""):
        assert Pseudonymiser(key).one("child_id", odd) == _reference_pseudonym(key, "child_id", "C", odd)
    # a key file longer than BLAKE2b's 64-byte key limit is reduced, not refused
    long_key = bytes(range(100))
    assert Pseudonymiser(long_key).one("child_id", "00123") == \
        _reference_pseudonym(hashlib.blake2b(long_key).digest(), "child_id", "C", "00123")


def test_same_day_referrals_warned_not_rejected(tmp_path):
    text = ("Referral ID,Child ID,Date of referral\nR1,C1,01/02/2024\nR2,C1,01/02/2024\nR3,C1,01/02/2024\n"
            "R4,C2,01/02/2024\n")
    result = run_ingest(make_config(tmp_path, {"referrals": {"file": write(tmp_path, "r.csv", text)}}))
    e = entry(result, "referrals")
    assert e["rows_accepted"] == 4
    assert any("3 referrals share a child and a referral date" in w for w in e["warnings"])


def test_unknown_columns_warned_and_stale_outputs_removed(tmp_path):
    text = "Referral ID,Child ID,Date of referral,Flavour\nR1,C1,01/02/2024,mint\n"
    result = run_ingest(make_config(tmp_path, {"referrals": {"file": write(tmp_path, "r.csv", text)}}))
    e = entry(result, "referrals")
    assert e["extra_columns_ignored"] == ["Flavour"] and any("Flavour" in w for w in e["warnings"])
    assert "Flavour" not in pd.read_parquet(tmp_path / "out" / "referrals.parquet").columns
    (tmp_path / "raw" / "r.csv").unlink()
    result = run_ingest(make_config(tmp_path, {"referrals": {"file": "raw/r.csv"}}))
    assert not (tmp_path / "out" / "referrals.parquet").exists()


def test_date_range_settings_and_birth_dates(tmp_path):
    kids = "Child ID,DOB,Sex\nC1,01/01/1989,M\nC2,01/01/2024,F\nC3,01/06/2025,F\nC4,15/06/2010,U\n"
    result = run_ingest(make_config(tmp_path, {"children": {"file": write(tmp_path, "k.csv", kids)}}))
    rej = rejected(result)
    assert sorted(map(int, rej["row_number"])) == [2, 4]   # before 1990, after the year end (31/03/2025)
    assert set(rej["reason"]) == {"date_out_of_range"}
    refs = "Referral ID,Child ID,Date of referral\nR1,C1,01/02/1998\n"
    result = run_ingest(make_config(tmp_path, {"referrals": {"file": write(tmp_path, "r.csv", refs)}},
                                    ingest={"min_date": "1995-01-01"}))
    assert entry(result, "referrals")["rows_accepted"] == 1


def test_bad_spec_keys_are_fatal_for_that_table(tmp_path):
    # an unknown key is now caught by the configuration check, before any work (issue #12)
    with pytest.raises(ConfigError, match=r"inputs\.referrals\.colums: unknown setting \(did you mean 'columns'"):
        make_config(tmp_path, {"referrals": {"file": write(tmp_path, "r.csv", REFERRALS), "colums": {}}})
    result = run_ingest(make_config(tmp_path, {"referrals": {"file": write(tmp_path, "r.csv", REFERRALS),
                                                             "codes": {"referral_source": {"Schools": "XX"}}}}))
    assert "inputs.referrals.codes.referral_source" in result.failed["referrals"]


def test_header_only_file_builds_empty_table(tmp_path):
    result = run_ingest(make_config(tmp_path, {"referrals": {"file": write(
        tmp_path, "r.csv", "Referral ID,Child ID,Date of referral\n")}}))
    assert result.ok
    df = pd.read_parquet(tmp_path / "out" / "referrals.parquet")
    assert len(df) == 0 and list(df.columns) == ENTITIES["referrals"].column_names


@pytest.mark.parametrize("n", [2000])
def test_fast_and_slow_csv_paths_agree(tmp_path, n):
    rng = np.random.default_rng(5)
    days = rng.integers(0, 700, n)
    dates = [(dt.date(2023, 4, 1) + dt.timedelta(days=int(d))).strftime("%d/%m/%Y") for d in days]
    lines = [f"R{i},C{rng.integers(0, 300)},{d},Schools" for i, d in enumerate(dates)]
    clean = "Referral ID,Child ID,Date of referral,Source\n" + "\n".join(lines) + "\n"
    # a blank line in the middle forces the record-by-record reader; row numbers must still be right
    messy = clean.replace("\n" + lines[1000] + "\n", "\n\n" + lines[1000] + "\n", 1)
    a = run_ingest(make_config(tmp_path, {"referrals": {"file": write(tmp_path, "a.csv", clean)}}))
    fa = pd.read_parquet(tmp_path / "out" / "referrals.parquet")
    b = run_ingest(make_config(tmp_path, {"referrals": {"file": write(tmp_path, "b.csv", messy)}}))
    fb = pd.read_parquet(tmp_path / "out" / "referrals.parquet")
    pd.testing.assert_frame_equal(fa, fb)
    assert entry(a, "referrals")["rows_read"] == entry(b, "referrals")["rows_read"] == n
    assert entry(b, "referrals")["blank_rows_skipped"] == 1
    expected = pd.to_datetime(pd.Series(dates), format="%d/%m/%Y")
    assert (fa["referral_date"].to_numpy() == expected.to_numpy()).all()



def test_pseudonyms_remembered_across_tables_equal_a_fresh_keyed_hash(tmp_path):
    """The per-run cache hands out exactly the keyed hash of each value, whichever table asked first."""
    from safeguarding.ingest.pseudonym import Pseudonymiser

    key = bytes(range(32, 64))

    def expected(kind, prefix, value):
        return _reference_pseudonym(key, kind, prefix, value)

    p = Pseudonymiser(key)
    first = p.many("child_id", np.array(["K1", "K2", "K3"], dtype=object))
    again = p.many("child_id", np.array(["K3", None, "K4", "K1", "K3"], dtype=object))   # cached, blank, new
    assert list(first) == [expected("child_id", "C", v) for v in ("K1", "K2", "K3")]
    assert list(again) == [expected("child_id", "C", "K3"), None, expected("child_id", "C", "K4"),
                           expected("child_id", "C", "K1"), expected("child_id", "C", "K3")]
    assert p.many("plan_id", np.array(["K1"], dtype=object))[0] == expected("plan_id", "P", "K1")
    assert Pseudonymiser(key).one("child_id", "K4") == again[2]
    # end to end: a child in three tables gets the keyed hash of its identifier in every table written
    kids = "Child ID,DOB,Gender\nK1,01/02/2015,F\nK2,03/04/2016,M\n"
    refs = "Referral ID,Child ID,Date of referral\nR1,K2,01/02/2024\nR2,K1,02/02/2024\nR3,K2,03/02/2024\n"
    s47 = "S47 ID,Child ID,S47 start date,Referral ID\nS1,K2,04/02/2024,R3\n"
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "pseudonym.key").write_text(key.hex() + "\n")
    (tmp_path / "secret" / "pseudonym.key").chmod(0o600)
    result = run_ingest(make_config(tmp_path, {"children": {"file": write(tmp_path, "k.csv", kids)},
                                               "referrals": {"file": write(tmp_path, "r.csv", refs)},
                                               "s47": {"file": write(tmp_path, "s.csv", s47)}}))
    assert result.ok, result.failed
    out = tmp_path / "out"
    assert pd.read_parquet(out / "children.parquet")["child_id"].tolist() == [expected("child_id", "C", "K1"),
                                                                            expected("child_id", "C", "K2")]
    assert pd.read_parquet(out / "referrals.parquet")["child_id"].tolist() == [
        expected("child_id", "C", v) for v in ("K2", "K1", "K2")]
    s = pd.read_parquet(out / "s47.parquet")
    assert (s["child_id"].iloc[0], s["referral_id"].iloc[0]) == (expected("child_id", "C", "K2"),
                                                                expected("referral_id", "R", "R3"))


def test_identifier_columns_written_without_a_dictionary(tmp_path):
    import pyarrow.parquet as pq

    result = run_ingest(make_config(tmp_path, {"referrals": {"file": write(tmp_path, "ref.csv", REFERRALS)}}))
    assert result.ok
    meta = pq.ParquetFile(tmp_path / "out" / "referrals.parquet").metadata.row_group(0)
    encodings = {meta.column(i).path_in_schema: set(meta.column(i).encodings) for i in range(meta.num_columns)}
    dictionary = {"PLAIN_DICTIONARY", "RLE_DICTIONARY"}
    assert not encodings["child_id"] & dictionary and not encodings["referral_id"] & dictionary
    assert encodings["team"] & dictionary and encodings["referral_source"] & dictionary


def test_cross_checks_only_look_back_at_tables_already_ingested():
    from safeguarding.ingest.core import CROSS_CHECKS

    order = list(ENTITIES)
    reads = {"icpc": "s47", "cp_reviews": "cp_plans", "referrals": "referrals"}
    assert set(CROSS_CHECKS) == set(reads)
    for subject, other in reads.items():
        assert order.index(other) <= order.index(subject)


def test_duplicates_point_at_the_first_valid_copy(tmp_path):
    text = ("Referral ID,Child ID,Date of referral,Source\n"
            "R1,C1,31/02/2024,Schools\n"     # row 2: invalid, so not a copy to keep
            "R2,C2,01/02/2024,Schools\n"
            "R1,C1,01/02/2024,Schools\n"     # row 4: first valid R1
            "R3,C3,01/02/2024,Police\n"
            "R1,C1,01/02/2024,Schools\n"     # row 6: repeats row 4
            "R1,C7,05/02/2024,Schools\n"     # row 7: same id as row 4
            "R3,C3,01/02/2024,Police\n"      # row 8: repeats row 5
            "R1,C1,01/02/2024,Schools\n")    # row 9: repeats row 4
    result = run_ingest(make_config(tmp_path, {"referrals": {"file": write(tmp_path, "r.csv", text)}}))
    rej = rejected(result)
    got = {int(r.row_number): (r.reason, r.message, r.value) for r in rej.itertuples()}
    assert got[6][:2] == ("duplicate_row", "repeats row 4 (the first copy was kept)")
    assert got[7][:2] == ("duplicate_key", "has the same referral_id as row 4 (the first copy was kept)")
    assert got[8][:2] == ("duplicate_row", "repeats row 5 (the first copy was kept)")
    assert got[9][0] == "duplicate_row" and got[2][0] == "impossible_date" and set(got) == {2, 6, 7, 8, 9}
    assert got[6][2].startswith("R") and len(got[6][2]) == 17          # the pseudonymised identifier
    e = entry(result, "referrals")
    assert (e["rows_read"], e["rows_accepted"], e["rows_rejected"]) == (8, 3, 5)


@settings(max_examples=60, deadline=None)
@given(first=st.lists(st.one_of(st.none(), st.text(max_size=40)), max_size=30, unique=True),
       second=st.lists(st.one_of(st.none(), st.text(max_size=40)), max_size=30, unique=True))
def test_vectorised_pseudonyms_equal_the_reference_for_any_text(first, second):
    """Any text (any length, any code point, surrogates too), fresh or remembered, gets the reference pseudonym."""
    from safeguarding.ingest.pseudonym import Pseudonymiser

    key = bytes(range(7, 39))
    p = Pseudonymiser(key)
    for batch in (first, second):
        got = p.many("referral_id", np.array(batch, dtype=object)).tolist()
        assert got == [None if v is None else _reference_pseudonym(key, "referral_id", "R", v) for v in batch]


@settings(max_examples=60, deadline=None)
@given(batch=st.lists(st.text(max_size=40), max_size=30))
def test_pseudonyms_of_text_as_pyarrow_read_it_equal_the_reference(batch):
    """Identifiers hashed from pyarrow's UTF-8 bytes (string or large_string, a slice, a filter) get the reference."""
    import pyarrow as pa

    from safeguarding.ingest.pseudonym import Pseudonymiser

    key = bytes(range(7, 39))
    p = Pseudonymiser(key)
    expected = [_reference_pseudonym(key, "referral_id", "R", v) for v in batch]
    padded = pa.array(["pad", *batch, "pad"])
    keep = pa.array([False, *[True] * len(batch), False])
    for arr in (padded.slice(1, len(batch)), padded.filter(keep), pa.array(batch, type=pa.large_string())):
        got = p.many_arrow("referral_id", arr)
        assert got.type == pa.string() and got.to_pylist() == expected
        assert p.many("referral_id", arr).tolist() == expected
