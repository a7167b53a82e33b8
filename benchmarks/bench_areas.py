"""Benchmark: many areas' reviews in one run, ``build --areas --jobs 2`` against ``--jobs 1``.

Writes ``--areas`` small synthetic councils (``generate_council``, six years like the demo, untimed; codes
taken from the DfE benchmark files so that every area has benchmarks; ``--keep DIR`` reuses them) and a
manifest, then times ``pipeline.py build --config report.yml --areas manifest.csv --jobs J`` for each
``J`` of ``--jobs``, alternated ``--repeats`` times, each a cold build (processed data, reports and cache
removed first). Prints each run's seconds and outcome, the medians, and the speed-up of the most jobs
against one. Target (issue 19): twenty areas, ``--jobs 2`` at least 1.7 times as fast as ``--jobs 1``.

    python benchmarks/bench_areas.py [--areas 20] [--jobs 1 2] [--repeats 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))  # run as a script from anywhere

def council_codes(n: int) -> list[str]:
    """``n`` DfE council codes that have statistical neighbours and figures in the shipped benchmark files."""
    folder = PROJECT / "data" / "reference" / "dfe"
    with (folder / "sn_model_2025_wide.csv").open(encoding="utf-8-sig") as fh:
        neighbours = {row["old_la_code"] for row in csv.DictReader(fh)}
    with next(folder.glob("c1_*.csv")).open(encoding="utf-8-sig") as fh:
        figures = {row["old_la_code"] for row in csv.DictReader(fh) if row["geographic_level"] == "Local authority"}
    codes = sorted(neighbours & figures, key=lambda c: (c != "873", c))  # the demo's code first
    if len(codes) < n:
        raise SystemExit(f"only {len(codes)} council codes in the benchmark files; ask for fewer areas")
    return codes[:n]


def write_areas(folder: Path, n: int) -> Path:
    """``n`` small synthetic councils under ``folder`` and their manifest (kept between runs)."""
    from safeguarding.synth import generate_council

    manifest = folder / "manifest.csv"
    if manifest.is_file() and sum(1 for _ in manifest.open(encoding="utf-8")) == n + 1:
        return manifest
    rows = []
    for i, code in enumerate(council_codes(n)):
        truth = generate_council(folder / code, seed=100 + i, la_code=code, name=f"Area {code}")
        rows.append({"name": f"Area {code}", "folder": code, "la_code": code,
                     **{f"population_{y}": v for y, v in truth["population"].items()}})
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return manifest


def project(folder: Path) -> Path:
    """A project folder whose report.yml is the demo's, reading the demo layout, with no editorial."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = yaml.safe_load((PROJECT / "report.yml").read_text(encoding="utf-8"))
    raw.pop("editorial", None)
    for spec in [*raw["inputs"].values(), *raw["aggregates"]]:
        spec["file"] = str((PROJECT / spec["file"]).resolve())
    raw["paths"] = {"raw": str((PROJECT / raw["paths"]["raw"]).resolve()), "processed": "processed",
                    "reports": "reports"}
    raw["benchmarks"]["folder"] = str((PROJECT / raw["benchmarks"]["folder"]).resolve())
    (folder / "report.yml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return folder / "report.yml"


def one_run(cfg: Path, manifest: Path, jobs: int) -> tuple[float, int]:
    """A cold ``build --areas`` with ``jobs``: seconds and exit status."""
    for name in ("processed", "reports", "build", "logs"):
        shutil.rmtree(cfg.parent / name, ignore_errors=True)
    start = time.perf_counter()
    status = subprocess.run([sys.executable, "-m", "safeguarding.cli", "build", "--config", str(cfg), "--areas",
                             str(manifest), "--jobs", str(jobs), "--renderer", "builtin"], cwd=cfg.parent,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    return time.perf_counter() - start, status


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--areas", type=int, default=20)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--keep", type=Path, help="folder for the synthetic areas (kept, reused)")
    args = ap.parse_args()
    if args.areas < 1:
        ap.error("--areas must be 1 or more")
    with tempfile.TemporaryDirectory() as tmp:
        where = args.keep or Path(tmp) / "areas"
        manifest = write_areas(where / "councils", args.areas)
        cfg = project(Path(tmp) / "project")
        seconds: dict[int, list[float]] = {j: [] for j in args.jobs}
        for r in range(args.repeats):  # alternated, so that a busy moment hits every setting
            for j in args.jobs:
                s, status = one_run(cfg, manifest, j)
                seconds[j].append(s)
                print(f"run {r + 1}, --jobs {j}: {s:.1f} s ({'all published' if status == 0 else f'exit {status}'})",
                      flush=True)
    medians = {j: statistics.median(v) for j, v in seconds.items()}
    for j, m in medians.items():
        print(f"{args.areas} areas, --jobs {j}: median {m:.1f} s over {len(seconds[j])} run(s)")
    low, high = min(args.jobs), max(args.jobs)
    if low != high:
        print(f"speed-up --jobs {high} against --jobs {low}: {medians[low] / medians[high]:.2f} times")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
