"""Reading DfE's published files: Explore Education Statistics CSVs (markers kept beside the numbers,
years ending 31 March) and the statistical neighbour model."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

#: Symbols DfE and ONS put in numeric cells instead of a number (GSS guidance).
MARKERS: dict[str, str] = {
    "c": "suppressed to protect confidentiality (1 to 5, or secondary suppression)",
    "x": "not available (withheld or not collected)",
    "z": "not applicable (for example a percentage of zero)",
    ":": "not available",
    "u": "low reliability",
    "low": "rounds to 0 but is not 0",
    "k": "rounds to 0 but is not 0",
    "": "blank (no value)",
}

#: Columns of an EES file that identify a row rather than hold a measure.
ID_COLUMNS: tuple[str, ...] = (
    "time_period", "time_identifier", "geographic_level", "country_code", "country_name",
    "region_code", "region_name", "old_la_code", "new_la_code", "la_name",
)


_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")


class BenchmarkError(ValueError):
    """A benchmark file is malformed, or a council code cannot be found."""


def read_ees_csv(path: Path | str) -> pd.DataFrame:
    """Read an Explore Education Statistics CSV into a wide, typed DataFrame.

    Identifier columns (:data:`ID_COLUMNS` present in the file, and any text
    filter column such as ``category``) are pandas strings, stripped. Every
    measure column becomes float64 with NaN for a marker, and gains a companion
    ``<column>_marker`` string column holding the marker (``c``, ``x``, ``z``,
    ``:``, ``u``, ``low``, ``k`` or ``""`` for blank) and ``<NA>`` where a number
    was published. ``time_period`` is an int, the year ending 31 March
    (``202425`` becomes 2025). A byte-order mark is ignored.

    ``df.attrs`` holds ``source`` (file name), ``value_columns`` and
    ``filter_columns``. Raises :class:`BenchmarkError` naming the file, line and
    column when a measure column holds text that is neither a number nor a
    marker, or when the file lacks ``time_period`` or ``geographic_level``.
    """
    p = Path(path)
    try:
        raw = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise BenchmarkError(f"{p}: cannot read as a CSV file ({exc}); download the CSV from "
                             "Explore Education Statistics again") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in ("time_period", "geographic_level") if c not in raw.columns]
    if missing:
        raise BenchmarkError(
            f"{p}: not an Explore Education Statistics data file: missing column(s) {', '.join(missing)}; "
            "download the underlying data CSV (not a table-tool extract) from the publication's "
            "'Explore data' page"
        )
    raw = raw.apply(lambda s: s.str.strip())
    out = pd.DataFrame(index=raw.index)
    value_cols: list[str] = []
    filter_cols: list[str] = []
    for col in raw.columns:
        s = raw[col]
        if col == "time_period":
            out[col] = _parse_time_period(s, p)
            continue
        if col in ID_COLUMNS:
            out[col] = s.astype("string")
            continue
        is_num = s.str.fullmatch(_NUMBER.pattern)
        is_marker = s.str.lower().isin(MARKERS)
        if not is_num.any() and not (is_marker.all() and (s != "").any()):
            # a text column: a filter (category, age_group, characteristic ...)
            filter_cols.append(col)
            out[col] = s.astype("string")
            continue
        bad = ~(is_num | is_marker)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise BenchmarkError(
                f"{p}, line {i + 2}, column '{col}': {s.iloc[i]!r} is neither a number nor a "
                f"published marker ({', '.join(repr(m) for m in MARKERS if m)}); correct the cell or "
                "download the file again"
            )
        value_cols.append(col)
        out[col] = pd.to_numeric(s.where(is_num), errors="coerce").astype("float64")
        out[f"{col}_marker"] = s.str.lower().where(~is_num).astype("string")
    out.attrs.update(source=p.name, value_columns=value_cols, filter_columns=filter_cols)
    return out


def _parse_time_period(s: pd.Series, p: Path) -> pd.Series:
    """Turn ``2025`` or ``202425`` into the int year ending 31 March."""
    vals = []
    for i, v in enumerate(s):
        if re.fullmatch(r"\d{4}", v):
            vals.append(int(v))
        elif re.fullmatch(r"\d{6}", v) and (int(v[:4]) + 1) % 100 == int(v[4:]):
            vals.append(int(v[:4]) + 1)
        else:
            raise BenchmarkError(
                f"{p}, line {i + 2}, column 'time_period': {v!r} is not a year (2025) or a "
                "financial/academic year (202425)"
            )
    return pd.Series(vals, index=s.index, dtype="int64")


def tidy(df: pd.DataFrame) -> pd.DataFrame:
    """Return the long (tidy) form of :func:`read_ees_csv` output.

    One row per identifier x measure with columns ``measure``, ``value``
    (float, NaN for a marker) and ``marker`` (string, ``<NA>`` for a number).
    """
    value_cols = list(df.attrs.get("value_columns", []))
    ids = [c for c in df.columns if c not in value_cols and not c.endswith("_marker")]
    vals = df.melt(id_vars=ids, value_vars=value_cols, var_name="measure", value_name="value")
    marks = df.melt(id_vars=ids, value_vars=[f"{c}_marker" for c in value_cols],
                    var_name="measure", value_name="marker")
    vals["marker"] = marks["marker"].to_numpy()
    return vals


def read_statistical_neighbours(path: Path | str) -> pd.DataFrame:
    """Read DfE's statistical neighbour model (the wide ``sn_model_*_wide.csv``).

    Returns one row per council and neighbour: ``la_code`` (3-digit), ``la_name``,
    ``region_name``, ``rank`` (1 = closest), ``neighbour_code``, ``neighbour_name``
    and ``closeness`` (DfE's label: Extremely close, Very close, Close, Somewhat
    close, Not close). Raises :class:`BenchmarkError` when a council does not
    have ten neighbours or names a neighbour that is not in the file.
    """
    p = Path(path)
    raw = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    raw.columns = [str(c).strip() for c in raw.columns]
    raw = raw.apply(lambda s: s.str.strip())
    need = ["old_la_code", "la_name"] + [f"SN_{k}" for k in range(1, 11)]
    missing = [c for c in need if c not in raw.columns]
    if missing:
        raise BenchmarkError(f"{p}: not a statistical neighbour file: missing column(s) {', '.join(missing)}; "
                             "use DfE's 'sn_model_<year>_wide.csv'")
    names = dict(zip(raw["old_la_code"], raw["la_name"], strict=True))
    rows = []
    for i, r in raw.iterrows():
        for k in range(1, 11):
            code = r[f"SN_{k}"]
            if not code:
                raise BenchmarkError(f"{p}, line {i + 2}, column 'SN_{k}': {r['la_name']} has fewer than "
                                     "ten neighbours; the file is incomplete, download it again")
            if code not in names:
                raise BenchmarkError(f"{p}, line {i + 2}, column 'SN_{k}': neighbour code {code!r} is not a "
                                     "council in the file")
            rows.append({
                "la_code": r["old_la_code"], "la_name": r["la_name"], "region_name": r.get("region_name", ""),
                "rank": k, "neighbour_code": code, "neighbour_name": names[code],
                "closeness": r.get(f"SN_{k}P", ""),
            })
    out = pd.DataFrame(rows)
    for c in ("la_code", "la_name", "region_name", "neighbour_code", "neighbour_name", "closeness"):
        out[c] = out[c].astype("string")
    return out
