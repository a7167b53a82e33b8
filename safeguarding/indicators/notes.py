"""Notes that state a count of cases: the words for one case and for any other number.

A figure's note may state how many records it leaves out or counts with a
caveat ("11 ICPCs with no section 47 enquiry for the child are excluded").
The indicator table, which analysts and the board read, states the count
in good English for every count, 1 included ("1 ICPC with no section 47
enquiry for the child is excluded"). The public reads no count of cases
at all: :func:`safeguarding.published_data.safe_note` makes it "some", and
first puts a note about one case in the words for many (:func:`plural`),
so that the grammar does not tell a reader that the count was 1.

Every note about a count that the indicator methods write is declared
here, so that the public wording knows it; a method's plain string (no
:class:`CountNote`) is written the same for every count, and should read
well after any number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

#: a date in a note (as the methods write them: day/month/year)
_DATE = r"\d{2}/\d{2}/\d{4}"


@dataclass(frozen=True)
class CountNote:
    """The words after a count in a note: ``one`` for a count of 1, ``many`` for any other.

    Either may hold ``{start}``, a date the method fills in
    (:meth:`with_start`), the same in both; ``declared`` is then the note
    it was filled from.
    """

    one: str
    many: str
    declared: CountNote | None = field(default=None, compare=False, repr=False)

    def with_start(self, start: str) -> CountNote:
        """This note with its ``{start}`` date filled in (day/month/year, as ``01/04/2019``)."""
        if not re.fullmatch(_DATE, start):
            raise ValueError(f"a note's date is day/month/year (01/04/2019), not {start!r}")
        return CountNote(self.one.replace("{start}", start), self.many.replace("{start}", start), declared=self)

    def words(self, count: float) -> str:
        """The words after ``count``: :attr:`one` for 1, :attr:`many` otherwise."""
        return self.one if count == 1 else self.many


DUPLICATE_REFERRALS = CountNote(
    one="same-child same-day referral (possible duplicate) is included",
    many="same-child same-day referrals (possible duplicates) are included")
REFERRALS_BEFORE_HISTORY = CountNote(
    one="referral falls less than 12 months after the referral data starts, so a previous referral may be "
        "missing (counted as not a re-referral)",
    many="referrals fall less than 12 months after the referral data starts, so a previous referral may be "
         "missing (counted as not re-referrals)")
PLANS_UNKNOWN_HISTORY = CountNote(
    one="plan has unknown history (no recorded previous plan and the child was born before the plan data starts "
        "on {start}); counted as a first plan, so the figure is a lower bound",
    many="plans have unknown history (no recorded previous plans and the child was born before the plan data "
         "starts on {start}); counted as first plans, so the figure is a lower bound")
ICPC_BEFORE_ENQUIRY = CountNote(
    one="ICPC dated before its section 47 start is invalid and excluded",
    many="ICPCs dated before their section 47 start are invalid and excluded")
ICPC_WITHOUT_ENQUIRY = CountNote(
    one="ICPC with no section 47 enquiry for the child is excluded",
    many="ICPCs with no section 47 enquiry for the child are excluded")
ARRANGEMENTS_WITHOUT_VISIT = CountNote(
    one="new arrangement has no initial visit recorded (counted as not on time)",
    many="new arrangements have no initial visit recorded (counted as not on time)")

#: every note about a count the methods write (:func:`plural` knows these)
COUNT_NOTES: tuple[CountNote, ...] = (DUPLICATE_REFERRALS, REFERRALS_BEFORE_HISTORY, PLANS_UNKNOWN_HISTORY,
                                      ICPC_BEFORE_ENQUIRY, ICPC_WITHOUT_ENQUIRY, ARRANGEMENTS_WITHOUT_VISIT)


def count_words(counts: np.ndarray, words: str | CountNote | np.ndarray) -> np.ndarray:
    """The words after each count (object array): ``words`` as it is, or a :class:`CountNote`'s for each count.

    ``words`` is one string or note for every row, or an array of them (one per row). A note not declared
    in :data:`COUNT_NOTES` is refused (ValueError): the public wording (:func:`plural`) would not know its
    words for one case, and "some" before them would say the count was 1.
    """
    counts = np.asarray(counts, dtype=float)
    each = np.empty(counts.size, dtype=object)
    if isinstance(words, (str, CountNote)):
        each[:] = [words] * counts.size
    else:
        each[:] = list(words)
    for w in {id(w): w for w in each if isinstance(w, CountNote)}.values():
        if (w.declared or w) not in COUNT_NOTES:
            raise ValueError(f"a note about a count ({w.many!r}) is not declared in safeguarding/indicators/notes.py: "
                             "add it to COUNT_NOTES, so that the public reads it in the words for many")
    return np.array([w.words(c) if isinstance(w, CountNote) else w for w, c in zip(each, counts.tolist(),
                                                                                    strict=True)], dtype=object)


def _one_pattern(note: CountNote) -> re.Pattern[str]:
    """``1`` followed by ``note.one`` (its ``{start}`` any date), as a whole count (not the end of ``21``)."""
    parts = [re.escape(p) for p in note.one.split("{start}")]
    if len(parts) > 2:  # pragma: no cover - a note names its date once
        raise ValueError(f"a note names its {{start}} date at most once: {note.one!r}")
    return re.compile(r"(?<![\w.,/:-])1 " + f"(?P<start>{_DATE})".join(parts))


_ONE_PATTERNS = [(note, _one_pattern(note)) for note in COUNT_NOTES]


def plural(text: str) -> str:
    """``text`` with every note about one case (:data:`COUNT_NOTES`) in the words for many ("1 ICPC ... is
    excluded" becomes "1 ICPCs ... are excluded"), so that, once the count is taken out, the words say
    nothing of it."""
    for note, pattern in _ONE_PATTERNS:
        def many(found: re.Match[str], note: CountNote = note) -> str:
            start = found.groupdict().get("start")
            return "1 " + (note.many if start is None else note.many.replace("{start}", start))
        text = pattern.sub(many, text)
    return text
