"""Issue 15: every verdict statistically right, every sentence rendered from a findings row.

Each test reproduces one finding of the issue on a small fixture (the demo's own
figures where the issue quotes them) and checks the statistics against
independent references: scipy's exact tests and Newcombe's (1998) published
worked examples.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from safeguarding.config import load_config
from safeguarding.indicators.catalogue import load_catalogue
from safeguarding.report import figures, findings, text
from safeguarding.report.context import ReportContext
from safeguarding.stats import compare_proportions, compare_rates, p_chart, seasonality_test

PROJECT = Path(__file__).resolve().parents[1]
YEAR_END = pd.Timestamp(2025, 3, 31)


class _NoBenchmarks:
    available = False


def _ctx(tmp_path: Path, rows: list[dict], *, shown: dict | None = None) -> ReportContext:
    """A report context over a handful of indicator rows (board audience unless ``shown`` is given)."""
    audience = "public" if shown is not None else "board"
    cfg = load_config(PROJECT / "report.yml", audience=audience)
    table = pd.DataFrame(rows)
    for col, default in (("breakdown", "all"), ("breakdown_value", "all"), ("status", "ok"), ("note", ""),
                         ("target", np.nan), ("rag", "N/A"), ("numerator", np.nan), ("denominator", np.nan)):
        if col not in table:
            table[col] = default
    table["period_start"] = pd.to_datetime(table["period_start"])
    table["period_end"] = pd.to_datetime(table["period_end"])
    ctx = ReportContext(config=cfg, audience=audience, build_dir=tmp_path, indicators=table,
                        catalogue=load_catalogue(cfg), benchmarks=_NoBenchmarks())
    if shown is not None:
        ctx.shown = shown
    return ctx


def _year(code: str, year_end: int, num: float, den: float | None, **extra) -> dict:
    value = 100 * num / den if den else num
    return {"indicator_id": code, "period_type": "year", "period_start": f"{year_end - 1}-04-01",
            "period_end": f"{year_end}-03-31", "numerator": num, "denominator": den, "value": value, **extra}


def _months(code: str, nums, dens=None, end: pd.Timestamp = YEAR_END) -> list[dict]:
    n = len(nums)
    starts = pd.date_range(end=end - pd.offsets.MonthBegin(1), periods=n, freq="MS")
    out = []
    for i, start in enumerate(starts):
        den = None if dens is None else dens[i]
        value = 100 * nums[i] / den if den else nums[i]
        out.append({"indicator_id": code, "period_type": "month", "period_start": start,
                    "period_end": start + pd.offsets.MonthEnd(0), "numerator": nums[i], "denominator": den,
                    "value": value})
    return out


# ------------------------------------------------------------------ 1. one question, one test, one sentence


@pytest.mark.parametrize(("a", "m", "b", "n", "diff", "lower", "upper"), [
    # Newcombe RG (1998) Stat Med 17:873-890, Table II, method 10 (hybrid score): p1 - p2 for a/m - b/n
    (56, 70, 48, 80, 0.2000, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.6000, 0.1705, 0.8090),
])
def test_newcombe_interval_reproduces_the_published_examples(a, m, b, n, diff, lower, upper):
    res = compare_proportions(b, n, a, m)  # second minus first = a/m - b/n
    assert res.difference == pytest.approx(diff, abs=5e-5)
    assert res.lower == pytest.approx(lower, abs=5e-5)
    assert res.upper == pytest.approx(upper, abs=5e-5)


def test_the_icpc_fall_is_significant_by_scipy_and_by_the_report():
    """87.4% (153 of 175) to 76.6% (147 of 192): the issue's deterioration called noise."""
    res = compare_proportions(153, 175, 147, 192)
    chi2 = stats.chi2_contingency([[153, 22], [147, 45]], correction=False)
    assert res.method == "two-proportion z-test"  # every expected cell is at least 5
    assert res.p_value == pytest.approx(chi2.pvalue, rel=1e-9)
    assert res.statistic ** 2 == pytest.approx(chi2.statistic, rel=1e-9)
    assert stats.fisher_exact([[153, 22], [147, 45]]).pvalue == pytest.approx(0.0098, abs=5e-4)
    assert res.significant and res.upper < 0


def test_small_counts_use_fishers_exact_test_and_counts_the_conditional_binomial():
    res = compare_proportions(1, 8, 6, 9)
    fisher = stats.fisher_exact([[6, 3], [1, 7]])
    assert res.method == "Fisher's exact test"
    assert res.p_value == pytest.approx(fisher.pvalue, rel=1e-12)
    assert res.statistic == pytest.approx(fisher.statistic, rel=1e-12)
    rates = compare_rates(1446, 1, 1490, 1)
    assert rates.p_value == pytest.approx(stats.binomtest(1490, 2936, 0.5).pvalue, rel=1e-12)
    ci = stats.binomtest(1490, 2936, 0.5).proportion_ci(method="exact")
    assert rates.lower == pytest.approx(ci.low / (1 - ci.low), rel=1e-9)
    assert rates.upper == pytest.approx(ci.high / (1 - ci.high), rel=1e-9)


def _icpc_rows(**extra) -> list[dict]:
    steady = _months("ICPC_15WD", [13] * 24, [16] * 24)
    return [_year("ICPC_15WD", 2024, 153, 175, target=90.0, rag="Green"),
            _year("ICPC_15WD", 2025, 147, 192, target=90.0, rag="Red"), *steady]


def test_key_message_states_the_year_on_year_verdict_not_the_monthly_limits(tmp_path):
    ctx = _ctx(tmp_path, _icpc_rows())
    [message] = text.key_messages(ctx, ["ICPC_15WD"])
    assert "within the range expected" not in message and "month-to-month" not in message
    assert message.startswith("ICPCs within 15 working days of the section 47 start fell from 87.4% (153 of 175) "
                              "in 2023-24 to 76.6% (147 of 192) in 2024-25, a fall of 10.9 percentage points")
    assert "statistically significant (unlikely to be chance alone; two-proportion z-test, p = 0.007)" in message
    assert "a deterioration" in message
    # the month-by-month verdict is a separate finding, about months
    finding, chart = text.within_year(ctx, "ICPC_15WD")
    assert finding.comparison == "within year" and chart is not None


def test_a_withheld_year_is_not_compared_and_its_figure_not_revealed(tmp_path):
    rows = _icpc_rows()
    shown = {}
    for r in rows:
        key = (r["indicator_id"], r["period_type"], pd.Timestamp(r["period_end"]), "all", "all")
        shown[key] = {"marker": "c" if r["period_end"] == "2024-03-31" else ""}
    ctx = _ctx(tmp_path, rows, shown=shown)
    f = text.year_on_year(ctx, "ICPC_15WD")
    assert f.verdict == "not published" and np.isnan(f.p_value)
    this_year = next(r for r in rows if r["indicator_id"] == "ICPC_15WD" and r["period_type"] == "year"
                     and r["period_end"] == "2025-03-31" and r.get("breakdown", "all") == "all")
    published = f"{100 * this_year['numerator'] / this_year['denominator']:.1f}%"  # this year is published: said
    assert f.sentence == (f"ICPCs within 15 working days of the section 47 start were {published} in 2024-25, not "
                          "compared with 2023-24: the figure for 2023-24 is withheld to protect privacy.")
    assert "153" not in text.percentage_verdict(ctx, "ICPC_15WD") and "87.4" not in text.short_story(ctx, "ICPC_15WD")


# ------------------------------------------------------------------ 2. control charts only where valid


def test_a_month_end_snapshot_gets_a_run_chart_without_signal_rules(tmp_path):
    """Plans reviewed on time: the issue's 'unusual change of concern' came from a run rule on a stock."""
    nums = [80, 81, 80, 82, 79, 80, 70, 70, 70, 70, 70, 70, 70, 70, 80, 81, 80, 82, 79, 80, 81, 80, 82, 80]
    dens = [90] * 24
    rows = [_year("CPP_REVIEWS_ON_TIME", 2025, 80, 90, target=95.0, rag="Green"),
            *_months("CPP_REVIEWS_ON_TIME", nums, dens)]
    assert p_chart(nums, dens)["special_cause"].any(), "the fixture must fire a rule on a p-chart"
    ctx = _ctx(tmp_path, rows)
    finding, chart = text.within_year(ctx, "CPP_REVIEWS_ON_TIME")
    assert finding.verdict == "snapshot" and chart is None
    title = figures.spc_title(finding)
    assert "unusual" not in title and "run chart" in title
    md = figures.p_chart(ctx, "CPP_REVIEWS_ON_TIME", label="t")
    assert finding.sentence.split(",")[0].replace("-", "\\-") in md and "unusual change" not in md


def test_snapshot_methods_are_the_catalogues_end_of_period_indicators():
    cat = load_catalogue()
    snapshots = {c for c in cat.codes if str(cat[c].method) in text.SNAPSHOT_METHODS}
    by_definition = {c for c in cat.codes if "end of the period" in str(cat[c].definition)
                     or "not ended by it" in str(cat[c].definition) or "not concluded by it" in str(cat[c].definition)}
    assert snapshots == by_definition
    assert {"CPP_OPEN", "CPP_REVIEWS_ON_TIME", "LADO_OPEN", "PF_OPEN"} <= snapshots


def test_a_proportion_at_its_ceiling_is_not_charted(tmp_path):
    """Allegations concluded within 12 months: 100% in 23 of 24 months; March's 100% was called unusual."""
    dens = [8, 10, 9, 12, 11, 10, 9, 7, 12, 10, 11, 9, 10, 12, 8, 9, 11, 10, 12, 9, 10, 11, 8, 13]
    nums = list(dens)
    nums[3] = 9  # the one exception
    rows = [_year("LADO_CONCLUDED_12M", 2025, sum(nums[12:]), sum(dens[12:]), target=100.0, rag="Green"),
            *_months("LADO_CONCLUDED_12M", nums, dens)]
    assert p_chart(nums, dens)["special_cause"].any(), "a p-chart flags the ceiling run"
    ctx = _ctx(tmp_path, rows)
    finding, chart = text.within_year(ctx, "LADO_CONCLUDED_12M")
    assert chart is None and finding.verdict == "too few exceptions"
    assert finding.sentence == ("Allegations concluded within 12 months stood at 100% in 23 of the 24 months to "
                                "March 2025: too few exceptions to chart, so no month is judged unusual.")
    assert "unusual" not in figures.p_chart(ctx, "LADO_CONCLUDED_12M", label="t").replace("judged unusual", "")


def test_unusual_months_name_the_month_beyond_the_limits_first_and_runs_as_spans(tmp_path):
    """The demo's police notifications: 9 unusual months, and the sentence named October, November and December
    2023 (88, 94, 84: ordinary figures in a run below the average) and hid the one month beyond the limits,
    October 2024 at 150, among '6 more'."""
    nums = [100, 98, 101, 99, 102, 97, 88, 94, 84, 90, 92, 89, 91, 93, 100, 103, 99, 101, 150, 98, 102, 97, 100,
            99]  # April 2023 to March 2025
    rows = [_year("POLICE_DA_NOTIFICATIONS", 2025, sum(nums[12:]), None),
            *_months("POLICE_DA_NOTIFICATIONS", nums)]
    ctx = _ctx(tmp_path, rows)
    finding, chart = text.within_year(ctx, "POLICE_DA_NOTIFICATIONS")
    assert chart is not None and finding.verdict == "special cause"
    flagged = chart[chart["special_cause"]]
    beyond = flagged[flagged["rule"].str.startswith("outside limits")]
    # independently of the code: where the XmR limits put the months (mean +- 2.66 x mean moving range)
    centre = np.mean(nums)
    mr = np.mean(np.abs(np.diff(nums)))
    assert list(beyond["period"]) == [pd.Timestamp(2024, 10, 1)] and 150 > centre + 2.66 * mr
    run = flagged[flagged["rule"] == "run of 7 on one side"]
    assert len(run) >= 7 and (run["value"] < centre).all()
    # the month beyond the limits comes first, with its value; the run is one span with its length
    assert finding.detail.startswith("October 2024 (150, beyond the expected range)")
    first, last = pd.Timestamp(run["period"].min()), pd.Timestamp(run["period"].max())
    assert f"{first:%B %Y} to {last:%B %Y} ({len(run)} months in a row below the average)" in finding.detail
    assert f"{int(finding.statistic)} months were unusual" in finding.sentence
    assert int(finding.statistic) == len(flagged) and "more" not in finding.detail


def test_unusual_months_past_the_listed_ones_are_counted():
    """Five separate months beyond the limits: four named, the fifth counted, none lost."""
    periods = pd.date_range("2023-04-01", periods=8, freq="MS")
    chart = pd.DataFrame({"period": periods, "value": [float(v) for v in range(8)],
                          "special_cause": [True, False, True, True, False, True, True, False],
                          "rule": ["outside limits", "", "outside limits", "outside limits", "",
                                   "outside limits", "outside limits", ""],
                          "direction": ["higher", "", "lower", "higher", "", "higher", "lower", ""]})
    items = text.unusual_months(chart, lambda v: f"{v:g}")
    assert items[:4] == ["April 2023 (0, beyond the expected range)", "June 2023 (2, beyond the expected range)",
                         "July 2023 (3, beyond the expected range)", "September 2023 (5, beyond the expected range)"]
    assert items[4:] == ["1 more month"] and len(items) == text.UNUSUAL_LISTED + 1


def test_a_run_through_a_month_beyond_the_limits_is_named_whole():
    """A run of 8 months below the average whose fifth month is also beyond the limits was named as two runs, "4
    months in a row below the average" and "3 months in a row": neither is what the rule (7 in a row) saw. The
    run is named whole, the month beyond the limits as well; a month another rule flags too (a falling trend
    inside the run) does not cut the run either."""
    from safeguarding.stats import spc

    out, run, trend = spc.RULE_OUTSIDE, spc.RULE_RUN, spc.RULE_TREND
    periods = pd.date_range("2023-04-01", periods=10, freq="MS")
    rules = [run, f"{trend}; {run}", f"{trend}; {run}", f"{trend}; {run}", f"{out}; {trend}; {run}",
             f"{trend}; {run}", f"{trend}; {run}", f"{trend}; {run}", "", ""]
    chart = pd.DataFrame({"period": periods, "value": [float(v) for v in (9, 9, 8, 7, 1, 5, 4, 3, 12, 13)],
                          "special_cause": [bool(r) for r in rules], "rule": rules,
                          "direction": ["lower" if r else "" for r in rules]})
    items = text.unusual_months(chart, lambda v: f"{v:g}")
    assert items[0] == "August 2023 (1, beyond the expected range)"
    assert "April 2023 to November 2023 (8 months in a row below the average)" in items, items
    assert "May 2023 to November 2023 (7 months in a row falling)" in items, items
    assert not any("4 months" in i or "3 months" in i or "more" in i for i in items), items


# ------------------------------------------------------------------ 3. seasonality only when supported


def _poisson_nll(beta, X, y):
    eta = X @ beta
    return float(np.sum(np.exp(eta) - y * eta))


def test_seasonal_lr_test_matches_an_independent_likelihood_fit():
    rng = np.random.default_rng(7)
    idx = pd.date_range("2020-04-01", periods=48, freq="MS")
    mu = 100 * np.where(idx.month == 11, 1.4, 1.0)
    y = rng.poisson(mu).astype(float)
    res = seasonality_test(pd.Series(y, index=idx))
    t = (np.arange(48) - 23.5) / 12
    month_dummies = np.column_stack([(idx.month == m).astype(float) for m in range(1, 13)])
    X_full = np.column_stack([t, month_dummies])  # 12 month intercepts: the same model, coded differently
    X_red = np.column_stack([np.ones(48), t])
    fit = {}
    for name, X in (("full", X_full), ("red", X_red)):
        start = np.zeros(X.shape[1])
        start[-12 if name == "full" else 0:] = np.log(y.mean())
        opt = optimize.minimize(_poisson_nll, start, args=(X, y), method="BFGS", options={"gtol": 1e-10})
        fit[name] = opt.fun
    assert res.family == "poisson"
    assert res.lr_statistic == pytest.approx(2 * (fit["red"] - fit["full"]), rel=1e-4)
    assert res.p_value == pytest.approx(stats.chi2.sf(res.lr_statistic, 11), rel=1e-9)
    assert res.significant and res.peak_month == 11
    assert res.peak_lower < 1.4 * np.exp(-np.log(1.4) / 12) * 1.05 and res.peak_upper > 1.2


def test_seasonal_test_keeps_its_size_without_a_season():
    rng = np.random.default_rng(11)
    idx = pd.date_range("2021-04-01", periods=36, freq="MS")
    rejections = sum(seasonality_test(pd.Series(rng.poisson(120, 36).astype(float), index=idx)).significant
                     for _ in range(200))
    assert 2 <= rejections <= 20  # about 5% of 200


def test_no_seasonal_claim_from_too_few_years_or_without_a_usual_peak(tmp_path):
    # November highest on average (one big year) but never the busiest month in most years
    idx = pd.date_range("2022-04-01", periods=36, freq="MS")
    base = np.array([120, 118, 121, 119, 122, 90, 121, 120, 119, 121, 118, 120], dtype=float)
    y = np.concatenate([base, base, base])
    y[idx.month == 11] = [125, 200, 110]
    y[idx.month == 8] = [130, 128, 132]
    rows = _months("REFERRALS", list(y))
    ctx = _ctx(tmp_path, rows)
    f = text.seasonal_finding(ctx, "REFERRALS")
    assert "usually" not in f.sentence
    # the sentence said 'so no month is usually the busiest' while August was the busiest month in 2 of the 3
    # years: which month was busiest each April-March year, from the data
    busiest = [idx[12 * k:12 * k + 12][np.argmax(y[12 * k:12 * k + 12])].strftime("%B") for k in range(3)]
    assert busiest == ["August", "November", "August"]
    assert f.value == "November" and "no month" not in f.sentence
    assert f.sentence.endswith("it was the busiest month in only 1 of 3 years; August was the busiest month in 2 "
                               "of the 3.")
    # the months tested are said: the public review tests the 3 years it publishes, the board pack all six, and a
    # reader of both met two different busiest months with no period to tell them apart
    first, last = idx[0], idx[-1]
    assert f"with the time of year over {first:%B %Y} to {last:%B %Y} (" in f.sentence, f.sentence
    flat = y.copy()
    flat[idx.month == 8] = [130, 128, 100]  # August the busiest in one year only: no month in most years
    f3 = text.seasonal_finding(_ctx(tmp_path, _months("REFERRALS", list(flat))), "REFERRALS")
    assert f3.verdict == "seasonal" and f3.sentence.endswith("and no month was the busiest in most of them.")
    short = _ctx(tmp_path, _months("REFERRALS", list(y[-30:])))
    f2 = text.seasonal_finding(short, "REFERRALS")
    assert f2.verdict == "not tested" and "busiest" not in f2.sentence


# ------------------------------------------------------------------ 4. honest status


def test_green_for_a_missed_target_says_it_was_missed(tmp_path):
    rows = [_year("ICPC_15WD", 2024, 130, 150, target=90.0, rag="Amber"),
            _year("ICPC_15WD", 2025, 153, 175, target=90.0, rag="Green")]
    ctx = _ctx(tmp_path, rows)
    f = text.target_finding(ctx, "ICPC_15WD")
    assert f.sentence == "Status: Green: within 5% of the 90% target (missed by 2.6 points)."
    story = text.short_story(ctx, "ICPC_15WD")
    assert story == "up 0.8 points on last year, which could be chance; Green: 90% target missed by 2.6 points"


def test_report_card_story_gives_direction_verdict_and_target_in_one_line(tmp_path):
    ctx = _ctx(tmp_path, _icpc_rows())
    assert text.short_story(ctx, "ICPC_15WD") == ("down 10.9 points on last year, a significant change (worse); "
                                                  "Red: 90% target missed by 13.4 points")


# ------------------------------------------------------------------ 5. every sentence from its row


def test_each_sentence_is_regenerated_from_its_csv_row(tmp_path):
    ctx = _ctx(tmp_path, _icpc_rows())
    found = [*text.percentage_findings(ctx, "ICPC_15WD"), text.within_year(ctx, "ICPC_15WD")[0]]
    frame = pd.DataFrame([f.row() for f in found], columns=findings.COLUMNS)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    back = pd.read_csv(io.StringIO(buffer.getvalue()), dtype=str, keep_default_na=False)
    for original, (_, row) in zip(found, back.iterrows(), strict=True):
        assert findings.render(findings.from_row(row)) == row["sentence"] == original.sentence


def test_ranking_puts_a_significant_deterioration_first(tmp_path):
    rows = [*_icpc_rows(),
            _year("CPP_REVIEWS_ON_TIME", 2024, 77, 90, target=95.0, rag="Amber"),
            _year("CPP_REVIEWS_ON_TIME", 2025, 59, 67, target=95.0, rag="Amber")]
    ctx = _ctx(tmp_path, rows)
    messages = text.key_messages(ctx, ["CPP_REVIEWS_ON_TIME", "ICPC_15WD"])
    assert messages[0].startswith("ICPCs")


# ------------------------------------------------------------------ 5 (cont.): trend, rate and target rows


def _counts(code: str, values: dict[int, float]) -> list[dict]:
    return [_year(code, y, v, None) for y, v in values.items()]


def test_the_trend_sentence_is_a_finding_with_the_models_numbers(tmp_path):
    """The multi-year trend: a Poisson regression on the year with the population as exposure, checked against a
    direct maximisation of the likelihood (scipy); the sentence is rendered from the row."""
    counts = {2021: 1376, 2022: 1458, 2023: 1446, 2024: 1490, 2025: 1561}
    ctx = _ctx(tmp_path, _counts("REFERRALS", counts))
    f = text.trend_finding(ctx, "REFERRALS")
    assert f.comparison == "trend" and f.baseline_period == "2020-21" and f.period == "2024-25"
    pop = np.array([float(ctx.config.population[y]) for y in counts])
    y, t = np.array(list(counts.values()), float), np.arange(5.0) - 2.0

    def nll(b):
        mu = pop * np.exp(b[0] + b[1] * t)
        return float(np.sum(mu - y * np.log(mu)))

    b = optimize.minimize(nll, x0=[np.log(y.sum() / pop.sum()), 0.0], method="Nelder-Mead",
                          options={"xatol": 1e-10, "fatol": 1e-10}).x
    assert f.estimate == pytest.approx(100 * np.expm1(b[1]), abs=1e-3)
    assert f.method.startswith("Poisson regression with the number of children as exposure")
    assert f.verdict == ("significant rise" if f.p_value < 0.05 else "no significant trend")
    assert "allowing for the number of children in the area" in f.sentence
    assert findings.render(findings.from_row(f.row())) == f.sentence == text.trend(ctx, "REFERRALS")


def test_no_trend_is_fitted_through_a_withheld_year(tmp_path):
    rows = _counts("PF_NOTIFICATIONS", {2021: 9, 2022: 4, 2023: 12, 2024: 8, 2025: 16})
    key = ("PF_NOTIFICATIONS", "year", pd.Timestamp(2022, 3, 31), "all", "all")
    shown = {("PF_NOTIFICATIONS", "year", pd.Timestamp(r["period_end"]), "all", "all"): {"marker": ""} for r in rows}
    shown[key] = {"marker": "c"}
    ctx = _ctx(tmp_path, rows, shown=shown)
    f = text.trend_finding(ctx, "PF_NOTIFICATIONS")
    assert f.verdict == "not published" and np.isnan(f.p_value) and np.isnan(f.estimate)
    assert f.sentence == ("No trend is tested for private fostering notifications: the figure for 2021-22 is "
                          "withheld to protect privacy.")
    short = text.trend_finding(_ctx(tmp_path, _counts("REFERRALS", {2024: 10, 2025: 12})), "REFERRALS")
    assert short.verdict == "not tested" and "fewer than three years" in short.sentence


def test_a_target_finding_has_its_status_and_target_as_fields(tmp_path):
    """No 'Green|90' packed in one field: status and target are columns, and the ranking reads the target."""
    ctx = _ctx(tmp_path, _icpc_rows())
    f = text.target_finding(ctx, "ICPC_15WD")
    assert (f.status, f.target, f.estimate, f.estimate_unit) == ("Red", 90.0, -13.4, "percentage points")
    assert f.detail == "" and {"status", "target"} <= set(findings.COLUMNS)
    assert findings.rank_score(f) == pytest.approx(1 + 13.4 / 90)
    back = findings.from_row({k: str(v) for k, v in f.row().items()})
    assert (back.status, back.target) == ("Red", 90.0) and back.sentence == f.sentence


def test_year_on_year_for_a_rate_names_the_rate_once(tmp_path):
    rows = [_year("CPP_RATE", 2024, 116, 28_217), _year("CPP_RATE", 2025, 114, 28_302)]
    for r in rows:
        r["value"] = r["numerator"] / r["denominator"] * 10_000
    ctx = _ctx(tmp_path, rows)
    f = text.year_on_year(ctx, "CPP_RATE")
    res = compare_rates(116, 28_217, 114, 28_302)
    assert f.estimate == pytest.approx(res.ratio) and f.p_value == pytest.approx(res.p_value)
    # exact conditional test: 114 of the 230 events fall in the second year, binomial with p = e2 / (e1 + e2)
    assert f.p_value == pytest.approx(stats.binomtest(114, 230, 28_302 / (28_217 + 28_302)).pvalue)
    assert f.sentence.startswith("The rate of children on a child protection plan per 10,000 children fell by "
                                 "2.0%, from 41.1 in 2023-24 to 40.3 in 2024-25")


# ------------------------------------------------------------------ partners' aggregate returns (issue 16, item 3)

#: the demo's police domestic abuse notifications, 2023-24 and 2024-25 (data/raw/demo/ground_truth.json)
_DA_2024 = [89, 104, 92, 83, 71, 116, 88, 94, 84, 88, 82, 92]
_DA_2025 = [92, 83, 103, 89, 75, 105, 150, 119, 100, 101, 77, 103]


def _even(total: int) -> list[int]:
    """A year's total spread as evenly as whole months allow (months that vary less than chance would make them)."""
    return [total // 12 + (1 if m < total % 12 else 0) for m in range(12)]


def _police_rows(years: int, *, even: bool = False) -> list[dict]:
    """POLICE_DA_NOTIFICATIONS as the engine writes a return: each year the sum of its months (the demo's months,
    or with ``even`` the same totals spread evenly: then the months vary no more than chance)."""
    months = ((_even(sum(_DA_2024)) + _even(sum(_DA_2025))) if even else (_DA_2024 + _DA_2025))[-12 * years:]
    rows = _months("POLICE_DA_NOTIFICATIONS", months)
    rows.append(_year("POLICE_DA_NOTIFICATIONS", 2025, sum(_DA_2025), None))
    if years == 2:
        rows.append(_year("POLICE_DA_NOTIFICATIONS", 2024, sum(_DA_2024), None))
    return rows


def test_partners_year_on_year_is_the_exact_conditional_poisson_test_checked_by_scipy(tmp_path):
    """Two years of counts: given the total, this year's count is binomial(n, 1/2) under no change; the rate ratio's
    interval is the Clopper-Pearson interval of that proportion, p/(1-p). (Months that vary no more than chance;
    the demo's, which vary more, get the quasi-Poisson test: the test after this one's.)"""
    ctx = _ctx(tmp_path, _police_rows(2, even=True))
    c1, c2 = sum(_DA_2024), sum(_DA_2025)
    assert (c1, c2) == (1083, 1197)  # the totals the demo report prints
    f = text.year_on_year(ctx, "POLICE_DA_NOTIFICATIONS")
    ref = stats.binomtest(c2, c1 + c2, 0.5)
    ci = ref.proportion_ci(method="exact")
    assert f.method == "exact conditional Poisson test"
    assert f.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert f.estimate == pytest.approx(c2 / c1, rel=1e-12)
    assert f.lower == pytest.approx(ci.low / (1 - ci.low), rel=1e-9)
    assert f.upper == pytest.approx(ci.high / (1 - ci.high), rel=1e-9)
    assert f.verdict == ("significant increase" if ref.pvalue < 0.05 else "no significant change")
    sentence = text.partner_count(ctx, "POLICE_DA_NOTIFICATIONS")
    assert sentence == f.sentence and f"from {c1:,} in 2023-24 to {c2:,} in 2024-25" in sentence
    assert "first year" not in sentence
    found = text.partner_findings(ctx, "POLICE_DA_NOTIFICATIONS")
    assert [g.comparison for g in found] == ["year on year", "within year"]  # two years: no trend yet
    assert found[1].period == "the 24 months to March 2025"


def test_partners_first_year_of_a_return_says_there_is_no_comparison_yet(tmp_path):
    ctx = _ctx(tmp_path, _police_rows(1))
    sentence = text.partner_count(ctx, "POLICE_DA_NOTIFICATIONS")
    assert sentence == (f"Police domestic abuse notifications involving children: {sum(_DA_2025):,} in 2024-25. "
                        "This is the first year of this return, so there is no earlier year to set it against yet.")
    found = text.partner_findings(ctx, "POLICE_DA_NOTIFICATIONS")
    assert [g.comparison for g in found] == ["within year"]  # no year on year: nothing was compared
    assert found[0].period == "the 12 months to March 2025"
    assert text.partner_months(ctx, "POLICE_DA_NOTIFICATIONS") == 12


def test_partners_measures_enter_the_key_messages_only_when_their_verdict_ranks(tmp_path):
    rows = _police_rows(2, even=True) + _icpc_rows()
    ctx = _ctx(tmp_path, rows)
    yoy = text.year_on_year(ctx, "POLICE_DA_NOTIFICATIONS")
    assert yoy.significant  # the demo's rise of 10.5% with months that vary no more than chance: p = 0.018
    messages = text.key_messages(ctx, ["ICPC_15WD"], optional=["POLICE_DA_NOTIFICATIONS"])
    assert len(messages) == 2 and messages[1] == yoy.sentence
    # the same count with no significant change is not forced in
    flat = [r for r in rows if not (r["indicator_id"] == "POLICE_DA_NOTIFICATIONS" and r["period_type"] == "year")]
    flat += [_year("POLICE_DA_NOTIFICATIONS", 2025, 1100, None), _year("POLICE_DA_NOTIFICATIONS", 2024, 1083, None)]
    ctx = _ctx(tmp_path, flat)
    assert not text.year_on_year(ctx, "POLICE_DA_NOTIFICATIONS").significant
    assert len(text.key_messages(ctx, ["ICPC_15WD"], optional=["POLICE_DA_NOTIFICATIONS"])) == 1


def test_partners_figures_go_through_the_disclosure_controlled_table(tmp_path):
    """Counts of events, not children, but the public sees them only as the protected table publishes them: a
    withheld year is neither quoted nor compared, and is not named in the key messages."""
    rows = _police_rows(2)
    shown = {}
    for r in rows:
        key = (r["indicator_id"], r["period_type"], pd.Timestamp(r["period_end"]), "all", "all")
        shown[key] = {"marker": "c" if r["period_type"] == "year" and r["period_end"] == "2025-03-31" else ""}
    ctx = _ctx(tmp_path, rows, shown=shown)
    sentence = text.partner_count(ctx, "POLICE_DA_NOTIFICATIONS")
    assert sentence == ("Police domestic abuse notifications involving children: the figure for 2024-25 is withheld "
                        "to protect privacy.")
    assert "1,197" not in sentence and "1,083" not in sentence
    assert "year on year" not in [f.comparison for f in text.partner_findings(ctx, "POLICE_DA_NOTIFICATIONS")]
    assert text.key_messages(ctx, [], optional=["POLICE_DA_NOTIFICATIONS"]) == []


def test_the_boards_priorities_order_findings_within_their_tier_and_never_across():
    """Issue 15, item 5: the ranking rule names the board's priorities. A finding on an indicator a priority
    names comes first within its tier (a significant deterioration, a significant improvement, a missed target,
    the rest), and never above a finding of a higher tier."""
    def yoy(code: str, estimate: float, polarity: int) -> findings.Finding:
        return findings.Finding(indicator=code, name=code, period="2024-25", comparison="year on year",
                                method="two-proportion z-test", verdict="significant increase",
                                baseline_period="2023-24", estimate=estimate, lower=estimate / 2,
                                upper=estimate * 1.5, estimate_unit="percentage points", p_value=0.01,
                                polarity=polarity)

    worse, better = yoy("A", 5.0, -1), yoy("B", 5.0, +1)
    missed = findings.Finding(indicator="C", name="C", period="2024-25", comparison="target", method="target",
                              verdict="missed", estimate=-45.0, target=90.0, estimate_unit="percentage points")
    rest = findings.Finding(indicator="D", name="D", period="2024-25", comparison="benchmark", method="m",
                            verdict="similar")
    every = [worse, better, missed, rest]
    without = [findings.rank_score(f) for f in every]
    assert without == sorted(without, reverse=True) and without[-1] == 0.0
    for code in "ABCD":
        with_priority = [findings.rank_score(f, {code}) for f in every]
        # the same order of tiers whichever indicator the board prioritises
        assert with_priority == sorted(with_priority, reverse=True), code
        i = "ABCD".index(code)
        assert with_priority[i] == without[i] + findings.PRIORITY_BONUS
    # within a tier the priority leads: a prioritised improvement before another improvement
    other_better = yoy("E", 9.0, +1)
    assert findings.rank_score(better, {"B"}) > findings.rank_score(other_better, {"B"})
    assert findings.rank_score(better) == findings.rank_score(other_better)


def test_a_board_priority_leads_the_key_messages_within_its_rank(tmp_path):
    """Issue 15, item 5: two percentages whose changes could both be chance keep the catalogue's order, unless the
    board's priorities name the second, which then leads; a significant deterioration still comes before both."""
    rows = [_year("CPP_REVIEWS_ON_TIME", 2024, 77, 90), _year("CPP_REVIEWS_ON_TIME", 2025, 59, 67),
            _year("CPP_SUBSEQUENT", 2024, 38, 136), _year("CPP_SUBSEQUENT", 2025, 37, 142), *_icpc_rows()]
    ctx = _ctx(tmp_path, rows)
    codes = ["CPP_REVIEWS_ON_TIME", "CPP_SUBSEQUENT"]
    plain = text.key_messages(ctx, codes)
    assert plain[0].startswith("Child protection plans reviewed on time")
    first = text.key_messages(ctx, codes, priorities={"CPP_SUBSEQUENT"})
    assert first[0].startswith("Second or subsequent child protection plans") and sorted(first) == sorted(plain)
    with_icpc = text.key_messages(ctx, ["ICPC_15WD", *codes], priorities={"CPP_SUBSEQUENT"})
    assert with_icpc[0].startswith("ICPCs within 15 working days") and with_icpc[1].startswith("Second or")


def test_board_priority_codes_come_from_the_priorities_indicators(tmp_path):
    from types import SimpleNamespace

    ctx = _ctx(tmp_path, _icpc_rows())
    ctx.__dict__["editorial"] = SimpleNamespace(priorities=(
        SimpleNamespace(indicators=("CPP_SUBSEQUENT", "ICPC_15WD")), SimpleNamespace(indicators=())))
    assert text.board_priority_codes(ctx) == frozenset({"CPP_SUBSEQUENT", "ICPC_15WD"})


# ------------------------------------------------------------------ 6. counts whose months vary more than chance


def _glm_year_effect(first, second):
    """Independent reference: statsmodels' Poisson GLM of the 24 monthly counts on month of year and year, with
    the scale estimated by Pearson's X² (quasi-Poisson): (year coefficient, its standard error, scale, df)."""
    import statsmodels.api as sm

    y = np.r_[first, second]
    month = np.tile(np.arange(12), 2)
    X = np.column_stack([np.ones(24), np.r_[np.zeros(12), np.ones(12)]]
                        + [(month == m).astype(float) for m in range(1, 12)])
    fit = sm.GLM(y, X, family=sm.families.Poisson()).fit(scale="X2")
    return float(fit.params[1]), float(fit.bse[1]), float(fit.scale), int(fit.df_resid)


def test_monthly_dispersion_and_the_quasi_poisson_comparison_match_statsmodels():
    from safeguarding.stats import compare_rates_dispersed, monthly_dispersion

    rng = np.random.default_rng(11)
    first = rng.negative_binomial(8, 8 / (8 + 90), size=12).astype(float)  # mean 90, variance about 11 times 90
    second = rng.negative_binomial(8, 8 / (8 + 100), size=12).astype(float)
    beta, se, scale, df = _glm_year_effect(first, second)
    spread = monthly_dispersion(first, second)
    assert spread.phi == pytest.approx(scale, rel=1e-9) and spread.df == df == 11
    assert spread.phi > 1
    res = compare_rates_dispersed(first.sum(), 1.0, second.sum(), 1.0, spread)
    assert res.method == "quasi-Poisson test"
    assert np.log(res.ratio) == pytest.approx(beta, rel=1e-9)
    t = beta / se
    assert res.p_value == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-9)
    q = stats.t.ppf(0.975, df)
    assert res.lower == pytest.approx(np.exp(beta - q * se), rel=1e-9)
    assert res.upper == pytest.approx(np.exp(beta + q * se), rel=1e-9)
    # months that vary no more than chance: the exact conditional test, unchanged
    calm = monthly_dispersion(np.full(12, 90.0), np.full(12, 100.0))
    assert calm.phi == 0.0
    exact = compare_rates_dispersed(1080, 1.0, 1200, 1.0, calm)
    assert exact == compare_rates(1080, 1.0, 1200, 1.0)


def test_a_count_whose_months_vary_more_than_chance_is_not_called_significant_by_the_poisson_test(tmp_path):
    """The demo's police notifications: 1,083 then 1,197, 'statistically significant (exact conditional Poisson
    test, p = 0.018)', while the months varied about twice as much as Poisson and one month (150) made half the
    rise. The test now allows for the months' variation (quasi-Poisson)."""
    first, second = _DA_2024, _DA_2025
    assert stats.binomtest(sum(second), sum(first) + sum(second), 0.5).pvalue < 0.05  # the Poisson test's verdict
    rows = [_year("POLICE_DA_NOTIFICATIONS", 2024, sum(first), None),
            _year("POLICE_DA_NOTIFICATIONS", 2025, sum(second), None),
            *_months("POLICE_DA_NOTIFICATIONS", first + second)]
    ctx = _ctx(tmp_path, rows)
    f = text.year_on_year(ctx, "POLICE_DA_NOTIFICATIONS")
    beta, se, scale, df = _glm_year_effect(np.array(first, float), np.array(second, float))
    assert scale > 1 and f.method == "quasi-Poisson test"
    assert f.p_value == pytest.approx(2 * stats.t.sf(abs(beta / se), df), rel=1e-9) and f.p_value > 0.05
    assert f.verdict == "no significant change" and "not statistically significant" in f.sentence
    assert f"month-to-month variation {scale:.1f} times what chance alone gives" in f.sentence
    # a month withheld from the public: the dispersion is not worked out from it (the exact test is used)
    shown = {(r["indicator_id"], r["period_type"], pd.Timestamp(r["period_end"]), "all", "all"): {"marker": ""}
             for r in rows}
    shown[("POLICE_DA_NOTIFICATIONS", "month", pd.Timestamp("2024-10-31"), "all", "all")] = {"marker": "c"}
    public = text.year_on_year(_ctx(tmp_path, rows, shown=shown), "POLICE_DA_NOTIFICATIONS")
    assert public.method == "exact conditional Poisson test"


def test_targets_are_shown_as_set(tmp_path):
    """The demo's scorecard said 'at least 100%' (no percentage is more), and a target of 92.5% was shown as 92%."""
    ctx = _ctx(tmp_path, _icpc_rows())
    assert ctx.catalogue["ICPC_15WD"].polarity == "higher_is_better"
    assert text.format_target(ctx, "ICPC_15WD", 100.0) == "100%"
    assert text.format_target(ctx, "ICPC_15WD", 92.5) == "at least 92.5%"
    assert text.format_target(ctx, "ICPC_15WD", 90.0) == "at least 90%"
    assert text.format_target(ctx, "ICPC_15WD", float("nan")) == "none set"
    assert text.format_target(ctx, "REFERRALS", 1250.0) == "1,250"  # no better direction: the figure alone
    assert text.format_target(ctx, "CPP_ENDED_2YRS", 0.0) == "0%"  # lower is better: 'at most 0%' is '0%'
    assert text.format_target(ctx, "CPP_ENDED_2YRS", 2.5) == "at most 2.5%"
