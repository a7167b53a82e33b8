"""``report.yml`` parsed once into typed objects (``safeguarding/settings.py``), attached to the ``Config``.

Issue 18: "configuration parsed once into typed objects ... modules receive typed objects, not dicts or Any".
Each section has the documented defaults when it is left out, a value written in the file reaches its typed
object, the disclosure policy is parsed once, and a wrong value is still reported with its key path before
anything is parsed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import yaml

from safeguarding import settings
from safeguarding.config import ConfigError, load_config
from safeguarding.disclosure.policy import Policy
from safeguarding.settings import (
    AreaSettings,
    BenchmarkSettings,
    EditorialSettings,
    IndicatorSettings,
    IngestSettings,
    PseudonymisationSettings,
    PublishSettings,
    PublishTarget,
    ReportSettings,
    SiteDetails,
)


def _write(tmp_path: Path, settings_: dict) -> Path:
    p = tmp_path / "report.yml"
    p.write_text(yaml.safe_dump({"year": 2025, **settings_}), encoding="utf-8")
    return p


def test_sections_left_out_have_the_documented_defaults(tmp_path):
    cfg = load_config(_write(tmp_path, {}))
    assert cfg.area == AreaSettings(name="Unnamed area", slug="unnamed-area", la_code=None)
    assert cfg.benchmarks == BenchmarkSettings() and dict(cfg.benchmarks.sources) == {}
    assert cfg.ingest == IngestSettings(min_date=dt.date(2000, 1, 1), max_date=None)
    assert cfg.pseudonymisation == PseudonymisationSettings(key_file=None)
    assert cfg.report == ReportSettings() and cfg.report.status is None and cfg.report.document_metadata() == {}
    assert cfg.site == SiteDetails(base_url=None, contact_email=None, organisation=None, statement_prepared_on=None)
    assert cfg.editorial == EditorialSettings(folder=None)
    assert cfg.publish == PublishSettings() and dict(cfg.publish.targets) == {}
    assert cfg.indicators == IndicatorSettings() and cfg.indicators.run_dates() == {}
    assert cfg.age_bands == ()
    assert cfg.disclosure == Policy()


def test_empty_sections_are_the_defaults_too(tmp_path):
    empty = {name: None for name in ("area", "benchmarks", "ingest", "pseudonymisation", "report", "site",
                                     "publish", "indicators", "age_bands", "editorial", "disclosure")}
    cfg = load_config(_write(tmp_path, empty))
    assert (cfg.area.la_code, cfg.benchmarks, cfg.ingest, cfg.report, cfg.site, cfg.publish, cfg.indicators,
            cfg.age_bands, cfg.editorial, cfg.disclosure) == (
        None, BenchmarkSettings(), IngestSettings(), ReportSettings(), SiteDetails(), PublishSettings(),
        IndicatorSettings(), (), EditorialSettings(), Policy())


def test_values_written_in_the_file_reach_the_typed_objects(tmp_path):
    cfg = load_config(_write(tmp_path, {
        "area": {"name": "Test Town", "la_code": 873},
        "benchmarks": {"folder": "ref", "ons_file": "ons.csv", "sources": {"sn": "https://example.org/sn.csv"}},
        "ingest": {"min_date": "2010-01-01", "max_date": dt.date(2025, 3, 31)},
        "pseudonymisation": {"key_file": "~/keys/k.key"},
        "report": {"title": "Our review", "author": ["A. Chair", "B. Manager"], "date": dt.date(2025, 6, 1),
                   "status": "approved", "approved_on": "2025-06-12", "version": 1.0,
                   "published_on": dt.date(2025, 6, 30)},
        "site": {"base_url": " https://www.example.gov.uk/scp/ ", "contact_email": "scp@example.gov.uk",
                 "organisation": "  Test Town SCP ", "statement_prepared_on": "2025-05-01"},
        "publish": {"targets": {"website": {"url": "out/site"},
                                "board": {"url": "sftp://me@host/srv/b", "audience": "board", "keep": 5}}},
        "indicators": {"start": "2023-04-01", "data_end": dt.date(2025, 3, 31),
                       "local": [{"code": "LOCAL_X", "name": "X"}]},
        "age_bands": [0, 5, 10, 16],
        "editorial": "words",
        "disclosure": {"threshold": [1, 9]},
    }))
    assert cfg.area == AreaSettings(name="Test Town", slug="test-town", la_code="873")
    assert (cfg.benchmarks.folder, cfg.benchmarks.ons_file) == ("ref", "ons.csv")
    assert dict(cfg.benchmarks.sources) == {"sn": "https://example.org/sn.csv"}
    assert cfg.ingest == IngestSettings(min_date=dt.date(2010, 1, 1), max_date=dt.date(2025, 3, 31))
    assert cfg.pseudonymisation.key_file == "~/keys/k.key"
    assert cfg.report == ReportSettings(title="Our review", author=["A. Chair", "B. Manager"],
                                        date=dt.date(2025, 6, 1), status="approved",
                                        approved_on=dt.date(2025, 6, 12), version="1.0",
                                        published_on=dt.date(2025, 6, 30))
    assert cfg.report.document_metadata() == {"title": "Our review", "author": ["A. Chair", "B. Manager"],
                                              "date": dt.date(2025, 6, 1)}
    assert cfg.site == SiteDetails(base_url="https://www.example.gov.uk/scp", contact_email="scp@example.gov.uk",
                                   organisation="Test Town SCP", statement_prepared_on=dt.date(2025, 5, 1))
    assert dict(cfg.publish.targets) == {"website": PublishTarget(url="out/site", audience="public", keep=3),
                                         "board": PublishTarget(url="sftp://me@host/srv/b", audience="board",
                                                                keep=5)}
    assert cfg.indicators.run_dates() == {"start": dt.date(2023, 4, 1), "data_end": dt.date(2025, 3, 31)}
    assert cfg.indicators.local == ({"code": "LOCAL_X", "name": "X"},)
    assert cfg.age_bands == (0, 5, 10, 16)
    assert cfg.editorial.folder == "words"
    assert cfg.disclosure == Policy(threshold=(1, 9))


def test_a_list_of_local_indicators_is_read_as_the_local_ones(tmp_path):
    cfg = load_config(_write(tmp_path, {"indicators": [{"code": "LOCAL_Y"}]}))
    assert cfg.indicators == IndicatorSettings(local=({"code": "LOCAL_Y"},))


def test_the_demo_report_yml_reaches_its_typed_objects(project):
    raw = yaml.safe_load((project / "report.yml").read_text(encoding="utf-8"))
    cfg = load_config(project / "report.yml")
    assert cfg.area.la_code == str(raw["area"]["la_code"]) and cfg.area.slug == cfg.area_slug == "northwold"
    assert cfg.report.status == raw["report"]["status"] and cfg.report.version == str(raw["report"]["version"])
    assert cfg.benchmarks.folder == raw["benchmarks"]["folder"]
    assert cfg.editorial.folder == raw["editorial"]
    # section() still gives the mapping as written, for notebooks and scripts
    assert cfg.section("report") == raw["report"] and cfg.section("site") == {}


def test_the_disclosure_policy_is_parsed_once(tmp_path, monkeypatch):
    cfg = load_config(_write(tmp_path, {"disclosure": {"threshold": [1, 9], "max_exact": 800}}))
    first = cfg.disclosure
    assert first is cfg.disclosure  # the same object on every access

    def refuse(section: object) -> Policy:
        raise AssertionError("the disclosure section was parsed again")

    monkeypatch.setattr(Policy, "from_mapping", staticmethod(refuse))
    assert cfg.disclosure is first and cfg.disclosure == Policy(threshold=(1, 9), max_exact=800)


def test_the_typed_objects_are_read_only(tmp_path):
    cfg = load_config(_write(tmp_path, {"report": {"title": "T"}}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.report.title = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        cfg.publish.targets["new"] = PublishTarget(url="x")  # type: ignore[index]


@pytest.mark.parametrize(("section", "key"), [
    ({"report": {"status": "approved", "approved_on": "soon"}}, "report.approved_on"),
    ({"site": {"statement_prepared_on": 5}}, "site.statement_prepared_on"),
    ({"ingest": {"max_date": "yesterday"}}, "ingest.max_date"),
    ({"publish": {"targets": {"web": {"url": "out", "keep": "3"}}}}, "publish.targets.web.keep"),
    ({"indicators": {"start": "April"}}, "indicators.start"),
    ({"age_bands": [0, "five"]}, "age_bands"),
    ({"benchmarks": {"folder": 3}}, "benchmarks.folder"),
    ({"area": {"la_code": True}}, "area.la_code"),
])
def test_a_wrong_value_is_reported_with_its_key_path_before_anything_is_parsed(tmp_path, monkeypatch, section,
                                                                                 key):
    parsed: list[str] = []
    for name in ("ReportSettings", "SiteDetails", "IngestSettings", "PublishSettings", "IndicatorSettings",
                 "BenchmarkSettings", "AreaSettings"):
        cls = getattr(settings, name)
        monkeypatch.setattr(cls, "from_mapping", classmethod(lambda c, *a, **k: parsed.append(c.__name__)))
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, section))
    assert any(p.key == key for p in err.value.problems), err.value.problems
    assert f"  - {key}:" in str(err.value)
    assert parsed == []  # the check refused the file before any section was parsed


def test_the_indicator_run_options_come_from_the_typed_settings(tmp_path):
    from safeguarding.indicators.inputs import run_options

    cfg = load_config(_write(tmp_path, {"indicators": {"end": "2025-03-31", "history_start": "2019-04-01"},
                                        "age_bands": [0, 1, 5]}))
    assert run_options(cfg) == {"end": dt.date(2025, 3, 31), "history_start": dt.date(2019, 4, 1),
                                "age_bands": ((0, "Under 1"), (1, "1-4"), (5, "5+"))}
    assert run_options(load_config(_write(tmp_path, {}))) == {}


def test_the_ingest_date_range_and_key_file_come_from_the_typed_settings(tmp_path):
    from safeguarding.ingest.pseudonym import key_file_path

    cfg = load_config(_write(tmp_path, {"pseudonymisation": {"key_file": "keys/k.key"}}))
    assert key_file_path(cfg) == tmp_path / "keys" / "k.key"
    cfg.pseudonymisation = PseudonymisationSettings()  # not set: the environment's (see conftest)
    assert key_file_path(cfg) != tmp_path / "keys" / "k.key"
