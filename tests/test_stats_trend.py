"""Comparisons and trend tests checked against scipy, statsmodels and simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.rates import test_poisson_2indep as sm_test_poisson_2indep

from safeguarding.stats import (
    InsufficientDataError,
    ProportionComparison,
    compare_proportions,
    compare_rates,
    seasonal_decomposition,
    trend_test,
)

# ---------------------------------------------------------------------------------------------
# Two proportions


@pytest.mark.parametrize("counts", [(18, 100, 27, 126), (250, 1000, 300, 1000), (40, 90, 20, 95)])
def test_compare_proportions_matches_scipy_and_statsmodels(counts):
    n1, d1, n2, d2 = counts
    res = compare_proportions(n1, d1, n2, d2)
    assert isinstance(res, ProportionComparison)
    assert res.method == "two-proportion z-test"
    assert res.difference == pytest.approx(n2 / d2 - n1 / d1)
    # p-value: chi-squared test without continuity correction (scipy) = pooled z-test (statsmodels)
    table = np.array([[n1, d1 - n1], [n2, d2 - n2]])
    chi2_p = stats.chi2_contingency(table, correction=False)[1]
    assert res.p_value == pytest.approx(chi2_p, rel=1e-9)
    assert res.p_value == pytest.approx(proportions_ztest([n2, n1], [d2, d1])[1], rel=1e-9)
    # interval: Newcombe's hybrid score interval (statsmodels computes count1/nobs1 - count2/nobs2)
    low, upp = confint_proportions_2indep(n2, d2, n1, d1, method="newcomb", compare="diff")
    assert res.lower == pytest.approx(low, abs=1e-9)
    assert res.upper == pytest.approx(upp, abs=1e-9)


def test_compare_proportions_small_counts_use_fisher():
    res = compare_proportions(1, 8, 6, 9)
    assert res.method == "Fisher's exact test"
    assert res.p_value == pytest.approx(stats.fisher_exact([[1, 7], [6, 3]]).pvalue, rel=1e-12)


def test_compare_proportions_vectorised_and_no_data():
    s1 = pd.Series([10, 20, 0], index=["a", "b", "c"])
    df = compare_proportions(s1, pd.Series([100, 100, 0], index=s1.index), s1 + 5, 100)
    assert isinstance(df, pd.DataFrame) and list(df.index) == ["a", "b", "c"]
    assert df.loc["c", "method"] == "no data" and np.isnan(df.loc["c", "p_value"])
    single = compare_proportions(20, 100, 25, 100)
    assert df.loc["b", "p_value"] == pytest.approx(single.p_value)


def test_compare_proportions_simulated_type_one_error():
    rng = np.random.default_rng(42)
    n1 = rng.binomial(200, 0.3, size=2000)
    n2 = rng.binomial(250, 0.3, size=2000)
    df = compare_proportions(n1, np.full(2000, 200), n2, np.full(2000, 250))
    assert 0.035 <= df["significant"].mean() <= 0.065


# ---------------------------------------------------------------------------------------------
# Two rates


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@pytest.mark.parametrize("counts", [(10, 1000.0, 25, 1200.0), (480, 52_000.0, 530, 52_500.0), (0, 10.0, 4, 12.0)])
def test_compare_rates_matches_statsmodels_exact_conditional_test(counts):
    c1, e1, c2, e2 = counts
    res = compare_rates(c1, e1, c2, e2)
    sm = sm_test_poisson_2indep(c2, e2, c1, e1, method="exact-cond")
    assert res.p_value == pytest.approx(sm.pvalue, rel=1e-9)


def test_rate_ratio_interval_satisfies_exact_binomial_tails():
    c1, e1, c2, e2 = 30, 40_000.0, 45, 41_000.0
    res = compare_rates(c1, e1, c2, e2)
    m = c1 + c2

    def share(ratio):  # probability that an event is in period 2 when rate2 = ratio x rate1
        return ratio * e2 / (e1 + ratio * e2)

    # Clopper-Pearson: P(X >= c2 | lower) = 2.5% and P(X <= c2 | upper) = 2.5%, by scipy's binomial
    assert stats.binom.sf(c2 - 1, m, share(res.lower)) == pytest.approx(0.025, abs=1e-9)
    assert stats.binom.cdf(c2, m, share(res.upper)) == pytest.approx(0.025, abs=1e-9)
    assert res.ratio == pytest.approx((45 / 41_000) / (30 / 40_000))
    assert res.percent_change == pytest.approx(100 * (res.ratio - 1))


def test_compare_rates_per_and_zero_counts():
    res = compare_rates(900, 45_000, 1000, 45_500, per=10_000)
    assert res.rate1 == pytest.approx(200.0) and res.rate2 == pytest.approx(10_000_000 / 45_500)
    none = compare_rates(0, 100, 0, 100)
    assert none.p_value == 1.0 and not none.significant


# ---------------------------------------------------------------------------------------------
# Trend test


def _poisson_mle_slope(y, e, t):
    """Maximise the Poisson log-likelihood directly with scipy (independent of statsmodels' IRLS)."""
    tc = t - t.mean()

    def nll(beta):
        mu = e * np.exp(beta[0] + beta[1] * tc)
        return np.sum(mu - y * np.log(mu))

    start = np.array([np.log(y.sum() / e.sum()), 0.0])
    return optimize.minimize(nll, start, method="BFGS", options={"gtol": 1e-10}).x[1]


def test_trend_slope_matches_direct_likelihood_maximisation():
    y = np.array([812, 870, 905, 1010, 1043, 1120], dtype=float)
    e = np.array([50_100, 50_400, 50_900, 51_200, 51_000, 51_600], dtype=float)
    t = np.arange(2020, 2026, dtype=float)
    res = trend_test(y, e, t, family="poisson")
    slope = _poisson_mle_slope(y, e, t)
    assert res.annual_change_pct == pytest.approx(100 * np.expm1(slope), rel=1e-5)
    assert res.first_year == 2020 and res.last_year == 2025 and res.n_points == 6


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.PerfectSeparationWarning")
def test_trend_two_rates_equal_the_rate_ratio():
    # with two distinct years the Poisson fit is saturated for the rates: slope = log rate ratio
    y = np.array([100.0, 100.0, 130.0, 130.0])
    e = np.array([1000.0, 1000.0, 1000.0, 1000.0])
    res = trend_test(y, e, [0, 0, 1, 1], family="poisson")
    assert res.annual_change_pct == pytest.approx(30.0, rel=1e-8)


def test_trend_confidence_interval_coverage_by_simulation():
    rng = np.random.default_rng(2025)
    t = np.arange(8.0)
    e = np.full(8, 40_000.0)
    true_change = 5.0
    mu = e * 0.02 * (1 + true_change / 100) ** t
    covered = 0
    sims = 200
    for _ in range(sims):
        res = trend_test(rng.poisson(mu), e, t, family="poisson")
        covered += res.lower <= true_change <= res.upper
    assert 0.90 <= covered / sims <= 0.99


def test_trend_switches_to_negative_binomial_when_overdispersed():
    rng = np.random.default_rng(8)
    t = np.arange(10.0)
    mu = 500 * 1.02**t
    y = rng.negative_binomial(5, 5 / (5 + mu))  # variance far above the mean
    res = trend_test(y, None, t)
    assert res.dispersion > 1.5
    assert res.family in ("negative binomial", "quasi-poisson")
    assert "overdispersed" in res.note
    poisson = trend_test(y, None, t, family="poisson")
    assert (res.upper - res.lower) > (poisson.upper - poisson.lower)


def test_trend_input_errors():
    with pytest.raises(InsufficientDataError):
        trend_test([1, 2], None, [2024, 2025])
    with pytest.raises(ValueError, match="missing value at position 1"):
        trend_test([1, np.nan, 3], None, [1, 2, 3])


# ---------------------------------------------------------------------------------------------
# Seasonal decomposition


def test_stl_recovers_a_known_seasonal_pattern():
    months = pd.date_range("2021-04-01", periods=48, freq="MS")
    pattern = 20 * np.sin(2 * np.pi * np.arange(48) / 12)
    trend = 300 + 2 * np.arange(48)
    noise = np.random.default_rng(1).normal(0, 2, 48)
    series = pd.Series(trend + pattern + noise, index=months)
    out = seasonal_decomposition(series)
    assert list(out.index) == list(months)
    np.testing.assert_allclose(out["trend"] + out["seasonal"] + out["resid"], series.to_numpy())
    assert np.abs(out["seasonal"].to_numpy()[12:36] - pattern[12:36]).max() < 6  # amplitude 20
    assert np.corrcoef(out["seasonal"], pattern)[0, 1] > 0.97


def test_stl_refuses_short_or_gappy_series():
    short = pd.Series(np.arange(23.0), index=pd.date_range("2023-04-01", periods=23, freq="MS"))
    with pytest.raises(InsufficientDataError, match="at least 24"):
        seasonal_decomposition(short)
    idx = pd.date_range("2021-04-01", periods=30, freq="MS").delete(10)
    with pytest.raises(InsufficientDataError, match="not consecutive"):
        seasonal_decomposition(pd.Series(np.arange(29.0), index=idx))
    gap = pd.Series(np.arange(30.0), index=pd.date_range("2021-04-01", periods=30, freq="MS"))
    gap.iloc[4] = np.nan
    with pytest.raises(InsufficientDataError, match="missing value"):
        seasonal_decomposition(gap)


def test_the_trend_tests_import_only_the_statsmodels_parts_they_use():
    """Issue 19: ``statsmodels.api`` imports the whole library (0.13 s more than the GLM and the negative
    binomial model these tests fit), in the build's data stage and in every chapter kernel."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    code = ("import json, sys\nimport numpy as np, pandas as pd\n"
            "from safeguarding.stats import trend_test, seasonality_test\n"
            "trend_test([30, 34, 41, 39, 47])\n"
            "months = pd.period_range('2021-04', periods=36, freq='M')\n"
            "seasonality_test(pd.Series(np.random.default_rng(1).poisson(20, 36), index=months))\n"
            "print(json.dumps('statsmodels.api' in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert json.loads(out.stdout.strip().splitlines()[-1]) is False
