"""Benchmark the ingest end to end: rows per second and peak memory.

Generates a large synthetic council with ``safeguarding.synth`` (or, if that
package is missing, a simple self-made referrals CSV) into a temporary folder,
then runs the ingest 5 times, each in a fresh process so that peak memory is
the ingest's own, and prints the median rows per second and the peak resident
memory. Target (issue 19): at least 500,000 rows per second on a 2-core machine.

    python benchmarks/bench_ingest.py [--years 6] [--runs 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

PROJECT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
from safeguarding.config import load_config
from safeguarding.ingest import run_ingest
cfg = load_config(sys.argv[1])
t0 = time.perf_counter()
result = run_ingest(cfg)
seconds = time.perf_counter() - t0
rows = sum(e["rows_read"] + e.get("blank_rows_skipped", 0) for e in result.report["inputs"])
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"seconds": seconds, "rows": rows, "failed": list(result.failed), "maxrss_mb": peak / 1024,
                  "per_table": {e["table"]: [e["rows_read"], e.get("seconds")] for e in result.report["inputs"]}}))
"""


def _synth_config(folder: Path, years: int, fault_rate: float) -> Path:
    from safeguarding.synth import generate_council
    from safeguarding.synth.generator import inputs_config

    truth = generate_council(folder, seed=2025, scale="large", years=years, fault_rate=fault_rate)

    inputs = inputs_config(".")  # the same mapping the demo report.yml uses
    return _write_config(folder, inputs, truth["end_year"])


def _simple_config(folder: Path, rows: int) -> Path:
    rng = np.random.default_rng(1)
    days = np.datetime64("2019-04-01") + rng.integers(0, 6 * 365, rows).astype("timedelta64[D]")
    dates = np.datetime_as_string(days)
    uk = np.char.add(np.char.add(np.char.add(np.char.add(
        [d[8:10] for d in dates], "/"), [d[5:7] for d in dates]), "/"), [d[:4] for d in dates])
    src = np.array(["Schools", "Police", "Health: GP", "Housing", "6", "2A"])[rng.integers(0, 6, rows)]
    with open(folder / "referrals.csv", "w", encoding="utf-8") as fh:
        fh.write("Referral ID,Child ID,Date of referral,Source,Primary need,NFA,Team\n")
        child = rng.integers(1_000_000, 1_000_000 + rows // 3, rows)
        for i in range(rows):
            fh.write(f"REF{i:08d},{child[i]},{uk[i]},{src[i]},N{i % 10},{'Yes' if i % 3 else 'No'},Team {i % 7}\n")
    return _write_config(folder, {"referrals": {"file": "referrals.csv"}}, 2025)


def _write_config(folder: Path, inputs: dict, year: int) -> Path:
    path = folder / "report.yml"
    path.write_text(yaml.safe_dump({"area": {"name": "Benchmark"}, "year": year,
                                    "paths": {"raw": ".", "processed": "processed"},
                                    "pseudonymisation": {"key_file": str(folder / "bench.key")},
                                    "inputs": inputs}))
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=6, help="financial years of the large synthetic council")
    ap.add_argument("--fault-rate", type=float, default=0.02)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows of the fallback CSV when synth is absent")
    ap.add_argument("--keep", type=Path, default=None, help="generate into this folder and keep it")
    args = ap.parse_args(argv)
    if str(PROJECT) not in sys.path:  # run as a script from anywhere
        sys.path.insert(0, str(PROJECT))
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            import safeguarding.synth  # noqa: F401
        except ImportError as exc:
            cfg = _simple_config(folder, args.rows)
            source = f"self-made referrals CSV, {args.rows:,} rows (safeguarding.synth not available: {exc})"
        else:
            cfg = _synth_config(folder, args.years, args.fault_rate)
            source = f"synthetic large council, {args.years} years, fault rate {args.fault_rate}"
        runs = []
        for _ in range(args.runs):
            proc = subprocess.run([sys.executable, "-c", CHILD, str(cfg)], capture_output=True, text=True,
                                  cwd=PROJECT, check=True)
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        rates = [r["rows"] / r["seconds"] for r in runs]
        print(f"data: {source}")
        first = runs[0]
        print(f"rows per run: {first['rows']:,} across {len(first['per_table'])} tables; failed: {first['failed']}")
        for table, (n, secs) in runs[0]["per_table"].items():
            print(f"  {table:<18} {n:>9,} rows  {secs:.3f} s")
        secs = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        print(f"seconds per run: {secs}")
        print(f"median rows/s: {statistics.median(rates):,.0f} (target 500,000: issue 19)")
        print(f"peak memory (max RSS of the ingest process): {max(r['maxrss_mb'] for r in runs):,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
