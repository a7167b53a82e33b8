"""The committed chapter notebooks: clean, parameterised, thin."""

from __future__ import annotations

import json

import pytest

from safeguarding.build import chapter_notebooks


def notebooks():
    return chapter_notebooks()


def test_there_is_a_notebook_per_chapter():
    names = [p.stem for p in notebooks()]
    for chapter in ("summary", "child-protection", "referrals", "allegations", "private-fostering", "appendix"):
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
