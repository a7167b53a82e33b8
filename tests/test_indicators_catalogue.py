"""The catalogue: complete against the domain brief, valid, extendable from report.yml, with clear errors."""

from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from safeguarding.config import load_config
from safeguarding.indicators import CatalogueError, load_catalogue, rag_status
from safeguarding.indicators.catalogue import BREAKDOWNS, FREQUENCIES, OBA, POLARITIES, STATUSES, UNITS


def domain_codes(fixtures) -> set[str]:
    text = (fixtures / "domain_indicators.md").read_text(encoding="utf-8")
    codes = set()
    for line in text.splitlines():
        m = re.match(r"^\| ([A-Z0-9_ /]+) \|", line)
        if not m or m.group(1).strip() == "code":
            continue
        parts = [p.strip() for p in m.group(1).split("/")]
        base = parts[0]
        codes.add(base)
        for p in parts[1:]:
            codes.add(base.rsplit("_", 1)[0] + p if p.startswith("_") else p)
    return codes


def test_every_domain_indicator_is_in_the_catalogue(fixtures):
    codes = domain_codes(fixtures)
    assert {"LADO_CONCLUDED_3M", "PF_OPEN", "CPP_REVIEWS_ON_TIME"} <= codes   # the parser works
    cat = load_catalogue()
    missing = codes - set(cat)
    assert not missing, missing
    assert {"POLICE_DA_NOTIFICATIONS", "POLICE_CP_REFERRALS", "POLICE_MISSING_EPISODES"} <= set(cat)


def test_entries_are_complete_and_valid():
    for code, ind in load_catalogue().items():
        assert ind.name and ind.definition and ind.owner, code
        assert ind.unit in UNITS and ind.polarity in POLARITIES and ind.status in STATUSES and ind.oba in OBA
        assert set(ind.frequencies) <= set(FREQUENCIES)
        assert set(ind.breakdowns) <= set(BREAKDOWNS)
        if ind.unit == "percent":
            assert ind.numerator and ind.denominator, code
        if ind.target is not None:
            assert ind.target_source, code
    cat = load_catalogue()
    assert cat["LADO_CONCLUDED_1M"].target == 80 and cat["LADO_CONCLUDED_3M"].target == 90
    assert cat["ICPC_15WD"]["unit"] == "percent"           # dictionary-style access works too
    assert {"plan_length", "plan_length_6m"} <= set(cat["CPP_OPEN"].breakdowns)


def test_config_targets_and_local_indicators(tmp_path):
    doc = {"area": {"name": "T"}, "year": 2025, "targets": {"ICPC_15WD": 85},
           "indicators": [{"code": "NFA_REFERRALS", "name": "NFA referrals", "table": "referrals",
                           "date": "referral_date", "filter": {"nfa": True}, "unit": "count"}]}
    p = tmp_path / "report.yml"
    p.write_text(yaml.safe_dump(doc), encoding="utf-8")
    cat = load_catalogue(load_config(p))
    assert cat["ICPC_15WD"].target == 85 and cat["ICPC_15WD"].target_source == "report.yml"
    assert cat["NFA_REFERRALS"].local and cat["NFA_REFERRALS"].method == "count"


@pytest.mark.parametrize(("doc", "needles"), [
    ({"targets": {"ICPC_15DAYS": 90}}, ["ICPC_15DAYS", "valid:", "ICPC_15WD", "REFERRALS"]),
    ({"indicators": [{"code": "X_Y", "name": "x", "table": "referals", "date": "referral_date"}]},
     ["referals", "valid:", "referrals", "cp_plans"]),
    ({"indicators": [{"code": "X_Y", "name": "x", "table": "referrals", "date": "referral_date",
                      "filter": {"nfa_flag": True}}]}, ["nfa_flag", "valid:", "nfa", "referral_source"]),
    ({"indicators": [{"code": "X_Y", "name": "x", "table": "referrals", "date": "referal_date"}]},
     ["'date'", "valid:", "referral_date"]),
    ({"indicators": [{"code": "X_Y", "name": "x", "table": "referrals", "date": "referral_date",
                      "breakdowns": ["sector"]}]}, ["sector", "valid:", "referral_source", "team"]),
    ({"indicators": [{"code": "X_Y", "name": "x", "table": "referrals", "date": "referral_date",
                      "colour": "red"}]}, ["colour", "valid:", "filter"]),
    ({"indicators": [{"code": "REFERRALS", "name": "x", "table": "referrals", "date": "referral_date"}]},
     ["REFERRALS", "already in the catalogue"]),
])
def test_config_errors_list_the_valid_names(doc, needles):
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(doc)
    for n in needles:
        assert n in str(exc.value), (n, str(exc.value))


@pytest.mark.parametrize(("value", "target", "polarity", "expected"), [
    (95, 100, "higher_is_better", "Green"),       # exactly 95% of target
    (94.9, 100, "higher_is_better", "Amber"),
    (90, 100, "higher_is_better", "Amber"),
    (89.9, 100, "higher_is_better", "Red"),
    (20, 20, "lower_is_better", "Green"),
    (21, 20, "lower_is_better", "Green"),         # 20/21 = 95.2%
    (22, 20, "lower_is_better", "Amber"),         # 90.9%
    (23, 20, "lower_is_better", "Red"),           # 87.0%
    (0, 20, "lower_is_better", "Green"),          # actual 0 on a lower-is-better indicator
    (0, 80, "higher_is_better", "Red"),
    (50, None, "higher_is_better", "N/A"),
    (float("nan"), 80, "higher_is_better", "N/A"),
    (50, 80, "neither", "N/A"),
])
def test_rag_status(value, target, polarity, expected):
    assert rag_status(value, target, polarity) == expected


def test_vectorised_rag_agrees_with_scalar_rule():
    import numpy as np

    from safeguarding.indicators.intervals import rag_column

    rng = np.random.default_rng(1)
    v = np.r_[rng.uniform(0, 120, 400), 0, 0, np.nan]
    t = np.r_[rng.uniform(0, 100, 400), 0, 10, 50]
    pol = np.array(rng.choice(list(POLARITIES), v.size), dtype=object)
    vec = rag_column(v, t, pol)
    assert list(vec) == [rag_status(a, b, c) for a, b, c in zip(v, t, pol, strict=True)]


def test_run_indicators_from_the_command_line(tmp_path, project):
    proc = tmp_path / "processed"
    proc.mkdir()
    ref = pd.DataFrame({"referral_id": ["a", "b", "c"], "child_id": ["C1", "C1", "C2"],
                        "referral_date": pd.to_datetime(["2024-04-03", "2024-06-01", "2025-01-15"]),
                        "referral_source": ["6", "2A", None], "primary_need": [None] * 3,
                        "nfa": pd.array([True, False, None], dtype="boolean"), "team": ["East", "West", None]})
    for c in ("referral_id", "child_id", "referral_source", "primary_need", "team"):
        ref[c] = ref[c].astype("string")
    ref.to_parquet(proc / "referrals.parquet")
    doc = {"area": {"name": "T"}, "year": 2025, "paths": {"processed": "processed"}, "population": {2025: 1000},
           "indicators": [{"code": "NFA_REFERRALS", "name": "NFA", "table": "referrals", "date": "referral_date",
                           "filter": {"nfa": True}}]}
    (tmp_path / "report.yml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    run = subprocess.run([sys.executable, str(project / "pipeline.py"), "indicators", "--config",
                          str(tmp_path / "report.yml")], capture_output=True, text=True, cwd=project)
    assert run.returncode == 0, run.stderr
    out = pd.read_parquet(proc / "indicators.parquet")
    csv = pd.read_csv(proc / "indicators.csv")
    from safeguarding.schema import INDICATOR_COLUMNS

    assert list(out.columns[:9]) == list(INDICATOR_COLUMNS) and list(csv.columns) == list(out.columns)
    assert {"status", "note", "target", "rag"} <= set(out.columns)
    yr = out[(out.indicator_id == "REFERRALS") & (out.period_type == "year") & (out.breakdown == "all")]
    assert yr.value.tolist() == [3]
    rate = out[(out.indicator_id == "REFERRAL_RATE") & (out.period_type == "year")]
    assert rate.value.tolist() == [30.0]
    nfa = out[(out.indicator_id == "NFA_REFERRALS") & (out.period_type == "year")]
    assert nfa.value.tolist() == [1]
    assert (out[out.indicator_id == "CPP_OPEN"].status == "not available").all()
    assert "not available" in run.stderr or "cp_plans" in run.stderr


def test_cli_reports_config_error(tmp_path, project):
    (tmp_path / "report.yml").write_text(yaml.safe_dump({"area": {"name": "T"}, "year": 2025,
                                                         "targets": {"NOPE": 1}}), encoding="utf-8")
    run = subprocess.run([sys.executable, str(project / "pipeline.py"), "indicators", "--config",
                          str(tmp_path / "report.yml")], capture_output=True, text=True, cwd=project)
    assert run.returncode == 1 and "NOPE" in run.stderr and "valid:" in run.stderr


def test_docs_page_is_in_step_with_the_catalogue(project):
    from safeguarding.indicators.catalogue import catalogue_markdown

    page = (project / "docs" / "catalogue.md").read_text(encoding="utf-8")
    assert catalogue_markdown(load_catalogue()) in page, "regenerate docs/catalogue.md from catalogue.yml"


# ------------------------------------------------------------------ chapter (issue 16, item 3)


def _catalogue_with(tmp_path, entry: dict):
    """The built-in catalogue file with one aggregate entry changed (or added), loaded from ``tmp_path``."""
    from safeguarding.indicators.catalogue import CATALOGUE_PATH

    doc = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    doc["indicators"] = [e for e in doc["indicators"] if e["code"] != entry["code"]] + [entry]
    path = tmp_path / "catalogue.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return load_catalogue(path=path)


_PARTNER = {"code": "POLICE_MISSING_EPISODES", "name": "Missing episodes", "definition": "As returned.",
            "unit": "count", "owner": "Police", "method": "aggregate", "source": ["aggregates"]}


def test_every_entry_names_a_known_chapter_and_partners_measures_are_placed_where_a_board_looks():
    from safeguarding.indicators.catalogue import CHAPTERS

    cat = load_catalogue()
    assert all(ind.chapter in CHAPTERS for ind in cat.values())
    # the default is the chapter of the table the method counts
    assert cat["CPP_OPEN"].chapter == cat["ICPC_15WD"].chapter == "child_protection"
    assert cat["REFERRALS"].chapter == "referrals" and cat["LADO_REFERRALS"].chapter == "allegations"
    assert cat["PF_NOTIFICATIONS"].chapter == "private_fostering"
    # the police measures: the front door, and risk outside the home
    assert cat["POLICE_DA_NOTIFICATIONS"].chapter == cat["POLICE_CP_REFERRALS"].chapter == "referrals"
    assert cat["POLICE_MISSING_EPISODES"].chapter == "child_protection"
    for code in ("POLICE_DA_NOTIFICATIONS", "POLICE_CP_REFERRALS", "POLICE_MISSING_EPISODES"):
        assert cat[code].is_aggregate and cat[code].owner == "Police"
        assert "as returned by the police" in cat[code].definition
        assert "not validated by the partnership" in cat[code].definition


def test_an_unknown_chapter_is_a_catalogue_error_naming_the_entry(tmp_path):
    assert _catalogue_with(tmp_path, {**_PARTNER, "chapter": "child_protection"})[
        "POLICE_MISSING_EPISODES"].chapter == "child_protection"
    with pytest.raises(CatalogueError) as err:
        _catalogue_with(tmp_path, {**_PARTNER, "chapter": "front_door"})
    message = str(err.value)
    assert "POLICE_MISSING_EPISODES" in message and "entry" in message and "'front_door' is not valid" in message
    assert "referrals, child_protection, allegations, private_fostering" in message


def test_a_partners_measure_without_a_chapter_is_a_catalogue_error(tmp_path):
    with pytest.raises(CatalogueError, match=r"POLICE_MISSING_EPISODES.*'chapter' is required"):
        _catalogue_with(tmp_path, dict(_PARTNER))


def test_the_catalogue_is_parsed_by_libyaml_into_the_same_objects(monkeypatch):
    """Issue 19: every chapter's kernel and several build stages parsed the 60 KB catalogue with PyYAML's
    pure-Python parser (0.08 s of a kernel's 0.12 s context load). It is now parsed by libyaml where PyYAML
    has it; the objects are those of ``yaml.safe_load``, for the catalogue and the project's other YAML."""
    from pathlib import Path

    import yaml

    from safeguarding.indicators.catalogue import CATALOGUE_PATH
    from safeguarding.yamlload import safe_load

    root = Path(__file__).resolve().parents[1]
    files = [CATALOGUE_PATH, root / "report.yml", root / "_quarto.yml", *sorted((root / "editorial").glob("*.yml"))]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert safe_load(text) == yaml.safe_load(text), path.name
    # the catalogue and its relation model are read with it
    from safeguarding.disclosure.model import default_model
    from safeguarding.indicators.catalogue import load_catalogue

    loaders = []
    real = yaml.load
    monkeypatch.setattr(yaml, "load", lambda text, Loader: loaders.append(Loader) or real(text, Loader=Loader))
    default_model.cache_clear()
    try:
        load_catalogue()
        default_model()
        safe_load("a: 1")
    finally:
        default_model.cache_clear()
    assert loaders == [yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader] * 3
