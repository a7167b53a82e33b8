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

import csv
import datetime as dt
import io
import json
import math
import zipfile
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import holidays
import numpy as np
import pandas as pd

from safeguarding.synth.faults import (
    FAULT_DEFINITIONS,
    NA_DAY,
    ROW_FAULT_KINDS,
    ExcelDate,
    FaultSpec,
    SourceTable,
    add_extra_column,
    inject_row_faults,
    summarise,
)

#: Referrals per year (in ``end_year``) for each named scale.
SCALES: dict[str, int] = {"small": 1500, "large": 20000}

DEMO_SEED = 20250331
GENERATOR_VERSION = 1
BURN_IN_YEARS = 2

#: Calendar-month factors (January .. December): August and December dips,
#: autumn and spring peaks. Normalised over each year at generation.
MONTH_FACTORS = (1.00, 1.04, 1.07, 0.95, 1.04, 1.06, 1.03, 0.78, 0.98, 1.10, 1.10, 0.85)
#: Day-of-week factors, Monday .. Sunday; bank holidays take ``HOLIDAY_FACTOR``.
DOW_FACTORS = (1.08, 1.10, 1.10, 1.08, 1.06, 0.32, 0.26)
HOLIDAY_FACTOR = 0.30

#: Referral source: CIN code -> (label written by the council system, share)
REFERRAL_SOURCES: dict[str, tuple[str, float]] = {
    "1A": ("Individual – Family member/relative/carer", 0.040),
    "1B": ("Individual – Acquaintance", 0.008),
    "1C": ("Individual – Self", 0.010),
    "1D": ("Individual – Other", 0.010),
    "2A": ("Schools", 0.200),
    "2B": ("Education services", 0.012),
    "3A": ("Health services – GP", 0.022),
    "3B": ("Health services – Health visitor", 0.020),
    "3C": ("Health services – School nurse", 0.006),
    "3D": ("Health services – Other primary health", 0.020),
    "3E": ("Health services – A&E", 0.030),
    "3F": ("Health services – Other", 0.045),
    "4": ("Housing", 0.020),
    "5A": ("LA services – Social care", 0.050),
    "5B": ("LA services – Other internal", 0.030),
    "5C": ("LA services – External", 0.030),
    "5D": ("LA services – Early help", 0.022),
    "6": ("Police", 0.290),
    "7": ("Other legal agency", 0.030),
    "8": ("Other", 0.030),
    "9": ("Anonymous", 0.013),
    "10": ("Unknown", 0.012),
}
PRIMARY_NEEDS: dict[str, float] = {
    "N0": 0.010, "N1": 0.570, "N2": 0.030, "N3": 0.030, "N4": 0.120,
    "N5": 0.140, "N6": 0.020, "N7": 0.005, "N8": 0.020, "N9": 0.035,
}
TEAMS: dict[str, float] = {
    "North Locality": 0.28, "South Locality": 0.27, "East Locality": 0.24,
    "West Locality": 0.21,
}
CWD_TEAM = "Children with Disabilities"
CATEGORIES: dict[str, tuple[str, float]] = {
    "NEG": ("a) Neglect", 0.48),
    "PHY": ("b) Physical abuse", 0.07),
    "SAB": ("c) Sexual abuse", 0.04),
    "EMO": ("d) Emotional abuse", 0.37),
    "MUL": ("e) Multiple/not recommended", 0.04),
}
SEXES: dict[str, tuple[str, float]] = {"M": ("Male", 0.505), "F": ("Female", 0.485), "U": ("Unknown", 0.010)}
ETHNICITIES: dict[str, float] = {
    "WBRI": 0.640, "WIRI": 0.005, "WIRT": 0.003, "WOTH": 0.060, "WROM": 0.007,
    "MWBC": 0.025, "MWBA": 0.010, "MWAS": 0.012, "MOTH": 0.025, "AIND": 0.020,
    "APKN": 0.040, "ABAN": 0.015, "AOTH": 0.015, "BCRB": 0.010, "BAFR": 0.030,
    "BOTH": 0.010, "CHNE": 0.003, "OOTH": 0.020, "REFU": 0.005, "NOBT": 0.045,
}
#: Age at a child's first referral: band -> (low years, high years, share)
AGE_AT_FIRST_REFERRAL: dict[str, tuple[float, float, float]] = {
    "under 1": (0.0, 1.0, 0.10), "1-4": (1.0, 5.0, 0.20), "5-9": (5.0, 10.0, 0.25),
    "10-15": (10.0, 16.0, 0.35), "16+": (16.0, 18.0, 0.10),
}
LADO_SECTORS: dict[str, tuple[str, float]] = {
    "education": ("Education – schools", 0.34),
    "early_years": ("Early years – nursery/childminder", 0.09),
    "social_care": ("Social care – residential", 0.14),
    "foster_carers": ("Foster carers", 0.08),
    "health": ("Health – NHS trust", 0.07),
    "police": ("Police", 0.04),
    "secure_estate": ("Secure estate", 0.02),
    "faith": ("Faith groups", 0.03),
    "voluntary_youth": ("Voluntary & youth – sport clubs", 0.09),
    "other": ("Other", 0.10),
}
LADO_CATEGORIES: dict[str, tuple[str, float]] = {
    "physical": ("Physical", 0.45), "emotional": ("Emotional", 0.20),
    "sexual": ("Sexual", 0.25), "neglect": ("Neglect", 0.10),
}
LADO_OUTCOMES: dict[str, tuple[str, float]] = {
    "substantiated": ("Substantiated", 0.30), "unsubstantiated": ("Unsubstantiated", 0.33),
    "unfounded": ("Unfounded", 0.22), "false": ("False", 0.10), "malicious": ("Malicious", 0.05),
}
#: action -> (label, weight when substantiated, weight otherwise)
LADO_ACTIONS: dict[str, tuple[str, float, float]] = {
    "suspension": ("Suspended", 3.0, 3.0),
    "dismissal": ("Dismissed", 3.0, 0.2),
    "resignation": ("Resigned", 1.5, 1.0),
    "cessation_of_use": ("Cessation of use", 1.5, 0.5),
    "s47_enquiry": ("Section 47 enquiry", 1.0, 1.5),
    "police_investigation": ("Police investigation", 2.0, 2.5),
    "caution": ("Caution", 0.8, 0.05),
    "conviction": ("Conviction", 0.8, 0.05),
    "acquittal": ("Acquittal", 0.2, 0.2),
    "barring_referral": ("Referral to DBS", 2.5, 0.2),
    "regulator_referral": ("Referral to regulator", 1.2, 0.3),
    "disciplinary": ("Disciplinary action", 2.5, 0.8),
}
LADO_NOTES = (
    "", "", "", "Strategy meeting held – police lead", "Employer informed; café manager statement awaited",
    "Agency worker – naïve practice, advice given", "Parent complaint – résumé and references checked",
    "Referred by Ofsted", "Outcome letter sent – employer’s HR", "",
)
POLICE_MEASURES = (
    ("Domestic abuse incidents notified (child present)", "POLICE_DA_NOTIFICATIONS"),
    ("Child protection referrals made by police", "POLICE_CP_REFERRALS"),
    ("Missing episodes (children)", "POLICE_MISSING_EPISODES"),
)
FY_MONTHS = ("Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar")

FORENAMES_M = ("Oliver", "Jack", "Harry", "Leo", "Noah", "Alfie", "Charlie", "Oscar", "Arlo", "Theo",
               "Freddie", "George", "Archie", "Muhammad", "Jacob", "Finley", "Reuben", "Kai", "Ibrahim", "Tyler")
FORENAMES_F = ("Olivia", "Amelia", "Isla", "Ava", "Lily", "Freya", "Ivy", "Grace", "Mia", "Sophia",
               "Poppy", "Ella", "Evie", "Aisha", "Maya", "Ruby", "Zara", "Chloe", "Niamh", "Hannah")
STREETS = ("Mill", "Church", "Station", "Victoria", "Park", "Green", "Manor", "Kings", "Queens", "Chapel",
           "School", "Meadow", "Orchard", "Willow", "Bridge", "High", "Castle", "Forge", "Moor", "Abbey")
STREET_TYPES = ("Lane", "Road", "Street", "Close", "Avenue", "Way", "Drive", "Crescent")

DEFINITIONS = {
    "financial_year": "year N means 1 April N-1 to 31 March N (DfE time_period)",
    "window": "the data window written: 1 April of end_year-years to 31 March end_year; the simulation starts "
              f"{BURN_IN_YEARS} years earlier (burn-in) so plans, allegations and arrangements open at the start "
              "of the window exist and are written, as a real extract would hold them",
    "rereferral_12m_rate": "probability that a referral's child had another referral in the 12 months before "
                           "it (DfE re-referral indicator). Each referral independently, with this probability, "
                           "follows an earlier referral of the same child by 7-360 days; otherwise the child's "
                           "previous referral (if any) is at least 373 days earlier. The expectation of the "
                           "indicator equals this parameter for referrals dated from 12 months after the window "
                           "start; EXCLUDE THE FIRST 12 MONTHS OF THE WINDOW (their earlier referral may precede "
                           "the window). Same-child same-day referrals do not occur without faults.",
    "subsequent_plan_rate": "probability that a plan is a second or subsequent plan for the child, counting "
                            "every earlier plan: those in the data and those before it, recorded in "
                            "previous_plans (always filled: previous_plans = number of all earlier plans). "
                            "expected.subsequent_plan_rate_by_year gives the exact expectation per year "
                            "(equal to the parameter unless infeasible).",
    "plan_reviews_on_time_rate": "probability that a plan has every review on time (first within 3 months of "
                                 "the start: 69-88 days; each later one within 6 months of the previous: "
                                 "161-181 days). A plan that is not on time has its first review late (99-137 "
                                 "days after the start; no review at all if the plan ends first). So among "
                                 "plans open at a date that have lasted at least 3 months (NI 67), the expected "
                                 "share with every due review on time equals the parameter.",
    "icpc_15wd_rate": "probability that an ICPC is held within 15 working days of the start of its S47 "
                      "enquiry (England bank holidays excluded): on-time ICPCs are 2-13 working days after the "
                      "S47 start, late ones 18-45 working days (never near the boundary).",
    "pf_visit_7wd_rate": "probability that a private fostering notification's initial visit is within 7 "
                         "working days of the notification (on time: 1-5 working days; late: 9-25).",
    "category_mix": "initial category of abuse of each plan, independently (latest category equals it with "
                    "probability latest_category_same, else redrawn from the mix)",
    "age_at_first_referral": "age band shares of a child's first simulated referral (before capping so that "
                             "every referral is before the 18th birthday)",
    "seasonality": "expected referrals per day = annual expected count x month factor x day-of-week factor "
                   "(x holiday factor on England bank holidays), normalised within each financial year; "
                   "expected.referrals_by_month gives the resulting expected count per calendar month",
    "population": "children aged 0-17 per financial year (stands in for the ONS mid-year estimate)",
    "plan_length": "plan length in days: with probability short_plan_share uniform 20-88 days, otherwise "
                   "lognormal(log(plan_length_median_days), plan_length_sigma); plans end at the 18th birthday "
                   "at the latest; plans ending after the extract date are open (no end date)",
    "lado_conclusion": "days from referral to conclusion: lognormal(log(lado_median_days), lado_sigma), rolled "
                       "to the next working day; cases concluding after the extract date are open",
    "faults": "see faults.definitions; faults.by_file counts faults per written file and kind; "
              "faults.rows_expected_rejected counts rows with a row-level fault (each such row has exactly one)",
}


@dataclass
class SynthParams:
    """Every parameter of the simulation (written to ``ground_truth.json``)."""

    referrals_per_year: float = 1500.0
    annual_trend: float = 0.015
    referral_rate_per_10k: float = 530.0
    population_growth: float = 0.003
    rereferral_12m_rate: float = 0.22
    rereferral_gap_scale_days: float = 90.0
    returning_child_share: float = 0.25
    nfa_rate: float = 0.065
    s47_rate: float = 0.345
    icpc_rate: float = 0.40
    plan_rate: float = 0.77
    icpc_15wd_rate: float = 0.80
    subsequent_plan_rate: float = 0.24
    plan_reviews_on_time_rate: float = 0.90
    short_plan_share: float = 0.15
    plan_length_median_days: float = 320.0
    plan_length_sigma: float = 0.45
    latest_category_same: float = 0.88
    disability_rate: float = 0.08
    cwd_team_share_if_disabled: float = 0.6
    lado_per_referral: float = 0.09
    lado_median_days: float = 25.0
    lado_sigma: float = 1.0
    pf_per_referral: float = 0.007
    pf_confirmed_rate: float = 0.70
    pf_visit_7wd_rate: float = 0.75
    pf_median_days: float = 180.0
    police_da_per_police_referral: float = 2.6
    missing_episodes_per_10k_month: float = 14.0
    month_factors: tuple[float, ...] = MONTH_FACTORS
    dow_factors: tuple[float, ...] = DOW_FACTORS
    holiday_factor: float = HOLIDAY_FACTOR
    referral_sources: dict[str, float] = field(default_factory=lambda: {k: v[1] for k, v in REFERRAL_SOURCES.items()})
    primary_needs: dict[str, float] = field(default_factory=lambda: dict(PRIMARY_NEEDS))
    teams: dict[str, float] = field(default_factory=lambda: dict(TEAMS))
    category_mix: dict[str, float] = field(default_factory=lambda: {k: v[1] for k, v in CATEGORIES.items()})
    sex_mix: dict[str, float] = field(default_factory=lambda: {k: v[1] for k, v in SEXES.items()})
    ethnicity_mix: dict[str, float] = field(default_factory=lambda: dict(ETHNICITIES))
    age_at_first_referral: dict[str, float] = field(
        default_factory=lambda: {k: v[2] for k, v in AGE_AT_FIRST_REFERRAL.items()})
    lado_sector_mix: dict[str, float] = field(default_factory=lambda: {k: v[1] for k, v in LADO_SECTORS.items()})
    lado_category_mix: dict[str, float] = field(
        default_factory=lambda: {k: v[1] for k, v in LADO_CATEGORIES.items()})
    lado_outcome_mix: dict[str, float] = field(default_factory=lambda: {k: v[1] for k, v in LADO_OUTCOMES.items()})


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def _day(d: dt.date) -> int:
    return int(np.datetime64(d, "D").astype(np.int64))


def _date(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Calendar year and month of day numbers."""
    m = np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return m // 12 + 1970, m % 12 + 1


def _fy(days: np.ndarray) -> np.ndarray:
    y, m = _ymd(days)
    return y + (m >= 4)


def _choice(rng: np.random.Generator, mix: dict[str, float], n: int) -> np.ndarray:
    keys = np.array(list(mix), dtype=object)
    p = np.array(list(mix.values()), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


def _trunc_exp(rng: np.random.Generator, scale: float, upper: float, n: int) -> np.ndarray:
    """Exponential(scale) truncated to [0, upper], by inverse CDF."""
    u = rng.random(n)
    return -scale * np.log1p(-u * (1.0 - math.exp(-upper / scale)))


def _add_years(days: np.ndarray, years: int) -> np.ndarray:
    """Same day-of-month ``years`` later (29 February -> 1 March)."""
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    dom = (d - month.astype("datetime64[D]")).astype(np.int64)
    return ((month + 12 * years).astype("datetime64[D]") + dom).astype(np.int64)


@lru_cache(maxsize=8)
def _bank_holidays(first_year: int, last_year: int) -> np.ndarray:
    hol = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return np.array(sorted(hol.keys()), dtype="datetime64[D]")


class _Calendar:
    """England and Wales working days."""

    def __init__(self, first_year: int, last_year: int) -> None:
        self.holidays = _bank_holidays(first_year, last_year)
        self.cal = np.busdaycalendar(weekmask="1111100", holidays=self.holidays)

    def offset(self, days: np.ndarray, n: np.ndarray | int) -> np.ndarray:
        """``n`` working days after ``days`` (rolled forward to a working day first)."""
        d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
        return np.busday_offset(d, n, roll="forward", busdaycal=self.cal).astype(np.int64)

    def is_holiday(self, days: np.ndarray) -> np.ndarray:
        """True on bank holidays."""
        return np.isin(np.asarray(days, dtype=np.int64), self.holidays.astype(np.int64))


def _link(day: np.ndarray, who: np.ndarray, gap_lo: int, gap_hi: int, scale: float, used: np.ndarray,
          rng: np.random.Generator) -> np.ndarray:
    """Give each referral in ``who`` a distinct, unused earlier referral gap_lo..gap_hi days before it.

    Returns ``pred`` (index of the earlier referral, -1 when none: the gap
    drawn reaches before the simulation, i.e. history outside the data).
    ``day`` must be sorted. Marks chosen predecessors in ``used``.
    """
    pred = np.full(len(day), -1, dtype=np.int64)
    pending = rng.permutation(who)
    for _ in range(40):
        if pending.size == 0:
            break
        gap = gap_lo + np.floor(_trunc_exp(rng, scale, gap_hi - gap_lo + 0.999, pending.size)).astype(np.int64)
        target = day[pending] - gap
        inside = target >= day[0]
        pending, target = pending[inside], target[inside]
        # a random referral on the target day (the last one before it when the day has none)
        lo = np.searchsorted(day, target, side="left")
        hi = np.searchsorted(day, target, side="right")
        j = np.where(hi > lo, lo + np.floor(rng.random(pending.size) * (hi - lo)).astype(np.int64), lo - 1)
        j = np.clip(j, 0, None)
        ok = (day[j] >= day[pending] - gap_hi) & (day[j] <= day[pending] - gap_lo) & ~used[j]
        cand, idx = j[ok], np.flatnonzero(ok)
        uniq, first = np.unique(cand, return_index=True)
        pred[pending[idx[first]]] = uniq
        used[uniq] = True
        done = np.zeros(pending.size, dtype=bool)
        done[idx[first]] = True
        pending = pending[~done]
    for i in np.sort(pending):  # rare leftovers: exhaustive search
        lo = np.searchsorted(day, day[i] - gap_hi, side="left")
        hi = np.searchsorted(day, day[i] - gap_lo, side="right")
        free = lo + np.flatnonzero(~used[lo:hi])
        if free.size:
            j = int(free[rng.integers(free.size)])
            pred[i] = j
            used[j] = True
    return pred


def _roots(pred: np.ndarray) -> np.ndarray:
    """Root of each chain by pointer jumping (predecessor index < own index)."""
    root = np.where(pred >= 0, pred, np.arange(len(pred)))
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            return root
        root = nxt


# --------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------


@dataclass
class _Sim:
    """Everything simulated, on day numbers and integer indices."""

    window_start: int
    window_end: int
    sim_start: int
    tables: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    expected: dict[str, Any] = field(default_factory=dict)
    realised: dict[str, Any] = field(default_factory=dict)


def _simulate(p: SynthParams, rng: np.random.Generator, years: int, end_year: int) -> _Sim:
    window_start = _day(dt.date(end_year - years, 4, 1))
    window_end = _day(dt.date(end_year, 3, 31))
    sim_start = _day(dt.date(end_year - years - BURN_IN_YEARS, 4, 1))
    sim = _Sim(window_start, window_end, sim_start)
    cal = _Calendar(end_year - years - BURN_IN_YEARS - 20, end_year + 6)

    # ---- referral intensity and dates --------------------------------------
    days = np.arange(sim_start, window_end + 1, dtype=np.int64)
    fy = _fy(days)
    year, month = _ymd(days)
    dow = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    w = np.asarray(p.month_factors)[month - 1] * np.asarray(p.dow_factors)[dow]
    w = np.where(cal.is_holiday(days), w * p.holiday_factor, w)
    fys = np.unique(fy)
    annual = {int(y): p.referrals_per_year * (1 + p.annual_trend) ** (int(y) - end_year) for y in fys}
    wsum = {int(y): w[fy == y].sum() for y in fys}
    lam = w * np.array([annual[int(y)] / wsum[int(y)] for y in fy])
    counts = rng.poisson(lam)
    day = np.repeat(days, counts)
    n = day.size
    in_window = days >= window_start
    ym = (year * 100 + month)[in_window]
    exp_month = pd.Series(lam[in_window]).groupby(ym).sum()
    sim.expected["referrals_by_month"] = {f"{k // 100}-{k % 100:02d}": round(float(v), 3)
                                          for k, v in exp_month.items()}
    sim.expected["referrals_by_year"] = {str(y): round(annual[y], 3) for y in annual
                                         if y > end_year - years}

    # ---- children: chains of referrals ------------------------------------
    is_r = rng.random(n) < p.rereferral_12m_rate
    used = np.zeros(n, dtype=bool)
    pred = _link(day, np.flatnonzero(is_r), 7, 360, p.rereferral_gap_scale_days, used, rng)
    returning = (~is_r) & (rng.random(n) < p.returning_child_share)
    pred_f = _link(day, np.flatnonzero(returning), 373, 1826, 500.0, used, rng)
    pred = np.where(pred >= 0, pred, pred_f)
    root = _roots(pred)
    roots, child = np.unique(root, return_inverse=True)
    n_child = roots.size
    first_day = day[roots]
    last_day = np.full(n_child, np.iinfo(np.int64).min)
    np.maximum.at(last_day, child, day)
    sim.realised["simulated_referrals"] = int(n)
    after = day >= _day(dt.date(end_year - years + 1, 4, 1))
    sim.realised["rereferral_flag_share_after_first_year"] = float(is_r[after].mean()) if after.any() else None

    sex = _choice(rng, p.sex_mix, n_child)
    eth = _choice(rng, p.ethnicity_mix, n_child)
    disabled = rng.random(n_child) < p.disability_rate
    bands = list(AGE_AT_FIRST_REFERRAL.values())
    band = rng.choice(len(bands), size=n_child, p=np.array(list(p.age_at_first_referral.values())) /
                      sum(p.age_at_first_referral.values()))
    lo = np.array([b[0] for b in bands])[band]
    hi = np.array([b[1] for b in bands])[band]
    age_days = np.floor((lo + (hi - lo) * rng.random(n_child)) * 365.25).astype(np.int64)
    span = last_day - first_day
    age_days = np.clip(np.minimum(age_days, 6574 - 40 - span), 0, None)
    dob = first_day - age_days

    # ---- referral attributes ------------------------------------------------
    source = _choice(rng, p.referral_sources, n)
    need = _choice(rng, p.primary_needs, n)
    nfa = rng.random(n) < p.nfa_rate
    team = _choice(rng, p.teams, n)
    team = np.where(disabled[child] & (rng.random(n) < p.cwd_team_share_if_disabled), CWD_TEAM, team)
    sim.tables["referrals"] = {"day": day, "child": child, "source": source, "need": need, "nfa": nfa,
                               "team": team}

    # ---- section 47 enquiries ----------------------------------------------
    has47 = (~nfa) & (rng.random(n) < p.s47_rate)
    r47 = np.flatnonzero(has47)
    lag = np.where(rng.random(r47.size) < 0.35, 0, 1 + np.floor(rng.exponential(5.0, r47.size))).astype(np.int64)
    s47_day = cal.offset(day[r47] + np.minimum(lag, 45), 0)
    keep = s47_day <= window_end
    r47, s47_day = r47[keep], s47_day[keep]
    n47 = r47.size
    s47_child = child[r47]

    # ---- initial conferences -----------------------------------------------
    has_icpc = rng.random(n47) < p.icpc_rate
    on_time = rng.random(n47) < p.icpc_15wd_rate
    wd = np.where(on_time, rng.integers(2, 14, n47), rng.integers(18, 46, n47))
    icpc_day = cal.offset(s47_day, wd)
    plan_res = rng.random(n47) < p.plan_rate
    ic = np.flatnonzero(has_icpc & (icpc_day <= window_end))
    ic_s47, ic_day, ic_child = ic, icpc_day[ic], s47_child[ic]
    ic_plan = plan_res[ic]
    ic_ontime = on_time[ic]
    # plan lengths (drawn for every ICPC so the stream does not depend on earlier filters)
    short = rng.random(ic.size) < p.short_plan_share
    dur = np.where(short, rng.integers(20, 89, ic.size),
                   np.round(np.exp(np.log(p.plan_length_median_days) + p.plan_length_sigma *
                                   rng.standard_normal(ic.size)))).astype(np.int64)
    dur = np.maximum(dur, 20)
    bday18 = _add_years(dob, 18)
    end_true = np.minimum(ic_day + dur, bday18[ic_child])
    ic_plan &= ic_day < bday18[ic_child] - 20
    # a child already on a plan gets no initial conference: drop those conferences
    keep = np.ones(ic.size, dtype=bool)
    order = np.lexsort((ic_day, ic_child))
    multi = np.flatnonzero(np.bincount(ic_child, minlength=n_child) > 1)
    cand = order[np.isin(ic_child[order], multi)]
    cur_child, cur_end = -1, np.iinfo(np.int64).min
    for i in cand.tolist():
        c = int(ic_child[i])
        if c != cur_child:
            cur_child, cur_end = c, np.iinfo(np.int64).min
        if ic_day[i] <= cur_end:
            keep[i] = False
            continue
        if ic_plan[i]:
            cur_end = int(end_true[i])
    ic_s47, ic_day, ic_child = ic_s47[keep], ic_day[keep], ic_child[keep]
    ic_plan, ic_ontime = ic_plan[keep], ic_ontime[keep]
    end_true = end_true[keep]
    sim.tables["s47"] = {"day": s47_day, "child": s47_child, "referral": r47, "team": team[r47]}
    sim.tables["icpc"] = {"day": ic_day, "child": ic_child, "s47": ic_s47, "plan": ic_plan, "on_time": ic_ontime}

    # ---- plans --------------------------------------------------------------
    pi = np.flatnonzero(ic_plan)
    pl_start, pl_child, pl_end = ic_day[pi], ic_child[pi], end_true[pi]
    pl_team = team[r47[ic_s47[pi]]]
    npl = pi.size
    order = np.lexsort((pl_start, pl_child))
    rank = np.zeros(npl, dtype=np.int64)
    sc = pl_child[order]
    grp_start = np.r_[0, np.flatnonzero(np.diff(sc)) + 1]
    grp_id = np.repeat(np.arange(grp_start.size), np.diff(np.r_[grp_start, npl]))
    rank[order] = np.arange(npl) - grp_start[grp_id]
    pl_fy = _fy(pl_start)
    s_first = np.zeros(npl)
    exp_sub: dict[str, float] = {}
    m_by_year: dict[str, float] = {}
    for y in np.unique(pl_fy):
        sel = pl_fy == y
        m = float((rank[sel] > 0).mean())
        s1 = min(max((p.subsequent_plan_rate - m) / (1 - m), 0.0), 1.0) if m < 1 else 0.0
        s_first[sel] = s1
        if y > end_year - years:
            m_by_year[str(int(y))] = round(m, 6)
            exp_sub[str(int(y))] = round(m + (1 - m) * s1, 6)
    sim.expected["subsequent_plan_rate_by_year"] = exp_sub
    sim.realised["share_of_plans_with_earlier_simulated_plan_by_year"] = m_by_year
    pre_sub = (rank == 0) & (rng.random(npl) < s_first)
    pre_hist = np.where(pre_sub, 1 + rng.poisson(0.3, npl), 0)
    # previous plans before the child's first simulated plan, carried to its later plans
    first_of_child = np.zeros(n_child, dtype=np.int64)
    first_of_child[pl_child[rank == 0]] = pre_hist[rank == 0]
    prev_plans = first_of_child[pl_child] + rank
    init_cat = _choice(rng, p.category_mix, npl)
    latest_cat = np.where(rng.random(npl) < p.latest_category_same, init_cat, _choice(rng, p.category_mix, npl))
    pl_end_obs = np.where(pl_end <= window_end, pl_end, NA_DAY)
    rev_on_time = rng.random(npl) < p.plan_reviews_on_time_rate
    sim.tables["cp_plans"] = {"start": pl_start, "end": pl_end_obs, "child": pl_child, "init": init_cat,
                              "latest": latest_cat, "prev": prev_plans, "team": pl_team,
                              "reviews_on_time": rev_on_time, "icpc": pi}

    # ---- reviews ------------------------------------------------------------
    limit = np.where(pl_end_obs == NA_DAY, window_end, pl_end_obs - 1)
    k = int(max(1, (limit - pl_start).max(initial=0) // 161 + 2))
    first = np.where(rev_on_time, 89 - rng.integers(1, 21, npl), 92 + rng.integers(7, 46, npl))
    gaps = 182 - rng.integers(1, 22, (npl, max(k - 1, 0)))
    offs = np.concatenate([first[:, None], first[:, None] + np.cumsum(gaps, axis=1)], axis=1)
    rev = pl_start[:, None] + offs
    valid = rev <= limit[:, None]
    rp, _ = np.nonzero(valid)
    sim.tables["cp_reviews"] = {"plan": rp, "day": rev[valid], "child": pl_child[rp]}

    # ---- LADO allegations -----------------------------------------------------
    sim.tables["allegations"] = _simulate_lado(p, rng, cal, days, w, fy, annual)
    # ---- private fostering ------------------------------------------------------
    sim.tables["private_fostering"] = _simulate_pf(p, rng, cal, days, w, fy, annual, window_end)
    sim.tables["children"] = {"dob": dob, "sex": sex, "eth": eth, "disabled": disabled}
    win = [str(y) for y in range(end_year - years + 1, end_year + 1)]

    def by_year(d: np.ndarray) -> dict[str, int]:
        c = pd.Series(_fy(d)).value_counts()
        return {y: int(c.get(int(y), 0)) for y in win}

    sim.realised["started_by_year"] = {"referrals": by_year(day), "s47": by_year(s47_day),
                                       "icpc": by_year(ic_day), "cp_plans": by_year(pl_start)}
    return sim


def _daily_events(rng: np.random.Generator, days: np.ndarray, w: np.ndarray, fy: np.ndarray,
                  annual: dict[int, float], rate: float, weekdays_only: bool) -> np.ndarray:
    ww = w.copy()
    if weekdays_only:
        ww[(days + 3) % 7 >= 5] = 0.0
    lam = np.zeros(days.size)
    for y, a in annual.items():
        sel = fy == y
        lam[sel] = ww[sel] * a * rate / ww[sel].sum()
    return np.repeat(days, rng.poisson(lam))


def _simulate_lado(p: SynthParams, rng: np.random.Generator, cal: _Calendar, days: np.ndarray, w: np.ndarray,
                   fy: np.ndarray, annual: dict[int, float]) -> dict[str, np.ndarray]:
    ref = _daily_events(rng, days, w, fy, annual, p.lado_per_referral, True)
    m = ref.size
    dur = np.round(np.exp(np.log(p.lado_median_days) + p.lado_sigma * rng.standard_normal(m))).astype(np.int64)
    concl = cal.offset(ref + np.maximum(dur, 1), 0)
    sector = _choice(rng, p.lado_sector_mix, m)
    category = _choice(rng, p.lado_category_mix, m)
    outcome = _choice(rng, p.lado_outcome_mix, m)
    subst = outcome == "substantiated"
    n_actions = np.where(subst, rng.choice(4, m, p=[0.15, 0.35, 0.30, 0.20]),
                         rng.choice(4, m, p=[0.55, 0.30, 0.12, 0.03]))
    keys = list(LADO_ACTIONS)
    wts = np.where(subst[:, None], np.array([LADO_ACTIONS[a][1] for a in keys])[None, :],
                   np.array([LADO_ACTIONS[a][2] for a in keys])[None, :])
    # weighted sampling without replacement (Gumbel top-k), in a fixed action order
    score = np.log(wts) - np.log(-np.log(rng.random((m, len(keys)))))
    rank = np.argsort(np.argsort(-score, axis=1), axis=1)
    chosen = rank < n_actions[:, None]
    labels = np.array([LADO_ACTIONS[a][0] for a in keys], dtype=object)
    actions = np.array(["; ".join(labels[row]) for row in chosen], dtype=object)
    notes = np.array(LADO_NOTES, dtype=object)[rng.integers(0, len(LADO_NOTES), m)]
    return {"day": ref, "concluded": concl, "sector": sector, "category": category, "outcome": outcome,
            "actions": actions, "notes": notes}


def _simulate_pf(p: SynthParams, rng: np.random.Generator, cal: _Calendar, days: np.ndarray, w: np.ndarray,
                 fy: np.ndarray, annual: dict[int, float], window_end: int) -> dict[str, np.ndarray]:
    note = _daily_events(rng, days, w, fy, annual, p.pf_per_referral, True)
    m = note.size
    confirmed = rng.random(m) < p.pf_confirmed_rate
    on_time = rng.random(m) < p.pf_visit_7wd_rate
    visit = cal.offset(note, np.where(on_time, rng.integers(1, 6, m), rng.integers(9, 26, m)))
    start = note - np.where(rng.random(m) < 0.7, rng.integers(0, 60, m), -rng.integers(1, 20, m))
    dur = np.round(np.exp(np.log(p.pf_median_days) + 0.8 * rng.standard_normal(m))).astype(np.int64)
    end = start + np.maximum(dur, 28)
    age = np.where(rng.random(m) < 0.6, rng.uniform(12, 15.9, m), rng.uniform(0.2, 12, m))
    dob = note - np.floor(age * 365.25).astype(np.int64)
    end = np.minimum(end, _add_years(dob, 16))
    start = np.where(confirmed, start, NA_DAY)
    end = np.where(confirmed & (end <= window_end), end, NA_DAY)
    visit = np.where(visit <= window_end, visit, NA_DAY)
    sex = _choice(rng, p.sex_mix, m)
    eth = _choice(rng, p.ethnicity_mix, m)
    disabled = rng.random(m) < p.disability_rate
    return {"day": note, "confirmed": confirmed, "visit": visit, "start": start, "end": end,
            "on_time": on_time, "dob": dob, "sex": sex, "eth": eth, "disabled": disabled}


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
                  links: dict[str, Any] | None = None) -> dict[str, SourceTable]:
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


_XLSX_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _col_letters(n: int) -> list[str]:
    out = []
    for i in range(n):
        s, k = "", i + 1
        while k:
            k, r = divmod(k - 1, 26)
            s = chr(65 + r) + s
        out.append(s)
    return out


def _xlsx_bytes(sheet: str, rows: list[list[Any]], bold_rows: int, title: str) -> bytes:
    """A minimal, deterministic .xlsx: one sheet, inline strings, dates as serials with dd/mm/yyyy.

    Written directly (not with openpyxl) because it is ten times faster for the
    England run and gives identical bytes for identical content.
    """
    letters = _col_letters(max((len(r) for r in rows), default=1))
    parts = []
    for i, row in enumerate(rows, start=1):
        bold = ' s="2"' if i <= bold_rows else ""
        cells = []
        for letter, v in zip(letters, row, strict=False):
            if v is None or v == "":
                continue
            ref = f"{letter}{i}"
            if isinstance(v, ExcelDate):
                cells.append(f'<c r="{ref}" s="1"><v>{int(v)}</v></c>')
            elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                cells.append(f'<c r="{ref}"{bold}><v>{v}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"{bold}><is><t xml:space="preserve">'
                             f"{xml_escape(str(v))}</t></is></c>")
        parts.append(f'<row r="{i}">{"".join(cells)}</row>')
    sheet_xml = f'{_XML_HEAD}<worksheet xmlns="{_XLSX_NS}"><sheetData>{"".join(parts)}</sheetData></worksheet>'
    files = {
        "[Content_Types].xml": (
            f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.'
            'core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'extended-properties+xml"/></Types>'),
        "_rels/.rels": (
            f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
            'core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL_NS}/extended-properties" Target="docProps/app.xml"/>'
            "</Relationships>"),
        "docProps/app.xml": (
            f'{_XML_HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            'extended-properties"><Application>safeguarding.synth</Application></Properties>'),
        "docProps/core.xml": (
            f'{_XML_HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:title>{xml_escape(title)}</dc:title><dc:creator>safeguarding.synth (synthetic data)</dc:creator>"
            "</cp:coreProperties>"),
        "xl/workbook.xml": (
            f'{_XML_HEAD}<workbook xmlns="{_XLSX_NS}" xmlns:r="{_REL_NS}"><sheets>'
            f'<sheet name="{xml_escape(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL_NS}/styles" Target="styles.xml"/></Relationships>'),
        "xl/styles.xml": (
            f'{_XML_HEAD}<styleSheet xmlns="{_XLSX_NS}">'
            '<numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts>'
            '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
            '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, text.encode("utf-8"))
    return buf.getvalue()


def _write_csv(tab: SourceTable, path: Path, encoding: str, quote_all: bool, crlf: bool) -> int:
    cols = tab.rendered_columns()
    buf = io.StringIO(newline="")
    w = csv.writer(buf, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
                   lineterminator="\r\n" if crlf else "\n")
    w.writerow(tab.headers)
    w.writerows(zip(*(cols[h].tolist() for h in tab.headers), strict=True))
    path.write_bytes(buf.getvalue().encode(encoding))
    return len(cols[tab.headers[0]])


def _write_plans_xlsx(tab: SourceTable, path: Path, council: str, extract: dt.date) -> int:
    cols = tab.rendered_columns(excel=True)
    data = [list(r) for r in zip(*(cols[h] for h in tab.headers), strict=True)]
    title = f"{council} Children's Services – Child protection plans (synthetic data, not real children)"
    rows = [[title], [f"Extract date: {extract:%d/%m/%Y}"], list(tab.headers), *data]
    path.write_bytes(_xlsx_bytes(FILES["cp_plans.xlsx"]["sheet"], rows, bold_rows=3, title=title))
    return len(data)


def _police_return(tables: dict[str, SourceTable], p: SynthParams, rng: np.random.Generator, end_year: int,
                   population: float, rate: float, file: str = AGGREGATE_FILE
                   ) -> tuple[list[list[Any]], list[dict[str, Any]], dict[str, Any]]:
    ref = tables["referrals.csv"]
    day = ref.data["Date of Referral"]
    police = ref.data["Source of Referral"] == REFERRAL_SOURCES["6"][0]
    y, m = _ymd(day)
    fy = y + (m >= 4)
    fm = (m - 4) % 12  # 0 = April
    cp = np.bincount(fm[police & (fy == end_year)], minlength=12).astype(np.int64)
    da = rng.poisson(cp * p.police_da_per_police_referral)
    miss = rng.poisson(np.full(12, population / 10_000 * p.missing_episodes_per_10k_month))
    values = {"POLICE_DA_NOTIFICATIONS": da, "POLICE_CP_REFERRALS": cp, "POLICE_MISSING_EPISODES": miss}
    rows: list[list[Any]] = []
    faults: list[dict[str, Any]] = []
    bad_row = int(rng.integers(len(POLICE_MEASURES))) if rate > 0 else -1
    for i, (label, code) in enumerate(POLICE_MEASURES):
        months = [int(x) for x in values[code]]
        ytd = sum(months)
        if i == bad_row:
            wrong = ytd + int(rng.choice([-12, -5, -1, 3, 10, 20]))
            faults.append({"file": file, "kind": "ytd_mismatch", "row": 3 + i, "column": "YTD",
                           "label": label, "value": str(wrong), "sum_of_months": ytd})
            ytd = wrong
        rows.append([label, *months, ytd])
    truth = {code: {"months": dict(zip(FY_MONTHS, [int(x) for x in values[code]], strict=True)),
                    "total": int(values[code].sum())} for _, code in POLICE_MEASURES}
    return rows, faults, truth


def _write_police_xlsx(path: Path, rows: list[list[Any]], council: str, end_year: int) -> None:
    title = (f"Northshire Police – monthly return to the {council} Safeguarding Children Partnership, "
             f"{end_year - 1}-{end_year % 100:02d} (synthetic)")
    sheet = [[title], ["Measure", *FY_MONTHS, "YTD"], *rows]
    path.write_bytes(_xlsx_bytes(AGGREGATE_SHEET, sheet, bold_rows=2, title=title))


def _population(p: SynthParams, years: int, end_year: int) -> dict[str, int]:
    pop_end = p.referrals_per_year / p.referral_rate_per_10k * 10_000
    return {str(y): round(pop_end * (1 + p.population_growth) ** (y - end_year))
            for y in range(end_year - years + 1, end_year + 1)}


def _mix_with_labels(mix: dict[str, float], labels: dict[str, tuple]) -> dict[str, dict[str, Any]]:
    total = sum(mix.values())
    return {k: {"share": round(v / total, 6), "source_label": labels[k][0]} for k, v in mix.items()}


def _lognormal_cdf(x: float, median: float, sigma: float) -> float:
    return 0.5 * math.erfc(-(math.log(x) - math.log(median)) / (sigma * math.sqrt(2)))


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
    links: dict[str, Any] = {}
    tables = _build_tables(sim, params, id_rng, name, links)
    _inject(tables, fault_rng, fault_rate)

    out_dir.mkdir(parents=True, exist_ok=True)
    extract = _date(sim.window_end)
    files: dict[str, dict[str, Any]] = {}
    faults: list[dict[str, Any]] = []
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


def inputs_config(folder: str = "data/raw/demo", fmt: str = "csv") -> dict[str, dict[str, Any]]:
    """The report.yml ``inputs:`` section describing a generated council in ``folder``.

    ``codes`` lists only the source labels that the built-in aliases of
    :mod:`safeguarding.schema` do not resolve to the right code. With
    ``fmt="cin_census"`` the six child-level entities point at the census file.
    """
    from safeguarding.schema import ENTITIES, build_aliases, normalise_code_text

    labels = _source_labels()
    out: dict[str, dict[str, Any]] = {}
    for fname, meta in FILES.items():
        entity = meta["entity"]
        if fmt == "cin_census":
            from safeguarding.synth import cin_census

            if fname in cin_census.REPLACES:
                out[entity] = {"file": f"{folder.rstrip('/')}/{cin_census.CIN_FILE}", "format": "cin_census"}
                continue
        spec: dict[str, Any] = {"file": f"{folder.rstrip('/')}/{fname}"}
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
                      previous: bool = True) -> list[dict[str, Any]]:
    """The report.yml ``aggregates:`` section for the generated police returns.

    The reporting year's return first, then (``previous``: a council generated
    with two years or more) the year before's.
    """
    def entry(file: str, year: int) -> dict[str, Any]:
        return {"file": f"{folder.rstrip('/')}/{file}", "layout": "wide", "sheet": AGGREGATE_SHEET,
                "header_row": 2, "financial_year": year, "label_column": "Measure", "ytd_column": "YTD",
                "rows": {label: code for label, code in POLICE_MEASURES}}

    out = [entry(AGGREGATE_FILE, end_year)]
    if previous:
        out.append(entry(previous_aggregate_file(end_year), end_year - 1))
    return out
