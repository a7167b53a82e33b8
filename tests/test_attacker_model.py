"""Unit tests of the independent reader-attacker (tests/attacker.py) on small hand-made tables.

Each test builds a true table and the strings a reader would see, and checks
that one family of relations (or one of the attacker's questions) catches
what it should, and no more: the same table with one more cell hidden, or
without the relation, is not caught.
"""

from __future__ import annotations

import pandas as pd
import pytest
from attacker import (
    inconsistent,
    reader_cells,
    reader_inequalities,
    reader_relations,
    reader_system,
    recoverable,
    unprotected,
)

MONTHS = ["2024-04-01", "2024-05-01", "2024-06-01", "2024-07-01"]


def _end(start: str, period_type: str) -> pd.Timestamp:
    months = {"month": 1, "quarter": 3, "year": 12}[period_type]
    return pd.Timestamp(start) + pd.DateOffset(months=months) - pd.Timedelta(days=1)


class Table:
    """A true table and its published strings, built row by row."""

    def __init__(self):
        self.truth: list[dict] = []
        self.shown: list[dict] = []

    def add(self, ind: str, start: str, num, shown=None, *, den=None, shown_den=None, pt: str = "month",
            bd: str = "all", bv: str = "all", status: str = "ok", note: str = "", shown_note: str | None = None,
            value=None, shown_value=None) -> Table:
        key = {"indicator_id": ind, "period_type": pt, "period_start": pd.Timestamp(start),
               "period_end": _end(start, pt), "breakdown": bd, "breakdown_value": bv}
        if value is None:
            value = num if den is None else (100 * num / den if den else float("nan"))
        self.truth.append({**key, "numerator": float(num), "denominator": float("nan") if den is None else float(den),
                           "value": value, "status": status, "note": note})
        as_text = lambda v: "" if v is None else str(v)  # noqa: E731
        self.shown.append({**key, "numerator": as_text(num if shown is None else shown),
                           "denominator": "z" if den is None else as_text(den if shown_den is None else shown_den),
                           "value": as_text(shown_value) if shown_value is not None else
                           ("c" if "c" in (shown, shown_den) else as_text(value)),
                           "status": status, "note": note if shown_note is None else shown_note})
        return self

    def frames(self, drop=()) -> tuple[pd.DataFrame, pd.DataFrame]:
        truth = pd.DataFrame(self.truth)
        pub = pd.DataFrame(self.shown).drop(index=list(drop)).reset_index(drop=True)
        return pub, truth


def _where(cells: pd.DataFrame, found, **at) -> list[int]:
    """Cells among ``found`` (cell numbers or tuples starting with one) at the place ``at``."""
    idx = [f[0] if isinstance(f, tuple) else f for f in found]
    sub = cells.loc[idx]
    for k, v in at.items():
        sub = sub[sub[k].eq(pd.Timestamp(v)) if k == "period_start" else sub[k].astype(str).eq(v)]
    return sub.index.tolist()


def _attack(pub: pd.DataFrame, truth: pd.DataFrame, **kw):
    cells = reader_cells(pub, truth, **kw)
    eqs, ineqs = reader_system(cells)
    return cells, eqs, ineqs


# ------------------------------------------------------------------------ 1. two breakdowns refine each other
PLAN = {"Under 3 months": [2, 3, 4, 2], "3 months to under 6 months": [7, 6, 8, 9],
        "6 months to under 1 year": [8, 9, 10, 11], "1 year to under 2 years": [12, 10, 9, 8],
        "2 years or more": [6, 7, 6, 8]}
PLAN_6M = {"Under 6 months": ["Under 3 months", "3 months to under 6 months"],
           "6 months to under 1 year": ["6 months to under 1 year"],
           "1 year to under 18 months": [7, 6, 5, 4], "18 months to under 2 years": None,
           "2 years or more": ["2 years or more"]}


def _plan_table(hide: dict[tuple[str, str], str]) -> Table:
    """CPP_OPEN by month, by plan length in DfE bands and in 6-month bands; ``hide`` maps (breakdown, value) to c."""
    t = Table()
    for m, start in enumerate(MONTHS):
        total = sum(v[m] for v in PLAN.values())
        t.add("CPP_OPEN", start, total)
        for band, vals in PLAN.items():
            t.add("CPP_OPEN", start, vals[m], hide.get(("plan_length", band)) if m == 0 else None,
                  bd="plan_length", bv=band)
        six = {"Under 6 months": PLAN["Under 3 months"][m] + PLAN["3 months to under 6 months"][m],
               "6 months to under 1 year": PLAN["6 months to under 1 year"][m],
               "1 year to under 18 months": PLAN_6M["1 year to under 18 months"][m],
               "18 months to under 2 years": PLAN["1 year to under 2 years"][m]
               - PLAN_6M["1 year to under 18 months"][m],
               "2 years or more": PLAN["2 years or more"][m]}
        for band, v in six.items():
            t.add("CPP_OPEN", start, v, hide.get(("plan_length_6m", band)) if m == 0 else None,
                  bd="plan_length_6m", bv=band)
    return t


def test_plan_length_bands_refine_each_other_and_pin_a_small_band():
    hide = {("plan_length", "Under 3 months"): "c", ("plan_length", "6 months to under 1 year"): "c"}
    cells, eqs, ineqs = _attack(*_plan_table(hide).frames())
    found = recoverable(cells, eqs, ineqs)
    pinned = _where(cells, found, breakdown="plan_length", breakdown_value="Under 3 months")
    assert len(pinned) == 1 and cells.loc[pinned[0], "true"] == 2
    # without the 6-month bands the headline alone leaves the two hidden bands free to trade
    t = _plan_table(hide)
    keep = [i for i, r in enumerate(t.truth) if r["breakdown"] != "plan_length_6m"]
    t.truth, t.shown = [t.truth[i] for i in keep], [t.shown[i] for i in keep]
    cells2, eqs2, ineqs2 = _attack(*t.frames())
    assert not recoverable(cells2, eqs2, ineqs2)


def test_one_more_hidden_band_protects_the_small_one():
    hide = {("plan_length", "Under 3 months"): "c", ("plan_length", "6 months to under 1 year"): "c",
            ("plan_length_6m", "Under 6 months"): "c", ("plan_length_6m", "6 months to under 1 year"): "c"}
    cells, eqs, ineqs = _attack(*_plan_table(hide).frames())
    assert not recoverable(cells, eqs, ineqs)


def test_refinement_is_found_from_the_truth_not_from_labels():
    """The groups are found from the figures: bands relabelled A-E still refine each other."""
    t = _plan_table({("plan_length", "Under 3 months"): "c", ("plan_length", "6 months to under 1 year"): "c"})
    names = {v: f"band {i}" for i, v in enumerate([*PLAN, *PLAN_6M])}
    for rows in (t.truth, t.shown):
        for r in rows:
            r["breakdown_value"] = names.get(r["breakdown_value"], r["breakdown_value"])
    cells, eqs, ineqs = _attack(*t.frames())
    assert _where(cells, recoverable(cells, eqs, ineqs), breakdown="plan_length", breakdown_value="band 0")


# --------------------------------------------- 2. a band indicator is a breakdown value; headline a = b + c
def _bands_table(*, hide_open: bool = False) -> Table:
    t = Table()
    for m, start in enumerate(MONTHS):
        under, older = [7, 8, 6, 9][m], [3, 12, 14, 15][m]
        total = under + older
        t.add("CPP_OPEN", start, total, "c" if hide_open and m == 0 else None)
        t.add("CPP_OPEN_UNDER_3M", start, under, den=total, shown_den="c" if hide_open and m == 0 else None)
        t.add("CPP_REVIEWS_ON_TIME", start, older - 1, "c" if m == 0 else None, den=older,
              shown_den="c" if m == 0 else None)
    return t


def test_a_band_indicator_shown_where_its_breakdown_value_is_hidden_is_inconsistent():
    t = Table()
    for m, start in enumerate(MONTHS):
        t.add("CPP_OPEN", start, [7, 8, 9, 6][m], "c" if m == 1 else None, bd="plan_length", bv="Under 3 months")
        t.add("CPP_OPEN_UNDER_3M", start, [7, 8, 9, 6][m])
    cells = reader_cells(*t.frames())
    pairs = inconsistent(cells, reader_relations(cells))
    assert len(pairs) == 1
    shown, hidden = pairs[0]
    assert cells.loc[shown, "indicator_id"] == "CPP_OPEN_UNDER_3M" and cells.loc[hidden, "shown"] == "c"


def test_headline_sum_pins_the_reviews_denominator():
    cells, eqs, ineqs = _attack(*_bands_table().frames())
    found = recoverable(cells, eqs, ineqs)
    assert _where(cells, found, indicator_id="CPP_REVIEWS_ON_TIME", measure="denominator")
    # with the total hidden too, the reviews' denominator is free
    cells, eqs, ineqs = _attack(*_bands_table(hide_open=True).frames())
    assert not _where(cells, recoverable(cells, eqs, ineqs), indicator_id="CPP_REVIEWS_ON_TIME",
                      measure="denominator")


# ------------------------------------------------------------------------------------ 3. nested thresholds
def _lado_table(shown_3m_sector: str | None = "c", shown_12m_sector: str | None = None) -> Table:
    t = Table()
    ttc = {"Within 1 month": [5, 8, 6, 7], "1 to 3 months": [3, 2, 4, 3], "3 to 12 months": [1, 2, 1, 1],
           "Over 12 months": [1, 0, 1, 1]}
    sector = {"1M": [7, 6, 6, 7], "3M": [7, 8, 9, 9], "12M": [7, 10, 10, 9], "all": [9, 11, 12, 11]}
    for m, start in enumerate(MONTHS):
        concluded = sum(v[m] for v in ttc.values())
        w1, w3 = ttc["Within 1 month"][m], ttc["Within 1 month"][m] + ttc["1 to 3 months"][m]
        w12 = concluded - ttc["Over 12 months"][m]
        t.add("LADO_CONCLUDED", start, concluded)
        for band, v in ttc.items():
            t.add("LADO_CONCLUDED", start, v[m], bd="time_to_conclusion", bv=band)
        for code, num in (("LADO_CONCLUDED_1M", w1), ("LADO_CONCLUDED_3M", w3), ("LADO_CONCLUDED_12M", w12)):
            t.add(code, start, num, den=concluded)
        # the sector "Education" (all of this demo's allegations are from two sectors)
        s_den = sector["all"][m]
        for code, key, shown in (("LADO_CONCLUDED_1M", "1M", None), ("LADO_CONCLUDED_3M", "3M", shown_3m_sector),
                                 ("LADO_CONCLUDED_12M", "12M", shown_12m_sector)):
            t.add(code, start, sector[key][m], shown if m == 0 else None, den=s_den, bd="sector", bv="Education")
    return t


def test_nested_thresholds_pin_a_figure_between_two_equal_neighbours():
    cells, eqs, ineqs = _attack(*_lado_table().frames())
    assert any(len(i) == 2 for i, _ in ineqs)
    pinned = _where(cells, recoverable(cells, eqs, ineqs), indicator_id="LADO_CONCLUDED_3M", breakdown="sector")
    assert pinned and cells.loc[pinned[0], "true"] == 7
    # within 3 months is a sum of time-to-conclusion bands at the headline
    rel = {tuple(sorted(cells.loc[i, "breakdown_value"] for i in idx)) for idx, _ in eqs
           if "LADO_CONCLUDED_3M" in set(cells.loc[idx, "indicator_id"])}
    assert ("1 to 3 months", "Within 1 month", "all") in rel
    # without the inequalities (equalities only) it is not pinned; nor with the 12-month figure hidden too
    assert not recoverable(cells, eqs)
    cells, eqs, ineqs = _attack(*_lado_table(shown_12m_sector="c").frames())
    assert not _where(cells, recoverable(cells, eqs, ineqs), indicator_id="LADO_CONCLUDED_3M", breakdown="sector")


def test_disjoint_bands_are_not_taken_for_nested_thresholds():
    """Plans 2 years or more are fewer than plans 1 to 2 years in every month, but that is a fact of the data."""
    t = Table()
    for m, start in enumerate(MONTHS):
        a, b, rest = [1, 2, 1, 2][m], [6, 7, 8, 9][m], [20, 21, 22, 23][m]
        t.add("CPP_OPEN_2YRS", start, a, den=a + b + rest)
        t.add("CPP_OPEN_1_2Y", start, b, den=a + b + rest)
    cells = reader_cells(*t.frames())
    assert not [i for i, _ in reader_inequalities(cells) if len(set(cells.loc[i, "indicator_id"])) == 2]


# ------------------------------------------------------------------------ 4. status ok: a denominator >= 1
def _visit_table(status_male: str = "ok") -> Table:
    t = Table()
    for m, start in enumerate(MONTHS):
        male, female = [1, 2, 0, 3][m], [5, 6, 7, 6][m]
        t.add("PF_VISIT_7WD", start, male + female, den=male + female)
        t.add("PF_VISIT_7WD", start, female, "c" if m == 0 else None, den=female, shown_den="c" if m == 0 else None,
              bd="gender", bv="Female")
        st = "ok" if male else "no data"
        t.add("PF_VISIT_7WD", start, male, "x" if m == 0 else None, den=male, shown_den="x" if m == 0 else None,
              bd="gender", bv="Male", status=status_male if m == 0 else st)
    return t


def test_status_ok_means_a_denominator_of_at_least_one():
    cells, eqs, ineqs = _attack(*_visit_table().frames())
    male_den = _where(cells, cells.index, breakdown_value="Male", measure="denominator",
                      period_start=MONTHS[0])
    assert cells.loc[male_den[0], "lb"] == 1
    assert male_den[0] in [c for c, _, _ in unprotected(cells, eqs, ineqs)]
    # a status the reader cannot read (blank) leaves it free to be 0
    cells, eqs, ineqs = _attack(*_visit_table(status_male="").frames())
    assert male_den[0] not in [c for c, _, _ in unprotected(cells, eqs, ineqs)]


# ---------------------------------------------------------------------- 5. counts stated in notes
def _icpc_table(first_note: str, first_excluded: int = 11) -> Table:
    t = Table()
    for m, start in enumerate(MONTHS):
        excluded = [first_excluded, 7, 8, 9][m]
        timed = [4, 20, 22, 25][m]
        note = f"{excluded} ICPCs with no section 47 enquiry for the child are excluded"
        t.add("ICPC_HELD", start, timed + excluded)
        t.add("ICPC_15WD", start, timed - 1, "c" if m == 0 else None, den=timed, shown_den="c" if m == 0 else None,
              note=note, shown_note=first_note if m == 0 else None)
    return t


def test_a_note_counting_exclusions_pins_a_hidden_denominator():
    note = "11 ICPCs with no section 47 enquiry for the child are excluded"
    cells, eqs, ineqs = _attack(*_icpc_table(note).frames())
    noted = cells[cells["measure"].str.startswith("note: ")]
    assert len(noted) == 4 and noted["shown"].tolist()[0] == "11"
    assert _where(cells, recoverable(cells, eqs, ineqs), indicator_id="ICPC_15WD", measure="denominator")
    # "fewer than 6" leaves a range of 5; and without reading notes nothing ties the two indicators
    vague = _icpc_table("fewer than 6 ICPCs with no section 47 enquiry for the child are excluded", 3)
    cells, eqs, ineqs = _attack(*vague.frames())
    assert not _where(cells, recoverable(cells, eqs, ineqs), indicator_id="ICPC_15WD", measure="denominator")
    cells, eqs, ineqs = _attack(*_icpc_table(note).frames(), notes=False)
    assert not recoverable(cells, eqs, ineqs)


def test_notes_that_never_state_the_count_say_nothing_about_it():
    """A publication whose notes state no counts: an absent note is no 0, the excluded count is an unknown."""
    t = _icpc_table("", 0)  # none excluded in the first month: a reader cannot tell that from the notes
    for r in t.shown:
        r["note"] = ""
    cells, eqs, ineqs = _attack(*t.frames())
    noted = cells[cells["measure"].str.startswith("note: ")]
    assert noted["shown"].eq("x").all()
    assert not _where(cells, recoverable(cells, eqs, ineqs), indicator_id="ICPC_15WD", measure="denominator")


def test_a_note_counting_cases_not_in_the_numerator_bounds_it():
    t = Table()
    for m, start in enumerate(MONTHS):
        num, unknown, den = [3, 5, 4, 6][m], [6, 7, 6, 8][m], [9, 20, 18, 25][m]
        t.add("REREFERRALS_12M", start, num, "c" if m == 0 else None, den=den,
              note=f"{unknown} referrals fall less than 12 months after the referral data starts, so a previous "
                   "referral may be missing (counted as not re-referrals)")
    cells, eqs, ineqs = _attack(*t.frames())
    num = _where(cells, cells.index, measure="numerator", period_start=MONTHS[0])
    assert [(c, lo, hi) for c, lo, hi in unprotected(cells, eqs, ineqs) if c == num[0]] == [(num[0], 1.0, 3.0)]
    cells, eqs, ineqs = _attack(*t.frames(), notes=False)
    assert not unprotected(cells, eqs, ineqs)  # only num <= den = 9: it could be 6


# ------------------------------------------------------------------------------- 6. stock and flow
def test_stock_and_flow_by_breakdown_at_year_level_with_the_previous_stock_published_by_month():
    t = Table()
    t.add("CPP_OPEN", "2024-03-01", 20, bd="gender", bv="Male")  # the previous stock: a month only
    t.add("CPP_STARTED", "2024-04-01", 30, pt="year", bd="gender", bv="Male")
    t.add("CPP_ENDED", "2024-04-01", 47, pt="year", bd="gender", bv="Male")
    t.add("CPP_OPEN", "2024-04-01", 3, "c", pt="year", bd="gender", bv="Male")
    cells, eqs, ineqs = _attack(*t.frames())
    found = recoverable(cells, eqs, ineqs)
    assert [cells.loc[c, "indicator_id"] for c, _, _ in found] == ["CPP_OPEN"]
    t.shown[0]["numerator"] = t.shown[0]["value"] = "c"
    cells, eqs, ineqs = _attack(*t.frames())
    assert not recoverable(cells, eqs, ineqs)


# -------------------------------------------- 7. the full truth against a published table with fewer rows
def test_rows_left_out_of_the_published_table_are_unknowns_with_their_relations_kept():
    t = Table()
    for m, start in enumerate(MONTHS[:3]):
        t.add("S47_STARTED", start, [10, 3, 12][m], "c" if m == 1 else None)
    t.add("S47_STARTED", MONTHS[0], 25, pt="quarter")
    t.add("S47_STARTED", MONTHS[0], 12, pt="quarter", bd="team", bv="East")  # left out below
    pub, truth = t.frames(drop=[3, 4])
    cells = reader_cells(pub, truth)
    assert len(cells) == 5 and cells.loc[3:4, "shown"].tolist() == ["x", "x"]
    # the quarter, left out, ties nothing down; published, it pins the month
    assert not recoverable(cells, reader_relations(cells))
    pub, truth = t.frames(drop=[4])
    cells = reader_cells(pub, truth)
    assert [cells.loc[c, "true"] for c, _, _ in recoverable(cells, reader_relations(cells))] == [3]
    # the old form, row for row, and the same rows in another order give the same cells
    pub, truth = t.frames()
    cols = ["row", "measure", "shown", "true"]
    assert reader_cells(pub.sample(frac=1, random_state=0), truth)[cols].equals(reader_cells(pub, truth)[cols])


def test_a_small_withheld_figure_pinned_through_a_left_out_row_is_recoverable():
    t = Table()
    for m, start in enumerate(MONTHS[:3]):
        t.add("S47_STARTED", start, [10, 3, 12][m], "x" if m == 1 else None)
    t.add("S47_STARTED", MONTHS[0], 25, pt="quarter")
    t.add("S47_STARTED", MONTHS[0], 25, pt="quarter", bd="team", bv="East")
    t.add("S47_STARTED", MONTHS[0], 0, pt="quarter", bd="team", bv="West")
    pub, truth = t.frames(drop=[3])  # the quarter's total is left out, its teams are published
    cells = reader_cells(pub, truth)
    assert [cells.loc[c, "true"] for c, _, _ in recoverable(cells, reader_relations(cells))] == [3]


# ----------------------------------------------------------------------------------- 8. unprotected
def _pair_table(*, hide_total: bool) -> Table:
    t = Table()
    t.add("S47_STARTED", MONTHS[0], 4, "c" if hide_total else "4")
    t.add("S47_STARTED", MONTHS[0], 1, "c", bd="gender", bv="Male")
    t.add("S47_STARTED", MONTHS[0], 3, "c", bd="gender", bv="Female")
    if hide_total:  # a large partner in the quarter, hidden too
        t.add("S47_STARTED", MONTHS[1], 30, "c")
        t.add("S47_STARTED", MONTHS[2], 0)
        t.add("S47_STARTED", MONTHS[0], 34, pt="quarter")
    return t


def test_two_small_cells_summing_to_a_published_small_total_are_unprotected():
    cells, eqs, ineqs = _attack(*_pair_table(hide_total=False).frames())
    found = unprotected(cells, eqs, ineqs)
    assert sorted((cells.loc[c, "breakdown_value"], lo, hi) for c, lo, hi in found) == [
        ("Female", 1.0, 3.0), ("Male", 1.0, 3.0)]
    assert not recoverable(cells, eqs, ineqs)  # neither is pinned: only "small" is disclosed


def test_with_their_total_hidden_and_a_large_partner_they_are_protected():
    cells, eqs, ineqs = _attack(*_pair_table(hide_total=True).frames())
    assert not unprotected(cells, eqs, ineqs)


def test_a_withheld_small_figure_that_could_be_zero_is_protected():
    """The same pair withheld as x (at least 0, not at least 1): each could be 0."""
    t = _pair_table(hide_total=False)
    for r in t.shown[1:]:
        r["numerator"] = r["value"] = "x"
    cells, eqs, ineqs = _attack(*t.frames())
    assert not unprotected(cells, eqs, ineqs)


# ----------------------------------------------------------------------------------- 9. ratios
def test_a_published_percentage_bounds_a_hidden_denominator():
    t = Table()
    t.add("ICPC_15WD", MONTHS[0], 7, den=14, shown_den="c", shown_value="50.0")
    cells, eqs, ineqs = _attack(*t.frames())
    found = recoverable(cells, eqs, ineqs)
    assert [cells.loc[c, "measure"] for c, _, _ in found] == ["denominator"]


@pytest.mark.parametrize("nonzero_months", [2, 3])
def test_two_sparse_series_equal_by_chance_are_not_the_same_count(nonzero_months):
    t = Table()
    a = [1, 0, 0, 0, 0, 0]
    a[1:nonzero_months] = [2] * (nonzero_months - 1)
    starts = [*MONTHS, "2024-08-01", "2024-09-01"]
    for m, start in enumerate(starts):
        t.add("PF_NEW", start, a[m], bd="ethnicity", bv="Other")
        t.add("ICPC_HELD", start, a[m], bd="age_band", bv="16+")
    cells = reader_cells(*t.frames())
    tied = [i for i, _ in reader_relations(cells) if len(set(cells.loc[i, "indicator_id"])) == 2]
    assert bool(tied) == (nonzero_months >= 3)
