"""Vectorised date parsing for source extracts: UK day-first, ISO, datetimes and Excel serials.

Work is done on the *unique* values of a column (dates repeat), trying an
explicit list of formats on the whole set at once rather than guessing value
by value. Day-first is the UK convention: ``01/02/2024`` is 1 February 2024;
month-first is never guessed (``12/31/2024`` is rejected as impossible). A
column written wholly month-first is recognised by :func:`month_first_column`
so that its ambiguous values can be rejected rather than read with day and
month swapped; ``date_format`` may then name the layout itself (``"%m/%d/%Y"``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Formats tried, in order, for ``date_format: auto`` and ``dayfirst``.
DAYFIRST_FORMATS: tuple[str, ...] = (
    "%d/%m/%Y", "%Y-%m-%d", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M",
    "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y", "%d-%b-%Y", "%d %B %Y", "%d-%b-%y", "%d %b %y",
    "%Y/%m/%d", "%Y%m%d", "%d/%m/%y", "%d-%m-%y",
)
#: Formats tried for ``date_format: iso``.
ISO_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M", "%Y%m%d",
)
DATE_MODES = ("auto", "dayfirst", "iso")
#: Times of day an explicit ``date_format`` layout may be followed by.
_TIME_SUFFIXES = ("", " %H:%M:%S", " %H:%M", "T%H:%M:%S")

EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
_MAX_SERIAL = 2_958_465  # 9999-12-31
#: an Excel serial as text, perhaps with a time of day as the fraction (decimal point or comma)
_SERIAL = re.compile(r"^\d{1,7}([.,]\d+)?$")
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:[ T].*)?$")
_ZONE = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
#: a date written as ISO 8601, perhaps with a time and a zone
_ISO_FULL = re.compile(r"^\d{4}-\d{2}-\d{2}"
                       r"(?:[T ]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$")
_YMD = re.compile(r"^(\d{4})[/\-](\d{1,2})[/\-](\d{1,2})(?:[ T].*)?$")

_DIRECTIVE = re.compile(r"%.")
_NUMERIC_DIRECTIVE = re.compile(r"%[dmYyHMSfjUWw]")
_FEW = 64  # texts left at which checking them beats another pandas call
#: Formats read without pandas when written in full (positions of day, month, year; separators).
_LAYOUTS = {"%d/%m/%Y": (range(0, 2), range(3, 5), range(6, 10), {2: "/", 5: "/"}),
            "%Y-%m-%d": (range(8, 10), range(5, 7), range(0, 4), {4: "-", 7: "-"})}

UNPARSEABLE = "unparseable_date"
IMPOSSIBLE = "impossible_date"


def is_date_format(mode: object) -> bool:
    """True when ``mode`` is a ``date_format`` setting :func:`parse_dates` accepts.

    That is one of :data:`DATE_MODES`, or an explicit layout in ``strftime``
    codes holding a day, a month and a year, such as ``"%m/%d/%Y"``.
    """
    if not isinstance(mode, str):
        return False
    if mode in DATE_MODES:
        return True
    codes = set(_DIRECTIVE.findall(mode))
    return {"%d", "%m"} <= codes and bool(codes & {"%Y", "%y"}) and codes <= {"%d", "%m", "%Y", "%y", "%%"}


def _why_impossible(text: str) -> str | None:
    """Explain why a date-shaped text is not a real date, or None if it is not date-shaped."""
    m = _DMY.match(text)
    if m:
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if year < 100:
            year += 2000 if year < 69 else 1900
    else:
        m = _YMD.match(text)
        if not m:
            return None
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not 1 <= month <= 12:
        return f"month {month} does not exist (dates are read day/month/year)"
    if year < 1:
        return "year 0 does not exist"
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        return f"{calendar.month_name[month]} {year} has no day {day}"
    return None


def _serials_to_days(serials: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Excel serial numbers (1900 system) -> (datetime64[D], ok mask)."""
    s = np.asarray(serials, dtype="float64")
    ok = np.isfinite(s) & (s >= 1) & (s <= _MAX_SERIAL)
    whole = np.where(ok, np.floor(np.where(ok, s, 0)), 0).astype("int64")
    days = EXCEL_EPOCH + whole.astype("timedelta64[D]")
    return np.where(ok, days, np.datetime64("NaT", "D")), ok


@functools.cache
def _format_needs(fmt: str) -> tuple[frozenset[str], bool, bool]:
    """What any text fitting ``fmt`` contains: its separators, whitespace (if the format has a space), a digit."""
    literal = _DIRECTIVE.sub("", fmt)
    return (frozenset(c for c in literal if not c.isspace()), any(c.isspace() for c in literal),
            bool(_NUMERIC_DIRECTIVE.search(fmt)))


def _may_fit(text: str, fmt: str) -> bool:
    """False when ``text`` cannot fit ``fmt`` (a separator, the whitespace or every digit is missing)."""
    chars, space, digit = _format_needs(fmt)
    return (all(c in text for c in chars) and (not space or any(c.isspace() for c in text))
            and (not digit or any(c.isdigit() for c in text)))


def _fixed_layout(texts: np.ndarray, fmt: str) -> np.ndarray:
    """Texts written exactly as ``fmt`` with two-digit day and month -> datetime64[D]; NaT for all others.

    A vectorised shortcut for the layouts exports nearly always use: it gives the
    date pandas would give, and leaves to pandas anything else (one-digit days,
    impossible dates, years outside 1678-2261, where pandas cannot hold dates).
    """
    out = np.full(len(texts), np.datetime64("NaT"), dtype="datetime64[D]")
    tens = np.nonzero(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) == 10)[0]
    if not tens.size:
        return out
    chars = np.asarray(texts[tens], dtype="U10").view(np.uint32).reshape(len(tens), 10).astype(np.int64)
    day, month, year, seps = _LAYOUTS[fmt]
    digit = chars - ord("0")
    numeric = digit[:, [i for i in range(10) if i not in seps]]
    ok = ((numeric >= 0) & (numeric <= 9)).all(axis=1)
    for i, sep in seps.items():
        ok &= chars[:, i] == ord(sep)

    def number(cols: range) -> np.ndarray:
        return sum(digit[:, c] * 10 ** (cols[-1] - c) for c in cols)

    d, m, y = number(day), number(month), number(year)
    ok &= (m >= 1) & (m <= 12) & (d >= 1) & (y >= 1678) & (y <= 2261)
    first = np.where(ok, (y - 1970) * 12 + m - 1, 0).astype("datetime64[M]")
    dates = first.astype("datetime64[D]") + np.where(ok, d - 1, 0).astype("timedelta64[D]")
    ok &= dates < (first + 1).astype("datetime64[D]")   # the day exists in that month
    out[tens[ok]] = dates[ok]
    return out


def _to_datetime(texts: np.ndarray | list[str], fmt: str) -> np.ndarray:
    """``pd.to_datetime`` with ``errors="coerce"`` that never raises (object array, NaT where not parsed).

    pandas still raises for some junk even when coercing (e.g. "Mixed timezones
    detected" when a few strings happen to look like times with different
    offsets); then each text is parsed on its own, so one bad value cannot stop
    a column, let alone an ingest.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pd.to_datetime(pd.Series(texts, dtype=object), format=fmt, errors="coerce").to_numpy()
        except (ValueError, OverflowError, TypeError):
            out = np.full(len(texts), pd.NaT, dtype=object)
            for i, t in enumerate(texts):
                try:
                    v = pd.to_datetime(t, format=fmt, errors="coerce")
                except (ValueError, OverflowError, TypeError):
                    continue
                if not pd.isna(v):
                    out[i] = v.tz_localize(None) if getattr(v, "tzinfo", None) is not None else v
            return out


def _try_formats(texts: np.ndarray, formats: tuple[str, ...]) -> np.ndarray:
    """Parse an object array of strings with each format in turn -> datetime64[D] (NaT = no format fitted)."""
    out = np.full(len(texts), np.datetime64("NaT"), dtype="datetime64[D]")
    remaining = np.arange(len(texts))
    for fmt in formats:
        if remaining.size and fmt in _LAYOUTS:
            quick = _fixed_layout(texts[remaining], fmt)
            done = ~np.isnat(quick)
            out[remaining[done]] = quick[done]
            remaining = remaining[~done]
        if remaining.size == 0:
            break
        if remaining.size <= _FEW and not any(_may_fit(t, fmt) for t in texts[remaining]):
            continue  # the few texts left (typically junk) cannot fit this format: skip the call
        vals = _to_datetime(texts[remaining], fmt)
        good = ~pd.isna(vals)
        if good.any():
            out[remaining[good]] = vals[good].astype("datetime64[D]")
            remaining = remaining[~good]
    return out


def parse_dates(values: np.ndarray, mode: str = "auto") -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # noqa: C901
    """Parse non-blank source values (object array; typically a column's unique values).

    Values may be strings, numbers (Excel serials), or date/datetime objects
    (from openpyxl). Returns ``(days, reason, message)``: ``days`` is
    datetime64[D] (NaT where rejected, time of day dropped), ``reason`` is an
    object array holding ``None``, ``"unparseable_date"`` or ``"impossible_date"``,
    and ``message`` explains each rejection.
    """
    if not is_date_format(mode):
        raise ValueError(f"date_format must be one of {', '.join(DATE_MODES)} or a layout such as "
                         f"\"%m/%d/%Y\", not {mode!r}")
    n = len(values)
    days = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    reason = np.full(n, None, dtype=object)
    message = np.full(n, None, dtype=object)
    str_idx: list[int] = []
    num_idx: list[int] = []
    for i, v in enumerate(values):
        if isinstance(v, str):
            str_idx.append(i)
        elif isinstance(v, (dt.datetime, dt.date)):
            try:
                days[i] = np.datetime64(v.date() if isinstance(v, dt.datetime) else v, "D")
            except (ValueError, OverflowError):  # pragma: no cover - exotic objects
                reason[i] = UNPARSEABLE
                message[i] = f"{v!r} is not a usable date"
        elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)):
            num_idx.append(i)
        else:
            reason[i] = UNPARSEABLE
            message[i] = f"'{v}' is a {type(v).__name__}, not a date"
    if num_idx:
        idx = np.array(num_idx)
        d, ok = _serials_to_days(np.array([float(values[i]) for i in num_idx]))
        days[idx[ok]] = d[ok]
        for i in idx[~ok]:
            reason[i] = IMPOSSIBLE
            message[i] = f"the number {values[i]} is not a valid Excel date serial"
    if str_idx:
        idx = np.array(str_idx)
        texts = np.array([values[i].strip() for i in str_idx], dtype=object)
        # eight digits are year-month-day (20240401); a fraction is a time of day (45383.75)
        is_serial = np.array([bool(_SERIAL.match(t)) and not (len(t) == 8 and t.isdigit()) for t in texts],
                             dtype=bool)
        if is_serial.any():
            d, ok = _serials_to_days(np.array([float(t.replace(",", ".")) for t in texts[is_serial]]))
            sidx = idx[is_serial]
            days[sidx[ok]] = d[ok]
            for i, t in zip(sidx[~ok], texts[is_serial][~ok], strict=True):
                reason[i] = IMPOSSIBLE
                message[i] = f"'{t}' is not a valid Excel date serial number"
        rest = ~is_serial
        if rest.any():
            layout = mode not in DATE_MODES
            if layout:  # the layout set, with a time of day or not; ISO dates are never ambiguous
                formats = tuple(mode + t for t in _TIME_SUFFIXES) + ISO_FORMATS
            else:
                formats = ISO_FORMATS if mode == "iso" else DAYFIRST_FORMATS
            parsed = _try_formats(texts[rest], formats)
            ridx = idx[rest]
            good = ~np.isnat(parsed)
            days[ridx[good]] = parsed[good]
            if mode in ("auto", "dayfirst") and (~good).any():
                # ISO 8601 with zones or fractions that the explicit formats missed
                bad = np.nonzero(~good)[0]
                local = [_ZONE.sub("", t) for t in texts[rest][bad]]  # the date as written, not in UTC
                ev = _to_datetime(local, "ISO8601")
                eg = ~pd.isna(ev)
                # only accept what is written as ISO 8601 here: a date, then perhaps a time and a zone
                eg &= np.array([bool(_ISO_FULL.match(t)) for t in texts[rest][bad]], dtype=bool)
                days[ridx[bad[eg]]] = ev[eg].astype("datetime64[D]")
                good[bad[eg]] = True
            for j in np.nonzero(~good)[0]:
                i, t = ridx[j], texts[rest][j]
                shown = t if len(t) <= 40 else t[:37] + "..."
                if layout:
                    reason[i] = UNPARSEABLE
                    message[i] = (f"'{shown}' does not fit date_format {mode!r} (nor year-month-day), "
                                  "or is not a real date")
                    continue
                why = _why_impossible(t)
                if why:
                    reason[i] = IMPOSSIBLE
                    message[i] = f"'{shown}' is not a real date: {why}"
                else:
                    reason[i] = UNPARSEABLE
                    expect = "year-month-day" if mode == "iso" else "day/month/year, year-month-day or an Excel serial"
                    message[i] = f"'{shown}' is not a date in a recognised format ({expect})"
    return days, reason, message


@dataclass
class MonthFirst:
    """A column whose day/month/year-shaped texts are only consistent with month/day/year.

    ``reject`` marks the values that must not be read day-first: those that
    would give a different date month-first (``01/02/2024``) and those only
    valid month-first (``03/15/2024``). ``layout`` is the ``date_format``
    that reads the column, ``example`` a value only valid month-first.
    """

    reject: np.ndarray
    layout: str
    example: str

    def message(self, text: str) -> str:
        """Why one rejected value is not read, with the setting that would read it."""
        shown = text if len(text) <= 40 else text[:37] + "..."
        m = _DMY.match(text)
        month = int(m.group(2)) if m else 0
        what = (f"is month/day/year (there is no month {month})" if month > 12 else
                f"could be day/month or month/day, and this column is written month/day/year (e.g. '{self.example}')")
        return (f"'{shown}' {what}, so it is not read day first; if the whole column is month first, set "
                f'date_format: "{self.layout}"')


def month_first_column(values: np.ndarray) -> MonthFirst | None:
    """Recognise a column written month/day/year from its (unique) values, or return None.

    It is month-first when some values are only valid month-first (second part
    over 12, as in ``03/15/2024``) and none is only valid day-first (first part
    over 12). Values reading the same either way (``05/05/2024``), ISO dates,
    serials and date objects are never rejected.
    """
    n = len(values)
    parts = np.zeros((n, 2), dtype=np.int64)
    shaped = np.zeros(n, dtype=bool)
    for i, v in enumerate(values):
        if not isinstance(v, str):
            continue
        m = _DMY.match(v.strip())
        if m:
            lead, follow = int(m.group(1)), int(m.group(2))
            if 12 < lead <= 31 and 1 <= follow <= 12:  # only valid day first: not a month-first column
                return None
            shaped[i] = True
            parts[i] = lead, follow
    if not shaped.any():
        return None
    first, second = parts[:, 0], parts[:, 1]
    day_first_only = shaped & (second >= 1) & (second <= 12) & (first > 12) & (first <= 31)
    month_first_only = shaped & (first >= 1) & (first <= 12) & (second > 12) & (second <= 31)
    if day_first_only.any() or not month_first_only.any():
        return None
    at = int(np.nonzero(month_first_only)[0][0])
    example = values[at].strip()
    m = _DMY.match(example)
    assert m is not None
    sep = example[m.end(1)]
    layout = f"%m{sep}%d{sep}{'%Y' if len(m.group(3)) == 4 else '%y'}"
    either = shaped & (first >= 1) & (first <= 12) & (second >= 1) & (second <= 12) & (first != second)
    return MonthFirst(either | month_first_only, layout, example)
