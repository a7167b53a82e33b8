"""Benchmark: what each chapter kernel pays before its first section, the report layer's import and the context.

Each run is a fresh Python process, as a kernel is: it times the notebook's
first cell (``from safeguarding.report import ReportContext, sections`` and
``ReportContext.load``), then the import of the chapter's section modules.
The context is loaded two ways: worked out in the process (a notebook run on
its own), and opened from the folder the build saves it in
(:func:`safeguarding.report.prepared.save_context`; skipped on a version of
the code without it). Needs a processed demo (``--config``, after a build).
Prints the median of the runs for each.

    python benchmarks/bench_kernel_context.py --config /tmp/demo/report.yml [--repeats 5] [--audience public]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

#: the first cell of a chapter, timed; ``saved`` is None (worked out here) or the saved context's folder
KERNEL = """
import json, sys, time
t0 = time.perf_counter()
from safeguarding.report import ReportContext, sections
t1 = time.perf_counter()
config, audience, build_dir, saved = sys.argv[1:5]
kwargs = {"saved": saved} if saved != "-" else {}
ctx = ReportContext.load(config, audience=audience, build_dir=build_dir, **kwargs)
t2 = time.perf_counter()
for name in sys.argv[5].split(","):
    getattr(sections, name)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "first_cell": t2 - t0, "sections": t3 - t2,
                  "modules": sorted(m for m in ("matplotlib", "scipy.stats") if m in sys.modules)}))
"""

#: the section modules each demo chapter calls
CHAPTERS = {
    "01-summary": "editorial,summary", "02-child-protection": "child_protection,voice,partners",
    "03-referrals": "referrals,partners", "04-allegations": "allegations", "05-private-fostering": "private_fostering",
    "06-partnership": "editorial", "07-appendix": "appendix",
}


def run_kernel(config: str, audience: str, saved: str, modules: str, tmp: str) -> dict:
    """One fresh process running a chapter's first cell; its timings."""
    out = subprocess.run([sys.executable, "-c", KERNEL, config, audience, tmp, saved, modules],
                         capture_output=True, text=True, check=True, env=dict(os.environ), cwd=tmp)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True, help="report.yml of a project whose processed folder is built")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--audience", choices=["public", "board"], default="public")
    ap.add_argument("--chapter", default="03-referrals", choices=sorted(CHAPTERS))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        saved = "-"
        try:
            from safeguarding.config import load_config
            from safeguarding.report.prepared import save_context
        except ImportError:  # a version of the code without a saved context
            print("no saved context in this version of the code: worked out in each kernel only")
        else:
            cfg = load_config(args.config, audience=args.audience)
            saved = str(save_context(cfg, Path(tmp) / "context" / args.audience))
        ways = {"worked out": "-"} if saved == "-" else {"worked out": "-", "saved": saved}
        results: dict[str, list[dict]] = {w: [] for w in ways}
        for _ in range(args.repeats):  # alternated, so that a busy moment hits both
            for way, folder in ways.items():
                results[way].append(run_kernel(args.config, args.audience, folder, CHAPTERS[args.chapter], tmp))
    print(f"chapter {args.chapter}, audience {args.audience}, median of {args.repeats} fresh processes (s):")
    for way, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in ("import", "load", "first_cell", "sections")}
        print(f"  context {way:<10}  import {med['import']:.2f}  load {med['load']:.2f}  "
              f"first cell {med['first_cell']:.2f}  chapter's sections {med['sections']:.2f}  "
              f"(imported: {', '.join(runs[-1]['modules']) or 'neither matplotlib nor scipy.stats'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
