"""Seeded synthetic survey of children on a plan: the voice of children and families, before and after.

Modelled on the Torfaen LSCB pilot (2011): children aged 6 to 16 on a child
protection plan answer a short questionnaire when the plan starts
("registration") and again when it ends ("deregistration"). Here, every
child whose plan ended in the reporting year and who was 6 to 16 when it
started is invited; some answer only once, and some questions are left
unanswered. The file is ``survey.csv``: one row per child, question and time
point (``Child ID``, ``Question``, ``Question Text``, ``Time Point``,
``Answer``, ``Date Asked``), UK dates.

Designed-in effects (:data:`QUESTIONS`): two questions improve (more children
say yes at the end), one does not change. Each child's second answer depends
on the first (a child who said yes usually says yes again), so the answers
are paired as real ones are.

The survey has its own random stream (:data:`SURVEY_TAG` added to the seed),
so adding it left every other file of a generated council byte-identical;
its parameters are in this module, not in ``ground_truth.json``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from safeguarding.synth.faults import NA_DAY, SourceTable, format_days

SURVEY_FILE = "survey.csv"
#: added to the seed so the survey's random numbers are its own (the letters "SURV")
SURVEY_TAG = 0x53555256
#: source header of each canonical column (what report.yml ``inputs.survey.columns`` says)
SURVEY_COLUMNS: dict[str, str] = {
    "child_id": "Child ID", "question": "Question", "question_text": "Question Text", "time_point": "Time Point",
    "answer": "Answer", "response_date": "Date Asked",
}
#: ages (at the start of the plan) of the children invited, as in the Torfaen pilot
AGE_RANGE = (6, 16)
#: probability that an invited child answers at the start; at the end, given an answer at the start; at the
#: end having not answered at the start
P_ANSWER_BEFORE = 0.85
P_ANSWER_AFTER = 0.80
P_ANSWER_AFTER_ONLY = 0.25
#: probability that one question is left unanswered ("Not answered")
P_NOT_ANSWERED = 0.04


@dataclass(frozen=True)
class SurveyQuestion:
    """A question, its wording, and the share saying yes before and after; ``stay`` is P(yes after | yes before)."""

    code: str
    text: str
    yes_before: float
    yes_after: float
    stay: float

    @property
    def switch(self) -> float:
        """P(yes after | no before), so that the share saying yes after is ``yes_after``."""
        return (self.yes_after - self.yes_before * self.stay) / (1.0 - self.yes_before)


QUESTIONS: tuple[SurveyQuestion, ...] = (
    SurveyQuestion("FEEL_SAFE", "Do you feel safe at home?", 0.40, 0.70, 0.80),
    SurveyQuestion("TRUSTED_ADULT", "Is there an adult you can talk to when you are worried?", 0.55, 0.75, 0.90),
    SurveyQuestion("HAPPY_SCHOOL", "Do you feel happy at school?", 0.60, 0.60, 0.70),
)


def write_survey(out_dir: Path, plans: SourceTable, children: SourceTable, *, seed: int, la_code: str,
                 end_year: int) -> dict[str, object]:
    """Write ``survey.csv`` into ``out_dir`` for the children whose plan ended in the year ending March ``end_year``.

    ``plans`` and ``children`` are the generator's cp_plans and children
    tables (day numbers, before any fault is rendered). Returns the file's
    description: rows, children invited, and the questions' designed shares.
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(la_code) if la_code.isdigit() else 0,
                                                        SURVEY_TAG]))
    fy_start = int(np.datetime64(f"{end_year - 1}-04-01", "D").astype(np.int64))
    fy_end = int(np.datetime64(f"{end_year}-03-31", "D").astype(np.int64))
    dob_of = dict(zip(children.data["Person ID"].tolist(), np.asarray(children.data["DOB"]).tolist(), strict=True))
    start = np.asarray(plans.data["Plan Start Date"], dtype=np.int64)
    end = np.asarray(plans.data["Plan End Date"], dtype=np.int64)
    child = np.asarray(plans.data["Child ID"], dtype=object)
    ended = np.flatnonzero((end != NA_DAY) & (end >= fy_start) & (end <= fy_end))
    rows: list[tuple[str, str, str, str, str, int]] = []
    invited: set[str] = set()
    for i in ended[np.argsort(end[ended], kind="stable")]:
        cid = str(child[i])
        dob = dob_of.get(cid)
        if dob is None or cid in invited:  # one survey per child (the first plan to end)
            continue
        age = (int(start[i]) - int(dob)) / 365.25
        if not AGE_RANGE[0] <= age < AGE_RANGE[1] + 1:
            continue
        invited.add(cid)
        u_before, u_after = rng.random(2)
        asked_before = u_before < P_ANSWER_BEFORE
        asked_after = u_after < (P_ANSWER_AFTER if asked_before else P_ANSWER_AFTER_ONLY)
        day_before = int(start[i]) + int(rng.integers(3, 15))
        day_after = max(int(end[i]) - int(rng.integers(0, 10)), day_before + 1)
        for q in QUESTIONS:
            yes_before = rng.random() < q.yes_before
            yes_after = rng.random() < (q.stay if yes_before else q.switch)
            for label, asked, day, yes in (("Before", asked_before, day_before, yes_before),
                                           ("After", asked_after, day_after, yes_after)):
                if not asked:
                    continue
                answer = "Not answered" if rng.random() < P_NOT_ANSWERED else ("Yes" if yes else "No")
                rows.append((cid, q.code, q.text, label, answer, day))
    days: np.ndarray | list[str] = format_days(np.array([r[5] for r in rows], dtype=np.int64), "uk") if rows else []
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(list(SURVEY_COLUMNS.values()))
    for r, d in zip(rows, days, strict=True):
        w.writerow([r[0], r[1], r[2], r[3], r[4], d])
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / SURVEY_FILE).write_bytes(buf.getvalue().encode("utf-8"))
    return {"file": SURVEY_FILE, "rows": len(rows), "children_invited": len(invited),
            "questions": {q.code: {"text": q.text, "yes_before": q.yes_before, "yes_after": q.yes_after}
                          for q in QUESTIONS}}


def survey_input(folder: str = "data/raw/demo") -> dict[str, object]:
    """The report.yml ``inputs.survey`` entry for a generated ``survey.csv`` in ``folder``."""
    return {"file": f"{folder.rstrip('/')}/{SURVEY_FILE}", "header_row": 1, "encoding": "utf-8",
            "columns": dict(SURVEY_COLUMNS)}
