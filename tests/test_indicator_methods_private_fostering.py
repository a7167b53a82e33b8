"""Private fostering methods (``safeguarding/indicators/methods/private_fostering.py``) on a tiny table.

id  child  notified    confirmed  visit       start       end
F1  A      03/04/2023  yes        12/04/2023  03/04/2023  10/07/2023
F2  B      14/04/2023  -          -           20/04/2023  -          (not recorded counts as confirmed)
F3  C      01/05/2023  no         02/05/2023  01/05/2023  -          (not confirmed: no arrangement)
F4  D      05/06/2023  yes        15/06/2023  -           -          (no start: no arrangement)

Notifications: 2023-04 2, 2023-05 1, 2023-06 1. New arrangements: F1 2023-04, F2 2023-04.
Ended: F1 2023-07. Open at month ends: F1 30/04, 31/05, 30/06 (ends 10/07); F2 from 30/04 to 31/03/2024.
Initial visit within 7 working days of the notification: F1 03/04 (Monday) -> 12/04: working days 04, 05, 06,
(07 Good Friday, 10 Easter Monday), 11, 12 -> 5: on time. F2 no visit -> not on time, noted.
"""

from __future__ import annotations

import pandas as pd
from method_kit import D, by_month, entry, frame, run_method

NAT = pd.NaT


def tables():
    pf = frame([
        ("F1", "A", D("2023-04-03"), True, D("2023-04-12"), D("2023-04-03"), D("2023-07-10")),
        ("F2", "B", D("2023-04-14"), None, NAT, D("2023-04-20"), NAT),
        ("F3", "C", D("2023-05-01"), False, D("2023-05-02"), D("2023-05-01"), NAT),
        ("F4", "D", D("2023-06-05"), True, D("2023-06-15"), NAT, NAT),
    ], "pf_id child_id notification_date confirmed initial_visit_date arrangement_start_date arrangement_end_date")
    return {"private_fostering": pf}


def test_notifications_new_and_ended():
    ev, _ = run_method(tables(), entry("pf_notifications"))
    assert by_month(ev) == {"2023-04": 2, "2023-05": 1, "2023-06": 1}
    ev, _ = run_method(tables(), entry("pf_new"))
    assert by_month(ev) == {"2023-04": 2}
    ev, _ = run_method(tables(), entry("pf_ended"))
    assert by_month(ev) == {"2023-07": 1}


def test_open_at_month_ends():
    ev, _ = run_method(tables(), entry("pf_open"))
    got = by_month(ev)
    assert got["2023-04"] == got["2023-05"] == got["2023-06"] == 2
    assert got["2023-07"] == got["2024-03"] == 1
    assert len(got) == 12


def test_initial_visit_within_seven_working_days():
    ev, _ = run_method(tables(), entry("pf_visit_7wd"))
    assert by_month(ev) == {"2023-04": 1}
    assert by_month(ev, "den") == {"2023-04": 2}
    assert by_month(ev, "novisit") == {"2023-04": 1}
