"""The tidy layout: one row per figure (``indicator_id, period_start, period_type, breakdown,
breakdown_value, numerator, denominator``), the headings mapped with ``columns``.

Every non-blank row below the header becomes one figure or is rejected by one
problem that names its row, column and fix.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from safeguarding.ingest.partners.cells import PERIOD_TYPES, blank, fmt, header_key, norm, parse_date, parse_number
from safeguarding.ingest.partners.collect import Return, header_index
from safeguarding.ingest.problem import Severity, show_value
from safeguarding.ingest.readers import Grid
from safeguarding.settings_inputs import AggregateSpec

TIDY_REQUIRED = ("indicator_id", "period_start", "period_type", "numerator")
TIDY_OPTIONAL = ("breakdown", "breakdown_value", "denominator")


def header_score(spec: AggregateSpec) -> Callable[[list[str]], int]:
    """How many cells of a row are the tidy layout's headings (as mapped by ``columns``)."""
    columns = spec.columns
    wanted = {header_key(columns.get(c, c)) for c in (*TIDY_REQUIRED, *TIDY_OPTIONAL)}
    return lambda cells: len({header_key(c) for c in cells if not blank(c)} & wanted)


def parse_tidy(grid: Grid, spec: AggregateSpec, ret: Return) -> None:
    """Read a tidy return: find the header, map the columns, then check and load every non-blank row below it."""
    columns = spec.columns
    wanted = {c: header_key(columns.get(c, c)) for c in (*TIDY_REQUIRED, *TIDY_OPTIONAL)}
    hi = header_index(grid, spec, ret, header_score(spec), least=2, not_found=None)
    if hi is None:
        return
    header = [header_key(c) if not blank(c) else "" for c in grid.rows[hi]]
    header_rn = grid.numbers[hi]
    index: dict[str, int] = {}
    for canon, source in wanted.items():
        if source in header:
            index[canon] = header.index(source)
    missing = [c for c in TIDY_REQUIRED if c not in index]
    if "breakdown" in index and "breakdown_value" not in index:
        missing.append("breakdown_value")
    if missing:
        ret.fatal("required column missing",
                  f"{ret.file}: required column(s) {', '.join(missing)} not found in the header (row {header_rn}); "
                  f"it holds: {', '.join(str(c) for c in grid.rows[hi] if not blank(c))[:200]}",
                  "rename the column(s) in the file, or set " +
                  ", ".join(f"{ret.key}.columns.{c}" for c in missing) + " to the source column's heading",
                  column=", ".join(missing), row=header_rn)
        return
    proportions = {p.strip() for p in spec.proportions}
    heading = {c: str(grid.rows[hi][i]) for c, i in index.items()}

    def cell(row: list[object], name: str) -> object:
        i = index.get(name)
        return row[i] if i is not None and i < len(row) else None

    for ri in range(hi + 1, len(grid.rows)):
        row = grid.rows[ri]
        if all(blank(c) for c in row):
            continue
        rn = grid.numbers[ri]
        ret.cells_in += 1
        _tidy_row(ret, row, rn, cell, heading, proportions)


def _tidy_row(ret: Return, row: list[object], rn: int, cell: Callable[[list[object], str], object],  # noqa: C901
              heading: dict[str, str], proportions: set[str]) -> None:
    where = f"{ret.file} row {rn}"

    def reject(col: str, value: object, reason: str, message: str, fix: str, severity: Severity = "error") -> None:
        name = heading.get(col, col)
        ret.add(row=rn, column=name, value=value, reason=reason, message=f"{where}, {name}: {message}; row not loaded",
                fix=fix, severity=severity, dropped=1)

    ind = cell(row, "indicator_id")
    if blank(ind):
        return reject("indicator_id", ind, "blank identifier", "no indicator_id", "give the indicator code")
    ind = " ".join(str(ind).split())
    ptype_raw = cell(row, "period_type")
    ptype = norm(ptype_raw) if not blank(ptype_raw) else ""
    ptype = {"monthly": "month", "quarterly": "quarter", "annual": "year", "yearly": "year",
             "financial year": "year"}.get(ptype, ptype)
    if ptype not in PERIOD_TYPES:
        shown = "is blank" if blank(ptype_raw) else f"{show_value(ptype_raw)!r} is not one of {', '.join(PERIOD_TYPES)}"
        return reject("period_type", ptype_raw, "bad period type", f"period_type {shown}",
                      "use month, quarter or year")
    raw_start = cell(row, "period_start")
    start, why = parse_date(raw_start)
    if start is None:
        return reject("period_start", raw_start, "bad date" if why != "blank" else "blank date",
                      f"period_start {show_value(raw_start)!r}: {why}",
                      "write the first day of the period as DD/MM/YYYY or YYYY-MM-DD")
    aligned = start.day == 1 and (ptype == "month" or (ptype == "quarter" and start.month in (1, 4, 7, 10))
                                  or (ptype == "year" and start.month == 4))
    if not aligned:
        starts = {"month": "the 1st of a month", "quarter": "1 April, 1 July, 1 October or 1 January",
                 "year": "1 April (financial years)"}[ptype]
        return reject("period_start", raw_start, "bad date",
                      f"period_start {start:%d/%m/%Y} is not the start of a {ptype}", f"use {starts}")
    bd_raw, bv_raw = cell(row, "breakdown"), cell(row, "breakdown_value")
    bd = " ".join(str(bd_raw).split()) if not blank(bd_raw) else "all"
    bv = " ".join(str(bv_raw).split()) if not blank(bv_raw) else "all"
    if (bd == "all") != (bv == "all"):
        return reject("breakdown_value", bv_raw, "bad breakdown",
                      f"breakdown {bd!r} with breakdown_value {bv!r}",
                      "give both breakdown and breakdown_value, or neither (all)")
    num_raw = cell(row, "numerator")
    kind, num = parse_number(num_raw)
    if kind in {"blank", "missing"}:
        return reject("numerator", num_raw, "blank cell" if kind == "blank" else "marked missing",
                      "no figure (treated as missing, not zero)", "enter the figure, or 0 if there were none",
                      "warning")
    if kind != "number" or num is None:
        return reject("numerator", num_raw, "not a number", f"{show_value(num_raw)!r} is not a number",
                      "type the figure as a number")
    if num < 0:
        return reject("numerator", num_raw, "negative", f"{fmt(num)} is negative", "correct the figure")
    den_raw = cell(row, "denominator")
    dkind, den = parse_number(den_raw)
    if dkind in {"blank", "missing"}:
        den = np.nan
        if ind in proportions:
            return reject("denominator", den_raw, "blank cell",
                          f"{ind} is a proportion but has no denominator", "give the denominator")
    elif dkind != "number" or den is None:
        return reject("denominator", den_raw, "not a number", f"{show_value(den_raw)!r} is not a number",
                      "type the denominator as a number, or leave it blank for a count")
    elif den < 0:
        return reject("denominator", den_raw, "negative", f"{fmt(den)} is negative", "correct the figure")
    elif ind in proportions and num > den:
        return reject("numerator", num_raw, "numerator exceeds denominator",
                      f"{ind} is a proportion but numerator {fmt(num)} > denominator {fmt(den)}",
                      "check the two figures are the right way round")
    key = (ind, bd, bv, ptype, start)
    if key in ret.where:
        first, _ = ret.where[key]
        same = next((r for r in ret.records if r["source_row"] == first), None)
        identical = same is not None and same["numerator"] == num and (
            (math.isnan(same["denominator"]) and math.isnan(den)) or same["denominator"] == den)
        return reject("indicator_id", ind, "duplicate",
                      f"{ind} {ptype} starting {start:%d/%m/%Y} ({bd}={bv}) was already given in row {first}"
                      + (" with the same figures" if identical else f" with different figures "
                         f"({fmt(same['numerator']) if same else '?'} there, {fmt(num)} here)"),
                      "delete the repeated row" if identical else "keep the right row and delete the other",
                      "warning" if identical else "error")
    ret.keep(ind, ptype, start, bd, bv, num, den, rn, "numerator")
