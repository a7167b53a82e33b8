"""Benchmark: issue 17's three figures for an analyst's edit-and-see loop, printed together.

Runs ``bench_incremental.py`` (a rebuild with nothing changed; one chapter's
commentary edited, rebuilt and republished) and ``bench_preview.py`` (from
saving a chapter in ``pipeline.py preview`` to the new review served), each in
its own process, and prints their medians beside the targets: under 2 s, under
8 s and under 10 s on the project's 2-core machine.

    python benchmarks/bench_edit_loop.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: figure -> (script, pattern of its median in the script's output, target in seconds)
FIGURES: dict[str, tuple[str, str, float]] = {
    "rebuild, nothing changed": ("bench_incremental.py", r"^\s*no change\s+([\d.]+) s", 2.0),
    "rebuild, one chapter's commentary edited": ("bench_incremental.py", r"^\s*commentary edited\s+([\d.]+) s", 8.0),
    "preview, save to new review served": ("bench_preview.py", r"median ([\d.]+) s over", 10.0),
}


def main(argv: list[str] | None = None) -> int:
    """Run the two benchmarks and print the three medians against their targets; 1 if one is missed."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    outputs: dict[str, str] = {}
    for script in dict.fromkeys(s for s, _, _ in FIGURES.values()):
        print(f"running {script} --repeats {args.repeats} ...", flush=True)
        proc = subprocess.run([sys.executable, str(HERE / script), "--repeats", str(args.repeats)],
                              capture_output=True, text=True, cwd=HERE.parent)
        if proc.returncode:
            print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n", file=sys.stderr)
            return proc.returncode
        outputs[script] = proc.stdout
    print(f"\nissue 17's figures (median of {args.repeats} runs each):")
    missed = 0
    for name, (script, pattern, target) in FIGURES.items():
        found = re.search(pattern, outputs[script], flags=re.M)
        if not found:
            print(f"  {name}: not found in the output of {script}", file=sys.stderr)
            return 1
        seconds = float(found.group(1))
        met = seconds < target
        missed += not met
        print(f"  {name:<42} {seconds:6.1f} s  (target < {target:g} s: {'met' if met else 'NOT met'})")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
