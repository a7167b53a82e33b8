"""The relation model declared in the catalogue (``relations:``) and what the suppression does with it.

Issue 14's findings, one test each: the two plan-length breakdowns refine
each other; plans open are those under 3 months old and the reviews'
denominator (plans at least 3 months old); allegations
concluded within 1, 3 and 12 months are sums of the time-to-conclusion
bands. Each toy table is attacked by the independent attacker
(``tests/attacker.py``, which shares no code with the suppression) with and
without the declaration, so each test shows the declaration is what closes
the leak.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from attacker import reader_cells, reader_system, recoverable, unprotected

from safeguarding.disclosure import relations as rel
from safeguarding.disclosure import suppress_indicator_table
from safeguarding.disclosure.model import RelationModel, default_model, parse_figure
from safeguarding.disclosure.secondary.system import _System
from safeguarding.indicators.bands import CONCLUSION_BANDS, PLAN_LENGTH_6M, PLAN_LENGTH_D5
from safeguarding.indicators.catalogue import load_catalogue

YEARS = [2023, 2024, 2025]


def _figures(model: RelationModel) -> list[str]:
    out = [f for b in model.balances for f in b]
    out += [t for t, _ in model.sums] + [p for _, parts in model.sums for p in parts]
    out += [f for o in model.orders for f in o]
    out += [t for _, t, _ in model.unpublished] + [p for _, _, parts in model.unpublished for p in parts]
    return out


def test_every_declared_figure_is_a_catalogue_indicator_measure_and_breakdown_value():
    cat = load_catalogue()
    model = default_model()
    assert model.sums and model.bands and model.orders and model.balances and model.numerator_at_most_denominator
    bands = {"plan_length": PLAN_LENGTH_D5, "plan_length_6m": PLAN_LENGTH_6M, "time_to_conclusion": CONCLUSION_BANDS}
    for figure in _figures(model):
        code, measure, selector = parse_figure(figure)
        assert code in cat, figure
        ind = cat[code]
        assert measure == "value" if ind.unit == "count" else measure in ("numerator", "denominator"), figure
        if selector:
            assert selector[0] in ind.breakdowns, figure
            assert selector[1] in bands[selector[0]], figure
    for b in model.bands:
        for (left, right) in b.equal:
            assert set(left) <= set(bands[b.breakdowns[0]]) and set(right) <= set(bands[b.breakdowns[1]])
        # the unions cover each band system exactly once
        assert sorted(v for left, _ in b.equal for v in left) == sorted(bands[b.breakdowns[0]])
        assert sorted(v for _, right in b.equal for v in right) == sorted(bands[b.breakdowns[1]])


@pytest.mark.parametrize("doc, says", [
    ({"sums": [{"total": "A", "parts": "B"}]}, "sums[0]"),
    ({"orders": [["A:value"]]}, "orders[0]"),
    ({"balances": [["A", "B"]]}, "balances[0]"),
    ({"sums": [{"total": "A:count", "parts": ["B"]}]}, "measure must be one of"),
    ({"bands": [{"breakdowns": ["a"], "equal": []}]}, "bands[0]"),
    ({"numerator_at_most_denominator": "yes"}, "true or false"),
    ({"sum": []}, "unknown key"),
    ({"sums": [{"total": "A", "parts": ["B[x]"]}]}, "breakdown=value"),
    ({"unpublished": [{"total": "A", "parts": ["B"]}]}, "unpublished[0]"),
    ({"unpublished": [{"name": "x", "total": "A", "parts": []}]}, "unpublished[0]"),
])
def test_a_malformed_declaration_is_named(doc, says):
    with pytest.raises(ValueError, match=r"relations") as err:
        RelationModel.from_mapping(doc, "relations")
    assert says in str(err.value)


def _row(ind: str, year: int, value: float, bd: str = "all", bv: str = "all", num: float = np.nan,
         den: float = np.nan) -> dict:
    return {"indicator_id": ind, "period_type": "year", "period_start": pd.Timestamp(f"{year - 1}-04-01"),
            "period_end": pd.Timestamp(f"{year}-03-31"), "breakdown": bd, "breakdown_value": bv,
            "numerator": num, "denominator": den, "value": float(value)}


def _attack(truth: pd.DataFrame, shown: pd.DataFrame) -> tuple[list, list]:
    """What the attacker pins (recoverable) and narrows to 1-5 (unprotected); a count's value is its numerator."""
    count = truth["denominator"].isna().to_numpy()
    shown = shown.assign(numerator=shown["numerator"].where(~count, shown["value"]),
                         denominator=shown["denominator"].where(~count, "z"))
    truth = truth.assign(numerator=truth["numerator"].where(~count, truth["value"]))
    cells = reader_cells(shown, truth)
    eqs, ineqs = reader_system(cells)
    return recoverable(cells, eqs, ineqs), unprotected(cells, eqs, ineqs)


def _without(monkeypatch, **changes) -> None:
    """Run the suppression with the catalogue's model less some declarations."""
    stripped = dataclasses.replace(default_model(), **changes)
    monkeypatch.setattr(rel, "default_model", lambda: stripped)


def _declaration_closes_the_leak(monkeypatch, truth: pd.DataFrame, **without) -> None:
    """The attacker finds nothing in the suppressed toy, and finds a leak once the declarations are taken out."""
    found, narrow = _attack(truth, suppress_indicator_table(truth))
    assert not found and not narrow
    _without(monkeypatch, **without)
    found, _ = _attack(truth, suppress_indicator_table(truth))
    assert found, "the toy must leak without the declaration, or it tests nothing"


def _plan_lengths() -> pd.DataFrame:
    """Plans open by both length breakdowns; one small band (3 to 6 months) in each year but the first.

    The attacker verifies a refinement on years published in full, as a reader would.
    """
    rows = []
    for k, year in enumerate([YEARS[0] - 1, *YEARS]):
        small = 9 if k == 0 else 3
        d5 = dict(zip(PLAN_LENGTH_D5, [20 + k, small, 8 + k, 30 + 2 * k, 40 + k], strict=True))
        six = dict(zip(PLAN_LENGTH_6M, [d5["Under 3 months"] + small, d5["6 months to under 1 year"], 14 + k,
                                        d5["1 year to under 2 years"] - 14 - k, d5["2 years or more"]], strict=True))
        rows.append(_row("CPP_OPEN", year, sum(d5.values())))
        rows += [_row("CPP_OPEN", year, v, "plan_length", b) for b, v in d5.items()]
        rows += [_row("CPP_OPEN", year, v, "plan_length_6m", b) for b, v in six.items()]
    return pd.DataFrame(rows)


def test_the_two_plan_length_breakdowns_refine_each_other(monkeypatch):
    """Finding: 'under 6 months' less 'under 3 months' gives '3 to 6 months' away unless the suppression knows."""
    _declaration_closes_the_leak(monkeypatch, _plan_lengths(), bands=())


def _plans_open_by_age_of_plan() -> pd.DataFrame:
    """Plans open, those under 3 months old (a small count) and the reviews' denominator (the rest)."""
    rows = []
    for k, year in enumerate(YEARS):
        total, young = 110 + 5 * k, 3 + k % 2
        on_time = total - young - 4
        rows.append(_row("CPP_OPEN", year, total))
        rows.append(_row("CPP_OPEN_UNDER_3M", year, 100 * young / total, num=young, den=total))
        rows.append(_row("CPP_REVIEWS_ON_TIME", year, 100 * on_time / (total - young), num=on_time,
                         den=total - young))
    return pd.DataFrame(rows)


def test_plans_open_are_those_under_3_months_and_the_reviews_denominator(monkeypatch):
    """Finding: CPP_OPEN = CPP_OPEN_UNDER_3M numerator + CPP_REVIEWS_ON_TIME denominator gives a small band away."""
    _declaration_closes_the_leak(monkeypatch, _plans_open_by_age_of_plan(), sums=())


def _allegations_concluded() -> pd.DataFrame:
    """Allegations concluded by time taken, and the three timeliness indicators; a small 1-to-3-months band."""
    rows = []
    for k, year in enumerate(YEARS):
        by_time = dict(zip(CONCLUSION_BANDS, [20 + k, 3, 12 + k, 0], strict=True))
        total = sum(by_time.values())
        rows.append(_row("LADO_CONCLUDED", year, total))
        rows += [_row("LADO_CONCLUDED", year, v, "time_to_conclusion", b) for b, v in by_time.items()]
        within = np.cumsum(list(by_time.values()))
        for code, n in zip(("LADO_CONCLUDED_1M", "LADO_CONCLUDED_3M", "LADO_CONCLUDED_12M"), within, strict=False):
            rows.append(_row(code, year, 100 * n / total, num=n, den=total))
    return pd.DataFrame(rows)


def test_allegations_concluded_within_1_3_and_12_months_are_sums_of_the_time_bands(monkeypatch):
    _declaration_closes_the_leak(monkeypatch, _allegations_concluded(), sums=(), orders=())


def test_an_inequality_becomes_a_slack_cell_only_where_it_holds_and_could_bind():
    long = pd.DataFrame({"cell": [0, 1, 2, 3, 4, 5], "row": [0, 0, 1, 1, 2, 2],
                         "measure": ["numerator", "denominator"] * 3})
    system = _System([3.0, 7.0, 4.0, 90.0, 9.0, 5.0])  # gaps 4 (kept), 86 (too wide), -4 (does not hold)
    rel.add_ratio_orders(system, long, margin=12.0)
    assert len(system.constraints) == 1 and system.slack.tolist() == [False] * 6 + [True]
    idx, coefs, _ = system.constraints[0]
    assert idx.tolist() == [1, 0, 6] and coefs.tolist() == [1.0, -1.0, -1.0]
    assert system.values[6] == 4.0
    rel.add_ratio_orders(system, long)  # no margin: every pair that holds
    assert len(system.constraints) == 3


def _monthly_bands() -> pd.DataFrame:
    """Plans open by month, by length of plan, and the five length-band numerators (the same counts).

    The 2-years-or-more band is small.
    """
    rows = []
    for k, m in enumerate(pd.date_range("2024-04-01", periods=6, freq="MS")):
        bands = {"CPP_OPEN_UNDER_3M": 30 + k, "CPP_OPEN_3_6M": 20 + k % 3, "CPP_OPEN_6M_1Y": 28 + k,
                 "CPP_OPEN_1_2Y": 17 + k % 2, "CPP_OPEN_2YRS": 1 + k % 4}
        total = sum(bands.values())
        end = m + pd.offsets.MonthEnd(0)
        base = {"period_type": "month", "period_start": m, "period_end": end, "breakdown": "all",
                "breakdown_value": "all"}
        rows.append({**base, "indicator_id": "CPP_OPEN", "numerator": np.nan, "denominator": np.nan,
                     "value": float(total)})
        rows += [{**base, "indicator_id": c, "numerator": float(n), "denominator": float(total),
                  "value": 100 * n / total} for c, n in bands.items()]
        rows += [{**base, "indicator_id": "CPP_OPEN", "breakdown": "plan_length", "breakdown_value": b,
                  "numerator": np.nan, "denominator": np.nan, "value": float(n)}
                 for b, n in zip(PLAN_LENGTH_D5, bands.values(), strict=True)]
    return pd.DataFrame(rows)


def test_a_withheld_band_takes_another_band_with_it():
    """Withheld alone, plans open 2 years or more is the total less the other four bands (all published)."""
    from safeguarding.disclosure.closure import closure
    from safeguarding.disclosure.policy import Policy

    rows = _monthly_bands()
    # the band and plans open by length of plan withheld, as the demo's yield left them
    withheld = rows["indicator_id"].eq("CPP_OPEN_2YRS") | rows["breakdown"].eq("plan_length")
    more = closure(rows, withheld, Policy())
    taken = set(rows.loc[more, "indicator_id"])
    assert len(taken) == 1 and taken <= {"CPP_OPEN_UNDER_3M", "CPP_OPEN_3_6M", "CPP_OPEN_6M_1Y", "CPP_OPEN_1_2Y"}
    assert "CPP_OPEN" not in taken, "a part goes before the total"
    assert taken == {"CPP_OPEN_1_2Y"}, "the smallest part, which gives the small band most room for least lost"
    # the attacker agrees: with both withheld nothing can be worked out, and without the company it could
    found, narrow = _attack(rows, _published(rows, withheld | more))
    assert not found and not narrow
    found, _ = _attack(rows, _published(rows, withheld))
    assert found


def _published(truth: pd.DataFrame, gone: pd.Series) -> pd.DataFrame:
    """The toy as published: ``x`` on the rows in ``gone``, figures as strings elsewhere (percentages to 1 dp)."""
    shown = truth.astype({"numerator": object, "denominator": object, "value": object})
    percent = truth["denominator"].notna().to_numpy()
    for c in ("numerator", "denominator", "value"):
        shown[c] = ["x" if g else (f"{v:.1f}" if c == "value" and p else f"{v:g}")
                    for g, v, p in zip(gone.to_numpy(), truth[c], percent, strict=True)]
    return shown


def _icpcs_excluded() -> pd.DataFrame:
    """ICPCs held and those timed; the difference (no section 47 enquiry) is small in the last year only.

    The note says how many were excluded; published, it says "some" (the count is a cell of its own).
    """
    rows = []
    for k, year in enumerate(YEARS):
        held, excluded = 60 + 7 * k, (3 if year == YEARS[-1] else 0)
        timed = 40 + 5 * k
        note = f"{excluded} ICPCs with no section 47 enquiry for the child are excluded" if excluded else ""
        rows.append({**_row("ICPC_HELD", year, held), "note": ""})
        rows.append({**_row("ICPC_15WD", year, 100 * timed / (held - excluded), num=timed, den=held - excluded),
                     "note": note})
    return pd.DataFrame(rows)


def test_a_count_never_published_but_the_difference_of_published_ones_is_protected(monkeypatch):
    """Finding (complements): ICPCs held less ICPCs timed is the number with no section 47 enquiry, 1 to 5.

    The note states it as "some"; the attacker ties it to the published figures (held = timed + excluded)
    and pins it unless the suppression protects it as a count of its own (``unpublished:``).
    """
    from safeguarding.published_data import safe_note

    truth = _icpcs_excluded()

    def attack() -> tuple[list, list]:
        shown = suppress_indicator_table(truth)
        shown["note"] = truth["note"].map(safe_note)
        return _attack(truth, shown)

    found, narrow = attack()
    assert not found and not narrow
    _without(monkeypatch, unpublished=())
    found, _ = attack()
    assert found, "the toy must leak without the declaration, or it tests nothing"


def _allegations_over_a_year() -> pd.DataFrame:
    """Allegations concluded, by time to conclusion (bands withheld whole, as the demo's policy does), and the
    percentage concluded within 12 months; one allegation took over a year in the middle year only."""
    heads, bands = [], []
    for k, year in enumerate(YEARS):
        within = [60 + k, 30 - k, 15 + 2 * k]  # within 1 month, 1 to 3 months, 3 to 12 months
        over = 1 if year == YEARS[1] else 0
        concluded, n12 = sum(within) + over, sum(within)
        heads.append(_row("LADO_CONCLUDED", year, concluded))
        heads.append(_row("LADO_CONCLUDED_12M", year, 100 * n12 / concluded, num=n12, den=concluded))
        bands += [_row("LADO_CONCLUDED", year, n, bd="time_to_conclusion", bv=b)
                  for b, n in zip(CONCLUSION_BANDS, [*within, over], strict=True)]
    return pd.DataFrame(heads + bands)


def test_allegations_concluded_after_twelve_months_are_protected_as_a_count(monkeypatch):
    """Finding (issue 14, the last complement): with the time-to-conclusion bands withheld, allegations concluded
    less those concluded within 12 months is the withheld band "Over 12 months", 1 in the demo's 2023-24.

    Leaving the band out is not enough: the published numerator and denominator of the within-12-months
    percentage give it away. The catalogue declares it a count never published (``unpublished:``), so the
    suppression protects it like a published one (here by withholding the percentage's numerator).
    """
    truth = _allegations_over_a_year()
    band = truth["breakdown"].eq("time_to_conclusion").to_numpy()
    assert set(CONCLUSION_BANDS) == set(truth.loc[band, "breakdown_value"]), "the toy must cover every band"

    def attack() -> tuple[list, list]:
        heads = suppress_indicator_table(truth[~band].reset_index(drop=True))
        shown = pd.concat([heads, _published(truth[band], pd.Series(True, index=truth[band].index))],
                          ignore_index=True)
        return _attack(truth.reset_index(drop=True), shown)

    found, narrow = attack()
    assert not found and not narrow, (found, narrow)
    model = default_model()
    _without(monkeypatch, unpublished=tuple(u for u in model.unpublished if "LADO" not in u[1]))
    found, _ = attack()
    assert found, "the toy must leak without the declaration, or it tests nothing"
