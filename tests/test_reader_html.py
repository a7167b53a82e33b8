"""The published HTML opened in headless Chromium, as a reader (and a screen reader) would meet it.

Skipped when Debian ``chromium`` is missing, unless SAFEGUARDING_REQUIRE_TOOLS=1 (CI), when that fails.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from publish_toy import toy_report  # noqa: F401  (fixture)

from safeguarding.publish.checks import check_html_in_browser, check_html_static, check_pdf, print_html_to_pdf

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("SAFEGUARDING_REQUIRE_TOOLS") == "1":
            pytest.fail("chromium is required (SAFEGUARDING_REQUIRE_TOOLS=1): apt-get install chromium")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return exe


@pytest.mark.slow
def test_toy_report_in_browser(chromium: str, toy_report, tmp_path: Path) -> None:  # noqa: F811
    for html in (toy_report.public_html, toy_report.board_html):
        shot = tmp_path / f"{html.parent.name}.png"
        assert check_html_in_browser(html, screenshot=shot) == []
        assert shot.stat().st_size > 10_000


@pytest.mark.slow
def test_printed_board_page_is_marked_on_every_page(chromium: str, toy_report, tmp_path: Path) -> None:  # noqa: F811
    board = print_html_to_pdf(toy_report.board_html, tmp_path / "board.pdf")
    assert check_pdf(board, ["4,321"], board=True, min_pages=2, require_tagged=False, page_numbers=False) == []
    public = print_html_to_pdf(toy_report.public_html, tmp_path / "public.pdf")
    assert check_pdf(public, ["4,321"], board=False, min_pages=2, require_tagged=False, page_numbers=False) == []


@pytest.mark.slow
def test_browser_check_catches_a_bad_page(chromium: str, tmp_path: Path) -> None:
    """The checks can fail: an external image, a missing alt, a skipped heading, a script error."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><head><title>x</title></head><body><main>"
        "<h1>Title</h1><h3>Skipped</h3>"
        '<img src="https://example.invalid/chart.png">'
        '<p style="color:#ccc;background:#fff">low contrast text</p>'
        "<script>undefinedFunction()</script></main></body></html>", encoding="utf-8")
    problems = "\n".join(check_html_in_browser(bad))
    assert "request other than the file itself: https://example.invalid/chart.png" in problems
    assert "image 1 did not load" in problems and "image 1 has no alt text" in problems
    assert "h3 'Skipped' skips a level" in problems
    assert "page error" in problems
    assert "axe serious: color-contrast" in problems or "axe critical" in problems
    static = "\n".join(check_html_static(bad))
    assert "external resource" in static and "no lang attribute" in static
