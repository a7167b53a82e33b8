"""The ingest report: ingest_report.json, ingest_report.md and ingest_rejected.csv.

The Markdown report is written for the data-quality appendix of the annual
review: per input, rows read / accepted / rejected (by first reason and by
problem), warnings, personal columns dropped (names only, never values), the
encoding used and the header row found, and the optional coded values not in
the code list (rows kept, field unknown) with a ``report.yml`` snippet to map
them. Identifiers never appear in it.

``ingest_rejected.csv`` is opened in Excel by analysts, and its values come
from the source files: a cell that Excel would run as a formula (one starting
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, after OWASP's CSV
injection guidance) is written with a leading ``'`` (see :func:`excel_safe`);
plain numbers such as ``-3`` are left as they are.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, TypedDict

import pandas as pd

from safeguarding import escape
from safeguarding.atomic import write_atomic, write_text_atomic
from safeguarding.ingest import pseudonym
from safeguarding.ingest.partners.returns import AggregatesEntry
from safeguarding.ingest.validate import REASONS
from safeguarding.schema import CODE_LISTS

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.config import Config
    from safeguarding.ingest.results import TableResult

REJECTED_COLUMNS = ("table", "source_file", "row_number", "column", "value", "reason", "message", "fix")
#: First characters that make Excel (or LibreOffice) read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class UnmappedEntry(TypedDict):
    """One optional coded value not in the code list, as the ingest report lists it (see :func:`unmapped_entries`)."""

    column: str
    source_column: str
    code_list: str
    value: str | None
    rows: int
    rows_kept: int
    more_values: NotRequired[int]
    recorded_as: NotRequired[str]
    group: NotRequired[str | None]
    suggested_code: NotRequired[str | None]
    suggested_label: NotRequired[str | None]
    suggestion: NotRequired[str]
    spellings: NotRequired[list[str]]


class TableEntry(TypedDict):
    """One input in ``ingest_report.json`` (``inputs``); the fields after ``status`` only when it was read."""

    table: str
    source_file: str
    status: str
    error: NotRequired[str]
    config_key: NotRequired[str | None]
    format: NotRequired[str]
    sheet: NotRequired[str | None]
    encoding: NotRequired[str | None]
    header_row: NotRequired[int]
    header_row_detected: NotRequired[bool]
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    blank_rows_skipped: NotRequired[int]
    rejected_by_reason: NotRequired[dict[str, int]]
    problems_by_reason: NotRequired[dict[str, int]]
    warnings: NotRequired[list[str]]
    personal_columns_dropped: NotRequired[list[str]]
    extra_columns_ignored: NotRequired[list[str]]
    column_mapping: NotRequired[dict[str, str | None]]
    seconds: NotRequired[float]
    rows_kept_with_unknown: int
    unmapped_values: list[UnmappedEntry]
    codes_snippet: str | None


class PseudonymisationEntry(TypedDict):
    """How identifiers were pseudonymised, in ``ingest_report.json``."""

    method: str
    key_file: str
    key_created_this_run: bool
    warnings: list[str]


class Totals(TypedDict):
    """Rows of every input together, in ``ingest_report.json``."""

    rows_read: int
    rows_accepted: int
    rows_rejected: int


class IngestReport(TypedDict):
    """What ``ingest_report.json`` holds (:func:`build_report`)."""

    generated: str
    config: str
    area: str
    year: str
    pseudonymisation: PseudonymisationEntry
    plausible_dates: dict[str, list[str]]
    tables_built: list[str]
    tables_failed: list[str]
    totals: Totals
    rows_kept_with_unknown: int
    seconds: float
    reasons: dict[str, str]
    inputs: list[TableEntry]
    aggregates: AggregatesEntry


def unmapped_entries(t: TableResult) -> list[UnmappedEntry]:
    """The optional coded values of one table not in the code list, as the ingest report lists them.

    Each: ``column`` (canonical), ``source_column``, ``value``, ``rows`` (rows
    read holding it), ``rows_kept`` (of those, rows accepted: the field recorded
    as unknown), ``recorded_as``, ``group`` (the DfE group a group label names),
    ``suggested_code`` / ``suggested_label`` / ``suggestion`` (why) and, when
    several spellings were read as one, ``spellings``. Values beyond the listing
    limit are one entry with ``value`` None and ``more_values``.
    """
    out: list[UnmappedEntry] = []
    for u in t.unmapped():
        item: UnmappedEntry = {"column": u.column, "source_column": u.source_column, "code_list": u.code_list,
                               "value": u.value, "rows": u.rows, "rows_kept": u.rows_kept}
        if u.value is None:
            item["more_values"] = u.more
        else:
            s = u.suggestion
            assert s is not None, "a listed value has its suggestion (TableResult.unmapped)"
            item["recorded_as"] = "unknown"
            item["group"] = s.group
            item["suggested_code"] = s.code
            item["suggested_label"] = CODE_LISTS[u.code_list].get(s.code) if s.code else None
            item["suggestion"] = s.reason
            if len(u.spellings) > 1:
                item["spellings"] = list(u.spellings)
        out.append(item)
    return out


def _yaml_quote(text: str) -> str:
    """A YAML double-quoted scalar that reads back as exactly ``text`` (line separators and controls escaped)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == " " or (ch.isprintable() and ch not in "\u2028\u2029\x85\ufeff"):
            out.append(ch)
        else:
            n = ord(ch)
            out.append(f"\\u{n:04x}" if n <= 0xFFFF else f"\\U{n:08x}")
    return '"' + "".join(out) + '"'


def codes_snippet(table: str, items: list[UnmappedEntry]) -> str | None:
    """A ``report.yml`` snippet mapping the listed values under ``inputs.<table>.codes.<column>`` (None when none).

    It is indented as ``report.yml`` lays inputs out (``codes:`` four spaces in),
    so it can be pasted as it is at the end of the ``inputs.<table>`` entry; when
    that entry already has ``codes:`` or the column, only the lines below them
    are added. A value with a suggested code is an active line; one without is
    a comment to complete, and a column with no active line is commented out
    whole, so the snippet pasted unchanged always leaves a valid configuration.
    """
    by_col: dict[str, list[UnmappedEntry]] = {}
    for item in items:
        if item.get("value") is not None:
            by_col.setdefault(item["column"], []).append(item)
    if not by_col:
        return None
    active_any = any(i.get("suggested_code") for col in by_col.values() for i in col)
    lines = [f"# paste at the end of inputs.{table} in report.yml; if it already has codes: (or codes.<column>:),",
             "# add only the lines below that key: YAML keeps the last of two equal keys, dropping the first",
             "# inputs:", f"#   {table}:", "    codes:" if active_any else "    # codes:"]
    for col, col_items in by_col.items():
        active = any(i.get("suggested_code") for i in col_items)
        lines.append(f"      {col}:" if active else f"      # {col}:")
        for i in col_items:
            rows = f"{i['rows']:,} row{'s' if i['rows'] != 1 else ''}"
            key = _yaml_quote(str(i["value"]))
            code = i.get("suggested_code")
            if code:
                lines.append(f"        {key}: {_yaml_quote(code)}  # {rows}; {i['suggestion']}")
            else:
                choices = "" if i.get("group") else f" (one of {', '.join(CODE_LISTS[i['code_list']])})"
                lines.append(f"        # {key}: \"\"  # {rows}; {i['suggestion']}: fill in a code{choices}")
    return "\n".join(lines) + "\n"


def _table_entry(t: TableResult) -> TableEntry:
    if t.fatal is not None and t.raw is None:  # not read at all: no rows to count
        return {"table": t.name, "source_file": t.source_file, "status": "failed", "error": str(t.fatal),
                "config_key": t.fatal.key, "rows_read": 0, "rows_accepted": 0, "rows_rejected": 0,
                "rows_kept_with_unknown": 0, "unmapped_values": [], "codes_snippet": None}
    raw, cmap = t.raw, t.cmap
    assert raw is not None and cmap is not None, "a table read has its headers mapped (see core._ingest_table)"
    frame = t.problems.frame()
    first = frame.drop_duplicates("row", keep="first")
    accepted = int(t.accepted().sum())
    warnings = list(t.warnings) + ([f"{len(cmap.extra_ignored)} column(s) not in the schema were not "
                                    f"carried over: {', '.join(cmap.extra_ignored)}"]
                                   if cmap.extra_ignored else [])
    unmapped = unmapped_entries(t)
    kept = t.kept_with_unknown()
    entry: TableEntry = {
        "table": t.name,
        "source_file": t.source_file,
        "status": "built",
        "format": raw.fmt,
        "sheet": raw.sheet,
        "encoding": raw.encoding,
        "header_row": raw.header_row,
        "header_row_detected": raw.header_detected,
        "rows_read": t.n_read,
        "rows_accepted": accepted,
        "rows_rejected": len(first),
        "blank_rows_skipped": t.blank_rows,
        "rejected_by_reason": {str(k): int(v) for k, v in first["reason"].value_counts().items()},
        "problems_by_reason": {str(k): int(v) for k, v in frame["reason"].value_counts().items()},
        "warnings": warnings,
        "personal_columns_dropped": list(cmap.personal_dropped),
        "extra_columns_ignored": list(cmap.extra_ignored),
        "column_mapping": {c: (cmap.source_header(c) if c in cmap.positions else None)
                           for c in t.entity.column_names},
        "seconds": round(t.seconds, 3),
        "rows_kept_with_unknown": kept,
        "unmapped_values": unmapped,
        "codes_snippet": codes_snippet(t.name, unmapped),
    }
    if kept:
        columns = list(dict.fromkeys(f"'{u['source_column']}' ({u['column']})" for u in unmapped))
        warnings.append(
            f"{kept:,} row(s) kept with a coded value not in the code list, recorded "
            f"as unknown (in breakdowns: Not recorded), in {', '.join(columns)}: each value is listed with its rows "
            f"and a report.yml snippet under inputs.{t.name}.codes to map it")
    for name in t.wholly_unmapped():
        warnings.append(
            f"none of the values in '{t.header(name)}' is a known {t.entity.column(name).codes} code: check that "
            f"inputs.{t.name}.columns.{name} names the right column, then map the values under "
            f"inputs.{t.name}.codes.{name}")
    if t.fatal is not None:  # read, but not usable (every row rejected): failed, its rows still counted
        entry["status"] = "failed"
        entry["error"] = str(t.fatal)
        entry["config_key"] = t.fatal.key
    return entry


def build_report(config: Config, tables: dict[str, TableResult], key_path: Path, created: bool,
                 key_warnings: list[str], aggregates: AggregatesEntry, seconds: float,
                 ranges: dict[str, tuple[dt.date, dt.date]]) -> IngestReport:
    """Assemble the machine-readable report (what ingest_report.json holds)."""
    entries = [_table_entry(t) for t in tables.values()]
    built = [e["table"] for e in entries if e["status"] == "built"]
    failed = [e["table"] for e in entries if e["status"] == "failed"]
    if aggregates.get("status") == "failed":
        failed.append("aggregates")
    rows_read = sum(e["rows_read"] for e in entries)
    return {
        "generated": dt.datetime.now().isoformat(timespec="seconds"),
        "config": str(config.path),
        "area": config.area_name,
        "year": config.year_label,
        "pseudonymisation": {
            "method": pseudonym.METHOD,
            "key_file": str(key_path),
            "key_created_this_run": created,
            "warnings": key_warnings,
        },
        "plausible_dates": {k: [str(a), str(b)] for k, (a, b) in ranges.items()},
        "tables_built": built,
        "tables_failed": failed,
        "totals": {
            "rows_read": rows_read,
            "rows_accepted": sum(e["rows_accepted"] for e in entries),
            "rows_rejected": sum(e["rows_rejected"] for e in entries),
        },
        # accepted rows (counted in rows_accepted) holding an optional coded value not in the code list
        "rows_kept_with_unknown": sum(e["rows_kept_with_unknown"] for e in entries),
        "seconds": round(seconds, 3),
        "reasons": REASONS,
        "inputs": entries,
        "aggregates": aggregates,
    }


def rejected_frame(tables: dict[str, TableResult]) -> pd.DataFrame:
    """Every problem of every table, one line each, as the rejected-rows file lays it out."""
    parts = []
    for t in tables.values():
        if t.fatal is not None and t.raw is None:
            continue
        f = t.problems.frame()
        if f.empty:
            continue
        parts.append(pd.DataFrame({
            "table": t.name,
            "source_file": t.source_file,
            "row_number": t.row_numbers[f["row"].to_numpy()],
            "column": f["column"], "value": f["value"], "reason": f["reason"],
            "message": f["message"], "fix": f["fix"],
        }))
    if not parts:
        return pd.DataFrame(columns=list(REJECTED_COLUMNS))
    return pd.concat(parts, ignore_index=True)[list(REJECTED_COLUMNS)]


def excel_safe(values: pd.Series) -> pd.Series:
    """Text cells that Excel would run as formulas, with a leading ``'``; numbers and other values unchanged.

    A cell is quoted when it starts with one of :data:`FORMULA_STARTS`, unless
    it is a plain number (``-3``, ``+4``, ``-1.5e3``), which Excel reads as that number.
    """
    text = values.map(lambda v: v if isinstance(v, str) else None)
    first = text.str[:1]
    risky = first.isin(FORMULA_STARTS).fillna(False).astype(bool)
    if not risky.any():
        return values
    number = text[risky].str.fullmatch(_NUMBER).fillna(False).astype(bool)
    quote = risky.copy()
    quote[risky] = ~number
    out = values.copy()
    out[quote] = "'" + text[quote]
    return out


def _md_escape(text: object) -> str:
    """Text from the data as it may sit in the ingest report's Markdown: shown literally in any viewer."""
    return escape.markdown(text).strip()


def markdown(report: IngestReport) -> str:  # noqa: C901
    """The human-readable report for the data-quality appendix."""
    t = report["totals"]
    lines = [
        f"# Ingest report: {_md_escape(report['area'])}, {report['year']}",
        "",
        f"Generated {report['generated']} from `{report['config']}`.",
        "",
        f"**{t['rows_read']:,} rows read, {t['rows_accepted']:,} accepted, {t['rows_rejected']:,} rejected.** "
        "Every rejected row is listed with its row number, column, reason and fix in `ingest_rejected.csv`.",
        "",
        f"Tables built: {', '.join(report['tables_built']) or 'none'}.",
    ]
    kept = report.get("rows_kept_with_unknown", 0)
    if kept:
        lines[-2:-2] = ["", f"**{kept:,} accepted rows have a coded field recorded as "
                        "unknown**: the value is not in the code list and the field is optional, so the row is kept "
                        "(it counts in every headline figure and shows as 'Not recorded' in breakdowns by that "
                        "field). Each value is listed below under its table, with a `report.yml` snippet to map it."]
    if report["tables_failed"]:
        lines.append(f"Tables **not built**: {', '.join(report['tables_failed'])}.")
    pz = report["pseudonymisation"]
    lines += ["", f"Identifiers were replaced by keyed pseudonyms ({pz['method']}). The key is kept in "
              f"`{pz['key_file']}`" + (" (created by this run: back it up securely; without it next year's "
                                        "pseudonyms will not match)" if pz["key_created_this_run"] else "") + "."]
    lines += [f"- Warning: {w}" for w in pz["warnings"]]
    lines += ["", "| table | file | rows read | accepted | rejected | status |", "|---|---|---:|---:|---:|---|"]
    for e in report["inputs"]:
        lines.append(f"| {e['table']} | {_md_escape(e['source_file'])} | {e['rows_read']:,} | "
                     f"{e['rows_accepted']:,} | {e['rows_rejected']:,} | {e['status']} |")
    for e in report["inputs"]:
        lines += ["", f"## {e['table']}", "", f"Source: `{e['source_file']}`"]
        if e["status"] == "failed":
            lines += ["", f"**Not built.** {_md_escape(e['error'])}"]
            if e["rows_read"]:
                lines += ["", f"Rows read {e['rows_read']:,}; accepted {e['rows_accepted']:,}; "
                          f"rejected {e['rows_rejected']:,} (listed in `ingest_rejected.csv`)."]
                lines += [f"- Warning: {_md_escape(w)}" for w in e["warnings"]]
                lines += _unmapped_markdown(e)
            continue
        where = f"sheet '{e['sheet']}', " if e.get("sheet") else ""
        enc = f"encoding {e['encoding']}, " if e.get("encoding") else ""
        layout = (f"{where}{enc}header on row {e['header_row']}"
                  f" ({'found automatically' if e['header_row_detected'] else 'as configured'})")
        if e.get("format") == "cin_census":
            layout = "CIN census XML; row numbers are line numbers in the file"
        lines += ["", f"{layout}.",
                  "", f"Rows read {e['rows_read']:,}; accepted {e['rows_accepted']:,}; "
                  f"rejected {e['rows_rejected']:,}"
                  + (f"; entirely blank rows skipped {e['blank_rows_skipped']:,}" if e["blank_rows_skipped"] else "")
                  + "."]
        if e["rejected_by_reason"]:
            lines += ["", "| reason | rows rejected (first reason) | problems found |", "|---|---:|---:|"]
            for reason in REASONS:
                if reason in e["problems_by_reason"]:
                    lines.append(f"| {REASONS[reason]} (`{reason}`) | {e['rejected_by_reason'].get(reason, 0):,} | "
                                 f"{e['problems_by_reason'][reason]:,} |")
        lines += _unmapped_markdown(e)
        if e["personal_columns_dropped"]:
            lines += ["", "Personal or free-text columns dropped (not carried over): "
                      + ", ".join(f"'{_md_escape(c)}'" for c in e["personal_columns_dropped"]) + "."]
        if e["warnings"]:
            lines += [""] + [f"- Warning: {_md_escape(w)}" for w in e["warnings"]]
    agg = report["aggregates"]
    if agg.get("status") != "not configured":
        lines += ["", "## Aggregate returns", ""]
        if agg["status"] == "failed":
            lines.append(f"**Not (fully) built.** {_md_escape(agg['error'])}")
        if "rows" in agg:
            lines.append(f"{agg['rows']:,} rows written to aggregates.parquet; {len(agg['issues'])} issue(s).")
            for issue in agg["issues"][:200]:
                lines.append(f"- {_md_escape(issue.get('message', issue) if isinstance(issue, dict) else issue)}")
    return "\n".join(lines) + "\n"


def _short(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[:n - 3] + "..."


def _unmapped_markdown(e: TableEntry) -> list[str]:
    """Markdown lines listing one input's coded values not in the code list, and the snippet to map them."""
    items = e.get("unmapped_values") or []
    if not items:
        return []
    lines = ["", "### Values not in the code list (rows kept, field recorded as unknown)", "",
             f"{e.get('rows_kept_with_unknown', 0):,} accepted row(s) hold a value below; the field is left blank "
             "(unknown) in the processed table and shows as 'Not recorded' in breakdowns. Map each value under "
             f"`inputs.{e['table']}.codes.<column>` in `report.yml` and run the ingest again.", "",
             "| column | value | rows | kept | suggested code | why |", "|---|---|---:|---:|---|---|"]
    for i in items:
        col = f"{_md_escape(i['source_column'])} (`{i['column']}`)"
        if i.get("value") is None:
            lines.append(f"| {col} | *{i['more_values']:,} more value(s), not listed* | {i['rows']:,} | "
                         f"{i['rows_kept']:,} | | |")
            continue
        code = f"`{i['suggested_code']}` {_md_escape(i['suggested_label'])}" if i.get("suggested_code") else "none"
        lines.append(f"| {col} | {_md_escape(_short(str(i['value'])))} | {i['rows']:,} | {i['rows_kept']:,} | "
                     f"{code} | {_md_escape(i['suggestion'])} |")
    snippet = e.get("codes_snippet")
    if snippet:
        longest = max((len(m) for m in re.findall(r"`+", snippet)), default=0)
        fence = "`" * max(3, longest + 1)
        lines += ["", f"{fence}yaml", snippet.rstrip("\n"), fence]
    return lines


def write_reports(report: IngestReport, tables: dict[str, TableResult], out_dir: Path) -> list[Path]:
    """Write ingest_report.json, ingest_report.md and ingest_rejected.csv; return their paths."""
    json_path = out_dir / "ingest_report.json"
    md_path = out_dir / "ingest_report.md"
    csv_path = out_dir / "ingest_rejected.csv"
    write_text_atomic(json_path, json.dumps(report, indent=2, default=str) + "\n")
    write_text_atomic(md_path, markdown(report))
    rejected = rejected_frame(tables)
    for col in rejected.columns:
        if not pd.api.types.is_numeric_dtype(rejected[col]):
            rejected[col] = excel_safe(rejected[col])
    write_atomic(csv_path, lambda tmp: rejected.to_csv(tmp, index=False, encoding="utf-8-sig"))
    return [json_path, md_path, csv_path]
