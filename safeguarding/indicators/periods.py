"""Reporting periods and calendar arithmetic used by every indicator.

Financial years run 1 April to 31 March and are named by the year they end in
(``2025`` is 2024-25). Quarters are financial quarters (Q1 = April-June).

Month arithmetic follows one rule everywhere (ages, plan lengths, review
deadlines, "within 12 months"): *n* months after a date is the same day of the
month *n* months later; when that day does not exist (31 April, 29 February in
a common year) it is the first day of the following month. So a plan starting
on 29 February 2024 reaches two years on 1 March 2026, and a child born on
29 February has a birthday on 1 March in common years (the convention for ages
in England and Wales).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

PERIOD_TYPES = ("month", "quarter", "year", "rolling12")


def month_index(dates: pd.Series | pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Return months since January 1970 (``year * 12 + month - 1`` offset), -1 for missing dates."""
    d = pd.DatetimeIndex(dates)
    out = (d.year.to_numpy(dtype="float64") - 1970) * 12 + d.month.to_numpy(dtype="float64") - 1
    return np.where(np.isnan(out), -1, out).astype(np.int64)


def month_start(index: np.ndarray | int) -> pd.DatetimeIndex:
    """First day of the month numbered by :func:`month_index`."""
    idx = np.atleast_1d(np.asarray(index, dtype=np.int64))
    return pd.DatetimeIndex((np.datetime64("1970-01", "M") + idx).astype("datetime64[ns]"))


def month_end(index: np.ndarray | int) -> pd.DatetimeIndex:
    """Last day of the month numbered by :func:`month_index`."""
    idx = np.atleast_1d(np.asarray(index, dtype=np.int64))
    first_next = (np.datetime64("1970-01", "M") + idx + 1).astype("datetime64[D]")
    return pd.DatetimeIndex((first_next - np.timedelta64(1, "D")).astype("datetime64[ns]"))


def financial_year(dates: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Financial year (year ending 31 March) containing each date: 15 May 2024 -> 2025."""
    d = pd.DatetimeIndex(dates)
    return (d.year + (d.month >= 4)).to_numpy()


def financial_year_of(date: dt.date | pd.Timestamp) -> int:
    """Financial year (year ending 31 March) containing one date."""
    ts = pd.Timestamp(date)
    return ts.year + (1 if ts.month >= 4 else 0)


def year_bounds(year: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """1 April and 31 March of the financial year ending in ``year``."""
    return pd.Timestamp(year - 1, 4, 1), pd.Timestamp(year, 3, 31)


def add_months(dates: pd.Series | pd.DatetimeIndex, n: int | np.ndarray) -> pd.DatetimeIndex:
    """Add ``n`` calendar months; a day that does not exist rolls to the 1st of the next month.

    31 January + 1 month = 1 March; 29 February 2024 + 24 months = 1 March 2026.
    NaT stays NaT. ``n`` may be negative.
    """
    d = pd.DatetimeIndex(dates)
    valid = ~d.isna()
    y = d.year.to_numpy(dtype="float64")
    m = d.month.to_numpy(dtype="float64")
    day = d.day.to_numpy(dtype="float64")
    total = np.where(valid, (y * 12 + m - 1) + np.asarray(n), 0).astype(np.int64)
    first = (np.datetime64("0000-01", "M") + total).astype("datetime64[D]")
    next_first = (np.datetime64("0000-01", "M") + total + 1).astype("datetime64[D]")
    dim = (next_first - first).astype(np.int64)
    dd = np.where(valid, day, 1).astype(np.int64)
    out = np.where(dd <= dim, first + (dd - 1).astype("timedelta64[D]"), next_first)
    res = pd.DatetimeIndex(out.astype("datetime64[ns]"))
    return res.where(valid, pd.NaT)


def add_years(dates: pd.Series | pd.DatetimeIndex, n: int) -> pd.DatetimeIndex:
    """Add ``n`` years with the same rule as :func:`add_months` (29 Feb -> 1 Mar)."""
    return add_months(dates, 12 * n)


def completed_months(start: pd.Series | pd.DatetimeIndex, ref: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Whole months from ``start`` to ``ref`` under the :func:`add_months` rule (NaN where missing).

    ``completed_months(s, r) >= k`` exactly when ``r >= add_months(s, k)``.
    """
    s = pd.DatetimeIndex(start)
    r = pd.DatetimeIndex(ref)
    sy, sm, sd = (s.year.to_numpy(dtype="float64"), s.month.to_numpy(dtype="float64"),
                  s.day.to_numpy(dtype="float64"))
    ry, rm, rd = (r.year.to_numpy(dtype="float64"), r.month.to_numpy(dtype="float64"),
                  r.day.to_numpy(dtype="float64"))
    months = (ry - sy) * 12 + (rm - sm)
    # the k-th monthiversary falls in ref's month only if start's day exists there
    dim = pd.DatetimeIndex(r).days_in_month.to_numpy(dtype="float64")
    not_reached = np.where(sd > dim, True, rd < sd)
    return months - not_reached.astype(float)


def age_in_years(dob: pd.Series | pd.DatetimeIndex, ref: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Age in completed years at ``ref`` (29 February birthdays fall on 1 March in common years)."""
    return np.floor(completed_months(dob, ref) / 12)


@dataclass(frozen=True)
class Window:
    """The months a computation covers, as :func:`month_index` numbers, inclusive."""

    first: int
    last: int

    @property
    def months(self) -> np.ndarray:
        """All month numbers in the window."""
        return np.arange(self.first, self.last + 1)

    @property
    def start(self) -> pd.Timestamp:
        """First day of the window."""
        return month_start(self.first)[0]

    @property
    def end(self) -> pd.Timestamp:
        """Last day of the window."""
        return month_end(self.last)[0]

    @classmethod
    def from_dates(cls, start: dt.date | pd.Timestamp, end: dt.date | pd.Timestamp) -> Window:
        """Window of the months containing ``start`` to ``end``."""
        a = int(month_index(pd.DatetimeIndex([pd.Timestamp(start)]))[0])
        b = int(month_index(pd.DatetimeIndex([pd.Timestamp(end)]))[0])
        if b < a:
            raise ValueError(f"period end {end} is before period start {start}")
        return cls(a, b)


def period_table(window: Window) -> pd.DataFrame:
    """Every reporting period touching the window, one row each.

    Columns: ``period_type``, ``period_start``, ``period_end``, ``first_month``
    and ``last_month`` (month numbers of the period clipped to the window),
    ``end_month`` (the period's true last month) and ``partial`` (the window
    does not cover the whole period). Months, financial quarters and financial
    years that overlap the window are listed; rolling 12-month periods end at
    each month end from the 12th month of the window on (so every one is
    complete).
    """
    months = window.months
    rows = [pd.DataFrame({"period_type": "month", "p_first": months, "p_last": months})]
    # financial quarters start in Apr, Jul, Oct, Jan: month numbers where (m - 3) % 3 == 0
    q_first = months - ((months - 3) % 3)
    uq = np.unique(q_first)
    rows.append(pd.DataFrame({"period_type": "quarter", "p_first": uq, "p_last": uq + 2}))
    y_first = months - ((months - 3) % 12)
    uy = np.unique(y_first)
    rows.append(pd.DataFrame({"period_type": "year", "p_first": uy, "p_last": uy + 11}))
    r_last = months[months - 11 >= window.first]
    rows.append(pd.DataFrame({"period_type": "rolling12", "p_first": r_last - 11, "p_last": r_last}))
    t = pd.concat(rows, ignore_index=True)
    t["period_start"] = month_start(t["p_first"].to_numpy())
    t["period_end"] = month_end(t["p_last"].to_numpy())
    t["first_month"] = np.maximum(t["p_first"], window.first)
    t["last_month"] = np.minimum(t["p_last"], window.last)
    t["end_month"] = t["p_last"]
    t["partial"] = (t["p_first"] < window.first) | (t["p_last"] > window.last)
    return t.drop(columns=["p_first", "p_last"])
