"""The example files ``pipeline.py init`` writes, each with what it is for."""

from __future__ import annotations

from safeguarding.editorial.markdown import parse_markdown, render_blocks, strip_comments
from safeguarding.editorial.model import (
    ACTION_STATUSES,
    AUDIT_STATUSES,
    CSV_COLUMNS,
    FILES,
    PARTNERSHIP_PARTS,
    PARTS,
    TITLES,
    Action,
    AttendanceRow,
    Audit,
    AuthoredText,
    BudgetRow,
    Due,
    Editorial,
    EditorialError,
    PartnerContribution,
    Priority,
    TrainingRow,
)
from safeguarding.editorial.reader import editorial_folder, load_editorial, load_editorial_folder, parse_due

# --------------------------------------------------------------------------
# examples (`pipeline.py init`)
# --------------------------------------------------------------------------

#: What each file is for, written as a comment above its example by ``pipeline.py init``.
INSTRUCTIONS: dict[str, str] = {
    "foreword.md": "The chair's foreword, in Markdown: paragraphs, *emphasis*, **bold**, lists and links. It opens "
                   "the summary chapter under 'Foreword by the chair'. Headings (## ...) become sub-headings; HTML "
                   "is shown as written; images are refused. Comments like this one are never published.",
    "priorities.yml": "The board's priorities. One entry per priority, each with its actions; every action has an "
                      "owner, a due date (YYYY-MM-DD, or YYYY-MM for a month) and a status: complete, on track, at "
                      "risk, off track or not started. 'indicators' (optional) lists the catalogue's indicators "
                      "that show whether the priority is working: the summary reports them under the priority and "
                      "their findings lead the key messages. Remove the '# ' before each line of the example to "
                      "start.",
    "partners/example-agency.md": "One file per agency in this folder (any name ending .md; files are published "
                                  "in the order of their names, so 01-police.md comes first). The first line is "
                                  "the agency's name as a heading; the rest is Markdown, as in foreword.md.",
    "audits.yml": "Learning from case reviews and multi-agency audits: one entry per review or audit. status: "
                  "planned, in progress or complete. Write findings without counts of 1 to 5 children (say 'a "
                  "small number of children'), so no child can be identified.",
    "training.csv": "Training delivered in the year, one row per agency: courses, sessions, people trained "
                    "(whole numbers; leave a cell blank when it was not recorded). Lines starting with # are not "
                    "read. Keep the header row; add one row per agency below it.",
    "attendance.csv": "Board meetings each agency attended of the meetings it was expected at (whole numbers, "
                      "attended no more than held). Lines starting with # are not read. Keep the header row.",
    "governance.md": "How the partnership is governed, in Markdown (as foreword.md): the partners, the independent "
                     "scrutineer, the subgroups. It opens the chapter's 'Governance and budget' section.",
    "budget.csv": "Contributions to the partnership's budget, one row per agency, in pounds (12500 or "
                  "\"£12,500\": put an amount with a comma in double quotes). Keep the header row.",
}

#: An example of each file (fictional), as ``pipeline.py init`` writes it, commented out.
EXAMPLES: dict[str, str] = {
    "foreword.md": (
        "*Example text: replace it with the chair's own words.*\n\n"
        "I am pleased to introduce this year's annual review of the partnership. It sets out what partners "
        "have done together to keep children safe, and what we have learned.\n\n"
        "**Independent Chair**, Safeguarding Children Partnership\n"),
    "priorities.yml": (
        "- priority: Neglect\n"
        "  description: Children living with neglect are noticed sooner and helped earlier.\n"
        "  indicators: [CPP_SUBSEQUENT, REREFERRALS_12M]\n"
        "  actions:\n"
        "    - action: Launch the multi-agency neglect toolkit\n"
        "      owner: Neglect subgroup chair\n"
        "      due: 2025-09-30\n"
        "      status: on track\n"
        "    - action: Audit the use of the toolkit\n"
        "      owner: Quality assurance subgroup\n"
        "      due: 2026-03\n"
        "      status: not started\n"),
    "partners/example-agency.md": (
        "# Example Police Force\n\n"
        "What the agency did for children's safeguarding this year, and what it will do next.\n\n"
        "## What we will do next\n\n"
        "- Share the learning from our review with every team.\n"),
    "audits.yml": (
        "- audit: Multi-agency audit of neglect\n"
        "  agencies: [Children's social care, Health, Police]\n"
        "  date: 2025-01\n"
        "  findings: Chronologies were not always shared between agencies.\n"
        "  actions: A shared chronology template was agreed.\n"
        "  status: complete\n"),
    "training.csv": "Partnership business unit,12,48,960\nPolice,4,10,180\n",
    "attendance.csv": "Council (children's services),4,4\nPolice,3,4\n",
    "governance.md": (
        "The partnership is led by the three statutory safeguarding partners: the council, the integrated "
        "care board and the police.\n\n"
        "## Subgroups\n\n"
        "- Quality assurance\n- Learning from reviews\n- Training\n"),
    "budget.csv": "Council,\"£120,000\"\nIntegrated care board,80000\nPolice,40000\n",
}


def example_files(*, commented: bool = True) -> dict[str, str]:
    """The editorial folder ``pipeline.py init`` writes: ``{relative path: text}``.

    ``commented`` (the default) writes each example as a comment under its
    instructions, so a new area publishes nothing until a person writes it;
    ``commented=False`` gives the examples themselves (they load without error).
    """
    out: dict[str, str] = {"README.md": (
        "# Editorial content: the board's own words\n\n"
        "Each file here is optional and published in this order: foreword.md (front of the summary), then "
        "in the partnership chapter priorities.yml, partners/*.md, audits.yml, training.csv, attendance.csv, "
        "governance.md and budget.csv. A file that is absent, or holds only comments, is left out with a "
        "warning; a file with a mistake stops the build with the file, the line or key, and the fix. "
        "The pipeline's README (section 'Editorial content') explains every file. This README is not "
        "published.\n")}
    for name, example in EXAMPLES.items():
        note = INSTRUCTIONS[name]
        if name.endswith(".md"):
            out[name] = example if not commented else f"<!--\n{note}\n\nExample:\n\n{example}-->\n"
        elif name.endswith(".yml"):
            lines = [f"# {line}" if line else "#" for line in _wrap(note)]
            rows = example.splitlines()
            out[name] = "\n".join([*lines, *((f"# {r}" for r in rows) if commented else rows)]) + "\n"
        else:
            lines = [f"# {line}" for line in _wrap(note)]
            header = ",".join(CSV_COLUMNS[name.removesuffix(".csv")])
            rows = example.splitlines()
            out[name] = "\n".join([*lines, header, *((f"# {r}" for r in rows) if commented else rows)]) + "\n"
    return out


def _wrap(text: str, width: int = 98) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width)


__all__ = [
    "ACTION_STATUSES", "AUDIT_STATUSES", "EXAMPLES", "FILES", "INSTRUCTIONS", "PARTNERSHIP_PARTS", "PARTS",
    "TITLES", "Action", "AttendanceRow", "Audit", "AuthoredText", "BudgetRow", "Due", "Editorial",
    "EditorialError", "PartnerContribution", "Priority", "TrainingRow", "editorial_folder", "example_files",
    "load_editorial", "load_editorial_folder", "parse_due", "parse_markdown", "render_blocks", "strip_comments",
]
