"""Relations the suppression must know, each from a finding of the review of the public demo table.

One count published in two places must have one string: police referrals
are a headline indicator and a group of referrals by source, and a
plan-length band appears in both plan-length breakdowns. Hidden in one
place and shown in the other, the count is not hidden at all, and the small
count it was hidden to protect can be worked out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from safeguarding.disclosure import suppress_indicator_table
from safeguarding.disclosure.relations import add_equal_series
from safeguarding.disclosure.secondary.system import _System

MONTHS = pd.date_range("2024-04-01", periods=6, freq="MS")


def _row(ind: str, start: pd.Timestamp, value: float, bd: str = "all", bv: str = "all") -> dict:
    return {"indicator_id": ind, "period_type": "month", "period_start": start,
            "period_end": start + pd.offsets.MonthEnd(0), "breakdown": bd, "breakdown_value": bv,
            "numerator": np.nan, "denominator": np.nan, "value": float(value)}


def _referrals() -> pd.DataFrame:
    """Referrals by source (police the only partner at hand) and police referrals as their own indicator."""
    police = [7, 9, 8, 12, 10, 9]
    school = [2, 30, 31, 28, 29, 33]  # a small count in the first month: it needs a partner
    rows = []
    for i, m in enumerate(MONTHS):
        rows.append(_row("REFERRALS", m, police[i] + school[i]))
        for name, values in (("Police", police), ("School", school)):
            rows.append(_row("REFERRALS", m, values[i], "referral_source", name))
        rows.append(_row("POLICE_REFERRALS", m, police[i]))
    return pd.DataFrame(rows)


def _strings(shown: pd.DataFrame) -> tuple[list[str], list[str]]:
    by_source = shown[(shown["indicator_id"] == "REFERRALS") & (shown["breakdown_value"] == "Police")]
    own = shown[shown["indicator_id"] == "POLICE_REFERRALS"]
    return by_source["value"].tolist(), own["value"].tolist()


def test_a_count_under_two_indicators_and_breakdowns_has_one_string():
    shown = suppress_indicator_table(_referrals())
    assert shown.loc[(shown["breakdown_value"] == "School"), "value"].iloc[0] == "c"
    by_source, own = _strings(shown)
    assert by_source == own
    first = shown[shown["period_start"] == MONTHS[0]].set_index(["indicator_id", "breakdown_value"])["value"]
    assert (first == "c").sum() >= 3, "the small count, its partner, and the partner's copy (or the total)"


def test_equal_series_are_tied_period_by_period_and_sparse_coincidences_are_not():
    cells = pd.DataFrame({
        "cell": range(12), "measure": "value", "period_type": "month",
        "period_start": list(MONTHS[:3]) * 4,
        "indicator_id": ["A"] * 3 + ["B"] * 3 + ["C"] * 3 + ["D"] * 3,
        "breakdown": ["source"] * 3 + ["all"] * 3 + ["x"] * 3 + ["all"] * 3,
        "breakdown_value": ["Police"] * 3 + ["all"] * 3 + ["p"] * 3 + ["all"] * 3,
        "v": [5, 6, 7, 5, 6, 7, 0, 1, 0, 0, 1, 0],
    })
    system = _System(cells["v"].to_numpy(float))
    add_equal_series(system, cells)
    tied = {tuple(sorted(idx.tolist())) for idx, _, _ in system.constraints}
    assert tied == {(0, 3), (1, 4), (2, 5)}, "A and B are one count; C and D agree by coincidence only"
