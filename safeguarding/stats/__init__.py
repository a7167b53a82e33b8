"""Statistics for the annual review: intervals, control charts, funnel plots, trends and verdicts.

Import from here: ``from safeguarding.stats import wilson_interval, poisson_interval,
xmr_chart, p_chart, funnel_limits``. Methods, formulas, references and every
difference from the reference implementations are in ``docs/statistics.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from safeguarding.lazy import lazy_names

if TYPE_CHECKING:  # pragma: no cover
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
        Dispersion,
        InsufficientDataError,
        ProportionComparison,
        RateComparison,
        SeasonalityResult,
        TrendResult,
        compare_proportions,
        compare_rates,
        compare_rates_dispersed,
        monthly_dispersion,
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
    "Dispersion",
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
    "compare_rates_dispersed",
    "estimate_overdispersion",
    "exact_poisson_interval",
    "financial_year_label",
    "format_number",
    "format_percent",
    "funnel_grid",
    "funnel_limits",
    "funnel_points",
    "funnel_verdict",
    "monthly_dispersion",
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

#: where each name of ``__all__`` is defined: imported on first use (PEP 562), so that the indicators stage,
#: which needs only the intervals, does not import ``scipy.stats`` and ``statsmodels`` (funnels, trends, SPC)
_HOMES = {
    "Overdispersion": "funnel", "classify_funnel": "funnel", "estimate_overdispersion": "funnel",
    "funnel_grid": "funnel", "funnel_limits": "funnel", "funnel_points": "funnel",
    "exact_poisson_interval": "intervals", "poisson_interval": "intervals", "proportion_interval": "intervals",
    "rate_interval": "intervals", "wilson_interval": "intervals", "z_value": "intervals",
    "assurance": "spc", "normalise_improvement": "spc", "p_chart": "spc", "spc_summary": "spc", "xmr_chart": "spc",
    "InsufficientDataError": "trend", "ProportionComparison": "trend", "RateComparison": "trend",
    "SeasonalityResult": "trend", "TrendResult": "trend", "compare_proportions": "trend", "compare_rates": "trend",
    "Dispersion": "trend", "compare_rates_dispersed": "trend", "monthly_dispersion": "trend",
    "seasonal_decomposition": "trend", "seasonality_test": "trend", "trend_test": "trend",
    "change_verdict": "verdicts", "financial_year_label": "verdicts", "format_number": "verdicts",
    "format_percent": "verdicts", "funnel_verdict": "verdicts", "plural": "verdicts",
    "proportion_verdict": "verdicts", "spc_verdict": "verdicts", "trend_verdict": "verdicts",
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES, __all__)
