"""Methods counting the initial child protection conferences table (and their section 47 enquiries)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from safeguarding.indicators.notes import ICPC_BEFORE_ENQUIRY, ICPC_WITHOUT_ENQUIRY
from safeguarding.indicators.registry import method
from safeguarding.indicators.workdays import working_days_between

if TYPE_CHECKING:
    from safeguarding.indicators.catalogue import Indicator
    from safeguarding.indicators.context import Context, Events

#: working days from the section 47 start within which an ICPC is on time
ICPC_WORKING_DAYS = 15


@method("icpc_held", table="icpc")
def icpc_held(ctx: Context, ind: Indicator) -> Events:
    """Initial child protection conferences held, dated by the conference."""
    df = ctx.tables["icpc"]
    frame = ctx.flow(df["icpc_date"], num=1.0)
    ctx.child_breakdowns(frame, df["child_id"], df["icpc_date"], ind.breakdowns)
    return ctx.events("flow", frame, "icpc")


def link_icpc_s47(icpc: pd.DataFrame, s47: pd.DataFrame) -> pd.Series:
    """S47 start date for each ICPC: by ``s47_id`` where recorded and found, else the child's
    latest enquiry started on or before the ICPC (NaT when there is none)."""
    starts = s47.drop_duplicates("s47_id").set_index("s47_id")["s47_start_date"]
    linked = icpc["s47_id"].map(starts)
    todo = linked.isna()
    if todo.any():
        left = pd.DataFrame({"pos": np.flatnonzero(todo.to_numpy()),
                             "child_id": icpc.loc[todo, "child_id"].astype(str).to_numpy(),
                             "date": icpc.loc[todo, "icpc_date"].to_numpy()}).sort_values("date")
        right = pd.DataFrame({"child_id": s47["child_id"].astype(str).to_numpy(),
                              "date": s47["s47_start_date"].to_numpy(),
                              "start": s47["s47_start_date"].to_numpy()}).sort_values("date")
        m = pd.merge_asof(left, right, on="date", by="child_id", direction="backward", allow_exact_matches=True)
        vals = linked.to_numpy(dtype="datetime64[ns]").copy()
        vals[m["pos"].to_numpy()] = m["start"].to_numpy(dtype="datetime64[ns]")
        linked = pd.Series(vals, index=icpc.index)
    return pd.to_datetime(linked)


@method("icpc_15wd", table="icpc")
def icpc_15wd(ctx: Context, ind: Indicator) -> Events:
    """The share of ICPCs held within 15 working days of the section 47 start (:func:`link_icpc_s47`); ICPCs
    with no enquiry, or dated before it, are left out and counted in the note."""
    df = ctx.tables["icpc"]
    start = link_icpc_s47(df, ctx.tables["s47"])
    unmatched = start.isna().to_numpy()
    invalid = (~unmatched) & (df["icpc_date"] < start).to_numpy()
    valid = ~unmatched & ~invalid
    wd = working_days_between(start, df["icpc_date"])
    on_time = valid & (np.nan_to_num(wd, nan=np.inf) <= ICPC_WORKING_DAYS)
    frame = ctx.flow(df["icpc_date"], num=on_time, den=valid, invalid=invalid, unmatched=unmatched)
    ctx.child_breakdowns(frame, df["child_id"], df["icpc_date"], ind.breakdowns)
    return ctx.events("flow", frame, "icpc",
                      notes={"invalid": ICPC_BEFORE_ENQUIRY, "unmatched": ICPC_WITHOUT_ENQUIRY})
