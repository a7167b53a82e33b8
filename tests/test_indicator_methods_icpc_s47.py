"""Section 47 and ICPC methods (``methods/s47.py``, ``methods/icpc.py``) on tiny tables.

s47  child  start       team
S1   A      02/10/2023  East
S2   B      01/11/2023  -
S3   A      01/12/2023  West

icpc  child  date        s47_id
I1    A      23/10/2023  S1      15 working days after Monday 02/10/2023 is Monday 23/10/2023: on time
I2    A      22/12/2023  -       no s47_id: the child's latest enquiry started on or before it, S3 01/12/2023;
                                 working days 04/12 .. 22/12 = 15: on time
I3    B      24/11/2023  S2      15 working days after Wednesday 01/11/2023 is 22/11; 24/11 is 17: late
I4    C      10/01/2024  -       no enquiry for C: unmatched, left out
I5    B      31/10/2023  S2      before its enquiry: invalid, left out

On time 2 of 3 valid (I1, I2 on time; I3 late).
"""

from __future__ import annotations

from method_kit import D, by_month, by_value, entry, frame, run_method

from safeguarding.indicators.methods.icpc import link_icpc_s47


def tables():
    s47 = frame([("S1", "A", D("2023-10-02"), "East"), ("S2", "B", D("2023-11-01"), None),
                 ("S3", "A", D("2023-12-01"), "West")], "s47_id child_id s47_start_date team")
    icpc = frame([("I1", "A", D("2023-10-23"), "S1"), ("I2", "A", D("2023-12-22"), None),
                  ("I3", "B", D("2023-11-24"), "S2"), ("I4", "C", D("2024-01-10"), None),
                  ("I5", "B", D("2023-10-31"), "S2")], "icpc_id child_id icpc_date s47_id")
    return {"s47": s47, "icpc": icpc}


def test_s47_started_by_team():
    ev, _ = run_method(tables(), entry("s47_started", breakdowns=("team",)))
    assert by_month(ev) == {"2023-10": 1, "2023-11": 1, "2023-12": 1}
    assert by_value(ev, "team") == {"East": 1, "West": 1, "Not recorded": 1}


def test_icpc_held():
    ev, _ = run_method(tables(), entry("icpc_held"))
    assert by_month(ev) == {"2023-10": 2, "2023-11": 1, "2023-12": 1, "2024-01": 1}


def test_link_by_id_then_latest_enquiry():
    t = tables()
    linked = link_icpc_s47(t["icpc"], t["s47"])
    assert linked.iloc[:3].tolist() == [D("2023-10-02"), D("2023-12-01"), D("2023-11-01")]
    assert linked.isna().tolist() == [False, False, False, True, False]


def test_icpc_within_15_working_days():
    ev, _ = run_method(tables(), entry("icpc_15wd"))
    assert by_month(ev) == {"2023-10": 1, "2023-12": 1}
    assert by_month(ev, "den") == {"2023-10": 1, "2023-11": 1, "2023-12": 1}
    assert by_month(ev, "unmatched") == {"2024-01": 1}
    assert by_month(ev, "invalid") == {"2023-10": 1}
