"""Tests for the seeded synthetic data generator (safeguarding.synth).

Every statistic is recomputed here from the written files, independently of
the generator's own bookkeeping, and compared with the ground-truth parameter
within a tolerance derived from the binomial (or Poisson) sampling error.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import holidays
import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml
from scipy import stats

from safeguarding.schema import ENTITIES, build_aliases, normalise_code_text
from safeguarding.synth import generate_council, generate_england
from safeguarding.synth import generator as gen

SEED = 424242
Z = 3.3  # two-sided ~0.1% per check


def _read_csv(path: Path, encoding: str) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)


def _uk(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s.replace("", None), format="%d/%m/%Y")


def _iso(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s.replace("", None), format="%Y-%m-%d")


def _plans(folder: Path) -> pd.DataFrame:
    return pd.read_excel(folder / "cp_plans.xlsx", sheet_name="CP Plans", header=2, dtype={"Child ID": str},
                         engine="openpyxl")


def _within(observed: float, p: float, n: int, z: float = Z) -> bool:
    return abs(observed - p) <= z * math.sqrt(p * (1 - p) / n)


@pytest.fixture(scope="module")
def council(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("small")
    truth = generate_council(folder, seed=SEED, scale="small", years=6)
    return folder, truth


@pytest.fixture(scope="module")
def tables(council) -> dict[str, pd.DataFrame]:
    folder, _ = council
    t = {
        "children": _read_csv(folder / "children.csv", "utf-8"),
        "referrals": _read_csv(folder / "referrals.csv", "utf-8"),
        "s47": _read_csv(folder / "s47.csv", "utf-8"),
        "icpc": _read_csv(folder / "icpc.csv", "utf-8"),
        "reviews": _read_csv(folder / "cp_reviews.csv", "utf-8"),
        "lado": _read_csv(folder / "lado_allegations.csv", "cp1252"),
        "pf": _read_csv(folder / "private_fostering.csv", "utf-8-sig"),
        "plans": _plans(folder),
    }
    t["referrals"]["date"] = _uk(t["referrals"]["Date of Referral"])
    return t


# --------------------------------------------------------------------------
# determinism
# --------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes_and_other_seed_differs(council, tmp_path):
    folder, truth = council
    again = generate_council(tmp_path / "again", seed=SEED, scale="small", years=6)
    for f in sorted(p.name for p in folder.iterdir()):
        assert (folder / f).read_bytes() == (tmp_path / "again" / f).read_bytes(), f
    assert again == truth
    generate_council(tmp_path / "other", seed=SEED + 1, scale="small", years=6)
    assert (tmp_path / "other" / "referrals.csv").read_bytes() != (folder / "referrals.csv").read_bytes()


def test_committed_demo_is_a_fresh_generation(project, tmp_path):
    demo = project / "data" / "raw" / "demo"
    fresh = tmp_path / "demo"
    truth = generate_council(fresh)  # every default: the demo seed, small, 6 years to 2025
    names = sorted(p.name for p in fresh.iterdir())
    assert sorted(p.name for p in demo.iterdir() if p.name != "README.md") == names
    for name in names:
        assert (demo / name).read_bytes() == (fresh / name).read_bytes(), \
            f"{name} differs: regenerate with python pipeline.py synth --out data/raw/demo"
    assert sum((demo / n).stat().st_size for n in names) < 5_000_000
    cfg = yaml.safe_load((project / "report.yml").read_text(encoding="utf-8"))
    assert cfg["inputs"] == gen.inputs_config("data/raw/demo")
    assert cfg["aggregates"] == gen.aggregates_config("data/raw/demo", truth["end_year"])
    assert {str(k): v for k, v in cfg["population"].items()} == truth["population"]


def test_report_codes_cover_every_label_written():
    """Each source label either resolves through schema aliases or is mapped in the generated config."""
    inputs = gen.inputs_config()
    labels = {
        ("referrals", "referral_source"): {v[0]: k for k, v in gen.REFERRAL_SOURCES.items()},
        ("cp_plans", "initial_category"): {v[0]: k for k, v in gen.CATEGORIES.items()},
        ("children", "sex"): {v[0]: k for k, v in gen.SEXES.items()},
        ("allegations", "sector"): {v[0]: k for k, v in gen.LADO_SECTORS.items()},
        ("allegations", "category"): {v[0]: k for k, v in gen.LADO_CATEGORIES.items()},
        ("allegations", "outcome"): {v[0]: k for k, v in gen.LADO_OUTCOMES.items()},
        ("allegations", "actions"): {v[0]: k for k, v in gen.LADO_ACTIONS.items()},
    }
    for (table, column), mapping in labels.items():
        aliases = build_aliases(ENTITIES[table].column(column).codes)
        configured = inputs[table].get("codes", {}).get(column, {})
        for label, code in mapping.items():
            got = configured.get(label, aliases.get(normalise_code_text(label)))
            assert got == code, (table, column, label, got)
    # codes written as codes (primary need, ethnicity) are canonical already
    assert set(gen.PRIMARY_NEEDS) <= set(build_aliases("primary_need").values())
    assert set(gen.ETHNICITIES) <= set(build_aliases("ethnicity").values())


# --------------------------------------------------------------------------
# source shapes
# --------------------------------------------------------------------------


def test_files_are_source_shaped(council):
    folder, truth = council
    ref_head = (folder / "referrals.csv").read_text(encoding="utf-8").splitlines()[0]
    assert ref_head.startswith('"Child ID","Referral Ref","Date of Referral"')
    children = (folder / "children.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert {"Forename", "Address"} <= set(children)
    lado = (folder / "lado_allegations.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        lado.decode("utf-8")
    assert "–" in lado.decode("cp1252") and "é" in lado.decode("cp1252")
    assert b"\r\n" in lado
    assert (folder / "private_fostering.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    ws = openpyxl.load_workbook(folder / "cp_plans.xlsx", read_only=True)["CP Plans"]
    rows = list(ws.iter_rows(min_row=1, max_row=4, values_only=True))
    assert rows[0][0].startswith("Northwold") and rows[1][0].startswith("Extract date")
    assert rows[2][:3] == ("Plan ID", "Child ID", "Plan Start Date")
    assert hasattr(rows[3][2], "year")  # a real Excel date, not text
    assert rows[3][4][:3] in {"a) ", "b) ", "c) ", "d) ", "e) "}
    for fname, meta in truth["files"].items():
        if meta.get("entity"):
            ent = ENTITIES[meta["entity"]]
            assert set(meta["columns"]) >= set(ent.required), fname


def test_police_return_layout_and_totals(council, tables):
    folder, _ = council
    ws = openpyxl.load_workbook(folder / "police_monthly_return.xlsx", read_only=True)["Police return"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1] == ("Measure", *gen.FY_MONTHS, "YTD")
    body = {r[0]: r[1:] for r in rows[2:]}
    assert set(body) == {label for label, _ in gen.POLICE_MEASURES}
    for values in body.values():
        assert sum(values[:12]) == values[12]
    # police CP referrals equal the police-sourced referrals in the child-level file, month by month
    ref = tables["referrals"]
    r = ref[(ref["Source of Referral"] == "Police") & (ref.date >= "2024-04-01") & (ref.date <= "2025-03-31")]
    by_month = r.groupby(r.date.dt.month).size()
    expected = [int(by_month.get(m, 0)) for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)]
    assert list(body["Child protection referrals made by police"][:12]) == expected


# --------------------------------------------------------------------------
# internal consistency without faults
# --------------------------------------------------------------------------


def test_internal_consistency(council, tables):
    _, truth = council
    t = tables
    extract = pd.Timestamp(truth["window"]["extract_date"])
    kids = t["children"]
    assert kids["Person ID"].is_unique and (kids["Person ID"] != "").all()
    known = set(kids["Person ID"])
    for name in ("referrals", "s47", "icpc", "reviews", "pf"):
        assert set(t[name]["Child ID"]) <= known, name
    plans = t["plans"]
    assert set(plans["Child ID"]) <= known
    assert plans["Plan ID"].is_unique and t["referrals"]["Referral Ref"].is_unique
    # plans: end after start; open plans have no end
    ended = plans["Plan End Date"].notna()
    assert (plans.loc[ended, "Plan End Date"] >= plans.loc[ended, "Plan Start Date"]).all()
    assert (plans["Plan Start Date"] <= extract).all() and (plans.loc[ended, "Plan End Date"] <= extract).all()
    # reviews inside their plan
    rv = t["reviews"].assign(d=lambda x: _uk(x["Review Date"])).merge(plans, on="Plan ID", suffixes=("", "_p"))
    assert len(rv) == len(t["reviews"])
    assert (rv["Child ID"] == rv["Child ID_p"]).all()
    assert (rv.d > rv["Plan Start Date"]).all()
    assert (rv.d <= rv["Plan End Date"].fillna(extract)).all()
    # ICPC on or after its S47; plan made at ICPC starts that day
    ic = t["icpc"].merge(t["s47"], on="S47 ID", suffixes=("", "_s"))
    assert len(ic) > 0.9 * len(t["icpc"])
    assert (ic["Child ID"] == ic["Child ID_s"]).all()
    assert (_uk(ic["Date of ICPC"]) > _uk(ic["Date S47 Started"])).all()
    made = t["icpc"][t["icpc"]["CP Plan Made"] == "Yes"]
    starts = set(zip(plans["Child ID"], plans["Plan Start Date"], strict=True))
    assert all((c, d) in starts for c, d in zip(made["Child ID"], _uk(made["Date of ICPC"]), strict=True))
    # a child's plans do not overlap, and previous_plans counts up by one
    p = plans.sort_values(["Child ID", "Plan Start Date"])
    same = p["Child ID"].eq(p["Child ID"].shift())
    assert (p.loc[same, "Plan Start Date"].values > p["Plan End Date"].shift()[same].values).all()
    assert (p.loc[same, "Number of Previous CP Plans"].values ==
            p["Number of Previous CP Plans"].shift()[same].values + 1).all()
    # S47 from its referral, on or after it
    s = t["s47"].merge(t["referrals"], on="Referral Ref", suffixes=("", "_r"), how="inner")
    assert (s["Child ID"] == s["Child ID_r"]).all()
    assert (_uk(s["Date S47 Started"]) >= s["date"]).all()
    # children under 18 at every referral, born before it
    r = t["referrals"].merge(kids[["Person ID", "DOB"]], left_on="Child ID", right_on="Person ID")
    age = (r.date - _uk(r["DOB"])).dt.days
    assert (age >= 0).all() and (age < 18 * 365.25).all()
    assert not t["referrals"].duplicated(["Child ID", "Date of Referral"]).any()
    # LADO and private fostering date order
    lado = t["lado"]
    done = lado["Date Concluded"] != ""
    assert (_uk(lado.loc[done, "Date Concluded"]) >= _uk(lado.loc[done, "Date Referred"])).all()
    assert (lado.loc[~done, "Outcome"] == "").all()
    assert lado["Actions Taken"].str.count("; ").max() <= 2
    pf = t["pf"]
    v = pf["Initial Visit Date"] != ""
    assert (_iso(pf.loc[v, "Initial Visit Date"]) > _iso(pf.loc[v, "Date Notified"])).all()
    e = pf["Arrangement End"] != ""
    assert (_iso(pf.loc[e, "Arrangement End"]) > _iso(pf.loc[e, "Arrangement Start"])).all()
    assert (pf.loc[pf["Confirmed as PF"] == "No", "Arrangement Start"] == "").all()
    # row counts in the ground truth are the rows in the files
    counts = {"children.csv": len(kids), "referrals.csv": len(t["referrals"]), "s47.csv": len(t["s47"]),
              "icpc.csv": len(t["icpc"]), "cp_plans.xlsx": len(plans), "cp_reviews.csv": len(t["reviews"]),
              "lado_allegations.csv": len(lado), "private_fostering.csv": len(pf)}
    assert {f: truth["files"][f]["rows"] for f in counts} == counts
    assert truth["faults"]["total_row_faults"] == 0 and truth["faults"]["detail"] == []


# --------------------------------------------------------------------------
# scale, seasonality, population
# --------------------------------------------------------------------------


def _fy(d: pd.Series) -> pd.Series:
    return d.dt.year + (d.dt.month >= 4)


def test_small_scale_size_and_england_like_rate(council, tables):
    _, truth = council
    ref = tables["referrals"]
    per_year = ref.groupby(_fy(ref.date)).size()
    assert list(per_year.index) == [2020, 2021, 2022, 2023, 2024, 2025]
    assert per_year.between(1200, 1800).all()
    rate = {y: n / truth["population"][str(y)] * 10_000 for y, n in per_year.items()}
    assert all(470 <= r <= 600 for r in rate.values()), rate
    plans = tables["plans"]
    started = plans[plans["Plan Start Date"] >= truth["window"]["start"]]
    assert started.groupby(_fy(started["Plan Start Date"])).size().between(90, 200).all()


def test_large_scale_size(tmp_path):
    truth = generate_council(tmp_path, seed=5, scale="large", years=1)
    n = truth["files"]["referrals.csv"]["rows"]
    assert 18_000 <= n <= 22_000
    assert truth["population"]["2025"] > 300_000


def test_seasonality_matches_expected_monthly_counts(council, tables):
    _, truth = council
    ref = tables["referrals"]
    obs = ref.groupby(ref.date.dt.strftime("%Y-%m")).size()
    exp = pd.Series(truth["expected"]["referrals_by_month"])
    assert list(obs.index) == list(exp.index)
    # Poisson counts around the stated expectation: Pearson dispersion statistic ~ chi2(72)
    chi2 = float((((obs - exp) ** 2) / exp).sum())
    assert stats.chi2.sf(chi2, len(exp)) > 0.001
    # and the expectation itself is seasonal: August and December dip below the average month
    month = ref.date.dt.month.value_counts()
    assert month[8] < 0.9 * month.mean() and month[12] < 0.95 * month.mean()
    assert month[10] > month.mean()


# --------------------------------------------------------------------------
# recovery of the ground-truth parameters, computed independently from the files
# --------------------------------------------------------------------------


def test_rereferral_rate_recovered(council, tables):
    _, truth = council
    ref = tables["referrals"].sort_values(["Child ID", "date"])
    prev = ref.groupby("Child ID")["date"].shift()
    rr = (ref.date - pd.DateOffset(months=12)) <= prev
    keep = ref.date >= pd.Timestamp(truth["window"]["rereferral_recovery_from"])
    n = int(keep.sum())
    assert n > 5000
    assert _within(float(rr[keep].mean()), truth["rereferral_12m_rate"], n)
    # the first 12 months are excluded by the definition: there earlier referrals are partly unseen
    assert rr[~keep].mean() < truth["rereferral_12m_rate"]


def test_subsequent_plan_rate_recovered(council, tables):
    _, truth = council
    p = tables["plans"].sort_values(["Child ID", "Plan Start Date"])
    sub = (p.groupby("Child ID").cumcount() > 0) | (p["Number of Previous CP Plans"] > 0)
    started = p["Plan Start Date"] >= pd.Timestamp(truth["window"]["start"])
    fy = _fy(p.loc[started, "Plan Start Date"])
    exp = truth["expected"]["subsequent_plan_rate_by_year"]
    assert all(abs(v - truth["subsequent_plan_rate"]) < 1e-6 for v in exp.values())
    n = int(started.sum())
    assert _within(float(sub[started].mean()), truth["subsequent_plan_rate"], n)
    assert set(fy.unique()) == {int(y) for y in exp}


def test_review_timeliness_recovered(council, tables):
    _, truth = council
    extract = pd.Timestamp(truth["window"]["extract_date"])
    rv = tables["reviews"].assign(d=lambda x: _uk(x["Review Date"])).sort_values("d")
    reviews = rv.groupby("Plan ID")["d"].apply(list).to_dict()
    on_time = []
    for plan in tables["plans"].itertuples(index=False):
        start, end = plan[2], plan[3] if pd.notna(plan[3]) else extract
        if end < start + pd.DateOffset(months=3):
            continue  # no review was due
        due, ok = start + pd.DateOffset(months=3), True
        for d in reviews.get(plan[0], []):
            if d > due:
                ok = False
                break
            due = d + pd.DateOffset(months=6)
        on_time.append(ok and due >= end)
    n = len(on_time)
    assert n > 500
    assert _within(float(np.mean(on_time)), truth["plan_reviews_on_time_rate"], n)


def _working_days(a: pd.Series, b: pd.Series) -> np.ndarray:
    years = range(min(a.dt.year.min(), b.dt.year.min()), max(a.dt.year.max(), b.dt.year.max()) + 1)
    hol = np.array(sorted(holidays.country_holidays("GB", subdiv="ENG", years=years)), dtype="datetime64[D]")
    return np.busday_count(a.values.astype("datetime64[D]"), b.values.astype("datetime64[D]"), holidays=hol)


def test_icpc_timeliness_recovered(council, tables):
    _, truth = council
    ic = tables["icpc"].merge(tables["s47"], on="S47 ID")
    wd = _working_days(_uk(ic["Date S47 Started"]), _uk(ic["Date of ICPC"]))
    assert wd.min() >= 1
    assert _within(float((wd <= 15).mean()), truth["icpc_15wd_rate"], len(wd))
    assert not ((wd > 13) & (wd < 18)).any()  # nothing near the boundary


def test_category_mix_and_private_fostering(council, tables):
    _, truth = council
    p = tables["plans"]
    p = p[p["Plan Start Date"] >= pd.Timestamp(truth["window"]["start"])]
    mix = truth["category_mix"]
    labels = [mix[c]["source_label"] for c in mix]
    obs = p["Initial Category of Abuse"].value_counts().reindex(labels, fill_value=0).to_numpy()
    exp = np.array([mix[c]["share"] for c in mix]) * obs.sum()
    assert stats.chisquare(obs, exp).pvalue > 0.001
    top = p["Initial Category of Abuse"].value_counts().index[:2]
    assert set(top) == {"a) Neglect", "d) Emotional abuse"}
    pf = tables["pf"]
    v = pf[(pf["Initial Visit Date"] != "") & (pf["Date Notified"] >= truth["window"]["start"])]
    wd = _working_days(_iso(v["Date Notified"]), _iso(v["Initial Visit Date"]))
    assert _within(float((wd <= 7).mean()), truth["pf_visit_7wd_rate"], len(wd))


def test_plan_lengths_plausible(council, tables):
    _, truth = council
    p = tables["plans"]
    ended = p[p["Plan End Date"] >= pd.Timestamp(truth["window"]["start"])]
    days = (ended["Plan End Date"] - ended["Plan Start Date"]).dt.days
    assert 0.005 < (days >= 730).mean() < 0.06  # DfE: a few per cent last 2 years or more
    assert 0.08 < (days <= 91).mean() < 0.30
    assert p["Plan End Date"].isna().sum() > 50  # plans still open at the extract date


# --------------------------------------------------------------------------
# faults: the ground truth says exactly what is in the files
# --------------------------------------------------------------------------

ID_COLUMNS = {
    "children.csv": ["Person ID"], "referrals.csv": ["Child ID", "Referral Ref"], "s47.csv": ["S47 ID", "Child ID"],
    "icpc.csv": ["Conference ID", "Child ID"], "cp_plans.xlsx": ["Plan ID", "Child ID"],
    "cp_reviews.csv": ["Plan ID"], "lado_allegations.csv": ["LADO Ref"],
    "private_fostering.csv": ["PF Ref", "Child ID"],
}
DATE_COLUMN = {"children.csv": "DOB", "referrals.csv": "Date of Referral", "s47.csv": "Date S47 Started",
               "icpc.csv": "Date of ICPC", "cp_plans.xlsx": "Plan Start Date", "cp_reviews.csv": "Review Date",
               "lado_allegations.csv": "Date Referred", "private_fostering.csv": "Date Notified"}
ORDER = {"cp_plans.xlsx": [("Plan Start Date", "Plan End Date")],
         "lado_allegations.csv": [("Date Referred", "Date Concluded")],
         "private_fostering.csv": [("Date Notified", "Initial Visit Date"), ("Arrangement Start", "Arrangement End")]}
CODES = {"children.csv": ("Gender", {v[0] for v in gen.SEXES.values()}),
         "cp_plans.xlsx": ("Initial Category of Abuse", {v[0] for v in gen.CATEGORIES.values()}),
         "lado_allegations.csv": ("Employer Sector", {v[0] for v in gen.LADO_SECTORS.values()})}


def _load_raw(folder: Path, fname: str) -> tuple[list[str], list[list]]:
    """Header and rows, every cell as written (strings for CSV, cell values for XLSX)."""
    if fname.endswith(".xlsx"):
        ws = openpyxl.load_workbook(folder / fname, read_only=True)["CP Plans"]
        rows = [list(r) for r in ws.iter_rows(min_row=3, values_only=True)]
        return [str(h) for h in rows[0]], rows[1:]
    enc = {"lado_allegations.csv": "cp1252", "private_fostering.csv": "utf-8-sig"}.get(fname, "utf-8")
    rows = list(csv.reader(io.StringIO((folder / fname).read_bytes().decode(enc), newline="")))
    return rows[0], rows[1:]


def _as_date(value, iso: bool):
    if value is None or value == "":
        return None
    if hasattr(value, "year"):
        return pd.Timestamp(value)
    try:
        return pd.Timestamp(pd.to_datetime(value, format="%Y-%m-%d" if iso else "%d/%m/%Y"))
    except ValueError:
        return "bad"


def _count_faults(folder: Path, fname: str) -> tuple[dict[str, int], dict[str, set[int]]]:
    header, rows = _load_raw(folder, fname)
    col = {h: i for i, h in enumerate(header)}
    iso = fname == "private_fostering.csv"
    found: dict[str, set[int]] = {k: set() for k in ("duplicate_row", "blank_identifier", "bad_date",
                                                      "unknown_code", "end_before_start")}
    first_row = 3 if fname.endswith(".xlsx") else 1
    for i, r in enumerate(rows):
        line = first_row + 1 + i
        if i and r == rows[i - 1]:
            found["duplicate_row"].add(line)
            continue
        if any(r[col[c]] in ("", None) for c in ID_COLUMNS[fname]):
            found["blank_identifier"].add(line)
        if _as_date(r[col[DATE_COLUMN[fname]]], iso) == "bad":
            found["bad_date"].add(line)
        if fname in CODES and r[col[CODES[fname][0]]] not in CODES[fname][1]:
            found["unknown_code"].add(line)
        for a, b in ORDER.get(fname, []):
            da, db = _as_date(r[col[a]], iso), _as_date(r[col[b]], iso)
            if isinstance(da, pd.Timestamp) and isinstance(db, pd.Timestamp) and db < da:
                found["end_before_start"].add(line)
    return {k: len(v) for k, v in found.items() if v}, found


@pytest.fixture(scope="module")
def faulty(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("faulty")
    return folder, generate_council(folder, seed=99, scale="small", years=3, fault_rate=0.04)


def test_fault_counts_match_files(faulty):
    folder, truth = faulty
    faults = truth["faults"]
    assert faults["total_row_faults"] > 100
    details = {}
    for d in faults["detail"]:
        details.setdefault((d["file"], d["kind"]), set()).add(d["row"])
    for fname in gen.FILES:
        counted, where = _count_faults(folder, fname)
        claimed = {k: v for k, v in faults["by_file"][fname].items() if k not in ("extra_column", "icpc_before_s47")}
        assert counted == claimed, fname
        for kind, rows in where.items():
            assert rows == details.get((fname, kind), set()), (fname, kind)
        header, rows = _load_raw(folder, fname)
        expected_rows = {k: v for k, v in faults["by_file"][fname].items() if k != "extra_column"}
        assert faults["rows_expected_rejected"][fname] == sum(expected_rows.values())
        assert len(rows) == truth["files"][fname]["rows"]
        # extra columns: headers neither mapped nor personal
        known = set(truth["files"][fname]["columns"].values()) | set(truth["files"][fname]["personal_columns"])
        assert [h for h in header if h not in known] == faults["file_level"].get(fname, [])


def test_icpc_before_s47_and_ytd_faults_match_files(faulty):
    folder, truth = faulty
    ic = _read_csv(folder / "icpc.csv", "utf-8")
    s47 = _read_csv(folder / "s47.csv", "utf-8").drop_duplicates()
    m = ic.reset_index().merge(s47, on="S47 ID", suffixes=("", "_s"))
    ok = lambda s: pd.to_datetime(s, format="%d/%m/%Y", errors="coerce")  # noqa: E731
    before = m[ok(m["Date of ICPC"]) < ok(m["Date S47 Started"])]
    rows = set((before["index"] + 2).tolist())
    claimed = {d["row"] for d in truth["faults"]["detail"] if d["kind"] == "icpc_before_s47"}
    assert rows == claimed
    assert len(claimed) == truth["faults"]["by_file"]["icpc.csv"].get("icpc_before_s47", 0)
    ws = openpyxl.load_workbook(folder / "police_monthly_return.xlsx", read_only=True)["Police return"]
    bad = [r[0] for r in ws.iter_rows(min_row=3, values_only=True) if sum(r[1:13]) != r[13]]
    assert len(bad) == truth["faults"]["by_file"]["police_monthly_return.xlsx"]["ytd_mismatch"] == 1


def test_ground_truth_documents_definitions(council):
    folder, truth = council
    on_disk = json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
    assert on_disk == truth
    for key in ("rereferral_12m_rate", "subsequent_plan_rate", "plan_reviews_on_time_rate", "icpc_15wd_rate",
                "category_mix", "age_at_first_referral", "seasonality", "population", "faults"):
        assert key in truth["definitions"] or key in truth, key
    assert "12 months" in truth["definitions"]["rereferral_12m_rate"]
    assert "EXCLUDE THE FIRST 12 MONTHS" in truth["definitions"]["rereferral_12m_rate"]


# --------------------------------------------------------------------------
# command line and England
# --------------------------------------------------------------------------


def test_cli_writes_a_council_and_rejects_bad_options(tmp_path, capsys):
    from safeguarding.cli import main

    assert main(["synth", "--out", str(tmp_path / "c"), "--years", "1", "--seed", "3"]) == 0
    assert (tmp_path / "c" / "referrals.csv").exists()
    assert "ground truth" in capsys.readouterr().out
    assert main(["synth", "--out", str(tmp_path / "d"), "--fault-rate", "0.9"]) == 2
    assert main(["synth", "--out", str(tmp_path / "e"), "--scale", "england", "--fault-rate", "0.1"]) == 2
    with pytest.raises(ValueError, match="scale"):
        generate_council(tmp_path / "f", scale="huge")


@pytest.mark.slow
def test_england_has_153_councils_of_varied_size(tmp_path):
    manifest = generate_england(tmp_path, seed=2025, years=1)
    councils = manifest["councils"]
    codes = [c["la_code"] for c in councils]
    assert len(codes) == len(set(codes)) == 153
    assert all(len(c) == 3 and c.isdigit() for c in codes)
    assert len({c["name"] for c in councils}) == 153
    t = manifest["england_totals"]
    assert 600_000 <= t["referrals"] <= 700_000
    assert 54_000 <= t["cp_plans_started"] <= 66_000
    rate = t["referrals"] / t["population"] * 10_000
    assert 480 <= rate <= 580
    pops = sorted(c["population"] for c in councils)
    assert pops[-1] / pops[0] > 10  # small and large councils, as in England
    listed = pd.read_csv(tmp_path / "manifest.csv", dtype={"la_code": str})
    assert list(listed["la_code"]) == codes
    for c in councils[:3]:
        sub = tmp_path / c["folder"]
        truth = json.loads((sub / "ground_truth.json").read_text(encoding="utf-8"))
        assert truth["council"]["la_code"] == c["la_code"]
        assert truth["files"]["referrals.csv"]["rows"] == c["referrals"]
        assert len(_read_csv(sub / "referrals.csv", "utf-8")) == c["referrals"]


def test_england_plan_codes_and_totals_without_writing():
    from safeguarding.synth.england import england_plan

    plan = england_plan(7)
    codes = [c["la_code"] for c in plan]
    assert len(set(codes)) == 153 and codes == sorted(codes)
    refs = sum(c["params"].referrals_per_year for c in plan)
    assert abs(refs - 650_000) < 1  # scaled exactly in expectation
    sizes = [c["params"].referrals_per_year for c in plan]
    assert max(sizes) / min(sizes) > 10
