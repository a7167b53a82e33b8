"""Confidence intervals for proportions, counts and rates (PHE / OHID Fingertips methods).

* Proportions: Wilson score interval (Wilson 1927; Newcombe and Altman 2000),
  the method of PHEindicatormethods ``wilson_lower`` / ``wilson_upper``.
* Counts: exact Poisson limits from the chi-squared distribution below 10
  events and Byar's approximation from 10 events (Breslow and Day 1987), as
  PHEindicatormethods ``phe_rate`` does.
* Rates: the count interval divided by the population, times ``per``.

All functions are vectorised: scalars give floats, arrays give arrays and
pandas Series give Series with the same index. Missing inputs give NaN.
See ``docs/statistics.md`` for formulas and references.
"""

from __future__ import annotations

import numpy as np

from safeguarding.stats._arrays import as_float_arrays, check_confidence, like, template_of

__all__ = [
    "BYARS_THRESHOLD",
    "exact_poisson_interval",
    "poisson_interval",
    "proportion_interval",
    "rate_interval",
    "wilson_interval",
    "z_value",
]

#: Counts below this use exact chi-squared limits; from it, Byar's method (PHE convention).
BYARS_THRESHOLD = 10


def z_value(confidence: float = 0.95) -> float:
    """Return the two-sided standard normal quantile for a confidence level (1.959964 for 0.95)."""
    c = check_confidence(confidence)
    from scipy.special import ndtri  # scipy.stats.norm.ppf is this (plus argument checks): not scipy.stats (0.3 s)

    return float(ndtri(1.0 - (1.0 - c) / 2.0))


def wilson_interval(numerator, denominator, confidence: float = 0.95):
    """Wilson score interval for a proportion, as (lower, upper) in 0-1.

    ``(2x + z² ± z·sqrt(z² + 4x(1 - x/n))) / (2(n + z²))``. A numerator of 0
    gives a lower limit of exactly 0 and a numerator equal to the denominator
    an upper limit of exactly 1. A denominator of 0 (or a missing value)
    gives NaN. Negative values or a numerator above its denominator raise
    ``ValueError``.
    """
    template = template_of(numerator, denominator)
    x, n = as_float_arrays(numerator, denominator)
    _check_counts(x, "numerator")
    _check_counts(n, "denominator")
    if np.any((x > n) & np.isfinite(x) & np.isfinite(n)):
        bad = int(np.flatnonzero(np.ravel((x > n) & np.isfinite(x) & np.isfinite(n)))[0])
        raise ValueError(
            f"numerator is larger than its denominator at position {bad} "
            f"({np.ravel(x)[bad]:g} > {np.ravel(n)[bad]:g}); a proportion needs numerator <= denominator"
        )
    z = z_value(confidence)
    valid = (n > 0) & np.isfinite(x) & np.isfinite(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = 2.0 * x + z**2
        spread = z * np.sqrt(np.maximum(z**2 + 4.0 * x * (1.0 - x / n), 0.0))
        denom = 2.0 * (n + z**2)
        lower = np.where(valid, (centre - spread) / denom, np.nan)
        upper = np.where(valid, (centre + spread) / denom, np.nan)
    lower = np.where(valid & (x == 0), 0.0, lower)
    upper = np.where(valid & (x == n), 1.0, upper)
    lower = np.clip(lower, 0.0, 1.0)
    upper = np.clip(upper, 0.0, 1.0)
    return like(lower, template), like(upper, template)


def proportion_interval(numerator, denominator, confidence: float = 0.95):
    """Wilson score interval as percentages (0-100): ``(lower_pct, upper_pct)``."""
    lower, upper = wilson_interval(numerator, denominator, confidence)
    return lower * 100.0, upper * 100.0


def exact_poisson_interval(count, confidence: float = 0.95):
    """Exact (Garwood) Poisson interval for a count from the chi-squared distribution.

    lower = χ²(α/2; 2x)/2 (0 when x = 0), upper = χ²(1 - α/2; 2x + 2)/2.
    """
    template = template_of(count)
    (x,) = as_float_arrays(count)
    _check_counts(x, "count")
    alpha = 1.0 - check_confidence(confidence)
    lower, upper = _exact(x, alpha)
    return like(lower, template), like(upper, template)


def poisson_interval(count, confidence: float = 0.95):
    """Interval for a Poisson count: exact below 10 events, Byar's method from 10.

    Byar's: lower = x(1 - 1/(9x) - z/(3√x))³, upper = (x+1)(1 - 1/(9(x+1)) + z/(3√(x+1)))³.
    A zero count gives a lower limit of 0. Returns ``(lower, upper)`` as counts.
    """
    template = template_of(count)
    (x,) = as_float_arrays(count)
    _check_counts(x, "count")
    c = check_confidence(confidence)
    alpha = 1.0 - c
    z = z_value(c)
    ex_lower, ex_upper = _exact(x, alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        by_lower = x * (1.0 - 1.0 / (9.0 * x) - z / (3.0 * np.sqrt(x))) ** 3
        x1 = x + 1.0
        by_upper = x1 * (1.0 - 1.0 / (9.0 * x1) + z / (3.0 * np.sqrt(x1))) ** 3
    use_byars = x >= BYARS_THRESHOLD
    lower = np.where(use_byars, by_lower, ex_lower)
    upper = np.where(use_byars, by_upper, ex_upper)
    return like(lower, template), like(upper, template)


def rate_interval(count, population, per: float = 10_000, confidence: float = 0.95):
    """Interval for a rate ``count / population × per`` (e.g. per 10,000 children).

    Uses :func:`poisson_interval` for the count (the population is treated as
    fixed). A population of 0 or missing gives NaN. Returns ``(lower, upper)``
    in the same units as the rate.
    """
    template = template_of(count, population)
    x, pop = as_float_arrays(count, population)
    _check_counts(pop, "population")
    lower, upper = poisson_interval(x, confidence)
    valid = (pop > 0) & np.isfinite(pop)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(valid, np.asarray(lower) / pop * per, np.nan)
        hi = np.where(valid, np.asarray(upper) / pop * per, np.nan)
    return like(lo, template), like(hi, template)


def _exact(x: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore"):
        lower = np.where(x > 0, chi2_ppf(alpha / 2.0, 2.0 * np.where(x > 0, x, 1.0)) / 2.0, 0.0)
        upper = chi2_ppf(1.0 - alpha / 2.0, 2.0 * x + 2.0) / 2.0
    lower = np.where(np.isfinite(x), lower, np.nan)
    upper = np.where(np.isfinite(x), upper, np.nan)
    return lower, upper


def chi2_ppf(p: float, df: np.ndarray) -> np.ndarray:
    """The chi-squared quantile ``scipy.stats.chi2.ppf(p, df)`` for ``0 < p < 1``, as scipy works it out
    (``2 * gammaincinv(df / 2, p)``; NaN where ``df`` is not positive), without importing ``scipy.stats``
    (0.3 s of the indicators stage, which needs nothing else from it)."""
    from scipy.special import gammaincinv

    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(df > 0, 2 * gammaincinv(df / 2, p), np.nan)


def _check_counts(values: np.ndarray, what: str) -> None:
    flat = np.ravel(values)
    negative = np.flatnonzero(flat < 0)
    if negative.size:
        i = int(negative[0])
        raise ValueError(f"{what} must not be negative: found {flat[i]:g} at position {i}")
