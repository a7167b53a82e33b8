"""The comparison for one indicator, council and year (:class:`BenchmarkSource`): the council's own published
figure, England, its region, its statistical neighbours and every council."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, SupportsFloat, TypedDict

import numpy as np
import pandas as pd

from safeguarding.benchmarks.readers import BenchmarkError, read_ees_csv, read_statistical_neighbours
from safeguarding.benchmarks.tables import ALL_COUNCILS_COLUMNS, MEASURES, TABLE_FILES, Measure, find_table_file
from safeguarding.measures import percentage, rate_per_10k, round_half_up
from safeguarding.population import council_population, read_population

if TYPE_CHECKING:
    from safeguarding.config import Config

NATIONAL = "National"
REGIONAL = "Regional"
LOCAL_AUTHORITY = "Local authority"
LONDON_CODE = "E12000007"


_OLD_CODE = re.compile(r"^\d{3}$")
_NEW_CODE = re.compile(r"^[EW]\d{8}$")

NOT_CONFIGURED = (
    "benchmarks not configured: set benchmarks.folder in report.yml to the folder holding the DfE "
    "Explore Education Statistics CSVs (see docs/benchmarks.md)"
)


class PopulationFor(TypedDict):
    """Children aged 0-17 in a council for a reporting year, as :meth:`BenchmarkSource.population_for` gives it."""

    available: bool
    population: float
    ons_year: int | None
    year: int
    note: str


class BenchmarkPoint(TypedDict, total=False):
    """One comparator's figures in a :class:`Benchmark` (NaN where not published); areas have a code and name."""

    numerator: float
    denominator: float
    value: float
    marker: str | None
    code: str
    name: str


class Neighbour(BenchmarkPoint, total=False):
    """One statistical neighbour in a :class:`Benchmark`: its rank, code, name, closeness and figures."""

    rank: int
    la_code: str
    la_name: str
    closeness: str


class Benchmark(TypedDict, total=False):
    """DfE benchmarks for one indicator, council and year, as :meth:`BenchmarkSource.benchmarks_for` gives them."""

    available: bool
    indicator_id: str
    unit: str
    label: str
    year_requested: int
    year_used: int | None
    note: str
    source: list[str]
    la_code: str
    la_name: str
    new_la_code: str
    council: BenchmarkPoint
    england: BenchmarkPoint
    sub_region: BenchmarkPoint
    region: BenchmarkPoint
    neighbours: list[Neighbour]
    neighbour_mean: float
    neighbour_median: float
    neighbour_pooled: float
    neighbours_with_data: int
    neighbours_note: str


class BenchmarkSource:
    """Published benchmarks for one folder of DfE / ONS files.

    ``BenchmarkSource(None)`` or a folder that does not exist gives a source
    whose :attr:`available` is False; its methods then return an explicit
    "benchmarks not configured" result instead of raising, so the report can
    say so and carry on.
    """

    def __init__(self, folder: Path | str | None, ons_file: Path | str | None = None) -> None:
        self.folder: Path | None = Path(folder) if folder else None
        self.ons_file: Path | None = Path(ons_file) if ons_file else None
        self.available: bool = bool(self.folder and self.folder.is_dir())
        self.reason: str = "" if self.available else (
            NOT_CONFIGURED if self.folder is None
            else f"{NOT_CONFIGURED} (the folder {self.folder} does not exist)"
        )
        self._tables: dict[str, pd.DataFrame | None] = {}
        self._population: pd.DataFrame | None = None
        self._neighbours: pd.DataFrame | None = None
        self._councils: pd.DataFrame | None = None

    @classmethod
    def from_config(cls, cfg: Config) -> BenchmarkSource:
        """Build from a loaded ``report.yml``: ``benchmarks.folder`` and optional ``benchmarks.ons_file``.

        Paths are relative to the configuration file. ``ons_file`` names the ONS
        population file when it is not in the folder.
        """
        folder, ons = cfg.benchmarks.folder, cfg.benchmarks.ons_file
        return cls(cfg.resolve(folder) if folder else None, cfg.resolve(ons) if ons else None)

    # -- loading (cached) ------------------------------------------------------------------

    def table(self, table: str) -> pd.DataFrame | None:
        """The parsed DfE table (``c1``, ``d3``, ``d5``, ``b1``), or None when its file is absent."""
        if not self.available:
            return None
        if table not in self._tables:
            assert self.folder is not None
            f = find_table_file(self.folder, table)
            self._tables[table] = read_ees_csv(f) if f else None
        return self._tables[table]

    def population(self) -> pd.DataFrame | None:
        """The ONS population of children aged 0-17 (:func:`read_population`), or None when absent."""
        if self.available and self._population is None:
            assert self.folder is not None
            f = self.ons_file if self.ons_file and self.ons_file.is_file() else find_table_file(self.folder, "ons")
            self._population = read_population(f) if f else None
        return self._population

    def population_for(self, la_code: str | int, year: int) -> PopulationFor:
        """Children aged 0-17 in a council for reporting year ``year`` (ONS mid-year ``year - 1``).

        Returns ``{"available", "population", "ons_year", "year", "note"}``. When
        the mid-year estimate is not published yet, the latest one is used and
        the note says so. The series is :func:`safeguarding.population.council_population`'s, the one the
        indicator engine uses for REFERRAL_RATE and CPP_RATE when ``report.yml`` gives no population
        (without this fallback: a year with no estimate has no rate there).
        """
        pop = self.population()
        if pop is None:
            return {"available": False, "population": math.nan, "ons_year": None, "year": int(year),
                    "note": self.reason or f"ONS population file not found in {self.folder}"}
        code = self.resolve_council(la_code)
        series = council_population(pop, code)
        if not series:
            return {"available": False, "population": math.nan, "ons_year": None, "year": int(year),
                    "note": f"no ONS population for council {code}"}
        want = int(year) - 1
        used, note = int(year), ""
        if used not in series:
            if used < min(series):
                return {"available": False, "population": math.nan, "ons_year": None, "year": int(year),
                        "note": f"no ONS mid-{want} estimate for council {code}"}
            used = max(series)
            note = f"ONS mid-{want} estimate not published; mid-{used - 1} estimate used"
        return {"available": True, "population": series[used], "ons_year": used - 1, "year": int(year),
                "note": note}

    def neighbours(self) -> pd.DataFrame | None:
        """The statistical neighbour model (:func:`read_statistical_neighbours`), or None when absent."""
        if self.available and self._neighbours is None:
            assert self.folder is not None
            f = find_table_file(self.folder, "sn")
            self._neighbours = read_statistical_neighbours(f) if f else None
        return self._neighbours

    # -- councils ---------------------------------------------------------------------------

    def _council_rows(self) -> pd.DataFrame:
        """Every (old code, new code, name, region, year) seen in the loaded tables (cached)."""
        if self._councils is None:
            self._councils = self._build_council_rows()
        return self._councils

    def _build_council_rows(self) -> pd.DataFrame:
        frames = []
        for t in ("c1", "d3", "d5", "b1"):
            df = self.table(t)
            if df is not None:
                la = df[df["geographic_level"] == LOCAL_AUTHORITY]
                frames.append(la[["time_period", "old_la_code", "new_la_code", "la_name", "region_code",
                                  "region_name"]])
        pop = self.population()
        if pop is not None:
            la = pop[pop["geographic_level"] == LOCAL_AUTHORITY]
            frames.append(la[["year", "old_la_code", "new_la_code", "la_name", "region_code", "region_name"]]
                          .rename(columns={"year": "time_period"}))
        if not frames:
            return pd.DataFrame(columns=["time_period", "old_la_code", "new_la_code", "la_name"])
        return pd.concat(frames, ignore_index=True).drop_duplicates()

    def resolve_council(self, la_code: str | int) -> str:
        """Return the 3-digit DfE code for a 3-digit code, a 9-character ONS code (old or new) or a name.

        Raises :class:`BenchmarkError` listing a few valid codes when the council is unknown.
        """
        code = str(la_code).strip()
        if re.fullmatch(r"\d{1,3}", code):
            code = code.zfill(3)
        rows = self._council_rows()
        if _OLD_CODE.match(code) and (rows["old_la_code"] == code).any():
            return code
        for col in ("new_la_code", "la_name"):
            hit = rows.loc[rows[col].str.lower() == code.lower(), "old_la_code"].unique()
            if len(hit) == 1:
                return str(hit[0])
        sn = self.neighbours()
        if sn is not None and _OLD_CODE.match(code) and (sn["la_code"] == code).any():
            return code
        examples = ", ".join(f"{r.old_la_code} ({r.la_name})" for r in
                             rows.drop_duplicates("old_la_code").head(3).itertuples())
        raise BenchmarkError(
            f"council code {la_code!r} not found in the benchmark files in {self.folder}; set area.la_code in "
            f"report.yml to the council's 3-digit DfE code or its ONS code (e.g. {examples})"
        )

    # -- values -----------------------------------------------------------------------------

    def _frame(self, m: Measure) -> pd.DataFrame | None:
        """All rows of the measure's table with numerator, denominator, value, marker."""
        df = self.table(m.table)
        if df is None:
            return None
        out = df[["time_period", "geographic_level", "region_code", "region_name", "old_la_code", "new_la_code",
                  "la_name"]].copy()
        out["numerator"] = df[m.numerator]
        if m.denominator == "population":
            pop = self.population()
            if pop is None:
                return None
            out["denominator"] = _join_population(out, pop)
            value = round_half_up(rate_per_10k(out["numerator"], out["denominator"]), 1)
            marker = df[f"{m.numerator}_marker"].fillna(
                pd.Series(np.where(out["denominator"].isna(), "x", pd.NA), index=out.index, dtype="string"))
        elif m.denominator:
            out["denominator"] = df[m.denominator]
            value = df[m.published] if m.published else round_half_up(
                percentage(out["numerator"], out["denominator"]), 1)
            marker = df[f"{m.published}_marker"] if m.published else df[f"{m.numerator}_marker"]
        else:
            out["denominator"] = np.nan
            value = df[m.published or m.numerator]
            marker = df[f"{m.published or m.numerator}_marker"]
        out["value"] = value.astype("float64")
        out["marker"] = marker.where(out["value"].isna())
        return out

    def _published_years(self, m: Measure) -> list[int]:
        frame = self._frame(m)
        if frame is None:
            return []
        ok = frame.loc[frame["geographic_level"] == NATIONAL, ["time_period", "value"]].dropna()
        return sorted(int(y) for y in ok["time_period"].unique())

    def _choose_year(self, m: Measure, year: int) -> tuple[int | None, str]:
        years = self._published_years(m)
        if not years:
            return None, f"no published figures for {m.indicator_id} in the benchmark files"
        if year in years:
            return year, ""
        if year > years[-1]:
            return years[-1], (f"{_fy(year)} not yet published; the latest published year, {_fy(years[-1])}, "
                               "is used")
        return None, (f"{_fy(year)} is outside the published years ({_fy(years[0])} to {_fy(years[-1])})")

    def _unavailable(self, indicator_id: str, note: str) -> Benchmark:
        return {"available": False, "indicator_id": indicator_id, "note": note}

    def benchmarks_for(self, indicator_id: str, la_code: str | int, year: int) -> Benchmark:
        """Benchmarks for one indicator, council and reporting year (year ending 31 March).

        Returns a dict with ``available``, ``indicator_id``, ``unit``, ``label``,
        ``year_requested``, ``year_used``, ``note`` (why a fallback or a gap),
        ``source`` (file names), ``la_code``, ``new_la_code``, ``la_name`` and
        the comparators ``council``, ``england``, ``region`` (the council's
        English region; London boroughs also get ``sub_region``, Inner or Outer
        London) as dicts of ``numerator, denominator, value, marker`` (plus
        ``code``/``name`` for areas), ``neighbours`` (list of ten dicts in rank
        order with ``rank, la_code, la_name, closeness`` and the values) and the
        neighbour summaries ``neighbour_mean`` (simple mean of the neighbours'
        published values, as DfE's LAIT shows), ``neighbour_median`` (as DfE's
        children's social care dashboard shows), ``neighbour_pooled`` (sum of
        numerators over sum of denominators for neighbours where both are
        published; for counts the mean count) and ``neighbours_with_data``.

        If the source is not configured, or DfE publishes no benchmark for the
        indicator, the dict has ``available=False`` and a ``note`` saying why.
        """
        if not self.available:
            return self._unavailable(indicator_id, self.reason)
        m = MEASURES.get(indicator_id)
        if m is None:
            return self._unavailable(indicator_id, (
                f"DfE publishes no benchmark for {indicator_id} in the supported tables; benchmarked indicators: "
                f"{', '.join(MEASURES)}"))
        frame = self._frame(m)
        if frame is None:
            need = [TABLE_FILES[m.table]] + ([TABLE_FILES["ons"]] if m.denominator == "population" else [])
            return self._unavailable(indicator_id, (
                f"benchmark file not found in {self.folder}: expected {' and '.join(n + '*.csv' for n in need)} "
                "(download from Explore Education Statistics, see docs/benchmarks.md)"))
        code = self.resolve_council(la_code)
        year_used, note = self._choose_year(m, int(year))
        result: Benchmark = {
            "available": True, "indicator_id": indicator_id, "unit": m.unit, "label": m.label,
            "year_requested": int(year), "year_used": year_used, "note": note,
            "source": self._sources(m), "la_code": code,
        }
        if year_used is None:
            result["available"] = False
            return result
        yr = frame[frame["time_period"] == year_used]
        la = yr[yr["geographic_level"] == LOCAL_AUTHORITY]
        own = la[la["old_la_code"] == code]
        names = self._council_rows()
        known = names[names["old_la_code"] == code]
        result["la_name"] = str(known["la_name"].iloc[-1]) if len(known) else ""
        if own.empty:
            result["new_la_code"] = ""
            result["council"] = _empty_point()
            years = sorted(known["time_period"].unique())
            span = f"{_fy(int(years[0]))} to {_fy(int(years[-1]))}" if years else "no year"
            result["note"] = _join(note, (
                f"{result['la_name'] or code} has no published figures for {_fy(year_used)}: the council did not "
                f"exist in that year under this code (published years: {span})"))
            region_code, region_name = _region_of(known)
        else:
            r = own.iloc[0]
            result["new_la_code"] = str(r["new_la_code"])
            result["la_name"] = str(r["la_name"])
            result["council"] = _point(r)
            region_code, region_name = str(r["region_code"]), str(r["region_name"])
        nat = yr[yr["geographic_level"] == NATIONAL]
        result["england"] = {"code": "E92000001", "name": "England",
                             **(_point(nat.iloc[0]) if len(nat) else _empty_point())}
        reg = yr[yr["geographic_level"] == REGIONAL]
        if region_code.startswith("E13"):
            sub = reg[reg["region_code"] == region_code]
            result["sub_region"] = {"code": region_code, "name": region_name,
                                    **(_point(sub.iloc[0]) if len(sub) else _empty_point())}
            region_code, region_name = LONDON_CODE, "London"
        rr = reg[reg["region_code"] == region_code]
        result["region"] = {"code": region_code, "name": region_name,
                            **(_point(rr.iloc[0]) if len(rr) else _empty_point())}
        self._neighbour_summary(m, code, la, result)
        return result

    def _sources(self, m: Measure) -> list[str]:
        assert self.folder is not None
        tables = [m.table] + (["ons"] if m.denominator == "population" else []) + ["sn"]
        found = [self.ons_file if t == "ons" and self.ons_file and self.ons_file.is_file()
                 else find_table_file(self.folder, t) for t in tables]
        return [f.name for f in found if f is not None]

    def _neighbour_summary(self, m: Measure, code: str, la: pd.DataFrame, out: Benchmark) -> None:
        """Set the neighbours and their summaries in ``out`` (in this order, after its other keys)."""
        sn = self.neighbours()
        out["neighbours"] = []
        out["neighbour_mean"] = math.nan
        out["neighbour_median"] = math.nan
        out["neighbour_pooled"] = math.nan
        out["neighbours_with_data"] = 0
        if sn is None or not (sn["la_code"] == code).any():
            out["neighbours_note"] = "no statistical neighbours for this council in the neighbour file"
            return
        mine = sn[sn["la_code"] == code].sort_values("rank")
        by_code = la.set_index("old_la_code")
        rows: list[Neighbour] = []
        for r in mine.itertuples():
            pt = _point(by_code.loc[r.neighbour_code]) if r.neighbour_code in by_code.index else _empty_point()
            rows.append({"rank": int(r.rank), "la_code": str(r.neighbour_code), "la_name": str(r.neighbour_name),
                         "closeness": str(r.closeness), **pt})
        vals = np.array([r["value"] for r in rows], dtype=float)
        nums = np.array([r["numerator"] for r in rows], dtype=float)
        dens = np.array([r["denominator"] for r in rows], dtype=float)
        ok = ~np.isnan(vals)
        out["neighbours"] = rows
        out["neighbours_with_data"] = int(ok.sum())
        if ok.any():
            out["neighbour_mean"] = float(vals[ok].mean())
            out["neighbour_median"] = float(np.median(vals[ok]))
        both = ~np.isnan(nums) & ~np.isnan(dens)
        if m.unit == "count":
            out["neighbour_pooled"] = out["neighbour_mean"]
        elif both.any():
            scale = percentage if m.unit == "percent" else rate_per_10k
            out["neighbour_pooled"] = float(scale(nums[both].sum(), dens[both].sum()))
        if ok.sum() < len(rows):
            missing = [r["la_name"] for r in rows if math.isnan(r["value"])]
            out["neighbours_note"] = (f"{len(missing)} of {len(rows)} neighbours have no published figure "
                                      f"(suppressed or did not exist): {', '.join(missing)}")

    def all_councils(self, indicator_id: str, year: int) -> pd.DataFrame:
        """Every council's numerator, denominator and value for one year, for a funnel plot.

        Columns :data:`ALL_COUNCILS_COLUMNS` (``value`` NaN and ``marker`` set
        where DfE suppressed it). ``attrs`` carries ``available``, ``year_used``
        and ``note``; an unconfigured source or unbenchmarked indicator gives an
        empty frame with ``attrs['available'] = False`` and the reason.
        """
        empty = pd.DataFrame({c: pd.Series(dtype="float64" if c in ("numerator", "denominator", "value")
                                           else "string") for c in ALL_COUNCILS_COLUMNS})
        if not self.available:
            empty.attrs.update(available=False, year_used=None, note=self.reason)
            return empty
        m = MEASURES.get(indicator_id)
        frame = self._frame(m) if m else None
        if m is None or frame is None:
            note = (f"DfE publishes no benchmark for {indicator_id} in the supported tables" if m is None
                    else f"benchmark file for {indicator_id} not found in {self.folder}")
            empty.attrs.update(available=False, year_used=None, note=note)
            return empty
        year_used, note = self._choose_year(m, int(year))
        la = frame[(frame["time_period"] == year_used) & (frame["geographic_level"] == LOCAL_AUTHORITY)]
        out = la.rename(columns={"old_la_code": "la_code"})[ALL_COUNCILS_COLUMNS].reset_index(drop=True)
        out.attrs.update(available=year_used is not None, year_used=year_used, note=note, unit=m.unit)
        return out


def _join_population(frame: pd.DataFrame, pop: pd.DataFrame) -> pd.Series:
    """Population aligned to each row: DfE year Y uses ONS mid-year Y - 1."""
    p = pop.copy()
    p["key"] = np.where(p["geographic_level"] == LOCAL_AUTHORITY, p["old_la_code"].fillna(""),
                        np.where(p["geographic_level"] == REGIONAL, p["region_code"].fillna(""), "E92000001"))
    k = np.where(frame["geographic_level"] == LOCAL_AUTHORITY, frame["old_la_code"].fillna(""),
                 np.where(frame["geographic_level"] == REGIONAL, frame["region_code"].fillna(""), "E92000001"))
    lookup = p.drop_duplicates(["year", "geographic_level", "key"]).set_index(["year", "geographic_level", "key"])
    idx = pd.MultiIndex.from_arrays([frame["time_period"].to_numpy(), frame["geographic_level"].to_numpy(), k])
    return pd.Series(lookup["population"].reindex(idx).to_numpy(), index=frame.index, dtype="float64")


def _point(r: pd.Series) -> BenchmarkPoint:
    marker = r.get("marker")
    return {
        "numerator": _f(r["numerator"]), "denominator": _f(r["denominator"]), "value": _f(r["value"]),
        "marker": None if marker is None or pd.isna(marker) else str(marker),
    }


def _empty_point() -> BenchmarkPoint:
    return {"numerator": math.nan, "denominator": math.nan, "value": math.nan, "marker": None}


def _f(v: object) -> float:
    if v is None or pd.isna(v):
        return math.nan
    if not isinstance(v, SupportsFloat | str):
        raise TypeError(f"not a number: {v!r}")  # what float() said before the check
    return float(v)


def _region_of(known: pd.DataFrame) -> tuple[str, str]:
    if known.empty or "region_code" not in known:
        return "", ""
    last = known.sort_values("time_period").iloc[-1]
    return str(last["region_code"]), str(last["region_name"])


def _fy(year: int) -> str:
    """2025 -> '2024-25'."""
    return f"{year - 1}-{str(year)[-2:]}"


def _join(*parts: str) -> str:
    return " ".join(p.rstrip(".") + "." for p in parts if p)
