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

from safeguarding.atomic import write_atomic
from safeguarding.config import Config

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
    anywhere (:func:`publication_scope`), so that every relation a reader
    could use (months to quarters and years, breakdowns to headline, stock
    and flow) is protected; publishing a subset of the protected table
    afterwards can only reveal less. Figures outside the scope (rolling 12
    months, older periods) and breakdowns by month or quarter made up mostly
    of counts from 1 to 5 (:func:`sparse_series`) are withheld (``x``) for the
    public audience, and the report treats them as hidden. The board audience gets
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
        # figures published nowhere (rolling 12 months, periods outside the publication scope) and breakdowns
        # too sparse to publish are withheld (x) and kept out of the suppression: see publication_scope and
        # sparse_series for why that is safe
        scope = publication_scope(ind, pd.Timestamp(cfg.year_end))
        withheld = (~scope | sparse_series(ind, scope)).to_numpy()
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
        hidden = shown["suppressed"].astype(bool) | shown["marker"].astype(str).isin(["c", "x"])
        for col in ("ci_lower", "ci_upper", "unknown"):
            if col in shown.columns:
                shown.loc[hidden, col] = float("nan")
        if "rag" in shown.columns:
            shown.loc[hidden, "rag"] = "N/A"
        if "note" in shown.columns:
            shown["note"] = shown["note"].map(safe_note)
        if stats is not None:
            stats["publication"] = publication_summary(ind, shown, pd.Timestamp(cfg.year_end))
    else:
        shown = suppress_indicator_table(ind, threshold=(0, -1))
    path = suppressed_path(cfg, audience)
    write_atomic(path, lambda tmp: shown.to_parquet(tmp, index=False))
    return path


def _small(values: pd.Series) -> pd.Series:
    v = pd.to_numeric(values, errors="coerce")
    return (v >= 1) & (v <= 5)


def publication_summary(ind: pd.DataFrame, shown: pd.DataFrame, year_end: pd.Timestamp) -> dict:
    """What the public table publishes and withholds, by level, and every annual headline figure withheld and why.

    ``ind`` is the unsuppressed indicator table and ``shown`` the protected one,
    row for row. Levels are the period type (year, quarter, month, rolling 12
    months) and headline (``breakdown == 'all'``) or breakdown. ``withheld``
    counts cells shown as ``c``; ``not_published`` those outside the
    publication scope or in a breakdown withheld whole (``x``). The headline
    list covers the reporting year and the year before: a figure is withheld
    because it rests on a count of 1 to 5, or to protect a linked small count.
    """
    if len(ind) != len(shown):
        raise ValueError("publication_summary: the protected table must match the indicator table row for row")
    marker = shown["marker"].astype(str).to_numpy()
    level = np.where(ind["breakdown"].astype(str).to_numpy() == "all", "headline", "breakdown")
    frame = pd.DataFrame({"period_type": ind["period_type"].astype(str).to_numpy(), "level": level,
                          "marker": marker})
    by_level: list[dict] = []
    for (period_type, lvl), g in frame.groupby(["period_type", "level"], sort=True):
        by_level.append({"period_type": period_type, "level": lvl,
                         "published": int((~g["marker"].isin(["c", "x"])).sum()),
                         "withheld": int((g["marker"] == "c").sum()),
                         "not_published": int((g["marker"] == "x").sum())})
    ends = {pd.Timestamp(year_end), pd.Timestamp(year_end) - pd.DateOffset(years=1)}
    pick = ((ind["period_type"].astype(str) == "year") & (ind["breakdown"].astype(str) == "all")
            & pd.to_datetime(ind["period_end"]).isin(ends)).to_numpy() & (marker == "c")
    rows = ind[pick]
    small = (_small(rows["numerator"]) | _small(rows["denominator"])
             | (_small(rows["value"]) & (rows.get("unit", pd.Series("", index=rows.index)).astype(str) == "count")))
    headline = [{"indicator_id": str(r.indicator_id), "year_end": pd.Timestamp(r.period_end).date().isoformat(),
                 "reason": "rests on a count of 1 to 5" if is_small else
                 "withheld to protect a linked count of 1 to 5 (secondary suppression)"}
                for r, is_small in zip(rows.itertuples(index=False), small.to_numpy(), strict=True)]
    return {"by_level": by_level, "headline_withheld": headline}


def published_table(cfg: Config, audience: str) -> pd.DataFrame:
    """The published indicator table: disclosure-controlled, periods up to the reporting year end."""
    path = suppressed_path(cfg, audience)
    if not path.exists():
        disclosure_controlled(cfg, audience)
    ind = pd.read_parquet(path)
    ind = ind[publication_scope(ind, pd.Timestamp(cfg.year_end))].copy()
    cols = [c for c in PUBLISHED_COLUMNS if c in ind.columns]
    extra = [c for c in ("marker", "note") if c in ind.columns and c not in cols]
    out = ind[cols + extra].copy()
    for col in ("period_start", "period_end"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
    return out.sort_values(["indicator_id", "period_type", "period_start", "breakdown", "breakdown_value"])


#: how far back each period type is published, in months before the year end: (headline, breakdowns).
#: Headline months go back 3 years for the control charts and the seasonal pattern; breakdowns by month
#: cover the reporting year, which is all the report charts.
PUBLISHED_SPAN: dict[str, tuple[int, int]] = {"year": (10 * 12, 10 * 12), "quarter": (3 * 12, 3 * 12),
                                              "month": (3 * 12, 12)}


def publication_scope(ind: pd.DataFrame, year_end: pd.Timestamp) -> pd.Series:
    """Rows published anywhere, in the report or the files (True), by :data:`PUBLISHED_SPAN`.

    Years go back 10 years, quarters 3; months 3 years for headline figures
    and 1 year for breakdowns; nothing after the year end. Rolling 12-month
    figures are never published: the one at the year end equals the year, and
    the others overlap each other, which would let a reader difference
    suppressed months out of them.

    Disclosure control runs on exactly these rows, so that every relation a
    reader could use among them (months to quarters and years, breakdowns to
    headline, stock and flow) is protected, and the groups of linked hidden
    cells stay small enough for the full check. Rows outside the scope are
    withheld (``x``) and take no part. That is safe because each rule leaves
    out whole levels of the table: a reader who combined the relations
    through unpublished figures would get only relations among published
    ones that the table states directly (a quarter is the sum of its
    months whether the months are published or not). The end-to-end test
    checks this with an attacker that treats the withheld figures as unknowns.
    """
    end = pd.to_datetime(ind["period_end"])
    ptype = ind["period_type"].astype(str)
    headline = ind["breakdown"].astype(str).eq("all")
    keep = pd.Series(False, index=ind.index)
    for name, (head_months, part_months) in PUBLISHED_SPAN.items():
        after = np.where(headline, year_end - pd.DateOffset(months=head_months),
                         year_end - pd.DateOffset(months=part_months)).astype("datetime64[ns]")
        keep |= ptype.eq(name) & (end <= year_end) & (end.to_numpy() > after)
    return keep


#: a breakdown by month or quarter is withheld when more than this share of its counts are from 1 to 5
SPARSE_SHARE = 0.5


def sparse_series(ind: pd.DataFrame, scope: pd.Series) -> pd.Series:
    """Rows of breakdowns by month or quarter too sparse to publish (True), for the public audience.

    A breakdown (indicator, breakdown, period type) by month or quarter whose
    counts in the publication scope are mostly (more than :data:`SPARSE_SHARE`)
    from 1 to 5 would show little but ``c``; protecting its few other cells
    would cost the figures that matter (the year's table by the same
    breakdown, the headline). Such a series is withheld (``x``) as a whole,
    the way a statistician aggregates before suppressing: the year's
    figures by that breakdown, and the monthly headline, stay. The count is
    the numerator where the indicator has one, else the value.

    When a withheld series belongs to a stock-flow balance that holds for
    its breakdown (open = previous open + started - ended), the other series
    of the balance are withheld with it, since two of them published would
    give the third away, and so is any series repeating its counts under
    another indicator (plans started, as the denominator of
    re-registrations). Any other withheld series takes part in no relation
    beyond its own sums, which its copies (a denominator repeating plans
    open, say) state anyway, so its copies stay.
    """
    count = pd.to_numeric(ind["numerator"], errors="coerce").fillna(pd.to_numeric(ind["value"], errors="coerce"))
    candidate = scope & ind["period_type"].astype(str).isin(["month", "quarter"]) & ~ind["breakdown"].astype(
        str).eq("all")
    small = count.between(1, 5) & candidate
    keys = [ind["indicator_id"].astype(str), ind["breakdown"].astype(str), ind["period_type"].astype(str)]
    share = small.groupby(keys).transform("sum") / candidate.groupby(keys).transform("sum").replace(0, np.nan)
    out = candidate & share.gt(SPARSE_SHARE).fillna(False)
    return out | _copies_of(ind[candidate], out[candidate]).reindex(ind.index, fill_value=False)


def _balances_that_hold(rows: pd.DataFrame) -> set[tuple[frozenset, str, str]]:
    """``(family, breakdown, period type)`` for which a stock-flow balance holds in at least one period.

    ``family`` is the set of the balance's three indicators (see
    :data:`~safeguarding.disclosure.DEFAULT_BALANCES`). Open plans by length
    of plan, say, do not balance (a plan moves between lengths while open), so
    withholding plans ended by length need not withhold plans open by length.
    """
    from safeguarding.disclosure import DEFAULT_BALANCES

    out: set[tuple[frozenset, str, str]] = set()
    ends = pd.to_datetime(rows["period_end"])
    starts = pd.to_datetime(rows["period_start"])
    for balance in DEFAULT_BALANCES:
        specs = [spec.partition(":") for spec in balance]
        family = frozenset(ind for ind, _, _ in specs)
        frames = []
        for ind, _, measure in specs:
            sel = rows["indicator_id"].astype(str).eq(ind)
            frames.append(pd.DataFrame({
                "breakdown": rows.loc[sel, "breakdown"].astype(str), "period_type": rows.loc[sel, "period_type"],
                "value_key": rows.loc[sel, "breakdown_value"].astype(str), "end": ends[sel], "start": starts[sel],
                "v": pd.to_numeric(rows.loc[sel, measure or "value"], errors="coerce")}))
        stock, inflow, outflow = frames
        on = ["breakdown", "period_type", "value_key", "end"]
        m = stock.merge(inflow[[*on, "v"]], on=on, suffixes=("", "_in")).merge(
            outflow[[*on, "v"]].rename(columns={"v": "v_out"}), on=on)
        prev = stock[[*on, "v"]].rename(columns={"end": "prev_end", "v": "v_prev"})
        m["prev_end"] = m["start"] - pd.Timedelta(days=1)
        m = m.merge(prev, on=["breakdown", "period_type", "value_key", "prev_end"])
        ok = (m["v"] - m["v_prev"] - m["v_in"] + m["v_out"]).abs() < 1e-9
        for bd, pt in m.loc[ok, ["breakdown", "period_type"]].drop_duplicates().itertuples(index=False):
            out.add((family, str(bd), str(pt)))
    return out


def _copies_of(rows: pd.DataFrame, withheld: pd.Series) -> pd.Series:
    """Rows of every series tied to a withheld balance series (True), withheld ones included.

    A series is an indicator's rows for one breakdown and period type. A
    series of a stock-flow balance (:data:`~safeguarding.disclosure.DEFAULT_BALANCES`)
    that holds for its breakdown in some period (:func:`_balances_that_hold`)
    is tied to the other two series of the balance and to every series whose
    counts (numerators, denominators or values, aligned by period and
    breakdown value) repeat its own. Ties are followed until no series is new.
    """
    if rows.empty or not withheld.any():
        return withheld.copy()
    keys = ["indicator_id", "breakdown", "period_type"]
    signatures: dict[tuple, list[tuple]] = {}
    series_measures: dict[tuple, list[tuple]] = {}
    for key, g in rows.groupby(keys, sort=False):
        g = g.sort_values(["period_start", "breakdown_value"])
        where = tuple(zip(pd.to_datetime(g["period_start"]), g["breakdown_value"].astype(str), strict=True))
        for measure in ("numerator", "denominator", "value"):
            v = pd.to_numeric(g[measure], errors="coerce")
            if v.isna().any() or not (v > 0).any():
                continue
            sig = (key[1], key[2], where, tuple(v.round(6).tolist()))
            signatures.setdefault(sig, []).append(key)
            series_measures.setdefault(key, []).append(sig)
    from safeguarding.disclosure import DEFAULT_BALANCES

    families = [{spec.partition(":")[0] for spec in balance} for balance in DEFAULT_BALANCES]
    present = _balances_that_hold(rows)
    held = {k for k, g in rows[withheld.to_numpy()].groupby(keys, sort=False)}
    changed = True
    while changed:
        changed = False
        for key in list(held):
            linked = []
            for family in families:
                if key[0] in family and (frozenset(family), key[1], key[2]) in present:
                    # a withheld flow or stock of a balance: the rest of the balance, and any copy of its
                    # counts under another indicator, would give it away
                    linked += [(member, key[1], key[2]) for member in family]
                    linked += [other for sig in series_measures.get(key, []) for other in signatures[sig]]
            for other in linked:
                if other not in held:
                    held.add(other)
                    changed = True
    idx = pd.MultiIndex.from_frame(rows[keys].astype(str))
    return pd.Series(idx.isin(list(held)), index=rows.index)


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
