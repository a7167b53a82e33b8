"""Change over time: period-on-period comparisons, multi-year trend tests and seasonality.

* :func:`compare_proportions`: difference between two proportions with
  Newcombe's hybrid score interval (Newcombe 1998, method 10) and a two-sided
  p-value from the pooled two-proportion z-test, or Fisher's exact test when
  any expected cell count is below 5.
* :func:`compare_rates`: ratio of two Poisson rates with exposure, exact
  conditional (binomial) test and interval.
* :func:`monthly_dispersion` and :func:`compare_rates_dispersed`: the same
  comparison when the year's months vary more than chance alone would make
  them (quasi-Poisson: the variance scaled by the Pearson dispersion of the
  two years' monthly counts, a t test on the log ratio).
* :func:`trend_test`: log-linear Poisson regression of counts on year with a
  log(exposure) offset (statsmodels GLM), switching to negative binomial when
  the Pearson dispersion exceeds 1.5.
* :func:`seasonal_decomposition`: STL (Cleveland et al. 1990) of a monthly
  series, only with at least 24 consecutive months.

See ``docs/statistics.md``.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from safeguarding.stats._arrays import as_float_arrays, check_confidence, template_of
from safeguarding.stats.intervals import wilson_interval, z_value

__all__ = [
    "Dispersion",
    "InsufficientDataError",
    "ProportionComparison",
    "RateComparison",
    "SeasonalityResult",
    "TrendResult",
    "compare_proportions",
    "compare_rates",
    "compare_rates_dispersed",
    "monthly_dispersion",
    "seasonal_decomposition",
    "seasonality_test",
    "trend_test",
]


class InsufficientDataError(ValueError):
    """Raised when there is too little data for an analysis; the message says why."""


@dataclass(frozen=True)
class ProportionComparison:
    """Two proportions (0-1) compared: second minus first."""

    p1: float
    p2: float
    difference: float
    lower: float
    upper: float
    p_value: float
    significant: bool
    method: str
    #: the test statistic: z of the pooled score test (signed, second minus first), or the sample odds ratio
    #: (second year's odds over the first's) for Fisher's exact test
    statistic: float = float("nan")


@dataclass(frozen=True)
class RateComparison:
    """Two rates compared: ratio second / first with its exact interval."""

    rate1: float
    rate2: float
    ratio: float
    lower: float
    upper: float
    percent_change: float
    p_value: float
    significant: bool
    method: str


@dataclass(frozen=True)
class TrendResult:
    """Average change per unit of ``years`` (per year) from a log-linear count model."""

    annual_change_pct: float
    lower: float
    upper: float
    p_value: float
    significant: bool
    family: str
    dispersion: float
    n_points: int
    first_year: float
    last_year: float
    note: str


def compare_proportions(n1, d1, n2, d2, confidence: float = 0.95):
    """Compare proportion n2/d2 (e.g. this year) with n1/d1 (e.g. last year).

    Returns a :class:`ProportionComparison` for scalar inputs, or a DataFrame with
    the same fields (one row per element) for arrays or Series. ``difference`` =
    p2 - p1 in proportion units (× 100 for percentage points). A zero
    denominator gives NaN and method 'no data'.
    """
    c = check_confidence(confidence)
    return _vectorise(_compare_proportions_one, (n1, d1, n2, d2), c)


def compare_rates(c1, e1, c2, e2, confidence: float = 0.95, per: float = 1.0):
    """Compare rate c2/e2 with c1/e1 (counts with exposure, e.g. children aged 0-17).

    The conditional test: given c1 + c2 events, c2 is binomial with probability
    e2 / (e1 + e2) when the rates are equal; the two-sided p-value is the exact
    binomial test (as statsmodels ``test_poisson_2indep(method='exact-cond')``) and
    the ratio interval is the Clopper-Pearson interval for that probability,
    transformed. For plain counts use exposure 1 for both. Rates are reported per
    ``per`` units of exposure. Scalars give a :class:`RateComparison`, arrays a DataFrame.
    """
    c = check_confidence(confidence)
    return _vectorise(lambda a, b, x, y, conf: _compare_rates_one(a, b, x, y, conf, per), (c1, e1, c2, e2), c)


def trend_test(
    counts,
    exposure=None,
    years=None,
    family: str = "auto",
    dispersion_threshold: float = 1.5,
    confidence: float = 0.95,
) -> TrendResult:
    """Test for a trend in counts (or rates, with ``exposure``) over several years.

    Fits log E[count] = log(exposure) + a + b × year by Poisson regression
    (statsmodels GLM). ``family='auto'`` refits as negative binomial (NB2, alpha by
    maximum likelihood) when the Pearson chi-squared / residual df exceeds
    ``dispersion_threshold``; 'poisson' or 'negbin' force a family. If the negative
    binomial fit fails, a quasi-Poisson fit (standard errors × √dispersion) is used
    and the note says so. The annual change is 100 × (exp(b) - 1) with its
    confidence interval and the Wald p-value. Needs at least 3 points and no
    missing values.
    """
    from statsmodels.discrete.discrete_model import NegativeBinomial
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.tools import add_constant  # (these, not statsmodels.api: 0.13 s less to import)

    c = check_confidence(confidence)
    if family not in ("auto", "poisson", "negbin"):
        raise ValueError("family must be 'auto', 'poisson' or 'negbin'")
    y = np.ravel(as_float_arrays(counts)[0])
    t = np.arange(y.size, dtype=float) if years is None else np.ravel(as_float_arrays(years)[0])
    e = np.ones_like(y) if exposure is None else np.ravel(as_float_arrays(exposure)[0])
    if not (y.size == t.size == e.size):
        raise ValueError(f"counts ({y.size}), exposure ({e.size}) and years ({t.size}) must have the same length")
    for name, arr in (("counts", y), ("years", t), ("exposure", e)):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise ValueError(f"{name} has a missing value at position {int(bad[0])}; fill or remove that year first")
    if np.any(y < 0) or np.any(e <= 0):
        raise ValueError("counts must be >= 0 and exposure > 0")
    if y.size < 3:
        raise InsufficientDataError(f"a trend test needs at least 3 points, got {y.size}")
    if np.unique(t).size < 2:
        raise InsufficientDataError("a trend test needs at least 2 different years")
    X = add_constant(t - t.mean())
    offset = np.log(e)
    poisson = GLM(y, X, family=families.Poisson(), offset=offset).fit()
    df_resid = poisson.df_resid
    dispersion = float(poisson.pearson_chi2 / df_resid) if df_resid > 0 else float("nan")
    use_nb = family == "negbin" or (family == "auto" and np.isfinite(dispersion) and dispersion > dispersion_threshold)
    note = ""
    slope, se, fam = float(poisson.params[1]), float(poisson.bse[1]), "poisson"
    if use_nb:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                nb = NegativeBinomial(y, X, offset=offset, loglike_method="nb2").fit(disp=0, maxiter=200)
            if not nb.mle_retvals.get("converged", True) or not np.all(np.isfinite(nb.bse)):
                raise RuntimeError("negative binomial fit did not converge")
            slope, se, fam = float(nb.params[1]), float(nb.bse[1]), "negative binomial"
            note = f"overdispersed (Pearson dispersion {dispersion:.2f}); negative binomial model used"
        except (RuntimeError, ValueError, np.linalg.LinAlgError):
            scale = max(dispersion, 1.0) if np.isfinite(dispersion) else 1.0
            se = se * np.sqrt(scale)
            fam = "quasi-poisson"
            note = (
                f"overdispersed (Pearson dispersion {dispersion:.2f}); the negative binomial model did not fit, "
                "so Poisson standard errors were scaled by the dispersion (quasi-Poisson)"
            )
    z = z_value(c)
    p_value = float(2.0 * stats.norm.sf(abs(slope / se))) if se > 0 else float("nan")
    return TrendResult(
        annual_change_pct=float(100.0 * np.expm1(slope)),
        lower=float(100.0 * np.expm1(slope - z * se)),
        upper=float(100.0 * np.expm1(slope + z * se)),
        p_value=p_value,
        significant=bool(p_value < 1.0 - c),
        family=fam,
        dispersion=dispersion,
        n_points=int(y.size),
        first_year=float(t.min()),
        last_year=float(t.max()),
        note=note,
    )


def seasonal_decomposition(monthly_series: pd.Series, period: int = 12, robust: bool = True) -> pd.DataFrame:
    """Split a monthly series into trend, seasonal and remainder with STL (statsmodels).

    Needs at least two full cycles (24 months for ``period=12``) of consecutive,
    non-missing values; otherwise raises :class:`InsufficientDataError` saying why.
    With a DatetimeIndex or PeriodIndex, months must be consecutive. Returns a
    DataFrame indexed like the input with columns observed, trend, seasonal, resid
    (observed = trend + seasonal + resid).
    """
    from statsmodels.tsa.seasonal import STL

    if not isinstance(monthly_series, pd.Series):
        monthly_series = pd.Series(monthly_series)
    values = pd.to_numeric(monthly_series, errors="coerce").astype(float)
    missing = values.isna()
    if missing.any():
        where = monthly_series.index[np.flatnonzero(missing.to_numpy())[0]]
        raise InsufficientDataError(f"the series has a missing value at {where}; STL needs every month filled")
    needed = 2 * period
    if len(values) < needed:
        raise InsufficientDataError(
            f"a seasonal decomposition needs at least {needed} consecutive months (two full years); "
            f"the series has {len(values)}"
        )
    index = monthly_series.index
    if isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)):
        months = index.to_period("M") if isinstance(index, pd.DatetimeIndex) else index.asfreq("M")
        ordinal = np.asarray([p.ordinal for p in months])
        gaps = np.flatnonzero(np.diff(ordinal) != 1)
        if gaps.size:
            raise InsufficientDataError(
                f"months are not consecutive after {months[gaps[0]]} (next is {months[gaps[0] + 1]}); "
                "add the missing months (0 if there were none) before decomposing"
            )
    result = STL(values.to_numpy(), period=period, robust=robust).fit()
    return pd.DataFrame(
        {"observed": values.to_numpy(), "trend": result.trend, "seasonal": result.seasonal, "resid": result.resid},
        index=index,
    )


# --------------------------------------------------------------------------------------------


def _compare_proportions_one(n1: float, d1: float, n2: float, d2: float, c: float) -> ProportionComparison:
    nan = float("nan")
    if not all(np.isfinite([n1, d1, n2, d2])) or d1 <= 0 or d2 <= 0:
        return ProportionComparison(nan, nan, nan, nan, nan, nan, False, "no data")
    if n1 < 0 or n2 < 0 or n1 > d1 or n2 > d2:
        raise ValueError(f"need 0 <= numerator <= denominator, got {n1:g}/{d1:g} and {n2:g}/{d2:g}")
    p1, p2 = n1 / d1, n2 / d2
    diff = p2 - p1
    l1, u1 = wilson_interval(n1, d1, c)
    l2, u2 = wilson_interval(n2, d2, c)
    lower = diff - np.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    upper = diff + np.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    pooled = (n1 + n2) / (d1 + d2)
    expected = np.array([d1 * pooled, d1 * (1 - pooled), d2 * pooled, d2 * (1 - pooled)])
    if expected.min() >= 5:
        se = np.sqrt(pooled * (1 - pooled) * (1 / d1 + 1 / d2))
        p_value = float(2.0 * stats.norm.sf(abs(diff) / se)) if se > 0 else 1.0
        statistic = float(diff / se) if se > 0 else 0.0
        method = "two-proportion z-test"
    else:
        table = [[round(n2), round(d2 - n2)], [round(n1), round(d1 - n1)]]
        fisher = stats.fisher_exact(table)
        p_value = float(fisher.pvalue)
        statistic = float(fisher.statistic)
        method = "Fisher's exact test"
    return ProportionComparison(
        float(p1), float(p2), float(diff), float(lower), float(upper), p_value, bool(p_value < 1 - c), method,
        statistic,
    )


@dataclass(frozen=True)
class Dispersion:
    """How much more two years' monthly counts vary than chance alone (Poisson) would make them."""

    #: Pearson's X² of the months around a model with a month-of-year and a year effect, over its degrees of
    #: freedom: 1 for Poisson variation, above 1 for more
    phi: float
    #: its degrees of freedom: months less the model's parameters (11 for two full years)
    df: int


def monthly_dispersion(first: ArrayLike, second: ArrayLike) -> Dispersion:
    """The dispersion of two years' monthly counts, month for month (``first[i]`` and ``second[i]`` the same
    month of the year).

    The model is Poisson with a month-of-year and a year effect (what a year's
    total compared with the year before assumes, allowing for seasons); for
    that model the fitted count of each cell of the months x years table is
    ``row total x column total / grand total``, so Pearson's X² is the
    chi-squared statistic of that table and the dispersion X² / (months - 1)
    (as R's ``glm(family = quasipoisson)`` and statsmodels' ``scale="X2"``
    estimate it). Months with no count in either year are left out.
    """
    a = np.asarray(first, dtype=float)
    b = np.asarray(second, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"two years of months of the same length, got {a.shape} and {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))) or np.any(a < 0) or np.any(b < 0):
        raise ValueError("monthly counts must be finite and not negative")
    keep = (a + b) > 0
    a, b = a[keep], b[keep]
    months = int(keep.sum())
    if months < 2 or a.sum() == 0 or b.sum() == 0:
        return Dispersion(float("nan"), max(months - 1, 0))
    row = a + b
    total = row.sum()
    fit_a, fit_b = row * a.sum() / total, row * b.sum() / total
    x2 = float(np.sum((a - fit_a) ** 2 / fit_a) + np.sum((b - fit_b) ** 2 / fit_b))
    return Dispersion(x2 / (months - 1), months - 1)


def compare_rates_dispersed(c1: float, e1: float, c2: float, e2: float, dispersion: Dispersion,
                            confidence: float = 0.95, per: float = 1.0) -> RateComparison:
    """:func:`compare_rates` when the months vary more than Poisson: quasi-Poisson, with the dispersion's t test.

    The log rate ratio's variance is ``phi (1/c1 + 1/c2)`` (the Poisson
    variance scaled by the dispersion); the test and the interval use
    Student's t with the dispersion's degrees of freedom, as R's
    ``summary.glm`` does for a quasi-Poisson model. With ``phi`` at most 1
    (no more variation than chance alone) or not known this is
    :func:`compare_rates` (exact): months that vary less than Poisson never
    make a change look more certain.
    """
    c = check_confidence(confidence)
    phi = dispersion.phi
    if not np.isfinite(phi) or phi <= 1 or dispersion.df < 1 or not (c1 > 0 and c2 > 0 and e1 > 0 and e2 > 0):
        return _compare_rates_one(float(c1), float(e1), float(c2), float(e2), c, per)
    log_ratio = np.log((c2 / e2) / (c1 / e1))
    se = float(np.sqrt(phi * (1 / c1 + 1 / c2)))
    t = float(log_ratio / se)
    p_value = float(2 * stats.t.sf(abs(t), dispersion.df))
    q = float(stats.t.ppf(1 - (1 - c) / 2, dispersion.df))
    ratio = float(np.exp(log_ratio))
    return RateComparison(
        float(c1 / e1 * per), float(c2 / e2 * per), ratio, float(np.exp(log_ratio - q * se)),
        float(np.exp(log_ratio + q * se)), float(100.0 * (ratio - 1.0)), p_value, bool(p_value < 1 - c),
        "quasi-Poisson test")


def _compare_rates_one(c1: float, e1: float, c2: float, e2: float, c: float, per: float) -> RateComparison:
    nan = float("nan")
    if not all(np.isfinite([c1, e1, c2, e2])) or e1 <= 0 or e2 <= 0:
        return RateComparison(nan, nan, nan, nan, nan, nan, nan, False, "no data")
    if c1 < 0 or c2 < 0:
        raise ValueError(f"counts must not be negative, got {c1:g} and {c2:g}")
    r1, r2 = c1 / e1 * per, c2 / e2 * per
    total = c1 + c2
    if total == 0:
        return RateComparison(r1, r2, nan, nan, nan, nan, 1.0, False, "exact conditional test")
    k, m = round(c2), round(total)
    share = e2 / (e1 + e2)
    p_value = float(stats.binomtest(k, m, share).pvalue)
    alpha = 1.0 - c
    pi_low = stats.beta.ppf(alpha / 2, k, m - k + 1) if k > 0 else 0.0
    pi_high = stats.beta.ppf(1 - alpha / 2, k + 1, m - k) if k < m else 1.0
    scale = e1 / e2
    with np.errstate(divide="ignore"):
        lower = pi_low / (1 - pi_low) * scale
        upper = pi_high / (1 - pi_high) * scale if pi_high < 1 else float("inf")
        ratio = (c2 / e2) / (c1 / e1) if c1 > 0 else float("inf")
    return RateComparison(
        float(r1),
        float(r2),
        float(ratio),
        float(lower),
        float(upper),
        float(100.0 * (ratio - 1.0)),
        p_value,
        bool(p_value < alpha),
        "exact conditional test",
    )


def _vectorise(func, args, c):
    if all(np.ndim(a) == 0 and not isinstance(a, pd.Series) for a in args):
        return func(*(float(a) for a in args), c)
    template = template_of(*args)
    arrays = [np.ravel(a) for a in as_float_arrays(*args)]
    rows = [asdict(func(*vals, c)) for vals in zip(*arrays, strict=True)]
    df = pd.DataFrame(rows)
    if isinstance(template, pd.Series) and len(template) == len(df):
        df.index = template.index
    return df


@dataclass(frozen=True)
class SeasonalityResult:
    """A month-of-year effect tested in a count model with a trend (see :func:`seasonality_test`).

    ``peak_ratio`` is the busiest month's expected count over an average month's
    (the geometric mean of the 12 month effects), with its Wald interval;
    ``peak_years`` counts the complete April-March years in which that month had
    the highest count, out of ``n_years``. ``usual_month`` is the month (1-12)
    that had the highest count, alone, in most complete years (more than half),
    0 when none did (``usual_years``: in how many): it need not be the busiest
    month on average.
    """

    lr_statistic: float
    df: int
    p_value: float
    significant: bool
    family: str
    dispersion: float
    n_months: int
    n_years: int
    peak_month: int
    peak_ratio: float
    peak_lower: float
    peak_upper: float
    peak_years: int
    usual_month: int = 0
    usual_years: int = 0


def seasonality_test(
    monthly_counts: pd.Series,
    confidence: float = 0.95,
    dispersion_threshold: float = 1.5,
    min_months: int = 36,
) -> SeasonalityResult:
    """Test for a month-of-year effect on monthly counts, allowing for a linear trend.

    Fits log E[y] = a + b·t + s(month), with t in years and the 12 month effects
    coded to sum to zero, by Poisson regression (statsmodels GLM), and compares it
    with the model without month effects by a likelihood ratio test on 11 degrees
    of freedom. When the Pearson dispersion of the full Poisson model exceeds
    ``dispersion_threshold`` both models are refitted as negative binomial (NB2,
    alpha by maximum likelihood) and the likelihood ratio comes from those fits.
    Needs ``min_months`` (default 36: three full years) consecutive months with a
    DatetimeIndex or PeriodIndex; otherwise raises :class:`InsufficientDataError`.
    """
    from statsmodels.discrete.discrete_model import NegativeBinomial
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.tools import add_constant  # (these, not statsmodels.api: 0.13 s less to import)

    c = check_confidence(confidence)
    if not isinstance(monthly_counts, pd.Series):
        raise TypeError("monthly_counts must be a pandas Series indexed by month")
    index = monthly_counts.index
    if not isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)):
        raise TypeError("monthly_counts needs a DatetimeIndex or PeriodIndex of months")
    months = index.to_period("M") if isinstance(index, pd.DatetimeIndex) else index.asfreq("M")
    y = pd.to_numeric(monthly_counts, errors="coerce").to_numpy(dtype=float)
    if np.isnan(y).any():
        raise InsufficientDataError("the series has a missing month; the seasonal test needs every month filled")
    if y.size < min_months:
        raise InsufficientDataError(
            f"a seasonal test needs at least {min_months} consecutive months ({min_months // 12} full years); "
            f"the series has {y.size}"
        )
    ordinal = np.asarray([p.ordinal for p in months])
    if np.any(np.diff(ordinal) != 1):
        raise InsufficientDataError("months are not consecutive; add the missing months before testing")
    if np.any(y < 0):
        raise ValueError("counts must not be negative")
    month = np.asarray([p.month for p in months])
    t = (np.arange(y.size) - (y.size - 1) / 2) / 12.0
    dummies = np.zeros((y.size, 11))
    for j in range(11):  # months 1..11 against December coded -1 (sum-to-zero effects)
        dummies[:, j] = np.where(month == j + 1, 1.0, np.where(month == 12, -1.0, 0.0))
    X_red = add_constant(t)
    X_full = np.column_stack([X_red, dummies])
    full = GLM(y, X_full, family=families.Poisson()).fit()
    reduced = GLM(y, X_red, family=families.Poisson()).fit()
    dispersion = float(full.pearson_chi2 / full.df_resid) if full.df_resid > 0 else float("nan")
    family = "poisson"
    lr = float(reduced.deviance - full.deviance)
    params, cov = np.asarray(full.params), np.asarray(full.cov_params())
    if np.isfinite(dispersion) and dispersion > dispersion_threshold:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb_full = NegativeBinomial(y, X_full, loglike_method="nb2").fit(disp=0, maxiter=500)
            nb_red = NegativeBinomial(y, X_red, loglike_method="nb2").fit(disp=0, maxiter=500)
        lr = float(2.0 * (nb_full.llf - nb_red.llf))
        k = X_full.shape[1]
        params, cov = np.asarray(nb_full.params)[:k], np.asarray(nb_full.cov_params())[:k, :k]
        family = "negative binomial"
    lr = max(lr, 0.0)
    p_value = float(stats.chi2.sf(lr, 11))
    # effect of each month on the log scale: L @ params, December = -(sum of the others)
    L = np.zeros((12, X_full.shape[1]))
    for m in range(11):
        L[m, 2 + m] = 1.0
    L[11, 2:] = -1.0
    effects = L @ params
    ses = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", L, cov, L), 0.0))
    peak = int(np.argmax(effects))
    z = z_value(c)
    # complete April-March years: in how many was the peak month the busiest?
    fy = np.asarray([p.year + (1 if p.month >= 4 else 0) for p in months])
    years = [yr for yr in np.unique(fy) if (fy == yr).sum() == 12]
    busiest = []  # each complete year's busiest month (1-12), 0 for a tie
    for yr in years:
        sel = fy == yr
        top = np.flatnonzero(y[sel] == y[sel].max())
        busiest.append(int(month[sel][top[0]]) if top.size == 1 else 0)
    peak_years = busiest.count(peak + 1)
    usual = [m for m in range(1, 13) if busiest.count(m) > len(years) / 2]
    return SeasonalityResult(
        lr_statistic=lr,
        df=11,
        p_value=p_value,
        significant=bool(p_value < 1.0 - c),
        family=family,
        dispersion=dispersion,
        n_months=int(y.size),
        n_years=len(years),
        peak_month=peak + 1,
        peak_ratio=float(np.exp(effects[peak])),
        peak_lower=float(np.exp(effects[peak] - z * ses[peak])),
        peak_upper=float(np.exp(effects[peak] + z * ses[peak])),
        peak_years=int(peak_years),
        usual_month=usual[0] if usual else 0,
        usual_years=busiest.count(usual[0]) if usual else 0,
    )
