"""Methods counting the referrals table: referrals, re-referrals, children referred."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from safeguarding import schema
from safeguarding.indicators.bands import REFERRAL_COUNT_CUTS, REFERRALS_IN_12M, REFERRALS_IN_PERIOD, band, labels, text
from safeguarding.indicators.notes import DUPLICATE_REFERRALS, REFERRALS_BEFORE_HISTORY
from safeguarding.indicators.periods import add_months, financial_year, month_index
from safeguarding.indicators.registry import method

if TYPE_CHECKING:
    from safeguarding.indicators.catalogue import Indicator
    from safeguarding.indicators.context import Context, Events

#: every breakdown of a referral; computed once per run and shared by the referral methods
REFERRAL_BREAKDOWNS = ("age_band", "gender", "ethnicity", "referral_source", "primary_need", "team")


@method("referrals", "referral_rate", table="referrals")
def referrals(ctx: Context, ind: Indicator) -> Events:
    """Referrals received, one event per record dated by the referral date (same-day duplicates counted, with
    a note); ``referral_rate`` is the same count per 10,000 children."""
    df = ctx.tables["referrals"]
    dup = df.duplicated(["child_id", "referral_date"], keep="first").to_numpy()
    frame = ctx.flow(df["referral_date"], num=1.0, dup=dup)
    referral_breakdowns(ctx, ind, df, frame)
    if "referrals_in_12m" in ind.breakdowns:
        frame["referrals_in_12m"] = band(referrals_in_12m(df), REFERRAL_COUNT_CUTS, REFERRALS_IN_12M)
    return ctx.events("flow", frame, "referrals",
                      notes={"dup": DUPLICATE_REFERRALS})


@method("referral_children", table="referrals", breakdowns=("referrals_in_period",), frequencies=("year",))
def referral_children(ctx: Context, ind: Indicator) -> Events:
    """Children referred: one event per child and financial year, dated by the child's first referral in the
    year and banded by the child's referrals in the year (records, same-day duplicates included, as
    ``REFERRALS`` counts them). Summed over the months of a year this counts each child once; over a
    month or a quarter it would not, so the method allows only ``year``."""
    df = ctx.tables["referrals"]
    months = month_index(df["referral_date"])
    df = df[(months >= ctx.window.first) & (months <= ctx.window.last)]  # a partial year counts what it covers
    codes, _ = pd.factorize(df["child_id"].astype("string"))
    per = pd.DataFrame({"child": codes, "fy": financial_year(df["referral_date"]),
                        "date": df["referral_date"].to_numpy()})
    grouped = per.groupby(["child", "fy"], sort=False)["date"]
    first, n = grouped.min(), grouped.size()
    frame = ctx.flow(pd.Series(first.to_numpy()), num=1.0)
    if "referrals_in_period" in ind.breakdowns:
        frame["referrals_in_period"] = band(n.to_numpy(dtype=float), REFERRAL_COUNT_CUTS, REFERRALS_IN_PERIOD)
    return ctx.events("flow", frame, "referrals")


@method("rereferrals", table="referrals")
def rereferrals(ctx: Context, ind: Indicator) -> Events:
    """Re-referrals: the share of referrals within 12 months of the child's previous referral (on an earlier
    day); a referral less than 12 months after the data start, with no previous one found, is unknown."""
    df = ctx.tables["referrals"]
    prev = previous_referral(df)
    d = df["referral_date"]
    rerefer = (prev.notna() & (d < pd.Series(add_months(prev, 12), index=df.index))).to_numpy()
    lookback_incomplete = (d < add_months(pd.DatetimeIndex([ctx.data_start("referrals")] * len(d)), 12)).to_numpy()
    unknown = (~rerefer) & lookback_incomplete
    frame = ctx.flow(d, num=rerefer, den=1.0, unknown=unknown)
    referral_breakdowns(ctx, ind, df, frame)
    return ctx.events("flow", frame, "referrals",
                      unknown_note=REFERRALS_BEFORE_HISTORY)


def referral_breakdowns(ctx: Context, ind: Indicator, df: pd.DataFrame, frame: pd.DataFrame) -> None:
    """Add the wanted referral breakdown columns to ``frame`` (one row per row of ``df``).

    For the whole referrals table they are computed once per run (``ctx.cache``) and shared.
    """
    if df is ctx.tables["referrals"]:
        if "referral_breakdowns" not in ctx.cache:
            tmp = pd.DataFrame(index=frame.index)
            _referral_breakdowns(ctx, replace(ind, breakdowns=REFERRAL_BREAKDOWNS), df, tmp)
            ctx.cache["referral_breakdowns"] = tmp
        cached = ctx.cache["referral_breakdowns"]
        for c in ind.breakdowns:
            if c in cached.columns:
                frame[c] = cached[c].to_numpy()
        return
    _referral_breakdowns(ctx, ind, df, frame)


def _referral_breakdowns(ctx: Context, ind: Indicator, df: pd.DataFrame, frame: pd.DataFrame) -> None:
    ctx.child_breakdowns(frame, df["child_id"], df["referral_date"], ind.breakdowns)
    if "referral_source" in ind.breakdowns:
        frame["referral_source"] = labels(df["referral_source"], schema.REFERRAL_SOURCE_GROUP)
    if "primary_need" in ind.breakdowns:
        frame["primary_need"] = labels(df["primary_need"], schema.PRIMARY_NEED)
    if "team" in ind.breakdowns:
        frame["team"] = text(df["team"])


def _day_keys(child: pd.Series, dates: pd.Series | pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    codes, _ = pd.factorize(child.astype("string"))
    days = pd.DatetimeIndex(dates).to_numpy().astype("datetime64[D]").astype(np.int64)
    return codes.astype(np.int64), days


def referrals_in_12m(df: pd.DataFrame) -> np.ndarray:
    """The child's referrals dated on or before this one whose 12-month anniversary is after it
    (the same test as a re-referral), this one and same-day records included."""
    codes, days = _day_keys(df["child_id"], df["referral_date"])
    anniv = pd.DatetimeIndex(add_months(df["referral_date"], 12)).to_numpy().astype("datetime64[D]").astype(np.int64)
    big = 1_000_000
    order = np.lexsort((days, codes))
    date_keys = (codes * big + days)[order]
    # anniversaries are non-decreasing in the date within a child, so both keys sort the same way
    anniv_keys = np.sort(codes * big + anniv)
    hi = np.searchsorted(date_keys, codes * big + days, side="right")
    lo = np.searchsorted(anniv_keys, codes * big + days, side="right")
    return (hi - lo).astype(float)


def previous_referral(df: pd.DataFrame) -> pd.Series:
    """Date of the child's latest referral on an earlier day (NaT if none)."""
    days = df[["child_id", "referral_date"]].drop_duplicates().sort_values(["child_id", "referral_date"])
    days["prev"] = days.groupby("child_id", sort=False)["referral_date"].shift(1)
    merged = df[["child_id", "referral_date"]].merge(days, on=["child_id", "referral_date"], how="left")
    return merged["prev"]
