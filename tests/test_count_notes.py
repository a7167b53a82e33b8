"""A note that states a count of cases: good English for a count of 1, and no count told by its grammar.

Found reading the demo's board pack: "1 new arrangements have no initial visit recorded", "1 plans have unknown
history" (41 notes of the indicator table). The methods now write a count of 1 in the singular; the public
reads every count of cases as "some" (``published_data.safe_note``), so a note about one case must then read
exactly as a note about many: "some new arrangement has ..." would tell a reader the hidden count was 1.
"""

from __future__ import annotations

import numpy as np
import pytest

from safeguarding.disclosure.policy import Policy
from safeguarding.indicators.notes import COUNT_NOTES, CountNote, count_words, plural
from safeguarding.published_data import safe_note

DATE = "01/04/2019"
NOTES = [note.with_start(DATE) if "{start}" in note.one else note for note in COUNT_NOTES]


@pytest.mark.parametrize("note", NOTES, ids=[n.many.split(" (")[0][:40] for n in NOTES])
def test_the_public_reads_a_note_about_one_case_as_a_note_about_many(note: CountNote):
    said = {n: safe_note(f"{n} {note.words(n)}") for n in (1, 2, 5, 38)}
    assert set(said.values()) == {f"some {note.many}"}, said
    # beside another note, and after another count
    joined = safe_note(f"partial period: the data cover only part of it; 1 {note.one}")
    assert joined == f"partial period: the data cover only part of it; some {note.many}"


@pytest.mark.parametrize("note", NOTES, ids=[n.many.split(" (")[0][:40] for n in NOTES])
def test_the_board_reads_the_count_in_good_english(note: CountNote):
    board = Policy.unsuppressed()
    assert safe_note(f"1 {note.one}", board) == f"1 {note.one}"
    assert safe_note(f"21 {note.many}", board) == f"21 {note.many}"
    assert note.one != note.many and note.words(1) == note.one and note.words(0) == note.words(3) == note.many


def test_plural_changes_only_a_whole_count_of_one():
    note = NOTES[0]
    for text in (f"21 {note.one}", f"1.5 {note.one}", f"2,001 {note.one}"):
        assert plural(text) == text, text
    assert plural(f"1 {note.one}; 1 {NOTES[1].one}") == f"1 {note.many}; 1 {NOTES[1].many}"


def test_the_date_of_a_note_is_kept_and_checked():
    unknown = next(n for n in COUNT_NOTES if "{start}" in n.one)
    filled = unknown.with_start("15/05/2020")
    assert "15/05/2020" in filled.one and "15/05/2020" in filled.many and "{start}" not in filled.one
    assert safe_note(f"1 {filled.one}") == f"some {filled.many}"
    with pytest.raises(ValueError, match="day/month/year"):
        unknown.with_start("2020-05-15")


def test_count_words_chooses_per_row():
    note = NOTES[0]
    words = count_words(np.array([1.0, 2.0, 1.0]), note)
    assert words.tolist() == [note.one, note.many, note.one]
    mixed = np.empty(2, dtype=object)
    mixed[:] = ["plain words", note]
    assert count_words(np.array([1.0, 1.0]), mixed).tolist() == ["plain words", note.one]


def test_a_note_not_declared_is_refused_with_where_to_declare_it():
    """An analyst's new note about a count, not in COUNT_NOTES: the public wording would not know its words for one
    case ("some new referral is ..." would say the count was 1), so the engine refuses it and says where it goes."""
    mine = CountNote(one="new referral is late", many="new referrals are late")
    with pytest.raises(ValueError, match=r"not declared in safeguarding/indicators/notes\.py: add it to COUNT_NOTES"):
        count_words(np.array([1.0]), mine)
    declared = next(n for n in NOTES if n.declared is not None)  # filled in: known by the note it came from
    assert count_words(np.array([1.0]), declared).tolist() == [declared.one]
