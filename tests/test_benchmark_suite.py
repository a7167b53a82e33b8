"""The benchmark suite (``benchmarks/suite.py``): its arithmetic, its parsers, and a quick run's output.

No speed is asserted here: the timings are the benchmarks' business. These
tests check that the suite reports what its runs measured: medians computed
from the repeats, targets judged the right way round, the machine header
present, skips reported as skips.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
BENCH = PROJECT / "benchmarks"


def _load_suite():
    spec = importlib.util.spec_from_file_location("bench_suite", BENCH / "suite.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_suite"] = module  # dataclasses look the module up while the class is made
    spec.loader.exec_module(module)
    return module


suite = _load_suite()


def _middle(values: list[float]) -> float:
    """The median computed independently of the suite: sort, then the middle value or the middle two's mean."""
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


@pytest.mark.parametrize("timings, median", [([3.0, 1.0, 2.0], 2.0), ([4.0, 1.0, 3.0, 2.0], 2.5), ([7.5], 7.5),
                                             ([2.0, 2.0, 9.0], 2.0), ([10.0, 0.5], 5.25)])
def test_the_median_of_injected_timings(timings: list[float], median: float) -> None:
    out = suite.summarise(timings)
    assert out == {"median": median, "min": min(timings), "max": max(timings), "runs": len(timings)}


def test_the_median_agrees_with_an_independent_calculation_on_random_timings() -> None:
    rng = random.Random(19)
    for _ in range(200):
        timings = [rng.uniform(0.01, 100.0) for _ in range(rng.randint(1, 9))]
        out = suite.summarise(timings)
        assert out["median"] == pytest.approx(_middle(timings))
        assert out["median"] == pytest.approx(statistics.median(timings))
        assert out["min"] <= out["median"] <= out["max"]


def test_no_timings_is_an_error_not_a_median() -> None:
    with pytest.raises(ValueError):
        suite.summarise([])


def test_targets_are_judged_the_right_way_round() -> None:
    seconds = suite.Figure("s", 60.0)
    rate = suite.Figure("rows/s", 500_000, higher=True)
    assert suite.verdict(seconds, 59.9) == "met"
    assert suite.verdict(seconds, 60.0) == "not met"  # "under 60 s"
    assert suite.verdict(rate, 500_000) == "met"  # "at least 500,000"
    assert suite.verdict(rate, 499_999) == "not met"
    assert suite.verdict(suite.Figure("MiB"), 1.0) == "no target"
    assert suite.verdict(seconds, 1.0, quick=True) == "not judged (quick)"


def test_every_benchmark_script_is_in_the_suite() -> None:
    scripts = {p.name for p in BENCH.glob("bench_*.py")}
    run = {b.script for b in suite.BENCHMARKS if b.script}
    assert scripts == run | set(suite.COVERED_ELSEWHERE), scripts ^ (run | set(suite.COVERED_ELSEWHERE))
    assert all((BENCH / s).exists() for s in run)


def test_every_readme_performance_row_has_a_benchmark_in_the_suite() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Performance", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"^\| `(bench_\w+\.py)`", section, flags=re.M))
    assert named, "no benchmark rows found in the README's Performance section"
    covered = {b.script for b in suite.BENCHMARKS} | set(suite.COVERED_ELSEWHERE)
    assert named <= covered, named - covered


def test_the_multi_area_output_is_read() -> None:
    out = ("run 1, --jobs 1: 812.4 s (all published)\nrun 1, --jobs 2: 455.0 s (exit 1)\n"
           "20 areas, --jobs 1: median 812.4 s over 1 run(s)\n20 areas, --jobs 2: median 455.0 s over 1 run(s)\n"
           "speed-up --jobs 2 against --jobs 1: 1.79 times\n")
    values, notes = suite.parse_areas(out)
    assert values == {"areas, --jobs 1": [812.4], "areas, --jobs 2": [455.0], "--jobs 2 against --jobs 1": [1.79]}
    assert notes == ["an area failed: exit 1"]
    bench = next(b for b in suite.BENCHMARKS if b.name == "multi_area_jobs")
    target = bench.figures["--jobs 2 against --jobs 1"]
    assert target.target == 1.7 and target.higher


def test_the_parsers_read_the_scripts_output() -> None:
    build = "run 1: 37.2 s  ingest 0.2, indicators 1.2, disclosure 13.8\nrun 2: 35.0 s  ingest 0.3, indicators 1.0, " \
            "disclosure 12.0\n"
    found, _ = suite.parse_build(build)
    assert found["cold build, total"] == [37.2, 35.0] and found["stage disclosure"] == [13.8, 12.0]
    ingest = ("data: synthetic large council\nrows per run: 300,000 across 9 tables; failed: []\n"
              "seconds per run: 1.00, 0.50, 2.00\nmedian rows/s: 300,000 (target 250,000)\n"
              "peak memory (max RSS of the ingest process): 420 MB\n")
    found, _ = suite.parse_ingest(ingest)
    assert found["ingest rows/s"] == [300_000, 600_000, 150_000] and found["ingest process peak"] == [420]
    incremental = "run 1: cold 67.5 s (0 stages cached); no change 1.0 s (8 stages cached); commentary edited " \
                  "2.1 s (7 stages cached); code edited 6.1 s (6 stages cached)\n"
    found, _ = suite.parse_incremental(incremental)
    assert found == {"cold build": [67.5], "rebuild, no change": [1.0], "rebuild, commentary edited": [2.1],
                     "rebuild, code edited": [6.1]}
    england = "run 1: 70.2 s (ingest 20.1 s, indicators 50.1 s), peak 1,234 MiB\ncouncils: 153, rows read: 9\n"
    found, notes = suite.parse_england(england)
    assert found["England ingest + indicators"] == [70.2] and found["England process peak"] == [1234.0]
    assert notes == ["councils: 153, rows read: 9"]
    publication = ("run 1: 6.45 s (30 runs, 102,434 rows, 2,517 shown c)\nrun 2: 6.43 s (30 runs, 102,434 rows, 2,517 "
                   "shown c)\nprotect_publication: demo council, 102,434 indicator rows; median 6.44 s over 2 runs "
                   "(2 workers)\n")
    found, notes = suite.parse_publication(publication)
    assert found == {"protect_publication (demo)": [6.45, 6.43]}
    assert notes == ["demo council, 102,434 indicator rows, 2 runs (2 workers)"]
    assert suite.parse_publication("pipeline.py ingest failed") == ({}, [])
    xlsx = "15,984 rows x 16 columns: median 0.25 s (runs: 0.23, 0.25, 0.29), peak Python memory 9 MiB, file 1 KiB\n"
    found, _ = suite.parse_xlsx(xlsx)
    assert found == {"write_xlsx": [0.23, 0.25, 0.29], "write_xlsx Python peak": [9.0]}


def _fake_bench(tmp_path: Path, runs_inside: bool) -> object:
    """A benchmark whose script prints known timings: 3, 1, 2 and 10 s, one per run, in this order."""
    script = tmp_path / "bench_fake.py"
    script.write_text(
        "import sys\nfrom pathlib import Path\n"
        "count = Path(sys.argv[1]); repeats = int(sys.argv[2]); timings = [3.0, 1.0, 2.0, 10.0]\n"
        "done = int(count.read_text()) if count.exists() else 0\n"
        "for i in range(repeats):\n    print(f'run {done + i + 1}: {timings[done + i]} s')\n"
        "count.write_text(str(done + repeats))\n", encoding="utf-8")

    def parse(out: str) -> tuple[dict[str, list[float]], list[str]]:
        return {"fake": [float(x) for x in re.findall(r"^run \d+: ([\d.]+) s", out, flags=re.M)]}, ["a note"]

    return suite.Benchmark("fake", str(script), "a fake figure", parse, runs_inside=runs_inside,
                           args=lambda opts, repeats: [str(tmp_path / "count"), str(repeats)],
                           figures={"fake": suite.Figure("s", 2.5)})


@pytest.mark.parametrize("runs_inside", [True, False])
def test_run_benchmark_takes_the_median_of_the_repeats(tmp_path: Path, runs_inside: bool) -> None:
    bench = _fake_bench(tmp_path, runs_inside)
    record = suite.run_benchmark(bench, suite.Options(repeats=4, quick=False, scratch=tmp_path))
    assert record["status"] == "ok", record["reason"]
    (figure,) = record["figures"]
    assert figure["samples"] == [3.0, 1.0, 2.0, 10.0]
    assert figure["median"] == _middle([3.0, 1.0, 2.0, 10.0]) == 2.5
    assert (figure["min"], figure["max"], figure["runs"]) == (1.0, 10.0, 4)
    assert figure["verdict"] == "not met"  # 2.5 is not under 2.5
    assert record["notes"] == ["a note"] and record["peak_rss_mib"] > 0


def test_a_benchmark_that_fails_is_reported_failed(tmp_path: Path) -> None:
    script = tmp_path / "bench_broken.py"
    script.write_text("raise SystemExit('broken on purpose')\n", encoding="utf-8")
    bench = suite.Benchmark("broken", str(script), "nothing", lambda out: ({}, []))
    record = suite.run_benchmark(bench, suite.Options(repeats=1, quick=True, scratch=tmp_path))
    assert record["status"] == "failed" and "broken on purpose" in record["reason"]


@pytest.mark.slow
def test_a_quick_run_prints_the_machine_and_writes_the_json(tmp_path: Path) -> None:
    out_json = tmp_path / "suite.json"
    proc = subprocess.run([sys.executable, str(BENCH / "suite.py"), "--quick", "--only", "cin_census",
                           "--json", str(out_json), "--keep", str(tmp_path / "scratch")],
                          cwd=PROJECT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for label in ("machine", "CPU", "cores", "memory", "OS", "Python", "packages", "date", "commit"):
        assert re.search(rf"^\s*{label}\b", proc.stdout, flags=re.M), label
    assert "peer liiatools (Social Finance): skipped: peer not installed" in proc.stdout or \
        "peer liiatools (Social Finance): skipped: installed" in proc.stdout
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert {"cpu", "cores", "memory_gib", "os", "python", "packages", "date", "git_commit"} <= set(data["machine"])
    assert data["quick"] is True and data["repeats"] == 1
    (census,) = data["benchmarks"]
    assert census["name"] == "cin_census" and census["status"] == "ok" and census["peak_rss_mib"] > 0
    assert {f["name"] for f in census["figures"]} == {"read census (6 tables)", "census rows/s"}
    for figure in census["figures"]:
        assert figure["median"] == _middle(figure["samples"]) and figure["runs"] == len(figure["samples"]) == 1


def test_the_kernel_context_output_is_read() -> None:
    out = ("chapter 03-referrals, audience public, median of 3 fresh processes (s):\n"
           "  context worked out  import 1.60  load 2.40  first cell 4.10  chapter's sections 0.50  (imported: x)\n"
           "  context saved       import 1.20  load 0.30  first cell 1.55  chapter's sections 0.40  (imported: x)\n")
    values, notes = suite.parse_kernel_context(out)
    assert values == {"first cell, context worked out": [4.10], "first cell, context saved": [1.55]}
    assert notes == ["chapter 03-referrals, audience public, median of 3 fresh processes (s)"]


def test_the_england_one_pass_output_is_read() -> None:
    out = ("one pass, --jobs 1, run 1: 63.5 s (ingest 10.2 s, indicators 52.5 s; CPU 64.8 s), peak 1,587 MiB, "
           "load before 1.1\n"
           "one pass, --jobs 2, run 1: 35.7 s (ingest 9.0 s, indicators 25.0 s; CPU 67.0 s), peak 1,590 MiB, "
           "load before 1.3\n"
           "one pass, --jobs 1: 153 areas, median of 1: 63.5 s (target < 60 s), CPU 64.8 s, peak 1,587 MiB\n")
    values, _ = suite.parse_england_one_pass(out)
    assert values == {"England one pass, --jobs 1": [63.5], "England one pass peak, --jobs 1": [1587.0],
                      "England one pass, --jobs 2": [35.7], "England one pass peak, --jobs 2": [1590.0]}
    # every peak is shown in MiB (the first quiet run of 2026-12-06 printed "--jobs 2" peak as "1524.0 s")
    bench = next(b for b in suite.BENCHMARKS if b.name == "england_one_pass")
    assert all(bench.figures[name].unit == "MiB" for name in values if "peak" in name)


def test_a_ratio_is_shown_with_its_decimals() -> None:
    """The twenty-area run of 2026-12-06 printed "--jobs 2 against --jobs 1: 2 x, target >= 2 x: met" for
    1.87 against 1.7: a ratio keeps two decimals."""
    assert suite._number(1.87, "x") == "1.87 x" and suite._number(1.7, "x") == "1.70 x"
    assert suite._number(12.34, "s") == "12.3 s" and suite._number(1531.0, "MiB") == "1,531 MiB"
