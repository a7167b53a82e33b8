"""The indicator table as published beside the report (CSV and XLSX).

For the public audience the same disclosure rules as the report apply:
counts from 1 to 5 become ``c``, secondary suppression protects them from
being recovered from totals, and percentages and rates built on a suppressed
count are suppressed too. Text cells are written so that no spreadsheet can
execute them as formulas.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from safeguarding.config import Config

PUBLISHED_COLUMNS = (
    "indicator_id", "indicator_name", "period_type", "period_start", "period_end", "breakdown",
    "breakdown_value", "numerator", "denominator", "value", "ci_lower", "ci_upper", "unit",
    "status", "target", "rag",
)


def published_table(cfg: Config, audience: str) -> pd.DataFrame:
    """The indicator table restricted to periods up to the reporting year end, suppressed for the public."""
    ind = pd.read_parquet(cfg.processed_dir / "indicators.parquet")
    ind["period_end"] = pd.to_datetime(ind["period_end"])
    ind = ind[ind["period_end"] <= pd.Timestamp(cfg.year_end)].copy()
    try:
        from safeguarding.indicators.catalogue import load_catalogue

        cat = load_catalogue(cfg)
        ind["indicator_name"] = ind["indicator_id"].map(lambda c: _attr(cat, c, "name"))
        ind["unit"] = ind["indicator_id"].map(lambda c: _attr(cat, c, "unit"))
    except Exception:  # the catalogue adds labels only; the table stands without them
        ind["indicator_name"] = ind.get("indicator_name", "")
        ind["unit"] = ind.get("unit", "")
    if audience == "public":
        from safeguarding.disclosure import suppress_indicator_table

        ind = suppress_indicator_table(ind)
    cols = [c for c in PUBLISHED_COLUMNS if c in ind.columns]
    extra = [c for c in ("marker", "note") if c in ind.columns and c not in cols]
    out = ind[cols + extra].copy()
    for col in ("period_start", "period_end"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
    return out.sort_values(["indicator_id", "period_type", "period_start", "breakdown", "breakdown_value"])


def write_published_data(cfg: Config, audience: str, out_dir: Path) -> list[Path]:
    """Write ``indicators.csv`` and ``indicators.xlsx`` into ``out_dir``; return the paths."""
    from safeguarding.disclosure import write_csv, write_xlsx

    out_dir.mkdir(parents=True, exist_ok=True)
    table = published_table(cfg, audience)
    csv_path = out_dir / "indicators.csv"
    xlsx_path = out_dir / "indicators.xlsx"
    write_csv(table, csv_path)
    write_xlsx(table, xlsx_path, sheet_name="Indicators")
    return [csv_path, xlsx_path]


def _attr(cat: object, code: str, name: str) -> str:
    try:
        entry = cat[code]  # type: ignore[index]
    except (KeyError, TypeError):
        return ""
    value = getattr(entry, name, None)
    if value is None and isinstance(entry, dict):
        value = entry.get(name)
    return "" if value is None else str(value)
