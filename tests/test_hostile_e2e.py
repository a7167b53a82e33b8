"""End to end: the demo council with hostile team names and a hostile area name, read in Chromium.

Before the fix, a ``Team`` value of ``<img src="/a/local/file">`` put the file
into the public page as a ``data:`` URI, ``<img src=x onerror=...>`` ran
script in the reader's browser, a remote image was fetched by the build and
left in the page, a ``javascript:`` link was live, and ``@SUM(1+1)`` stopped
the PDF.
"""

from __future__ import annotations

import csv
import shutil

import pytest
from conftest import skip_or_fail
from e2e import PROJECT, demo_config_copy
from hostile import hostile, not_shown_literally, shown
from test_escape import secret, server  # noqa: F401 - fixtures shared with the unit tests

from safeguarding.build import build
from safeguarding.publish.checks import CHROMIUM_ARGS, ToolMissingError, chromium_path, safety_problems

pytestmark = pytest.mark.slow

AREA = 'Hostile <img src=x onerror="window.__pwned=9"> & [Co](javascript:1)'


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory, secret, server):  # noqa: F811 - pytest fixtures by name
    port, hits = server
    strings = [h for h in hostile(str(secret), port) if not h.startswith("=")]  # '=' cells: see ingest tests
    tmp = tmp_path_factory.mktemp("hostile-e2e")
    raw = tmp / "raw"
    shutil.copytree(PROJECT / "data" / "raw" / "demo", raw)
    with (PROJECT / "data" / "raw" / "demo" / "referrals.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    team = rows[0].index("Team")
    for i, row in enumerate(rows[1:]):
        row[team] = strings[i % len(strings)]
    with (raw / "referrals.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, quoting=csv.QUOTE_ALL).writerows(rows)
    cfg = demo_config_copy(tmp, area={"name": AREA, "slug": "hostile", "la_code": "873"})
    text = cfg.read_text(encoding="utf-8").replace(str(PROJECT / "data" / "raw" / "demo" / "referrals.csv"),
                                                   str(raw / "referrals.csv"))
    cfg.write_text(text, encoding="utf-8")
    result = build(cfg, audience="public", renderer="builtin", echo=lambda _m: None)
    return result, strings, hits


def test_hostile_team_names_are_shown_literally_in_the_web_page(hostile_build):
    result, strings, _hits = hostile_build
    assert not_shown_literally(result.html, [*strings, AREA]) == []


def test_hostile_values_run_fetch_and_embed_nothing_in_chromium(hostile_build, secret):  # noqa: F811
    from playwright.sync_api import sync_playwright

    result, _strings, hits = hostile_build
    page_source = result.html.read_text(encoding="utf-8")
    assert safety_problems(result.html) == []
    assert "SECRET-KEY-MATERIAL" not in page_source
    try:
        exe = chromium_path()
    except ToolMissingError as exc:
        skip_or_fail(str(exc))
    url = result.html.resolve().as_uri()
    requests: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda r: None if r.url == url or r.url.startswith("data:") else requests.append(r.url))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(url, wait_until="load")
            page.wait_for_timeout(500)
            pwned = page.evaluate("() => window.__pwned || null")
            # click every link: none may run script or leave for a javascript: URL
            hrefs = page.evaluate("() => Array.from(document.links).map(a => a.getAttribute('href'))")
            visible = page.evaluate("() => document.body.innerText")
        finally:
            browser.close()
    assert pwned is None, "script from the data ran in the page"
    assert dialogs == [] and requests == [], (dialogs, requests)
    assert not [h for h in hrefs if h and h.strip().lower().startswith("javascript:")]
    assert hits == [], f"the build or the page asked the local server for {hits}"
    assert "@SUM(1+1)" in shown(visible)


def test_the_pdf_was_built_with_the_hostile_values(hostile_build):
    from pypdf import PdfReader

    result, _strings, _hits = hostile_build
    text = shown(" ".join(page.extract_text() or "" for page in PdfReader(str(result.pdf)).pages))
    assert "@SUM(1+1)" in text and "SECRET-KEY-MATERIAL" not in text
