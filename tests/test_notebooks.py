"""The committed chapter notebooks: clean, parameterised, thin."""

from __future__ import annotations

import json

import pytest

from safeguarding.build import chapter_notebooks


def notebooks():
    return chapter_notebooks()


def test_there_is_a_notebook_per_chapter():
    names = [p.stem for p in notebooks()]
    for chapter in ("summary", "child-protection", "referrals", "allegations", "private-fostering", "partnership",
                    "appendix"):
        assert any(chapter in n for n in names), f"no notebook for {chapter}: {names}"


@pytest.mark.parametrize("path", chapter_notebooks(), ids=lambda p: p.name)
def test_committed_without_outputs_and_with_kernelspec(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name} has outputs"
            assert cell.get("execution_count") is None


@pytest.mark.parametrize("path", chapter_notebooks(), ids=lambda p: p.name)
def test_has_parameters_cell_with_the_three_parameters(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    params = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1
    src = "".join(params[0]["source"])
    for name in ("config_path", "year", "audience"):
        assert f"{name} =" in src


@pytest.mark.parametrize("path", chapter_notebooks(), ids=lambda p: p.name)
def test_notebooks_stay_thin(path):
    """Logic lives in the package: no code cell defines functions or classes or loops."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        for banned in ("def ", "class ", "for ", "while ", "import pandas"):
            assert banned not in src, f"{path.name}: '{banned.strip()}' in a cell; move logic to safeguarding/"


def test_a_kernel_that_dies_at_start_is_started_again(monkeypatch, tmp_path):
    """Jupyter's port race kills a kernel before it answers: the chapter is run again, a real error is not."""
    import papermill as pm

    import safeguarding.build.notebooks as b

    calls = []

    def flaky(*_a, **_k):
        calls.append(1)
        if len(calls) < b.KERNEL_START_ATTEMPTS:
            raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(pm, "execute_notebook", flaky)
    monkeypatch.setattr(b.time, "sleep", lambda _s: None)
    nb = chapter_notebooks()[0]
    assert b._execute_one(nb, tmp_path, {}) is None
    assert len(calls) == b.KERNEL_START_ATTEMPTS

    def always(*_a, **_k):
        raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(pm, "execute_notebook", always)
    with pytest.raises(RuntimeError, match="Kernel died"):
        b._execute_one(nb, tmp_path, {})

    def other(*_a, **_k):
        calls.append(1)
        raise RuntimeError("something else")

    calls.clear()
    monkeypatch.setattr(pm, "execute_notebook", other)
    with pytest.raises(RuntimeError, match="something else"):
        b._execute_one(nb, tmp_path, {})
    assert len(calls) == 1, "only a kernel that died at start is retried"


@pytest.mark.parametrize("path", chapter_notebooks(), ids=lambda p: p.name)
def test_the_notebook_generator_knows_every_cell_the_chapter_calls(path):
    """tools/make_notebooks.py writes a chapter from its list of cells: the committed notebook calls the same
    section functions in the same order (before, the survey and partners' cells were missing from the list, so
    regenerating a chapter would have dropped them)."""
    import importlib.util
    from pathlib import Path

    tool = Path(__file__).resolve().parents[1] / "tools" / "make_notebooks.py"
    spec = importlib.util.spec_from_file_location("make_notebooks", tool)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    nb = json.loads(path.read_text(encoding="utf-8"))
    calls = ["".join(c["source"]).strip() for c in nb["cells"]
             if c["cell_type"] == "code" and "".join(c["source"]).lstrip().startswith("sections.")]
    listed = [text for kind, text in module.CHAPTERS[path.stem][2] if kind == "code"]
    assert calls == listed


def _notebook_tool():
    import importlib.util
    from pathlib import Path

    tool = Path(__file__).resolve().parents[1] / "tools" / "make_notebooks.py"
    spec = importlib.util.spec_from_file_location("make_notebooks", tool)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_notebook_generator_never_rewrites_a_chapter_with_commentary(tmp_path):
    """Issue 18: ``make_notebooks.py --force`` rewrote every chapter, the analysts' commentary with it. Now it
    adds the missing chapters only, keeps an edited one byte for byte, refuses ``--force``, and ``--diff``
    shows the edits against the skeleton."""
    import shutil
    from pathlib import Path

    import nbformat
    from nbformat.v4 import new_markdown_cell

    tool = _notebook_tool()
    mine = tmp_path / "03-referrals.ipynb"
    shutil.copy(Path(__file__).resolve().parents[1] / "notebooks" / mine.name, mine)
    nb = nbformat.read(mine, as_version=4)
    nb.cells.append(new_markdown_cell("Our commentary: referrals from schools rose after the autumn campaign."))
    nbformat.write(nb, mine)
    before = mine.read_bytes()
    written = tool.write_missing(tmp_path, echo=lambda _line: None)
    assert mine.read_bytes() == before
    assert sorted(p.name for p in written) == sorted(f"{n}.ipynb" for n in tool.CHAPTERS if n != mine.stem)
    for path in written:  # each written chapter is its skeleton, with the kernelspec papermill needs
        assert nbformat.read(path, as_version=4).metadata["kernelspec"]["name"] == "python3"
    with pytest.raises(SystemExit):
        tool.main(["--force", "--out", str(tmp_path)])
    tool.main(["--out", str(tmp_path)])
    assert mine.read_bytes() == before
    said: list[str] = []
    assert tool.write_missing(tmp_path, diff=True, echo=said.append) == []
    assert any(line.startswith("+[markdown] Our commentary") for line in said), said
    assert any("it has your edits" in line and mine.name in line for line in said)


def test_jobs_sets_how_many_chapters_run_at_once(monkeypatch, tmp_path):
    """``build --kernels N`` runs N chapters at once; by default two, or one per core on a smaller machine."""
    import concurrent.futures
    import logging

    import safeguarding.build.notebooks as b

    seen: list[int] = []

    class Pool:
        def __init__(self, max_workers, **_kwargs):
            seen.append(max_workers)

        def map(self, fn, *iterables):
            return [(None, False) for _ in zip(*iterables, strict=True)]

        def shutdown(self, **_kwargs):
            pass

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Pool)
    nbs = chapter_notebooks()
    log = logging.getLogger("t")
    for jobs, cores, expected in ((None, 8, b.DEFAULT_JOBS), (None, 1, 1), (4, 2, 4), (99, 2, len(nbs))):
        monkeypatch.setattr(b.os, "cpu_count", lambda cores=cores: cores)
        b._execute_all(nbs, tmp_path, {}, log, tmp_path / "kernels.log", jobs=jobs)
        assert seen[-1] == expected, (jobs, cores)


PROBE = """import json, os, random, sys
print(json.dumps({"pid": os.getpid(), "nice": os.getpriority(os.PRIO_PROCESS, 0),
                  "warm": "safeguarding.report.sections.referrals" in sys.modules,
                  "names": sorted(k for k in globals() if not k.startswith("_")),
                  "parent": open(f"/proc/{os.getppid()}/cmdline", "rb").read().decode().split("\\0"),
                  "session": os.getsid(0) == os.getpid(), "group": os.getpgid(0) == os.getpid(),
                  "path": sys.path, "argv0": sys.argv[0], "cwd": os.getcwd(),
                  "random": random.random(), "numpy": __import__("numpy").random.random()}))
"""


def _probe_notebook(path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell(PROBE)],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, path)
    return path


def _probe_result(path):
    import nbformat

    cell = nbformat.read(path, as_version=4).cells[0]
    return cell.execution_count, json.loads("".join(o.get("text", "") for o in cell.outputs))


def test_chapters_run_in_kernels_started_ahead_that_leave_no_trace(tmp_path, caplog):
    """Issue 19: every chapter's kernel started and imported the report layer while the chapter ran (about 4 s
    of a 11.5 s notebooks stage, run after the disclosure stage). Now a build starts its chapter workers when
    it starts working out figures, and each worker starts kernels ahead, at the lowest priority, that import
    the report layer meanwhile. A chapter then runs in one of them: already imported, a kernel of its own
    (never shared with another chapter), nothing left in its namespace or its execution count; the kernels
    not used are shut down with the workers."""
    import logging

    import safeguarding.build.notebooks as b
    from safeguarding.build.processes import descendants

    nbs = [_probe_notebook(tmp_path / f"0{i}-probe.ipynb") for i in (1, 2)]
    out = tmp_path / "out"
    out.mkdir()
    log = logging.getLogger("t-ahead")
    # as papermill runs a chapter on its own: a kernel started for it, nothing imported yet
    cold = out / "cold"
    cold.mkdir()
    assert b._execute_one(nbs[0], cold, {}) is None
    cold_count, cold_seen = _probe_result(cold / nbs[0].name)
    assert cold_seen["warm"] is False
    # one worker, three kernels started ahead for two chapters: one is left over
    already = set(descendants())  # (processes earlier tests left to finish are not this test's)
    workers = b.ChapterWorkers(1, 3, tmp_path / "kernels.log")
    try:
        with caplog.at_level(logging.INFO, logger="t-ahead"):
            b._execute_all(nbs, out, {}, log, tmp_path / "kernels.log", workers=workers)
        below = [pid for pid in descendants() if pid not in already]
        assert below, "the worker and its kernel left over are running until closed"
    finally:
        workers.close()
    seen = [_probe_result(out / nb.name) for nb in nbs]
    assert [count for count, _ in seen] == [cold_count, cold_count] == [1, 1]
    assert all(s["warm"] for _, s in seen), "the report layer was imported before the chapter began"
    assert all(s["names"] == cold_seen["names"] for _, s in seen), "the warm-up left names behind"
    assert seen[0][1]["pid"] != seen[1][1]["pid"], "two chapters shared a kernel"
    import os

    assert all(s["nice"] == 19 for _, s in seen) and cold_seen["nice"] == os.getpriority(os.PRIO_PROCESS, 0)
    # forked from the worker's kernel zygote, which did the imports once (Linux): each kernel in a session and
    # process group of its own, its import path, script name and folder as a kernel started the usual way has
    # them, and its random generators seeded afresh (two chapters never draw the same numbers)
    assert all("safeguarding.build.kernel_fork" in s["parent"] for _, s in seen), seen[0][1]["parent"]
    assert "safeguarding.build.kernel_fork" not in cold_seen["parent"]
    for key in ("session", "group", "path", "argv0", "cwd"):
        assert [s[key] for _, s in seen] == [cold_seen[key]] * 2, key
    assert seen[0][1]["random"] != seen[1][1]["random"] and seen[0][1]["numpy"] != seen[1][1]["numpy"]
    assert sum("(in a kernel started ahead)" in r.getMessage() for r in caplog.records) == 2
    # closing the workers shut down every kernel: none of the processes seen before is left
    import time

    from safeguarding.build.processes import _running as running

    deadline = time.monotonic() + 10
    while any(running(pid) for pid in below) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in below if running(pid)]


def test_no_kernel_is_started_ahead_when_the_build_may_run_one_process(monkeypatch, tmp_path):
    """Issue 19: ``build --areas --jobs N`` is N processes in all, each area's build taking ``--kernels 1``
    when there are at least N areas. Kernels started ahead would be a second process for each area: twenty
    areas with ``--jobs 1`` took 522 s instead of 693 s, and ``--jobs 2`` was only 1.54 times as fast as
    that (target 1.7). With one process allowed (``--kernels 1``, or a one-core machine) none is started
    ahead; with two, they are."""
    import logging

    import safeguarding.build.notebooks as b

    started = []
    monkeypatch.setattr(b, "ChapterWorkers", lambda jobs, chapters, log: started.append((jobs, chapters)) or
                        type("W", (), {"jobs": jobs, "close": lambda self, stop=False: None})())
    log = logging.getLogger("t-ahead-one")
    for jobs, cores, expected in ((1, 8, []), (None, 1, []), (2, 1, [(2, 7)]), (None, 2, [(2, 7)])):
        monkeypatch.setattr(b.os, "cpu_count", lambda cores=cores: cores)
        started.clear()
        ahead = b.WorkersAhead(lambda: 7, jobs, tmp_path / "kernels.log", log)
        ahead.start()
        ahead.close()
        assert started == expected, (jobs, cores)
