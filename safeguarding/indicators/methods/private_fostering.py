"""Methods counting the private fostering table (notifications and arrangements)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from safeguarding.indicators.notes import ARRANGEMENTS_WITHOUT_VISIT
from safeguarding.indicators.periods import month_end
from safeguarding.indicators.registry import method
from safeguarding.indicators.workdays import working_days_between

if TYPE_CHECKING:
    from safeguarding.indicators.catalogue import Indicator
    from safeguarding.indicators.context import Context, Events

#: working days from the notification within which the initial visit is on time
VISIT_WORKING_DAYS = 7


def _arrangements(ctx: Context) -> pd.DataFrame:
    """Confirmed arrangements (not recorded counts as confirmed) that have a start date."""
    df = ctx.tables["private_fostering"]
    keep = df["arrangement_start_date"].notna() & (df["confirmed"].fillna(True).astype(bool))
    return df[keep.to_numpy()].reset_index(drop=True)


def _flow(ctx: Context, ind: Indicator, df: pd.DataFrame, date: pd.Series, **measures: npt.ArrayLike) -> Events:
    frame = ctx.flow(date, **measures)
    ctx.child_breakdowns(frame, df["child_id"], date, ind.breakdowns)
    return ctx.events("flow", frame, "private_fostering")


@method("pf_notifications", table="private_fostering")
def pf_notifications(ctx: Context, ind: Indicator) -> Events:
    """Notifications received (every record), dated by the notification."""
    df = ctx.tables["private_fostering"]
    return _flow(ctx, ind, df, df["notification_date"], num=1.0)


@method("pf_new", table="private_fostering")
def pf_new(ctx: Context, ind: Indicator) -> Events:
    """New arrangements, dated by their start."""
    df = _arrangements(ctx)
    return _flow(ctx, ind, df, df["arrangement_start_date"], num=1.0)


@method("pf_ended", table="private_fostering")
def pf_ended(ctx: Context, ind: Indicator) -> Events:
    """Arrangements ended, dated by their end."""
    df = _arrangements(ctx)
    df = df[df["arrangement_end_date"].notna()].reset_index(drop=True)
    return _flow(ctx, ind, df, df["arrangement_end_date"], num=1.0)


@method("pf_open", table="private_fostering")
def pf_open(ctx: Context, ind: Indicator) -> Events:
    """Arrangements open at the period's last month end."""
    df = _arrangements(ctx)
    rows, months = ctx.expand(df["arrangement_start_date"], df["arrangement_end_date"])
    frame = pd.DataFrame({"month": months, "num": 1.0})
    sub = df.iloc[rows].reset_index(drop=True)
    ctx.child_breakdowns(frame, sub["child_id"], pd.Series(month_end(months)), ind.breakdowns)
    return ctx.events("stock", frame, "private_fostering")


@method("pf_visit_7wd", table="private_fostering")
def pf_visit_7wd(ctx: Context, ind: Indicator) -> Events:
    """The share of new arrangements whose initial visit was within 7 working days of the notification
    (no visit recorded counts as not on time, with a note)."""
    df = _arrangements(ctx)
    wd = working_days_between(df["notification_date"], df["initial_visit_date"])
    on_time = np.nan_to_num(wd, nan=np.inf) <= VISIT_WORKING_DAYS
    ev = _flow(ctx, ind, df, df["arrangement_start_date"], num=on_time, den=1.0,
               novisit=df["initial_visit_date"].isna().to_numpy())
    ev.notes["novisit"] = ARRANGEMENTS_WITHOUT_VISIT
    return ev
