"""The benchmark suite: every README performance figure, with medians, peak memory and the machine it ran on.

Runs each benchmark script of this folder in a fresh process (its peak
resident memory is that process tree's own: the largest single process, from
``os.wait4``), several times (``--repeats``, default 3), and prints for each
figure the median, the smallest and largest run, and, where issue 19 (or the
README) gives a target, whether the median meets it. A machine header comes
first: CPU, cores, memory, operating system, Python, key package versions,
date, load average and git commit. Nothing here asserts a speed: a missed
target is reported, not an error (the exit status is 1 only when a benchmark
fails to run).

    python benchmarks/suite.py [--repeats 3] [--only NAME ...] [--quick] [--json FILE] [--list]

``--quick`` runs each benchmark once at the smallest size its script offers
(a smoke test of the suite, not a measurement). Benchmarks whose script does
its own fresh-process runs (ingest, build, England, ...) are started once with
the repeats; the others are started once per repeat.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent

#: packages whose versions are printed in the machine header
PACKAGES = ("numpy", "pandas", "pyarrow", "scipy", "papermill", "lxml", "XlsxWriter", "openpyxl", "pypandoc-binary",
            "typst")


# --------------------------------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Figure:
    """How one measured quantity is shown and judged: its unit and, where one is set, its target."""

    unit: str = "s"
    #: the median must be below this (``higher=False``) or at least this (``higher=True``)
    target: float | None = None
    higher: bool = False
    #: where the target comes from
    source: str = ""


def summarise(samples: Sequence[float]) -> dict[str, float | int]:
    """The median, smallest and largest of one figure's runs (an even count's median: the mean of the middle two)."""
    if not samples:
        raise ValueError("no samples to summarise")
    ordered = sorted(float(s) for s in samples)
    n = len(ordered)
    mid = n // 2
    median = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return {"median": median, "min": ordered[0], "max": ordered[-1], "runs": n}


def verdict(figure: Figure, median: float, *, quick: bool = False) -> str:
    """``met``, ``not met``, ``no target``, or (``quick``: sizes too small to judge) ``not judged``."""
    if figure.target is None:
        return "no target"
    if quick:
        return "not judged (quick)"
    met = median >= figure.target if figure.higher else median < figure.target
    return "met" if met else "not met"


# --------------------------------------------------------------------------------------------------- parsers
# Each parser reads one script's printed output and returns {figure name: [one value per run]} and notes.

Parsed = tuple[dict[str, list[float]], list[str]]


def _floats(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"\d[\d,]*(?:\.\d+)?", text)]


def parse_build(out: str) -> Parsed:
    """bench_build.py: ``run 1: 37.2 s  ingest 0.2, indicators 1.2, ...`` per run."""
    found: dict[str, list[float]] = {}
    for total, stages in re.findall(r"^run \d+: ([\d.]+) s  (.*)$", out, flags=re.M):
        found.setdefault("cold build, total", []).append(float(total))
        for stage, seconds in re.findall(r"(\w+) ([\d.]+)", stages):
            found.setdefault(f"stage {stage}", []).append(float(seconds))
    return found, []


def parse_incremental(out: str) -> Parsed:
    """bench_incremental.py: ``run 1: cold 67.5 s (0 stages cached); no change 1.0 s (...); ...`` per run."""
    found: dict[str, list[float]] = {}
    for line in re.findall(r"^run \d+: (.*)$", out, flags=re.M):
        for measure, seconds in re.findall(r"(cold|no change|commentary edited|code edited) ([\d.]+) s", line):
            found.setdefault(f"rebuild, {measure}" if measure != "cold" else "cold build", []).append(float(seconds))
    return found, []


def parse_preview(out: str) -> Parsed:
    """bench_preview.py: ``run 1: save to new version served 1.8 s (build ...)`` per run."""
    runs = [float(x) for x in re.findall(r"^run \d+: save to new version served ([\d.]+) s", out, flags=re.M)]
    first = re.search(r"^first build: ([\d.]+) s", out, flags=re.M)
    return {"save to new review served": runs}, [f"first build {first.group(1)} s"] if first else []


def parse_ingest(out: str) -> Parsed:
    """bench_ingest.py: ``rows per run: N ...``, ``seconds per run: a, b, c`` and the ingest's peak memory."""
    rows = re.search(r"^rows per run: ([\d,]+)", out, flags=re.M)
    secs = re.search(r"^seconds per run: (.*)$", out, flags=re.M)
    peak = re.search(r"^peak memory \(max RSS of the ingest process\): ([\d,]+) MB", out, flags=re.M)
    if not rows or not secs:
        return {}, []
    n = float(rows.group(1).replace(",", ""))
    found = {"ingest rows/s": [n / s for s in _floats(secs.group(1))]}
    if peak:
        found["ingest process peak"] = [float(peak.group(1).replace(",", ""))]
    data = re.search(r"^data: (.*)$", out, flags=re.M)
    return found, [f"{data.group(1)}, {int(n):,} rows per run"] if data else []


def parse_indicators(out: str) -> Parsed:
    """bench_indicators.py: ``times (s): a, b, c``."""
    times = re.search(r"^times \(s\): (.*)$", out, flags=re.M)
    rows = re.search(r"^compute_indicators: (.*)$", out, flags=re.M)
    return ({"compute_indicators": _floats(times.group(1))} if times else {}), ([rows.group(1)] if rows else [])


def parse_disclosure(out: str) -> Parsed:
    """bench_disclosure.py: ``suppress_indicator_table: N rows, ...; median X s over R runs``."""
    found = re.search(r"^suppress_indicator_table: (.*); median ([\d.]+) s over", out, flags=re.M)
    return ({"suppress_indicator_table": [float(found.group(2))]}, [found.group(1)]) if found else ({}, [])


def parse_publication(out: str) -> Parsed:
    """bench_publication.py: ``run R: X s (N runs, ...)`` per run and ``protect_publication: ...; median X s over``."""
    runs = [float(x) for x in re.findall(r"^run \d+: ([\d.]+) s \(", out, flags=re.M)]
    found = re.search(r"^protect_publication: (.*); median [\d.]+ s over (.*)$", out, flags=re.M)
    notes = [f"{found.group(1)}, {found.group(2)}"] if found else []
    return ({"protect_publication (demo)": runs} if runs else {}), notes


def parse_xlsx(out: str) -> Parsed:
    """bench_xlsx.py: ``N rows x C columns: median X s (runs: a, b), peak Python memory P MiB, file K KiB``."""
    found = re.search(r"^(.*): median [\d.]+ s \(runs: ([^)]*)\), peak Python memory ([\d,]+) MiB", out, flags=re.M)
    if not found:
        return {}, []
    return ({"write_xlsx": _floats(found.group(2)), "write_xlsx Python peak": [float(found.group(3).replace(",", ""))]},
            [found.group(1)])


def parse_england_one_pass(out: str) -> Parsed:
    """bench_england_one_pass.py: ``one pass, --jobs J, run R: T s (...), peak P MiB, ...`` per run."""
    found: dict[str, list[float]] = {}
    for jobs, secs, peak in re.findall(r"^one pass, --jobs (\d+), run \d+: ([\d.]+) s .*?, peak ([\d,]+) MiB",
                                       out, flags=re.M):
        found.setdefault(f"England one pass, --jobs {jobs}", []).append(float(secs))
        found.setdefault(f"England one pass peak, --jobs {jobs}", []).append(float(peak.replace(",", "")))
    return found, []


def parse_kernel_context(out: str) -> Parsed:
    """bench_kernel_context.py: ``context WAY  import I  load L  first cell F ...`` (medians), one line per way."""
    found = {f"first cell, context {way}": [float(first)] for way, first in re.findall(
        r"^\s+context (worked out|saved)\s+import [\d.]+\s+load [\d.]+\s+first cell ([\d.]+)", out, flags=re.M)}
    head = re.search(r"^(chapter .*):$", out, flags=re.M)
    return found, [head.group(1)] if head else []


def prepare_kernel_context(opts: Options) -> str | None:
    """The kernel benchmark opens the demo's processed tables: they must have been built."""
    if not (PROJECT / "data" / "processed" / "indicators_public.parquet").is_file():
        return "the demo's processed tables are not built: run the README's first command, then the suite"
    return None


def parse_england(out: str) -> Parsed:
    """bench_england.py: ``run 1: T s (ingest I s, indicators J s), peak P MiB`` per run."""
    found: dict[str, list[float]] = {}
    for total, ing, ind, peak in re.findall(
            r"^run \d+: ([\d.]+) s \(ingest ([\d.]+) s, indicators ([\d.]+) s\), peak ([\d,]+) MiB", out, flags=re.M):
        for name, value in (("England ingest + indicators", total), ("ingest", ing), ("indicators", ind),
                            ("England process peak", peak)):
            found.setdefault(name, []).append(float(value.replace(",", "")))
    notes = re.findall(r"^(councils: .*)$", out, flags=re.M)
    return found, notes


def parse_cin_census(out: str) -> Parsed:
    """bench_cin_census.py: ``run 1: T s, peak P MiB`` per run, the file line and one line per peer."""
    seconds = [float(x) for x in re.findall(r"^run \d+: ([\d.]+) s, peak", out, flags=re.M)]
    rows = re.search(r"^file: .*?([\d,]+) rows \(", out, flags=re.M)
    found = {"read census (6 tables)": seconds}
    if rows and seconds:
        n = float(rows.group(1).replace(",", ""))
        found["census rows/s"] = [n / s for s in seconds if s > 0]
    notes = re.findall(r"^(file: .*)$", out, flags=re.M) + re.findall(r"^(peer .*)$", out, flags=re.M)
    return found, notes


# --------------------------------------------------------------------------------------------------- registry


@dataclass
class Options:
    """What the command line asked for, and the scratch folder the benchmarks may keep data in."""

    repeats: int
    quick: bool
    scratch: Path


#: a ``prepare`` reason starting with this is a failure, any other reason a skip
FAILED = "failed: "


@dataclass(frozen=True)
class Benchmark:
    """One benchmark script, how to start it, how to read its output, and the README figure it reproduces."""

    name: str
    script: str | None
    readme: str
    parse: Callable[[str], Parsed] | None = None
    #: the script's arguments for one start; ``repeats`` is the runs that start must do
    args: Callable[[Options, int], list[str]] = lambda opts, repeats: ["--repeats", str(repeats)]
    #: the script does its own runs, each in a fresh process: start it once with all the repeats
    runs_inside: bool = True
    figures: dict[str, Figure] = field(default_factory=dict)
    #: returns a reason to skip (or, starting with ``FAILED``, why it failed) or None; may prepare data, untimed
    prepare: Callable[[Options], str | None] | None = None


def _keep(opts: Options, name: str) -> list[str]:
    folder = opts.scratch / name
    folder.mkdir(parents=True, exist_ok=True)
    return ["--keep", str(folder)]


def _xlsx_table(opts: Options) -> Path:
    return opts.scratch / "xlsx-demo" / "reports" / "northwold" / "2025" / "data" / "indicators.csv"


def prepare_xlsx(opts: Options) -> str | None:
    """Build the demo once (untimed) unless its published table is already in the project's reports/."""
    if (PROJECT / "reports/northwold/2025/data/indicators.csv").exists() or _xlsx_table(opts).exists():
        return None
    sys.path.insert(0, str(PROJECT / "tests"))
    from e2e import demo_config_copy  # the tests' own copy of the demo configuration

    root = opts.scratch / "xlsx-demo"
    root.mkdir(parents=True, exist_ok=True)
    cfg = demo_config_copy(root)
    env = dict(os.environ, SAFEGUARDING_KEY_FILE=str(root / "pseudonym.key"))
    print("  (building the demo once for its published table, untimed)", flush=True)
    proc = subprocess.run([sys.executable, "pipeline.py", "build", "--config", str(cfg), "--renderer", "builtin"],
                          cwd=PROJECT, env=env, capture_output=True, text=True, check=False)
    if proc.returncode or not _xlsx_table(opts).exists():
        return f"{FAILED}the demo build for the published table failed: {proc.stdout[-500:]} {proc.stderr[-500:]}"
    return None


def _xlsx_args(opts: Options, repeats: int) -> list[str]:
    csv = PROJECT / "reports/northwold/2025/data/indicators.csv"
    return ["--repeats", str(repeats), "--csv", str(csv if csv.exists() else _xlsx_table(opts))]


def parse_areas(out: str) -> Parsed:
    """bench_areas.py: ``run R, --jobs J: T s (...)`` per run and ``speed-up --jobs H against --jobs L: X times``."""
    found: dict[str, list[float]] = {}
    for jobs, secs in re.findall(r"^run \d+, --jobs (\d+): ([\d.]+) s", out, flags=re.M):
        found.setdefault(f"areas, --jobs {jobs}", []).append(float(secs))
    speed = re.search(r"^speed-up --jobs (\d+) against --jobs (\d+): ([\d.]+) times", out, flags=re.M)
    if speed:
        found["--jobs 2 against --jobs 1"] = [float(speed.group(3))]
    notes = re.findall(r"^run \d+, --jobs \d+: [\d.]+ s \((?!all published)([^)]*)\)", out, flags=re.M)
    return found, [f"an area failed: {n}" for n in notes]


ISSUE19 = "issue 19"
BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("build", "bench_build.py", "cold demo build, both formats (stage times from run.json)", parse_build,
              figures={"cold build, total": Figure("s", 20.0, source=ISSUE19)}),
    Benchmark("incremental", "bench_incremental.py",
              "demo rebuilds: cold, nothing changed, commentary edited, code edited (with bench_edit_loop.py)",
              parse_incremental,
              figures={"rebuild, no change": Figure("s", 2.0, source="issue 17"),
                       "rebuild, commentary edited": Figure("s", 8.0, source="issue 17")}),
    Benchmark("preview", "bench_preview.py", "preview: save to new review served (with bench_edit_loop.py)",
              parse_preview, figures={"save to new review served": Figure("s", 10.0, source="issue 17")}),
    Benchmark("ingest", "bench_ingest.py", "ingest rows/s, large council", parse_ingest,
              args=lambda o, r: ["--runs", str(r), *(["--years", "1"] if o.quick else [])],
              figures={"ingest rows/s": Figure("rows/s", 500_000, higher=True, source=ISSUE19),
                       "ingest process peak": Figure("MiB")}),
    Benchmark("indicators", "bench_indicators.py", "compute_indicators, large council, 10 years", parse_indicators,
              args=lambda o, r: ["--repeats", str(r), *(["--years", "1"] if o.quick else []),
                                 *_keep(o, "indicators-1" if o.quick else "indicators")],
              runs_inside=False, figures={"compute_indicators": Figure("s", 10.0, source="README")}),
    Benchmark("disclosure", "bench_disclosure.py", "suppress_indicator_table, synthetic 25-indicator table",
              parse_disclosure, args=lambda o, r: [str(r)], runs_inside=False),
    Benchmark("publication", "bench_publication.py",
              "protect_publication on the demo (the build's disclosure stage: 30 runs over 9 rounds)",
              parse_publication, runs_inside=True,
              args=lambda o, r: ["--repeats", str(r), *_keep(o, "publication")]),
    Benchmark("xlsx", "bench_xlsx.py", "the demo's public table to XLSX", parse_xlsx, args=_xlsx_args,
              figures={"write_xlsx": Figure("s", 1.0, source="README"), "write_xlsx Python peak": Figure("MiB")},
              prepare=prepare_xlsx),
    Benchmark("england", "bench_england.py", "all of England, one year, ingest + indicators (council by council)",
              parse_england,
              args=lambda o, r: ["--repeats", str(r), *(["--councils", "3"] if o.quick else []), *_keep(o, "england")],
              figures={"England ingest + indicators": Figure("s", 60.0, source=ISSUE19),
                       "England process peak": Figure("MiB", 4096.0, source=ISSUE19)}),
    Benchmark("cin_census", "bench_cin_census.py", "CIN census XML reader (peers where installed)", parse_cin_census,
              args=lambda o, r: ["--repeats", str(r), *(["--scale", "small"] if o.quick else []),
                                 *_keep(o, "cin_census")],
              figures={"census rows/s": Figure("rows/s")}),
    Benchmark("england_one_pass", "bench_england_one_pass.py",
              "all of England, one year, ingest + indicators in one pass (indicators --areas), --jobs 1 and 2",
              parse_england_one_pass, runs_inside=True,
              args=lambda o, r: ["--repeats", str(r), *(["--councils", "3"] if o.quick else []),
                                 "--keep", str(o.scratch / "england-one-pass")],
              figures={"England one pass, --jobs 1": Figure("s", 60.0, source=ISSUE19),
                       "England one pass, --jobs 2": Figure("s", 60.0, source=ISSUE19),
                       "England one pass peak, --jobs 1": Figure("MiB", 4096.0, source=ISSUE19),
                       # each of the two processes' own peak (two at once: up to twice this together)
                       "England one pass peak, --jobs 2": Figure("MiB")}),
    Benchmark("kernel_context", "bench_kernel_context.py",
              "a chapter kernel's first cell (report layer import and context), saved context against worked out",
              parse_kernel_context, runs_inside=True, prepare=prepare_kernel_context,
              args=lambda o, r: ["--config", str(PROJECT / "report.yml"), "--repeats", str(r)],
              figures={"first cell, context saved": Figure("s"), "first cell, context worked out": Figure("s")}),
    Benchmark("multi_area_jobs", "bench_areas.py", "twenty areas' reviews, build --areas --jobs 2 against --jobs 1",
              parse_areas, runs_inside=True,
              args=lambda o, r: ["--repeats", str(r), "--areas", "2" if o.quick else "20",
                                 *_keep(o, "areas-2" if o.quick else "areas")],
              figures={"--jobs 2 against --jobs 1": Figure("x", 1.7, higher=True, source=ISSUE19),
                       "areas, --jobs 1": Figure("s"), "areas, --jobs 2": Figure("s")}),
)

#: scripts whose figures the suite reports through other entries
COVERED_ELSEWHERE = {"bench_edit_loop.py": "its three figures are the incremental and preview entries'"}


# --------------------------------------------------------------------------------------------------- running


def run_script(argv: list[str], log: Path) -> tuple[int, str, float, float]:
    """Run one benchmark start in a fresh process; return its exit code, output, wall seconds and peak RSS (MiB).

    The peak is ``ru_maxrss`` from ``os.wait4``: the largest single process of the tree (the script or a
    process it waited for), not their sum.
    """
    with open(log, "w+", encoding="utf-8") as out:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, *argv], cwd=PROJECT, stdout=out, stderr=subprocess.STDOUT,
                                env=dict(os.environ, PYTHONUNBUFFERED="1"))
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        out.seek(0)
        text = out.read()
    return proc.returncode, text, wall, usage.ru_maxrss / 1024


def run_benchmark(bench: Benchmark, opts: Options) -> dict[str, Any]:
    """Start one benchmark (once, or once per repeat) and return its result record."""
    record: dict[str, Any] = {"name": bench.name, "script": bench.script, "readme": bench.readme, "status": "ok",
                              "reason": "", "figures": [], "notes": [], "peak_rss_mib": None, "wall_seconds": None}
    started = time.perf_counter()
    reason = bench.prepare(opts) if bench.prepare else None
    if reason or bench.script is None or bench.parse is None:
        failed = bool(reason and reason.startswith(FAILED))
        record.update(status="failed" if failed else "skipped",
                      reason=(reason or "no script").removeprefix(FAILED))
        return record
    starts = [opts.repeats] if bench.runs_inside else [1] * opts.repeats
    samples: dict[str, list[float]] = {}
    peaks: list[float] = []
    for i, repeats in enumerate(starts):
        log = opts.scratch / f"{bench.name}-{i + 1}.log"
        code, text, _, peak = run_script([str(HERE / bench.script), *bench.args(opts, repeats)], log)
        peaks.append(peak)
        if code:
            record.update(status="failed", reason=f"exit status {code}; output in {log}: {text[-800:]}")
            break
        found, notes = bench.parse(text)
        if not found or not any(found.values()):
            record.update(status="failed", reason=f"no figures found in the output ({log}): {text[-800:]}")
            break
        for name, values in found.items():
            samples.setdefault(name, []).extend(values)
        record["notes"].extend(n for n in notes if n not in record["notes"])
    record["wall_seconds"] = time.perf_counter() - started
    record["peak_rss_mib"] = max(peaks) if peaks else None
    for name, values in samples.items():
        figure = bench.figures.get(name, Figure())
        summary = summarise(values)
        judged = verdict(figure, float(summary["median"]), quick=opts.quick)
        record["figures"].append({"name": name, "unit": figure.unit, "samples": values, **summary,
                                  "target": figure.target, "higher_is_better": figure.higher,
                                  "target_source": figure.source, "verdict": judged})
    return record


# --------------------------------------------------------------------------------------------------- machine


def _first(path: str, pattern: str) -> str | None:
    try:
        found = re.search(pattern, Path(path).read_text(encoding="utf-8", errors="replace"), flags=re.M)
    except OSError:
        return None
    return found.group(1).strip() if found else None


def _git(*args: str) -> str | None:
    try:
        proc = subprocess.run(["git", *args], cwd=PROJECT, capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def machine() -> dict[str, Any]:
    """What the figures were measured on: CPU, cores, memory, OS, Python, packages, date, load and git commit."""
    mem_kib = _first("/proc/meminfo", r"^MemTotal:\s+(\d+) kB")
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    commit = _git("rev-parse", "HEAD")
    dirty = _git("status", "--porcelain")
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count()
    return {
        "cpu": _first("/proc/cpuinfo", r"^model name\s*:\s*(.*)$") or platform.processor() or platform.machine(),
        "cores": os.cpu_count(), "cores_usable": usable,
        "memory_gib": round(int(mem_kib) / 2**20, 1) if mem_kib else None,
        "os": platform.platform(), "python": platform.python_version(), "packages": versions,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "git_commit": commit, "git_dirty": bool(dirty) if dirty is not None else None,
    }


# --------------------------------------------------------------------------------------------------- printing


def _number(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
    if unit == "x":  # a ratio: 1.87 x, not "2 x" against a target of "2 x" (it is 1.7)
        return f"{value:.2f} x"
    return f"{value:,.0f} {unit}"


def format_machine(info: dict[str, Any]) -> str:
    """The machine header as text."""
    packages = ", ".join(f"{k} {v}" for k, v in info["packages"].items() if v)
    commit = (info["git_commit"] or "unknown")[:12] + (" (uncommitted changes)" if info["git_dirty"] else "")
    load = ", ".join(str(x) for x in info["load_average"] or []) or "unknown"
    return "\n".join([
        "machine",
        f"  CPU      {info['cpu']}",
        f"  cores    {info['cores']} ({info['cores_usable']} usable)",
        f"  memory   {info['memory_gib']} GiB",
        f"  OS       {info['os']}",
        f"  Python   {info['python']}",
        f"  packages {packages}",
        f"  date     {info['date']}",
        f"  load     {load} (1, 5, 15 min, at the start)",
        f"  commit   {commit}",
    ])


def format_record(record: dict[str, Any]) -> str:
    """One benchmark's block: each figure's median, range and verdict, its peak memory and notes."""
    head = f"{record['name']} ({record['script'] or 'no script'}): {record['readme']}"
    if record["status"] != "ok":
        return f"{head}\n  {record['status'].upper()}: {record['reason']}"
    lines = [head]
    for f in record["figures"]:
        target = ""
        if f["target"] is not None:
            sign = ">=" if f["higher_is_better"] else "<"
            target = f"  target {sign} {_number(f['target'], f['unit'])} ({f['target_source']}): {f['verdict']}"
        lines.append(f"  {f['name']:<30} median {_number(f['median'], f['unit']):>16}  "
                     f"[{_number(f['min'], f['unit'])} .. {_number(f['max'], f['unit'])}, {f['runs']} runs]{target}")
    lines.append(f"  peak RSS (largest process) {record['peak_rss_mib']:,.0f} MiB; "
                 f"benchmark wall clock {record['wall_seconds']:.0f} s (with setup)")
    lines.extend(f"  note: {n}" for n in record["notes"])
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------- main


def select(names: Sequence[str] | None) -> list[Benchmark]:
    """The benchmarks named by ``--only`` (all when none); unknown names raise ``SystemExit``."""
    if not names:
        return list(BENCHMARKS)
    known = {b.name: b for b in BENCHMARKS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(known)}")
    return [known[n] for n in names]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected benchmarks; print the machine and each figure; 1 if a benchmark failed to run."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="runs per benchmark (default 3; 1 with --quick)")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks (see --list)")
    ap.add_argument("--quick", action="store_true", help="smallest sizes, one run each: a smoke test, not a measure")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="keep generated data and logs here (reused next time)")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = ap.parse_args(argv)
    chosen = select(args.only)
    if args.list:
        for b in BENCHMARKS:
            print(f"{b.name:<16} {b.script or '-':<22} {b.readme}")
        return 0
    repeats = 1 if args.quick else args.repeats
    if repeats < 1:
        raise SystemExit("--repeats must be at least 1")
    info = machine()
    print(format_machine(info), end="\n\n", flush=True)
    tmp = tempfile.mkdtemp(prefix="bench-suite-") if args.keep is None else None
    scratch = args.keep or Path(str(tmp))
    scratch.mkdir(parents=True, exist_ok=True)
    opts = Options(repeats=repeats, quick=args.quick, scratch=scratch)
    records = []
    started = time.perf_counter()
    try:
        for bench in chosen:
            print(f"running {bench.name} ...", flush=True)
            record = run_benchmark(bench, opts)
            records.append(record)
            print(format_record(record), end="\n\n", flush=True)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    total = time.perf_counter() - started
    print(summary(records, total, repeats, args.quick))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "repeats": repeats, "quick": args.quick,
                                         "wall_seconds": total, "benchmarks": records}, indent=1) + "\n",
                             encoding="utf-8")
    return 1 if any(r["status"] == "failed" for r in records) else 0


def summary(records: list[dict[str, Any]], total: float, repeats: int, quick: bool) -> str:
    """The closing lines: every target's verdict, what was skipped or failed, and the suite's duration."""
    lines = [f"summary ({'quick smoke run, not a measurement' if quick else f'{repeats} runs each'}; "
             f"suite wall clock {total:.0f} s)"]
    for r in records:
        if r["status"] != "ok":
            lines.append(f"  {r['name']:<16} {r['status']}: {r['reason'].splitlines()[0][:160]}")
            continue
        for f in r["figures"]:
            if f["target"] is not None:
                lines.append(f"  {r['name']:<16} {f['name']:<30} {_number(f['median'], f['unit']):>16}  {f['verdict']}")
        lines.extend(f"  {r['name']:<16} {n}" for n in r["notes"] if n.startswith("peer "))
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())

