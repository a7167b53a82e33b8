"""Notebook -> Markdown conversion, on hand-made notebooks with known outputs (no kernel needed)."""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from safeguarding.publish.notebook_md import (
    PublishError,
    convert_notebook,
    merge_index_header,
    parse_cell_options,
    resolve_cross_references,
)

# a 1x1 PNG
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")).decode()


def _write(tmp_path: Path, cells: list, name: str = "02-test.ipynb") -> Path:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / name
    nbformat.write(nb, str(path))
    return path


def _cell(source: str, outputs: list | None = None, tags: list[str] | None = None) -> nbformat.NotebookNode:
    cell = new_code_cell(source, outputs=outputs or [])
    if tags:
        cell.metadata["tags"] = tags
    return cell


def _md_out(text: str) -> nbformat.NotebookNode:
    return new_output("display_data", data={"text/markdown": text,
                                            "text/plain": "<IPython.core.display.Markdown object>"})


def test_parse_cell_options() -> None:
    opts, code = parse_cell_options('#| label: fig-a\n#| fig-cap: "A: caption"\n#| echo: true\nx = 1\n#| not an option')
    assert opts == {"label": "fig-a", "fig-cap": "A: caption", "echo": True}
    assert code == "x = 1\n#| not an option"
    assert parse_cell_options("x = 1") == ({}, "x = 1")
    with pytest.raises(PublishError, match=r"nb\.ipynb, cell 3"):
        parse_cell_options("#| fig-cap: [unclosed\nx", "nb.ipynb, cell 3")


def test_cells_and_options(tmp_path: Path) -> None:
    path = _write(tmp_path, [
        new_markdown_cell("# Chapter title\n\nSee @fig-one and @tbl-one."),
        _cell("year = 2025  # PARAM", tags=["parameters"]),
        _cell("year = 2024  # INJECTED", tags=["injected-parameters"]),
        _cell("#| include: false\nimport x", [_md_out("INCLUDED-FALSE")]),
        _cell("display(Markdown('x'))", [_md_out("**Markdown output**")]),
        _cell("#| echo: true\nshown = 1", [new_output("stream", name="stdout", text="STDOUT\n")]),
        _cell("#| output: asis\nprint('x')", [new_output("stream", name="stdout", text="ASIS *text*\n")]),
        _cell("#| output: false\nf()", [_md_out("OUTPUT-FALSE")]),
        _cell("hidden_code = 2", [new_output("execute_result", data={"text/plain": "<Axes: >"}, execution_count=1)]),
        _cell('#| label: fig-one\n#| fig-cap: "Rising"\n#| fig-alt: "Line rising to 40"\nplot()',
              [new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure size 640x480 with 1 Axes>"})]),
        _cell('#| label: tbl-one\n#| tbl-cap: "Plans"\ndisplay(Markdown(t))',
              [_md_out("| A | B |\n|--|--:|\n| x | 7 |")]),
    ])
    ch = convert_notebook(path, chapter_number=2, media_dir=tmp_path / "media")
    html, typ = ch.markdown("html"), ch.markdown("typst")
    assert ch.title == "Chapter title"
    for absent in ("PARAM", "INJECTED", "INCLUDED-FALSE", "STDOUT", "OUTPUT-FALSE", "hidden_code", "IPython.core",
                   "<Axes"):
        assert absent not in html and absent not in typ, absent
    assert "**Markdown output**" in html
    assert "```python\nshown = 1\n```" in html
    assert "ASIS *text*" in html
    assert ch.labels == {"fig-one": "Figure 2.1", "tbl-one": "Table 2.1"}
    assert '![Figure 2.1: Rising](media/02-test-001.png){#fig-one alt="Line rising to 40"}' in html
    assert 'alt: "Line rising to 40"' in typ and 'caption: "Figure 2.1: Rising", placement: auto) <fig-one>' in typ
    assert ": Table 2.1: Plans {#tbl-one}" in html
    assert (tmp_path / "media" / "02-test-001.png").read_bytes()[:4] == b"\x89PNG"
    resolved, missing = resolve_cross_references(html, ch.labels)
    assert "See [Figure 2.1](#fig-one) and [Table 2.1](#tbl-one)." in resolved and missing == []
    assert any("stdout output not published" in w for w in ch.warnings)


def test_error_output_fails_naming_notebook_and_cell(tmp_path: Path) -> None:
    path = _write(tmp_path, [
        new_markdown_cell("# T"),
        _cell("1/0", [new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])]),
    ], name="03-referrals.ipynb")
    with pytest.raises(PublishError, match=r"03-referrals\.ipynb, cell 2: the cell raised ZeroDivisionError"):
        convert_notebook(path, chapter_number=1, media_dir=tmp_path / "m")


def test_figure_without_alt_or_caption_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, [new_markdown_cell("# T"),
                             _cell("plot()", [new_output("display_data", data={"image/png": PNG})])])
    with pytest.raises(PublishError, match="cell 2: a figure has no alt text"):
        convert_notebook(path, chapter_number=1, media_dir=tmp_path / "m")


def test_alt_and_caption_from_output_metadata(tmp_path: Path) -> None:
    out = new_output("display_data", data={"image/png": PNG},
                     metadata={"fig-cap": "Computed caption", "fig-alt": "Computed alt 17"})
    path = _write(tmp_path, [new_markdown_cell("# T"), _cell("display(fig, metadata=m)", [out])])
    html = convert_notebook(path, chapter_number=4, media_dir=tmp_path / "m").markdown("html")
    assert "![Figure 4.1: Computed caption]" in html and 'alt="Computed alt 17"' in html


def test_pandas_html_table_gets_caption_and_markdown_for_pdf(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"Age band": ["Under 1", "All"], "Plans": [31, 9876]}).set_index("Age band")
    out = new_output("execute_result", data={"text/html": df.to_html(), "text/plain": str(df)}, execution_count=1)
    path = _write(tmp_path, [new_markdown_cell("# T"), _cell('#| label: tbl-age\n#| tbl-cap: "By age"\ndf', [out])])
    ch = convert_notebook(path, chapter_number=1, media_dir=tmp_path / "m")
    html, typ = ch.markdown("html"), ch.markdown("typst")
    assert '<table class="dataframe" id="tbl-age"><caption>Table 1.1: By age</caption>' in html
    assert "<table" not in typ and "| Age band" in typ and "9876" in typ
    assert ": Table 1.1: By age {#tbl-age}" in typ
    # the index name was folded into the single header row
    header = next(line for line in typ.splitlines() if line.startswith("|"))
    assert "Age band" in header and "Plans" in header


def test_merge_index_header_leaves_other_tables_alone() -> None:
    plain = "<table><thead><tr><th>A</th></tr></thead><tbody></tbody></table>"
    assert merge_index_header(plain) == plain
    two = ("<table><thead><tr><th></th><th>Plans</th></tr><tr><th>Band</th><th></th></tr></thead></table>")
    merged = merge_index_header(two)
    assert merged.count("<tr>") == 1 and "<th>Band</th><th>Plans</th>" in merged


def test_unresolved_cross_reference_reported() -> None:
    text, missing = resolve_cross_references("See @fig-nope, mail a@tbl-x.org\n```\n@fig-code\n```", {})
    assert missing == ["fig-nope"]
    assert "@fig-code" in text and "a@tbl-x.org" in text


def test_markdown_figures_and_captioned_tables_from_the_report_helpers(tmp_path: Path) -> None:
    """The chapter helpers display Markdown: ``![cap](figures/x.png){#fig-x fig-alt="..."}`` and pipe tables
    with ``: caption {#tbl-x}``; both are numbered, the figure gets real alt text in HTML and Typst."""
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "plans-01.png").write_bytes(base64.b64decode(PNG))
    md = ("## Plans\n\n| Category | Plans |\n| :--- | ---: |\n| Neglect | 142 |\n\n"
          ": Plans by category {#tbl-plans-by-category}\n\n"
          '![Plans fell in the year](figures/plans-01.png){#fig-plans fig-alt="Bar chart: 142 plans for neglect"}\n')
    path = _write(tmp_path, [new_markdown_cell("# Child protection\n\nSee @fig-plans and @tbl-plans-by-category."),
                             _cell("display(block)", [_md_out(md)])])
    ch = convert_notebook(path, chapter_number=2, media_dir=tmp_path / "media")
    html, typ = ch.markdown("html"), ch.markdown("typst")
    assert ch.labels == {"tbl-plans-by-category": "Table 2.1", "fig-plans": "Figure 2.1"}
    assert ": Table 2.1: Plans by category {#tbl-plans-by-category}" in html
    assert ('![Figure 2.1: Plans fell in the year](media/02-test-001.png){#fig-plans '
            'alt="Bar chart: 142 plans for neglect"}') in html
    assert 'alt: "Bar chart: 142 plans for neglect"' in typ and "<fig-plans>" in typ
    missing_file = _write(tmp_path, [new_markdown_cell("# T"),
                                     _cell("x", [_md_out('![c](figures/nope.png){fig-alt="a"}')])], name="x.ipynb")
    with pytest.raises(PublishError, match=r"x\.ipynb, cell 2: figure file 'figures/nope.png' not found"):
        convert_notebook(missing_file, chapter_number=1, media_dir=tmp_path / "m2")
