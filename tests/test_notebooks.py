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

    import safeguarding.build as b

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
