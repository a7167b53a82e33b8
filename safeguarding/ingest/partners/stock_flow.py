"""Stock and flow: open at the end of each month = the previous month's open + new - closed.

Set per return with ``stock_flow: [{open: ID, new: ID, closed: ID, opening: N}]``;
a break is a warning naming the rows and month (the figures stay loaded).
"""

from __future__ import annotations

import math

import pandas as pd

from safeguarding.ingest.partners.cells import fmt
from safeguarding.ingest.partners.collect import Return
from safeguarding.settings_inputs import StockFlowRule


def check_stock_flow(rules: tuple[StockFlowRule, ...], ret: Return) -> None:
    """Check each ``stock_flow`` rule against the return's monthly figures; a break is a warning by month."""
    if not rules:
        return
    values: dict[tuple, float] = {
        (r["indicator_id"], r["breakdown"], r["breakdown_value"], r["period_start"]): r["numerator"]
        for r in ret.records if r["period_type"] == "month"
    }
    for n, rule in enumerate(rules):
        if rule.open is None or rule.new is None or rule.closed is None:
            ret.add(reason="bad configuration",
                    message=f"{ret.key}.stock_flow[{n}] needs open, new and closed indicator codes",
                    fix=f"write {ret.key}.stock_flow[{n}] as {{open: ID, new: ID, closed: ID}}")
            continue
        ids: dict[str, str] = {"open": rule.open, "new": rule.new, "closed": rule.closed}
        opening = rule.opening
        groups = sorted({(b, v) for (i, b, v, _p) in values if i == ids["open"]})
        if not groups:
            ret.add(value=ids["open"], reason="stock-flow not checked",
                    message=f"{ret.file}: no monthly figures for {ids['open']} named in "
                            f"{ret.key}.stock_flow[{n}]; not checked",
                    fix=f"map a row to {ids['open']} in {ret.key}.rows, or correct {ret.key}.stock_flow",
                    severity="warning")
            continue
        for bd, bv in groups:
            periods = sorted(p for (i, b, v, p) in values if i == ids["open"] and (b, v) == (bd, bv))
            for p in periods:
                prev = p - pd.DateOffset(months=1)
                new, closed, opened = (values.get((ids[k], bd, bv, p)) for k in ("new", "closed", "open"))
                if new is None or closed is None or opened is None:
                    continue
                if (ids["open"], bd, bv, prev) in values:
                    before, source = values[(ids["open"], bd, bv, prev)], f"open at end of {prev:%b %Y}"
                elif p == periods[0] and opening is not None:
                    before, source = opening, "opening figure in report.yml"
                else:
                    continue
                expected = before + new - closed
                if math.isclose(expected, opened, rel_tol=0, abs_tol=1e-6):
                    continue
                row, col = ret.where.get((ids["open"], bd, bv, "month", p), (None, f"{p:%b %Y}"))
                rows = sorted({ret.where.get((ids[k], bd, bv, "month", p), (None, ""))[0] or 0 for k in ids})
                scope = "" if (bd, bv) == ("all", "all") else f" ({bd}={bv})"
                ret.add(row=row, column=col, value=int(opened) if float(opened).is_integer() else opened,
                        reason="stock-flow mismatch",
                        message=f"{ret.file} row {row}, {col}: {ids['open']}{scope} open at end of {p:%b %Y} should be "
                        f"{source} {fmt(before)} + new {fmt(new)} - closed {fmt(closed)}: "
                        f"expected {fmt(expected)}, given {fmt(opened)} "
                        f"(difference {fmt(opened - expected)})",
                        fix=f"check the {p:%b %Y} figures in rows {', '.join(str(r) for r in rows)}: "
                        "open at month end must equal the previous month's open plus new minus closed "
                        "(cases reopened or transferred in are the usual cause)", severity="warning")
