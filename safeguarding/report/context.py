"""What a chapter notebook needs: the configuration, the indicator table,
the catalogue, the benchmarks and the audience's disclosure rules.

A notebook does ``ctx = ReportContext.load(config_path, year=year,
audience=audience, build_dir=build_dir)`` and then calls the section
functions of :mod:`safeguarding.report.sections`, which return Markdown.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, SupportsFloat, SupportsIndex, TypedDict

import numpy as np
import pandas as pd

from safeguarding.config import Config, load_config
from safeguarding.disclosure.policy import Policy
from safeguarding.markers import NOT_APPLICABLE, NOT_AVAILABLE, NOT_PUBLISHED, WITHHELD
from safeguarding.periods import financial_year_label

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.editorial import Editorial
    from safeguarding.indicators.catalogue import Catalogue, Indicator
    from safeguarding.published_data import PublicationSummary


class IngestInput(TypedDict, total=False):
    """One input's entry in the ingest report (:mod:`safeguarding.ingest.report`): the keys read here."""

    table: str
    status: str
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    rejected_by_reason: dict[str, int]
    personal_columns_dropped: list[str]
    warnings: list[str]


class IngestAggregates(TypedDict, total=False):
    """The partners' aggregate returns in the ingest report: the keys read here."""

    status: str
    error: str
    rows: int
    #: each a message, or a dict with one
    issues: list[dict[str, object] | str]


class IngestReport(TypedDict, total=False):
    """The machine-readable ingest report (``ingest_report.json``): the keys read here."""

    inputs: list[IngestInput]
    aggregates: IngestAggregates
    #: what each rejection reason means
    reasons: dict[str, str]


@dataclass
class ReportContext:
    """Everything a chapter needs, loaded once per notebook."""

    config: Config
    audience: str
    build_dir: Path
    indicators: pd.DataFrame
    catalogue: Catalogue
    benchmarks: Any
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: public audience: (indicator, period type, period end, breakdown, value) -> published strings
    #: (a :class:`~safeguarding.report.prepared.ShownTable`, or any such mapping)
    shown: Mapping[tuple[str, str, pd.Timestamp, str, str], dict[str, str]] | None = None
    #: the public disclosure rules (the configuration's ``disclosure:`` section)
    policy: Policy = field(default_factory=Policy)
    _figure_count: int = 0

    # ------------------------------------------------------------------ load
    @classmethod
    def load(cls, config_path: str | Path, *, year: int | None = None, audience: str = "public",
             build_dir: str | Path = ".", saved: str | Path | None = None) -> ReportContext:
        """Load the configuration, the indicator table, catalogue and benchmarks.

        ``saved``: the folder where the build saved the context's tables
        (:func:`safeguarding.report.prepared.save_context`), opened in a fraction of the time it takes
        to work them out; it must be for this audience, year and configuration, and its sources unchanged
        (else :class:`~safeguarding.report.prepared.SavedContextError`). Without it (a notebook run on
        its own), the tables are worked out here.
        """
        from safeguarding.report.prepared import open_context, prepare_context

        cfg = load_config(config_path, year=year, audience=audience)
        prepared = open_context(cfg, saved) if saved is not None else prepare_context(cfg)
        from safeguarding.indicators.catalogue import load_catalogue

        catalogue = load_catalogue(cfg)
        from safeguarding.benchmarks import BenchmarkSource

        benchmarks = BenchmarkSource.from_config(cfg)
        out = Path(build_dir)
        (out / "figures").mkdir(parents=True, exist_ok=True)
        return cls(config=cfg, audience=cfg.audience, build_dir=out, indicators=prepared.indicators,
                   catalogue=catalogue, benchmarks=benchmarks, shown=prepared.shown, policy=cfg.disclosure)

    # ------------------------------------------------------------- basics
    @functools.cached_property
    def editorial(self) -> Editorial:
        """The board's editorial content (:func:`safeguarding.editorial.load_editorial`), read once per chapter."""
        from safeguarding.editorial import load_editorial

        return load_editorial(self.config)

    @property
    def public(self) -> bool:
        """True when small numbers must be suppressed."""
        return self.audience == "public"

    @property
    def year(self) -> int:
        """Reporting year (ending 31 March)."""
        return self.config.year

    @property
    def year_end(self) -> pd.Timestamp:
        """31 March closing the reporting year."""
        return pd.Timestamp(self.config.year_end)

    @property
    def year_start(self) -> pd.Timestamp:
        """1 April opening the reporting year."""
        return pd.Timestamp(self.config.year_start)

    @property
    def la_code(self) -> str | None:
        """DfE code used for benchmarks, if configured."""
        return self.config.area.la_code

    def table(self, name: str) -> pd.DataFrame | None:
        """A processed table (``data/processed/<name>.parquet``), or None if absent."""
        if name not in self.tables:
            path = self.config.processed_dir / f"{name}.parquet"
            self.tables[name] = pd.read_parquet(path) if path.exists() else None
        return self.tables[name]

    def publication(self) -> PublicationSummary | None:
        """The public table's publication summary (detail withheld, exceptions), or None (board, or absent)."""
        if not self.public:
            return None
        from safeguarding.published_data import publication_path

        path = publication_path(self.config)
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    def ingest_report(self) -> IngestReport | None:
        """The machine-readable ingest report, if present."""
        path = self.config.processed_dir / "ingest_report.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    # -------------------------------------------------------- indicators
    def series(self, indicator_id: str, period_type: str = "month", breakdown: str = "all",
               *, through: pd.Timestamp | None = None) -> pd.DataFrame:
        """Rows of one indicator for one period type, oldest first, up to ``through`` (default year end)."""
        ind = self.indicators
        through = self.year_end if through is None else through
        sel = ind[(ind.indicator_id == indicator_id) & (ind.period_type == period_type)
                  & (ind.breakdown == breakdown) & (ind.period_end <= through)]
        return sel.sort_values(["period_start", "breakdown_value"]).reset_index(drop=True)

    def row(self, indicator_id: str, period_type: str = "year", *, period_end: pd.Timestamp | None = None,
            breakdown: str = "all", breakdown_value: str = "all") -> pd.Series | None:
        """The single row for an indicator, period and breakdown value, or None."""
        period_end = self.year_end if period_end is None else period_end
        ind = self.indicators
        sel = ind[(ind.indicator_id == indicator_id) & (ind.period_type == period_type)
                  & (ind.period_end == period_end) & (ind.breakdown == breakdown)
                  & (ind.breakdown_value.astype(str) == str(breakdown_value))]
        return None if sel.empty else sel.iloc[0]

    def years_available(self, indicator_id: str) -> list[int]:
        """Financial years (ending 31 March) with data for an indicator."""
        s = self.series(indicator_id, "year")
        s = s[s["value"].notna()]
        return sorted({int(d.year) for d in s.period_end})

    def info(self, indicator_id: str) -> Indicator:
        """Catalogue entry of an indicator."""
        return self.catalogue[indicator_id]

    # -------------------------------------------------------- formatting
    def is_small(self, n: object) -> bool:
        """True when ``n`` is a count from 1 to 5 (the policy's threshold) that the public audience may not see."""
        v = _num(n)
        return self.public and v is not None and self.policy.small(v)

    def fmt_count(self, n: object) -> str:
        """A count as published: thousands separators, ``c`` for a small count in public, ``:`` if missing."""
        v = _num(n)
        if v is None:
            return NOT_AVAILABLE
        if self.is_small(v):
            return WITHHELD
        return f"{round(v):,}"

    def fmt_pct(self, numerator: object, denominator: object, value: object = None) -> str:
        """A percentage to 1 dp, suppressed (``c``) when its numerator is suppressed."""
        num, den = _num(numerator), _num(denominator)
        if den is None or den == 0:
            return NOT_AVAILABLE
        if self.is_small(num) or self.is_small(den - (num or 0)):
            return WITHHELD
        from safeguarding.measures import percentage, round_half_up

        v = _num(value) if value is not None else _num(percentage(num, den))
        if v is None:  # no numerator, or a row without a value: nothing to show (it printed 'nan%')
            return NOT_AVAILABLE
        return f"{round_half_up(v, 1):.1f}%"

    def fmt_rate(self, value: object, numerator: object = None) -> str:
        """A rate per 10,000 to 1 dp, suppressed when its count is suppressed."""
        if numerator is not None and self.is_small(numerator):
            return WITHHELD
        v = _num(value)
        if v is None:
            return NOT_AVAILABLE
        from safeguarding.measures import round_half_up

        return f"{round_half_up(v, 1):,.1f}"

    def published(self, row: pd.Series | None) -> dict[str, str] | None:
        """The disclosure-controlled strings of an indicator row (public audience), or None."""
        if row is None or self.shown is None:
            return None
        key = (str(row["indicator_id"]), str(row["period_type"]), pd.Timestamp(row["period_end"]),
               str(row["breakdown"]), str(row["breakdown_value"]))
        return self.shown.get(key)

    def note(self, row: pd.Series | None) -> str:
        """A row's note as this audience may read it ("" when there is none).

        The board reads the indicator table's note as it is. The public reads
        it as the published data files give it, so that a note has one string
        wherever it is said: every count of cases made "some"
        (:func:`~safeguarding.published_data.safe_note`, under this context's
        policy), and nothing at all for a withheld figure (its note could tell
        a zero from a count).
        """
        if row is None:
            return ""
        raw = row.get("note")
        if raw is None or (isinstance(raw, float) and math.isnan(raw)) or str(raw) == "":
            return ""
        if not self.public:
            return str(raw)
        if self.is_hidden(row):
            return ""
        from safeguarding.published_data import safe_note

        return safe_note(raw, policy_of(self))

    def is_hidden(self, row: pd.Series | None) -> bool:
        """True when the public may not see this row's figure (suppressed ``c`` or withheld ``x``).

        A row the disclosure-controlled table does not hold counts as withheld.
        """
        if row is None or self.shown is None:
            return False
        pub = self.published(row)
        return pub is None or pub.get("marker") in (WITHHELD, NOT_PUBLISHED)

    def hidden_mask(self, rows: pd.DataFrame, markers: tuple[str, ...] = (WITHHELD, NOT_PUBLISHED)) -> np.ndarray:
        """For indicator-table rows: True where the public disclosure-controlled table withholds the figure.

        ``markers``: which markers count as withheld (default ``c`` and ``x``).
        A row missing from the disclosure-controlled table counts as withheld.
        """
        if self.shown is None or rows.empty:
            return np.zeros(len(rows), dtype=bool)
        withheld = getattr(self.shown, "withheld", None)
        if withheld is not None:  # a ShownTable: every row at once
            return withheld(rows, markers)
        keys = zip(rows["indicator_id"].astype(str), rows["period_type"].astype(str),
                   pd.to_datetime(rows["period_end"]), rows["breakdown"].astype(str),
                   rows["breakdown_value"].astype(str), strict=True)
        missing = {"marker": NOT_PUBLISHED}
        return np.array([self.shown.get(k, missing).get("marker") in markers for k in keys], dtype=bool)

    def fmt_value(self, row: pd.Series | None) -> str:
        """An indicator row's value formatted by the catalogue unit (``c`` where suppressed)."""
        if row is None:
            return NOT_AVAILABLE
        if self.is_hidden(row):
            return WITHHELD
        status = str(row.get("status", "ok"))
        if status != "ok" and pd.isna(row.get("value")):
            return NOT_AVAILABLE
        unit = self.unit(str(row["indicator_id"]))
        if unit == "percent":
            return self.fmt_pct(row["numerator"], row["denominator"], row["value"])
        if unit == "rate_per_10k":
            return self.fmt_rate(row["value"], row["numerator"])
        return self.fmt_count(row["value"])

    def fmt_interval(self, row: pd.Series | None) -> str:
        """The 95% confidence interval of a row's percentage or rate, as the report's tables show it.

        A percentage gets its Wilson score interval ('72.0% to 80.6%'), a rate per
        10,000 the exact (below 10 events) or Byar's Poisson interval of its count
        over the population ('36.2 to 44.8'), both worked out from the numerator and
        denominator the audience's table publishes (the same formulas as the
        indicator table's ``ci_lower``/``ci_upper``). A figure the table shows as a
        marker gets the same marker (``c`` withheld, ``:`` not available), so a
        withheld figure has no interval; a count gets ``z`` (not applicable: it is
        what was recorded, not an estimate).
        """
        shown = self.fmt_value(row)
        if row is None or shown in (WITHHELD, NOT_AVAILABLE):
            return shown
        unit = self.unit(str(row["indicator_id"]))
        if unit not in ("percent", "rate_per_10k"):
            return NOT_APPLICABLE
        pub = self.published(row)
        if pub is not None:  # the published strings, never the figures behind them
            num, den = _num(pub.get("numerator")), _num(pub.get("denominator"))
        else:
            num, den = _num(row.get("numerator")), _num(row.get("denominator"))
        if num is None or den is None or den <= 0:
            return NOT_AVAILABLE
        return interval_text(num, den, unit)

    def unit(self, indicator_id: str) -> str:
        """The catalogue unit (count, percent, rate_per_10k)."""
        entry = self.catalogue[indicator_id]
        return str(getattr(entry, "unit", None) or entry["unit"])

    # ------------------------------------------------------------ figures
    def figure_path(self, stem: str) -> Path:
        """A new PNG path under the build folder's ``figures/``."""
        self._figure_count += 1
        return self.build_dir / "figures" / f"{stem}-{self._figure_count:02d}.png"

    def period_label(self, ts: pd.Timestamp | dt.date, period_type: str = "month") -> str:
        """Human label for a period start: 'Apr 2024', 'Q1 2024-25', '2024-25'."""
        ts = pd.Timestamp(ts)
        if period_type == "month":
            return ts.strftime("%b %Y")
        fy = ts.year + 1 if ts.month >= 4 else ts.year
        if period_type == "quarter":
            q = ((ts.month - 4) % 12) // 3 + 1
            return f"Q{q} {fy - 1}-{str(fy)[-2:]}"
        return f"{fy - 1}-{str(fy)[-2:]}"


def policy_of(ctx: object) -> Policy:
    """The disclosure policy of a report context (the default :class:`Policy` for a stand-in without one)."""
    policy = getattr(ctx, "policy", None)
    return policy if isinstance(policy, Policy) else Policy()


def interval_text(numerator: float, denominator: float, unit: str = "percent") -> str:
    """A 95% confidence interval as printed in a table, from a numerator and denominator.

    ``unit='percent'``: the Wilson score interval of numerator / denominator
    ('72.0% to 80.6%'); ``unit='rate_per_10k'``: the Poisson interval of the count
    (numerator) per 10,000 of the population (denominator), without a % sign.
    Limits to 1 decimal place, halves rounded up, as the figures themselves.
    """
    from safeguarding.measures import round_half_up
    from safeguarding.stats import rate_interval, wilson_interval

    if unit == "percent":
        lo, hi = wilson_interval(numerator, denominator)
        return f"{round_half_up(100 * float(lo), 1):.1f}% to {round_half_up(100 * float(hi), 1):.1f}%"
    if unit == "rate_per_10k":
        lo, hi = rate_interval(numerator, denominator, per=10_000)
        return f"{round_half_up(float(lo), 1):,.1f} to {round_half_up(float(hi), 1):,.1f}"
    raise ValueError(f"interval_text: no interval for unit {unit!r} (percent or rate_per_10k)")


def fy_label(year: int) -> str:
    """'2024-25' for the year ending March 2025 (:func:`safeguarding.periods.financial_year_label`)."""
    return financial_year_label(year)


def _num(x: object) -> float | None:
    if x is None:
        return None
    if not isinstance(x, float | int | str | bytes | bytearray | memoryview | SupportsFloat | SupportsIndex):
        return None  # what float() refuses (TypeError)
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(v) else v
