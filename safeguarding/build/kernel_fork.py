"""Chapter kernels forked from one process that has already imported the report layer (Linux).

A kernel started ahead of its chapter (:mod:`safeguarding.build.notebooks`) used to start Python,
ipykernel and the report layer (pandas, matplotlib, statsmodels, every chapter's module) on its own:
about 1.3 s of CPU per kernel, eight kernels in a cold build, taken from the disclosure stage running
at the same time (measured: about 1 s of the indicators and disclosure stages). A :class:`KernelZygote`
does those imports once for each chapter worker. It is a small server, started at
the lowest CPU priority, that forks a new kernel for each request: the child becomes an ordinary
ipykernel (``IPKernelApp`` with the connection file Jupyter wrote), in a session of its own, as Jupyter
starts kernels, with the environment and working directory Jupyter would give it, and its random
generators seeded afresh. Nothing the chapters see differs: their namespace, history and execution
count are those of a new kernel, and the modules they import are already loaded, as they were after
the warm-up of a kernel started the usual way.

:class:`ForkedProvisioner` is the Jupyter side: a kernel manager given one launches its kernel through
the zygote instead of a new process, and signals, polls and waits for it by its process id (the kernel
is the zygote's child, which reaps it). Where ``fork`` is unsafe or missing (Windows, macOS), or the
kernel specification is not this Python's ipykernel, kernels start the usual way.

Run as ``python -m safeguarding.build.kernel_fork``: the server. It reads one JSON request per line
on standard input (``connection_file``, ``env``, ``cwd``) and answers each with the new kernel's
process id on standard output; it exits at the end of its input, and a kernel exits when the server
has gone (its parent poller).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import LocalProvisioner

#: the line the server prints once its imports are done
READY = "ready"


def available() -> bool:
    """True where kernels can be forked from a zygote: Linux. The server starts no thread of its own; the
    native libraries' threads it has (OpenBLAS's, pyarrow's jemalloc) go through their fork handlers, as
    they do when :mod:`multiprocessing` forks a process that imported them (macOS forbids such a fork)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def is_this_ipykernel(argv: list[str]) -> bool:
    """True when a kernel's command (as Jupyter formats it: ``python`` is this Python) starts this Python's
    ipykernel, which is what the zygote's kernels are."""
    if len(argv) < 3 or argv[1:3] != ["-m", "ipykernel_launcher"]:
        return False
    try:
        return os.path.samefile(argv[0], sys.executable)
    except OSError:
        return False


class KernelZygote:
    """The server (``python -m safeguarding.build.kernel_fork``), started at the lowest CPU priority.

    :meth:`wait_ready` waits for its imports; :meth:`fork_kernel` asks it for a kernel; :meth:`close`
    ends it (its kernels still running end with it).
    """

    def __init__(self, priority: Callable[[int], None] | None = None) -> None:
        self._lock = threading.Lock()  # one request at a time on the pipes
        self.ready = False  # its imports done (:meth:`wait_ready`)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "safeguarding.build.kernel_fork"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, start_new_session=True)
        if priority is not None:
            priority(self.proc.pid)

    def wait_ready(self, timeout: float = 120.0, stop: threading.Event | None = None) -> bool:
        """Wait for the server's imports; False if it ended instead, took over ``timeout`` seconds, or
        ``stop`` was set meanwhile."""
        import select

        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not (stop is not None and stop.is_set()):
            if select.select([self.proc.stdout], [], [], 0.2)[0]:
                self.ready = self.proc.stdout.readline().decode("ascii", "replace").strip() == READY
                return self.ready
            if self.proc.poll() is not None:
                return False
        return False

    def fork_kernel(self, connection_file: str, env: dict[str, str], cwd: str) -> int:
        """A new kernel for ``connection_file``: its process id."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        request = {"connection_file": connection_file, "env": env, "cwd": cwd}
        with self._lock:
            self.proc.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
            self.proc.stdin.flush()
            answer = self.proc.stdout.readline().decode("ascii", "replace").strip()
        if not answer.isdigit():
            raise RuntimeError(f"the kernel zygote did not start a kernel (it said {answer!r})")
        return int(answer)

    def close(self) -> None:
        """End the server: its input closed, then SIGKILL if it is still there after 5 s (at once if it was
        never ready: it is not reading its input)."""
        if not self.ready and self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - it exits at the end of its input
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class _Forked(subprocess.Popen):
    """A ``Popen`` for a kernel that is not this process's child (the zygote's): what Jupyter's local
    provisioner asks of one (poll, wait, signals), by process id; no streams."""

    _child_created = False  # (Popen's own clean-up: nothing of ours to wait for)

    def __init__(self, pid: int) -> None:  # (Popen.__init__ starts a process: not called)
        self.pid = pid
        self.returncode = None
        self.stdin = self.stdout = self.stderr = None
        self.args = [f"kernel {pid}"]
        self._signal = 0  # the last signal sent (the exit status is the zygote's to see, not ours)
        self._fd: int | None = None
        with contextlib.suppress(OSError, AttributeError):  # (Linux 5.3 on: exact even if the id is reused)
            self._fd = os.pidfd_open(pid)

    def __del__(self) -> None:  # (the pidfd, if the kernel was never seen to go)
        fd = getattr(self, "_fd", None)
        if isinstance(fd, int):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _gone(self) -> bool:
        if self._fd is not None:
            import select

            return bool(select.select([self._fd], [], [], 0)[0])
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # pragma: no cover - our own kernel
            return False
        return False

    def poll(self) -> int | None:
        """The kernel's exit status once it has gone (minus the last signal sent, else 0), or None."""
        if self.returncode is None and self._gone():
            self.returncode = -self._signal
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the kernel to go (polled: it is not our child); its status as :meth:`poll` gives it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0)
            time.sleep(0.02)
        return code

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to the kernel, unless it has gone."""
        if self.poll() is None:
            self._signal = sig
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        """SIGTERM to the kernel."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL to the kernel."""
        self.send_signal(signal.SIGKILL)


class ForkedProvisioner(LocalProvisioner):
    """Jupyter's local provisioner, launching the kernel through a :class:`KernelZygote` (set ``zygote``)."""

    zygote: KernelZygote | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs: object) -> KernelConnectionInfo:
        """Fork the kernel from the zygote (its environment and working directory as Jupyter gives them);
        another kernel's command, or no zygote: launched the usual way."""
        if self.zygote is None or self.parent is None or not is_this_ipykernel(cmd):
            return await super().launch_kernel(cmd, **kwargs)
        given_env, given_cwd = kwargs.get("env"), kwargs.get("cwd")
        env = {str(k): str(v) for k, v in (given_env if isinstance(given_env, dict) else os.environ).items()}
        cwd = str(given_cwd) if isinstance(given_cwd, str | os.PathLike) else os.getcwd()
        pid = self.zygote.fork_kernel(str(self.parent.connection_file), env, cwd)
        self.process = _Forked(pid)
        self.pid = self.pgid = pid  # (a session and process group of its own)
        self.cwd = cwd
        return self.connection_info


def _serve() -> None:  # pragma: no cover - runs in the server process (tests drive it through KernelZygote)
    """The server: import what a chapter kernel imports, then fork a kernel per request until input ends."""
    _kernel_path()
    # as a kernel sets it before its code runs (matplotlib reads it when first imported)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    from ipykernel import kernelapp  # noqa: F401  (imported once here, for every kernel)

    from safeguarding.report import sections

    sections.import_all()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels that end are reaped by the system
    out = sys.stdout
    out.write(READY + "\n")
    out.flush()
    while True:
        line = sys.stdin.buffer.readline()
        if not line:
            return
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                _kernel(request)
            except SystemExit:
                raise
            except BaseException:  # the kernel could not start: said on standard error, then gone
                import traceback

                traceback.print_exc()
                os._exit(1)
            return  # the kernel has ended: this (child) process ends as a kernel does
        out.write(f"{pid}\n")
        out.flush()


def _kernel_path() -> None:  # pragma: no cover - runs in the server process
    """``sys.path`` as a kernel has it when its warm-up runs: the launcher's directory taken off the front
    (``ipykernel_launcher``), then ``''`` put before the first site-packages (IPython's ``init_path``)."""
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    if "" in sys.path or sys.flags.safe_path:
        return
    at = next((i for i, p in enumerate(sys.path) if os.path.basename(p) in ("site-packages", "dist-packages")), 0)
    sys.path.insert(at, "")


def _kernel(request: dict[str, Any]) -> None:  # pragma: no cover - runs in a forked kernel
    """Become a kernel: what Jupyter's launcher gives a kernel process, then ipykernel's own start."""
    import random

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()  # a session (and process group) of its own, as Jupyter starts a kernel
    with contextlib.suppress(OSError), open("/proc/self/autogroup", "w", encoding="ascii") as fh:
        fh.write("19")  # the session's scheduling group at the lowest priority, as the zygote's
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)  # what a kernel prints outside a cell goes where the zygote's messages go
    os.chdir(request["cwd"])
    parent = os.getppid()
    env = dict(request["env"])
    env["JPY_PARENT_PID"] = str(parent)  # as Jupyter's launcher sets it (for the kernel's subprocesses)
    os.environ.clear()
    os.environ.update(env)
    random.seed()
    if "numpy" in sys.modules:
        import numpy as np

        np.random.seed()
    from ipykernel import kernelapp

    # the kernel ends when the zygote has gone (ipykernel read JPY_PARENT_PID when the zygote imported it)
    argv = ["-f", request["connection_file"], f"--IPKernelApp.parent_handle={parent}"]
    import importlib.util

    spec = importlib.util.find_spec("ipykernel_launcher")  # sys.argv as ``python -m ipykernel_launcher`` has it
    sys.argv = [spec.origin if spec and spec.origin else "ipykernel_launcher", "-f", request["connection_file"]]
    kernelapp.launch_new_instance(argv=argv)


if __name__ == "__main__":  # pragma: no cover - the server process
    _serve()
