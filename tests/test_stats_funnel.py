"""Funnel limits checked against PHEindicatormethods' published test data, statsmodels and scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

from safeguarding.stats import (
    classify_funnel,
    estimate_overdispersion,
    funnel_grid,
    funnel_limits,
    funnel_points,
    wilson_interval,
)

# ---------------------------------------------------------------------------------------------
# ukhsa-collaboration/PHEindicatormethods tests/testthat/testdata_funnel_prop_outputs.csv
# (expected output of phe_funnels(); baseline 80.642448%).
# Columns: Population, Lower2s0025limit, Upper2s0025limit, Lower3s0001limit, Upper3s0001limit
PHE_PROP_BASELINE = 0.80642448
PHE_PROP_ROWS = [
    (1, 3.204264, 100, 0, 100),
    (3, 35.933491, 100, 10.150815, 100),
    (18, 62.390093, 98.894803, 51.864359, 100),
    (41, 68.548635, 92.73626, 61.574398, 99.710497),
    (102, 72.974925, 88.309971, 68.553233, 92.731663),
    (1008, 78.203374, 83.081521, 76.796814, 84.488082),
    (9998, 79.867989, 81.416907, 79.421375, 81.863521),
    (110000, 80.408963, 80.875933, 80.274317, 81.010578),
]


def test_proportion_limits_match_phe_funnels():
    rows = np.array(PHE_PROP_ROWS, dtype=float)
    df = funnel_limits(PHE_PROP_BASELINE, rows[:, 0])
    for col, expected in zip(["lower_95", "upper_95", "lower_998", "upper_998"], rows[:, 1:].T, strict=True):
        np.testing.assert_allclose(df[col] * 100, expected, atol=2e-6, err_msg=col)


# ukhsa-collaboration/PHEindicatormethods tests/testthat/testdata_funnel_prop_inputs.csv:
# Area, numerator, denominator, significance (expected output of phe_funnel_significance()).
PHE_SIGNIFICANCE_ROWS = [
    ("New Forest PCT", 35078.4880, 41980, "High (0.001)"),
    ("Norwich PCT", 24803.6256, 31824, "Low (0.001)"),
    ("South Gloucestershire PCT", 50050.7443, 61921, "Not significant"),
    ("West Norfolk PCT", 26789.2380, 33012, "High (0.025)"),
    ("North Tees PCT", 36850.0492, 45449, "High (0.025)"),
    ("Mid-Hampshire PCT", 34502.0685, 42485, "High (0.025)"),
    ("North Devon PCT", 30277.5312, 37828, "Low (0.025)"),
    ("Central Derby PCT", 24648.7596, 30521, "Not significant"),
    ("Hertsmere PCT", 18550.7595, 22905, "Not significant"),
    ("Harlow PCT", 15808.1975, 20597, "Low (0.001)"),
]
PHE_LABELS = {
    "High (0.001)": "above 99.8%",
    "High (0.025)": "above 95%",
    "Not significant": "within",
    "Low (0.025)": "below 95%",
    "Low (0.001)": "below 99.8%",
}


def test_classification_matches_phe_funnel_significance():
    areas, num, den, expected = zip(*PHE_SIGNIFICANCE_ROWS, strict=True)
    got = classify_funnel(pd.Series(num, index=areas), pd.Series(den, index=areas), PHE_PROP_BASELINE)
    assert list(got.index) == list(areas)
    assert got.tolist() == [PHE_LABELS[e] for e in expected]


# ukhsa-collaboration/PHEindicatormethods tests/testthat/testdata_funnel_rate_outputs.csv
# (rate funnels, baseline 116.1720835 per 100,000). Each row gives, for a number of events, the
# population at which that count sits on each limit and the limit's rate; the file's
# populations are per year of 3 pooled years (rate = events / (3 x population) x 100,000, which
# the file's own columns satisfy), so the exposure is 3 x population.
PHE_RATE_BASELINE = 116.1720835 / 100_000
# events, lower_2s_pop, lower_2s_limit, upper_2s_pop, upper_2s_limit,
#         lower_3s_pop, lower_3s_limit, upper_3s_pop, upper_3s_limit
PHE_RATE_ROWS = [
    (1, 1598.675694, 20.85059119, 7.264481402, 4588.535848, 2649.348525, 12.58170943, 0.287087625, 116108.569),
    (10, 5276.757672, 63.17010446, 1375.943768, 242.2579623, 6924.776769, 48.13632908, 849.4639547, 392.4043292),
    (99, 34583.45945, 95.42133877, 23087.10848, 142.9369123, 38382.78582, 85.97604186, 20393.92315, 161.8129075),
    (1360, 411529.9259, 110.158048, 369759.5622, 122.6021934, 424043.2424, 106.9073359, 358342.3275, 126.5084525),
]


@pytest.mark.parametrize("row", PHE_RATE_ROWS, ids=lambda r: f"events={r[0]}")
def test_rate_limits_match_phe_rate_funnels(row):
    events, lp2, l2, up2, u2, lp3, l3, up3, u3 = row
    for col, pop, expected in [
        ("lower_95", lp2, l2),
        ("upper_95", up2, u2),
        ("lower_998", lp3, l3),
        ("upper_998", up3, u3),
    ]:
        got = funnel_limits(PHE_RATE_BASELINE, [3 * pop], kind="rate")[col].iloc[0] * 100_000
        assert got == pytest.approx(expected, rel=1e-5), col
        # consistency: the limit is the rate of `events` at that population
        assert events / (3 * pop) * 100_000 == pytest.approx(expected, rel=1e-6)


# ---------------------------------------------------------------------------------------------
# Independent checks


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=20_000),
    frac=st.floats(min_value=0, max_value=1),
    bench=st.floats(min_value=0.01, max_value=0.99),
)
def test_wilson_funnel_agrees_with_wilson_interval(n, frac, bench):
    # outside the 95% funnel exactly when the unit's own 95% Wilson interval excludes the benchmark
    x = round(frac * n)
    lower, upper = wilson_interval(x, n)
    assume(abs(lower - bench) > 1e-9 and abs(upper - bench) > 1e-9)
    label = classify_funnel(x, n, bench, levels=(0.95,))
    assert (label == "above 95%") == (lower > bench)
    assert (label == "below 95%") == (upper < bench)


@settings(max_examples=150, deadline=None)
@given(
    x=st.integers(min_value=0, max_value=5_000),
    n=st.floats(min_value=100, max_value=1e7),
    bench=st.floats(min_value=1e-4, max_value=0.05),
)
def test_rate_funnel_agrees_with_exact_poisson_interval(x, n, bench):
    theta = bench * n
    exact_lower = stats.chi2.ppf(0.025, 2 * x) / 2 if x > 0 else 0.0
    exact_upper = stats.chi2.ppf(0.975, 2 * x + 2) / 2
    assume(abs(exact_lower - theta) > 1e-6 * theta and abs(exact_upper - theta) > 1e-6 * theta)
    label = classify_funnel(x, n, bench, kind="rate", levels=(0.95,))
    assert (label == "above 95%") == (exact_lower > theta)
    assert (label == "below 95%") == (exact_upper < theta)


def test_exact_binomial_limits_lie_between_discrete_quantiles():
    n = np.array([5, 20, 57, 130, 800])
    bench = 0.3
    df = funnel_limits(bench, n, kind="proportion", method="exact")
    r_hi = stats.binom.ppf(0.975, n, bench)
    r_lo = stats.binom.ppf(0.025, n, bench)
    assert ((r_hi - 1) / n <= df["upper_95"] + 1e-12).all() and (df["upper_95"] <= r_hi / n + 1e-12).all()
    assert ((r_lo - 1) / n <= df["lower_95"] + 1e-12).all() and (df["lower_95"] <= r_lo / n + 1e-12).all()


def test_exact_and_wilson_limits_converge_for_large_denominators():
    n = np.array([20_000, 100_000])
    exact = funnel_limits(0.245, n, method="exact")
    normal = funnel_limits(0.245, n, method="wilson")
    for col in ["lower_95", "upper_95", "lower_998", "upper_998"]:
        np.testing.assert_allclose(exact[col], normal[col], atol=5e-4)


@settings(max_examples=100, deadline=None)
@given(
    bench=st.floats(min_value=0.01, max_value=0.99),
    n1=st.integers(min_value=1, max_value=10_000),
    factor=st.floats(min_value=1.01, max_value=50),
    kind=st.sampled_from(["proportion", "rate"]),
)
def test_limits_widen_as_denominators_shrink(bench, n1, factor, kind):
    b = bench if kind == "proportion" else bench / 100
    df = funnel_limits(b, [n1, n1 * factor], kind=kind)
    for level in ("95", "998"):
        assert df[f"upper_{level}"].iloc[0] >= df[f"upper_{level}"].iloc[1] - 1e-12
        assert df[f"lower_{level}"].iloc[0] <= df[f"lower_{level}"].iloc[1] + 1e-12
        assert (df[f"lower_{level}"] <= b + 1e-12).all() and (df[f"upper_{level}"] >= b - 1e-12).all()
    assert (df["upper_998"] >= df["upper_95"]).all() and (df["lower_998"] <= df["lower_95"]).all()


def test_zero_and_full_counts_and_zero_denominators():
    labels = classify_funnel(np.array([0, 100, 0, 3]), np.array([100, 100, 0, 10]), 0.5)
    assert labels.tolist() == ["below 99.8%", "above 99.8%", "no data", "within"]
    df = funnel_limits(0.5, [0, 10])
    assert df.iloc[0, 1:].isna().all() and df.iloc[1, 1:].notna().all()
    assert classify_funnel(0, 50, 0.001, kind="rate") == "within"  # expected 0.05 events


# ---------------------------------------------------------------------------------------------
# Overdispersion


def test_additive_tau2_matches_dersimonian_laird_for_proportions():
    rng = np.random.default_rng(3)
    n = rng.integers(50, 2000, size=40)
    x = rng.binomial(n, rng.beta(20, 60, size=40))
    y = np.arcsin(np.sqrt(x / n))
    var = 1 / (4 * n)
    centre = np.sum(y / var) / np.sum(1 / var)  # inverse-variance mean on the arcsine scale
    od = estimate_overdispersion(x, n, np.sin(centre) ** 2, kind="proportion", trim=0)
    dl = combine_effects(y, var, method_re="dl")
    assert od.tau2 == pytest.approx(dl.tau2, rel=1e-9)
    assert od.phi * od.n_units == pytest.approx(dl.q, rel=1e-9)


def test_additive_tau2_matches_dersimonian_laird_for_rates():
    rng = np.random.default_rng(4)
    pop = rng.integers(20_000, 200_000, size=30).astype(float)
    counts = rng.poisson(pop * 0.04 * rng.gamma(30, 1 / 30, size=30))
    bench = (np.sum(np.sqrt(pop * counts)) / pop.sum()) ** 2  # makes the weighted mean of sqrt(O/E) = 1
    od = estimate_overdispersion(counts, pop, bench, kind="rate", trim=0)
    y = np.sqrt(counts / (bench * pop))
    var = 1 / (4 * bench * pop)
    assert np.sum(y / var) / np.sum(1 / var) == pytest.approx(1.0)
    assert od.tau2 == pytest.approx(combine_effects(y, var, method_re="dl").tau2, rel=1e-9)


def test_overdispersion_detected_only_when_present():
    rng = np.random.default_rng(5)
    n = rng.integers(100, 3000, size=150)
    binomial = rng.binomial(n, 0.25)
    od = estimate_overdispersion(binomial, n, binomial.sum() / n.sum())
    assert od.phi < 1 and od.tau2 == 0  # winsorising shrinks phi below 1 when there is no overdispersion
    raw = estimate_overdispersion(binomial, n, binomial.sum() / n.sum(), trim=0)
    assert 0.75 < raw.phi < 1.25  # unwinsorised: mean of squared z-scores, expectation 1
    spread = rng.binomial(n, rng.beta(15, 45, size=150))
    od2 = estimate_overdispersion(spread, n, spread.sum() / n.sum())
    assert od2.phi > 2 and od2.tau2 > 0 and od2.p_value < 0.001
    plain = classify_funnel(spread, n, spread.sum() / n.sum())
    adjusted = classify_funnel(spread, n, spread.sum() / n.sum(), overdispersion=True)
    multiplicative = classify_funnel(spread, n, spread.sum() / n.sum(), overdispersion="multiplicative")
    assert (plain != "within").sum() > (adjusted != "within").sum()
    assert (plain != "within").sum() > (multiplicative != "within").sum()


def test_overdispersed_limits_are_wider():
    od = estimate_overdispersion([10, 40, 80, 200, 5, 60], [100, 120, 300, 500, 90, 150], 0.2)
    assert od.tau2 > 0
    plain = funnel_limits(0.2, [50, 500])
    wide = funnel_limits(0.2, [50, 500], overdispersion=od)
    assert (wide["upper_95"] > plain["upper_95"]).all() and (wide["lower_95"] < plain["lower_95"]).all()


def test_funnel_points_and_grid():
    table = funnel_points([5, 50], [20, 100], 0.25)
    assert list(table.columns[:3]) == ["numerator", "denominator", "value"]
    assert table["value"].tolist() == [0.25, 0.5]
    grid = funnel_grid(3, 5000)
    assert grid[0] == 3 and grid[-1] == pytest.approx(5000) and (np.diff(grid) > 0).all()


def test_bad_inputs():
    with pytest.raises(ValueError, match="benchmark"):
        funnel_limits(24.5, [10])
    with pytest.raises(ValueError, match="kind"):
        funnel_limits(0.2, [10], kind="ratio")
    with pytest.raises(ValueError, match="larger than denominator"):
        classify_funnel([11], [10], 0.2)
