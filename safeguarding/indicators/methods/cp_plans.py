"""Methods counting the child protection plans table (and, for review timeliness, the reviews table)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from safeguarding import schema
from safeguarding.indicators.bands import (
    PLAN_LENGTH_6M,
    PLAN_LENGTH_6M_CUTS,
    PLAN_LENGTH_D5,
    PLAN_LENGTH_D5_CUTS,
    band,
    labels,
    text,
)
from safeguarding.indicators.notes import PLANS_UNKNOWN_HISTORY
from safeguarding.indicators.periods import add_months, completed_months, month_end
from safeguarding.indicators.registry import method

if TYPE_CHECKING:
    from safeguarding.indicators.catalogue import Indicator
    from safeguarding.indicators.context import Context, Events

#: every breakdown of a plan; the plans open at each month end are computed once per run with all of them
PLAN_BREAKDOWNS = ("age_band", "gender", "ethnicity", "initial_category", "latest_category", "team",
                   "plan_length", "plan_length_6m")


def plan_breakdowns(ctx: Context, ind: Indicator, df: pd.DataFrame, frame: pd.DataFrame, ref: pd.Series) -> None:
    """Add the wanted plan breakdown columns to ``frame``, the child's age and plan length taken at ``ref``."""
    ctx.child_breakdowns(frame, df["child_id"], ref, ind.breakdowns)
    if "initial_category" in ind.breakdowns:
        frame["initial_category"] = labels(df["initial_category"], schema.CATEGORY_OF_ABUSE)
    if "latest_category" in ind.breakdowns:
        latest = df["latest_category"].fillna(df["initial_category"])
        frame["latest_category"] = labels(latest, schema.CATEGORY_OF_ABUSE)
    if "team" in ind.breakdowns:
        frame["team"] = text(df["team"])
    if "plan_length" not in ind.breakdowns and "plan_length_6m" not in ind.breakdowns:
        return
    months = completed_months(df["plan_start_date"], ref)
    if "plan_length" in ind.breakdowns:
        frame["plan_length"] = band(months, PLAN_LENGTH_D5_CUTS, PLAN_LENGTH_D5)
    if "plan_length_6m" in ind.breakdowns:
        frame["plan_length_6m"] = band(months, PLAN_LENGTH_6M_CUTS, PLAN_LENGTH_6M)


@method("cpp_started", table="cp_plans")
def cpp_started(ctx: Context, ind: Indicator) -> Events:
    """Plans started, dated by the plan start."""
    df = ctx.tables["cp_plans"]
    frame = ctx.flow(df["plan_start_date"], num=1.0)
    plan_breakdowns(ctx, ind, df, frame, df["plan_start_date"])
    return ctx.events("flow", frame, "cp_plans")


def subsequent_plans(plans: pd.DataFrame, dob: pd.Series | None, history_start: pd.Timestamp) -> pd.DataFrame:
    """Classify each plan: ``subsequent`` (bool) and ``unknown`` (history unknown, bool).

    Subsequent: the child has a plan starting on an earlier day in the data, or
    ``previous_plans`` > 0 is recorded. Known: subsequent, or ``previous_plans``
    recorded, or the child was born on or after ``history_start`` (the start of
    the plan data, so every plan of the child is in it). Otherwise unknown.
    ``dob`` maps child_id to date of birth (None when there is no children table).
    """
    first = plans.groupby("child_id")["plan_start_date"].transform("min")
    earlier = (plans["plan_start_date"] > first).to_numpy()
    prev = pd.to_numeric(plans["previous_plans"], errors="coerce")
    recorded = prev.notna().to_numpy()
    subsequent = earlier | (prev.fillna(0) > 0).to_numpy()
    if dob is not None:
        born = pd.to_datetime(plans["child_id"].astype("string").map(dob))
        born_in_window = (born >= history_start).fillna(False).to_numpy(dtype=bool)
    else:
        born_in_window = np.zeros(len(plans), dtype=bool)
    unknown = ~(subsequent | recorded | born_in_window)
    return pd.DataFrame({"subsequent": subsequent, "unknown": unknown}, index=plans.index)


@method("cpp_subsequent", table="cp_plans")
def cpp_subsequent(ctx: Context, ind: Indicator) -> Events:
    """The share of plans started that are a child's second or later (:func:`subsequent_plans`)."""
    df = ctx.tables["cp_plans"]
    hs = ctx.history_start if ctx.history_start is not None else ctx.data_start("cp_plans")
    cls = subsequent_plans(df, ctx.dob, hs)
    frame = ctx.flow(df["plan_start_date"], num=cls["subsequent"], den=1.0, unknown=cls["unknown"])
    plan_breakdowns(ctx, ind, df, frame, df["plan_start_date"])
    return ctx.events("flow", frame, "cp_plans",
                      unknown_note=PLANS_UNKNOWN_HISTORY.with_start(f"{hs:%d/%m/%Y}"))


def _ended_plans(ctx: Context) -> pd.DataFrame:
    df = ctx.tables["cp_plans"]
    return df[df["plan_end_date"].notna()].reset_index(drop=True)


@method("cpp_ended", table="cp_plans")
def cpp_ended(ctx: Context, ind: Indicator) -> Events:
    """Plans ended, dated by the plan end (age and plan length at the end)."""
    df = _ended_plans(ctx)
    frame = ctx.flow(df["plan_end_date"], num=1.0)
    plan_breakdowns(ctx, ind, df, frame, df["plan_end_date"])
    return ctx.events("flow", frame, "cp_plans")


@method("cpp_ended_2yrs", table="cp_plans")
def cpp_ended_2yrs(ctx: Context, ind: Indicator) -> Events:
    """The share of plans ended that had lasted 2 years (24 completed months) or more."""
    df = _ended_plans(ctx)
    two = completed_months(df["plan_start_date"], df["plan_end_date"]) >= 24
    frame = ctx.flow(df["plan_end_date"], num=two, den=1.0)
    plan_breakdowns(ctx, ind, df, frame, df["plan_end_date"])
    return ctx.events("flow", frame, "cp_plans")


def open_plans(ctx: Context, ind: Indicator) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Plans open at each window month end: (the plan rows, a frame of month, ``_months`` (plan length so far)
    and the wanted breakdowns, the month ends). Computed once per run, with every plan breakdown."""
    if "open_plans" not in ctx.cache:
        df = ctx.tables["cp_plans"]
        rows, months = ctx.expand(df["plan_start_date"], df["plan_end_date"])
        sub = df.iloc[rows].reset_index(drop=True)
        ref = pd.Series(month_end(months), name="ref")
        frame = pd.DataFrame({"month": months})
        plan_breakdowns(ctx, replace(ind, breakdowns=PLAN_BREAKDOWNS), sub, frame, ref)
        frame["_months"] = completed_months(sub["plan_start_date"], ref)
        ctx.cache["open_plans"] = (rows, sub, frame, ref)
    rows, sub, full, ref = ctx.cache["open_plans"]
    cols = ["month", "_months", *[b for b in ind.breakdowns if b in full.columns]]
    return sub, full[cols].copy(), ref


@method("cpp_open", "cpp_rate", table="cp_plans")
def cpp_open(ctx: Context, ind: Indicator) -> Events:
    """Plans open at the period's last month end; ``cpp_rate`` is the same per 10,000 children."""
    _, frame, _ = open_plans(ctx, ind)
    frame["num"] = 1.0
    return ctx.events("stock", frame, "cp_plans")


@method("cpp_open_band", table="cp_plans")
def cpp_open_band(ctx: Context, ind: Indicator) -> Events:
    """The share of open plans whose length so far is in the entry's DfE D5 ``band``."""
    _, frame, _ = open_plans(ctx, ind)
    if ind.band not in PLAN_LENGTH_D5:
        raise ValueError(f"{ind.code}: band {ind.band!r} is not a DfE D5 band; valid: {', '.join(PLAN_LENGTH_D5)}")
    length = band(frame["_months"].to_numpy(dtype=float), PLAN_LENGTH_D5_CUTS, PLAN_LENGTH_D5)
    frame["num"] = (length == ind.band).astype(float)
    frame["den"] = 1.0
    return ctx.events("stock", frame, "cp_plans")


def review_late_from(plans: pd.DataFrame, reviews: pd.DataFrame) -> pd.Series:
    """For each plan, the first day on which it has a review overdue or held late (NaT never).

    The first review is due on or before ``plan start + 3 months``, each later
    one on or before ``previous review + 6 months``. A review held after its due
    date, or not held by it, makes the plan late from the day after the due
    date. Reviews outside the plan (before its start or after its end) are
    ignored; several reviews on one day count once.
    """
    p = plans[["plan_id", "plan_start_date", "plan_end_date"]]
    r = reviews[["plan_id", "review_date"]].merge(p, on="plan_id", how="inner")
    r = r[(r["review_date"] >= r["plan_start_date"])
          & (r["plan_end_date"].isna() | (r["review_date"] <= r["plan_end_date"]))]
    r = r.drop_duplicates(["plan_id", "review_date"]).sort_values(["plan_id", "review_date"]).reset_index(drop=True)
    prev = r.groupby("plan_id", sort=False)["review_date"].shift(1)
    is_first = prev.isna().to_numpy()
    base = prev.fillna(r["plan_start_date"])
    due = pd.Series(add_months(base, np.where(is_first, 3, 6)), index=r.index)
    late = r["review_date"] > due
    first_late_due = due[late].groupby(r.loc[late, "plan_id"]).first()
    last_review = r.groupby("plan_id")["review_date"].last()
    pid = plans["plan_id"].astype(str).to_numpy()
    last_review.index = last_review.index.astype(str)
    first_late_due.index = first_late_due.index.astype(str)
    lr = pd.Series(last_review.reindex(pid).to_numpy(dtype="datetime64[ns]"), index=plans.index)
    next_due = pd.Series(add_months(lr, 6), index=plans.index).fillna(
        pd.Series(add_months(plans["plan_start_date"], 3), index=plans.index))
    fl = pd.Series(first_late_due.reindex(pid).to_numpy(dtype="datetime64[ns]"), index=plans.index)
    return fl.fillna(next_due) + pd.Timedelta(days=1)


@method("cpp_reviews_on_time", table="cp_plans")
def cpp_reviews_on_time(ctx: Context, ind: Indicator) -> Events:
    """The share of plans open at a month end, and open 3 months or more, with every review so far on time
    (:func:`review_late_from`)."""
    df = ctx.tables["cp_plans"]
    late_from = review_late_from(df, ctx.tables["cp_reviews"])
    _, frame, ref = open_plans(ctx, ind)
    rows = ctx.cache["open_plans"][0]
    eligible = frame["_months"].to_numpy(dtype=float) >= 3
    on_time = eligible & (ref.to_numpy() < late_from.to_numpy()[rows])
    frame["num"] = on_time.astype(float)
    frame["den"] = eligible.astype(float)
    return ctx.events("stock", frame, "cp_plans")
