"""The methods of report.yml's own indicators: a count, or a ratio, of the rows of any table that pass a filter.

Local entries name their ``table``, ``date`` and ``filter`` (and, for a ratio, a ``numerator`` and
``denominator`` filter); see ``safeguarding/indicators/catalogue.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, SupportsFloat, SupportsIndex

import numpy as np
import pandas as pd

from safeguarding.indicators.bands import REFERRAL_COUNT_CUTS, REFERRALS_IN_12M, band, text
from safeguarding.indicators.methods.cp_plans import plan_breakdowns
from safeguarding.indicators.methods.lado import lado_breakdowns
from safeguarding.indicators.methods.referrals import referral_breakdowns, referrals_in_12m
from safeguarding.indicators.registry import method

if TYPE_CHECKING:
    from safeguarding.indicators.catalogue import Indicator
    from safeguarding.indicators.context import Context, Events


def match(series: pd.Series, value: object) -> np.ndarray:
    """Rows of ``series`` equal to ``value`` (a list means any of; null means missing)."""
    if value is None:
        return series.isna().to_numpy()
    if isinstance(value, list | tuple | set):
        out = np.zeros(len(series), dtype=bool)
        for v in value:
            out |= match(series, v)
        return out
    if isinstance(value, bool) or str(series.dtype) == "boolean":
        truth = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
        v = value if isinstance(value, bool) else truth.get(str(value).strip().lower())
        return (series.astype("boolean") == v).fillna(False).to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(series):
        if not isinstance(value, str | bytes | SupportsFloat | SupportsIndex):  # what float() takes
            raise TypeError(f"float() argument must be a string or a real number, not {type(value).__name__!r}")
        return (pd.to_numeric(series, errors="coerce") == float(value)).fillna(False).to_numpy(dtype=bool)
    return (series.astype("string") == str(value)).fillna(False).to_numpy(dtype=bool)


def row_filter(df: pd.DataFrame, flt: Mapping[str, object]) -> np.ndarray:
    """Rows of ``df`` matching every ``field: value`` of ``flt`` (:func:`match`); ``{}`` keeps every row."""
    keep = np.ones(len(df), dtype=bool)
    for col, value in flt.items():
        keep &= match(df[col], value)
    return keep


@method("count", "ratio", table=None)
def local(ctx: Context, ind: Indicator) -> Events:
    """A count of the filtered rows dated by ``date``; a ratio counts the denominator filter's rows and, of
    those, the numerator filter's. Breakdowns are the table's own (as the built-in methods add them)."""
    table = str(ind.table)
    full = ctx.tables[table]
    keep = row_filter(full, ind.filter) & full[str(ind.date)].notna().to_numpy()
    df = full[keep].reset_index(drop=True)
    date = df[str(ind.date)]
    if ind.method == "ratio":
        den = row_filter(df, ind.denominator_filter)
        num = den & row_filter(df, ind.numerator_filter)
        frame = ctx.flow(date, num=num, den=den)
    else:
        frame = ctx.flow(date, num=1.0)
    if table == "referrals":
        referral_breakdowns(ctx, ind, df, frame)
        if "referrals_in_12m" in ind.breakdowns:
            frame["referrals_in_12m"] = band(referrals_in_12m(full)[keep], REFERRAL_COUNT_CUTS, REFERRALS_IN_12M)
    elif table == "cp_plans":
        plan_breakdowns(ctx, ind, df, frame, date)
    elif table == "allegations":
        lado_breakdowns(ind, df, frame)
    else:
        if "child_id" in df.columns:
            ctx.child_breakdowns(frame, df["child_id"], date, ind.breakdowns)
        if "team" in ind.breakdowns and "team" in df.columns:
            frame["team"] = text(df["team"])
    return ctx.events("flow", frame, table)
