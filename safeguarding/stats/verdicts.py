"""Plain-English verdicts for board members, built from the numbers (never hand-written).

One function per analysis returns one or two sentences: percentages to 1
decimal place (halves rounded up), counts with thousands separators, correct
plurals, and statistical terms explained ("unusual" for special cause,
"could be chance" for not significant). Readers are board members, not
statisticians.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from safeguarding.periods import financial_year_label
from safeguarding.stats.intervals import wilson_interval
from safeguarding.stats.spc import assurance, normalise_improvement, spc_summary
from safeguarding.stats.trend import TrendResult, compare_proportions, compare_rates

__all__ = [
    "change_verdict",
    "financial_year_label",
    "format_number",
    "format_percent",
    "funnel_verdict",
    "plural",
    "proportion_verdict",
    "spc_verdict",
    "trend_verdict",
]

_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]

_RULE_TEXT = {
    "outside limits": "beyond the expected range",
    "trend of 7": "part of 7 or more {unit}s in a row {rising_falling}",
    "2 of 3 near limits": "2 of 3 {unit}s in a row close to the edge of the expected range",
    "run of 7 on one side": "part of a run of 7 or more {unit}s {above_below} the average",
}


# --------------------------------------------------------------------------------------------
# formatting


def format_percent(value_pct: float, decimals: int = 1) -> str:
    """Format a percentage (already × 100) to ``decimals`` places, halves rounded up: 21.45 -> '21.5%'."""
    return f"{_round(value_pct, decimals)}%"


def format_number(value: float | None, decimals: int = 1) -> str:
    """Format a number with thousands separators: whole numbers without decimals (1,234), others to 1 dp."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not available"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{Decimal(_round(value, decimals)):,}"


def plural(count: float, singular: str, plural_form: str | None = None) -> str:
    """Return '1 referral', '2 referrals', '1,234 children' (pass the plural form when irregular)."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{format_number(count)} {word}"


def _round(value: float, decimals: int) -> str:
    q = Decimal(1).scaleb(-decimals)
    return str(Decimal(repr(float(value))).quantize(q, rounding=ROUND_HALF_UP))


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _count_words(n: int) -> str:
    return _WORDS[n] if 0 <= n < len(_WORDS) else format_number(n)


def _span(n: int, unit: str) -> str:
    """'two years' for 24 months, 'year' for 12, else '18 months'."""
    if unit == "month" and n >= 12 and n % 12 == 0:
        years = n // 12
        return "year" if years == 1 else f"{_count_words(years)} years"
    if unit == "quarter" and n >= 4 and n % 4 == 0:
        years = n // 4
        return "year" if years == 1 else f"{_count_words(years)} years"
    return f"{n} {unit}s" if n != 1 else unit


def _period_text(period) -> str:
    if isinstance(period, pd.Timestamp):
        return period.strftime("%B %Y")
    if isinstance(period, pd.Period):
        return period.strftime("%B %Y") if period.freqstr.startswith("M") else str(period)
    return str(period)


def _value_text(value: float, percent: bool) -> str:
    return format_percent(value) if percent else format_number(value)


def _judgement(direction: int, polarity: int) -> str:
    """', which is an improvement' / ', which is a concern' / ''."""
    if polarity == 0 or direction == 0:
        return ""
    return ", which is an improvement" if direction * polarity > 0 else ", which is a concern"


# --------------------------------------------------------------------------------------------
# verdicts


def proportion_verdict(
    name: str,
    numerator: float,
    denominator: float,
    *,
    chart_df: pd.DataFrame | None = None,
    benchmark: float | None = None,
    benchmark_label: str = "England",
    polarity=None,
    confidence: float = 0.95,
    verb: str | None = None,
    unit: str = "month",
) -> str:
    """One sentence on a percentage, its month-to-month variation and a benchmark.

    ``benchmark`` is a proportion in 0-1 (e.g. England's 0.245). The comparison with
    the benchmark is significant when the benchmark lies outside the 95% Wilson
    interval of the local figure (the PHE Fingertips convention). ``chart_df`` is an
    SPC chart (see :func:`safeguarding.stats.p_chart`); its latest point is
    described. ``verb`` defaults to 'were' when ``name`` ends in 's', else 'was'.

    Example: "Re-registrations were 21.4% (27 of 126), within the range expected
    from month-to-month variation over the last two years, and not significantly
    different from England (24.5%)."
    """
    verb = verb or ("were" if name.rstrip().endswith("s") else "was")
    if not denominator or not np.isfinite(denominator) or denominator <= 0:
        return f"{_cap(name)}: there were no cases in the period, so no percentage can be given."
    if polarity is None and chart_df is not None:
        pol = chart_df.attrs.get("improvement", 0)
    else:
        pol = normalise_improvement(polarity)
    pct = 100.0 * numerator / denominator
    head = f"{_cap(name)} {verb} {format_percent(pct)} ({format_number(numerator)} of {format_number(denominator)})"
    parts = []
    second = ""
    if chart_df is not None:
        inline, second = _latest_point_phrase(chart_df, pol, unit)
        if inline:
            parts.append(inline)
    if benchmark is not None and np.isfinite(benchmark):
        parts.append(_benchmark_phrase(numerator, denominator, benchmark, benchmark_label, pol, confidence))
    if not parts:
        first = head + "."
    elif len(parts) == 1:
        first = f"{head}, {parts[0]}."
    else:
        first = f"{head}, " + ", ".join(parts[:-1]) + f", and {parts[-1]}."
    return f"{first} {second}" if second else first


def change_verdict(
    name: str,
    numerator1: float,
    denominator1: float | None,
    numerator2: float,
    denominator2: float | None,
    *,
    label1: str = "last year",
    label2: str = "this year",
    kind: str = "proportion",
    per: float = 10_000,
    per_label: str = "per 10,000 children",
    polarity=None,
    confidence: float = 0.95,
) -> str:
    """One sentence on a change between two periods with its significance test.

    ``kind``: 'proportion' (numerators of denominators; two-proportion test),
    'count' (denominators ignored; exact conditional Poisson test with equal
    exposure) or 'rate' (denominators are populations; rates ``per`` ``per_label``).
    """
    pol = normalise_improvement(polarity)
    if kind == "proportion":
        res = compare_proportions(numerator1, denominator1, numerator2, denominator2, confidence)
        if res.method == "no data":
            return f"{_cap(name)} cannot be compared between {label1} and {label2} because one of them has no cases."
        v1 = f"{format_percent(100 * res.p1)} ({format_number(numerator1)} of {format_number(denominator1)})"
        v2 = f"{format_percent(100 * res.p2)} ({format_number(numerator2)} of {format_number(denominator2)})"
        diff_pts = float(_round(100 * abs(res.difference), 1))
        if diff_pts == 0:
            return f"{_cap(name)} stayed at {format_percent(100 * res.p2)} between {label1} and {label2}."
        direction = 1 if res.difference > 0 else -1
        word = "rose" if direction > 0 else "fell"
        noun = "rise" if direction > 0 else "fall"
        size = f"a {noun} of {_round(100 * abs(res.difference), 1)} percentage points"
        judged = _judgement(direction, pol) if res.significant else ""
        return (
            f"{_cap(name)} {word} from {v1} in {label1} to {v2} in {label2}, {size}"
            f"{_significance_clause(res.significant, res.p_value)}{judged}."
        )
    if kind not in ("count", "rate"):
        raise ValueError("kind must be 'proportion', 'count' or 'rate'")
    e1 = 1.0 if kind == "count" else denominator1
    e2 = 1.0 if kind == "count" else denominator2
    res = compare_rates(numerator1, e1, numerator2, e2, confidence, per=per if kind == "rate" else 1.0)
    if res.method == "no data":
        return f"{_cap(name)} cannot be compared between {label1} and {label2} because a population is missing."
    if numerator1 == numerator2 and kind == "count":
        return f"{_cap(name)} stayed at {format_number(numerator2)} in {label1} and {label2}."
    if kind == "count":
        v1, v2 = format_number(numerator1), format_number(numerator2)
    else:
        v1, v2 = f"{format_number(res.rate1)} {per_label}", f"{format_number(res.rate2)} {per_label}"
    if res.rate1 == res.rate2:
        return f"{_cap(name)} stayed at {v2} in {label1} and {label2}."
    direction = 1 if res.rate2 > res.rate1 else -1
    word = "rose" if direction > 0 else "fell"
    if numerator1 > 0:
        change = f" by {format_percent(abs(res.percent_change))}"
    else:
        change = ""
    return (
        f"{_cap(name)} {word}{change}, from {v1} in {label1} to {v2} in {label2}"
        f"{_significance_clause(res.significant, res.p_value)}{_judgement(direction, pol) if res.significant else ''}."
    )


def trend_verdict(
    name: str,
    result: TrendResult,
    *,
    first_label: str | None = None,
    last_label: str | None = None,
    polarity=None,
) -> str:
    """One sentence on a multi-year trend from :func:`safeguarding.stats.trend_test`.

    Year labels default to financial years when ``years`` were years ending 31 March
    (2025 -> '2024-25').
    """
    pol = normalise_improvement(polarity)
    first = first_label or _year_label(result.first_year)
    last = last_label or _year_label(result.last_year)
    span = f"Over the {_count_words(result.n_points)} years from {first} to {last}"
    change = result.annual_change_pct
    ci = f"95% confidence interval {_signed_pct(result.lower)} to {_signed_pct(result.upper)} a year"
    if float(_round(abs(change), 1)) == 0:
        movement = f"{name} showed no average change ({ci})"
    else:
        word = "rose" if change > 0 else "fell"
        movement = f"{name} {word} by an average of {format_percent(abs(change))} a year ({ci})"
    if result.significant:
        direction = 1 if change > 0 else -1
        tail = (
            f"; this {'upward' if direction > 0 else 'downward'} trend is statistically significant "
            f"(unlikely to be chance alone){_judgement(direction, pol)}"
        )
    else:
        tail = "; this is not a statistically significant trend (the ups and downs could be chance)"
    sentence = f"{span}, {movement}{tail}."
    if result.family != "poisson":
        sentence += (
            " Figures varied more from year to year than chance alone would explain, and the test allows for that."
        )
    return sentence


def spc_verdict(
    name: str,
    chart_df: pd.DataFrame,
    *,
    polarity=None,
    unit: str = "month",
    percent: bool | None = None,
    max_listed: int = 3,
) -> str:
    """Two or three sentences on a control chart: unusual points, the latest point and the target.

    "Special cause" is explained as "unusual: more than normal month-to-month
    variation would produce". ``percent`` defaults to True for p-charts.
    """
    pol = normalise_improvement(polarity) if polarity is not None else chart_df.attrs.get("improvement", 0)
    if percent is None:
        percent = str(chart_df.attrs.get("chart", "")).endswith("p") or "denominator" in chart_df.columns
    have = chart_df[np.isfinite(chart_df["value"].to_numpy(dtype=float))]
    if have.empty:
        return f"There are no {unit}ly figures for {name} to chart."
    n = len(have)
    summary = spc_summary(chart_df)
    average = float(have["centre"].iloc[-1])
    lead = (
        f"Over the last {_span(n, unit)}, {name} averaged {_value_text(average, percent)} a {unit}"
        if not percent
        else f"Over the last {_span(n, unit)}, {name} averaged {_value_text(average, percent)}"
    )
    special = have[have["special_cause"]]
    if special.empty:
        first = (
            f"{lead}, and every {unit} was within the range expected from normal {unit}-to-{unit} variation: "
            f"no {unit} stands out as unusual."
        )
    else:
        listed = [
            f"{_period_text(row.period)} ({_value_text(row.value, percent)}, "
            f"{_rule_text(row.rule, row.direction, unit)})"
            for row in special.head(max_listed).itertuples()
        ]
        more = len(special) - len(listed)
        listing = _join(listed + ([f"{more} more"] if more > 0 else []))
        count = plural(len(special), unit)
        verb = "was" if len(special) == 1 else "were"
        directions = {d for d in special["direction"] if d}
        judgement = ""
        if pol != 0 and len(directions) == 1:
            judgement = _judgement(1 if directions == {"higher"} else -1, pol)
        first = (
            f"{lead}; {count} {verb} unusual, more different than normal {unit}-to-{unit} variation would "
            f"explain (what statisticians call 'special cause' variation): {listing}{judgement}."
        )
    sentences = [first]
    latest = summary["latest_period"]
    if summary["variation"] == "common cause" and not special.empty:
        sentences.append(
            f"The latest {unit} ({_period_text(latest)}, {_value_text(summary['latest_value'], percent)}) "
            "was within the expected range."
        )
    target = chart_df.attrs.get("target")
    verdict = assurance(chart_df)
    if target is not None and verdict not in ("no target", "no direction"):
        t = _value_text(target, percent)
        text = {
            "consistently passing": f"If nothing changes, the target of {t} will be met every {unit}.",
            "consistently failing": (
                f"If nothing changes, the target of {t} will not be met: the usual range of {unit}ly figures "
                "does not reach it, so meeting it needs a change in how the work is done."
            ),
            "hit and miss": (
                f"The target of {t} lies inside the usual range of {unit}ly figures, so it will be met in "
                f"some {unit}s and missed in others by chance alone."
            ),
        }[verdict]
        sentences.append(text)
    return " ".join(sentences)


def funnel_verdict(
    name: str,
    numerator: float,
    denominator: float,
    classification: str,
    *,
    benchmark: float,
    benchmark_label: str = "England",
    kind: str = "proportion",
    per: float = 10_000,
    per_label: str = "per 10,000 children",
    polarity=None,
    unit_label: str = "a council",
) -> str:
    """One sentence on where a council sits on a funnel plot (see :func:`safeguarding.stats.classify_funnel`).

    ``benchmark`` is a proportion (0-1) or a rate per unit of exposure, as given to
    the funnel; rates are shown ``per`` ``per_label``.
    """
    pol = normalise_improvement(polarity)
    if kind == "proportion":
        pct = format_percent(100 * numerator / denominator)
        value = f"{pct} ({format_number(numerator)} of {format_number(denominator)})"
        bench = format_percent(100 * benchmark)
    else:
        value = f"{format_number(numerator / denominator * per)} {per_label}"
        bench = f"{format_number(benchmark * per)} {per_label}"
    size = f"for {unit_label} of this size"
    if classification == "no data":
        return f"{_cap(name)} cannot be placed on the funnel plot because there were no cases."
    if classification == "within":
        return (
            f"At {value}, {name} {'were' if name.endswith('s') else 'was'} within the range expected {size}, "
            f"given {benchmark_label}'s figure of {bench}: the difference could be chance."
        )
    side, level = classification.split(" ", 1)
    direction = 1 if side == "above" else -1
    strength = "well " if level.startswith("99") else ""
    return (
        f"At {value}, {name} {'were' if name.endswith('s') else 'was'} {strength}{side} the range expected {size}, "
        f"given {benchmark_label}'s figure of {bench} (outside the {level} limit, so unlikely to be chance)"
        f"{_judgement(direction, pol)}."
    )


# --------------------------------------------------------------------------------------------


def _latest_point_phrase(chart_df: pd.DataFrame, pol: int, unit: str) -> tuple[str, str]:
    """(inline phrase for common cause, separate sentence for special cause)."""
    have = chart_df[np.isfinite(chart_df["value"].to_numpy(dtype=float))]
    if have.empty:
        return "", ""
    span = _span(len(have), unit)
    last = have.iloc[-1]
    if not last["special_cause"]:
        return f"within the range expected from {unit}-to-{unit} variation over the last {span}", ""
    direction = 1 if last["direction"] == "higher" else -1
    percent = "denominator" in chart_df.columns
    return "", (
        f"The latest {unit} ({_period_text(last['period'])}, {_value_text(last['value'], percent)}) was "
        f"unusually {'high' if direction > 0 else 'low'} compared with the last {span} "
        f"({_rule_text(last['rule'], last['direction'], unit)}){_judgement(direction, pol)}."
    )


def _benchmark_phrase(numerator, denominator, benchmark, label, pol, confidence) -> str:
    if benchmark > 1:
        raise ValueError(f"benchmark must be a proportion in 0-1 (e.g. 0.245 for 24.5%), got {benchmark}")
    lower, upper = wilson_interval(numerator, denominator, confidence)
    bench = format_percent(100 * benchmark)
    if lower > benchmark:
        return f"significantly higher than {label} ({bench}){_judgement(1, pol)}"
    if upper < benchmark:
        return f"significantly lower than {label} ({bench}){_judgement(-1, pol)}"
    return f"not significantly different from {label} ({bench})"


def _significance_clause(significant: bool, p_value: float) -> str:
    if significant:
        return ", a statistically significant change (unlikely to be chance alone)"
    return ", which is not statistically significant (it could be chance)"


def _rule_text(rule: str, direction: str, unit: str) -> str:
    first = rule.split("; ")[0] if rule else ""
    template = _RULE_TEXT.get(first, "unusual")
    return template.format(
        unit=unit,
        rising_falling="rising" if direction == "higher" else "falling",
        above_below="above" if direction == "higher" else "below",
    )


def _signed_pct(value: float) -> str:
    text = format_percent(abs(value))
    if float(_round(value, 1)) == 0:
        return text
    return ("+" if value > 0 else "-") + text


def _year_label(year: float) -> str:
    if float(year).is_integer() and 1900 <= year <= 2200:
        return financial_year_label(int(year))
    return format_number(year)


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
