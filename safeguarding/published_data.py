"""The indicator table as published beside the report (CSV and XLSX).

For the public audience the same disclosure rules as the report apply
(:mod:`safeguarding.disclosure`, with the ``disclosure:`` settings of
``report.yml``): counts from 1 to 5 become ``c``, secondary suppression
protects them from being recovered from totals, and percentages and rates
built on a suppressed count are suppressed too. What the public table covers
at all is :mod:`safeguarding.disclosure.scope` (its functions are imported
here for the callers that know them from this module). Text cells are
written so that no spreadsheet can execute them as formulas
(:mod:`safeguarding.publish.writers`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import numpy as np
import pandas as pd

from safeguarding.atomic import write_atomic
from safeguarding.config import Config
from safeguarding.disclosure.policy import Policy
from safeguarding.indicators.notes import plural
from safeguarding.markers import HIDDEN, NOT_PUBLISHED, WITHHELD

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.disclosure.publication import HiddenHeadline, WithheldSeries
    from safeguarding.disclosure.scope import publication_scope, sparse_series  # noqa: F401 - re-exported


class LevelCount(TypedDict):
    """Cells of one period type and level (headline or breakdown): published, withheld (``c``), not published."""

    period_type: str
    level: str
    published: int
    withheld: int
    not_published: int


class HeadlineWithheld(TypedDict):
    """An annual headline figure of a protected year that is withheld, and why (``year_end`` ISO)."""

    indicator_id: str
    year_end: str
    reason: str


class PublicationSummary(TypedDict):
    """What the public table publishes and withholds (:func:`publication_summary`; ``publication.json``)."""

    by_level: list[LevelCount]
    headline_withheld: list[HeadlineWithheld]
    detail_withheld: list[WithheldSeries]
    exceptions: list[HiddenHeadline]


PUBLISHED_COLUMNS = (
    "indicator_id", "indicator_name", "period_type", "period_start", "period_end", "breakdown",
    "breakdown_value", "numerator", "denominator", "value", "ci_lower", "ci_upper", "unit",
    "status", "target", "rag",
)


def publication_path(cfg: Config) -> Path:
    """Where the public table's publication summary is kept (processed folder): what is withheld, and why."""
    return cfg.processed_dir / "indicators_public_summary.json"


def suppressed_path(cfg: Config, audience: str) -> Path:
    """Where the audience's disclosure-controlled indicator table is kept (processed folder)."""
    return cfg.processed_dir / f"indicators_{audience}.parquet"


def disclosure_controlled(cfg: Config, audience: str, stats: dict | None = None, *,
                          workers: int | None = None) -> Path:
    """Apply disclosure control to the whole indicator table once, and save it for the notebooks.

    Suppression runs over every period and breakdown that is published
    anywhere (:func:`publication_scope`), so that every relation a reader
    could use (months to quarters and years, breakdowns to headline, stock
    and flow) is protected; publishing a subset of the protected table
    afterwards can only reveal less. Figures outside the scope (rolling 12
    months, older periods) and breakdowns by month or quarter made up mostly
    of counts from 1 to 5 (:func:`sparse_series`) are withheld (``x``) for the
    public audience, and the report treats them as hidden. The public rules
    are the configuration's (``cfg.disclosure``, the ``disclosure:`` section of
    ``report.yml``). The board audience gets the same table formatted but
    unsuppressed (:meth:`~safeguarding.disclosure.Policy.unsuppressed`).
    ``stats``, if given, receives the suppression's figures (see
    :func:`~safeguarding.disclosure.suppress_indicator_table`). ``workers``:
    processes protecting families of linked indicators at once (default: two,
    or one on a one-core machine); the table is the same whatever the number.
    """
    ind = pd.read_parquet(cfg.processed_dir / "indicators.parquet")
    try:
        from safeguarding.indicators.catalogue import load_catalogue

        cat = load_catalogue(cfg)
        for col, attr in (("indicator_name", "name"), ("unit", "unit")):  # looked up once per indicator

            def lookup(code: object, attr: str = attr) -> str:
                return _attr(cat, str(code), attr)

            ind[col] = _each_distinct(ind["indicator_id"], lookup)
    except Exception:  # labels only; the table stands without them
        ind["indicator_name"] = ""
        ind["unit"] = ""
    if audience == "public":
        policy = cfg.disclosure
        # what is published at all, the detail withheld so that the year's headline figures can be, and the
        # suppression: safeguarding.disclosure.publication
        from safeguarding.disclosure.publication import protect_publication

        pub = protect_publication(ind, pd.Timestamp(cfg.year_end), policy,
                                  workers=workers if workers is not None else min(2, os.cpu_count() or 1))
        shown = pub.shown.reset_index(drop=True)
        if stats is not None:
            stats.update(pub.stats)
        hidden = shown["suppressed"].astype(bool) | shown["marker"].astype(str).isin(HIDDEN)
        for col in ("ci_lower", "ci_upper", "unknown"):
            if col in shown.columns:
                shown.loc[hidden, col] = float("nan")
        if "rag" in shown.columns:
            shown.loc[hidden, "rag"] = "N/A"
        if "note" in shown.columns:  # each distinct note made safe once
            shown["note"] = _each_distinct(shown["note"], lambda text: safe_note(text, policy))
        # a hidden figure's status and note would tell a zero from a count ("no cases in the denominator",
        # status 'ok' when there is at least one): say nothing about it but that it is withheld
        for col, text in (("status", "withheld"), ("note", "")):
            if col in shown.columns:
                shown[col] = shown[col].astype(object)
                shown.loc[hidden, col] = text
        summary = publication_summary(ind, shown, pd.Timestamp(cfg.year_end), policy, exceptions=pub.exceptions,
                                      detail=pub.yielded)
        write_atomic(publication_path(cfg), lambda tmp: tmp.write_text(json.dumps(summary, indent=1),
                                                                       encoding="utf-8"))
        if stats is not None:
            stats["publication"] = summary
    else:
        from safeguarding.disclosure.tables import suppress_indicator_table

        shown = suppress_indicator_table(ind, policy=Policy.unsuppressed())
    path = suppressed_path(cfg, audience)
    write_atomic(path, lambda tmp: shown.to_parquet(tmp, index=False))
    return path


def publication_summary(ind: pd.DataFrame, shown: pd.DataFrame, year_end: pd.Timestamp,
                        policy: Policy | None = None, *, exceptions: list[HiddenHeadline] | None = None,
                        detail: list[WithheldSeries] | None = None) -> PublicationSummary:
    """What the public table publishes and withholds, by level, and every annual headline figure withheld and why.

    ``ind`` is the unsuppressed indicator table and ``shown`` the protected one,
    row for row. Levels are the period type (year, quarter, month, rolling 12
    months) and headline (``breakdown == 'all'``) or breakdown. ``withheld``
    counts cells shown as ``c``; ``not_published`` those outside the
    publication scope or in a breakdown withheld whole (``x``). The headline
    list covers the years the policy protects (``protect_years``: the
    reporting year and the year before): a figure is withheld because it
    rests on a count of 1 to 5 (the ``policy``'s threshold), or, as one of
    the ``exceptions`` of :func:`~safeguarding.disclosure.publication.protect_publication`,
    because the annual figures alone would otherwise reveal a small count.
    ``detail`` (the series withheld so that the headline figures could be
    published) and ``exceptions`` are kept as ``detail_withheld`` and
    ``exceptions``.
    """
    policy = policy if policy is not None else Policy()
    lo, hi = policy.threshold or (1, 5)
    if len(ind) != len(shown):
        raise ValueError("publication_summary: the protected table must match the indicator table row for row")
    marker = shown["marker"].astype(str).to_numpy()
    level = np.where(ind["breakdown"].astype(str).to_numpy() == "all", "headline", "breakdown")
    frame = pd.DataFrame({"period_type": ind["period_type"].astype(str).to_numpy(), "level": level,
                          "marker": marker})
    by_level: list[LevelCount] = []
    for (period_type, lvl), g in frame.groupby(["period_type", "level"], sort=True):
        by_level.append({"period_type": period_type, "level": lvl,
                         "published": int((~g["marker"].isin(HIDDEN)).sum()),
                         "withheld": int((g["marker"] == WITHHELD).sum()),
                         "not_published": int((g["marker"] == NOT_PUBLISHED).sum())})
    ends = {pd.Timestamp(year_end) - pd.DateOffset(years=k) for k in range(max(policy.protect_years, 1))}
    pick = ((ind["period_type"].astype(str) == "year") & (ind["breakdown"].astype(str) == "all")
            & pd.to_datetime(ind["period_end"]).isin(ends)).to_numpy() & (marker == WITHHELD)
    rows = ind[pick]
    unit = rows.get("unit", pd.Series("", index=rows.index)).astype(str)
    small = (policy.small(rows["numerator"]) | policy.small(rows["denominator"])
             | (policy.small(rows["value"]) & (unit == "count")))
    why = {(e["indicator_id"], e["period_end"]): e["reason"] for e in exceptions or []}
    headline: list[HeadlineWithheld] = []
    for r, is_small in zip(rows.itertuples(index=False), small.to_numpy(), strict=True):
        end = pd.Timestamp(r.period_end).date().isoformat()
        reason = (f"rests on a count of {lo} to {hi}" if is_small else
                  why.get((str(r.indicator_id), end),
                          f"withheld to protect a linked count of {lo} to {hi} (secondary suppression)"))
        headline.append({"indicator_id": str(r.indicator_id), "year_end": end, "reason": reason})
    return {"by_level": by_level, "headline_withheld": headline, "detail_withheld": list(detail or []),
            "exceptions": list(exceptions or [])}


def published_table(cfg: Config, audience: str) -> pd.DataFrame:
    """The published indicator table: disclosure-controlled, periods up to the reporting year end."""
    path = suppressed_path(cfg, audience)
    if not path.exists():
        disclosure_controlled(cfg, audience)
    from safeguarding.disclosure.scope import publication_scope

    ind = pd.read_parquet(path)
    ind = ind[publication_scope(ind, pd.Timestamp(cfg.year_end), cfg.disclosure)].copy()
    cols = [c for c in PUBLISHED_COLUMNS if c in ind.columns]
    extra = [c for c in ("marker", "note") if c in ind.columns and c not in cols]
    out = ind[cols + extra].copy()
    for col in ("period_start", "period_end"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
    return out.sort_values(["indicator_id", "period_type", "period_start", "breakdown", "breakdown_value"])


def write_published_data(cfg: Config, audience: str, out_dir: Path) -> list[Path]:
    """Write ``indicators.csv``, ``indicators.xlsx`` and ``README.txt`` into ``out_dir``; return the paths.

    The workbook's notes sheet and the README explain every marker (in the
    configured policy's words), status and column, and the rows that look alike
    but are counted differently (:mod:`safeguarding.publish.data_notes`); the
    README also explains ``findings.csv``'s columns.
    """
    from safeguarding.publish.data_notes import notes_sections, readme_text
    from safeguarding.publish.writers import write_csv, write_xlsx

    out_dir.mkdir(parents=True, exist_ok=True)
    table = published_table(cfg, audience)
    csv_path = out_dir / "indicators.csv"
    xlsx_path = out_dir / "indicators.xlsx"
    readme_path = out_dir / "README.txt"
    markers = cfg.disclosure.markers()
    title = f"{cfg.area_name}: data published with the annual review {cfg.year_label}"
    write_csv(table, csv_path)
    write_xlsx(table, xlsx_path, sheet_name="Indicators", markers=markers, title=title,
               notes=notes_sections(list(table.columns)))
    write_atomic(readme_path, lambda tmp: tmp.write_text(readme_text(markers, list(table.columns), title=title),
                                                         encoding="utf-8"))
    return [csv_path, xlsx_path, readme_path]


def safe_note(text: object, policy: Policy | None = None) -> str:
    """A note as the public may read it: no count of cases, whatever its size.

    A note such as "98 referrals fall less than 12 months after the data
    starts" states a count linked to the table's figures (here the referrals
    of the first year), and a reader can combine it with them: a small count
    hidden in the table could be worked out from one stated in a note. So
    every number of cases becomes "some" ("some referrals fall ..."), and
    "fewer than 6" with it; a note about one case is first put in the words
    for many (:func:`~safeguarding.indicators.notes.plural`: "1 ICPC ... is
    excluded" would otherwise become "some ICPC ... is excluded", which says
    the count was 1). Durations ("12 months", "15 working days"),
    years, dates, percentages and section numbers stay. With no threshold
    (:meth:`~safeguarding.disclosure.Policy.unsuppressed`) the note is
    unchanged.
    """
    if text is None or (isinstance(text, float) and text != text):
        return ""
    policy = policy if policy is not None else Policy()
    if policy.threshold is None:
        return str(text)
    # a note about one case first in the words for many: "some ICPC ... is excluded" would say the count was 1
    return _COUNT_IN_TEXT.sub("some", plural(str(text)))


#: a number of cases in a note: a stand-alone whole number (or "fewer than N") followed by a word that is
#: not a unit of time, and not a section number ("section 47 enquiry") or part of a date or a decimal
_COUNT_IN_TEXT = re.compile(
    r"(?:\bfewer than )?(?<![\w.,/:-])(?<!section )\d[\d,]*(?![\w.,/%:-])"
    r"(?= (?!(?:working )?(?:months?|years?|days?|weeks?|hours?)\b)[A-Za-z])")


def _each_distinct(values: pd.Series, fn: Callable[[object], str]) -> pd.Series:
    """``values.map(fn)``, with ``fn`` called once per distinct value (and once for the missing ones).

    ``fn`` is called with the values themselves, a missing one as it is in ``values``; the result, a
    Series of ``fn``'s strings on ``values``' index, is what ``map`` gives (0.14 s for the notes of
    the demo's table, 0.02 s this way).
    """
    if values.empty:
        return values.map(fn)
    codes, uniques = pd.factorize(values)  # a missing value: code -1
    done = [fn(u) for u in uniques]
    missing = codes < 0
    done.append(fn(values[missing].iloc[0]) if missing.any() else "")  # code -1 takes the last
    return pd.Series([done[c] for c in codes.tolist()], index=values.index)


def _attr(cat: object, code: str, name: str) -> str:
    try:
        entry = cat[code]  # type: ignore[index]
    except (KeyError, TypeError):
        return ""
    value = getattr(entry, name, None)
    if value is None and isinstance(entry, dict):
        value = entry.get(name)
    return "" if value is None else str(value)


def __getattr__(name: str) -> object:
    """``publication_scope`` and ``sparse_series`` (:mod:`safeguarding.disclosure.scope`), imported on first use so
    that a chapter kernel that only needs this module's paths does not import the suppression machinery."""
    if name in ("publication_scope", "sparse_series"):
        from safeguarding.disclosure import scope

        return getattr(scope, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
