"""Sentences for the chapters, built from the indicator table by
:mod:`safeguarding.stats.verdicts` and made safe for the audience.

For the public audience no sentence quotes a figure that the
disclosure-controlled table withholds (a count from 1 to 5, a figure from
which one could be worked out, or a percentage or rate built on either):
such a figure is said to be withheld, without saying why, so that a reader
learns no bound on it.
"""

from __future__ import annotations

from safeguarding.report.text.basics import SPC_MONTHS, benchmark_for, england_value, format_target
from safeguarding.report.text.comparisons import (
    benchmark_finding,
    count_with_change,
    percentage_findings,
    percentage_verdict,
    rate_finding,
    rate_with_benchmarks,
    target_finding,
    year_on_year,
)
from safeguarding.report.text.messages import (
    COUNT_PHRASES,
    KEY_MESSAGES,
    REPORTED,
    essential_codes,
    findings_table,
    key_message_findings,
    key_messages,
    key_messages_with_findings,
    limitations,
    partial_years,
    report_findings,
    short_story,
)
from safeguarding.report.text.partners import (
    board_priority_codes,
    has_figures,
    partner_codes,
    partner_count,
    partner_findings,
    partner_months,
    partner_trend,
)
from safeguarding.report.text.series import (
    CEILING_SHARE,
    SNAPSHOT_METHODS,
    UNUSUAL_LISTED,
    funnel_centre,
    funnel_finding,
    funnel_units,
    is_snapshot,
    largest_share_title,
    seasonal_finding,
    seasonality,
    spc_frame,
    trend,
    trend_finding,
    unusual_months,
    within_year,
)

__all__ = [
    "CEILING_SHARE",
    "COUNT_PHRASES",
    "KEY_MESSAGES",
    "REPORTED",
    "SNAPSHOT_METHODS",
    "SPC_MONTHS",
    "UNUSUAL_LISTED",
    "benchmark_finding",
    "benchmark_for",
    "board_priority_codes",
    "count_with_change",
    "england_value",
    "essential_codes",
    "findings_table",
    "format_target",
    "funnel_centre",
    "funnel_finding",
    "funnel_units",
    "has_figures",
    "is_snapshot",
    "key_message_findings",
    "key_messages",
    "key_messages_with_findings",
    "largest_share_title",
    "limitations",
    "partial_years",
    "partner_codes",
    "partner_count",
    "partner_findings",
    "partner_months",
    "partner_trend",
    "percentage_findings",
    "percentage_verdict",
    "rate_finding",
    "rate_with_benchmarks",
    "report_findings",
    "seasonal_finding",
    "seasonality",
    "short_story",
    "spc_frame",
    "target_finding",
    "trend",
    "trend_finding",
    "unusual_months",
    "within_year",
    "year_on_year",
]
