"""Many areas in one run (issue 19, item 3): ``build --areas manifest.csv --jobs N``.

The manifest's problems are all reported with their row and column; each area gets its own files, own
processed folder and nothing of another area's own settings; areas build side by side, one failing stops no
other, the summary lists every outcome; and an area built among others publishes exactly what it publishes
built alone from a configuration written by hand.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from e2e import demo_config_copy
from fingerprint import without_images

from safeguarding.areas import AREA_OWN_KEYS, Area, area_configs, area_settings, read_manifest
from safeguarding.config import ConfigError, load_config

PROJECT = Path(__file__).resolve().parents[1]
HEADER = "name,folder,slug,la_code,population_2024,population_2025\n"


def _manifest(tmp: Path, body: str, folders: tuple[str, ...] = ("a", "b")) -> Path:
    for f in folders:
        (tmp / f).mkdir(parents=True, exist_ok=True)
    path = tmp / "manifest.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_a_manifest_gives_each_area_its_name_slug_code_folder_and_population(tmp_path):
    m = _manifest(tmp_path, "Ash Mere,a,,873,\"28,217\",28302\nBram,b,bram-2,840,,\n")
    areas = read_manifest(m, 2025)
    assert [(a.name, a.slug, a.la_code, a.folder, a.population, a.row) for a in areas] == [
        ("Ash Mere", "ash-mere", "873", (tmp_path / "a").resolve(), {2024: 28217.0, 2025: 28302.0}, 2),
        ("Bram", "bram-2", "840", (tmp_path / "b").resolve(), {}, 3)]


def test_every_problem_of_a_manifest_is_reported_at_once_with_its_row_and_column(tmp_path):
    m = _manifest(tmp_path, ",a,,873,,\nBram,missing,,840,lots,\nCal,b,Bad Slug!,,,-4\nDun,b,ash,,,\n"
                            "Ash,a,,,,\n")
    with pytest.raises(ConfigError) as err:
        read_manifest(m, 2025)
    text = str(err.value)
    for expected in ("row 2, column name: empty",
                     "row 3, column folder:", "is not a folder",
                     "row 3, column population_2024: 'lots' is not a number",
                     "row 4, column slug: 'Bad Slug!' is not allowed", "use e.g. 'bad-slug'",
                     "row 4, column population_2025: '-4' must be more than 0",
                     "row 6, column slug: 'ash' is also row 5's"):
        assert expected in text, (expected, text)


def test_a_manifest_without_its_required_columns_is_refused(tmp_path):
    m = tmp_path / "manifest.csv"
    m.write_text("name,path\nAsh,a\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"row 1: no column folder"):
        read_manifest(m, 2025)


def test_an_area_takes_its_files_from_its_folder_and_nothing_of_another_areas_own(tmp_path):
    base = yaml.safe_load((PROJECT / "report.yml").read_text(encoding="utf-8"))
    base.setdefault("site", {"base_url": "https://example.gov.uk/northwold"})
    base["targets"] = {"CPP_SECOND_OR_LATER": 20}
    before = copy.deepcopy(base)
    area = Area(row=2, name="Ashmere", slug="ashmere", folder=tmp_path / "ash", la_code="840",
                population={2025: 1000.0})
    raw = area_settings(base, PROJECT, area)
    assert base == before, "the base settings are not changed"
    assert raw["area"] == {"name": "Ashmere", "slug": "ashmere", "la_code": "840"}
    assert raw["population"] == {2025: 1000.0}
    assert not {"editorial", "site", "targets"} & raw.keys()
    assert set(AREA_OWN_KEYS) >= {"area", "population", "editorial", "site", "targets"}
    assert raw["paths"]["raw"] == str(tmp_path / "ash")
    assert raw["paths"]["processed"] == "data/processed/areas/ashmere"
    for name, spec in raw["inputs"].items():  # each at its path under paths.raw, now under the area's folder
        assert spec["file"] == str(tmp_path / "ash" / Path(base["inputs"][name]["file"]).name), name
    assert [a["file"] for a in raw["aggregates"]] == [str(tmp_path / "ash" / Path(a["file"]).name)
                                                      for a in base["aggregates"]]


def test_an_input_outside_paths_raw_cannot_be_found_for_each_area(tmp_path):
    base = yaml.safe_load((PROJECT / "report.yml").read_text(encoding="utf-8"))
    base["inputs"]["referrals"]["file"] = "elsewhere/referrals.csv"
    area = Area(row=2, name="Ashmere", slug="ashmere", folder=tmp_path)
    with pytest.raises(ConfigError, match=r"inputs.referrals.file: elsewhere/referrals.csv is not under paths.raw"):
        area_settings(base, PROJECT, area)


def test_each_area_is_checked_before_anything_is_written(tmp_path):
    cfg = demo_config_copy(tmp_path)
    raw = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    raw["inputs"]["s47"]["file"] = str(tmp_path / "s47.csv")  # not under paths.raw: no area can find it
    cfg.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    (tmp_path / "a").mkdir()
    m = tmp_path / "manifest.csv"
    m.write_text("name,folder,la_code\nAsh,a,873\nBram,a,840\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        area_configs(cfg, m)
    text = str(err.value)
    assert "row 2 (ash)" in text and "row 3 (bram)" in text and "inputs.s47.file" in text, text
    assert not (tmp_path / "build" / "areas").exists(), "nothing is written when an area's settings are wrong"


def test_an_areas_settings_file_keeps_the_project_folder_of_report_yml(tmp_path):
    cfg_path = demo_config_copy(tmp_path)
    (tmp_path / "a").mkdir()
    m = tmp_path / "manifest.csv"
    m.write_text("name,folder,la_code,population\nAsh,a,873,1000\n", encoding="utf-8")
    written = area_configs(cfg_path, m)
    settings, cfg = written["ash"]
    assert settings == tmp_path / "build" / "areas" / "ash.yml"
    again = load_config(settings)  # as the area's own build and its notebooks load it
    assert again.root == cfg.root == tmp_path
    assert again.processed_dir == tmp_path / "processed" / "areas" / "ash"
    assert again.population == {2025: 1000.0} and again.area_slug == "ash"


def test_based_on_must_name_an_existing_report_yml_by_its_absolute_path(tmp_path):
    cfg = demo_config_copy(tmp_path)
    raw = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    for bad in ("report.yml", str(tmp_path / "missing.yml"), 3):
        raw["based_on"] = bad
        other = tmp_path / "other.yml"
        other.write_text(yaml.safe_dump(raw), encoding="utf-8")
        with pytest.raises(ConfigError, match=r"based_on: must be the absolute path of the report.yml"):
            load_config(other)


# ----------------------------------------------------------------------------- end to end
def _council(root: Path, code: str, name: str, seed: int) -> dict:
    from safeguarding.synth import generate_council

    truth = generate_council(root / code, seed=seed, la_code=code, name=name)
    return {"la_code": code, "name": name, "folder": code,
            **{f"population_{y}": n for y, n in truth["population"].items()}}


def _by_hand(tmp: Path, council: dict, folder: Path) -> Path:
    """A single-area report.yml for one council, written the way an analyst would, not by safeguarding.areas."""
    raw = yaml.safe_load((PROJECT / "report.yml").read_text(encoding="utf-8"))
    for key in ("editorial", "site", "targets"):
        raw.pop(key, None)
    raw["area"] = {"name": council["name"], "slug": re.sub(r"\W+", "-", council["name"].lower()),
                   "la_code": council["la_code"]}
    raw["population"] = {int(k.split("_")[1]): v for k, v in council.items() if k.startswith("population_")}
    raw["paths"] = {"raw": str(folder), "processed": str(tmp / "processed"), "reports": str(tmp / "reports")}
    for spec in [*raw["inputs"].values(), *raw["aggregates"]]:
        spec["file"] = str(folder / Path(spec["file"]).name)
    raw["benchmarks"]["folder"] = str(PROJECT / raw["benchmarks"]["folder"])
    tmp.mkdir(parents=True, exist_ok=True)
    out = tmp / "report.yml"
    out.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return out


def _published(year_dir: Path) -> dict[str, bytes]:
    files = {p.relative_to(year_dir).as_posix(): p.read_bytes() for p in (year_dir / "data").iterdir()}
    files["annual-review.html"] = without_images((year_dir / "annual-review.html").read_bytes())
    return files


@pytest.mark.slow
def test_areas_build_side_by_side_one_failure_stops_no_other_and_each_publishes_what_it_would_alone(tmp_path):
    import csv

    councils = tmp_path / "councils"
    rows = [_council(councils, "873", "Ashmere", 11), _council(councils, "840", "Brambury", 12)]
    broken = councils / "841"  # a third council whose referrals file is not a referrals extract
    broken.mkdir()
    for p in (councils / "840").iterdir():
        (broken / p.name).write_bytes(p.read_bytes())
    (broken / "referrals.csv").write_text("nonsense\n1,2\n", encoding="utf-8")
    rows.append({**rows[1], "la_code": "841", "name": "Crumbling", "folder": "841"})
    manifest = councils / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    project = tmp_path / "project"
    project.mkdir()
    cfg = demo_config_copy(project)

    proc = subprocess.run([sys.executable, "-m", "safeguarding.cli", "build", "--config", str(cfg), "--areas",
                           str(manifest), "--jobs", "2", "--renderer", "builtin"],
                          capture_output=True, text=True, cwd=project)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # not every area published
    assert "2 of 3 areas published" in proc.stdout, proc.stdout
    summary = json.loads(next((project / "logs").glob("areas-*/summary.json")).read_text(encoding="utf-8"))
    outcome = {a["slug"]: a for a in summary["areas"]}
    assert {k: v["outcome"] for k, v in outcome.items()} == {"ashmere": "published", "brambury": "published",
                                                             "crumbling": "failed"}
    assert "stage 'ingest'" in outcome["crumbling"]["message"] and "referrals" in outcome["crumbling"]["message"]
    assert Path(outcome["crumbling"]["log"]).is_file()
    assert summary["counts"] == {"published": 2, "failed": 1, "stopped": 0} and summary["jobs"] == 2
    for line in ("ashmere", "brambury", "CRUMBLING".lower()):
        assert re.search(rf"^\s+{line}\s", proc.stdout, re.M), proc.stdout
    assert not (project / "reports" / "crumbling" / "2025").exists(), "a failed area publishes nothing"
    # the areas' ingest and indicators ran once, in one pass before the builds: each build took them from the cache
    ready = next(ln for ln in proc.stdout.splitlines() if ln.startswith("data of "))
    assert ready.startswith("data of 3 of 3 areas ready") and "could not be read: crumbling" in ready, ready
    runs = [json.loads(r.read_text(encoding="utf-8")) for r in (project / "logs").glob("*/run.json")]
    for slug in ("ashmere", "brambury"):
        stages = next(r["stages"] for r in runs if Path(r.get("output_dir", "")).parent.name == slug)
        assert stages["ingest"]["status"] == "cached" and stages["indicators"]["status"] == "cached", stages

    # each area published what a single-area build of the same council, configured by hand, publishes
    from safeguarding.build import build

    for row in rows[:2]:
        slug = row["name"].lower()
        alone = build(_by_hand(tmp_path / f"alone-{slug}", row, councils / row["folder"]), renderer="builtin",
                      echo=lambda _m: None)
        many = _published(project / "reports" / slug / "2025")
        assert many.keys() == _published(alone.output_dir).keys()
        for name, content in _published(alone.output_dir).items():
            assert many[name] == content, f"{slug}: {name} differs between the many-area and the single-area build"
    a = (project / "reports" / "ashmere" / "2025" / "data" / "indicators.csv").read_bytes()
    b = (project / "reports" / "brambury" / "2025" / "data" / "indicators.csv").read_bytes()
    assert a != b, "the two councils' figures differ (each area read its own files)"


def test_build_areas_reports_a_bad_manifest_before_building(tmp_path):
    cfg = demo_config_copy(tmp_path)
    m = tmp_path / "manifest.csv"
    m.write_text("name,folder\nAsh,nowhere\n", encoding="utf-8")
    from safeguarding.areas import run_areas

    args = argparse.Namespace(config=str(cfg), areas=str(m), jobs=2, year=None, audience=None, renderer="builtin",
                              wait=0.0, force=False, allow_missing_inputs=False, keep_build=False)
    assert run_areas(args) == 2
    assert not (tmp_path / "logs").exists() and not (tmp_path / "reports").exists()


def test_a_one_pass_that_breaks_stops_no_area(tmp_path, monkeypatch):
    """The one pass only saves work: if it fails as a whole, every area is still built (its own ingest)."""
    import safeguarding.areas as areas
    import safeguarding.areas_data as areas_data

    cfg = demo_config_copy(tmp_path)
    councils = tmp_path / "councils"
    for code in ("873", "840"):
        (councils / code).mkdir(parents=True)
    m = councils / "manifest.csv"
    m.write_text("name,folder\nAshmere,873\nBrambury,840\n", encoding="utf-8")

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug in the one pass")

    built = []

    def fake_build(cfg_, cmd, log):
        built.append(cfg_.area_slug)
        return areas.AreaOutcome(cfg_.area_slug, cfg_.area_name, "published", 0.1, 0, str(log), "out")

    monkeypatch.setattr(areas_data, "run_areas_data", broken)
    monkeypatch.setattr(areas, "_build_one", fake_build)
    said: list[str] = []
    args = argparse.Namespace(config=str(cfg), areas=str(m), jobs=1, year=None, audience=None, renderer="builtin",
                              wait=0.0, force=False, allow_missing_inputs=False, keep_build=False)
    outcomes, _log_dir = areas.build_areas(args, echo=said.append)
    assert sorted(built) == ["ashmere", "brambury"] and all(o.outcome == "published" for o in outcomes)
    assert any("one pass over the areas' data stopped (RuntimeError: a bug in the one pass)" in s for s in said), said


def test_jobs_are_processes_in_all(tmp_path, monkeypatch):
    """``--jobs N`` is N processes in all: N areas at a time in one process each, or fewer areas with a share
    (``--jobs 1`` used to give each area both cores, so it was no single-process baseline)."""
    import safeguarding.areas as areas

    def ns(**kw):
        return argparse.Namespace(**{"jobs": None, "kernels": None, **kw})

    assert areas.area_kernels(ns(jobs=1), 20) == 1
    assert areas.area_kernels(ns(jobs=2), 20) == 1
    assert areas.area_kernels(ns(jobs=4), 2) == 2
    assert areas.area_kernels(ns(jobs=3), 2) == 1  # 2 areas at once, one process each (never more than N)
    assert areas.area_kernels(ns(jobs=2, kernels=3), 20) == 3  # --kernels, when given, wins
    monkeypatch.setattr(areas.os, "cpu_count", lambda: 2)
    assert areas.jobs_of(ns()) == 2 and areas.jobs_of(ns(jobs=1)) == 1

    cfg = demo_config_copy(tmp_path)
    councils = tmp_path / "councils"
    for code in ("873", "840", "841"):
        (councils / code).mkdir(parents=True)
    m = councils / "manifest.csv"
    m.write_text("name,folder\nAshmere,873\nBrambury,840\nCrofton,841\n", encoding="utf-8")
    commands: list[list[str]] = []
    running, most = [0], [0]
    import threading
    import time

    lock = threading.Lock()

    def fake_build(cfg_, cmd, log):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            commands.append(cmd)
        time.sleep(0.2)
        with lock:
            running[0] -= 1
        return areas.AreaOutcome(cfg_.area_slug, cfg_.area_name, "published", 0.1, 0, str(log), "out")

    monkeypatch.setattr(areas, "_build_one", fake_build)
    for jobs, at_once in ((1, 1), (2, 2)):
        commands.clear()
        most[0] = 0
        args = argparse.Namespace(config=str(cfg), areas=str(m), jobs=jobs, year=None, audience=None,
                                  renderer="builtin", wait=0.0, force=True, allow_missing_inputs=False,
                                  keep_build=False)
        areas.build_areas(args, echo=lambda _m: None)
        assert most[0] == at_once, (jobs, most[0])
        assert all(c[c.index("--kernels") + 1] == "1" for c in commands), commands
