"""Sentences about the partners' aggregate returns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from safeguarding import markers as mk
from safeguarding.report.context import ReportContext
from safeguarding.report.findings import Finding, lower_first
from safeguarding.report.text.basics import SPC_MONTHS, _name, _num
from safeguarding.report.text.comparisons import _withheld, year_on_year
from safeguarding.report.text.series import trend_finding, within_year

# ------------------------------------------------------------------ partners' aggregate returns


def board_priority_codes(ctx: ReportContext) -> frozenset[str]:
    """The catalogue codes the board's priorities name (``priorities.yml`` ``indicators``), for the ranking."""
    editorial = getattr(ctx, "editorial", None)
    priorities = getattr(editorial, "priorities", ()) or ()
    return frozenset(code for p in priorities for code in getattr(p, "indicators", ()) if code in ctx.catalogue)


def partner_codes(ctx: ReportContext, chapter: str | None = None) -> list[str]:
    """Partners' aggregate measures (``method: aggregate``) in catalogue order; those of ``chapter`` when given."""
    out = []
    for code in ctx.catalogue.codes:
        info = ctx.catalogue[code]
        if str(getattr(info, "method", "")) == "aggregate" and (chapter is None
                                                              or getattr(info, "chapter", None) == chapter):
            out.append(code)
    return out


def has_figures(ctx: ReportContext, code: str) -> bool:
    """True when the indicator has a monthly or yearly figure up to the year end (a partner returned it)."""
    for period_type in ("month", "year"):
        s = ctx.series(code, period_type)
        if len(s) and bool(np.isfinite(pd.to_numeric(s["value"], errors="coerce").to_numpy(float)).any()):
            return True
    return False


def partner_months(ctx: ReportContext, code: str, most: int = SPC_MONTHS) -> int:
    """The months of a partner's measure to chart: its run of consecutive monthly figures ending at the year end.

    At most ``most`` (24, as for the other monthly flows); 0 when the last month of the year has no figure.
    A partner's returns start when the partnership began collecting them, and a control chart
    reaching back before that would chart months without a figure.
    """
    s = ctx.series(code, "month")
    s = s[s["period_end"] > ctx.year_end - pd.DateOffset(months=most)]
    if s.empty or pd.Timestamp(s["period_end"].iloc[-1]).normalize() != ctx.year_end.normalize():
        return 0
    values = pd.to_numeric(s["value"], errors="coerce").to_numpy(float)
    run = 0
    for v in values[::-1]:
        if not np.isfinite(v):
            break
        run += 1
    return run


def partner_count(ctx: ReportContext, code: str) -> str:
    """This year's count of a partner's measure against last year's (:func:`year_on_year`: the exact conditional
    Poisson test, or quasi-Poisson when the months vary more than chance, and the rate ratio), or, in the first
    year of the return, a sentence that says there is no comparison yet. A withheld figure gives the withheld
    sentence; a measure no return holds says so."""
    name = _name(ctx, code)
    cur = ctx.row(code, "year")
    if cur is None or not np.isfinite(_num(cur["value"])):
        return f"No figure was returned for {lower_first(name)} for {ctx.config.year_label}."
    if ctx.fmt_value(cur) == mk.WITHHELD:
        return _withheld(ctx, code)
    finding = year_on_year(ctx, code)
    if finding is None or finding.verdict == "no earlier year":
        return (f"{name}: {ctx.fmt_value(cur)} in {ctx.config.year_label}. This is the first year of this return, "
                f"so there is no earlier year to set it against yet.")
    return finding.sentence


def partner_findings(ctx: ReportContext, code: str) -> list[Finding]:
    """The findings the chapter prints for a partner's measure (:mod:`safeguarding.report.sections.partners`).

    The year on year (not in the first year of the return, nor for a withheld figure), the
    month-by-month control chart over the return's months (:func:`partner_months`), and the
    trend when the return goes back three years or more.
    """
    if not has_figures(ctx, code):
        return []
    out: list[Finding | None] = []
    cur = ctx.row(code, "year")
    yoy = year_on_year(ctx, code)
    withheld = cur is not None and ctx.fmt_value(cur) == mk.WITHHELD
    if yoy is not None and yoy.verdict != "no earlier year" and not withheld:
        out.append(yoy)
    months = partner_months(ctx, code)
    if months:
        out.append(within_year(ctx, code, months=months)[0])
    out.append(partner_trend(ctx, code))
    return [f for f in out if f is not None]


def partner_trend(ctx: ReportContext, code: str) -> Finding | None:
    """The trend of a partner's measure (:func:`trend_finding`), or None with fewer than three years of returns
    (the year-on-year sentence, or the first-year sentence, already says what there is)."""
    f = trend_finding(ctx, code)
    return None if f is None or f.verdict == "not tested" else f
