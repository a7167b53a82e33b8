"""Many areas in one run: ``pipeline.py build --areas manifest.csv --jobs N``.

One ``report.yml`` says how every area's files are laid out and read (the ``inputs`` and ``aggregates``
under ``paths.raw``, the benchmarks, the report's status); a **manifest** lists the areas, one row each,
with the folder holding that area's files. ``pipeline.py synth --scale england`` writes one.

Manifest columns (CSV, UTF-8, one header row):

- ``name`` (required): the area's name, as the review's title shows it;
- ``folder`` (required): the area's raw files, relative to the manifest's folder; each input of
  ``report.yml`` is looked for at the same path under this folder as under ``paths.raw``;
- ``slug``: the area's folder under ``reports/`` (default: made from the name);
- ``la_code``: the DfE council code (the benchmarks' region and statistical neighbours);
- ``population_YYYY``: children aged 0-17 in the year ending 31 March ``YYYY``; ``population`` alone is the
  reporting year's;
- ``editorial``: the folder of the board's own words for this area (relative to the manifest's folder).

What belongs to one area is never taken from ``report.yml`` for another: ``area``, ``population``,
``editorial``, ``site`` and ``targets`` come from the manifest or are left out. Each area's processed
tables go to ``<paths.processed>/areas/<slug>/``, its review to ``reports/<slug>/`` as for one area.

Every area's settings are checked before any area is built, and every problem is reported at once with
its manifest row; they are then written to ``build/areas/<slug>.yml`` (with ``based_on`` naming
``report.yml``, whose folder stays the project folder: its notebooks, ``_quarto.yml``, cache and logs).
Each area is then built in its own process, so one that fails, or whose process dies, stops no other;
``--jobs N`` is N processes in all (:func:`area_kernels`: N areas at a time, each in one process, or fewer
areas with a share of the N each; one per core when not given); a summary lists every area's outcome,
time and log, printed and kept as ``logs/areas-<run id>/summary.json``. The exit status is 0 only when
every area published.
"""

from __future__ import annotations

import argparse
import copy
import csv
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from safeguarding.config import Config, ConfigError, config_from_mapping
from safeguarding.config_schema import is_slug, slugify

#: settings that describe one area: never carried from ``report.yml`` to the areas of a manifest
AREA_OWN_KEYS = ("area", "population", "editorial", "site", "targets")
REQUIRED_COLUMNS = ("name", "folder")
OPTIONAL_COLUMNS = ("slug", "la_code", "population", "editorial")
_POPULATION_YEAR = re.compile(r"population_(\d{4})")


@dataclass(frozen=True)
class Area:
    """One row of a manifest."""

    row: int
    name: str
    slug: str
    folder: Path
    la_code: str | None = None
    population: dict[int, float] = field(default_factory=dict)
    editorial: Path | None = None


@dataclass
class AreaOutcome:
    """How one area's build ended."""

    slug: str
    name: str
    outcome: str  # published, failed, stopped
    seconds: float
    exit_status: int
    log: str
    output: str = ""
    message: str = ""


def _number(text: str, where: str, problems: list[str]) -> float | None:
    value = text.strip().replace(",", "")
    if not value:
        return None
    try:
        n = float(value)
    except ValueError:
        problems.append(f"{where}: {text!r} is not a number; give the count of children aged 0-17, e.g. 28302")
        return None
    if not n > 0:
        problems.append(f"{where}: {text!r} must be more than 0 (children aged 0-17)")
        return None
    return n


def _row_area(row: dict[str, str], n: int, manifest: Path, year: int, problems: list[str]) -> Area | None:
    where = f"{manifest}, row {n}"
    name = (row.get("name") or "").strip()
    folder_text = (row.get("folder") or "").strip()
    found_before = len(problems)
    if not name:
        problems.append(f"{where}, column name: empty; give the area's name")
    if not folder_text:
        problems.append(f"{where}, column folder: empty; give the folder of the area's files, relative to "
                        f"{manifest.parent}")
    folder = (manifest.parent / folder_text).resolve()
    if folder_text and not folder.is_dir():
        problems.append(f"{where}, column folder: {folder} is not a folder; correct the path (relative to the "
                        "manifest's folder)")
    slug = (row.get("slug") or "").strip() or slugify(name)
    if not is_slug(slug):
        problems.append(f"{where}, column slug: {slug!r} is not allowed (lower-case letters, digits and "
                        f"hyphens); use e.g. {slugify(slug)!r}")
    population: dict[int, float] = {}
    for column, text in row.items():
        m = _POPULATION_YEAR.fullmatch(column or "")
        if m and text is not None:
            n_children = _number(text, f"{where}, column {column}", problems)
            if n_children is not None:
                population[int(m.group(1))] = n_children
    if (row.get("population") or "").strip():
        n_children = _number(row["population"], f"{where}, column population", problems)
        if n_children is not None:
            population.setdefault(year, n_children)
    editorial_text = (row.get("editorial") or "").strip()
    editorial = (manifest.parent / editorial_text).resolve() if editorial_text else None
    if len(problems) > found_before:
        return None
    return Area(row=n, name=name, slug=slug, folder=folder, la_code=(row.get("la_code") or "").strip() or None,
                population=population, editorial=editorial)


def read_manifest(manifest: Path, year: int) -> list[Area]:
    """The areas a manifest lists, every problem reported at once (file, row, column and the fix)."""
    manifest = Path(manifest)
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{manifest}: cannot read the areas manifest as UTF-8 text: {exc}") from exc
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip() for c in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ConfigError(f"{manifest}, row 1: no column {', '.join(missing)}; the manifest's header must name "
                          f"{', '.join(REQUIRED_COLUMNS)} (and may name {', '.join(OPTIONAL_COLUMNS)}, "
                          "population_YYYY)")
    problems: list[str] = []
    areas: list[Area] = []
    for n, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v if isinstance(v, str) else "") for k, v in row.items()}
        area = _row_area(row, n, manifest, year, problems)
        if area is not None:
            areas.append(area)
    seen: dict[str, int] = {}
    for a in areas:
        if a.slug in seen:
            problems.append(f"{manifest}, row {a.row}, column slug: {a.slug!r} is also row {seen[a.slug]}'s; "
                            "two areas cannot publish to one folder: give one a slug of its own")
        seen.setdefault(a.slug, a.row)
    if not areas and not problems:
        problems.append(f"{manifest}: lists no areas; add one row per area under the header")
    if problems:
        raise ConfigError(f"{manifest}: {len(problems)} problem(s) in the areas manifest:\n"
                          + "\n".join(f"  - {p}" for p in problems))
    return areas


def _rerooted(value: object, key: str, raw_dir: Path, folder: Path, root: Path) -> str:
    path = Path(str(value))
    resolved = (path if path.is_absolute() else root / path).resolve()
    if not resolved.is_relative_to(raw_dir):
        raise ConfigError(f"{key}: {value} is not under paths.raw ({raw_dir}); with --areas each input is found "
                          "in each area's folder at its path under paths.raw, so put it there")
    return str(folder / resolved.relative_to(raw_dir))


def _reroot_files(specs: object, key: str, raw_dir: Path, area: Area, root: Path) -> None:
    """Point each ``file`` of ``inputs`` (a mapping) or ``aggregates`` (a list) at the area's copy."""
    items = specs.items() if isinstance(specs, dict) else enumerate(specs) if isinstance(specs, list) else ()
    for name, spec in items:
        if isinstance(spec, dict) and spec.get("file") is not None:
            where = f"{key}.{name}.file" if isinstance(specs, dict) else f"{key}[{name}].file"
            spec["file"] = _rerooted(spec["file"], where, raw_dir, area.folder, root)


def area_settings(base: Mapping[str, object], root: Path, area: Area) -> dict[str, object]:
    """One area's settings: ``report.yml``'s, with the area's own from the manifest and its files' paths."""
    raw = {k: copy.deepcopy(v) for k, v in base.items() if k not in AREA_OWN_KEYS}
    raw["area"] = {"name": area.name, "slug": area.slug, **({"la_code": area.la_code} if area.la_code else {})}
    if area.population:
        raw["population"] = dict(sorted(area.population.items()))
    if area.editorial is not None:
        raw["editorial"] = str(area.editorial)
    given = raw.get("paths")
    paths: dict[str, object] = dict(given) if isinstance(given, dict) else {}
    raw_dir = (root / str(paths.get("raw", "data/raw"))).resolve()
    processed = Path(str(paths.get("processed", "data/processed")))
    paths["raw"] = str(area.folder)
    paths["processed"] = str(processed / "areas" / area.slug)
    raw["paths"] = paths
    _reroot_files(raw.get("inputs"), "inputs", raw_dir, area, root)
    _reroot_files(raw.get("aggregates"), "aggregates", raw_dir, area, root)
    return raw


def _base_settings(config: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(Path(config).read_text(encoding="utf-8-sig")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{config}: cannot be read: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{config}: the top level must be a mapping of settings (key: value lines)")
    return raw


def area_configs(config: Path, manifest: Path, *, year: int | None = None,
                 audience: str | None = None) -> dict[str, tuple[Path, Config]]:
    """Every area's settings, checked, then written to ``build/areas/<slug>.yml``: ``{slug: (file, config)}``.

    All problems of all areas are raised together (:class:`ConfigError`) before any file is written.
    """
    base = _base_settings(config)
    root = Path(config).resolve().parent
    base_year = year if year is not None else base.get("year")
    if not isinstance(base_year, int):
        raise ConfigError(f"{config}: year: give the reporting year (or --year) to build a manifest's areas")
    folder = root / "build" / "areas"
    checked: dict[str, tuple[Path, Config, dict[str, Any]]] = {}
    problems: list[str] = []
    for area in read_manifest(Path(manifest), base_year):
        label = f"{manifest}, row {area.row} ({area.slug}), with {config}"
        try:
            raw = area_settings(base, root, area)
            raw["based_on"] = str(Path(config).resolve())
            target = folder / f"{area.slug}.yml"
            cfg = config_from_mapping(raw, target, year=year, audience=audience, label=label)
        except ConfigError as exc:
            problems.append(str(exc) if str(exc).startswith(label) else f"{label}: {exc}")
            continue
        checked[area.slug] = (target, cfg, raw)
    if problems:
        raise ConfigError("\n".join(problems))
    folder.mkdir(parents=True, exist_ok=True)
    for target, _cfg, raw in checked.values():
        target.write_text("# written by pipeline.py build --areas from " + str(raw["based_on"]) + "; do not edit\n"
                          + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return {slug: (target, cfg) for slug, (target, cfg, _raw) in checked.items()}


def jobs_of(args: argparse.Namespace) -> int:
    """The processes a many-area build may run at once: ``--jobs``, or one per core when it is not given."""
    given = getattr(args, "jobs", None)
    return max(1, int(given) if given else os.cpu_count() or 1)


def area_kernels(args: argparse.Namespace, areas: int) -> int:
    """Chapter kernels (and disclosure processes) for each area's build: ``--kernels``, or the area's share.

    ``--jobs N`` is N processes in all: ``min(N, areas)`` areas are built at once and each takes an equal
    share of the N (at least one). So ``--jobs 1`` builds one area at a time in one process, and ``--jobs 2``
    with many areas builds two at a time, each in one process; with two areas and ``--jobs 4`` each area's
    chapters run two at a time.
    """
    given = getattr(args, "kernels", None)
    if given:
        return int(given)
    jobs = jobs_of(args)
    return max(1, jobs // max(1, min(jobs, areas)))


def _child_command(args: argparse.Namespace, settings: Path, areas: int = 1) -> list[str]:
    cmd = [sys.executable, "-m", "safeguarding.cli", "build", "--config", str(settings),
           "--renderer", args.renderer, "--wait", str(args.wait)]
    cmd += ["--year", str(args.year)] if args.year is not None else []
    cmd += ["--audience", args.audience] if args.audience else []
    cmd += ["--force"] if getattr(args, "force", False) else []
    cmd += ["--kernels", str(area_kernels(args, areas))]
    cmd += ["--allow-missing-inputs"] if args.allow_missing_inputs else []
    cmd += ["--keep-build"] if args.keep_build else []
    return cmd


def _last_error(log: Path) -> str:
    try:
        lines = [ln.strip() for ln in log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    for ln in reversed(lines):
        if ln.startswith(("BUILD FAILED", "error:", "BUILD INTERRUPTED")) or "Error" in ln.split(":")[0]:
            return ln[:500]
    return lines[-1][:500] if lines else ""


def _build_one(cfg: Config, cmd: list[str], log: Path) -> AreaOutcome:
    started = time.perf_counter()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("w", encoding="utf-8") as fh:
        status = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, check=False).returncode
    seconds = round(time.perf_counter() - started, 1)
    out = cfg.reports_dir / cfg.area_slug / (f"{cfg.year}" if cfg.audience == "public" else f"{cfg.year}-board")
    if status == 0:
        return AreaOutcome(cfg.area_slug, cfg.area_name, "published", seconds, 0, str(log), str(out))
    outcome = "stopped" if status < 0 or status in (130, 143) else "failed"
    return AreaOutcome(cfg.area_slug, cfg.area_name, outcome, seconds, status, str(log), "", _last_error(log))


def build_areas(args: argparse.Namespace, echo: Callable[[str], None] = print) -> tuple[list[AreaOutcome], Path]:
    """Build every area of ``args.areas`` (``--jobs`` at a time, each in its own process); outcomes and log folder.

    The areas' settings are all checked first (:class:`ConfigError` before anything runs). Then, unless
    ``args.force``, every area's ingest and indicators run in one pass, ``--jobs`` processes each taking a
    share of the areas (:func:`safeguarding.areas_data.run_areas_data`), into the build's cache, where each
    area's build finds them. An area whose data fail there is built all the same: its build fails at the
    same stage and its log says why.
    """
    configs = area_configs(Path(args.config), Path(args.areas), year=args.year, audience=args.audience)
    jobs = jobs_of(args)
    root = Path(args.config).resolve().parent
    run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    log_dir = root / "logs" / f"areas-{run_id}"
    log_dir.mkdir(parents=True, exist_ok=True)
    if not getattr(args, "force", False):
        # every area's ingest and indicators in one pass, into the build's cache: each area's build then goes
        # straight on to disclosure and the notebooks (with --force each area's build recomputes them anyway)
        from safeguarding.areas_data import run_areas_data

        try:
            data = run_areas_data(Path(args.config), Path(args.areas), year=args.year, jobs=jobs, echo=echo,
                                  configs=configs)  # the settings made and written above
        except Exception as exc:  # the pass only saves work: each area's build still does its own
            echo(f"the one pass over the areas' data stopped ({type(exc).__name__}: {exc}); each area's build "
                 "ingests and computes its own")
        else:
            failed = [a.slug for a in data.areas if a.outcome != "ok"]
            partial = [a.slug for a in data.areas if a.outcome == "ok" and a.failed_tables]
            echo(f"data of {len(data.areas) - len(failed)} of {len(data.areas)} areas ready: ingest "
                 f"{data.ingest_seconds:.1f} s, indicators {data.indicators_seconds:.1f} s"
                 + (f"; failed: {', '.join(failed)}" if failed else "")
                 + (f"; input tables that could not be read: {', '.join(partial)}" if partial else "")
                 + (" (each area's build log says why)" if failed or partial else ""))
    at_once = min(jobs, len(configs))
    kernels = area_kernels(args, len(configs))
    echo(f"building {len(configs)} areas, {at_once} at a time ({kernels} process{'es' if kernels > 1 else ''} "
         f"each); each area's log is in {log_dir}")

    def one(slug: str) -> AreaOutcome:
        settings, cfg = configs[slug]
        result = _build_one(cfg, _child_command(args, settings, len(configs)), log_dir / f"{slug}.log")
        echo(f"  {slug}: {result.outcome} in {result.seconds:.1f} s"
             + (f" ({result.message})" if result.message else ""))
        return result

    with ThreadPoolExecutor(max_workers=at_once) as pool:
        outcomes = list(pool.map(one, list(configs)))
    summary = {"run_id": run_id, "config": str(args.config), "manifest": str(args.areas), "jobs": jobs,
               "areas": [asdict(o) for o in outcomes],
               "counts": {k: sum(o.outcome == k for o in outcomes) for k in ("published", "failed", "stopped")}}
    (log_dir / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return outcomes, log_dir


def summary_lines(outcomes: Sequence[AreaOutcome]) -> list[str]:
    """The summary table printed at the end of a many-area build."""
    width = max((len(o.slug) for o in outcomes), default=4)
    lines = []
    for o in outcomes:
        where = o.output if o.outcome == "published" else f"{o.message} (log: {o.log})"
        lines.append(f"  {o.slug:<{width}}  {o.outcome.upper() if o.outcome != 'published' else o.outcome:<9}  "
                     f"{o.seconds:>7.1f} s  {where}")
    return lines


def run_areas(args: argparse.Namespace) -> int:
    """``pipeline.py build --areas MANIFEST``: build every area; exit 0 only when every area published."""
    try:
        outcomes, log_dir = build_areas(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    published = sum(o.outcome == "published" for o in outcomes)
    print(f"\n{published} of {len(outcomes)} areas published; summary in {log_dir / 'summary.json'}")
    print("\n".join(summary_lines(outcomes)))
    return 0 if published == len(outcomes) else 1
