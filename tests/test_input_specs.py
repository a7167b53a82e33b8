"""``inputs`` and ``aggregates`` parsed once into typed objects (``safeguarding/settings_inputs.py``).

Issue 18, item 3: "configuration parsed once into typed objects; modules receive typed objects, not dicts or
Any". Each key of an input's and a partner's return's entry reaches its typed field; ``columns`` and ``codes``
keep whether the analyst wrote them (``check`` pastes its suggestions under a key that is there, even empty);
a value the configuration's schema refuses is refused by the typed parse too, naming the same key path; the
objects are read-only.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from safeguarding.config import load_config
from safeguarding.config_schema import check_config
from safeguarding.ingest.partners import read_aggregate_return
from safeguarding.settings_inputs import (
    AggregateSpec,
    InputSpec,
    RowTarget,
    SpecError,
    StockFlowRule,
    aggregates_from,
    inputs_from,
)

PROJECT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ inputs


def test_every_key_of_an_input_reaches_its_field():
    spec = InputSpec.from_mapping("referrals", {
        "file": "raw/ref.xlsx", "sheet": "Referrals", "header_row": 3, "encoding": "cp1252",
        "date_format": "%m/%d/%Y", "format": "annex_a",
        "columns": {"referral_date": "Date of referral", "child_id": 1234},
        "codes": {"referral_source": {" Health services ": "3F", 2.0: "1A", True: 6}},
    })
    assert spec == InputSpec(
        table="referrals", file="raw/ref.xlsx", sheet="Referrals", header_row=3, encoding="cp1252",
        date_format="%m/%d/%Y", format="annex_a",
        columns={"referral_date": "Date of referral", "child_id": "1234"},
        codes={"referral_source": {"Health services": "3F", "2": "1A", "true": "6"}})
    assert spec.key == "inputs.referrals"
    assert spec.configured_columns == {"referral_date": "Date of referral", "child_id": "1234"}


def test_an_input_with_only_its_file_has_the_defaults():
    spec = InputSpec.from_mapping("s47", {"file": "s47.csv"})
    assert (spec.sheet, spec.header_row, spec.encoding, spec.date_format, spec.format) == (
        None, None, None, "auto", None)
    assert spec.columns is None and spec.codes is None  # absent, not empty
    assert spec.configured_columns == {}
    assert InputSpec.from_mapping("s47", {"file": "s47.csv", "sheet": 2}).sheet == 2
    assert InputSpec.from_mapping("s47", {"file": "s47.csv", "date_format": None}).date_format == "auto"


@pytest.mark.parametrize("written", [None, {}])
def test_columns_and_codes_written_but_empty_are_present(written):
    spec = InputSpec.from_mapping("referrals", {"file": "r.csv", "columns": written, "codes": written})
    assert spec.columns == {} and spec.columns is not None
    assert spec.codes == {} and spec.codes is not None


def test_a_coded_column_with_no_values_is_present_and_maps_nothing():
    spec = InputSpec.from_mapping("referrals", {"file": "r.csv", "codes": {"referral_source": {}}})
    assert spec.codes == {"referral_source": {}}
    assert "referral_source" in (spec.codes or {})


def test_the_check_pastes_under_the_keys_the_analyst_wrote():
    """``check``'s snippets: a new ``columns:`` / ``codes:`` line only where the key is absent."""
    from safeguarding.check.findings import InputCheck

    def snippets(entry: dict) -> list[tuple[str, str]]:
        chk = InputCheck("referrals", "r.csv", InputSpec.from_mapping("referrals", entry))
        chk.columns = {"referral_date": "Ref Date"}
        chk.codes = {"referral_source": {"GP": "3A"}}
        return chk.snippets()

    absent = snippets({"file": "r.csv"})
    assert [w for w, _ in absent] == ["inputs.referrals", "inputs.referrals"]
    assert "columns:" in absent[0][1] and "codes:" in absent[1][1]
    empty = snippets({"file": "r.csv", "columns": None, "codes": None})
    assert [w for w, _ in empty] == ["inputs.referrals.columns", "inputs.referrals.codes"]
    assert "columns:" not in empty[0][1] and "codes:" not in empty[1][1] and "referral_source:" in empty[1][1]
    column = snippets({"file": "r.csv", "columns": {}, "codes": {"referral_source": {}}})
    assert [w for w, _ in column] == ["inputs.referrals.columns", "inputs.referrals.codes.referral_source"]


@pytest.mark.parametrize(("table", "entry", "key"), [
    ("referrals", "r.csv", "inputs.referrals"),
    ("referrals", None, "inputs.referrals.file"),
    ("referrals", {"sheet": "A"}, "inputs.referrals.file"),
    ("referrals", {"file": "  "}, "inputs.referrals.file"),
    ("referrals", {"file": "r.csv", "colums": {}}, "inputs.referrals.colums"),
    ("referrals", {"file": "r.csv", "header_row": "3"}, "inputs.referrals.header_row"),
    ("referrals", {"file": "r.csv", "header_row": 0}, "inputs.referrals.header_row"),
    ("referrals", {"file": "r.csv", "header_row": True}, "inputs.referrals.header_row"),
    ("referrals", {"file": "r.csv", "sheet": 0}, "inputs.referrals.sheet"),
    ("referrals", {"file": "r.csv", "sheet": ""}, "inputs.referrals.sheet"),
    ("referrals", {"file": "r.csv", "encoding": 8}, "inputs.referrals.encoding"),
    ("referrals", {"file": "r.csv", "format": ["annex_a"]}, "inputs.referrals.format"),
    ("referrals", {"file": "r.csv", "date_format": 1}, "inputs.referrals.date_format"),
    ("referrals", {"file": "r.csv", "columns": ["Ref"]}, "inputs.referrals.columns"),
    ("referrals", {"file": "r.csv", "columns": {"nonsense": "X"}}, "inputs.referrals.columns.nonsense"),
    ("referrals", {"file": "r.csv", "columns": {"referral_date": ""}}, "inputs.referrals.columns.referral_date"),
    ("referrals", {"file": "r.csv", "columns": {"referral_date": None}}, "inputs.referrals.columns.referral_date"),
    ("referrals", {"file": "r.csv", "codes": "3F"}, "inputs.referrals.codes"),
    ("referrals", {"file": "r.csv", "codes": {"team": {"A": "B"}}}, "inputs.referrals.codes.team"),
    ("referrals", {"file": "r.csv", "codes": {"referral_source": "3F"}}, "inputs.referrals.codes.referral_source"),
    ("referrals", {"file": "r.csv", "codes": {"referral_source": None}}, "inputs.referrals.codes.referral_source"),
    ("no_such_table", {"file": "r.csv"}, "inputs.no_such_table"),
])
def test_a_value_the_schema_refuses_is_refused_with_its_key_path(tmp_path, table, entry, key):
    problems = [p.key for p in check_config({"year": 2025, "inputs": {table: entry}}, tmp_path)]
    assert key in problems, problems  # the schema refuses it, at this key ...
    with pytest.raises(SpecError) as exc:  # ... and so does the typed parse
        InputSpec.from_mapping(table, entry)
    assert exc.value.key == key
    assert str(exc.value).startswith(f"{key}: ")


# ------------------------------------------------------------------ aggregates


def test_every_key_of_a_return_reaches_its_field():
    spec = AggregateSpec.from_mapping({
        "file": "lado.xlsx", "name": "LADO", "layout": " Wide ", "sheet": 2, "header_row": 3,
        "financial_year": "2025", "label_column": "B", "ytd_column": "Total",
        "rows": {"Referrals": "LADO_REFERRALS", 7: {"indicator": " LADO_X ", "breakdown": "sector"},
                 "Odd": {"breakdown": "sector"}},
        "columns": {"indicator_id": "Measure"}, "proportions": ["LADO_CONCLUDED_1M"],
        "stock_flow": [{"open": "PF_OPEN", "new": "PF_NEW", "closed": "PF_ENDED", "opening": 9}],
        "encoding": "cp1252", "delimiter": ";",
    }, index=4)
    assert spec == AggregateSpec(
        index=4, file="lado.xlsx", name="LADO", layout="wide", sheet=2, header_row=3, financial_year=2025,
        label_column="B", ytd_column="Total",
        rows={"Referrals": RowTarget("LADO_REFERRALS"), "7": RowTarget("LADO_X", "sector", "7"),
              "Odd": RowTarget(None)},
        columns={"indicator_id": "Measure"}, proportions=("LADO_CONCLUDED_1M",),
        stock_flow=(StockFlowRule("PF_OPEN", "PF_NEW", "PF_ENDED", 9.0),), encoding="cp1252", delimiter=";")
    assert spec.key == "aggregates[4]"


def test_a_return_with_only_its_file_has_the_defaults():
    spec = AggregateSpec.from_mapping({"file": "t.csv"}, index=0)
    assert spec == AggregateSpec(index=0, file="t.csv")
    assert spec.layout == "tidy" and spec.rows is None and spec.columns == {} and spec.stock_flow == ()
    assert AggregateSpec.from_mapping({"file": "w.csv", "rows": {"A": "A_B"}}, index=0).layout == "wide"
    assert AggregateSpec.from_mapping({"file": "w.csv", "rows": None}, index=0).rows is None
    assert AggregateSpec.from_mapping({"file": "w.csv", "ytd_column": False}, index=0).ytd_column is False


def test_row_targets_and_stock_flow_rules_as_the_reader_reads_them():
    assert RowTarget.from_setting("Visits (education)", {"indicator": "PF_VISIT", "breakdown": "sector"},
                                  "k") == RowTarget("PF_VISIT", "sector", "Visits (education)")
    assert RowTarget.from_setting("x", {"indicator": "PF_VISIT", "breakdown_value": 3}, "k") == RowTarget(
        "PF_VISIT", "all", "3")
    one = AggregateSpec.from_mapping({"file": "f.csv", "stock_flow": {"open": "A", "new": 5, "opening": True}},
                                     index=0)
    assert one.stock_flow == (StockFlowRule("A", None, None, None),)  # the reader reports the rule


@pytest.mark.parametrize(("entry", "key"), [
    ("return.csv", "aggregates[0]"),
    ({"layout": "wide"}, "aggregates[0].file"),
    ({"file": ""}, "aggregates[0].file"),
    ({"file": "r.csv", "colour": "red"}, "aggregates[0].colour"),
    ({"file": "r.csv", "name": 5}, "aggregates[0].name"),
    ({"file": "r.csv", "layout": "long"}, "aggregates[0].layout"),
    ({"file": "r.csv", "layout": ""}, "aggregates[0].layout"),
    ({"file": "r.csv", "sheet": -1}, "aggregates[0].sheet"),
    ({"file": "r.csv", "header_row": 2.5}, "aggregates[0].header_row"),
    ({"file": "r.csv", "financial_year": "2024-25"}, "aggregates[0].financial_year"),
    ({"file": "r.csv", "financial_year": 1999}, "aggregates[0].financial_year"),
    ({"file": "r.csv", "label_column": True}, "aggregates[0].label_column"),
    ({"file": "r.csv", "label_column": 0}, "aggregates[0].label_column"),
    ({"file": "r.csv", "ytd_column": True}, "aggregates[0].ytd_column"),
    ({"file": "r.csv", "ytd_column": " "}, "aggregates[0].ytd_column"),
    ({"file": "r.csv", "rows": ["A"]}, "aggregates[0].rows"),
    ({"file": "r.csv", "rows": {"A": ""}}, "aggregates[0].rows['A']"),
    ({"file": "r.csv", "rows": {"A": 5}}, "aggregates[0].rows['A']"),
    ({"file": "r.csv", "columns": "Measure"}, "aggregates[0].columns"),
    ({"file": "r.csv", "proportions": "LADO_X"}, "aggregates[0].proportions"),
    ({"file": "r.csv", "proportions": [1]}, "aggregates[0].proportions"),
    ({"file": "r.csv", "stock_flow": "PF_OPEN"}, "aggregates[0].stock_flow"),
    ({"file": "r.csv", "stock_flow": ["PF_OPEN"]}, "aggregates[0].stock_flow"),
    ({"file": "r.csv", "encoding": 8}, "aggregates[0].encoding"),
    ({"file": "r.csv", "delimiter": ";;"}, "aggregates[0].delimiter"),
])
def test_a_return_setting_the_schema_refuses_is_refused_with_its_key_path(tmp_path, entry, key):
    problems = [p.key for p in check_config({"year": 2025, "aggregates": [entry]}, tmp_path)]
    assert key in problems, problems
    with pytest.raises(SpecError) as exc:
        AggregateSpec.from_mapping(entry, index=0)
    assert exc.value.key == key
    with pytest.raises(SpecError, match=r"^aggregates: must be a list"):
        aggregates_from({"file": "r.csv"})


def test_a_hand_written_return_the_parse_refuses_is_that_returns_error(tmp_path):
    frame, problems = read_aggregate_return({"file": "r.csv", "layout": "long"}, tmp_path, index=2)
    assert len(frame) == 0
    assert [(p.reason, p.severity) for p in problems] == [("bad configuration", "error")]
    assert problems[0].message.startswith("aggregates[2].layout: must be one of tidy, wide")
    assert "aggregates[2].layout" in problems[0].fix


# ------------------------------------------------------------------ read-only, and the Config


def test_the_typed_settings_are_read_only():
    spec = InputSpec.from_mapping("referrals", {"file": "r.csv", "columns": {"referral_date": "D"},
                                                "codes": {"referral_source": {"GP": "3A"}}})
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.file = "other.csv"
    with pytest.raises(TypeError):
        spec.columns["referral_date"] = "E"
    with pytest.raises(TypeError):
        spec.codes["referral_source"]["GP"] = "3B"
    ret = AggregateSpec.from_mapping({"file": "w.csv", "rows": {"A": "A_B"}}, index=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ret.layout = "tidy"
    with pytest.raises(TypeError):
        ret.rows["B"] = RowTarget("B_C")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ret.rows["A"].indicator = "X"
    with pytest.raises(TypeError):
        inputs_from({"s47": {"file": "s.csv"}})["s47"] = spec


def test_the_config_holds_typed_inputs_and_returns_and_the_file_as_written(tmp_path):
    raw = {"year": 2025, "area": {"name": "Testshire"},
           "inputs": {"referrals": {"file": "raw/ref.csv", "header_row": 2,
                                    "codes": {"referral_source": {"GP": "3A"}}},
                      "s47": {"file": "raw/s47.csv", "columns": None}},
           "aggregates": [{"file": "lado.csv", "layout": "tidy"}, {"file": "pf.xlsx", "rows": {"New": "PF_NEW"}}]}
    path = tmp_path / "report.yml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    cfg = load_config(path)
    assert list(cfg.inputs) == ["referrals", "s47"]
    assert all(isinstance(s, InputSpec) for s in cfg.inputs.values())
    referrals = cfg.inputs["referrals"]
    assert referrals.header_row == 2 and referrals.codes == {"referral_source": {"GP": "3A"}}
    assert cfg.inputs["s47"].columns == {} and cfg.inputs["s47"].codes is None
    assert [(a.index, a.file, a.layout) for a in cfg.aggregates] == [(0, "lado.csv", "tidy"), (1, "pf.xlsx", "wide")]
    assert cfg.raw["inputs"] == raw["inputs"] and cfg.raw["aggregates"] == raw["aggregates"]  # kept as written


def test_the_demo_configuration_parses_every_input_and_return():
    cfg = load_config(PROJECT / "report.yml")
    assert cfg.inputs and all(isinstance(s, InputSpec) and s.table == t for t, s in cfg.inputs.items())
    assert cfg.aggregates and all(isinstance(a, AggregateSpec) for a in cfg.aggregates)
    assert [a.index for a in cfg.aggregates] == list(range(len(cfg.aggregates)))
