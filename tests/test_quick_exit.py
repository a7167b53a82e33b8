"""The quick exit of ``pipeline.py``: every exit handler runs and the status is kept, then the process ends
without Python taking its ~2,500 modules apart (0.25 s of a cold build; see ``benchmarks/bench_build.py``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import sys
    from safeguarding import quick_exit

    quick_exit.install()
    import atexit
    import logging
    import tempfile
    from pathlib import Path

    out = Path(sys.argv[1])
    handler = logging.FileHandler(out / "log.txt", encoding="utf-8")
    logging.getLogger("q").addHandler(handler)
    logging.getLogger("q").warning("logged before the exit")
    atexit.register(lambda: (out / "atexit.txt").write_text("ran", encoding="utf-8"))
    scratch = tempfile.TemporaryDirectory(dir=out)  # removed by its finaliser at exit
    (out / "scratch.txt").write_text(scratch.name, encoding="utf-8")


    class Torn:
        # a module-level object: Python's teardown deletes it (and says so) on the way out
        def __del__(self):
            (out / "teardown.txt").write_text("torn down", encoding="utf-8")


    kept = Torn()
    for i in range(20000):  # more than a pipe's buffer: all of it must arrive
        print(f"line {i}")
    sys.stderr.write("said on stderr")
    quick_exit.leave(int(sys.argv[2]))
""")


def _run(tmp_path: Path, status: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path), str(status)], cwd=PROJECT,
                          capture_output=True, text=True, timeout=60, check=False)


def test_every_exit_handler_runs_the_status_is_kept_and_the_teardown_is_skipped(tmp_path):
    proc = _run(tmp_path, 3)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 20000 and lines[-1] == "line 19999", "standard output flushed in full"
    assert proc.stderr.endswith("said on stderr")
    assert (tmp_path / "atexit.txt").read_text(encoding="utf-8") == "ran"
    assert "logged before the exit" in (tmp_path / "log.txt").read_text(encoding="utf-8")
    assert not Path((tmp_path / "scratch.txt").read_text(encoding="utf-8")).exists(), "temporary folder removed"
    # the modules are not taken apart: the object Python's teardown would delete is never deleted
    assert not (tmp_path / "teardown.txt").exists()


def test_status_zero_and_an_exception_end_as_usual(tmp_path):
    assert _run(tmp_path, 0).returncode == 0
    # a process not ended by leave() (here an exception) shuts down as Python does: its teardown runs
    failing = SCRIPT.replace("quick_exit.leave(int(sys.argv[2]))", "raise SystemExit(int(sys.argv[2]))")
    proc = subprocess.run([sys.executable, "-c", failing, str(tmp_path), "4"], cwd=PROJECT, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 4
    assert (tmp_path / "teardown.txt").read_text(encoding="utf-8") == "torn down"


def test_pipeline_keeps_the_commands_exit_status(tmp_path):
    """``pipeline.py`` ends with the command's status: 0 for help, not 0 for a configuration that is not there."""
    ok = subprocess.run([sys.executable, "pipeline.py", "build", "--help"], cwd=PROJECT, capture_output=True,
                        text=True, timeout=120, check=False)
    assert ok.returncode == 0 and "--config" in ok.stdout
    bad = subprocess.run([sys.executable, "pipeline.py", "check", "--config", str(tmp_path / "missing.yml")],
                         cwd=PROJECT, capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode not in (0, None), bad.stdout + bad.stderr
    assert "missing.yml" in bad.stdout + bad.stderr


def test_importing_the_front_door_registers_no_exit_handler_before_the_quick_exit():
    """``python -m safeguarding.cli`` installs the quick exit after its own imports: they must register no
    exit handler, or that handler would run after the quick exit ended the process (never)."""
    code = ("import atexit; n = atexit._ncallbacks(); import safeguarding.cli, safeguarding.quick_exit; "
            "print(atexit._ncallbacks() - n)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=60,
                          check=True)
    assert proc.stdout.strip() == "0"
