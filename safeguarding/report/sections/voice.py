"""Voice of children and families: what children said before and after the work (the optional survey input).

The figures, the paired test and the disclosure rule are :mod:`safeguarding.survey`'s;
this module only lays them out. Without a survey input the section is left
out altogether (no heading); the build says so in its warnings
(:data:`ABSENT_WARNING`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from safeguarding.disclosure.policy import Policy
from safeguarding.markers import NOT_PUBLISHED, WITHHELD
from safeguarding.report.context import ReportContext, interval_text, policy_of
from safeguarding.report.markdown import Block, md_table
from safeguarding.survey import PublishedQuestion, publish_survey, summarise_survey

#: the build's warning when no survey is configured
ABSENT_WARNING = ("no survey input (inputs.survey in report.yml): the section 'Voice of children and families' "
                  "is left out of the report")


def survey_policy(ctx: ReportContext) -> Policy:
    """The disclosure rules the survey figures follow: the configuration's for the public, none for the board."""
    return policy_of(ctx) if ctx.public else Policy.unsuppressed()


def is_synthetic(ctx: ReportContext) -> bool:
    """True when the survey file was written by the project's synthetic generator.

    The generator leaves ``ground_truth.json`` (``"generator": "safeguarding.synth"``) beside its files.
    """
    spec = ctx.config.inputs.get("survey")
    if spec is None:
        return False
    truth = Path(ctx.config.resolve(spec.file)).parent / "ground_truth.json"
    try:
        return json.loads(truth.read_text(encoding="utf-8")).get("generator") == "safeguarding.synth"
    except (OSError, ValueError, AttributeError):
        return False


def voice_of_children(ctx: ReportContext) -> Block:
    """The section: what the survey is, a sentence per question, and the table; empty without a survey."""
    b = Block()
    frame = ctx.table("survey")
    if frame is None:
        return b
    b.heading("Voice of children and families")
    synthetic = is_synthetic(ctx)
    if synthetic:
        b.add("**These survey answers are synthetic**: made up by the project's data generator for this "
              "demonstration. No child said them.")
    b.add("Children were asked a few questions when the work with their family started and again when it "
          "ended. Each child's two answers are compared, so the figures follow the same children over time. "
          "A change can have many causes besides the work itself; the test says only whether a change this "
          "size is likely to be chance.")
    questions = publish_survey(summarise_survey(frame), survey_policy(ctx))
    if not questions:
        b.add("The survey input holds no answers this year.")
        return b
    b.bullets(q.sentence for q in questions)
    b.add(_chart(ctx, questions, synthetic))
    table = pd.DataFrame({
        "Question": [q.text for q in questions],
        "Asked both times": [q.n for q in questions],
        "Yes before": [q.pct_before for q in questions],
        "95% CI (before)": [_wilson(q, "yes_before") for q in questions],
        "Yes after": [q.pct_after for q in questions],
        "95% CI (after)": [_wilson(q, "yes_after") for q in questions],
        "Change in points (95% CI)": [q.change if q.interval == NOT_PUBLISHED else f"{q.change} ({q.interval})"
                                      for q in questions],
        "What it means": [q.verdict for q in questions],
        "Not compared": [q.not_compared for q in questions],
    })
    caption = "What children said at the start and at the end of the work" + (" (synthetic)" if synthetic else "")
    b.add(md_table(table, caption=caption, label="voice-survey", align=["l", "r", "r", "r", "r", "r", "r", "l", "r"],
                   widths=[4, 2, 2, 3, 2, 3, 3, 3, 2]))
    b.add("Yes before and Yes after: the percentage of the children asked both times who said yes, with its 95% "
          "confidence interval (Wilson score). Change: "
          "percentage points, with its 95% confidence interval (Newcombe's method for paired answers). What it "
          "means: the exact McNemar test of the children whose answer changed, at the 5% level (p < 0.05). "
          "Not compared: children asked only once, or who gave no answer one "
          f"of the times. x: not shown, to protect small numbers{_c_note(ctx)}.")
    return b


def survey_sentences(ctx: ReportContext) -> list[str]:
    """The survey's sentences that give the answers (levels ``full`` and ``margins``), as the section prints them.

    For the summary's "Is anyone better off?": each is a row of ``survey.csv``.
    Empty without a survey, or when no question has enough children or figures
    to publish a verdict.
    """
    frame = ctx.table("survey")
    if frame is None:
        return []
    questions = publish_survey(summarise_survey(frame), survey_policy(ctx))
    return [q.sentence for q in questions if q.level in ("full", "margins") and q.sentence]


def _c_note(ctx: ReportContext) -> str:
    threshold = survey_policy(ctx).threshold
    return f"; c: a count from {threshold[0]} to {threshold[1]}" if threshold else ""


def _chart(ctx: ReportContext, questions: list[PublishedQuestion], synthetic: bool) -> str:
    """The percentage saying yes at the start and at the end, for the questions whose percentages are published."""
    shown = [q for q in questions if q.pct_before not in (NOT_PUBLISHED, WITHHELD)]
    if not shown:
        return ""
    from safeguarding import charts
    from safeguarding.report.figures import _emit

    before = [float(q.pct_before.rstrip("%")) for q in shown]
    after = [float(q.pct_after.rstrip("%")) for q in shown]
    higher = sum(1 for x0, x1 in zip(before, after, strict=True) if x1 > x0)
    left_out = len(questions) - len(shown)
    # "2 of 2 questions" read as if 2 were asked: with one withheld, "the 2 questions shown" (never "2 of 3",
    # which would say which way the withheld one went)
    questions_word = f"question{'s' if len(shown) != 1 else ''}" + (" shown" if left_out else "")
    of = f"the {len(shown)}" if left_out else f"{len(shown)}"
    title = (f"More children said yes at the end than at the start for {higher} of {of} {questions_word}"
             if higher else f"No more children said yes at the end than at the start, in {of} {questions_word}")
    note = (f" {left_out} question{' is' if left_out == 1 else 's are'} not shown: withheld to protect small "
            "numbers." if left_out else "")
    caption = ("Percentage of the children asked both times who said yes, at the start and at the end of the work; "
               "the table gives whether each change is likely to be chance." + note
               + (" Synthetic survey answers." if synthetic else "") + " Source: children's survey.")
    chart = charts.before_after_chart([q.text for q in shown], before, after, title=title, caption=caption,
                                      what="the percentage of children saying yes")
    return _emit(ctx, chart, "voice-survey")


def _wilson(q: PublishedQuestion, which: str) -> str:
    """The Wilson interval of a published percentage (from the published counts), or the figure's marker."""
    if which not in q.figures or "n" not in q.figures:
        return q.pct_before if which == "yes_before" else q.pct_after
    return interval_text(q.figures[which], q.figures["n"], "percent")
