"""Calendar arithmetic, reporting periods and working days, checked against hand-worked dates."""

from __future__ import annotations

import datetime as dt

import holidays
import numpy as np
import pandas as pd
import pytest

from safeguarding.indicators.periods import (
    Window,
    add_months,
    age_in_years,
    completed_months,
    financial_year,
    month_end,
    month_index,
    period_table,
)
from safeguarding.indicators.workdays import add_working_days, bank_holidays, is_working_day, working_days_between

D = pd.Timestamp


def _one(x):
    return pd.DatetimeIndex(x)[0]


@pytest.mark.parametrize(("start", "n", "expected"), [
    ("2024-01-15", 1, "2024-02-15"),
    ("2024-01-31", 1, "2024-03-01"),   # 31 February does not exist -> 1 March
    ("2024-02-29", 24, "2026-03-01"),  # leap day + 2 years -> 1 March
    ("2024-02-29", 48, "2028-02-29"),  # next leap year keeps 29 February
    ("2022-03-31", 3, "2022-07-01"),   # 31 June does not exist
    ("2024-03-31", -1, "2024-03-01"),  # "31 February 2024" rolls to 1 March
])
def test_add_months(start, n, expected):
    assert _one(add_months(pd.DatetimeIndex([D(start)]), n)) == D(expected)


def test_add_months_keeps_missing():
    out = add_months(pd.Series([D("2024-01-01"), pd.NaT]), 2)
    assert out[0] == D("2024-03-01") and pd.isna(out[1])


def test_completed_months_agrees_with_add_months():
    # completed_months(s, r) >= k exactly when r >= add_months(s, k): brute force over a leap year
    starts = pd.date_range("2023-12-25", "2024-03-05")
    refs = pd.date_range("2024-01-20", "2026-04-10", freq="5D")
    s = np.repeat(starts, len(refs))
    r = np.tile(refs, len(starts))
    cm = completed_months(pd.DatetimeIndex(s), pd.DatetimeIndex(r))
    for k in (1, 3, 24):
        assert np.array_equal(cm >= k, pd.DatetimeIndex(r) >= add_months(pd.DatetimeIndex(s), k))


def test_age_leap_day_birthday():
    dob = pd.DatetimeIndex([D("2020-02-29")] * 3)
    ref = pd.DatetimeIndex([D("2021-02-28"), D("2021-03-01"), D("2024-02-29")])
    assert list(age_in_years(dob, ref)) == [0, 1, 4]


def test_financial_year():
    d = pd.DatetimeIndex([D("2024-03-31"), D("2024-04-01"), D("2025-01-15")])
    assert list(financial_year(d)) == [2024, 2025, 2025]


def test_month_index_round_trip():
    d = pd.DatetimeIndex([D("2024-02-10")])
    assert month_end(month_index(d))[0] == D("2024-02-29")


def test_period_table_financial_quarters_and_rolling():
    t = period_table(Window.from_dates("2023-06-10", "2024-08-02"))
    q = t[t.period_type == "quarter"]
    assert list(q.period_start.dt.strftime("%Y-%m-%d")) == [
        "2023-04-01", "2023-07-01", "2023-10-01", "2024-01-01", "2024-04-01", "2024-07-01"]
    assert list(q.partial) == [True, False, False, False, False, True]
    y = t[t.period_type == "year"]
    assert list(y.period_end.dt.strftime("%Y-%m-%d")) == ["2024-03-31", "2025-03-31"]
    r = t[t.period_type == "rolling12"]
    # 15 months in the window -> 4 complete rolling years, the first ending May 2024
    assert len(r) == 4 and r.iloc[0].period_start == D("2023-06-01") and r.iloc[0].period_end == D("2024-05-31")
    assert (t[t.period_type == "month"].shape[0]) == 15


def test_england_and_wales_share_bank_holidays():
    years = range(2015, 2031)
    eng = holidays.country_holidays("GB", subdiv="ENG", years=years)
    wls = holidays.country_holidays("GB", subdiv="WLS", years=years)
    assert set(eng) == set(wls)
    hol = set(pd.DatetimeIndex(bank_holidays().astype("datetime64[ns]")).date)
    for day in (dt.date(2024, 3, 29), dt.date(2024, 4, 1), dt.date(2024, 12, 25), dt.date(2024, 12, 26),
                dt.date(2022, 9, 19), dt.date(2023, 5, 8), dt.date(2020, 12, 28)):
        assert day in hol, day
    # Scotland's 2 January is not an England and Wales bank holiday
    assert dt.date(2024, 1, 2) not in hol


def test_working_days_over_easter_2024():
    # S47 starts Wed 20 March 2024; Good Friday 29 March and Easter Monday 1 April are excluded.
    # Working days after: 21,22,25,26,27,28 March (6), 2,3,4,5 April (10), 8..12 April (15).
    assert add_working_days(pd.DatetimeIndex([D("2024-03-20")]), 15)[0] == D("2024-04-12")
    assert working_days_between(pd.DatetimeIndex([D("2024-03-20")]), pd.DatetimeIndex([D("2024-04-12")]))[0] == 15
    assert working_days_between(pd.DatetimeIndex([D("2024-03-20")]), pd.DatetimeIndex([D("2024-04-15")]))[0] == 16


def test_working_days_over_christmas_and_weekends():
    # Fri 20 Dec 2024 -> Thu 2 Jan 2025: 23, 24, 27, 30, 31 Dec, 2 Jan = 6 (25, 26 Dec and 1 Jan excluded)
    assert working_days_between(pd.DatetimeIndex([D("2024-12-20")]), pd.DatetimeIndex([D("2025-01-02")]))[0] == 6
    # from a Saturday the first working day after is Monday
    assert add_working_days(pd.DatetimeIndex([D("2024-06-01")]), 1)[0] == D("2024-06-03")
    assert list(is_working_day(pd.DatetimeIndex([D("2024-04-01"), D("2024-04-02")]))) == [False, True]
    # same day -> 0, missing -> NaN
    out = working_days_between(pd.Series([D("2024-05-01"), pd.NaT]), pd.Series([D("2024-05-01"), D("2024-05-02")]))
    assert out[0] == 0 and np.isnan(out[1])
