"""Write the chapter notebooks' skeletons (analysts then edit the notebooks).

Kept so that the structure of a fresh chapter is documented and reproducible. It only ever adds the
chapters that are missing: a notebook that exists is the analysts' (their commentary, their order) and
is never rewritten. ``--diff`` prints how each existing chapter differs from its skeleton, so a new
section call can be copied in by hand.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

PARAMS = '''# Parameters (papermill replaces these when the pipeline runs the notebook)
config_path = "../report.yml"
year = None
audience = "public"
build_dir = "."
saved_context = None  # the build's saved report context (a folder); None: worked out here'''

SETUP = '''#| include: false
from safeguarding.report import ReportContext, sections

ctx = ReportContext.load(config_path, year=year, audience=audience, build_dir=build_dir, saved=saved_context)'''

CHAPTERS = {
    "01-summary": ("Summary", "summary", [
        ("md", "This chapter gives the key messages of the year, answers the four questions of Outcomes Based "
               "Accountability (how much did we do, how well did we do it, is anyone better off, and what will we "
               "do next), then sets out the scorecard of the essential indicators against their targets and the "
               "report card."),
        ("code", "sections.editorial.foreword(ctx)"),
        ("code", "sections.summary.key_messages(ctx)"),
        ("md", "<!-- Analysts: add the board's commentary on the key messages here. -->"),
        ("code", "sections.summary.four_questions(ctx)"),
        ("code", "sections.summary.scorecard(ctx)"),
        ("code", "sections.summary.report_card(ctx)"),
        ("code", "sections.summary.about_the_data(ctx)"),
    ]),
    "02-child-protection": ("Child protection", "child_protection", [
        ("code", "sections.child_protection.overview(ctx)"),
        ("code", "sections.child_protection.open_by_characteristics(ctx)"),
        ("code", "sections.child_protection.starts_and_ends(ctx)"),
        ("code", "sections.child_protection.open_by_month(ctx)"),
        ("code", "sections.child_protection.national_indicators(ctx)"),
        ("code", "sections.child_protection.enquiries_and_conferences(ctx)"),
        ("code", "sections.voice.voice_of_children(ctx)"),
        ("code", 'sections.partners.returns(ctx, "child_protection")'),
        ("md", "<!-- Analysts: commentary on child protection, the story behind the figures. -->"),
    ]),
    "03-referrals": ("Referrals to children's social care", "referrals", [
        ("code", "sections.referrals.monthly(ctx)"),
        ("code", "sections.referrals.rereferrals(ctx)"),
        ("code", "sections.referrals.by_source_and_team(ctx)"),
        ("code", 'sections.partners.returns(ctx, "referrals")'),
        ("md", "<!-- Analysts: commentary on referrals. -->"),
    ]),
    "04-allegations": ("Allegations against people who work with children", "allegations", [
        ("code", "sections.allegations.overview(ctx)"),
        ("code", "sections.allegations.timeliness(ctx)"),
        ("code", "sections.allegations.outcomes_and_actions(ctx)"),
        ("md", "<!-- Analysts: commentary from the LADO. -->"),
    ]),
    "05-private-fostering": ("Private fostering", "private_fostering", [
        ("code", "sections.private_fostering.overview(ctx)"),
        ("md", "<!-- Analysts: commentary on private fostering awareness-raising. -->"),
    ]),
    "06-partnership": ("The partnership at work", "editorial", [
        ("code", "sections.editorial.chapter_intro(ctx)"),
        ("code", "sections.editorial.priorities(ctx)"),
        ("code", "sections.editorial.partner_contributions(ctx)"),
        ("code", "sections.editorial.learning(ctx)"),
        ("code", "sections.editorial.training(ctx)"),
        ("code", "sections.editorial.attendance(ctx)"),
        ("code", "sections.editorial.governance_and_budget(ctx)"),
    ]),
    "07-appendix": ("Appendix: data quality and definitions", "appendix", [
        ("code", "sections.appendix.data_quality(ctx)"),
        ("code", "sections.appendix.methods(ctx)"),
        ("code", "sections.appendix.definitions(ctx)"),
    ]),
}


def make(name: str, title: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """Build one chapter notebook."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    params = new_code_cell(PARAMS)
    params.metadata["tags"] = ["parameters"]
    body = [new_markdown_cell(f"# {title}"), params, new_code_cell(SETUP)]
    for kind, text in cells:
        body.append(new_markdown_cell(text) if kind == "md" else new_code_cell(text))
    nb.cells = body
    return nb


def _sources(nb: nbformat.NotebookNode) -> list[str]:
    """Each cell as ``[kind] source``, for comparing a chapter with its skeleton."""
    return [f"[{c.cell_type}] {c.source.strip()}" for c in nb.cells]


def write_missing(out: Path, *, diff: bool = False, echo: Callable[[str], None] = print) -> list[Path]:
    """Write every chapter notebook missing from ``out``; leave every existing one as it is.

    Returns the notebooks written. With ``diff``, print a unified diff of each existing chapter against
    its skeleton (cell by cell), so a section added to the skeleton can be copied in by hand.
    """
    import difflib

    written = []
    for name, (title, _module, cells) in CHAPTERS.items():
        path = out / f"{name}.ipynb"
        skeleton = make(name, title, cells)
        if not path.exists():
            nbformat.write(skeleton, path)
            written.append(path)
            echo(f"wrote {path}")
            continue
        have = _sources(nbformat.read(path, as_version=4))
        if have == _sources(skeleton):
            echo(f"kept {path} (as the skeleton)")
            continue
        echo(f"kept {path} (it has your edits; never rewritten)")
        if diff:
            for line in difflib.unified_diff(_sources(skeleton), have, "skeleton", str(path), lineterm="", n=1):
                echo(line)
    return written


def main(argv: list[str] | None = None) -> int:
    """Write every chapter notebook that does not exist yet; existing notebooks are never rewritten."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "notebooks"),
                        help="the notebooks folder (default: the project's notebooks/)")
    parser.add_argument("--diff", action="store_true",
                        help="print how each existing chapter differs from its skeleton")
    args = parser.parse_args(argv)
    write_missing(Path(args.out), diff=args.diff)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
