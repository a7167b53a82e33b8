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


def test_formats_skipped_for_the_last_few_texts_could_not_have_fitted(monkeypatch):
    """Skipping a format none of the remaining texts can fit gives exactly what trying it gives."""
    from safeguarding.ingest import dates

    values = np.array(["31/02/2024", "00/00/0000", "TBC", "unknown", "2024-13-01", "2024-01-05T10:30:00Z",
                       "05/01/2024\t10:30", "5 Jan 2024", "05-Jan-24", "20240105", "2024/01/05", "05.01.2024",
                       "45292", "2024-01-05 10:30:00.5", "1/2/24", " 05/01/2024 ", "２０２４-01-05"], dtype=object)
    for mode in ("auto", "iso"):
        for n in (1, 3, len(values)):
            for start in range(0, len(values), n):
                chunk = values[start:start + n]
                monkeypatch.setattr(dates, "_FEW", 0)   # try every format: the reference
                want = parse_dates(chunk, mode)
                monkeypatch.setattr(dates, "_FEW", 64)
                got = parse_dates(chunk, mode)
                assert np.array_equal(got[0], want[0], equal_nan=True), chunk
                assert list(got[1]) == list(want[1]) and list(got[2]) == list(want[2]), chunk


_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%d %b %Y", "%d-%b-%y", "%Y%m%d")


@settings(max_examples=300, deadline=None)
@given(st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2035, 12, 31)), st.sampled_from(_FORMATS),
       st.sampled_from(["", "/", "-", ".", " ", "\t", "T", ":"]), st.sampled_from(["", "/", "-", " ", "T", "Z"]))
def test_a_text_pandas_reads_with_a_format_always_may_fit_it(when, written, old, new):
    """_may_fit is only ever False for texts that the format cannot read (dates written in one format,
    separators swapped, tried against every format)."""
    import warnings

    import pandas as pd

    from safeguarding.ingest.dates import DAYFIRST_FORMATS, ISO_FORMATS, _may_fit

    text = when.strftime(written)
    text = text.replace(old, new) if old else text + new
    for fmt in dict.fromkeys(DAYFIRST_FORMATS + ISO_FORMATS):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(pd.Series([text], dtype=object), format=fmt, errors="coerce")
        if not pd.isna(parsed.iloc[0]):
            assert _may_fit(text, fmt), (text, fmt)
    assert not _may_fit("TBC", "%Y%m%d") and not _may_fit("31/02/2024", "%Y-%m-%d")


def test_full_layout_shortcut_gives_what_pandas_gives():
    """dd/mm/yyyy and yyyy-mm-dd are read without pandas; every day, month and year edge agrees with it."""
    import warnings

    import pandas as pd

    from safeguarding.ingest.dates import _fixed_layout

    years = ["0000", "1677", "1678", "1900", "2000", "2023", "2024", "2261", "2262", "9999"]
    days = [f"{d:02d}" for d in range(0, 33)]
    months = [f"{m:02d}" for m in range(0, 14)]
    for fmt, layout in (("%d/%m/%Y", "{d}/{m}/{y}"), ("%Y-%m-%d", "{y}-{m}-{d}")):
        texts = [layout.format(d=d, m=m, y=y) for y in years for m in months for d in days]
        texts += ["1/02/2024", "01/2/2024", "01-02-2024", "2024/01/02", "01/02/2024 ", "٠١/٠٢/٢٠٢٤", "ab/cd/efgh",
                  "2024-1-02", "+024-01-02", "01/02/20245", ""]
        values = np.array(texts, dtype=object)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = pd.to_datetime(pd.Series(values), format=fmt, errors="coerce").to_numpy().astype("datetime64[D]")
        got = _fixed_layout(values, fmt)
        quick = ~np.isnat(got)
        assert (got[quick] == want[quick]).all()          # what it reads, it reads as pandas does
        assert quick.sum() > 0.5 * (~np.isnat(want)).sum()  # and it reads most of the real dates
        assert not quick[-11:].any()                         # anything not written in full goes to pandas
