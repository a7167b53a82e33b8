"""Shared helpers for the end-to-end tests: build the demo council once per audience."""

from __future__ import annotations

from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[1]


def demo_config_copy(tmp: Path, **overrides: object) -> Path:
    """A copy of the demo report.yml whose outputs go to ``tmp`` (inputs stay where they are)."""
    raw = yaml.safe_load((PROJECT / "report.yml").read_text(encoding="utf-8"))
    for spec in (raw.get("inputs") or {}).values():
        spec["file"] = str((PROJECT / spec["file"]).resolve())
    for spec in raw.get("aggregates") or []:
        spec["file"] = str((PROJECT / spec["file"]).resolve())
    paths = raw.setdefault("paths", {})
    paths["raw"] = str((PROJECT / paths.get("raw", "data/raw/demo")).resolve())
    paths["processed"] = str(tmp / "processed")
    paths["reports"] = str(tmp / "reports")
    if raw.get("editorial"):
        raw["editorial"] = str((PROJECT / raw["editorial"]).resolve())
    bench = raw.get("benchmarks") or {}
    if bench.get("folder"):
        bench["folder"] = str((PROJECT / bench["folder"]).resolve())
    raw.update(overrides)
    out = tmp / "report.yml"
    out.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out
