"""The ``count`` and ``ratio`` methods of report.yml's own indicators (``methods/local.py``).

referrals: R1 05/04/2023 nfa yes, need N1; R2 20/04/2023 nfa no, N1; R3 01/05/2023 nfa -, N2;
R4 02/05/2023 nfa yes, N2.
Count of nfa: true -> 2023-04 1, 2023-05 1. Ratio nfa: true among need N2 -> 1 of 2 (May); April 0 of 0.
A list means any of; null means missing: need in [N1, N2] and nfa null -> R3 only.
"""

from __future__ import annotations

from method_kit import D, by_month, entry, frame, run_method


def tables():
    return {"referrals": frame([
        ("R1", "A", D("2023-04-05"), True, "N1"), ("R2", "B", D("2023-04-20"), False, "N1"),
        ("R3", "C", D("2023-05-01"), None, "N2"), ("R4", "D", D("2023-05-02"), True, "N2"),
    ], "referral_id child_id referral_date nfa primary_need")}


def local(method, **fields):
    """A local entry on the referrals table (built on the catalogue's own count entry)."""
    return entry("count", **{"method": method, "table": "referrals", "date": "referral_date", "filter": {},
                             "source": ("referrals",), "breakdowns": (), **fields})


def test_count_with_filter():
    ev, _ = run_method(tables(), local("count", filter={"nfa": True}))
    assert by_month(ev) == {"2023-04": 1, "2023-05": 1}
    ev, _ = run_method(tables(), local("count", filter={"primary_need": ["N1", "N2"], "nfa": None}))
    assert by_month(ev) == {"2023-05": 1}


def test_ratio_numerator_within_denominator():
    ev, _ = run_method(tables(), local("ratio", denominator_filter={"primary_need": "N2"},
                                       numerator_filter={"nfa": "yes"}))
    assert by_month(ev) == {"2023-05": 1}
    assert by_month(ev, "den") == {"2023-05": 2}
