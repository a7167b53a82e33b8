"""Issue 15, item 4: every percentage and rate in a report table carries its 95% interval.

The intervals are checked against independent calculations: statsmodels' Wilson
interval for percentages, and the exact (chi-squared) Poisson limits below 10
events and Byar's formula from 10, written out here, for rates per 10,000. A
withheld figure gets the table's own marker and no interval.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from safeguarding.config import load_config
from safeguarding.indicators.catalogue import load_catalogue
from safeguarding.report.context import ReportContext, interval_text
from safeguarding.report.tables import CI, publish_breakdown, yearly_table

PROJECT = Path(__file__).resolve().parents[1]
Z = stats.norm.ppf(0.975)


def _one_dp(v: float) -> str:
    return str(Decimal(repr(float(v))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def wilson_text(x: float, n: float) -> str:
    lo, hi = proportion_confint(x, n, alpha=0.05, method="wilson")
    return f"{_one_dp(100 * lo)}% to {_one_dp(100 * hi)}%"


def poisson_rate_text(x: float, population: float) -> str:
    """Exact limits below 10 events (Garwood), Byar's approximation from 10 (Breslow and Day 1987)."""
    if x < 10:
        lo = 0.0 if x == 0 else stats.chi2.ppf(0.025, 2 * x) / 2
        hi = stats.chi2.ppf(0.975, 2 * x + 2) / 2
    else:
        lo = x * (1 - 1 / (9 * x) - Z / (3 * math.sqrt(x))) ** 3
        hi = (x + 1) * (1 - 1 / (9 * (x + 1)) + Z / (3 * math.sqrt(x + 1))) ** 3
    return f"{_one_dp(lo / population * 10_000)} to {_one_dp(hi / population * 10_000)}"


@pytest.mark.parametrize(("x", "n"), [(147, 192), (153, 175), (0, 12), (12, 12), (1, 3), (328, 1490)])
def test_percentage_interval_is_wilson(x, n):
    assert interval_text(x, n) == wilson_text(x, n)


@pytest.mark.parametrize(("x", "pop"), [(0, 28_302), (3, 28_302), (9, 28_302), (10, 28_302), (114, 28_302),
                                        (1_490, 28_302)])
def test_rate_interval_is_exact_below_10_events_and_byars_from_10(x, pop):
    assert interval_text(x, pop, "rate_per_10k") == poisson_rate_text(x, pop)


def test_an_interval_for_a_count_is_refused():
    with pytest.raises(ValueError, match="no interval"):
        interval_text(3, 10, "count")


# ------------------------------------------------------------------------------- breakdown tables


def test_each_published_share_carries_its_interval_and_a_withheld_one_has_none():
    raw = pd.DataFrame({"label": ["Neglect", "Physical abuse", "Emotional abuse"], "count": [55.0, 3.0, 56.0],
                        "hidden": [False, True, True]})
    raw.attrs.update(total=114.0, total_hidden=False)
    table = publish_breakdown(SimpleNamespace(public=True), raw, label_title="Category")
    assert table.columns.tolist() == ["Category", "Number", "Percent", CI]
    assert table[CI].tolist() == [wilson_text(55, 114), "c", "c", "z"]
    assert table["Percent"].tolist() == ["48.2%", "c", "c", "100.0%"]


def test_a_withheld_total_leaves_no_share_or_interval():
    raw = pd.DataFrame({"label": ["A", "B"], "count": [40.0, 4.0], "hidden": [False, True]})
    raw.attrs.update(total=44.0, total_hidden=True)
    table = publish_breakdown(SimpleNamespace(public=True), raw, label_title="Group")
    assert table[CI].tolist() == ["c", "c", "c"]


def test_the_board_sees_every_interval():
    raw = pd.DataFrame({"label": ["A", "B"], "count": [40.0, 4.0], "hidden": [False, False]})
    raw.attrs.update(total=44.0, total_hidden=False)
    board = SimpleNamespace(public=False, fmt_count=lambda c: f"{round(c):,}")
    table = publish_breakdown(board, raw, label_title="Group")
    assert table[CI].tolist() == [wilson_text(40, 44), wilson_text(4, 44), "z"]


# ------------------------------------------------------------------------ indicator rows (fmt_interval)


class _NoBenchmarks:
    available = False


def _row(code: str, year_end: int, num: float, den: float | None, value: float) -> dict:
    return {"indicator_id": code, "period_type": "year", "period_start": pd.Timestamp(year_end - 1, 4, 1),
            "period_end": pd.Timestamp(year_end, 3, 31), "breakdown": "all", "breakdown_value": "all",
            "numerator": num, "denominator": den, "value": value, "status": "ok", "note": "", "target": np.nan,
            "rag": "N/A"}


def _published(v: float | None, marker: str) -> str:
    return "c" if marker else ("z" if v is None else f"{v:g}")


def _ctx(tmp_path: Path, rows: list[dict], markers: dict[tuple[str, int], str] | None) -> ReportContext:
    """A context over a few yearly rows; ``markers`` (public audience) gives each row's published marker."""
    audience = "board" if markers is None else "public"
    cfg = load_config(PROJECT / "report.yml", audience=audience)
    ctx = ReportContext(config=cfg, audience=audience, build_dir=tmp_path, indicators=pd.DataFrame(rows),
                        catalogue=load_catalogue(cfg), benchmarks=_NoBenchmarks())
    if markers is not None:
        shown = {}
        for r in rows:
            marker = markers.get((r["indicator_id"], r["period_end"].year), "")
            shown[(r["indicator_id"], "year", r["period_end"], "all", "all")] = {
                "numerator": _published(r["numerator"], marker), "denominator": _published(r["denominator"], marker),
                "value": _published(r["value"], marker), "marker": marker}
        ctx.shown = shown
    return ctx


ROWS = [
    _row("ICPC_15WD", 2024, 153, 175, 100 * 153 / 175), _row("ICPC_15WD", 2025, 147, 192, 100 * 147 / 192),
    _row("CPP_RATE", 2024, 116, 28_217, 116 / 28_217 * 10_000), _row("CPP_RATE", 2025, 4, 28_302, 4 / 28_302 * 10_000),
    _row("CPP_OPEN", 2024, 116, None, 116), _row("CPP_OPEN", 2025, 4, None, 4),
]


@pytest.mark.parametrize("public", [False, True])
def test_each_percentage_and_rate_in_a_yearly_table_carries_its_interval(tmp_path, public):
    markers = {("CPP_RATE", 2025): "c", ("CPP_OPEN", 2025): "c"} if public else None
    ctx = _ctx(tmp_path, ROWS, markers)
    table = yearly_table(ctx, ["CPP_OPEN", "CPP_RATE", "ICPC_15WD"],
                         {"CPP_OPEN": "On a plan", "CPP_RATE": "Rate per 10,000", "ICPC_15WD": "ICPCs on time"},
                         years=2)
    assert table.columns.tolist() == ["Year", "On a plan", "Rate per 10,000", "95% CI (rate per 10,000)",
                                      "ICPCs on time", "95% CI (ICPCs on time)"]
    last, this = table.iloc[0], table.iloc[1]
    assert last["95% CI (ICPCs on time)"] == wilson_text(153, 175)
    assert this["95% CI (ICPCs on time)"] == wilson_text(147, 192) == "70.1% to 82.0%"
    assert last["95% CI (rate per 10,000)"] == poisson_rate_text(116, 28_217)
    if public:  # the withheld rate: the same marker as the figure, no interval
        assert this["Rate per 10,000"] == "c" and this["95% CI (rate per 10,000)"] == "c"
    else:
        assert this["95% CI (rate per 10,000)"] == poisson_rate_text(4, 28_302)


def test_a_count_has_no_interval_and_a_missing_row_none(tmp_path):
    ctx = _ctx(tmp_path, ROWS, None)
    assert ctx.fmt_interval(ctx.row("CPP_OPEN", "year")) == "z"
    assert ctx.fmt_interval(None) == ":"


# ------------------------------------------------------------------------ intervals on charts (item 4)
ICPC_YEARS = [(2021, 120, 160), (2022, 131, 160), (2023, 140, 170), (2024, 153, 175), (2025, 147, 192)]


@pytest.mark.parametrize("public", [False, True])
def test_yearly_chart_draws_each_years_wilson_interval_and_states_the_year_on_year_finding(tmp_path, public):
    """Issue 15, item 4: the charts showed no interval anywhere. A percentage's yearly chart draws each year's
    95% interval (checked against statsmodels' Wilson interval of the published counts), leaves a withheld year
    as a gap, and its title states the year-on-year finding the text gives (87.4% to 76.6%: significant)."""
    import matplotlib.pyplot as plt

    from safeguarding import charts
    from safeguarding.report import figures

    rows = [_row("ICPC_15WD", y, n, d, 100 * n / d) for y, n, d in ICPC_YEARS]
    markers = {("ICPC_15WD", 2022): "c"} if public else None
    ctx = _ctx(tmp_path, rows, markers)
    drawn: list[charts.Chart] = []
    real = charts.interval_chart

    def spy(*args, **kwargs):
        drawn.append(real(*args, **kwargs))
        return drawn[-1]

    charts.interval_chart = spy
    try:
        md = figures.yearly_interval(ctx, "ICPC_15WD", label="years-icpc")
    finally:
        charts.interval_chart = real
    assert "years-icpc" in md and len(drawn) == 1
    chart = drawn[0]
    for (y, n, d), (label, r) in zip(ICPC_YEARS, chart.data.iterrows(), strict=True):
        assert label == f"{y - 1}-{str(y)[2:]}"
        if public and y == 2022:
            assert r.isna().all()
            continue
        lo, hi = proportion_confint(n, d, alpha=0.05, method="wilson")
        assert r["value"] == pytest.approx(100 * n / d) and r["lower"] == pytest.approx(100 * lo)
        assert r["upper"] == pytest.approx(100 * hi)
    # the bars drawn are the intervals: each error bar's vertical line spans lower to upper
    segments = [c for c in chart.figure.axes[0].collections if c.__class__.__name__ == "LineCollection"]
    spans = sorted((round(min(s[:, 1]), 6), round(max(s[:, 1]), 6)) for c in segments for s in c.get_segments())
    want = sorted((round(r.lower, 6), round(r.upper, 6)) for r in chart.data.dropna().itertuples())
    assert spans == want
    assert chart.title.endswith(": lower in 2024-25 than in 2023-24, unlikely to be chance"), chart.title
    assert "70.1% to 82.0%" in chart.alt_text  # 147 of 192, as the table prints it
    plt.close("all")


def test_no_yearly_chart_for_a_count_or_fewer_than_three_years(tmp_path):
    from safeguarding.report import figures

    ctx = _ctx(tmp_path, ROWS, None)
    assert figures.yearly_interval(ctx, "CPP_OPEN", label="x") == ""  # a count: no interval
    assert figures.yearly_interval(ctx, "ICPC_15WD", label="x") == ""  # two years only
