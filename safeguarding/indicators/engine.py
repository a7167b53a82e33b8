"""The indicator engine: every catalogue indicator, for every period and breakdown.

For each catalogue entry the registered method (``methods/``, one module per source table: see
``registry.py``) turns the processed tables into *events* (``context.py``: one per record for a flow, one per
record per month end for a stock). This module sums them into a month grid (``numpy.bincount``) per breakdown
value; quarters, financial years and rolling 12 months are sums of months (flows) or the value at their last
month end (stocks). Nothing loops over rows in Python. Partners' aggregate returns are turned into the same
rows; confidence intervals, targets and RAG ratings are added last (``intervals.py``).

Many areas are computed in one pass (:func:`compute_areas`; :func:`compute_indicators` is the pass for one):
each area's methods run on its own tables and context, then the events of all areas are summed together, one
``bincount`` over (area, breakdown value, month) in the union of their windows, and each area keeps exactly the
rows a run of it alone gives (its own periods, the breakdown values it observes, its notes).

Status of each row: ``ok``; ``partial`` where the source covers only part of the
period (the data start or end inside it, or it falls before the start of an
extract of episodes that holds only those still open then: the note says
which; the value is what the data hold); ``no data`` where the period lies outside the
months the source table covers or a percentage has no cases in its
denominator (value NaN, never 0); ``not available`` where the source table (or
the population, for rates) was not supplied, with the reason in ``note``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from safeguarding import schema
from safeguarding.atomic import write_atomic
from safeguarding.csv_writer import write_csv
from safeguarding.indicators.bands import DEFAULT_AGE_BANDS, FIXED_VALUES, NOT_RECORDED, band_values
from safeguarding.indicators.catalogue import Catalogue, Indicator, load_catalogue
from safeguarding.indicators.context import PARTIAL, PRIMARY_DATE, Context, Events
from safeguarding.indicators.inputs import (
    DateLike,
    IndicatorInputError,
    prepare_tables,
    read_processed,
    run_options,
)
from safeguarding.indicators.intervals import add_intervals, add_targets
from safeguarding.indicators.notes import CountNote, count_words
from safeguarding.indicators.periods import Window, add_months, financial_year, month_index, period_table
from safeguarding.indicators.registry import AGGREGATE, get_method
from safeguarding.measures import percentage, rate_per_10k
from safeguarding.periods import financial_year_labels
from safeguarding.population import population_from_config

if TYPE_CHECKING:
    from safeguarding.config import Config

log = logging.getLogger(__name__)

#: columns written after :data:`schema.INDICATOR_COLUMNS`
EXTRA_COLUMNS = ("status", "note", "unknown", "target", "rag")


# --------------------------------------------------------------------------- aggregation


def _periods_for(ind: Indicator, periods: pd.DataFrame) -> pd.DataFrame:
    return periods[periods["period_type"].isin(ind.frequencies)].reset_index(drop=True)


def _summarise(ctx: Context, ind: Indicator, ev: Events, periods: pd.DataFrame, breakdowns: bool) -> pd.DataFrame:
    """Turn one area's events into rows for every period and breakdown value (:func:`_summarise_areas`)."""
    return _summarise_areas(ind, [(0, ctx, ev)], periods, breakdowns).drop(columns="_area")


def _area_periods(items: list[tuple[int, Context, Events]], periods: pd.DataFrame
                  ) -> tuple[int, int, np.ndarray, np.ndarray, np.ndarray]:
    """The union window (first month, months) of several areas, and per (area, period) of ``periods`` (the union
    window's): whether the area's own period table lists it, and its first and last months clipped to the area's
    window (as offsets from the union window's first month)."""
    f = np.array([c.window.first for _, c, _ in items], dtype=np.int64)[:, None]
    la = np.array([c.window.last for _, c, _ in items], dtype=np.int64)[:, None]
    first, W = int(f.min()), int(la.max() - f.min() + 1)
    p_first = month_index(periods["period_start"])[None, :]
    p_last = periods["end_month"].to_numpy(dtype=np.int64)[None, :]
    # months, quarters and years touching the area's window; rolling 12 months inside it (period_table)
    rolling = (periods["period_type"] == "rolling12").to_numpy()[None, :]
    listed = (p_last >= f) & (p_first <= la) & (~rolling | ((p_first >= f) & (p_last <= la)))
    lo = np.clip(np.maximum(p_first, f) - first, 0, W - 1)
    hi = np.clip(np.minimum(p_last, la) - first, 0, W - 1)
    return first, W, listed, lo, hi


def _stacked(items: list[tuple[int, Context, Events]], headline: bool, first: int, measures: list[str],
             breakdowns: list[str]) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The events of several areas, each kept only inside its own window: (area position, month offset in the
    union window, column -> values)."""
    areas: list[np.ndarray] = []
    months: list[np.ndarray] = []
    cols: dict[str, list[np.ndarray]] = {c: [] for c in [*measures, *breakdowns]}
    for pos, (_, ctx, ev) in enumerate(items):
        frame = ev.headline if headline and ev.headline is not None else ev.frame
        m = frame["month"].to_numpy()
        inside = (m >= ctx.window.first) & (m <= ctx.window.last)
        keep = None if inside.all() else inside
        months.append((m if keep is None else m[keep]).astype(np.int64) - first)
        areas.append(np.full(len(months[-1]), pos, dtype=np.int64))
        for c in cols:
            v = frame[c].to_numpy(dtype=float if c in measures else object)
            cols[c].append(v if keep is None else v[keep])
    return np.concatenate(areas), np.concatenate(months), {c: np.concatenate(v) for c, v in cols.items()}


def _summarise_areas(ind: Indicator, items: list[tuple[int, Context, Events]], periods: pd.DataFrame,
                     breakdowns: bool) -> pd.DataFrame:
    """Turn events into indicator rows for every period and breakdown value, for several areas at once.

    ``items`` holds (area number, context, events) of areas whose events have the same shape (kind, columns,
    notes); ``periods`` is the period table of the union of their windows. Each area's events are kept inside
    its own window and summed into one (area, breakdown value, month) grid (``numpy.bincount``); each area gets
    exactly the rows, in the order, that a run of that area alone gives: the periods of its own window and the
    breakdown values it observes (:func:`band_values`). The result has an ``_area`` column (the area number).

    The headline sums ``ev.headline`` where the method gives one (a breakdown whose values overlap),
    otherwise the same events as the breakdowns.
    """
    _, ctx0, ev0 = items[0]
    A = len(items)
    first, W, listed, lo, hi = _area_periods(items, periods)
    ratio = ind.unit == "percent"
    measures = ["num", *(["den"] if ratio else []), *(["unknown"] if "unknown" in ev0.frame else []),
                *[k for k in ev0.notes if k in ev0.frame]]
    wanted = ["all", *([b for b in ind.breakdowns if b in ev0.frame.columns] if breakdowns else [])]
    area, m, cols = _stacked(items, False, first, measures, wanted[1:])
    head_area, head_m, head_cols = (_stacked(items, True, first, measures, []) if ev0.headline is not None
                                    else (area, m, cols))
    cov = np.zeros((A, W), dtype=bool)
    part = np.zeros((A, W), dtype=bool) if ev0.partly is not None else None
    for pos, (_, ctx, ev) in enumerate(items):
        a = ctx.window.first - first
        cov[pos, a:a + ctx.W] = ev.coverage
        if part is not None and ev.partly is not None:
            part[pos, a:a + ctx.W] = ev.partly
    rows = np.arange(A)[:, None]
    end_month = periods["end_month"].to_numpy(dtype=np.int64)[None, :]
    if ev0.kind == "flow":
        ncov = np.concatenate([np.zeros((A, 1), dtype=np.int64), np.cumsum(cov, axis=1)], axis=1)
        covered_months = ncov[rows, hi + 1] - ncov[rows, lo]
        covered = covered_months > 0
        period_months = end_month - month_index(periods["period_start"])[None, :] + 1
        partial = covered & (covered_months < period_months)
        truncated = np.zeros_like(covered)
        if part is not None:
            npart = np.concatenate([np.zeros((A, 1), dtype=np.int64), np.cumsum(part, axis=1)], axis=1)
            truncated = covered & (npart[rows, hi + 1] - npart[rows, lo] > 0)
    else:
        # a stock is taken at the last month end with data inside the period
        lc = np.maximum.accumulate(np.where(cov, np.arange(W), -1), axis=1)[rows, hi]
        covered = lc >= lo
        partial = covered & ((lc + first) < end_month)
        truncated = covered & part[rows, np.maximum(lc, 0)] if part is not None else np.zeros_like(covered)
        hi = np.where(covered, lc, hi)
    pieces: list[dict[str, np.ndarray]] = []
    for bd in wanted:
        if bd == "all":
            src_area, months, src = head_area, head_m, head_cols
            values = ["all"]
            codes = np.zeros(len(src_area), dtype=np.int64)
            keep = np.ones((A, 1), dtype=bool)
        else:
            src_area, months, src = area, m, cols
            fcodes, uniq = pd.factorize(cols[bd], use_na_sentinel=True)
            uniq_s = [NOT_RECORDED if (u is None or u is pd.NA or u != u) else str(u) for u in uniq]
            values = band_values(bd, [*uniq_s, *([NOT_RECORDED] if (fcodes < 0).any() else [])], ctx0.age_bands)
            where = {v: i for i, v in enumerate(values)}
            lut = np.array([where[u] for u in uniq_s] + [where.get(NOT_RECORDED, 0)], dtype=np.int64)
            codes = lut[np.where(fcodes < 0, len(uniq_s), fcodes)]
            # each area lists the fixed values and those it observes (band_values of its own events)
            seen = np.bincount(area * len(values) + codes, minlength=A * len(values)).reshape(A, len(values)) > 0
            fixed = set(FIXED_VALUES.get(bd, ())) if bd != "age_band" else {b[1] for b in ctx0.age_bands}
            keep = seen | np.array([v in fixed for v in values])[None, :]
        nv = len(values)
        idx = (src_area * nv + codes) * W + months
        sel = keep[:, :, None] & listed[:, None, :]
        a_i, v_i, p_i = np.nonzero(sel)
        piece = {"_area": a_i, "_v": v_i, "_p": p_i}
        for meas in measures:
            grid = np.bincount(idx, weights=src[meas], minlength=A * nv * W).reshape(A, nv, W)
            if ev0.kind == "flow":
                cs = np.concatenate([np.zeros((A, nv, 1)), np.cumsum(grid, axis=2)], axis=2)
                piece[meas] = cs[a_i, v_i, hi[a_i, p_i] + 1] - cs[a_i, v_i, lo[a_i, p_i]]
            else:
                piece[meas] = grid[a_i, v_i, hi[a_i, p_i]]
        piece["breakdown"] = np.full(len(a_i), bd, dtype=object)
        piece["breakdown_value"] = np.asarray(values, dtype=object)[v_i]
        pieces.append(piece)
    joined = {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}
    order = np.argsort(joined["_area"], kind="stable") if A > 1 else slice(None)
    a_i, p_i = joined["_area"][order], joined["_p"][order]
    out = pd.DataFrame({
        "indicator_id": ind.code,
        "period_type": periods["period_type"].to_numpy()[p_i],
        "period_start": periods["period_start"].to_numpy()[p_i],
        "period_end": periods["period_end"].to_numpy()[p_i],
        "breakdown": joined["breakdown"][order],
        "breakdown_value": joined["breakdown_value"][order],
    })
    for meas in measures:
        out[meas] = joined[meas][order]
    out = _finish(ind, [(ctx, ev) for _, ctx, ev in items], a_i, covered[a_i, p_i], partial[a_i, p_i],
                  truncated[a_i, p_i], out)
    out["_area"] = np.array([n for n, _, _ in items], dtype=np.int64)[a_i]
    return out


def _populations(areas: list[tuple[Context, Events]], area: np.ndarray, fy: np.ndarray) -> np.ndarray:
    """Each row's population: its area's figure for its financial year (NaN when not given)."""
    key = area.astype(np.int64) * 10_000 + fy.astype(np.int64)
    uniq, inv = np.unique(key, return_inverse=True)
    pops = np.array([areas[int(k // 10_000)][0].population.get(int(k % 10_000), np.nan) for k in uniq], dtype=float)
    return pops[inv.reshape(-1)]


def _finish(ind: Indicator, areas: list[tuple[Context, Events]], area: np.ndarray, covered: np.ndarray,
            partial: np.ndarray, truncated: np.ndarray, out: pd.DataFrame) -> pd.DataFrame:
    """Value, status and note columns from summed measures (``area``: each row's position in ``areas``)."""
    ev = areas[0][1]
    num = out.pop("num").to_numpy(dtype=float)
    status = np.where(covered, "ok", "no data").astype(object)
    note = np.where(covered, "", "no source data for this period").astype(object)
    if ind.unit == "percent":
        den = out.pop("den").to_numpy(dtype=float)
        value = np.asarray(percentage(num, den), dtype=float)
        zero = covered & (den == 0)
        status[zero] = "no data"
        note[zero] = "no cases in the denominator"
    elif ind.unit == "rate_per_10k":
        fy = financial_year(out["period_end"])
        pop = _populations(areas, area, fy)
        den = pop
        value = np.asarray(rate_per_10k(num, pop), dtype=float)
        nopop = covered & ~np.isfinite(pop)
        status[nopop] = "not available"
        missing_years = pd.Series(fy[nopop]).astype(int)
        note[nopop] = ("no population figure for " + pd.Series(financial_year_labels(missing_years))
                       + " (add population: {" + missing_years.astype(str)
                       + ": N} to report.yml, or benchmarks.ons_file)").to_numpy()
    else:
        den = np.full(len(num), np.nan)
        value = num.copy()
    nodata = ~covered
    num = np.where(nodata, np.nan, num)
    den = np.where(nodata, np.nan, den)
    value = np.where(status == "ok", value, np.nan)
    out["numerator"] = num
    out["denominator"] = den
    out["value"] = value
    # a figure the data cover only in part is never 'ok' without a note: its status says so
    status[(status == "ok") & (partial | truncated)] = PARTIAL
    out["status"] = status
    extra: list[tuple[np.ndarray, np.ndarray | str | CountNote]] = []
    if "unknown" in out:
        unk = out.pop("unknown").to_numpy(dtype=float)
        out["unknown"] = np.where(nodata, np.nan, unk)
        unknown_notes = np.empty(len(areas), dtype=object)
        unknown_notes[:] = [e.unknown_note for _, e in areas]
        if any(note != "" for note in unknown_notes):  # the note may name the area's own dates
            extra.append((unk, unknown_notes[area]))
    else:
        out["unknown"] = np.nan
    for meas, note_text in ev.notes.items():
        if meas in out:
            extra.append((out.pop(meas).to_numpy(dtype=float), note_text))
    ok = covered
    text = ("partial period: the data cover only part of it" if ev.kind == "flow"
            else "partial period: value at the last month end with data")
    part_note = np.where(ok & partial & ~truncated, text, "").astype(object)
    starts = [e.extract_start for _, e in areas]
    if any(s is not None for s in starts):
        # an ISO date, so that the public note keeps it (safeguarding.published_data.safe_note)
        texts = np.array([None if s is None else
                          f"the extract starts on {s:%Y-%m-%d} (earlier records are only those still open then); "
                          f"this period is only partly covered" for s in starts], dtype=object)
        mark = ok & truncated & np.array([s is not None for s in starts])[area]
        part_note[mark] = texts[area[mark]]
    pieces = [note, part_note]
    for counts, words in extra:
        if isinstance(words, (str, CountNote)):  # the same words for every row
            show = ok & (counts > 0) & (words != "")
        else:  # words per row
            show = ok & (counts > 0) & np.array([w != "" for w in words], dtype=bool)
            words = words[show]
        s = np.full(len(out), "", dtype=object)
        if show.any():  # the count, then the words for it (one case or many: :mod:`.notes`)
            s[show] = (pd.Series(counts[show]).astype(int).astype(str).to_numpy(dtype=object) + " "
                       + count_words(counts[show], words))
        pieces.append(s)
    # joined with "; ", touching only the rows a piece adds to (most rows have one piece or none)
    joined = pieces[0].copy()
    for add in pieces[1:]:
        more = add != ""
        if not more.any():
            continue
        both = more & (joined != "")
        joined[both] = joined[both] + "; " + add[both]
        joined[more & ~both] = add[more & ~both]
    out["note"] = pd.Series(joined, index=out.index).astype(str)
    return out


def _not_available(ind: Indicator, periods: pd.DataFrame, reason: str) -> pd.DataFrame:
    p = periods
    return pd.DataFrame({
        "indicator_id": ind.code, "period_type": p["period_type"].to_numpy(),
        "period_start": p["period_start"].to_numpy(), "period_end": p["period_end"].to_numpy(),
        "breakdown": "all", "breakdown_value": "all", "numerator": np.nan, "denominator": np.nan,
        "value": np.nan, "status": "not available", "note": reason, "unknown": np.nan,
    })


def _aggregate_rows(ctx: Context, ind: Indicator, agg: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    """Rows for an indicator supplied by partners' aggregate returns."""
    months = agg[agg["period_type"].astype(str) == "month"]
    other = agg[agg["period_type"].astype(str) != "month"]
    parts = []
    if len(months):
        mi = month_index(pd.to_datetime(months["period_start"]))
        cov = np.zeros(ctx.W, dtype=bool)
        inside = (mi >= ctx.window.first) & (mi <= ctx.window.last)
        cov[np.unique(mi[inside]) - ctx.window.first] = True
        for (bd,), grp in months.groupby(["breakdown"], sort=False):
            frame = pd.DataFrame({"month": month_index(pd.to_datetime(grp["period_start"])),
                                  "num": pd.to_numeric(grp["numerator"], errors="coerce").fillna(0).to_numpy()})
            if ind.unit == "percent":
                frame["den"] = pd.to_numeric(grp["denominator"], errors="coerce").fillna(0).to_numpy()
            local = Indicator(**{**ind.__dict__, "breakdowns": () if bd == "all" else (str(bd),)})
            if bd != "all":
                frame[str(bd)] = grp["breakdown_value"].astype(str).to_numpy()
            ev = Events("flow", frame, cov)
            rows = _summarise(ctx, local, ev, periods, breakdowns=True)
            if bd != "all":
                rows = rows[rows["breakdown"] != "all"]
            parts.append(rows)
    if len(other):
        o = other.copy()
        start = pd.to_datetime(o["period_start"])
        length = o["period_type"].map({"quarter": 3, "year": 12, "rolling12": 12}).fillna(1).astype(int)
        end = pd.Series(add_months(start, length), index=o.index) - pd.Timedelta(days=1)
        num = pd.to_numeric(o["numerator"], errors="coerce").to_numpy(dtype=float)
        den = pd.to_numeric(o["denominator"], errors="coerce").to_numpy(dtype=float)
        value = np.asarray(percentage(num, den), dtype=float) if ind.unit == "percent" else num
        parts.append(pd.DataFrame({
            "indicator_id": ind.code, "period_type": o["period_type"].astype(str).to_numpy(),
            "period_start": start.to_numpy(), "period_end": end.to_numpy(),
            "breakdown": o["breakdown"].astype(str).to_numpy(),
            "breakdown_value": o["breakdown_value"].astype(str).to_numpy(),
            "numerator": num, "denominator": den if ind.unit == "percent" else np.nan, "value": value,
            "status": np.where(np.isnan(value), "no data", "ok"), "note": "as returned by the partner",
            "unknown": np.nan,
        }))
    out = pd.concat(parts, ignore_index=True) if parts else _not_available(ind, periods, "no rows in the return")
    if len(months) and len(other):
        # a period returned directly replaces the one summed from months
        key = ["period_type", "period_start", "breakdown", "breakdown_value"]
        out = out.drop_duplicates(key, keep="last")
    return out


# --------------------------------------------------------------------------- public API


def _window(tables: dict[str, pd.DataFrame], aggregates: pd.DataFrame | None, start: object, end: object,
            data_end: object) -> tuple[Window | None, pd.Timestamp | None]:
    """The months to report and the data end (latest date anywhere in the data, unless given)."""
    firsts, lasts = [], []
    for name, df in tables.items():
        if name not in PRIMARY_DATE or df is None or not len(df):
            continue
        firsts.append(df[PRIMARY_DATE[name]].min())
        for c in schema.ENTITIES[name].columns:
            if c.kind == "date" and df[c.name].notna().any():
                lasts.append(df[c.name].max())
    if aggregates is not None and len(aggregates):
        ps = pd.to_datetime(aggregates["period_start"])
        firsts.append(ps.min())
        lasts.append(ps.max())
    dend = pd.Timestamp(data_end) if data_end is not None else (max(lasts) if lasts else None)
    a = pd.Timestamp(start) if start is not None else (min(firsts) if firsts else None)
    b = pd.Timestamp(end) if end is not None else dend
    if a is None or b is None:
        return None, dend
    return Window.from_dates(a, b), dend


@dataclass
class AreaInput:
    """One area's inputs to :func:`compute_areas` (the keywords of :func:`compute_indicators`)."""

    tables: dict[str, pd.DataFrame]
    population: dict[int, float] | None = None
    aggregates: pd.DataFrame | None = None
    start: object = None
    end: object = None
    age_bands: tuple[tuple[int, str], ...] | None = None
    history_start: object = None
    data_end: object = None
    #: names the area in errors and warnings (empty for a run of one area)
    label: str = ""


@dataclass
class _Area:
    ctx: Context
    periods: pd.DataFrame
    agg: pd.DataFrame | None
    agg_ids: set[str]
    label: str
    periods_by_frequency: dict[tuple[str, ...], pd.DataFrame] = field(default_factory=dict)


def _area_state(area: AreaInput) -> _Area:
    prepared = prepare_tables({k: v for k, v in area.tables.items() if v is not None})
    agg = area.aggregates if area.aggregates is not None and len(area.aggregates) else None
    window, dend = _window(prepared, agg, area.start, area.end, area.data_end)
    if window is None:
        raise IndicatorInputError("no data: none of the processed tables has any rows and no start/end was given")
    ctx = Context(prepared, window, area.population, agg, area.age_bands or DEFAULT_AGE_BANDS,
                  pd.Timestamp(area.history_start) if area.history_start is not None else None, dend)
    agg_ids = set(agg["indicator_id"].astype(str)) if agg is not None else set()
    return _Area(ctx, period_table(window), agg, agg_ids, area.label)


def _rows_or_events(st: _Area, ind: Indicator) -> pd.DataFrame | Events:
    """One area's rows of ``ind`` when they are not summed from events (not available, partners' returns);
    else the events its method gives."""
    ctx = st.ctx
    if ind.frequencies not in st.periods_by_frequency:
        st.periods_by_frequency[ind.frequencies] = _periods_for(ind, st.periods)
    periods = st.periods_by_frequency[ind.frequencies]
    tables_needed = [t for t in ind.source if t != "aggregates"]
    missing = [t for t in tables_needed if t not in ctx.tables]
    if ind.method == AGGREGATE or (missing and ind.code in st.agg_ids):
        if ind.code in st.agg_ids and st.agg is not None:
            sel = st.agg[st.agg["indicator_id"].astype(str) == ind.code]
            return _aggregate_rows(ctx, ind, sel, periods)
        return _not_available(ind, periods, "not supplied: no aggregate return holds this measure")
    if ind.code in st.agg_ids:
        ctx.warnings.append(f"{ind.code}: computed from child-level data; the aggregate return's rows are not used")
    if missing:
        reason = (f"not available: the {' and '.join(missing)} table{'s were' if len(missing) > 1 else ' was'} "
                  f"not supplied (add it under inputs: in report.yml and run ingest)")
        if ind.unit == "rate_per_10k" and not ctx.population:
            reason += "; no population figure either"
        return _not_available(ind, periods, reason)
    if ind.unit == "rate_per_10k" and not ctx.population:
        return _not_available(
            ind, periods, "not available: no population figure (add population: {YEAR: N} to report.yml "
                          "or set benchmarks.ons_file and area.la_code)")
    return get_method(ind.method).function(ctx, ind)


def _shape(ctx: Context, ev: Events) -> tuple[object, ...]:
    """What areas must share to be summed together: the events' kind, columns and notes (but the note on unknown
    values, which may name the area's dates), and the age bands."""
    return (ev.kind, tuple(ev.frame.columns), None if ev.headline is None else tuple(ev.headline.columns),
            tuple(ev.notes.items()), ev.partly is None, ctx.age_bands)


def _finished_tables(results: list[pd.DataFrame], catalogue: Catalogue, states: list[_Area]) -> list[pd.DataFrame]:
    """Targets, intervals and column types added to every area's rows at once; then one table per area."""
    out = pd.concat(results, ignore_index=True)
    out = add_targets(out, catalogue)
    out = add_intervals(out, catalogue)
    area = out["_area"].to_numpy(dtype=np.int64)
    cols = [*schema.INDICATOR_COLUMNS, *EXTRA_COLUMNS]
    out = out[cols]
    for c in ("period_start", "period_end"):
        out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
    for c in ("numerator", "denominator", "value", "unknown", "target"):
        out[c] = out[c].astype(float)
    for c in ("indicator_id", "period_type", "breakdown", "breakdown_value", "status", "note", "rag"):
        out[c] = out[c].astype(str)
    if len(states) > 1:
        order = np.argsort(area, kind="stable")
        out = out.take(order)
        bounds = np.searchsorted(area[order], np.arange(len(states) + 1))
        tables = [out.iloc[bounds[n]:bounds[n + 1]].reset_index(drop=True) for n in range(len(states))]
    else:
        tables = [out]
    for st, table in zip(states, tables, strict=True):
        for w in st.ctx.warnings:
            log.warning(f"{st.label}: {w}" if st.label else w)
        table.attrs = {"warnings": list(st.ctx.warnings),
                       "window": (str(st.ctx.window.start.date()), str(st.ctx.window.end.date()))}
    return tables


def compute_areas(areas: list[AreaInput], catalogue: Catalogue | None = None, *,
                  breakdowns: bool = True) -> list[pd.DataFrame]:
    """:func:`compute_indicators` for several areas in one pass: each area's table, exactly as a run of it alone.

    Each area's methods run on its own tables (its own window, coverage, population and extract start); the
    events of all areas are then summed together, one indicator at a time (:func:`_summarise_areas`: one
    ``bincount`` over area, breakdown value and month), and targets, intervals and types are added once for all
    rows. An error in one area's tables raises :class:`IndicatorInputError` naming the area (``label``).
    """
    catalogue = catalogue if catalogue is not None else load_catalogue()
    states = []
    for area in areas:
        try:
            states.append(_area_state(area))
        except IndicatorInputError as exc:
            raise IndicatorInputError(f"{area.label}: {exc}" if area.label else str(exc)) from exc
    results: list[pd.DataFrame] = []
    union_periods: dict[tuple[object, ...], pd.DataFrame] = {}
    for ind in catalogue.values():
        groups: dict[tuple[object, ...], list[tuple[int, Context, Events]]] = {}
        for n, st in enumerate(states):
            got = _rows_or_events(st, ind)
            if isinstance(got, pd.DataFrame):
                got["_area"] = n
                results.append(got)
            else:
                groups.setdefault(_shape(st.ctx, got), []).append((n, st.ctx, got))
        for items in groups.values():
            span = (min(c.window.first for _, c, _ in items), max(c.window.last for _, c, _ in items))
            key = (*span, *ind.frequencies)
            if key not in union_periods:
                union_periods[key] = _periods_for(ind, period_table(Window(*span)))
            results.append(_summarise_areas(ind, items, union_periods[key], breakdowns))
    for st in states:
        unknown_ids = sorted(st.agg_ids - set(catalogue))
        if unknown_ids:
            st.ctx.warnings.append(f"aggregate return measure(s) not in the catalogue, ignored: "
                                   f"{', '.join(unknown_ids)}; valid: {', '.join(catalogue)}")
    return _finished_tables(results, catalogue, states)


def compute_indicators(tables: dict[str, pd.DataFrame], catalogue: Catalogue | None = None, *,
                       population: dict[int, float] | None = None, aggregates: pd.DataFrame | None = None,
                       start: DateLike | None = None, end: DateLike | None = None, breakdowns: bool = True,
                       age_bands: tuple[tuple[int, str], ...] | None = None,
                       history_start: DateLike | None = None, data_end: DateLike | None = None) -> pd.DataFrame:
    """Compute every catalogue indicator for every period and breakdown.

    ``tables`` maps entity names (``referrals``, ``cp_plans``, ...) to processed
    frames in the canonical schema; a missing table makes its indicators
    ``not available``. ``population`` maps financial year (ending 31 March) to
    children aged 0-17. ``aggregates`` holds partners' returns
    (:data:`schema.AGGREGATE_COLUMNS`). ``start``/``end`` fix the window (by
    default the months the data cover). ``data_end`` is the date the data are
    complete to (default: the latest date in any table); months after it are
    ``no data``. ``history_start`` overrides the date from which plan history is
    complete (default: the first plan start).

    Returns :data:`schema.INDICATOR_COLUMNS` then ``status``, ``note``,
    ``unknown``, ``target`` and ``rag``. ``frame.attrs["warnings"]`` lists
    anything the run could not do (e.g. breakdowns without a children table).
    """
    area = AreaInput(tables, population, aggregates, start, end, age_bands, history_start, data_end)
    return compute_areas([area], catalogue, breakdowns=breakdowns)[0]



def indicator_inputs(config: Config) -> AreaInput:
    """What :func:`run_indicators` computes from: the processed tables, returns and options named by ``config``."""
    tables, aggregates = read_processed(config.processed_dir)
    opts = run_options(config)
    end = opts.pop("end", None)
    if end is None and (tables or aggregates is not None):
        end = config.year_end
    return AreaInput(tables, population_from_config(config), aggregates, start=opts.get("start"), end=end,
                     age_bands=opts.get("age_bands"), history_start=opts.get("history_start"),
                     data_end=opts.get("data_end"))


def write_indicators(table: pd.DataFrame, folder: Path) -> None:
    """Write ``indicators.parquet`` and ``indicators.csv`` to ``folder`` (created if need be)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / "indicators.parquet", lambda tmp: table.to_parquet(tmp, index=False))
    csv = table.copy()
    for c in ("period_start", "period_end"):
        csv[c] = csv[c].dt.strftime("%Y-%m-%d")
    write_atomic(folder / "indicators.csv", lambda tmp: write_csv(csv, tmp))


def run_indicators(config: Config) -> pd.DataFrame:
    """Read the processed tables named by ``config``, compute every indicator, and write
    ``indicators.parquet`` and ``indicators.csv`` to the processed folder. Returns the table."""
    catalogue = load_catalogue(config)
    table = compute_areas([indicator_inputs(config)], catalogue)[0]
    write_indicators(table, Path(config.processed_dir))
    return table
