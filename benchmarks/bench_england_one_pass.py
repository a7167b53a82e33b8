"""Benchmark: one year of all of England (153 synthetic councils), ingest and indicators in one pass.

Generates England once (``pipeline.py synth --scale england``, untimed; ``--keep DIR`` keeps and reuses it),
then, in a fresh process per run so that peak memory is the run's own, times
``pipeline.py indicators --areas manifest.csv --force``: every council ingested into its own processed folder,
the indicators of all councils computed together (``safeguarding.indicators.engine.compute_areas``) and each
council's ``indicators.parquet`` and ``.csv`` written as a single-area run writes them. With ``--old`` it also
times the old way for the ratio: one council after another in one process, ``run_ingest`` then
``run_indicators`` for each. Prints the machine, each run's seconds (wall and CPU) and peak resident memory,
then the medians (with ``--jobs`` above 1, the peak is the largest process's, and the processes run side by
side). Targets (issue 19): all of England, one year, ingest and indicators in under 60 s and under
4 GiB on a 2-core machine. The machine may be shared: the load average is printed before each run.

    python benchmarks/bench_england_one_pass.py [--repeats 3] [--jobs 1 2] [--councils 153] [--old [--before DIR]]
        [--cache] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "tests"))

#: one timed run in a fresh process; prints one JSON line
CHILD = r"""
import json, resource, sys, time
from pathlib import Path
config, manifest, jobs, old = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "old"
cache = sys.argv[5] == "cache"
cpu0, start = time.process_time(), time.perf_counter()
if old:
    from safeguarding.areas import area_configs
    from safeguarding.indicators import run_indicators
    from safeguarding.ingest import run_ingest
    ingest_s = indicators_s = 0.0
    for _path, cfg in area_configs(config, manifest).values():
        t = time.perf_counter(); run_ingest(cfg); ingest_s += time.perf_counter() - t
        t = time.perf_counter(); run_indicators(cfg); indicators_s += time.perf_counter() - t
    areas = len(area_configs(config, manifest))
else:
    from safeguarding.areas_data import run_areas_data
    done = run_areas_data(config, manifest, force=True, jobs=jobs, cache=cache, echo=lambda _m: None)
    assert all(a.outcome == "ok" for a in done.areas), [a for a in done.areas if a.outcome != "ok"]
    ingest_s, indicators_s, areas = done.ingest_seconds, done.indicators_seconds, len(done.areas)
usage = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
print(json.dumps({"areas": areas, "seconds": time.perf_counter() - start, "ingest_seconds": ingest_s,
                  "indicators_seconds": indicators_s, "cpu_seconds": sum(u.ru_utime + u.ru_stime for u in usage),
                  "maxrss_mib": max(u.ru_maxrss for u in usage) / 1024}))
"""


def machine() -> str:
    """The machine the figures were measured on, and how busy it was."""
    cpu = platform.processor() or platform.machine()
    try:
        names = [ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                 if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return (f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


def generate(folder: Path, councils: int) -> Path:
    """England in ``folder`` (written once, then reused); returns a manifest of its first ``councils`` councils."""
    manifest = folder / "england" / "manifest.csv"
    if not manifest.is_file():
        subprocess.run([sys.executable, str(PROJECT / "pipeline.py"), "synth", "--scale", "england", "--out",
                        str(folder / "england")], check=True, cwd=PROJECT)
    rows = list(csv.DictReader(manifest.open(encoding="utf-8")))[:councils]
    part = folder / f"manifest-{councils}.csv"
    with part.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows({**r, "folder": f"england/{r['folder']}"} for r in rows)
    return part


def run(config: Path, manifest: Path, jobs: int, old: bool, cache: bool = False, code: Path = PROJECT
        ) -> dict[str, float]:
    """One timed run in a fresh process, of the code in ``code``."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(config), str(manifest), str(jobs), "old" if old else "new",
                           "cache" if cache else "no-cache"],
                          capture_output=True, text=True, cwd=config.parent, env=env, check=False)
    if proc.returncode:
        raise SystemExit(f"run failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Generate England once; time the one-pass run (and the old way) in fresh processes; print runs and medians."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="process counts to time (default 1 2)")
    ap.add_argument("--councils", type=int, default=153, help="only the first N councils (a quick run)")
    ap.add_argument("--old", action="store_true", help="also time the old way (council by council), once")
    ap.add_argument("--before", type=Path, default=PROJECT,
                    help="with --old: the code to time the old way with (a checkout of the code before the one-pass "
                         "engine, e.g. main; default: this one's single-area path)")
    ap.add_argument("--cache", action="store_true",
                    help="time the one-pass run filling the build's cache too (the command's default; off here so "
                         "that the figure is ingest and indicators alone, as the old way's)")
    ap.add_argument("--keep", type=Path, default=None, help="folder to keep (and reuse) the generated England in")
    args = ap.parse_args(argv)
    from e2e import demo_config_copy

    print(f"machine: {machine()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = args.keep or Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        manifest = generate(data, args.councils)
        project = Path(tmp) / "project"
        project.mkdir()
        config = demo_config_copy(project)
        medians = {}
        for jobs in args.jobs:
            runs = []
            for i in range(args.repeats):
                load = os.getloadavg()[0]
                r = run(config, manifest, jobs, old=False, cache=args.cache)
                runs.append(r)
                print(f"one pass, --jobs {jobs}, run {i + 1}: {r['seconds']:.1f} s (ingest "
                      f"{r['ingest_seconds']:.1f} s, indicators {r['indicators_seconds']:.1f} s; CPU "
                      f"{r['cpu_seconds']:.1f} s), peak "
                      f"{r['maxrss_mib']:,.0f} MiB, load before {load:.1f}", flush=True)
            medians[jobs] = statistics.median(r["seconds"] for r in runs)
            print(f"one pass, --jobs {jobs}: {runs[0]['areas']} areas, median of {len(runs)}: {medians[jobs]:.1f} s "
                  f"(target < 60 s), CPU {statistics.median(r['cpu_seconds'] for r in runs):.1f} s, peak "
                  f"{max(r['maxrss_mib'] for r in runs):,.0f} MiB (target < 4,096 MiB)"
                  + (f"; the peak is the largest process's: {jobs} run at once" if jobs > 1 else ""), flush=True)
        if args.old:
            load = os.getloadavg()[0]
            r = run(config, manifest, 1, old=True, code=args.before)
            print(f"old way (council by council, one process; code in {args.before}): {r['seconds']:.1f} s "
                  f"(ingest {r['ingest_seconds']:.1f} "
                  f"s, indicators {r['indicators_seconds']:.1f} s; CPU {r['cpu_seconds']:.1f} s), peak "
                  f"{r['maxrss_mib']:,.0f} MiB, load before {load:.1f}", flush=True)
            for jobs, m in medians.items():
                print(f"old way / one pass --jobs {jobs}: {r['seconds'] / m:.1f}x (wall)")
    print(f"machine after: {machine()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
