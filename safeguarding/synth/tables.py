"""The source-shaped tables a council's case system would export, with injected faults."""

from __future__ import annotations

from typing import Any

import numpy as np

from safeguarding.synth.faults import (
    NA_DAY,
    FaultSpec,
    SourceTable,
    add_extra_column,
    inject_row_faults,
)
from safeguarding.synth.params import (
    CATEGORIES,
    FORENAMES_F,
    FORENAMES_M,
    LADO_CATEGORIES,
    LADO_OUTCOMES,
    LADO_SECTORS,
    REFERRAL_SOURCES,
    SEXES,
    STREET_TYPES,
    STREETS,
    SynthParams,
)
from safeguarding.synth.simulate import _fy, _Sim

# --------------------------------------------------------------------------
# Writing the source-shaped files
# --------------------------------------------------------------------------

#: file -> (entity, encoding, header_row, sheet); the headers are set where each file is built
FILES: dict[str, dict[str, Any]] = {
    "children.csv": {"entity": "children", "encoding": "utf-8", "header_row": 1},
    "referrals.csv": {"entity": "referrals", "encoding": "utf-8", "header_row": 1},
    "s47.csv": {"entity": "s47", "encoding": "utf-8", "header_row": 1},
    "icpc.csv": {"entity": "icpc", "encoding": "utf-8", "header_row": 1},
    "cp_plans.xlsx": {"entity": "cp_plans", "encoding": None, "header_row": 3, "sheet": "CP Plans"},
    "cp_reviews.csv": {"entity": "cp_reviews", "encoding": "utf-8", "header_row": 1},
    "lado_allegations.csv": {"entity": "allegations", "encoding": "cp1252", "header_row": 1},
    "private_fostering.csv": {"entity": "private_fostering", "encoding": "utf-8-sig", "header_row": 1},
}
AGGREGATE_FILE = "police_monthly_return.xlsx"


def previous_aggregate_file(end_year: int) -> str:
    """The file name of the police return for the year before ``end_year`` ('police_monthly_return_2023-24.xlsx').

    The police send one return a year; the generator writes the reporting year's
    (:data:`AGGREGATE_FILE`) and, when it simulates more than one year, the year
    before's, so that the report can compare the two.
    """
    return f"police_monthly_return_{end_year - 2}-{(end_year - 1) % 100:02d}.xlsx"

AGGREGATE_SHEET = "Police return"

#: canonical column -> source header, per file (what report.yml `columns` says)
COLUMN_MAPS: dict[str, dict[str, str]] = {
    "children.csv": {"child_id": "Person ID", "date_of_birth": "DOB", "sex": "Gender", "ethnicity": "Ethnicity",
                     "disability": "Disabled"},
    "referrals.csv": {"child_id": "Child ID", "referral_id": "Referral Ref", "referral_date": "Date of Referral",
                      "referral_source": "Source of Referral", "primary_need": "Primary Need", "nfa": "NFA?",
                      "team": "Team"},
    "s47.csv": {"s47_id": "S47 ID", "child_id": "Child ID", "referral_id": "Referral Ref",
                "s47_start_date": "Date S47 Started", "team": "Team"},
    "icpc.csv": {"icpc_id": "Conference ID", "child_id": "Child ID", "s47_id": "S47 ID",
                 "icpc_date": "Date of ICPC", "plan_resulted": "CP Plan Made"},
    "cp_plans.xlsx": {"plan_id": "Plan ID", "child_id": "Child ID", "plan_start_date": "Plan Start Date",
                      "plan_end_date": "Plan End Date", "initial_category": "Initial Category of Abuse",
                      "latest_category": "Latest Category of Abuse",
                      "previous_plans": "Number of Previous CP Plans", "team": "Team"},
    "cp_reviews.csv": {"plan_id": "Plan ID", "child_id": "Child ID", "review_date": "Review Date"},
    "lado_allegations.csv": {"allegation_id": "LADO Ref", "referral_date": "Date Referred",
                             "sector": "Employer Sector", "category": "Category",
                             "concluded_date": "Date Concluded", "outcome": "Outcome", "actions": "Actions Taken"},
    "private_fostering.csv": {"pf_id": "PF Ref", "child_id": "Child ID", "notification_date": "Date Notified",
                              "confirmed": "Confirmed as PF", "initial_visit_date": "Initial Visit Date",
                              "arrangement_start_date": "Arrangement Start",
                              "arrangement_end_date": "Arrangement End"},
}

#: Personal columns written (ingest must drop them).
PERSONAL_COLUMNS = {"children.csv": ["Forename", "Address"], "lado_allegations.csv": ["Notes"]}

FAULT_SPECS: dict[str, FaultSpec] = {
    "children.csv": FaultSpec(("Person ID",), "DOB", code_column="Gender", unknown_codes=("Q", "Alien", "7")),
    "referrals.csv": FaultSpec(("Child ID", "Referral Ref"), "Date of Referral"),
    "s47.csv": FaultSpec(("S47 ID", "Child ID"), "Date S47 Started"),
    "icpc.csv": FaultSpec(("Conference ID", "Child ID"), "Date of ICPC", link_check=True),
    "cp_plans.xlsx": FaultSpec(("Plan ID", "Child ID"), "Plan Start Date", code_column="Initial Category of Abuse",
                               unknown_codes=("z) Spiritual abuse", "Bullying", "f) Other"),
                               order_pairs=(("Plan Start Date", "Plan End Date"),)),
    "cp_reviews.csv": FaultSpec(("Plan ID",), "Review Date"),
    "lado_allegations.csv": FaultSpec(("LADO Ref",), "Date Referred", code_column="Employer Sector",
                                      unknown_codes=("Circus – big top", "Spaceport", "Zoo keepers"),
                                      order_pairs=(("Date Referred", "Date Concluded"),)),
    "private_fostering.csv": FaultSpec(("PF Ref", "Child ID"), "Date Notified",
                                       bad_dates=("2024-02-30", "unknown", "2023-13-01", "TBC", "2022-00-10"),
                                       order_pairs=(("Date Notified", "Initial Visit Date"),
                                                    ("Arrangement Start", "Arrangement End"))),
}


def _ids(prefix: str, n: int, start: int = 1, width: int = 6) -> np.ndarray:
    nums = np.char.zfill(np.arange(start, start + n).astype(str), width)
    return np.char.add(prefix, nums).astype(object)


def _build_tables(sim: _Sim, p: SynthParams, rng: np.random.Generator, name: str,
                  links: dict[str, np.ndarray] | None = None) -> dict[str, SourceTable]:
    ws, we = sim.window_start, sim.window_end
    t = sim.tables
    ref, s47, icpc, plans, revs = t["referrals"], t["s47"], t["icpc"], t["cp_plans"], t["cp_reviews"]
    lado, pf, kids = t["allegations"], t["private_fostering"], t["children"]
    n_child = kids["dob"].size
    n_pf = pf["day"].size

    # identifiers: every simulated record numbered in date order, as a case system would
    ref_id = _ids("REF", ref["day"].size, 100001, 7)
    s47_id = _ids("S47-", s47["day"].size, 1)
    s47_order = np.argsort(s47["day"], kind="stable")
    s47_id = s47_id[np.argsort(s47_order, kind="stable")]
    ic_order = np.argsort(icpc["day"], kind="stable")
    ic_id = _ids("ICPC", icpc["day"].size, 1)[np.argsort(ic_order, kind="stable")]
    pl_order = np.argsort(plans["start"], kind="stable")
    plan_id = _ids("CPP", plans["start"].size, 1)[np.argsort(pl_order, kind="stable")]
    person = (rng.choice(9_000_000, size=n_child + n_pf, replace=False) + 1_000_000).astype(str).astype(object)
    child_pid, pf_pid = person[:n_child], person[n_child:]

    tables: dict[str, SourceTable] = {}

    # referrals: dated in the window
    r = np.flatnonzero((ref["day"] >= ws) & (ref["day"] <= we))
    r = r[np.lexsort((r, ref["day"][r]))]
    src_label = {k: v[0] for k, v in REFERRAL_SOURCES.items()}
    tables["referrals.csv"] = SourceTable(
        "referrals.csv", "referrals",
        ["Child ID", "Referral Ref", "Date of Referral", "Source of Referral", "Primary Need", "NFA?", "Team"],
        {"Child ID": child_pid[ref["child"][r]], "Referral Ref": ref_id[r], "Date of Referral": ref["day"][r],
         "Source of Referral": np.array([src_label[s] for s in ref["source"][r]], dtype=object),
         "Primary Need": ref["need"][r], "NFA?": np.where(ref["nfa"][r], "Y", "N").astype(object),
         "Team": ref["team"][r]},
        date_columns=("Date of Referral",))

    # s47: started in the window
    s = np.flatnonzero(s47["day"] >= ws)
    s = s[np.lexsort((s47_id[s], s47["day"][s]))]
    tables["s47.csv"] = SourceTable(
        "s47.csv", "s47", ["S47 ID", "Child ID", "Referral Ref", "Date S47 Started", "Team"],
        {"S47 ID": s47_id[s], "Child ID": child_pid[s47["child"][s]], "Referral Ref": ref_id[s47["referral"][s]],
         "Date S47 Started": s47["day"][s], "Team": s47["team"][s]},
        date_columns=("Date S47 Started",))

    # icpc: held in the window
    c = np.flatnonzero(icpc["day"] >= ws)
    c = c[np.lexsort((ic_id[c], icpc["day"][c]))]
    tables["icpc.csv"] = SourceTable(
        "icpc.csv", "icpc", ["Conference ID", "Child ID", "S47 ID", "Date of ICPC", "CP Plan Made"],
        {"Conference ID": ic_id[c], "Child ID": child_pid[icpc["child"][c]], "S47 ID": s47_id[icpc["s47"][c]],
         "Date of ICPC": icpc["day"][c], "CP Plan Made": np.where(icpc["plan"][c], "Yes", "No").astype(object)},
        date_columns=("Date of ICPC",))

    # plans: open at any time in the window
    pw = np.flatnonzero((plans["end"] == NA_DAY) | (plans["end"] >= ws))
    pw = pw[np.lexsort((plan_id[pw], plans["start"][pw]))]
    cat_label = {k: v[0] for k, v in CATEGORIES.items()}
    tables["cp_plans.xlsx"] = SourceTable(
        "cp_plans.xlsx", "cp_plans",
        ["Plan ID", "Child ID", "Plan Start Date", "Plan End Date", "Initial Category of Abuse",
         "Latest Category of Abuse", "Number of Previous CP Plans", "Team"],
        {"Plan ID": plan_id[pw], "Child ID": child_pid[plans["child"][pw]], "Plan Start Date": plans["start"][pw],
         "Plan End Date": plans["end"][pw].copy(),
         "Initial Category of Abuse": np.array([cat_label[x] for x in plans["init"][pw]], dtype=object),
         "Latest Category of Abuse": np.array([cat_label[x] for x in plans["latest"][pw]], dtype=object),
         "Number of Previous CP Plans": plans["prev"][pw].astype(object), "Team": plans["team"][pw]},
        date_columns=("Plan Start Date", "Plan End Date"), header_row=3)
    plan_written = np.zeros(plans["start"].size, dtype=bool)
    plan_written[pw] = True

    # reviews of the written plans
    v = np.flatnonzero(plan_written[revs["plan"]])
    v = v[np.lexsort((revs["day"][v], plan_id[revs["plan"][v]]))]
    tables["cp_reviews.csv"] = SourceTable(
        "cp_reviews.csv", "cp_reviews", ["Plan ID", "Child ID", "Review Date"],
        {"Plan ID": plan_id[revs["plan"][v]], "Child ID": child_pid[revs["child"][v]], "Review Date": revs["day"][v]},
        date_columns=("Review Date",))

    # allegations: referred in the window, or still open at its start
    concl = lado["concluded"]
    a = np.flatnonzero((lado["day"] <= we) & ((lado["day"] >= ws) | (concl >= ws)))
    a = a[np.argsort(lado["day"][a], kind="stable")]
    a_fy = _fy(lado["day"][a])
    seq = np.zeros(a.size, dtype=np.int64)
    for y in np.unique(a_fy):
        sel = np.flatnonzero(a_fy == y)
        seq[sel] = np.arange(1, sel.size + 1)
    open_ = concl[a] > we
    sector_label = {k: v[0] for k, v in LADO_SECTORS.items()}
    lcat = {k: v[0] for k, v in LADO_CATEGORIES.items()}
    lout = {k: v[0] for k, v in LADO_OUTCOMES.items()}
    actions = lado["actions"][a].copy()
    actions[open_] = np.where(rng.random(int(open_.sum())) < 0.3, "Suspended", "")
    tables["lado_allegations.csv"] = SourceTable(
        "lado_allegations.csv", "allegations",
        ["LADO Ref", "Date Referred", "Employer Sector", "Category", "Date Concluded", "Outcome", "Actions Taken",
         "Notes"],
        {"LADO Ref": np.array([f"LADO/{y - 1}-{y % 100:02d}/{q:04d}" for y, q in zip(a_fy, seq, strict=True)],
                              dtype=object),
         "Date Referred": lado["day"][a], "Employer Sector": np.array([sector_label[x] for x in lado["sector"][a]],
                                                                     dtype=object),
         "Category": np.array([lcat[x] for x in lado["category"][a]], dtype=object),
         "Date Concluded": np.where(open_, NA_DAY, concl[a]),
         "Outcome": np.where(open_, "", np.array([lout[x] for x in lado["outcome"][a]], dtype=object)).astype(object),
         "Actions Taken": actions, "Notes": lado["notes"][a]},
        date_columns=("Date Referred", "Date Concluded"))

    # private fostering: notified in the window, or an arrangement open at its start
    f = np.flatnonzero((pf["day"] <= we) & ((pf["day"] >= ws) | ((pf["start"] != NA_DAY) &
                                                                  ((pf["end"] == NA_DAY) | (pf["end"] >= ws)))))
    f = f[np.argsort(pf["day"][f], kind="stable")]
    tables["private_fostering.csv"] = SourceTable(
        "private_fostering.csv", "private_fostering",
        ["PF Ref", "Child ID", "Date Notified", "Confirmed as PF", "Initial Visit Date", "Arrangement Start",
         "Arrangement End"],
        {"PF Ref": _ids("PF", f.size, 1, 4), "Child ID": pf_pid[f], "Date Notified": pf["day"][f],
         "Confirmed as PF": np.where(pf["confirmed"][f], "Yes", "No").astype(object),
         "Initial Visit Date": pf["visit"][f], "Arrangement Start": pf["start"][f],
         "Arrangement End": pf["end"][f]},
        date_columns=("Date Notified", "Initial Visit Date", "Arrangement Start", "Arrangement End"),
        date_style="iso")

    # children: everyone in a written table
    used = np.zeros(n_child, dtype=bool)
    used[ref["child"][r]] = True
    used[s47["child"][s]] = True
    used[icpc["child"][c]] = True
    used[plans["child"][pw]] = True
    kc = np.flatnonzero(used)
    pid = np.concatenate([child_pid[kc], pf_pid[f]])
    dob = np.concatenate([kids["dob"][kc], pf["dob"][f]])
    sex = np.concatenate([kids["sex"][kc], pf["sex"][f]])
    eth = np.concatenate([kids["eth"][kc], pf["eth"][f]])
    dis = np.concatenate([kids["disabled"][kc], pf["disabled"][f]])
    o = np.argsort(pid, kind="stable")
    pid, dob, sex, eth, dis = pid[o], dob[o], sex[o], eth[o], dis[o]
    m = pid.size
    forename = np.where(sex == "F", np.array(FORENAMES_F, dtype=object)[rng.integers(0, 20, m)],
                        np.array(FORENAMES_M, dtype=object)[rng.integers(0, 20, m)])
    address = np.array([f"{h} {a} {b}, {name}" for h, a, b in zip(
        rng.integers(1, 200, m), np.array(STREETS)[rng.integers(0, len(STREETS), m)],
        np.array(STREET_TYPES)[rng.integers(0, len(STREET_TYPES), m)], strict=True)], dtype=object)
    sex_label = {k: v[0] for k, v in SEXES.items()}
    tables["children.csv"] = SourceTable(
        "children.csv", "children", ["Person ID", "Forename", "DOB", "Gender", "Ethnicity", "Disabled", "Address"],
        {"Person ID": pid, "Forename": forename, "DOB": dob,
         "Gender": np.array([sex_label[x] for x in sex], dtype=object), "Ethnicity": eth,
         "Disabled": np.where(dis, "Yes", "No").astype(object), "Address": address},
        date_columns=("DOB",))
    if links is not None:  # identifiers of every simulated record, for the CIN census writer
        links.update(ref_id=ref_id, child_pid=child_pid, s47_id=s47_id, plan_id=plan_id)
    return {k: tables[k] for k in FILES}


def _inject(tables: dict[str, SourceTable], rng: np.random.Generator, rate: float) -> None:
    order = ["children.csv", "referrals.csv", "s47.csv", "icpc.csv", "cp_plans.xlsx", "cp_reviews.csv",
             "lado_allegations.csv", "private_fostering.csv"]
    for fname in order:
        tab = tables[fname]
        link = None
        if fname == "icpc.csv":
            # start day of the linked S47 when its row is written and clean
            s47t = tables["s47.csv"]
            bad = {f["_index"] for f in s47t.faults}
            pos = {sid: i for i, sid in enumerate(s47t.data["S47 ID"].tolist()) if i not in bad}
            link = np.array([s47t.data["Date S47 Started"][pos[sid]] if sid in pos else NA_DAY
                             for sid in tab.data["S47 ID"].tolist()], dtype=np.int64)
        inject_row_faults(tab, FAULT_SPECS[fname], rng, rate, link)
    if rate > 0:
        ref = tables["referrals.csv"]
        add_extra_column(ref, "Legacy Flag", np.where(rng.random(ref.n_rows) < 0.1, "L", "").astype(object), 7)
        s47t = tables["s47.csv"]
        add_extra_column(s47t, "Worker Ref", np.array([f"W{x:03d}" for x in rng.integers(1, 120, s47t.n_rows)],
                                                      dtype=object), 5)
