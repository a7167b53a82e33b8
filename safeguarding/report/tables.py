"""Tables for the chapters, built from the indicator table and suppressed
for the public audience by :mod:`safeguarding.disclosure`."""

from __future__ import annotations

import pandas as pd

from safeguarding.report.context import ReportContext, fy_label


def breakdown_counts(ctx: ReportContext, indicator_id: str, breakdown: str, *,
                     period_type: str = "year", period_end: pd.Timestamp | None = None,
                     order: list[str] | None = None, labels: dict[str, str] | None = None,
                     value_name: str = "Number") -> pd.DataFrame:
    """Counts of one indicator by one breakdown for one period, with a Total row and %.

    Returns raw numbers (not yet suppressed): columns ``label``, ``count``.
    """
    period_end = ctx.year_end if period_end is None else period_end
    ind = ctx.indicators
    sel = ind[(ind.indicator_id == indicator_id) & (ind.period_type == period_type)
              & (ind.period_end == period_end) & (ind.breakdown == breakdown)]
    counts = sel.set_index(sel.breakdown_value.astype(str))["value"].astype(float)
    if order:
        counts = counts.reindex([o for o in order if o in counts.index]
                                + [i for i in counts.index if i not in order])
    counts = counts.fillna(0)
    out = pd.DataFrame({"label": [labels.get(i, i) if labels else i for i in counts.index],
                        "count": counts.to_numpy()})
    return out


def publish_breakdown(ctx: ReportContext, raw: pd.DataFrame, *, label_title: str,
                      count_title: str = "Number", with_percent: bool = True,
                      total: float | None = None) -> pd.DataFrame:
    """A breakdown table as shown to the audience: counts, percentages and a total row.

    For the public, counts of 1 to 5 become ``c`` and secondary suppression
    makes sure no suppressed cell can be recovered from the total; percentages
    of suppressed cells are suppressed too.
    """
    counts = raw["count"].astype(float).tolist()
    tot = float(sum(counts)) if total is None else float(total)
    shown = [ctx.fmt_count(c) for c in counts]
    if ctx.public:
        from safeguarding.disclosure import suppress_table

        frame = pd.DataFrame({"n": counts + [tot]})
        display, _mask = suppress_table(frame, ["n"], total_row=len(counts))
        shown = [str(v) for v in display["n"].tolist()[:-1]]
        tot_shown = str(display["n"].tolist()[-1])
    else:
        tot_shown = ctx.fmt_count(tot)
    table = pd.DataFrame({label_title: raw["label"].tolist() + ["Total"], count_title: shown + [tot_shown]})
    if with_percent:
        pcts = []
        for c, s in zip(counts + [tot], shown + [tot_shown], strict=True):
            if s in {"c", "x"}:
                pcts.append("c")
            elif tot <= 0:
                pcts.append(":")
            else:
                pcts.append(f"{100.0 * c / tot:.1f}%")
        table["Percent"] = pcts
    return table


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
