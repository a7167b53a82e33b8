"""Paired yes/no answers: exact McNemar test and Newcombe's method 10 interval, against independent results."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from safeguarding.stats.paired import mcnemar_exact, paired_comparison, paired_difference_interval

cells = st.integers(min_value=0, max_value=60)


def test_newcombe_interval_matches_the_published_worked_example():
    """Cavo et al. (2012), worked in Fagerland, Lydersen and Laake, Statistical Analysis of Contingency Tables
    (2017), chapter 8 (the Newcombe square-and-add interval): table [[59, 6], [16, 80]],
    estimate -0.0621, 95% CI -0.1186 to -0.0046."""
    lo, hi = paired_difference_interval(59, 6, 16, 80)
    assert (65 - 75) / 161 == pytest.approx(-0.0621, abs=5e-5)
    assert lo == pytest.approx(-0.1186, abs=5e-5)
    assert hi == pytest.approx(-0.0046, abs=5e-5)


def test_exact_mcnemar_of_the_worked_example():
    """The same table's discordant pairs, 6 and 16: 2 * P(X <= 6), X ~ Binomial(22, 1/2) = 0.0525."""
    assert mcnemar_exact(6, 16) == pytest.approx(2 * sum(math.comb(22, k) for k in range(7)) / 2 ** 22, rel=1e-12)
    assert mcnemar_exact(6, 16) == pytest.approx(0.0525, abs=5e-5)


@settings(max_examples=200, deadline=None)
@given(cells, cells)
def test_exact_mcnemar_agrees_with_scipy_binomtest(b, c):
    expected = 1.0 if b + c == 0 else binomtest(c, b + c, 0.5).pvalue
    assert mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("table", [(20, 5, 17, 22), (59, 6, 16, 80), (0, 0, 0, 7), (3, 0, 9, 1), (10, 10, 10, 10)])
def test_exact_mcnemar_agrees_with_statsmodels(table):
    sm = pytest.importorskip("statsmodels.stats.contingency_tables")
    a, b, c, d = table
    expected = sm.mcnemar([[a, b], [c, d]], exact=True).pvalue
    assert mcnemar_exact(b, c) == pytest.approx(min(1.0, expected), rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(cells, cells, cells, cells)
def test_interval_contains_the_estimate_and_is_antisymmetric(a, b, c, d):
    n = a + b + c + d
    lo, hi = paired_difference_interval(a, b, c, d)
    if n == 0:
        assert math.isnan(lo) and math.isnan(hi)
        return
    est = (b - c) / n
    assert -1 <= lo <= est + 1e-12 and est - 1e-12 <= hi <= 1
    # swapping the two time points negates the interval
    lo2, hi2 = paired_difference_interval(a, c, b, d)
    assert lo2 == pytest.approx(-hi, abs=1e-12) and hi2 == pytest.approx(-lo, abs=1e-12)


def test_no_discordant_pairs_gives_zero_change_and_p_one():
    r = paired_comparison(12, 0, 0, 9)
    assert r.change == 0 and r.p_value == 1.0 and r.change_lower < 0 < r.change_upper


def test_paired_comparison_orients_the_change_after_minus_before():
    r = paired_comparison(20, 5, 17, 22)  # 5 yes->no, 17 no->yes
    assert (r.n, r.yes_before, r.yes_after) == (64, 25, 37)
    assert r.change == pytest.approx(12 / 64)
    lo, hi = paired_difference_interval(20, 17, 5, 22)
    assert (r.change_lower, r.change_upper) == (lo, hi) and lo > 0
    assert r.p_value == pytest.approx(binomtest(17, 22, 0.5).pvalue)


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_cells_must_be_whole_numbers(bad):
    with pytest.raises(ValueError, match="whole numbers"):
        paired_difference_interval(bad, 1, 1, 1)
