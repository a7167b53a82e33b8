"""_quarto.yml: the project's file describes a book; the loader reports what it does not understand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from safeguarding.publish.quarto_config import QuartoConfigError, format_date_en_gb, load_quarto_config


def test_project_quarto_yml_is_a_book_of_executed_notebooks(project: Path) -> None:
    raw = yaml.safe_load((project / "_quarto.yml").read_text(encoding="utf-8"))
    assert raw["project"]["type"] == "book"
    assert raw["execute"] == {"enabled": False, "echo": False}
    assert raw["format"]["html"]["embed-resources"] is True
    assert raw["format"]["typst"]["papersize"] == "a4"
    assert raw["lang"] == "en-GB"
    cfg = load_quarto_config(project / "_quarto.yml")
    assert cfg.chapters[0] == "index.qmd"
    assert [c for c in cfg.chapters if c.endswith(".ipynb")] == [
        "01-summary.ipynb", "02-child-protection.ipynb", "03-referrals.ipynb", "04-allegations.ipynb",
        "05-private-fostering.ipynb", "06-partnership.ipynb", "07-appendix.ipynb",
    ]
    # every key of the project's own file is understood by the built-in publisher
    assert cfg.warnings == []


def test_unknown_keys_are_reported_not_ignored(tmp_path: Path) -> None:
    qy = tmp_path / "_quarto.yml"
    qy.write_text(
        "project: {type: book}\nbook: {title: T, chapters: [a.ipynb], cover-image: x.png}\n"
        "format:\n  html: {theme: cosmo, toc: true}\n  typst: {papersize: a4}\n  docx: default\n"
        "bibliography: refs.bib\n", encoding="utf-8")
    warnings = load_quarto_config(qy).warnings
    joined = "\n".join(warnings)
    for key in ("format.html.theme", "book.cover-image", "'bibliography'", "format 'docx'"):
        assert key in joined, key
    assert "toc" not in joined.replace("format.html.theme", "")


def test_overrides_and_dates(tmp_path: Path) -> None:
    qy = tmp_path / "_quarto.yml"
    qy.write_text("project: {type: book}\nbook: {title: T, date: today, chapters: [a.ipynb]}\n", encoding="utf-8")
    cfg = load_quarto_config(qy, {"subtitle": "Northwold 2024-25", "author": ["A", {"name": "B"}]},
                             today=dt.date(2025, 11, 3))
    assert (cfg.subtitle, cfg.authors, cfg.date) == ("Northwold 2024-25", ["A", "B"], "3 November 2025")
    assert format_date_en_gb("2025-03-31") == "31 March 2025"
    assert format_date_en_gb("Spring 2025") == "Spring 2025"
    with pytest.raises(QuartoConfigError, match="not supported"):
        load_quarto_config(qy, {"theme": "x"})


@pytest.mark.parametrize(("text", "match"), [
    ("project: {type: website}\nbook: {title: T, chapters: [a.ipynb]}\n", "must be 'book'"),
    ("project: {type: book}\nbook: {title: T}\n", "book.chapters"),
    ("project: {type: book}\nbook: {chapters: [a.ipynb]}\n", "book.title"),
    ("project: [unclosed\n", "not valid YAML"),
])
def test_bad_files_get_clear_errors(tmp_path: Path, text: str, match: str) -> None:
    qy = tmp_path / "_quarto.yml"
    qy.write_text(text, encoding="utf-8")
    with pytest.raises(QuartoConfigError, match=match):
        load_quarto_config(qy)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(QuartoConfigError, match="not found"):
        load_quarto_config(tmp_path / "_quarto.yml")
