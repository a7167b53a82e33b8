"""The ingest stage: read every configured input, map, validate, pseudonymise, account for every row.

``run_ingest(config)`` reads ``inputs:`` from ``report.yml`` and writes to the
processed folder one Parquet table per entity (canonical columns only, the
accepted rows), ``allegation_actions.parquet``, ``ingest_report.json`` /
``.md`` and ``ingest_rejected.csv``. A table that cannot be read at all (file
missing or empty, workbook unreadable, header or a required column not found)
is reported as failed; the others are still built. So is a table whose every
row was rejected (:mod:`safeguarding.ingest.diagnose` names the likely cause);
its rows are still counted and listed.

Accounting: for every input, rows read = rows accepted + rows rejected. Rows
that are entirely blank are not rows read; they are counted separately.

Only a required field rejects a row. A value not in the code list in an
optional coded column (a referral source written as the DfE group ``Health
services``) keeps the row with that field unknown; each such value is listed
in the report with its rows and a suggested ``report.yml`` mapping
(:meth:`TableResult.unmapped`), and the rows are counted as
``rows_kept_with_unknown`` (part of rows accepted).
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from safeguarding.atomic import write_atomic
from safeguarding.config import Config
from safeguarding.ingest.cross_checks import CROSS_CHECKS
from safeguarding.ingest.dates import is_date_format
from safeguarding.ingest.diagnose import all_rejected_error
from safeguarding.ingest.errors import IngestError
from safeguarding.ingest.formats import read_format
from safeguarding.ingest.mapping import (
    ColumnMap,
    code_lookup,
    header_scorer,
    map_columns,
)
from safeguarding.ingest.partners import run_aggregates
from safeguarding.ingest.pseudonym import Pseudonymiser, key_file_path, load_or_create_key
from safeguarding.ingest.readers import RawTable, read_input
from safeguarding.ingest.results import IngestResult, RowValues, TableResult
from safeguarding.ingest.validate import (
    Converted,
    blank_uniques,
    convert,
    convert_ids,
    display,
    expand,
    factorize,
    factorize_ids,
)
from safeguarding.schema import ALLEGATION_ACTIONS_COLUMNS, CODE_LISTS, ENTITIES
from safeguarding.settings import INGEST_MIN_DATE
from safeguarding.settings_inputs import INPUT_KEYS, InputSpec

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.config import Config

if TYPE_CHECKING:  # pragma: no cover
    pass

#: Keys allowed in one ``inputs.<table>`` entry (:data:`safeguarding.settings_inputs.INPUT_KEYS`).
SPEC_KEYS = INPUT_KEYS
DEFAULT_MIN_DATE = INGEST_MIN_DATE  # ``ingest.min_date`` when not set
MIN_BIRTH_DATE = dt.date(1990, 1, 1)


def _check_spec(spec: InputSpec, where: str) -> None:
    """The one setting the typed parse leaves to the ingest: ``date_format`` (the layouts :mod:`.dates` reads).

    Keys, types and the coded columns under ``codes`` were checked when the settings were parsed
    (:meth:`~safeguarding.settings_inputs.InputSpec.from_mapping`).
    """
    key = spec.key
    fmt = spec.date_format
    if not is_date_format(fmt):
        raise IngestError(f"{where}: {key}.date_format is {fmt!r}.", key=f"{key}.date_format",
                          fix="use auto, dayfirst, iso or a layout such as \"%m/%d/%Y\" (month first)")


def _fix(reason: str, t: TableResult, canon: str) -> str:
    key, header = t.key, t.header(canon)
    col = t.entity.column(canon) if canon in t.entity.column_names else None
    if reason in ("blank_identifier", "missing_required"):
        return f"fill in '{header}' in the source (or delete the row if it is not a real record)"
    if reason == "unparseable_date":
        return (f"correct '{header}' in the source (day/month/year); if the whole column uses another layout, "
                f"set {key}.date_format")
    if reason == "impossible_date":
        return f"correct '{header}' in the source: the date does not exist"
    if reason == "date_out_of_range":
        return (f"correct '{header}' in the source; if the date is genuine, widen ingest.min_date / "
                "ingest.max_date in report.yml")
    if reason == "unknown_code" and col is not None and col.codes:
        codes = ", ".join(CODE_LISTS[col.codes])
        return f"map the value under {key}.codes.{canon} in report.yml (value: CODE), one of: {codes}"
    if reason == "invalid_bool":
        return f"write Yes or No in '{header}'"
    if reason == "invalid_number":
        return f"write a whole number in '{header}'"
    return "correct the source"


@dataclass
class Source:
    """One input read, its headers mapped and its mapped columns factorized: where conversion starts."""

    raw: RawTable
    cmap: ColumnMap
    #: canonical column -> ``factorize`` of its raw values
    factorized: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]]
    #: the input's settings to use from here on (a national format's preset may add ``codes``)
    spec: InputSpec
    #: identifier column read by pyarrow -> ``factorize_ids`` of it (instead of ``factorized``)
    ids: dict[str, tuple[np.ndarray, np.ndarray, pa.Array]] = field(default_factory=dict)


def read_source(name: str, spec: InputSpec, cfg: Config) -> Source:
    """Check one input's settings, read its file, map its headers and factorize the mapped columns.

    Touches nothing shared, so it can run in a worker thread while the previous table is converted
    (reading and factorizing are mostly pyarrow / calamine work that releases the GIL).
    Raises :class:`IngestError` when the table cannot be used at all.
    """
    entity = ENTITIES[name]
    key = f"inputs.{name}"
    _check_spec(spec, str(cfg.path))
    path = cfg.resolve(spec.file)
    configured = spec.configured_columns
    settings = spec
    if spec.format is not None:  # national formats (CIN census XML, Annex A): safeguarding.ingest.formats
        raw, configured, settings = read_format(path, entity, spec, configured, key=key)
    else:
        raw = read_input(path, header_scorer(entity, configured), sheet=spec.sheet,
                         header_row=spec.header_row, encoding=spec.encoding or "auto", key=key)
    where = f"{path}" + (f" (sheet {raw.sheet!r})" if raw.sheet else "")
    cmap = map_columns(raw.headers, entity, configured, where=where, key=key)
    factorized: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {}
    ids: dict[str, tuple[np.ndarray, np.ndarray, pa.Array]] = {}
    for c in entity.columns:
        if c.name not in cmap.positions:
            continue
        values = raw.columns[cmap.positions[c.name]]
        if c.kind == "id" and isinstance(values, (pa.Array, pa.ChunkedArray)):
            ids[c.name] = factorize_ids(values)
        else:
            factorized[c.name] = factorize(values)
    return Source(raw, cmap, factorized, settings, ids)


def _ingest_table(name: str, spec: InputSpec, source: Source, pseud: Pseudonymiser,
                  ranges: dict[str, tuple[dt.date, dt.date]]) -> TableResult:
    entity = ENTITIES[name]
    t = TableResult(name, entity, spec.file, spec)
    t.raw = raw = source.raw
    t.warnings.extend(raw.warnings)
    t.cmap = cmap = source.cmap
    t.warnings.extend(cmap.warnings)
    code_settings = source.spec.codes or {}
    lookups = {c.name: code_lookup(c.codes, code_settings.get(c.name), key=f"{t.key}.codes.{c.name}")
               for c in entity.columns if c.codes and c.name in cmap.positions}
    date_mode = source.spec.date_format
    # convert every mapped column over all rows read, then find the entirely blank rows
    conv: dict[str, Converted] = {}
    for col in entity.columns:
        if col.name not in cmap.positions:
            continue
        values = raw.columns[cmap.positions[col.name]]
        if col.name in source.ids:  # identifiers read by pyarrow: hashed from their bytes as read
            conv[col.name] = convert_ids(*source.ids[col.name], partial(pseud.many_arrow, col.name))
        else:
            conv[col.name] = convert(col.kind, values, date_mode=date_mode, lookup=lookups.get(col.name),
                                     pseudonymise=partial(pseud.many_arrow, col.name) if col.kind == "id" else None,
                                     factorized=source.factorized.get(col.name),
                                     column=t.header(col.name), key=t.key,
                                     keep_unknown=not col.required)   # only a required field costs a record
        t.warnings.extend(conv[col.name].warnings)
    n_all = raw.n_rows
    all_blank = np.ones(n_all, dtype=bool)
    for c in conv.values():
        all_blank &= c.blank
    mapped_pos = set(cmap.positions.values())
    for j, values in enumerate(raw.columns):
        if j in mapped_pos or not all_blank.any():
            continue
        idx = np.nonzero(all_blank)[0]
        sub = values.take(pa.array(idx)) if isinstance(values, pa.ChunkedArray) else (
            np.asarray(values, dtype=object)[idx])
        codes, uniq, blank_u = factorize(sub)
        all_blank[idx] = expand(blank_uniques(uniq) if blank_u is None else blank_u, codes, True)
    for i in raw.extra_fields:
        all_blank[i] = False
    keep = ~all_blank
    t.blank_rows = int(all_blank.sum())
    t.n_read = int(keep.sum())
    t.row_numbers = raw.row_numbers
    if t.blank_rows:  # drop them (nothing to copy in the usual case)
        t.row_numbers = raw.row_numbers[keep]
        for c in conv.values():
            c.codes = c.codes[keep]
    t.conv = conv
    t.data = RowValues(conv)
    if t.blank_rows:
        t.warnings.append(f"{t.blank_rows} entirely blank row(s) skipped (not counted as rows read)")
    if t.n_read == 0:
        t.warnings.append("the file has a header but no data rows")
    _row_checks(t, raw, keep, ranges)
    return t


def _row_checks(t: TableResult, raw: RawTable, keep: np.ndarray,
                ranges: dict[str, tuple[dt.date, dt.date]]) -> None:
    p = t.problems
    if raw.extra_fields:
        new_index = np.cumsum(keep) - 1
        rows = np.array([new_index[i] for i in raw.extra_fields], dtype=np.int64)
        # the spilled text itself is not copied: it may be part of a free-text (personal) field
        vals = np.array([f"{len(v.split(','))} extra value(s)" for v in raw.extra_fields.values()], dtype=object)
        p.add(rows, "extra_fields", "(beyond the last header)", vals,
              "the row has more values than there are headers", "quote values that contain commas, or export "
              "the CSV again from Excel")
    for col in t.entity.columns:
        c = t.conv.get(col.name)
        if c is None:
            continue
        header = t.header(col.name)
        if col.required:
            rows = np.nonzero(c.blank)[0]
            reason = "blank_identifier" if col.kind == "id" else "missing_required"
            p.add(rows, reason, header, "", f"'{header}' ({col.name}) is blank", _fix(reason, t, col.name))
        bad = c.bad_rows()
        if bad.size:
            u = c.codes[bad]
            reasons = c.reason_u[u]
            vals = np.array([display(v) for v in c.uniques[u]], dtype=object)
            msgs = c.message_u[u]
            fixes = np.array([_fix(r, t, col.name) for r in reasons], dtype=object)
            p.add(bad, reasons, header, vals, msgs, fixes)
        if col.kind == "date":
            lo, hi = ranges["date_of_birth" if col.name == "date_of_birth" else "event"]
            d = t.data[col.name]
            lo64, hi64 = np.datetime64(lo, "D"), np.datetime64(hi, "D")
            out = ~np.isnat(d) & ((d < lo64) | (d > hi64))
            rows = np.nonzero(out)[0]
            if rows.size:
                vals = np.array([display(v) for v in c.uniques[c.codes[rows]]], dtype=object)
                msgs = np.array([f"{col.name} {x!s} is {'before' if x < lo64 else 'after'} "
                                 f"{lo if x < lo64 else hi}, outside the plausible range {lo} to {hi}"
                                 for x in d[rows]], dtype=object)
                p.add(rows, "date_out_of_range", header, vals, msgs, _fix("date_out_of_range", t, col.name))
    for a, b in t.entity.date_order:
        if a not in t.data or b not in t.data:
            continue
        da, db = t.data[a], t.data[b]
        rows = np.nonzero(~np.isnat(da) & ~np.isnat(db) & (db < da))[0]
        if rows.size:
            vals = np.array([str(x) for x in db[rows]], dtype=object)
            msgs = np.array([f"{b} {y} is before {a} {x}" for x, y in zip(da[rows], db[rows], strict=True)],
                            dtype=object)
            p.add(rows, "end_before_start", t.header(b), vals, msgs,
                  f"check '{t.header(a)}' and '{t.header(b)}' in the source and correct the wrong one")
    _duplicates(t)


def _duplicates(t: TableResult) -> None:
    """Later copies of a key among otherwise valid rows are rejected (exact copies and clashes)."""
    key = [k for k in t.entity.key if k in t.conv]
    if len(key) != len(t.entity.key) or t.n_read == 0:
        return
    ok = np.nonzero(~t.problems.bad_rows(t.n_read))[0]
    if ok.size < 2:
        return
    keys = pd.DataFrame({k: t.conv[k].value_ids(ok) for k in key})
    # only rows whose key occurs more than once can be copies: compare those rows on every column
    sub = ok[keys.duplicated(keep=False).to_numpy()]
    if not sub.size:
        return
    frame = pd.DataFrame({k: c.value_ids(sub) for k, c in t.conv.items()})
    dup_key = frame.duplicated(subset=key, keep="first").to_numpy()
    dup_row = frame.duplicated(keep="first").to_numpy() & dup_key
    group = frame.groupby(key, sort=False, dropna=False).ngroup().to_numpy()
    uniq, first_idx = np.unique(group, return_index=True)
    first_pos = np.zeros(int(group.max()) + 1, dtype=np.int64)
    first_pos[uniq] = first_idx
    k0 = key[0]
    header = t.header(k0)
    label = " + ".join(key)
    for mask, reason in ((dup_row, "duplicate_row"), (dup_key & ~dup_row, "duplicate_key")):
        pos = np.nonzero(mask)[0]
        if not pos.size:
            continue
        firsts = t.row_numbers[sub[first_pos[group[pos]]]]
        what = "repeats row" if reason == "duplicate_row" else f"has the same {label} as row"
        msgs = np.array([f"{what} {r} (the first copy was kept)" for r in firsts], dtype=object)
        vals = np.array([display(v) for v in t.conv[k0].values(sub[pos])], dtype=object)
        fix = ("delete the repeated row from the source" if reason == "duplicate_row" else
               f"give each record its own {label}, or delete the extra copy")
        t.problems.add(sub[pos], reason, header, vals, msgs, fix)


def _typed(kind: str, values: np.ndarray) -> np.ndarray | pd.api.extensions.ExtensionArray:
    if kind == "date":
        return values.astype("datetime64[ns]")
    if kind == "bool":
        return pd.array(values, dtype="boolean")
    if kind == "int":
        return pd.array(values, dtype="Int64")
    return pd.array(values, dtype="string")


def _empty(kind: str, n: int) -> np.ndarray | pd.api.extensions.ExtensionArray:
    if kind == "date":
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    return _typed(kind, np.full(n, None, dtype=object))


def table_frame(t: TableResult) -> pd.DataFrame:
    """The accepted rows of a table as the canonical DataFrame written to Parquet."""
    acc = t.accepted()
    n = int(acc.sum())
    rows = np.nonzero(acc)[0]
    cols = {}
    for col in t.entity.columns:
        if col.name in t.conv and col.kind in ("id", "str", "code", "codes"):
            cols[col.name] = pd.arrays.ArrowStringArray(t.conv[col.name].arrow_strings(rows))
        elif col.name in t.conv and col.kind in ("bool", "int"):
            cols[col.name] = t.conv[col.name].masked_array(rows)
        elif col.name in t.data:
            cols[col.name] = _typed(col.kind, t.data[col.name][acc])
        else:
            cols[col.name] = _empty(col.kind, n)
    return pd.DataFrame(cols)


def allegation_actions(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (allegation, action) from the accepted allegations frame."""
    pairs = frame[["allegation_id", "actions"]].dropna()
    exploded = pairs.assign(action=pairs["actions"].str.split(";")).explode("action")
    return pd.DataFrame({
        "allegation_id": pd.array(exploded["allegation_id"].to_numpy(dtype=object), dtype="string"),
        "action": pd.array(exploded["action"].to_numpy(dtype=object), dtype="string"),
    }, columns=list(ALLEGATION_ACTIONS_COLUMNS))


def write_parquet(frame: pd.DataFrame, target: Path, id_columns: list[str]) -> None:
    """Write ``frame`` to Parquet; identifier columns are left out of dictionary encoding.

    Pseudonyms are (nearly) all distinct, so a dictionary for them is built
    only to be thrown away; the other columns repeat a few values and keep it.
    """
    dictionary = [c for c in frame.columns if c not in id_columns]
    write_atomic(target, lambda tmp: frame.to_parquet(tmp, index=False, use_dictionary=dictionary))


def _ingest_one(name: str, config: Config, pseud: Pseudonymiser, ranges: dict[str, tuple[dt.date, dt.date]],
                source: Future | None = None) -> TableResult:
    """Ingest one table (read by ``source`` if given, a future of :func:`read_source`).

    A fatal problem is recorded on the result, not raised.
    """
    spec = config.inputs[name]
    t0 = time.perf_counter()
    try:
        src = source.result() if source is not None else read_source(name, spec, config)
        t = _ingest_table(name, spec, src, pseud, ranges)
    except IngestError as exc:
        t = TableResult(name, ENTITIES[name], spec.file, spec, fatal=exc)
    t.seconds = time.perf_counter() - t0
    return t


def run_ingest(config: Config) -> IngestResult:
    """Read every configured input and write the processed tables and the ingest report.

    Never raises for bad data: each table's fatal problem is recorded in the
    result (``result.failed``) and the report. Raises :class:`IngestError` only
    when the run cannot start (the pseudonymisation key unusable; the ``ingest:``
    dates were checked when the configuration was loaded).
    """
    from safeguarding.ingest import report as report_mod

    started = time.perf_counter()
    out_dir = Path(config.processed_dir)
    key_path = key_file_path(config)
    key, created, key_warnings = load_or_create_key(key_path)
    pseud = Pseudonymiser(key)
    today = dt.date.today()
    year_end = config.year_end
    min_date = config.ingest.min_date
    max_date = config.ingest.max_date or max(today, year_end)
    ranges = {"event": (min_date, max_date), "date_of_birth": (MIN_BIRTH_DATE, year_end)}
    names = [name for name in ENTITIES if name in config.inputs]
    out_dir.mkdir(parents=True, exist_ok=True)
    tables: dict[str, TableResult] = {}
    outputs: list[Path] = []
    actions_path = out_dir / "allegation_actions.parquet"
    sources: dict[str, Future] = {}
    # one thread reads the next input and another writes finished tables while this one is converted
    with ThreadPoolExecutor(1, "ingest-read") as reader, ThreadPoolExecutor(1, "ingest-write") as writer:
        writes = []
        for i, name in enumerate(names):
            for ahead in names[i:i + 2]:
                if ahead not in sources:
                    sources[ahead] = reader.submit(read_source, ahead, config.inputs[ahead], config)
            t = tables[name] = _ingest_one(name, config, pseud, ranges, sources.pop(name))
            if name in CROSS_CHECKS:  # rows of this table checked against earlier tables
                CROSS_CHECKS[name](tables)
            if t.fatal is None:  # every row rejected: the file was read the wrong way (rows stay counted)
                t.fatal = all_rejected_error(t)
            if t.fatal is not None:
                continue
            frame = table_frame(t)  # final: no later step rejects rows of this table
            target = out_dir / f"{name}.parquet"
            ids = [c.name for c in t.entity.columns if c.kind == "id"]
            writes.append(writer.submit(write_parquet, frame, target, ids))
            outputs.append(target)
            if name == "allegations":
                writes.append(writer.submit(write_parquet, allegation_actions(frame), actions_path,
                                            ["allegation_id"]))
        if "allegations" in tables and tables["allegations"].fatal is None:
            outputs.append(actions_path)  # written just after allegations, listed last as ever
        for target in [out_dir / f"{name}.parquet" for name in ENTITIES] + [actions_path]:
            if target not in outputs and target.exists():  # never leave last run's table looking current
                target.unlink()
        for w in writes:
            w.result()
    aggregates = run_aggregates(config, out_dir, outputs)
    report = report_mod.build_report(config, tables, key_path, created, key_warnings, aggregates,
                                     time.perf_counter() - started, ranges)
    outputs.extend(report_mod.write_reports(report, tables, out_dir))
    return IngestResult(tables, report, out_dir, outputs)
