"""Time the demo's disclosure control as the build runs it: every run of every round of ``protect_publication``.

The cold build's disclosure stage is this (plus reading the table and making
notes safe): 30 runs of mostly small groups of linked hidden cells, over 9
rounds in which detail yields for the headline figures. It costs other
things than ``bench_disclosure.py``'s one large table does (relations found
per run, many small groups built), so it is measured here on its own.

The demo's indicator table is made once, untimed, by ``pipeline.py ingest``
and ``pipeline.py indicators`` from a copy of the demo configuration (in a
temporary folder, or ``--keep DIR`` to reuse one); then
:func:`~safeguarding.disclosure.publication.protect_publication` is timed
``--repeats`` times in this process, with the build's workers (2). Every run
must publish the same table, which is checked.

    python benchmarks/bench_publication.py [--repeats 3] [--workers 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))  # run as a script from anywhere: this checkout's package
sys.path.insert(0, str(PROJECT / "tests"))

from e2e import demo_config_copy  # noqa: E402  (the tests' own copy of the demo configuration)


def demo_indicators(root: Path) -> Path:
    """The demo's configuration copied to ``root``, its indicator table computed there (once); the config's path."""
    cfg = root / "report.yml"
    if not (root / "processed" / "indicators.parquet").exists():
        cfg = demo_config_copy(root)
        env = dict(os.environ, SAFEGUARDING_KEY_FILE=str(root / "pseudonym.key"))
        for stage in ("ingest", "indicators"):
            proc = subprocess.run([sys.executable, "pipeline.py", stage, "--config", str(cfg)], cwd=PROJECT, env=env,
                                  capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise SystemExit(f"pipeline.py {stage} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return cfg


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="folder for the demo's configuration and indicator table (reused)")
    args = ap.parse_args()

    import pandas as pd

    from safeguarding.config import load_config
    from safeguarding.disclosure.publication import protect_publication

    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep if args.keep is not None else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        cfg = load_config(demo_indicators(root))
        ind = pd.read_parquet(cfg.processed_dir / "indicators.parquet")
        times = []
        first = None
        for i in range(args.repeats):
            start = time.perf_counter()
            pub = protect_publication(ind, pd.Timestamp(cfg.year_end), cfg.disclosure, workers=args.workers)
            times.append(time.perf_counter() - start)
            if first is None:
                first = pub.shown
            elif not first.equals(pub.shown):
                raise SystemExit(f"run {i + 1} published another table than run 1")
            shown = int((pub.shown["marker"] == "c").sum())
            print(f"run {i + 1}: {times[-1]:.2f} s ({pub.stats['rounds']} runs, {len(ind):,} rows, "
                  f"{shown:,} shown c)", flush=True)
    print(f"protect_publication: demo council, {len(ind):,} indicator rows; median {statistics.median(times):.2f} s "
          f"over {args.repeats} runs ({args.workers} worker{'s' if args.workers != 1 else ''})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
