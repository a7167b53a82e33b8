"""Hand-computed fixtures for every indicator definition.

Each fixture is a handful of children whose answers are worked out on paper in
the comments. Dates: financial year 2023-24 runs 1 April 2023 - 31 March 2024.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from safeguarding.indicators import compute_indicators, load_catalogue
from safeguarding.indicators.methods.cp_plans import review_late_from, subsequent_plans

D = pd.Timestamp
NAT = pd.NaT
CAT = load_catalogue()


def row(out, code, period_type, start, breakdown="all", value="all"):
    sel = out[(out.indicator_id == code) & (out.period_type == period_type)
              & (out.period_start == D(start)) & (out.breakdown == breakdown) & (out.breakdown_value == value)]
    assert len(sel) == 1, (code, period_type, start, breakdown, value, len(sel))
    return sel.iloc[0]


def run(tables, codes, **kw):
    return compute_indicators(tables, CAT.select(codes), **kw)


# ----------------------------------------------------------------------------- CP plans
#
# Plan data start on 10/01/2018 (plan A1), so a child born before then with no
# recorded previous_plans has unknown history.
#
# child dob         plan  start       end         prev  on paper
# A     01/06/2015  A1    10/01/2018  01/06/2018  -     first plan in data, A born before data -> unknown
#                   A2    01/03/2019  01/09/2019  -     subsequent (A1 earlier)
#                   A3    15/05/2023  open        -     subsequent: third plan
# B     29/02/2012  B1    29/02/2020  28/02/2022  -     ended 2021-22, 2 years reached 01/03/2022 -> NOT 2 years
# C     01/01/2010  C1    01/03/2020  01/03/2022  -     ended 2021-22, exactly 2 years -> 2 years
#                   C2    01/06/2022  01/12/2022  -     subsequent, 2022-23
# D     05/05/2008  D1    01/06/2023  01/06/2023  0     starts and ends the same day: started, ended, never open;
#                                                       recorded 0 -> known first plan
# E     01/01/2005  E1    01/07/2023  open        -     no earlier plan, born before data -> unknown history
# F     01/01/2019  F1    01/08/2023  open        -     born after the data start -> known first plan
# G     09/09/2009  G1    01/09/2023  open        2     recorded previous plans -> subsequent
# H     01/12/2023  H1    01/10/2023  open        -     unborn at start; born after data start -> first
# I     15/03/2011  I1    31/03/2022  open        -     at 31/03/2024 exactly 24 months -> "2 years or more"
# J     01/01/2016  J1    31/12/2023  open        0     first review due 31/03/2024 (not yet late on 31/03)
#
# Started 2023-24: A3 S, D1 F, E1 U, F1 F, G1 S, H1 F, J1 F -> 2/7 = 28.57%, unknown 1.
# Open at 31/03/2024: A3 E1 F1 G1 H1 I1 J1 = 7 (D1 never open). Lengths so far (months):
#   A3 10, E1 8, F1 7, G1 6, H1 5, I1 24, J1 3 -> D5: 3-6m {H1,J1}=2, 6m-1y {A3,E1,F1,G1}=4, 2y+ {I1}=1.
#   6-monthly: under 6m 2, 6m-1y 4, 2y+ 1.   CPP_OPEN_2YRS = 1/7 = 14.29%.
#   Ages at 31/03/2024: A 8, E 19, F 5, G 14, H 0, I 13, J 8 -> Under 1: 1, 5-9: 3, 10-15: 2, 16+: 1.
#   Rate with 20,000 children: 7 / 20000 * 10000 = 3.5.
# Reviews (first within 3 months of start, then within 6 months of the previous):
#   A3 due 15/08/23, held 15/08/23 (on the due day) -> due 15/02/24, held 10/02/24 -> on time
#   E1 due 01/10/23, held 02/10/23 -> late from 02/10/23
#   F1 due 01/11/23, never held -> late from 02/11/23
#   G1 due 01/12/23, held 20/11/23 -> on time;  H1 due 01/01/24, held 29/12/23 -> on time
#   I1 due "31/06/22" = 01/07/22, held 01/07/22; 30/12/22; 30/06/23; 30/12/23 (each exactly 6 months) -> on time
#   J1 due 31/03/24, none held: on 31/03/24 not yet overdue -> on time
#   At 31/03/2024 all 7 have lasted >= 3 months: on time A3 G1 H1 I1 J1 = 5/7 = 71.43%.
#   At 31/10/2023: open A3 E1 F1 G1 H1 I1; >= 3 months: A3 (5m), E1 (01/07->31/10 = 3m), I1 -> 3;
#       on time A3, I1 -> 2/3.
#   At 30/11/2023: >= 3 months A3, E1, F1 (01/08->30/11 = 3m), I1 -> on time A3, I1 -> 2/4 = 50%.
# Ended 2021-22: B1 (not 2y), C1 (2y) -> CPP_ENDED_2YRS 50%. Ended 2023-24: D1 (0 days) -> 0%.


def plan_tables():
    children = pd.DataFrame({
        "child_id": list("ABCDEFGHIJ"),
        "date_of_birth": [D("2015-06-01"), D("2012-02-29"), D("2010-01-01"), D("2008-05-05"), D("2005-01-01"),
                          D("2019-01-01"), D("2009-09-09"), D("2023-12-01"), D("2011-03-15"), D("2016-01-01")],
        "sex": ["M", "F", "F", "M", "F", "M", "F", "U", "M", "F"],
        "ethnicity": ["WBRI", "BAFR", "AIND", "WBRI", "MWBC", None, "WBRI", "NOBT", "CHNE", "WIRI"],
    })
    p = [
        ("A1", "A", "2018-01-10", "2018-06-01", "NEG", None),
        ("A2", "A", "2019-03-01", "2019-09-01", "NEG", None),
        ("A3", "A", "2023-05-15", None, "PHY", None),
        ("B1", "B", "2020-02-29", "2022-02-28", "EMO", None),
        ("C1", "C", "2020-03-01", "2022-03-01", "NEG", None),
        ("C2", "C", "2022-06-01", "2022-12-01", "NEG", None),
        ("D1", "D", "2023-06-01", "2023-06-01", "EMO", 0),
        ("E1", "E", "2023-07-01", None, "NEG", None),
        ("F1", "F", "2023-08-01", None, "SAB", None),
        ("G1", "G", "2023-09-01", None, "NEG", 2),
        ("H1", "H", "2023-10-01", None, "NEG", None),
        ("I1", "I", "2022-03-31", None, "MUL", None),
        ("J1", "J", "2023-12-31", None, "EMO", 0),
    ]
    plans = pd.DataFrame(p, columns=["plan_id", "child_id", "plan_start_date", "plan_end_date",
                                     "initial_category", "previous_plans"])
    plans["plan_start_date"] = pd.to_datetime(plans["plan_start_date"])
    plans["plan_end_date"] = pd.to_datetime(plans["plan_end_date"])
    plans["previous_plans"] = plans["previous_plans"].astype("Int64")
    reviews = pd.DataFrame([
        ("A3", "2023-08-15"), ("A3", "2024-02-10"), ("E1", "2023-10-02"), ("G1", "2023-11-20"),
        ("H1", "2023-12-29"), ("I1", "2022-07-01"), ("I1", "2022-12-30"), ("I1", "2023-06-30"),
        ("I1", "2023-12-30"),
    ], columns=["plan_id", "review_date"])
    reviews["review_date"] = pd.to_datetime(reviews["review_date"])
    return {"children": children, "cp_plans": plans, "cp_reviews": reviews}


PLAN_CODES = ["CPP_STARTED", "CPP_SUBSEQUENT", "CPP_ENDED", "CPP_ENDED_2YRS", "CPP_OPEN", "CPP_OPEN_2YRS",
              "CPP_OPEN_3_6M", "CPP_OPEN_6M_1Y", "CPP_OPEN_UNDER_3M", "CPP_RATE", "CPP_REVIEWS_ON_TIME"]


@pytest.fixture(scope="module")
def plans_out():
    return run(plan_tables(), PLAN_CODES, population={2024: 20000}, end="2024-03-31", data_end="2024-03-31")


def test_cpp_subsequent_counts_every_earlier_plan_and_reports_unknown_history(plans_out):
    r = row(plans_out, "CPP_SUBSEQUENT", "year", "2023-04-01")
    assert (r.numerator, r.denominator, r.unknown) == (2, 7, 1)
    assert r.value == pytest.approx(200 / 7)
    # one plan: said in the singular (the board read "1 plans have unknown history")
    assert "1 plan has unknown history (no recorded previous plan and" in r.note, r.note
    assert "counted as a first plan, so the figure is a lower bound" in r.note and "plans" not in r.note
    r = row(plans_out, "CPP_SUBSEQUENT", "year", "2022-04-01")   # C2 only: subsequent
    assert (r.numerator, r.denominator, r.value, r.unknown) == (1, 1, 100.0, 0)
    r = row(plans_out, "CPP_SUBSEQUENT", "year", "2021-04-01")   # I1 only: unknown history
    assert (r.numerator, r.denominator, r.unknown) == (0, 1, 1)


def test_subsequent_previous_plans_recorded_vs_not():
    t = plan_tables()
    cls = subsequent_plans(t["cp_plans"], t["children"].set_index("child_id")["date_of_birth"], D("2018-01-10"))
    got = dict(zip(t["cp_plans"]["plan_id"], zip(cls.subsequent, cls.unknown, strict=True), strict=True))
    assert got["A1"] == (False, True)     # opened the data: history unknown
    assert got["A3"] == (True, False)     # third plan
    assert got["D1"] == (False, False)    # recorded 0 previous plans: known first
    assert got["E1"] == (False, True)     # same situation, nothing recorded: unknown
    assert got["G1"] == (True, False)     # recorded 2
    assert got["F1"] == (False, False)    # born after the data start


def test_cpp_started_and_ended_same_day_plan(plans_out):
    assert row(plans_out, "CPP_STARTED", "year", "2023-04-01").value == 7
    assert row(plans_out, "CPP_STARTED", "month", "2023-06-01").value == 1     # D1
    assert row(plans_out, "CPP_ENDED", "month", "2023-06-01").value == 1       # D1
    assert row(plans_out, "CPP_OPEN", "month", "2023-06-01").value == 2        # A3, I1 (not D1)
    assert row(plans_out, "CPP_ENDED", "year", "2023-04-01").value == 1


def test_cpp_ended_2yrs_leap_day(plans_out):
    r = row(plans_out, "CPP_ENDED_2YRS", "year", "2021-04-01")
    assert (r.numerator, r.denominator, r.value) == (1, 2, 50.0)
    r = row(plans_out, "CPP_ENDED_2YRS", "year", "2023-04-01")
    assert (r.numerator, r.denominator, r.value) == (0, 1, 0.0)
    by_cat = row(plans_out, "CPP_ENDED_2YRS", "year", "2021-04-01", "latest_category", "Neglect")
    assert (by_cat.numerator, by_cat.denominator) == (1, 1)                   # C1


def test_zero_denominator_is_no_data_not_zero(plans_out):
    r = row(plans_out, "CPP_ENDED_2YRS", "month", "2023-07-01")               # nothing ended in July 2023
    assert r.status == "no data" and np.isnan(r.value)
    assert (r.numerator, r.denominator) == (0, 0)
    assert "denominator" in r.note
    # a count in a covered month with nothing happening is a true zero
    r = row(plans_out, "CPP_ENDED", "month", "2023-07-01")
    assert r.status == "ok" and r.value == 0


def test_cpp_open_bands_and_age(plans_out):
    assert row(plans_out, "CPP_OPEN", "year", "2023-04-01").value == 7
    q4 = row(plans_out, "CPP_OPEN", "quarter", "2024-01-01")
    assert q4.value == 7 and q4.period_end == D("2024-03-31")
    expect_d5 = {"Under 3 months": 0, "3 months to under 6 months": 2, "6 months to under 1 year": 4,
                 "1 year to under 2 years": 0, "2 years or more": 1}
    for band, n in expect_d5.items():
        assert row(plans_out, "CPP_OPEN", "year", "2023-04-01", "plan_length", band).value == n, band
    expect_6m = {"Under 6 months": 2, "6 months to under 1 year": 4, "1 year to under 18 months": 0,
                 "18 months to under 2 years": 0, "2 years or more": 1}
    for band, n in expect_6m.items():
        assert row(plans_out, "CPP_OPEN", "year", "2023-04-01", "plan_length_6m", band).value == n, band
    ages = {"Under 1": 1, "1-4": 0, "5-9": 3, "10-15": 2, "16+": 1}
    for band, n in ages.items():
        assert row(plans_out, "CPP_OPEN", "year", "2023-04-01", "age_band", band).value == n, band
    r = row(plans_out, "CPP_OPEN_2YRS", "year", "2023-04-01")
    assert (r.numerator, r.denominator) == (1, 7) and r.value == pytest.approx(100 / 7)
    assert row(plans_out, "CPP_OPEN_6M_1Y", "year", "2023-04-01").numerator == 4
    assert row(plans_out, "CPP_OPEN_3_6M", "year", "2023-04-01").numerator == 2
    # at 31/03/2023 only I1 is open, 12 months old
    assert row(plans_out, "CPP_OPEN", "year", "2022-04-01", "plan_length", "1 year to under 2 years").value == 1


def test_unborn_child_age_band():
    out = run(plan_tables(), ["CPP_STARTED"], end="2024-03-31", data_end="2024-03-31")
    assert row(out, "CPP_STARTED", "month", "2023-10-01", "age_band", "Unborn").value == 1   # H1


def test_cpp_rate_uses_population_of_the_year(plans_out):
    r = row(plans_out, "CPP_RATE", "year", "2023-04-01")
    assert (r.numerator, r.denominator, r.value) == (7, 20000, 3.5)
    r = row(plans_out, "CPP_RATE", "year", "2022-04-01")                      # no population for 2023
    assert r.status == "not available" and np.isnan(r.value) and "2022-23" in r.note


def test_reviews_on_time(plans_out):
    r = row(plans_out, "CPP_REVIEWS_ON_TIME", "year", "2023-04-01")
    assert (r.numerator, r.denominator) == (5, 7) and r.value == pytest.approx(500 / 7)
    r = row(plans_out, "CPP_REVIEWS_ON_TIME", "month", "2023-10-01")
    assert (r.numerator, r.denominator) == (2, 3)
    r = row(plans_out, "CPP_REVIEWS_ON_TIME", "month", "2023-11-01")
    assert (r.numerator, r.denominator) == (2, 4)
    assert r.target == 95 and r.rag == "Red"


def test_review_late_from_dates():
    t = plan_tables()
    late = dict(zip(t["cp_plans"].plan_id, review_late_from(t["cp_plans"], t["cp_reviews"]), strict=True))
    assert late["E1"] == D("2023-10-02")
    assert late["F1"] == D("2023-11-02")
    assert late["J1"] == D("2024-04-01")       # due 31/03/2024, late from the next day
    assert late["I1"] == D("2024-07-01")       # next due 30/06/2024


# ----------------------------------------------------------------------------- referrals
#
# Referral data start 01/04/2022, so referrals before 01/04/2023 cannot see a full year back.
# child dates (source)                           on paper
# R0    01/04/22 (2A)                            2022-23: not re-referral, lookback incomplete
# R1    10/05/22 (6); 09/05/23 (6) x2            09/05/23 is before 10/05/23 (12 months after 10/05/22):
#                                                both copies are re-referrals; the second is a same-day duplicate
# R2    28/02/23 (2A); 28/02/24 (2A)             exactly 12 months later: NOT a re-referral
# R3    01/03/23 (3A); 29/02/24 (3A)             29/02/24 is before 01/03/24: re-referral (leap year)
# R4    10/06/23 (2A) x2                         same-day duplicate only: not re-referrals
# R5    01/07/23, 01/08/23, 01/09/23 (6)         2nd and 3rd are re-referrals; referrals in 12m: 1, 2, 3+
# R6    15/06/22; 15/06/23 (no source)           exactly 12 months: not
#
# 2023-24: 10 referrals (R1 x2, R2, R3, R4 x2, R5 x3, R6), re-referrals R1 x2, R3, R5 x2 = 5 -> 50%, unknown 0,
#          2 same-day duplicates. Sources: Police 5, Schools 3, Health 1, Not recorded 1.
#          Referrals in 12 months: "1" R2, R5a, R6 = 3; "2" R3, R4 x2, R5b = 4; "3+" R1 x2, R5c = 3.
#          Rate with 5,000 children: 10 / 5000 * 10000 = 20.
# 2022-23: 5 referrals, 0 re-referrals, all 5 unknown (first year of data).
# January 2024: no referrals -> REFERRALS 0 (ok), REREFERRALS_12M no data.


def referral_tables():
    r = [("R0", "2022-04-01", "2A"), ("R1", "2022-05-10", "6"), ("R1", "2023-05-09", "6"),
         ("R1", "2023-05-09", "6"), ("R2", "2023-02-28", "2A"), ("R2", "2024-02-28", "2A"),
         ("R3", "2023-03-01", "3A"), ("R3", "2024-02-29", "3A"), ("R4", "2023-06-10", "2A"),
         ("R4", "2023-06-10", "2A"), ("R5", "2023-07-01", "6"), ("R5", "2023-08-01", "6"),
         ("R5", "2023-09-01", "6"), ("R6", "2022-06-15", None), ("R6", "2023-06-15", None)]
    df = pd.DataFrame(r, columns=["child_id", "referral_date", "referral_source"])
    df["referral_id"] = [f"ref{i}" for i in range(len(df))]
    df["referral_date"] = pd.to_datetime(df["referral_date"])
    df["nfa"] = pd.array([True, False] * 7 + [True], dtype="boolean")
    return {"referrals": df}


@pytest.fixture(scope="module")
def ref_out():
    return run(referral_tables(), ["REFERRALS", "REFERRAL_RATE", "REREFERRALS_12M"],
               population={2024: 5000}, end="2024-03-31", data_end="2024-03-31")


def test_rereferrals(ref_out):
    r = row(ref_out, "REREFERRALS_12M", "year", "2023-04-01")
    assert (r.numerator, r.denominator, r.value, r.unknown) == (5, 10, 50.0, 0)
    r = row(ref_out, "REREFERRALS_12M", "year", "2022-04-01")
    assert (r.numerator, r.denominator, r.unknown) == (0, 5, 5)
    assert "5 referrals fall less than 12 months after the referral data starts" in r.note, r.note
    # April 2022 (R0 alone): one referral, said in the singular
    r = row(ref_out, "REREFERRALS_12M", "month", "2022-04-01")
    assert r.unknown == 1 and r.note.startswith("1 referral falls less than 12 months after the referral data "
                                                "starts, so a previous referral may be missing (counted as not a "
                                                "re-referral)"), r.note
    assert row(ref_out, "REREFERRALS_12M", "month", "2024-02-01").numerator == 1   # R3 yes, R2 no
    r = row(ref_out, "REREFERRALS_12M", "month", "2024-01-01")
    assert r.status == "no data" and np.isnan(r.value)


def test_referrals_counts_duplicates_and_breakdowns(ref_out):
    r = row(ref_out, "REFERRALS", "year", "2023-04-01")
    assert r.value == 10 and "2 same-child same-day referrals (possible duplicates) are included" in r.note
    # June 2023: R4's second copy, one duplicate (R6 on 15/06 is another child)
    assert "1 same-child same-day referral (possible duplicate) is included" in \
        row(ref_out, "REFERRALS", "month", "2023-06-01").note
    assert row(ref_out, "REFERRALS", "month", "2024-01-01").value == 0
    assert row(ref_out, "REFERRALS", "month", "2024-01-01").status == "ok"
    src = {"Police": 5, "Schools and education": 3, "Health services": 1, "Not recorded": 1, "Housing": 0}
    for k, n in src.items():
        assert row(ref_out, "REFERRALS", "year", "2023-04-01", "referral_source", k).value == n, k
    for k, n in {"1": 3, "2": 4, "3+": 3}.items():
        assert row(ref_out, "REFERRALS", "year", "2023-04-01", "referrals_in_12m", k).value == n, k
    # rolling 12 months to Feb 2024 = Mar 2023 .. Feb 2024: R3 01/03/23 + 2023-24 referrals up to Feb (10)
    assert row(ref_out, "REFERRALS", "rolling12", "2023-03-01").value == 11


def test_referral_rate(ref_out):
    r = row(ref_out, "REFERRAL_RATE", "year", "2023-04-01")
    assert (r.numerator, r.denominator, r.value) == (10, 5000, 20.0)
    assert set(ref_out[ref_out.indicator_id == "REFERRAL_RATE"].period_type) == {"year", "rolling12"}


# ----------------------------------------------------------------------------- S47 and ICPC
#
# child S47 start        ICPC         link       on paper
# K     Wed 20/03/2024   12/04/2024   s47_id     15th working day (Good Friday 29/03 and Easter Monday 01/04
#                                                excluded) -> on time; counting holidays would make it the 17th
# L     Wed 20/03/2024   15/04/2024   by child   16th working day -> late
# M     Fri 15/12/2023   10/01/2024   by child   25, 26 Dec and 1 Jan excluded -> 15th working day -> on time
# N     10/02/2024       01/02/2024   s47_id     ICPC before its S47: invalid, excluded
# O     (none)           11/11/2023   -          no S47: excluded
# P     01/06 and 01/09/2023  20/09/2023 by child latest S47 before is 01/09 -> 13th working day -> on time
# Q     02/10/2023       02/10/2023   by child   same day -> 0 working days -> on time
# 2023-24: held 5; valid M, P, Q -> 3/3 = 100%. April 2024: K on time, L late -> 1/2.


def icpc_tables():
    s47 = pd.DataFrame([("sK", "K", "2024-03-20"), ("sL", "L", "2024-03-20"), ("sM", "M", "2023-12-15"),
                        ("sN", "N", "2024-02-10"), ("sP1", "P", "2023-06-01"), ("sP2", "P", "2023-09-01"),
                        ("sQ", "Q", "2023-10-02")], columns=["s47_id", "child_id", "s47_start_date"])
    s47["s47_start_date"] = pd.to_datetime(s47["s47_start_date"])
    icpc = pd.DataFrame([("iK", "K", "2024-04-12", "sK"), ("iL", "L", "2024-04-15", None),
                         ("iM", "M", "2024-01-10", None), ("iN", "N", "2024-02-01", "sN"),
                         ("iO", "O", "2023-11-11", None), ("iP", "P", "2023-09-20", None),
                         ("iQ", "Q", "2023-10-02", None)], columns=["icpc_id", "child_id", "icpc_date", "s47_id"])
    icpc["icpc_date"] = pd.to_datetime(icpc["icpc_date"])
    return {"s47": s47, "icpc": icpc}


def test_icpc_15_working_days():
    out = run(icpc_tables(), ["S47_STARTED", "ICPC_HELD", "ICPC_15WD"], start="2023-04-01", end="2024-04-30")
    r = row(out, "ICPC_15WD", "year", "2023-04-01")
    assert (r.numerator, r.denominator, r.value) == (3, 3, 100.0)
    assert "1 ICPC dated before its section 47 start is invalid and excluded" in r.note, r.note
    assert "1 ICPC with no section 47 enquiry for the child is excluded" in r.note and "ICPCs" not in r.note
    assert r.rag == "Green"
    r = row(out, "ICPC_15WD", "month", "2024-04-01")
    assert (r.numerator, r.denominator, r.value) == (1, 2, 50.0)
    assert r.rag == "Red"
    assert row(out, "ICPC_HELD", "year", "2023-04-01").value == 5
    assert row(out, "S47_STARTED", "year", "2023-04-01").value == 7      # all seven enquiries start in 2023-24


# ----------------------------------------------------------------------------- LADO
#
# id  referred    concluded   sector        on paper
# a1  31/01/2024  29/02/2024  education     1 month after 31/01 is "31/02" = 01/03/2024 -> within 1 month
# a2  15/11/2023  15/12/2023  education     exactly 1 month -> within 1 month
# a3  15/11/2023  16/12/2023  health        1 to 3 months
# a4  10/01/2023  10/01/2024  social_care   exactly 12 months -> 3 to 12 months
# a5  01/12/2022  02/01/2024  other         over 12 months
# a6  01/03/2024  open        foster_carers open at 31/03/2024
# a7  05/05/2023  05/05/2023  education     same day -> within 1 month
# Concluded 2023-24: 6; within 1m a1 a2 a7 = 3 (50%), 3m + a3 = 4 (66.7%), 12m + a4 = 5 (83.3%).
# Referred 2023-24: a1 a2 a3 a6 a7 = 5 (education 3, health 1, foster carers 1).
# Open: 31/03/2024 a6 = 1; 31/12/2023 a4 a5 = 2; 30/11/2023 a2 a3 a4 a5 = 4.


def lado_tables():
    a = pd.DataFrame([("a1", "2024-01-31", "2024-02-29", "education"), ("a2", "2023-11-15", "2023-12-15", "education"),
                      ("a3", "2023-11-15", "2023-12-16", "health"), ("a4", "2023-01-10", "2024-01-10", "social_care"),
                      ("a5", "2022-12-01", "2024-01-02", "other"), ("a6", "2024-03-01", None, "foster_carers"),
                      ("a7", "2023-05-05", "2023-05-05", "education")],
                     columns=["allegation_id", "referral_date", "concluded_date", "sector"])
    a["referral_date"] = pd.to_datetime(a["referral_date"])
    a["concluded_date"] = pd.to_datetime(a["concluded_date"])
    a["category"] = ["physical", "sexual", "emotional", "neglect", "physical", "physical", None]
    a["outcome"] = ["substantiated", "unfounded", "false", "malicious", "substantiated", None, "unsubstantiated"]
    return {"allegations": a}


LADO_CODES = ["LADO_REFERRALS", "LADO_CONCLUDED", "LADO_CONCLUDED_1M", "LADO_CONCLUDED_3M",
              "LADO_CONCLUDED_12M", "LADO_OPEN"]


def test_lado_time_to_conclusion_and_open():
    out = run(lado_tables(), LADO_CODES, end="2024-03-31", data_end="2024-03-31")
    exp = {"LADO_CONCLUDED_1M": (3, 80, "Red"), "LADO_CONCLUDED_3M": (4, 90, "Red"),
           "LADO_CONCLUDED_12M": (5, 100, "Red")}
    for code, (n, target, rag) in exp.items():
        r = row(out, code, "year", "2023-04-01")
        assert (r.numerator, r.denominator, r.target, r.rag) == (n, 6, target, rag), code
        assert r.value == pytest.approx(100 * n / 6)
    bands = {"Within 1 month": 3, "1 to 3 months": 1, "3 to 12 months": 1, "Over 12 months": 1}
    for b, n in bands.items():
        assert row(out, "LADO_CONCLUDED", "year", "2023-04-01", "time_to_conclusion", b).value == n, b
    assert row(out, "LADO_REFERRALS", "year", "2023-04-01").value == 5
    assert row(out, "LADO_REFERRALS", "year", "2023-04-01", "sector", "Education").value == 3
    assert row(out, "LADO_OPEN", "year", "2023-04-01").value == 1
    assert row(out, "LADO_OPEN", "month", "2023-12-01").value == 2
    assert row(out, "LADO_OPEN", "month", "2023-11-01").value == 4
    assert row(out, "LADO_CONCLUDED", "year", "2023-04-01", "outcome", "Substantiated").value == 2


def test_config_target_changes_rag():
    cat = CAT.select(["LADO_CONCLUDED_1M"]).with_targets({"LADO_CONCLUDED_1M": 55})
    out = compute_indicators(lado_tables(), cat, end="2024-03-31", data_end="2024-03-31")
    r = row(out, "LADO_CONCLUDED_1M", "year", "2023-04-01")
    assert r.target == 55 and r.rag == "Amber"        # 50 / 55 = 90.9% of target


# ----------------------------------------------------------------------------- private fostering
#
# id   notified    start       end         visit       confirmed  on paper
# pf1  27/03/2024  27/03/2024  -           08/04/2024  yes  28/3 (1), Good Friday & Easter Monday out, 2-5/4 (5),
#                                                          8/4 (6) -> within 7 working days
# pf2  20/12/2023  02/01/2024  -           02/01/2024  yes  21,22,27,28,29 Dec, 2 Jan -> 6th -> on time
# pf3  01/06/2023  01/06/2023  31/03/2024  13/06/2023  yes  8th working day -> late; ends on 31/03 -> not open then
# pf4  03/07/2023  03/07/2023  -           none        yes  no visit -> not on time
# pf5  01/08/2023  -           -           -           no   notification only
# pf6  28/04/2023  01/05/2023  31/10/2023  02/05/2023  yes  1 May 2023 bank holiday -> 1st working day
# 2023-24: notifications 6, new 5 (pf1 pf2 pf3 pf4 pf6), ended 2 (pf3, pf6), open at 31/03/2024 2 (pf1 pf2; pf4 too
#          -> 3), visits on time pf1 pf2 pf6 = 3/5 = 60%. Open at 31/10/2023: pf3 pf4 = 2.


def pf_tables():
    p = pd.DataFrame([
        ("pf1", "X1", "2024-03-27", True, "2024-04-08", "2024-03-27", None),
        ("pf2", "X2", "2023-12-20", True, "2024-01-02", "2024-01-02", None),
        ("pf3", "X3", "2023-06-01", True, "2023-06-13", "2023-06-01", "2024-03-31"),
        ("pf4", "X4", "2023-07-03", True, None, "2023-07-03", None),
        ("pf5", "X5", "2023-08-01", False, None, None, None),
        ("pf6", "X6", "2023-04-28", True, "2023-05-02", "2023-05-01", "2023-10-31"),
    ], columns=["pf_id", "child_id", "notification_date", "confirmed", "initial_visit_date",
                "arrangement_start_date", "arrangement_end_date"])
    for c in ("notification_date", "initial_visit_date", "arrangement_start_date", "arrangement_end_date"):
        p[c] = pd.to_datetime(p[c])
    p["confirmed"] = p["confirmed"].astype("boolean")
    return {"private_fostering": p}


def test_private_fostering():
    out = run(pf_tables(), ["PF_NOTIFICATIONS", "PF_NEW", "PF_ENDED", "PF_OPEN", "PF_VISIT_7WD"],
              start="2023-04-01", end="2024-03-31", data_end="2024-04-08")
    assert row(out, "PF_NOTIFICATIONS", "year", "2023-04-01").value == 6
    assert row(out, "PF_NEW", "year", "2023-04-01").value == 5
    assert row(out, "PF_ENDED", "year", "2023-04-01").value == 2
    assert row(out, "PF_OPEN", "year", "2023-04-01").value == 3
    assert row(out, "PF_OPEN", "month", "2023-10-01").value == 2
    r = row(out, "PF_VISIT_7WD", "year", "2023-04-01")
    assert (r.numerator, r.denominator, r.value) == (3, 5, 60.0)
    assert "1 new arrangement has no initial visit recorded (counted as not on time)" in r.note, r.note


# ----------------------------------------------------------------------------- bad input, aggregates, local


def test_missing_table_gives_not_available_and_the_rest_compute():
    out = compute_indicators(referral_tables(), CAT, population={2024: 5000}, end="2024-03-31")
    pf = out[out.indicator_id == "PF_VISIT_7WD"]
    assert len(pf) > 0 and (pf.status == "not available").all()
    assert pf.note.str.contains("private_fostering table was not supplied").all()
    assert row(out, "REFERRALS", "year", "2023-04-01").value == 10
    assert set(CAT) == set(out.indicator_id)      # every indicator is present, explicitly


def test_period_after_data_end_is_no_data():
    out = run(referral_tables(), ["REFERRALS"], end="2024-06-30", data_end="2024-03-31")
    r = row(out, "REFERRALS", "month", "2024-05-01")
    assert r.status == "no data" and np.isnan(r.value) and np.isnan(r.numerator)
    q = row(out, "REFERRALS", "year", "2024-04-01")
    assert q.status == "no data"
    y = row(out, "REFERRALS", "year", "2023-04-01")
    assert y.status == "ok" and y.value == 10


def test_aggregate_returns_enter_the_table():
    months = pd.date_range("2023-04-01", "2024-03-01", freq="MS")
    agg = pd.DataFrame({"indicator_id": "POLICE_DA_NOTIFICATIONS", "period_type": "month", "period_start": months,
                        "breakdown": "all", "breakdown_value": "all", "numerator": np.arange(1, 13, dtype=float),
                        "denominator": np.nan})
    agg = agg[agg.period_start != D("2024-02-01")]                           # February missing
    lado = pd.DataFrame({"indicator_id": "LADO_REFERRALS", "period_type": "month", "period_start": months,
                         "breakdown": "all", "breakdown_value": "all", "numerator": 2.0, "denominator": np.nan})
    out = compute_indicators(referral_tables(), CAT.select(["REFERRALS", "POLICE_DA_NOTIFICATIONS",
                                                            "LADO_REFERRALS", "POLICE_CP_REFERRALS"]),
                             aggregates=pd.concat([agg, lado]), end="2024-03-31")
    assert row(out, "POLICE_DA_NOTIFICATIONS", "month", "2023-06-01").value == 3
    feb = row(out, "POLICE_DA_NOTIFICATIONS", "month", "2024-02-01")
    assert feb.status == "no data" and np.isnan(feb.value)
    q4 = row(out, "POLICE_DA_NOTIFICATIONS", "quarter", "2024-01-01")
    assert q4.value == 10 + 12 and "partial" in q4.note
    assert row(out, "LADO_REFERRALS", "year", "2023-04-01").value == 24      # no allegations table: from the return
    assert (out[out.indicator_id == "POLICE_CP_REFERRALS"].status == "not available").all()


def test_local_count_and_ratio_from_config():
    from safeguarding.indicators.catalogue import load_catalogue as lc

    cfg = {"indicators": [
        {"code": "NFA_REFERRALS", "name": "Referrals with no further action", "table": "referrals",
         "date": "referral_date", "filter": {"nfa": True}, "unit": "count", "breakdowns": ["referral_source"]},
        {"code": "NFA_RATE", "name": "Share closed NFA", "table": "referrals", "date": "referral_date",
         "unit": "percent", "numerator": {"nfa": True}, "denominator": {"referral_source": ["6", "2A"]},
         "polarity": "lower_is_better", "target": 40},
    ]}
    cat = lc(cfg)
    out = compute_indicators(referral_tables(), cat.select(["NFA_REFERRALS", "NFA_RATE"]), end="2024-03-31")
    # nfa alternates True/False by row: rows 2..13 fall in 2023-24 minus R2a/R3a(rows 4, 6) and R6a (row 13)
    df = referral_tables()["referrals"]
    fy = df[(df.referral_date >= D("2023-04-01")) & (df.referral_date <= D("2024-03-31"))]
    assert row(out, "NFA_REFERRALS", "year", "2023-04-01").value == int(fy.nfa.sum())
    den = fy[fy.referral_source.isin(["6", "2A"])]
    r = row(out, "NFA_RATE", "year", "2023-04-01")
    assert (r.numerator, r.denominator) == (int(den.nfa.sum()), len(den))
    assert r.target == 40


# ----------------------------------------------------------------------------- independent re-computation
#
# Random small councils, recomputed row by row in plain Python (datetime and calendar only),
# must agree with the vectorised engine for every month, quarter, year and rolling 12 months.

import calendar  # noqa: E402
import datetime as dt  # noqa: E402


def py_add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    y, m = d.year + y, m + 1
    if d.day > calendar.monthrange(y, m)[1]:
        return dt.date(y + (m == 12), m % 12 + 1, 1)
    return dt.date(y, m, d.day)


def random_council(seed):
    rng = np.random.default_rng(seed)
    base = np.datetime64("2020-04-01")
    n = 300
    ref = pd.DataFrame({"referral_id": [f"r{i}" for i in range(n)],
                        "child_id": rng.choice([f"k{i}" for i in range(60)], n),
                        "referral_date": (base + rng.integers(0, 4 * 365, n)).astype("datetime64[ns]")})
    m = 80
    start = base + rng.integers(0, 4 * 365, m)
    length = rng.integers(0, 900, m)
    end = np.where(rng.random(m) < 0.3, np.datetime64("NaT"), start + length)
    plans = pd.DataFrame({"plan_id": [f"p{i}" for i in range(m)], "child_id": [f"k{i % 50}" for i in range(m)],
                          "plan_start_date": start.astype("datetime64[ns]"),
                          "plan_end_date": pd.to_datetime(end), "initial_category": "NEG"})
    rows = []
    for pid, s in zip(plans.plan_id, plans.plan_start_date, strict=True):
        d = s
        for _ in range(rng.integers(0, 6)):
            d = d + pd.Timedelta(days=int(rng.integers(60, 200)))
            rows.append((pid, d))
    reviews = pd.DataFrame(rows, columns=["plan_id", "review_date"])
    return {"referrals": ref, "cp_plans": plans, "cp_reviews": reviews}


def naive(tables, periods):
    ref = tables["referrals"]
    dates = [d.date() for d in ref.referral_date]
    kids = list(ref.child_id)
    plans = tables["cp_plans"]
    revs = tables["cp_reviews"]
    by_kid = {}
    for d, k in zip(dates, kids, strict=True):
        by_kid.setdefault(k, []).append(d)
    is_re = [any(d2 < d < py_add_months(d2, 12) for d2 in by_kid[k]) for d, k in zip(dates, kids, strict=True)]
    out = {}
    for ptype, ps, pe in periods:
        ps, pe = ps.date(), pe.date()
        n_ref = sum(ps <= d <= pe for d in dates)
        num = sum(f for d, f in zip(dates, is_re, strict=True) if ps <= d <= pe)
        out[("REFERRALS", ptype, ps)] = n_ref
        out[("REREFERRALS_12M", ptype, ps)] = (num, n_ref)
        # stocks at the period end (data end 31/03/2024 = window end here)
        open_n = ontime = elig = 0
        for p in plans.itertuples():
            s = p.plan_start_date.date()
            e = None if pd.isna(p.plan_end_date) else p.plan_end_date.date()
            if not (s <= pe and (e is None or e > pe)):
                continue
            open_n += 1
            if pe < py_add_months(s, 3):
                continue
            elig += 1
            rd = sorted({r.date() for r in revs[revs.plan_id == p.plan_id].review_date
                         if s <= r.date() and (e is None or r.date() <= e)})
            prev, months, good = s, 3, True
            for r in rd:
                due = py_add_months(prev, months)
                if due >= pe:
                    break
                if r > due:
                    good = False
                    break
                prev, months = r, 6
            else:
                if py_add_months(prev, months) < pe:
                    good = False
            ontime += good
        out[("CPP_OPEN", ptype, ps)] = open_n
        out[("CPP_REVIEWS_ON_TIME", ptype, ps)] = (ontime, elig)
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_engine_agrees_with_row_by_row_recomputation(seed):
    tables = random_council(seed)
    out = run(tables, ["REFERRALS", "REREFERRALS_12M", "CPP_OPEN", "CPP_REVIEWS_ON_TIME"],
              start="2020-04-01", end="2024-03-31", data_end="2024-03-31", breakdowns=False)
    sel = out[out.period_type.isin(["quarter", "year", "rolling12"]) | (out.period_start.dt.month % 5 == 0)]
    periods = sel[["period_type", "period_start", "period_end"]].drop_duplicates().itertuples(index=False)
    periods = list(periods)
    expect = naive(tables, periods)
    for (code, ptype, ps), val in expect.items():
        r = row(out, code, ptype, pd.Timestamp(ps))
        if isinstance(val, tuple):
            assert (r.numerator, r.denominator) == val, (code, ptype, ps)
        else:
            assert r.value == val, (code, ptype, ps)


# ----------------------------------------------------------------------------- children referred
#
# REFERRALS_CHILDREN on the referral fixture above: distinct children with a referral in the financial year,
# by the child's referrals in that year (records as the source has them: a same-day duplicate counts).
# 2022-23: R0 01/04/22, R1 10/05/22, R2 28/02/23, R3 01/03/23, R6 15/06/22 -> 5 children, each with 1.
# 2023-24: R1 09/05/23 x2 (2), R2 28/02/24 (1), R3 29/02/24 (1), R4 10/06/23 x2 (2), R5 x3 (3), R6 15/06/23 (1)
#          -> 6 children: "1" R2 R3 R6 = 3; "2" R1 R4 = 2; "3+" R5 = 1. (REFERRALS counts 10 referrals.)


def children_by_year(referrals: pd.DataFrame) -> dict[int, dict[str, int]]:
    """An independent count in plain Python: per financial year, children by their referrals that year."""
    per_child: dict[tuple[int, str], int] = {}
    for child, when in zip(referrals.child_id, referrals.referral_date, strict=True):
        fy = when.year + (1 if when.month >= 4 else 0)
        per_child[(fy, str(child))] = per_child.get((fy, str(child)), 0) + 1
    out: dict[int, dict[str, int]] = {}
    for (fy, _), n in per_child.items():
        band = "3+" if n >= 3 else str(n)
        out.setdefault(fy, {"1": 0, "2": 0, "3+": 0})[band] += 1
    return out


def test_children_referred_by_number_of_referrals_in_the_year():
    tables = referral_tables()
    out = run(tables, ["REFERRALS_CHILDREN"], end="2024-03-31", data_end="2024-03-31")
    assert set(out.period_type) == {"year"}                      # distinct children: years only
    expect = {2023: {"1": 5, "2": 0, "3+": 0}, 2024: {"1": 3, "2": 2, "3+": 1}}
    assert children_by_year(tables["referrals"]) == expect      # the plain count agrees with the paper
    for fy, bands in expect.items():
        start = f"{fy - 1}-04-01"
        head = row(out, "REFERRALS_CHILDREN", "year", start)
        assert head.value == sum(bands.values()) and head.status == "ok", fy
        for band, n in bands.items():
            assert row(out, "REFERRALS_CHILDREN", "year", start, "referrals_in_period", band).value == n, (fy, band)


@pytest.mark.parametrize("seed", [1, 2])
def test_children_referred_agree_with_a_plain_count(seed):
    tables = random_council(seed)
    out = run(tables, ["REFERRALS_CHILDREN"], start="2020-04-01", end="2024-03-31", data_end="2024-03-31")
    expect = children_by_year(tables["referrals"])
    assert sorted(expect) == [2021, 2022, 2023, 2024]
    for fy, bands in expect.items():
        start = f"{fy - 1}-04-01"
        assert row(out, "REFERRALS_CHILDREN", "year", start).value == sum(bands.values())
        for band, n in bands.items():
            assert row(out, "REFERRALS_CHILDREN", "year", start, "referrals_in_period", band).value == n


def test_children_referred_count_only_for_years():
    from safeguarding.indicators.catalogue import CatalogueError, _entry

    spec = {"code": "KIDS", "name": "k", "definition": "d", "unit": "count", "method": "referral_children",
            "frequencies": ["month", "year"]}
    with pytest.raises(CatalogueError, match="'month' is not valid; valid: year"):
        _entry(spec, {}, "test")
    with pytest.raises(CatalogueError, match="referrals_in_period"):   # a local indicator cannot use it
        load_catalogue({"indicators": [{"code": "X_Y", "name": "x", "table": "referrals", "date": "referral_date",
                                        "breakdowns": ["referrals_in_period"]}]})


# ----------------------------------------------------------------------------- LADO actions
#
# LADO_ACTIONS on the LADO fixture above, with these actions (pairs, as ingest writes allegation_actions):
# a1 concluded 29/02/2024  suspension, dismissal
# a2 concluded 15/12/2023  (none)
# a3 concluded 16/12/2023  police_investigation
# a4 concluded 10/01/2024  suspension
# a5 concluded 02/01/2024  (none)
# a6 open                  caution                      not concluded: not counted
# a7 concluded 05/05/2023  s47_enquiry, suspension, s47_enquiry (recorded twice: counted once)
# 2023-24: concluded 6, with at least one action a1 a3 a4 a7 = 4 (the headline). By action: Suspension a1 a4 a7
#          = 3, Dismissal 1, Police investigation 1, Section 47 enquiry 1, every other action 0. The actions add
#          up to 6, not 4: they overlap, and a2 and a5 have none.

LADO_ACTION_PAIRS = [("a1", "suspension"), ("a1", "dismissal"), ("a3", "police_investigation"), ("a4", "suspension"),
                     ("a6", "caution"), ("a7", "s47_enquiry"), ("a7", "suspension"), ("a7", "s47_enquiry")]


def lado_action_tables():
    tables = lado_tables()
    a = tables["allegations"]
    pairs = pd.DataFrame(LADO_ACTION_PAIRS, columns=["allegation_id", "action"])
    joined = pairs.groupby("allegation_id", sort=False)["action"].agg(";".join)
    a["actions"] = a["allegation_id"].map(joined)                # the allegations table's codes column
    return tables, pairs


def test_lado_actions_count_allegations_by_action_and_overlap():
    from safeguarding.schema import LADO_ACTION

    tables, pairs = lado_action_tables()
    out = run(tables, ["LADO_ACTIONS", "LADO_CONCLUDED"], end="2024-03-31", data_end="2024-03-31")
    a = tables["allegations"]
    done = a[(a.concluded_date >= D("2023-04-01")) & (a.concluded_date <= D("2024-03-31"))]
    acted = pairs[pairs.allegation_id.isin(done.allegation_id)].drop_duplicates()
    expect = {LADO_ACTION[k]: int((acted.action == k).sum()) for k in LADO_ACTION}   # independent count
    assert expect["Suspension"] == 3 and sum(expect.values()) == 6
    head = row(out, "LADO_ACTIONS", "year", "2023-04-01")
    assert head.value == acted.allegation_id.nunique() == 4
    assert row(out, "LADO_CONCLUDED", "year", "2023-04-01").value == 6
    by = out[(out.indicator_id == "LADO_ACTIONS") & (out.breakdown == "action")
             & (out.period_start == D("2023-04-01"))]
    assert by.breakdown_value.tolist() == list(LADO_ACTION.values())   # every action, in the code list's order
    assert dict(zip(by.breakdown_value, by.value, strict=True)) == expect
    assert set(out[out.indicator_id == "LADO_ACTIONS"].period_type) == {"year"}


def test_every_breakdown_adds_up_to_its_headline_except_the_declared_overlapping_ones():
    """The engine's contract: a breakdown adds up to its headline (missing values are "Not recorded"),
    except the breakdowns the catalogue declares overlapping (``OVERLAPPING_BREAKDOWNS``), which are left
    out here by that declaration and shown not to add up on the fixture."""
    from safeguarding.indicators.catalogue import OVERLAPPING_BREAKDOWNS

    assert set(OVERLAPPING_BREAKDOWNS) == {"action"} and CAT["LADO_ACTIONS"].overlapping == ("action",)
    assert all(not CAT[c].overlapping for c in CAT if c != "LADO_ACTIONS")
    lado, _ = lado_action_tables()
    tables = {**plan_tables(), **referral_tables(), **icpc_tables(), **pf_tables(), **lado}
    out = compute_indicators(tables, CAT, population={2024: 5000}, end="2024-03-31", data_end="2024-03-31")
    key = ["indicator_id", "period_type", "period_start"]
    head = out[out.breakdown == "all"].set_index(key)
    parts = out[(out.breakdown != "all") & (out.status != "not available")]
    checked = overlapping = 0
    for (code, bd), g in parts.groupby(["indicator_id", "breakdown"]):
        sums = g.groupby(key)[["numerator", "denominator", "value"]].sum(min_count=1)
        measures = ["numerator", "denominator"] if CAT[code].unit == "percent" else ["value"]
        got, want = sums[measures], head.loc[sums.index, measures]
        if bd in CAT[code].overlapping:
            overlapping += 1
            assert (got.fillna(0) != want.fillna(0)).any().any(), (code, bd)   # the declaration is needed
            continue
        assert np.allclose(got.fillna(0), want.fillna(0)), (code, bd)
        checked += 1
    assert checked > 40 and overlapping == 1


# ----------------------------------------------------------------------------- an extract that starts part-way
#
# The extract holds the plans open at any time from 01/04/2019: K1 and L1 started in 2018-19 and were still open
# then (K1 ends 10/04/2019, the earliest end: 1 April of its financial year, 2019, is the extract's start), M1 and
# N1 start later. So 2018-19 holds 2 of the plans that started (others started and ended before April 2019 and
# are not in the extract) and none that ended: before, both were 'ok' ("0 plans ended" beside the plans started).

def truncated_plans():
    plans = pd.DataFrame([
        ("K1", "K", "2018-05-03", "2019-04-10"), ("L1", "L", "2019-01-15", "2019-12-01"),
        ("M1", "M", "2019-06-01", None), ("N1", "N", "2019-08-20", "2020-02-01"),
    ], columns=["plan_id", "child_id", "plan_start_date", "plan_end_date"])
    for c in ("plan_start_date", "plan_end_date"):
        plans[c] = pd.to_datetime(plans[c])
    plans["initial_category"] = "NEG"
    plans["team"] = ["North", "South", "North", "South"]
    return {"cp_plans": plans}


def test_periods_before_the_extract_start_are_partial_with_a_note():
    from safeguarding.published_data import safe_note

    out = run(truncated_plans(), ["CPP_STARTED", "CPP_ENDED", "CPP_OPEN"], start="2018-04-01", end="2020-03-31",
              data_end="2020-03-31")
    for code in ("CPP_STARTED", "CPP_ENDED"):
        r = row(out, code, "year", "2018-04-01")
        assert r.status == "partial", (code, r.status)
        assert "the extract starts on 2019-04-01" in r.note and "only partly covered" in r.note
        assert safe_note(r.note) == r.note  # the public note keeps the date (no count in it)
        assert r.rag == "N/A"
    assert row(out, "CPP_ENDED", "year", "2018-04-01").value == 0  # what the data hold, marked, not hidden
    assert row(out, "CPP_STARTED", "year", "2018-04-01").value == 2
    # a stock at 31/03/2019 is complete (a plan open then is still open on 01/04/2019); a month before is not
    assert row(out, "CPP_OPEN", "year", "2018-04-01").status == "ok"
    assert row(out, "CPP_OPEN", "month", "2019-02-01").status == "partial"
    for code in ("CPP_STARTED", "CPP_ENDED", "CPP_OPEN"):
        r = row(out, code, "year", "2019-04-01")
        assert r.status == "ok" and r.note == "", (code, r.status, r.note)
    # the status is the period's, whatever the count: a team with none and a team with some read alike
    started = out[(out.indicator_id == "CPP_STARTED") & (out.period_type == "year")
                  & (out.period_start == D("2018-04-01"))]
    assert set(started.status) == {"partial"} and started.note.nunique() == 1
    assert set(started.value) >= {0.0, 1.0} or len(started) == 1


def test_history_start_says_where_the_extract_starts():
    tables = truncated_plans()
    tables["cp_plans"].loc[0, "plan_start_date"] = D("2018-04-05")
    kw = {"start": "2018-04-01", "end": "2020-03-31", "data_end": "2020-03-31"}
    assert row(run(tables, ["CPP_ENDED"], **kw), "CPP_ENDED", "year", "2018-04-01").status == "partial"
    out = run(tables, ["CPP_ENDED"], history_start="2018-04-01", **kw)
    r = row(out, "CPP_ENDED", "year", "2018-04-01")
    assert r.status == "ok" and r.note == ""


def test_the_report_names_the_partial_years_it_shows():
    """The report's limitations name each headline year the data cover only in part (here 2018-19, before
    the extract of plans starts), within the six years it shows; complete years and stocks complete at
    31 March are not named."""
    from safeguarding.report.text import partial_years

    out = run(truncated_plans(), ["CPP_STARTED", "CPP_ENDED", "CPP_OPEN"], start="2018-04-01", end="2020-03-31",
              data_end="2020-03-31")
    names = {"CPP_STARTED": "Child protection plans started", "CPP_ENDED": "Child protection plans ended",
             "CPP_OPEN": "Children on a plan"}
    assert partial_years(out, D("2020-03-31"), names) == {"Child protection plans started": ["2018-19"],
                                                          "Child protection plans ended": ["2018-19"]}
    assert partial_years(out, D("2020-03-31"), names, years=1) == {}
