from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from safeguarding.config import ConfigError, load_config
from safeguarding.settings import ReportSettings


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "report.yml"
    p.write_text(text, encoding="utf-8")
    return p


def test_demo_config_loads(project):
    cfg = load_config(project / "report.yml")
    assert cfg.year == 2025
    assert cfg.year_label == "2024-25"
    assert cfg.year_start == dt.date(2024, 4, 1)
    assert cfg.year_end == dt.date(2025, 3, 31)
    assert cfg.audience == "public"
    assert cfg.raw_dir == (project / "data" / "raw" / "demo")


def test_overrides_and_relative_paths(tmp_path):
    p = write(tmp_path, "area: {name: Test Town}\nyear: 2024\npaths: {processed: out}\n")
    cfg = load_config(p, year=2026, audience="board")
    assert cfg.year == 2026 and cfg.audience == "board"
    assert cfg.processed_dir == tmp_path / "out"
    assert cfg.area_slug == "test-town"


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="--config"):
        load_config(tmp_path / "nope.yml")


def test_unknown_setting_lists_valid_names(tmp_path):
    p = write(tmp_path, "year: 2025\ntargest: {}\n")
    with pytest.raises(ConfigError, match=r"targest.*valid: .*targets"):
        load_config(p)


def test_unknown_input_table_lists_valid_tables(tmp_path):
    p = write(tmp_path, "year: 2025\ninputs: {referals: {file: x.csv}}\n")
    with pytest.raises(ConfigError, match=r"referals.*valid: .*referrals"):
        load_config(p)


@pytest.mark.parametrize("year", ["0", "1999", "twenty"])
def test_bad_year(tmp_path, year):
    p = write(tmp_path, f"year: {year}\n")
    with pytest.raises((ConfigError, ValueError)):
        load_config(p)


def test_bad_audience(tmp_path):
    p = write(tmp_path, "year: 2025\naudience: everyone\n")
    with pytest.raises(ConfigError, match=r"public.*board"):
        load_config(p)


def test_not_yaml(tmp_path):
    p = write(tmp_path, "year: [2025\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(p)


# ------------------------------------------------------------------ issue #12: the whole file checked up front

def problems_of(path: Path, **overrides) -> list[str]:
    """The lines of the one ConfigError load_config raises (header line dropped)."""
    with pytest.raises(ConfigError) as info:
        load_config(path, **overrides)
    lines = str(info.value).splitlines()
    assert len(lines) == len(info.value.problems) + 1, lines
    return [line.removeprefix("  - ") for line in lines[1:]]


def test_year_written_as_financial_year_text_is_a_clear_error(tmp_path):
    p = write(tmp_path, 'year: "2024-25"\n')
    (line,) = problems_of(p)
    assert line.startswith("year: must be a whole number, the year ending 31 March, e.g. 2025 for 2024-25")
    assert "'2024-25'" in line and "write year: 2025" in line


def test_fractional_year_is_an_error_but_a_whole_float_is_accepted(tmp_path):
    (line,) = problems_of(write(tmp_path, "year: 2025.9\n"))
    assert line.startswith("year: must be a whole number") and "2025.9" in line
    assert load_config(write(tmp_path, "year: 2025.0\n")).year == 2025


@pytest.mark.parametrize("value", ["true", "[2025]", "{a: 1}", "2025-03-31", "1999", "2101"])
def test_year_of_the_wrong_type_or_range_is_a_config_error(tmp_path, value):
    (line,) = problems_of(write(tmp_path, f"year: {value}\n"))
    assert line.startswith("year: must be a whole number")


def test_year_and_audience_overrides_are_checked_too(tmp_path):
    p = write(tmp_path, "year: 2025\n")
    lines = problems_of(p, year=1999, audience="everyone")
    assert [line.split(":")[0] for line in lines] == ["--year", "--audience"]
    assert load_config(write(tmp_path, "area: {name: X}\n"), year=2025).year == 2025
    (line,) = problems_of(write(tmp_path, "area: {name: X}\n"))
    assert line.startswith("year: is not set")


def test_header_row_as_text_is_reported_by_the_config_check_with_its_key_path(tmp_path):
    p = write(tmp_path, 'year: 2025\ninputs:\n  referrals: {file: r.csv, header_row: "1"}\n')
    (line,) = problems_of(p)
    assert line.startswith("inputs.referrals.header_row: must be a whole number from 1")
    assert "without quotes" in line


@pytest.mark.parametrize(("section", "value"), [
    ("paths", '"data"'), ("inputs", '"x"'), ("area", '"Northwold"'), ("population", "5"),
    ("benchmarks", "[a, b]"), ("targets", "85"), ("report", '"Annual review"'), ("pseudonymisation", '"k.key"'),
    ("ingest", "2020-01-01"),
])
def test_a_section_of_the_wrong_type_is_a_config_error_not_a_traceback(tmp_path, section, value):
    p = write(tmp_path, f"year: 2025\n{section}: {value}\n")
    (line,) = problems_of(p)
    assert line.startswith(f"{section}: must be a mapping of settings, not ")


@pytest.mark.parametrize("value", ['"x"', "5", "[file: a.csv]"])
def test_an_input_entry_of_the_wrong_type_is_a_config_error(tmp_path, value):
    (line,) = problems_of(write(tmp_path, f"year: 2025\ninputs: {{referrals: {value}}}\n"))
    assert line.startswith("inputs.referrals: must be a mapping of settings")


def test_aggregates_must_be_a_list_of_mappings(tmp_path):
    (line,) = problems_of(write(tmp_path, "year: 2025\naggregates: {file: police.xlsx}\n"))
    assert line.startswith("aggregates: must be a list of returns")
    (line,) = problems_of(write(tmp_path, "year: 2025\naggregates: [police.xlsx]\n"))
    assert line.startswith("aggregates[0]: must be a mapping of settings")


@pytest.mark.parametrize("slug", ["../../victim", "../reports", "/tmp/x", "North/wold", "Northwold", "north wold",
                                  "-northwold", "northwold-", "north_wold", ".", "a" * 61, "", "5x/", 5.5, -1, True,
                                  ["x"]])
def test_a_slug_must_be_lowercase_letters_digits_and_hyphens(tmp_path, slug):
    p = write(tmp_path, "year: 2025\n")
    p.write_text(yaml.safe_dump({"year": 2025, "area": {"name": "Northwold", "slug": slug}}), encoding="utf-8")
    (line,) = problems_of(p)
    assert line.startswith("area.slug: ") and "lowercase letters, digits and hyphens" in line
    assert "use e.g. '" in line


def test_slug_traversal_never_reaches_outside_reports(tmp_path):
    p = write(tmp_path, "year: 2025\narea: {name: Northwold, slug: ../../victim}\n")
    (line,) = problems_of(p)
    assert "'../../victim'" in line and "use e.g. 'victim'" in line


@pytest.mark.parametrize("slug", ["northwold", "north-wold-2", "north--wold", "a" * 60, "x", "9", 2025])
def test_good_slugs_are_accepted(tmp_path, slug):
    p = write(tmp_path, f"year: 2025\narea: {{name: N, slug: {slug}}}\n")
    assert load_config(p).area_slug == str(slug)


@pytest.mark.parametrize(("name", "slug"), [
    ("Test Town", "test-town"), ("../../victim", "victim"), ("Café Ville", "cafe-ville"),
    ("St. Helens / Knowsley", "st-helens-knowsley"), ("///", "area"), ("Ω" * 3, "area"), ("x" * 100, "x" * 60),
])
def test_a_slug_made_from_the_name_is_always_safe(tmp_path, name, slug):
    p = write(tmp_path, "")
    p.write_text(yaml.safe_dump({"year": 2025, "area": {"name": name}}), encoding="utf-8")
    cfg = load_config(p)
    assert cfg.area_slug == slug
    assert (cfg.reports_dir / cfg.area_slug).resolve().parent == cfg.reports_dir.resolve()


@pytest.mark.parametrize(("key", "value"), [
    ("processed", "../elsewhere"), ("reports", "../../reports"), ("reports", "data/../../x"),
    ("processed", "/tmp/outside-the-project"), ("reports", "~/reports"), ("reports", "."), ("processed", "data/.."),
])
def test_output_folders_must_stay_inside_the_project_folder(tmp_path, key, value):
    project = tmp_path / "project"
    project.mkdir()
    p = write(project, "year: 2025\n")
    p.write_text(yaml.safe_dump({"year": 2025, "paths": {key: value}}), encoding="utf-8")
    (line,) = problems_of(p)
    assert line.startswith(f"paths.{key}: {value!r} is not a folder inside the project folder")
    assert str(project.resolve()) in line


def test_output_folders_inside_the_project_and_inputs_anywhere_are_accepted(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    p = project / "report.yml"
    p.write_text(yaml.safe_dump({
        "year": 2025,
        "paths": {"raw": "../extracts/raw", "processed": str(project / "out" / "processed"),
                  "reports": "./site/../reports"},
        "benchmarks": {"folder": "../benchmarks/dfe", "ons_file": "/data/ons.csv"},
        "pseudonymisation": {"key_file": "~/.config/safeguarding/pseudonym.key"},
        "inputs": {"referrals": {"file": "/srv/extracts/referrals.csv"}},
        "aggregates": [{"file": "../../returns/police.xlsx"}],
    }), encoding="utf-8")
    cfg = load_config(p)
    assert cfg.processed_dir == project / "out" / "processed"
    assert cfg.reports_dir == project.resolve() / "reports"
    assert cfg.raw_dir == project / "../extracts/raw"


def test_a_dotdot_after_a_symlink_cannot_lead_the_output_outside(tmp_path):
    project = tmp_path / "project"
    (project / "inside").mkdir(parents=True)
    (tmp_path / "elsewhere" / "deep").mkdir(parents=True)
    (project / "link").symlink_to(tmp_path / "elsewhere" / "deep", target_is_directory=True)
    p = write(project, "year: 2025\npaths: {reports: link/../reports}\n")
    cfg = load_config(p)
    assert cfg.reports_dir == project.resolve() / "reports"   # not elsewhere/reports, where the OS would go


def test_output_folder_given_through_a_symlinked_path_is_accepted(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    p = write(real, "")
    p.write_text(yaml.safe_dump({"year": 2025, "paths": {"processed": str(link / "out")}}), encoding="utf-8")
    assert load_config(link / "report.yml").processed_dir == link / "out"


@pytest.mark.parametrize(("doc", "key", "near", "valid"), [
    ({"targest": {}}, "targest", "targets", "area, year, audience"),
    ({"area": {"nmae": "X"}}, "area.nmae", "name", "name, slug, la_code"),
    ({"paths": {"proccessed": "out"}}, "paths.proccessed", "processed", "raw, processed, reports"),
    ({"inputs": {"referrals": {"file": "r.csv", "colums": {}}}}, "inputs.referrals.colums", "columns",
     "file, sheet, header_row"),
    ({"inputs": {"referrals": {"file": "r.csv", "headerrow": 1}}}, "inputs.referrals.headerrow", "header_row",
     "file, sheet, header_row"),
    ({"inputs": {"referals": {"file": "r.csv"}}}, "inputs.referals", "referrals", "children, referrals"),
    ({"inputs": {"referrals": {"file": "r.csv", "columns": {"referal_date": "Date"}}}},
     "inputs.referrals.columns.referal_date", "referral_date", "referral_id"),
    ({"inputs": {"referrals": {"file": "r.csv", "codes": {"referal_source": {"GP": "3A"}}}}},
     "inputs.referrals.codes.referal_source", "referral_source", "referral_source"),
    ({"aggregates": [{"file": "p.xlsx", "finacial_year": 2025}]}, "aggregates[0].finacial_year", "financial_year",
     "file"),
    ({"benchmarks": {"foldr": "dfe"}}, "benchmarks.foldr", "folder", "folder, ons_file"),
    ({"pseudonymisation": {"keyfile": "k"}}, "pseudonymisation.keyfile", "key_file", "key_file"),
    ({"ingest": {"min_dat": "2020-01-01"}}, "ingest.min_dat", "min_date", "min_date, max_date"),
    ({"report": {"titel": "x"}}, "report.titel", "title", "title, subtitle, author, date"),
    ({"indicators": {"locl": []}}, "indicators.locl", "local", "local, start, end"),
])
def test_unknown_keys_are_reported_with_key_path_suggestion_and_valid_keys(tmp_path, doc, key, near, valid):
    p = write(tmp_path, "")
    p.write_text(yaml.safe_dump({"year": 2025, **doc}), encoding="utf-8")
    (line,) = problems_of(p)
    assert line.startswith(f"{key}: unknown ")
    assert f"did you mean {near!r}?" in line
    assert "valid: " in line and valid in line


def test_an_unknown_key_with_nothing_close_lists_the_valid_keys_without_a_guess(tmp_path):
    (line,) = problems_of(write(tmp_path, "year: 2025\narea: {colour: red}\n"))
    assert line == "area.colour: unknown setting; valid: name, slug, la_code"


def test_every_problem_is_reported_together_in_one_error(tmp_path):
    p = write(tmp_path, "\n".join([
        'year: "2024-25"',
        "audience: everyone",
        "area: {name: Northwold, slug: ../../victim, nmae: x}",
        "paths: {reports: ../../x, processed: out}",
        'inputs: {referrals: {file: r.csv, header_row: "1", colums: {}}, referals: {file: r.csv}}',
        "population: {2025: many, twenty: 5}",
        "targets: {ICPC_15WD: high}",
        "aggregates: [{file: p.xlsx, layout: sideways}]",
        "",
    ]))
    with pytest.raises(ConfigError) as info:
        load_config(p)
    err = info.value
    lines = str(err).splitlines()
    assert lines[0].startswith(f"{p}: 12 problems in the configuration")
    keys = [str(problem).split(":")[0] for problem in err.problems]
    assert keys == ["year", "audience", "area.nmae", "area.slug", "paths.reports", "inputs.referals",
                    "inputs.referrals.colums", "inputs.referrals.header_row", "population.2025", "population.twenty",
                    "targets.ICPC_15WD", "aggregates[0].layout"]
    assert lines[1:] == [f"  - {problem}" for problem in err.problems]


@pytest.mark.parametrize(("doc", "key"), [
    ({"audience": 5}, "audience"),
    ({"area": {"name": ["a"]}}, "area.name"),
    ({"area": {"la_code": {"x": 1}}}, "area.la_code"),
    ({"paths": {"raw": 5}}, "paths.raw"),
    ({"paths": {"reports": None}}, "paths.reports"),
    ({"population": {2025: "28,000"}}, "population.2025"),
    ({"population": {2025: -1}}, "population.2025"),
    ({"population": {2025: True}}, "population.2025"),
    ({"population": {"2024-25": 28000}}, "population.2024-25"),
    ({"targets": {"ICPC_15WD": "85%"}}, "targets.ICPC_15WD"),
    ({"benchmarks": {"folder": ["a"]}}, "benchmarks.folder"),
    ({"indicators": "NFA"}, "indicators"),
    ({"indicators": {"start": "1 April"}}, "indicators.start"),
    ({"indicators": ["NFA"]}, "indicators[0]"),
    ({"age_bands": [0, 5, 1]}, "age_bands"),
    ({"age_bands": "0-17"}, "age_bands"),
    ({"inputs": {"referrals": {}}}, "inputs.referrals.file"),
    ({"inputs": {"referrals": {"file": 5}}}, "inputs.referrals.file"),
    ({"inputs": {"referrals": {"file": "r.csv", "sheet": [1]}}}, "inputs.referrals.sheet"),
    ({"inputs": {"referrals": {"file": "r.csv", "sheet": 0}}}, "inputs.referrals.sheet"),
    ({"inputs": {"referrals": {"file": "r.csv", "header_row": 0}}}, "inputs.referrals.header_row"),
    ({"inputs": {"referrals": {"file": "r.csv", "header_row": 2.5}}}, "inputs.referrals.header_row"),
    ({"inputs": {"referrals": {"file": "r.csv", "encoding": "klingon"}}}, "inputs.referrals.encoding"),
    ({"inputs": {"referrals": {"file": "r.csv", "encoding": 8}}}, "inputs.referrals.encoding"),
    ({"inputs": {"referrals": {"file": "r.csv", "date_format": "us"}}}, "inputs.referrals.date_format"),
    ({"inputs": {"referrals": {"file": "r.csv", "format": "xml"}}}, "inputs.referrals.format"),
    ({"inputs": {"referrals": {"file": "r.csv", "columns": ["Ref"]}}}, "inputs.referrals.columns"),
    ({"inputs": {"referrals": {"file": "r.csv", "columns": {"team": None}}}}, "inputs.referrals.columns.team"),
    ({"inputs": {"referrals": {"file": "r.csv", "codes": {"referral_source": "3A"}}}},
     "inputs.referrals.codes.referral_source"),
    ({"aggregates": [{}]}, "aggregates[0].file"),
    ({"aggregates": [{"file": "p.xlsx", "financial_year": "2024-25"}]}, "aggregates[0].financial_year"),
    ({"aggregates": [{"file": "p.xlsx", "header_row": "2"}]}, "aggregates[0].header_row"),
    ({"aggregates": [{"file": "p.xlsx", "rows": ["a"]}]}, "aggregates[0].rows"),
    ({"aggregates": [{"file": "p.xlsx", "rows": {"Label": 5}}]}, "aggregates[0].rows['Label']"),
    ({"aggregates": [{"file": "p.xlsx", "delimiter": ";;"}]}, "aggregates[0].delimiter"),
    ({"aggregates": [{"file": "p.xlsx", "encoding": "klingon"}]}, "aggregates[0].encoding"),
    ({"ingest": {"min_date": "01/02/2020"}}, "ingest.min_date"),
    ({"ingest": {"min_date": "2025-01-01", "max_date": "2020-01-01"}}, "ingest.max_date"),
    ({"report": {"title": 5}}, "report.title"),
    ({"report": {"author": {"role": "x"}}}, "report.author"),
    ({"pseudonymisation": {"key_file": 5}}, "pseudonymisation.key_file"),
])
def test_a_wrong_value_is_reported_with_its_key_path(tmp_path, doc, key):
    p = write(tmp_path, "")
    p.write_text(yaml.safe_dump({"year": 2025, **doc}), encoding="utf-8")
    lines = problems_of(p)
    assert [line.split(": ")[0] for line in lines] == [key], lines


_WRONG_VALUES = [None, True, 0, -3, 2.5, "", "text", "../..", [], [1, "a"], {}, {"x": 1}, dt.date(2025, 1, 1)]


def _known_key_paths() -> list[tuple[str, ...]]:
    from safeguarding.config_schema import (
        AREA_KEYS,
        BENCHMARKS_KEYS,
        INDICATORS_KEYS,
        INGEST_KEYS,
        PATHS_KEYS,
        PSEUDONYMISATION_KEYS,
        REPORT_KEYS,
        SITE_KEYS,
        TOP_LEVEL_KEYS,
        aggregate_keys,
        input_rules,
    )

    paths = [(k,) for k in TOP_LEVEL_KEYS]
    for section, keys in (("area", AREA_KEYS), ("paths", PATHS_KEYS), ("benchmarks", BENCHMARKS_KEYS),
                          ("pseudonymisation", PSEUDONYMISATION_KEYS), ("ingest", INGEST_KEYS),
                          ("report", REPORT_KEYS), ("indicators", INDICATORS_KEYS), ("site", SITE_KEYS)):
        paths += [(section, k) for k in keys]
    paths += [("inputs", "cp_plans", k) for k in input_rules().keys]
    paths += [("inputs", "referrals", "columns", "team"), ("inputs", "referrals", "codes", "referral_source")]
    paths += [("aggregates", 0, k) for k in aggregate_keys()]
    paths += [("population", 2025), ("targets", "ICPC_15WD")]
    from safeguarding.deploy import PUBLISH_KEYS, TARGET_KEYS

    paths += [("publish", k) for k in PUBLISH_KEYS] + [("publish", "targets", "website")]
    paths += [("publish", "targets", "website", k) for k in TARGET_KEYS]
    return paths


@pytest.mark.parametrize("key_path", _known_key_paths(), ids=lambda kp: ".".join(map(str, kp)))
def test_no_value_of_any_known_setting_gives_a_traceback(tmp_path, key_path):
    """Every known key, set to values of every YAML type: the file loads or raises ConfigError, nothing else."""
    for value in _WRONG_VALUES:
        doc: dict = {"year": 2025, "inputs": {"cp_plans": {"file": "p.xlsx"}}, "aggregates": [{"file": "a.xlsx"}]}
        node: object = doc
        for part in key_path[:-1]:
            node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
        node[key_path[-1]] = value
        p = write(tmp_path, "")
        p.write_text(yaml.safe_dump(doc), encoding="utf-8")
        try:
            cfg = load_config(p)
        except ConfigError as exc:
            assert exc.problems, (key_path, value)
            assert all(str(problem).split(":")[0] for problem in exc.problems)
        else:
            assert isinstance(cfg.year, int) and isinstance(cfg.area_slug, str)
            assert cfg.section("benchmarks") is not None and cfg.section("report") is not None


def test_demo_config_reads_benchmarks_shipped_in_the_project(project):
    """Before, the demo pointed outside the repository, so a clone with nothing beside it had no benchmarks."""
    cfg = load_config(project / "report.yml")
    folder = cfg.resolve(cfg.section("benchmarks")["folder"]).resolve()
    assert folder.is_relative_to(project.resolve()) and any(folder.glob("c1_*.csv"))
    assert cfg.area_slug == "northwold" and len(cfg.inputs) == 9 and len(cfg.aggregates) == 2  # police: 2 years
    assert cfg.population[2025] == 28302


def test_targets_may_clear_a_catalogue_target_with_an_empty_value(tmp_path):
    cfg = load_config(write(tmp_path, "year: 2025\ntargets: {ICPC_15WD: 85, CPP_REPEAT: null}\n"))
    assert cfg.targets == {"ICPC_15WD": 85.0}


def test_the_schema_takes_the_ingest_and_aggregate_keys_from_their_readers():
    from safeguarding import aggregates
    from safeguarding.config_schema import aggregate_keys, input_rules
    from safeguarding.ingest import core, formats, readers

    rules = input_rules()
    assert rules.keys == tuple(core.SPEC_KEYS)
    assert rules.encodings == tuple(readers.ENCODINGS) and rules.formats == tuple(formats.FORMATS)
    assert set(aggregate_keys()) == set(aggregates.SPEC_KEYS)


def test_cli_reports_every_problem_and_does_no_work(tmp_path, project):
    p = write(tmp_path, 'year: "2024-25"\narea: {slug: ../../victim}\npaths: {processed: out}\n'
                        "inputs: {referrals: {file: r.csv}}\n")
    proc = subprocess.run([sys.executable, str(project / "pipeline.py"), "ingest", "--config", str(p)],
                          capture_output=True, text=True, cwd=project, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "2 problems" in proc.stderr and "  - year: " in proc.stderr and "  - area.slug: " in proc.stderr
    assert not (tmp_path / "out").exists()


def test_report_status_version_and_dates_are_checked(tmp_path):
    """report.status is draft or approved; an approved report needs approved_on; dates are YYYY-MM-DD."""
    p = write(tmp_path, "year: 2025\nreport:\n  status: signed off\n  published_on: 30/06/2025\n")
    lines = problems_of(p)
    assert any(line.startswith("report.status: must be one of draft, approved") for line in lines), lines
    assert any(line.startswith("report.published_on: must be a date written YYYY-MM-DD") for line in lines), lines
    p = write(tmp_path, "year: 2025\nreport:\n  status: approved\n")
    (line,) = problems_of(p)
    assert line.startswith("report.approved_on: is not set")
    p = write(tmp_path, "year: 2025\nreport:\n  status: approved\n  approved_on: 2025-06-12\n  version: '1.0'\n"
                        "  published_on: 2025-06-30\n")
    from safeguarding.build import cover_status

    cover = cover_status(load_config(p).report)
    assert cover == {"status": "Approved by the board on 12 June 2025, version 1.0", "draft": False,
                     "date": "Published 30 June 2025"}
    # no publication date: the cover gives none (never the build date)
    assert cover_status(ReportSettings(status="draft")) == {"status": "Draft", "draft": True, "date": ""}
