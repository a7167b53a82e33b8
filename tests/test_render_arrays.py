"""The indicator table's cells are listed, and its published strings written, by array operations.

Both were loops over the rows in Python: :func:`~safeguarding.disclosure.primary.indicator_cells`
(about 0.06 s on the benchmark's 39,900 rows, before the first pass) and
:func:`~safeguarding.disclosure.render.render_indicator_table` (about 0.05 s,
after the last), in the one process while the other waited. These tests
hold the loops as they were (the references) and check that the arrays give
the same cells, in the same order, and the same strings, dtypes included, on
tables with every kind of figure: counts (whole, fractional, missing),
percentages (missing values, halves to round), rates (denominators that are
not whole), and any pattern of suppressed cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from safeguarding.disclosure.policy import MARKERS
from safeguarding.disclosure.primary import MEASURES_OF, indicator_cells
from safeguarding.disclosure.render import _count_text, render_indicator_table
from safeguarding.markers import NOT_APPLICABLE, NOT_AVAILABLE, WITHHELD
from safeguarding.measures import round_half_up


def _cells_by_loop(df: pd.DataFrame, kind: np.ndarray) -> tuple[dict[tuple[int, str], int], np.ndarray, pd.DataFrame]:
    """``(cell_id, values, long)`` row by row, as :func:`indicator_cells` was written (the reference)."""
    figures = {m: df[m].to_numpy(dtype=float) for m in ("numerator", "denominator", "value")}
    cell_id: dict[tuple[int, str], int] = {}
    values: list[float] = []
    for r, k in enumerate(kind):
        for m in MEASURES_OF[k]:
            cell_id[(r, m)] = len(values)
            values.append(figures[m][r])
    vals = np.asarray(values, dtype=float)
    long = pd.DataFrame([(cid, r, m) for (r, m), cid in cell_id.items()], columns=["cell", "row", "measure"])
    long = long.join(df[["indicator_id", "period_type", "period_start", "period_end", "breakdown",
                         "breakdown_value"]], on="row")
    long["v"] = vals[long["cell"].to_numpy()]
    return cell_id, vals, long


def _render_by_loop(df: pd.DataFrame, kind: np.ndarray, cell_id: dict[tuple[int, str], int],
                    suppressed: np.ndarray) -> pd.DataFrame:
    """The published strings row by row, as :func:`render_indicator_table` was written (the reference)."""
    out = df.copy()
    hidden = {key: bool(suppressed[cid]) for key, cid in cell_id.items()}
    figures = {m: df[m].to_numpy(dtype=float) for m in ("numerator", "denominator", "value")}
    num_s, den_s, val_s, flag, marker = [], [], [], [], []
    for r, k in enumerate(kind):
        num, den, val = figures["numerator"][r], figures["denominator"][r], figures["value"][r]
        if k == "count":
            hv = hidden[(r, "value")]
            hn, hd = hv, False
            n_txt = WITHHELD if hv else (_count_text(num) if pd.notna(num) else NOT_APPLICABLE)
            d_txt = NOT_APPLICABLE
            v_txt = WITHHELD if hv else _count_text(val)
        else:
            hn = hidden[(r, "numerator")]
            hd = hidden.get((r, "denominator"), False)
            hv = hn or hd
            n_txt = WITHHELD if hn else _count_text(num)
            d_txt = WITHHELD if hd else _count_text(den if k == "percentage" or pd.isna(den) else round(den))
            v_txt = WITHHELD if hv else (NOT_AVAILABLE if pd.isna(val) else f"{round_half_up(val, 1):.1f}")
        num_s.append(n_txt)
        den_s.append(d_txt)
        val_s.append(v_txt)
        flag.append(bool(hn or hd or hv))
        marker.append(v_txt if v_txt in MARKERS and v_txt != "0" else "")
    out["numerator"] = pd.Series(num_s, dtype="string")
    out["denominator"] = pd.Series(den_s, dtype="string")
    out["value"] = pd.Series(val_s, dtype="string")
    out["suppressed"] = pd.Series(flag, dtype=bool)
    out["marker"] = pd.Series(marker, dtype="string")
    return out


def _table(seed: int, rows: int = 400) -> pd.DataFrame:
    """Counts, percentages and rates with awkward figures: missing, fractional, halves, large, zero."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2023-04-01", periods=rows // 8, freq="MS")
    out = []
    for i, code in enumerate(["COUNT_A", "COUNT_B", "PCT_A", "PCT_B", "RATE_A"]):
        for r in range(rows // 5):
            start = months[r % len(months)]
            num = float(rng.integers(0, 40))
            if code.startswith("COUNT"):
                value = num if rng.random() > 0.1 else rng.choice([np.nan, num + 0.5, 1e6, 0.0, 1e20, -np.inf])
                numerator = value if rng.random() > 0.5 else np.nan
                out.append((code, value, np.nan, numerator))
            elif code.startswith("PCT"):
                den = float(rng.integers(1, 80))
                num = min(num, den)
                value = 100 * num / den if rng.random() > 0.1 else np.nan
                if rng.random() < 0.05:
                    num, den, value = 1.0, 8.0, 12.5  # a half to round (12.5 -> 12.5; 0.125 -> 0.1 at 1 place)
                out.append((code, value, den, num))
            else:
                den = float(rng.integers(1000, 90000)) + rng.choice([0.0, 0.5, 0.25])
                value = 10000 * num / den
                out.append((code, value, den if rng.random() > 0.1 else np.nan, num))
            out[-1] = (*out[-1], start, i)
    df = pd.DataFrame(out, columns=["indicator_id", "value", "denominator", "numerator", "period_start", "i"])
    df["period_type"] = "month"
    df["period_end"] = df["period_start"] + pd.offsets.MonthEnd(0)
    df["breakdown"] = "all"
    df["breakdown_value"] = "all"
    return df.drop(columns="i").reset_index(drop=True)


@pytest.mark.parametrize("seed", range(4))
def test_the_cells_are_those_the_loop_listed(seed: int) -> None:
    df = _table(seed)
    cells = indicator_cells(df)
    assert set(cells.kind) == {"count", "percentage", "rate"}  # (the fixture holds every kind)
    cell_id, values, long = _cells_by_loop(df, cells.kind)
    assert set(cells.ids) == {m for _, m in cell_id}  # (the fixture has every figure as a cell somewhere)
    np.testing.assert_array_equal(cells.values, values)
    pd.testing.assert_frame_equal(cells.long, long)
    for m, ids in cells.ids.items():
        assert ids.shape == (len(df),)
        assert all(cell_id.get((r, m), -1) == int(c) for r, c in enumerate(ids))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("share", [0.0, 0.3, 1.0])
def test_the_published_strings_are_those_the_loop_wrote(seed: int, share: float) -> None:
    df = _table(seed)
    cells = indicator_cells(df)
    suppressed = np.random.default_rng(seed + 10).random(len(cells.values)) < share
    ours = render_indicator_table(df, cells, suppressed)
    cell_id, _, _ = _cells_by_loop(df, cells.kind)
    pd.testing.assert_frame_equal(ours, _render_by_loop(df, cells.kind, cell_id, suppressed))
    if share == 0.0:  # the fixture's awkward figures are there to be written
        assert {"12.5", "1000000", str(10 ** 20), "-inf", ":", "z"} <= set(ours["value"]) | set(ours["numerator"])
        assert ours["denominator"].str.contains(".", regex=False).sum() == 0  # (rates' populations written whole)
