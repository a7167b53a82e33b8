"""Benchmark: how long ``pipeline.py preview`` takes from saving a chapter notebook to the new review being served.

Copies the demo ``report.yml`` and the chapter notebooks into a fresh temporary
folder, starts ``python pipeline.py preview`` on a free port, waits for the first
build, then several times: saves an edit to a Markdown cell of one chapter
(``04-allegations.ipynb``) and measures the time until ``/__preview/status``
reports a new version with the build published (the moment the open page
reloads), checking that the served page holds the new text. Prints each run
and the median. Target: under 10 seconds.

    python benchmarks/bench_preview.py [--repeats 3] [--renderer builtin]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "tests"))

from e2e import demo_config_copy  # noqa: E402  (the tests' own copy of the demo configuration)

CHAPTER = "04-allegations.ipynb"
TIMEOUT = 1800.0


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.read()


def _edit(notebook: Path, text: str) -> None:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    nb["cells"][-1] = {"cell_type": "markdown", "metadata": {}, "source": [text]}
    notebook.write_text(json.dumps(nb, indent=1), encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--renderer", choices=["auto", "builtin", "quarto"], default="builtin")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cfg = demo_config_copy(root)
        shutil.copytree(PROJECT / "notebooks", root / "notebooks")
        env = dict(os.environ, SAFEGUARDING_KEY_FILE=str(root / "pseudonym.key"), PYTHONUNBUFFERED="1")
        proc = subprocess.Popen([sys.executable, "pipeline.py", "preview", "--config", str(cfg),
                                 "--renderer", args.renderer],
                                cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines: list[str] = []
        ready = threading.Event()
        port: list[int] = []

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                m = re.search(r"Previewing at http://127\.0\.0\.1:(\d+)/", line)
                if m:
                    port.append(int(m.group(1)))
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        try:
            if not ready.wait(120) or not port:
                raise SystemExit("preview did not start:\n" + "".join(lines))
            base = f"http://127.0.0.1:{port[0]}"

            def wait_version(after: int) -> dict:
                deadline = time.monotonic() + TIMEOUT
                while time.monotonic() < deadline:
                    if proc.poll() is not None:
                        raise SystemExit("preview ended:\n" + "".join(lines[-40:]))
                    status = json.loads(_get(base + "/__preview/status"))
                    if status["version"] > after and status["state"] != "building":
                        return status
                    time.sleep(0.05)
                raise SystemExit("no build ended in time:\n" + "".join(lines[-40:]))

            t0 = time.perf_counter()
            status = wait_version(0)
            if status["state"] != "ok":
                raise SystemExit(f"first build failed: {status}")
            print(f"first build: {time.perf_counter() - t0:.1f} s", flush=True)
            times: list[float] = []
            for i in range(args.repeats):
                marker = f"Benchmark edit {i}: commentary saved while previewing"
                saved = time.perf_counter()
                _edit(root / "notebooks" / CHAPTER, marker)
                status = wait_version(status["version"])
                took = time.perf_counter() - saved
                page = _get(base + status["page"]).decode("utf-8")
                if status["state"] != "ok" or marker not in page:
                    raise SystemExit(f"run {i + 1}: the edit was not served: {status}")
                times.append(took)
                print(f"run {i + 1}: save to new version served {took:.1f} s (build {status['seconds']} s)",
                      flush=True)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()  # reaped, so the server's peak memory counts in this script's (benchmarks/suite.py)
    median = statistics.median(times)
    print(f"preview reload after saving a chapter: median {median:.1f} s over {len(times)} runs "
          f"(target < 10 s: {'met' if median < 10 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
