"""Tests for safeguarding.ingest.partners: partners' aggregate returns (tidy and wide layouts)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from safeguarding import schema
from safeguarding.config import load_config
from safeguarding.ingest.partners import (
    OUTPUT_COLUMNS,
    accounting_holds,
    load_aggregates,
    read_aggregate_return,
    write_aggregates,
)
from safeguarding.ingest.problem import Problem

MONTHS = ["Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar"]


def _xlsx(path: Path, rows: list[list], sheet: str = "Return") -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def _csv(path: Path, rows: list[list], encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        csv.writer(fh).writerows(rows)
    return path


def _only(issues: list[Problem], reason: str) -> list[Problem]:
    return [i for i in issues if i.reason == reason]


def _dropped(issues: list[Problem]) -> int:
    return sum(i.dropped for i in issues)


# ---------------------------------------------------------------- wide XLSX

REFERRALS = [10, 12, 8, 9, 11, 7, 10, 13, 9, 8, 10, 12]          # sum 119
EDUCATION = [4, 5, 3, 2, 1, 3, 4, 5, 3, 4, 3, 3]                  # sum 40, YTD given 42
OPEN = [20, 21, 22, 23, None, 25, 26, 27, 28, 29, 30, 31]          # Aug blank
CONCLUDED = [5, 6, "tbc", 7, 8, 9, 5, 6, 7, 8, 9, 10]              # Jun is text


@pytest.fixture
def lado_xlsx(tmp_path: Path) -> tuple[Path, dict]:
    rows = [
        ["Northwold LADO monthly return 2024-25"],
        [],
        ["Measure", *MONTHS, "YTD"],
        ["Referrals to LADO", *REFERRALS, 119],
        ["Referrals - education", *EDUCATION, 42],
        ["Open at month end", *OPEN, None],
        ["Something nobody mapped", *range(12), 66],
        ["Concluded", *CONCLUDED, None],
    ]
    path = _xlsx(tmp_path / "lado.xlsx", rows)
    spec = {
        "file": "lado.xlsx", "layout": "wide", "sheet": "Return", "financial_year": 2025,
        "rows": {
            "Referrals to LADO": "LADO_REFERRALS",
            "Referrals - education": {"indicator": "LADO_REFERRALS", "breakdown": "sector",
                                      "breakdown_value": "education"},
            "Open at month end": "LADO_OPEN",
            "Concluded": "LADO_CONCLUDED",
        },
    }
    return path, spec


def test_wide_xlsx_title_row_auto_header_values_and_periods(lado_xlsx):
    path, spec = lado_xlsx
    df, issues = read_aggregate_return(spec, path.parent)
    assert list(df.columns) == list(OUTPUT_COLUMNS)
    assert tuple(df.columns[:7]) == schema.AGGREGATE_COLUMNS
    ref = df[(df.indicator_id == "LADO_REFERRALS") & (df.breakdown == "all")].sort_values("period_start")
    assert ref.numerator.tolist() == [float(v) for v in REFERRALS]
    # Apr..Mar of financial year 2025 = April 2024 .. March 2025, first of month
    expected_months = pd.date_range("2024-04-01", "2025-03-01", freq="MS")
    assert list(ref.period_start) == list(expected_months)
    assert (ref.source_row == 4).all()
    assert set(ref.period_type) == {"month"}
    assert ref.denominator.isna().all()
    edu = df[df.breakdown == "sector"]
    assert set(edu.breakdown_value) == {"education"} and len(edu) == 12
    assert df.period_start.dtype == "datetime64[ns]"
    for i in issues:
        assert isinstance(i, Problem) and set(i.to_dict()) >= {"file", "row", "column", "value", "fix"}
        assert i.severity in {"error", "warning"}


def test_wide_xlsx_ytd_mismatch_reported_by_row_with_expected_and_given(lado_xlsx):
    path, spec = lado_xlsx
    df, issues = read_aggregate_return(spec, path.parent)
    ytd = _only(issues, "ytd mismatch")
    assert len(ytd) == 1  # the correct YTD (119) and the unmapped row are not flagged
    issue = ytd[0]
    assert issue.row == 5
    assert issue.column == "YTD"
    assert issue.value == 42
    assert "expected 40, given 42" in issue.message
    assert "Referrals - education" in issue.message and "lado.xlsx" in issue.message
    assert issue.fix
    # the months are still accepted; 40 = independent sum of the fixture's list
    edu = df[df.breakdown == "sector"]
    assert edu.numerator.sum() == sum(EDUCATION) == 40


def test_wide_xlsx_blank_month_is_missing_not_zero(lado_xlsx):
    path, spec = lado_xlsx
    df, issues = read_aggregate_return(spec, path.parent)
    blank = _only(issues, "blank cell")
    assert [(i.row, i.column, i.severity) for i in blank] == [(6, "Aug", "warning")]
    open_ = df[df.indicator_id == "LADO_OPEN"]
    assert len(open_) == 11
    assert pd.Timestamp("2024-08-01") not in set(open_.period_start)
    assert (open_.numerator > 0).all()  # no zero was invented


def test_wide_xlsx_text_cell_is_error_with_row_and_month(lado_xlsx):
    path, spec = lado_xlsx
    _, issues = read_aggregate_return(spec, path.parent)
    text = _only(issues, "not a number")
    assert [(i.row, i.column, i.value, i.severity) for i in text] == [(8, "Jun", "tbc", "error")]


def test_wide_xlsx_unmapped_label_warns_and_names_config_key(lado_xlsx):
    path, spec = lado_xlsx
    _, issues = read_aggregate_return(spec, path.parent, index=3)
    un = _only(issues, "unmapped row")
    assert len(un) == 1
    assert un[0].row == 7 and un[0].value == "Something nobody mapped"
    assert un[0].severity == "warning"
    assert "aggregates[3].rows" in un[0].fix


def test_wide_xlsx_cells_in_equal_rows_out_plus_cells_reported(lado_xlsx):
    path, spec = lado_xlsx
    df, issues = read_aggregate_return(spec, path.parent)
    cells_in = 5 * 12  # five labelled rows below the header, twelve month columns
    assert len(df) == 12 + 12 + 11 + 11
    assert len(df) + _dropped(issues) == cells_in
    acc = df.attrs["accounting"][0]
    assert acc.cells_in == cells_in and acc.rows_out == len(df)


def test_wide_explicit_header_row_and_month_year_variants(tmp_path):
    heads = ["April 2024", "May-24", "Jun 2024", dt.datetime(2024, 7, 1)]
    _xlsx(tmp_path / "v.xlsx", [["title"], ["Measure", *heads, "Year to date"], ["PF new", 1, 2, 3, 4, 10]])
    spec = {"file": "v.xlsx", "layout": "wide", "header_row": 2, "rows": {"pf new": "PF_NEW"}}
    df, issues = read_aggregate_return(spec, tmp_path)
    assert [i for i in issues if i.severity == "error"] == []
    assert list(df.period_start) == list(pd.date_range("2024-04-01", periods=4, freq="MS"))
    assert _only(issues, "ytd mismatch") == []  # 1+2+3+4 = 10, auto-detected "Year to date"


def test_wide_ytd_mismatch_auto_detected_total_column(tmp_path):
    path = _csv(tmp_path / "r.csv", [["Measure", "Apr", "May", "Total"], ["PF new", "1", "2", "4"]])
    spec = {"file": path.name, "layout": "wide", "financial_year": 2025, "rows": {"PF new": "PF_NEW"}}
    _, issues = read_aggregate_return(spec, tmp_path)
    (issue,) = _only(issues, "ytd mismatch")
    assert (issue.row, issue.column, issue.value) == (2, "Total", "4")
    assert "expected 3, given 4" in issue.message


def test_wide_missing_markers_and_negative(tmp_path):
    path = _csv(tmp_path / "r.csv", [["Measure", "Apr", "May", "Jun", "Jul"], ["PF new", "-", "n/a", "-2", "1,204"]])
    spec = {"file": path.name, "layout": "wide", "financial_year": 2025, "rows": {"PF new": "PF_NEW"}}
    df, issues = read_aggregate_return(spec, tmp_path)
    assert df.numerator.tolist() == [1204.0]
    assert [(i.column, i.reason, i.severity) for i in issues] == [
        ("Apr", "marked missing", "warning"), ("May", "marked missing", "warning"), ("Jun", "negative", "error")]


def test_wide_label_column_by_heading_bom_csv_and_named_ytd(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes("Code;Measure (£);Apr;May;Cumulative\nX1;Visits – on time;3;4;8\n".encode("utf-8-sig"))
    spec = {"file": "r.csv", "layout": "wide", "financial_year": 2025, "label_column": "Measure (£)",
            "ytd_column": "Cumulative", "rows": {"visits – on time": "PF_VISIT_7WD"}}
    df, issues = read_aggregate_return(spec, tmp_path)
    assert df.numerator.tolist() == [3.0, 4.0]
    assert [i.reason for i in issues] == ["column ignored", "ytd mismatch"]
    assert issues[0].column == "Code"
    assert "expected 7, given 8" in issues[1].message and issues[1].row == 2
    spec["ytd_column"] = "none"
    _, issues = read_aggregate_return(spec, tmp_path)
    assert [i.reason for i in issues] == ["column ignored"]


def test_wide_formula_without_saved_value_is_reported(tmp_path):
    # openpyxl saves formulas without a cached result, as a script-built workbook would
    _xlsx(tmp_path / "f.xlsx", [["Measure", "Apr", "May", "YTD"], ["Open", 1, "=B2+1", "=SUM(B2:C2)"]])
    spec = {"file": "f.xlsx", "layout": "wide", "financial_year": 2025, "rows": {"Open": "PF_OPEN"}}
    df, issues = read_aggregate_return(spec, tmp_path)
    assert df.numerator.tolist() == [1.0]
    assert [(i.row, i.column, i.reason, i.severity) for i in issues] == [
        (2, "May", "formula without value", "error"), (2, "YTD", "ytd not checked", "warning")]


def test_wide_month_heading_outside_financial_year_is_flagged(tmp_path):
    _xlsx(tmp_path / "r.xlsx", [["Measure", dt.datetime(2025, 4, 24), "May-24"], ["PF new", 1, 2]])
    spec = {"file": "r.xlsx", "layout": "wide", "financial_year": 2025, "rows": {"PF new": "PF_NEW"}}
    df, issues = read_aggregate_return(spec, tmp_path)
    (issue,) = issues
    assert issue.reason == "month outside year" and issue.column == "Apr 2025"
    assert len(df) == 2


def test_wide_without_rows_accepts_code_labels_and_warns_on_others(tmp_path):
    _csv(tmp_path / "r.csv", [["Indicator", "2024-04", "2024-05"], ["PF_NEW", "1", "2"], ["New ones", "1", "2"],
                              ["", "", ""], ["", "5", ""]])
    df, issues = read_aggregate_return({"file": "r.csv", "layout": "wide"}, tmp_path)
    assert df.indicator_id.tolist() == ["PF_NEW", "PF_NEW"]
    assert [(i.row, i.reason, i.dropped) for i in issues] == [(3, "unmapped row", 2), (5, "blank label", 2)]
    assert len(df) + _dropped(issues) == 3 * 2  # the wholly blank row 4 holds no cells


# ------------------------------------------------------------ YYYY-MM + stock/flow

PF_OPEN = [10, 11, 12, 15, 14, 14]     # Jul should be 12 + 3 - 1 = 14, given 15
PF_NEW = [2, 3, 2, 3, 1, 1]
PF_ENDED = [1, 2, 1, 1, 2, 1]


def _independent_stock_flow_breaks(opening, open_, new, ended):
    """Months (0-based) where open != previous open + new - ended, by a plain loop."""
    out = []
    prev = opening
    for m in range(len(open_)):
        if open_[m] != prev + new[m] - ended[m]:
            out.append((m, prev + new[m] - ended[m], open_[m]))
        prev = open_[m]
    return out


@pytest.fixture
def pf_csv(tmp_path: Path) -> tuple[Path, dict]:
    months = [f"2024-{m:02d}" for m in range(4, 10)]
    rows = [["Private fostering return"], ["Measure", *months],
            ["Open at month end", *PF_OPEN], ["New arrangements", *PF_NEW], ["Ended", *PF_ENDED]]
    path = _csv(tmp_path / "pf.csv", rows)
    spec = {"file": "pf.csv", "layout": "wide",
            "rows": {"Open at month end": "PF_OPEN", "New arrangements": "PF_NEW", "Ended": "PF_ENDED"},
            "stock_flow": [{"open": "PF_OPEN", "new": "PF_NEW", "closed": "PF_ENDED", "opening": 9}]}
    return path, spec


def test_yyyy_mm_layout_reads_periods(pf_csv):
    path, spec = pf_csv
    df, _ = read_aggregate_return(spec, path.parent)
    assert len(df) == 18
    assert sorted(set(df.period_start)) == list(pd.date_range("2024-04-01", "2024-09-01", freq="MS"))


def test_stock_flow_break_reported_by_month(pf_csv):
    path, spec = pf_csv
    df, issues = read_aggregate_return(spec, path.parent)
    sf = _only(issues, "stock-flow mismatch")
    breaks = _independent_stock_flow_breaks(9, PF_OPEN, PF_NEW, PF_ENDED)
    # the break at Jul (given 15, expected 14) and the knock-on at Aug (expected 15 + 1 - 2 = 14, given 14: fine)
    assert [(b[0], b[1], b[2]) for b in breaks] == [(3, 14, 15)]
    assert len(sf) == 1
    issue = sf[0]
    assert (issue.row, issue.column, issue.value) == (3, "2024-07", 15)
    assert "expected 14, given 15" in issue.message
    assert "Jul 2024" in issue.message
    assert "rows 3, 4, 5" in issue.fix
    assert len(df) == 18  # the values are still loaded


def test_stock_flow_opening_figure_checks_first_month(pf_csv):
    path, spec = pf_csv
    spec["stock_flow"][0]["opening"] = 5  # 5 + 2 - 1 = 6, given 10
    _, issues = read_aggregate_return(spec, path.parent)
    sf = _only(issues, "stock-flow mismatch")
    assert [(i.column, i.value) for i in sf] == [("2024-04", 10), ("2024-07", 15)]
    assert "expected 6, given 10" in sf[0].message


# ---------------------------------------------------------------- tidy CSV

TIDY_HEADER = ["indicator_id", "period_start", "period_type", "breakdown", "breakdown_value", "numerator",
               "denominator"]


def test_tidy_csv_valid_rows_and_dates(tmp_path):
    rows = [TIDY_HEADER,
            ["LADO_REFERRALS", "01/04/2024", "month", "", "", "12", ""],
            ["LADO_REFERRALS", "2024-05-01", "Month", "sector", "education", "4", ""],
            ["LADO_CONCLUDED_1M", "01/04/2024", "quarter", "all", "all", "7", "9"],
            ["LADO_REFERRALS", "1 Apr 2024", "year", "", "", "130", ""]]
    path = _csv(tmp_path / "t.csv", rows, encoding="utf-8-sig")
    df, issues = read_aggregate_return({"file": path.name, "layout": "tidy"}, tmp_path)
    assert issues == []
    assert len(df) == 4
    assert df.period_start.tolist() == [pd.Timestamp(d) for d in
                                        ("2024-04-01", "2024-05-01", "2024-04-01", "2024-04-01")]
    assert df.breakdown.tolist() == ["all", "sector", "all", "all"]
    assert df.period_type.tolist() == ["month", "month", "quarter", "year"]
    assert df.denominator.iloc[2] == 9 and np.isnan(df.denominator.iloc[0])
    assert df.source_row.tolist() == [2, 3, 4, 5]


def test_tidy_csv_bad_rows_each_reported_with_row_and_column(tmp_path):
    rows = [TIDY_HEADER,
            ["LADO_REFERRALS", "31/02/2024", "month", "", "", "12", ""],      # 2 impossible date
            ["LADO_REFERRALS", "01/05/2024", "fortnight", "", "", "3", ""],   # 3 period type
            ["LADO_REFERRALS", "01/06/2024", "month", "", "", "lots", ""],    # 4 text number
            ["LADO_REFERRALS", "01/07/2024", "month", "", "", "-1", ""],      # 5 negative
            ["LADO_CONCLUDED_1M", "01/04/2024", "quarter", "", "", "10", "8"],  # 6 num > den (proportion)
            ["LADO_REFERRALS", "01/08/2024", "month", "", "", "5", ""],       # 7 ok
            ["LADO_REFERRALS", "01/08/2024", "month", "", "", "6", ""],       # 8 duplicate of 7
            ["LADO_REFERRALS", "15/09/2024", "month", "", "", "6", ""],       # 9 not first of month
            ["", "01/09/2024", "month", "", "", "6", ""]]                     # 10 blank indicator
    path = _csv(tmp_path / "t.csv", rows)
    spec = {"file": path.name, "layout": "tidy", "proportions": ["LADO_CONCLUDED_1M"]}
    df, issues = read_aggregate_return(spec, tmp_path)
    got = [(i.row, i.column, i.reason) for i in issues]
    assert got == [
        (2, "period_start", "bad date"), (3, "period_type", "bad period type"), (4, "numerator", "not a number"),
        (5, "numerator", "negative"), (6, "numerator", "numerator exceeds denominator"),
        (8, "indicator_id", "duplicate"), (9, "period_start", "bad date"), (10, "indicator_id", "blank identifier"),
    ]
    assert "impossible date" in issues[0].message
    assert "row 7" in issues[5].message
    assert df.source_row.tolist() == [7]
    assert len(df) + _dropped(issues) == len(rows) - 1


def test_tidy_cp1252_file_and_missing_required_column(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("indicator_id,period_start,period_type,numerator,note\n"
                     "PF_NEW,01/04/2024,month,3,Caf\u00e9 \u00a3\n".encode("cp1252"))
    df, issues = read_aggregate_return({"file": "t.csv", "layout": "tidy"}, tmp_path)
    assert issues == [] and df.numerator.tolist() == [3.0]
    _csv(tmp_path / "m.csv", [["indicator_id", "period_start", "value"], ["PF_NEW", "01/04/2024", "3"]])
    df, issues = read_aggregate_return({"file": "m.csv", "layout": "tidy"}, tmp_path, index=2)
    (issue,) = issues
    assert issue.reason == "required column missing" and issue.severity == "error"
    assert "period_type" in issue.column and "numerator" in issue.column
    assert "aggregates[2].columns.numerator" in issue.fix
    assert df.empty


def test_tidy_column_mapping(tmp_path):
    _csv(tmp_path / "t.csv", [["Measure", "Month", "Type", "Count"], ["PF_NEW", "2024-04", "month", "3"]])
    spec = {"file": "t.csv", "layout": "tidy",
            "columns": {"indicator_id": "Measure", "period_start": "Month", "period_type": "Type",
                        "numerator": "Count"}}
    df, issues = read_aggregate_return(spec, tmp_path)
    assert issues == [] and df.period_start.tolist() == [pd.Timestamp("2024-04-01")]


# ------------------------------------------------------------ file-level errors

def test_file_level_errors_do_not_stop_other_returns(tmp_path, lado_xlsx):
    _, good = lado_xlsx
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not really a zip")
    _xlsx(tmp_path / "nohead.xlsx", [["just", "words"], ["more", "words"]])
    _xlsx(tmp_path / "nomonths.xlsx", [["title"], ["Measure", "Q1", "Q2"], ["PF new", 1, 2]])
    cfg_path = tmp_path / "report.yml"
    aggregates = [
        {"file": "missing.csv", "layout": "tidy"},
        {"file": "empty.csv", "layout": "wide", "financial_year": 2025},
        {"file": "broken.xlsx", "layout": "wide"},
        {"file": "nohead.xlsx", "layout": "wide"},
        {"file": "nomonths.xlsx", "layout": "wide", "header_row": 2},
        {"file": "lado.xlsx", "layout": "wide", "sheet": "Nope", "rows": good["rows"]},
        good,
    ]
    cfg_path.write_text(yaml.safe_dump({"year": 2025, "paths": {"raw": "."}, "aggregates": aggregates}))
    cfg = load_config(cfg_path)
    df, issues = load_aggregates(cfg)
    fatal = [(i.file, i.reason) for i in issues if i.severity == "error"]
    assert ("missing.csv", "missing file") in fatal
    assert ("empty.csv", "empty file") in fatal
    assert ("broken.xlsx", "unreadable workbook") in fatal
    assert ("nohead.xlsx", "header not found") in fatal
    assert ("nomonths.xlsx", "month columns not found") in fatal
    sheet = [i for i in issues if i.reason == "sheet not found"]
    assert sheet and "Return" in sheet[0].fix and "aggregates[5].sheet" in sheet[0].fix
    assert "aggregates[0].file" in next(i for i in issues if i.reason == "missing file").fix
    # the good return still loaded in full
    assert len(df) == 46 and set(df.source_file) == {"lado.xlsx"}
    assert accounting_holds(df, issues)


def test_cross_return_duplicate_is_reported(tmp_path, lado_xlsx):
    _, good = lado_xlsx
    (tmp_path / "report.yml").write_text(yaml.safe_dump({"year": 2025, "paths": {"raw": "."},
                                                         "aggregates": [good, dict(good)]}))
    df, issues = load_aggregates(load_config(tmp_path / "report.yml"))
    assert len(df) == 46
    dups = _only(issues, "duplicate")
    assert len(dups) == 46 and all(i.severity == "error" for i in dups)
    assert accounting_holds(df, issues)


def test_write_aggregates_round_trip(tmp_path, lado_xlsx):
    path, spec = lado_xlsx
    df, _ = read_aggregate_return(spec, path.parent)
    out = write_aggregates(df, tmp_path / "processed")
    back = pd.read_parquet(out)
    assert list(back.columns) == list(OUTPUT_COLUMNS)
    assert len(back) == len(df) and back.numerator.sum() == df.numerator.sum()


# ------------------------------------------------------------ property tests

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=600), layout=st.sampled_from(["tidy", "wide"]))
def test_arbitrary_bytes_never_crash(tmp_path, data, layout):
    (tmp_path / "junk.csv").write_bytes(data)
    spec = {"file": "junk.csv", "layout": layout, "financial_year": 2025, "rows": {"a": "A_B"}}
    df, issues = read_aggregate_return(spec, tmp_path)
    assert list(df.columns) == list(OUTPUT_COLUMNS)
    for i in issues:
        assert isinstance(i, Problem) and i.severity in {"error", "warning"} and i.message
    acc = df.attrs["accounting"][0]
    assert acc.cells_in == len(df) + _dropped(issues)
    assert not any("could not be interpreted" in i.message for i in issues)  # no internal failure masked


CELL = st.one_of(
    st.none(), st.just(""), st.just("-"), st.just("n/a"), st.integers(-3, 50), st.integers(0, 20).map(str),
    st.floats(0, 10, allow_nan=False).map(lambda x: round(x, 1)), st.text(max_size=6),
)
LABELS = ["Referrals", "Open", "Unmapped", ""]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n_months=st.integers(1, 12),
    title_rows=st.integers(0, 3),
    with_ytd=st.booleans(),
    body=st.lists(st.tuples(st.sampled_from(LABELS), st.lists(CELL, min_size=13, max_size=13)), max_size=8),
)
def test_mangled_wide_tables_account_for_every_cell(tmp_path, n_months, title_rows, with_ytd, body):
    header = ["Measure", *MONTHS[:n_months]] + (["YTD"] if with_ytd else [])
    rows = [["Title line"]] * title_rows + [header]
    for label, cells in body:
        rows.append([label, *cells[:n_months]] + ([cells[12]] if with_ytd else []))
    path = _csv(tmp_path / "w.csv", [["" if c is None else c for c in r] for r in rows])
    spec = {"file": path.name, "layout": "wide", "financial_year": 2025,
            "rows": {"Referrals": "REFERRALS", "Open": {"indicator": "OPEN", "breakdown": "team",
                                                        "breakdown_value": "north"}}}
    df, issues = read_aggregate_return(spec, tmp_path)
    # independent count of data cells: month cells of every non-blank row below the header
    def blank(c):
        return c is None or (isinstance(c, str) and not c.strip())
    nonblank = [(lab, cells) for lab, cells in body
                if not (blank(lab) and all(blank(c) for c in cells[:n_months])
                        and (not with_ytd or blank(cells[12])))]
    assert len(df) + _dropped(issues) == len(nonblank) * n_months
    assert not any("could not be interpreted" in i.message for i in issues)
    # every clean non-negative whole number in the first mapped row of each label is loaded as given
    seen = set()
    for lab, cells in nonblank:
        if lab not in ("Referrals", "Open") or lab in seen:
            continue
        seen.add(lab)
        ind = "REFERRALS" if lab == "Referrals" else "OPEN"
        for m, c in enumerate(cells[:n_months]):
            if isinstance(c, int) and c >= 0:
                ts = pd.Timestamp(2024 + (m >= 9), (m + 3) % 12 + 1, 1)
                hit = df[(df.indicator_id == ind) & (df.period_start == ts)]
                assert hit.numerator.tolist() == [float(c)]


TIDY_CELL = st.one_of(st.just(""), st.sampled_from(["PF_NEW", "month", "quarter", "year", "01/04/2024", "2024-07-01",
                                                    "31/02/2024", "-", "n/a", "3", "-1", "1,200"]),
                      st.text(max_size=8))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(st.lists(TIDY_CELL, min_size=7, max_size=7), max_size=10), proportion=st.booleans())
def test_mangled_tidy_rows_in_equal_rows_out_plus_rejected(tmp_path, body, proportion):
    _csv(tmp_path / "t.csv", [TIDY_HEADER, *body])
    spec = {"file": "t.csv", "layout": "tidy", "proportions": ["PF_NEW"] if proportion else []}
    df, issues = read_aggregate_return(spec, tmp_path)
    rows_in = sum(1 for r in body if any(c.strip() for c in r))
    assert len(df) + _dropped(issues) == rows_in
    assert all(i.dropped in (0, 1) for i in issues)
    assert not any("could not be interpreted" in i.message for i in issues)
    if len(df):
        assert (df.numerator >= 0).all() and df.period_start.dt.day.eq(1).all()


# ------------------------------------------------------------ the synthetic police return

def test_synthetic_police_return_recovers_ground_truth(tmp_path):
    """The generator records the months it wrote and the YTD fault it injected; the reader must find both."""
    from safeguarding import synth

    truth = synth.generate_council(tmp_path, years=1, fault_rate=0.05, seed=3)
    meta = truth["files"]["police_monthly_return.xlsx"]
    spec = {"file": "police_monthly_return.xlsx", "layout": "wide", "sheet": meta["sheet"],
            "header_row": meta["header_row"], "financial_year": meta["financial_year"], "rows": meta["measures"]}
    df, issues = read_aggregate_return(spec, tmp_path)
    for code, expected in truth["police_return"].items():
        got = df[df.indicator_id == code].sort_values("period_start")
        assert got.numerator.astype(int).tolist() == list(expected["months"].values())
    injected = [f for f in truth["faults"]["detail"] if f["kind"] == "ytd_mismatch"]
    found = _only(issues, "ytd mismatch")
    assert [(i.row, i.column) for i in found] == [(f["row"], f["column"]) for f in injected]
    for i, f in zip(found, injected, strict=True):
        assert f"expected {f['sum_of_months']}, given {f['value']}" in i.message
    assert [i for i in issues if i.reason != "ytd mismatch"] == []


# ------------------------------------------------------------ the demo return

def test_demo_police_return_loads_without_errors(project):
    cfg_path = project / "report.yml"
    cfg = load_config(cfg_path)
    specs = [s for s in cfg.aggregates if "police_monthly_return" in s.file]
    assert specs, "the demo report.yml must configure the police monthly return"
    df, issues = load_aggregates(cfg)
    errors = [i for i in issues if i.severity == "error"]
    assert errors == [], errors
    # this year's return and the year before's (so that the review can compare them), each its own months
    assert [s.financial_year or cfg.year for s in specs] == [cfg.year, cfg.year - 1]
    assert accounting_holds(df, issues)
    truth_file = cfg.raw_dir / "ground_truth.json"
    truth = json.loads(truth_file.read_text(encoding="utf-8")) if truth_file.exists() else None
    for spec, key in zip(specs, ("police_return", "police_return_previous_year"), strict=True):
        police = df[df.source_file.str.endswith(Path(spec.file).name)]
        assert len(police) > 0
        assert (police.period_type == "month").all()
        fy = spec.financial_year
        assert police.period_start.min() >= pd.Timestamp(fy - 1, 4, 1)
        assert police.period_start.max() <= pd.Timestamp(fy, 3, 1)
        if truth is not None:  # the generator's record of what it wrote: an independent check of every value
            for code, expected in truth[key].items():
                got = police[police.indicator_id == code].sort_values("period_start")
                assert got.numerator.astype(int).tolist() == list(expected["months"].values())
