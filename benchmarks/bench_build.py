"""Benchmark: a cold build of the demo council's annual review (all chapters, HTML and PDF).

Each run copies the demo ``report.yml`` into a fresh temporary folder (no
processed data, no previous report, a new pseudonym key), then runs
``python pipeline.py build`` in a fresh process and reads the stage timings
from the run's ``run.json``. Prints the median of several runs per stage and in
total (wall clock of the whole command, including Python start-up).
Target: under 60 seconds cold.

    python benchmarks/bench_build.py [--repeats 3] [--audience public] [--renderer builtin]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "tests"))

from e2e import demo_config_copy  # noqa: E402  (the tests' own copy of the demo configuration)


def one_run(audience: str, renderer: str) -> tuple[float, dict[str, float]]:
    """Build once from cold; return the wall-clock seconds and the stage timings from run.json."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cfg = demo_config_copy(root)
        env = dict(os.environ, SAFEGUARDING_KEY_FILE=str(root / "pseudonym.key"))
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "pipeline.py", "build", "--config", str(cfg), "--audience", audience,
             "--renderer", renderer],
            cwd=PROJECT, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"build failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        log_dir = next(line.split(": ", 1)[1] for line in proc.stdout.splitlines() if "run log:" in line)
        record = json.loads((Path(log_dir.strip()) / "run.json").read_text(encoding="utf-8"))
        return wall, {k: float(v["seconds"]) for k, v in record["stages"].items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--audience", choices=["public", "board"], default="public")
    ap.add_argument("--renderer", choices=["auto", "builtin", "quarto"], default="builtin")
    args = ap.parse_args()
    walls: list[float] = []
    stages: dict[str, list[float]] = {}
    for i in range(args.repeats):
        wall, timings = one_run(args.audience, args.renderer)
        walls.append(wall)
        for k, v in timings.items():
            stages.setdefault(k, []).append(v)
        print(f"run {i + 1}: {wall:.1f} s  " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    print(f"\nmedian of {args.repeats} cold builds ({args.audience}, {args.renderer}):")
    for k, v in stages.items():
        print(f"  {k:<12} {statistics.median(v):6.1f} s")
    print(f"  {'total':<12} {statistics.median(walls):6.1f} s  (wall clock; target < 60 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
