"""Integration: ingest a fault-injected synthetic council and match the report to the injected faults."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml

from safeguarding import synth
from safeguarding.config import load_config
from safeguarding.ingest import run_ingest
from safeguarding.settings import PseudonymisationSettings
from safeguarding.synth import generator

#: injected fault kind -> ingest reason(s). Only bad_date is not one-to-one: the generator writes both
#: impossible dates (31/02/2024) and words (TBC), which the ingest tells apart.
FAULT_REASONS = {
    "bad_date": {"impossible_date", "unparseable_date"},
    "blank_identifier": {"blank_identifier"},
    "unknown_code": {"unknown_code"},
    "end_before_start": {"end_before_start"},
    "icpc_before_s47": {"conference_before_enquiry"},
    "duplicate_row": {"duplicate_row"},
}


def _codes_from_generator() -> dict[str, dict[str, dict[str, str]]]:
    """What an analyst writes under inputs.<table>.codes for this council's labels."""
    def labels(table: dict) -> dict[str, str]:
        return {v[0]: k for k, v in table.items()}

    return {
        "referrals": {"referral_source": labels(generator.REFERRAL_SOURCES)},
        "cp_plans": {"initial_category": labels(generator.CATEGORIES),
                     "latest_category": labels(generator.CATEGORIES)},
        "children": {"sex": labels(generator.SEXES)},
        "allegations": {"sector": labels(generator.LADO_SECTORS), "category": labels(generator.LADO_CATEGORIES),
                        "outcome": labels(generator.LADO_OUTCOMES)},
    }


def _config_for(folder: Path, truth: dict, key_file: Path) -> Path:
    codes = _codes_from_generator()
    inputs = {}
    for fname, meta in truth["files"].items():
        if not meta.get("entity"):
            continue
        spec = {"file": fname, "columns": meta["columns"]}
        if meta.get("sheet"):
            spec["sheet"] = meta["sheet"]
        if meta["entity"] in codes:
            spec["codes"] = codes[meta["entity"]]
        inputs[meta["entity"]] = spec
    path = folder / "report.yml"
    path.write_text(yaml.safe_dump({"area": {"name": "Synthetic"}, "year": truth["end_year"],
                                    "paths": {"raw": ".", "processed": "processed"},
                                    "pseudonymisation": {"key_file": str(key_file)}, "inputs": inputs}))
    return path


@pytest.fixture(scope="module")
def faulty_council(tmp_path_factory):
    folder = tmp_path_factory.mktemp("council")
    truth = synth.generate_council(folder, seed=11, scale="small", years=2, fault_rate=0.05)
    cfg = load_config(_config_for(folder, truth, folder / "keys" / "k.key"))
    return folder, truth, run_ingest(cfg)


def test_every_row_is_accounted_for(faulty_council):
    folder, truth, result = faulty_council
    assert result.ok, result.failed
    for e in result.report["inputs"]:
        meta = next(m for m in truth["files"].values() if m.get("entity") == e["table"])
        assert e["rows_read"] + e["blank_rows_skipped"] == meta["rows"], e["table"]
        assert e["rows_read"] == e["rows_accepted"] + e["rows_rejected"]
        assert len(pd.read_parquet(folder / "processed" / f"{e['table']}.parquet")) == e["rows_accepted"]


def _expected_cascade(folder: Path, truth: dict) -> int:
    """Reviews whose plan id is absent from the plans file (its Plan ID was blanked): rejected as unknown_plan.

    Counted independently from the written files, not from the ingest.
    """
    pmeta = next(m for m in truth["files"].values() if m.get("entity") == "cp_plans")
    pfile = next(f for f, m in truth["files"].items() if m.get("entity") == "cp_plans")
    plans = pd.read_excel(folder / pfile, sheet_name=pmeta.get("sheet", 0), header=pmeta["header_row"] - 1,
                          engine="openpyxl", dtype=str)
    rfile = next(f for f, m in truth["files"].items() if m.get("entity") == "cp_reviews")
    reviews = pd.read_csv(folder / rfile, dtype=str, keep_default_na=False)
    known = set(plans[pmeta["columns"]["plan_id"]].dropna().str.strip()) - {""}
    ids = reviews["Plan ID"].str.strip()
    return int(((ids != "") & ~ids.isin(known)).sum())


def test_rejections_match_injected_faults(faulty_council):
    folder, truth, result = faulty_council
    rej = pd.read_csv(folder / "processed" / "ingest_rejected.csv", dtype=str, keep_default_na=False,
                      encoding="utf-8-sig")
    first = rej.drop_duplicates(["table", "row_number"], keep="first")
    file_to_table = {f: m["entity"] for f, m in truth["files"].items() if m.get("entity")}
    faults = [f for f in truth["faults"]["detail"] if f["kind"] in FAULT_REASONS]
    got = {(r.table, int(r.row_number)): r.reason for r in first.itertuples()}
    for f in faults:
        table = file_to_table[f["file"]]
        assert got.get((table, f["row"])) in FAULT_REASONS[f["kind"]], f
    cascade = _expected_cascade(folder, truth)
    assert len(got) == len(faults) + cascade
    extra = [k for k in got if got[k] == "unknown_plan"]
    assert len(extra) == cascade
    # counts per reason in the report agree with the ground truth counts per kind
    for e in result.report["inputs"]:
        fname = next(f for f, t in file_to_table.items() if t == e["table"])
        kinds = Counter({k: v for k, v in truth["faults"]["by_file"].get(fname, {}).items() if k in FAULT_REASONS})
        reasons = Counter(e["rejected_by_reason"])
        for kind, n in kinds.items():
            assert sum(reasons[r] for r in FAULT_REASONS[kind]) == n, (e["table"], kind)
        for extra_col in truth["faults"]["file_level"].get(fname, []):
            assert extra_col in e["extra_columns_ignored"]


def test_personal_columns_dropped_and_no_raw_ids_written(faulty_council):
    folder, truth, result = faulty_council
    for meta in truth["files"].values():
        if not meta.get("entity"):
            continue
        e = next(x for x in result.report["inputs"] if x["table"] == meta["entity"])
        assert sorted(e["personal_columns_dropped"]) == sorted(meta["personal_columns"])
    refs = pd.read_csv(folder / "referrals.csv", dtype=str, keep_default_na=False)
    raw_ids = [v for v in refs["Child ID"].head(50) if v] + [v for v in refs["Referral Ref"].head(50) if v]
    blobs = b"".join(p.read_bytes() for p in (folder / "processed").iterdir()
                     if p.suffix in (".parquet", ".json", ".md"))
    for raw in raw_ids:
        assert raw.encode() not in blobs
    kids = pd.read_parquet(folder / "processed" / "children.parquet")
    refs_out = pd.read_parquet(folder / "processed" / "referrals.parquet")
    assert refs_out["child_id"].isin(set(kids["child_id"])).mean() > 0.9   # pseudonyms join across tables


def test_demo_configuration_ingests(project, tmp_path, monkeypatch):
    cfg_path = project / "report.yml"
    raw = yaml.safe_load(cfg_path.read_text())
    assert raw.get("inputs"), "the demo report.yml must configure its inputs"
    cfg = load_config(cfg_path)
    missing = [s.file for s in cfg.inputs.values() if not cfg.resolve(s.file).exists()]
    assert not missing, f"demo inputs missing (python pipeline.py synth --out data/raw/demo): {missing}"
    monkeypatch.setenv("SAFEGUARDING_KEY_FILE", str(tmp_path / "demo.key"))
    cfg.pseudonymisation = PseudonymisationSettings()  # the key from the environment
    cfg.processed_dir = tmp_path / "processed"
    result = run_ingest(cfg)
    assert result.ok, result.failed
    report = json.loads((tmp_path / "processed" / "ingest_report.json").read_text())
    for e in report["inputs"]:
        assert e["rows_read"] == e["rows_accepted"] + e["rows_rejected"]


def test_aggregate_returns_read_through_the_aggregates_module(tmp_path):
    truth = synth.generate_council(tmp_path, seed=3, scale="small", years=1, fault_rate=0.05)
    meta = truth["files"]["police_monthly_return.xlsx"]
    path = _config_for(tmp_path, truth, tmp_path / "k.key")
    raw = yaml.safe_load(path.read_text())
    raw["inputs"] = {"referrals": raw["inputs"]["referrals"]}
    raw["aggregates"] = [{"file": "police_monthly_return.xlsx", "layout": "wide", "sheet": meta["sheet"],
                          "financial_year": meta["financial_year"], "rows": meta["measures"]}]
    path.write_text(yaml.safe_dump(raw))
    result = run_ingest(load_config(path))
    agg = result.report["aggregates"]
    assert agg["status"] == "built" and agg["rows"] > 0
    assert (tmp_path / "processed" / "aggregates.parquet").exists()
    assert any("ytd" in json.dumps(i).lower() or "year-to-date" in json.dumps(i).lower() for i in agg["issues"])
    assert "Aggregate returns" in (tmp_path / "processed" / "ingest_report.md").read_text()
    # a return that cannot be read fails the run (non-zero exit) while the tables are still built
    raw["aggregates"].append({"file": "no_such_return.xlsx", "layout": "wide", "rows": meta["measures"]})
    path.write_text(yaml.safe_dump(raw))
    result = run_ingest(load_config(path))
    assert result.built == ["referrals"] and "aggregates" in result.failed
    assert "no_such_return.xlsx" in result.failed["aggregates"]


def test_a_crash_reading_the_aggregates_is_a_clear_failure(tmp_path, monkeypatch):
    """The partners' returns are read inside the ingest (safeguarding.ingest.partners): a bug there fails them alone."""
    from safeguarding.ingest.partners import returns

    def crash(config):
        raise RuntimeError("the reader broke")

    monkeypatch.setattr(returns, "load_aggregates", crash)
    path = tmp_path / "report.yml"
    path.write_text(yaml.safe_dump({"area": {"name": "X"}, "year": 2025, "paths": {"processed": "out"},
                                    "pseudonymisation": {"key_file": str(tmp_path / "k.key")},
                                    "aggregates": [{"file": "x.csv"}]}))
    result = run_ingest(load_config(path))
    assert "RuntimeError: the reader broke" in result.failed["aggregates"]
