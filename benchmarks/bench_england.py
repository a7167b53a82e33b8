"""Benchmark: one year of all of England (153 synthetic councils), ingest and indicators, council by council.

Generates England with ``safeguarding.synth`` (``generate_england``, one
financial year, untimed; ``--keep DIR`` reuses it), then, in a fresh process
per run so that peak memory is the run's own, ingests every council and
computes all its indicators (all periods and breakdowns), one council after
another in one process: there are no multi-area builds yet, so this is what
an England run costs today. Prints each run's seconds (ingest, indicators,
total), rows read and the process's peak resident memory, then the medians.
Targets (issue 19): all of England, one year, ingest and indicators in under
60 s and under 4 GiB.

    python benchmarks/bench_england.py [--repeats 3] [--councils 153] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

#: The timed run: every council's ingest and indicators in this one process; prints one JSON line.
CHILD = r"""
import json, resource, sys, time
from pathlib import Path
import yaml
from safeguarding.config import load_config
from safeguarding.indicators import compute_indicators, load_catalogue
from safeguarding.indicators.engine import read_processed
from safeguarding.ingest import run_ingest
from safeguarding.synth.generator import inputs_config

england, work, n = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
councils = json.loads((england / "manifest.json").read_text(encoding="utf-8"))["councils"][:n]
ingest_s = indicators_s = 0.0
rows = indicator_rows = 0
failed = []
catalogue = None
start = time.perf_counter()
for c in councils:
    raw = england / c["folder"]
    truth = json.loads((raw / "ground_truth.json").read_text(encoding="utf-8"))
    doc = {"area": {"name": c["name"], "la_code": c["la_code"]}, "year": truth["end_year"],
           "paths": {"raw": str(raw), "processed": str(work / c["folder"] / "processed")},
           "pseudonymisation": {"key_file": str(work / "bench.key")}, "inputs": inputs_config(str(raw)),
           "population": {int(k): v for k, v in truth["population"].items()}}
    path = work / c["folder"] / "report.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    cfg = load_config(path)
    t = time.perf_counter()
    result = run_ingest(cfg)
    ingest_s += time.perf_counter() - t
    rows += sum(e["rows_read"] + e.get("blank_rows_skipped", 0) for e in result.report["inputs"])
    failed += [f"{c['la_code']}:{name}" for name in result.failed]
    t = time.perf_counter()
    tables, aggregates = read_processed(cfg.processed_dir)
    catalogue = catalogue or load_catalogue(cfg)
    out = compute_indicators(tables, catalogue, population=cfg.population, aggregates=aggregates, end=cfg.year_end)
    indicators_s += time.perf_counter() - t
    indicator_rows += len(out)
total = time.perf_counter() - start
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"councils": len(councils), "seconds": total, "ingest_seconds": ingest_s,
                  "indicators_seconds": indicators_s, "rows": rows, "indicator_rows": indicator_rows,
                  "failed": failed, "maxrss_mib": peak / 1024}))
"""


def generate(folder: Path, councils: int, seed: int = 2025) -> None:
    """Write England (or its first ``councils`` councils) into ``folder`` unless a manifest is already there."""
    if (folder / "manifest.json").exists():
        return
    from safeguarding.synth.england import N_COUNCILS, generate_england

    if councils >= N_COUNCILS:
        generate_england(folder, seed=seed, years=1, end_year=2025)
        return
    # a quick run: only the councils it reads, each exactly as generate_england writes it
    from safeguarding.synth.england import england_plan
    from safeguarding.synth.generator import _generate

    rows = []
    for c in england_plan(seed)[:councils]:
        _generate(folder / c["la_code"], c["params"], seed=seed, scale="england", years=1, end_year=2025,
                  fault_rate=0.0, la_code=c["la_code"], name=c["name"])
        rows.append({"la_code": c["la_code"], "name": c["name"], "folder": c["la_code"]})
    (folder / "manifest.json").write_text(json.dumps({"councils": rows}, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Generate England once, time its ingest and indicators in fresh processes; print runs and medians."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--councils", type=int, default=153, help="read only the first N councils (a quick run)")
    ap.add_argument("--keep", type=Path, default=None, help="folder to keep (and reuse) the generated England in")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        england = (args.keep or Path(tmp)) / f"england-{args.councils}"
        england.mkdir(parents=True, exist_ok=True)
        generate(england, args.councils)
        runs = []
        for i in range(args.repeats):
            work = Path(tmp) / "work"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            proc = subprocess.run([sys.executable, "-c", CHILD, str(england), str(work), str(args.councils)],
                                  capture_output=True, text=True, cwd=PROJECT, check=False)
            if proc.returncode:
                raise SystemExit(f"run {i + 1} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
            run = json.loads(proc.stdout.strip().splitlines()[-1])
            runs.append(run)
            print(f"run {i + 1}: {run['seconds']:.1f} s (ingest {run['ingest_seconds']:.1f} s, indicators "
                  f"{run['indicators_seconds']:.1f} s), peak {run['maxrss_mib']:,.0f} MiB", flush=True)
    first = runs[0]
    print(f"councils: {first['councils']}, rows read: {first['rows']:,}, indicator rows: {first['indicator_rows']:,}, "
          f"failed tables: {len(first['failed'])}")
    print(f"median of {len(runs)} runs: {statistics.median(r['seconds'] for r in runs):.1f} s "
          f"(target < 60 s), peak {max(r['maxrss_mib'] for r in runs):,.0f} MiB (target < 4,096 MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
