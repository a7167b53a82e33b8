"""Reading the cells of a partner's return: blanks, numbers, missing markers, month headings and dates.

Pure functions of one cell (or heading) each, shared by the wide and tidy
layouts; nothing here reports a problem.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd

PERIOD_TYPES = ("month", "quarter", "year")

#: Cell texts that mean "no figure" (reported as a warning, never read as zero).
MISSING_MARKERS = frozenset({
    "-", "–", "—", "n/a", "na", "n.a.", "n/k", "nk", "..", ":", "not available", "not known",
    "c", "x", "z", "*", "none", "null",
})

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}
YTD_NAMES = frozenset({"ytd", "y.t.d.", "year to date", "ytd total", "total ytd", "total", "year total",
                        "annual total", "total year to date", "year-to-date", "ytd to date"})
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_ISO_MONTH_RE = re.compile(r"^(\d{4})[-/](\d{1,2})(?:[-/](\d{1,2}))?(?:[ t]\d{1,2}:\d{2}(?::\d{2})?)?$")
_MONTH_NAME_RE = re.compile(r"^([a-z]{3,9})\.?(?:[\s\-'/,.]*(\d{4}|\d{2}))?$")
_NUM_MONTH_RE = re.compile(r"^(\d{1,2})[/-](\d{4})$")
_UK_DATE_RE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_TEXT_DATE_RE = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[\s\-]+([a-z]{3,9})\.?[\s\-,]+(\d{4}|\d{2})$")
CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]*[A-Z0-9]$")
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_PLAUSIBLE = (dt.date(1990, 1, 1), dt.date(2100, 12, 31))


def fmt(x: float) -> str:
    """Format a number as an analyst would write it (no needless .0)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "blank"
    return str(int(x)) if float(x).is_integer() else f"{x:g}"



def blank(value: object) -> bool:
    """True for an empty cell: None, blank text or NaN."""
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and math.isnan(value))


def norm(value: object) -> str:
    """Normalise a label for matching: trimmed, single spaces, case-folded, no trailing colon."""
    text = " ".join(str(value).replace("\u00a0", " ").split()).casefold()
    return text.rstrip(":").strip()


def header_key(value: object) -> str:
    """A heading as matched against the tidy layout's column names (``Period start`` -> ``period_start``)."""
    return re.sub(r"[\s\-]+", "_", norm(value))


def parse_number(value: object) -> tuple[str, float | None]:
    """Classify a cell: ('blank'|'missing'|'number'|'text'|'date', value)."""
    if blank(value):
        return "blank", None
    if isinstance(value, bool):
        return "text", None
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        return ("number", v) if math.isfinite(v) else ("text", None)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return "date", None
    text = str(value).replace("\u00a0", " ").strip()
    if text.casefold() in MISSING_MARKERS:
        return "missing", None
    cleaned = text.replace(" ", "")
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?", cleaned):
        cleaned = cleaned.replace(",", "")
    if _NUMBER_RE.match(cleaned):
        return "number", float(cleaned)
    return "text", None


def month_of(value: object, financial_year: int | None) -> tuple[int, int] | str | None:
    """Return (year, month) for a month heading, None if it is not one, 'noyear' if a year is needed."""
    if isinstance(value, dt.datetime | dt.date):
        return value.year, value.month
    if not isinstance(value, str) or not value.strip():
        return None
    text = " ".join(value.replace("\u00a0", " ").split()).casefold()
    m = _ISO_MONTH_RE.match(text)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        return (y, mo) if 1 <= mo <= 12 and 1900 <= y <= 2200 else None
    m = _NUM_MONTH_RE.match(text)
    if m:
        mo, y = int(m.group(1)), int(m.group(2))
        return (y, mo) if 1 <= mo <= 12 else None
    m = _MONTH_NAME_RE.match(text)
    if m and m.group(1) in _MONTHS:
        mo = _MONTHS[m.group(1)]
        if m.group(2):
            y = int(m.group(2))
            return (2000 + y if y < 100 else y), mo
        if financial_year is None:
            return "noyear"
        return (financial_year - 1 if mo >= 4 else financial_year), mo
    return None


def parse_date(value: object) -> tuple[pd.Timestamp | None, str]:
    """Parse a period start: Excel date/serial, ISO, UK day-first, '1 Apr 2024', 'Apr 2024', 'YYYY-MM'."""
    try:
        if isinstance(value, dt.datetime | dt.date):
            d = dt.date(value.year, value.month, value.day)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if not (math.isfinite(value) and 20000 <= value <= 80000):
                return None, "not a date"
            d = (_EXCEL_EPOCH + dt.timedelta(days=int(value))).date()
        else:
            text = " ".join(str(value).split()).casefold()
            if not text:
                return None, "blank"
            if re.fullmatch(r"\d{5}(\.0+)?", text):
                return parse_date(float(text))
            m = _ISO_MONTH_RE.match(text)
            u = _UK_DATE_RE.match(text)
            t = _TEXT_DATE_RE.match(text)
            if m:
                d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
            elif u:
                y = int(u.group(3))
                d = dt.date(2000 + y if y < 100 else y, int(u.group(2)), int(u.group(1)))
            elif t and t.group(2) in _MONTHS:
                y = int(t.group(3))
                d = dt.date(2000 + y if y < 100 else y, _MONTHS[t.group(2)], int(t.group(1)))
            else:
                ym = month_of(text, None)
                if not isinstance(ym, tuple):
                    return None, "not a date"
                d = dt.date(ym[0], ym[1], 1)
    except (ValueError, OverflowError):
        return None, "impossible date"
    if not (_PLAUSIBLE[0] <= d <= _PLAUSIBLE[1]):
        return None, "implausible date"
    return pd.Timestamp(d), ""


