"""Installable and location-independent: the ``safeguarding`` command builds a project in any folder.

Before, the build wrote ``logs/`` and ``build/`` beside the package and set
``PYTHONPATH`` so the kernels could import it: it only worked from a checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from e2e import PROJECT, demo_config_copy


def _listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_the_command_is_installed_with_the_same_commands_as_pipeline_py():
    exe = shutil.which("safeguarding", path=str(Path(sys.executable).parent))
    assert exe, "pip install -e . (requirements.txt) did not install the 'safeguarding' command"
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("synth", "ingest", "indicators", "build"):
        assert command in out
    assert out.startswith("usage: safeguarding")


def test_dependencies_are_declared_once_in_pyproject():
    import tomllib

    meta = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "pandas>=2.2,<4" in meta["project"]["dependencies"]
    assert meta["project"]["scripts"]["safeguarding"] == "safeguarding.cli:main"
    for name in ("requirements.txt", "requirements-dev.txt"):
        lines = [ln.strip() for ln in (PROJECT / name).read_text(encoding="utf-8").splitlines()
                 if ln.strip() and not ln.startswith("#")]
        assert lines and all(ln.startswith("-e .") for ln in lines), f"{name} repeats dependencies: {lines}"


@pytest.mark.slow
def test_a_project_folder_anywhere_builds_with_its_logs_and_work_inside_it(tmp_path):
    project = tmp_path / "elsewhere"
    project.mkdir()
    cfg = demo_config_copy(project)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    before = {name: _listing(PROJECT / name) for name in ("logs", "build")}
    exe = shutil.which("safeguarding", path=str(Path(sys.executable).parent))
    proc = subprocess.run([exe, "build", "--config", str(cfg), "--renderer", "builtin"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (project / "reports" / "northwold" / "2025" / "annual-review.html").is_file()
    runs = list((project / "logs").iterdir())
    assert len(runs) == 1 and (runs[0] / "run.json").is_file(), "the run log belongs in the project folder"
    run_id = runs[0].name
    # nothing of this run in the checkout (other builds may run beside the tests, so look for this one)
    for name in ("logs", "build"):
        assert run_id not in _listing(PROJECT / name) - before[name], f"the build wrote into the checkout's {name}/"
