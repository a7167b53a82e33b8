"""The indicator engine: every catalogue indicator, for every period and breakdown.

For each catalogue entry the registered method (``methods/``, one module per source table: see
``registry.py``) turns the processed tables into *events* (``context.py``: one per record for a flow, one per
record per month end for a stock). This module sums them into a month grid (``numpy.bincount``) per breakdown
value; quarters, financial years and rolling 12 months are sums of months (flows) or the value at their last
month end (stocks). Nothing loops over rows in Python. Partners' aggregate returns are turned into the same
rows; confidence intervals, targets and RAG ratings are added last (``intervals.py``).

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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from safeguarding import schema
from safeguarding.atomic import write_atomic
from safeguarding.indicators.bands import DEFAULT_AGE_BANDS, NOT_RECORDED, band_values
from safeguarding.indicators.catalogue import Catalogue, Indicator, load_catalogue
from safeguarding.indicators.context import PARTIAL, PRIMARY_DATE, Context, Events
from safeguarding.indicators.inputs import (
    IndicatorInputError,
    prepare_tables,
    read_processed,
    run_options,
)
from safeguarding.indicators.intervals import add_intervals, add_targets
from safeguarding.indicators.periods import Window, add_months, financial_year, month_index, period_table
from safeguarding.indicators.registry import AGGREGATE, get_method
from safeguarding.measures import percentage, rate_per_10k
from safeguarding.periods import financial_year_labels
from safeguarding.population import population_from_config

log = logging.getLogger(__name__)

#: columns written after :data:`schema.INDICATOR_COLUMNS`
EXTRA_COLUMNS = ("status", "note", "unknown", "target", "rag")


# --------------------------------------------------------------------------- aggregation


def _periods_for(ind: Indicator, periods: pd.DataFrame) -> pd.DataFrame:
    return periods[periods["period_type"].isin(ind.frequencies)].reset_index(drop=True)


def _summarise(ctx: Context, ind: Indicator, ev: Events, periods: pd.DataFrame, breakdowns: bool) -> pd.DataFrame:
    """Turn events into indicator rows for every period and breakdown value.

    The headline sums ``ev.headline`` where the method gives one (a breakdown whose values overlap),
    otherwise the same events as the breakdowns.
    """
    def in_window(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        inside = (frame["month"] >= ctx.window.first) & (frame["month"] <= ctx.window.last)
        frame = frame[inside.to_numpy()]
        return frame, (frame["month"].to_numpy() - ctx.window.first).astype(np.int64)

    frame, m = in_window(ev.frame)
    head_frame, head_m = in_window(ev.headline) if ev.headline is not None else (frame, m)
    ratio = ind.unit == "percent"
    measures = ["num", *(["den"] if ratio else []), *(["unknown"] if "unknown" in frame else []),
                *[k for k in ev.notes if k in frame]]
    first = periods["first_month"].to_numpy() - ctx.window.first
    last = periods["last_month"].to_numpy() - ctx.window.first
    ncov = np.concatenate([[0], np.cumsum(ev.coverage)])
    covered_months = ncov[last + 1] - ncov[first]
    if ev.kind == "flow":
        covered = covered_months > 0
        period_months = (periods["end_month"] - periods["period_start"].pipe(month_index)).to_numpy() + 1
        partial = covered & (covered_months < period_months)
        truncated = np.zeros(len(periods), dtype=bool)
        if ev.partly is not None:
            npart = np.concatenate([[0], np.cumsum(ev.partly)])
            truncated = covered & (npart[last + 1] - npart[first] > 0)
    else:
        # a stock is taken at the last month end with data inside the period
        lc = np.where(ev.coverage, np.arange(ctx.W), -1)
        lc = np.maximum.accumulate(lc)[last]
        covered = lc >= first
        partial = covered & ((lc + ctx.window.first) < periods["end_month"].to_numpy())
        truncated = (covered & ev.partly[np.maximum(lc, 0)]) if ev.partly is not None else np.zeros(len(periods), bool)
        last = np.where(covered, lc, last)
    wanted = ["all", *([b for b in ind.breakdowns if b in frame.columns] if breakdowns else [])]
    parts = []
    for bd in wanted:
        src, months = (head_frame, head_m) if bd == "all" else (frame, m)
        if bd == "all":
            values = ["all"]
            codes = np.zeros(len(src), dtype=np.int64)
        else:
            fcodes, uniq = pd.factorize(frame[bd].to_numpy(dtype=object), use_na_sentinel=True)
            uniq_s = [NOT_RECORDED if (u is None or u is pd.NA or u != u) else str(u) for u in uniq]
            values = band_values(bd, [*uniq_s, *([NOT_RECORDED] if (fcodes < 0).any() else [])], ctx.age_bands)
            where = {v: i for i, v in enumerate(values)}
            lut = np.array([where[u] for u in uniq_s] + [where.get(NOT_RECORDED, 0)], dtype=np.int64)
            codes = lut[np.where(fcodes < 0, len(uniq_s), fcodes)]
        nv = len(values)
        idx = codes * ctx.W + months
        res = {}
        for meas in measures:
            grid = np.bincount(idx, weights=src[meas].to_numpy(dtype=float), minlength=nv * ctx.W)
            grid = grid.reshape(nv, ctx.W)
            if ev.kind == "flow":
                cs = np.concatenate([np.zeros((nv, 1)), np.cumsum(grid, axis=1)], axis=1)
                res[meas] = cs[:, last + 1] - cs[:, first]
            else:
                res[meas] = grid[:, last]
        npd = len(periods)
        part = pd.DataFrame({
            "indicator_id": ind.code,
            "period_type": np.tile(periods["period_type"].to_numpy(), nv),
            "period_start": np.tile(periods["period_start"].to_numpy(), nv),
            "period_end": np.tile(periods["period_end"].to_numpy(), nv),
            "breakdown": bd,
            "breakdown_value": np.repeat(np.asarray(values, dtype=object), npd),
        })
        for meas in measures:
            part[meas] = res[meas].reshape(-1)
        part["_covered"] = np.tile(covered, nv)
        part["_partial"] = np.tile(partial, nv)
        part["_truncated"] = np.tile(truncated, nv)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    return _finish(ctx, ind, ev, out)


def _finish(ctx: Context, ind: Indicator, ev: Events, out: pd.DataFrame) -> pd.DataFrame:
    """Value, status and note columns from summed measures."""
    covered = out.pop("_covered").to_numpy(dtype=bool)
    partial = out.pop("_partial").to_numpy(dtype=bool)
    truncated = out.pop("_truncated").to_numpy(dtype=bool) if "_truncated" in out else np.zeros(len(out), bool)
    num = out.pop("num").to_numpy(dtype=float)
    status = np.where(covered, "ok", "no data").astype(object)
    note = pd.Series(np.where(covered, "", "no source data for this period"), dtype="object")
    if ind.unit == "percent":
        den = out.pop("den").to_numpy(dtype=float)
        value = np.asarray(percentage(num, den), dtype=float)
        zero = covered & (den == 0)
        status[zero] = "no data"
        note[zero] = "no cases in the denominator"
    elif ind.unit == "rate_per_10k":
        fy = financial_year(out["period_end"])
        pop = np.array([ctx.population.get(int(y), np.nan) for y in fy], dtype=float)
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
    extra = []
    if "unknown" in out:
        unk = out.pop("unknown").to_numpy(dtype=float)
        out["unknown"] = np.where(nodata, np.nan, unk)
        if ev.unknown_note:
            extra.append((unk, ev.unknown_note))
    else:
        out["unknown"] = np.nan
    for meas, text in ev.notes.items():
        if meas in out:
            extra.append((out.pop(meas).to_numpy(dtype=float), text))
    ok = covered
    text = ("partial period: the data cover only part of it" if ev.kind == "flow"
            else "partial period: value at the last month end with data")
    part_note = pd.Series(np.where(ok & partial & ~truncated, text, ""))
    if ev.extract_start is not None:
        # an ISO date, so that the public note keeps it (safeguarding.published_data.safe_note)
        part_note[ok & truncated] = (f"the extract starts on {ev.extract_start:%Y-%m-%d} (earlier records are only "
                                     f"those still open then); this period is only partly covered")
    pieces = [note, part_note]
    for counts, text in extra:
        show = ok & (counts > 0)
        s = pd.Series("", index=out.index, dtype="object")
        if show.any():
            s[show] = pd.Series(counts[show]).astype(int).astype(str).to_numpy() + " " + text
        pieces.append(s)
    joined = pieces[0].astype(str)
    for p in pieces[1:]:
        p = p.astype(str)
        joined = np.where((joined != "") & (p != ""), joined + "; " + p, joined + p)
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


def _window(tables: dict[str, pd.DataFrame], aggregates: pd.DataFrame | None, start: Any, end: Any,
            data_end: Any) -> tuple[Window | None, pd.Timestamp | None]:
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


def compute_indicators(tables: dict[str, pd.DataFrame], catalogue: Catalogue | None = None, *,
                       population: dict[int, float] | None = None, aggregates: pd.DataFrame | None = None,
                       start: Any = None, end: Any = None, breakdowns: bool = True,
                       age_bands: tuple[tuple[int, str], ...] | None = None,
                       history_start: Any = None, data_end: Any = None) -> pd.DataFrame:
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
    catalogue = catalogue if catalogue is not None else load_catalogue()
    prepared = prepare_tables({k: v for k, v in tables.items() if v is not None})
    agg = aggregates if aggregates is not None and len(aggregates) else None
    window, dend = _window(prepared, agg, start, end, data_end)
    if window is None:
        raise IndicatorInputError("no data: none of the processed tables has any rows and no start/end was given")
    ctx = Context(prepared, window, population, agg, age_bands or DEFAULT_AGE_BANDS,
                   pd.Timestamp(history_start) if history_start is not None else None, dend)
    periods_all = period_table(window)
    agg_ids = set(agg["indicator_id"].astype(str)) if agg is not None else set()
    results = []
    for ind in catalogue.values():
        periods = _periods_for(ind, periods_all)
        tables_needed = [t for t in ind.source if t != "aggregates"]
        missing = [t for t in tables_needed if t not in prepared]
        if ind.method == AGGREGATE or (missing and ind.code in agg_ids):
            if ind.code in agg_ids:
                sel = agg[agg["indicator_id"].astype(str) == ind.code]
                results.append(_aggregate_rows(ctx, ind, sel, periods))
            else:
                results.append(_not_available(ind, periods, "not supplied: no aggregate return holds this measure"))
            continue
        if ind.code in agg_ids:
            ctx.warnings.append(f"{ind.code}: computed from child-level data; the aggregate return's rows are not used")
        if missing:
            reason = (f"not available: the {' and '.join(missing)} table{'s were' if len(missing) > 1 else ' was'} "
                      f"not supplied (add it under inputs: in report.yml and run ingest)")
            if ind.unit == "rate_per_10k" and not ctx.population:
                reason += "; no population figure either"
            results.append(_not_available(ind, periods, reason))
            continue
        if ind.unit == "rate_per_10k" and not ctx.population:
            results.append(_not_available(
                ind, periods, "not available: no population figure (add population: {YEAR: N} to report.yml "
                              "or set benchmarks.ons_file and area.la_code)"))
            continue
        ev = get_method(ind.method).function(ctx, ind)
        results.append(_summarise(ctx, ind, ev, periods, breakdowns))
    unknown_ids = sorted(agg_ids - set(catalogue))
    if unknown_ids:
        ctx.warnings.append(f"aggregate return measure(s) not in the catalogue, ignored: {', '.join(unknown_ids)}; "
                            f"valid: {', '.join(catalogue)}")
    out = pd.concat(results, ignore_index=True)
    out = add_targets(out, catalogue)
    out = add_intervals(out, catalogue)
    cols = [*schema.INDICATOR_COLUMNS, *EXTRA_COLUMNS]
    out = out[cols]
    for c in ("period_start", "period_end"):
        out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
    for c in ("numerator", "denominator", "value", "unknown", "target"):
        out[c] = out[c].astype(float)
    for c in ("indicator_id", "period_type", "breakdown", "breakdown_value", "status", "note", "rag"):
        out[c] = out[c].astype(str)
    for w in ctx.warnings:
        log.warning(w)
    out.attrs["warnings"] = list(ctx.warnings)
    out.attrs["window"] = (str(window.start.date()), str(window.end.date()))
    return out



def run_indicators(config: Any) -> pd.DataFrame:
    """Read the processed tables named by ``config``, compute every indicator, and write
    ``indicators.parquet`` and ``indicators.csv`` to the processed folder. Returns the table."""
    catalogue = load_catalogue(config)
    tables, aggregates = read_processed(config.processed_dir)
    opts = run_options(config)
    end = opts.pop("end", None)
    if end is None and (tables or aggregates is not None):
        end = config.year_end
    table = compute_indicators(tables, catalogue, population=population_from_config(config),
                               aggregates=aggregates, end=end, **opts)
    out = Path(config.processed_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "indicators.parquet", lambda tmp: table.to_parquet(tmp, index=False))
    csv = table.copy()
    for c in ("period_start", "period_end"):
        csv[c] = csv[c].dt.strftime("%Y-%m-%d")
    write_atomic(out / "indicators.csv", lambda tmp: csv.to_csv(tmp, index=False))
    return table
