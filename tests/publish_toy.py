"""A toy annual review (two executed notebooks) shared by the publishing tests.

The notebooks exercise every Quarto cell option the built-in publisher
supports; markers in the cells let the tests check what was (not) published.
"""

from __future__ import annotations

import functools
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

KEY_FIGURES = ["4,321", "142", "9876"]      # in the text of both HTML and PDF
CHART_FIGURE = "512"                         # only in the chart and its alt text
HIDDEN_MARKERS = [
    "HIDDEN-INCLUDE-TEXT",        # cell with include: false
    "STDOUT-SHOULD-NOT-APPEAR",   # plain print() without output: asis
    "ECHO-FALSE-CODE",            # code of an echo: false cell
    "PARAMETER-CELL-VALUE",       # the parameters cell
    "IPython.core.display",       # repr of a Markdown object
    "OUTPUT-FALSE-TEXT",          # output: false
]
SHOWN_MARKERS = ["ASIS-MARKER", "total = 1234 + 1", "In 2024-25 there were"]

TOY_QUARTO_YML = """\
project:
  type: book
  output-dir: _book
book:
  title: "Toy partnership annual review"
  subtitle: "Testshire 2024-25"
  author: "Toy Safeguarding Partnership"
  date: 2025-06-30
  chapters:
    - index.qmd
    - 01-summary.ipynb
    - 02-child-protection.ipynb
lang: en-GB
execute:
  enabled: false
  echo: false
format:
  html:
    embed-resources: true
    toc: true
    number-sections: true
    theme: cosmo
  typst:
    papersize: a4
    margin: {x: 2cm, y: 2.5cm}
    mainfont: DejaVu Sans
    fontsize: 10pt
    toc: true
    number-sections: true
"""


def _code(source: str, tags: list[str] | None = None) -> nbformat.NotebookNode:
    cell = new_code_cell(textwrap.dedent(source).strip())
    if tags:
        cell.metadata["tags"] = tags
    return cell


def _notebook(cells: list[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def summary_notebook() -> nbformat.NotebookNode:
    """Chapter 1: Markdown outputs, echo, asis, include: false, a plain result."""
    return _notebook([
        new_markdown_cell("# Summary\n\nThe year at a glance. See @fig-referrals and @tbl-plans."),
        _code('year = 2024\nmarker = "PARAMETER-CELL-VALUE"', tags=["parameters"]),
        _code("""
            #| include: false
            from IPython.display import Markdown, display
            print("HIDDEN-INCLUDE-TEXT")
        """),
        _code("""
            label = f"{year}-{str(year + 1)[-2:]}"
            display(Markdown(f"In {label} there were **4,321 referrals** to children's social care."))
            display(Markdown("Another *Markdown* output"))
        """),
        new_markdown_cell("## Key figures\n\nCommentary written by the analyst."),
        _code("""
            #| echo: true
            total = 1234 + 1
            print("STDOUT-" + "SHOULD-NOT-APPEAR")
        """),
        _code("""
            #| output: asis
            print("Text printed **as is** with ASIS-MARKER")
        """),
        _code("""
            x = "ECHO-FALSE-CODE"
            x
        """),
        _code("""
            #| output: false
            display(Markdown("OUTPUT-FALSE-TEXT"))
        """),
    ])


def child_protection_notebook() -> nbformat.NotebookNode:
    """Chapter 2: a captioned figure with alt text, a Markdown table and an HTML table."""
    return _notebook([
        new_markdown_cell("# Child protection\n\nPlans and conferences."),
        _code('year = 2024\nmarker = "PARAMETER-CELL-VALUE"', tags=["parameters"]),
        _code("""
            #| include: false
            import matplotlib.pyplot as plt
            import pandas as pd
            from IPython.display import Markdown, display
        """),
        new_markdown_cell("## Referrals by month"),
        _code("""
            #| label: fig-referrals
            #| fig-cap: "Referrals peaked in January"
            #| fig-alt: "Line chart of monthly referrals from April to March, peaking at 512 in January."
            months = ["Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar"]
            values = [300, 320, 310, 290, 250, 330, 360, 380, 340, 512, 420, 400]
            fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
            ax.plot(months, values, color="#1d4f91", marker="o")
            ax.set_ylabel("Referrals")
            plt.show()
        """),
        new_markdown_cell("## Plans by category"),
        _code("""
            #| label: tbl-plans
            #| tbl-cap: "Child protection plans open at 31 March, by category"
            rows = [("Neglect", 142), ("Emotional abuse", 87), ("Physical abuse", 21), ("Sexual abuse", "c")]
            table = "| Category | Plans |\\n|:--|--:|\\n" + "\\n".join(f"| {a} | {b} |" for a, b in rows)
            display(Markdown(table))
        """),
        _code("""
            import os
            os.makedirs("figures", exist_ok=True)
            fig, ax = plt.subplots(figsize=(6, 2.5), dpi=100)
            ax.bar(["Neglect", "Emotional"], [142, 87], color="#1d4f91")
            fig.savefig("figures/plans-01.png")
            plt.close(fig)
            display(Markdown('![Neglect is the commonest category](figures/plans-01.png)'
                             '{#fig-plans fig-alt="Bar chart: 142 plans for neglect, 87 for emotional abuse."}'))
        """),
        _code("""
            #| tbl-cap: "Plans by age band"
            pd.DataFrame({"Age band": ["Under 1", "1 to 4", "All ages"], "Plans": [31, 64, 9876]}).set_index("Age band")
        """),
    ])


def write_toy_sources(folder: Path) -> list[Path]:
    """Write the unexecuted toy notebooks and ``_quarto.yml`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, nb in (("01-summary.ipynb", summary_notebook()),
                     ("02-child-protection.ipynb", child_protection_notebook())):
        path = folder / name
        nbformat.write(nb, str(path))
        paths.append(path)
    (folder / "_quarto.yml").write_text(TOY_QUARTO_YML, encoding="utf-8")
    return paths


def execute_toy(src: Path, build: Path) -> None:
    """Execute the toy notebooks with papermill (injects parameters) into ``build``."""
    import papermill as pm

    build.mkdir(parents=True, exist_ok=True)
    for nb in sorted(src.glob("*.ipynb")):
        pm.execute_notebook(str(nb), str(build / nb.name), parameters={"year": 2024}, kernel_name="python3",
                            progress_bar=False, cwd=str(build))


@dataclass
class ToyReport:
    """Paths of the toy report published for both audiences."""

    src: Path
    build: Path
    quarto_yml: Path
    public_html: Path
    public_pdf: Path
    board_html: Path
    board_pdf: Path
    public_warnings: list[str]


@functools.cache
def build_toy_report(root: Path) -> ToyReport:
    """Execute the toy notebooks and publish them (built-in renderer) for both audiences, once per session."""
    from safeguarding.publish import publish

    src, build = root / "src", root / "build"
    write_toy_sources(src)
    execute_toy(src, build)
    qy = src / "_quarto.yml"
    pub = publish(build, root / "public", quarto_yml=qy, renderer="builtin", audience="public")
    board = publish(build, root / "board", quarto_yml=qy, renderer="builtin", audience="board")
    return ToyReport(src, build, qy, pub.html, pub.pdf, board.html, board.pdf, pub.warnings)


@pytest.fixture(scope="session")
def toy_report(tmp_path_factory: pytest.TempPathFactory) -> ToyReport:
    """The toy report, built once for all test modules that import this fixture."""
    return build_toy_report(tmp_path_factory.getbasetemp() / "toy-report")
