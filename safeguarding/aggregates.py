"""Compatibility: partners' aggregate returns moved to :mod:`safeguarding.ingest.partners`.

Kept so that ``from safeguarding.aggregates import load_aggregates`` (scripts,
notebooks written against earlier versions) still works; new code imports
from :mod:`safeguarding.ingest.partners`.
"""

from __future__ import annotations

from safeguarding.ingest.partners import (
    MISSING_MARKERS,
    OUTPUT_COLUMNS,
    PERIOD_TYPES,
    SPEC_KEYS,
    TIDY_OPTIONAL,
    TIDY_REQUIRED,
    Accounting,
    accounting_holds,
    load_aggregates,
    read_aggregate_return,
    write_aggregates,
)

__all__ = [
    "MISSING_MARKERS",
    "OUTPUT_COLUMNS",
    "PERIOD_TYPES",
    "SPEC_KEYS",
    "TIDY_OPTIONAL",
    "TIDY_REQUIRED",
    "Accounting",
    "accounting_holds",
    "load_aggregates",
    "read_aggregate_return",
    "write_aggregates",
]
