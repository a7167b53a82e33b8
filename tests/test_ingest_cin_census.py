"""The CIN census XML reader (format: cin_census) on the DfE fake samples in tests/fixtures/formats/cin_census.

Expected values are computed independently with lxml XPath on the same files,
never from the reader's own bookkeeping.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml
from lxml import etree

from safeguarding.config import ConfigError, load_config
from safeguarding.ingest import IngestError, cin_census, run_ingest
from safeguarding.ingest.cin_census import read_census

CIN = ("children", "referrals", "s47", "icpc", "cp_plans", "cp_reviews")
GENDER_2024 = {"1": "M", "2": "F", "0": "U", "9": "U"}


@pytest.fixture(scope="module")
def fake(fixtures) -> Path:
    return fixtures / "formats" / "cin_census" / "fake_CIN_data.xml"


@pytest.fixture(scope="module")
def sample(fixtures) -> Path:
    return fixtures / "formats" / "cin_census" / "CIN_Census_2026_sample.xml"


def _config(tmp_path: Path, inputs: dict, year: int = 2025) -> object:
    path = tmp_path / "report.yml"
    path.write_text(yaml.safe_dump({"area": {"name": "Census"}, "year": year, "paths": {"processed": "out"},
                                    "pseudonymisation": {"key_file": str(tmp_path / "k.key")}, "inputs": inputs}))
    return load_config(path)


def _census_inputs(path: Path, tables=CIN) -> dict:
    return {t: {"file": str(path), "format": "cin_census"} for t in tables}


def _entry(result, table: str) -> dict:
    return next(e for e in result.report["inputs"] if e["table"] == table)


def _xpath_rows(path: Path) -> dict[str, list[int]]:
    """Source lines of each entity's elements, found with lxml (independent of the reader)."""
    doc = etree.parse(str(path))
    icpc = []
    for cin in doc.xpath("//Child/CINdetails"):
        s47_dates = {d.text for d in cin.xpath("Section47/DateOfInitialCPC")}
        icpc += [d.sourceline for d in cin.xpath("Section47/DateOfInitialCPC")]
        icpc += [d.sourceline for d in cin.xpath("DateOfInitialCPC") if d.text not in s47_dates]
    return {
        "children": [e.sourceline for e in doc.xpath("/Message/Children/Child")],
        "referrals": [e.sourceline for e in doc.xpath("//Child/CINdetails")],
        "s47": [e.sourceline for e in doc.xpath("//CINdetails/Section47")],
        "icpc": sorted(icpc),
        "cp_plans": [e.sourceline for e in doc.xpath("//CINdetails/ChildProtectionPlans")],
        "cp_reviews": [e.sourceline for e in doc.xpath("//ChildProtectionPlans/Reviews/CPPreviewDate")],
    }


@pytest.mark.parametrize("name", ["fake", "sample"])
def test_rows_and_lines_match_the_elements(name, request):
    path = request.getfixturevalue(name)
    expected = _xpath_rows(path)
    assert len(expected["children"]) == (332 if name == "fake" else 2)
    for entity in CIN:
        t = read_census(path, entity, key=f"inputs.{entity}")
        assert t.n_rows == len(expected[entity]), entity
        assert sorted(t.row_numbers.tolist()) == expected[entity], entity
        assert t.fmt == "cin_census"
        assert t.headers[: len(cin_census._COLUMNS[entity])] == cin_census._COLUMNS[entity]


def test_fake_sample_ingests_with_census_codes_mapped(fake, tmp_path):
    doc = etree.parse(str(fake))
    result = run_ingest(_config(tmp_path, _census_inputs(fake, ("children", "referrals", "icpc"))))
    assert result.ok, result.failed
    out = tmp_path / "out"
    for e in result.report["inputs"]:
        assert e["rows_read"] == e["rows_accepted"] + e["rows_rejected"]
        assert e["format"] == "cin_census" and e["blank_rows_skipped"] == 0
    kids = pd.read_parquet(out / "children.parquet")
    assert len(kids) == _entry(result, "children")["rows_accepted"] == 332
    want_sex = Counter(GENDER_2024[g] for g in doc.xpath("//ChildIdentifiers/GenderCurrent/text()"))
    assert Counter(kids["sex"].tolist()) == want_sex
    assert Counter(kids["ethnicity"].tolist()) == Counter(doc.xpath("//ChildCharacteristics/Ethnicity/text()"))
    disabled = sum(any(d != "NONE" for d in c.xpath("Disability/text()")) for c in doc.xpath("//Disabilities"))
    assert int(kids["disability"].sum()) == disabled
    assert int(kids["disability"].isna().sum()) == 332 - len(doc.xpath("//Disabilities"))
    # referrals: two are dated in 2028 and 2030 and are rejected as implausible, at their <CINdetails> line
    refs = pd.read_parquet(out / "referrals.parquet")
    future = [c for c in doc.xpath("//CINdetails") if c.findtext("CINreferralDate") > dt.date.today().isoformat()]
    assert len(future) == 2
    rej = pd.read_csv(out / "ingest_rejected.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    rref = rej[rej["table"] == "referrals"]
    assert sorted(rref["row_number"].astype(int)) == sorted(c.sourceline for c in future)
    assert set(rref["reason"]) == {"date_out_of_range"}
    kept = [c for c in doc.xpath("//CINdetails") if c not in future]
    assert Counter(refs["referral_source"].tolist()) == Counter(c.findtext("ReferralSource") for c in kept)
    assert Counter(refs["primary_need"].tolist()) == Counter(c.findtext("PrimaryNeedCode") for c in kept)
    assert int(refs["nfa"].sum()) == sum(c.findtext("ReferralNFA") in ("true", "1") for c in kept)
    # derived referral ids: one per child and referral date, distinct, and joined to the child
    pairs = {(c.getparent().findtext("ChildIdentifiers/LAchildID"), c.findtext("CINreferralDate")) for c in kept}
    assert refs["referral_id"].nunique() == len(pairs) == len(refs)
    assert refs["child_id"].isin(set(kids["child_id"])).all()
    icpc = pd.read_parquet(out / "icpc.parquet")
    assert _entry(result, "icpc")["rows_read"] == len(doc.xpath("//CINdetails/DateOfInitialCPC")) == 350
    assert icpc["s47_id"].isna().all()  # episode-level conferences: the fake file has no <Section47>


def test_identifiers_never_carried_over(fake, sample, tmp_path):
    result = run_ingest(_config(tmp_path, {"children": {"file": str(sample), "format": "cin_census"},
                                           "referrals": {"file": str(fake), "format": "cin_census"}}))
    assert result.ok, result.failed
    assert _entry(result, "children")["personal_columns_dropped"] == ["UPN", "FormerUPN", "UPNunknown"]
    assert _entry(result, "referrals")["personal_columns_dropped"] == ["UPN"]
    assert "PersonDeathDate" in _entry(result, "referrals")["extra_columns_ignored"]
    raw = []
    for path in (fake, sample):
        doc = etree.parse(str(path))
        raw += doc.xpath("//LAchildID/text()")[:40] + doc.xpath("//UPN/text()")[:40] + doc.xpath("//FormerUPN/text()")
    assert "A123456789123" in raw and "X98765432123B" in raw
    blobs = b"".join(p.read_bytes() for p in (tmp_path / "out").iterdir())
    for value in raw:
        assert value.encode() not in blobs, value
    kids = pd.read_parquet(tmp_path / "out" / "children.parquet")
    assert kids["child_id"].str.startswith("C").all() and kids["child_id"].str.len().eq(17).all()


def test_2026_sample_sex_codes_plans_reviews_and_conferences(sample, tmp_path):
    result = run_ingest(_config(tmp_path, _census_inputs(sample), year=2024))
    assert result.ok, result.failed
    out = tmp_path / "out"
    kids = pd.read_parquet(out / "children.parquet")
    # the sample writes <Sex>1</Sex> (a 2024 code) for one child and <Sex>M</Sex> for the other
    assert sorted(kids["sex"]) == ["M", "M"]
    assert sorted(kids["disability"].tolist()) == [False, True]  # HAND+HEAR / NONE
    plans = pd.read_parquet(out / "cp_plans.parquet")
    assert plans[["initial_category", "latest_category"]].values.tolist() == [["PHY", "PHY"]]
    assert plans["previous_plans"].tolist() == [10]
    assert plans["plan_end_date"].iloc[0] == pd.Timestamp("2023-03-14")
    reviews = pd.read_parquet(out / "cp_reviews.parquet")
    assert reviews["plan_id"].tolist() == plans["plan_id"].tolist()
    assert reviews["review_date"].tolist() == [pd.Timestamp("2023-02-15")]
    s47 = pd.read_parquet(out / "s47.parquet")
    icpc = pd.read_parquet(out / "icpc.parquet")
    # one conference in the <Section47> (linked to it) and one at episode level on another date
    assert sorted(icpc["icpc_date"].dt.date.astype(str)) == ["2022-06-17", "2022-12-06"]
    linked = icpc.dropna(subset=["s47_id"])
    assert linked["s47_id"].tolist() == s47["s47_id"].tolist()
    assert not icpc["plan_resulted"].any()  # no plan starts on either conference date
    refs = pd.read_parquet(out / "referrals.parquet")
    assert s47["referral_id"].iloc[0] in set(refs["referral_id"])


def _broken_copy(sample: Path, tmp_path: Path, line: int) -> Path:
    lines = sample.read_text(encoding="utf-8").splitlines()
    assert "<CINreferralDate>" in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace("</CINreferralDate>", "</CINreferralDat>")
    path = tmp_path / "broken.xml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_malformed_xml_is_fatal_for_its_tables_only(sample, tmp_path):
    line = next(i for i, t in enumerate(sample.read_text().splitlines(), 1) if "<CINreferralDate>" in t)
    broken = _broken_copy(sample, tmp_path, line)
    with pytest.raises(IngestError) as info:
        read_census(broken, "referrals", key="inputs.referrals")
    err = info.value
    assert err.row == line and err.key == "inputs.referrals.file" and err.file == str(broken)
    assert f"line {line}" in str(err) and "broken.xml" in str(err) and "export" in err.fix
    inputs = {"referrals": {"file": str(broken), "format": "cin_census"},
              "cp_plans": {"file": str(broken), "format": "cin_census"},
              "children": {"file": str(sample), "format": "cin_census"}}
    result = run_ingest(_config(tmp_path, inputs))
    assert sorted(result.failed) == ["cp_plans", "referrals"]
    assert result.built == ["children"]
    assert f"line {line}" in result.failed["cp_plans"]
    assert _entry(result, "cp_plans")["config_key"] == "inputs.cp_plans.file"
    assert "Not built" in (tmp_path / "out" / "ingest_report.md").read_text()


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"),
    ("<Return><Children/></Return>", "root element is <Return>"),
    ('<?xml version="1.0"?><!DOCTYPE Message [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><Message>&b;</Message>',
     "declares the XML entity"),
    ("<Message><Children><Child>", "not well-formed XML at line 1"),
])
def test_unusable_files_are_named(tmp_path, text, message):
    path = tmp_path / "x.xml"
    path.write_text(text)
    with pytest.raises(IngestError, match=message):
        read_census(path, "children", key="inputs.children")


def test_file_parsed_once_per_version(sample, tmp_path, monkeypatch):
    path = tmp_path / "census.xml"
    path.write_bytes(sample.read_bytes())
    calls = []
    real = cin_census.parse_census

    def counting(p, data):
        calls.append(p)
        return real(p, data)

    monkeypatch.setattr(cin_census, "parse_census", counting)
    result = run_ingest(_config(tmp_path, _census_inputs(path)))
    assert result.ok and len(calls) == 1
    text = path.read_text().replace("<Ethnicity>WBRI</Ethnicity>", "<Ethnicity>WIRI</Ethnicity>", 1)
    path.write_text(text)  # a new version of the file (size or mtime changes) is read again
    run_ingest(_config(tmp_path, _census_inputs(path, ("children",))))
    assert len(calls) == 2
    assert sorted(pd.read_parquet(tmp_path / "out" / "children.parquet")["ethnicity"]) == ["WBRI", "WIRI"]


def test_format_settings_are_checked(sample, tmp_path):
    # an unknown format is now caught by the configuration check, before any work (issue #12)
    with pytest.raises(ConfigError, match=r"inputs\.children\.format: must be one of cin_census, annex_a"):
        _config(tmp_path, {"children": {"file": str(sample), "format": "cin census XML"}})
    inputs = {"referrals": {"file": str(sample), "format": "cin_census", "columns": {"referral_date": "X"}},
              "allegations": {"file": str(sample), "format": "CIN-census"},
              "s47": {"file": str(sample), "format": "CIN-Census"}}
    result = run_ingest(_config(tmp_path, inputs))
    assert result.built == ["s47"]
    assert _entry(result, "referrals")["config_key"] == "inputs.referrals.columns"
    assert "has no allegations data" in result.failed["allegations"]
