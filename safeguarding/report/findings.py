"""Findings: one row per statement the report makes about a change, a signal, a seasonal pattern,
a comparison with a benchmark or a target.

Each :class:`Finding` holds the numbers behind one sentence (indicator, period,
comparison, method, estimate and interval, statistic, p-value or limits,
verdict) and the sentence is *rendered from those fields alone*
(:func:`render`), so that a reader of ``findings.csv`` can check every such
sentence in the report against its row, and a test can regenerate it
(:func:`from_row`). The findings themselves are worked out in
:mod:`safeguarding.report.text` from the disclosure-controlled indicator
table: a comparison that would need a withheld figure is a finding with the
verdict ``not published`` and says so, without saying why.

Ranking (:func:`rank_score`, used for the key messages): a statistically
significant year-on-year change first (a deterioration before an
improvement), then a missed target by how far it was missed, then the rest;
within each of these, an indicator that one of the board's priorities names
comes first; ties keep the catalogue's order. See ``docs/statistics.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, SupportsFloat, SupportsIndex, TypedDict

from safeguarding.stats.verdicts import _cap, _round

__all__ = ["COLUMNS", "Finding", "format_p", "from_row", "lower_first", "rank_score", "render"]

NAN = float("nan")

#: the comparisons a finding can make
COMPARISONS = ("year on year", "within year", "seasonal", "trend", "target", "benchmark", "funnel")

#: every finding's sentence about a withheld figure gives this one reason, so that it reveals no bound
WITHHELD = "is withheld to protect privacy"


class FindingSubject(TypedDict):
    """What the findings of one check are about: the leading fields of :class:`Finding` they share."""

    indicator: str
    name: str
    comparison: str
    polarity: int


class FindingSubjectInPeriod(FindingSubject):
    """:class:`FindingSubject` with the period the findings are about."""

    period: str


class FindingComparedPeriods(FindingSubjectInPeriod):
    """:class:`FindingSubjectInPeriod` with the period it is compared with."""

    baseline_period: str


@dataclass(frozen=True)
class Finding:
    """The numbers behind one sentence of the report; ``sentence`` is rendered from them.

    ``estimate``/``lower``/``upper`` are in ``estimate_unit`` ('percentage points',
    'rate ratio', 'ratio to an average month', 'proportion', 'percent a year', or for a
    target the gap from it in 'percentage points' or 'count').
    ``status`` is the RAG status against the target ('Green', 'Amber', 'Red') and
    ``target`` the target itself, in the figure's unit. ``detail`` is what the sentence
    lists or gives as a reason (the unusual months, a withheld figure's reason).
    ``polarity`` is +1 (higher is better), -1 (lower is better) or 0.
    """

    indicator: str
    name: str
    period: str
    comparison: str
    method: str
    verdict: str
    baseline_period: str = ""
    baseline_value: str = ""
    value: str = ""
    estimate: float = NAN
    lower: float = NAN
    upper: float = NAN
    estimate_unit: str = ""
    statistic: float = NAN
    statistic_name: str = ""
    p_value: float = NAN
    limits: str = ""
    status: str = ""
    target: float = NAN
    detail: str = ""
    polarity: int = 0

    @property
    def sentence(self) -> str:
        """The sentence the report prints, rendered from the fields (see :func:`render`)."""
        return render(self)

    @property
    def significant(self) -> bool:
        """True for a statistically significant year-on-year change."""
        return self.verdict in ("significant increase", "significant decrease")

    def row(self) -> dict[str, str | float | int]:
        """The finding as a ``findings.csv`` row (the fields and the sentence)."""
        out: dict[str, str | float | int] = asdict(self)
        out["sentence"] = self.sentence
        return out


#: the columns of ``findings.csv``, in order
COLUMNS: list[str] = [f.name for f in fields(Finding)] + ["sentence"]

_FLOATS = {f.name for f in fields(Finding) if f.type in ("float", float)}


def from_row(row: Mapping[str, object]) -> Finding:
    """A finding from a ``findings.csv`` row (read as text or as typed values); the sentence is ignored."""
    kwargs: dict[str, Any] = {}  # each value converted to its field's type below
    for f in fields(Finding):
        v = row.get(f.name, "")
        if f.name in _FLOATS:
            kwargs[f.name] = _float(v)
        elif f.name == "polarity":
            kwargs[f.name] = int(_float(v)) if math.isfinite(_float(v)) else 0
        else:
            kwargs[f.name] = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
    return Finding(**kwargs)


def _float(v: object) -> float:
    if not isinstance(v, float | int | str | bytes | bytearray | memoryview | SupportsFloat | SupportsIndex):
        return NAN  # what float() refuses (TypeError)
    try:
        return float(v)
    except (TypeError, ValueError):
        return NAN


def format_p(p: float) -> str:
    """A p-value as printed: 'p < 0.001', else to 3 decimal places ('p = 0.010')."""
    if not math.isfinite(p):
        return "p not available"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


#: added to a finding's rank when its indicator measures one of the board's priorities: it orders findings
#: within their tier and never lifts one into a higher tier (the tiers are a whole point or more apart)
PRIORITY_BONUS = 0.5


def rank_score(f: Finding, priorities: frozenset[str] | set[str] = frozenset()) -> float:
    """How important a finding is for the key messages (higher first); the rule is in the module docstring.

    A significant year-on-year change scores 3 (4 when it is a deterioration); a
    missed target scores 1 plus the share of the target missed (at most 2); the
    rest 0. A finding about an indicator in ``priorities`` (the codes the board's
    priorities name) gets :data:`PRIORITY_BONUS` more: first within its tier, and
    a priority's unremarkable finding ahead of other unremarkable ones.
    """
    bonus = PRIORITY_BONUS if f.indicator in priorities else 0.0
    if f.comparison == "year on year" and f.significant:
        worse = f.polarity != 0 and _direction(f) * f.polarity < 0
        return (4.0 if worse else 3.0) + bonus
    if f.comparison == "target" and f.verdict.startswith("missed"):
        share = abs(f.estimate) / f.target if math.isfinite(f.target) and f.target > 0 else 0.0
        return 1.0 + min(share, 1.0) + bonus
    return bonus


def _direction(f: Finding) -> int:
    if f.estimate_unit == "rate ratio":
        return 0 if f.estimate == 1 else (1 if f.estimate > 1 else -1)
    return 0 if f.estimate == 0 else (1 if f.estimate > 0 else -1)


# ------------------------------------------------------------------------------------------ render


def render(f: Finding) -> str:
    """The sentence for a finding, from its fields only."""
    renderer = {"year on year": _year_on_year, "within year": _within_year, "seasonal": _seasonal,
                "trend": _trend, "target": _target, "benchmark": _benchmark, "funnel": _funnel}.get(f.comparison)
    if renderer is None:
        raise ValueError(f"unknown comparison {f.comparison!r}; expected one of {COMPARISONS}")
    return renderer(f)


def lower_first(name: str) -> str:
    """A name inside a sentence: first letter lower-cased, unless it starts an acronym ('ICPCs')."""
    return name if name[:2].isupper() else name[:1].lower() + name[1:]


_PLURAL_NOUNS = {"plans", "icpcs", "allegations", "re-referrals", "referrals", "visits", "conferences",
                 "notifications", "arrangements", "enquiries", "children"}


def verb_for(name: str, singular: str = "was", plural: str = "were") -> str:
    """``plural`` when an indicator's name is about a plural noun ('Plans reviewed on time'), else ``singular``."""
    words = {w.strip(",()").lower() for w in name.split()[:6]}
    return plural if words & _PLURAL_NOUNS else singular


def _judgement(direction: int, polarity: int) -> str:
    if polarity == 0 or direction == 0:
        return ""
    return ", and an improvement" if direction * polarity > 0 else ", and a deterioration"


def _points(v: float) -> str:
    return _round(abs(100 * v), 1)


def _signed_points(v: float) -> str:
    """A change in percentage points as words: 'a fall of 3.0', 'a rise of 1.2', 'no change'."""
    if float(_points(v)) == 0:
        return "no change"
    return f"{'a rise' if v > 0 else 'a fall'} of {_points(v)}"


def _points_interval(lo: float, hi: float) -> str:
    """An interval for a change in points: 'a fall of between 3.0 and 18.5 points', or 'from a fall of 10.7 to
    a rise of 12.6 points' when it holds no change."""
    if lo > 0 and float(_points(lo)) > 0:
        return f"a rise of between {_points(lo)} and {_points(hi)} points"
    if hi < 0 and float(_points(hi)) > 0:
        return f"a fall of between {_points(hi)} and {_points(lo)} points"
    return f"from {_signed_points(lo)} to {_signed_points(hi)} points"


def _pct(change: float) -> str:
    return f"{_round(abs(change), 1)}%"


def _pct_interval(lo: float, hi: float, *, rise: str = "a rise", fall: str = "a fall") -> str:
    """An interval for a change in per cent, in words: 'a rise of between 4.5% and 26.0%', or
    'from a fall of 24.8% to a rise of 28.4%' when it holds no change."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "not available"
    if lo > 0 and float(_round(lo, 1)) > 0:
        return f"{rise} of between {_pct(lo)} and {_pct(hi)}"
    if hi < 0 and float(_round(-hi, 1)) > 0:
        return f"{fall} of between {_pct(hi)} and {_pct(lo)}"
    low = f"{fall} of {_pct(lo)}" if float(_round(-lo, 1)) > 0 else "no change"
    high = f"{rise} of {_pct(hi)}" if float(_round(hi, 1)) > 0 else "no change"
    return f"from {low} to {high}"


def _ratio_interval(lo: float, hi: float) -> str:
    """A rate ratio's interval as a change in per cent, in words."""
    return _pct_interval(100 * (lo - 1), 100 * (hi - 1))


def _year_on_year(f: Finding) -> str:
    name = _cap(f.name)
    if f.verdict == "not published":
        if f.value:  # the year before is withheld, this year's figure is not
            return (f"{name} {verb_for(f.name, 'was', 'were')} {f.value} in {f.period}, not compared with "
                    f"{f.baseline_period}: {f.detail}.")
        return f"{name} {verb_for(f.name, 'is', 'are')} not compared with {f.baseline_period}: {f.detail}."
    if f.verdict == "no earlier year":
        return f"{name} was {f.value} in {f.period}; there is no figure for {f.baseline_period} to compare with."
    if f.verdict == "no change":
        return f"{name} stayed at {f.value} in {f.baseline_period} and {f.period}."
    direction = _direction(f)
    rose = direction > 0
    if f.estimate_unit == "percentage points":
        size = (f"a {'rise' if rose else 'fall'} of {_points(f.estimate)} percentage points "
                f"(95% confidence interval: {_points_interval(f.lower, f.upper)})")
        lead = (f"{name} {'rose' if rose else 'fell'} from {f.baseline_value} in {f.baseline_period} to {f.value} "
                f"in {f.period}, {size}")
    else:
        change = _pct(100 * (f.estimate - 1))
        if "per 10,000" in f.name:  # a rate: 'The rate of children on a plan per 10,000 children fell by 2.0%'
            name = f"The rate of {lower_first(f.name)}"
        lead = (f"{name} {'rose' if rose else 'fell'} by {change}, from {f.baseline_value} in {f.baseline_period} "
                f"to {f.value} in {f.period} (95% confidence interval for the change: "
                f"{_ratio_interval(f.lower, f.upper)})")
    test = f"{f.method}, {format_p(f.p_value)}"
    if f.method == "quasi-Poisson test":  # the months vary more than chance alone: say the test allows for it
        test = f"{f.method} allowing for {f.detail}, {format_p(f.p_value)}"
    if f.significant:
        return (f"{lead}; this change is statistically significant (unlikely to be chance alone; {test})"
                f"{_judgement(direction, f.polarity)}.")
    return f"{lead}; this change is not statistically significant (it could be chance; {test})."


def _within_year(f: Finding) -> str:
    low = lower_first(f.name)
    if f.verdict == "not published":
        return (f"No month-by-month verdict is given for {low}: some monthly figures are "
                f"{WITHHELD.removeprefix('is ')}.")
    if f.verdict == "too few months":
        return f"There are too few monthly figures for {low} in {f.period} to chart their variation."
    if f.verdict == "snapshot":
        return (f"The monthly figures for {low} count what is open at each month end, largely the same cases from "
                f"one month to the next, so {f.period} are shown as a run chart without rules for unusual months.")
    if f.verdict == "too few exceptions":
        return (f"{_cap(f.name)} stood at {f.detail} in {f.limits} of {f.period}: too few exceptions to chart, so "
                "no month is judged unusual.")
    if f.verdict == "common cause":
        return (f"Month by month over {f.period}, {low} stayed within the range expected from ordinary "
                f"variation ({f.method}, limits {f.limits}): no month stands out as unusual.")
    n = int(f.statistic) if math.isfinite(f.statistic) else 0
    months = "1 month was" if n == 1 else f"{n} months were"
    return (f"Month by month over {f.period} ({f.method}, limits {f.limits}), {months} unusual, more than "
            f"ordinary variation would explain: {f.detail}.")


def _seasonal(f: Finding) -> str:
    name = _cap(f.name)
    if f.verdict == "not tested":
        return f"No seasonal pattern is tested for {lower_first(f.name)}: {f.detail}."
    test = f"{f.method}, {format_p(f.p_value)}"
    if f.verdict == "no seasonal pattern":
        return (f"{name} showed no clear seasonal pattern over {f.period}: the differences between months could "
                f"be chance ({test}).")
    size = (f"{_above_below(f.estimate)} an average month (95% confidence interval: "
            f"{_above_below_interval(f.lower, f.upper)})")
    if f.verdict == "seasonal, usual peak":
        return (f"{name} {verb_for(f.name, 'follows', 'follow')} a seasonal pattern over {f.period} ({test}): "
                f"{f.value} is usually the busiest month, {size}; it was the busiest month in {f.limits}.")
    k, _, n = f.limits.partition(" of ")
    only = (f"it was not the busiest month in any of the {n}" if k == "0"
            else f"it was the busiest month in only {f.limits}")
    # another month may have been the busiest in most years (the data say which): never 'no month' then
    usual = f"; {f.detail}" if f.detail else ", and no month was the busiest in most of them"
    # the period said: the public review tests the months it publishes (3 years), the board pack every month
    return (f"{name} {verb_for(f.name, 'varies', 'vary')} with the time of year over {f.period} ({test}): "
            f"{f.value} was the busiest month on average, {size}, but {only}{usual}.")


def _above_below(ratio: float) -> str:
    """A ratio to an average as words: '14.7% above', '3.0% below'."""
    change = 100 * (ratio - 1)
    return f"{_pct(change)} {'above' if change >= 0 else 'below'}"


def _above_below_interval(lo: float, hi: float) -> str:
    """'between 4.5% and 26.0% above', 'between 2.0% and 9.0% below', or 'from 3.0% below to 26.0% above'."""
    a, b = 100 * (lo - 1), 100 * (hi - 1)
    if a >= 0 or b <= 0:
        side = "above" if a >= 0 else "below"
        first, second = (a, b) if a >= 0 else (b, a)
        return f"between {_pct(first)} and {_pct(second)} {side}"
    return f"from {_pct(a)} below to {_pct(b)} above"


def _trend(f: Finding) -> str:
    low = lower_first(f.name)
    if f.verdict == "not published":
        return f"No trend is tested for {low}: {f.detail}."
    if f.verdict == "not tested":
        return f"No trend is tested for {low}: there are fewer than three years of figures."
    first, last = f.baseline_period, f.period
    years = int(last[:4]) - int(first[:4]) + 1
    span = f"Over the {_count_words(years)} years from {first} to {last}"
    allowing = ", allowing for the number of children in the area" if "per child" in f.estimate_unit else ""
    interval = f"95% confidence interval: {_pct_interval(f.lower, f.upper)} a year"
    test = f"{f.method}, {format_p(f.p_value)}"
    if float(_round(abs(f.estimate), 1)) == 0:
        movement = f"{low} showed no average change{allowing} ({interval})"
    else:
        movement = (f"{low} {'rose' if f.estimate > 0 else 'fell'} by an average of {_pct(f.estimate)} a year"
                    f"{allowing} ({interval})")
    if f.verdict.startswith("significant"):
        direction = 1 if f.estimate > 0 else -1
        tail = (f"; this {'upward' if direction > 0 else 'downward'} trend is statistically significant (unlikely "
                f"to be chance alone; {test}){_judgement(direction, f.polarity)}")
    else:
        tail = f"; this is not a statistically significant trend (the ups and downs could be chance; {test})"
    sentence = f"{span}, {movement}{tail}."
    if not f.method.startswith("Poisson"):
        sentence += (" Figures varied more from year to year than chance alone would explain, and the test allows "
                     "for that.")
    return sentence


def _count_words(n: int) -> str:
    words = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    return words[n] if 0 <= n < len(words) else f"{n:,}"


def target_text(f: Finding) -> str:
    """A target finding's target as printed: '90%' for a percentage, '1,000' for a count."""
    return f"{f.target:g}%" if f.estimate_unit == "percentage points" else f"{f.target:,g}"


def gap_text(f: Finding) -> str:
    """How far a target finding's figure is from its target: '2.6 points', or '12' for a count."""
    amount = _round(abs(f.estimate), 1)
    return f"{amount} points" if f.estimate_unit == "percentage points" else amount


def _target(f: Finding) -> str:
    if f.verdict == "met":
        return f"Status: {f.status}: the {target_text(f)} target was met."
    band = {"Green": "within 5% of", "Amber": "within 10% of", "Red": "more than 10% short of"}.get(f.status,
                                                                                                 "short of")
    return f"Status: {f.status}: {band} the {target_text(f)} target (missed by {gap_text(f)})."


def _benchmark(f: Finding) -> str:
    name = _cap(f.name)
    verb = verb_for(f.name)
    if f.verdict == "listed":  # a rate beside England, the region and neighbours: no test, no verdict
        when = "" if f.baseline_period == f.period else f" in {f.baseline_period}, the latest published year"
        return f"The rate of {lower_first(f.name)} was {f.value} in {f.period}, compared with {f.baseline_value}{when}."
    if f.verdict == "not significantly different":
        return (f"{name} {verb} {f.value} in {f.period}, not significantly different from {f.baseline_period} "
                f"({f.baseline_value}).")
    side = 1 if f.verdict == "significantly higher" else -1
    return (f"{name} {verb} {f.value} in {f.period}, {f.verdict} than {f.baseline_period} ({f.baseline_value})"
            f"{_judgement(side, f.polarity)}.")


def _funnel(f: Finding) -> str:
    name = _cap(f.name)
    england = f"England's {f.baseline_value}" + ("" if f.baseline_period == f.period else f" in {f.baseline_period}")
    lead = f"{name} {verb_for(f.name)} {f.value} in {f.period}"
    if f.verdict == "no data":
        return f"{name} cannot be placed on the funnel plot because there were no cases in {f.period}."
    if f.verdict == "within":
        return (f"{lead}, within the range expected for a council of this size around {england} "
                f"({f.limits}): the difference from England could be chance.")
    side, _, level = f.verdict.partition(" ")
    strength = "well " if level.startswith("99") else ""
    return (f"{lead}, {strength}{side} the range expected for a council of this size around {england} "
            f"({f.limits}; outside the {level} limit, so unlikely to be chance)"
            f"{_judgement(1 if side == 'above' else -1, f.polarity)}.")
