"""Benchmark: compute every indicator for a large synthetic council (10 years).

Generates the council (``safeguarding.synth``, scale "large"), ingests it with
the real ingest, then times :func:`compute_indicators` on the processed tables
(all indicators, all periods, all breakdowns) and prints the median of several
runs. Target: under 10 seconds.

    python benchmarks/bench_indicators.py [--years 10] [--repeats 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from safeguarding.config import load_config
from safeguarding.indicators import compute_indicators, load_catalogue
from safeguarding.indicators.engine import read_processed
from safeguarding.synth.generator import inputs_config


def build(root: Path, years: int) -> Path:
    from safeguarding.ingest import run_ingest
    from safeguarding.synth import generate_council

    raw = root / "raw"
    if not (raw / "ground_truth.json").exists():
        truth = generate_council(raw, seed=7, scale="large", years=years, end_year=2025)
    else:
        import json

        truth = json.loads((raw / "ground_truth.json").read_text(encoding="utf-8"))
    inputs = inputs_config("raw")  # the same mapping the demo report.yml uses
    doc = {"area": {"name": "Bench"}, "year": 2025, "paths": {"raw": "raw", "processed": "processed"},
           "pseudonymisation": {"key_file": str(root / "pseudonym.key")}, "inputs": inputs,
           "population": {int(k): v for k, v in truth["population"].items()}}
    (root / "report.yml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    cfg = load_config(root / "report.yml")
    if not (cfg.processed_dir / "referrals.parquet").exists():
        run_ingest(cfg)
    return root / "report.yml"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--keep", type=Path, default=None, help="folder to keep (and reuse) the council in")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        cfg = load_config(build(root, args.years))
        print(f"council generated and ingested in {time.perf_counter() - t0:.1f} s")
        tables, aggregates = read_processed(cfg.processed_dir)
        print("rows: " + ", ".join(f"{k} {len(v):,}" for k, v in tables.items()))
        cat = load_catalogue(cfg)
        times, cpu = [], []
        for _ in range(args.repeats):
            t, c = time.perf_counter(), time.process_time()
            out = compute_indicators(tables, cat, population=cfg.population, aggregates=aggregates,
                                     end=cfg.year_end)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        print(f"compute_indicators: {len(out):,} rows, {out.indicator_id.nunique()} indicators")
        print(f"times (s): {', '.join(f'{x:.2f}' for x in times)}")
        print(f"median: {statistics.median(times):.2f} s wall, {statistics.median(cpu):.2f} s CPU (target < 10 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
