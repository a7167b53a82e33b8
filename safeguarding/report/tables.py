"""Tables for the chapters, built from the indicator table and suppressed
for the public audience by :mod:`safeguarding.disclosure` (with the
configuration's disclosure policy, ``ctx.policy``)."""

from __future__ import annotations

import pandas as pd

from safeguarding.report.context import ReportContext, fy_label, policy_of


def breakdown_counts(ctx: ReportContext, indicator_id: str, breakdown: str, *,
                     period_type: str = "year", period_end: pd.Timestamp | None = None,
                     order: list[str] | None = None, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Counts of one indicator by one breakdown for one period.

    Returns raw numbers with columns ``label``, ``count`` and ``hidden`` (True
    where the public disclosure-controlled table withholds the cell). The
    frame's ``attrs`` hold the headline total and whether it is hidden.
    """
    period_end = ctx.year_end if period_end is None else period_end
    ind = ctx.indicators
    sel = ind[(ind.indicator_id == indicator_id) & (ind.period_type == period_type)
              & (ind.period_end == period_end) & (ind.breakdown == breakdown)]
    sel = sel.assign(breakdown_value=sel.breakdown_value.astype(str))
    by_value = {r["breakdown_value"]: r for _, r in sel.iterrows()}
    index = list(by_value)
    if order:
        index = [o for o in order if o in by_value] + [i for i in by_value if i not in order]
    out = pd.DataFrame({
        "label": [labels.get(i, i) if labels else i for i in index],
        "count": [float(by_value[i]["value"]) if pd.notna(by_value[i]["value"]) else 0.0 for i in index],
        "hidden": [ctx.is_hidden(by_value[i]) for i in index],
    })
    head = ctx.row(indicator_id, period_type, period_end=period_end)
    out.attrs["total"] = float(head["value"]) if head is not None and pd.notna(head["value"]) else float(
        out["count"].sum())
    out.attrs["total_hidden"] = ctx.is_hidden(head)
    return out


def publish_breakdown(ctx: ReportContext, raw: pd.DataFrame, *, label_title: str,
                      count_title: str = "Number", with_percent: bool = True,
                      total: float | None = None, sort: bool = False) -> pd.DataFrame:
    """A breakdown table as shown to the audience: counts, percentages and a total row.

    For the public, cells the disclosure-controlled indicator table withholds
    (counts of 1 to 5 and the secondary cells that protect them) show ``c``,
    and so do their percentages. Tables not drawn from the indicator table
    (no ``hidden`` column) are suppressed here with the same rules.

    ``sort`` orders the rows by the *published* figures, largest first, with
    withheld rows after them in the order given (e.g. the code list's order):
    sorting by the true counts would tell a reader where a withheld figure lies.
    """
    counts = raw["count"].astype(float).tolist()
    tot = float(raw.attrs.get("total", sum(counts)) if total is None else total)
    if not ctx.public:
        shown = [ctx.fmt_count(c) for c in counts]
        tot_shown = ctx.fmt_count(tot)
    elif "hidden" in raw.columns:
        shown = ["c" if h else f"{round(c):,}" for c, h in zip(counts, raw["hidden"], strict=True)]
        tot_shown = "c" if raw.attrs.get("total_hidden") else f"{round(tot):,}"
    else:
        from safeguarding.disclosure import suppress_table

        frame = pd.DataFrame({"n": [*counts, tot]})
        display, _mask = suppress_table(frame, ["n"], total_row=len(counts), policy=policy_of(ctx))
        shown = [_thousands(v) for v in display["n"].tolist()[:-1]]
        tot_shown = _thousands(display["n"].tolist()[-1])
    table = pd.DataFrame({label_title: [*raw["label"].tolist(), "Total"], count_title: [*shown, tot_shown]})
    if with_percent:
        pcts = []
        for c, s in zip([*counts, tot], [*shown, tot_shown], strict=True):
            if s in {"c", "x"} or tot_shown == "c":
                pcts.append("c")
            elif tot <= 0:
                pcts.append(":")
            else:
                pcts.append(f"{100.0 * c / tot:.1f}%")
        table["Percent"] = pcts
    if sort:
        table = _by_published_value(table, count_title)
    return table


def _by_published_value(table: pd.DataFrame, count_title: str) -> pd.DataFrame:
    """Rows by their published count, largest first (ties in the order given), withheld rows next, Total last."""
    body, total_row = table.iloc[:-1], table.iloc[-1:]
    numbers = pd.to_numeric(body[count_title].astype(str).str.replace(",", "", regex=False), errors="coerce")
    shown = body[numbers.notna()].assign(_n=numbers[numbers.notna()])
    shown = shown.sort_values("_n", ascending=False, kind="stable").drop(columns="_n")
    return pd.concat([shown, body[numbers.isna()], total_row], ignore_index=True)


def _thousands(v: object) -> str:
    try:
        return f"{int(str(v)):,}"
    except ValueError:
        return str(v)


def yearly_table(ctx: ReportContext, indicator_ids: list[str], labels: dict[str, str],
                 years: int = 5) -> pd.DataFrame:
    """One row per financial year (oldest first), one column per indicator, formatted."""
    rows = []
    first = ctx.year - years + 1
    for y in range(first, ctx.year + 1):
        end = pd.Timestamp(year=y, month=3, day=31)
        rec = {"Year": fy_label(y)}
        any_data = False
        for code in indicator_ids:
            r = ctx.row(code, "year", period_end=end)
            rec[labels.get(code, code)] = ctx.fmt_value(r)
            if r is not None and pd.notna(r.get("value")):
                any_data = True
        if any_data:
            rows.append(rec)
    return pd.DataFrame(rows)
