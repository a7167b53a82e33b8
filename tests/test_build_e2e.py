"""End to end: build the demo council's annual review in both audiences and read it as a person would."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import skip_or_fail
from e2e import demo_config_copy
from hostile import html_text, shown

from safeguarding.build import build
from safeguarding.escape import unescape_markdown

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build the demo once per audience; the board build reuses the processed data."""
    tmp = tmp_path_factory.mktemp("e2e")
    cfg = demo_config_copy(tmp)
    out = {}
    for audience in ("public", "board"):
        out[audience] = build(cfg, audience=audience, renderer="builtin", echo=lambda _m: None)
    out["config"] = cfg
    out["processed"] = tmp / "processed"
    return out


def test_outputs_are_where_the_issue_says(built):
    pub = built["public"]
    assert pub.output_dir.parts[-2:] == ("northwold", "2025")
    assert pub.html.name == "annual-review.html" and pub.html.stat().st_size > 50_000
    assert pub.pdf.name == "annual-review.pdf" and pub.pdf.stat().st_size > 20_000
    assert {p.name for p in pub.data_files} == {"indicators.csv", "indicators.xlsx", "findings.csv", "survey.csv",
                                               "README.txt"}
    board = built["board"]
    assert board.output_dir != pub.output_dir, "the board pack must never overwrite the public report"
    for stage in ("ingest", "indicators", "notebooks", "publish", "data", "replace", "site"):
        assert stage in pub.timings


def test_the_public_build_lists_its_year_in_the_areas_index_and_the_board_build_never(built):
    """Issue 17 item 1: after publishing its year the public build rewrites reports/<area>/index.html from the
    year's review.json; the board build, published beside it, leaves the index alone and is never listed."""
    import json

    pub, board = built["public"], built["board"]
    area = pub.output_dir.parent
    assert board.output_dir.parent == area and board.output_dir.name == "2025-board"
    record = json.loads((pub.output_dir / "review.json").read_text(encoding="utf-8"))
    assert (record["audience"], record["status"], record["version"]) == ("public", "draft", "0.1")
    assert {f["path"] for f in record["files"]} == {"annual-review.html", "annual-review.pdf",
                                                    *(f"data/{p.name}" for p in pub.data_files)}
    index = (area / "index.html").read_text(encoding="utf-8")
    for name in ("annual-review.html", "annual-review.pdf", *(f"data/{p.name}" for p in pub.data_files)):
        assert f'href="2025/{name}"' in index, name
    assert "Draft \u2014 not approved" in index and "Publication date not set" in index
    assert "-board" not in index and "OFFICIAL" not in index
    assert (area / "accessibility.html").is_file() and not (area / "sitemap.xml").exists()  # the demo: no base_url
    assert json.loads((pub.log_dir / "run.json").read_text())["site"]["years"] == [2025]
    assert "site" not in json.loads((board.log_dir / "run.json").read_text())


def test_run_log_records_the_run(built):
    import hashlib
    import json

    run = json.loads((built["public"].log_dir / "run.json").read_text())
    assert run["outcome"] == "published"
    assert run["inputs"]
    for v in run["inputs"].values():  # each input's hash is that of its file's bytes
        assert v["sha256"] == hashlib.sha256(Path(v["path"]).read_bytes()).hexdigest(), v["path"]
    assert run["versions"]["pandas"] and run["config"]["area"]["name"]
    # the kernels' start-up chatter is kept in the run's log folder, not printed to the analyst
    assert (built["public"].log_dir / "kernels.log").is_file()
    # what disclosure control did, and a warning naming any hidden cells it could not check in full
    d = run["disclosure"]
    assert d["primary"] > 0 and d["suppressed"] >= d["primary"] and d["cells"] > d["suppressed"]
    if d["unverified_cells"]:
        assert any("too large for the full check" in w for w in run["warnings"])
    assert "disclosure" not in json.loads((built["board"].log_dir / "run.json").read_text())
    # the report context was worked out once for the chapters (issue 19), for each audience
    for audience in ("public", "board"):
        notebooks = json.loads((built[audience].log_dir / "run.json").read_text())["stages"]["notebooks"]
        assert notebooks["context"]["cache"] == "no entry", notebooks


def test_the_saved_report_context_is_never_published_and_equals_a_fresh_one(built, tmp_path):
    """Issue 19: the build saves the context in its working folder, never beside the report; opened, it is
    the context a chapter would work out itself, for each audience."""
    from safeguarding.config import load_config
    from safeguarding.report.context import ReportContext
    from safeguarding.report.prepared import META, save_context

    root = built["config"].parent
    for audience in ("public", "board"):
        out = built[audience].output_dir
        assert not [p for p in out.rglob("*") if p.name == META or p.suffix == ".arrow"], out
        # the build removed its working folder; the cache keeps one entry per audience
        entry = root / "build" / "cache" / "northwold-2025" / audience / "context"
        assert (entry / "files" / META).is_file()
        folder = save_context(load_config(built["config"], audience=audience), tmp_path / "context" / audience)
        saved = ReportContext.load(built["config"], audience=audience, build_dir=tmp_path / "a", saved=folder)
        fresh = ReportContext.load(built["config"], audience=audience, build_dir=tmp_path / "b")
        pd.testing.assert_frame_equal(saved.indicators, fresh.indicators, check_exact=True)
        assert (saved.shown is None) == (audience == "board")
        if saved.shown is not None:
            assert dict(saved.shown) == dict(fresh.shown)
            assert saved.hidden_mask(fresh.indicators).any()


@pytest.mark.parametrize("chapter", ["05-private-fostering", "07-appendix"])
def test_a_chapter_run_on_its_own_works_out_the_context_itself(built, tmp_path, chapter):
    """An analyst runs a chapter alone (in Jupyter: no saved context): it works the context out itself and
    shows what the build's kernel, which opened the saved context, showed."""
    import papermill as pm

    from safeguarding.build import NOTEBOOK_DIR
    from safeguarding.config import load_config
    from safeguarding.report.prepared import save_context

    nb = NOTEBOOK_DIR / f"{chapter}.ipynb"
    params = {"config_path": str(built["config"]), "audience": "public"}
    outputs = {}
    for way in ("alone", "saved"):
        run = tmp_path / way
        run.mkdir()
        extra = {}
        if way == "saved":
            cfg = load_config(built["config"], audience="public")
            extra["saved_context"] = str(save_context(cfg, tmp_path / "context" / "public"))
        pm.execute_notebook(str(nb), str(run / nb.name), parameters={**params, "build_dir": str(run), **extra},
                            kernel_name="python3", progress_bar=False, log_output=False)
        executed = json.loads((run / nb.name).read_text(encoding="utf-8"))
        outputs[way] = [json.dumps(c.get("outputs")).replace(str(run), "RUN") for c in executed["cells"]
                        if c["cell_type"] == "code" and "injected-parameters" not in c["metadata"].get("tags", [])]
    assert any(o != "[]" for o in outputs["alone"])
    assert outputs["alone"] == outputs["saved"]



def test_figures_published_nowhere_are_withheld_from_the_public_table(built):
    """Rolling 12 months and periods outside the publication scope are withheld (x), and only those.

    The scope is restated here from the README: years back 10 years, quarters 3, months 3 years for
    headline figures and 1 year for breakdowns, nothing after the 31 March year end.
    """
    import json

    import pandas as pd

    pub = pd.read_parquet(built["processed"] / "indicators_public.parquet")
    board = pd.read_parquet(built["processed"] / "indicators_board.parquet")
    full = pd.read_parquet(built["processed"] / "indicators.parquet")
    assert len(pub) == len(board) == len(full)
    assert (pub["indicator_id"].to_numpy() == full["indicator_id"].to_numpy()).all()
    end = pd.to_datetime(full["period_end"])
    head = full["breakdown"].eq("all")
    ptype = full["period_type"]
    year_end = pd.Timestamp("2025-03-31")
    after = {"year": pd.Timestamp("2015-03-31"), "quarter": pd.Timestamp("2022-03-31")}
    in_scope = end.le(year_end) & (
        (ptype.eq("year") & end.gt(after["year"]))
        | (ptype.eq("quarter") & end.gt(after["quarter"]))
        | (ptype.eq("month") & head & end.gt(pd.Timestamp("2022-03-31")))
        | (ptype.eq("month") & ~head & end.gt(pd.Timestamp("2024-03-31"))))
    roll = ptype.eq("rolling12")
    assert roll.any() and not in_scope[roll].any()
    assert (~in_scope & ptype.eq("month") & ~head).any(), "the demo should have breakdown months out of scope"
    withheld = pub[["numerator", "denominator", "value", "marker"]].eq("x")
    assert withheld[~in_scope].all().all()
    # in scope, only whole series are withheld: breakdowns by month or quarter too sparse to publish, and the
    # detail listed in run.json as withheld so that the annual headline figures could be published
    run = json.loads((built["public"].log_dir / "run.json").read_text())
    listed = {(d["indicator_id"], d["breakdown"], d["period_type"])
              for d in run["disclosure"]["publication"]["detail_withheld"]}
    assert listed, "the demo needs detail withheld to publish its private fostering figures"
    whole = in_scope & withheld.all(axis=1)
    assert withheld[in_scope].any(axis=1).eq(whole[in_scope]).all()
    series = [full["indicator_id"], full["breakdown"], ptype]
    share = whole[in_scope].groupby([s[in_scope] for s in series]).mean()
    assert share.isin([0.0, 1.0]).all(), share[~share.isin([0.0, 1.0])]
    key = pd.Series(list(zip(*series, strict=True)), index=full.index)
    yielded = key.isin(listed) & in_scope
    assert whole[yielded].all()
    sparse = whole & ~yielded
    assert not sparse[head | ptype.eq("year")].any(), "only breakdowns by month or quarter are withheld as sparse"
    # annual headline figures never yield
    assert not (yielded & head & ptype.eq("year")).any()
    assert not board["value"].eq("x").any()
    assert run["disclosure"]["withheld_rows"] == int((~in_scope).sum() + whole.sum())


def _html_text(path: Path) -> str:
    html = path.read_text(encoding="utf-8")
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'src="data:[^"]+"', "", html)
    return re.sub(r"<[^>]+>", " ", html)


def _html_tables(path: Path) -> list[dict]:
    """Every table of an HTML page: its caption, header cells and body rows (cell text, entities decoded)."""
    from html.parser import HTMLParser

    class Tables(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.tables: list[dict] = []
            self.cell: list[str] | None = None
            self.caption: list[str] | None = None
            self.row: list[str] | None = None

        def handle_starttag(self, tag, attrs):
            if tag == "table":
                self.tables.append({"caption": "", "header": [], "rows": []})
            elif tag == "caption":
                self.caption = []
            elif tag == "tr":
                self.row = []
            elif tag in ("td", "th"):
                self.cell = []

        def handle_endtag(self, tag):
            if tag == "caption" and self.caption is not None:
                self.tables[-1]["caption"] = re.sub(r"\s+", " ", "".join(self.caption)).strip()
                self.caption = None
            elif tag in ("td", "th") and self.cell is not None and self.row is not None:
                self.row.append(re.sub(r"\s+", " ", "".join(self.cell)).strip())
                self.cell = None
            elif tag == "tr" and self.row is not None and self.tables:
                table = self.tables[-1]
                if table["header"]:
                    table["rows"].append(self.row)
                else:
                    table["header"] = self.row
                self.row = None

        def handle_data(self, data):
            for part in (self.cell, self.caption):
                if part is not None:
                    part.append(data)

    parser = Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.tables


@pytest.mark.parametrize("audience", ["public", "board"])
def test_every_percentage_and_rate_in_a_table_carries_its_interval(built, audience):
    """Issue 15, item 4: a visible '95% CI' column follows every percentage and rate of the area in the HTML
    (so a screen reader reads it with its header), computed from the published figures; a withheld figure
    shows the table's marker and no interval."""
    from statsmodels.stats.proportion import proportion_confint

    from safeguarding.measures import round_half_up

    tables = _html_tables(built[audience].html)
    assert len(tables) >= 15
    percent = re.compile(r"\d+\.\d%")
    checked = 0
    for t in tables:
        header = t["header"]
        for j, col in enumerate(header):
            if col.startswith("95% CI") or col in ("England", "Target"):
                continue
            cells = [r[j] for r in t["rows"] if len(r) == len(header)]
            is_rate = "per 10,000" in col or "Rate" in col
            if not (is_rate or any(percent.fullmatch(c) for c in cells)):
                continue
            assert j + 1 < len(header) and header[j + 1].startswith("95% CI"), (t["caption"], col)
            for r in t["rows"]:
                value, ci = r[j], r[j + 1]
                if value in ("c", ":"):
                    assert ci == value, (t["caption"], col, r)  # a withheld figure has no interval
                elif percent.fullmatch(value) or is_rate:
                    assert re.fullmatch(r"[\d,]+\.\d%? to [\d,]+\.\d%?", ci) or (ci == "z" and r[0] == "Total"), \
                        (t["caption"], col, r)
                    checked += 1
    assert checked >= 40
    # the scorecard's intervals against an independent Wilson calculation on the published figures
    published = pd.read_csv(built[audience].output_dir / "data" / "indicators.csv", dtype=str,
                            keep_default_na=False)
    year = published[(published["period_type"] == "year") & (published["period_end"] == "2025-03-31")
                     & (published["breakdown"] == "all")].set_index("indicator_name")
    card = next(t for t in tables if "Scorecard" in t["caption"])
    assert card["header"][1:5] == ["2024-25", "95% CI (2024-25)", "2023-24", "95% CI (2023-24)"]
    seen = {"interval": 0, "withheld": 0}
    for r in card["rows"]:
        row = year.loc[r[0]]
        if row["unit"] != "percent":
            continue
        if row["value"] == "c":
            assert r[1] == r[2] == "c"
            seen["withheld"] += 1
            continue
        lo, hi = proportion_confint(int(row["numerator"]), int(row["denominator"]), alpha=0.05, method="wilson")
        assert r[2] == f"{round_half_up(100 * lo, 1):.1f}% to {round_half_up(100 * hi, 1):.1f}%", r
        seen["interval"] += 1
    assert seen["interval"] >= 4
    if audience == "public":
        assert seen["withheld"] >= 1, "the demo withholds an essential percentage, for the test to mean anything"
    icpc = next(r for r in card["rows"] if r[0].startswith("ICPCs within 15 working days"))
    assert icpc[1:3] == ["76.6%", "70.1% to 82.0%"]  # 147 of 192, Wilson 70.09% to 82.00%


def test_key_figures_in_html_match_indicator_table(built):
    """The figures a reader sees are the indicator table's (public and board)."""
    ind = pd.read_parquet(built["processed"] / "indicators.parquet")
    ind["period_end"] = pd.to_datetime(ind["period_end"])
    year = ind[(ind.period_type == "year") & (ind.period_end == pd.Timestamp("2025-03-31"))
               & (ind.breakdown == "all")].set_index("indicator_id")
    board_text = _html_text(built["board"].html)
    public_text = _html_text(built["public"].html)
    for code in ("REFERRALS", "CPP_OPEN", "CPP_STARTED", "S47_STARTED"):
        n = int(year.loc[code, "value"])
        assert f"{n:,}" in board_text, f"{code}={n:,} not in the board HTML"
        if n > 5:
            assert f"{n:,}" in public_text, f"{code}={n:,} not in the public HTML"
    for code in ("REREFERRALS_12M", "CPP_SUBSEQUENT"):
        r = year.loc[code]
        pct = f"{100 * r['numerator'] / r['denominator']:.1f}%"
        assert pct in board_text, f"{code} {pct} not in the board HTML"


def test_board_pack_marked_on_every_page(built):
    from pypdf import PdfReader

    reader = PdfReader(str(built["board"].pdf))
    for i, page in enumerate(reader.pages):
        assert "OFFICIAL-SENSITIVE" in (page.extract_text() or ""), f"board PDF page {i + 1} is not marked"
    assert "OFFICIAL-SENSITIVE" in built["board"].html.read_text(encoding="utf-8")
    assert "OFFICIAL-SENSITIVE" not in built["public"].html.read_text(encoding="utf-8")


def test_pdf_is_a4_with_fonts_text_and_tags(built):
    from safeguarding.publish.checks import check_pdf

    problems = check_pdf(built["public"].pdf, ["Key messages", "Scorecard", "Child protection", "Referrals"],
                         board=False, min_pages=8)
    assert problems == []


def test_html_in_a_browser(built, tmp_path):
    from safeguarding.publish.checks import ToolMissingError, check_html_in_browser

    for audience in ("public", "board"):
        try:
            problems = check_html_in_browser(built[audience].html, screenshot=tmp_path / f"{audience}.png")
        except ToolMissingError as exc:
            skip_or_fail(str(exc))
        assert problems == [], f"{audience}: {problems}"


def test_previous_report_left_intact_when_a_stage_fails(built, monkeypatch):
    """A failing build leaves the last published report byte for byte as it was."""
    import safeguarding.build as b

    pub = built["public"]
    before = {p.name: p.read_bytes() for p in pub.output_dir.rglob("*") if p.is_file()}

    def broken(*_a, **_k):
        raise RuntimeError("simulated failure in publishing")

    monkeypatch.setattr(b.driver, "_stage_publish", broken)  # where the build driver looks it up
    with pytest.raises(b.BuildError) as err:
        build(built["config"], audience="public", renderer="builtin", echo=lambda _m: None)
    assert err.value.stage == "publish"
    after = {p.name: p.read_bytes() for p in pub.output_dir.rglob("*") if p.is_file()}
    assert after == before
    assert not list(pub.output_dir.parent.glob(".*staging*")), "staging folder left behind"


# --------------------------------------------------------------------------- disclosure scan


#: what the demo's editorial folder (editorial/, fictional) puts in the review, in the order it must appear
EDITORIAL_IN_ORDER = (
    "Foreword by the chair", "This foreword is fictional", "Key messages", "The partnership at work",
    "The board's priorities", "◐ At risk", "Partner contributions", "Northwold Police (fictional)",
    "Northwold Schools and Colleges (fictional)", "Learning from case reviews and audits",
    "Rapid review following a serious incident (fictional)", "Training delivered by agency", "Board attendance",
    "Governance and budget", "How the partnership is organised", "£245,000", "Appendix: data quality and definitions",
)


@pytest.mark.parametrize("audience", ["public", "board"])
def test_the_demo_review_holds_every_editorial_part_in_order(built, audience):
    """Issue 16, item 1: the foreword opens the summary; the partnership chapter holds every other part, in order,
    in the web page and in the PDF; the build warned about nothing left out."""
    from pypdf import PdfReader

    result = built[audience]
    text = shown(html_text(result.html))
    at = [text.find(s) for s in EDITORIAL_IN_ORDER]
    assert -1 not in at, [s for s, i in zip(EDITORIAL_IN_ORDER, at, strict=True) if i < 0]
    body = text[text.find("This chapter gives the key messages"):]  # the summary chapter on, after the contents
    at = [body.find(s) for s in EDITORIAL_IN_ORDER]
    assert at == sorted(at) and -1 not in at, list(zip(EDITORIAL_IN_ORDER, at, strict=True))
    pdf = " ".join(" ".join((p.extract_text() or "") for p in PdfReader(str(result.pdf)).pages).split())
    for s in ("Foreword by the chair", "The partnership at work", "Northwold Police (fictional)", "£245,000",
              "◐ At risk"):
        assert s in pdf.replace("\u200b", ""), s
    assert not [w for w in result.warnings if w.startswith("editorial:")]
    if audience == "public":  # the identifier and date-of-birth scan below reads the editorial text too
        texts = _public_texts(built)
        assert "Northwold Police (fictional)" in texts["html"] and "Foreword by the chair" in texts["pdf"]


def _public_texts(built) -> dict[str, str]:
    from pypdf import PdfReader

    pub = built["public"]
    pdf_text = "\n".join(page.extract_text() or "" for page in PdfReader(str(pub.pdf)).pages)
    csv_text = (pub.output_dir / "data" / "indicators.csv").read_text(encoding="utf-8")
    return {"html": _html_text(pub.html), "pdf": pdf_text, "csv": csv_text}


def _identifiers(built) -> dict[str, set[str]]:
    """Every child pseudonym, source identifier and date of birth in the demo inputs."""
    import yaml

    from safeguarding.schema import ENTITIES

    cfg = yaml.safe_load(built["config"].read_text())
    source_ids: set[str] = set()
    dobs: set[str] = set()
    for name, spec in cfg["inputs"].items():
        path = Path(spec["file"])
        if path.suffix == ".xlsx":
            df = pd.read_excel(path, engine="openpyxl", sheet_name=spec.get("sheet", 0),
                               header=int(spec.get("header_row", 1)) - 1, dtype=str)
        else:
            df = pd.read_csv(path, dtype=str, encoding=spec.get("encoding", "utf-8-sig").replace("auto", "utf-8-sig"))
        for canonical, source in (spec.get("columns") or {}).items():
            kind = ENTITIES[name].column(canonical).kind
            if kind == "id" and source in df.columns:
                source_ids |= {str(v).strip() for v in df[source].dropna() if len(str(v).strip()) >= 4}
            if canonical == "date_of_birth" and source in df.columns:
                for v in df[source].dropna():
                    d = pd.to_datetime(v, dayfirst=True, errors="coerce")
                    if pd.notna(d):
                        dobs |= {d.strftime("%d/%m/%Y"), d.strftime("%Y-%m-%d"), d.strftime("%-d %B %Y")}
    pseudonyms: set[str] = set()
    for path in built["processed"].glob("*.parquet"):
        df = pd.read_parquet(path)
        for col in df.columns:
            if col.endswith("_id") and col != "indicator_id":
                pseudonyms |= set(df[col].dropna().astype(str))
    return {"source identifier": source_ids, "date of birth": dobs, "pseudonym": pseudonyms}


def test_public_outputs_hold_no_identifier_or_date_of_birth(built):
    texts = _public_texts(built)
    ids = _identifiers(built)
    # Period boundaries (1 April 2024, 31 March 2025, ...) are published by design and some children were
    # born on them: those dates cannot be told apart, so they are left out of the scan (and only those).
    csv = pd.read_csv(built["public"].output_dir / "data" / "indicators.csv", dtype=str)
    boundaries = set(csv["period_start"]) | set(csv["period_end"])
    boundary_text = set()
    for d in boundaries:
        t = pd.Timestamp(d)
        boundary_text |= {t.strftime("%d/%m/%Y"), t.strftime("%Y-%m-%d"), t.strftime("%-d %B %Y")}
    ids["date of birth"] -= boundary_text
    assert len(ids["date of birth"]) > 1000
    assert len(ids["source identifier"]) > 1000 and len(ids["date of birth"]) > 1000 and ids["pseudonym"]
    for where, text in texts.items():
        tokens = set(re.findall(r"[A-Za-z0-9/_-]{4,}", text))
        for kind, values in ids.items():
            if kind == "date of birth":
                found = [v for v in values if v in text]
            else:
                found = sorted(tokens & values)
            assert not found, f"public {where} contains {kind}(s): {found[:5]}"


def test_public_tables_hold_no_count_from_1_to_5(built):
    """No table cell in the public HTML, and no count in the public CSV, is 1 to 5."""
    html = built["public"].html.read_text(encoding="utf-8")
    # the partnership chapter's tables (training, attendance, budget) count courses and meetings, not children
    assert html.count('<table id="tbl-partnership-') == 5
    html = re.sub(r'<table id="tbl-partnership-.*?</table>', "", html, flags=re.S)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html, flags=re.S)
    assert len(cells) > 100
    small = [c for c in cells if re.fullmatch(r"\s*[1-5]\s*", re.sub(r"<[^>]+>", "", c))]
    assert not small, f"{len(small)} table cells show a count from 1 to 5"
    csv = pd.read_csv(built["public"].output_dir / "data" / "indicators.csv", dtype=str)
    for col in ("numerator", "denominator"):
        vals = pd.to_numeric(csv[col], errors="coerce")
        assert not ((vals >= 1) & (vals <= 5)).any(), f"published CSV has {col} from 1 to 5"
    counts = csv[csv["unit"] == "count"]
    vals = pd.to_numeric(counts["value"], errors="coerce")
    assert not ((vals >= 1) & (vals <= 5)).any(), "published CSV has a count value from 1 to 5"
    assert (csv["numerator"] == "c").any(), "expected some suppressed cells in a small council's table"


def _html_table(html: str, table_id: str) -> list[list[str]]:
    """The body rows of one table of an HTML report, each cell as the reader sees it."""
    from html import unescape

    found = re.search(rf'<table id="{table_id}">(.*?)</table>', html, flags=re.S)
    assert found, f"table {table_id} is not in the report"
    body = found.group(1).split("<tbody>", 1)[1]
    return [[unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
            for tr in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)]


#: report tables of counts read from the indicator table: (table id, indicator, breakdown, row label -> value)
REPORT_COUNT_TABLES = (
    ("tbl-ref-repeat-children", "REFERRALS_CHILDREN", "referrals_in_period",
     {"1 referral": "1", "2 referrals": "2", "3 or more referrals": "3+", "Total": "all"}),
    ("tbl-lado-actions", "LADO_ACTIONS", "action", {"Cases with at least one action": "all"}),
)


@pytest.mark.parametrize("audience", ["public", "board"])
def test_report_count_tables_show_what_the_data_files_publish(built, audience):
    """Children by number of referrals, and actions on concluded allegations: every cell of the report's
    table is the string the audience's indicators.csv (and .xlsx) publishes for the same indicator row, the
    total included (same number, or the same ``c``), and the PDF prints the same string (the one-string
    rule); a row left out of the table is a published 0. The public tables show no count from 1 to 5.

    Before, both tables were counted from the processed tables and suppressed on the spot, apart from the
    indicator table: the data files did not have these rows, and the suppression did not know the cells.
    """
    html = built[audience].html.read_text(encoding="utf-8")
    data = built[audience].output_dir / "data"
    csv = pd.read_csv(data / "indicators.csv", dtype=str, keep_default_na=False)
    xlsx = pd.read_excel(data / "indicators.xlsx", sheet_name="Indicators", dtype=str, engine="openpyxl",
                         keep_default_na=False)
    pdf = subprocess.run(["pdftotext", "-layout", str(built[audience].pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    hidden = 0
    for table_id, code, breakdown, labels in REPORT_COUNT_TABLES:
        rows = _html_table(html, table_id)
        sel = csv[csv["indicator_id"].eq(code) & csv["period_type"].eq("year") & csv["period_end"].eq("2025-03-31")]
        assert set(sel["breakdown"]) == {"all", breakdown}, (code, set(sel["breakdown"]))
        published = dict(zip(sel["breakdown_value"], sel["value"], strict=True))
        in_xlsx = xlsx[xlsx["indicator_id"].eq(code) & xlsx["period_type"].eq("year")
                       & xlsx["period_end"].eq("2025-03-31")]
        assert dict(zip(in_xlsx["breakdown_value"], in_xlsx["value"], strict=True)) == published, code
        shown = {labels.get(label, label): count for label, count, *_ in rows}
        assert len(shown) == len(rows) and set(shown) <= set(published), (code, sorted(shown), sorted(published))
        for value, count in shown.items():
            assert count.replace(",", "") == published[value], (code, value, count, published[value])
            if audience == "public":
                assert not re.fullmatch(r"[1-5]", count), (code, value, count)
                hidden += count == "c"
        assert all(published[v] == "0" for v in set(published) - set(shown)), (code, published)
        for label, count, *_ in rows:  # the PDF prints the same string on the row's line
            assert re.search(rf"^\s*{re.escape(label)}\s+{re.escape(count)}(\s|$)", pdf, flags=re.M), \
                (code, label, count, "not in the PDF")
    if audience == "public":
        assert hidden > 0, "the demo should withhold some of these cells, for this test to mean anything"


@pytest.mark.parametrize("audience", ["public", "board"])
def test_every_finding_sentence_is_in_the_report_and_regenerates_from_its_row(built, audience):
    """Issue 15: each sentence stating a change, a signal, a seasonal pattern or a comparison has a findings row."""
    import html as html_module

    from safeguarding.report import findings

    html = re.sub(r"\s+", " ", html_module.unescape(_html_text(built[audience].html)))
    rows = pd.read_csv(built[audience].output_dir / "data" / "findings.csv", dtype=str, keep_default_na=False)
    assert len(rows) >= 20 and set(rows.columns) == set(findings.COLUMNS)
    assert {"year on year", "within year", "seasonal", "target"} <= set(rows["comparison"])
    for _, row in rows.iterrows():
        assert findings.render(findings.from_row(row)) == row["sentence"]
        assert row["sentence"] in html, row["sentence"]
    icpc = rows[(rows["indicator"] == "ICPC_15WD") & (rows["comparison"] == "year on year")].iloc[0]
    assert icpc["verdict"] == "significant decrease" and float(icpc["upper"]) < 0
    assert "within the range expected from month-to-month variation" not in html
    assert "is usually the busiest month" not in html  # the demo's seasonal claim was not supported


#: phrases the findings renderer (safeguarding.report.findings.render) uses to state a change, a signal, a trend,
#: a seasonal pattern or a comparison
VERDICT_PHRASES = ("statistically significant", "could be chance", "unlikely to be chance", "unusual",
                   "within the range expected", "above the range expected", "below the range expected", "seasonal",
                   "busiest", "trend", "significantly", "target was met", "missed by", "compared with", " rose ",
                   " fell ", "stayed at", "special cause", "an improvement", "a deterioration")


@pytest.mark.parametrize("audience", ["public", "board"])
def test_every_verdict_sentence_in_the_chapters_is_a_findings_row(built, audience):
    """Issue 15, the other way round: each sentence of the chapters that states a verdict (found by the renderer's
    phrases) is the sentence of a findings.csv row. Tables (the report card's one-line stories, checked in
    tests/test_findings.py) and the front page and appendix, which describe the methods, are left out."""
    import html as html_module

    page = built[audience].html.read_text(encoding="utf-8")
    page = re.sub(r"<(script|style|table)[^>]*>.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r'src="data:[^"]+"', "", page)
    text = re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", page)))
    chapters = text[text.rfind("Key messages"):text.rfind("Appendix: data quality and definitions")]
    assert "Private fostering" in chapters and "Re-referrals" in chapters
    rows = pd.read_csv(built[audience].output_dir / "data" / "findings.csv", dtype=str, keep_default_na=False)
    assert {"trend", "funnel", "benchmark"} <= set(rows["comparison"])
    assert "listed" in set(rows["verdict"])  # the rates beside England, the region and neighbours
    rest = chapters
    # the voice of children and families states its verdicts in sentences published in survey.csv instead
    survey = pd.read_csv(built[audience].output_dir / "data" / "survey.csv", dtype=str, keep_default_na=False)
    assert len(survey) == 3
    for sentence in sorted([*rows["sentence"], *survey["sentence"]], key=len, reverse=True):
        assert sentence in text, sentence
        rest = rest.replace(sentence, " | ")
    left = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\|", rest) if any(p in s for p in VERDICT_PHRASES)]
    assert left == [], left
    # the funnel plot and the Wilson comparison with England agree (the same test, drawn and said)
    for code, funnel in rows[rows["comparison"] == "funnel"].set_index("indicator").iterrows():
        bench = rows[(rows["indicator"] == code) & (rows["comparison"] == "benchmark")]
        if len(bench) and funnel["baseline_period"] == funnel["period"]:
            within = funnel["verdict"] == "within"
            assert within == (bench["verdict"].iloc[0] == "not significantly different"), code


def test_public_sentences_never_quote_a_withheld_figure(built):
    """Secondary suppression holds in the text too: no sentence quotes a figure the public table withholds."""
    text = re.sub(r"\s+", " ", _html_text(built["public"].html))
    full = pd.read_parquet(built["processed"] / "indicators.parquet")
    pub = pd.read_parquet(built["processed"] / "indicators_public.parquet")
    year_end = pd.Timestamp(2025, 3, 31)
    pick = (full["period_type"].eq("year") & full["breakdown"].eq("all")
            & pd.to_datetime(full["period_end"]).isin([year_end, year_end - pd.DateOffset(years=1)])
            & pub["marker"].eq("c"))
    hidden = full[pick]
    secondary = hidden[hidden["value"].astype(float) > 5]
    assert len(secondary) > 0, "the demo should have a secondary-suppressed headline figure to check"
    quoted = []
    for _, r in hidden.iterrows():
        num, den, val = r["numerator"], r["denominator"], r["value"]
        if pd.notna(num) and pd.notna(den) and den > 0:  # percentages: "26.1% (37 of 142)"
            needle = f"({int(num):,} of {int(den):,})"
        else:  # counts: "from 138 in 2023-24 to 134 in 2024-25", "In 2024-25, 1,490 referrals"
            needle = f" {int(val):,} in 20"
        if needle in text:
            quoted.append((r["indicator_id"], str(r["period_end"])[:10], needle))
    assert not quoted, f"withheld figures quoted in the public HTML: {quoted}"


def test_board_outputs_do_show_small_counts(built):
    """The board pack is unsuppressed: the same scan finds small counts there (so the public scan can fail)."""
    csv = pd.read_csv(built["board"].output_dir / "data" / "indicators.csv", dtype=str)
    vals = pd.to_numeric(csv["numerator"], errors="coerce")
    assert ((vals >= 1) & (vals <= 5)).any()


def test_charts_never_show_a_cell_the_tables_withhold(built, tmp_path):
    """A cell hidden by secondary suppression (its count is above 5) is left out of the chart too.

    Before this was checked, bar charts dropped only counts of 1 to 5, so a secondary-suppressed group was
    drawn with its value label and the primary cell could be recovered from the total.
    """
    from safeguarding.report import ReportContext, figures
    from safeguarding.report.tables import breakdown_counts

    ctx = ReportContext.load(built["config"], audience="public", build_dir=tmp_path)
    found = []
    for code, breakdown in (("CPP_OPEN", "gender"), ("CPP_OPEN", "latest_category"),
                            ("CPP_OPEN", "ethnicity"), ("REFERRALS", "referral_source"),
                            ("LADO_REFERRALS", "sector"), ("LADO_REFERRALS", "category")):
        raw = breakdown_counts(ctx, code, breakdown)
        secondary = raw[raw["hidden"] & (raw["count"] > 5)]
        if secondary.empty:
            continue
        md = figures.category_bar(ctx, raw, title="t", label=f"t-{code}-{breakdown}", what="things")
        if 'fig-alt="' not in md:  # fewer than two groups left to draw: a sentence instead, naming no group
            assert "not charted" in md and not any(r["label"] in md for _, r in raw.iterrows()), md
            found.extend((code, breakdown, r["label"]) for _, r in secondary.iterrows())
            continue
        alt = md.split('fig-alt="', 1)[1]
        for _, r in secondary.iterrows():
            found.append((code, breakdown, r["label"]))
            assert f"{r['label']} {int(r['count']):,}" not in alt, f"{code}/{breakdown}: {r['label']} drawn"
            assert f"; {r['label']} " not in alt and f": {r['label']} " not in alt
    assert found, "expected at least one secondary-suppressed group in the demo's year-end breakdowns"


def test_allegations_by_sector_over_time(built, tmp_path):
    """Board: monthly stacked bars; public: quarters once months would hide most sectors; title states the finding.

    The chart data is compared with the indicator table directly, and the 'largest sector' claim in the
    title is recounted here from that table.
    """
    from safeguarding.report import ReportContext, figures
    from safeguarding.schema import LADO_SECTOR

    for audience, period_type in (("board", "month"), ("public", "quarter")):
        ctx = ReportContext.load(built["config"], audience=audience, build_dir=tmp_path / audience)
        md = figures.sector_over_time(ctx, "LADO_REFERRALS", "sector", labels=LADO_SECTOR, noun="allegations",
                                      y_label="Allegations referred", label="t-sector")
        if audience == "public":
            # a sector can be drawn on its own only if none of its quarters is withheld in the public table
            keys = [k for k in ctx.shown if k[:2] == ("LADO_REFERRALS", "quarter") and k[3] == "sector"
                    and ctx.year_start <= k[2] <= ctx.year_end]
            withheld = {k[4] for k in keys if ctx.shown[k]["marker"] in ("c", "x")}
            if withheld >= {k[4] for k in keys}:
                assert "fig-alt=" not in md and "no sector could be shown on its own" in md, md[:300]
                continue
        assert f"by sector each {period_type}" in md, md[:300]
        ind = ctx.indicators
        sel = ind[(ind.indicator_id == "LADO_REFERRALS") & (ind.period_type == period_type)
                  & (ind.breakdown == "sector") & (ind.period_start >= ctx.year_start)
                  & (ind.period_end <= ctx.year_end)]
        table = sel.pivot_table(index="period_start", columns="breakdown_value", values="value", aggfunc="sum")
        table = table.fillna(0).rename(columns=LADO_SECTOR)
        shown = [c for c in table.columns if f"; {c} " in md.split('fig-alt="', 1)[1]
                 or f": {c} " in md.split('fig-alt="', 1)[1]]
        assert shown, "at least one named sector is drawn"
        if audience == "public":
            for c in shown:  # nothing drawn by name may have a quarter of 1 to 5
                assert not table[c].between(1, 5).any(), c
        leader = table[shown].sum().idxmax()
        if len(shown) == 1 and len(table.columns) > 1:  # one sector against the rest: the range of its share
            share = table[leader] / table.sum(axis=1) * 100
            lo, hi = round(share.min()), round(share.max())
            assert f"{leader} made up {lo}% to {hi}% of allegations each {period_type}" in md
            continue
        k = int((table[leader] >= table[shown].max(axis=1)).sum())
        withheld = audience == "public" and "withheld to protect privacy in any" in md
        claim = "the largest of the sectors shown" if withheld else "the largest sector"
        title = f"{leader} was {claim} in " + (
            f"every {period_type}" if k == len(table) else f"{k} of {len(table)} {period_type}s")
        assert title in md


def test_scorecard_status_follows_the_public_table(built, tmp_path):
    """A status is given only for a figure the reader can see; a withheld figure with a target says so."""
    from safeguarding.report import ReportContext
    from safeguarding.report.sections import summary

    for audience in ("public", "board"):
        ctx = ReportContext.load(built["config"], audience=audience, build_dir=tmp_path / audience)
        rows = [line.split("|")[1:-1] for line in summary.scorecard(ctx).markdown.splitlines()
                if line.startswith("| ") and not line.startswith("| Indicator") and "---" not in line]
        assert len(rows) >= 8
        by_name = {ctx.catalogue[c].name: c for c in ctx.catalogue.codes}
        for cells in rows:
            name, this_year, _, _, _, target, status, _ = (unescape_markdown(c.strip()) for c in cells)
            row = ctx.row(by_name[name], "year")
            if this_year == "c":
                assert audience == "public"
                assert status == ("– No target" if target == "none set" else "– Not shown (figure withheld)")
            elif target == "none set":
                assert status == "– No target"
            else:  # the status is the indicator table's RAG, symbol and word
                assert status == summary.RAG_SYMBOL[str(row["rag"])], (name, status, row["rag"])
        if audience == "public":
            assert any(unescape_markdown(c[6].strip()) == "– Not shown (figure withheld)" for c in rows), \
                "the demo has a withheld figure with a target"


def test_key_messages_lead_with_figures_and_name_withheld_ones_once(built, tmp_path):
    """Withheld headline figures do not crowd out the messages a board member can read."""
    from safeguarding.report import text
    from safeguarding.report.context import ReportContext

    ctx = ReportContext.load(built["config"], audience="public", build_dir=tmp_path)
    essential = [c for c in ctx.catalogue.codes if ctx.catalogue[c].status == "essential"]
    hidden = [c for c in essential
              if (r := ctx.row(c, "year")) is not None and pd.notna(r["value"]) and ctx.fmt_value(r) == "c"]
    assert hidden, "the public demo should have a withheld essential figure for this test to mean anything"
    for limit in (3, 7, 50):
        messages = text.key_messages(ctx, essential, limit=limit)
        assert len(messages) <= limit
        said = [m for m in messages if "withheld" in m]
        assert len(said) == 1 and said[0] == messages[-1], messages
        for code in hidden:
            assert ctx.catalogue[code].name.lower() in said[0].lower()
        # each message stands alone: none leans on a sentence before it
        assert not any(m.startswith(("That is", "This is", "It ")) for m in messages), messages
    rates = [c for c in essential if ctx.unit(c) == "rate_per_10k" and c not in hidden]
    assert rates, "the demo has an essential rate per 10,000"
    # a rate's message stands alone: its year-on-year finding, then the rate beside England (issue 15)
    assert any(m.startswith("The rate of") and "per 10,000 children" in m and "statistically significant" in m
               and "compared with England" in m for m in text.key_messages(ctx, essential, limit=50))
    board = ReportContext.load(built["config"], audience="board", build_dir=tmp_path)
    assert not any("withheld" in m for m in text.key_messages(board, essential, limit=50))


def test_combined_withheld_groups_are_not_called_small(built, tmp_path, monkeypatch):
    """The demo's Figure 2.2 combined every category of abuse but neglect as 'Other (small groups)', 53% of the
    plans: emotional abuse, 33 to 44 plans at each month end, is withheld (secondary) and was among them."""
    from safeguarding import charts
    from safeguarding.report import ReportContext, figures
    from safeguarding.schema import CATEGORY_OF_ABUSE

    ctx = ReportContext.load(built["config"], audience="public", build_dir=tmp_path)
    drawn: dict[str, pd.DataFrame] = {}
    draw = charts.stacked_bar_chart

    def capture(table: pd.DataFrame, **kwargs):
        drawn["table"] = table
        return draw(table, **kwargs)

    monkeypatch.setattr(charts, "stacked_bar_chart", capture)
    out = figures.monthly_stacked(ctx, "CPP_OPEN", "latest_category", labels=CATEGORY_OF_ABUSE, title="t",
                                  label="t-cat")
    assert "fig-alt=" in out
    combined = [c for c in drawn["table"].columns if c not in CATEGORY_OF_ABUSE.values()]
    assert combined == [figures.COMBINED_GROUPS] and "small" not in combined[0].lower()
    # the groups combined: those with a withheld monthly figure; in the true figures one of them is above 5
    full = pd.read_parquet(built["processed"] / "indicators.parquet")
    full["period_end"] = pd.to_datetime(full["period_end"])
    months = full[(full["indicator_id"] == "CPP_OPEN") & (full["period_type"] == "month")
                  & (full["breakdown"] == "latest_category") & (full["period_end"] <= ctx.year_end)
                  & (full["period_end"] > ctx.year_end - pd.DateOffset(months=12))]
    withheld = {k[4] for k, v in ctx.shown.items() if k[:2] == ("CPP_OPEN", "month") and k[3] == "latest_category"
                and v["marker"] and months["period_end"].eq(k[2]).any()}
    assert months[months["breakdown_value"].isin(withheld)]["value"].max() > 5


def test_stacked_bars_are_not_drawn_when_a_period_total_is_withheld(built, tmp_path):
    """A stacked bar's height is the period's total: if the public table withholds that total, no bar."""
    from safeguarding.report import ReportContext, figures
    from safeguarding.schema import LADO_SECTOR

    ctx = ReportContext.load(built["config"], audience="public", build_dir=tmp_path)
    title = "Plans open at each month end, by length of plan so far"
    # the demo withholds plans open by length by month (detail that yields so that the year's figures are
    # published); show all its figures here, as a council with larger numbers would (this test is about
    # the chart's rule for withheld totals, not about which figures are withheld)
    full = pd.read_parquet(built["processed"] / "indicators.parquet")
    for col in ("period_start", "period_end"):
        full[col] = pd.to_datetime(full[col])
    ctx.indicators = full
    # and make every group big enough to show on its own (the demo's longest plans are few): 10 more plans
    # of 2 years or more each month, in the group and in the total
    grow = (full["indicator_id"].eq("CPP_OPEN") & full["period_type"].eq("month")
            & (full["breakdown_value"].eq("2 years or more") & full["breakdown"].eq("plan_length")
               | full["breakdown"].eq("all")))
    full.loc[grow, "value"] = full.loc[grow, "value"] + 10
    ctx.shown = dict(ctx.shown)  # a copy this test can change
    for k, v in ctx.shown.items():
        if k[0] == "CPP_OPEN" and k[1] == "month" and k[3] in ("plan_length", "all") and v["marker"] in ("c", "x"):
            ctx.shown[k] = {**v, "marker": ""}
    drawn = figures.monthly_stacked(ctx, "CPP_OPEN", "plan_length", labels=None, title=title, label="t-len")
    assert "fig-alt=" in drawn, "the demo's chart is drawn when every monthly total is published"
    # the demo withholds allegations by sector by month and quarter (too sparse to publish); publish the
    # sectors' figures above 5 here so that the chart is drawn, then withhold its totals
    for k, v in ctx.shown.items():  # (and the monthly totals above 5, which a small count may cost)
        if k[0] == "LADO_REFERRALS" and k[3] in ("sector", "all") and v["marker"] in ("c", "x"):
            row = ctx.row("LADO_REFERRALS", k[1], period_end=k[2], breakdown=k[3], breakdown_value=k[4])
            if row is not None and not 1 <= row["value"] <= 5:
                ctx.shown[k] = {**v, "marker": ""}
    sector = figures.sector_over_time(ctx, "LADO_REFERRALS", "sector", labels=LADO_SECTOR, noun="allegations",
                                      y_label="Allegations referred", label="t-sector")
    assert "fig-alt=" in sector

    def withhold(code: str, period_type: str, when: pd.Timestamp) -> None:
        key = next(k for k in ctx.shown if k[:2] == (code, period_type) and k[3:] == ("all", "all")
                   and k[2] == when)
        ctx.shown[key] = {**ctx.shown[key], "marker": "c"}

    gone = ctx.year_end - pd.offsets.MonthEnd(3)
    withhold("CPP_OPEN", "month", gone)
    fewer = figures.monthly_stacked(ctx, "CPP_OPEN", "plan_length", labels=None, title=title, label="t-len2")
    label = gone.strftime("%b %Y")
    assert "fig-alt=" in fewer
    fewer = unescape_markdown(fewer)  # the caption is escaped Markdown: read the text it shows
    left_out = fewer.split("Months whose total is withheld to protect privacy are left out (", 1)[1].split(")")[0]
    assert label in left_out.split(", "), left_out
    for when in pd.date_range(ctx.year_start, ctx.year_end, freq="ME"):
        withhold("CPP_OPEN", "month", when)
    hidden = figures.monthly_stacked(ctx, "CPP_OPEN", "plan_length", labels=None, title=title, label="t-len3")
    assert "fig-alt=" not in hidden and "monthly totals are withheld" in hidden
    withhold("LADO_REFERRALS", "month", ctx.year_end - pd.offsets.MonthEnd(1))
    withhold("LADO_REFERRALS", "quarter", ctx.year_end)
    sector = figures.sector_over_time(ctx, "LADO_REFERRALS", "sector", labels=LADO_SECTOR, noun="allegations",
                                      y_label="Allegations referred", label="t-sector2")
    assert "fig-alt=" not in sector and "not charted" in sector


#: relations the independent attacker knows that the suppression does not model yet (issue 14, open)
UNMODELLED = ("breakdown refines breakdown or headline", "headline a = b + c", "nested thresholds a <= b",
              "row inequalities", "published ratio")


def _demo_attack(built):
    import pandas as pd
    from attacker import reader_cells

    pub = pd.read_parquet(built["processed"] / "indicators_public.parquet")
    truth = pd.read_parquet(built["processed"] / "indicators.parquet")
    keep = ~truth["period_type"].eq("rolling12").to_numpy()
    return pub, reader_cells(pub[keep].reset_index(drop=True), truth[keep].reset_index(drop=True))


def test_no_hidden_or_withheld_small_figure_can_be_worked_out(built):
    """The independent attacker (tests/attacker.py) on the demo's whole public table.

    It reads the published strings (and the notes and statuses), writes down every relation of the basic
    families (breakdowns to headline, months to quarters and years, a stock under several period types, a
    count's value and numerator, stock and flow), treats every ``c`` (at least 1) and every withheld ``x``
    (at least 0) as unknown, and asks linear programmes how far each could move. No ``c``, and no withheld
    figure from 1 to 5, may be pinned to a range narrower than 1; and with the same counts under two
    indicators or breakdowns added, no count is shown as a number in one place and as ``c`` in another.
    Rolling 12-month figures are left out of the attack: each is a sum of months in no other relation.

    The cost-driven choice of partners must also leave the year's key figures (children on a plan at
    31 March, and the rate per 10,000) published.
    """
    import pandas as pd
    from attacker import inconsistent, reader_system, recoverable

    pub, cells = _demo_attack(built)
    assert cells["shown"].eq("c").sum() > 1000 and cells["shown"].eq("x").sum() > 1000, "fixture too easy"
    eqs, ineqs = reader_system(cells, skip=(*UNMODELLED, "same count, two series"))
    found = recoverable(cells, eqs, ineqs)
    where = ["indicator_id", "measure", "period_type", "period_end", "breakdown", "breakdown_value", "shown", "true"]
    described = [[*cells.loc[i, where].tolist(), lo, hi] for i, lo, hi in found[:5]]
    assert not found, f"{len(found)} unpublished figures can be worked out, e.g. {described}"
    eqs, _ = reader_system(cells, skip=UNMODELLED)
    two_strings = [(a, b) for a, b in inconsistent(cells, eqs) if "c" in (cells.loc[a, "shown"], cells.loc[b, "shown"])]
    assert not two_strings, [cells.loc[list(p), where].values.tolist() for p in two_strings[:3]]
    key = pub[pub["period_type"].eq("year") & pub["breakdown"].eq("all")
              & pd.to_datetime(pub["period_end"]).eq(pd.Timestamp("2025-03-31"))].set_index("indicator_id")
    assert key.loc["CPP_OPEN", "marker"] == "" and key.loc["CPP_RATE", "marker"] == "", key.loc[["CPP_OPEN",
                                                                                                  "CPP_RATE"]]


def test_the_full_attacker_finds_every_c_protected(built):
    """With every relation family the attacker knows (refinements of one breakdown by another, headline
    sums a = b + c, nested thresholds, numerator <= denominator, counts in notes, copies), no ``c`` can be
    worked out and every small ``c`` keeps its protection interval (some consistent value above 5).

    Before the catalogue's relation model (``relations:``) reached the suppression, the attacker pinned
    255 ``c`` exactly and narrowed 215 small ``c`` to 1-5 in the demo (issue 14's findings: plans open 2
    years or more from the other length bands and the total, allegations concluded in 1 to 3 months from
    the within-1 and within-3-months numerators, plan-length bands from the other band system).
    """
    from attacker import reader_system, recoverable, unprotected

    _, cells = _demo_attack(built)
    eqs, ineqs = reader_system(cells)
    where = ["indicator_id", "measure", "period_type", "period_end", "breakdown", "breakdown_value", "true"]
    shown_c = cells["shown"].eq("c").to_numpy()
    pinned = [(i, lo, hi) for i, lo, hi in recoverable(cells, eqs, ineqs) if shown_c[i]]
    assert not pinned, [[*cells.loc[i, where].tolist(), lo, hi] for i, lo, hi in pinned[:5]]
    narrow = [(i, lo, hi) for i, lo, hi in unprotected(cells, eqs, ineqs) if shown_c[i]]
    assert not narrow, [[*cells.loc[i, where].tolist(), lo, hi] for i, lo, hi in narrow[:5]]


def test_nothing_can_be_worked_out_through_copies_of_withheld_series(built):
    """With the same counts under two indicators or breakdowns, nothing can be worked out either.

    Before detail withheld took its company with it (``disclosure/closure.py``), plans open 2 years or
    more by month, withheld, was the total less the other length bands, published (about 90 cells).
    """
    from attacker import reader_system, recoverable

    _, cells = _demo_attack(built)
    eqs, ineqs = reader_system(cells, skip=UNMODELLED)
    assert not recoverable(cells, eqs, ineqs)


def test_the_full_attacker_works_out_nothing(built):
    """With every relation family the attacker knows (``UNMODELLED`` too), nothing can be worked out, and every
    small hidden count keeps its protection interval (some consistent value is 0 or above 5).

    Until the catalogue declared allegations concluded after 12 months a count of its own (``unpublished:``),
    the withheld band "Over 12 months" was the published concluded less concluded within 12 months (1 in
    2019-20, 2022-23 and 2023-24), and the quarters' "3 to 12 months" were narrowed to 1-5 through it.
    """
    from attacker import reader_system, recoverable, unprotected

    _, cells = _demo_attack(built)
    eqs, ineqs = reader_system(cells)
    assert not recoverable(cells, eqs, ineqs)
    assert not unprotected(cells, eqs, ineqs)


def test_what_the_review_says_of_its_annual_figures_reveals_no_withheld_count(built):
    """Found by a reader of the demo: the appendix says every annual figure of the reporting year and the year
    before is published "unless it rests on a count from 1 to 5", the exceptions listed. Plans ended after 2
    years or more in 2024-25 is withheld and not listed, so it is at most 5; its months are ``c`` in five months
    and 0 in the other seven, and a ``c`` is at least 1: it is exactly 5, one a month. With what the rule says
    (``attacker.stated_rule``), no hidden count may be pinned.

    (Protection intervals are asked without the rule, in ``test_the_full_attacker_works_out_nothing``: a count
    the rule says is small makes its copies and its parts small too, which is what the rule says, not a leak.)"""
    import json

    from attacker import reader_system, recoverable, stated_rule

    record = json.loads((built["public"].log_dir / "run.json").read_text(encoding="utf-8"))
    listed = {(e["indicator_id"], pd.Timestamp(e["period_end"]))
              for e in record["disclosure"]["publication"]["exceptions"]}
    _, cells = _demo_attack(built)
    cells = stated_rule(cells, [pd.Timestamp("2025-03-31"), pd.Timestamp("2024-03-31")], listed)
    assert cells["stated_small"].sum() > 0, "the demo withholds some annual figures (the finding's premise)"
    eqs, ineqs = reader_system(cells)
    where = ["indicator_id", "measure", "period_type", "period_end", "breakdown", "breakdown_value", "true"]
    pinned = recoverable(cells, eqs, ineqs)
    assert not pinned, [[*cells.loc[i, where].tolist(), lo, hi] for i, lo, hi in pinned[:6]]


def test_run_log_says_what_was_published_and_withheld(built):
    """The issue: the build prints, and run.json keeps, cells published and withheld by level, and why."""
    import json

    record = json.loads((built["public"].log_dir / "run.json").read_text(encoding="utf-8"))
    summary = record["disclosure"]["publication"]
    protected = pd.read_parquet(built["processed"] / "indicators_public.parquet")
    assert sum(r["published"] + r["withheld"] + r["not_published"] for r in summary["by_level"]) == len(protected)
    withheld_c = int((protected["marker"].astype(str) == "c").sum())
    assert sum(r["withheld"] for r in summary["by_level"]) == withheld_c
    annual = protected[(protected.period_type == "year") & (protected.breakdown == "all")
                       & (protected.marker.astype(str) == "c")
                       & (pd.to_datetime(protected.period_end) >= pd.Timestamp("2024-03-31"))]
    assert sorted(h["indicator_id"] for h in summary["headline_withheld"]) == sorted(annual.indicator_id)


def test_the_annual_headline_figures_are_published(built):
    """The issue's first finding: NI 65 (37 of 142 plans) and private fostering's annual figures were ``c``.

    Every annual headline figure of the reporting year and the year before whose counts are above 5 is
    published, in the protected table and the CSV; each one withheld rests on a count from 1 to 5, or is
    an exception listed with its reason. What was withheld instead is detail, listed by level.
    """
    import json

    truth = pd.read_parquet(built["processed"] / "indicators.parquet")
    shown = pd.read_parquet(built["processed"] / "indicators_public.parquet")
    ends = pd.to_datetime(truth["period_end"]).isin([pd.Timestamp("2025-03-31"), pd.Timestamp("2024-03-31")])
    annual = (truth["period_type"].eq("year") & truth["breakdown"].eq("all") & ends).to_numpy()
    counts = truth[["numerator", "value"]].apply(pd.to_numeric, errors="coerce")
    big = counts["numerator"].fillna(counts["value"]).gt(5).to_numpy()
    den = pd.to_numeric(truth["denominator"], errors="coerce")
    big = big & ~den.between(1, 5).to_numpy()
    record = json.loads((built["public"].log_dir / "run.json").read_text(encoding="utf-8"))
    summary = record["disclosure"]["publication"]
    excepted = {(e["indicator_id"], e["period_end"]) for e in summary["exceptions"]}
    listed = [(e["indicator_id"], e["period_end"], e["measure"]) for e in summary["exceptions"]]
    assert len(listed) == len(set(listed)), f"each exception once: {listed}"
    # the annual table alone forces them: plans open are the five length bands, one of which is small; and
    # allegations concluded less those within 12 months is a count of its own (1 in 2023-24)
    assert excepted and {i for i, _ in excepted} <= {"CPP_OPEN_UNDER_3M", "CPP_OPEN_3_6M", "CPP_OPEN_6M_1Y",
                                                     "CPP_OPEN_1_2Y", "LADO_CONCLUDED_12M"}, excepted
    missing = [(r.indicator_id, str(pd.Timestamp(r.period_end).date())) for r, m in
               zip(truth[annual & big].itertuples(), shown.loc[annual & big, "marker"].astype(str), strict=True)
               if m in ("c", "x")]
    assert [m for m in missing if m not in excepted] == []
    ni65 = shown[annual & truth["indicator_id"].eq("CPP_SUBSEQUENT").to_numpy()
                 & pd.to_datetime(truth["period_end"]).eq(pd.Timestamp("2025-03-31")).to_numpy()]
    assert ni65[["numerator", "denominator"]].astype(str).values.tolist() == [["37", "142"]]
    assert summary["detail_withheld"] and {d["level"] for d in summary["detail_withheld"]} <= {
        "month breakdown", "month headline", "quarter breakdown", "quarter headline", "year breakdown"}
    reasons = {h["reason"] for h in summary["headline_withheld"]}
    assert all(r.startswith("rests on a count of 1 to 5") or "alone" in r for r in reasons), reasons


# --------------------------------------------------------------------------- layout (issue 16, item 6)


def test_page_layout_at_phone_and_laptop_widths(built, tmp_path):
    """390 px and 1280 px: the page never scrolls sideways, tables scroll in their own box, no figure in a table
    is broken across lines, chart labels at least 8 px high."""
    from safeguarding.publish.checks import ToolMissingError, check_layout_in_browser

    try:
        problems = check_layout_in_browser(built["public"].html, screenshots=tmp_path)
    except ToolMissingError as exc:
        skip_or_fail(str(exc))
    assert problems == []


def test_pdf_page_total_words_and_columns(built):
    """The footer's total is the number of pages in the file; no two words are printed over each other; every
    indicator code in the definitions stands on its own (it does not run into the next column)."""
    from safeguarding.publish.checks import ToolMissingError, pdf_overlapping_words, pdf_page_texts

    try:
        pages = pdf_page_texts(built["public"].pdf)
        overlaps = pdf_overlapping_words(built["public"].pdf)
    except ToolMissingError as exc:
        skip_or_fail(str(exc))
    totals = {int(m) for page in pages for m in re.findall(r"Page \d+ of (\d+)", page)}
    assert totals == {len(pages)}
    numbers = [re.findall(r"Page (\d+) of", page) for page in pages[1:]]
    assert [int(n[0]) for n in numbers if n] == list(range(2, len(pages) + 1))
    assert overlaps == []
    codes = [w for w in " ".join(pages).split() if re.match(r"[A-Z][A-Z0-9]*_", w)]
    assert len(codes) > 20, "the definitions table lists the indicator codes"
    # a code run into the next column reads as one word with it: REFERRALS_CHILDRENChildren
    assert [w for w in codes if re.fullmatch(r"[A-Z0-9_]+[A-Z][a-z]+\W*", w)] == []


def test_cover_carries_status_and_version_not_the_build_date(built):
    """The demo is a draft (report.yml): the cover says so, every page is watermarked, no build date."""
    import datetime as dt

    from pypdf import PdfReader

    from safeguarding.publish.quarto_config import format_date_en_gb

    pages = [page.extract_text() or "" for page in PdfReader(str(built["public"].pdf)).pages]
    assert "Draft, version 0.1" in pages[0]
    assert format_date_en_gb(dt.date.today()) not in pages[0]
    html = built["public"].html.read_text(encoding="utf-8")
    assert '<p class="status draft" role="note">Draft, version 0.1</p>' in html
    # the watermark's letters are in every page's text layer (before: on none)
    assert all("DRAFT" in "".join(p.split()) for p in pages)


@pytest.mark.parametrize("audience", ["public", "board"])
def test_data_files_an_analyst_can_use(built, audience):
    """The demo's workbook stores every numeric-looking figure as a number and every marker as text, equal to
    the CSV's; every marker and status present in the CSV is explained in the workbook's notes sheet and in
    README.txt (listed among the data files), as are the CSV's and findings.csv's columns; and the 2018-19
    plans ended (0, from an extract of plans that starts on 1 April 2019) are 'partial', not 'ok'.
    Before, ~2,700 numbers were text, the CSV had no explanation of its 4,776 'x' rows beside it, and the
    2018-19 rows were 'ok'."""
    import openpyxl

    from safeguarding.report.findings import COLUMNS as FINDINGS_COLUMNS

    data = built[audience].output_dir / "data"
    assert [p.name for p in built[audience].data_files][-1] == "README.txt"
    csv = pd.read_csv(data / "indicators.csv", dtype=str, keep_default_na=False)
    wb = openpyxl.load_workbook(data / "indicators.xlsx", read_only=True)
    rows = wb["Indicators"].iter_rows(values_only=True)
    assert list(next(rows)) == list(csv.columns)
    numeric = {"numerator", "denominator", "value", "target"}
    texts = 0
    for got, want in zip(rows, csv.itertuples(index=False), strict=True):
        got = (*got, *[None] * (len(csv.columns) - len(got)))  # a read-only row ends at its last value
        for name, cell, text in zip(csv.columns, got, want, strict=True):
            if name in numeric and re.fullmatch(r"\d+(\.\d+)?", text):
                assert isinstance(cell, (int, float)) and cell == float(text), (name, text, cell)
            elif text:
                assert isinstance(cell, str) and cell == text, (name, text, cell)
                texts += name in numeric
    assert texts > 100  # the markers
    notes = "\n".join(" ".join(str(v) for v in row if v is not None) for row in wb["notes"].iter_rows(values_only=True))
    readme = (data / "README.txt").read_text(encoding="utf-8")
    markers = set(csv["marker"]) - {""}
    markers |= {v for c in ("numerator", "denominator", "value") for v in csv[c] if v in {"c", "x", "z", ":"}}
    markers |= {"0"} if (csv["value"] == "0").any() else set()
    assert {"x", "c", "z", ":", "0"} <= markers or audience == "board"
    for text in (notes, readme):
        for marker in markers:
            assert re.search(rf"^\s*{re.escape(marker)}\s+\S", text, flags=re.M), (marker, text[:400])
        for status in set(csv["status"]):
            assert re.search(rf"^\s*{re.escape(status)}\s+\S", text, flags=re.M), status
        for column in csv.columns:
            assert re.search(rf"^\s*{re.escape(column)}\s+\S", text, flags=re.M), column
    assert "so that the year's figures can be published" in readme or audience == "board"
    for column in FINDINGS_COLUMNS:
        assert re.search(rf"^\s*{re.escape(column)}\s+\S", readme, flags=re.M), column
    ended = csv[csv["indicator_id"].eq("CPP_ENDED") & csv["period_type"].eq("year") & csv["breakdown"].eq("all")
                & csv["period_start"].eq("2018-04-01")].iloc[0]
    assert ended["status"] == "partial" and "the extract starts on 2019-04-01" in ended["note"], dict(ended)
    assert not (csv["status"].eq("ok") & csv["note"].str.contains("partial")).any()


def prose_sentences(html: str) -> list[str]:
    """The sentences of the HTML body's prose: paragraphs, list items and figure captions (tables, navigation,
    scripts and charts left out: a table repeats its labels by design)."""
    from html.parser import HTMLParser

    class Prose(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.skip, self.depth, self.buf, self.paragraphs = 0, 0, [], []

        def handle_starttag(self, tag, attrs):
            if tag in ("script", "style", "table", "nav", "svg", "head"):
                self.skip += 1
            elif tag in ("p", "li", "figcaption", "blockquote") and not self.skip:
                self.depth += 1

        def handle_endtag(self, tag):
            if tag in ("script", "style", "table", "nav", "svg", "head"):
                self.skip -= 1
            elif tag in ("p", "li", "figcaption", "blockquote") and self.depth and not self.skip:
                self.depth -= 1
                if not self.depth:
                    self.paragraphs.append("".join(self.buf))
                    self.buf = []

        def handle_data(self, data):
            if self.depth and not self.skip:
                self.buf.append(data)

    parser = Prose()
    parser.feed(html)
    out = []
    for para in parser.paragraphs:
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", re.sub(r"\s+", " ", para).strip()):
            if len(sentence.split()) >= 4:
                out.append(sentence)
    return out


def repeated_sentences(html: str, most: int = 2) -> dict[str, int]:
    """Sentences of the prose printed more than ``most`` times; a chart's source line ("Source: ...") is left
    out: it stays under every chart so that a chart copied on its own still names its source."""
    from collections import Counter

    counts = Counter(s for s in prose_sentences(html) if not s.startswith("Source:"))
    return {s: n for s, n in counts.items() if n > most}


def test_repeated_sentence_check_catches_boilerplate():
    """The style check itself: the issue's boilerplate, printed four times, is caught; twice is allowed."""
    boiler = ("The figure for 2024-25 is withheld to protect privacy; the yearly figure above is "
              "reliable.")
    html = "<html><body>" + "".join(f"<p>Chart {i} shows plans. {boiler}</p>" for i in range(4)) + "</body></html>"
    assert repeated_sentences(html) == {boiler: 4}
    assert repeated_sentences(html.replace(f" {boiler}", "", 2)) == {}
    assert repeated_sentences("<table><tr><td>Same label here now</td></tr></table>" * 5) == {}


def test_public_report_prose_repeats_no_sentence_more_than_twice(built):
    """Plain, varied wording (issue 16, item 7): no sentence of the public report's prose more than twice."""
    html = built["public"].html.read_text(encoding="utf-8")
    assert len(prose_sentences(html)) > 50
    assert repeated_sentences(html) == {}


@pytest.mark.parametrize("audience", ["public", "board"])
def test_abbreviations_are_capitalised_and_spelled_out_at_first_use(built, audience):
    """'icpc' never appears in lower case (before, the definitions table named the source table 'icpc'), and
    the first ICPC of the body text is the spelled-out 'initial child protection conferences (ICPCs)' (before,
    it was first spelled out in the definitions, after a dozen uses); the same for LADO, which the contents
    listed ('Allegations referred to the LADO') before the text spelled it out."""
    from html import unescape

    html = built[audience].html.read_text(encoding="utf-8")
    body = re.sub(r"<(script|style|head)\b.*?</\1>", " ", html, flags=re.S | re.I)
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body)))
    assert not re.findall(r"\bicpcs?\b", text), re.findall(r".{60}\bicpcs?\b.{20}", text)[:3]
    first = text.find("ICPC")
    before = text[max(first - 50, 0):first + 5].lower()
    assert first > 0 and before.endswith("initial child protection conferences (icpcs"), text[max(first - 80, 0):][:120]
    # the page's text starts with the contents: LADO was in a heading listed there before it was spelled out
    first = text.find("LADO")
    before = text[max(first - 50, 0):first + 4].lower()
    assert first > 0 and before.endswith("designated officer (lado"), text[max(first - 80, 0):][:120]


def _chapter_title(chapter: str) -> str:
    """The title of a chapter's notebook (``notebooks/NN-<chapter with hyphens>.ipynb``, its first heading)."""
    import json

    [nb] = (Path(__file__).resolve().parents[1] / "notebooks").glob(f"[0-9][0-9]-{chapter.replace('_', '-')}.ipynb")
    cell = next(c for c in json.loads(nb.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "markdown")
    return "".join(cell["source"]).strip().lstrip("#").strip()


@pytest.mark.parametrize("audience", ["public", "board"])
def test_partners_measures_are_reported_in_the_chapter_their_catalogue_entry_names(built, audience):
    """Issue 16, item 3: each aggregate measure of the catalogue has its chart (a figure with alt text) and its
    verdict sentences in the chapter its ``chapter:`` names, and nowhere else."""
    import html as html_module
    from itertools import pairwise

    from safeguarding.config import load_config
    from safeguarding.indicators.catalogue import load_catalogue

    page = re.sub(r'src="data:[^"]+"', "", built[audience].html.read_text(encoding="utf-8"))
    starts = [m.start() for m in re.finditer(r'<section id="[^"]*" class="level1', page)] + [len(page)]
    chapters = {}  # title -> the chapter's HTML
    for a, b in pairwise(starts):
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", page[a:b], flags=re.S)
        title = re.sub(r"^\s*\d+\s+", "", re.sub(r"<[^>]+>", "", html_module.unescape(h1.group(1)))) if h1 else ""
        chapters[title.strip().replace("\u2019", "'")] = page[a:b]
    rows = pd.read_csv(built[audience].output_dir / "data" / "findings.csv", dtype=str, keep_default_na=False)

    def words(fragment: str) -> str:
        return re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", fragment)))

    cat = load_catalogue(load_config(built["config"]))
    partners = [code for code in cat.codes if cat[code].is_aggregate]
    assert {"POLICE_DA_NOTIFICATIONS", "POLICE_CP_REFERRALS", "POLICE_MISSING_EPISODES"} <= set(partners)
    for code in partners:
        title = _chapter_title(cat[code].chapter)
        assert title in chapters, (code, title, list(chapters))
        own = chapters[title]
        figure = f'id="fig-partner-{code.lower().replace("_", "-")}"'
        assert own.count(figure) == 1, (code, title)
        assert all(figure not in other for t, other in chapters.items() if t != title), code
        img = re.search(figure + r'[^>]*>\s*<img[^>]*aria-label="([^"]+)"', own)
        assert img and cat[code].name in html_module.unescape(img.group(1)), code  # the chart's alt text
        found = rows[rows["indicator"] == code]
        assert set(found["comparison"]) >= {"year on year", "within year"}, code  # the demo has two years
        text = words(own)
        for sentence in found["sentence"]:
            assert sentence in text, (code, sentence)
        yoy = found[found["comparison"] == "year on year"].iloc[0]
        # the exact test, or quasi-Poisson where the two years' months vary more than chance (the demo's police
        # notifications do): then the sentence says it allows for that variation
        assert yoy["method"] in ("exact conditional Poisson test", "quasi-Poisson test"), yoy["method"]
        if yoy["method"] == "quasi-Poisson test":
            assert "allowing for month-to-month variation" in yoy["sentence"], yoy["sentence"]
        assert yoy["baseline_period"] == "2023-24"
    methods = set(rows.loc[rows["indicator"].isin(partners) & (rows["comparison"] == "year on year"), "method"])
    assert "quasi-Poisson test" in methods, methods  # the police notifications' months vary about twice Poisson


def test_about_this_review_defines_the_terms_of_art_the_review_uses(built):
    """A board member's reading of the demo: 'section 47', 'NI 64/65/67' and 'statistical neighbours' are used
    (section 47 fourteen times) and never said what they are; ICPC and LADO were. Each term the review uses is
    defined before the first chapter."""
    page = built["public"].html.read_text(encoding="utf-8")
    main = page[page.index("<main"):]
    cut = main.index("<h1", main.index("</h1>"))
    about = " ".join(re.sub(r"<[^>]+>", " ", main[:cut]).split())
    rest = " ".join(re.sub(r"<[^>]+>", " ", main[cut:]).split())
    terms = {"section 47": r"section 47 enquiry is", "NI 64": r"NI 64", "NI 65": r"NI 65", "NI 67": r"NI 67",
             "statistical neighbours": r"Statistical neighbours are", "ICPC": r"\(ICPCs\) are",
             "LADO": r"\(LADO\) manages"}
    used = [t for t in terms if t in rest]
    assert {"section 47", "NI 65", "statistical neighbours"} <= set(used), used
    missing = [t for t in used if not re.search(terms[t], about)]
    assert missing == [], missing


def test_the_public_review_dates_case_reviews_by_their_month(built):
    """A board member's reading of the demo: 'Rapid review following a serious incident ... 18 November 2024 ...
    a young person missing from school' in the public review; a day beside what happened helps to identify the
    child (the other audits were dated by month). The public review gives the month; the board pack the day."""
    caption = "Case reviews and multi-agency audits"
    dates = {}
    for audience in ("public", "board"):
        [table] = [t for t in _html_tables(built[audience].html) if caption in t["caption"]]
        col = table["header"].index("Date")
        dates[audience] = [row[col] for row in table["rows"]]
    assert "18 November 2024" in dates["board"]
    assert all(re.fullmatch(r"[A-Z][a-z]+ \d{4}", d) for d in dates["public"]), dates["public"]
    assert "November 2024" in dates["public"]


def test_a_figures_note_is_said_where_the_figure_is_shown_and_as_the_data_files_say_it(built):
    """A board member's reading of the demo: Figure 2.7 plots 83.7% of ICPCs on time in 2019-20, a year from which
    ICPCs with no section 47 enquiry are left out; the data files said so, the review nowhere. The chart's caption
    now says it, for the public in the data files' words (no count: "some ICPCs"), for the board with the count;
    a yearly table is followed by the notes of the figures it shows."""
    def note(audience: str, code: str, end: str) -> str:
        csv = pd.read_csv(built[audience].output_dir / "data" / "indicators.csv", dtype=str, keep_default_na=False)
        row = csv[(csv["indicator_id"] == code) & (csv["period_type"] == "year") & (csv["period_end"] == end)
                  & (csv["breakdown"] == "all")]
        return row["note"].iloc[0]

    public, board = html_text(built["public"].html), html_text(built["board"].html)
    icpc = note("public", "ICPC_15WD", "2020-03-31")
    assert icpc.startswith("some ICPCs with no section 47 enquiry"), icpc
    assert re.search(r"Figure 2\.\d+: ICPCs within 15 working days[^.]*by financial year[^F]*Note: 2019-20: "
                     + re.escape(icpc) + r"\.", public), "the chart's caption says the note as the data file does"
    counted = note("board", "ICPC_15WD", "2020-03-31")
    assert re.match(r"\d+ ICPCs with no section 47 enquiry", counted) and f"2019-20: {counted}." in board
    visits = note("board", "PF_VISIT_7WD", "2025-03-31")
    assert visits and f"Note: Initial visit within 7 working days, 2024-25: {visits}." in board
    assert counted not in public, "the public review never says the note with its count"


def test_a_note_about_one_case_reads_in_the_singular_for_the_board_and_says_no_count_to_the_public(built):
    """A board member's reading of the demo's board pack: "Initial visit within 7 working days, 2024-25: 1 new
    arrangements have no initial visit recorded", and more notes of its data with "1" and the words for many.
    A count of 1 now reads in the singular in the board's data and pack; the public reads "some" and the words
    for many, so the grammar does not say the count was 1 (checked against every note the methods write)."""
    from safeguarding.indicators.notes import COUNT_NOTES

    def phrase(words: str) -> str:  # a note's words, its date any date
        return r"\s+".join(re.escape(w) for w in words.split()).replace(re.escape("{start}"), r"\d{2}/\d{2}/\d{4}")

    def notes(audience: str) -> pd.Series:
        csv = pd.read_csv(built[audience].output_dir / "data" / "indicators.csv", dtype=str, keep_default_na=False)
        return csv["note"]

    board_notes, public_notes = notes("board"), notes("public")
    board, public = html_text(built["board"].html), html_text(built["public"].html)
    ones = 0
    for note in COUNT_NOTES:
        one, many = phrase(note.one), phrase(note.many)
        assert not board_notes.str.contains(r"(?<![\d,.])1 " + many).any(), note.many
        assert not re.search(r"(?<![\d,.])1 " + many, board), note.many
        ones += int(board_notes.str.contains(r"(?<![\d,.])1 " + one).sum())
        assert not public_notes.str.contains(one).any() and not re.search(one, public), note.one
    assert ones, "the demo's board data hold notes about one case (the finding's premise)"
    visits = pd.read_csv(built["board"].output_dir / "data" / "indicators.csv", dtype=str, keep_default_na=False)
    visits = visits[(visits["indicator_id"] == "PF_VISIT_7WD") & (visits["period_type"] == "year")
                    & (visits["period_end"] == "2025-03-31") & (visits["breakdown"] == "all")]["note"].iloc[0]
    assert visits == "1 new arrangement has no initial visit recorded (counted as not on time)", visits
    assert f"2024-25: {visits}." in board


def test_the_appendix_says_which_counts_the_quasi_poisson_test_is_used_for(built):
    """Found comparing the demo's two documents: plans started, initial conferences, allegations and private
    fostering notifications are compared by the exact test in the public review and by the quasi-Poisson test in
    the board pack (a month is withheld from the public, and the month-to-month variation is not worked out from
    withheld months), while the public appendix said the quasi-Poisson test is used "where the months of a count
    vary more than chance". Each appendix now says when its review uses it."""
    methods = {}
    for audience in ("public", "board"):
        rows = pd.read_csv(built[audience].output_dir / "data" / "findings.csv", dtype=str, keep_default_na=False)
        methods[audience] = dict(zip(rows.loc[rows["comparison"] == "year on year", "indicator"],
                                     rows.loc[rows["comparison"] == "year on year", "method"], strict=True))
    differ = [c for c, m in methods["public"].items()
              if m == "exact conditional Poisson test" and methods["board"].get(c) == "quasi-Poisson test"]
    assert differ, "the demo must hold a count compared differently (the finding's premise)"
    public, board = html_text(built["public"].html), html_text(built["board"].html)
    assert "the test is used only for a count whose 24 monthly figures are all published; a count with a month " \
           "withheld is compared with the exact test" in public
    assert "The public review uses it only where every monthly figure of the two years is published" in board
    assert "withheld is compared with the exact test" not in board


def test_the_appendix_states_the_two_of_three_rule_as_the_charts_apply_it(built):
    """A reader of the demo: referrals in October and November 2024 (162, 160) are both beyond two thirds of the
    way to the upper limit, yet Figure 3.1 says no month stands out, while the appendix called "two of three
    points close to a dashed line" unusual. The charts follow NHSRplotthedots (all three points on that side of
    the average; September 2024 was below it); the appendix now says so."""
    csv = pd.read_csv(built["public"].output_dir / "data" / "indicators.csv", dtype=str, keep_default_na=False)
    months = csv[(csv["indicator_id"] == "REFERRALS") & (csv["period_type"] == "month") & (csv["breakdown"] == "all")
                 & (csv["period_end"] > "2022-03-31") & (csv["period_end"] <= "2025-03-31")]
    y = months["value"].astype(float).to_numpy()
    assert len(y) == 36
    centre = y.mean()
    reach = 2.66 * abs(pd.Series(y).diff()).mean()
    close = (y > centre + reach * 2 / 3) | (y < centre - reach * 2 / 3)
    side = (y > centre).astype(int) - (y < centre).astype(int)
    windows = [i for i in range(34) if close[i:i + 3].sum() >= 2]
    assert windows, "the demo holds two of three close points (the finding's premise)"
    assert all(abs(side[i:i + 3].sum()) < 3 for i in windows), "then the chart would flag them"
    page = html_text(built["public"].html)
    assert "two of three points in a row close to the same dashed line with all three on that side of the " \
           "average" in page


def test_about_this_review_says_what_x_is_in_a_whole_sentence(built):
    """A reader of the demo: "... not published in that row, so that the year's figures can be (the same count
    may be published in another row ...)": the verb was lost (session 18's rewording)."""
    page = html_text(built["public"].html).replace("\u2019", "'")
    assert "so that the year's figures can be published safely (the same count may be published" in page
    assert not re.search(r"\bcan be \(", page)


def test_the_survey_charts_title_counts_the_questions_shown_as_shown(built):
    """A reader of the demo: the public chart's title said "for 2 of 2 questions" while 3 were asked (one
    withheld); "2 of 3" would tell which way the withheld one went. It says "2 of the 2 questions shown"."""
    survey = pd.read_csv(built["public"].output_dir / "data" / "survey.csv", dtype=str, keep_default_na=False)
    page = built["public"].html.read_text(encoding="utf-8")  # the title is drawn in the chart and said in its alt
    assert len(survey) == 3 and "1 question is not shown" in page
    assert "for 2 of the 2 questions shown" in page and "for 2 of 2 questions" not in page
    assert "for 2 of 3 questions" in built["board"].html.read_text(encoding="utf-8")


@pytest.mark.parametrize("audience", ["public", "board"])
def test_the_summary_tables_put_the_years_in_one_order(built, audience):
    """A reader of the demo: the scorecard read "2024-25 | 95% CI | 2023-24" and the report cards beside it
    "2023-24 | 95% CI | 2024-25"; reading across, last year's figure is easily taken for this year's. Every
    table with both years puts the reporting year first (on a phone, the columns in view)."""
    both = [t for t in _html_tables(built[audience].html) if "2023-24" in t["header"] and "2024-25" in t["header"]]
    assert any("Scorecard" in t["caption"] for t in both) and any("Report card" in t["caption"] for t in both)
    for t in both:
        assert t["header"].index("2024-25") < t["header"].index("2023-24"), (t["caption"], t["header"])


@pytest.mark.parametrize("audience", ["public", "board"])
def test_the_definitions_name_only_columns_the_data_files_have(built, audience):
    """A reader of the demo: re-referrals' and NI 65's definitions said records of unknown history "are counted in
    the unknown column"; the published indicators.csv has no such column (the note says how many)."""
    header = (built[audience].output_dir / "data" / "indicators.csv").read_text(encoding="utf-8").splitlines()[0]
    page = html_text(built[audience].html)
    assert "unknown" not in header.split(",")
    assert "unknown column" not in page
    assert "counted as not re-referrals (the figure is then a lower bound)" in page


def test_actions_due_by_the_year_end_and_not_complete_are_said_to_be_late(built):
    """A board member's reading of the demo: 'Agree one multi-agency pathway ... 31 March 2025 | At risk' in a
    review of the year to 31 March 2025 (and a survey due in February 'off track'): the due date had passed. Each
    such action's status says it was not complete by its due date, and the paragraph counts them."""
    import datetime as dt

    import yaml

    from safeguarding.config import load_config
    from safeguarding.editorial import editorial_folder

    folder = editorial_folder(load_config(built["config"]))
    late = []
    for p in yaml.safe_load((folder / "priorities.yml").read_text(encoding="utf-8")):
        for a in p["actions"]:
            due = str(a["due"])
            end = (dt.date.fromisoformat(due) if len(due) == 10 else
                   (pd.Timestamp(due + "-01") + pd.offsets.MonthEnd(0)).date())
            if a["status"] != "complete" and end <= dt.date(2025, 3, 31):
                late.append(a["action"])
    assert len(late) == 2, late
    [table] = [t for t in _html_tables(built["public"].html) if "The board's priorities" in t["caption"]]
    action, status = table["header"].index("Action"), table["header"].index("Status")
    said = {row[action]: row[status] for row in table["rows"]}
    assert {a for a, st in said.items() if st.endswith("not complete by its due date")} == set(late), said
    page = " ".join(re.sub(r"<[^>]+>", " ", built["public"].html.read_text(encoding="utf-8")).split())
    assert "2 actions due by the year end were not complete by their due date" in page
    # and the summary's "What will we do next?" says the same of each priority (one late action in each of two)
    assert page.count("1 action due by the year end was not complete by its due date") == 2


def test_about_this_review_explains_every_symbol_in_the_tables(built):
    """Issue 16: the front matter explained `c` but not the `z` and `:` of 27 table cells (nor the data files'
    `x`). Every symbol a table of the public review shows is explained before the first chapter."""
    path = built["public"].html
    symbols = {cell for table in _html_tables(path) for row in table["rows"] for cell in row
               if cell in {"c", "x", "z", ":", "0"}}
    assert {"c", "z"} <= symbols
    page = path.read_text(encoding="utf-8")
    main = page[page.index("<main"):]
    about = re.sub(r"<[^>]+>", " ", main[:main.index("<h1", main.index("</h1>"))])  # up to chapter 1's heading
    assert "About this review" in about and "Key messages" not in about
    for symbol in sorted(symbols | {"x"}):  # x: the data files beside the page
        s = re.escape(symbol)
        assert re.search(rf"(^|\s){s}\s+(means|is|for)\b|\bshown as\s+{s}(\s|$)", about), (symbol, about[:600])


@pytest.mark.parametrize("audience", ["public", "board"])
def test_pdf_chapters_begin_with_their_heading_and_keep_their_figures(built, audience):
    """Issue 16: a chapter's first figure was printed above the chapter's heading (Figure 3.1 at the top of the
    page that starts chapter 3), and pages could be left half empty before a large figure. Each chapter's
    first page begins with its heading, each figure is printed within its chapter, and every page of a chapter
    but its last is at least 60% full. And (found looking at the demo's PDF) no table's caption ends a page
    with its table on the next: Table 7.2's caption closed page 31, the table began page 32."""
    from safeguarding.publish.checks import ToolMissingError, pdf_chapter_problems

    try:
        problems = pdf_chapter_problems(built[audience].pdf)
    except ToolMissingError as exc:
        skip_or_fail(str(exc))
    assert problems == []


@pytest.mark.parametrize("audience", ["public", "board"])
def test_the_summary_answers_the_four_questions_after_the_key_messages(built, audience):
    """Issue 16, item 4: after the key messages (the most important findings), the summary answers how much did we
    do, how well did we do it, is anyone better off (with the children's survey) and what will we do next (every
    priority of editorial/priorities.yml with its actions' progress); no findings sentence is said twice."""
    import html as html_module

    page = re.sub(r'src="data:[^"]+"', "", built[audience].html.read_text(encoding="utf-8"))
    start, end = page.index('id="key-messages"'), page.index('id="scorecard"')
    summary = re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", page[start:end])))
    questions = ["How much did we do?", "How well did we do it?", "Is anyone better off?", "What will we do next?"]
    at = [summary.find(q) for q in questions]
    assert summary.find("Key messages") < summary.find("The year in four questions") < at[0], at
    assert at == sorted(at) and -1 not in at, at
    better_off, next_steps = summary[at[2]:at[3]], summary[at[3]:]
    survey = pd.read_csv(built[audience].output_dir / "data" / "survey.csv", dtype=str, keep_default_na=False)
    said = [s for s in survey["sentence"] if "chance" in s]
    assert said and all(s in better_off for s in said)
    import yaml

    from safeguarding.config import load_config
    from safeguarding.editorial import editorial_folder

    folder = editorial_folder(load_config(built["config"]))
    priorities = yaml.safe_load((folder / "priorities.yml").read_text(encoding="utf-8"))
    for p in priorities:
        n = len(p["actions"])
        assert f"{p['priority']}: {n} action{'s' if n != 1 else ''} (" in next_steps, p["priority"]
    rows = pd.read_csv(built[audience].output_dir / "data" / "findings.csv", dtype=str, keep_default_na=False)
    # a measure's finding is said in its own priority's item: the demo's missing episodes (adolescents' safety)
    # followed the list, after "Listening to children", and read as that priority's
    items = [" ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", li)).split())
             for li in re.findall(r"<li>(.*?)</li>", page[page.index("What will we do next?"):end], flags=re.S)]
    measures = {p["priority"]: set(p.get("indicators", [])) for p in priorities}
    for code, sentence in zip(rows["indicator"], rows["sentence"], strict=True):
        if sentence in next_steps:
            owner = [i for i in items if sentence in i]
            assert len(owner) == 1 and code in measures[owner[0].split(":")[0]], (code, owner)
    assert any(s in next_steps for s in rows.loc[rows["indicator"] == "POLICE_MISSING_EPISODES", "sentence"])
    repeated = [s for s in set(rows["sentence"]) if summary.count(s) > 1]
    assert repeated == []
    # how well: the statuses counted are the scorecard's, and the measures with a target off the scorecard are
    # counted too (the demo's summary said "Of the 4 measures ... that have a target" beside 6 in the CSV)
    from safeguarding.indicators.catalogue import load_catalogue

    cat = load_catalogue(load_config(built["config"]))
    table = pd.read_csv(built[audience].output_dir / "data" / "indicators.csv", dtype=str, keep_default_na=False)
    year = table[(table["period_type"] == "year") & (table["period_end"] == "2025-03-31")
                 & (table["breakdown"] == "all") & (table["target"] != "")]
    with_target = {c for c in year["indicator_id"] if cat[c].oba == "how_well"}
    how_well = summary[at[1]:at[2]]
    on_card = re.search(r"Of the (\d+) measures? of how well the work was done on the scorecard that have a target",
                        how_well)
    off_card = re.search(r"(\d+) more measures? of how well the work was done, not on the scorecard, ha(?:s|ve) a "
                         r"target: ([^(]+) \(", how_well)
    assert on_card, how_well
    off = int(off_card.group(1)) if off_card else 0
    assert int(on_card.group(1)) + off == len(with_target), (how_well, sorted(with_target))
    if off_card:
        names = {cat[c].name.lower() for c in with_target if cat[c].status != "essential"}
        assert all(n in off_card.group(2).lower() for n in names), (off_card.group(2), names)


def test_a_stated_change_that_differs_from_the_rounded_figures_is_explained(built):
    """'fell from 87.4% ... to 76.6%, a fall of 10.9 percentage points': a board member subtracting gets 10.8. The
    change is worked out from the unrounded figures; the methods appendix must say so."""
    import html as html_module

    rows = pd.read_csv(built["public"].output_dir / "data" / "findings.csv", dtype=str, keep_default_na=False)
    points = rows[rows["estimate_unit"] == "percentage points"]
    differ = []
    for r in points.itertuples():
        shown = [re.match(r"([\d.]+)%", v) for v in (r.baseline_value, r.value)]
        stated = re.search(r"(?:rise|fall) of ([\d.]+) percentage points", r.sentence)
        if not (stated and all(shown)):
            continue
        if abs(abs(float(shown[1].group(1)) - float(shown[0].group(1))) - float(stated.group(1))) > 0.05:
            differ.append(r.indicator)
    assert differ, "the demo has a stated change that differs from the rounded figures' difference"
    page = html_module.unescape(re.sub(r"<[^>]+>", " ", built["public"].html.read_text(encoding="utf-8")))
    methods = page[page.index("How to read the figures"):]
    assert "worked out from the unrounded figures" in re.sub(r"\s+", " ", methods)


def test_what_the_data_notes_say_of_x_is_true_of_the_demo(built):
    """An independent attack on the public CSV: plans open at the end of March 2025 aged 1-4 are x as a month and
    35 as the quarter (the same stock at the same end), and plans ended in April 2024 for physical abuse are x
    while the denominator of plans ended after 2 years or more, the same count, is 0; README.txt said of every
    withheld figure 'nothing more is said about it, not even whether it is zero'. (Showing such an x as its copy
    was tried: the attacker then pinned small counts in the withheld series' own sums, so x stays x.) The notes
    must say what x is: the row's figure is not published there, and the count may be in another row."""
    csv = pd.read_csv(built["public"].output_dir / "data" / "indicators.csv", dtype=str, keep_default_na=False)
    key = ["indicator_id", "breakdown", "breakdown_value", "period_end"]
    months = csv[(csv["period_type"] == "month") & (csv["value"] == "x") & (csv["unit"] == "count")]
    quarters = csv[(csv["period_type"] == "quarter") & ~csv["value"].isin(["x", "c", ":"])]
    both = months.merge(quarters, on=key, suffixes=("_month", "_quarter"))
    full = pd.read_parquet(built["processed"] / "indicators.parquet")
    full["period_end"] = pd.to_datetime(full["period_end"]).dt.strftime("%Y-%m-%d")
    truth = full[full["period_type"].isin(["month", "quarter"])].pivot_table(
        index=key, columns="period_type", values="value", aggfunc="first").dropna()
    stocks = truth[truth["month"] == truth["quarter"]].index
    shown_elsewhere = both.set_index(key).index.intersection(stocks)
    assert len(shown_elsewhere) > 0, "the demo has an x month whose stock is published as the quarter's figure"
    notes = (built["public"].output_dir / "data" / "README.txt").read_text(encoding="utf-8")
    x_line = re.search(r"^  x +(.+?)\n  [:0]", notes, flags=re.S | re.M).group(1)
    assert "may be published in another row" in " ".join(x_line.split())
    withheld = re.search(r"^  withheld +(.+?)\n\n", notes, flags=re.S | re.M).group(1)
    withheld = " ".join(withheld.split())
    assert "not even whether it is zero" not in withheld or "Of a c" in withheld, withheld


def test_the_demo_publishes_exactly_the_committed_fingerprint(built):
    """Issue 18: restructuring the code changes no published figure. Every published file (charts' pixels, the
    PDF and the dated records aside; see tests/fingerprint.py) must hash as committed. A change meant to change
    what is published rewrites tests/fixtures/published_fingerprint.json in the same commit."""
    import json

    from fingerprint import FINGERPRINT, differences, fingerprint

    expected = json.loads(FINGERPRINT.read_text(encoding="utf-8"))
    diff = differences(expected, fingerprint(built["processed"].parent))
    assert not diff, ("the demo's published outputs changed:\n" + "\n".join(diff)
                      + "\nif that is intended: python tests/fingerprint.py --update <build folder>")
