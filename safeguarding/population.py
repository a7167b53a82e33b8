"""Children aged 0 to 17: the population that rates per 10,000 divide by, read in one place.

The ONS mid-year population estimates (the EES file DfE publishes with its children in need release) are
read by :func:`read_population`, which keeps the rows for children aged 0 to 17 by one rule
(:func:`children_0_17`). Both the indicator engine (:func:`population_from_config`: the council's own
REFERRAL_RATE and CPP_RATE when report.yml gives no ``population:``) and the benchmarks
(:class:`safeguarding.benchmarks.BenchmarkSource`: every council's, region's and England's rates) use it.

Year alignment, as DfE does: reporting year Y (April Y-1 to March Y) uses the ONS mid-(Y-1) estimate.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from safeguarding.config import Config

#: the spellings of the 0-17 age group (lower case) an ``age_group`` label may contain
AGE_GROUP_0_17 = ("0 to 17", "under 18", "0-17")

#: the ``geographic_level`` of a council's rows
LOCAL_AUTHORITY = "Local authority"


def children_0_17(age_group: pd.Series) -> pd.Series:
    """True for the rows whose ``age_group`` label is children aged 0 to 17 (:data:`AGE_GROUP_0_17`,
    case-insensitive; ONS writes "Children aged 0 to 17 years"). A file whose ``age_group`` column names no
    such group keeps every row (it is taken to be 0-17 already)."""
    ages = age_group.astype("string").str.lower()
    keep = pd.Series(False, index=age_group.index)
    for spelling in AGE_GROUP_0_17:
        keep |= ages.str.contains(spelling, regex=False).fillna(False).astype(bool)
    return keep if keep.any() else pd.Series(True, index=age_group.index)


def read_population(path: Path | str) -> pd.DataFrame:
    """Read the ONS mid-year population estimates of children aged 0 to 17 (EES format).

    Returns columns ``time_period`` (the ONS mid-year, e.g. 2024 for mid-2024),
    ``year`` (the DfE reporting year whose rates use it: ``time_period + 1``),
    ``geographic_level``, ``region_code``, ``region_name``, ``old_la_code``,
    ``new_la_code``, ``la_name``, ``population`` (float, NaN where ONS shows a
    marker) and ``population_marker``. Rows for other age groups, if present,
    are left out (:func:`children_0_17`). Raises
    :class:`~safeguarding.benchmarks.BenchmarkError` for a file that is not an EES population file.
    """
    from safeguarding.benchmarks import BenchmarkError, read_ees_csv

    df = read_ees_csv(path)
    p = Path(path)
    if "population_estimate" not in df.columns:
        raise BenchmarkError(f"{p}: no 'population_estimate' column; download 'ONS mid-year population "
                             "estimates' from the children in need release on Explore Education Statistics")
    if "age_group" in df.columns:
        df = df[children_0_17(df["age_group"]).to_numpy()]
    out = df[[c for c in ("time_period", "geographic_level", "region_code", "region_name", "old_la_code",
                          "new_la_code", "la_name") if c in df.columns]].copy()
    out.insert(1, "year", df["time_period"] + 1)
    out["population"] = df["population_estimate"]
    out["population_marker"] = df["population_estimate_marker"]
    return out.reset_index(drop=True)


def council_population(pop: pd.DataFrame, la_code: str) -> dict[int, float]:
    """A council's children aged 0-17 by reporting year (``{2025: mid-2024 estimate, ...}``), from
    :func:`read_population` output.

    ``la_code`` is the 3-digit DfE code or the 9-character ONS code, as the file writes it. Years whose
    estimate is a marker are left out; a year given twice keeps its first row.
    """
    code = str(la_code).strip()
    la = pop[pop["geographic_level"] == LOCAL_AUTHORITY] if "geographic_level" in pop else pop
    hit = pd.Series(False, index=la.index)
    for col in ("old_la_code", "new_la_code"):
        if col in la:
            hit |= (la[col] == code).fillna(False).astype(bool)
    mine = la[hit.to_numpy()].dropna(subset=["population"]).drop_duplicates("year", keep="first")
    return {int(y): float(v) for y, v in zip(mine["year"], mine["population"], strict=True)}


def ons_file(config: Config) -> Path | None:
    """The ONS population file report.yml points to: ``benchmarks.ons_file``, else the
    ``ons_mid-year_population_estimates*.csv`` in ``benchmarks.folder`` (the latest coverage if several);
    None when neither is there."""
    from safeguarding.benchmarks import find_table_file

    bench = config.benchmarks
    if bench.ons_file:
        path = config.resolve(bench.ons_file)
        return path if path.is_file() else None
    if bench.folder:
        folder = config.resolve(bench.folder)
        return find_table_file(folder, "ons") if folder.is_dir() else None
    return None


def population_from_config(config: Config) -> dict[int, float]:
    """Population 0-17 by financial year (ending 31 March): ``population:`` in report.yml, else the ONS file.

    The ONS file (:func:`ons_file`) is looked up by ``area.la_code`` (old or new code): year Y uses the
    mid-(Y-1) estimate, as DfE does. A year with no estimate is left out (its rates are then not available,
    with a note), never filled with another year's. Empty when there is neither.
    """
    if config.population:
        return dict(config.population)
    la = (config.area.la_code or "").strip()
    path = ons_file(config)
    if not la or path is None:
        return {}
    return council_population(read_population(path), la)
