"""Statistics for the annual review: intervals, control charts, funnel plots, trends and verdicts.

Import from here: ``from safeguarding.stats import wilson_interval, poisson_interval,
xmr_chart, p_chart, funnel_limits``. Methods, formulas, references and every
difference from the reference implementations are in ``docs/statistics.md``.
"""

from __future__ import annotations

from safeguarding.stats.funnel import (
    Overdispersion,
    classify_funnel,
    estimate_overdispersion,
    funnel_grid,
    funnel_limits,
    funnel_points,
)
from safeguarding.stats.intervals import (
    exact_poisson_interval,
    poisson_interval,
    proportion_interval,
    rate_interval,
    wilson_interval,
    z_value,
)
from safeguarding.stats.spc import assurance, normalise_improvement, p_chart, spc_summary, xmr_chart
from safeguarding.stats.trend import (
    InsufficientDataError,
    ProportionComparison,
    RateComparison,
    SeasonalityResult,
    TrendResult,
    compare_proportions,
    compare_rates,
    seasonal_decomposition,
    seasonality_test,
    trend_test,
)
from safeguarding.stats.verdicts import (
    change_verdict,
    financial_year_label,
    format_number,
    format_percent,
    funnel_verdict,
    plural,
    proportion_verdict,
    spc_verdict,
    trend_verdict,
)

__all__ = [
    "InsufficientDataError",
    "Overdispersion",
    "ProportionComparison",
    "RateComparison",
    "SeasonalityResult",
    "TrendResult",
    "assurance",
    "change_verdict",
    "classify_funnel",
    "compare_proportions",
    "compare_rates",
    "estimate_overdispersion",
    "exact_poisson_interval",
    "financial_year_label",
    "format_number",
    "format_percent",
    "funnel_grid",
    "funnel_limits",
    "funnel_points",
    "funnel_verdict",
    "normalise_improvement",
    "p_chart",
    "plural",
    "poisson_interval",
    "proportion_interval",
    "proportion_verdict",
    "rate_interval",
    "seasonal_decomposition",
    "seasonality_test",
    "spc_summary",
    "spc_verdict",
    "trend_test",
    "trend_verdict",
    "wilson_interval",
    "xmr_chart",
    "z_value",
]
