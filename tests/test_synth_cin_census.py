"""The synthetic CIN census writer (pipeline.py synth --format cin-census) and the census round trip.

The file is validated with lxml against the real DfE schema in tests/fixtures; the
round trip compares the census ingest with the CSV/XLSX ingest of the same
seed. Their accepted counts are equal except for three differences that the
formats impose, each counted here independently from the written files:

* referrals: + the *context* referrals (episodes that began before the data
  window and hold an enquiry, conference or plan in it), which a census file
  must contain and the referrals extract does not;
* children: - the children known only through private fostering, who are not
  children in need;
* cp_reviews: + the reviews the CSV ingest rejects as ``unknown_plan`` because
  their plan's Plan ID was blanked; in the census a review sits inside its plan.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml
from lxml import etree
from test_ingest_synth import FAULT_REASONS, _codes_from_generator

from safeguarding.config import load_config
from safeguarding.ingest import run_ingest
from safeguarding.synth import generate_council
from safeguarding.synth import generator as gen
from safeguarding.synth.cin_census import CIN_FILE

CIN = ("children", "referrals", "s47", "icpc", "cp_plans", "cp_reviews")
SEED = 11
PROJECT = Path(__file__).resolve().parents[1]


def _ingest(folder: Path, fmt: str) -> tuple[object, pd.DataFrame]:
    inputs = gen.inputs_config(".", fmt)
    codes = _codes_from_generator()
    for table, spec in inputs.items():
        if "format" not in spec and table in codes:
            spec["codes"] = codes[table]
    path = folder / "report.yml"
    path.write_text(yaml.safe_dump({"area": {"name": "Synthetic"}, "year": 2025, "paths": {"processed": "processed"},
                                    "pseudonymisation": {"key_file": str(folder.parent / "k.key")},
                                    "inputs": inputs}))
    result = run_ingest(load_config(path))
    assert result.ok, result.failed
    rej = pd.read_csv(folder / "processed" / "ingest_rejected.csv", dtype=str, keep_default_na=False,
                      encoding="utf-8-sig")
    return result, rej


def _council(tmp_path_factory, fmt: str, fault_rate: float) -> tuple[Path, dict, object, pd.DataFrame]:
    folder = tmp_path_factory.mktemp(f"{fmt}-{fault_rate}")
    truth = generate_council(folder, seed=SEED, scale="small", years=2, fault_rate=fault_rate, fmt=fmt)
    result, rej = _ingest(folder, fmt)
    return folder, truth, result, rej


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return _council(tmp_path_factory, "cin_census", 0.0), _council(tmp_path_factory, "csv", 0.0)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    return _council(tmp_path_factory, "cin_census", 0.05), _council(tmp_path_factory, "csv", 0.05)


@pytest.fixture(scope="module")
def schema(fixtures):
    return etree.XMLSchema(etree.parse(str(fixtures / "formats" / "cin_census" / "CIN_schema_2026.xsd")))


def _accepted(result) -> dict[str, int]:
    return {e["table"]: e["rows_accepted"] for e in result.report["inputs"]}


def _context_referrals(xml: Path, window_start: str) -> int:
    """Distinct (child, referral date) episodes dated before the window (their copies are duplicates)."""
    doc = etree.parse(str(xml))
    pairs = {(c.getparent().findtext("ChildIdentifiers/LAchildID"), c.findtext("CINreferralDate"))
             for c in doc.xpath("//Child/CINdetails")}
    return sum(1 for _, d in pairs if len(d) == 10 and d[4] == "-" and d[7] == "-" and d < window_start)


def _pf_children_accepted(xml: Path, csv_folder: Path, csv_rej: pd.DataFrame) -> int:
    """children.csv rows accepted by the CSV ingest whose child is not in the census file."""
    census_ids = set(etree.parse(str(xml)).xpath("//ChildIdentifiers/LAchildID/text()"))
    kids = pd.read_csv(csv_folder / "children.csv", dtype=str, keep_default_na=False)
    rejected = set(csv_rej.loc[csv_rej["table"] == "children", "row_number"].astype(int))
    rows = [(i + 2, pid) for i, pid in enumerate(kids["Person ID"])]
    return sum(1 for row, pid in rows if row not in rejected and pid not in census_ids)


def _unknown_plan_only(csv_rej: pd.DataFrame) -> int:
    r = csv_rej[csv_rej["table"] == "cp_reviews"]
    reasons = r.groupby("row_number")["reason"].agg(set)
    return int((reasons == {"unknown_plan"}).sum())


def test_clean_census_is_valid_against_the_dfe_schema_and_deterministic(clean, schema, tmp_path):
    (folder, truth, _, _), _ = clean
    doc = etree.parse(str(folder / CIN_FILE))
    assert schema.validate(doc), schema.error_log
    meta = truth["files"][CIN_FILE]
    assert meta["rows_by_entity"]["children"] == len(doc.xpath("//Child")) == meta["rows"]
    assert meta["rows_by_entity"]["cp_reviews"] == len(doc.xpath("//CPPreviewDate")) > 100
    for name in ("children.csv", "referrals.csv", "s47.csv", "icpc.csv", "cp_plans.xlsx", "cp_reviews.csv"):
        assert not (folder / name).exists() and name not in truth["files"]
    assert (folder / "private_fostering.csv").exists() and (folder / "lado_allegations.csv").exists()
    again = generate_council(tmp_path, seed=SEED, scale="small", years=2, fmt="cin_census")
    assert (tmp_path / CIN_FILE).read_bytes() == (folder / CIN_FILE).read_bytes()
    assert again["files"][CIN_FILE] == meta


def test_csv_output_is_unchanged_by_the_census_option(clean):
    _, (folder, truth, _, _) = clean
    assert CIN_FILE not in truth["files"] and (folder / "referrals.csv").exists()


def test_clean_round_trip_same_accepted_counts(clean):
    (xfolder, xtruth, xres, xrej), (cfolder, _, cres, crej) = clean
    assert xrej.empty and crej.empty
    xacc, cacc = _accepted(xres), _accepted(cres)
    context = _context_referrals(xfolder / CIN_FILE, xtruth["window"]["start"])
    pf = _pf_children_accepted(xfolder / CIN_FILE, cfolder, crej)
    assert context > 50 and pf > 10
    assert (context, pf) == (xtruth["files"][CIN_FILE]["context_referrals"],
                             xtruth["files"][CIN_FILE]["children_not_in_census"])
    expected = dict(cacc, referrals=cacc["referrals"] + context, children=cacc["children"] - pf)
    assert xacc == expected
    # the same events: referral dates in the window, conference dates, plan starts and categories
    x, c = xfolder / "processed", cfolder / "processed"
    xr = pd.read_parquet(x / "referrals.parquet")
    window = xr[xr["referral_date"] >= pd.Timestamp(xtruth["window"]["start"])]
    assert sorted(window["referral_date"]) == sorted(pd.read_parquet(c / "referrals.parquet")["referral_date"])
    assert Counter(window["referral_source"]) == Counter(pd.read_parquet(c / "referrals.parquet")["referral_source"])
    for table, cols in (("icpc", ["icpc_date", "plan_resulted"]), ("cp_plans", ["plan_start_date", "plan_end_date",
                                                                                 "initial_category", "previous_plans"]),
                        ("cp_reviews", ["review_date"]), ("s47", ["s47_start_date"])):
        xs = pd.read_parquet(x / f"{table}.parquet")[cols].astype(str).sort_values(cols).reset_index(drop=True)
        cs = pd.read_parquet(c / f"{table}.parquet")[cols].astype(str).sort_values(cols).reset_index(drop=True)
        pd.testing.assert_frame_equal(xs, cs)
    # children in need get the same characteristics in both
    xk, ck = pd.read_parquet(x / "children.parquet"), pd.read_parquet(c / "children.parquet")
    merged = xk.merge(ck, on="child_id", suffixes=("_x", "_c"))
    assert len(merged) == len(xk)
    for col in ("date_of_birth", "sex", "ethnicity", "disability"):
        assert (merged[f"{col}_x"] == merged[f"{col}_c"]).all(), col


def test_schema_errors_only_where_faults_were_written(faulty, schema):
    (folder, truth, _, _), _ = faulty
    doc = etree.parse(str(folder / CIN_FILE))
    assert not schema.validate(doc)
    error_lines = {e.line for e in schema.error_log}
    faults = [f for f in truth["faults"]["detail"] if f["file"] == CIN_FILE]
    invalid = {f["line"] for f in faults if f["kind"] in ("bad_date", "unknown_code")}
    assert error_lines == invalid
    kinds = Counter(f["kind"] for f in faults)
    # every kind is represented; a blank record identifier is written as an unusable key date
    assert set(kinds) == set(FAULT_REASONS) - {"blank_identifier"}
    assert {f.get("written_for") for f in faults} == {None, "blank_identifier"}


def test_census_rejections_are_exactly_the_written_faults(faulty):
    (_, truth, result, rej), _ = faulty
    faults = [f for f in truth["faults"]["detail"] if f["file"] == CIN_FILE]
    first = rej[rej["table"].isin(CIN)].drop_duplicates(["table", "row_number"], keep="first")
    got = {(r.table, int(r.row_number)): r.reason for r in first.itertuples()}
    for f in faults:
        assert got.get((f["entity"], f["row"])) in FAULT_REASONS[f["kind"]], f
    assert len(got) == len(faults)
    for e in result.report["inputs"]:
        if e["table"] in CIN:
            assert e["rows_read"] == e["rows_accepted"] + e["rows_rejected"]
            assert e["rows_read"] == truth["files"][CIN_FILE]["rows_by_entity"][e["table"]]
            assert e["personal_columns_dropped"] == ["UPN"]


def test_faulty_round_trip_accepted_counts(faulty):
    (xfolder, xtruth, xres, _), (cfolder, ctruth, cres, crej) = faulty
    xacc, cacc = _accepted(xres), _accepted(cres)
    context = _context_referrals(xfolder / CIN_FILE, xtruth["window"]["start"])
    pf = _pf_children_accepted(xfolder / CIN_FILE, cfolder, crej)
    cascade = _unknown_plan_only(crej)
    assert context == xtruth["files"][CIN_FILE]["context_referrals"]
    assert cascade > 0
    expected = dict(cacc, referrals=cacc["referrals"] + context, children=cacc["children"] - pf,
                    cp_reviews=cacc["cp_reviews"] + cascade)
    assert xacc == expected
    # the same faults were drawn for both formats
    xkinds = Counter(f.get("written_for", f["kind"]) for f in xtruth["faults"]["detail"]
                     if f["file"] == CIN_FILE and not f.get("collateral"))
    ckinds = Counter(f["kind"] for f in ctruth["faults"]["detail"] if f["file"] in
                     ("referrals.csv", "s47.csv", "icpc.csv", "cp_plans.xlsx", "cp_reviews.csv", "children.csv"))
    pf_only = ckinds - xkinds  # faults on private-fostering-only children's rows are not in the census
    assert sum(pf_only.values()) == sum(ckinds.values()) - sum(xkinds.values())
    assert set(pf_only) <= {"bad_date", "blank_identifier", "unknown_code", "duplicate_row"}


def test_no_upn_or_raw_identifier_reaches_the_outputs(faulty):
    (folder, _, _, _), _ = faulty
    doc = etree.parse(str(folder / CIN_FILE))
    raw = doc.xpath("//UPN/text()")[:30] + [i for i in doc.xpath("//LAchildID/text()")[:30] if i]
    assert raw
    blobs = b"".join(p.read_bytes() for p in (folder / "processed").iterdir())
    for value in raw:
        assert value.encode() not in blobs


def test_cli_format_option(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "pipeline.py", "synth", *args], cwd=PROJECT, capture_output=True,
                              text=True)

    ok = run("--out", str(tmp_path / "c"), "--format", "cin-census", "--years", "1", "--seed", "5")
    assert ok.returncode == 0, ok.stderr
    assert CIN_FILE in ok.stdout and (tmp_path / "c" / CIN_FILE).exists()
    bad = run("--out", str(tmp_path / "e"), "--format", "cin-census", "--scale", "england")
    assert bad.returncode == 2 and "england" in bad.stderr
    bad = run("--out", str(tmp_path / "l"), "--format", "cin-census", "--la-code", "E06000001")
    assert bad.returncode == 2 and "3-digit" in bad.stderr
