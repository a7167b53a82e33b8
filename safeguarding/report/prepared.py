"""The report context's data, worked out once per build and saved for the chapter kernels.

Every chapter needs the same two tables: the indicator table (for the public
audience, without the rows the disclosure-controlled table withholds as ``x``)
and, for the public audience, the published strings of every row of the
disclosure-controlled table (:class:`ShownTable`). Working them out takes a
few seconds; a build does it once, before the notebooks run
(:func:`save_context`, in the build folder, never in ``reports/``), and each
kernel opens the saved files (:func:`open_context`, well under a second).

A saved context names its audience, year, configuration file and the SHA-256
of the files it was made from; :func:`open_context` refuses one whose audience,
year or configuration differ from the chapter's, or whose source files have
changed since (:class:`SavedContextError`): a public chapter can never read a
board context. A notebook run on its own (no saved context) works the same
tables out itself (:func:`prepare_context`), more slowly.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from safeguarding.config import Config
from safeguarding.hashing import file_sha256
from safeguarding.markers import NOT_PUBLISHED, WITHHELD

#: bumped when the saved files change shape (an older saved context is then refused)
FORMAT = 1
META = "context.json"
INDICATORS = "indicators.arrow"
SHOWN = "shown.arrow"

#: the columns that identify a row of the indicator table, in the order of a :class:`ShownTable` key
KEY_COLUMNS = ("indicator_id", "period_type", "period_end", "breakdown", "breakdown_value")
#: the published strings a :class:`ShownTable` gives for a row
VALUE_COLUMNS = ("numerator", "denominator", "value", "marker")
_SEP = "\x1f"

ShownKey = tuple[str, str, pd.Timestamp, str, str]


class SavedContextError(ValueError):
    """A saved context that does not belong to this chapter (audience, year, configuration or sources differ)."""


def row_keys(rows: pd.DataFrame) -> pd.Index:
    """One string per row of an indicator table naming its indicator, period type and end, and breakdown value.

    The same row of the indicator table and of the disclosure-controlled table get the same key
    (the text of each column, the period end in nanoseconds); a row with a missing part gets none (NaN).
    """
    end = pd.to_datetime(rows["period_end"]).to_numpy(dtype="datetime64[ns]").view("int64")
    key = rows["indicator_id"].astype(str) + _SEP + rows["period_type"].astype(str)
    key = key + _SEP + pd.Series(end.astype(str), index=rows.index)
    key = key + _SEP + rows["breakdown"].astype(str) + _SEP + rows["breakdown_value"].astype(str)
    return pd.Index(key.astype(object), dtype=object)


def _as_text(column: pd.Series) -> np.ndarray:
    """A column's strings as Python objects, a missing one as NaN (as iterating ``column.astype(str)`` gives)."""
    values = np.array(column.to_numpy(dtype=object), dtype=object, copy=True)
    values[pd.isna(values)] = np.nan
    return values


def _key_text(key: ShownKey) -> str:
    ind, period_type, end, breakdown, value = key
    return _SEP.join((str(ind), str(period_type), str(pd.Timestamp(end).value), str(breakdown), str(value)))


class ShownTable(Mapping[ShownKey, dict[str, str]]):
    """The public disclosure-controlled table's published strings, looked up by row (vectorised).

    A mapping from ``(indicator, period type, period end, breakdown, breakdown value)`` to
    ``{"numerator", "denominator", "value", "marker"}`` (the strings the table publishes), as the
    report context's ``shown`` always was; :meth:`withheld` answers for many rows at once.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        """``frame``: the columns ``key`` (:func:`row_keys`), :data:`KEY_COLUMNS` and :data:`VALUE_COLUMNS`,
        one row per key."""
        self.frame = frame.reset_index(drop=True)
        self._index = pd.Index(self.frame["key"], dtype=object)
        self._values = {c: _as_text(self.frame[c]) for c in VALUE_COLUMNS}

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> ShownTable:
        """From a disclosure-controlled indicator table: each row's strings (``str`` of each column); where
        two rows share a key, the last one (as a dictionary built row by row would keep)."""
        frame = pd.DataFrame({"key": row_keys(table)})
        for col in KEY_COLUMNS:
            frame[col] = pd.to_datetime(table[col]).to_numpy() if col == "period_end" else \
                table[col].astype(str).to_numpy()
        for col in VALUE_COLUMNS:
            frame[col] = table[col].astype(str).to_numpy()
        frame = frame[frame["key"].notna()]
        frame = frame[~frame["key"].duplicated(keep="last")]
        frame["key"] = frame["key"].astype("str")  # as it is read back from the saved file
        return cls(frame)

    def __getitem__(self, key: ShownKey) -> dict[str, str]:
        try:
            pos = self._index.get_loc(_key_text(key))
        except (KeyError, TypeError, ValueError):
            raise KeyError(key) from None
        return {c: self._values[c][pos] for c in VALUE_COLUMNS}

    def __iter__(self) -> Iterator[ShownKey]:
        f = self.frame
        ends = pd.to_datetime(f["period_end"])
        return iter(zip(f["indicator_id"], f["period_type"], ends, f["breakdown"], f["breakdown_value"],
                        strict=True))

    def __len__(self) -> int:
        return len(self.frame)

    def withheld(self, rows: pd.DataFrame, markers: tuple[str, ...] = (WITHHELD, NOT_PUBLISHED)) -> np.ndarray:
        """For indicator-table rows: True where the row's marker is one of ``markers``; a row the table
        does not hold counts as ``x``."""
        if rows.empty:
            return np.zeros(0, dtype=bool)
        pos = self._index.get_indexer(row_keys(rows))
        marker = self._values["marker"]
        found = marker[np.where(pos >= 0, pos, 0)] if len(marker) else np.full(len(pos), NOT_PUBLISHED, dtype=object)
        found = np.where(pos >= 0, found, NOT_PUBLISHED)
        return np.asarray(pd.Index(found, dtype=object).isin(list(markers)), dtype=bool)


@dataclass
class PreparedContext:
    """What a chapter's :class:`~safeguarding.report.context.ReportContext` is made of beside the configuration."""

    audience: str
    #: the indicator table (public: without the rows the disclosure-controlled table withholds as ``x``)
    indicators: pd.DataFrame
    #: public: the disclosure-controlled table's published strings; board: None
    shown: ShownTable | None


def source_files(cfg: Config, audience: str) -> dict[str, Path]:
    """The files a context is made from: the indicator table, and for the public audience its
    disclosure-controlled table."""
    from safeguarding.published_data import suppressed_path

    files = {"indicators": cfg.processed_dir / "indicators.parquet"}
    if audience == "public":
        files["shown"] = suppressed_path(cfg, "public")
    return files


def read_indicators(cfg: Config) -> pd.DataFrame:
    """The indicator table (``indicators.parquet``) with its period dates as dates."""
    path = cfg.processed_dir / "indicators.parquet"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: run 'python pipeline.py indicators --config {cfg.path}' first"
        )
    indicators = pd.read_parquet(path)
    for col in ("period_start", "period_end"):
        indicators[col] = pd.to_datetime(indicators[col])
    return indicators


def prepare_context(cfg: Config) -> PreparedContext:
    """Work the context's tables out from the processed folder, for the configuration's audience.

    The public audience's disclosure-controlled table is written first if it is missing (a notebook run on
    its own before any build).
    """
    indicators = read_indicators(cfg)
    if cfg.audience != "public":
        return PreparedContext(cfg.audience, indicators, None)
    from safeguarding.published_data import disclosure_controlled, suppressed_path

    path = suppressed_path(cfg, "public")
    if not path.exists():
        disclosure_controlled(cfg, "public")
    table = pd.read_parquet(path, columns=[*KEY_COLUMNS, "numerator", "denominator", "value", "marker"])
    shown = ShownTable.from_table(table)
    # the public report draws only on what is published: rows the disclosure-controlled table withholds
    # (x: outside the publication scope, or too sparse) are left out, so no chart shows them
    kept = indicators[~shown.withheld(indicators, markers=(NOT_PUBLISHED,))].reset_index(drop=True)
    return PreparedContext(cfg.audience, kept, shown)


def _meta(cfg: Config, audience: str) -> dict[str, Any]:
    return {
        "format": FORMAT, "audience": audience, "year": cfg.year, "config": str(Path(cfg.path).resolve()),
        "sources": {name: file_sha256(p) for name, p in source_files(cfg, audience).items()},
    }


def save_context(cfg: Config, folder: Path) -> Path:
    """Work the context out (:func:`prepare_context`) and save it in ``folder`` (replaced whole); return it.

    The files are written in a temporary folder beside it and renamed into place, the description
    (:data:`META`: audience, year, configuration, SHA-256 of the sources) last.
    """
    folder = Path(folder)
    prepared = prepare_context(cfg)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".{folder.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        prepared.indicators.to_feather(tmp / INDICATORS)
        if prepared.shown is not None:
            prepared.shown.frame.to_feather(tmp / SHOWN)
        (tmp / META).write_text(json.dumps(_meta(cfg, prepared.audience), indent=1), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def open_context(cfg: Config, folder: str | Path) -> PreparedContext:
    """Open a context saved by :func:`save_context` for the configuration's audience and year.

    Raises :class:`SavedContextError` when the saved context is missing or incomplete, was saved for
    another audience, year or configuration file, or its source files have changed since.
    """
    folder = Path(folder)
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SavedContextError(f"{folder}: no saved report context ({type(exc).__name__}: {exc})") from None
    expected = _meta(cfg, cfg.audience)
    for field in ("format", "audience", "year", "config", "sources"):
        if meta.get(field) != expected[field]:
            raise SavedContextError(
                f"{folder}: the saved report context is for {field} {meta.get(field)!r}, this chapter's is "
                f"{expected[field]!r}; it is not used (leave the saved context out to work it out here)")
    indicators = pd.read_feather(folder / INDICATORS)
    shown = ShownTable(pd.read_feather(folder / SHOWN)) if cfg.audience == "public" else None
    return PreparedContext(cfg.audience, indicators, shown)


__all__ = [
    "KEY_COLUMNS",
    "VALUE_COLUMNS",
    "PreparedContext",
    "SavedContextError",
    "ShownTable",
    "open_context",
    "prepare_context",
    "read_indicators",
    "row_keys",
    "save_context",
    "source_files",
]
