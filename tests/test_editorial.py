"""Editorial content (issue 16, item 1): the board's own words as files, checked once, published safely."""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pandas as pd
import pytest
import yaml
from e2e import PROJECT, demo_config_copy
from hostile import html_text, shown
from nbformat.v4 import new_code_cell, new_notebook, new_output

from safeguarding import editorial as ed_mod
from safeguarding.config import ConfigError, load_config
from safeguarding.editorial import EditorialError, load_editorial, load_editorial_folder
from safeguarding.escape import unescape_markdown
from safeguarding.report.sections import editorial as sections

DEMO = PROJECT / "editorial"
SECTIONS = (sections.priorities, sections.partner_contributions, sections.learning, sections.training,
            sections.attendance, sections.governance_and_budget)
HEADINGS = ("## The board's priorities", "## Partner contributions", "## Learning from case reviews and audits",
            "## Training", "## Board attendance", "## Governance and budget")


def ctx_for(ed: ed_mod.Editorial) -> SimpleNamespace:
    """What the section functions read from a ReportContext."""
    return SimpleNamespace(editorial=ed, config=SimpleNamespace(year_label="2024-25"),
                           year_end=pd.Timestamp("2025-03-31"), public=False)


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def problems(folder: Path) -> str:
    with pytest.raises(EditorialError) as info:
        load_editorial_folder(folder)
    return str(info.value)


# ------------------------------------------------------------------ the demo's parts load and render

def test_the_demo_has_every_part_and_loads_without_warnings():
    ed = load_editorial_folder(DEMO)
    assert ed.missing == () and ed.warnings == ()
    assert ed.has_partnership_chapter
    assert ed.partners[0].agency == "Northwold Police (fictional)"
    assert "fictional" in ed.foreword.plain.lower()


def test_every_part_renders_with_its_heading_table_and_values():
    ed = load_editorial_folder(DEMO)
    ctx = ctx_for(ed)
    fore = sections.foreword(ctx).markdown
    assert fore.startswith("## Foreword by the chair") and "Fictional Independent Chair" in fore
    # every value is escaped, and a status's symbol and word are held together by a no-break space: read as shown
    blocks = [unescape_markdown(f(ctx).markdown).replace("\u00a0", " ") for f in SECTIONS]
    for heading, md in zip(HEADINGS, blocks, strict=True):
        assert md.startswith(heading), md[:80]
    prio, partners, audits, training, attendance, budget = blocks
    assert "{#tbl-partnership-priorities}" in prio and "◐ At risk" in prio and "✓ Complete" in prio
    assert "30 September 2024" in prio and "June 2025" in prio  # a day, and a month
    assert "3 priorities for the year, with 5 actions: 1 complete, 1 on track, 1 at risk, 1 off track, " \
           "1 not started; 2 actions due by the year end were not complete by their due date" in prio
    assert "◐ At risk, not complete by its due date" in prio and "○ Off track, not complete by its due date" in prio
    assert "### Northwold Police (fictional)" in partners and "#### What we will do next {.unnumbered}" in partners
    assert partners.index("Police") < partners.index("Integrated Care Board") < partners.index("Schools")
    assert "{#tbl-partnership-audits}" in audits and "◐ In progress" in audits and "– Planned" in audits
    # a reader of the demo: "The partnership's programme held 3 case reviews and audits (1 complete, 1 in
    # progress, 1 planned)": a planned one, dated after the year end, has not been held
    assert "The partnership's programme has 3 case reviews and audits (1 complete, 1 in progress, 1 planned)" \
        in audits and "held" not in audits.split("\n\n")[1]
    assert "| Total | 35 | 125 | 2,520 |" in training and "{#tbl-partnership-training}" in training
    assert "3 of 4" in attendance and "75%" in attendance and "{#tbl-partnership-attendance}" in attendance
    assert "### How the partnership is organised {.unnumbered}" in budget
    assert "£245,000" in budget and "49%" in budget and "{#tbl-partnership-budget}" in budget
    intro = sections.chapter_intro(ctx).markdown
    assert "priorities" in intro and "budget" in intro


def test_the_priorities_api_for_the_summary():
    """``load_editorial(cfg).priorities`` and ``next_actions``: what the summary will say the board does next."""
    ed = load_editorial(load_config(PROJECT / "report.yml"))
    assert [p.title for p in ed.priorities] == ["Neglect", "Adolescents' safety outside the home",
                                                "Listening to children"]
    action = ed.priorities[0].actions[1]
    assert action.due == ed_mod.Due(dt.date(2025, 6, 30), month_only=True) and action.status == "on track"
    nxt = ed.next_actions(after=dt.date(2025, 3, 31))
    assert [a.action for _p, a in nxt] == ["Audit the use of the toolkit in early help assessments",
                                           "Map places of concern with community safety partners"]


# ------------------------------------------------------------------ absent parts

def test_an_empty_folder_leaves_every_part_out_with_a_warning_each_and_no_heading(tmp_path):
    ed = load_editorial_folder(tmp_path)
    assert ed.missing == ed_mod.PARTS and not ed.has_partnership_chapter
    for part in ed_mod.PARTS:
        assert any(ed_mod.TITLES[part] in w and "left out" in w for w in ed.warnings), part
    assert any("chapter is left out" in w for w in ed.warnings)
    ctx = ctx_for(ed)
    assert all(f(ctx).markdown == "" for f in (sections.foreword, sections.chapter_intro, *SECTIONS))


def test_one_part_present_publishes_only_that_part(tmp_path):
    write(tmp_path, {"budget.csv": "agency,contribution\nCouncil,1000\n"})
    ed = load_editorial_folder(tmp_path)
    assert ed.missing == tuple(p for p in ed_mod.PARTS if p != "budget") and ed.has_partnership_chapter
    md = unescape_markdown(sections.governance_and_budget(ctx_for(ed)).markdown)
    assert md.startswith("## Budget\n") and "Governance" not in md and "£1,000" in md
    assert sections.priorities(ctx_for(ed)).markdown == ""


def test_a_chapter_with_nothing_in_it_is_left_out_of_the_build(tmp_path):
    from safeguarding.build import chapter_notebooks, chapters_left_out

    notebooks = chapter_notebooks()
    assert "06-partnership.ipynb" in [p.name for p in notebooks]
    write(tmp_path, {"foreword.md": "Only a foreword.\n"})
    only_foreword = load_editorial_folder(tmp_path)
    assert chapters_left_out(notebooks, only_foreword) == ["06-partnership.ipynb"]
    assert chapters_left_out(notebooks, load_editorial_folder(DEMO)) == []


def test_the_publish_step_drops_a_left_out_chapter_from_the_book(tmp_path, monkeypatch):
    """The chapter is not executed, so the publisher is told the book's chapters without it."""
    import safeguarding.build as b
    import safeguarding.publish as publish

    seen = {}

    def fake_publish(chapters, staging, **kw):
        seen.update(kw["metadata_overrides"])
        return SimpleNamespace(html=staging / "a.html", pdf=staging / "a.pdf", warnings=[], renderer="builtin")

    monkeypatch.setattr(publish, "publish", fake_publish)
    cfg = load_config(PROJECT / "report.yml")
    b._stage_publish(cfg, "public", "builtin", tmp_path, tmp_path, {"warnings": [],
                                                                   "chapters_left_out": ["06-partnership.ipynb"]})
    assert "06-partnership.ipynb" not in seen["chapters"] and "07-appendix.ipynb" in seen["chapters"]
    seen.clear()
    b._stage_publish(cfg, "public", "builtin", tmp_path, tmp_path, {"warnings": [], "chapters_left_out": []})
    assert "chapters" not in seen  # nothing left out: the book's own list


def test_no_editorial_key_is_one_warning(tmp_path):
    cfg = load_config(demo_config_copy(tmp_path, editorial=None))
    ed = load_editorial(cfg)
    assert ed.folder is None and ed.missing == ed_mod.PARTS and len(ed.warnings) == 1
    assert "editorial: editorial" in ed.warnings[0]


# ------------------------------------------------------------------ the configuration key

def test_the_key_is_checked_and_a_missing_folder_stops_the_build_before_any_work(tmp_path):
    with pytest.raises(ConfigError, match=r"editorial: must be a file or folder path"):
        load_config(demo_config_copy(tmp_path, editorial=5))
    from safeguarding.build import build

    cfg = demo_config_copy(tmp_path, editorial=str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match=r"editorial folder named in report\.yml"):
        build(cfg, renderer="builtin", echo=lambda _m: None)
    assert not (tmp_path / "processed").exists() and not (tmp_path / "logs").exists()


def test_a_wrong_file_stops_the_build_with_exit_status_2_before_the_ingest(tmp_path, capsys):
    import argparse

    from safeguarding import build as b

    folder = write(tmp_path / "ed", {"priorities.yml": "- priority: X\n  actions:\n    - {action: A, owner: B, "
                                                       "due: 2025-01-01, status: dunno}\n"})
    cfg = demo_config_copy(tmp_path, editorial=str(folder))
    args = argparse.Namespace(config=str(cfg), year=None, audience=None, renderer="builtin",
                              allow_missing_inputs=False, keep_build=False, wait=0.0)
    assert b.run(args) == 2
    err = capsys.readouterr().err
    assert "ed/priorities.yml, priority 1, action 1.status" in err and "not started" in err
    assert not (tmp_path / "processed").exists()


# ------------------------------------------------------------------ bad input: the file, where, the fix

PRIORITY = """\
- priority: Neglect
  actions:
    - action: Launch the toolkit
      owner: Subgroup chair
      due: {due}
      status: {status}
"""

BAD = [
    ({"priorities.yml": PRIORITY.format(due="2025-09-30", status="dunno")},
     ["ed/priorities.yml, priority 1, action 1.status: the text 'dunno' is not a status; the statuses are "
      "complete, on track, at risk, off track, not started"]),
    ({"priorities.yml": PRIORITY.format(due="soon", status="on track")},
     ["priority 1, action 1.due: the text 'soon' is not a date; write the date as YYYY-MM-DD"]),
    ({"priorities.yml": PRIORITY.format(due="2025-13", status="complete")}, ["action 1.due: the text '2025-13'"]),
    ({"priorities.yml": "- priority: Neglect\n  actions:\n    - action: A\n      owner: B\n      due: 2025-01-01\n"
                        "      status: complete\n      onwer: C\n"},
     ["priority 1, action 1.onwer: unknown key; the keys are action, owner, due, status"]),
    ({"priorities.yml": "- priority: Neglect\n  actions:\n    - action: A\n      due: 2025-01-01\n"
                        "      status: complete\n"}, ["priority 1, action 1.owner: is missing"]),
    ({"priorities.yml": "priority: Neglect\n"}, ["ed/priorities.yml: must be a list, one entry per priority"]),
    ({"priorities.yml": "- priority: Neglect\n  actions: []\n"},
     ["priority 1.actions: must be a list of one or more actions"]),
    ({"priorities.yml": "- priority: [unclosed\n"}, ["ed/priorities.yml, line 2: not valid YAML"]),
    ({"audits.yml": "- audit: A\n  agencies: [Police]\n  date: 2025-01\n  findings: F\n  actions: X\n"
                    "  status: finished\n"},
     ["ed/audits.yml, audit 1.status: the text 'finished' is not a status; the statuses are complete, in progress, "
      "planned"]),
    ({"audits.yml": "- audit: A\n  agencies: [Police]\n  date: last spring\n  findings: F\n  actions: X\n"
                    "  status: planned\n"}, ["audit 1.date: the text 'last spring' is not a date"]),
    ({"training.csv": "agency,courses,sessions,people_trained\nPolice,4,lots,180\n"},
     ["ed/training.csv, line 2, sessions: 'lots' is not a whole number"]),
    ({"training.csv": "agency,courses,people\nPolice,4,180\n"},
     ["ed/training.csv, line 1: the header row must be agency,courses,sessions,people_trained"]),
    ({"attendance.csv": "# a comment\nagency,attended,held\nPolice,5,4\n"},
     ["ed/attendance.csv, line 3: attended 5 is more than held 4"]),
    ({"attendance.csv": "agency,attended,held\nPolice,0,0\n"}, ["line 2, held: must be 1 or more"]),
    ({"budget.csv": "agency,contribution\nPolice,forty thousand\n"},
     ["ed/budget.csv, line 2, contribution: 'forty thousand' is not an amount in pounds"]),
    ({"budget.csv": "agency,contribution\nPolice,£40,000\n"}, ["line 2: has 3 values, not 2", "double quotes"]),
    ({"partners/police.md": "Our year in brief.\n"},
     ["ed/partners/police.md: the first line must be the agency's name as a heading"]),
    ({"partners/police.md": "# Police\n\nSee below.\n\n![x](/etc/passwd)\n"},
     ["ed/partners/police.md, line 5: an image cannot be published from this file"]),
    ({"foreword.md": "Hello <!-- never closed\n"}, ["ed/foreword.md, line 1: a comment opened with <!-- is never "
                                                    "closed"]),
    ({"governance.md": b"caf\xe9".decode("latin-1")}, []),  # latin-1 text written as UTF-8 is fine
]


@pytest.mark.parametrize(("files", "expected"), BAD, ids=range(len(BAD)))
def test_each_mistake_names_the_file_where_and_the_fix(tmp_path, files, expected):
    folder = write(tmp_path / "ed", files)
    if not expected:
        load_editorial_folder(folder)
        return
    message = problems(folder)
    for text in expected:
        assert text in message, message


def test_every_problem_of_every_file_is_reported_at_once(tmp_path):
    folder = write(tmp_path / "ed", {"priorities.yml": PRIORITY.format(due="soon", status="dunno"),
                                     "budget.csv": "agency,contribution\nPolice,lots\n",
                                     "partners/police.md": "# Police\n\n![x](y.png)\n"})
    message = problems(folder)
    assert message.startswith("4 problems in the editorial files")
    for where in ("action 1.due", "action 1.status", "budget.csv, line 2", "police.md, line 3"):
        assert where in message


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    (tmp_path / "foreword.md").write_bytes(b"caf\xe9 \xff\n")
    assert "foreword.md: is not UTF-8 text" in problems(tmp_path)


def test_small_counts_of_children_are_warned(tmp_path):
    write(tmp_path, {"audits.yml": "- audit: A\n  agencies: Police\n  date: 2025-01\n  findings: Three children "
                                   "waited too long.\n  actions: None.\n  status: complete\n",
                     "foreword.md": "We met 2 young people and 40 children. Three child protection "
                                    "conferences met.\n"})
    warned = [w for w in load_editorial_folder(tmp_path).warnings if "counts of 1 to 5 children" in w]
    assert len(warned) == 2 and "'Three children'" in warned[1] and "'2 young people'" in warned[0]


# ------------------------------------------------------------------ authored Markdown is writing, never code

HOSTILE = """\
# Northwold Police <b>bold</b>

Before <script>alert(1)</script> and {{< include x >}} after.

[click](javascript:alert(2)) and [our site](https://example.org/a b(c)) and $x^2$ and @cite.

```{=html}
<img src=x onerror=alert(3)>
```

<div onclick="alert(4)">div text</div>

# A top-level heading
"""


def hostile_markdown(tmp_path: Path) -> str:
    write(tmp_path, {"partners/police.md": HOSTILE})
    ed = load_editorial_folder(tmp_path)
    assert any("line 3: HTML, raw blocks and Quarto shortcodes are published as the characters" in w
               for w in ed.warnings)
    return sections.partner_contributions(ctx_for(ed)).markdown


def test_hostile_partner_text_becomes_escaped_markdown(tmp_path):
    md = hostile_markdown(tmp_path)
    assert not re.findall(r"(?<!\\)<", md), "every < is escaped: no tag, comment or autolink can start"
    assert not re.findall(r"(?<!\\)\{(?!\.unnumbered\})", md), "no shortcode, raw block or attribute of the author's"
    assert "\\<script\\>alert\\(1\\)" in md and "\\{\\{\\< include x" in md
    assert "javascript:" not in md.replace("javascript\\:", "")  # the words stay, the link goes
    assert "[our site](https://example.org/a%20b%28c%29)" in md
    assert "#### A top\\-level heading {.unnumbered}" in md  # below the agency's level-3 heading
    assert "### Northwold Police \\<b\\>bold\\<\\/b\\>" in md


@pytest.fixture(scope="module")
def hostile_published(tmp_path_factory):
    """The hostile partner text published by the built-in publisher, as the build does."""
    from safeguarding.publish import publish

    tmp = tmp_path_factory.mktemp("editorial-hostile")
    md = hostile_markdown(tmp / "ed")
    build = tmp / "build"
    build.mkdir()
    nb = new_notebook(cells=[new_code_cell("sections.editorial.partner_contributions(ctx)")])
    nb.cells[0].outputs = [new_output("display_data", data={"text/markdown": "# Partnership\n\n" + md,
                                                             "text/plain": "<Block>"})]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, build / "06-partnership.ipynb")
    quarto = yaml.safe_load((PROJECT / "_quarto.yml").read_text(encoding="utf-8"))
    quarto["book"]["chapters"] = ["index.qmd", "06-partnership.ipynb"]
    (tmp / "_quarto.yml").write_text(yaml.safe_dump(quarto), encoding="utf-8")
    return publish(build, tmp / "out", quarto_yml=tmp / "_quarto.yml", renderer="builtin")


def test_hostile_partner_text_is_shown_as_written_in_the_web_page_and_runs_nothing(hostile_published):
    from safeguarding.publish.checks import safety_problems

    page = hostile_published.html
    text = html_text(page)
    for literal in ("<script>alert(1)</script>", "{{< include x >}}", "<img src=x onerror=alert(3)>",
                    '<div onclick="alert(4)">div text</div>', "Northwold Police <b>bold</b>"):
        assert shown(literal) in text, literal
    source = page.read_text(encoding="utf-8")
    assert safety_problems(page) == []
    assert "alert(1)</script>" not in source and "javascript:alert" not in source
    assert 'href="https://example.org/a%20b%28c%29"' in source


def test_hostile_partner_text_is_shown_as_written_in_the_pdf(hostile_published):
    from pypdf import PdfReader

    pdf = "\n".join(page.extract_text() or "" for page in PdfReader(str(hostile_published.pdf)).pages)
    flat = " ".join(pdf.replace("\u200b", "").split())
    for literal in ("<script>alert(1)</script>", "{{< include x >}}", "A top-level heading"):
        assert literal in flat, literal


# ------------------------------------------------------------------ `pipeline.py init`

def test_init_writes_a_commented_example_of_every_part_that_loads(tmp_path):
    from safeguarding.scaffold import scaffold_area

    scaffold_area(tmp_path / "area", "Eastshire", "873")
    cfg = load_config(tmp_path / "area" / "report.yml")
    assert cfg.raw["editorial"] == "editorial"
    folder = tmp_path / "area" / "editorial"
    for part, name in ed_mod.FILES.items():
        assert (folder / name).exists(), part
    ed = load_editorial(cfg)  # commented out: nothing is published until a person writes it
    assert ed.missing == ed_mod.PARTS and ed.warnings
    assert (folder / "partners" / "example-agency.md").read_text(encoding="utf-8").startswith("<!--")
    assert "# - priority: Neglect" in (folder / "priorities.yml").read_text(encoding="utf-8")


def test_the_examples_uncommented_load_and_publish_every_part(tmp_path):
    write(tmp_path, ed_mod.example_files(commented=False))
    ed = load_editorial_folder(tmp_path)
    assert ed.missing == () and ed.warnings == ()
    commented = ed_mod.example_files()
    for name, example in ed_mod.EXAMPLES.items():  # the commented file holds the same example, line by line
        for line in example.splitlines():
            assert re.sub(r"^\s*", "", line) in commented[name], (name, line)


def test_pipeline_check_reports_a_wrong_editorial_file_with_status_2(tmp_path, capsys):
    import argparse

    from safeguarding import check

    folder = write(tmp_path / "ed", {"budget.csv": "agency,contribution\nPolice,lots\n"})
    cfg = demo_config_copy(tmp_path, editorial=str(folder))
    assert check.run(argparse.Namespace(config=str(cfg), year=None, strict=False, verbose=False)) == 2
    assert "ed/budget.csv, line 2, contribution: 'lots' is not an amount in pounds" in capsys.readouterr().err


def test_the_issues_hostile_partner_file_is_refused_for_its_image_alone(tmp_path):
    """``<script>``, a shortcode and an image in one file: the image refuses the file (with its line); without the
    image the same text loads, and the rest is shown as written (tests above, in the web page and the PDF)."""
    text = "# Police\n\n<script>alert(1)</script>\n\n{{< include x >}}\n\n![x](/etc/passwd)\n"
    write(tmp_path / "ed", {"partners/police.md": text})
    message = problems(tmp_path / "ed")
    assert message.startswith("1 problem in the editorial files") and "police.md, line 7: an image" in message
    write(tmp_path / "ed", {"partners/police.md": text.replace("![x](/etc/passwd)", "")})
    md = load_editorial_folder(tmp_path / "ed").partners[0].text.markdown(3)
    assert unescape_markdown(md) == "<script>alert(1)</script>\n\n{{< include x >}}"


def test_a_left_out_chapter_is_not_executed(tmp_path, monkeypatch):
    import logging

    import safeguarding.build.stages as b

    ran = []
    monkeypatch.setattr(b, "_execute_all", lambda notebooks, *a, **k: ran.extend(p.name for p in notebooks))
    monkeypatch.setattr(b, "_save_context", lambda *a, **k: None)  # no chapter runs: no context is needed
    cfg = load_config(PROJECT / "report.yml")
    b._stage_notebooks(cfg, "public", tmp_path, logging.getLogger("t"), leave_out=["06-partnership.ipynb"])
    assert "06-partnership.ipynb" not in ran and "07-appendix.ipynb" in ran and "01-summary.ipynb" in ran
    ran.clear()
    b._stage_notebooks(cfg, "public", tmp_path, logging.getLogger("t"))
    assert "06-partnership.ipynb" in ran


# ------------------------------------------------------------------ a priority names its indicators (issue 15)

def test_a_priority_names_catalogue_indicators_and_an_unknown_one_stops_the_build(tmp_path):
    """A priority's ``indicators`` are read as codes (one or a list, any case); one the catalogue does not know
    stops the build before any work, naming the file, the priority and the indicators it could be."""
    from safeguarding.build import check_editorial

    text = ("- priority: Neglect\n  indicators: [cpp_subsequent, REREFERRALS_12M]\n  actions:\n"
            "    - {action: A, owner: B, due: 2025-01-01, status: on track}\n"
            "- priority: Adolescents\n  indicators: POLICE_MISSING_EPISODES\n  actions:\n"
            "    - {action: A, owner: B, due: 2025-01-01, status: on track}\n")
    folder = write(tmp_path / "ed", {"priorities.yml": text})
    ed = load_editorial_folder(folder)
    assert [p.indicators for p in ed.priorities] == [("CPP_SUBSEQUENT", "REREFERRALS_12M"),
                                                     ("POLICE_MISSING_EPISODES",)]
    assert check_editorial(load_config(demo_config_copy(tmp_path, editorial=str(folder)))).priorities == ed.priorities
    bad = write(tmp_path / "bad", {"priorities.yml": text.replace("REREFERRALS_12M", "REREFERALS_12M")})
    with pytest.raises(ConfigError) as info:
        check_editorial(load_config(demo_config_copy(tmp_path, editorial=str(bad))))
    message = str(info.value)
    assert "priorities.yml: priority 1.indicators: 'REREFERALS_12M' is not in the indicator catalogue" in message
    assert "REREFERRALS_12M" in message  # the list of the indicators it could be
    wrong = write(tmp_path / "wrong", {"priorities.yml": text.replace("POLICE_MISSING_EPISODES", "'12 months'")})
    assert "priority 2.indicators: the text '12 months' is not an indicator code" in problems(wrong)
