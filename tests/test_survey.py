"""Voice of children and families: survey ingest, pairing, disclosure, sentences, report section, synthetic file."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguarding import escape
from safeguarding.disclosure.policy import Policy
from safeguarding.ingest import run_ingest
from safeguarding.report.sections.voice import ABSENT_WARNING, voice_of_children
from safeguarding.settings_inputs import InputSpec
from safeguarding.stats.paired import paired_comparison
from safeguarding.survey import (
    MIN_PAIRED,
    QuestionSummary,
    publish_question,
    published_counts,
    published_frame,
    summarise_survey,
)
from tests.test_ingest_run import entry, make_config, rejected, write

SMALL = range(1, 6)


def frame(rows: list[tuple[str, str, str, str]], text: str | None = "Do you feel safe?") -> pd.DataFrame:
    """Processed survey rows (child, question, time point, answer)."""
    df = pd.DataFrame(rows, columns=["child_id", "question", "time_point", "answer"])
    df["question_text"] = text
    return df


def summary(a: int, b: int, c: int, d: int, not_compared: int = 0) -> QuestionSummary:
    return QuestionSummary("FEEL_SAFE", "Do you feel safe?", paired_comparison(a, b, c, d), not_compared)


# ------------------------------------------------------------------ pairing


def test_children_are_paired_and_the_rest_counted_not_dropped():
    rows = [("k1", "Q", "before", "yes"), ("k1", "Q", "after", "yes"),       # a
            ("k2", "Q", "before", "yes"), ("k2", "Q", "after", "no"),        # b
            ("k3", "Q", "before", "no"), ("k3", "Q", "after", "yes"),        # c
            ("k4", "Q", "before", "no"), ("k4", "Q", "after", "no"),         # d
            ("k5", "Q", "before", "no"),                                     # asked once
            ("k6", "Q", "after", "yes"),                                     # asked once (after only)
            ("k7", "Q", "before", "not_answered"), ("k7", "Q", "after", "yes"),  # no answer once
            ("k1", "R", "before", "no"), ("k1", "R", "after", "yes")]
    out = summarise_survey(frame(rows))
    assert [s.question for s in out] == ["Q", "R"]
    q = out[0].comparison
    assert (q.a, q.b, q.c, q.d) == (1, 1, 1, 1)
    assert out[0].not_compared == 3
    assert (out[1].comparison.c, out[1].not_compared) == (1, 0)
    assert out[0].text == "Do you feel safe?"


def test_question_code_stands_in_for_missing_wording():
    out = summarise_survey(frame([("k1", "Q", "before", "yes")], text=None))
    assert out[0].text == "Q" and out[0].comparison.n == 0 and out[0].not_compared == 1


# ------------------------------------------------------------------ disclosure


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 40), st.integers(0, 40), st.integers(0, 40), st.integers(0, 40), st.integers(0, 60))
def test_no_published_figure_nor_difference_of_two_is_a_small_count(a, b, c, d, m):
    q = publish_question(summary(a, b, c, d, m), Policy())
    assert not [v for v in published_counts(q) if v in SMALL], q
    # every number in the sentence is a published count, or the 6 of "fewer than 6"
    words = re.sub(r"\d+\.\d+%?|p [<=] [\d.]+", "", q.sentence)
    stated = {int(x.replace(",", "")) for x in re.findall(r"(?<![\d.])\d[\d,]*(?![\d.%])", words)}
    assert stated <= set(q.figures.values()) | {6}, (q.sentence, q.figures)
    # what the table shows agrees with the figures published
    shown = {"n": q.n, "yes_before": q.yes_before, "yes_after": q.yes_after, "not_compared": q.not_compared}
    for name, text in shown.items():
        if name in q.figures:
            assert text == f"{q.figures[name]:,}"
        else:
            assert text in ("c", "x"), (name, text)
    if q.level == "full":  # the interval and p-value would let a reader work out the paired table's cells
        assert not {a, b, c, d} & set(SMALL)
    else:
        assert q.interval == "x" and q.p_value == "x" and "p =" not in q.sentence and "p <" not in q.sentence


def _published_key(q) -> tuple:
    """Everything a reader sees of one question (not its wording)."""
    return (q.level, q.n, q.yes_before, q.yes_after, q.pct_before, q.pct_after, q.change, q.interval, q.p_value,
            q.verdict, q.sentence.replace(q.text, ""))


def test_every_small_cell_keeps_its_protection_interval_against_an_attacker_who_tries_every_table():
    """An attacker who knows the rules enumerates every paired table of up to 22 children and keeps those that
    would be published exactly as a question was (levels, counts, percentages, verdict, sentence): each cell of
    the true table from 1 to 5 must be 0, or 6 or more, in one of them. Before, the margins were published with
    the verdict whenever they were not small themselves: with 12 children, 6 saying yes both times, the withheld
    interval told a reader every cell was from 1 to 5, and a verdict narrowed the children going from yes to no
    (514 cells of 237 tables up to 22 children)."""
    from collections import defaultdict

    seen: dict[tuple, list[tuple[int, int, int, int]]] = defaultdict(list)
    for n in range(0, 23):
        for a in range(n + 1):
            for b in range(n - a + 1):
                for c in range(n - a - b + 1):
                    table = (a, b, c, n - a - b - c)
                    seen[_published_key(publish_question(summary(*table), Policy()))].append(table)
    pinned = []
    for tables in seen.values():
        for table in tables:
            for i, v in enumerate(table):
                if v in SMALL and all(other[i] in SMALL for other in tables):
                    pinned.append((table, "abcd"[i]))
    assert pinned == [], pinned[:5]
    assert len(seen) > 500  # (the attacker sees many different publications, not one)


def test_levels_of_publication():
    full = publish_question(summary(15, 6, 18, 13, 27), Policy())
    assert full.level == "full" and full.interval != "x" and full.p_value.startswith("p =")
    assert "unlikely to be chance (paired test, p = 0.023)" in full.sentence
    margins = publish_question(summary(10, 1, 12, 6), Policy())  # 1 child yes -> no: the cells are not shown
    assert margins.level == "margins" and (margins.pct_before, margins.pct_after) == ("37.9%", "75.9%")
    assert margins.interval == "x" and margins.verdict == "Unlikely to be chance"
    assert "this change is unlikely to be chance. The interval and the test result are not shown" in margins.sentence
    # 2 children yes -> no: with the margins, "unlikely to be chance" would tell a reader that from 1 to 4 did
    # (McNemar's test is significant only for so few): the margins are shown, whether it could be chance is not
    hushed = publish_question(summary(31, 2, 11, 9), Policy())
    assert hushed.level == "margins" and (hushed.pct_before, hushed.pct_after) == ("62.3%", "79.2%")
    assert hushed.interval == "x" and hushed.p_value == "x" and hushed.verdict == "Withheld (small numbers)"
    assert "Whether a change this size could be chance is not shown" in hushed.sentence
    assert "unlikely" not in hushed.sentence and "well be chance" not in hushed.sentence
    # 12 children, 6 saying yes both before and after: any table with a cell withheld has every cell from 1 to 5
    # (before, the margins were published and told a reader so): only the number of children is
    pinned = publish_question(summary(1, 5, 5, 1), Policy())
    assert pinned.level == "count" and pinned.figures == {"n": 12, "not_compared": 0}
    count = publish_question(summary(26, 10, 9, 10), Policy())  # yes before 36, after 35: a difference of 1
    assert count.level == "count" and count.figures == {"n": 55, "not_compared": 0} and count.pct_before == "x"
    assert "not shown, to protect small numbers" in count.sentence


def test_too_few_children_to_tell():
    few = publish_question(summary(1, 1, 1, 1), Policy())
    assert few.level == "too_few" and few.n == "c" and few.figures == {"not_compared": 0}
    assert "too few children answered both times to tell (fewer than 6)" in few.sentence
    some = publish_question(summary(3, 1, 2, 2), Policy())  # 8 children: published, but not tested
    assert some.level == "too_few" and some.n == "8" and some.p_value == "x" and MIN_PAIRED > 8
    none = publish_question(summary(0, 0, 0, 0, 7), Policy())
    assert "no child answered both times" in none.sentence and none.not_compared == "7"


def test_board_sees_every_figure():
    q = publish_question(summary(31, 2, 11, 9, 3), Policy.unsuppressed())
    assert q.level == "full" and q.not_compared == "3" and q.p_value == "p = 0.022"


def test_sentences_never_claim_a_cause():
    for cells in ((15, 6, 18, 13), (26, 10, 9, 10), (20, 8, 8, 20), (1, 1, 1, 1)):
        for policy in (Policy(), Policy.unsuppressed()):
            text = publish_question(summary(*cells), policy).sentence.lower()
            assert not re.search(r"\b(because|caused|due to|led to|result of|thanks to|improved by)\b", text)


def test_no_change_is_said_plainly():
    q = publish_question(summary(20, 8, 8, 20), Policy())
    assert q.verdict == "No change" and "no sign of a change" in q.sentence and q.change == "0.0"


def test_published_file_rows_match_the_report():
    qs = [publish_question(summary(15, 6, 18, 13, 27), Policy()), publish_question(summary(26, 10, 9, 10), Policy())]
    df = published_frame(qs)
    assert list(df["children_compared"]) == ["52", "55"]
    assert list(df["yes_after"]) == ["33", "x"] and list(df["p_value"]) == ["0.0227", "x"]
    assert df.loc[0, "pct_yes_before"] == qs[0].pct_before.rstrip("%")
    assert list(df["sentence"]) == [q.sentence for q in qs]


# ------------------------------------------------------------------ ingest

SURVEY = """Child ID,Question,Question Text,Time Point,Answer,Date Asked
C1,FEEL_SAFE,Do you feel safe at home?,Before,Yes,02/05/2024
C1,FEEL_SAFE,Do you feel safe at home?,After,No,02/12/2024
C2,FEEL_SAFE,Do you feel safe at home?,Middle,Yes,02/07/2024
C3,FEEL_SAFE,Do you feel safe at home?,Start,,02/07/2024
C1,FEEL_SAFE,Do you feel safe at home?,Before,No,03/05/2024
C4,FEEL_SAFE,Do you feel safe at home?,End,Not answered,03/05/2024
"""


def test_survey_ingest_names_each_rejection_and_accounts_for_every_row(tmp_path):
    cfg = make_config(tmp_path, {"survey": {"file": write(tmp_path, "survey.csv", SURVEY)}})
    result = run_ingest(cfg)
    e = entry(result, "survey")
    assert (e["rows_read"], e["rows_accepted"], e["rows_rejected"]) == (6, 3, 3)
    rej = rejected(result)
    got = {(int(r.row_number), r.reason, r.column) for r in rej.itertuples()}
    assert got == {(4, "unknown_code", "Time Point"), (5, "missing_required", "Answer"),
                   (6, "duplicate_key", "Child ID")}
    bad = rej[rej["reason"] == "unknown_code"].iloc[0]
    assert bad["value"] == "Middle" and bad["source_file"] == "raw/survey.csv"
    assert "inputs.survey.codes.time_point" in bad["fix"] and "before" in bad["fix"]
    out = pd.read_parquet(result.processed_dir / "survey.parquet")
    assert list(out["time_point"]) == ["before", "after", "after"]
    assert list(out["answer"]) == ["yes", "no", "not_answered"]
    assert not set(out["child_id"]) & {"C1", "C4"}  # pseudonymised like every child identifier


def test_published_data_file_from_the_processed_table(tmp_path):
    from safeguarding.survey import write_published_survey

    cfg = make_config(tmp_path, {"survey": {"file": write(tmp_path, "survey.csv", SURVEY)}})
    run_ingest(cfg)
    path = write_published_survey(cfg, "public", tmp_path / "data")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(df["question"]) == ["FEEL_SAFE"] and list(df["children_compared"]) == ["c"]
    assert list(df["verdict"]) == ["Too few to tell"]
    cfg = make_config(tmp_path, {"referrals": {"file": write(tmp_path, "ref.csv", "Referral ID,Child ID,Date of "
                                                               "referral\nR1,C1,01/02/2024\n")}})
    assert write_published_survey(cfg, "public", tmp_path / "data2") is None


# ------------------------------------------------------------------ report section


def stand_in(survey: pd.DataFrame | None, tmp_path: Path, public: bool = True) -> SimpleNamespace:
    config = SimpleNamespace(inputs={"survey": InputSpec("survey", "survey.csv")} if survey is not None else {},
                             resolve=lambda p: tmp_path / p)
    (tmp_path / "figures").mkdir(exist_ok=True)
    return SimpleNamespace(public=public, policy=Policy(), config=config, table=lambda name: survey,
                           build_dir=tmp_path, figure_path=lambda stem: tmp_path / "figures" / f"{stem}.png")


def demo_like_frame() -> pd.DataFrame:
    rows = []
    for i, (before, after) in enumerate([("yes", "yes")] * 15 + [("yes", "no")] * 6 + [("no", "yes")] * 18
                                        + [("no", "no")] * 13):
        rows += [(f"k{i}", "FEEL_SAFE", "before", before), (f"k{i}", "FEEL_SAFE", "after", after)]
    rows += [("z1", "FEEL_SAFE", "before", "yes")]
    return frame(rows, text="Do you feel *safe* at <home>?")


def test_section_renders_sentence_table_and_escapes_the_wording(tmp_path):
    md = voice_of_children(stand_in(demo_like_frame(), tmp_path)).markdown
    assert md.startswith("## Voice of children and families")
    assert escape.markdown("unlikely to be chance (paired test, p = 0.023)") in md
    prose = "\n".join(line for line in md.splitlines() if not line.startswith("!["))  # alt text: attribute()
    assert "\\*safe\\* at \\<home\\>" in prose and "<home>" not in prose and "*safe*" not in prose
    assert "| Question |" in md and "synthetic" not in md.lower()
    assert "![" in md and (tmp_path / "figures" / "voice-survey.png").is_file()
    from safeguarding.report.context import interval_text

    # each percentage is followed by its Wilson interval from the published counts (21 and 33 of 52)
    row = next(line for line in md.splitlines() if line.startswith("| Do you feel"))
    cells = [c.strip() for c in row.strip("|").split(" | ")]
    assert [escape.unescape_markdown(c) for c in cells[2:6]] == [
        "40.4%", interval_text(21, 52), "63.5%", interval_text(33, 52)]
    assert "Dot chart of the percentage of children saying yes at the start and at the end" in md


def test_synthetic_survey_is_marked(tmp_path):
    (tmp_path / "ground_truth.json").write_text('{"generator": "safeguarding.synth"}', encoding="utf-8")
    md = voice_of_children(stand_in(demo_like_frame(), tmp_path)).markdown
    assert "These survey answers are synthetic" in md and escape.markdown("(synthetic)") in md


def test_absent_survey_leaves_no_heading_and_the_build_warns(tmp_path):
    assert voice_of_children(stand_in(None, tmp_path)).markdown == ""
    from safeguarding.build import _stage_ingest

    refs = "Referral ID,Child ID,Date of referral\nR1,C1,01/02/2024\n"
    cfg = make_config(tmp_path, {"referrals": {"file": write(tmp_path, "ref.csv", refs)}})
    record: dict = {"warnings": []}
    _stage_ingest(cfg, False, record, logging.getLogger("test"))
    assert ABSENT_WARNING in record["warnings"]
    cfg = make_config(tmp_path, {"survey": {"file": write(tmp_path, "survey.csv", SURVEY)}})
    record = {"warnings": []}
    _stage_ingest(cfg, False, record, logging.getLogger("test"))
    assert ABSENT_WARNING not in record["warnings"]


# ------------------------------------------------------------------ synthetic file


def test_synthetic_survey_is_seeded(tmp_path):
    from safeguarding.synth.generator import generate_council

    generate_council(tmp_path / "one", years=2)
    generate_council(tmp_path / "two", years=2)
    generate_council(tmp_path / "other", years=2, seed=7)
    one = (tmp_path / "one" / "survey.csv").read_bytes()
    assert one == (tmp_path / "two" / "survey.csv").read_bytes()
    assert one != (tmp_path / "other" / "survey.csv").read_bytes()
    df = pd.read_csv(tmp_path / "one" / "survey.csv", dtype=str)
    assert set(df["Question"]) == {"FEEL_SAFE", "TRUSTED_ADULT", "HAPPY_SCHOOL"}
    assert set(df["Time Point"]) == {"Before", "After"} and "Not answered" in set(df["Answer"])
    children = set(pd.read_csv(tmp_path / "one" / "children.csv", dtype=str)["Person ID"])
    assert set(df["Child ID"]) <= children  # children of the council, on a plan


def test_shipped_demo_survey_shows_each_level(project):
    df = pd.read_csv(project / "data" / "raw" / "demo" / "survey.csv", dtype=str)
    canon = pd.DataFrame({"child_id": df["Child ID"], "question": df["Question"],
                          "question_text": df["Question Text"], "time_point": df["Time Point"].str.lower(),
                          "answer": df["Answer"].str.lower().replace({"not answered": "not_answered"})})
    levels = {q.question: publish_question(q, Policy()).level for q in summarise_survey(canon)}
    assert levels == {"FEEL_SAFE": "full", "TRUSTED_ADULT": "margins", "HAPPY_SCHOOL": "count"}


def test_appendix_explains_the_survey_method_only_when_there_is_a_survey(tmp_path):
    from safeguarding.report.sections.appendix import methods

    with_survey = stand_in(demo_like_frame(), tmp_path, public=False)
    assert "**Survey answers.**" in methods(with_survey).markdown
    assert "Survey answers" not in methods(stand_in(None, tmp_path, public=False)).markdown


def test_a_withheld_number_of_children_is_described_by_the_policys_threshold():
    """Found reading the code: "fewer than 6" was written in the sentence, so with a threshold of 1 to 9 a
    withheld 8 children were said to be fewer than 6."""
    eight = publish_question(summary(3, 1, 2, 2), Policy(threshold=(1, 9)))  # 8 children, withheld under 1-9
    assert eight.level == "too_few" and eight.n == "c"
    assert "(fewer than 10)" in eight.sentence and "fewer than 6" not in eight.sentence


def test_the_data_readme_states_the_policys_threshold_and_nothing_withheld_for_the_board():
    from safeguarding.survey import survey_readme

    wider = survey_readme(Policy(threshold=(1, 9)))
    assert "would be a count from 1 to 9); c: a count from 1 to 9." in wider and "1 to 5" not in wider
    assert "withheld" not in survey_readme(Policy.unsuppressed())
