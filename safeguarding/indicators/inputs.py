"""What an indicator run reads: the processed tables (checked and coerced to the canonical dtypes), the
partners' aggregate returns, and the run's options from report.yml."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias, TypedDict

import numpy as np
import pandas as pd

from safeguarding import schema
from safeguarding.indicators.bands import age_band_labels

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.config import Config

#: a date as report.yml gives it (a YAML date, or text such as ``2024-04-01``); a ``pd.Timestamp`` is a date too
DateLike: TypeAlias = str | dt.date


class RunOptions(TypedDict, total=False):
    """The options :func:`run_options` reads from report.yml (each only when it is given)."""

    start: DateLike
    end: DateLike
    history_start: DateLike
    data_end: DateLike
    age_bands: tuple[tuple[int, str], ...]


class IndicatorInputError(ValueError):
    """A processed table breaks the data contract (names the table, row, column and fix)."""


def prepare_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Check and coerce processed tables to the canonical dtypes (copies); tables that are None are left out."""
    out: dict[str, pd.DataFrame] = {}
    for name, df in tables.items():
        if df is None:
            continue
        out[name] = _prepare(name, df) if name in schema.ENTITIES else df
    return out


def _prepare(name: str, df: pd.DataFrame) -> pd.DataFrame:
    ent = schema.ENTITIES[name]
    df = df.copy()
    missing = [c for c in ent.required if c not in df.columns]
    if missing:
        raise IndicatorInputError(
            f"{name}: required column(s) {', '.join(missing)} missing (columns present: "
            f"{', '.join(map(str, df.columns))}); re-run 'python pipeline.py ingest' to rebuild {name}.parquet"
        )
    for col in ent.columns:
        if col.name not in df.columns:
            df[col.name] = pd.Series(pd.NA, index=df.index, dtype="object")
        s = df[col.name]
        if col.kind == "date":
            df[col.name] = _dates(name, col.name, s, col.required)
        elif col.kind in ("id", "str", "code", "codes"):
            df[col.name] = s.astype("string")
        elif col.kind == "bool":
            df[col.name] = s.astype("boolean")
        elif col.kind == "int":
            df[col.name] = pd.to_numeric(s, errors="coerce").astype("Float64")
    for earlier, later in ent.date_order:
        bad = df[later] < df[earlier]
        if bad.any():
            i = int(np.flatnonzero(bad.fillna(False).to_numpy())[0])
            raise IndicatorInputError(
                f"{name}: row {i + 1}: {later} {df[later].iloc[i]:%d/%m/%Y} is before {earlier} "
                f"{df[earlier].iloc[i]:%d/%m/%Y}; correct the dates in the source and re-run ingest"
            )
    return df.reset_index(drop=True)


def _dates(table: str, column: str, s: pd.Series, required: bool) -> pd.Series:
    conv = pd.to_datetime(s, errors="coerce")
    bad = conv.isna() & s.notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise IndicatorInputError(
            f"{table}: row {i + 1}, column {column}: {s.iloc[i]!r} is not a date; fix the source and re-run ingest"
        )
    out = conv.astype("datetime64[ns]").dt.normalize()
    if required and out.isna().any():
        i = int(np.flatnonzero(out.isna().to_numpy())[0])
        raise IndicatorInputError(
            f"{table}: row {i + 1}, column {column}: required date is missing; "
            f"fix the source (ingest should have rejected this row) and re-run ingest"
        )
    return out


def read_processed(processed_dir: Path) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None]:
    """Read ``<processed_dir>/<entity>.parquet`` for each entity present, and ``aggregates.parquet``."""
    tables = {}
    for name in schema.ENTITIES:
        p = processed_dir / f"{name}.parquet"
        if p.exists():
            tables[name] = pd.read_parquet(p)
    agg_path = processed_dir / "aggregates.parquet"
    aggregates = pd.read_parquet(agg_path) if agg_path.exists() else None
    return tables, aggregates


def run_options(config: Config) -> RunOptions:
    """Keyword arguments of :func:`~safeguarding.indicators.engine.compute_indicators` from report.yml:
    ``indicators: {start, end, history_start, data_end}`` (those set) and ``age_bands`` (when set).

    Both were checked, and parsed, when the configuration was loaded (``config.indicators``,
    ``config.age_bands``).
    """
    dates = config.indicators
    opts: RunOptions = {}
    # the dates that are set, in this order (each only when it is given)
    if dates.start is not None:
        opts["start"] = dates.start
    if dates.end is not None:
        opts["end"] = dates.end
    if dates.history_start is not None:
        opts["history_start"] = dates.history_start
    if dates.data_end is not None:
        opts["data_end"] = dates.data_end
    if config.age_bands:
        opts["age_bands"] = age_band_labels(list(config.age_bands))
    return opts
