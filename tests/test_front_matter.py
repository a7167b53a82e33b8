""""About this review" states the threshold the build used (found on the demo's first page: it said "counts
from 1 to 5" whatever ``disclosure.threshold`` in report.yml was)."""

from __future__ import annotations

from e2e import demo_config_copy

from safeguarding.build import QUARTO_YML, write_front_matter
from safeguarding.config import load_config
from safeguarding.publish.builtin import front_matter, template_path


def test_the_default_threshold_leaves_the_packaged_page_as_it_is():
    assert front_matter("from 1 to 5") == template_path("index.qmd").read_text(encoding="utf-8")


def test_another_threshold_or_none_is_what_the_page_says():
    wider = front_matter("from 1 to 9")
    assert "counts from 1 to 9 are shown as `c`" in wider and "1 to 5" not in wider
    none = front_matter(None)
    assert "no count is withheld for being small" in none and "1 to 5" not in none and "shown as `c`" not in none


def test_the_page_says_a_c_is_not_always_small():
    """A reader of the demo: Table 2.4's four `c` add up to 59 of 114 children (emotional abuse, 42, among them),
    and the page said "counts from 1 to 5 are shown as c and some further figures are withheld", so a `c` read as
    a count from 1 to 5. It says larger figures are shown as `c` too."""
    for threshold in ("from 1 to 5", "from 1 to 9"):
        page = front_matter(threshold)
        assert (f"counts {threshold} are shown as `c`, and so are some larger figures from which one of them could "
                "be worked out (a `c` is not always a small count)") in page


def test_the_build_writes_the_page_with_report_yml_s_threshold(tmp_path):
    cfg_path = demo_config_copy(tmp_path, disclosure={"threshold": [1, 9]})
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    written = write_front_matter(load_config(cfg_path), chapters)
    assert written == chapters / "index.qmd"
    text = written.read_text(encoding="utf-8")
    assert "counts from 1 to 9 are shown as `c`" in text and "1 to 5" not in text


def test_a_project_s_own_about_page_is_published_as_written(tmp_path):
    cfg_path = demo_config_copy(tmp_path)
    (tmp_path / "_quarto.yml").write_text(QUARTO_YML.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "index.qmd").write_text("# About this review\n\nOur own words.\n", encoding="utf-8")
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    assert write_front_matter(load_config(cfg_path), chapters) is None
    assert not (chapters / "index.qmd").exists()
