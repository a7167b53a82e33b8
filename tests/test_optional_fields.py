"""Issue #13 item 6: optional fields never cost a record.

Council extracts often record the referral source as a DfE *group* label
(``Health services``, ``Individual``) instead of a sub-code. Only a required
field may reject a row: a value not in the code list in an optional coded
column keeps the row with the field unknown, and the value is listed (column,
rows, suggested code) with a ``report.yml`` snippet to map it. Every input is
written in the test; nothing outside the repository is read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from safeguarding.config import load_config
from safeguarding.escape import unescape_markdown
from safeguarding.indicators import compute_indicators, load_catalogue
from safeguarding.ingest import run_ingest
from safeguarding.ingest.cli import summary
from safeguarding.ingest.mapping import suggest_code
from safeguarding.ingest.report import codes_snippet

#: Hand-checked, financial year 2024-25. C1 is referred three times, C2 twice.
#:
#: ref  child  date        source            code     DfE group (breakdown)   re-referral (earlier day, < 12 months)
#: R1   C1     03/04/2024  Schools           2A       Schools and education   no
#: R2   C2     10/04/2024  Health services   (group)  Not recorded            no
#: R3   C3     12/05/2024  Police            6        Police                  no
#: R4   C1     20/06/2024  Individual        (group)  Not recorded            yes (R1)
#: R5   C4     01/07/2024  3A                3A       Health services         no
#: R6   C2     15/08/2024  (blank)           -        Not recorded            yes (R2)
#: R7   C1     02/09/2024  Police            6        Police                  yes (R4, R1)
#:
#: Referrals 7; re-referrals 3 of 7. Rejecting the two group-label rows (the old behaviour) gave
#: 5 referrals and 1 re-referral of 5 (R6 loses R2, R7 still has R1), and the build said nothing.
REFERRALS = """Referral ID,Child ID,Date of referral,Source
R1,C1,03/04/2024,Schools
R2,C2,10/04/2024,Health services
R3,C3,12/05/2024,Police
R4,C1,20/06/2024,Individual
R5,C4,01/07/2024,3A
R6,C2,15/08/2024,
R7,C1,02/09/2024,Police
"""

CAT = load_catalogue()


def _project(tmp_path: Path, files: dict[str, str], inputs_yaml: str) -> Path:
    """Write the extracts and a report.yml laid out as the project's own (inputs two spaces in, settings four)."""
    for name, text in files.items():
        p = tmp_path / "raw" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    head = yaml.safe_dump({"area": {"name": "Testshire"}, "year": 2025,
                           "paths": {"raw": "raw", "processed": "out", "reports": "reports"},
                           "pseudonymisation": {"key_file": str(tmp_path / "secret" / "pseudonym.key")}})
    path = tmp_path / "report.yml"
    path.write_text(head + "inputs:\n" + inputs_yaml, encoding="utf-8")
    return path


REFERRALS_INPUT = "  referrals:\n    file: raw/ref.csv\n"


def _entry(result, table: str) -> dict:
    return next(e for e in result.report["inputs"] if e["table"] == table)


def _year(out: pd.DataFrame, code: str, breakdown: str = "all") -> pd.DataFrame:
    return out[(out.indicator_id == code) & (out.period_type == "year")
               & (out.period_start == pd.Timestamp("2024-04-01")) & (out.breakdown == breakdown)]


def _indicators(tmp_path: Path) -> pd.DataFrame:
    refs = pd.read_parquet(tmp_path / "out" / "referrals.parquet")
    return compute_indicators({"referrals": refs}, CAT.select(["REFERRALS", "REREFERRALS_12M"]),
                              start="2024-04-01", end="2025-03-31")


def _by_source(out: pd.DataFrame, code: str = "REFERRALS", measure: str = "numerator") -> dict[str, float]:
    rows = _year(out, code, "referral_source")
    return {str(v): float(n) for v, n in zip(rows.breakdown_value, rows[measure], strict=True) if n}


def test_group_labels_in_an_optional_column_cost_no_referral(tmp_path):
    result = run_ingest(load_config(_project(tmp_path, {"ref.csv": REFERRALS}, REFERRALS_INPUT)))
    assert result.ok, result.failed
    e = _entry(result, "referrals")
    assert (e["rows_read"], e["rows_accepted"], e["rows_rejected"]) == (7, 7, 0)
    assert e["rows_read"] == e["rows_accepted"] + e["rows_rejected"]
    assert e["rows_kept_with_unknown"] == 2 == result.report["rows_kept_with_unknown"]
    refs = pd.read_parquet(tmp_path / "out" / "referrals.parquet")
    assert refs["referral_source"].isna().sum() == 3          # R2, R4 (group labels) and R6 (blank)

    out = _indicators(tmp_path)
    assert _year(out, "REFERRALS")["numerator"].tolist() == [7.0]          # not 5
    by_source = _by_source(out)
    assert by_source == {"Schools and education": 1.0, "Police": 2.0, "Health services": 1.0, "Not recorded": 3.0}
    assert sum(by_source.values()) == 7.0                                  # the breakdown sums to the headline
    rr = _year(out, "REREFERRALS_12M").iloc[0]
    assert (rr["numerator"], rr["denominator"]) == (3.0, 7.0)              # not 1 of 5
    assert sum(_by_source(out, "REREFERRALS_12M", "denominator").values()) == 7.0


def test_a_required_coded_field_still_rejects_and_an_optional_one_keeps_the_row(tmp_path):
    plans = ("Plan ID,Child ID,Plan start date,Initial category,Latest category\n"
             "P1,C1,01/05/2024,Neglect,Bullying\n"         # optional latest category unknown: kept
             "P2,C2,01/06/2024,Bullying,Neglect\n"         # required initial category unknown: rejected
             "P3,C3,01/07/2024,Emotional abuse,\n")
    path = _project(tmp_path, {"plans.csv": plans}, "  cp_plans:\n    file: raw/plans.csv\n")
    result = run_ingest(load_config(path))
    assert result.ok, result.failed
    e = _entry(result, "cp_plans")
    assert (e["rows_read"], e["rows_accepted"], e["rows_rejected"], e["rows_kept_with_unknown"]) == (3, 2, 1, 1)
    assert e["rejected_by_reason"] == {"unknown_code": 1}
    rej = pd.read_csv(tmp_path / "out" / "ingest_rejected.csv", dtype=str, keep_default_na=False,
                      encoding="utf-8-sig")
    assert rej[["row_number", "column", "value", "reason"]].values.tolist() == [
        ["3", "Initial category", "Bullying", "unknown_code"]]
    assert "inputs.cp_plans.codes.initial_category" in rej["fix"].iloc[0]
    # the optional column's value is listed, counted over every row read (one of them rejected for another reason)
    assert [(u["column"], u["value"], u["rows"], u["rows_kept"]) for u in e["unmapped_values"]] == [
        ("latest_category", "Bullying", 1, 1)]
    ok = pd.read_parquet(tmp_path / "out" / "cp_plans.parquet")
    assert ok["initial_category"].tolist() == ["NEG", "EMO"]
    assert ok["latest_category"].isna().tolist() == [True, True]


def test_report_lists_each_value_with_counts_and_a_snippet_that_maps_it(tmp_path):
    path = _project(tmp_path, {"ref.csv": REFERRALS + "R8,C5,03/10/2024,HEALTH SERVICES\n"
                                                      "R9,C6,04/10/2024,Martians\n"}, REFERRALS_INPUT)
    result = run_ingest(load_config(path))
    e = _entry(result, "referrals")
    assert (e["rows_read"], e["rows_accepted"], e["rows_kept_with_unknown"]) == (9, 9, 4)
    items = {u["value"]: u for u in e["unmapped_values"]}
    assert list(items) == ["Health services", "Individual", "Martians"]    # commonest first
    health = items["Health services"]
    assert (health["column"], health["source_column"], health["rows"], health["rows_kept"]) == (
        "referral_source", "Source", 2, 2)
    assert health["spellings"] == ["Health services", "HEALTH SERVICES"]  # one entry: the lookup treats them alike
    assert (health["group"], health["suggested_code"], health["recorded_as"]) == ("Health services", "3F", "unknown")
    assert (items["Individual"]["group"], items["Individual"]["suggested_code"]) == ("Individual", "1D")
    assert items["Martians"]["suggested_code"] is None and items["Martians"]["group"] is None
    assert any("4 row(s) kept" in w and "'Source' (referral_source)" in w for w in e["warnings"])

    # the same in ingest_report.json, ingest_report.md and on screen
    on_disk = json.loads((tmp_path / "out" / "ingest_report.json").read_text(encoding="utf-8"))
    assert _entry_json(on_disk, "referrals")["unmapped_values"] == e["unmapped_values"]
    md = unescape_markdown((tmp_path / "out" / "ingest_report.md").read_text(encoding="utf-8"))  # as shown
    assert "**4 accepted rows have a coded field recorded as unknown**" in md
    assert "| Source (`referral_source`) | Health services | 2 | 2 | `3F` Health: other |" in md
    assert "| Source (`referral_source`) | Martians | 1 | 1 | none |" in md
    assert "```yaml\n" in md and e["codes_snippet"].rstrip("\n") in md
    screen = summary(result)
    assert screen == result.summary()          # what the build writes to its log
    assert "4 row(s) kept with a coded field recorded as unknown" in screen
    assert "'Source' (referral_source) = 'Health services': 2 row(s), 2 kept" in screen
    assert "suggest 3F (Health: other)" in screen and e["codes_snippet"].rstrip("\n") in screen

    # the snippet pasted as it is at the end of inputs.referrals maps the suggested values
    snippet = e["codes_snippet"]
    assert '        "Health services": "3F"  # 2 rows;' in snippet
    assert '        # "Martians": ""  # 1 row; no close match' in snippet
    path.write_text(path.read_text(encoding="utf-8") + snippet, encoding="utf-8")
    cfg = load_config(path)
    assert cfg.inputs["referrals"].file == "raw/ref.csv"
    assert cfg.inputs["referrals"].codes == {"referral_source": {"Health services": "3F", "Individual": "1D"}}
    again = run_ingest(cfg)
    e2 = _entry(again, "referrals")
    assert (e2["rows_accepted"], e2["rows_kept_with_unknown"]) == (9, 1)
    assert [u["value"] for u in e2["unmapped_values"]] == ["Martians"]
    by_source = _by_source(_indicators(tmp_path))
    assert by_source == {"Individual": 1.0, "Schools and education": 1.0, "Health services": 3.0, "Police": 2.0,
                         "Not recorded": 2.0}
    assert sum(by_source.values()) == 9.0


def _entry_json(report: dict, table: str) -> dict:
    return next(e for e in report["inputs"] if e["table"] == table)


def test_a_snippet_without_suggestions_pastes_as_comments_only(tmp_path):
    text = "Referral ID,Child ID,Date of referral,Source\nR1,C1,01/05/2024,Martians\nR2,C2,02/05/2024,Police\n"
    path = _project(tmp_path, {"ref.csv": text}, REFERRALS_INPUT)
    e = _entry(run_ingest(load_config(path)), "referrals")
    snippet = e["codes_snippet"]
    assert all(line.lstrip().startswith("#") for line in snippet.splitlines())
    path.write_text(path.read_text(encoding="utf-8") + snippet, encoding="utf-8")
    assert run_ingest(load_config(path)).ok     # pasting it unchanged leaves a valid configuration


@pytest.mark.parametrize("value", ['He said "GP"', "back\\slash", "a: b # c", "line\u2028sep", "tab\there",
                                   "'quoted'", "Café – Nord", "- dash", "{x}"])
def test_snippet_keys_read_back_as_the_source_value(value):
    items = [{"column": "referral_source", "code_list": "referral_source", "value": value, "rows": 1,
              "rows_kept": 1, "group": None, "suggested_code": "8", "suggestion": "test"}]
    loaded = yaml.safe_load("inputs:\n  referrals:\n    file: x.csv\n" + codes_snippet("referrals", items))
    assert loaded["inputs"]["referrals"]["codes"] == {"referral_source": {value: "8"}}


def test_unknown_codes_in_a_multi_valued_column_keep_the_known_ones(tmp_path):
    text = ("LADO Ref,Date referred,Employer sector,Outcome,Actions\n"
            "A1,01/05/2024,Education,Dunno,Suspended; Spaceship\n"
            "A2,02/05/2024,Spaceport,Unfounded,Dismissed\n"       # sector is required: rejected
            "A3,03/05/2024,Health,Substantiated,Spaceship\n")
    path = _project(tmp_path, {"lado.csv": text}, "  allegations:\n    file: raw/lado.csv\n")
    result = run_ingest(load_config(path))
    e = _entry(result, "allegations")
    assert (e["rows_read"], e["rows_accepted"], e["rows_rejected"], e["rows_kept_with_unknown"]) == (3, 2, 1, 2)
    assert e["rejected_by_reason"] == {"unknown_code": 1}
    assert [(u["column"], u["value"], u["rows"], u["rows_kept"]) for u in e["unmapped_values"]] == [
        ("outcome", "Dunno", 1, 1), ("actions", "Spaceship", 2, 2)]
    ok = pd.read_parquet(tmp_path / "out" / "allegations.parquet")
    assert ok["outcome"].isna().tolist() == [True, False]
    assert ok["actions"].tolist()[0] == "suspension" and pd.isna(ok["actions"].tolist()[1])


def test_rows_differing_only_in_an_unknown_value_are_not_exact_copies(tmp_path):
    text = ("Referral ID,Child ID,Date of referral,Source\n"
            "R1,C1,01/05/2024,Martians\n"
            "R1,C1,01/05/2024,\n"
            "R1,C1,01/05/2024,Martians\n")
    path = _project(tmp_path, {"ref.csv": text}, REFERRALS_INPUT)
    e = _entry(run_ingest(load_config(path)), "referrals")
    assert e["rejected_by_reason"] == {"duplicate_key": 1, "duplicate_row": 1}


def test_values_beyond_the_listing_limit_are_counted(tmp_path):
    rows = "".join(f"R{i},C{i},01/05/2024,Planet {i}\n" for i in range(5))
    path = _project(tmp_path, {"ref.csv": "Referral ID,Child ID,Date of referral,Source\n" + rows}, REFERRALS_INPUT)
    t = run_ingest(load_config(path)).tables["referrals"]
    listed = t.unmapped(limit=3)
    assert [u.value for u in listed[:3]] == ["Planet 0", "Planet 1", "Planet 2"]
    assert (listed[3].value, listed[3].more, listed[3].rows) == (None, 2, 2)


@pytest.mark.parametrize(("code_list", "value", "code", "group"), [
    ("referral_source", "Health services", "3F", "Health services"),   # no group-level code: its catch-all
    ("referral_source", "HEALTH", "3F", "Health services"),
    ("referral_source", "3", "3F", "Health services"),                 # the group number without a letter
    ("referral_source", "Individual", "1D", "Individual"),
    ("referral_source", "LA services", None, "Local authority services"),   # no catch-all code: choose one
    ("referral_source", "Health visitor", "3B", None),                 # the label after 'Health:'
    ("referral_source", "Polce", "6", None),                           # a typing slip
    ("referral_source", "Health visiter", "3B", None),
    ("referral_source", "Martians", None, None),
    ("ethnicity", "White", "WOTH", "White"),
])
def test_suggestions_are_group_catch_alls_label_parts_or_near_spellings(code_list, value, code, group):
    s = suggest_code(code_list, value)
    assert (s.code, s.group) == (code, group)


def test_the_build_says_on_screen_when_rows_were_kept_with_an_unknown_code(tmp_path, monkeypatch, capsys):
    """Before, the build exited 0 and printed nothing about referrals whose source it could not read."""
    import argparse
    import types

    import safeguarding.build as build_module
    import safeguarding.ingest as ingest_module

    warning = ("2 row(s) kept with a coded value not in the code list, recorded as unknown (in breakdowns: Not "
               "recorded), in 'Source of Referral' (referral_source)")
    fake = types.SimpleNamespace(failed=[], summary=lambda: "", report={"inputs": [
        {"table": "referrals", "rows_kept_with_unknown": 2, "warnings": [warning]},
        {"table": "s47", "rows_kept_with_unknown": 0, "warnings": []}]})
    monkeypatch.setattr(ingest_module, "run_ingest", lambda cfg: fake)
    record: dict = {"warnings": []}
    build_module._stage_ingest(types.SimpleNamespace(processed_dir=tmp_path, inputs={"survey": {}}), False, record,
                               __import__("logging").getLogger("t"))
    assert record["warnings"] == [f"ingest, referrals: {warning}"]

    result = types.SimpleNamespace(output_dir=tmp_path, html=tmp_path / "a.html", pdf=tmp_path / "a.pdf",
                                   data_files=[], log_dir=tmp_path, warnings=record["warnings"])
    monkeypatch.setattr(build_module.cli, "build", lambda *a, **k: result)  # where run() looks it up
    args = argparse.Namespace(config="x", year=None, audience=None, renderer="auto", allow_missing_inputs=False,
                              keep_build=False, wait=0.0)
    assert build_module.run(args) == 0
    assert "kept with a coded value not in the code list" in capsys.readouterr().out


def test_group_and_sub_labels_are_suggested_the_code_the_demo_maps_by_hand():
    """Before, 'Health services – GP' got no suggestion and check guessed 2B (Education services)."""
    from pathlib import Path

    import yaml

    from safeguarding.ingest.mapping import suggest_code

    demo = yaml.safe_load((Path(__file__).resolve().parents[1] / "report.yml").read_text(encoding="utf-8"))
    by_hand = demo["inputs"]["referrals"]["codes"]["referral_source"]
    assert len(by_hand) >= 7
    for label, code in by_hand.items():
        assert suggest_code("referral_source", label).code == code, label
