"""All areas' ingest and indicators in one pass (issue 19, item 3): ``pipeline.py indicators --areas``.

Done when "a multi-area run gives each area exactly the figures of a single-area run": three synthetic councils
of different lengths (so different windows), ingested and computed together, each compared with the same council
computed alone, table for table (``assert_frame_equal``, exact) and file for file (byte for byte); and areas that
differ in shape (one without its children table, one with a fixed window or no population) summed together.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest
from e2e import demo_config_copy

from safeguarding.areas import area_configs
from safeguarding.areas_data import run_areas_data
from safeguarding.cache import Incremental, stage_key
from safeguarding.config import load_config
from safeguarding.indicators import compute_indicators, load_catalogue, run_indicators
from safeguarding.indicators.engine import AreaInput, compute_areas, indicator_inputs

#: (la_code, name, seed, financial years of data)
COUNCILS = (("873", "Ashmere", 11, 2), ("840", "Brambury", 12, 3), ("841", "Crumbling", 13, 1))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from safeguarding.synth import generate_council

    tmp = tmp_path_factory.mktemp("one-pass")
    rows = []
    for code, name, seed, years in COUNCILS:
        truth = generate_council(tmp / "councils" / code, seed=seed, la_code=code, name=name, years=years)
        rows.append({"la_code": code, "name": name, "folder": code,
                     **{f"population_{y}": n for y, n in truth["population"].items()}})
    manifest = tmp / "councils" / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
        w.writeheader()
        w.writerows(rows)
    (tmp / "project").mkdir()
    cfg = demo_config_copy(tmp / "project")
    done = run_areas_data(cfg, manifest, echo=lambda _m: None)
    assert [a.outcome for a in done.areas] == ["ok"] * 3, done.areas
    return cfg, manifest


def test_each_area_of_a_one_pass_run_has_exactly_the_figures_and_files_of_a_run_of_it_alone(project):
    cfg, manifest = project
    configs = area_configs(cfg, manifest)
    windows = set()
    for slug, (_path, area_cfg) in configs.items():
        folder = Path(area_cfg.processed_dir)
        together = {n: (folder / n).read_bytes() for n in ("indicators.parquet", "indicators.csv")}
        many = pd.read_parquet(folder / "indicators.parquet")
        alone = run_indicators(area_cfg)  # rewrites the two files, as pipeline.py indicators does for one area
        pd.testing.assert_frame_equal(many, alone, check_exact=True)
        for name, content in together.items():
            assert (folder / name).read_bytes() == content, f"{slug}: {name} differs from a run of the area alone"
        windows.add(alone.attrs["window"])
        assert many["indicator_id"].nunique() == len(load_catalogue(area_cfg))
    assert len(windows) == 3, "the councils' windows differ, so the union window is not every area's own"


def test_areas_of_different_shapes_summed_together_each_get_their_own_figures(project):
    cfg, manifest = project
    configs = [c for _p, c in area_configs(cfg, manifest).values()]
    catalogue = load_catalogue(configs[0])
    inputs = [indicator_inputs(c) for c in configs]
    inputs[0].tables = {k: v for k, v in inputs[0].tables.items() if k != "children"}  # no breakdowns by child
    inputs[1].population = {}  # rates not available
    inputs[2].start, inputs[2].data_end = "2024-01-01", "2024-12-31"  # a window of its own, data end inside it
    inputs.append(AreaInput({"referrals": inputs[1].tables["referrals"]}, label="only-referrals"))
    together = compute_areas(inputs, catalogue)
    for area, many in zip(inputs, together, strict=True):
        alone = compute_indicators(area.tables, catalogue, population=area.population, aggregates=area.aggregates,
                                   start=area.start, end=area.end, data_end=area.data_end)
        pd.testing.assert_frame_equal(many, alone, check_exact=True)
        assert many.attrs == alone.attrs
    assert (together[0]["breakdown"] == "all").all() or not (together[0]["breakdown"] == "age_band").any()
    assert (together[1].loc[together[1]["indicator_id"] == "REFERRAL_RATE", "status"] == "not available").all()


def test_a_later_build_finds_each_areas_ingest_and_indicators_in_the_cache(project):
    cfg, manifest = project
    from safeguarding.build import package_versions

    for slug, (path, _cfg) in area_configs(cfg, manifest).items():
        area_cfg = load_config(path)  # as the area's build process reads its settings
        inc = Incremental(area_cfg, area_cfg.audience, package_versions(), echo=lambda _m: None)
        for stage, comps in (("ingest", inc.ingest_components()), ("indicators", inc.indicators_components())):
            assert inc.cache.lookup(stage, stage_key(stage, comps)).entry is not None, (slug, stage)


def test_an_area_whose_tables_are_at_fault_fails_alone_with_jobs(project, tmp_path):
    cfg, manifest = project
    copy = tmp_path / "councils"
    shutil.copytree(manifest.parent, copy)
    (copy / "841" / "referrals.csv").write_text("nonsense\n1,2\n", encoding="utf-8")
    done = run_areas_data(cfg, copy / "manifest.csv", force=True, jobs=2, echo=lambda _m: None)
    outcome = {a.slug: a for a in done.areas}
    assert outcome["ashmere"].outcome == outcome["brambury"].outcome == "ok"
    assert outcome["crumbling"].failed_tables >= 1 or outcome["crumbling"].outcome == "failed"
