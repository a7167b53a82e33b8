"""Confidence intervals checked against published PHE values, statsmodels, scipy and simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from safeguarding.stats import (
    exact_poisson_interval,
    poisson_interval,
    proportion_interval,
    rate_interval,
    wilson_interval,
)

# ---------------------------------------------------------------------------------------------
# Published reference values.
# DataS-DHSC/PHStatsMethods, ph_statistical_methods/archive/tests_old.py (the Python port of
# PHEindicatormethods used by DHSC):
#   wilson(100, 10000) == (0.8229336148148417, 1.2146982255114647)        [percent]
#   phe_proportion(100, 1000) == (10.0, 8.29094435930957, 12.01519631953484)
#   byars_lower(100) == 81.36210549052788
#   phe_rate(100, 10000, 100000) == (1000.0, 813.6210549052789, ...)
# Its byars_upper(100) value (121.6246) is NOT used: it disagrees with the formula in the
# authoritative R package (ukhsa-collaboration/PHEindicatormethods R/Byars.R,
# (x+1)(1 - 1/(9(x+1)) + z/(3 sqrt(x+1)))^3 = 121.6279), which we follow; the upper limit is
# checked against scipy's exact chi-squared limit instead.


def test_wilson_matches_phe_published_values():
    lower, upper = wilson_interval(100, 10000)
    assert lower * 100 == pytest.approx(0.8229336148148417, rel=1e-12)
    assert upper * 100 == pytest.approx(1.2146982255114647, rel=1e-12)


def test_proportion_interval_matches_phe_proportion():
    lower, upper = proportion_interval(100, 1000)
    assert lower == pytest.approx(8.29094435930957, rel=1e-12)
    assert upper == pytest.approx(12.01519631953484, rel=1e-12)


def test_byars_lower_and_rate_match_phe_published_values():
    lower, _ = poisson_interval(100)
    assert lower == pytest.approx(81.36210549052788, rel=1e-12)
    rate_lower, _ = rate_interval(100, 10000, per=100_000)
    assert rate_lower == pytest.approx(813.6210549052789, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Independent implementations


@pytest.mark.parametrize("n", [1, 2, 7, 15, 126, 1000])
def test_wilson_agrees_with_statsmodels_for_every_numerator(n):
    x = np.arange(0, n + 1)
    lower, upper = wilson_interval(x, np.full_like(x, n))
    sm_lower, sm_upper = proportion_confint(x, n, alpha=0.05, method="wilson")
    np.testing.assert_allclose(lower, sm_lower, atol=1e-12)
    np.testing.assert_allclose(upper, sm_upper, atol=1e-12)


def test_wilson_998_agrees_with_statsmodels():
    lower, upper = wilson_interval(27, 126, confidence=0.998)
    sm_lower, sm_upper = proportion_confint(27, 126, alpha=0.002, method="wilson")
    assert lower == pytest.approx(sm_lower, abs=1e-12)
    assert upper == pytest.approx(sm_upper, abs=1e-12)


def test_wilson_exact_coverage_near_nominal():
    # exact coverage computed from the binomial distribution (scipy), not simulation
    for n, p in [(30, 0.2), (126, 0.245), (50, 0.5)]:
        x = np.arange(n + 1)
        lower, upper = wilson_interval(x, np.full(n + 1, n))
        covered = (lower <= p) & (p <= upper)
        coverage = stats.binom.pmf(x, n, p)[covered].sum()
        assert 0.92 <= coverage <= 0.98, (n, p, coverage)


def test_wilson_simulated_coverage():
    rng = np.random.default_rng(20250331)
    n, p = 80, 0.3
    x = rng.binomial(n, p, size=20_000)
    lower, upper = wilson_interval(x, np.full(x.size, n))
    coverage = np.mean((lower <= p) & (p <= upper))
    assert 0.935 <= coverage <= 0.965


@pytest.mark.parametrize("x", range(0, 10))
def test_exact_poisson_limits_satisfy_their_definition(x):
    lower, upper = poisson_interval(x)
    # upper: P(X <= x | mu = upper) = 2.5%; lower: P(X >= x | mu = lower) = 2.5% (lower 0 for x = 0)
    assert stats.poisson.cdf(x, upper) == pytest.approx(0.025, abs=1e-9)
    if x == 0:
        assert lower == 0.0
    else:
        assert stats.poisson.sf(x - 1, lower) == pytest.approx(0.025, abs=1e-9)


def test_exact_interval_for_zero_events():
    lower, upper = exact_poisson_interval(0)
    assert lower == 0.0
    assert upper == pytest.approx(-np.log(0.025), rel=1e-12)  # P(X = 0 | mu) = exp(-mu) = 0.025


@pytest.mark.parametrize("x", [10, 11, 25, 100, 999, 5000])
def test_byars_close_to_exact_from_ten_events(x):
    lower, upper = poisson_interval(x)
    exact_lower = stats.chi2.ppf(0.025, 2 * x) / 2
    exact_upper = stats.chi2.ppf(0.975, 2 * x + 2) / 2
    assert lower == pytest.approx(exact_lower, rel=2e-3)
    assert upper == pytest.approx(exact_upper, rel=2e-3)
    # and it really is Byar's (not the exact limit) from 10 events, as PHE specifies
    assert lower != pytest.approx(exact_lower, rel=1e-9)


def test_switch_between_exact_and_byars_at_ten():
    lower, _ = poisson_interval(np.array([9, 10]))
    assert lower[0] == pytest.approx(stats.chi2.ppf(0.025, 18) / 2, rel=1e-12)
    z = stats.norm.ppf(0.975)
    assert lower[1] == pytest.approx(10 * (1 - 1 / 90 - z / (3 * np.sqrt(10))) ** 3, rel=1e-12)


def test_rate_interval_scales_the_count_interval():
    lower, upper = rate_interval(np.array([0, 5, 250]), np.array([40_000, 40_000, 40_000]), per=10_000)
    c_lower, c_upper = poisson_interval(np.array([0, 5, 250]))
    np.testing.assert_allclose(lower, c_lower / 4, rtol=1e-12)
    np.testing.assert_allclose(upper, c_upper / 4, rtol=1e-12)
    lo, hi = rate_interval(3, 0)
    assert np.isnan(lo) and np.isnan(hi)


# ---------------------------------------------------------------------------------------------
# Shapes, missing values and errors


def test_shapes_follow_inputs():
    lo, hi = wilson_interval(3, 10)
    assert isinstance(lo, float) and isinstance(hi, float)
    lo, hi = wilson_interval(np.array([1, 2]), np.array([10, 10]))
    assert isinstance(lo, np.ndarray) and lo.shape == (2,)
    s = pd.Series([1, 2, 3], index=["a", "b", "c"])
    lo, hi = wilson_interval(s, pd.Series([10, 10, 10], index=["a", "b", "c"]))
    assert isinstance(lo, pd.Series) and list(lo.index) == ["a", "b", "c"]
    lo, hi = poisson_interval(pd.Series([0, 12], index=[2024, 2025]))
    assert list(hi.index) == [2024, 2025]


def test_zero_denominator_and_missing_values_give_nan():
    lo, hi = wilson_interval(np.array([0, 3, np.nan]), np.array([0, np.nan, 10]))
    assert np.isnan(lo).all() and np.isnan(hi).all()
    lo, hi = wilson_interval(pd.Series([1, pd.NA], dtype="Int64"), pd.Series([4, 4], dtype="Int64"))
    assert np.isfinite(lo.iloc[0]) and np.isnan(lo.iloc[1])


def test_invalid_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="numerator is larger than its denominator at position 1"):
        wilson_interval([1, 12], [10, 10])
    with pytest.raises(ValueError, match="must not be negative"):
        wilson_interval(-1, 10)
    with pytest.raises(ValueError, match="must not be negative"):
        poisson_interval([3, -2])
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 10, confidence=1.5)


def test_confidence_accepts_percent_like_phe():
    assert wilson_interval(27, 126, confidence=95) == wilson_interval(27, 126, confidence=0.95)


# ---------------------------------------------------------------------------------------------
# Properties


@settings(max_examples=200, deadline=None)
@given(n=st.integers(min_value=1, max_value=100_000), frac=st.floats(min_value=0, max_value=1))
def test_wilson_contains_estimate_and_stays_in_unit_interval(n, frac):
    x = round(frac * n)
    lower, upper = wilson_interval(x, n)
    assert 0.0 <= lower <= x / n + 1e-12
    assert x / n - 1e-12 <= upper <= 1.0
    if x == 0:
        assert lower == 0.0
    if x == n:
        assert upper == 1.0


@settings(max_examples=100, deadline=None)
@given(n=st.integers(min_value=2, max_value=5000), frac=st.floats(min_value=0, max_value=1))
def test_wilson_narrows_as_denominator_grows(n, frac):
    x = round(frac * n)
    lo1, hi1 = wilson_interval(x, n)
    lo4, hi4 = wilson_interval(4 * x, 4 * n)
    assert hi4 - lo4 < hi1 - lo1


@settings(max_examples=200, deadline=None)
@given(x=st.integers(min_value=0, max_value=1_000_000))
def test_poisson_interval_contains_count(x):
    lower, upper = poisson_interval(x)
    assert 0.0 <= lower <= x <= upper
    lower2, upper2 = poisson_interval(x + 1)
    assert lower2 > lower and upper2 > upper


def test_chi_squared_and_normal_quantiles_are_scipy_stats_own_bit_for_bit():
    """The intervals no longer import ``scipy.stats`` (0.3 s of the indicators stage, issue 19): the quantiles
    they use are worked out as scipy.stats works them out, so every interval is the same to the last bit."""
    from scipy import stats as scipy_stats

    from safeguarding.stats.intervals import chi2_ppf, z_value

    df = np.r_[np.arange(0.0, 400.0, 0.5), 1e4, 2.5e5, np.nan, -2.0, 0.0]
    for p in (0.0005, 0.001, 0.005, 0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975, 0.995, 0.999, 0.9995):
        np.testing.assert_array_equal(chi2_ppf(p, df), scipy_stats.chi2.ppf(p, df))
    for c in (0.5, 0.8, 0.9, 0.95, 0.975, 0.99, 0.998, 0.999):
        assert z_value(c) == float(scipy_stats.norm.ppf(1.0 - (1.0 - c) / 2.0))


def test_the_intervals_do_not_import_scipy_stats_or_statsmodels():
    """The indicators stage needs only the intervals: importing them from ``safeguarding.stats`` no longer pulls in
    the funnels, trends and control charts (``scipy.stats``, ``statsmodels``)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    code = ("import json, sys\nfrom safeguarding.stats import poisson_interval, wilson_interval, rate_interval\n"
            "poisson_interval([0, 3, 12, 40]); wilson_interval([1, 5], [10, 50]); rate_interval([3, 30], [1e4, 2e4])\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('scipy.stats', 'statsmodels')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
