"""The area's site: ``reports/<area>/index.html``, ``accessibility.html`` and ``sitemap.xml``.

Year folders are made by hand (a page, a PDF, two data files and the ``review.json`` a build
writes), so no test needs a build. The browser test is skipped when Debian ``chromium`` is
missing, unless SAFEGUARDING_REQUIRE_TOOLS=1 (CI), when it fails.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import skip_or_fail
from hostile import HOSTILE, shown

from safeguarding import escape, site
from safeguarding.build import _stage_replace, _stage_site
from safeguarding.cli import main
from safeguarding.config import ConfigError, load_config
from safeguarding.publish.checks import (
    ToolMissingError,
    check_html_in_browser,
    check_html_static,
    check_layout_in_browser,
    safety_problems,
)

NS = {"s": site.SITEMAP_NS}
BASE = "https://www.example.gov.uk/scp/northwold"
HOSTILE_AREA = "<script>alert('x')</script> & \"Northwold\" O'Hara"
HOSTILE_ORG = "<img src=x onerror=alert(1)> & 'Partners' \"Ltd\""


# ------------------------------------------------------------------ fixtures
def write_config(root: Path, *, area: str = "Northwold", site_block: dict | None = None,
                 report: dict | None = None, name: str = "report.yml") -> Path:
    """A report.yml with no inputs (the site reads only area, paths, report and site)."""
    doc: dict[str, Any] = {"area": {"name": area, "slug": "northwold"}, "year": 2025, "paths": {"reports": "reports"}}
    if report is not None:
        doc["report"] = report
    if site_block is not None:
        doc["site"] = site_block
    path = root / name
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def fake_year(root: Path, year: int, report: dict, *, audience: str = "public", folder_name: str | None = None,
              area: str = "Northwold") -> Path:
    """A published year's folder as a build leaves it, with its review.json."""
    cfg_path = write_config(root, area=area, report=report, name=f"report-{year}-{audience}.yml")
    cfg = load_config(cfg_path, year=year, audience=audience)
    folder = root / "reports" / "northwold" / (folder_name or (str(year) if audience == "public" else f"{year}-board"))
    (folder / "data").mkdir(parents=True)
    marking = "OFFICIAL-SENSITIVE " if audience == "board" else ""
    (folder / site.HTML_NAME).write_text(f"<!DOCTYPE html><html lang='en-GB'><title>{marking}{year}</title>"
                                         f"<h1>{marking}Review {year}</h1></html>", encoding="utf-8")
    (folder / site.PDF_NAME).write_bytes(b"%PDF-1.7 " + bytes(2048))
    (folder / "data" / "indicators.csv").write_text("indicator_id,value\nREF,1\n", encoding="utf-8")
    (folder / "data" / "README.txt").write_text("What each file holds.\n", encoding="utf-8")
    site.write_review_record(cfg, folder)
    return folder


APPROVED = {"status": "approved", "approved_on": "2024-06-12", "version": "1.0", "published_on": "2024-06-30"}
DRAFT = {"status": "draft", "version": "0.1"}


@pytest.fixture
def site_root(tmp_path: Path) -> Path:
    """Two public years (2023-24 approved and published, 2024-25 a draft), a board folder beside them."""
    fake_year(tmp_path, 2024, APPROVED)
    fake_year(tmp_path, 2025, DRAFT)
    fake_year(tmp_path, 2025, DRAFT, audience="board")
    return tmp_path


class _Page(HTMLParser):
    """Links, headings (level, text), sections' text, and all visible text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self.headings: list[tuple[int, str]] = []
        self.sections: dict[str, list[str]] = {}
        self.text: list[str] = []
        self._href: str | None = None
        self._link: list[str] = []
        self._heading: int | None = None
        self._htext: list[str] = []
        self._section: str | None = None
        self._skip = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag in {"style", "title"}:
            self._skip = True
        if tag == "a":
            self._href, self._link = a.get("href") or "", []
        if tag in {"h1", "h2", "h3"}:
            self._heading, self._htext = int(tag[1]), []
        if tag == "section":
            self._section = a.get("aria-labelledby")
            self.sections[self._section or ""] = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"style", "title"}:
            self._skip = False
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._link).split())))
            self._href = None
        if self._heading is not None and tag == f"h{self._heading}":
            self.headings.append((self._heading, " ".join("".join(self._htext).split())))
            self._heading = None
        if tag == "section":
            self._section = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        if self._href is not None:
            self._link.append(data)
        if self._heading is not None:
            self._htext.append(data)
        if self._section is not None:
            self.sections[self._section].append(data)

    def section_text(self, key: str) -> str:
        return " ".join("".join(self.sections[key]).split())

    @property
    def all_text(self) -> str:
        return " ".join("".join(self.text).split())


def read_page(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def build_site(root: Path, **config: Any) -> site.SiteResult:
    return site.write_site(load_config(write_config(root, **config)))


# ------------------------------------------------------------------ the index
def test_index_lists_each_year_newest_first_with_links_to_files_that_exist(site_root: Path) -> None:
    result = build_site(site_root)
    area = site_root / "reports" / "northwold"
    page = read_page(area / "index.html")
    assert [e.year for e in result.years] == [2025, 2024]
    years = [text for level, text in page.headings if level == 2]
    assert years == ["2024-25", "2023-24"]
    hrefs = [href for href, _ in page.links if not href.startswith(("#", "https:", "mailto:"))]
    for year in ("2025", "2024"):
        for name in ("annual-review.html", "annual-review.pdf", "data/indicators.csv", "data/README.txt"):
            assert f"{year}/{name}" in hrefs
    for href in hrefs:  # every relative link leads to a file inside the area's folder
        target = (area / href).resolve()
        assert target.is_file() and target.is_relative_to(area.resolve()), href
    assert ("accessibility.html", "Accessibility statement") in page.links
    assert "review.json" not in " ".join(hrefs)  # the record is not a published file
    # each year's links are in its own section, sizes given
    assert "Annual review 2024-25 (PDF) PDF, 2 KB" in page.section_text("year-2025")
    assert "2023-24" not in page.section_text("year-2025")


def test_board_folder_beside_the_public_years_is_never_listed(site_root: Path) -> None:
    area = site_root / "reports" / "northwold"
    assert (area / "2025-board" / "annual-review.html").is_file()
    # an unsuppressed build in a year-named folder and a staging folder: neither listed either
    fake_year(site_root, 2023, DRAFT, audience="board", folder_name="2023")
    shutil.copytree(area / "2024", area / ".2026.staging-abc123")
    (area / "2022").symlink_to(area / "2025-board", target_is_directory=True)
    # a board report from before builds kept review.json, renamed as a year: known by its marking
    shutil.copytree(area / "2025-board", area / "2021")
    (area / "2021" / "review.json").unlink()
    # a public year whose data folder is a link to the board's data
    fake_year(site_root, 2020, DRAFT)
    shutil.rmtree(area / "2020" / "data")
    (area / "2020" / "data").symlink_to(area / "2025-board" / "data", target_is_directory=True)
    result = build_site(site_root, site_block={"base_url": BASE})
    assert [e.year for e in result.years] == [2025, 2024, 2020]
    assert [e.path for e in result.years[-1].files] == ["2020/annual-review.html", "2020/annual-review.pdf"]
    refused = [w for w in result.warnings if "holds a board report" in w]
    assert sorted(Path(w.split(" holds")[0]).name for w in refused) == ["2021", "2023"]
    index = (area / "index.html").read_text(encoding="utf-8")
    sitemap = (area / "sitemap.xml").read_text(encoding="utf-8")
    for text in (index, sitemap):
        assert "-board" not in text and "OFFICIAL" not in text and "staging" not in text
        assert "2023/" not in text and "2022/" not in text and "2021/" not in text and "2020/data" not in text


def test_status_and_dates_as_report_yml_gave_them(site_root: Path) -> None:
    build_site(site_root)
    page = read_page(site_root / "reports" / "northwold" / "index.html")
    draft, approved = page.section_text("year-2025"), page.section_text("year-2024")
    assert "Status: Draft \u2014 not approved, version 0.1" in draft
    assert "Publication date not set" in draft and "Approved" not in draft
    assert "Status: Approved by the board on 12 June 2024, version 1.0" in approved
    assert "Published 30 June 2024" in approved and "Draft" not in approved
    record = json.loads((site_root / "reports" / "northwold" / "2024" / "review.json").read_text(encoding="utf-8"))
    assert {k: record[k] for k in ("status", "approved_on", "version", "published_on", "year_label")} == {
        **APPROVED, "year_label": "2023-24"}


def test_a_year_without_a_record_is_listed_with_its_status_unknown(site_root: Path) -> None:
    """A year published before builds kept review.json: its files from disk, its status 'not recorded'."""
    (site_root / "reports" / "northwold" / "2024" / "review.json").unlink()
    build_site(site_root)
    page = read_page(site_root / "reports" / "northwold" / "index.html")
    text = page.section_text("year-2024")
    assert "Status not recorded" in text and "Publication date not set" in text
    assert ("2024/annual-review.pdf", "Annual review 2023-24 (PDF)") in page.links


def test_review_record_lists_every_file_with_its_size_and_hash(site_root: Path) -> None:
    folder = site_root / "reports" / "northwold" / "2025"
    record = json.loads((folder / "review.json").read_text(encoding="utf-8"))
    assert record["area"] == "Northwold" and record["year"] == 2025 and record["audience"] == "public"
    paths = {f["path"]: f for f in record["files"]}
    assert set(paths) == {"annual-review.html", "annual-review.pdf", "data/indicators.csv", "data/README.txt"}
    for rel, f in paths.items():
        data = (folder / rel).read_bytes()
        assert f["bytes"] == len(data) and f["sha256"] == hashlib.sha256(data).hexdigest()


def test_hostile_area_and_organisation_names_are_text(tmp_path: Path) -> None:
    fake_year(tmp_path, 2025, DRAFT, area=HOSTILE_AREA)
    build_site(tmp_path, area=HOSTILE_AREA, site_block={"organisation": HOSTILE_ORG, "base_url": BASE,
                                                        "contact_email": "scp@example.gov.uk"})
    area = tmp_path / "reports" / "northwold"
    for name in ("index.html", "accessibility.html"):
        html = (area / name).read_text(encoding="utf-8")
        assert "<script" not in html and "<img" not in html
        text = read_page(area / name).all_text
        assert HOSTILE_AREA in text and HOSTILE_ORG in text  # shown literally
        assert safety_problems(area / name, relative_links=True) == []
    ET.parse(area / "sitemap.xml")


def test_xml_escape_keeps_every_hostile_string_as_text() -> None:
    """Each hostile string, XML-escaped into an element and an attribute, parses back to the same text."""
    for value in [*HOSTILE, HOSTILE_AREA, "a\x00b\ud800c\ufffe"]:
        expected = escape.plain(value, breakable=False).replace("\ud800", "").replace("\ufffe", "")
        doc = ET.fromstring(f"<r a=\"{escape.xml(value)}\" b='{escape.xml(value)}'>{escape.xml(value)}</r>")
        assert (doc.text or "") == doc.get("a") == doc.get("b") == expected, value


# ------------------------------------------------------------------ the sitemap
def test_sitemap_is_valid_with_absolute_https_addresses(site_root: Path) -> None:
    build_site(site_root, site_block={"base_url": BASE + "/"})
    area = site_root / "reports" / "northwold"
    root = ET.parse(area / "sitemap.xml").getroot()
    assert root.tag == f"{{{site.SITEMAP_NS}}}urlset"
    locs = [u.findtext("s:loc", namespaces=NS) for u in root.findall("s:url", NS)]
    assert locs == [f"{BASE}/", f"{BASE}/accessibility.html",
                    f"{BASE}/2025/annual-review.html", f"{BASE}/2025/annual-review.pdf",
                    f"{BASE}/2024/annual-review.html", f"{BASE}/2024/annual-review.pdf"]
    lastmods = {u.findtext("s:loc", namespaces=NS): u.findtext("s:lastmod", namespaces=NS)
                for u in root.findall("s:url", NS)}
    assert lastmods[f"{BASE}/2024/annual-review.pdf"] == "2024-06-30"
    assert lastmods[f"{BASE}/2025/annual-review.pdf"] is None  # no publication date set
    page = read_page(area / "index.html")
    assert ("sitemap.xml", "Sitemap") in page.links


def test_sitemap_escapes_what_it_writes() -> None:
    entry = site.YearEntry(2025, "2024-25", files=[site.SiteFile("2025/annual-review.html", 1)])
    text = site.render_sitemap([entry], "https://example.gov.uk/a&b<c>")
    locs = [u.findtext("s:loc", namespaces=NS) for u in ET.fromstring(text).findall("s:url", NS)]
    assert locs[-1] == "https://example.gov.uk/a&b<c>/2025/annual-review.html"
    assert "&amp;" in text and "<c>" not in text


def test_no_sitemap_without_a_base_url_and_a_warning_once(site_root: Path, capsys: pytest.CaptureFixture) -> None:
    area = site_root / "reports" / "northwold"
    build_site(site_root, site_block={"base_url": BASE})
    assert (area / "sitemap.xml").is_file()
    result = build_site(site_root)  # base_url removed: the old sitemap goes, rather than list old addresses
    assert not (area / "sitemap.xml").exists()
    assert [w for w in result.warnings if "base_url" in w] == [site.BASE_URL_MISSING]
    assert "sitemap" not in dict(read_page(area / "index.html").links)
    assert main(["site", "--config", str(site_root / "report.yml")]) == 0
    assert capsys.readouterr().out.count("no site.base_url") == 1


# ------------------------------------------------------------------ the accessibility statement
STATEMENT_HEADINGS = [
    (2, "How accessible this website is"),
    (2, "Feedback and contact information"),
    (2, "Reporting accessibility problems with this website"),
    (2, "Enforcement procedure"),
    (2, "Technical information about this website\u2019s accessibility"),
    (3, "Compliance status"),
    (2, "Non-accessible content"),
    (3, "Non-compliance with the accessibility regulations"),
    (3, "Disproportionate burden"),
    (2, "Preparation of this accessibility statement"),
]


def test_accessibility_statement_has_the_model_statement_sections(site_root: Path) -> None:
    result = build_site(site_root, site_block={"contact_email": "scp@example.gov.uk", "organisation": "Northwold SCP",
                                             "statement_prepared_on": "2025-06-01"})
    assert not [w for w in result.warnings if "contact" in w]
    page = read_page(site_root / "reports" / "northwold" / "accessibility.html")
    for heading in STATEMENT_HEADINGS:
        assert heading in page.headings, heading
    text = page.all_text
    assert "This website is partially compliant with the Web Content Accessibility Guidelines version 2.2" in text
    assert "Equality and Human Rights Commission (EHRC)" in text
    assert "Equality Commission for Northern Ireland (ECNI)" in text
    assert "390 pixels" in text and "1280 pixels" in text and "axe-core" in text and "PDF/UA-1" in text
    assert "This statement was prepared on 1 June 2025." in text
    assert "This website is run by Northwold SCP." in text
    assert ("mailto:scp@example.gov.uk", "scp@example.gov.uk") in page.links
    assert ("index.html", "All annual reviews") in page.links
    assert "Contact details are missing" not in text


def test_addresses_in_links_are_kept_whole(site_root: Path) -> None:
    """A long address is shown with break opportunities, but its link is exactly the configured one."""
    email = "safeguarding.children.partnership.business.unit@example.gov.uk"
    base = "https://www.example.gov.uk/safeguarding-children-partnership/annual-reviews/northwold"
    build_site(site_root, site_block={"contact_email": email, "base_url": base, "organisation": "N"})
    hrefs = [href for href, _ in read_page(site_root / "reports" / "northwold" / "accessibility.html").links]
    assert f"mailto:{email}" in hrefs and f"{base}/" in hrefs
    assert not [h for h in hrefs if "\u200b" in h]


def test_statement_without_contact_details_says_where_to_add_them(site_root: Path) -> None:
    result = build_site(site_root)
    assert site.CONTACT_MISSING in result.warnings
    text = read_page(site_root / "reports" / "northwold" / "accessibility.html").all_text
    assert "Contact details are missing." in text and "site: {contact_email: ..., organisation: ...}" in text
    assert "mailto:" not in (site_root / "reports" / "northwold" / "accessibility.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(("block", "key"), [
    ({"base_url": "http://www.example.gov.uk/scp"}, "site.base_url"),
    ({"base_url": "https://www.example.gov.uk/scp?x=1"}, "site.base_url"),
    ({"base_url": "javascript:alert(1)"}, "site.base_url"),
    ({"contact_email": "not an address"}, "site.contact_email"),
    ({"contact_email": "a<b>@example.gov.uk"}, "site.contact_email"),
    ({"organisation": ""}, "site.organisation"),
    ({"statement_prepared_on": "June"}, "site.statement_prepared_on"),
    ({"base_ulr": BASE}, "site.base_ulr"),
])
def test_site_settings_are_checked(tmp_path: Path, block: dict, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, site_block=block))
    assert [p.key for p in info.value.problems] == [key]


# ------------------------------------------------------------------ writing and the build
def test_an_unsafe_page_is_refused_and_the_previous_one_kept(site_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_site(site_root)
    index = site_root / "reports" / "northwold" / "index.html"
    before = index.read_bytes()
    # where write_site looks it up
    monkeypatch.setattr(site.writer, "render_index", lambda *a, **k: "<html><a href='../../etc/passwd'>x</a></html>")
    with pytest.raises(site.SiteError, match=r"index\.html was not written"):
        build_site(site_root)
    assert index.read_bytes() == before
    assert not [p for p in index.parent.iterdir() if ".tmp-" in p.name]


def test_relative_links_are_allowed_only_when_asked_and_never_upwards(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text('<a href="2025/annual-review.pdf">a</a>', encoding="utf-8")
    assert safety_problems(page, relative_links=True) == []
    assert safety_problems(page) != []
    for bad in ("../2025-board/annual-review.html", "%2e%2e/x.html", "2025/%2E%2E/%2e%2E/x", "javascript:alert(1)",
                "file:///etc/passwd", "//evil.example/x", "/etc/passwd"):
        page.write_text(f'<a href="{bad}">a</a>', encoding="utf-8")
        assert safety_problems(page, relative_links=True) != [], bad


def test_a_public_build_rewrites_the_site_and_a_board_build_never_does(tmp_path: Path) -> None:
    """The build's last two stages: review.json beside the outputs, then the site (public builds only)."""
    logger = logging.getLogger("test_site")
    cfg_path = write_config(tmp_path, report=DRAFT)
    area = tmp_path / "reports" / "northwold"
    for audience in ("board", "public"):
        cfg = load_config(cfg_path, audience=audience)
        staging = area / f".staging-{audience}"
        (staging / "data").mkdir(parents=True)
        (staging / site.HTML_NAME).write_text("<html></html>", encoding="utf-8")
        (staging / "data" / "findings.csv").write_text("a\n1\n", encoding="utf-8")
        final = area / ("2025" if audience == "public" else "2025-board")
        _stage_replace(cfg, staging, final)
        record = json.loads((final / "review.json").read_text(encoding="utf-8"))
        assert record["audience"] == audience and {f["path"] for f in record["files"]} == {
            "annual-review.html", "data/findings.csv"}
        run: dict[str, Any] = {"warnings": []}
        _stage_site(cfg, audience, run, logger, lambda _m: None)
        assert (area / "index.html").exists() == (audience == "public"), audience
    assert run["site"]["years"] == [2025] and site.BASE_URL_MISSING in run["warnings"]
    assert "2025-board" not in (area / "index.html").read_text(encoding="utf-8")


# ------------------------------------------------------------------ in the browser
@pytest.mark.browser
@pytest.mark.slow
def test_site_pages_in_chromium_are_axe_clean_and_fit_390_and_1280(tmp_path: Path) -> None:
    long_name = "Northwold" + "-and-Southwold" * 8 + " " + HOSTILE_AREA
    fake_year(tmp_path, 2024, APPROVED, area=long_name)
    fake_year(tmp_path, 2025, DRAFT, area=long_name)
    build_site(tmp_path, area=long_name, site_block={"organisation": HOSTILE_ORG, "base_url": BASE,
                                                     "contact_email": "safeguarding.partnership@example.gov.uk"})
    area = tmp_path / "reports" / "northwold"
    for name in ("index.html", "accessibility.html"):
        page = area / name
        assert check_html_static(page) == [], name
        try:
            for width in (390, 1280):
                assert check_html_in_browser(page, viewport=(width, 900)) == [], (name, width)
            assert check_layout_in_browser(page, screenshots=tmp_path / "shots" / name) == [], name
        except ToolMissingError as exc:
            skip_or_fail(str(exc))
        assert shown(HOSTILE_AREA) in shown(read_page(page).all_text)


@pytest.mark.browser
@pytest.mark.slow
def test_browser_check_catches_a_page_that_scrolls_sideways(tmp_path: Path) -> None:
    """The layout check used above can fail: an unbreakable line wider than a phone."""
    page = tmp_path / "wide.html"
    page.write_text("<!DOCTYPE html><html lang='en'><title>x</title><main><h1>x</h1>"
                    f"<p style='white-space:nowrap'>{'wide ' * 80}</p></main></html>", encoding="utf-8")
    try:
        problems = check_layout_in_browser(page, widths=(390,))
    except ToolMissingError as exc:
        skip_or_fail(str(exc))
    assert any("scrolls sideways" in p for p in problems)


@pytest.mark.browser
@pytest.mark.slow
def test_browser_check_catches_a_table_caption_cut_off_on_a_phone(tmp_path: Path) -> None:
    """The layout check fails a caption that runs past the edge of its table's scrolling box (before the review's
    stylesheet wrapped captions within the box, 16 of the demo's tables read "Table 6.5: Budget contributions by
    agency, 2024" at 390 px); with the review's stylesheet the same table passes."""
    from safeguarding.publish.builtin import template_path

    cells = "".join(f"<td style='white-space: nowrap'>{'figure ' * 3}{i}</td>" for i in range(8))
    table = (f"<div class='table-wrap' tabindex='0' role='region' aria-label='t'><table id='t'><caption>Table 1.1: "
             f"{'a long caption ' * 6}</caption><tbody><tr>{cells}</tr></tbody></table></div>")

    def page(style: str) -> Path:
        path = tmp_path / f"table{len(style)}.html"
        path.write_text(f"<!DOCTYPE html><html lang='en'><title>x</title><style>{style}</style><main><h1>x</h1>"
                        f"{table}</main></html>", encoding="utf-8")
        return path

    try:
        bare = check_layout_in_browser(page(".table-wrap { overflow-x: auto; }"), widths=(390,))
        styled = check_layout_in_browser(page(template_path("report.css").read_text(encoding="utf-8")),
                                         widths=(390,))
    except ToolMissingError as exc:
        skip_or_fail(str(exc))
    assert any("caption of table 'Table 1.1" in p for p in bare), bare
    assert not any("caption" in p for p in styled), styled


@pytest.mark.browser
@pytest.mark.slow
def test_site_check_opens_every_page_and_fails_on_a_bad_year_page(site_root: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    """``pipeline.py site --check``: the index, the statement and each year's review in Chromium."""
    if shutil.which("chromium") is None and shutil.which("chromium-browser") is None:
        skip_or_fail("chromium is not installed (apt-get install chromium)")
    config = str(write_config(site_root))
    assert main(["site", "--config", config, "--check"]) == 0, capsys.readouterr().out
    assert "0 problem(s)" in capsys.readouterr().out
    bad = site_root / "reports" / "northwold" / "2024" / site.HTML_NAME
    bad.write_text("<!DOCTYPE html><html lang='en-GB'><title>x</title><main><h1>x</h1>"
                   f"<p style='white-space:nowrap'>{'wide ' * 80}</p><img src='data:,'></main></html>",
                   encoding="utf-8")
    assert main(["site", "--config", config, "--check"]) == 1
    out = capsys.readouterr().out
    assert "problem: 2024/annual-review.html at 390 px: image 1 has no alt text" in out
    assert "problem: 2024/annual-review.html: 390 px: the page is" in out
    assert "2025/annual-review.html" not in out.replace("Wrote", "")
