"""Reading partners' returns: every ``aggregates:`` entry through the common reader, one frame of figures.

:func:`load_aggregates` reads each configured return (a missing or broken one
is reported and the others still load) and drops a figure given twice;
:func:`read_aggregate_return` reads one: the file through
:func:`safeguarding.ingest.readers.read_grid` (the encodings, delimiters and
sheets of every other input), then its layout (:mod:`.wide` or :mod:`.tidy`)
and the stock-and-flow check (:mod:`.stock_flow`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TypedDict

import pandas as pd

from safeguarding.atomic import write_atomic
from safeguarding.config import Config
from safeguarding.ingest.errors import IngestError
from safeguarding.ingest.partners import tidy, wide
from safeguarding.ingest.partners.cells import blank
from safeguarding.ingest.partners.collect import Accounting, AccountingEntry, Return, empty_frame, finish, typed
from safeguarding.ingest.partners.stock_flow import check_stock_flow
from safeguarding.ingest.problem import Problem, ProblemEntry, show_value
from safeguarding.ingest.readers import Grid, read_grid
from safeguarding.settings_inputs import AGGREGATE_KEYS, AggregateSpec, SpecError

#: Keys an ``aggregates:`` entry may hold (:data:`safeguarding.settings_inputs.AGGREGATE_KEYS`).
SPEC_KEYS = AGGREGATE_KEYS
#: The fix of a note the reader made about a return it could read (encoding, delimiter, sheet chosen).
READ_NOTE_FIX = "nothing if the return was read as meant; otherwise set the setting the note names"


class AggregatesEntry(TypedDict, total=False):
    """The partners' returns in ``ingest_report.json`` (``aggregates``): see :func:`run_aggregates`."""

    status: str
    rows: int
    returns: list[AccountingEntry]
    issues: list[ProblemEntry]
    error: str


def load_aggregates(config: Config) -> tuple[pd.DataFrame, list[Problem]]:
    """Read every entry of ``config.aggregates`` into one tidy frame.

    Returns ``(frame, problems)``: the frame has ``OUTPUT_COLUMNS``
    (``schema.AGGREGATE_COLUMNS`` + ``source_file``, ``source_row``) and, in
    ``attrs["accounting"]``, one :class:`Accounting` per return. File paths are
    looked up in ``config.raw_dir`` first, then relative to the configuration
    file's folder. A return that cannot be read is reported (severity
    ``error``) and the others still load. The same figure given by two returns
    is reported and the first one kept.
    """
    frames: list[pd.DataFrame] = []
    problems: list[Problem] = []
    accounting: list[Accounting] = []
    for spec in config.aggregates:
        base = config.raw_dir
        if not (config.raw_dir / spec.file).exists() and config.resolve(spec.file).exists():
            base = config.root
        frame, found = read_aggregate_return(spec, base, default_year=config.year)
        frames.append(frame)
        problems.extend(found)
        accounting.extend(frame.attrs.get("accounting", []))
    out = pd.concat(frames, ignore_index=True) if frames else empty_frame()
    if len(frames) > 1 and len(out):
        out = _drop_cross_return_duplicates(out, problems, accounting)
    out = typed(out)
    out.attrs["accounting"] = accounting
    return out, problems


def read_aggregate_return(spec: AggregateSpec | Mapping[str, object], base_dir: Path, *, index: int = 0,
                          default_year: int | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """Read one aggregate return described by ``spec`` (one ``aggregates:`` entry, ``cfg.aggregates[i]``).

    ``base_dir`` is the folder relative paths are resolved against; ``default_year`` is the report year, used
    when the entry gives no ``financial_year``. A mapping (settings written by hand, e.g. in a script) is
    first parsed as ``report.yml``'s entries are (:meth:`AggregateSpec.from_mapping`), ``index`` being its
    position (naming the configuration key in messages, e.g. ``aggregates[0].rows``); a setting it refuses
    is reported as this return's error. Never raises on bad input: problems are returned. The frame's
    ``attrs["accounting"]`` holds the return's :class:`Accounting` (cells in, rows out, cells dropped).
    """
    if not isinstance(spec, AggregateSpec):
        given = spec
        try:
            spec = AggregateSpec.from_mapping(given, index=index)
        except SpecError as exc:
            return finish(_refused(given, index, exc))
    ret = Return(file=spec.file, key=spec.key, layout=spec.layout)
    path = Path(spec.file).expanduser()
    if not path.is_absolute():
        path = Path(base_dir) / path
    try:
        grid = _read(path, spec, ret)
    except Exception as exc:  # pragma: no cover - last-resort guard: never crash the run
        ret.fatal("unreadable file", f"{ret.file}: could not be read ({type(exc).__name__}: {exc})",
                  "check the file opens in Excel; save it again as .xlsx or UTF-8 CSV")
        grid = None
    if grid is None:
        return finish(ret)
    try:
        if ret.layout == "tidy":
            tidy.parse_tidy(grid, spec, ret)
        else:
            wide.parse_wide(grid, spec, ret, default_year)
        check_stock_flow(spec.stock_flow, ret)
    except Exception as exc:  # pragma: no cover - last-resort guard: never crash the run
        ret.fatal("unreadable file", f"{ret.file}: could not be interpreted ({type(exc).__name__}: {exc})",
                  "check the layout matches the configuration; report this as a bug with the file's shape")
        ret.records.clear()
        ret.problems = [p for p in ret.problems if p.dropped == 0]
        ret.cells_in = 0
    return finish(ret)


def _refused(spec: object, index: int, exc: SpecError) -> Return:
    """The :class:`Return` of a hand-written entry whose settings the parse refused: one error, nothing read."""
    file = spec.get("file") if isinstance(spec, Mapping) else spec
    ret = Return(file=str(file), key=f"aggregates[{index}]", layout="?")
    ret.fatal("bad configuration", str(exc),
              f"correct {exc.key} in report.yml (e.g. {{file: return.csv, layout: tidy}}; see docs/configuration.md)")
    return ret


def _read(path: Path, spec: AggregateSpec, ret: Return) -> Grid | None:
    """The return's cells, read as every other input is; None (the problem recorded) when it cannot be."""
    score = tidy.header_score(spec) if ret.layout == "tidy" else wide.header_score
    try:
        grid = read_grid(path, score, sheet=spec.sheet,
                         encoding=spec.encoding.strip().lower() if spec.encoding else "auto",
                         delimiter=spec.delimiter, key=ret.key)
    except IngestError as exc:
        ret.problems.append(exc.problem.replace(file=ret.file))
        return None
    for note in grid.warnings:
        ret.add(reason="read note", message=f"{ret.file}: {note}", fix=READ_NOTE_FIX, severity="warning")
    if not any(not blank(c) for r in grid.rows for c in r):
        ret.fatal("empty file", f"{ret.file}: the file has no cells with content",
                  "ask the partner to resend the return; check the right sheet is named in report.yml")
        return None
    return grid


def write_aggregates(frame: pd.DataFrame, processed_dir: Path) -> Path:
    """Write the tidy aggregate frame to ``<processed_dir>/aggregates.parquet`` and return the path."""
    processed_dir = Path(processed_dir)
    processed_dir.mkdir(parents=True, exist_ok=True)
    out = processed_dir / "aggregates.parquet"
    frame = typed(frame.copy())
    frame.attrs = {}
    write_atomic(out, lambda tmp: frame.to_parquet(tmp, index=False))
    return out


def accounting_holds(frame: pd.DataFrame, problems: list[Problem]) -> bool:
    """True when cells in = rows out + cells reported, for every return and in total."""
    acc: list[Accounting] = frame.attrs.get("accounting", [])
    cells_in = sum(a.cells_in for a in acc)
    dropped = sum(p.dropped for p in problems)
    return cells_in == len(frame) + dropped and all(a.holds for a in acc)


def run_aggregates(config: Config, out_dir: Path, outputs: list[Path]) -> AggregatesEntry:
    """Read the partners' returns when configured: write ``aggregates.parquet``, return the report's entry.

    The entry (``ingest_report.json``'s ``aggregates``) has ``status`` (``not
    configured``, ``built`` or ``failed``: a return not read at all), ``rows``,
    ``returns`` (each return's :class:`Accounting`), ``issues`` (each
    :class:`Problem` as :meth:`Problem.to_dict` writes it) and, when failed,
    ``error``. The file written is appended to ``outputs``.
    """
    target = out_dir / "aggregates.parquet"
    if not config.aggregates:
        if target.exists():
            target.unlink()
        return {"status": "not configured"}
    try:
        frame, problems = load_aggregates(config)
    except Exception as exc:  # the reader's own errors carry file, row and fix in their message
        if target.exists():
            target.unlink()
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "issues": []}
    accounting = [a.to_dict() for a in frame.attrs.get("accounting", [])]
    target = write_aggregates(frame, out_dir)
    outputs.append(target)
    unread = [a.get("file") for a in accounting if not a.get("cells_in") and a.get("errors")]
    entry: AggregatesEntry = {"status": "built", "rows": len(frame), "returns": accounting,
                              "issues": [p.to_dict() for p in problems]}  # both plain JSON (numpy integers as int)
    if unread:  # a return that could not be read at all is fatal for that return (others still loaded)
        errors = [p.message for p in problems if p.is_error and p.file in unread]
        entry["status"] = "failed"
        entry["error"] = (f"aggregate return(s) not read: {', '.join(map(str, unread))}: "
                          + "; ".join(map(str, errors[:3])))
    return entry


def _drop_cross_return_duplicates(out: pd.DataFrame, problems: list[Problem],
                                  accounting: list[Accounting]) -> pd.DataFrame:
    keys = ["indicator_id", "period_type", "period_start", "breakdown", "breakdown_value"]
    dup = out.duplicated(keys, keep="first")
    if not dup.any():
        return out
    first = out.drop_duplicates(keys, keep="first").set_index(keys)
    for _, r in out[dup].iterrows():
        f = first.loc[tuple(r[c] for c in keys)]
        problems.append(Problem(
            f"{r['source_file']} row {r['source_row']}: {r['indicator_id']} for {r['period_type']} "
            f"starting {r['period_start']:%d/%m/%Y} ({r['breakdown']}={r['breakdown_value']}) is also "
            f"given by {f['source_file']} row {f['source_row']}; the first was kept",
            "remove the figure from one of the two returns in report.yml (aggregates)",
            file=r["source_file"], row=int(r["source_row"]), value=show_value(r["numerator"]), reason="duplicate",
            severity="error", dropped=1))
        for a in accounting:
            if a.file == r["source_file"]:
                a.rows_out -= 1
                a.cells_dropped += 1
                a.errors += 1
                break
    return out[~dup].reset_index(drop=True)
