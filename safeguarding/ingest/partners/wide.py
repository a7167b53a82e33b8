"""The wide layout: one row per measure or breakdown, one column per month, title rows above the header.

Finds the header (the row with the most month headings, or ``header_row``),
the label column, an optional year-to-date column and the month columns, then
reads every month cell of every row below: each becomes one figure or is
counted by exactly one problem. A year-to-date column is checked against the
sum of its months.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from safeguarding.ingest.partners.cells import CODE_RE, YTD_NAMES, blank, fmt, month_of, norm, parse_number
from safeguarding.ingest.partners.collect import Return, header_index
from safeguarding.ingest.problem import show_value
from safeguarding.ingest.readers import HEADER_SCAN_ROWS, Grid
from safeguarding.settings_inputs import AggregateSpec


@dataclass
class _Target:
    indicator: str
    breakdown: str
    breakdown_value: str


def _row_map(spec: AggregateSpec, ret: Return) -> dict[str, _Target] | None:
    if spec.rows is None:
        return None
    out: dict[str, _Target] = {}
    for label, target in spec.rows.items():
        if target.indicator is not None:
            out[norm(label)] = _Target(target.indicator, target.breakdown, target.breakdown_value)
        else:
            ret.add(value=label, reason="bad configuration",
                    message=f"{ret.key}.rows[{label!r}] must be an indicator code or "
                    "{indicator: ID, breakdown: ..., breakdown_value: ...}",
                    fix=f"correct {ret.key}.rows[{label!r}] in report.yml")
    return out


def _financial_year(spec: AggregateSpec, default_year: int | None, ret: Return) -> int | None:
    fy = spec.financial_year if spec.financial_year is not None else default_year
    if fy is None:
        return None
    if not 2000 <= fy <= 2100:
        ret.add(value=spec.financial_year, reason="bad configuration",
                message=f"{ret.key}.financial_year must be the year ending 31 March, e.g. 2025 for 2024-25",
                fix=f"correct {ret.key}.financial_year")
        return None
    return fy


def header_score(cells: list[str]) -> int:
    """How many cells of a row are month headings (the wide layout's header search)."""
    return sum(1 for c in cells if month_of(c, 2000) is not None)


def _find_wide_header(grid: Grid, spec: AggregateSpec, ret: Return) -> int | None:
    """Return the index into grid.rows of the header row, or None (problem recorded)."""
    return header_index(grid, spec, ret, header_score, least=1, not_found=(
        f"{ret.file}: no row in the first {HEADER_SCAN_ROWS} rows has month headings "
        "(Apr .. Mar, April 2024, Apr-24 or YYYY-MM)",
        f"check the sheet ({ret.key}.sheet) and set {ret.key}.header_row to the row with the months"))


def _label_index(spec: AggregateSpec, header: list[object], ret: Return, header_row: int) -> int | None:
    lc = spec.label_column
    if lc is None:
        return 0
    if isinstance(lc, int) and not isinstance(lc, bool):
        if 1 <= lc <= len(header):
            return lc - 1
    else:
        wanted = norm(lc)
        for i, h in enumerate(header):
            if not blank(h) and norm(h) == wanted:
                return i
        if re.fullmatch(r"[A-Za-z]{1,2}", str(lc).strip()):
            letters = str(lc).strip().upper()
            idx = 0
            for ch in letters:
                idx = idx * 26 + (ord(ch) - 64)
            if idx <= len(header):
                return idx - 1
    ret.fatal("required column missing",
              f"{ret.file}: label column {lc!r} not found in the header (row {header_row})",
              f"set {ret.key}.label_column to the heading of the column holding the row labels, "
              "its 1-based number, or its letter", column=str(lc), value=lc, row=header_row)
    return None


def parse_wide(grid: Grid, spec: AggregateSpec, ret: Return, default_year: int | None) -> None:  # noqa: C901
    """Read a wide return: header, label, year-to-date and month columns, then every row below the header."""
    fy = _financial_year(spec, default_year, ret)
    hi = _find_wide_header(grid, spec, ret)
    if hi is None:
        return
    header = grid.rows[hi]
    header_row = grid.numbers[hi]
    label_col = _label_index(spec, header, ret, header_row)
    if label_col is None:
        return

    # year-to-date column
    ytd_setting = spec.ytd_column
    ytd_col: int | None = None
    disabled = ytd_setting is False or (isinstance(ytd_setting, str) and ytd_setting.strip().casefold() in {
        "none", "no", "false"})
    if not disabled:
        names = {norm(ytd_setting)} if isinstance(ytd_setting, str) and ytd_setting.strip() else YTD_NAMES
        for i, h in enumerate(header):
            if i != label_col and not blank(h) and norm(h) in names:
                ytd_col = i
                break
        if ytd_col is None and isinstance(ytd_setting, str) and ytd_setting.strip():
            ret.add(row=header_row, column=ytd_setting, value=ytd_setting, reason="ytd column not found",
                    message=f"{ret.file}: year-to-date column {ytd_setting!r} not in the header (row {header_row}); "
                    "year-to-date totals were not checked",
                    fix=f"set {ret.key}.ytd_column to the heading used, or to none if there is no such column",
                    severity="warning")

    # month columns
    months: dict[int, tuple[pd.Timestamp, str]] = {}
    seen: dict[pd.Timestamp, int] = {}
    duplicate_cols: dict[int, int] = {}
    ignored: list[str] = []
    needs_year = False
    for i, h in enumerate(header):
        if i in (label_col, ytd_col) or blank(h):
            continue
        ym = month_of(h, fy)
        if ym == "noyear":
            needs_year = True
            continue
        if ym is None:
            ignored.append(str(h))
            continue
        ts = pd.Timestamp(ym[0], ym[1], 1)
        heading = h.strftime("%b %Y") if isinstance(h, dt.date) else " ".join(str(h).split())
        if ts in seen:
            duplicate_cols[i] = seen[ts]
        else:
            seen[ts] = i
        months[i] = (ts, heading)
    if needs_year:
        ret.fatal("bad configuration", f"{ret.file}: the month headings have no year and no financial year is set",
                  f"set {ret.key}.financial_year (e.g. 2025 for April 2024 to March 2025)", row=header_row)
        return
    if not months:
        ret.fatal("month columns not found",
                  f"{ret.file}: row {header_row} has no month headings (Apr .. Mar, April 2024, Apr-24 or "
                  f"YYYY-MM); it holds: {', '.join(str(h) for h in header if not blank(h))[:200]}",
                  f"set {ret.key}.header_row to the row holding the month headings", row=header_row)
        return
    if spec.financial_year is not None and fy is not None:
        outside = [months[c][1] for c in months
                   if not pd.Timestamp(fy - 1, 4, 1) <= months[c][0] <= pd.Timestamp(fy, 3, 1)]
        if outside:
            ret.add(row=header_row, column=", ".join(outside), value=None, reason="month outside year",
                    message=f"{ret.file}: month heading(s) {', '.join(outside)} in row {header_row} fall outside "
                            f"financial year {fy - 1}-{str(fy)[-2:]}; loaded as headed",
                    fix="check the headings (Excel may have turned 'Apr-24' into 24 April) and "
                        f"{ret.key}.financial_year",
                    severity="warning")
    if ignored:
        ret.add(row=header_row, column=", ".join(ignored), value=None, reason="column ignored",
                message=f"{ret.file}: column(s) {', '.join(repr(x) for x in ignored)} in row {header_row} are neither "
                "months, the row label nor year to date, and were not read",
                fix=f"if one holds year-to-date totals set {ret.key}.ytd_column to its heading; otherwise no action",
                severity="warning")

    mapping = _row_map(spec, ret)
    month_cols = sorted(months, key=lambda c: (months[c][0], c))
    unmapped: list[str] = []
    for ri in range(hi + 1, len(grid.rows)):
        row = grid.rows[ri]
        rn = grid.numbers[ri]
        label = row[label_col] if label_col < len(row) else None
        cells = [row[c] if c < len(row) else None for c in month_cols]
        ytd_value = row[ytd_col] if ytd_col is not None and ytd_col < len(row) else None
        if blank(label) and all(blank(c) for c in cells) and blank(ytd_value):
            continue
        n = len(cells)
        ret.cells_in += n
        if blank(label):
            ret.add(row=rn, column=str(header[label_col]) if not blank(header[label_col]) else "label", value=None,
                    reason="blank label",
                    message=f"{ret.file} row {rn}: figures with no row label; its {n} month cell(s) were not loaded",
                    fix="add the measure's name in the label column and map it in "
                    f"{ret.key}.rows, or delete the row", severity="error", dropped=n)
            continue
        target = _target_for(label, mapping)
        if target is None:
            unmapped.append(str(label))
            has_figures = any(not blank(c) for c in cells)
            ret.add(row=rn, column=str(header[label_col]) if not blank(header[label_col]) else "label", value=label,
                    reason="unmapped row",
                    message=f"{ret.file} row {rn}: row label {str(label)!r} is not mapped to an indicator; "
                    + (f"its {n} month cell(s) were not loaded" if has_figures else "it has no figures"),
                    fix=f'add it to {ret.key}.rows in report.yml, e.g. "{" ".join(str(label).split())}": INDICATOR_ID',
                    severity="warning", dropped=n)
            continue
        _wide_row_cells(grid, ret, rn, label, target, month_cols, months, duplicate_cols, cells)
        if ytd_col is not None:
            _check_ytd(grid, ret, rn, label, str(header[ytd_col]), ytd_col, ytd_value, cells)


def _target_for(label: object, mapping: dict[str, _Target] | None) -> _Target | None:
    if mapping is None:
        text = " ".join(str(label).split())
        return _Target(text, "all", "all") if CODE_RE.match(text) else None
    return mapping.get(norm(label))


def _wide_row_cells(grid: Grid, ret: Return, rn: int, label: object, target: _Target, month_cols: list[int],
                    months: dict[int, tuple[pd.Timestamp, str]], duplicate_cols: dict[int, int],
                    cells: list[object]) -> None:
    lab = " ".join(str(label).split())
    for col, value in zip(month_cols, cells, strict=True):
        ts, mlabel = months[col]
        when = mlabel if mlabel == f"{ts:%b %Y}" else f"{mlabel} ({ts:%b %Y})"
        where = f"{ret.file} row {rn} ({lab!r}), {when}"
        if col in duplicate_cols:
            ret.add(row=rn, column=mlabel, value=value, reason="duplicate month column",
                    message=f"{where}: a second column for {ts:%B %Y}; the first one was used and this cell not loaded",
                    fix="delete or relabel the duplicate month column", severity="error", dropped=1)
            continue
        kind, number = parse_number(value)
        if kind == "blank":
            if (rn, col) in grid.formulas:
                ret.add(row=rn, column=mlabel, value=grid.formulas[(rn, col)], reason="formula without value",
                        message=f"{where}: the cell holds a formula with no saved result; not loaded",
                        fix="open the workbook in Excel and save it (so the result is stored), or type the value",
                        severity="error", dropped=1)
            else:
                ret.add(row=rn, column=mlabel, value=None, reason="blank cell",
                        message=f"{where}: blank; treated as missing, not as zero",
                        fix="enter 0 if there were none, or leave blank if the figure is not yet known",
                        severity="warning",
                        dropped=1)
            continue
        if kind == "missing":
            ret.add(row=rn, column=mlabel, value=value, reason="marked missing",
                    message=f"{where}: {str(value).strip()!r} read as missing, not zero",
                    fix="enter the figure, or 0 if there were none", severity="warning", dropped=1)
            continue
        if kind in {"text", "date"}:
            ret.add(row=rn, column=mlabel, value=value, reason="not a number",
                    message=f"{where}: {show_value(value)!r} is not a number; not loaded",
                    fix="type the count as a whole number (no words, % signs or notes in the cell)", severity="error",
                    dropped=1)
            continue
        assert number is not None
        if number < 0:
            ret.add(row=rn, column=mlabel, value=value, reason="negative",
                    message=f"{where}: {fmt(number)} is negative; a count cannot be",
                    fix="correct the figure in the return", severity="error", dropped=1)
            continue
        if not float(number).is_integer():
            ret.add(row=rn, column=mlabel, value=value, reason="not a whole number",
                    message=f"{where}: {fmt(number)} is not a whole number; loaded as given",
                    fix="check the figure: monthly returns hold counts", severity="warning")
        key = (target.indicator, target.breakdown, target.breakdown_value, "month", ts)
        if key in ret.where:
            first_row, _ = ret.where[key]
            ret.add(row=rn, column=mlabel, value=value, reason="duplicate",
                    message=f"{where}: {target.indicator} ({target.breakdown}={target.breakdown_value}) for {ts:%B %Y} "
                    f"was already given in row {first_row}; this cell not loaded",
                    fix=f"map each row to a different indicator or breakdown in {ret.key}.rows", severity="error",
                    dropped=1)
            continue
        ret.keep(target.indicator, "month", ts, target.breakdown, target.breakdown_value, number, np.nan, rn,
                 mlabel)


def _check_ytd(grid: Grid, ret: Return, rn: int, label: object, ytd_label: str, ytd_col: int, value: object,
               cells: list[object]) -> None:
    lab = " ".join(str(label).split())
    kind, given = parse_number(value)
    if kind == "blank":
        if (rn, ytd_col) in grid.formulas:
            ret.add(row=rn, column=ytd_label, value=grid.formulas[(rn, ytd_col)], reason="ytd not checked",
                    message=f"{ret.file} row {rn} ({lab!r}): the year-to-date cell is a formula with no saved result; "
                    "not checked", fix="open the workbook in Excel and save it", severity="warning")
        return
    if kind == "missing":
        return
    if kind != "number":
        ret.add(row=rn, column=ytd_label, value=value, reason="ytd not checked",
                message=f"{ret.file} row {rn} ({lab!r}): year-to-date {show_value(value)!r} is not a number; "
                        "not checked",
                fix="type the year-to-date total as a number or leave it blank", severity="warning")
        return
    numbers = [parse_number(c) for c in cells]
    used = [v for k, v in numbers if k == "number" and v is not None and v >= 0]
    expected = float(sum(used))
    assert given is not None
    if math.isclose(expected, given, rel_tol=0, abs_tol=1e-6):
        return
    missing = len(cells) - len(used)
    note = f"; {missing} month(s) blank or unreadable, so the sum is of {len(used)} months" if missing else ""
    ret.add(row=rn, column=ytd_label, value=value, reason="ytd mismatch",
            message=f"{ret.file} row {rn} ({lab!r}): year to date {fmt(given)} does not equal the sum of its months: "
            f"expected {fmt(expected)}, given {fmt(given)} (difference {fmt(given - expected)}){note}. "
            "The monthly figures were loaded; the year-to-date figure was not used",
            fix="ask the partner which is right: correct the monthly figures or the year-to-date total "
            "(a total typed over a formula is the usual cause)", severity="warning")
