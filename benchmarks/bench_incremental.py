"""Benchmark: incremental builds of the demo council's annual review (issue 17 item 3).

Copies the demo ``report.yml`` and the chapter notebooks into a temporary
project folder, then, for each repeat: a cold build (processed data, reports
and cache removed first), a rebuild with nothing changed, a rebuild after one
chapter's commentary (a Markdown cell) is edited, and a rebuild after one
chapter's code is edited (that chapter is executed again). Each build is
``python pipeline.py build`` in a fresh process; the figures are wall-clock
seconds including Python start-up. Prints the median of the repeats.
Targets: no change under 2 s; a chapter's commentary edited under 8 s.

    python benchmarks/bench_incremental.py [--repeats 3] [--audience public] [--renderer builtin]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "tests"))

from e2e import demo_config_copy  # noqa: E402  (the tests' own copy of the demo configuration)

MEASURES = ("cold", "no change", "commentary edited", "code edited")


def build(cfg: Path, env: dict[str, str], audience: str, renderer: str) -> tuple[float, dict[str, str]]:
    """Run one build; return its wall-clock seconds and each stage's status from run.json."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "pipeline.py", "build", "--config", str(cfg), "--audience", audience,
         "--renderer", renderer], cwd=PROJECT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"build failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    log_dir = next(line.split(": ", 1)[1] for line in proc.stdout.splitlines() if "run log:" in line)
    record = json.loads((Path(log_dir.strip()) / "run.json").read_text(encoding="utf-8"))
    return wall, {k: v["status"] for k, v in record["stages"].items()}


def edit(nb_path: Path, cell_type: str, text: str) -> None:
    """Append ``text`` to the last cell of ``cell_type`` in a notebook."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    cell = next(c for c in reversed(nb["cells"]) if c["cell_type"] == cell_type)
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    cell["source"] = source + text
    nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--audience", choices=["public", "board"], default="public")
    ap.add_argument("--renderer", choices=["auto", "builtin", "quarto"], default="builtin")
    args = ap.parse_args()
    times: dict[str, list[float]] = {m: [] for m in MEASURES}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cfg = demo_config_copy(root)
        shutil.copytree(PROJECT / "notebooks", root / "notebooks")
        env = dict(os.environ, SAFEGUARDING_KEY_FILE=str(root / "pseudonym.key"))
        for i in range(args.repeats):
            for folder in ("processed", "reports", "build"):
                shutil.rmtree(root / folder, ignore_errors=True)
            runs = {"cold": lambda: None, "no change": lambda: None,
                    "commentary edited": lambda i=i: edit(root / "notebooks" / "03-referrals.ipynb", "markdown",
                                                          f"\n\nCommentary edited for benchmark run {i + 1}.\n"),
                    "code edited": lambda i=i: edit(root / "notebooks" / "04-allegations.ipynb", "code",
                                                    f"\n# benchmark run {i + 1}\n")}
            line = []
            for measure, change in runs.items():
                change()
                wall, stages = build(cfg, env, args.audience, args.renderer)
                times[measure].append(wall)
                cached = sum(s == "cached" for s in stages.values())
                line.append(f"{measure} {wall:.1f} s ({cached} stages cached)")
            print(f"run {i + 1}: " + "; ".join(line), flush=True)
    print(f"\nmedian of {args.repeats} runs ({args.audience}, {args.renderer}), wall clock:")
    targets = {"no change": " (target < 2 s)", "commentary edited": " (target < 8 s)"}
    for measure in MEASURES:
        print(f"  {measure:<18} {statistics.median(times[measure]):6.1f} s{targets.get(measure, '')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
