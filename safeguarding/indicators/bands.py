"""Breakdown values: the bands indicator methods put records in, and the order each breakdown is reported in.

Every breakdown with a fixed list of values (the DfE age bands, plan-length bands, the schema's code lists)
is declared once in :data:`FIXED_VALUES`; :func:`band_values` puts the fixed values first, in that order,
then any other value the data hold (sorted). A method that adds a breakdown with new fixed values adds
them here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from safeguarding import schema

#: the value of a breakdown the record does not hold
NOT_RECORDED = "Not recorded"
#: the age band of a child not yet born at the reference date
UNBORN = "Unborn"

#: DfE age bands: (lower bound in years, label); ages below 0 are "Unborn"
DEFAULT_AGE_BANDS: tuple[tuple[int, str], ...] = ((0, "Under 1"), (1, "1-4"), (5, "5-9"), (10, "10-15"),
                                                  (16, "16+"))
PLAN_LENGTH_D5 = ("Under 3 months", "3 months to under 6 months", "6 months to under 1 year",
                  "1 year to under 2 years", "2 years or more")
#: completed months at which each :data:`PLAN_LENGTH_D5` band after the first starts
PLAN_LENGTH_D5_CUTS = (3, 6, 12, 24)
PLAN_LENGTH_6M = ("Under 6 months", "6 months to under 1 year", "1 year to under 18 months",
                  "18 months to under 2 years", "2 years or more")
PLAN_LENGTH_6M_CUTS = (6, 12, 18, 24)
CONCLUSION_BANDS = ("Within 1 month", "1 to 3 months", "3 to 12 months", "Over 12 months")
REFERRALS_IN_12M = ("1", "2", "3+")
REFERRALS_IN_PERIOD = ("1", "2", "3+")
#: counts at which each referral-count band after "1" starts
REFERRAL_COUNT_CUTS = (2, 3)


def _distinct(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


#: breakdown -> its fixed values, in report order (``age_band`` is set by the run's age bands instead)
FIXED_VALUES: dict[str, tuple[str, ...]] = {
    "gender": tuple(schema.SEX.values()),
    "ethnicity": _distinct(list(schema.ETHNIC_GROUP.values())),
    "referral_source": _distinct(list(schema.REFERRAL_SOURCE_GROUP.values())),
    "primary_need": tuple(schema.PRIMARY_NEED.values()),
    "initial_category": tuple(schema.CATEGORY_OF_ABUSE.values()),
    "latest_category": tuple(schema.CATEGORY_OF_ABUSE.values()),
    "plan_length": PLAN_LENGTH_D5,
    "plan_length_6m": PLAN_LENGTH_6M,
    "sector": tuple(schema.LADO_SECTOR.values()),
    "category": tuple(schema.LADO_CATEGORY.values()),
    "outcome": tuple(schema.LADO_OUTCOME.values()),
    "time_to_conclusion": CONCLUSION_BANDS,
    "referrals_in_12m": REFERRALS_IN_12M,
    "referrals_in_period": REFERRALS_IN_PERIOD,
    "action": tuple(schema.LADO_ACTION.values()),
}


def band_values(breakdown: str, observed: Sequence[str],
                age_bands: tuple[tuple[int, str], ...] = DEFAULT_AGE_BANDS) -> list[str]:
    """Ordered values of a breakdown: its fixed values (:data:`FIXED_VALUES`), then any others observed, sorted.

    ``age_band`` lists "Unborn" first, only when observed, then the labels of ``age_bands``.
    """
    seen = list(dict.fromkeys(observed))
    if breakdown == "age_band":
        fixed: tuple[str, ...] = (UNBORN, *[b[1] for b in age_bands])
    else:
        fixed = FIXED_VALUES.get(breakdown, ())
    extra = sorted(str(v) for v in seen if v not in fixed)
    if breakdown == "age_band" and UNBORN not in set(seen):
        fixed = fixed[1:]
    return [*fixed, *extra]


def age_band_labels(bounds: list[int]) -> tuple[tuple[int, str], ...]:
    """(lower bound, label) for ascending lower bounds in years: ``[0, 1, 5]`` -> Under 1, 1-4, 5+."""
    labels = []
    for i, lo in enumerate(bounds):
        hi = bounds[i + 1] - 1 if i + 1 < len(bounds) else None
        labels.append((lo, "Under 1" if (lo, hi) == (0, 0) else f"{lo}-{hi}" if hi is not None else f"{lo}+"))
    return tuple(labels)


def labels(series: pd.Series, codes: dict[str, str]) -> np.ndarray:
    """Map codes to labels through the distinct values (fast on large columns); missing -> Not recorded."""
    idx, uniq = pd.factorize(series, use_na_sentinel=True)
    lab = np.array([codes.get(str(u), NOT_RECORDED) for u in uniq] + [NOT_RECORDED], dtype=object)
    return lab[np.where(idx < 0, len(uniq), idx)]


def text(series: pd.Series) -> np.ndarray:
    """Free text as recorded (stripped); missing or blank -> Not recorded."""
    idx, uniq = pd.factorize(series, use_na_sentinel=True)
    lab = np.array([str(u).strip() or NOT_RECORDED for u in uniq] + [NOT_RECORDED], dtype=object)
    return lab[np.where(idx < 0, len(uniq), idx)]


def band(values: np.ndarray, cuts: Sequence[float], names: tuple[str, ...]) -> np.ndarray:
    """The band of each value: ``names[i]`` from ``cuts[i - 1]`` (inclusive) up to ``cuts[i]``; NaN -> Not recorded."""
    idx = np.searchsorted(np.asarray(cuts, dtype=float), values, side="right")
    out = np.asarray(names, dtype=object)[np.clip(idx, 0, len(names) - 1)]
    return np.where(np.isnan(values), NOT_RECORDED, out)
