"""``python pipeline.py init DIR --area NAME [--la-code CODE]``: scaffold a new area's project folder.

Writes, into ``DIR``:

* ``report.yml``: the demo configuration's structure for the new area (name,
  a safe slug, the council code, the latest complete financial year), with
  every input commented with the extract it expects and example column and
  code mappings; it loads with :func:`safeguarding.config.load_config`;
* ``notebooks/``: the project's chapter notebooks (``NN-*.ipynb``) without
  outputs, ``kernelspec`` kept (papermill needs it);
* ``_quarto.yml``: the project's report structure;
* ``editorial/``: the board's own words (foreword, priorities, partner
  contributions, audits, training, attendance, governance, budget), one file
  each with its instructions and a commented-out example
  (:func:`safeguarding.editorial.example_files`), so nothing is published
  until a person writes it;
* ``data/raw/README.md``: what each extract must hold, generated from
  :data:`safeguarding.schema.ENTITIES` and the code lists, so that it never
  drifts from what the ingest reads (:func:`extracts_readme`);
* ``.gitignore``: keeps the extracts, processed tables and reports out of git.

An existing folder that is not empty is refused unless ``--force``, which
adds only the files that are missing and never overwrites one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from safeguarding.build import NOTEBOOK_DIR, QUARTO_YML, chapter_notebooks
from safeguarding.config_schema import slugify
from safeguarding.editorial import example_files
from safeguarding.schema import CODE_LISTS, ENTITIES, EXTRA_ALIASES, PERSONAL_COLUMN_PATTERNS, Column, Entity

#: The project checkout this package belongs to (notebooks, ``_quarto.yml`` and reference data live there).
PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: The DfE and ONS published statistics shipped with the project (used for ``benchmarks.folder``).
REFERENCE_SUBDIR = Path("data") / "reference" / "dfe"
#: A DfE council code: 3 digits (``873``) or an ONS/GSS code (``E06000031``).
LA_CODE_PATTERN = re.compile(r"\d{3}|[EWSN]\d{8}")
#: Where the comments of ``report.yml`` start.
COMMENT_COLUMN = 40

#: How each column kind is written in an extract (for ``data/raw/README.md`` and the comments).
KIND_TEXT: dict[str, str] = {
    "id": "identifier (text or number; replaced by a keyed pseudonym at ingest)",
    "date": "date (UK day/month/year, ISO year-month-day or an Excel date)",
    "str": "text",
    "bool": "yes/no (Y, Yes, True, 1 / N, No, False, 0)",
    "int": "whole number, 0 or more",
    "code": "one code",
    "codes": "one or more codes, separated by ';', ',' or '|'",
}
#: The same, in a word or two (for the comments in ``report.yml``).
KIND_SHORT: dict[str, str] = {"id": "identifier", "date": "date", "str": "text", "bool": "yes/no",
                              "int": "whole number", "code": "one code", "codes": "codes, ';'-separated"}

#: An example of a local label a case system might use, per code list (for the commented ``codes`` examples).
CODE_EXAMPLES: dict[str, tuple[str, str]] = {
    "category_of_abuse": ("Neg - Chronic", "NEG"),
    "sex": ("Not recorded", "U"),
    "ethnicity": ("W1", "WBRI"),
    "referral_source": ("Health services – GP surgery", "3A"),
    "primary_need": ("Abuse/Neglect", "N1"),
    "lado_sector": ("Education – schools", "education"),
    "lado_category": ("Physical harm", "physical"),
    "lado_outcome": ("Not substantiated", "unsubstantiated"),
    "lado_action": ("Referred to DBS", "barring_referral"),
}


class InitError(ValueError):
    """The area cannot be scaffolded as asked (folder not empty, bad name or code); the message says why."""


@dataclass
class ScaffoldResult:
    """What :func:`scaffold_area` did: files written and files left as they were (``--force``)."""

    folder: Path
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    year: int = 0
    slug: str = ""
    benchmarks: Path | None = None


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------

def latest_complete_year(today: dt.date | None = None) -> int:
    """The latest financial year (ending 31 March) that has ended by ``today``: 2025 for any day from 1 April 2025."""
    today = today or dt.date.today()
    return today.year if today > dt.date(today.year, 3, 31) else today.year - 1


def yaml_text(value: str) -> str:
    """``value`` as one double-quoted YAML scalar (any character, newlines and quotes included, stays literal)."""
    return yaml.safe_dump(str(value), default_style='"', allow_unicode=True, width=1 << 30).rstrip("\n")


def _comment(text: str) -> str:
    """Text safe to put after ``#`` in YAML (one line: control characters become spaces)."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", str(text)).strip()


def example_headers(table: str) -> dict[str, str]:
    """Example source headers for a table's columns: the synthetic demo's case-system headers, else an alias."""
    headers: dict[str, str] = {}
    try:
        from safeguarding.synth.generator import COLUMN_MAPS, FILES

        for fname, meta in FILES.items():
            if meta["entity"] == table:
                headers.update(COLUMN_MAPS.get(fname, {}))
    except ImportError:  # pragma: no cover - the generator ships with the package
        pass
    entity = ENTITIES[table]
    for col in entity.columns:
        if col.name not in headers:
            aliases = entity.aliases.get(col.name) or (col.name.replace("_", " "),)
            headers[col.name] = aliases[0].title()
    return {c: headers[c] for c in entity.column_names}


def _column_text(col: Column) -> str:
    what = KIND_TEXT[col.kind]
    if col.codes:
        what = f"{what} from the [{col.codes}](#{col.codes.replace('_', '-')}) list"
    if col.description and col.kind == "id":
        return col.description
    return f"{col.description}: {what}" if col.description else what


# --------------------------------------------------------------------------
# data/raw/README.md
# --------------------------------------------------------------------------

def _md(text: str) -> str:
    return str(text).replace("|", "\\|")


def _aliases_of(code_list: str, code: str) -> list[str]:
    return sorted(a for a, c in EXTRA_ALIASES.get(code_list, {}).items() if c == code)


def extracts_readme(tables: Iterable[str] | None = None) -> str:
    """``data/raw/README.md``: every expected extract, generated from :data:`safeguarding.schema.ENTITIES`.

    For each table: what one row is, the file ``report.yml`` expects, and every
    column with its canonical name, whether it is required, what it holds and
    the headers recognised without a ``columns`` setting; then every code list
    with its codes, labels and extra spellings.
    """
    names = list(tables) if tables is not None else list(ENTITIES)
    out = [
        "# Extracts for the annual review",
        "",
        "Put this year's extracts here, one file per table (CSV or XLSX), under the names",
        "`report.yml` gives under `inputs:` (change `file:` there if yours are called",
        "otherwise). Then run `python pipeline.py check --config report.yml`: it lists",
        "every required column it cannot find, every header it does not use and every",
        "code it does not recognise, each with the setting to paste into `report.yml`.",
        "",
        "**These files hold personal data about children. Never commit them** (the",
        "`.gitignore` made with this folder leaves them out), and keep the folder on",
        "storage your organisation approves for such data. Names, addresses, notes and",
        "other free-text columns are never read; identifiers are replaced by keyed",
        "pseudonyms at ingest.",
        "",
        "Headers are matched ignoring case, spaces and punctuation, so `Child ID`,",
        "`child_id` and `CHILDID` agree. A header the pipeline does not recognise is",
        "mapped in `report.yml` under `inputs.<table>.columns` (canonical name: your",
        "header); a code it does not recognise under `inputs.<table>.codes.<column>`",
        "(your label: code). The header row is found automatically below title rows",
        "(or set `header_row`); dates may be day/month/year, ISO or Excel dates.",
        "",
        "The DfE Children in Need census XML can replace the six child-level extracts",
        "(`format: cin_census`), and Ofsted's Annex A workbook most of them",
        "(`format: annex_a`); see docs/configuration.md of the pipeline.",
        "",
        "This file is generated from the pipeline's data model (`safeguarding/schema.py`).",
        "",
        "| table | one row per | file in report.yml |",
        "|---|---|---|",
    ]
    for name in names:
        e = ENTITIES[name]
        out.append(f"| [`{name}`](#{name.replace('_', '-')}) | {_md(_row_text(e))} | `data/raw/{name}.csv` |")
    out.append("")
    used_lists: list[str] = []
    for name in names:
        e = ENTITIES[name]
        out += [f"## {name}", "", f"{e.description} Key: {', '.join(f'`{k}`' for k in e.key)}.", ""]
        if not e.has_child:
            out += ["This extract holds no child identifier.", ""]
        out += ["| column | required | what it holds | headers recognised without a setting |", "|---|---|---|---|"]
        for col in e.columns:
            aliases = ", ".join(f"`{_md(a)}`" for a in e.aliases.get(col.name, ()))
            out.append(f"| `{col.name}` | {'**required**' if col.required else 'optional'} | "
                       f"{_md(_column_text(col))} | {aliases} |")
            if col.codes and col.codes not in used_lists:
                used_lists.append(col.codes)
        out.append("")
        if e.date_order:
            pairs = "; ".join(f"`{b}` on or after `{a}`" for a, b in e.date_order)
            out += [f"Dates must be in order: {pairs}.", ""]
    out += ["## Code lists", "",
            "Each code's own text and its label are recognised (ignoring case, punctuation, the words",
            "'abuse' and 'the', and a leading `a)` as in Annex A), as are the extra spellings listed.", ""]
    for code_list in used_lists:
        users = [f"`{t}.{c.name}`" for t in names for c in ENTITIES[t].columns if c.codes == code_list]
        out += [f"### {code_list}", "", f"Used by {', '.join(users)}.", "",
                "| code | label | also recognised |", "|---|---|---|"]
        for code, label in CODE_LISTS[code_list].items():
            extra = ", ".join(f"`{_md(a)}`" for a in _aliases_of(code_list, code))
            out.append(f"| `{_md(code)}` | {_md(label)} | {extra} |")
        out.append("")
    personal = ", ".join(f"`{p}`" for p in PERSONAL_COLUMN_PATTERNS)
    out += ["## Never read", "",
            f"Columns whose header contains any of these words are dropped at ingest, unread: {personal}.", ""]
    return "\n".join(out)


def _row_text(e: Entity) -> str:
    text = e.description.split(":")[0].rstrip(".")
    return text[len("One row per "):] if text.startswith("One row per ") else text


# --------------------------------------------------------------------------
# report.yml
# --------------------------------------------------------------------------

def _c(code: str, comment: str = "", at: int = COMMENT_COLUMN) -> str:
    """One YAML line with its comment aligned at column ``at`` (or one space after a long line)."""
    if not comment:
        return code
    return f"{code}{' ' * max(1, at - len(code))}# {comment}"


def _input_block(table: str) -> list[str]:
    e = ENTITIES[table]
    required = ", ".join(e.required)
    optional = ", ".join(c.name for c in e.columns if not c.required) or "none"
    head = f"# --- {table}: {e.description} "
    lines = [f"  {head}{'-' * max(3, 96 - len(head))}",
             f"  # required columns: {required}",
             f"  # optional columns: {optional}",
             "  # (data/raw/README.md describes each column and code list)",
             f"  {table}:",
             _c(f"    file: data/raw/{table}.csv", "CSV or XLSX, relative to this file"),
             _c('    # sheet: "Sheet1"', "a workbook's sheet (default: the first visible sheet)"),
             _c("    # header_row: 1", "omit to find the header row below any title rows"),
             _c("    # encoding: auto", "auto | utf-8 | utf-8-sig | cp1252 | utf-16 | utf-32"),
             _c("    # date_format: auto", 'auto | dayfirst | iso | a layout such as "%m/%d/%Y"'),
             _c("    # columns:", "canonical column: the header in your extract, only where"),
             _c("    #", "the built-in spellings do not match (check tells you which)")]
    for canon, header in example_headers(table).items():
        col = e.column(canon)
        lines.append(_c(f"    #   {canon}: {yaml_text(header)}",
                        f"{'required' if col.required else 'optional'}: {KIND_SHORT[col.kind]}"))
    coded = [c for c in e.columns if c.codes]
    if coded:
        lines += [_c("    # codes:", "canonical column: {your label: code}, only for labels"),
                  _c("    #", "the built-in spellings do not recognise")]
        for col in coded:
            label, code = CODE_EXAMPLES.get(col.codes or "", ("Your label", next(iter(CODE_LISTS[col.codes or ""]))))
            lines.append(f"    #   {col.name}: {{{yaml_text(label)}: {yaml_text(code)}}}")
    lines.append("")
    return lines


def report_yml(name: str, slug: str, year: int, la_code: str | None = None,
               benchmarks_folder: str | None = None, reference_hint: str | None = None) -> str:
    """The text of a new area's ``report.yml`` (commented; loads with :func:`safeguarding.config.load_config`).

    ``benchmarks_folder`` (relative to the file) is set when given, otherwise
    the ``benchmarks`` section is written commented out with the instructions
    (``reference_hint`` names the project's copy of the files, if there is one).
    """
    fy = f"{year - 1}-{str(year)[-2:]}"
    lines = [
        "# Annual review configuration for one area, made by `python pipeline.py init`.",
        "# Paths are relative to this file's folder. Every key is documented in the pipeline's",
        "# docs/configuration.md; `python pipeline.py check` and every command check this file first.",
        "#",
        "# Next steps:",
        "#   1. put this year's extracts in data/raw/ (data/raw/README.md says what each must hold)",
        "#      and point each `inputs.<table>.file` below at its file; delete the inputs you do not have",
        "#   2. python pipeline.py check --config report.yml",
        "#      (lists every column and code it cannot match, with the lines to paste here)",
        "#   3. python pipeline.py build --config report.yml",
        "",
        "area:",
        f"  name: {yaml_text(name)}",
        _c(f"  slug: {yaml_text(slug)}", "folder under reports/: lowercase letters, digits and hyphens"),
    ]
    if la_code:
        lines.append(_c(f"  la_code: {yaml_text(la_code)}",
                        "DfE council code: finds England, region and statistical neighbours"))
    else:
        lines += [_c('  # la_code: "873"', "DfE council code (3 digits, or E06...): set it to compare"),
                  _c("  #", "with England, the region and statistical neighbours")]
    lines += [
        "",
        _c(f"year: {year}", f"year ending 31 March: {year} means {fy}, the latest complete year when made"),
        _c("audience: public", "public (small numbers suppressed, the default) or board (all shown,"),
        _c("", "every page marked OFFICIAL-SENSITIVE)"),
        "",
        "paths:",
        "  raw: data/raw",
        _c("  processed: data/processed", "written to and cleared by every run"),
        _c("  reports: reports", "the review is published to reports/<slug>/<year>/"),
        "",
        "# Children aged 0-17 by year (ONS mid-year estimate), for rates per 10,000. Without it,",
        "# the ONS file in the benchmarks folder is looked up by la_code.",
        "# population:",
        f"#   {year}: 29800",
        "",
    ]
    if benchmarks_folder is not None:
        lines += ["# DfE Explore Education Statistics files (C1, D3, D5, B1), the ONS population estimates and",
                  "# DfE's statistical neighbour file: the copy shipped with the pipeline.",
                  "benchmarks:",
                  f"  folder: {yaml_text(benchmarks_folder)}", ""]
    else:
        lines += ["# Benchmarks: download the Children in need release's data files from Explore Education",
                  "# Statistics (C1, D3, D5, B1), the ONS mid-year population estimates and DfE's statistical",
                  "# neighbour file into one folder, set its path below (relative to this file, or absolute)",
                  "# and uncomment the two lines. Without them the report says benchmarks are not configured.",
                  *([f"# The pipeline ships a copy: {_comment(reference_hint)}"] if reference_hint else []),
                  "# benchmarks:",
                  "#   folder: path/to/dfe", ""]
    lines += [
        "# {INDICATOR_CODE: number} overrides the catalogue's targets; an empty value removes one.",
        "targets: {}",
        "",
        "# Child-level extracts, one per table. The header row, the usual header spellings and codes",
        "# are recognised without settings; `check` lists what is not, with the lines to paste.",
        "# With the DfE CIN census XML, replace the six child-level inputs (children to cp_reviews) by",
        "#   children: {file: data/raw/cin_census.xml, format: cin_census}   (one such line per table)",
        "inputs:",
    ]
    for table in ENTITIES:
        lines += _input_block(table)
    lines += [
        "# Partners' aggregate returns (monthly counts: LADO, private fostering, police), e.g.:",
        "# aggregates:",
        "#   - file: data/raw/police_monthly_return.xlsx",
        _c("#     layout: wide", "wide (one column per month) or tidy"),
        "#     sheet: \"Police return\"",
        "#     header_row: 2",
        f"#     financial_year: {year}",
        "#     label_column: \"Measure\"",
        "#     ytd_column: \"YTD\"",
        _c("#     rows:", "row label: indicator code (docs/catalogue.md)"),
        "#       \"Child protection referrals made by police\": POLICE_CP_REFERRALS",
        "",
        "# The secret key behind the pseudonyms: keep it outside this folder, back it up, never commit it.",
        "# pseudonymisation:",
        "#   key_file: ~/.config/safeguarding/pseudonym.key",
        "",
        "# The board's own words, one optional file each in editorial/ (pipeline.py init wrote a commented",
        "# example of each): foreword, priorities, partner contributions, learning from reviews and audits,",
        "# training, attendance, governance and budget. A part with no file is left out, with a warning.",
        "editorial: editorial",
        "",
        _c("# report:", "overrides for the published document"),
        "#   title: \"Safeguarding children partnership annual review\"",
        "#   author: \"Safeguarding Children Partnership\"",
        "",
        "# The area's site (reports/<area>/index.html, accessibility.html, sitemap.xml): the address the",
        "# area's folder is published at (https; without it no sitemap is written) and who to contact about",
        "# accessibility (shown in the accessibility statement). python pipeline.py site rewrites them.",
        "# site:",
        "#   base_url: https://www.example.gov.uk/safeguarding/annual-reviews",
        "#   contact_email: scp@example.gov.uk",
        "#   organisation: \"Safeguarding Children Partnership\"",
        "",
    ]
    return "\n".join(lines)


GITIGNORE = """\
# Never commit children's data, the processed tables or unpublished reports.
data/raw/*
!data/raw/README.md
data/processed/
reports/
logs/
build/
*.key
"""


# --------------------------------------------------------------------------
# notebooks
# --------------------------------------------------------------------------

def notebook_without_outputs(data: bytes) -> bytes:
    """A notebook's bytes with every output and execution count removed; metadata (``kernelspec``) kept.

    Returned unchanged when there was nothing to strip (the project's notebooks are committed that way).
    """
    nb = json.loads(data.decode("utf-8"))
    changed = False
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            cell["outputs"] = []
            changed = True
        if cell.get("execution_count") is not None:
            cell["execution_count"] = None
            changed = True
    if not changed:
        return data
    return (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


# --------------------------------------------------------------------------
# the scaffold
# --------------------------------------------------------------------------

def _is_inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # pragma: no cover - a symbolic link loop
        return False


def scaffold_area(folder: str | os.PathLike[str], area: str, la_code: str | None = None, *,
                  force: bool = False, today: dt.date | None = None,
                  project_root: Path = PROJECT_ROOT) -> ScaffoldResult:
    """Write a new area's project folder (see the module docstring) and return what was written.

    Raises :class:`InitError` when ``folder`` exists and is not an empty
    folder (unless ``force``: then only missing files are added, none is
    overwritten), when ``area`` is blank or ``la_code`` is not a DfE code.
    The notebooks and ``_quarto.yml`` are the package's skeleton
    (:data:`safeguarding.build.NOTEBOOK_DIR`); ``project_root`` is where the
    shipped reference data is looked for.
    """
    name = str(area).strip()
    if not name:
        raise InitError("--area must be the area's name, e.g. --area \"Northwold\"")
    code = str(la_code).strip() if la_code is not None else None
    if code is not None and not LA_CODE_PATTERN.fullmatch(code):
        raise InitError(f"--la-code must be the DfE council code, 3 digits (e.g. 873) or an ONS code "
                        f"(e.g. E06000031), not {code!r}")
    target = Path(folder).expanduser()
    if target.exists() and not target.is_dir():
        raise InitError(f"{target} exists and is not a folder; choose a new folder name")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise InitError(f"{target} is not empty; choose a new folder, or pass --force to add only the missing "
                        "files (nothing is overwritten)")
    year = latest_complete_year(today)
    slug = slugify(name)
    reference = project_root / REFERENCE_SUBDIR
    bench: str | None = None
    if reference.is_dir():  # the shipped DfE release: relative inside the project, absolute elsewhere
        bench = (Path(os.path.relpath(reference.resolve(), target.resolve())).as_posix()
                 if _is_inside(target, project_root) else reference.resolve().as_posix())
    result = ScaffoldResult(target, year=year, slug=slug,
                            benchmarks=reference if bench is not None else None)
    files: dict[Path, bytes] = {
        Path("report.yml"): report_yml(name, slug, year, code, bench,
                                       str(reference) if reference.is_dir() and bench is None else None
                                       ).encode("utf-8"),
        Path("data/raw/README.md"): extracts_readme().encode("utf-8"),
        Path(".gitignore"): GITIGNORE.encode("utf-8"),
    }
    # the chapters and _quarto.yml come with the package (links to the checkout's files: one copy)
    files[Path("_quarto.yml")] = QUARTO_YML.read_bytes()
    for nb in chapter_notebooks(NOTEBOOK_DIR):
        files[Path("notebooks") / nb.name] = notebook_without_outputs(nb.read_bytes())
    for rel_name, text in example_files().items():  # the board's own words: commented examples
        files[Path("editorial") / rel_name] = text.encode("utf-8")
    for rel, data in files.items():
        path = target / rel
        if path.exists():
            result.kept.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "xb") as fh:  # exclusive: never replaces a file that appeared meanwhile
            fh.write(data)
        result.written.append(path)
    return result


def next_steps(result: ScaffoldResult) -> str:
    """What to do after ``init``, as printed."""
    folder = result.folder
    cfg = folder / "report.yml"
    lines = [f"Created the area folder {folder} (year {result.year}, slug {result.slug!r}):"]
    lines += [f"  wrote {p.relative_to(folder).as_posix()}" for p in result.written]
    lines += [f"  kept  {p.relative_to(folder).as_posix()} (already there; not overwritten)" for p in result.kept]
    if result.benchmarks is not None:
        lines.append(f"  benchmarks: the pipeline's copy of the DfE files ({result.benchmarks})")
    else:
        lines.append("  benchmarks: not configured (see the comments in report.yml)")
    lines += [
        "",
        "Next steps:",
        f"  1. Put this year's extracts in {folder / 'data' / 'raw'} ({folder / 'data' / 'raw' / 'README.md'} says "
        "what each must hold) and set each inputs.<table>.file in report.yml to its file name.",
        f"  2. python pipeline.py check --config {cfg}",
        "     lists every column and code the pipeline cannot match, with the lines to paste into report.yml.",
        f"  3. python pipeline.py build --config {cfg}",
        f"  The board's own words (foreword, priorities, partners, audits, training, attendance, governance, budget) "
        f"go in {folder / 'editorial'}: each file holds its instructions and a commented example.",
    ]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``init`` options to ``parser``."""
    parser.add_argument("folder", metavar="DIR", type=Path, help="the new area's folder (created if absent)")
    parser.add_argument("--area", required=True, help="the area's name, shown in the report title")
    parser.add_argument("--la-code", default=None,
                        help="the DfE council code (e.g. 873), used to find benchmarks")
    parser.add_argument("--force", action="store_true",
                        help="add the missing files to a folder that is not empty (never overwrites a file)")


def run(args: argparse.Namespace) -> int:
    """Scaffold the area; exit status 0, or 2 when it cannot be done as asked."""
    try:
        result = scaffold_area(args.folder, args.area, args.la_code, force=args.force)
    except InitError as exc:
        print(f"init: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"init: cannot write {exc.filename or args.folder}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(next_steps(result))
    return 0


__all__ = ["InitError", "ScaffoldResult", "add_arguments", "extracts_readme", "latest_complete_year",
           "next_steps", "report_yml", "run", "scaffold_area"]
