from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from safeguarding.config import ConfigError, load_config


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
