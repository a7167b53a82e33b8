"""Methods counting the section 47 enquiries table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from safeguarding.indicators.bands import text
from safeguarding.indicators.registry import method

if TYPE_CHECKING:
    from safeguarding.indicators.catalogue import Indicator
    from safeguarding.indicators.context import Context, Events


@method("s47_started", table="s47")
def s47_started(ctx: Context, ind: Indicator) -> Events:
    """Section 47 enquiries started, dated by their start."""
    df = ctx.tables["s47"]
    frame = ctx.flow(df["s47_start_date"], num=1.0)
    ctx.child_breakdowns(frame, df["child_id"], df["s47_start_date"], ind.breakdowns)
    if "team" in ind.breakdowns:
        frame["team"] = text(df["team"])
    return ctx.events("flow", frame, "s47")
