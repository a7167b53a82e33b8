"""SPC charts checked against NHSRplotthedots' published expectations and hand-made series."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from safeguarding.stats import assurance, p_chart, spc_summary, xmr_chart
from safeguarding.stats.spc import _run_rule, _trend_rule, _two_of_three_rule

# R: set.seed(123); rnorm(20) -- the data of NHSRplotthedots tests/testthat/test-ptd_spc_standard.R
# (the values are printed to 8 decimals in the snapshot file below).
RNORM_123 = np.array(
    [
        -0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774, 1.71506499, 0.46091621,
        -1.26506123, -0.68685285, -0.44566197, 1.22408180, 0.35981383, 0.40077145, 0.11068272,
        -0.55584113, 1.78691314, 0.49785048, -1.96661716, 0.70135590, -0.47279141,
    ]
)  # fmt: skip


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return func(*args, **kwargs)


# ---------------------------------------------------------------------------------------------
# Published reference values: nhs-r-community/NHSRplotthedots
# tests/testthat/_snaps/ptd_spc_standard.md ("it returns expected values"):
#   r1 (screen_outliers = TRUE):         mean 0.1416238, lpl -3.01138,  upl 3.294627
#   r2 (y[15] <- 10, screen_outliers):   mean 0.6694159, lpl -2.383666, upl 3.722497
#   r3 (y[15] <- 10, no screening):      mean 0.6694159, lpl -4.596625, upl 5.935457


def test_xmr_limits_match_nhsrplotthedots_snapshot():
    df = xmr_chart(RNORM_123, screen_outliers=True)
    assert df["centre"].iloc[0] == pytest.approx(0.1416238, abs=5e-8)
    assert df["lower"].iloc[0] == pytest.approx(-3.01138, abs=5e-6)
    assert df["upper"].iloc[0] == pytest.approx(3.294627, abs=5e-7)
    assert not df["special_cause"].any()  # snapshot: 20 common cause points


def test_xmr_screen_outliers_matches_nhsrplotthedots_snapshot():
    y = RNORM_123.copy()
    y[14] = 10  # R's y[15]
    screened = xmr_chart(y, screen_outliers=True)
    plain = xmr_chart(y, screen_outliers=False)
    assert screened["centre"].iloc[0] == pytest.approx(0.6694159, abs=5e-8)
    assert screened["lower"].iloc[0] == pytest.approx(-2.383666, abs=5e-7)
    assert screened["upper"].iloc[0] == pytest.approx(3.722497, abs=5e-7)
    assert plain["lower"].iloc[0] == pytest.approx(-4.596625, abs=5e-7)
    assert plain["upper"].iloc[0] == pytest.approx(5.935457, abs=5e-7)


def test_two_sigma_lines_are_two_thirds_of_the_limits():
    df = xmr_chart(RNORM_123)
    half = df["upper"] - df["centre"]
    np.testing.assert_allclose(df["upper_2s"] - df["centre"], half * 2 / 3)
    np.testing.assert_allclose(df["centre"] - df["lower_2s"], half * 2 / 3)
    # independent: sigma estimated as mean moving range / d2 (1.128), limits at 3 sigma
    sigma = np.abs(np.diff(RNORM_123)).mean() / 1.128
    assert half.iloc[0] == pytest.approx(3 * sigma, rel=2e-4)  # 2.66 is 3/1.128 rounded


# ---------------------------------------------------------------------------------------------
# Rule helpers against NHSRplotthedots tests/testthat/test-ptd_calculate_point_type.R.
# NHSRplotthedots marks the 7th point of a run and then, with ptd_part_of_seven_trend, every
# point of the run; our helpers return the "part of" flags directly.


def test_run_rule_matches_nhsrplotthedots_cases():
    assert not _run_rule(np.ones(6)).any()
    assert not _run_rule(np.r_[np.ones(6), -1]).any()
    np.testing.assert_array_equal(_run_rule(np.r_[np.ones(8), -1]), [True] * 8 + [False])
    np.testing.assert_array_equal(_run_rule(np.r_[-np.ones(8), 1]), [True] * 8 + [False])
    np.testing.assert_array_equal(_run_rule(np.r_[-1, np.ones(8), -1]), [False] + [True] * 8 + [False])


def test_run_rule_points_on_the_centre_line_break_runs():
    side = np.r_[np.ones(3), 0, np.ones(4)]
    assert not _run_rule(side).any()


def test_trend_rule_matches_nhsrplotthedots_cases():
    assert not _trend_rule(np.arange(1, 7))[0].any()
    assert not _trend_rule(np.r_[1, 2, 3, 3, 4, 5, 6])[0].any()  # equal values break a trend
    flags, direction = _trend_rule(np.arange(1, 8))
    assert flags.all() and (direction == 1).all()
    flags, direction = _trend_rule(np.r_[2, np.arange(1, 8), 3])
    np.testing.assert_array_equal(flags, [False] + [True] * 7 + [False])
    flags, direction = _trend_rule(np.arange(7, 0, -1))
    assert flags.all() and (direction == -1).all()
    flags, _ = _trend_rule(np.r_[2, np.arange(7, 0, -1), 3])
    np.testing.assert_array_equal(flags, [False] + [True] * 7 + [False])


def test_two_of_three_rule_matches_nhsrplotthedots_cases():
    same_side = np.ones(7)
    for close in ([1, 0, 1], [0, 1, 1], [1, 1, 0]):
        np.testing.assert_array_equal(_two_of_three_rule(np.array(close, bool), np.ones(3)), np.array(close, bool))
    c = np.array([0, 0, 1, 0, 1, 0, 0], bool)
    np.testing.assert_array_equal(_two_of_three_rule(c, same_side), c)
    c = np.array([1, 0, 0, 1], bool)
    assert not _two_of_three_rule(c, np.ones(4)).any()
    c = np.array([1, 0, 0, 1, 1], bool)
    np.testing.assert_array_equal(_two_of_three_rule(c, np.ones(5)), [False, False, False, True, True])


def test_two_of_three_needs_all_three_on_one_side():
    # NHSRplotthedots test-ptd_spc_standard.R: symmetrical data, last two points near opposite limits
    data = np.tile([1.0, -1.0], 8)
    data[14], data[15] = 5.5, -5.5
    df = xmr_chart(data)
    assert df["special_cause"].tolist()[-2:] == [False, False]


# ---------------------------------------------------------------------------------------------
# Hand-made series: each fires exactly one rule at known points, and a quiet one fires none.

BASE = np.tile([5.0, 7.0, 6.0, 8.0], 6)  # 24 points, mean 6.5, no rule fires


def _special(df):
    return df.index[df["special_cause"]].tolist()


def test_quiet_series_fires_no_rule():
    df = xmr_chart(BASE, improvement="increase")
    assert _special(df) == []
    assert (df["rule"] == "").all() and (df["signal"] == "").all()
    assert spc_summary(df)["variation"] == "common cause"


def test_single_point_outside_limits():
    y = BASE.copy()
    y[12] = 20.0
    df = xmr_chart(y, improvement="decrease")
    assert y[12] > df["upper"].iloc[12]
    assert _special(df) == [12]
    assert df.loc[12, "rule"] == "outside limits"
    assert df.loc[12, "signal"] == "concern"  # higher is worse here
    assert df.loc[12, "direction"] == "higher"


def test_run_of_seven_above_the_centre():
    y = BASE.copy()
    y[13:20] = [7.5, 8.0, 7.5, 8.0, 7.5, 8.0, 7.5]
    df = xmr_chart(y, improvement="increase", baseline=12)  # limits from the quiet first year
    assert df["centre"].iloc[0] == 6.5 and y[12] < 6.5 and y[20] < 6.5
    assert _special(df) == list(range(13, 20))
    assert set(df.loc[13:19, "rule"]) == {"run of 7 on one side"}
    assert set(df.loc[13:19, "signal"]) == {"improvement"}


def test_trend_of_seven_rising():
    y = BASE.copy()
    y[13:20] = [4.6, 5.2, 5.8, 6.4, 7.0, 7.6, 8.2]
    df = xmr_chart(y, baseline=12)  # no improvement direction
    assert _special(df) == list(range(13, 20))
    assert set(df.loc[13:19, "rule"]) == {"trend of 7"}
    assert set(df.loc[13:19, "signal"]) == {"neither"}
    assert set(df.loc[13:19, "direction"]) == {"higher"}  # trend direction, even for points below the mean


def test_two_of_three_near_the_upper_limit():
    y = BASE.copy()
    y[[13, 14, 15]] = [10.5, 7.0, 10.5]
    df = xmr_chart(y, improvement="increase", baseline=12)
    row = df.iloc[13]
    assert row["upper_2s"] < 10.5 < row["upper"]  # really in the outer third
    assert _special(df) == [13, 15]
    assert set(df.loc[[13, 15], "rule"]) == {"2 of 3 near limits"}


def test_several_rules_are_all_named():
    y = np.r_[np.tile([5.0, 7.0], 6), [7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 40.0]]
    df = xmr_chart(y, baseline=12)
    assert df.iloc[-1]["rule"] == "outside limits; trend of 7; run of 7 on one side"


def test_baseline_fixes_limits_and_later_shift_is_detected():
    per = pd.date_range("2022-04-01", periods=24, freq="MS")
    y = np.r_[np.tile([4.0, 8.0], 6), np.full(12, 7.0)]
    df = xmr_chart(y, per, baseline=12)
    assert (df["centre"] == 6.0).all()  # mean of the first 12 points only
    np.testing.assert_allclose(df["upper"], 6.0 + 2.66 * 4.0)
    assert df["special_cause"].iloc[12:].all()
    same = xmr_chart(y, per, baseline=slice("2022-04", "2023-03"))
    pd.testing.assert_frame_equal(df, same)


def test_points_on_the_centre_line_break_runs_in_a_chart():
    y = np.r_[np.tile([8.0, 4.0], 6), [7, 7, 7, 6, 7, 7, 7, 7]]
    df = xmr_chart(y, baseline=12)
    assert df["centre"].iloc[0] == 6.0
    assert not df["special_cause"].any()
    y2 = np.r_[np.tile([8.0, 4.0], 6), [7, 7, 7, 7, 7, 7, 7, 6]]
    assert xmr_chart(y2, baseline=12)["special_cause"].sum() == 7


def test_rebase_gives_each_segment_its_own_limits_and_rules():
    per = pd.period_range("2021-04", periods=30, freq="M")
    y = np.r_[np.tile([5.0, 7.0], 9), np.tile([15.0, 17.0], 6)]
    df = _quiet(xmr_chart, y, per, rebase=[per[18]])
    assert df["segment"].tolist() == [0] * 18 + [1] * 12
    assert df["centre"].iloc[0] == 6.0 and df["centre"].iloc[-1] == 16.0
    assert not df["special_cause"].any()
    unbased = xmr_chart(y, per)
    assert unbased["special_cause"].any()
    with pytest.raises(ValueError, match="rebase period"):
        xmr_chart(y, per, rebase=[pd.Period("2030-01", "M")])


def test_missing_values_are_kept_but_not_judged():
    y = BASE.copy()
    y[5] = np.nan
    df = xmr_chart(y)
    assert len(df) == 24 and np.isnan(df.loc[5, "value"])
    assert not df.loc[5, "special_cause"] and df.loc[5, "rule"] == ""
    assert df["centre"].iloc[0] == pytest.approx(np.nanmean(y))


def test_short_series_warns():
    with pytest.warns(UserWarning, match="fewer than 12"):
        df = xmr_chart([1.0, 2.0, 3.0, 2.0])
    assert df.attrs["notes"]


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="ascending"):
        xmr_chart([1, 2, 3], periods=[3, 2, 1])
    with pytest.raises(ValueError, match="more than once"):
        xmr_chart([1, 2, 3], periods=[1, 1, 2])
    with pytest.raises(ValueError, match="improvement"):
        xmr_chart(BASE, improvement="sideways")
    with pytest.raises(ValueError, match="larger than denominator"):
        p_chart([5, 11], [10, 10])


# ---------------------------------------------------------------------------------------------
# p-charts


def test_p_chart_limits_vary_with_denominator_and_are_percent():
    num = np.array([10, 30, 5, 20] * 4)
    den = np.array([50, 150, 20, 100] * 4)
    df = _quiet(p_chart, num, den)
    pbar = num.sum() / den.sum()
    assert df["centre"].iloc[0] == pytest.approx(100 * pbar)
    np.testing.assert_allclose(df["value"], 100 * num / den)
    width = df["upper"] - df["centre"]
    assert width.iloc[2] > width.iloc[0] > width.iloc[3] > width.iloc[1]  # smaller n, wider limits
    assert (df["lower"] >= 0).all() and (df["upper"] <= 100).all()
    assert {"numerator", "denominator"} <= set(df.columns)


def test_p_chart_false_alarm_rate_by_simulation():
    rng = np.random.default_rng(7)
    den = rng.integers(50, 400, size=4000)
    num = rng.binomial(den, 0.25)
    df = p_chart(num, den)
    outside = ((df["value"] > df["upper"]) | (df["value"] < df["lower"])).mean()
    assert outside < 0.01  # 3-sigma limits: about 0.3% for in-control binomial data


def test_laney_matches_an_xmr_chart_of_the_z_scores():
    rng = np.random.default_rng(11)
    den = rng.integers(20_000, 40_000, size=36)
    p_true = rng.normal(0.2, 0.01, size=36)  # between-period variation beyond binomial
    num = rng.binomial(den, p_true)
    plain = p_chart(num, den)
    laney = p_chart(num, den, laney=True)
    pbar = num.sum() / den.sum()
    sigma = np.sqrt(pbar * (1 - pbar) / den)
    z = (num / den - pbar) / sigma
    z_chart = xmr_chart(z)  # independent route: XmR limits of the z-scores
    z_half = z_chart["upper"].iloc[0] - z_chart["centre"].iloc[0]
    np.testing.assert_allclose((laney["upper"] / 100 - pbar) / sigma, z_half, rtol=1e-3)
    assert plain["special_cause"].sum() > laney["special_cause"].sum()


def test_p_chart_zero_denominator_is_missing():
    df = _quiet(p_chart, [1, 0, 2, 3], [10, 0, 10, 10])
    assert np.isnan(df.loc[1, "value"]) and not df.loc[1, "special_cause"]


# ---------------------------------------------------------------------------------------------
# Assurance (NHSRplotthedots R/ptd_calculate_assurance_type.R logic) and summary


def test_assurance_against_target():
    df = xmr_chart(BASE)  # limits about 1.2 to 11.8
    lo, hi = df["lower"].iloc[-1], df["upper"].iloc[-1]
    assert assurance(df, target=hi + 1, improvement="increase") == "consistently failing"
    assert assurance(df, target=lo - 1, improvement="increase") == "consistently passing"
    assert assurance(df, target=hi + 1, improvement="decrease") == "consistently passing"
    assert assurance(df, target=lo - 1, improvement="decrease") == "consistently failing"
    assert assurance(df, target=6.5, improvement="increase") == "hit and miss"
    assert assurance(df, target=None, improvement="increase") == "no target"
    assert assurance(df, target=6.5) == "no direction"
    with_target = xmr_chart(BASE, improvement="increase", target=hi + 1)
    assert spc_summary(with_target)["assurance"] == "consistently failing"


def test_summary_reports_latest_special_cause():
    y = BASE.copy()
    y[-1] = 0.0 - 10
    df = xmr_chart(y, improvement="decrease")
    s = spc_summary(df)
    assert s["variation"] == "special cause improvement"
    assert s["n_special"] == 1 and s["special_periods"] == [23]
    neutral = spc_summary(xmr_chart(y))
    assert neutral["variation"] == "special cause low"
