"""Charts: house style, words derived from the data, never colour alone."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb
from scipy import stats

from safeguarding import charts, escape


def lightness(colour: str) -> float:
    """CIE L* (0 black - 100 white) from sRGB: what greyscale printing keeps."""
    rgb = np.array(to_rgb(colour))
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    y = float(lin @ [0.2126, 0.7152, 0.0722])
    return 116 * y ** (1 / 3) - 16 if y > 0.008856 else 903.3 * y


def months(n: int, start: str = "2023-04-01") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="MS")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_palette_distinct_in_greyscale_and_not_colour_alone():
    first = charts.PALETTE[:4]
    ls = [lightness(c) for c in first]
    for i in range(len(ls)):
        for j in range(i + 1, len(ls)):
            assert abs(ls[i] - ls[j]) >= 10, f"{first[i]} and {first[j]} look alike in greyscale"
    assert len(set(charts.MARKERS)) == len(charts.MARKERS)
    assert len(set(charts.HATCHES)) == len(charts.HATCHES)
    assert len({str(s) for s in charts.LINESTYLES[:6]}) == 6
    # SPC signals differ by shape as well as colour
    shapes = {v["marker"] for v in charts.SIGNAL_STYLE.values()}
    assert len(shapes) == len(charts.SIGNAL_STYLE)


def test_line_chart_title_alt_text_from_data():
    s = pd.Series(np.arange(10, 34, dtype=float), index=months(24))
    c = charts.line_chart(s, title="Referrals rose steadily", caption="Source: test.", y_label="Referrals",
                          label="Referrals", comparison=pd.Series(np.full(24, 20.0), index=months(24), name="England"))
    assert c.figure.axes[0].get_title(loc="left") == "Referrals rose steadily"
    assert "latest 33 in March 2025" in c.alt_text and "Lowest 10 (April 2023)" in c.alt_text
    assert "higher at the end" in c.alt_text and "England" in c.alt_text
    lines = c.figure.axes[0].get_lines()
    assert lines[0].get_marker() != lines[1].get_marker() and lines[0].get_linestyle() != lines[1].get_linestyle()
    c2 = charts.line_chart(s[::-1].set_axis(s.index), title="t", caption="c", y_label="Referrals")
    assert c2.alt_text != c.alt_text and "lower at the end" in c2.alt_text
    with pytest.raises(ValueError, match="title"):
        charts.line_chart(s, title=" ", caption="c", y_label="y")


def test_line_chart_frame_with_period_labels():
    frame = pd.DataFrame({"Enquiries": [800.0, 900, 950], "Conferences": [300.0, 310, 290]},
                         index=["2022-23", "2023-24", "2024-25"])
    c = charts.line_chart(frame, title="Both rose", caption="c", y_label="Number per year")
    assert "Enquiries, 3 points from 2022-23 to 2024-25" in c.alt_text and "Conferences: latest 290" in c.alt_text


def test_bar_chart_labels_values_and_orientation():
    labels = ["Police", "Schools", "Health services and hospitals"]
    c = charts.bar_chart(labels, [120, 80, 40], title="Police referred most", caption="c", value_label="Referrals",
                         what="referrals by source")
    texts = [t.get_text() for t in c.figure.axes[0].texts]
    assert {"120", "80", "40"} <= set(texts)  # value labels, not only bar lengths
    assert "Horizontal bar chart of referrals by source" in c.alt_text
    assert "Largest: Police (120)" in c.alt_text
    short = charts.bar_chart(pd.Series({"A": 1.0, "B": 2.0}), title="t", caption="c", value_label="n")
    assert short.alt_text.startswith("Bar chart")


def test_stacked_bar_hatching_differs_by_series():
    df = pd.DataFrame({"Neglect": [10, 12], "Emotional": [5, 6], "Physical": [3, 2]}, index=months(2))
    c = charts.stacked_bar_chart(df, title="Neglect most common", caption="c", y_label="Plans",
                                 legend_title="Category")
    ax = c.figure.axes[0]
    hatches = [ax.containers[i].patches[0].get_hatch() for i in range(3)]
    assert len(set(hatches)) == 3
    assert "Neglect 58%" in c.alt_text  # 22 of 38


def spc_frame(special_at: int | None, signal: str = "concern") -> pd.DataFrame:
    n = 20
    v = np.full(n, 10.0) + np.tile([1.0, -1.0], n // 2)
    sc = np.zeros(n, dtype=bool)
    sig = np.array([""] * n, dtype=object)
    if special_at is not None:
        v[special_at] = 30.0
        sc[special_at] = True
        sig[special_at] = signal
    return pd.DataFrame({"period": months(n), "value": v, "centre": 10.0, "lower": 4.0, "upper": 16.0,
                         "lower_2s": 6.0, "upper_2s": 14.0, "special_cause": sc,
                         "rule": np.where(sc, "outside limits", ""), "signal": sig})


def _scatter_markers(ax) -> dict[str, tuple]:
    out = {}
    for coll in ax.collections:
        out[coll.get_label()] = tuple(np.round(coll.get_facecolor()[0][:3], 3))
    return out


def test_spc_chart_marks_signals_by_shape_and_colour():
    """Legends in the report's words: a board member's reading of the demo met 'Special cause (no polarity)' and
    'Common cause variation' under charts whose sentences say 'unusual' and 'ordinary variation'."""
    c = charts.spc_chart(spc_frame(15, "concern"), title="An unusual rise in August 2024", caption="c",
                         y_label="Enquiries", target=12)
    ax = c.figure.axes[0]
    found = _scatter_markers(ax)
    assert "Unusual: concern" in found and "Ordinary variation" in found
    assert found["Unusual: concern"] == tuple(np.round(to_rgb(charts.CONCERN), 3))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Unusual: concern" in legend and "Target" in legend
    assert not any("cause" in t or "polarity" in t for t in legend), legend
    assert "1 point of concern (July 2024)" in c.alt_text and "Target 12" in c.alt_text
    calm = charts.spc_chart(spc_frame(None), title="Within the expected range", caption="c", y_label="Enquiries")
    assert "nothing unusual" in calm.alt_text and calm.alt_text != c.alt_text
    better = charts.spc_chart(spc_frame(3, "improvement"), title="t", caption="c", y_label="Enquiries")
    assert "Unusual: improvement" in _scatter_markers(better.figure.axes[0])
    neither = charts.spc_chart(spc_frame(3, "neither"), title="t", caption="c", y_label="Enquiries")
    assert "Unusual (neither better nor worse)" in _scatter_markers(neither.figure.axes[0])
    assert "1 point neither better nor worse (" in neither.alt_text
    with pytest.raises(ValueError, match="columns"):
        charts.spc_chart(spc_frame(None).drop(columns="upper"), title="t", caption="c", y_label="y")


def test_spc_p_chart_proportions_shown_as_percent():
    df = spc_frame(None)
    for col in ("value", "centre", "lower", "upper", "lower_2s", "upper_2s"):
        df[col] = df[col] / 100
    df["numerator"], df["denominator"] = 10, 100
    c = charts.spc_chart(df, title="Steady", caption="c", y_label="Percent on time")
    assert "p-chart" in c.alt_text and "Mean 10.0%" in c.alt_text


def funnel_inputs():
    grid = np.arange(20, 1000, 10)
    p0 = 0.2
    lim = pd.DataFrame({"denominator": grid})
    for name, q in (("lower_95", 0.025), ("upper_95", 0.975), ("lower_998", 0.001), ("upper_998", 0.999)):
        lim[name] = stats.binom.ppf(q, grid, p0) / grid
    rng = np.random.default_rng(0)
    n = rng.integers(50, 900, 60)
    x = rng.binomial(n, p0)
    units = pd.DataFrame({"la_code": [f"E{i:02d}" for i in range(60)], "la_name": [f"Council {i}" for i in range(60)],
                          "numerator": x, "denominator": n, "value": x / n})
    units.loc[7, ["numerator", "denominator", "value"]] = [200, 500, 0.4]  # far above the limits
    return units, lim, p0


def test_funnel_chart_highlight_and_alt_text():
    units, lim, p0 = funnel_inputs()
    c = charts.funnel_chart(units, lim, title="Our rate is unusually high", caption="c", y_label="Percent",
                            x_label="Plans started", highlight="E07", neighbours=["E01", "E02"], benchmark=p0)
    labels = [coll.get_label() for coll in c.figure.axes[0].collections]
    assert "Council 7" in labels and "Statistical neighbours" in labels and "Other councils" in labels
    assert "Council 7 (highlighted): 40.0%" in c.alt_text and "above the 99.8% limit" in c.alt_text
    assert "England value of 20.0%" in c.alt_text
    # the consumer's form: values and benchmark already in percent, our point as (denominator, value)
    c2 = charts.funnel_chart(units.assign(value=100 * units["value"]), lim, title="t", caption="c",
                             benchmark=100 * p0, highlight=(400, 20.5), highlight_label="Demo 2024-25")
    assert "Demo 2024-25 (highlighted): 20.5%" in c2.alt_text and "within the 95% limits" in c2.alt_text
    assert "England value of 20.0%" in c2.alt_text
    with pytest.raises(ValueError, match="not found"):
        charts.funnel_chart(units, lim, title="t", caption="c", highlight="NOPE")


def test_rag_table_never_colour_alone():
    df = pd.DataFrame({"Indicator": ["A | B", "C", "D", "E"], "Value": [1.0, 2.0, 3.0, np.nan],
                       "rag": ["Green", "amber", "R", None]})
    md = charts.rag_table(df)
    shown = escape.unescape_markdown(md)  # cells are escaped Markdown: compare the text they show
    assert "▲ Green" in shown and "● Amber" in shown and "▼ Red" in shown and "– N/A" in shown
    assert "A \\| B" in md and md.count("\n") == 5
    with pytest.raises(ValueError, match="unknown RAG"):
        charts.rag_label("purple")


def test_save_chart_png(tmp_path):
    s = pd.Series([5.0, 7, 9], index=months(3))
    c = charts.line_chart(s, title="Rising", caption="c", y_label="n")
    path = charts.save_chart(c, tmp_path / "a" / "chart.png", dpi=80)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    from PIL import Image

    img = Image.open(path)
    assert img.info.get("Title") == "Rising" and "Line chart" in img.info.get("Description", "")


# --------------------------------------------------------------------------- phone-sized rendering
LONG_TITLE = "Second or subsequent child protection plans: how Northwold compares with every council in England"


def _narrow_cases():
    idx = months(36, "2022-04-01")
    rng = np.random.default_rng(5)
    s = pd.Series(rng.normal(88, 2, 36), index=idx)
    units, lim, p0 = funnel_inputs()
    yield "line", charts.line_chart(
        s, title=LONG_TITLE, caption="c", y_label="Percent", percent=True, y_from_zero=False,
        label="Child protection plans reviewed on time",
        comparison={"Median": pd.Series(float(s.median()), index=idx)})
    three_kinds = spc_frame(15, "concern")
    three_kinds.loc[3, ["special_cause", "signal"]] = [True, "improvement"]  # a key of three entries
    yield "spc", charts.spc_chart(three_kinds, title=LONG_TITLE, caption="c",
                                  y_label="Police domestic abuse notifications involving children")
    yield "funnel", charts.funnel_chart(
        units.assign(value=100 * units["value"]), lim, title=LONG_TITLE, caption="c", y_label="Percent",
        benchmark=100 * p0, highlight=(400, 20.5), highlight_label="Northwold (synthetic demo) 2024-25")
    labels = pd.Series(["Education – schools and colleges", "Early years – nursery or childminder",
                        "Social care – residential homes", "Voluntary and youth organisations"])
    yield "bar", charts.bar_chart(labels, [120, 80, 40, 12], title=LONG_TITLE, caption="c", value_label="Allegations")
    yield "survey", charts.before_after_chart(
        ["Do you feel safe at home?", "Is there an adult you can talk to when you are worried?"], [40.4, 62.3],
        [63.5, 79.2], title="More children said yes at the end than at the start for 2 of 2 questions",
        caption="c")


def _text_boxes(fig):
    from matplotlib.text import Text

    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    hidden = {id(t) for ax in fig.axes for t in (*ax.get_xticklabels(), *ax.get_yticklabels())}
    hidden |= {id(t) for ax in fig.axes if ax.get_legend() is not None and not ax.get_legend().get_visible()
               for t in ax.get_legend().get_texts()}  # a key moved under the figure
    hidden -= {id(t) for ax in fig.axes for t in charts.shown_tick_labels(ax)}
    hidden -= {id(t.label1) for ax in fig.axes for t in ax.yaxis.get_major_ticks()
               if min(ax.get_ylim()) <= t.get_loc() <= max(ax.get_ylim())}
    return [(t.get_text(), t.get_window_extent(r)) for t in fig.findobj(Text)
            if t.get_visible() and t.get_text().strip() and id(t) not in hidden]


def _state(fig):
    from matplotlib.text import Annotation, Text

    ticks = {id(t) for ax in fig.axes for t in (*ax.get_xticklabels(), *ax.get_yticklabels())}
    return ([t.get_text() for t in fig.findobj(Text) if id(t) not in ticks],
            [tuple(t.xyann) for t in fig.findobj(Annotation)],
            [ax.xaxis.get_major_formatter() for ax in fig.axes], tuple(fig.get_size_inches()))


@pytest.mark.parametrize("kind", ["line", "spc", "funnel", "bar", "survey"])
def test_saved_charts_fit_their_width_and_the_chart_is_left_as_it_was(kind, tmp_path):
    """Issue 16: on a phone the chart's title ran 1,436 px wide and x-axis labels piled up.

    Both renderings keep every piece of text inside the figure's width (the saved
    image is no wider than the figure plus the save padding), no two labels beside
    the plot or on the x axis overlap, and saving leaves the chart's texts, label
    positions, axis formatters and size as they were.
    """
    from PIL import Image

    chart = dict(_narrow_cases())[kind]
    fig = chart.figure
    before = _state(fig)
    full = charts.save_chart(chart, tmp_path / "chart.png")
    narrow = charts.save_narrow_chart(chart, tmp_path / "chart.png")
    assert _state(fig) == before
    dpi = 150
    for path, inches in ((full, before[3][0]), (narrow, charts.NARROW_SIZE[0])):
        width_px = Image.open(path).size[0]
        assert width_px <= (inches + 0.25) * dpi, (kind, path.name, width_px)

    # the same fitting, kept on the figure this time, to look at its text boxes
    fig.set_size_inches(*charts.NARROW_SIZE)
    charts.fit_to_width(fig)
    boxes = _text_boxes(fig)
    right = fig.bbox.x1
    wide = [(t, round(b.x1 - right)) for t, b in boxes if b.x1 > right + 2]
    assert not wide, wide
    ax = fig.axes[0]
    r = fig.canvas.get_renderer()
    ticks = sorted((lab.get_window_extent(r) for lab in charts.shown_tick_labels(ax)), key=lambda b: b.x0)
    assert len(ticks) >= 2
    assert all(a.x1 <= b.x0 for a, b in itertools.pairwise(ticks)), "x-axis labels overlap"
    beside = [b for t, b in boxes if b.x0 >= ax.bbox.x1 - 1 and b.y0 < ax.bbox.y1]
    for i, a in enumerate(beside):
        for b in beside[i + 1:]:
            assert not a.overlaps(b), "labels beside the plot overlap"
    # no words over other words (the title and the wrapped axis label under it, a key and a note)
    words = [(t, b) for t, b in boxes if not re.fullmatch(r"[\d.,%\s]+|[A-Z][a-z]{2}\n\d{4}", t)]
    for i, (t1, a) in enumerate(words):
        for t2, b in words[i + 1:]:
            assert not a.overlaps(b), (kind, t1[:40], t2[:40])
    # the layout held: the plot keeps most of the width
    assert ax.bbox.width > 0.5 * fig.bbox.width, (kind, ax.bbox.width)


def test_fitting_a_chart_lays_it_out_again_only_after_a_change(monkeypatch):
    """Issue 19: most of a chart's time is its layouts, and fit_to_width laid each narrow chart out six or seven
    times, several times over with nothing changed since the one before (the demo's charts were most of the
    chapters' time). Now it lays a chart out again only when a text, a position, a formatter, a key or a title
    offset changed since the last layout; the one before judging the x-axis labels is kept (the layout
    settles over a few rounds, and those labels are judged on the plot's final width)."""
    import safeguarding.charts.fit as fit

    def layout_state(fig):
        texts, positions, formatters, size = _state(fig)
        return (texts, positions, formatters, size, [ax.yaxis.get_major_formatter() for ax in fig.axes],
                [ax.titleOffsetTrans.get_matrix()[1, 2] for ax in fig.axes],
                [ax.get_legend() is None or ax.get_legend().get_visible() for ax in fig.axes])

    seen = []
    real = fit._draw

    def spy(fig):
        seen.append(layout_state(fig))
        return real(fig)

    monkeypatch.setattr(fit, "_draw", spy)
    for kind, chart in _narrow_cases():
        chart.figure.set_size_inches(*charts.NARROW_SIZE)
        seen.clear()
        charts.fit_to_width(chart.figure)
        assert len(seen) >= 2, kind
        again = [i for i in range(1, len(seen) - 1) if seen[i] == seen[i - 1]]
        assert again == [], (kind, len(seen), again)


def test_a_chart_that_fits_is_left_alone():
    """fit_to_width changes nothing on a chart whose words all fit (the full-size rendering of most charts):
    no step to undo, the title and the axis formatter as they were."""
    s = pd.Series(np.arange(10, 46, dtype=float), index=months(36))
    chart = charts.line_chart(s, title="Referrals rose", caption="c", y_label="Referrals", label="Referrals")
    fig = chart.figure
    formatter = fig.axes[0].xaxis.get_major_formatter()
    assert charts.fit_to_width(fig) == []
    assert fig.axes[0].get_title(loc="left") == "Referrals rose"
    assert fig.axes[0].xaxis.get_major_formatter() is formatter
    # a title that runs past the edge of the same chart is wrapped: a step to undo
    chart_long = charts.line_chart(s, title=LONG_TITLE, caption="c", y_label="Referrals", label="Referrals")
    assert charts.fit_to_width(chart_long.figure) != []
    assert "\n" in chart_long.figure.axes[0].get_title(loc="left")


@pytest.mark.parametrize("narrow", [False, True])
def test_survey_chart_figures_clear_their_markers(narrow):
    """Issue 16: on a phone the survey chart's percentages were printed over the start and end markers (set off
    by 2 percentage points, under 3 px there). Each figure's box stays clear of its marker at both widths."""
    chart = dict(_narrow_cases())["survey"]
    fig = chart.figure
    if narrow:
        fig.set_size_inches(*charts.NARROW_SIZE)
    charts.fit_to_width(fig)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    ax = fig.axes[0]
    radius = math.sqrt(70) / 2 * fig.dpi / 72  # the markers' size (s=70 points squared)
    figures = [t for t in ax.texts if t.get_text().endswith("%")]
    assert len(figures) == 4
    for t in figures:
        x, _ = ax.transData.transform(t.xy)
        box = t.get_window_extent(r)
        assert box.x1 < x - radius or box.x0 > x + radius, (t.get_text(), box, x)


def _interval_data(periods: int) -> pd.DataFrame:
    rng = np.random.default_rng(periods)
    value = rng.uniform(76, 88, periods).round(1)
    half = rng.uniform(4, 7, periods).round(1)
    labels = [f"{2019 + i}-{(20 + i) % 100:02d}" for i in range(periods)]
    return pd.DataFrame({"value": value, "lower": value - half, "upper": value + half}, index=labels)


def _figures_and_bars(chart) -> tuple[list, list]:
    """The figures written on an interval chart (visible texts like "83.7%") and each period's bar as a pixel box
    (its x, widened by the caps, from its lower to its upper end), from the data, not from how the labels were
    placed."""
    from matplotlib.transforms import Bbox

    fig = chart.figure
    fig.draw_without_rendering()
    r = fig.canvas.get_renderer()
    ax = fig.axes[0]
    d = chart.data
    cap = 6 * fig.dpi / 72
    bars = []
    for i, row in enumerate(d.itertuples()):
        (x0, y0), (_, y1) = ax.transData.transform([(i, row.lower), (i, row.upper)])
        bars.append(Bbox([[x0 - cap, y0], [x0 + cap, y1]]))
    figures = [(t.get_text(), t.get_window_extent(r)) for t in ax.texts
               if t.get_visible() and re.fullmatch(r"\d+\.\d%", t.get_text())]
    return figures, bars


@pytest.mark.parametrize("periods", [6, 12])
def test_interval_chart_figures_clear_the_other_bars_on_a_phone(periods):
    """Before, each figure was written beside its point, and on a phone "82.1%" ran into the next year's bar
    (Figure 2.7 at 390 px). Now no figure touches another period's bar or another figure; each period's figure is
    shown while they fit above the bars, and the latest period's always."""
    d = _interval_data(periods)
    chart = charts.interval_chart(d, title="ICPCs within 15 working days", caption="c", y_label="Percent",
                                  what="ICPCs", target=90.0)
    chart.figure.set_size_inches(*charts.NARROW_SIZE)
    charts.fit_to_width(chart.figure)
    figures, bars = _figures_and_bars(chart)
    for text, box in figures:
        own = [i for i, v in enumerate(d["value"]) if f"{v:.1f}%" == text]
        for i, bar in enumerate(bars):
            if i not in own:
                assert not box.overlaps(bar), (text, d.index[i])
    for (t1, a), (t2, b) in itertools.combinations(figures, 2):
        assert not a.overlaps(b), (t1, t2)
    shown = [t for t, _ in figures]
    assert f"{d['value'].iloc[-1]:.1f}%" in shown
    if periods == 6:
        assert sorted(shown) == sorted(f"{v:.1f}%" for v in d["value"])


def test_interval_chart_figures_stay_beside_their_points_at_full_width():
    d = _interval_data(6)
    chart = charts.interval_chart(d, title="t", caption="c", y_label="Percent", what="x", target=90.0)
    charts.fit_to_width(chart.figure)
    figures, bars = _figures_and_bars(chart)
    assert len(figures) == 6
    for (_, box), bar in zip(sorted(figures, key=lambda f: f[1].x0), bars, strict=True):
        assert bar.x1 - 2 <= box.x0 and box.y0 < bar.y1 and box.y1 > bar.y0  # to the right of its own bar
