"""Checking the aggregate returns: each read as the ingest reads it, counts only."""

from __future__ import annotations

from safeguarding.check.findings import AggregateCheck
from safeguarding.config import Config


def check_aggregates(cfg: Config) -> list[AggregateCheck]:
    """Read each aggregate return as the ingest does (counts only) and say whether it can be read."""
    if not cfg.aggregates:
        return []
    from safeguarding.ingest.partners import read_aggregate_return

    out = []
    for spec in cfg.aggregates:
        base = cfg.raw_dir
        if not (cfg.raw_dir / spec.file).exists() and cfg.resolve(spec.file).exists():
            base = cfg.root
        frame, issues = read_aggregate_return(spec, base, default_year=cfg.year)
        chk = AggregateCheck(spec.index, spec.file, figures=len(frame))
        chk.errors = [x.message for x in issues if x.is_error]
        chk.warnings = sum(1 for x in issues if not x.is_error)
        accounting = frame.attrs.get("accounting", [])
        chk.unread = bool(chk.errors) and not any(a.cells_in for a in accounting)
        out.append(chk)
    return out
