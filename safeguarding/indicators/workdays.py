"""Working days: Monday to Friday, excluding England and Wales bank holidays.

Bank holidays come from the maintained ``holidays`` package
(``holidays.country_holidays("GB", subdiv="ENG")``), never a hand-typed
list. England and Wales share one set of bank holidays (the package's
``ENG`` and ``WLS`` subdivisions are identical; a test checks this), so the
England calendar serves both. Substitute days ("observed") are included, as
are one-off holidays such as the 2022 State Funeral and the 2023 Coronation.

Counting convention: the start date is day 0. ``working_days_between(a, b)``
counts the working days ``d`` with ``a < d <= b``; ``add_working_days(a, n)``
is the ``n``-th working day after ``a``. So an ICPC on
``add_working_days(s47_start, 15)`` is exactly within 15 working days.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

_FIRST_YEAR = 1990
_LAST_YEAR = 2040


@lru_cache(maxsize=4)
def bank_holidays(subdiv: str = "ENG", first_year: int = _FIRST_YEAR, last_year: int = _LAST_YEAR) -> np.ndarray:
    """Bank holidays for a UK nation (``ENG`` for England and Wales) as sorted ``datetime64[D]``."""
    import holidays  # here, not at the top: a chapter kernel loads the catalogue (and so this module) only

    cal = holidays.country_holidays("GB", subdiv=subdiv, years=range(first_year, last_year + 1))
    return np.array(sorted(cal.keys()), dtype="datetime64[D]")


@lru_cache(maxsize=1)
def _calendar() -> np.busdaycalendar:
    return np.busdaycalendar(weekmask="1111100", holidays=bank_holidays())


def _days(values) -> tuple[np.ndarray, np.ndarray]:
    d = pd.DatetimeIndex(pd.Series(values).astype("datetime64[ns]") if not isinstance(values, pd.DatetimeIndex)
                         else values)
    valid = ~d.isna()
    arr = d.to_numpy().astype("datetime64[D]")
    arr = np.where(valid, arr, np.datetime64("2000-01-03"))
    return arr, valid


def _check_range(arr: np.ndarray, valid: np.ndarray) -> None:
    if valid.any():
        lo, hi = arr[valid].min(), arr[valid].max()
        if lo < np.datetime64(f"{_FIRST_YEAR}-01-01") or hi > np.datetime64(f"{_LAST_YEAR}-12-01"):
            raise ValueError(
                f"dates {lo} to {hi} are outside the bank-holiday calendar {_FIRST_YEAR}-{_LAST_YEAR}; "
                "check the date columns for typing errors"
            )


def is_working_day(dates) -> np.ndarray:
    """True where the date is a weekday that is not an England and Wales bank holiday."""
    arr, valid = _days(dates)
    _check_range(arr, valid)
    return np.is_busday(arr, busdaycal=_calendar()) & valid


def working_days_between(start, end) -> np.ndarray:
    """Working days ``d`` with ``start < d <= end`` (negative when end is before start; NaN if missing)."""
    a, va = _days(start)
    b, vb = _days(end)
    _check_range(a, va)
    _check_range(b, vb)
    one = np.timedelta64(1, "D")
    out = np.busday_count(a + one, b + one, busdaycal=_calendar()).astype(float)
    return np.where(va & vb, out, np.nan)


def add_working_days(dates, n: int | np.ndarray) -> pd.DatetimeIndex:
    """The ``n``-th working day after each date (``n`` >= 1; NaT stays NaT).

    From a Friday, the 1st working day after is the next Monday (or Tuesday
    after a bank holiday Monday); from a Saturday too.
    """
    arr, valid = _days(dates)
    _check_range(arr, valid)
    out = np.busday_offset(arr, n, roll="backward", busdaycal=_calendar())
    res = pd.DatetimeIndex(out.astype("datetime64[ns]"))
    return res.where(valid, pd.NaT)
