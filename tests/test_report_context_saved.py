"""Issue 19 item 1: the report context is worked out once per build, saved, and opened by each chapter's kernel.

On a small processed folder (an indicator table and a disclosure-controlled table
written here): the saved context equals one worked out afresh, and both equal
what the report context was before it was vectorised (a dictionary built row by
row, a mask worked out row by row); a saved context is refused by a chapter of
another audience, year or configuration, or once its sources change; the cache
rebuilds it exactly when its sources change, and a board context is never
restored for a public build.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from e2e import demo_config_copy

from safeguarding.cache import Incremental
from safeguarding.config import load_config
from safeguarding.report.context import ReportContext
from safeguarding.report.prepared import (
    INDICATORS,
    META,
    SHOWN,
    SavedContextError,
    ShownTable,
    open_context,
    prepare_context,
    save_context,
)

KEY = ["indicator_id", "period_type", "period_end", "breakdown", "breakdown_value"]


def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """An indicator table and its disclosure-controlled table (markers c, x and none; one row of the
    indicator table missing from the protected one; one key twice in the protected one)."""
    rows, shown = [], []
    months = pd.date_range("2024-04-30", "2025-03-31", freq="ME")
    for code in ("REFERRALS", "CPP_OPEN"):
        for i, end in enumerate(months):
            for bd, bv in (("all", "all"), ("sex", "Female"), ("sex", "Male")):
                n = float(3 + 7 * i if bv != "Male" else i % 4)
                rows.append({"indicator_id": code, "period_type": "month", "period_start": end.replace(day=1),
                             "period_end": end, "breakdown": bd, "breakdown_value": bv, "numerator": n,
                             "denominator": np.nan, "value": n, "status": "ok", "note": "", "unknown": np.nan,
                             "target": np.nan, "rag": "N/A"})
                marker = "x" if bv == "Male" and i % 3 == 0 else ("c" if 1 <= n <= 5 else "")
                text = marker or f"{n:.0f}"
                shown.append({"indicator_id": code, "period_type": "month", "period_end": end, "breakdown": bd,
                              "breakdown_value": bv, "numerator": text, "denominator": None, "value": text,
                              "marker": marker})
    ind = pd.DataFrame(rows)
    pub = pd.DataFrame(shown)
    pub = pub.drop(index=5).reset_index(drop=True)  # a row the protected table does not hold: withheld
    twice = pub.iloc[[7]].assign(marker="x", value="x")  # a key twice: the last row counts
    pub = pd.concat([pub, twice], ignore_index=True)
    for col in ("numerator", "denominator", "value", "marker"):
        pub[col] = pub[col].astype("string")
    return ind, pub


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A configuration whose processed folder holds the two tables."""
    cfg_path = demo_config_copy(tmp_path)
    processed = tmp_path / "processed"
    processed.mkdir()
    ind, pub = _tables()
    ind.to_parquet(processed / "indicators.parquet", index=False)
    pub.to_parquet(processed / "indicators_public.parquet", index=False)
    return cfg_path


def _row_by_row(cfg_path: Path) -> tuple[dict, pd.DataFrame]:
    """The report context's lookup and public indicator table as they were worked out before (issue 19)."""
    cfg = load_config(cfg_path, audience="public")
    t = pd.read_parquet(cfg.processed_dir / "indicators_public.parquet")
    t["period_end"] = pd.to_datetime(t["period_end"])
    keys = zip(t.indicator_id.astype(str), t.period_type.astype(str), t.period_end, t.breakdown.astype(str),
               t.breakdown_value.astype(str), strict=True)
    vals = zip(t.numerator.astype(str), t.denominator.astype(str), t.value.astype(str), t.marker.astype(str),
               strict=True)
    shown = {k: {"numerator": n, "denominator": d, "value": v, "marker": m} for k, (n, d, v, m)
             in zip(keys, vals, strict=True)}
    ind = pd.read_parquet(cfg.processed_dir / "indicators.parquet")
    for col in ("period_start", "period_end"):
        ind[col] = pd.to_datetime(ind[col])
    return shown, ind


def _mask_row_by_row(shown: dict, rows: pd.DataFrame, markers: tuple[str, ...]) -> np.ndarray:
    keys = zip(rows["indicator_id"].astype(str), rows["period_type"].astype(str), pd.to_datetime(rows["period_end"]),
               rows["breakdown"].astype(str), rows["breakdown_value"].astype(str), strict=True)
    return np.array([shown.get(k, {"marker": "x"}).get("marker") in markers for k in keys], dtype=bool)


@pytest.mark.parametrize("audience", ["public", "board"])
def test_the_saved_context_equals_one_worked_out_afresh(project, tmp_path, audience):
    cfg = load_config(project, audience=audience)
    fresh = prepare_context(cfg)
    folder = save_context(cfg, tmp_path / "build" / "context" / audience)
    assert sorted(p.name for p in folder.iterdir()) == sorted([META, INDICATORS, *([SHOWN] * (audience == "public"))])
    opened = open_context(cfg, folder)
    pd.testing.assert_frame_equal(opened.indicators, fresh.indicators, check_exact=True)
    if audience == "board":
        assert fresh.shown is None and opened.shown is None
        assert len(opened.indicators) == len(_tables()[0]), "the board sees every row"
        return
    pd.testing.assert_frame_equal(opened.shown.frame, fresh.shown.frame, check_exact=True)
    # and both are what the context was before: a dictionary built row by row, rows withheld (x) left out
    before, ind = _row_by_row(project)
    assert dict(opened.shown) == before and dict(fresh.shown) == before
    kept = ind[~_mask_row_by_row(before, ind, ("x",))].reset_index(drop=True)
    pd.testing.assert_frame_equal(opened.indicators, kept, check_exact=True)
    assert len(kept) < len(ind)
    ctx = ReportContext.load(project, audience="public", build_dir=tmp_path / "b", saved=folder)
    for markers in (("c", "x"), ("x",), ("c",)):
        for rows in (ind, ind.iloc[::-1], ind.iloc[:0]):
            np.testing.assert_array_equal(ctx.hidden_mask(rows, markers), _mask_row_by_row(before, rows, markers))
    for _, row in ind.iterrows():
        key = (row["indicator_id"], row["period_type"], row["period_end"], row["breakdown"], row["breakdown_value"])
        assert ctx.published(row) == before.get(key)
        assert ctx.is_hidden(row) == (key not in before or before[key]["marker"] in ("c", "x"))


def test_a_shown_table_is_a_mapping_of_the_published_strings(project):
    before, _ = _row_by_row(project)
    table = ShownTable.from_table(pd.read_parquet(Path(project).parent / "processed" / "indicators_public.parquet"))
    assert len(table) == len(before) and set(table) == set(before)
    key = next(iter(before))
    assert table[key] == before[key] and key in table
    assert ("NOPE", "month", key[2], "all", "all") not in table and table.get(("NOPE", *key[1:])) is None
    with pytest.raises(KeyError):
        table[("NOPE", "month", key[2], "all", "all")]


def test_a_saved_context_is_refused_by_a_chapter_it_was_not_made_for(project, tmp_path):
    """A public chapter never opens a board context (which would show every figure), nor a context of
    another year or configuration, nor one whose sources changed since it was saved."""
    board = save_context(load_config(project, audience="board"), tmp_path / "ctx" / "board")
    public = save_context(load_config(project, audience="public"), tmp_path / "ctx" / "public")
    with pytest.raises(SavedContextError, match="audience 'board'"):
        open_context(load_config(project, audience="public"), board)
    with pytest.raises(SavedContextError, match="audience 'board'"):
        ReportContext.load(project, audience="public", build_dir=tmp_path / "b", saved=board)
    with pytest.raises(SavedContextError, match="audience 'public'"):
        ReportContext.load(project, audience="board", build_dir=tmp_path / "b", saved=public)
    with pytest.raises(SavedContextError, match="year"):
        ReportContext.load(project, year=2024, audience="public", build_dir=tmp_path / "b", saved=public)
    other = shutil.copy(project, Path(project).with_name("copy.yml"))  # the same settings, another file
    with pytest.raises(SavedContextError, match="config"):
        ReportContext.load(other, audience="public", build_dir=tmp_path / "b", saved=public)
    with pytest.raises(SavedContextError, match="no saved report context"):
        ReportContext.load(project, audience="public", build_dir=tmp_path / "b", saved=tmp_path / "nowhere")
    # the protected table changes after the context was saved: the saved context is stale
    processed = Path(project).parent / "processed"
    pub = pd.read_parquet(processed / "indicators_public.parquet")
    pub.loc[pub.index[pub["marker"].eq("")][0], "marker"] = "c"
    pub.to_parquet(processed / "indicators_public.parquet", index=False)
    with pytest.raises(SavedContextError, match="sources"):
        ReportContext.load(project, audience="public", build_dir=tmp_path / "b", saved=public)
    # the board context reads no protected table: still good
    ReportContext.load(project, audience="board", build_dir=tmp_path / "b", saved=board)


def test_the_cache_rebuilds_the_context_exactly_when_its_sources_change(project, tmp_path):
    saves: list[str] = []

    def context(audience: str, run: str) -> tuple[Path, dict]:
        cfg = load_config(project, audience=audience)
        inc = Incremental(cfg, audience, {"pandas": pd.__version__}, logger=logging.getLogger("t"))
        folder = tmp_path / run / "context" / audience

        def save() -> Path:
            saves.append(audience)
            return save_context(cfg, folder)

        inc.context(save, folder)
        return folder, inc.context_outcome

    folder, outcome = context("public", "run1")
    assert outcome["cache"] == "no entry" and saves == ["public"]
    folder, outcome = context("public", "run2")  # nothing changed: restored, not worked out
    assert outcome["status"] == "cached" and saves == ["public"]
    assert open_context(load_config(project, audience="public"), folder).shown is not None
    board, outcome = context("board", "run3")  # the board has its own entry: never the public one
    assert outcome["cache"] == "no entry" and saves == ["public", "board"]
    assert open_context(load_config(project, audience="board"), board).shown is None
    # the protected table changes: the public context is worked out again, the board one is not
    processed = Path(project).parent / "processed"
    pub = pd.read_parquet(processed / "indicators_public.parquet")
    pub["marker"] = "x"
    pub.to_parquet(processed / "indicators_public.parquet", index=False)
    folder, outcome = context("public", "run4")
    assert outcome["cache"] == "inputs changed" and saves == ["public", "board", "public"]
    assert open_context(load_config(project, audience="public"), folder).indicators.empty, "every row withheld"
    _, outcome = context("board", "run5")
    assert outcome["status"] == "cached" and saves == ["public", "board", "public"]
    # the indicator table changes: both are worked out again
    ind = pd.read_parquet(processed / "indicators.parquet")
    ind.loc[0, "value"] = 99.0
    ind.to_parquet(processed / "indicators.parquet", index=False)
    for audience, run in (("public", "run6"), ("board", "run7")):
        assert context(audience, run)[1]["cache"] == "inputs changed"
    assert saves[-2:] == ["public", "board"]
