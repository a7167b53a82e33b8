"""Referral methods (``safeguarding/indicators/methods/referrals.py``) on a tiny table worked out by hand.

child  dob         referrals (source, need)
A      01/05/2020  05/04/2023 (1A, N1), 05/04/2023 (2A, N1: same day), 10/06/2023 (1A, N2), 10/06/2024 (-, -)
B      15/01/2010  20/12/2022 (2A, N1), 21/12/2023 (1A, N1)
C      (no record in the children table) 02/01/2024 (2A, N1)

Referrals by month (records, same-day duplicate included): 2022-12 1, 2023-04 2 (one a duplicate), 2023-06 1,
2023-12 1, 2024-01 1, 2024-06 1.
Re-referrals (a referral on an earlier day less than 12 months before): A 10/06/2023 (05/04/2023) yes;
A 10/06/2024 (10/06/2023: 12 months exactly, not less) no; B 21/12/2023 (20/12/2022: 12 months and a day) no.
Data start 20/12/2022, so referrals before 20/12/2023 with no previous one are unknown: B 20/12/2022 and
A's two 05/04/2023 records -> 3 (A 10/06/2023 is a re-referral, so known).
Referrals in the 12 months up to and including each one: A 05/04/2023 x2 -> 2 each (both same-day records);
A 10/06/2023 -> 3; A 10/06/2024 -> 10/06/2023 is exactly 12 months earlier, not within -> 1; B 20/12/2022 -> 1;
B 21/12/2023 -> 1; C -> 1.
Children referred in 2023-24 (window April 2023 - March 2024): A (3 referrals: first 05/04/2023), B (1), C (1);
by referrals in the year: 1 -> 2 children, 3+ -> 1.
Age at referral: A 2 (05/04/2023, 10/06/2023) -> 1-4; B 13 and 12 -> 10-15; C not recorded.
"""

from __future__ import annotations

from method_kit import D, by_month, by_value, entry, frame, run_method

from safeguarding.indicators.methods.referrals import previous_referral, referrals_in_12m


def tables():
    refs = frame([
        ("R1", "A", D("2023-04-05"), "1A", "N1"), ("R2", "A", D("2023-04-05"), "2A", "N1"),
        ("R3", "A", D("2023-06-10"), "1A", "N2"), ("R4", "A", D("2024-06-10"), None, None),
        ("R5", "B", D("2022-12-20"), "2A", "N1"), ("R6", "B", D("2023-12-21"), "1A", "N1"),
        ("R7", "C", D("2024-01-02"), "2A", "N1"),
    ], "referral_id child_id referral_date referral_source primary_need")
    children = frame([("A", D("2020-05-01"), "F"), ("B", D("2010-01-15"), "M")], "child_id date_of_birth sex")
    return {"referrals": refs, "children": children}


WIDE = {"start": "2022-04-01", "end": "2025-03-31"}


def test_referrals_count_every_record_with_duplicates_noted():
    ev, _ = run_method(tables(), entry("referrals", breakdowns=("referral_source", "age_band")), **WIDE)
    assert by_month(ev) == {"2022-12": 1, "2023-04": 2, "2023-06": 1, "2023-12": 1, "2024-01": 1, "2024-06": 1}
    assert by_month(ev, "dup") == {"2023-04": 1}
    assert ev.kind == "flow"
    assert by_value(ev, "referral_source") == {"Individual": 3, "Schools and education": 3, "Not recorded": 1}
    assert by_value(ev, "age_band") == {"1-4": 4, "10-15": 2, "Not recorded": 1}


def test_referral_rate_is_the_same_method():
    ev, _ = run_method(tables(), entry("referral_rate"), **WIDE)
    assert sum(by_month(ev).values()) == 7


def test_rereferrals_twelve_months_exactly_is_not_a_rereferral():
    ev, _ = run_method(tables(), entry("rereferrals"), **WIDE)
    assert by_month(ev) == {"2023-06": 1}
    assert sum(by_month(ev, "den").values()) == 7
    assert by_month(ev, "unknown") == {"2022-12": 1, "2023-04": 2}


def test_referrals_in_12m_and_previous_referral():
    df = tables()["referrals"]
    assert list(referrals_in_12m(df)) == [2, 2, 3, 1, 1, 1, 1]
    prev = previous_referral(df)
    assert prev.isna().tolist() == [True, True, False, False, True, False, True]
    assert prev.dropna().tolist() == [D("2023-04-05"), D("2023-06-10"), D("2022-12-20")]


def test_referrals_in_12m_breakdown():
    ev, _ = run_method(tables(), entry("referrals", breakdowns=("referrals_in_12m",)), **WIDE)
    assert by_value(ev, "referrals_in_12m") == {"1": 4, "2": 2, "3+": 1}


def test_children_referred_once_per_child_and_year():
    ev, _ = run_method(tables(), entry("referral_children", breakdowns=("referrals_in_period",)))
    assert by_month(ev) == {"2023-04": 1, "2023-12": 1, "2024-01": 1}
    assert by_value(ev, "referrals_in_period") == {"1": 2, "3+": 1}
