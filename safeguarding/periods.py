"""Period labels, in one place: the financial year as DfE publishes it.

A review year is named by the calendar year its financial year ends in (``year: 2025`` in
``report.yml`` is April 2024 to March 2025) and labelled ``2024-25`` everywhere: sentences,
tables, charts, file notes and the site index all call :func:`financial_year_label`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def financial_year_label(year: int) -> str:
    """Financial year ending 31 March ``year`` as published: 2025 -> '2024-25'."""
    year = int(year)
    return f"{year - 1}-{year % 100:02d}"


def financial_year_labels(years: pd.Series | np.ndarray) -> np.ndarray:
    """:func:`financial_year_label` of each year (whole numbers), as an array of strings."""
    return np.array([financial_year_label(y) for y in np.asarray(years, dtype=int)], dtype=object)
