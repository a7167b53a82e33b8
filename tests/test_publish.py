"""The built-in publisher end to end on a toy report executed by papermill; the Quarto path when installed."""

from __future__ import annotations

import html as html_lib
import re
import shutil
from pathlib import Path

import pytest
from publish_toy import (  # noqa: F401  (toy_report is a fixture)
    CHART_FIGURE,
    HIDDEN_MARKERS,
    KEY_FIGURES,
    SHOWN_MARKERS,
    toy_report,
)
from pypdf import PdfReader

from safeguarding.publish import PublishError, choose_renderer, publish
from safeguarding.publish.builtin import tune_typst, typst_settings
from safeguarding.publish.checks import check_html_static, check_pdf
from safeguarding.publish.quarto_config import load_quarto_config


def _text(html: Path) -> str:
    return html.read_text(encoding="utf-8")


def test_cell_options_and_dropped_cells(toy_report) -> None:  # noqa: F811
    for html in (toy_report.public_html, toy_report.board_html):
        text = _text(html)
        for marker in HIDDEN_MARKERS:
            assert marker not in text, marker
        visible = html_lib.unescape(re.sub(r"<[^>]+>", "", text))
        for marker in SHOWN_MARKERS:
            assert marker in visible, marker
        assert "<strong>as is</strong>" in text           # output: asis went through Markdown
        assert "<strong>4,321 referrals</strong>" in text  # display(Markdown(...)) rendered, not repr'd
    pdf_text = " ".join(p.extract_text() for p in PdfReader(str(toy_report.public_pdf)).pages)
    for marker in HIDDEN_MARKERS:
        assert marker not in pdf_text, marker
    assert "ASIS-MARKER" in pdf_text


def test_figures_embedded_with_alt_and_numbered_captions(toy_report) -> None:  # noqa: F811
    text = _text(toy_report.public_html)
    imgs = re.findall(r"<img\b[^>]*>", text)
    assert len(imgs) == 2  # a displayed matplotlib figure, and a saved PNG shown through Markdown
    assert 'alt="Bar chart: 142 plans for neglect, 87 for emotional abuse."' in imgs[1]
    assert "<figcaption>Figure 2.2: Neglect is the commonest category</figcaption>" in text
    assert 'src="data:image/png;base64,' in imgs[0]
    alt = f"Line chart of monthly referrals from April to March, peaking at {CHART_FIGURE} in January."
    assert f'alt="{alt}"' in imgs[0]
    assert re.search(r'<figure id="fig-referrals"[^>]*>.*?<figcaption>Figure 2\.1: Referrals peaked in January',
                     text, re.S)
    assert '<a href="#fig-referrals">Figure 2.1</a>' in text and '<a href="#tbl-plans">Table 2.1</a>' in text
    assert re.search(r'<table[^>]*id="tbl-plans"[^>]*>\s*<caption>Table 2\.1: Child protection plans', text)
    assert "<caption>Table 2.2: Plans by age band</caption>" in text


def test_html_is_self_contained(toy_report) -> None:  # noqa: F811
    text = _text(toy_report.public_html)
    # no reference at all to an external resource: no http(s) or protocol-relative URL anywhere
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", text, re.I)
    assert "http://" not in text and "https://" not in text
    assert "<script" not in text.lower() and "mathjax" not in text.lower()
    assert '<html lang="en-GB"' in text
    assert check_html_static(toy_report.public_html) == []


def test_toc_numbering_and_lang(toy_report) -> None:  # noqa: F811
    text = _text(toy_report.public_html)
    assert 'id="TOC"' in text
    assert re.search(r'<span class="toc-section-number">1</span>\s*Summary', text)
    assert re.search(r'<span class="header-section-number">2\.1</span>\s*Referrals by month', text)
    # the front matter chapter is not numbered
    assert re.search(r'<h1 class="unnumbered"[^>]*>About this review</h1>', text)


def test_board_marking_only_for_board(toy_report) -> None:  # noqa: F811
    assert "OFFICIAL-SENSITIVE" not in _text(toy_report.public_html)
    board = _text(toy_report.board_html)
    assert board.count("OFFICIAL-SENSITIVE — not for publication") >= 2  # banner at top and bottom
    assert '<meta name="robots" content="noindex, nofollow">' in board


def test_pdf_a4_fonts_text_pages(toy_report) -> None:  # noqa: F811
    assert check_pdf(toy_report.public_pdf, KEY_FIGURES, board=False) == []
    assert check_pdf(toy_report.board_pdf, KEY_FIGURES, board=True) == []
    reader = PdfReader(str(toy_report.public_pdf))
    assert len(reader.pages) >= 5  # cover, contents, about, two chapters (the second over two pages)
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.28) < 1 and abs(float(box.height) - 841.89) < 1
    assert str(reader.metadata.title) == "Toy partnership annual review"


def test_unknown_quarto_key_reported(toy_report) -> None:  # noqa: F811
    assert any("format.html.theme" in w for w in toy_report.public_warnings)
    assert any("stdout output not published" in w for w in toy_report.public_warnings)


def test_missing_chapter_and_bad_renderer(tmp_path: Path, toy_report) -> None:  # noqa: F811
    with pytest.raises(PublishError, match=r"'01-summary.ipynb'.*not found"):
        publish(tmp_path, tmp_path / "out", quarto_yml=toy_report.quarto_yml, renderer="builtin")
    with pytest.raises(PublishError, match="renderer must be one of"):
        choose_renderer("latex")


def test_renderer_choice_follows_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert choose_renderer("auto") == "builtin"
    with pytest.raises(PublishError, match="not on PATH"):
        choose_renderer("quarto")
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/quarto" if name == "quarto" else None)
    assert choose_renderer("auto") == "quarto"


def test_typst_settings_come_from_quarto_yml(project: Path) -> None:
    cfg = load_quarto_config(project / "_quarto.yml", {"title": 'A "quoted" title'})
    s = typst_settings(cfg, "board")
    assert '#let sg-paper = "a4"' in s
    assert "#let sg-margin = (x: 2cm, y: 2.5cm,)" in s
    assert '#let sg-fonts = ("DejaVu Sans", "Libertinus Serif", )' in s
    assert "#let sg-fontsize = 10pt" in s and '#let sg-numbering = "1.1"' in s
    assert '#let sg-title = "A \\"quoted\\" title"' in s
    assert "#let sg-board = true" in s and '#let sg-lang = "en"' in s and '#let sg-region = "GB"' in s
    tuned = tune_typst("align(center)[#table(\n    columns: 3,\n    align: (auto,auto,auto,),")
    assert tuned == "align(left)[#table(\n    columns: (1fr,) + (auto,) * 2,\n    align: (left,right,right,),"


@pytest.mark.quarto
@pytest.mark.skipif(shutil.which("quarto") is None, reason="quarto is not installed (the built-in publisher is used)")
def test_quarto_renderer(tmp_path: Path, toy_report) -> None:  # noqa: F811
    result = publish(toy_report.build, tmp_path / "q", quarto_yml=toy_report.quarto_yml, renderer="quarto")
    assert result.renderer == "quarto"
    assert check_html_static(result.html) == []
    assert check_pdf(result.pdf, KEY_FIGURES, board=False, require_tagged=False) == []


def test_short_tables_are_kept_on_one_page_and_long_ones_may_break() -> None:
    """A table of up to KEEP_TOGETHER_ROWS rows is wrapped in an unbreakable block (no row left on the next
    page); its label stays on the figure."""
    from safeguarding.publish.builtin import KEEP_TOGETHER_ROWS

    def table(rows: int) -> str:
        body = "".join(f"    [r{i}], [{i}],\n" for i in range(rows))
        return ("#figure(\n  align(left)[#table(\n    columns: 2,\n    table.header([A], [B],),\n" + body
                + "  )]\n  , caption: [Table 1.1: T]\n  , kind: table\n  )\n<tbl-t>\n\nAfter.\n")

    short = tune_typst(table(5))
    assert short.startswith("#block(breakable: false)[#figure(") and "kind: table\n  ) <tbl-t>]" in short
    assert short.endswith("\n\nAfter.\n")
    long = tune_typst(table(KEEP_TOGETHER_ROWS + 1))
    assert "breakable: false" not in long and long.startswith("#figure(")
