"""Ingest and indicators of every area of a manifest in one process: ``pipeline.py indicators --areas M``.

The data stages of ``build --areas`` done together, once for all areas, instead of once per area's process:

1. every area's settings are made and checked as ``build --areas`` makes them
   (:func:`safeguarding.areas.area_configs`: ``build/areas/<slug>.yml``);
2. each area's inputs are ingested into its own processed folder (``<paths.processed>/areas/<slug>/``);
3. the indicators of all areas are computed in one pass (:func:`safeguarding.indicators.engine.compute_areas`:
   each area's methods on its own tables, then the events of every area summed together, one ``bincount`` per
   indicator over area, breakdown value and month), and each area's ``indicators.parquet`` and ``.csv`` are
   written exactly as ``pipeline.py indicators`` writes them for that area alone.

Both stages go through the build's cache (:class:`safeguarding.cache.Incremental`, with the keys a build
computes), so a later ``build --areas`` finds every area's ingest and indicators there and goes straight on to
disclosure and the notebooks; ``--force`` recomputes and replaces the entries. An area whose ingest or indicators
fail is reported and the others carry on; the exit status is 0 only when every area's indicators were written.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from safeguarding.config import Config, ConfigError

if TYPE_CHECKING:
    from safeguarding.cache import Incremental

log = logging.getLogger(__name__)

#: areas whose indicators are computed together (bounds the memory of a very long manifest)
DEFAULT_CHUNK = 40


@dataclass
class AreaData:
    """How one area's ingest and indicators ended."""

    slug: str
    outcome: str = "ok"  # ok, failed
    message: str = ""
    failed_tables: int = 0
    indicator_rows: int = 0


@dataclass
class AreasDataRun:
    """The areas' outcomes and the seconds each stage took for all of them."""

    areas: list[AreaData]
    ingest_seconds: float
    indicators_seconds: float


def _caches(configs: list[tuple[str, Config]], force: bool, cache: bool) -> dict[str, Incremental | None]:
    from safeguarding.build import package_versions
    from safeguarding.cache import Incremental

    if not cache:
        return {slug: None for slug, _cfg in configs}
    versions = package_versions()
    return {slug: Incremental(cfg, cfg.audience, versions, force=force, logger=log, echo=lambda _m: None)
            for slug, cfg in configs}


def _ingest(cfg: Config, inc: Incremental | None, result: AreaData) -> None:
    from safeguarding.ingest import run_ingest
    from safeguarding.ingest.errors import IngestError

    try:
        done = inc.ingest(run_ingest) if inc is not None else run_ingest(cfg)
    except (IngestError, ConfigError, OSError, ValueError) as exc:
        result.outcome, result.message = "failed", f"ingest: {exc}"
        return
    result.failed_tables = len(getattr(done, "failed", {}) or {})


def _indicators(chunk: list[tuple[Config, Incremental | None, AreaData]]) -> None:
    """Compute the indicators of ``chunk``'s areas together; one by one if one area's tables are at fault."""
    from safeguarding.indicators.catalogue import CatalogueError, load_catalogue
    from safeguarding.indicators.engine import IndicatorInputError, compute_areas, indicator_inputs, write_indicators

    def store(cfg: Config, inc: Incremental | None, result: AreaData, table: pd.DataFrame) -> None:
        write_indicators(table, Path(cfg.processed_dir))
        if inc is not None:
            inc.indicators(lambda _cfg: table)
        result.indicator_rows = len(table)

    try:
        catalogue = load_catalogue(chunk[0][0])
        inputs = [indicator_inputs(cfg) for cfg, _inc, _r in chunk]
        for area, (_cfg, _inc, result) in zip(inputs, chunk, strict=True):
            area.label = result.slug
        tables = compute_areas(inputs, catalogue)
    except (IndicatorInputError, CatalogueError, ValueError, OSError) as exc:
        if len(chunk) == 1:
            chunk[0][2].outcome, chunk[0][2].message = "failed", f"indicators: {exc}"
            return
        for one in chunk:
            _indicators([one])
        return
    for (cfg, inc, result), table in zip(chunk, tables, strict=True):
        store(cfg, inc, result, table)


def _run_part(configs: list[tuple[str, Config]], force: bool, chunk: int, cache: bool = True) -> AreasDataRun:
    """Ingest these areas one after another, then compute their indicators together, ``chunk`` at a time."""
    caches = _caches(configs, force, cache)
    results = {slug: AreaData(slug) for slug, _cfg in configs}
    t = time.perf_counter()
    for slug, cfg in configs:
        _ingest(cfg, caches[slug], results[slug])
    ingest_seconds = time.perf_counter() - t
    ready = [(cfg, caches[slug], results[slug]) for slug, cfg in configs if results[slug].outcome == "ok"]
    t = time.perf_counter()
    size = max(1, int(chunk))
    for i in range(0, len(ready), size):
        _indicators(ready[i:i + size])
    return AreasDataRun(list(results.values()), ingest_seconds, time.perf_counter() - t)


def _run_files(files: list[str], year: int | None, force: bool, chunk: int, cache: bool) -> AreasDataRun:
    """:func:`_run_part` in a worker process, from the areas' settings files (``build/areas/<slug>.yml``)."""
    from safeguarding.config import load_config

    configs = [(cfg.area_slug, cfg) for cfg in (load_config(f, year=year) for f in files)]
    return _run_part(configs, force, chunk, cache)


def run_areas_data(config: Path, manifest: Path, *, year: int | None = None, force: bool = False,
                   chunk: int = DEFAULT_CHUNK, jobs: int = 1, cache: bool = True,
                   echo: Callable[[str], None] = print,
                   configs: dict[str, tuple[Path, Config]] | None = None) -> AreasDataRun:
    """Ingest every area of ``manifest`` and compute all their indicators in one pass (module docstring).

    With ``jobs`` above 1 the areas are split into that many runs of consecutive areas, each in its own
    process (each one pass over its areas). With ``cache`` false the build's cache is neither read nor
    written. Raises :class:`ConfigError` (every area's problems at once)
    before anything runs. ``configs``: the areas' settings when the caller has made them already
    (:func:`safeguarding.areas.area_configs`; ``build --areas``).
    """
    from safeguarding.areas import area_configs

    if configs is None:
        configs = area_configs(Path(config), Path(manifest), year=year)
    jobs = max(1, min(int(jobs), len(configs)))
    echo(f"ingesting {len(configs)} areas, then computing their indicators together"
         + (f" ({jobs} processes)" if jobs > 1 else ""))
    if jobs == 1:
        return _run_part([(slug, cfg) for slug, (_path, cfg) in configs.items()], force, chunk, cache)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    files = [str(path) for path, _cfg in configs.values()]
    size = -(-len(files) // jobs)
    shares = [files[i:i + size] for i in range(0, len(files), size)]
    with ProcessPoolExecutor(len(shares), mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = list(pool.map(_run_files, shares, [year] * len(shares), [force] * len(shares),
                              [chunk] * len(shares), [cache] * len(shares)))
    return AreasDataRun([a for p in parts for a in p.areas], max(p.ingest_seconds for p in parts),
                        max(p.indicators_seconds for p in parts))


def run(args: argparse.Namespace) -> int:
    """``pipeline.py indicators --areas MANIFEST``: exit 0 only when every area's indicators were written."""
    try:
        done = run_areas_data(Path(args.config), Path(args.areas), year=args.year, force=args.force,
                              chunk=args.chunk, jobs=args.jobs, cache=not args.no_cache)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ok = [a for a in done.areas if a.outcome == "ok"]
    print(f"{len(ok)} of {len(done.areas)} areas: ingest {done.ingest_seconds:.1f} s, indicators "
          f"{done.indicators_seconds:.1f} s (the slowest process's); {sum(a.indicator_rows for a in ok):,} "
          "indicator rows written")
    for a in done.areas:
        if a.outcome != "ok":
            print(f"  {a.slug}: FAILED: {a.message}", file=sys.stderr)
        elif a.failed_tables:
            print(f"  {a.slug}: {a.failed_tables} input table(s) could not be read (see its ingest_report.md)",
                  file=sys.stderr)
    return 0 if len(ok) == len(done.areas) else 1
