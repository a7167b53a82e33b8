"""A build stays inside its folders, runs one at a time, and stops cleanly when interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from e2e import PROJECT, demo_config_copy

from safeguarding.build import build, descendants
from safeguarding.config import ConfigError
from safeguarding.lock import LOCK_NAME, LockedError, build_lock


def test_a_slug_that_leaves_reports_is_refused_and_nothing_is_deleted(tmp_path):
    """Before, area.slug '../../victim' published outside reports/ and deleted what was there."""
    victim = tmp_path / "victim"
    (victim / "2025").mkdir(parents=True)
    (victim / "2025" / "keep.txt").write_text("not the pipeline's", encoding="utf-8")
    (tmp_path / "project").mkdir()
    cfg = demo_config_copy(tmp_path / "project", area={"name": "Victim", "slug": "../../victim"})
    with pytest.raises(ConfigError, match="slug"):
        build(cfg, echo=lambda _m: None)
    assert (victim / "2025" / "keep.txt").read_text(encoding="utf-8") == "not the pipeline's"
    assert not (tmp_path / "project" / "processed").exists(), "work started before the slug was checked"


def test_a_second_build_on_the_same_folders_stops_with_a_clear_message(tmp_path):
    """Before, two builds sharing data/processed and reports/ both ran and corrupted each other's tables."""
    cfg = demo_config_copy(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from pathlib import Path
            from safeguarding.lock import build_lock
            with build_lock([Path({str(tmp_path / 'processed')!r})]):
                print("held", flush=True)
                time.sleep(30)
        """)], cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError, match=f"in use by another build \\(process {holder.pid}") as err:
            build(cfg, echo=lambda _m: None)
        assert "--wait" in str(err.value) and "paths.processed" in str(err.value)
        assert not (tmp_path / "processed" / "referrals.parquet").exists()
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone: the operating system released its lock, which is taken over and reported
    with build_lock([tmp_path / "processed"], wait=0) as notes:
        assert any(f"process {holder.pid}" in n and "no longer running" in n for n in notes)
    record = json.loads((tmp_path / "processed" / LOCK_NAME).read_text(encoding="utf-8"))
    assert record["pid"] == os.getpid() and record.get("released")


def test_wait_takes_the_lock_once_the_other_build_finishes(tmp_path):
    folder = tmp_path / "processed"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import time
            from pathlib import Path
            from safeguarding.lock import build_lock
            with build_lock([Path({str(folder)!r})]):
                print("held", flush=True)
                time.sleep(1.5)
        """)], cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError):
            with build_lock([folder], wait=0):
                pass
        t0 = time.monotonic()
        with build_lock([folder], wait=20) as notes:
            assert time.monotonic() - t0 < 15 and notes == []  # released cleanly: nothing stale to report
    finally:
        holder.wait()


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"


def _build_until(tmp_path: Path, marker: str) -> tuple[subprocess.Popen, float]:
    """Start a cold build of the demo in a process; return it once it printed ``marker``, and a deadline."""
    cfg = demo_config_copy(tmp_path)
    proc = subprocess.Popen([sys.executable, "pipeline.py", "build", "--config", str(cfg), "--renderer", "builtin"],
                            cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    line = ""
    while marker not in line and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            raise AssertionError(f"build ended early: {proc.stderr.read()}")
    return proc, deadline


@pytest.mark.slow
def test_sigterm_during_the_notebooks_stops_every_process_and_logs_the_interruption(tmp_path):
    """Before, SIGTERM left kernel workers running, no run.json and a staging folder in reports/."""
    proc, deadline = _build_until(tmp_path, "notebooks ...")
    try:
        seen: set[int] = set()
        while time.monotonic() < deadline and len(seen) < 3:  # two workers and at least one kernel
            seen.update(descendants(proc.pid))
            time.sleep(0.2)
        assert len(seen) >= 3, f"expected chapter workers and kernels under the build, saw {seen}"
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert "BUILD INTERRUPTED (SIGTERM)" in err
    time.sleep(0.5)
    alive = [p for p in seen if _running(p)]
    assert alive == [], f"processes outlived the build: {alive}"
    log_dir = Path(err.split("run log: ")[1].split()[0])
    record = json.loads((log_dir / "run.json").read_text(encoding="utf-8"))
    assert record["outcome"] == "interrupted" and record["interrupted_by"] == "SIGTERM"
    reports = tmp_path / "reports"
    leftovers = [p for p in reports.rglob("*") if "staging" in p.name] if reports.exists() else []
    assert leftovers == []


def _is_kernel(pid: int) -> bool:
    """A Jupyter kernel: started as ``ipykernel_launcher``, or forked from a kernel zygote (its command line is
    the zygote's, ``-m safeguarding.build.kernel_fork``, and so is its parent's)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"ipykernel" in cmdline:
            return True
        stat = Path(f"/proc/{pid}/stat").read_text()
        parent = int(stat[stat.rindex(")") + 2:].split()[1])
        zygote = b"safeguarding.build.kernel_fork"
        return zygote in cmdline and zygote in Path(f"/proc/{parent}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return False


@pytest.mark.slow
def test_sigterm_before_the_chapters_stops_the_kernels_started_ahead(tmp_path):
    """Issue 19: a cold build starts its chapter workers and their kernels while it works the figures out.
    Interrupted then, before any chapter runs, it stops them too: nothing outlives the build."""
    proc, deadline = _build_until(tmp_path, "disclosure ...")
    # the build held in its disclosure stage (SIGSTOP) while its chapter workers start their kernels: on a busy
    # machine the stage could otherwise end before a kernel, started at the lowest CPU priority, appears
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        seen: set[int] = set()
        while time.monotonic() < deadline and not any(_is_kernel(p) for p in seen):
            seen.update(descendants(proc.pid))
            time.sleep(0.1)
        assert any(_is_kernel(p) for p in seen), f"no kernel started ahead under the build, saw {seen}"
        proc.send_signal(signal.SIGTERM)  # pending until the build goes on: it meets the signal in its stage
        os.kill(proc.pid, signal.SIGCONT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert "notebooks ..." not in out, "the chapters had begun: this test is about the stages before them"
    time.sleep(0.5)
    alive = [p for p in seen if _running(p)]
    assert alive == [], f"processes outlived the build: {alive}"
