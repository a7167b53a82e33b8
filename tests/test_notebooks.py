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
            return [None for _ in zip(*iterables, strict=True)]

        def shutdown(self, **_kwargs):
            pass

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Pool)
    nbs = chapter_notebooks()
    log = logging.getLogger("t")
    for jobs, cores, expected in ((None, 8, b.DEFAULT_JOBS), (None, 1, 1), (4, 2, 4), (99, 2, len(nbs))):
        monkeypatch.setattr(b.os, "cpu_count", lambda cores=cores: cores)
        b._execute_all(nbs, tmp_path, {}, log, tmp_path / "kernels.log", jobs=jobs)
        assert seen[-1] == expected, (jobs, cores)
