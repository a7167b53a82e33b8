"""The indicator table as published beside the report (CSV and XLSX).

For the public audience the same disclosure rules as the report apply:
counts from 1 to 5 become ``c``, secondary suppression protects them from
being recovered from totals, and percentages and rates built on a suppressed
count are suppressed too. Text cells are written so that no spreadsheet can
execute them as formulas.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from safeguarding.config import Config

#: period types published nowhere (report or files) and so withheld from the public table as ``x``
WITHHELD_PERIOD_TYPES = ("rolling12",)

PUBLISHED_COLUMNS = (
    "indicator_id", "indicator_name", "period_type", "period_start", "period_end", "breakdown",
    "breakdown_value", "numerator", "denominator", "value", "ci_lower", "ci_upper", "unit",
    "status", "target", "rag",
)


def suppressed_path(cfg: Config, audience: str) -> Path:
    """Where the audience's disclosure-controlled indicator table is kept (processed folder)."""
    return cfg.processed_dir / f"indicators_{audience}.parquet"


def disclosure_controlled(cfg: Config, audience: str, stats: dict | None = None) -> Path:
    """Apply disclosure control to the whole indicator table once, and save it for the notebooks.

    Suppression runs over every period and breakdown that is published
    anywhere, so that every relation a reader could use (months to quarters
    and years, breakdowns to headline, stock and flow) is protected;
    publishing a subset of the protected table afterwards can only reveal
    less. Rolling 12-month figures are published nowhere and are withheld
    (``x``) for the public audience. The board audience gets
    the same table formatted but unsuppressed. ``stats``, if given, receives the
    suppression's figures (see :func:`~safeguarding.disclosure.suppress_indicator_table`).
    """
    ind = pd.read_parquet(cfg.processed_dir / "indicators.parquet")
    try:
        from safeguarding.indicators.catalogue import load_catalogue

        cat = load_catalogue(cfg)
        ind["indicator_name"] = ind["indicator_id"].map(lambda c: _attr(cat, c, "name"))
        ind["unit"] = ind["indicator_id"].map(lambda c: _attr(cat, c, "unit"))
    except Exception:  # labels only; the table stands without them
        ind["indicator_name"] = ""
        ind["unit"] = ""
    from safeguarding.disclosure import suppress_indicator_table

    if audience == "public":
        # rolling 12-month figures are published nowhere (see published_periods): withheld (x), kept out
        # of the suppression, where their overlapping windows would tie every month to its neighbours
        withheld = ind["period_type"].astype(str).isin(WITHHELD_PERIOD_TYPES).to_numpy()
        shown = suppress_indicator_table(ind[~withheld], stats=stats)
        if withheld.any():  # back in the table's order; intervals and RAG are cleared below with the c's
            held = ind[withheld].copy()
            for col in ("numerator", "denominator", "value", "marker"):
                held[col] = pd.Series("x", index=held.index, dtype="string")
            held["suppressed"] = True
            shown.index = np.flatnonzero(~withheld)
            shown = pd.concat([shown, held[shown.columns]]).sort_index().reset_index(drop=True)
            if stats is not None:
                stats["withheld_rows"] = int(withheld.sum())
        hidden = shown["suppressed"].astype(bool) | (shown["marker"].astype(str) == "c")
        for col in ("ci_lower", "ci_upper", "unknown"):
            if col in shown.columns:
                shown.loc[hidden, col] = float("nan")
        if "rag" in shown.columns:
            shown.loc[hidden, "rag"] = "N/A"
        if "note" in shown.columns:
            shown["note"] = shown["note"].map(safe_note)
    else:
        shown = suppress_indicator_table(ind, threshold=(0, -1))
    path = suppressed_path(cfg, audience)
    shown.to_parquet(path, index=False)
    return path


def published_table(cfg: Config, audience: str) -> pd.DataFrame:
    """The published indicator table: disclosure-controlled, periods up to the reporting year end."""
    path = suppressed_path(cfg, audience)
    if not path.exists():
        disclosure_controlled(cfg, audience)
    ind = pd.read_parquet(path)
    ind = ind[published_periods(ind, pd.Timestamp(cfg.year_end))].copy()
    cols = [c for c in PUBLISHED_COLUMNS if c in ind.columns]
    extra = [c for c in ("marker", "note") if c in ind.columns and c not in cols]
    out = ind[cols + extra].copy()
    for col in ("period_start", "period_end"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
    return out.sort_values(["indicator_id", "period_type", "period_start", "breakdown", "breakdown_value"])


#: how far back each period type is published (months before the year end)
PUBLISHED_SPAN = {"year": 10 * 12, "quarter": 3 * 12, "month": 2 * 12}


def published_periods(ind: pd.DataFrame, year_end: pd.Timestamp) -> pd.Series:
    """Rows the published table covers: years (10), quarters (3 years) and months (2 years) to the year end.

    Rolling 12-month figures are left out of the published file: the one at
    the year end equals the year, and the others overlap each other, which
    would let a reader difference suppressed months out of them.
    """
    end = pd.to_datetime(ind["period_end"])
    keep = pd.Series(False, index=ind.index)
    for ptype, months in PUBLISHED_SPAN.items():
        keep |= (ind["period_type"] == ptype) & (end <= year_end) & (end > year_end - pd.DateOffset(months=months))
    return keep


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


_SMALL_IN_TEXT = re.compile(r"(?<![\w.,/-])([1-5])(?![\w.,/%-])")


def safe_note(text: object) -> str:
    """A note with any stand-alone count from 1 to 5 replaced by 'fewer than 6' (public audience)."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    return _SMALL_IN_TEXT.sub("fewer than 6", str(text))


def _attr(cat: object, code: str, name: str) -> str:
    try:
        entry = cat[code]  # type: ignore[index]
    except (KeyError, TypeError):
        return ""
    value = getattr(entry, name, None)
    if value is None and isinstance(entry, dict):
        value = entry.get(name)
    return "" if value is None else str(value)
