"""Tests for safeguarding.benchmarks: the loader against the raw DfE files, read independently with csv."""

from __future__ import annotations

import csv
import math
import statistics
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from safeguarding.benchmarks import (
    MEASURES,
    BenchmarkError,
    BenchmarkSource,
    find_table_file,
    read_ees_csv,
    read_population,
    read_statistical_neighbours,
    tidy,
)

C1 = "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"
D3 = "d3_cpps_subsequent_plan_2013_to_2025.csv"
D5 = "d5_cpps_at31march_by_duration_2013_to_2025.csv"
ONS = "ons_mid-year_population_estimates_2012_to_2024.csv"
SN = "sn_model_2025_wide.csv"


@pytest.fixture(scope="module")
def dfe(reference: Path) -> Path:
    return reference / "dfe"


@pytest.fixture(scope="module")
def source(dfe: Path) -> BenchmarkSource:
    return BenchmarkSource(dfe)


def raw_rows(path: Path) -> list[dict[str, str]]:
    """The file as the csv module reads it: the independent reference for the loader."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def raw_row(path: Path, year: int, level: str, code: str = "") -> dict[str, str]:
    key = {"Local authority": "old_la_code", "Regional": "region_code"}.get(level)
    hits = [r for r in raw_rows(path) if r["time_period"] == str(year) and r["geographic_level"] == level
            and (key is None or r[key] == code)]
    assert len(hits) == 1, (year, level, code, len(hits))
    return hits[0]


# ----------------------------------------------------------------------------- read_ees_csv


def test_markers_become_nan_and_are_kept(dfe: Path) -> None:
    df = read_ees_csv(dfe / D3)
    rows = raw_rows(dfe / D3)
    assert len(df) == len(rows)
    for col in ("CPP_start", "CPP_subsequent", "CPP_subsequent_percent"):
        raw = pd.Series([r[col] for r in rows])
        is_num = raw.str.fullmatch(r"\d+(\.\d+)?")
        assert df[col].isna().to_numpy().tolist() == (~is_num).tolist()
        np.testing.assert_array_equal(df.loc[is_num.to_numpy(), col].to_numpy(), raw[is_num].astype(float))
        assert df.loc[~is_num.to_numpy(), f"{col}_marker"].tolist() == raw[~is_num].tolist()
        assert df.loc[is_num.to_numpy(), f"{col}_marker"].isna().all()
    # each marker kind DfE uses in this file appears and is kept
    seen = set(df["CPP_subsequent_percent_marker"].dropna()) | set(df["CPP_start_marker"].dropna())
    assert {"c", "z", "u"} <= seen
    assert df["time_period"].dtype == "int64"
    assert set(df["geographic_level"]) == {"National", "Regional", "Local authority"}
    assert df.attrs["value_columns"] == ["CPP_start", "CPP_subsequent", "CPP_subsequent_percent"]
    assert df.attrs["filter_columns"] == ["category"]


def test_hampshire_2024_low_reliability_marker(dfe: Path) -> None:
    df = read_ees_csv(dfe / C1)
    row = df[(df.time_period == 2024) & (df.old_la_code == "850")].iloc[0]
    assert math.isnan(row["referral_count"]) and row["referral_count_marker"] == "u"


def test_synthetic_file_with_bom_all_markers_and_six_digit_year(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text(
        "\ufefftime_period,time_identifier,geographic_level,old_la_code,new_la_code,la_name,category,n,pct\n"
        "202425,Financial year,Local authority,301,E09000002,Barking and Dagenham,All,12,c\n"
        "202425,Financial year,Local authority,302,E09000003,Barnet,All,x,z\n"
        "202425,Financial year,Local authority,303,E09000004,Bexley,All,:,low\n"
        "202425,Financial year,Local authority,304,E09000005,Brent,All,,u\n"
        "202425,Financial year,Local authority,305,E09000006,Bromley,All,0,12.5\n",
        encoding="utf-8",
    )
    df = read_ees_csv(f)
    assert df.columns[0] == "time_period" and df["time_period"].tolist() == [2025] * 5
    assert df["old_la_code"].tolist() == ["301", "302", "303", "304", "305"]
    assert df["n"].tolist()[0] == 12 and df["n"].tolist()[4] == 0
    assert df["n"].isna().tolist() == [False, True, True, True, False]
    assert df["n_marker"].tolist()[1:4] == ["x", ":", ""]
    assert df["pct_marker"].tolist()[:4] == ["c", "z", "low", "u"]
    assert df["pct"].tolist()[4] == 12.5
    long = tidy(df)
    assert len(long) == 10 and set(long["measure"]) == {"n", "pct"}
    brent = long[(long.la_name == "Brent") & (long.measure == "pct")].iloc[0]
    assert math.isnan(brent["value"]) and brent["marker"] == "u"


def test_bad_cell_names_file_line_and_column(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("time_period,geographic_level,old_la_code,n\n2025,Local authority,301,4\n"
                 "2025,Local authority,302,four\n", encoding="utf-8")
    with pytest.raises(BenchmarkError, match=r"bad\.csv, line 3, column 'n': 'four'"):
        read_ees_csv(f)
    g = tmp_path / "notees.csv"
    g.write_text("year,council,n\n2025,301,4\n", encoding="utf-8")
    with pytest.raises(BenchmarkError, match="missing column"):
        read_ees_csv(g)


# ----------------------------------------------------------------------------- population, neighbours


def test_population_year_alignment_and_values(dfe: Path) -> None:
    pop = read_population(dfe / ONS)
    raw = raw_row(dfe / ONS, 2024, "Local authority", "301")
    row = pop[(pop.time_period == 2024) & (pop.old_la_code == "301")].iloc[0]
    assert row["year"] == 2025  # mid-2024 feeds 2024-25 rates
    assert row["population"] == float(raw["population_estimate"])
    # ONS withholds the pre-2019 Dorset councils (x)
    x = pop[pop.population_marker == "x"]
    assert len(x) == 21 and set(x.old_la_code) == {"835", "836", "837"}


def test_statistical_neighbours_ten_each(dfe: Path) -> None:
    sn = read_statistical_neighbours(dfe / SN)
    counts = sn.groupby("la_code").size()
    assert len(counts) == 153 and (counts == 10).all()
    bd = sn[sn.la_code == "301"].sort_values("rank")
    assert bd["neighbour_code"].iloc[0] == "308" and bd["neighbour_name"].iloc[0] == "Enfield"
    assert bd["closeness"].iloc[0] == "Close"  # DfE's trailing space stripped
    assert bd["neighbour_code"].tolist() == [raw_rows(dfe / SN)[0][f"SN_{k}"] for k in range(1, 11)]
    assert not (sn.la_code == sn.neighbour_code).any()
    assert set(sn.closeness) == {"Extremely close", "Very close", "Close", "Somewhat close", "Not close"}


def test_neighbour_file_with_missing_neighbour_is_rejected(tmp_path: Path, dfe: Path) -> None:
    lines = (dfe / SN).read_text(encoding="utf-8-sig").splitlines()
    lines[1] = lines[1].replace(",308,", ",999,", 1)
    f = tmp_path / "sn.csv"
    f.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(BenchmarkError, match="line 2, column 'SN_1': neighbour code '999'"):
        read_statistical_neighbours(f)


# ----------------------------------------------------------------------------- England, region, codes


def test_england_total_equals_dfe_national_figure(dfe: Path) -> None:
    """Where no council is suppressed, the councils add up to DfE's England figure rounded to the nearest 10."""
    checked = 0
    for name, col in ((C1, "referral_count"), (D3, "CPP_start"), (D5, "CPP_At31")):
        df = read_ees_csv(dfe / name)
        for year, g in df.groupby("time_period"):
            la = g[g.geographic_level == "Local authority"][col]
            if la.isna().any():
                continue  # a suppressed or unreliable council: the sum is not known
            total = int(la.sum())
            national = g[g.geographic_level == "National"][col].iloc[0]
            assert (total + 5) // 10 * 10 == national, (name, year, total, national)
            checked += 1
    assert checked >= 10


def test_benchmarks_for_england_region_council(source: BenchmarkSource, dfe: Path) -> None:
    r = source.benchmarks_for("CPP_SUBSEQUENT", "301", 2025)
    assert r["available"] and r["year_used"] == 2025 and r["note"] == ""
    nat = raw_row(dfe / D3, 2025, "National")
    assert r["england"]["value"] == float(nat["CPP_subsequent_percent"]) == 24.5
    own = raw_row(dfe / D3, 2025, "Local authority", "301")
    assert r["council"]["value"] == float(own["CPP_subsequent_percent"])
    assert r["council"]["numerator"] == float(own["CPP_subsequent"])
    assert r["council"]["denominator"] == float(own["CPP_start"])
    # Barking and Dagenham sits in Outer London (E13000002) inside the London region (E12000007)
    assert r["region"]["code"] == "E12000007" and r["region"]["name"] == "London"
    assert r["region"]["value"] == float(raw_row(dfe / D3, 2025, "Regional", "E12000007")["CPP_subsequent_percent"])
    assert r["sub_region"]["name"] == own["region_name"] == "Outer London"
    # a county outside London: region straight from its row
    r2 = source.benchmarks_for("REREFERRALS_12M", "873", 2025)
    own2 = raw_row(dfe / C1, 2025, "Local authority", "873")
    assert r2["region"]["code"] == own2["region_code"] and "sub_region" not in r2
    region_row = raw_row(dfe / C1, 2025, "Regional", own2["region_code"])
    assert r2["region"]["value"] == float(region_row["rereferral_percent"])


def test_neighbours_each_and_averages(source: BenchmarkSource, dfe: Path) -> None:
    r = source.benchmarks_for("REREFERRALS_12M", "301", 2025)
    sn_codes = [raw_rows(dfe / SN)[0][f"SN_{k}"] for k in range(1, 11)]
    assert [n["la_code"] for n in r["neighbours"]] == sn_codes
    raw = {c: raw_row(dfe / C1, 2025, "Local authority", c) for c in sn_codes}
    pct = [float(raw[c]["rereferral_percent"]) for c in sn_codes]
    assert [n["value"] for n in r["neighbours"]] == pct
    assert r["neighbours_with_data"] == 10
    assert r["neighbour_mean"] == pytest.approx(sum(pct) / 10)
    assert r["neighbour_median"] == pytest.approx(statistics.median(pct))
    num = sum(int(raw[c]["rereferral_count"]) for c in sn_codes)
    den = sum(int(raw[c]["referral_count"]) for c in sn_codes)
    assert r["neighbour_pooled"] == pytest.approx(100 * num / den)


def test_old_and_new_codes_reach_the_same_council(source: BenchmarkSource, dfe: Path) -> None:
    # North Yorkshire: 815 throughout; E10000023 until 2023, E06000065 from 2024
    for code in ("815", 815, "E10000023", "E06000065", "north yorkshire"):
        assert source.resolve_council(code) == "815"
    for code, year in (("E06000065", 2023), ("E10000023", 2025)):
        r = source.benchmarks_for("REFERRALS", code, year)
        raw = raw_row(dfe / C1, year, "Local authority", "815")
        assert r["council"]["value"] == float(raw["referral_count"])
        assert r["new_la_code"] == raw["new_la_code"]
    with pytest.raises(BenchmarkError, match="not found"):
        source.resolve_council("999")


def test_council_that_did_not_exist_gets_a_note_not_a_value(source: BenchmarkSource) -> None:
    r = source.benchmarks_for("CPP_OPEN", "940", 2021)  # North Northamptonshire, created 2021-22
    assert r["available"] and math.isnan(r["council"]["value"])
    assert "did not exist" in r["note"] and "2021-22" in r["note"]
    assert r["england"]["value"] > 0 and r["region"]["name"] == "East Midlands"
    r = source.benchmarks_for("CPP_OPEN", "909", 2025)  # Cumbria, abolished 2023
    assert math.isnan(r["council"]["value"]) and "did not exist" in r["note"]


def test_unpublished_year_falls_back_to_latest(source: BenchmarkSource) -> None:
    r = source.benchmarks_for("CPP_OPEN_2YRS", "301", 2026)
    assert r["year_requested"] == 2026 and r["year_used"] == 2025
    assert "not yet published" in r["note"]
    old = source.benchmarks_for("CPP_OPEN_2YRS", "301", 2005)
    assert not old["available"] and old["year_used"] is None


def test_rate_per_10k_uses_mid_year_inside_reporting_year(source: BenchmarkSource, dfe: Path) -> None:
    r = source.benchmarks_for("REFERRAL_RATE", "301", 2025)
    refs = int(raw_row(dfe / C1, 2025, "Local authority", "301")["referral_count"])
    pop = int(raw_row(dfe / ONS, 2024, "Local authority", "301")["population_estimate"])
    assert r["council"]["numerator"] == refs and r["council"]["denominator"] == pop
    exact = Fraction(refs * 10_000, pop)
    assert r["council"]["value"] == float(int(exact * 10 + Fraction(1, 2))) / 10
    nat_pop = int(raw_row(dfe / ONS, 2024, "National")["population_estimate"])
    assert r["england"]["denominator"] == nat_pop


def test_all_councils_for_funnel(source: BenchmarkSource, dfe: Path) -> None:
    df = source.all_councils("CPP_SUBSEQUENT", 2025)
    raw = [r for r in raw_rows(dfe / D3) if r["time_period"] == "2025" and r["geographic_level"] == "Local authority"]
    assert len(df) == len(raw) == 153
    assert list(df.columns) == ["la_code", "new_la_code", "la_name", "region_name", "numerator", "denominator",
                                "value", "marker"]
    by_code = df.set_index("la_code")
    for r in raw:
        v = r["CPP_subsequent_percent"]
        if v.replace(".", "").isdigit():
            assert by_code.loc[r["old_la_code"], "value"] == float(v)
        else:
            assert math.isnan(by_code.loc[r["old_la_code"], "value"])
            assert by_code.loc[r["old_la_code"], "marker"] == v
    assert df.attrs["year_used"] == 2025


def test_every_measure_resolves_for_a_council(source: BenchmarkSource) -> None:
    for ind in MEASURES:
        r = source.benchmarks_for(ind, "330", 2025)  # Birmingham: nothing suppressed
        assert r["available"], ind
        assert r["council"]["value"] >= 0 and r["england"]["value"] > 0, ind
        assert len(r["neighbours"]) == 10, ind


def test_not_configured_is_explicit_not_an_error(tmp_path: Path) -> None:
    for folder in (None, tmp_path / "absent"):
        src = BenchmarkSource(folder)
        assert src.available is False
        r = src.benchmarks_for("REFERRALS", "301", 2025)
        assert r["available"] is False and "not configured" in r["note"]
        df = src.all_councils("REFERRALS", 2025)
        assert df.empty and df.attrs["available"] is False and "not configured" in df.attrs["note"]


def test_missing_file_and_unbenchmarked_indicator(tmp_path: Path, dfe: Path) -> None:
    (tmp_path / D3).write_bytes((dfe / D3).read_bytes())
    src = BenchmarkSource(tmp_path)
    assert src.benchmarks_for("CPP_SUBSEQUENT", "301", 2025)["available"]
    r = src.benchmarks_for("REFERRALS", "301", 2025)
    assert not r["available"] and "c1_children_in_need_referrals_and_rereferrals*.csv" in r["note"]
    r = src.benchmarks_for("LADO_REFERRALS", "301", 2025)
    assert not r["available"] and "no benchmark" in r["note"]


def test_newer_download_is_preferred(tmp_path: Path, dfe: Path) -> None:
    for n in ("d3_cpps_subsequent_plan_2013_to_2024.csv", "d3_cpps_subsequent_plan_2013_to_2025.csv"):
        (tmp_path / n).write_text("time_period,geographic_level\n", encoding="utf-8")
    assert find_table_file(tmp_path, "d3").name.endswith("2025.csv")
    assert find_table_file(tmp_path, "c1") is None


def test_from_config(tmp_path: Path, dfe: Path) -> None:
    from safeguarding.config import load_config

    cfg_file = tmp_path / "report.yml"
    cfg_file.write_text(f"area: {{name: Test, la_code: '301'}}\nyear: 2025\nbenchmarks: {{folder: {dfe}}}\n",
                        encoding="utf-8")
    src = BenchmarkSource.from_config(load_config(cfg_file))
    assert src.available
    cfg_file.write_text("area: {name: Test}\nyear: 2025\n", encoding="utf-8")
    assert BenchmarkSource.from_config(load_config(cfg_file)).available is False


def test_population_for_council_and_fallback(source: BenchmarkSource, dfe: Path) -> None:
    raw = raw_row(dfe / ONS, 2024, "Local authority", "301")
    r = source.population_for("E09000002", 2025)
    assert r["available"] and r["ons_year"] == 2024 and r["population"] == float(raw["population_estimate"])
    r = source.population_for("301", 2027)  # mid-2026 not published: latest used, and said
    assert r["ons_year"] == 2024 and "not published" in r["note"]
    assert BenchmarkSource(None).population_for("301", 2025)["available"] is False


def test_ons_file_outside_the_folder(tmp_path: Path, dfe: Path) -> None:
    folder = tmp_path / "dfe"
    folder.mkdir()
    (folder / C1).write_bytes((dfe / C1).read_bytes())
    assert not BenchmarkSource(folder).benchmarks_for("REFERRAL_RATE", "301", 2025)["available"]
    r = BenchmarkSource(folder, ons_file=dfe / ONS).benchmarks_for("REFERRAL_RATE", "301", 2025)
    assert r["available"] and r["council"]["value"] > 0
