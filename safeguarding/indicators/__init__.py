"""Indicator library and engine: every figure the board sees, defined once.

``catalogue.yml`` defines the indicators; :func:`compute_indicators` computes
them for every month, quarter, financial year and rolling 12 months, with
breakdowns; :func:`run_indicators` does so for a configuration and writes
``indicators.parquet`` and ``indicators.csv``.

Each entry's method is a function in ``methods/`` (one module per source table), registered by the
``@method`` decorator of ``registry.py``; ``engine.py`` sums what a method returns into periods and
breakdowns. Adding an indicator: CONTRIBUTING.md, "Add an indicator".
"""

from __future__ import annotations

from safeguarding.indicators.catalogue import (
    Catalogue,
    CatalogueError,
    Indicator,
    load_catalogue,
    rag_status,
)
from safeguarding.indicators.engine import IndicatorInputError, compute_indicators, run_indicators

__all__ = [
    "Catalogue",
    "CatalogueError",
    "Indicator",
    "IndicatorInputError",
    "compute_indicators",
    "load_catalogue",
    "rag_status",
    "run_indicators",
]
