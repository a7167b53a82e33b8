"""Time suppress_indicator_table on an indicator table the size of a real council's.

20 count indicators and 5 percentages, 3 years of months, quarters, years and
rolling 12 months, headline plus 4 breakdowns of 5 values each (~50,000 rows).
Prints the median of several runs. Usage: ``bench_disclosure.py [RUNS] [WORKERS]`` (default 3 runs, 2 workers:
the group checks of each pass started ahead in a second process, as the build does).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from safeguarding.disclosure import suppress_indicator_table


def build(seed: int = 0, n_count: int = 20, n_pct: int = 5, years: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    months = pd.date_range(f"{2025 - years}-04-01", periods=12 * years, freq="MS")
    spans = [("month", [i], months[i], months[i] + pd.offsets.MonthEnd(0)) for i in range(len(months))]
    for q in range(4 * years):
        ix = list(range(3 * q, 3 * q + 3))
        spans.append(("quarter", ix, months[ix[0]], months[ix[-1]] + pd.offsets.MonthEnd(0)))
    for y in range(years):
        ix = list(range(12 * y, 12 * y + 12))
        spans.append(("year", ix, months[ix[0]], months[ix[-1]] + pd.offsets.MonthEnd(0)))
    for e in range(11, len(months)):
        ix = list(range(e - 11, e + 1))
        spans.append(("rolling12", ix, months[ix[0]], months[ix[-1]] + pd.offsets.MonthEnd(0)))
    breakdowns = {f"dim{d}": [f"v{k}" for k in range(5)] for d in range(4)}
    rows = []
    for i in range(n_count + n_pct):
        pct = i >= n_count
        scale = rng.choice([2, 6, 20, 60])
        parts = {d: {v: rng.poisson(scale / 5, size=len(months)) for v in vals} for d, vals in breakdowns.items()}
        total = sum(parts["dim0"].values())
        dens = {d: {v: parts[d][v] + rng.poisson(3, size=len(months)) for v in vals} for d, vals in breakdowns.items()}
        series = [("all", "all", total, sum(dens["dim0"].values()))]
        for d, vals in breakdowns.items():
            # every breakdown adds up to the same headline: re-split the total
            for v in vals:
                series.append((d, v, parts["dim0"][v] if d == "dim0" else parts[d][v], dens[d][v]))
        for bd, bv, num, den in series:
            for ptype, ix, start, end in spans:
                n = float(num[ix].sum())
                if pct:
                    dd = float(den[ix].sum())
                    rows.append((f"P{i}", ptype, start, end, bd, bv, n, dd, 100 * n / dd if dd else np.nan))
                else:
                    rows.append((f"C{i}", ptype, start, end, bd, bv, np.nan, np.nan, n))
    cols = ["indicator_id", "period_type", "period_start", "period_end", "breakdown", "breakdown_value",
            "numerator", "denominator", "value"]
    return pd.DataFrame(rows, columns=cols)


def main(runs: int = 3, workers: int = 2) -> None:
    """Time the suppression ``runs`` times with ``workers`` processes (the build uses two on a 2-core machine)."""
    ind = build()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        pub = suppress_indicator_table(ind, workers=workers)
        times.append(time.perf_counter() - t0)
    print(f"suppress_indicator_table: {len(ind):,} rows, {int(pub['suppressed'].sum()):,} rows with a 'c'; "
          f"median {statistics.median(times):.2f} s over {runs} runs ({workers} worker"
          f"{'s' if workers != 1 else ''})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3, int(sys.argv[2]) if len(sys.argv) > 2 else 2)
