"""The publication policy: annual headline figures first, detail yields, exceptions listed with their reason.

Each test builds a small indicator table in which protecting the small
monthly counts would, without priorities, cost the year's headline figure
(as the demo's private fostering and NI 65 figures did), and checks what
:func:`~safeguarding.disclosure.publication.protect_publication` publishes
instead, with the independent attacker of ``tests/attacker.py`` reading
the published strings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from attacker import reader_cells, reader_relations, recoverable

from safeguarding.disclosure import Policy, suppress_indicator_table
from safeguarding.disclosure.publication import level_of, protect_publication, protected_rows

YEAR_END = pd.Timestamp("2025-03-31")
MONTHS = pd.date_range("2024-04-01", periods=12, freq="MS")


def _row(ind: str, ptype: str, start: pd.Timestamp, end: pd.Timestamp, value: float, bd: str = "all",
         bv: str = "all") -> dict:
    return {"indicator_id": ind, "period_type": ptype, "period_start": start, "period_end": end, "breakdown": bd,
            "breakdown_value": bv, "numerator": np.nan, "denominator": np.nan, "value": float(value)}


def _flow(ind: str, by_group: dict[str, list[int]], start_year: int = 2024) -> list[dict]:
    """Months, quarters and the year of a count, headline and by ``group``; each group's counts by month."""
    months = pd.date_range(f"{start_year}-04-01", periods=12, freq="MS")
    rows = []
    total = np.sum([np.asarray(v) for v in by_group.values()], axis=0)
    series = [("all", "all", total)] + [("group", k, np.asarray(v)) for k, v in by_group.items()]
    for bd, bv, values in series:
        for i, m in enumerate(months):
            rows.append(_row(ind, "month", m, m + pd.offsets.MonthEnd(0), values[i], bd, bv))
        for q in range(4):
            rows.append(_row(ind, "quarter", months[3 * q], months[3 * q + 2] + pd.offsets.MonthEnd(0),
                             values[3 * q:3 * q + 3].sum(), bd, bv))
        rows.append(_row(ind, "year", months[0], months[-1] + pd.offsets.MonthEnd(0), values.sum(), bd, bv))
    return rows


#: a small service: 8 new arrangements in the year, never more than one a month in any group
SMALL = {"a": [0, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0], "b": [0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0],
         "c": [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]}


def _table() -> pd.DataFrame:
    return pd.DataFrame(_flow("NEW", SMALL))


def _headline(shown: pd.DataFrame, ind: str = "NEW") -> str:
    row = shown[(shown["indicator_id"] == ind) & (shown["period_type"] == "year") & (shown["breakdown"] == "all")
                & (pd.to_datetime(shown["period_end"]) == YEAR_END)]
    return str(row["value"].iloc[0])


def _attack(ind: pd.DataFrame, shown: pd.DataFrame) -> list:
    cells = reader_cells(shown.assign(numerator=shown["value"], denominator="z"),
                         ind.assign(numerator=ind["value"], denominator=np.nan))
    return recoverable(cells, reader_relations(cells))


def test_without_priorities_the_small_months_cost_the_headline():
    """The finding: protecting each month's small counts hid the year's 8 (a count DfE publishes)."""
    shown = suppress_indicator_table(_table())
    assert _headline(shown) == "c"


def test_detail_yields_so_that_the_annual_headline_is_published():
    ind = _table()
    pub = protect_publication(ind, YEAR_END)
    assert _headline(pub.shown) == "8"
    assert pub.exceptions == []
    # what was withheld instead is detail, lowest level first, each listed
    assert pub.yielded, "something had to yield"
    assert {y["level"] for y in pub.yielded} <= {"month breakdown", "month headline", "quarter breakdown",
                                                 "quarter headline", "year breakdown"}
    assert pub.yielded[0]["level"] == "month breakdown"
    levels = level_of(ind)
    for y in pub.yielded:
        rows = ((ind["indicator_id"] == y["indicator_id"]) & (ind["breakdown"] == y["breakdown"])
                & (ind["period_type"] == y["period_type"]))
        assert (pub.shown.loc[rows, "value"] == "x").all()
        assert set(levels[rows]) == {y["level"]}
    assert (pub.shown["value"] == "x").sum() == pub.withheld.sum()
    # and nothing published gives a hidden count away (x counts as unknown to the attacker)
    assert _attack(ind, pub.shown) == []


def test_yield_order_comes_from_the_policy():
    """With months by group kept to the last, another level yields first."""
    ind = _table()
    policy = Policy(yield_order=("month headline", "quarter breakdown", "month breakdown", "quarter headline",
                                 "year breakdown"))
    pub = protect_publication(ind, YEAR_END, policy)
    assert _headline(pub.shown) == "8"
    assert pub.yielded[0]["level"] != "month breakdown"


def test_a_headline_the_annual_table_alone_exposes_is_an_exception_with_its_reason():
    """Open at the year end = open a year before + new - ended: with a small 'ended', one more must go.

    Only annual figures are published, so there is no detail to yield: one
    protected figure is hidden, listed as an exception with its reason.
    """
    rows = []
    for ind, values in (("OPEN", {2024: 20, 2025: 24}), ("NEW", {2025: 7}), ("ENDED", {2025: 3})):
        for year, v in values.items():
            rows.append(_row(ind, "year", pd.Timestamp(f"{year - 1}-04-01"), pd.Timestamp(f"{year}-03-31"), v))
    ind = pd.DataFrame(rows)
    balances = (("OPEN:value", "NEW:value", "ENDED:value"),)
    from safeguarding.disclosure import publication

    pub = protect_publication(ind, YEAR_END, Policy(), balances=balances)
    assert publication  # the module under test
    shown = dict(zip(ind["indicator_id"] + " " + ind["period_end"].dt.year.astype(str), pub.shown["value"],
                     strict=True))
    assert shown["ENDED 2025"] == "c"
    hidden = [k for k, v in shown.items() if v == "c" and k != "ENDED 2025"]
    assert len(hidden) == 1, shown
    assert len(pub.exceptions) == 1
    exc = pub.exceptions[0]
    assert f"{exc['indicator_id']} {exc['period_end'][:4]}" == hidden[0]
    assert "annual figures alone" in exc["reason"]


def test_a_withheld_headline_the_review_says_is_small_pins_nothing():
    """Found by a reader of the demo: the review says every annual headline figure of the reporting year is
    published unless it rests on a count from 1 to 5 (exceptions listed). Plans ended after 2 years or more,
    5 in the year, was withheld and not listed, so at most 5; its months were ``c`` in five months and ``0``
    in seven, so at least 5: exactly 5, one a month. The suppression now knows what the review says
    (``_System.add_many_at_most_bound``), so no hidden count is pinned, for the attacker told the same."""
    from attacker import reader_cells, reader_relations, recoverable, stated_rule

    ind = pd.DataFrame(_flow("LONG", {"a": [1, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0]}))
    ind = ind[ind["breakdown"] == "all"].reset_index(drop=True)
    pub = protect_publication(ind, YEAR_END)
    assert _headline(pub.shown, "LONG") == "c" and pub.exceptions == []
    cells = reader_cells(pub.shown.assign(numerator=pub.shown["value"], denominator="z"),
                         ind.assign(numerator=ind["value"], denominator=np.nan))
    told = stated_rule(cells, [YEAR_END], set())
    assert told["stated_small"].any()
    assert recoverable(told, reader_relations(told)) == []
    # what the finding was: the same months published as before the rule was known pin every month
    old = suppress_indicator_table(ind)
    old_cells = stated_rule(reader_cells(old.assign(numerator=old["value"], denominator="z"),
                                         ind.assign(numerator=ind["value"], denominator=np.nan)), [YEAR_END], set())
    assert recoverable(old_cells, reader_relations(old_cells)), "the fixture must reproduce the finding"


def test_a_listed_exception_the_review_says_is_6_or_more_pins_nothing():
    """The other half of the review's rule: a headline figure withheld and *listed* as an exception is 6 or
    more. Plans open at 31 March 2024 (6) was listed; with 8 open a year later, 7 started and 5 ended, a
    reader has open 2024 - ended = 1, open 2024 at least 6 and ended (withheld, not listed) at most 5: both
    exactly. The suppression now knows the exceptions' bound (``_System.add_many_at_least_bound``) and hides
    more, for the attacker told the same (``attacker.stated_rule``)."""
    from attacker import stated_rule

    rows = []
    for code, values in (("CPP_OPEN", {2024: 6, 2025: 8}), ("CPP_STARTED", {2025: 7}), ("CPP_ENDED", {2025: 5})):
        for year, v in values.items():
            rows.append(_row(code, "year", pd.Timestamp(f"{year - 1}-04-01"), pd.Timestamp(f"{year}-03-31"), v))
    ind = pd.DataFrame(rows)
    pub = protect_publication(ind, YEAR_END, Policy(),
                              balances=(("CPP_OPEN:value", "CPP_STARTED:value", "CPP_ENDED:value"),))
    assert pub.exceptions, "the fixture must force an exception"
    listed = {(e["indicator_id"], pd.Timestamp(e["period_end"])) for e in pub.exceptions}
    cells = reader_cells(pub.shown.assign(numerator=pub.shown["value"], denominator="z"),
                         ind.assign(numerator=ind["value"], denominator=np.nan))
    told = stated_rule(cells, [YEAR_END, YEAR_END - pd.DateOffset(years=1)], listed)
    assert told["lb"].max() >= 6, "the attacker is told the exceptions' bound"
    assert recoverable(told, reader_relations(told)) == []
    # every exception listed is a figure the review hides, and each is 6 or more (what the listing says)
    for e in pub.exceptions:
        row = (ind["indicator_id"] == e["indicator_id"]) & (ind["period_end"] == pd.Timestamp(e["period_end"]))
        assert (pub.shown.loc[row, "value"] == "c").all() and (ind.loc[row, "value"] >= 6).all()


def test_protected_rows_are_the_annual_headlines_of_the_years_the_policy_names():
    ind = pd.DataFrame(_flow("NEW", SMALL) + _flow("NEW", SMALL, start_year=2023) + _flow("NEW", SMALL, 2022))
    got = ind[protected_rows(ind, YEAR_END, Policy())]
    assert set(got["period_type"]) == {"year"} and set(got["breakdown"]) == {"all"}
    assert sorted(got["period_end"].dt.year) == [2024, 2025]
    got = ind[protected_rows(ind, YEAR_END, Policy(protect_years=3))]
    assert sorted(got["period_end"].dt.year) == [2023, 2024, 2025]
    assert not protected_rows(ind, YEAR_END, Policy(protect_years=0)).any()


def test_yield_order_is_checked():
    with pytest.raises(ValueError, match="year headline"):
        Policy(yield_order=("month breakdown", "year headline"))
    with pytest.raises(ValueError, match="did you mean 'month breakdown'"):
        Policy.from_mapping({"yield_order": ["month breakdwn"]})


def test_when_the_rounds_run_out_the_last_run_is_forced_and_nothing_is_left_unprotected(monkeypatch):
    """A cap on the rounds of withholding detail never leaves a small count unprotected."""
    from safeguarding.disclosure import publication

    monkeypatch.setattr(publication, "MAX_ROUNDS", 1)
    ind = _table()
    pub = protect_publication(ind, YEAR_END)
    assert pub.yielded == []
    assert pub.stats["unprotected"] == 0
    assert _attack(ind, pub.shown) == []
    if _headline(pub.shown) == "c":
        assert [e["indicator_id"] for e in pub.exceptions] == ["NEW"]


def _families_table() -> pd.DataFrame:
    """Three unrelated indicators (three families), each with small monthly counts that must yield detail."""
    other = {"a": [1, 0, 0, 1, 0, 2, 0, 0, 1, 0, 0, 1], "b": [0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 2, 0]}
    third = {"a": [0, 0, 2, 0, 1, 0, 0, 0, 0, 1, 0, 0], "b": [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1],
             "c": [0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]}
    return pd.DataFrame(_flow("NEW", SMALL) + _flow("OTHER", other) + _flow("THIRD", third))


def test_families_protected_in_worker_processes_give_the_same_publication(monkeypatch):
    """workers=2 forks a process per family of a round; the publication and every count of stats are unchanged."""
    import safeguarding.disclosure.publication as publication

    ind = _families_table()
    serial = protect_publication(ind, YEAR_END, workers=1)
    pools = []

    class Recorded(publication.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(kwargs.get("max_workers"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(publication, "ProcessPoolExecutor", Recorded)
    monkeypatch.setattr(publication, "PARALLEL_ROWS", 0)  # the table is small: spread its rounds all the same
    parallel = protect_publication(ind, YEAR_END, workers=2)
    assert pools and all(n == 1 for n in pools), "the rounds' smaller families ran in a worker process"
    assert serial.stats["rounds"] > 1 and len(pools) >= 1
    pd.testing.assert_frame_equal(serial.shown, parallel.shown)
    pd.testing.assert_series_equal(serial.withheld, parallel.withheld)
    assert (serial.yielded, serial.exceptions, serial.stats) == (parallel.yielded, parallel.exceptions,
                                                                  parallel.stats)
    for ind_id in ("NEW", "OTHER", "THIRD"):
        assert _headline(parallel.shown, ind_id) not in ("c", "x")


def test_a_child_memo_reads_its_parent_and_keeps_its_own_results_apart():
    from safeguarding.disclosure.secondary.memo import CheckMemo

    parent = CheckMemo()
    parent.get(b"old", lambda: 1)
    a, b = parent.child(), parent.child()
    assert a.get(b"old", lambda: 2) == (1, True)  # the parent's result, as the round began
    assert a.get(b"new", lambda: 3) == (3, False)
    assert b.get(b"new", lambda: 3) == (3, False), "a run does not see what another run of its round found"
    assert list(a.new_results()) == [b"new"]
    parent.merge(a.new_results(), a.hits, a.misses)
    parent.merge(b.new_results(), b.hits, b.misses)
    assert (parent.hits, parent.misses) == (1, 3)
    assert parent.get(b"new", lambda: 4) == (3, True)
