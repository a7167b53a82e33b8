"""Property-based tests: arbitrary bytes and mangled rows never crash the ingest or lose a row."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeguarding.config import load_config
from safeguarding.ingest import run_ingest
from safeguarding.ingest.validate import NULL_TOKENS

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEADER = ["Referral ID", "Child ID", "Date of referral", "Source", "NFA", "Team"]


def _run(folder: Path, name: str, data: bytes, table: str = "referrals"):
    raw = folder / "raw"
    raw.mkdir(exist_ok=True)
    (raw / name).write_bytes(data)
    cfg_path = folder / "report.yml"
    cfg_path.write_text(yaml.safe_dump({
        "area": {"name": "Prop"}, "year": 2025, "paths": {"processed": "out"},
        "pseudonymisation": {"key_file": str(folder / "k.key")},
        "inputs": {table: {"file": f"raw/{name}"}}}))
    return run_ingest(load_config(cfg_path))


def _check_accounting(result, table: str, expected_records: int | None, folder: Path) -> None:
    e = next(x for x in result.report["inputs"] if x["table"] == table)
    if e["status"] == "failed":
        assert "Fix:" in e["error"]
        if not e["rows_read"]:  # not read at all
            return
        # read, but every row rejected: a file-level error whose rows are still counted and listed
        assert e["rows_accepted"] == 0 and not (folder / "out" / f"{table}.parquet").exists()
    assert e["rows_read"] == e["rows_accepted"] + e["rows_rejected"]
    assert sum(e["rejected_by_reason"].values()) == e["rows_rejected"]
    if expected_records is not None:
        assert e["rows_read"] + e["blank_rows_skipped"] == expected_records
    if e["status"] == "built":
        df = pd.read_parquet(folder / "out" / f"{table}.parquet")
        assert len(df) == e["rows_accepted"]
    rej = pd.read_csv(folder / "out" / "ingest_rejected.csv", dtype=str, keep_default_na=False,
                      encoding="utf-8-sig")
    assert rej["row_number"].nunique() == e["rows_rejected"]


def _records_after_header(text: str) -> int:
    return max(0, len(list(csv.reader(io.StringIO(text, newline="")))) - 1)


@SETTINGS
@given(st.binary(max_size=600))
def test_arbitrary_bytes_as_csv_never_crash(data):
    with tempfile.TemporaryDirectory() as d:
        result = _run(Path(d), "r.csv", data)
        _check_accounting(result, "referrals", None, Path(d))


@SETTINGS
@given(st.binary(max_size=600))
def test_arbitrary_bytes_after_a_valid_header_lose_no_row(data):
    body = ",".join(HEADER).encode() + b"\n" + data
    with tempfile.TemporaryDirectory() as d:
        result = _run(Path(d), "r.csv", body)
        e = result.report["inputs"][0]
        if e["status"] == "built":
            text = body.decode(e["encoding"], errors="replace")
            _check_accounting(result, "referrals", _records_after_header(text), Path(d))
        else:
            assert "Fix:" in e["error"]


@SETTINGS
@given(st.binary(max_size=400), st.sampled_from([b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"]))
def test_arbitrary_bytes_as_xlsx_are_a_clear_fatal_error(data, magic):
    with tempfile.TemporaryDirectory() as d:
        result = _run(Path(d), "plans.xlsx", magic + data, table="cp_plans")
        assert "cp_plans" in result.failed
        assert "Fix:" in result.failed["cp_plans"] and "plans.xlsx" in result.failed["cp_plans"]


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_date = st.one_of(
    st.dates(dt.date(1995, 1, 1), dt.date(2030, 1, 1)).map(lambda d: d.strftime("%d/%m/%Y")),
    st.dates(dt.date(1995, 1, 1), dt.date(2030, 1, 1)).map(lambda d: d.isoformat()),
    st.integers(-5, 80000).map(str),
    st.sampled_from(["31/02/2024", "00/00/0000", "TBC", "", " ", "NULL", "12/31/2024"]),
    _text,
)
_cell = {
    "Referral ID": st.one_of(st.sampled_from(["R1", "R2", "R3", "", " R1 "]), _text),
    "Child ID": st.one_of(st.sampled_from(["C1", "C2", ""]), _text),
    "Date of referral": _date,
    "Source": st.one_of(st.sampled_from(["Schools", "2A", "Police", "6", "a) Schools", "Martians", ""]), _text),
    "NFA": st.sampled_from(["Yes", "No", "", "maybe", "1"]),
    "Team": _text,
}
_row = st.fixed_dictionaries(_cell).map(lambda r: [r[h] for h in HEADER])
_mangled = st.one_of(_row, _row.map(lambda r: r[:3]), _row.map(lambda r: [*r, "extra", "x,y"]),
                     st.just([]), _row.map(lambda r: ["", "", "", "", "", ""]))


@SETTINGS
@given(st.lists(_mangled, max_size=25), st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_mangled_rows_all_accounted_for(rows, encoding):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    text = buf.getvalue()
    data = text.encode(encoding, errors="replace")
    with tempfile.TemporaryDirectory() as d:
        result = _run(Path(d), "r.csv", data)
        e = result.report["inputs"][0]
        assert e["status"] == "built" or (e["rows_read"] and not e["rows_accepted"]), e.get("error")
        # the csv module's own reading of the file is the independent count of records
        decoded = data.decode(e["encoding"], errors="replace")
        records = list(csv.reader(io.StringIO(decoded, newline="")))[1:]
        assert len(records) >= len(rows)   # a bare carriage return in a value splits a record
        _check_accounting(result, "referrals", len(records), Path(d))
        # independent count of entirely blank rows (every cell blank or a null token)
        blank = sum(1 for r in records if all(v.strip().lower() in NULL_TOKENS for v in r))
        assert e["blank_rows_skipped"] == blank


_xcell = st.one_of(st.none(), st.integers(-10, 100000), st.floats(allow_nan=False, allow_infinity=False),
                   st.booleans(), st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(2100, 1, 1)),
                   st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=10),
                   st.sampled_from(["P1", "C1", "NEG", "a) Neglect", "31/02/2024", "01/04/2024"]))


@SETTINGS
@given(st.lists(st.lists(_xcell, min_size=0, max_size=7), max_size=15), st.integers(0, 3))
def test_mangled_workbook_cells_all_accounted_for(rows, title_rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Plans"
    for i in range(title_rows):
        ws.append([f"Title line {i}"])
    ws.append(["Plan ID", "Child ID", "Plan start date", "Plan end date", "Initial category", "Team"])
    for r in rows:
        ws.append(r)
    for row in ws.iter_rows():
        for cell in row:  # openpyxl would store text starting with '=' as a formula with no saved result
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # it is text here; formulas have their own tests (test_ingest_messy)
    buf = io.BytesIO()
    wb.save(buf)
    with tempfile.TemporaryDirectory() as d:
        result = _run(Path(d), "plans.xlsx", buf.getvalue(), table="cp_plans")
        e = result.report["inputs"][0]
        assert e["status"] == "built" or (e["rows_read"] and not e["rows_accepted"]), e.get("error")
        assert e["header_row"] == title_rows + 1
        # trailing entirely empty rows are not part of the sheet
        n = len(rows)
        while n and all(c is None or (isinstance(c, str) and not c.strip()) for c in rows[n - 1]):
            n -= 1
        _check_accounting(result, "cp_plans", n, Path(d))
