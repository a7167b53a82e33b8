"""The published PDF checked as a file: pages, A4, embedded fonts, text layer, page numbers, marking, tags.

The poppler cross-checks (pdffonts, pdftoppm) are skipped when poppler-utils is missing, unless
SAFEGUARDING_REQUIRE_TOOLS=1 (CI), when that fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from publish_toy import KEY_FIGURES, toy_report  # noqa: F401  (fixture)
from pypdf import PdfReader

from safeguarding.publish.checks import check_pdf, pdf_to_pngs


def _require(tool: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        if os.environ.get("SAFEGUARDING_REQUIRE_TOOLS") == "1":
            pytest.fail(f"{tool} is required (SAFEGUARDING_REQUIRE_TOOLS=1): apt-get install poppler-utils")
        pytest.skip(f"{tool} is not installed (apt-get install poppler-utils)")
    return exe


def test_toy_pdfs_pass_the_reader_checks(toy_report) -> None:  # noqa: F811
    assert check_pdf(toy_report.public_pdf, KEY_FIGURES, board=False) == []
    assert check_pdf(toy_report.board_pdf, KEY_FIGURES, board=True) == []


def test_public_pdf_fails_the_board_check_and_vice_versa(toy_report) -> None:  # noqa: F811
    """The marking check can fail: the public PDF has no marking on any page."""
    problems = check_pdf(toy_report.public_pdf, board=True)
    n_pages = len(PdfReader(str(toy_report.public_pdf)).pages)
    assert len([p for p in problems if "lacks the OFFICIAL-SENSITIVE marking" in p]) == n_pages
    assert any("carries the OFFICIAL-SENSITIVE" in p for p in check_pdf(toy_report.board_pdf, board=False))
    assert "text 'NOT-IN-THE-REPORT' not found in the PDF text layer" in check_pdf(
        toy_report.public_pdf, ["NOT-IN-THE-REPORT"])


def test_pdf_check_catches_letter_paper_and_untagged(tmp_path: Path) -> None:
    import typst

    src = tmp_path / "letter.typ"
    src.write_text('#set page(paper: "us-letter")\n#set text(font: "DejaVu Sans")\nHello\n#pagebreak()\nWorld',
                   encoding="utf-8")
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(typst.compile(str(src), format="pdf", pdf_tags=False))
    problems = "\n".join(check_pdf(pdf, ["Hello"]))
    assert "page 1 is 612 x 792 pt, not A4" in problems
    assert "no page number on page(s) [2]" in problems
    assert "not tagged" in problems


def test_fonts_embedded_according_to_pdffonts(toy_report) -> None:  # noqa: F811
    exe = _require("pdffonts")
    out = subprocess.run([exe, str(toy_report.public_pdf)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    assert rows, out
    # columns: name type encoding emb sub uni object ID; 'emb' is the 4th from the end
    assert all(r[-5] == "yes" for r in rows), out


def test_pdf_pages_render(toy_report, tmp_path: Path) -> None:  # noqa: F811
    _require("pdftoppm")
    pngs = pdf_to_pngs(toy_report.board_pdf, tmp_path, dpi=40)
    assert len(pngs) == len(PdfReader(str(toy_report.board_pdf)).pages) and all(p.stat().st_size > 2_000 for p in pngs)


def test_a_table_caption_that_ends_a_page_is_reported(monkeypatch) -> None:
    """Found looking at the demo's PDF: Table 7.2's caption closed page 31 and its table began page 32. The
    chapter check reports a caption among a page's last two lines of text (it may wrap), footer and the
    DRAFT watermark's letters aside; not one followed by its table's rows, nor one on the last page."""
    from safeguarding.publish import checks

    footer = "Northwold: review — Data report 2024-25 Page {} of 4"
    contents = "Contents\n1 Summary . . . 2\n2 Child protection . . . 3\n"
    pages = [contents,
             "Northwold review\n1 Summary\nText.\nTable 1.1: Referrals received in the year and\nthe year before\nD\n"
             + footer.format(2),
             "Northwold review\n2 Child protection\nTable 2.1: Plans open\nFigure Value\nPlans 12\n" + footer.format(3),
             "Northwold review\nMore text.\nTable 2.2: Plans ended\n" + footer.format(4)]
    monkeypatch.setattr(checks, "pdf_page_texts", lambda path: pages)
    monkeypatch.setattr(checks, "pdf_page_fill", lambda path: [1.0] * len(pages))
    problems = checks.pdf_chapter_problems(Path("review.pdf"))
    assert problems == ["page 2: the caption 'Table 1.1: Referrals received in the year and' ends the page, its "
                        "table on the next"], problems
