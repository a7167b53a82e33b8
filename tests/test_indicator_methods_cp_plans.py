"""Child protection plan methods (``safeguarding/indicators/methods/cp_plans.py``) on a tiny table.

child  dob         plan  start       end         prev  category (initial, latest)
A      10/10/2015  P1    15/01/2022  14/01/2024  -     NEG, EMO
                   P2    01/02/2024  open        -     PHY, -
B      01/06/2010  P3    01/11/2023  01/11/2023  0     EMO, -   (starts and ends the same day)
C      01/01/2000  P4    31/08/2023  open        -     SAB, -

Started: P1 2022-01 (before the window: a method returns every event, the engine keeps the window's), and in
the window (April 2023 - March 2024) P4 2023-08, P3 2023-11, P2 2024-02.
Subsequent: P2 (A has P1 earlier) -> 1 of 3; P3 has previous_plans 0 (known first); P4: C born before the
data start (15/01/2022), nothing recorded -> unknown.
Ended: P3 2023-11 (0 months), P1 2024-01: 15/01/2022 -> 14/01/2024 is 23 completed months (24 would be
15/01/2024) -> not 2 years: 0 of 2.
Open at each month end (start <= month end, and no end or end after it): P1 to 31/12/2023 (ends 14/01/2024),
P4 from 31/08/2023, P2 from 29/02/2024; P3 never. So April-July 2023: 1 a month; August-December: 2;
January 2024: 1 (P4); February and March 2024: 2 (P4, P2).
At 31/03/2024: P4 has lasted 7 completed months (6m-1y), P2 1 month (under 3 months).
Reviews: P4 first due 01/12/2023 (31/08 + 3 months: 31/11 does not exist, so 1 December), held 28/11/2023 ->
next due 28/05/2024: on time at 31/03/2024. P2 under 3 months -> not counted. P1 first due 15/04/2022, held
10/04/2022, next due 10/10/2022 never held -> late from 11/10/2022, so late at every month end of the window.
"""

from __future__ import annotations

import pandas as pd
from method_kit import D, by_month, by_value, entry, frame, run_method

from safeguarding.indicators.methods.cp_plans import review_late_from, subsequent_plans

NAT = pd.NaT


def tables():
    plans = frame([
        ("P1", "A", D("2022-01-15"), D("2024-01-14"), "NEG", "EMO", None),
        ("P2", "A", D("2024-02-01"), NAT, "PHY", None, None),
        ("P3", "B", D("2023-11-01"), D("2023-11-01"), "EMO", None, 0),
        ("P4", "C", D("2023-08-31"), NAT, "SAB", None, None),
    ], "plan_id child_id plan_start_date plan_end_date initial_category latest_category previous_plans")
    children = frame([("A", D("2015-10-10"), "F"), ("B", D("2010-06-01"), "M"), ("C", D("2000-01-01"), "F")],
                     "child_id date_of_birth sex")
    reviews = frame([("P4", D("2023-11-28")), ("P1", D("2022-04-10"))], "plan_id review_date")
    return {"cp_plans": plans, "children": children, "cp_reviews": reviews}


def test_started_and_subsequent():
    ev, _ = run_method(tables(), entry("cpp_started"))
    assert by_month(ev) == {"2022-01": 1, "2023-08": 1, "2023-11": 1, "2024-02": 1}
    ev, _ = run_method(tables(), entry("cpp_subsequent"))
    assert by_month(ev) == {"2024-02": 1}          # P2 only
    assert by_month(ev, "unknown") == {"2022-01": 1, "2023-08": 1}   # P1 and P4: born before the data start


def test_subsequent_plans_classification():
    t = tables()
    dob = t["children"].set_index("child_id")["date_of_birth"]
    got = subsequent_plans(t["cp_plans"], dob, D("2022-01-15"))
    assert got["subsequent"].tolist() == [False, True, False, False]
    assert got["unknown"].tolist() == [True, False, False, True]


def test_ended_and_two_years():
    ev, _ = run_method(tables(), entry("cpp_ended", breakdowns=("latest_category",)))
    assert by_month(ev) == {"2023-11": 1, "2024-01": 1}
    # P1's latest category EMO; P3 has none recorded, so its initial EMO
    assert by_value(ev, "latest_category") == {"Emotional abuse": 2}
    ev, _ = run_method(tables(), entry("cpp_ended_2yrs"))
    assert by_month(ev) == {}                      # 23 completed months is not 2 years
    assert by_month(ev, "den") == {"2023-11": 1, "2024-01": 1}


def test_open_at_each_month_end():
    ev, _ = run_method(tables(), entry("cpp_open", breakdowns=("plan_length", "initial_category")))
    assert ev.kind == "stock"
    expected = {**{m: 1 for m in ("2023-04", "2023-05", "2023-06", "2023-07", "2024-01")},
                **{m: 2 for m in ("2023-08", "2023-09", "2023-10", "2023-11", "2023-12", "2024-02", "2024-03")}}
    assert by_month(ev) == expected
    assert by_value(ev, "plan_length", month="2024-03") == {"Under 3 months": 1, "6 months to under 1 year": 1}
    assert by_value(ev, "initial_category", month="2023-12") == {"Neglect": 1, "Sexual abuse": 1}


def test_open_band_share():
    ev, _ = run_method(tables(), entry("cpp_open_band", band="Under 3 months"))
    assert by_month(ev)["2024-03"] == 1 and by_month(ev, "den")["2024-03"] == 2


def test_reviews_on_time():
    ev, _ = run_method(tables(), entry("cpp_reviews_on_time"))
    # at 31/03/2024 only P4 has lasted 3 months (P2 1 month): on time 1 of 1
    assert by_month(ev)["2024-03"] == 1 and by_month(ev, "den")["2024-03"] == 1
    late = review_late_from(tables()["cp_plans"], tables()["cp_reviews"])
    assert late.iloc[0] == D("2022-10-11")
    assert late.iloc[3] == D("2024-05-29")        # P4: 28/11/2023 + 6 months, late from the day after
    # in April 2023, P1 is open and late: 0 of 1
    assert by_month(ev, "den")["2023-04"] == 1 and "2023-04" not in by_month(ev)
