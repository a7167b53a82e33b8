"""Benchmark: write the demo's published indicator table as XLSX (:func:`write_xlsx`).

Reads ``indicators.csv`` from a built report (all cells as text, as the
published table holds them) and times :func:`safeguarding.publish.writers.write_xlsx`,
printing the median of several runs, the peak memory Python allocated
(``tracemalloc``) and the file size.

    python benchmarks/bench_xlsx.py [--csv reports/northwold/2025/data/indicators.csv] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from safeguarding.publish.writers import write_xlsx


def main(argv: list[str] | None = None) -> int:
    """Time :func:`write_xlsx` on a published table; print seconds, peak memory and size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", default="reports/northwold/2025/data/indicators.csv")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    table = pd.read_csv(args.csv, dtype=str, keep_default_na=False)
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "indicators.xlsx"
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            write_xlsx(table, out, sheet_name="Indicators")
            times.append(time.perf_counter() - t0)
        tracemalloc.start()
        write_xlsx(table, out, sheet_name="Indicators")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        size = out.stat().st_size
    print(f"{len(table):,} rows x {table.shape[1]} columns: median {statistics.median(times):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in times)}), peak Python memory {peak / 2**20:.0f} MiB, "
          f"file {size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
