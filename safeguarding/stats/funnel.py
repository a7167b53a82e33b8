"""Funnel plots: control limits around a benchmark and classification of councils.

* Proportions, ``method='wilson'`` (default): PHE's Fingertips method
  (PHEindicatormethods ``phe_funnels``), the limits obtained by inverting the
  Wilson score interval. Algebraically these are B ± z·√(B(1 - B)/n), clipped
  to 0-1: an observed proportion lies outside them exactly when its Wilson
  interval excludes the benchmark B.
* Proportions, ``method='exact'``: exact binomial limits with Spiegelhalter's
  (2005) interpolation between the discrete quantiles.
* Rates (``kind='rate'``): exact Poisson limits for the expected count
  θ = B × exposure via the chi-squared / gamma relationship (PHE and FunnelPlotR).
  A count lies outside them exactly when its exact Poisson interval excludes θ.
* Overdispersion (Spiegelhalter 2005, as FunnelPlotR): z-scores on a
  variance-stabilising scale (arcsine square root for proportions, square root
  of observed / expected for rates), winsorised at 10% each end;
  multiplicative φ = mean(z²) or additive random-effects τ².

See ``docs/statistics.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from safeguarding.stats._arrays import as_float_arrays, template_of

__all__ = [
    "Overdispersion",
    "classify_funnel",
    "estimate_overdispersion",
    "funnel_grid",
    "funnel_limits",
    "funnel_points",
    "level_label",
]

KINDS = ("proportion", "rate")


@dataclass(frozen=True)
class Overdispersion:
    """Overdispersion estimated from all units (Spiegelhalter 2005).

    ``phi`` is the mean squared winsorised z-score; ``tau2`` the additive
    between-unit variance on the transformed scale; ``method`` says which one the
    limits use; ``p_value`` tests phi = 1 (n × phi against chi-squared on n - 1
    degrees of freedom; approximate, because the z-scores are winsorised).
    """

    method: str
    phi: float
    tau2: float
    n_units: int
    trim: float
    p_value: float

    @property
    def adjusts(self) -> bool:
        """Whether the limits are actually widened (phi > 1 or tau2 > 0)."""
        return self.phi > 1.0 if self.method == "multiplicative" else self.tau2 > 0.0


def level_label(level: float) -> str:
    """Column suffix for a level: 0.95 -> '95', 0.998 -> '998', 0.99 -> '99'."""
    return f"{level * 100:g}".replace(".", "")


def _percent_label(level: float) -> str:
    return f"{level * 100:g}%"


def funnel_grid(min_denominator: float, max_denominator: float, points: int = 100) -> np.ndarray:
    """Return a geometric grid of denominators for drawing funnel limits (starting at 1 or more)."""
    lo = max(1.0, float(min_denominator))
    hi = max(lo + 1.0, float(max_denominator))
    return np.unique(np.round(np.geomspace(lo, hi, points), 6))


def funnel_limits(
    benchmark: float,
    denominators,
    levels=(0.95, 0.998),
    kind: str = "proportion",
    overdispersion: Overdispersion | None = None,
    method: str = "wilson",
) -> pd.DataFrame:
    """Funnel limits around ``benchmark`` at each denominator.

    ``benchmark`` is a proportion in 0-1 (``kind='proportion'``) or a rate per unit
    of exposure (``kind='rate'``, e.g. 0.0045 referrals per child). Returns a
    DataFrame with column ``denominator`` and ``lower_<L>``/``upper_<L>`` for each
    level (``lower_95``, ``upper_95``, ``lower_998``, ``upper_998`` by default), in
    the benchmark's units. ``method`` ('wilson' or 'exact') applies to proportions;
    rates always use exact Poisson limits. Pass an :class:`Overdispersion` from
    :func:`estimate_overdispersion` to widen the limits.
    """
    _check_kind(kind)
    b = float(benchmark)
    if not np.isfinite(b) or b < 0 or (kind == "proportion" and b > 1):
        raise ValueError(f"benchmark must be a {'proportion in 0-1' if kind == 'proportion' else 'rate >= 0'}, got {b}")
    (n,) = as_float_arrays(denominators)
    n = np.ravel(n)
    if np.any(n < 0):
        raise ValueError("denominators must not be negative")
    out = {"denominator": n}
    for level in levels:
        if not 0 < level < 1:
            raise ValueError(f"levels must be between 0 and 1, got {level}")
        lower, upper = _limits(b, n, level, kind, overdispersion, method)
        suffix = level_label(level)
        out[f"lower_{suffix}"] = lower
        out[f"upper_{suffix}"] = upper
    df = pd.DataFrame(out)
    df.attrs.update({"benchmark": b, "kind": kind, "levels": tuple(levels), "method": method})
    if overdispersion is not None:
        df.attrs["overdispersion"] = overdispersion
    return df


def estimate_overdispersion(
    numerators,
    denominators,
    benchmark: float,
    kind: str = "proportion",
    method: str = "additive",
    trim: float = 0.1,
) -> Overdispersion:
    """Estimate overdispersion among units (Spiegelhalter 2005; FunnelPlotR's procedure).

    z_i = (Y_i - target) / s_i on the transformed scale (proportions: Y = asin√p,
    s = 1/(2√n); rates: Y = √(O/E), E = benchmark × exposure, target 1,
    s = 1/(2√E)); z-scores winsorised at the ``trim`` and 1 - ``trim`` quantiles;
    φ = Σ z_w² / I; τ² = max(0, (Iφ - (I - 1)) / (Σw - Σw²/Σw)) with w = 1/s², and
    τ² = 0 when Iφ < I - 1. Units with a zero denominator are left out.
    """
    _check_kind(kind)
    if method not in ("additive", "multiplicative"):
        raise ValueError("method must be 'additive' or 'multiplicative'")
    x, n = as_float_arrays(numerators, denominators)
    x, n = np.ravel(x), np.ravel(n)
    keep = np.isfinite(x) & np.isfinite(n) & (n > 0)
    x, n = x[keep], n[keep]
    if x.size < 3:
        raise ValueError(f"overdispersion needs at least 3 units with a denominator, got {x.size}")
    y, target, s = _transform(x, n, float(benchmark), kind)
    z = (y - target) / s
    if trim > 0:
        lo, hi = np.quantile(z, [trim, 1.0 - trim])
        zw = np.clip(z, lo, hi)
    else:
        zw = z
    units = z.size
    phi = float(np.mean(zw**2))
    w = 1.0 / s**2
    if units * phi < units - 1:
        tau2 = 0.0
    else:
        tau2 = float(max(0.0, (units * phi - (units - 1)) / (w.sum() - (w**2).sum() / w.sum())))
    p_value = float(stats.chi2.sf(units * phi, units - 1))
    return Overdispersion(method=method, phi=phi, tau2=tau2, n_units=units, trim=trim, p_value=p_value)


def classify_funnel(
    numerators,
    denominators,
    benchmark: float,
    kind: str = "proportion",
    levels=(0.95, 0.998),
    overdispersion=False,
    method: str = "wilson",
    trim: float = 0.1,
):
    """Place each unit relative to the funnel limits.

    Labels: 'above 99.8%', 'above 95%', 'within', 'below 95%', 'below 99.8%' (one per
    level, widest first; a value exactly on a limit counts as within), or 'no data'
    for a zero or missing denominator. ``overdispersion`` may be False, True
    (additive, as FunnelPlotR), 'additive', 'multiplicative' or an
    :class:`Overdispersion`. Returns the same shape as the inputs (a str for scalars).
    """
    table = funnel_points(
        numerators,
        denominators,
        benchmark,
        kind=kind,
        levels=levels,
        overdispersion=overdispersion,
        method=method,
        trim=trim,
    )
    labels = table["classification"].to_numpy(dtype=object)
    template = template_of(numerators, denominators)
    if isinstance(template, pd.Series):
        return pd.Series(labels, index=template.index, name="classification")
    if np.ndim(numerators) == 0 and np.ndim(denominators) == 0:
        return str(labels[0])
    return labels


def funnel_points(
    numerators,
    denominators,
    benchmark: float,
    kind: str = "proportion",
    levels=(0.95, 0.998),
    overdispersion=False,
    method: str = "wilson",
    trim: float = 0.1,
) -> pd.DataFrame:
    """One row per unit: numerator, denominator, value, the limits at its denominator and its classification.

    ``value`` is a proportion (0-1) or a rate per unit of exposure, like the limits.
    Overdispersion, when asked for, is estimated from these same units.
    """
    _check_kind(kind)
    template = template_of(numerators, denominators)
    x, n = as_float_arrays(numerators, denominators)
    x, n = np.ravel(x), np.ravel(n)
    if np.any(x < 0) or np.any(n < 0):
        raise ValueError("numerators and denominators must not be negative")
    if kind == "proportion" and np.any((x > n) & np.isfinite(x) & np.isfinite(n)):
        i = int(np.flatnonzero(x > n)[0])
        raise ValueError(f"numerator {x[i]:g} is larger than denominator {n[i]:g} at position {i}")
    od = _resolve_overdispersion(overdispersion, x, n, benchmark, kind, trim)
    limits = funnel_limits(benchmark, n, levels=levels, kind=kind, overdispersion=od, method=method)
    valid = np.isfinite(x) & np.isfinite(n) & (n > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(valid, x / n, np.nan)
    labels = np.full(x.size, "within", dtype=object)
    labels[~valid] = "no data"
    # narrowest level first, so the widest level breached wins
    for level in sorted(levels):
        suffix = level_label(level)
        above = valid & (value > limits[f"upper_{suffix}"].to_numpy())
        below = valid & (value < limits[f"lower_{suffix}"].to_numpy())
        labels[above] = f"above {_percent_label(level)}"
        labels[below] = f"below {_percent_label(level)}"
    table = limits.copy()
    table.insert(0, "numerator", x)
    table.insert(2, "value", value)
    table["classification"] = labels
    if isinstance(template, pd.Series):
        table.index = template.index
    table.attrs.update(limits.attrs)
    return table


# --------------------------------------------------------------------------------------------


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


def _resolve_overdispersion(overdispersion, x, n, benchmark, kind, trim) -> Overdispersion | None:
    if overdispersion is None or overdispersion is False:
        return None
    if isinstance(overdispersion, Overdispersion):
        return overdispersion
    method = "additive" if overdispersion is True else str(overdispersion)
    return estimate_overdispersion(x, n, benchmark, kind=kind, method=method, trim=trim)


def _transform(x: np.ndarray, n: np.ndarray, benchmark: float, kind: str):
    if kind == "proportion":
        y = np.arcsin(np.sqrt(np.clip(x / n, 0.0, 1.0)))
        return y, float(np.arcsin(np.sqrt(benchmark))), 1.0 / (2.0 * np.sqrt(n))
    expected = benchmark * n
    if benchmark <= 0:
        raise ValueError("overdispersion for rates needs a benchmark rate above 0")
    return np.sqrt(x / expected), 1.0, 1.0 / (2.0 * np.sqrt(expected))


def _limits(b: float, n: np.ndarray, level: float, kind: str, od: Overdispersion | None, method: str):
    z = stats.norm.ppf(1.0 - (1.0 - level) / 2.0)
    valid = np.isfinite(n) & (n > 0)
    safe_n = np.where(valid, n, 1.0)
    if od is not None and od.adjusts:
        lower, upper = _od_limits(b, safe_n, z, kind, od)
    elif kind == "proportion":
        if method == "wilson":
            half = z * np.sqrt(b * (1.0 - b) / safe_n)
            lower, upper = np.clip(b - half, 0.0, 1.0), np.clip(b + half, 0.0, 1.0)
        elif method == "exact":
            lower = _binomial_limit(b, safe_n, (1.0 - level) / 2.0)
            upper = _binomial_limit(b, safe_n, 1.0 - (1.0 - level) / 2.0)
        else:
            raise ValueError(f"method must be 'wilson' or 'exact', got {method!r}")
    else:
        theta = b * safe_n
        alpha = 1.0 - level
        # a count x is above the limit when its exact lower limit chi2(a/2; 2x)/2 = Gamma(x).ppf(a/2)
        # exceeds theta, and below when its exact upper limit Gamma(x + 1).ppf(1 - a/2) is under theta.
        # The limits are the (continuous) counts at which those equal theta.
        upper_count = _gamma_shape(alpha / 2.0, theta)
        lower_count = np.clip(_gamma_shape(1.0 - alpha / 2.0, theta) - 1.0, 0.0, None)
        lower, upper = lower_count / safe_n, upper_count / safe_n
        lower = np.where(theta > 0, lower, 0.0)
    lower = np.where(valid, lower, np.nan)
    upper = np.where(valid, upper, np.nan)
    return lower, upper


def _gamma_shape(p: float, theta: np.ndarray) -> np.ndarray:
    """Shape a > 0 with P(Gamma(a) <= theta) = p, by vectorised bisection (the probability falls as a grows)."""
    theta = np.asarray(theta, dtype=float)
    lo = np.zeros_like(theta)
    hi = theta + 20.0 * np.sqrt(theta) + 50.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        too_small = special.gammainc(np.maximum(mid, 1e-300), theta) > p
        lo = np.where(too_small, mid, lo)
        hi = np.where(too_small, hi, mid)
        if np.all(hi - lo <= 1e-13 * np.maximum(hi, 1.0)):
            break
    return (lo + hi) / 2.0


def _binomial_limit(b: float, n: np.ndarray, p: float) -> np.ndarray:
    """Spiegelhalter (2005) interpolated binomial quantile, as a proportion of n."""
    r = stats.binom.ppf(p, n, b)
    f_r = stats.binom.cdf(r, n, b)
    f_prev = stats.binom.cdf(r - 1, n, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(f_r > f_prev, (f_r - p) / (f_r - f_prev), 0.0)
    return np.clip((r - frac) / n, 0.0, 1.0)


def _od_limits(b: float, n: np.ndarray, z: float, kind: str, od: Overdispersion):
    if kind == "proportion":
        target = np.arcsin(np.sqrt(b))
        s = 1.0 / (2.0 * np.sqrt(n))
    else:
        target = 1.0
        s = 1.0 / (2.0 * np.sqrt(b * n))
    spread = np.sqrt(od.phi) * s if od.method == "multiplicative" else np.sqrt(s**2 + od.tau2)
    lo_t, hi_t = target - z * spread, target + z * spread
    if kind == "proportion":
        lower = np.sin(np.clip(lo_t, 0.0, np.pi / 2)) ** 2
        upper = np.sin(np.clip(hi_t, 0.0, np.pi / 2)) ** 2
    else:
        lower = b * np.clip(lo_t, 0.0, None) ** 2
        upper = b * hi_t**2
    return lower, upper
