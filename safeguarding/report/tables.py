"""Tables for the chapters, built from the indicator table; for the public
audience every count is read from the disclosure-controlled table (the
``hidden`` column of :func:`breakdown_counts`), never suppressed here."""

from __future__ import annotations

import pandas as pd

from safeguarding import escape
from safeguarding.indicators.catalogue import OVERLAPPING_BREAKDOWNS
from safeguarding.markers import NOT_APPLICABLE, NOT_AVAILABLE, NOT_PUBLISHED, WITHHELD
from safeguarding.report.context import ReportContext, fy_label, interval_text
from safeguarding.report.markdown import md_table
from safeguarding.stats import verdicts

#: the header of a table's column of 95% confidence intervals
CI = "95% CI"


def ci_header(of: str) -> str:
    """The header of the interval column for the figure headed ``of``: '95% CI (rate per 10,000)'."""
    return f"{CI} ({of[:1].lower() + of[1:] if not of[:2].isupper() else of})"



def breakdown_counts(ctx: ReportContext, indicator_id: str, breakdown: str, *,
                     period_type: str = "year", period_end: pd.Timestamp | None = None,
                     order: list[str] | None = None, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Counts of one indicator by one breakdown for one period.

    Returns raw numbers with columns ``label``, ``count`` and ``hidden`` (True
    where the public disclosure-controlled table withholds the cell). The
    frame's ``attrs`` hold the headline total and whether it is hidden
    (without a headline row: the rows' sum, or NaN for an overlapping
    breakdown, whose rows do not add up to it; hidden for the public).
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
    if head is not None and pd.notna(head["value"]):
        out.attrs["total"] = float(head["value"])
        out.attrs["total_hidden"] = ctx.is_hidden(head)
    else:
        # no headline figure: the rows' sum is the total only where the breakdown adds up to it, and for the
        # public a figure the protected table does not publish is withheld (the sum would include any 'c')
        out.attrs["total"] = float("nan") if breakdown in OVERLAPPING_BREAKDOWNS else float(out["count"].sum())
        out.attrs["total_hidden"] = ctx.public
    return out


def publish_breakdown(ctx: ReportContext, raw: pd.DataFrame, *, label_title: str,
                      count_title: str = "Number", with_percent: bool = True,
                      total: float | None = None, sort: bool = False, total_label: str = "Total") -> pd.DataFrame:
    """A breakdown table as shown to the audience: counts, percentages and a total row.

    For the public, cells the disclosure-controlled indicator table withholds
    (counts of 1 to 5 and the secondary cells that protect them) show ``c``,
    and so do their percentages. The public table is only ever read from the
    protected indicator table: ``raw`` must come from :func:`breakdown_counts`
    (its ``hidden`` column); a frame without it raises ``ValueError``, since a
    count suppressed here on its own would not be protected with the rest of
    the table (the same count could be published differently in the data files).

    ``sort`` orders the rows by the *published* figures, largest first, with
    withheld rows after them in the order given (e.g. the code list's order):
    sorting by the true counts would tell a reader where a withheld figure lies.
    ``total_label`` names the last row (e.g. where the rows overlap and do not
    add up to the total).

    With ``with_percent``, each share is followed by its 95% confidence interval
    (column :data:`CI`: the Wilson score interval of the published count over the
    published total); a withheld share has none (``c``, as the share itself), and
    the total row's 100% is not an estimate (``z``, not applicable).
    """
    counts = raw["count"].astype(float).tolist()
    tot = float(raw.attrs.get("total", sum(counts)) if total is None else total)
    if not ctx.public:
        shown = [ctx.fmt_count(c) for c in counts]
        tot_shown = ctx.fmt_count(tot)
    elif "hidden" in raw.columns:
        shown = [WITHHELD if h else f"{round(c):,}" for c, h in zip(counts, raw["hidden"], strict=True)]
        tot_shown = WITHHELD if raw.attrs.get("total_hidden") else f"{round(tot):,}"
    else:
        raise ValueError(
            "publish_breakdown: a public table must be read from the protected indicator table, but this frame "
            f"({label_title!r}) has no 'hidden' column; add the counts to the catalogue as an indicator and read "
            "them with breakdown_counts(ctx, indicator_id, breakdown), which marks the cells the public table "
            "withholds"
        )
    table = pd.DataFrame({label_title: [*raw["label"].tolist(), total_label], count_title: [*shown, tot_shown]})
    if with_percent:
        pcts, cis = [], []
        for i, (c, s) in enumerate(zip([*counts, tot], [*shown, tot_shown], strict=True)):
            if s in {WITHHELD, NOT_PUBLISHED} or tot_shown == WITHHELD:
                pcts.append(WITHHELD)
                cis.append(WITHHELD)
            elif tot <= 0:
                pcts.append(NOT_AVAILABLE)
                cis.append(NOT_AVAILABLE)
            else:
                pcts.append(f"{100.0 * c / tot:.1f}%")
                # the share's interval from the published count and total; the total row's 100% is not an estimate
                if i == len(counts):
                    cis.append(NOT_APPLICABLE)
                elif not (_is_number(s) and _is_number(tot_shown)):
                    cis.append(NOT_AVAILABLE)
                else:
                    cis.append(interval_text(_published_number(s), _published_number(tot_shown)))
        table["Percent"] = pcts
        table[CI] = cis
    if sort:
        table = _by_published_value(table, count_title)
    return table


def _published_number(text: str) -> float:
    """A count as a table prints it ('1,490') as a number."""
    return float(text.replace(",", ""))


def _is_number(text: str) -> bool:
    try:
        _published_number(text)
    except ValueError:
        return False
    return True


def _by_published_value(table: pd.DataFrame, count_title: str) -> pd.DataFrame:
    """Rows by their published count, largest first (ties in the order given), withheld rows next, Total last."""
    body, total_row = table.iloc[:-1], table.iloc[-1:]
    numbers = pd.to_numeric(body[count_title].astype(str).str.replace(",", "", regex=False), errors="coerce")
    shown = body[numbers.notna()].assign(_n=numbers[numbers.notna()])
    shown = shown.sort_values("_n", ascending=False, kind="stable").drop(columns="_n")
    return pd.concat([shown, body[numbers.isna()], total_row], ignore_index=True)


def notes_text(ctx: ReportContext, plotted: list[tuple[str, pd.Series]]) -> str:
    """The notes of the figures a chart plots or a table shows: ``" Note: 2019-20: ... ."``, or "".

    ``plotted`` pairs each figure shown with how the text names it (its
    year, or measure and year), in the order they are shown. A note is said
    as the audience may read it (:meth:`ReportContext.note`: for the public
    as the data files say it); figures that share a note are named together
    ("2019-20 and 2020-21: ..."). A figure left out (withheld or missing) is
    not shown, so its note is not said. Begins with a space, to follow a
    sentence.
    """
    said: dict[str, list[str]] = {}
    for name, row in plotted:
        note = ctx.note(row)
        if note:
            said.setdefault(note, []).append(name)
    return _notes_sentence({note: verdicts._join(names) for note, names in said.items()})


def month_notes_text(ctx: ReportContext, rows: pd.DataFrame) -> str:
    """:func:`notes_text` for the monthly figures ``rows`` (indicator-table rows, one per month, as plotted).

    Months that share a note are named as spans of consecutive months
    ("April 2023 to June 2023 and September 2023: ...").
    """
    said: dict[str, list[pd.Timestamp]] = {}
    for _, row in rows.iterrows():
        note = ctx.note(row)
        if note:
            said.setdefault(note, []).append(pd.Timestamp(row["period_start"]))
    named = {}
    for note, starts in said.items():
        spans: list[list[pd.Timestamp]] = []
        for start in sorted(starts):
            if spans and start == spans[-1][-1] + pd.DateOffset(months=1):
                spans[-1].append(start)
            else:
                spans.append([start])
        named[note] = verdicts._join([f"{s[0]:%B %Y}" + (f" to {s[-1]:%B %Y}" if len(s) > 1 else "")
                                      for s in spans])
    return _notes_sentence(named)


def _notes_sentence(named: dict[str, str]) -> str:
    """``" Note: <who>: <note>."`` (``" Notes: ...; ..."`` for several) from ``{note: who}``, or ""."""
    if not named:
        return ""
    parts = [f"{who}: {note}" for note, who in named.items()]
    return f" {'Notes' if len(parts) > 1 else 'Note'}: {'; '.join(parts)}."


def yearly_table(ctx: ReportContext, indicator_ids: list[str], labels: dict[str, str],
                 years: int = 5) -> pd.DataFrame:
    """One row per financial year (oldest first), one column per indicator, formatted.

    A percentage or rate is followed by its 95% confidence interval,
    headed ``95% CI (<label>)`` (:meth:`ReportContext.fmt_interval`: ``c`` where
    the figure is withheld).
    """
    rows = []
    first = ctx.year - years + 1
    for y in range(first, ctx.year + 1):
        end = pd.Timestamp(year=y, month=3, day=31)
        rec = {"Year": fy_label(y)}
        any_data = False
        for code in indicator_ids:
            r = ctx.row(code, "year", period_end=end)
            label = labels.get(code, code)
            rec[label] = ctx.fmt_value(r)
            if ctx.unit(code) in ("percent", "rate_per_10k"):
                rec[ci_header(label)] = ctx.fmt_interval(r)
            if r is not None and pd.notna(r.get("value")):
                any_data = True
        if any_data:
            rows.append(rec)
    return pd.DataFrame(rows)


def yearly_notes(ctx: ReportContext, indicator_ids: list[str], labels: dict[str, str], years: int = 5) -> str:
    """The notes of the figures :func:`yearly_table` shows (same arguments), as one sentence to follow it, or "".

    Each figure is named by its column and year ("Initial visit within 7
    working days, 2024-25: ..."); a figure the table shows as a marker is
    not named (:func:`notes_text`).
    """
    shown = []
    for y in range(ctx.year - years + 1, ctx.year + 1):
        end = pd.Timestamp(year=y, month=3, day=31)
        for code in indicator_ids:
            r = ctx.row(code, "year", period_end=end)
            if r is not None and ctx.fmt_value(r) not in (WITHHELD, NOT_AVAILABLE, NOT_PUBLISHED):
                shown.append((f"{labels.get(code, code)}, {fy_label(y)}", r))
    return notes_text(ctx, shown).strip()


def yearly_table_md(ctx: ReportContext, indicator_ids: list[str], labels: dict[str, str], *, caption: str,
                    label: str, years: int = 5) -> str:
    """:func:`yearly_table` as a captioned Markdown table, followed by the notes of the figures it shows.

    The notes (:func:`yearly_notes`) are plain text, shown literally.
    """
    md = md_table(yearly_table(ctx, indicator_ids, labels, years), caption=caption, label=label)
    notes = yearly_notes(ctx, indicator_ids, labels, years)
    return md + (f"\n\n{escape.markdown(notes)}\n" if notes else "")
