"""Chapter kernels forked from a kernel zygote (issue 19): they behave as kernels Jupyter started itself.

The zygote imports the report layer once per chapter worker, and each kernel started ahead of its chapter
is forked from it (about 0.1 s of CPU instead of 1.3 s: measured in ``benchmarks/bench_build.py``). Jupyter
does not start these kernels, so what it relies on is checked here: the kernel runs code, is interrupted by
SIGINT to its process group, is shut down and seen to be gone, and ends when the zygote has gone; where the
zygote cannot start, kernels start the usual way.
"""

from __future__ import annotations

import sys
import threading
import time

import pytest

from safeguarding.build import kernel_fork
from safeguarding.build import notebooks as nb
from safeguarding.build.processes import _running

pytestmark = pytest.mark.skipif(not kernel_fork.available(), reason="kernels are forked on Linux only")


def _until(condition, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _run(km, code: str, timeout: float = 30.0) -> dict:
    """Execute ``code`` in the kernel of ``km``; the execute reply's content and what the cell printed."""
    from jupyter_core.utils import run_sync

    async def go() -> dict:
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=timeout)
            msg_id = kc.execute(code)
            printed = []
            while True:
                msg = await kc.get_iopub_msg(timeout=timeout)
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] == "stream":
                    printed.append(msg["content"]["text"])
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    break
            reply = await kc.get_shell_msg(timeout=timeout)
            return {**reply["content"], "printed": "".join(printed)}
        finally:
            kc.stop_channels()

    return run_sync(go)()


@pytest.fixture
def zygote():
    z = kernel_fork.KernelZygote(priority=nb.lowest_priority)
    assert z.wait_ready(), "the zygote imported the report layer and said so"
    try:
        yield z
    finally:
        z.close()


def test_a_forked_kernel_runs_code_is_interrupted_and_is_shut_down(zygote):
    km = nb._start_warm(threading.Event(), zygote)
    assert km is not None
    pid = km.provisioner.pid
    try:
        assert isinstance(km.provisioner, kernel_fork.ForkedProvisioner)
        assert km.provisioner.process.poll() is None
        ran = _run(km, "import os, sys; print(os.getppid(), 'safeguarding.report.sections.voice' in sys.modules)")
        assert ran["status"] == "ok"
        parent, warm = ran["printed"].split()
        assert int(parent) == zygote.proc.pid and warm == "True"
        # Jupyter interrupts an ipykernel with SIGINT to its process group: the cell stops, the kernel lives
        from jupyter_core.utils import run_sync

        stopper = threading.Timer(1.5, lambda: run_sync(km.interrupt_kernel)())
        stopper.start()
        try:
            stopped = _run(km, "import time; time.sleep(60)")
        finally:
            stopper.cancel()
        assert stopped["status"] == "error" and stopped["ename"] == "KeyboardInterrupt"
        assert _run(km, "print(6 * 7)")["printed"].strip() == "42"
    finally:
        nb._shut(km)
    assert _until(lambda: not _running(pid)), "the kernel was shut down"
    assert km.provisioner is None or km.provisioner.process is None or km.provisioner.process.poll() is not None


def test_a_forked_kernel_ends_when_its_zygote_has_gone(zygote):
    km = nb._start_warm(threading.Event(), zygote)
    assert km is not None
    pid = km.provisioner.pid
    try:
        assert _running(pid)
        zygote.close()
        assert _until(lambda: not _running(pid), 20), "the kernel outlived its zygote"
    finally:
        nb._shut(km)


def test_kernels_start_the_usual_way_where_no_zygote_can_start(monkeypatch, capsys):
    def broken(*_args, **_kwargs):
        raise OSError("no-zygote-marker")

    monkeypatch.setattr(kernel_fork, "KernelZygote", broken)
    assert nb._zygote() is None
    assert "no-zygote-marker" in capsys.readouterr().err
    monkeypatch.setattr(kernel_fork, "available", lambda: False)
    assert nb._zygote() is None


def test_only_this_pythons_ipykernel_is_forked():
    assert kernel_fork.is_this_ipykernel([sys.executable, "-m", "ipykernel_launcher", "-f", "x.json"])
    assert not kernel_fork.is_this_ipykernel([sys.executable, "-m", "other_kernel", "-f", "x.json"])
    assert not kernel_fork.is_this_ipykernel(["/no/such/python", "-m", "ipykernel_launcher", "-f", "x.json"])
    assert not kernel_fork.is_this_ipykernel(["R", "--slave", "-e", "IRkernel::main()"])


def test_a_zygote_that_is_not_ready_in_time_is_ended_and_kernels_start_the_usual_way(monkeypatch):
    """A zygote still importing when the chain gives up on it (its time-out, or the build closing the workers)
    is killed at once rather than waited for; the chain then starts kernels the usual way."""
    stop = threading.Event()
    stop.set()  # the workers are being closed before the zygote is ready
    z = kernel_fork.KernelZygote()
    start = time.monotonic()
    assert not z.wait_ready(60, stop)
    z.close()
    assert time.monotonic() - start < 4 and z.proc.returncode is not None
    assert nb._zygote(stop) is None
