"""Benchmark: read a DfE CIN census XML file (``safeguarding/ingest/cin_census.py``), and its peers where installed.

Generates a synthetic council's child-level records as one CIN census XML file
(``safeguarding.synth``, ``fmt="cin_census"``, untimed), then, in a fresh
process per run, reads it as the ingest does: the file parsed once and the six
tables it feeds (children, referrals, s47, icpc, cp_plans, cp_reviews) built
from it (:func:`safeguarding.ingest.cin_census.read_census`). Prints each run's
seconds and peak resident memory, then the median, the file's size and
``<Child>`` records, and megabytes and rows per second.

Peers: the project's census reader was compared with DfE's CIN validator and
Social Finance's ``liiatools`` (``liiatools.datasets.cin_census``). Each peer is
timed only where it is importable here; otherwise its line says "skipped: peer
not installed". Neither installs beside this project: DfE's validator is not
on PyPI, and ``liiatools`` 0.2.0 (PyPI's latest) pins pandas < 2, lxml < 5 and
cchardet 2.1.7, against this project's pandas 3 and lxml 6. No adapter is
written for a peer that could not be run here, so an installed peer is
reported as installed but not timed.

    python benchmarks/bench_cin_census.py [--repeats 3] [--scale large] [--years 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

#: peer -> the module that shows it is installed
PEERS: dict[str, str] = {
    "DfE CIN validator": "cin_validator",
    "liiatools (Social Finance)": "liiatools.datasets.cin_census",
}

#: The timed run: parse the file and build its six tables, as the ingest does; prints one JSON line.
CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from safeguarding.ingest.cin_census import ENTITIES, load_census, read_census

path = Path(sys.argv[1])
t = time.perf_counter()
rows = {e: read_census(path, e, key=f"inputs.{e}").n_rows for e in ENTITIES}
seconds = time.perf_counter() - t
children = len(load_census(path).children)
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"seconds": seconds, "rows": rows, "children": children, "maxrss_mib": peak / 1024}))
"""


def generate(folder: Path, scale: str, years: int) -> Path:
    """Write the synthetic council's census file into ``folder`` (unless it is there); return its path."""
    from safeguarding.synth import generate_council
    from safeguarding.synth.cin_census import CIN_FILE

    path = folder / CIN_FILE
    if not path.exists():
        generate_council(folder, seed=2025, scale=scale, years=years, end_year=2025, la_code="999",
                         fmt="cin_census")
    return path


def peer_status(module: str) -> str:
    """What this run does about one peer: it is timed only where an adapter exists and it is installed."""
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    return "skipped: installed, but no adapter for it in this script" if found else "skipped: peer not installed"


def main(argv: list[str] | None = None) -> int:
    """Time the census reader in fresh processes; print the runs, the medians and each peer's status."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scale", choices=["small", "large"], default="large")
    ap.add_argument("--years", type=int, default=1, help="financial years of records in the file")
    ap.add_argument("--keep", type=Path, default=None, help="folder to keep (and reuse) the census file in")
    args = ap.parse_args(argv)
    if str(PROJECT) not in sys.path:  # run as a script from anywhere
        sys.path.insert(0, str(PROJECT))
    with tempfile.TemporaryDirectory() as tmp:
        folder = (args.keep or Path(tmp)) / f"cin-{args.scale}-{args.years}"
        folder.mkdir(parents=True, exist_ok=True)
        path = generate(folder, args.scale, args.years)
        size_mb = path.stat().st_size / 1e6
        runs = []
        for i in range(args.repeats):
            proc = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True,
                                  cwd=PROJECT, check=False)
            if proc.returncode:
                raise SystemExit(f"run {i + 1} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
            run = json.loads(proc.stdout.strip().splitlines()[-1])
            runs.append(run)
            print(f"run {i + 1}: {run['seconds']:.2f} s, peak {run['maxrss_mib']:,.0f} MiB", flush=True)
    first = runs[0]
    rows = sum(first["rows"].values())
    median = statistics.median(r["seconds"] for r in runs)
    print(f"file: {args.scale} council, {args.years} year(s), {size_mb:.1f} MB, {first['children']:,} <Child> "
          f"records, {rows:,} rows (" + ", ".join(f"{k} {v:,}" for k, v in first["rows"].items()) + ")")
    print(f"project reader: median {median:.2f} s over {len(runs)} runs, {size_mb / median:.1f} MB/s, "
          f"{rows / median:,.0f} rows/s, peak {max(r['maxrss_mib'] for r in runs):,.0f} MiB")
    for name, module in PEERS.items():
        print(f"peer {name}: {peer_status(module)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
