"""The check as an analyst reads it (:func:`format_report`)."""

from __future__ import annotations

from safeguarding.check.findings import CheckResult, InputCheck, _shown


def _source_line(chk: InputCheck) -> str:
    bits = [chk.file]
    if chk.fmt == "cin_census":
        bits.append("CIN census XML")
    elif chk.fmt:
        bits.append(chk.fmt.upper())
    if chk.sheet:
        bits.append(f"sheet {chk.sheet!r}")
    if chk.encoding:
        bits.append(chk.encoding)
    if chk.header_row:
        bits.append(f"header on row {chk.header_row}" + (" (found)" if chk.header_detected else ""))
    return ", ".join(bits)


def format_report(result: CheckResult, *, verbose: bool = False) -> str:
    """The check as an analyst reads it: one block per input, the fixes as report.yml snippets, a summary."""
    cfg = result.config
    lines = [f"Checking {cfg.path} for {cfg.area_name!r}, year {cfg.year_label} (nothing is built or written)", ""]
    for chk in result.inputs:
        status = "CANNOT BE BUILT" if chk.blocking else "ok"
        unread = any(f.kind == "unreadable" for f in chk.findings)
        size = "" if unread else f": {chk.rows:,} rows"
        lines.append(f"{chk.key}  [{status}]  {_source_line(chk)}{size}")
        groups = [
            ("Blocks the build", ("unreadable", "configured_absent", "missing_required", "bad_code_setting")),
            ("Values not recognised (map them, or the ingest cannot use them)", ("unknown_code", "hidden_codes")),
            ("Headers not read", ("unmapped_header",)),
            ("Never read (personal or free text)", ("personal_header",)),
            ("Notes", ("missing_optional", "warning")),
        ]
        for title, kinds in groups:
            found = chk.of(*kinds)
            if found:
                lines.append(f"  {title}:")
                lines += [f"    - {f.message}" for f in found]
        if verbose and chk.mapped:
            index = {h: i for i, h in reversed(list(enumerate(chk.headers)))}
            lines.append("  Mapped: " + ", ".join(f"{c} <- {_shown(chk, h, index.get(h, 0))}"
                                                 for c, h in chk.mapped.items()))
        if chk.mapped and not chk.of("unreadable", "configured_absent", "missing_required", "bad_code_setting",
                                      "unknown_code", "hidden_codes"):
            lines.append(f"  ok: every required column found ({len(chk.mapped)} mapped), every code recognised")
        for where, text in chk.snippets():
            lines += [f"  Paste into report.yml under {where}:", "", text, ""]
        lines.append("")
    for agg in result.aggregates:
        status = "CANNOT BE BUILT" if agg.unread else "ok"
        lines.append(f"{agg.key}  [{status}]  {agg.file}: {agg.figures:,} figures read")
        for e in agg.errors[:5]:
            lines.append(f"    - {e}")
        if len(agg.errors) > 5:
            lines.append(f"    - and {len(agg.errors) - 5} more error(s)")
        if agg.warnings:
            lines.append(f"    {agg.warnings} warning(s): run the ingest for the full list")
        lines.append("")
    blocked = [c.table for c in result.inputs if c.blocking] + [a.key for a in result.aggregates if a.unread]
    n_codes = result.unknown_values
    n_headers = sum(len(c.of("unmapped_header")) for c in result.inputs)
    lines.append("Summary:")
    lines.append(f"  {'cannot be built: ' + ', '.join(blocked) if blocked else 'nothing blocks the build'}")
    lines.append(f"  {n_codes} value(s) not recognised" + (" (map them: the ingest cannot use them)"
                                                           if n_codes else ""))
    lines.append(f"  {n_headers} header(s) not read (informational)")
    if blocked or n_codes:
        lines.append(f"Paste the settings above into {cfg.path} and run the check again.")
    else:
        lines.append(f"Next: python pipeline.py build --config {cfg.path}")
    return "\n".join(lines)
