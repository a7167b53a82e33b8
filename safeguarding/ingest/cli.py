"""``python pipeline.py ingest --config report.yml``: run the ingest and print a per-table summary."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from safeguarding.config import ConfigError, load_config_with_inputs
from safeguarding.ingest.errors import IngestError

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.ingest.report import TableEntry
    from safeguarding.ingest.results import IngestResult


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ingest command's options."""
    parser.add_argument("--config", default="report.yml", help="the configuration file (default: report.yml)")
    parser.add_argument("--year", type=int, default=None, help="override the reporting year (year ending 31 March)")


def summary(result: IngestResult) -> str:
    """A plain-text per-table summary of an :class:`IngestResult`."""
    report = result.report
    lines = [f"{'table':<18} {'read':>9} {'accepted':>9} {'rejected':>9}  status"]
    for e in report["inputs"]:
        status = "built" if e["status"] == "built" else "NOT BUILT"
        lines.append(f"{e['table']:<18} {e['rows_read']:>9,} {e['rows_accepted']:>9,} "
                     f"{e['rows_rejected']:>9,}  {status}")
        if e["status"] == "built":
            for reason, n in e["rejected_by_reason"].items():
                lines.append(f"{'':<18}   {n:>7,} rejected: {reason}")
            for w in e["warnings"]:
                lines.append(f"{'':<18}   warning: {w}")
            if e["personal_columns_dropped"]:
                lines.append(f"{'':<18}   personal columns dropped: {', '.join(e['personal_columns_dropped'])}")
        else:
            lines.append(f"{'':<18}   {e['error']}")
        lines += unmapped_lines(e)
    agg = report["aggregates"]
    if agg.get("status") == "built":
        lines.append(f"{'aggregates':<18} {agg['rows']:>9,} rows, {len(agg['issues'])} issue(s)")
    if agg.get("status") == "failed":
        lines.append(f"{'aggregates':<18} NOT BUILT: {agg['error']}")
    lines.append("")
    lines.append(f"Tables built: {', '.join(report['tables_built']) or 'none'}")
    if report["tables_failed"]:
        lines.append(f"Tables NOT built: {', '.join(report['tables_failed'])}")
    pz = report["pseudonymisation"]
    lines.append(f"Pseudonymisation key: {pz['key_file']}"
                 + (" (created now: back it up securely, outside git)" if pz["key_created_this_run"] else ""))
    out = result.processed_dir
    lines.append(f"Report: {out / 'ingest_report.md'}; rejected rows: {out / 'ingest_rejected.csv'}")
    return "\n".join(lines)


#: Values listed per input on screen (all of them are in ingest_report.md / .json).
SCREEN_VALUES = 10


def unmapped_lines(entry: TableEntry, indent: str = " " * 21) -> list[str]:
    """Screen lines for one input's coded values not in the code list: value, column, rows, suggestion, snippet."""
    items = [i for i in entry.get("unmapped_values") or [] if i.get("value") is not None]
    if not items:
        return []
    lines = [f"{indent}{entry.get('rows_kept_with_unknown', 0):,} row(s) kept with a coded field recorded as unknown "
             "(value not in the code list):"]
    for i in items[:SCREEN_VALUES]:
        value = str(i["value"])
        value = value if len(value) <= 60 else value[:57] + "..."
        hint = (f"suggest {i['suggested_code']} ({i['suggested_label']})" if i.get("suggested_code")
                else f"no code suggested ({i['suggestion']})")
        group = f"; names the group '{i['group']}'" if i.get("group") else ""
        lines.append(f"{indent}  '{i['source_column']}' ({i['column']}) = {value!r}: {i['rows']:,} row(s), "
                     f"{i['rows_kept']:,} kept{group}; {hint}")
    hidden = len(items) - SCREEN_VALUES + sum(int(i.get("more_values", 0)) for i in entry["unmapped_values"])
    if hidden > 0:
        lines.append(f"{indent}  ... and {hidden:,} more value(s): see ingest_report.md")
    snippet = entry.get("codes_snippet")
    if snippet:
        lines.append(f"{indent}to map them, paste into report.yml (lines below as they are, indentation included):")
        lines += snippet.rstrip("\n").split("\n")
    return lines


def run(args: argparse.Namespace) -> int:
    """Run the ingest; exit status 1 when any configured table could not be built, 2 on a configuration error."""
    from safeguarding.ingest.core import run_ingest

    try:
        cfg = load_config_with_inputs(args.config, year=args.year)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        result = run_ingest(cfg)
    except IngestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary(result))
    if not result.ok:
        print(f"error: {len(result.failed)} table(s) could not be built: {', '.join(result.failed)}",
              file=sys.stderr)
        return 1
    return 0
