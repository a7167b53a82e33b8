"""The one configuration file an analyst edits (``report.yml``).

Paths in the file are relative to the file's own folder. See
``docs/configuration.md`` for every key.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from safeguarding.schema import ENTITIES


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or names something unknown."""


KNOWN_TOP_LEVEL = {
    "area", "year", "audience", "paths", "inputs", "aggregates", "population",
    "benchmarks", "targets", "indicators", "age_bands", "report", "pseudonymisation",
    "ingest",
}


@dataclass
class Config:
    """A loaded and checked ``report.yml``."""

    path: Path
    raw: dict[str, Any]
    root: Path
    area_name: str
    area_slug: str
    year: int
    audience: str
    raw_dir: Path
    processed_dir: Path
    reports_dir: Path
    inputs: dict[str, dict[str, Any]]
    aggregates: list[dict[str, Any]] = field(default_factory=list)
    population: dict[int, float] = field(default_factory=dict)
    targets: dict[str, float] = field(default_factory=dict)

    @property
    def year_label(self) -> str:
        """Financial year label, e.g. ``2024-25`` for year 2025."""
        return f"{self.year - 1}-{str(self.year)[-2:]}"

    @property
    def year_start(self) -> dt.date:
        """1 April that opens the reporting year."""
        return dt.date(self.year - 1, 4, 1)

    @property
    def year_end(self) -> dt.date:
        """31 March that closes the reporting year."""
        return dt.date(self.year, 3, 31)

    def resolve(self, value: str | os.PathLike[str]) -> Path:
        """Resolve a path from the file relative to the configuration's folder."""
        p = Path(os.path.expanduser(str(value)))
        return p if p.is_absolute() else (self.root / p)

    def section(self, name: str) -> dict[str, Any]:
        """Return a top-level mapping section, or an empty dict."""
        value = self.raw.get(name) or {}
        if not isinstance(value, dict):
            raise ConfigError(f"{self.path}: '{name}' must be a mapping")
        return value


def _slug(text: str) -> str:
    out = "".join(ch.lower() if ch.isalnum() else "-" for ch in text)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-") or "area"


def load_config(path: str | os.PathLike[str], *, year: int | None = None,
                audience: str | None = None) -> Config:
    """Load and check a configuration file.

    ``year`` and ``audience`` override the file's values (command-line options).
    Raises :class:`ConfigError` with the file name and the fix when the file is
    missing, is not YAML, or names an unknown section or table.
    """
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"configuration file not found: {p} (pass --config with the path to report.yml)")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8-sig")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: the top level must be a mapping of settings")
    unknown = set(raw) - KNOWN_TOP_LEVEL
    if unknown:
        raise ConfigError(
            f"{p}: unknown setting(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(KNOWN_TOP_LEVEL))}"
        )
    root = p.resolve().parent
    area = raw.get("area") or {}
    name = str(area.get("name", "Unnamed area"))
    yr = int(year if year is not None else raw.get("year", 0) or 0)
    if yr < 2000 or yr > 2100:
        raise ConfigError(f"{p}: 'year' must be the year ending 31 March of the reporting year, e.g. 2025 for 2024-25")
    aud = str(audience or raw.get("audience") or "public")
    if aud not in {"public", "board"}:
        raise ConfigError(f"{p}: 'audience' must be 'public' or 'board', not {aud!r}")
    paths = raw.get("paths") or {}
    inputs = raw.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise ConfigError(f"{p}: 'inputs' must map table names to input settings")
    bad = set(inputs) - set(ENTITIES)
    if bad:
        raise ConfigError(
            f"{p}: unknown input table(s) {', '.join(sorted(bad))}; valid: {', '.join(ENTITIES)}"
        )
    cfg = Config(
        path=p,
        raw=raw,
        root=root,
        area_name=name,
        area_slug=str(area.get("slug") or _slug(name)),
        year=yr,
        audience=aud,
        raw_dir=Path(),
        processed_dir=Path(),
        reports_dir=Path(),
        inputs={k: dict(v or {}) for k, v in inputs.items()},
        aggregates=list(raw.get("aggregates") or []),
        population={int(k): float(v) for k, v in (raw.get("population") or {}).items()
                    if str(k).isdigit()},
        targets={str(k): float(v) for k, v in (raw.get("targets") or {}).items()},
    )
    cfg.raw_dir = cfg.resolve(paths.get("raw", "data/raw"))
    cfg.processed_dir = cfg.resolve(paths.get("processed", "data/processed"))
    cfg.reports_dir = cfg.resolve(paths.get("reports", "reports"))
    return cfg
