"""Voice of children and families: the before-and-after survey, compared child by child and protected.

The optional ``survey`` input (:data:`safeguarding.schema.ENTITIES`) holds one
row per child, question and time point: the child's answer (yes, no, not
answered) when the work started and when it ended. For each question,
:func:`summarise_survey` pairs each child's two answers and compares them
(:func:`safeguarding.stats.paired.paired_comparison`: the exact McNemar test
and Newcombe's interval for the change); children without a yes or no at
both time points are counted as "not compared", never silently dropped.

:func:`publish_question` decides what the public may see. The disclosure
rule is the project's (no count from 1 to 5; zero is shown), applied here to
the few figures of a question rather than by the indicator engine, in three
conservative steps:

* **full**: the children compared (``n``), those saying yes before and after,
  the percentages, the change with its 95% interval, the p-value and the
  verdict are published only when every count behind them is 0 or at least
  6: the four cells of the paired table (yes both times, yes→no, no→yes, no
  both times; the p-value and interval would let a reader work them out),
  the margins (yes and no before, yes and no after) and the net change
  (yes after − yes before, the difference of two published counts);
* **margins**: when only a cell of the paired table is small, the margins
  and the verdict in words are published, the interval and the p-value are
  not (``x``), provided that leaves every small cell its protection
  interval: the margins fix the table up to one number (the children going
  from yes to no), and the withheld interval and the verdict narrow that
  number down; unless each small cell could still be 0 or 6 or more in
  some table that would be published the same way, the question goes down
  to the next step (:func:`_margins_family`, :func:`_margins_protect`; before, 12 children with 6
  saying yes both before and after told a reader that every cell of the
  table was from 1 to 5). The verdict is published beside the margins only
  if that holds whichever verdict it were; otherwise the sentence says
  whether the change could be chance is not shown;
* **count**: otherwise only ``n`` is published (everything else ``x``), and
  no verdict.

With fewer than :data:`MIN_PAIRED` children compared, nothing is tested:
"too few children answered both times to tell". The number not compared is
published when it and its differences from the published counts are 0 or at
least 6 (``c`` when it is itself from 1 to 5, ``x`` otherwise). So no
published count, and no difference of two published counts of a question, is
from 1 to 5 (tested). The board audience sees every figure.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from safeguarding.disclosure.policy import Policy
from safeguarding.markers import NOT_PUBLISHED, WITHHELD
from safeguarding.stats.paired import PairedComparison, mcnemar_exact, paired_comparison

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.config import Config

__all__ = [
    "MIN_PAIRED",
    "PublishedQuestion",
    "QuestionSummary",
    "publish_question",
    "publish_survey",
    "published_frame",
    "summarise_survey",
]

#: fewer children compared than this: no test, "too few to tell"
MIN_PAIRED = 10
#: p-values below this are "unlikely to be chance"
ALPHA = 0.05
#: the verdict of a question whose answers are not published, or whose verdict would narrow a small count
WITHHELD_VERDICT = "Withheld (small numbers)"


@dataclass(frozen=True)
class QuestionSummary:
    """One question's answers: the paired comparison and the children not compared."""

    question: str
    text: str
    comparison: PairedComparison
    #: children asked the question without a yes or no at both time points (asked once, or not answering once)
    not_compared: int


def summarise_survey(frame: pd.DataFrame) -> list[QuestionSummary]:
    """Pair each child's before and after answers, question by question (in order of first appearance).

    ``frame`` is the processed ``survey`` table (canonical columns
    ``child_id``, ``question``, ``time_point``, ``answer`` and optionally
    ``question_text``). A child is compared on a question when both the
    before and the after answer are yes or no.
    """
    out: list[QuestionSummary] = []
    if frame is None or frame.empty:
        return out
    df = frame.assign(question=frame["question"].astype(str), child_id=frame["child_id"].astype(str),
                      time_point=frame["time_point"].astype(str), answer=frame["answer"].astype(str))
    texts = frame["question_text"] if "question_text" in frame.columns else pd.Series(pd.NA, index=frame.index)
    for question in pd.unique(df["question"]):
        rows = df[df["question"] == question]
        wording = texts[rows.index].dropna().astype(str)
        wording = wording[wording.str.strip() != ""]
        text = str(wording.mode().iloc[0]) if len(wording) else str(question)
        wide = rows.pivot_table(index="child_id", columns="time_point", values="answer", aggfunc="first")
        before = wide["before"] if "before" in wide.columns else pd.Series(pd.NA, index=wide.index)
        after = wide["after"] if "after" in wide.columns else pd.Series(pd.NA, index=wide.index)
        paired = before.isin(["yes", "no"]) & after.isin(["yes", "no"])
        b_yes, a_yes = (before[paired] == "yes"), (after[paired] == "yes")
        comp = paired_comparison(int((b_yes & a_yes).sum()), int((b_yes & ~a_yes).sum()),
                                 int((~b_yes & a_yes).sum()), int((~b_yes & ~a_yes).sum()))
        out.append(QuestionSummary(str(question), text, comp, int((~paired).sum())))
    return out


@dataclass(frozen=True)
class PublishedQuestion:
    """What the audience sees of one question: strings for the table and the sentence.

    ``level`` is ``full``, ``margins``, ``count`` or ``too_few`` (see the
    module); ``figures`` holds the counts published (name -> count), for the
    data file and for checking.
    """

    question: str
    text: str
    level: str
    n: str
    yes_before: str
    yes_after: str
    pct_before: str
    pct_after: str
    change: str
    interval: str
    p_value: str
    not_compared: str
    verdict: str
    sentence: str
    figures: dict[str, int] = field(default_factory=dict)
    #: change and interval in percentage points, where published (for the data file)
    points: dict[str, float] = field(default_factory=dict)


def _pct(x: int, n: int) -> str:
    from safeguarding.measures import round_half_up

    return f"{round_half_up(100 * x / n, 1):.1f}%"


def _points(v: float) -> str:
    from safeguarding.measures import round_half_up

    r = round_half_up(100 * v, 1)
    return f"{r:+.1f}" if r else "0.0"


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _ok(policy: Policy, *values: int) -> bool:
    """True when no value is a small count (the policy's threshold range)."""
    return not any(bool(policy.small(int(v))) for v in values)


def _verdict_of(yb: int, ya: int, significant: bool) -> str:
    """The verdict in words a question publishes with its margins (``significant``: McNemar's p below ALPHA)."""
    if ya == yb:
        return "No change"
    return "Unlikely to be chance" if significant else "Could be chance"


@functools.lru_cache(maxsize=4096)
def _significant(b: int, c: int) -> bool:
    return mcnemar_exact(b, c) < ALPHA


def _margins_family(n: int, yb: int, ya: int, policy: Policy) -> list[tuple[tuple[int, int, int, int], str]]:
    """The paired tables a reader who sees a question's margins cannot rule out, each with its verdict.

    A reader who sees ``n``, yes before (``yb``), yes after (``ya``), and
    that the interval and p-value are withheld (so some cell of the paired
    table is small) knows the table is one of a one-parameter family: with
    ``b`` children going from yes to no, ``a = yb - b``, ``c = ya - yb + b``,
    ``d = n - ya - b``. Those with a cell in the threshold range remain (the
    others would be published in full), each with the verdict it would be
    published with (McNemar's test depends on ``b`` and ``c`` only).
    """
    family = []
    for b in range(max(0, yb - ya), min(yb, n - ya) + 1):
        table = (yb - b, b, ya - yb + b, n - ya - b)
        if not _ok(policy, *table):
            family.append((table, _verdict_of(yb, ya, _significant(table[1], table[2]))))
    return family


def _margins_protect(tables: list[tuple[int, int, int, int]], policy: Policy) -> bool:
    """True when every small cell of each of ``tables`` (what a reader cannot rule out) takes a value outside
    the threshold range (0, or 6 or more) in one of them: its protection interval."""
    return not any(not _ok(policy, v) and all(not _ok(policy, other[i]) for other in tables)
                   for table in tables for i, v in enumerate(table))


def publish_question(s: QuestionSummary, policy: Policy) -> PublishedQuestion:
    """The published strings of one question under ``policy`` (``Policy.unsuppressed()`` for the board)."""
    c = s.comparison
    n, yb, ya = c.n, c.yes_before, c.yes_after
    cells = (c.a, c.b, c.c, c.d)
    margins = (n, yb, n - yb, ya, n - ya, abs(ya - yb))
    family: list[tuple[tuple[int, int, int, int], str]] = []  # what the margins leave open, with its verdicts
    x = NOT_PUBLISHED
    if n < MIN_PAIRED:
        level = "too_few"
    elif _ok(policy, *margins, *cells):
        level = "full"
    elif _ok(policy, *margins):
        family = _margins_family(n, yb, ya, policy)
        level = "margins" if _margins_protect([t for t, _ in family], policy) else "count"
    else:
        level = "count"
    # the verdict beside the margins only when it would leave every small cell room whichever it were (a
    # verdict narrows the family to the tables with that verdict): then whether it is shown depends on the
    # published margins alone, and its absence tells nothing either
    say_verdict = level == "full" or (level == "margins" and all(
        _margins_protect([t for t, v in family if v == verdict], policy) for verdict in {v for _, v in family}))
    figures: dict[str, int] = {}
    n_text = WITHHELD if not _ok(policy, n) else f"{n:,}"
    if n_text != WITHHELD:
        figures["n"] = n
    show_margins = level in ("full", "margins")
    if show_margins:
        figures.update(yes_before=yb, yes_after=ya)
    # children not compared: published when neither it nor its difference from a published count is small
    m = s.not_compared
    if not _ok(policy, m):
        nc_text = WITHHELD
    elif not _ok(policy, *(abs(m - v) for v in figures.values())):
        nc_text = x
    else:
        nc_text = f"{m:,}"
        figures["not_compared"] = m
    points: dict[str, float] = {}
    if show_margins:
        pb, pa = _pct(yb, n), _pct(ya, n)
        change = _points(c.change)
        points["change"] = c.change * 100
        verdict = _verdict_of(yb, ya, c.p_value < ALPHA) if say_verdict else WITHHELD_VERDICT
    else:
        pb = pa = change = x
        verdict = "Too few to tell" if level == "too_few" else WITHHELD_VERDICT
    if level == "full":
        interval = f"{_points(c.change_lower)} to {_points(c.change_upper)}"
        p_value = _p_text(c.p_value)
        points.update(lower=c.change_lower * 100, upper=c.change_upper * 100, p=c.p_value)
    else:
        interval = p_value = x
    # a withheld count is in the threshold range, so it is fewer than one more than the range's top
    fewer = f"fewer than {policy.threshold[1] + 1}" if policy.threshold is not None else ""
    sentence = _sentence(s, level, n_text, verdict, p_value, fewer)
    return PublishedQuestion(s.question, s.text, level, n_text, f"{yb:,}" if show_margins else x,
                             f"{ya:,}" if show_margins else x, pb, pa, change, interval, p_value, nc_text, verdict,
                             sentence, figures, points)


def _sentence(s: QuestionSummary, level: str, n_text: str, verdict: str, p_value: str, fewer: str) -> str:
    c = s.comparison
    n, yb, ya = c.n, c.yes_before, c.yes_after
    asked = f"“{s.text}”"
    if level == "too_few":
        if n == 0:
            return f"{asked}: no child answered both times, so a change cannot be measured."
        who = fewer if n_text == WITHHELD else f"only {n_text}"
        return f"{asked}: too few children answered both times to tell ({who})."
    if level == "count":
        return (f"{asked}: {n_text} children answered both times; their answers are not shown, to protect "
                "small numbers.")
    lead = (f"{asked}: of the {n_text} children asked both times, {ya:,} said yes at the end of the work "
            f"compared with {yb:,} at the start ({_pct(ya, n)} against {_pct(yb, n)})")
    if ya == yb:
        lead = (f"{asked}: of the {n_text} children asked both times, {yb:,} said yes at the start and the same "
                f"number at the end ({_pct(yb, n)})")
        clause = "there is no sign of a change"
    elif verdict == WITHHELD_VERDICT:
        return (f"{lead}. Whether a change this size could be chance is not shown, nor its interval and test "
                "result, to protect small numbers.")
    elif verdict == "Unlikely to be chance":
        clause = "this change is unlikely to be chance"
    else:
        clause = "a difference this size could well be chance"
    if level == "full":
        return f"{lead}; {clause} (paired test, {p_value})."
    return (f"{lead}; {clause}. The interval and the test result are not shown, to protect small numbers.")


def publish_survey(summaries: list[QuestionSummary], policy: Policy) -> list[PublishedQuestion]:
    """:func:`publish_question` for every question."""
    return [publish_question(s, policy) for s in summaries]


#: columns of the published data file ``survey.csv``
PUBLISHED_SURVEY_COLUMNS = (
    "question", "question_text", "children_compared", "yes_before", "yes_after", "pct_yes_before",
    "pct_yes_after", "change_points", "ci_lower_points", "ci_upper_points", "p_value", "not_compared", "verdict",
    "sentence",
)


def published_frame(questions: list[PublishedQuestion]) -> pd.DataFrame:
    """The published survey figures as the data file holds them (one row per question; markers as text)."""
    rows: list[dict[str, Any]] = []
    for q in questions:
        pts = q.points
        rows.append({
            "question": q.question, "question_text": q.text, "children_compared": q.n,
            "yes_before": q.yes_before, "yes_after": q.yes_after,
            "pct_yes_before": q.pct_before.rstrip("%"), "pct_yes_after": q.pct_after.rstrip("%"),
            "change_points": _num(pts.get("change")),
            "ci_lower_points": _num(pts.get("lower")), "ci_upper_points": _num(pts.get("upper")),
            "p_value": f"{pts['p']:.4f}" if "p" in pts else q.p_value, "not_compared": q.not_compared,
            "verdict": q.verdict, "sentence": q.sentence,
        })
    return pd.DataFrame(rows, columns=list(PUBLISHED_SURVEY_COLUMNS))


def _num(v: float | None) -> str:
    """A figure in percentage points to 1 dp as the report rounds it (halves away from zero), or ``x``."""
    from safeguarding.measures import round_half_up

    if v is None or (isinstance(v, float) and math.isnan(v)):
        return NOT_PUBLISHED
    return f"{round_half_up(v, 1):.1f}"


def published_counts(q: PublishedQuestion) -> list[int]:
    """Every count a reader can read or subtract from one published question (for checks): the figures and
    their pairwise differences."""
    vals = list(q.figures.values())
    return vals + [abs(a - b) for a, b in itertools.combinations(vals, 2)]


def survey_readme(policy: Policy) -> str:
    """What ``README.txt`` of the published data says about ``survey.csv`` under ``policy``."""
    lines = [
        "Voice of children and families (survey.csv)",
        "  One row per survey question: children asked both times (children_compared), of them those saying yes",
        "  before and after (yes_before, yes_after) and as percentages, the change in percentage points with its",
        "  95% confidence interval (Newcombe's method 10 for paired answers), the exact McNemar p-value, the children",
        "  not compared (asked once, or not answering once), the verdict in words and the report's sentence,",
    ]
    if policy.threshold is None:  # the board's: nothing withheld
        lines += ["  exactly as the report shows them. These rows are not in indicators.csv: they have no period or",
                  "  breakdown, and a paired change is not a numerator over a denominator."]
    else:
        small = f"a count {policy.threshold_text}"
        lines += ["  exactly as the report shows them. x: withheld to protect small numbers (a figure behind it, or "
                  "the",
                  f"  difference of two published figures, would be {small}); c: {small}. These rows",
                  "  are not in indicators.csv: they have no period or breakdown, and a paired change is not a "
                  "numerator",
                  "  over a denominator."]
    return "\n".join(lines) + "\n"


def write_published_survey(cfg: Config, audience: str, out_dir: str | Path) -> Path | None:
    """Write ``survey.csv`` (:func:`published_frame`) into ``out_dir`` and return its path; None without a survey.

    The figures are worked out from the processed ``survey`` table under the
    public disclosure rules (``cfg.disclosure``) or, for the board, none, as
    the report's section does.
    """
    from safeguarding.publish.writers import write_csv

    path = Path(cfg.processed_dir) / "survey.parquet"
    if "survey" not in cfg.inputs or not path.exists():
        return None
    policy = cfg.disclosure if audience == "public" else Policy.unsuppressed()
    frame = published_frame(publish_survey(summarise_survey(pd.read_parquet(path)), policy))
    return write_csv(frame, Path(out_dir) / "survey.csv")
