"""Methods counting the allegations table (the LADO's work)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from safeguarding import schema
from safeguarding.indicators.bands import CONCLUSION_BANDS, NOT_RECORDED, labels
from safeguarding.indicators.periods import add_months
from safeguarding.indicators.registry import method

if TYPE_CHECKING:
    from safeguarding.indicators.catalogue import Indicator
    from safeguarding.indicators.context import Context, Events


def lado_breakdowns(ind: Indicator, df: pd.DataFrame, frame: pd.DataFrame) -> None:
    """Add the wanted allegation breakdown columns (sector, category, outcome, time to conclusion)."""
    if "sector" in ind.breakdowns:
        frame["sector"] = labels(df["sector"], schema.LADO_SECTOR)
    if "category" in ind.breakdowns:
        frame["category"] = labels(df["category"], schema.LADO_CATEGORY)
    if "outcome" in ind.breakdowns:
        frame["outcome"] = labels(df["outcome"], schema.LADO_OUTCOME)
    if "time_to_conclusion" in ind.breakdowns:
        ref, con = df["referral_date"], df["concluded_date"]
        frame["time_to_conclusion"] = np.select(
            [con <= add_months(ref, 1), con <= add_months(ref, 3), con <= add_months(ref, 12), con.notna()],
            list(CONCLUSION_BANDS), NOT_RECORDED)


@method("lado_referrals", table="allegations")
def lado_referrals(ctx: Context, ind: Indicator) -> Events:
    """Allegations referred to the LADO, dated by the referral."""
    df = ctx.tables["allegations"]
    frame = ctx.flow(df["referral_date"], num=1.0)
    lado_breakdowns(ind, df, frame)
    return ctx.events("flow", frame, "allegations")


def _concluded(ctx: Context) -> pd.DataFrame:
    df = ctx.tables["allegations"]
    return df[df["concluded_date"].notna()].reset_index(drop=True)


@method("lado_concluded", table="allegations")
def lado_concluded(ctx: Context, ind: Indicator) -> Events:
    """Allegations concluded, dated by the conclusion."""
    df = _concluded(ctx)
    frame = ctx.flow(df["concluded_date"], num=1.0)
    lado_breakdowns(ind, df, frame)
    return ctx.events("flow", frame, "allegations")


@method("lado_concluded_within", table="allegations")
def lado_concluded_within(ctx: Context, ind: Indicator) -> Events:
    """The share of allegations concluded within the entry's ``months`` (default 1) of the referral."""
    df = _concluded(ctx)
    within = (df["concluded_date"] <= add_months(df["referral_date"], int(ind.months or 1))).to_numpy()
    frame = ctx.flow(df["concluded_date"], num=within, den=1.0)
    lado_breakdowns(ind, df, frame)
    return ctx.events("flow", frame, "allegations")


@method("lado_actions", table="allegations", breakdowns=("action",))
def lado_actions(ctx: Context, ind: Indicator) -> Events:
    """Allegations concluded, by action taken: the ``action`` breakdown overlaps (an allegation with several
    actions is counted under each, one with none under none), so the breakdown has one event per allegation
    and distinct action, and the headline one per allegation with at least one action."""
    df = _concluded(ctx)
    acts = pd.DataFrame({"pos": np.arange(len(df)),
                         "action": df["actions"].astype("string").str.split(";").to_numpy()}).explode("action")
    acts["action"] = acts["action"].astype("string").str.strip()
    acts = acts[acts["action"].notna() & acts["action"].ne("")].drop_duplicates(["pos", "action"])
    pos = acts["pos"].to_numpy(dtype=np.int64)
    frame = ctx.flow(df["concluded_date"].iloc[pos], num=1.0)
    if "action" in ind.breakdowns:
        idx, uniq = pd.factorize(acts["action"])
        names = np.array([schema.LADO_ACTION.get(str(u), str(u)) for u in uniq], dtype=object)
        frame["action"] = names[idx]
    head = ctx.flow(df["concluded_date"].iloc[np.unique(pos)], num=1.0)
    return ctx.events("flow", frame, "allegations", headline=head)


@method("lado_open", table="allegations")
def lado_open(ctx: Context, ind: Indicator) -> Events:
    """Allegations open (referred, not yet concluded) at the period's last month end."""
    df = ctx.tables["allegations"]
    rows, months = ctx.expand(df["referral_date"], df["concluded_date"])
    frame = pd.DataFrame({"month": months, "num": 1.0})
    lado_breakdowns(ind, df.iloc[rows].reset_index(drop=True), frame)
    return ctx.events("stock", frame, "allegations")
