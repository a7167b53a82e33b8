"""Children aged 0-17 (``safeguarding/population.py``): one reader of the ONS file, one age rule, used by the
indicator engine (report.yml without ``population:``) and by the benchmarks."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from safeguarding.benchmarks import BenchmarkSource
from safeguarding.population import children_0_17, council_population, population_from_config, read_population
from safeguarding.settings import AreaSettings, BenchmarkSettings

ROOT = Path(__file__).resolve().parents[1]
ONS = ROOT / "data" / "reference" / "dfe" / "ons_mid-year_population_estimates_2012_to_2024.csv"


class StubConfig:
    """The parts of a loaded report.yml that :func:`population_from_config` reads."""

    def __init__(self, base: Path, population: dict[int, float] | None = None, **raw: Any) -> None:
        self.base, self.population, self.raw = base, population or {}, raw
        self.area = AreaSettings.from_mapping(raw.get("area"), slug="area")
        self.benchmarks = BenchmarkSettings.from_mapping(raw.get("benchmarks"))

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.raw.get(name) or {})

    def resolve(self, value: str | Path) -> Path:
        return (self.base / value).resolve()


def raw_series(la_code: str) -> dict[int, float]:
    """The council's rows of the shipped CSV read by hand: reporting year = mid-year + 1."""
    with ONS.open(encoding="utf-8-sig") as f:
        return {int(r["time_period"]) + 1: float(r["population_estimate"]) for r in csv.DictReader(f)
                if r["geographic_level"] == "Local authority" and la_code in (r["old_la_code"], r["new_la_code"])
                and r["age_group"] == "Children aged 0 to 17 years" and r["population_estimate"].isdigit()}


def test_age_rule_spellings():
    s = pd.Series(["Children aged 0 to 17 years", "Under 18", "aged 0-17", "18 and over", None])
    assert children_0_17(s).tolist() == [True, True, True, False, False]
    # a file whose age groups name no 0-17 group is taken to be 0-17 already
    assert children_0_17(pd.Series(["Total", "Total"])).tolist() == [True, True]


@pytest.mark.parametrize("code", ["873", "E10000003", "301", "E09000002"])
def test_council_series_matches_the_csv(code):
    assert council_population(read_population(ONS), code) == raw_series(code)
    assert raw_series(code)                      # the council is in the file


def test_engine_reads_the_ons_file_when_no_population_is_given(tmp_path):
    cfg = StubConfig(tmp_path, area={"la_code": "873"}, benchmarks={"ons_file": str(ONS)})
    got = population_from_config(cfg)
    assert got == raw_series("873") and got[2025] == raw_series("873")[2025]
    # the folder instead of the file; and report.yml's own figures win
    folder = StubConfig(tmp_path, area={"la_code": "873"}, benchmarks={"folder": str(ONS.parent)})
    assert population_from_config(folder) == got
    assert population_from_config(StubConfig(tmp_path, {2025: 100.0}, area={"la_code": "873"},
                                             benchmarks={"ons_file": str(ONS)})) == {2025: 100.0}
    # no code, or no file: nothing (rates are then not available, with a note)
    assert population_from_config(StubConfig(tmp_path, benchmarks={"ons_file": str(ONS)})) == {}
    assert population_from_config(StubConfig(tmp_path, area={"la_code": "873"},
                                             benchmarks={"ons_file": "missing.csv"})) == {}


def test_benchmarks_use_the_same_series():
    source = BenchmarkSource(ONS.parent)
    series = raw_series("873")
    r = source.population_for("873", 2024)
    assert r["available"] and r["population"] == series[2024] and r["ons_year"] == 2023
    r = source.population_for("873", max(series) + 2)       # not published yet: the latest, and said
    assert r["population"] == series[max(series)] and "not published" in r["note"]
