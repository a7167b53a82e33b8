"""The synthetic council's parameters, code lists and mixes (what the generator draws from)."""

from __future__ import annotations

from dataclasses import dataclass, field

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
