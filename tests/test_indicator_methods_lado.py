"""LADO methods (``safeguarding/indicators/methods/lado.py``) on a tiny allegations table.

id  referred    concluded   sector       outcome          actions
L1  10/04/2023  05/05/2023  education    substantiated    suspension; dismissal
L2  31/05/2023  30/06/2023  health       unfounded        -
L3  15/06/2023  20/10/2023  education    -                dismissal ; dismissal (the same action twice)
L4  01/01/2024  open        social_care  -                -

Referred: 2023-04 1, 2023-05 1, 2023-06 1, 2024-01 1. Concluded: 2023-05 (L1), 2023-06 (L2), 2023-10 (L3).
Within 1 month: L1 05/05 <= 10/05 yes; L2 30/06 <= 30/06 (31/05 + 1 month: 31/06 does not exist -> 01/07) yes;
L3 no. Within 3 months: L3 20/10 > 15/09 -> no; within 12: yes.
Time to conclusion: L1, L2 within 1 month; L3 3 to 12 months.
Actions: L1 suspension + dismissal, L3 dismissal once; headline: allegations with an action = 2 (L1, L3).
Open at month ends: L1 30/04 (concluded 05/05: open at 30/04); L2 31/05 (referred that day, concluded
30/06: not open at 30/06); L3 30/06 to 30/09; L4 31/01/2024 to 31/03/2024.
So: 2023-04 1, 2023-05 1, 2023-06 1, 2023-07 1, 2023-08 1, 2023-09 1, 2024-01 1, 2024-02 1, 2024-03 1.
"""

from __future__ import annotations

import pandas as pd
from method_kit import D, by_month, by_value, entry, frame, run_method

NAT = pd.NaT


def tables():
    return {"allegations": frame([
        ("L1", D("2023-04-10"), D("2023-05-05"), "education", "substantiated", "suspension;dismissal"),
        ("L2", D("2023-05-31"), D("2023-06-30"), "health", "unfounded", None),
        ("L3", D("2023-06-15"), D("2023-10-20"), "education", None, "dismissal ; dismissal"),
        ("L4", D("2024-01-01"), NAT, "social_care", None, None),
    ], "allegation_id referral_date concluded_date sector outcome actions")}


def test_referrals_and_concluded():
    ev, _ = run_method(tables(), entry("lado_referrals", breakdowns=("sector",)))
    assert by_month(ev) == {"2023-04": 1, "2023-05": 1, "2023-06": 1, "2024-01": 1}
    assert by_value(ev, "sector") == {"Education": 2, "Health": 1, "Social care": 1}
    ev, _ = run_method(tables(), entry("lado_concluded", breakdowns=("outcome", "time_to_conclusion")))
    assert by_month(ev) == {"2023-05": 1, "2023-06": 1, "2023-10": 1}
    assert by_value(ev, "outcome") == {"Substantiated": 1, "Unfounded": 1, "Not recorded": 1}
    assert by_value(ev, "time_to_conclusion") == {"Within 1 month": 2, "3 to 12 months": 1}


def test_concluded_within_months():
    ev, _ = run_method(tables(), entry("lado_concluded_within", months=1))
    assert by_month(ev) == {"2023-05": 1, "2023-06": 1}
    assert sum(by_month(ev, "den").values()) == 3
    ev, _ = run_method(tables(), entry("lado_concluded_within", months=3))
    assert sum(by_month(ev).values()) == 2
    ev, _ = run_method(tables(), entry("lado_concluded_within", months=12))
    assert sum(by_month(ev).values()) == 3


def test_actions_overlap_and_headline_counts_allegations():
    ev, _ = run_method(tables(), entry("lado_actions", breakdowns=("action",)))
    assert by_value(ev, "action") == {"Suspension": 1, "Dismissal": 2}
    assert by_month(ev, frame_=ev.headline) == {"2023-05": 1, "2023-10": 1}


def test_open_at_month_ends():
    ev, _ = run_method(tables(), entry("lado_open"))
    assert ev.kind == "stock"
    months = ["2023-04", "2023-05", "2023-06", "2023-07", "2023-08", "2023-09", "2024-01", "2024-02", "2024-03"]
    assert by_month(ev) == dict.fromkeys(months, 1)
