"""Date parsing checked against Python's own calendar and strptime, value by value."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguarding.ingest.dates import parse_dates


def _one(value, mode="auto"):
    d, r, m = parse_dates(np.array([value], dtype=object), mode)
    return (None if np.isnat(d[0]) else d[0].astype(object)), r[0], m[0]


@settings(max_examples=200, deadline=None)
@given(st.dates(dt.date(1990, 1, 1), dt.date(2035, 12, 31)))
def test_uk_iso_serial_and_datetime_forms_agree_with_the_calendar(day):
    serial = (day - dt.date(1899, 12, 30)).days          # Excel's 1900 date system, after Feb 1900
    forms = [day.strftime("%d/%m/%Y"), day.isoformat(), f"{day:%d/%m/%Y} 14:05", f"{day.isoformat()}T23:59:59",
             str(serial), serial, float(serial) + 0.75, dt.datetime.combine(day, dt.time(9, 30)), day,
             day.strftime("%d %b %Y"), day.strftime("%d-%b-%Y")]
    values = np.array(forms, dtype=object)
    d, r, _ = parse_dates(values)
    assert list(r) == [None] * len(forms)
    assert all(x.astype(object) == day for x in d)


def test_day_first_is_never_month_first():
    assert _one("01/02/2024")[0] == dt.date(2024, 2, 1)
    assert _one("12/31/2024")[1] == "impossible_date"


def test_impossible_and_unparseable_are_told_apart():
    for text, why in [("31/02/2024", "February 2024 has no day 31"), ("29/02/2023", "February 2023 has no day 29"),
                      ("00/00/0000", "month 0"), ("2023-13-01", "month 13"), ("2024-02-30", "no day 30")]:
        value, reason, message = _one(text)
        assert value is None and reason == "impossible_date" and why in message, text
    assert _one("29/02/2024")[0] == dt.date(2024, 2, 29)
    for text in ("TBC", "unknown", "next Tuesday", "2024/xx/01"):
        value, reason, message = _one(text)
        assert value is None and reason == "unparseable_date" and text in message


def test_iso_mode_rejects_day_first_text():
    assert _one("2024-02-01", "iso")[0] == dt.date(2024, 2, 1)
    assert _one("01/02/2024", "iso")[1] == "unparseable_date"
    assert _one(45292, "iso")[0] == dt.date(2024, 1, 1)


def test_non_dates_from_workbooks_are_rejected_not_crashing():
    for value in (True, dt.time(10, 30), dt.timedelta(days=3), -5, 10**9):
        got, reason, message = _one(value)
        assert got is None and reason in {"unparseable_date", "impossible_date"} and message


def test_zone_suffix_keeps_the_date_as_written():
    assert _one("2024-01-05T23:30:00-05:00")[0] == dt.date(2024, 1, 5)
    assert _one("2024-01-05T00:30:00+01:00")[0] == dt.date(2024, 1, 5)
