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

from typing import TYPE_CHECKING

from safeguarding.lazy import lazy_names

if TYPE_CHECKING:  # pragma: no cover
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

#: where each name of ``__all__`` is defined: imported on first use (PEP 562), so that importing a submodule
#: (a chapter kernel's ``safeguarding.indicators.catalogue``) does not import the engine and its methods
_HOMES = {
    "Catalogue": "catalogue", "CatalogueError": "catalogue", "Indicator": "catalogue", "load_catalogue": "catalogue",
    "rag_status": "catalogue", "IndicatorInputError": "engine", "compute_indicators": "engine",
    "run_indicators": "engine",
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES, __all__)
