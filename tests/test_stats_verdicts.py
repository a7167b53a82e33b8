"""Plain-English verdicts: built from the numbers, correct English, consistent with the statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from safeguarding.stats import (
    change_verdict,
    classify_funnel,
    compare_proportions,
    financial_year_label,
    format_number,
    format_percent,
    funnel_verdict,
    p_chart,
    plural,
    proportion_verdict,
    spc_verdict,
    trend_test,
    trend_verdict,
    xmr_chart,
)

MONTHS = pd.date_range("2023-04-01", periods=24, freq="MS")
STABLE_NUM = np.array([3, 5, 4, 6, 4, 5] * 4)
STABLE_DEN = np.array([20, 22, 19, 21, 20, 23] * 4)


def _stable_chart(**kwargs):
    return p_chart(STABLE_NUM, STABLE_DEN, MONTHS, **kwargs)


def test_formatting_helpers():
    assert format_percent(21.45) == "21.5%"  # halves round up, as published statistics do
    assert format_percent(21.449) == "21.4%"
    assert format_percent(0.05) == "0.1%"
    assert format_number(1234567) == "1,234,567"
    assert format_number(1234.56) == "1,234.6"
    assert plural(1, "referral") == "1 referral"
    assert plural(2, "referral") == "2 referrals"
    assert plural(1234, "child", "children") == "1,234 children"
    assert financial_year_label(2025) == "2024-25"
    assert financial_year_label(2000) == "1999-00"


def test_proportion_verdict_reproduces_the_issue_example():
    chart = _stable_chart()
    assert not chart["special_cause"].any()
    text = proportion_verdict("Re-registrations", 27, 126, chart_df=chart, benchmark=0.245)
    assert text == (
        "Re-registrations were 21.4% (27 of 126), within the range expected from month-to-month variation "
        "over the last two years, and not significantly different from England (24.5%)."
    )


def test_proportion_verdict_significance_follows_the_wilson_interval():
    text = proportion_verdict("Re-registrations", 60, 126, benchmark=0.245, polarity="lower is better")
    assert (
        text
        == "Re-registrations were 47.6% (60 of 126), significantly higher than England (24.5%), which is a concern."
    )
    text = proportion_verdict(
        "The share seen on time", 120, 126, benchmark=0.8, polarity="increase", benchmark_label="statistical neighbours"
    )
    assert text.startswith("The share seen on time was 95.2% (120 of 126), significantly higher than statistical")
    assert text.endswith("which is an improvement.")
    assert "no cases" in proportion_verdict("Re-registrations", 0, 0)


def test_proportion_verdict_explains_an_unusual_latest_month():
    num = STABLE_NUM.copy()
    num[-1] = 18
    chart = p_chart(num, STABLE_DEN, MONTHS, improvement="decrease")
    text = proportion_verdict("Re-registrations", 27, 126, chart_df=chart)
    assert "The latest month (March 2025, 78.3%) was unusually high compared with the last two years" in text
    assert text.endswith("which is a concern.")
    assert "special cause" not in text


def test_change_verdict_wording_matches_the_test():
    text = change_verdict("Re-registrations", 18, 100, 27, 126, label1="2023-24", label2="2024-25")
    res = compare_proportions(18, 100, 27, 126)
    assert not res.significant
    assert text == (
        "Re-registrations rose from 18.0% (18 of 100) in 2023-24 to 21.4% (27 of 126) in 2024-25, "
        "a rise of 3.4 percentage points, which is not statistically significant (it could be chance)."
    )
    text = change_verdict(
        "Referrals", 1000, None, 1120, None, label1="2023-24", label2="2024-25", kind="count", polarity="lower"
    )
    assert text == (
        "Referrals rose by 12.0%, from 1,000 in 2023-24 to 1,120 in 2024-25, a statistically significant "
        "change (unlikely to be chance alone), which is a concern."
    )
    text = change_verdict("The referral rate", 2300, 50_000, 2200, 50_000, kind="rate")
    assert text.startswith("The referral rate fell by 4.3%, from 460 per 10,000 children in last year to 440")


def test_trend_verdict():
    y = np.array([1000, 1040, 1100, 1130, 1190, 1230])
    res = trend_test(y, np.full(6, 50_000), np.arange(2020, 2026))
    text = trend_verdict("referrals", res)
    assert text.startswith("Over the six years from 2019-20 to 2024-25, referrals rose by an average of 4.3% a year")
    assert "statistically significant" in text and "not a statistically" not in text
    flat = trend_test([500, 510, 495, 505, 498], None, np.arange(2021, 2026))
    assert "not a statistically significant trend" in trend_verdict("referrals", flat)


def test_spc_verdict_lists_unusual_months_and_target():
    y = np.tile([50.0, 56.0, 53.0, 59.0], 6)
    y[-2] = 120.0
    chart = xmr_chart(y, MONTHS, improvement="decrease", target=5)
    assert chart["lower"].iloc[-1] > 5  # the target is below the whole usual range
    text = spc_verdict("section 47 enquiries", chart)
    assert text.startswith("Over the last two years, section 47 enquiries averaged")
    assert "1 month was unusual" in text and "February 2025 (120, beyond the expected range)" in text
    assert "which is a concern" in text
    assert "The latest month (March 2025, 59) was within the expected range." in text
    assert "target of 5 will not be met" in text
    quiet = spc_verdict("the re-registration rate", _stable_chart())
    assert "no month stands out as unusual" in quiet and "%" in quiet


def test_funnel_verdict_for_each_position():
    labels = classify_funnel(np.array([27, 50, 5]), np.array([126, 125, 100]), 0.245)
    assert labels.tolist() == ["within", "above 99.8%", "below 99.8%"]
    within = funnel_verdict("re-registrations", 27, 126, labels[0], benchmark=0.245)
    assert within == (
        "At 21.4% (27 of 126), re-registrations were within the range expected for a council of this size, "
        "given England's figure of 24.5%: the difference could be chance."
    )
    above = funnel_verdict("re-registrations", 50, 125, labels[1], benchmark=0.245, polarity="lower")
    assert "well above the range expected" in above and "99.8% limit" in above and above.endswith("concern.")
    rate = funnel_verdict("the referral rate", 2300, 50_000, "above 95%", benchmark=0.04, kind="rate")
    assert "460 per 10,000 children" in rate and "400 per 10,000 children" in rate and "well" not in rate


@pytest.mark.parametrize("value", [0.0, 99.95, 12.25])
def test_percent_always_one_decimal_place(value):
    text = format_percent(value)
    assert text.endswith("%") and len(text.split(".")[1]) == 2
