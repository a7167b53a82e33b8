"""Seeded synthetic council: simulate the safeguarding system, write council-shaped extracts.

The simulation runs on day numbers with vectorised numpy, from a burn-in
period before the data window (so plans, re-referrals and allegations open at
the start of the window exist, as in a real extract) to the extract date
(31 March of ``end_year``). It then writes the files a council's case system
and its partners would send, and ``ground_truth.json`` with every parameter.

Designed-in, recoverable parameters (see ``DEFINITIONS``):

* re-referrals: each referral is, independently with probability
  ``rereferral_12m_rate``, linked to an earlier referral of the same child
  7-360 days before it; every other referral's child has had no referral in
  the previous 373 days. So the DfE re-referral indicator has expectation
  ``rereferral_12m_rate`` for referrals dated from 12 months after the start
  of the window (earlier ones may link to referrals before the window);
* second or subsequent plans: probability ``subsequent_plan_rate`` per plan,
  counting earlier plans in the data and the recorded ``previous_plans``;
* reviews: each plan, independently with probability
  ``plan_reviews_on_time_rate``, has every review on time; otherwise its first
  review is late (99-137 days after the start), so at any date the plan has an
  overdue or late review once it has lasted 3 months;
* ICPCs within 15 working days, initial visits within 7 working days: each
  independently with the stated probability, never near the boundary.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from safeguarding.synth.faults import (
    FAULT_DEFINITIONS,
    ROW_FAULT_KINDS,
    Fault,
    summarise,
)
from safeguarding.synth.files import (
    _lognormal_cdf,
    _mix_with_labels,
    _police_return,
    _population,
    _write_csv,
    _write_plans_xlsx,
    _write_police_xlsx,
)
from safeguarding.synth.params import (
    AGE_AT_FIRST_REFERRAL,
    BURN_IN_YEARS,
    CATEGORIES,
    DEFINITIONS,
    DEMO_SEED,
    ETHNICITIES,
    FY_MONTHS,
    GENERATOR_VERSION,
    LADO_ACTIONS,
    LADO_CATEGORIES,
    LADO_OUTCOMES,
    LADO_SECTORS,
    POLICE_MEASURES,
    PRIMARY_NEEDS,
    REFERRAL_SOURCES,
    SCALES,
    SEXES,
    SynthParams,
)
from safeguarding.synth.simulate import _date, _day, _Sim, _simulate
from safeguarding.synth.tables import (
    AGGREGATE_FILE,
    AGGREGATE_SHEET,
    COLUMN_MAPS,
    FAULT_SPECS,
    FILES,
    PERSONAL_COLUMNS,
    _build_tables,
    _inject,
    previous_aggregate_file,
)

#: what other modules and the tests read from here (the generator was one module before it was split by job:
#: params, simulate, tables, files)
__all__ = [
    "CATEGORIES",
    "COLUMN_MAPS",
    "DEMO_SEED",
    "ETHNICITIES",
    "FAULT_SPECS",
    "FILES",
    "FY_MONTHS",
    "GENERATOR_VERSION",
    "LADO_ACTIONS",
    "LADO_CATEGORIES",
    "LADO_OUTCOMES",
    "LADO_SECTORS",
    "POLICE_MEASURES",
    "PRIMARY_NEEDS",
    "REFERRAL_SOURCES",
    "SCALES",
    "SEXES",
    "SynthParams",
    "_generate",
    "aggregates_config",
    "generate_council",
    "inputs_config",
]


def generate_council(out_dir: Path, *, seed: int = DEMO_SEED, scale: str = "small", years: int = 6,
                     end_year: int = 2025, fault_rate: float = 0.0, la_code: str = "999",
                     name: str = "Northwold", fmt: str = "csv") -> dict:
    """Write one fictional council's raw extracts and ``ground_truth.json`` into ``out_dir``.

    ``scale`` is ``small`` (about 1,500 referrals a year) or ``large`` (about
    20,000). ``years`` financial years end on 31 March ``end_year``.
    ``fault_rate`` is the probability that a row carries one injected fault
    (recorded exactly in the ground truth). ``fmt`` is ``csv`` (the case-system
    extracts) or ``cin_census`` (the child-level records as one DfE CIN census
    XML file, see :mod:`safeguarding.synth.cin_census`; allegations, private
    fostering and the police return as usual). The same arguments always give
    byte-identical files. Returns the ground truth dict.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)} (or use generate_england), not {scale!r}")
    params = SynthParams(referrals_per_year=float(SCALES[scale]))
    return _generate(Path(out_dir), params, seed=seed, scale=scale, years=years, end_year=end_year,
                     fault_rate=fault_rate, la_code=la_code, name=name, fmt=fmt)


#: Output formats of the child-level records (``--format`` of ``pipeline.py synth``).
FORMATS = ("csv", "cin_census")


def _generate(out_dir: Path, params: SynthParams, *, seed: int, scale: str, years: int, end_year: int,
              fault_rate: float, la_code: str, name: str, fmt: str = "csv") -> dict:
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if years < 1:
        raise ValueError("years must be at least 1")
    if not 0.0 <= fault_rate < 0.5:
        raise ValueError("fault_rate must be between 0 and 0.5")
    ss = np.random.SeedSequence([int(seed), int(la_code) if la_code.isdigit() else 0])
    sim_rng, id_rng, fault_rng, agg_rng = (np.random.default_rng(s) for s in ss.spawn(4))
    sim = _simulate(params, sim_rng, years, end_year)
    links: dict[str, np.ndarray] = {}
    tables = _build_tables(sim, params, id_rng, name, links)
    _inject(tables, fault_rng, fault_rate)

    out_dir.mkdir(parents=True, exist_ok=True)
    extract = _date(sim.window_end)
    files: dict[str, dict[str, Any]] = {}
    faults: list[Fault] = []
    census = None
    if fmt == "cin_census":
        from safeguarding.synth import cin_census

        census = cin_census.write_cin_census(out_dir / cin_census.CIN_FILE, tables, sim, links, la_code=la_code,
                                             end_year=end_year)
    for fname, meta in FILES.items():
        tab = tables[fname]
        if census is not None and fname in cin_census.REPLACES:
            continue
        faults.extend(tab.finalise_faults())
        path = out_dir / fname
        if fname.endswith(".xlsx"):
            rows = _write_plans_xlsx(tab, path, name, extract)
        else:
            rows = _write_csv(tab, path, meta["encoding"], quote_all=fname == "referrals.csv",
                              crlf=fname == "lado_allegations.csv")
        files[fname] = {"entity": meta["entity"], "rows": rows, "encoding": meta["encoding"] or "xlsx",
                        "header_row": meta["header_row"], **({"sheet": meta["sheet"]} if "sheet" in meta else {}),
                        "date_format": "Excel dates" if fname.endswith(".xlsx") else
                        ("yyyy-mm-dd" if tab.date_style == "iso" else "dd/mm/yyyy"),
                        "columns": COLUMN_MAPS[fname], "personal_columns": PERSONAL_COLUMNS.get(fname, []),
                        "extra_columns": list(tab.extra_columns)}
    if census is not None:
        files[cin_census.CIN_FILE], census_faults = census
        faults.extend(census_faults)
    population = _population(params, years, end_year)
    pol_rows, pol_faults, pol_truth = _police_return(tables, params, agg_rng, end_year,
                                                     population[str(end_year)], fault_rate)
    _write_police_xlsx(out_dir / AGGREGATE_FILE, pol_rows, name, end_year)
    files[AGGREGATE_FILE] = {"entity": None, "layout": "wide", "rows": len(pol_rows), "sheet": AGGREGATE_SHEET,
                             "header_row": 2, "financial_year": end_year,
                             "measures": {label: code for label, code in POLICE_MEASURES}}
    faults.extend(pol_faults)
    previous = None
    if years >= 2:  # the year before's return, drawn after this year's so that this year's file is unchanged
        prev_file = previous_aggregate_file(end_year)
        prev_rows, prev_faults, previous = _police_return(tables, params, agg_rng, end_year - 1,
                                                          population[str(end_year - 1)], fault_rate, prev_file)
        _write_police_xlsx(out_dir / prev_file, prev_rows, name, end_year - 1)
        files[prev_file] = {"entity": None, "layout": "wide", "rows": len(prev_rows), "sheet": AGGREGATE_SHEET,
                            "header_row": 2, "financial_year": end_year - 1,
                            "measures": {label: code for label, code in POLICE_MEASURES}}
        faults.extend(prev_faults)

    all_files = list(files)
    by_file = summarise(faults, all_files)
    file_level = {f: files[f]["extra_columns"] for f in files if files[f].get("extra_columns")}
    for f, cols in file_level.items():
        by_file[f]["extra_column"] = len(cols)
    truth = _ground_truth(params, sim, seed=seed, scale=scale, years=years, end_year=end_year, la_code=la_code,
                          name=name, fault_rate=fault_rate, files=files, faults=faults, by_file=by_file,
                          population=population, police=pol_truth, police_previous=previous)
    text = json.dumps(truth, indent=1, ensure_ascii=False)
    (out_dir / "ground_truth.json").write_text(text + "\n", encoding="utf-8")
    # the children's survey: its own random stream and its own description (safeguarding.synth.survey), so
    # the files above are what they were before it existed
    from safeguarding.synth.survey import write_survey

    write_survey(out_dir, tables["cp_plans.xlsx"], tables["children.csv"], seed=seed, la_code=la_code,
                 end_year=end_year)
    return json.loads(text)  # exactly what the file holds (tuples become lists)


def _ground_truth(p: SynthParams, sim: _Sim, *, seed: int, scale: str, years: int, end_year: int, la_code: str,
                  name: str, fault_rate: float, files: dict, faults: list, by_file: dict,
                  population: dict[str, int], police: dict, police_previous: dict | None = None) -> dict:
    exp_year = sim.expected["referrals_by_year"]
    rate = {y: round(exp_year[y] / population[y] * 10_000, 3) for y in population}
    after = {str(y): p.rereferral_12m_rate for y in range(end_year - years + 2, end_year + 1)}
    p_short = p.short_plan_share
    plan_2y = (1 - p_short) * (1 - _lognormal_cdf(730, p.plan_length_median_days, p.plan_length_sigma))
    plan_3m = p_short + (1 - p_short) * _lognormal_cdf(91, p.plan_length_median_days, p.plan_length_sigma)
    rows_rejected = {f: sum(v for k, v in by_file.get(f, {}).items() if k in ROW_FAULT_KINDS)
                     for f in files if files[f].get("layout") != "wide"}  # not the police returns
    params = asdict(p)
    return {
        "generator": "safeguarding.synth", "generator_version": GENERATOR_VERSION,
        "synthetic": "entirely fictional data: no real child, person, council or police force",
        "council": {"la_code": la_code, "name": name},
        "seed": int(seed), "scale": scale, "years": years, "end_year": end_year,
        "window": {"start": str(_date(sim.window_start)), "end": str(_date(sim.window_end)),
                   "extract_date": str(_date(sim.window_end)), "simulation_start": str(_date(sim.sim_start)),
                   "burn_in_years": BURN_IN_YEARS,
                   "rereferral_recovery_from": str(_date(_day(dt.date(end_year - years + 1, 4, 1))))},
        "definitions": DEFINITIONS,
        "parameters": params,
        "rereferral_12m_rate": p.rereferral_12m_rate,
        "subsequent_plan_rate": p.subsequent_plan_rate,
        "plan_reviews_on_time_rate": p.plan_reviews_on_time_rate,
        "icpc_15wd_rate": p.icpc_15wd_rate,
        "pf_visit_7wd_rate": p.pf_visit_7wd_rate,
        "category_mix": _mix_with_labels(p.category_mix, CATEGORIES),
        "referral_source_mix": _mix_with_labels(p.referral_sources, REFERRAL_SOURCES),
        "lado_sector_mix": _mix_with_labels(p.lado_sector_mix, LADO_SECTORS),
        "age_at_first_referral": {k: {"years": [v[0], v[1]], "share": p.age_at_first_referral[k]}
                                  for k, v in AGE_AT_FIRST_REFERRAL.items()},
        "seasonality": {"month_factors": dict(zip(
            ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
            p.month_factors, strict=True)),
            "dow_factors": dict(zip(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), p.dow_factors, strict=True)),
            "holiday_factor": p.holiday_factor},
        "population": population,
        "expected": {
            "referrals_by_year": exp_year,
            "referrals_by_month": sim.expected["referrals_by_month"],
            "referral_rate_per_10k_by_year": rate,
            "rereferral_12m_rate_by_year": after,
            "subsequent_plan_rate_by_year": sim.expected["subsequent_plan_rate_by_year"],
            "plans_per_referral": round((1 - p.nfa_rate) * p.s47_rate * p.icpc_rate * p.plan_rate, 6),
            "plan_length_share_3_months_or_less": round(plan_3m, 6),
            "plan_length_share_2_years_or_more": round(plan_2y, 6),
            "lado_concluded_within_days": {str(d): round(_lognormal_cdf(d, p.lado_median_days, p.lado_sigma), 6)
                                           for d in (30, 91, 365)},
        },
        "realised": sim.realised,
        "police_return": police,
        **({"police_return_previous_year": police_previous} if police_previous is not None else {}),
        "files": files,
        "faults": {
            "fault_rate": fault_rate,
            "definitions": FAULT_DEFINITIONS,
            "by_file": by_file,
            "total_row_faults": sum(rows_rejected.values()),
            "rows_expected_rejected": rows_rejected,
            "file_level": {f: v["extra_columns"] for f, v in files.items() if v.get("extra_columns")},
            "detail": faults,
        },
    }


#: source value columns whose labels are written by the generator, per file: canonical column -> labels
def _source_labels() -> dict[str, dict[str, dict[str, str]]]:
    return {
        "referrals.csv": {"referral_source": {v[0]: k for k, v in REFERRAL_SOURCES.items()}},
        "children.csv": {"sex": {v[0]: k for k, v in SEXES.items()}},
        "cp_plans.xlsx": {"initial_category": {v[0]: k for k, v in CATEGORIES.items()},
                          "latest_category": {v[0]: k for k, v in CATEGORIES.items()}},
        "lado_allegations.csv": {"sector": {v[0]: k for k, v in LADO_SECTORS.items()},
                                 "category": {v[0]: k for k, v in LADO_CATEGORIES.items()},
                                 "outcome": {v[0]: k for k, v in LADO_OUTCOMES.items()}},
    }


def inputs_config(folder: str = "data/raw/demo", fmt: str = "csv") -> dict[str, dict[str, object]]:
    """The report.yml ``inputs:`` section describing a generated council in ``folder``.

    ``codes`` lists only the source labels that the built-in aliases of
    :mod:`safeguarding.schema` do not resolve to the right code. With
    ``fmt="cin_census"`` the six child-level entities point at the census file.
    """
    from safeguarding.schema import ENTITIES, build_aliases, normalise_code_text

    labels = _source_labels()
    out: dict[str, dict[str, object]] = {}
    for fname, meta in FILES.items():
        entity = meta["entity"]
        if fmt == "cin_census":
            from safeguarding.synth import cin_census

            if fname in cin_census.REPLACES:
                out[entity] = {"file": f"{folder.rstrip('/')}/{cin_census.CIN_FILE}", "format": "cin_census"}
                continue
        spec: dict[str, object] = {"file": f"{folder.rstrip('/')}/{fname}"}
        if "sheet" in meta:
            spec["sheet"] = meta["sheet"]
        spec["header_row"] = meta["header_row"]
        if meta["encoding"]:
            spec["encoding"] = meta["encoding"]
        spec["columns"] = dict(COLUMN_MAPS[fname])
        codes: dict[str, dict[str, str]] = {}
        for column, mapping in labels.get(fname, {}).items():
            aliases = build_aliases(ENTITIES[entity].column(column).codes or "")
            need = {lab: code for lab, code in mapping.items() if aliases.get(normalise_code_text(lab)) != code}
            if need:
                codes[column] = need
        if codes:
            spec["codes"] = codes
        out[entity] = spec
    from safeguarding.synth.survey import survey_input

    out["survey"] = survey_input(folder)
    return out


def aggregates_config(folder: str = "data/raw/demo", end_year: int = 2025, *,
                      previous: bool = True) -> list[dict[str, object]]:
    """The report.yml ``aggregates:`` section for the generated police returns.

    The reporting year's return first, then (``previous``: a council generated
    with two years or more) the year before's.
    """
    def entry(file: str, year: int) -> dict[str, object]:
        return {"file": f"{folder.rstrip('/')}/{file}", "layout": "wide", "sheet": AGGREGATE_SHEET,
                "header_row": 2, "financial_year": year, "label_column": "Measure", "ytd_column": "YTD",
                "rows": {label: code for label, code in POLICE_MEASURES}}

    out = [entry(AGGREGATE_FILE, end_year)]
    if previous:
        out.append(entry(previous_aggregate_file(end_year), end_year - 1))
    return out
