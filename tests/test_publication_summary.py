"""The build says what it published and withheld, by level, and why each annual headline figure is withheld."""

from __future__ import annotations

import pandas as pd

from safeguarding.build import publication_lines
from safeguarding.published_data import publication_summary

END = pd.Timestamp("2025-03-31")


def _row(code, period_type, end, breakdown="all", value=10.0, numerator=None, denominator=None, unit="count"):
    return {"indicator_id": code, "period_type": period_type, "period_end": end, "breakdown": breakdown,
            "breakdown_value": "all" if breakdown == "all" else "x", "value": value, "numerator": numerator,
            "denominator": denominator, "unit": unit}


def test_summary_counts_by_level_and_gives_each_withheld_headline_its_reason():
    ind = pd.DataFrame([
        _row("PF_NOTIFICATIONS", "year", END, value=4.0),                           # primary: 4
        _row("CPP_SUBSEQUENT", "year", END, value=26.1, numerator=37.0, denominator=142.0,
             unit="percent"),                                                      # secondary
        _row("REFERRALS", "year", END, value=1490.0),                               # published
        _row("REFERRALS", "year", END - pd.DateOffset(years=2), value=3.0),         # older year: not listed
        _row("REFERRALS", "month", pd.Timestamp("2025-01-31"), value=120.0),
        _row("REFERRALS", "month", pd.Timestamp("2025-01-31"), breakdown="team", value=2.0),
        _row("REFERRALS", "month", pd.Timestamp("2017-01-31"), value=99.0),         # out of scope
    ])
    shown = ind.assign(marker=["c", "c", "", "c", "", "c", "x"])
    summary = publication_summary(ind, shown, END)
    levels = {(r["period_type"], r["level"]): r for r in summary["by_level"]}
    assert levels[("year", "headline")] == {"period_type": "year", "level": "headline", "published": 1,
                                            "withheld": 3, "not_published": 0}
    assert levels[("month", "headline")]["not_published"] == 1 and levels[("month", "breakdown")]["withheld"] == 1
    reasons = {(h["indicator_id"], h["year_end"]): h["reason"] for h in summary["headline_withheld"]}
    assert reasons == {("PF_NOTIFICATIONS", "2025-03-31"): "rests on a count of 1 to 5",
                       ("CPP_SUBSEQUENT", "2025-03-31"):
                           "withheld to protect a linked count of 1 to 5 (secondary suppression)"}
    printed = "\n".join(publication_lines(summary))
    assert "CPP_SUBSEQUENT (2025-03-31): withheld to protect" in printed
    assert "annual headline figures withheld" in printed
