"""Write the chapter notebooks' skeletons (run once; analysts then edit the notebooks).

Kept so that the structure of a fresh chapter is documented and reproducible:
``python tools/make_notebooks.py --force`` rewrites them from this file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

PARAMS = '''# Parameters (papermill replaces these when the pipeline runs the notebook)
config_path = "../report.yml"
year = None
audience = "public"
build_dir = "."'''

SETUP = '''#| include: false
from safeguarding.report import ReportContext, sections

ctx = ReportContext.load(config_path, year=year, audience=audience, build_dir=build_dir)'''

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


def main() -> None:
    """Write every chapter notebook that does not exist yet (all with --force)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "notebooks"))
    args = parser.parse_args()
    out = Path(args.out)
    for name, (title, _module, cells) in CHAPTERS.items():
        path = out / f"{name}.ipynb"
        if path.exists() and not args.force:
            continue
        nbformat.write(make(name, title, cells), path)
        print("wrote", path)


if __name__ == "__main__":
    main()
