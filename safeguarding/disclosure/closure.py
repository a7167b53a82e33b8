"""Withholding a series for good: the published series it could be worked out from are withheld with it.

Detail withheld (``x``) so that a headline figure can be published takes no
part in the suppression, yet the relations through it still hold. Withheld
alone, plans open 2 years or more by month is still plans open less the
other four length bands, all published; allegations concluded in 1 to 3
months by quarter is still those concluded within 3 months less those
within 1 month. :func:`closure` finds such series and withholds one more
member of the relation that gives them away, until none is given away.

It reasons about *slots*: one figure (indicator, measure, breakdown value)
of one period type, over all periods at once. A slot of a withheld series
is unknown; a slot of a published series is known. A relation among slots
(a breakdown adding up to its headline, a declared sum or band system of
:mod:`.model`, or two slots equal in every period, a copy) with exactly
one unknown slot left determines it. A determined slot of a withheld series
that holds small counts is a leak (a slot with no small count, or one
determined through a copy, whose small counts are ``c`` there, is only
known, and helps determine others): another member of the relation that
determined it is withheld too (the smallest part before a total; never an
annual headline figure, which the policy protects), and the search starts
again.

This works on whole series and on the relations that hold in every period,
so it is a first line only; the suppression of the published cells
(:mod:`.secondary`) and the independent attacker of the tests do the rest.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from safeguarding.disclosure.model import RelationModel, default_model, parse_figure
from safeguarding.disclosure.policy import TOLERANCE, Policy
from safeguarding.disclosure.primary import FIGURES

#: a slot: (indicator, measure, breakdown, breakdown value, period type)
Slot = tuple[str, str, str, str, str]
#: a series: (indicator, breakdown, period type)
Series = tuple[str, str, str]
#: a relation among slots: (parts, totals); a copy has one of each, a band equality a union on each side
Relation = tuple[tuple[Slot, ...], tuple[Slot, ...]]

#: withheld series given more company, at most this many times (each time one series more)
MAX_STEPS = 200


def closure(rows: pd.DataFrame, withheld: pd.Series, policy: Policy, model: RelationModel | None = None,
            ) -> pd.Series:
    """Rows to withhold besides ``withheld`` (True) so that no withheld series can be worked out.

    ``rows`` are the indicator rows in scope (data contract columns);
    ``withheld`` (bool, same index) the rows already withheld; ``policy``
    says which counts are small. Returns a bool Series over ``rows``: the
    rows of the series added.
    """
    model = default_model() if model is None else model
    keys = list(zip(rows["indicator_id"].astype(str).tolist(), rows["breakdown"].astype(str).tolist(),
                    rows["period_type"].astype(str).tolist(), strict=True))
    held: set[Series] = {k for k, w in zip(keys, withheld.to_numpy(), strict=True) if w}
    if not held:
        return pd.Series(False, index=rows.index)
    slots, values = _slots(rows)
    relations = _relations(slots, values, model)
    small, size, zero = _facts(values, policy)
    added: set[Series] = set()
    for _ in range(MAX_STEPS):
        leaks = _leaks(relations, held | added, small, zero)
        if not leaks:
            break
        extra = _company(leaks, held | added, size)
        if extra is None:  # nothing left that may go: the suppression's forced run handles it
            break
        added.add(extra)
    return pd.Series([k in added for k in keys], index=rows.index)


def _facts(values: dict[Slot, np.ndarray], policy: Policy
           ) -> tuple[dict[Slot, bool], dict[Slot, float], dict[Slot, bool]]:
    """Per slot: a small count in any period, the sum of its values, all of them zero (NaN: no figure).

    Worked out on the slots of each period type at once (their value arrays have one length), row by
    row as for each slot alone: a NaN is never small, and each row's sum is numpy's, the same as that
    of the slot's own array.
    """
    small: dict[Slot, bool] = {}
    size: dict[Slot, float] = {}
    zero: dict[Slot, bool] = {}
    by_length: dict[int, list[Slot]] = {}
    for slot, v in values.items():
        by_length.setdefault(len(v), []).append(slot)
    for group in by_length.values():
        grid = np.vstack([values[slot] for slot in group])
        any_small = np.asarray(np.asarray(policy.small(grid), dtype=bool).any(axis=1), dtype=bool)
        sums = np.nansum(grid, axis=1)
        zeros = np.nansum(np.abs(grid), axis=1) == 0
        for i, slot in enumerate(group):
            small[slot], size[slot], zero[slot] = bool(any_small[i]), float(sums[i]), bool(zeros[i])
    return {s: small[s] for s in values}, {s: size[s] for s in values}, {s: zero[s] for s in values}


def _series(slot: Slot) -> Series:
    return (slot[0], slot[2], slot[4])


def _slots(rows: pd.DataFrame) -> tuple[set[Slot], dict[Slot, np.ndarray]]:
    """Every slot with a figure, and its values by period (ordered by period start; NaN where absent)."""
    frames = []
    for m in FIGURES:
        v = pd.to_numeric(rows[m], errors="coerce")
        frames.append(pd.DataFrame({"i": rows["indicator_id"].astype(str), "m": m, "b": rows["breakdown"].astype(str),
                                    "bv": rows["breakdown_value"].astype(str), "pt": rows["period_type"].astype(str),
                                    "ps": pd.to_datetime(rows["period_start"]), "v": v})[v.notna().to_numpy()])
    long = pd.concat(frames, ignore_index=True)
    values: dict[Slot, np.ndarray] = {}
    for pt, g in long.groupby("pt", sort=False):
        grid = g.pivot_table(index="ps", columns=["i", "m", "b", "bv"], values="v", aggfunc="first")
        for col, arr in zip(grid.columns, grid.to_numpy().T, strict=True):
            values[(*col, pt)] = arr
    return set(values), values


def _relations(slots: set[Slot], values: dict[Slot, np.ndarray], model: RelationModel) -> list[Relation]:  # noqa: C901
    """Relations among slots as ``(parts, totals)`` (a copy: one of each; a band equality: two sides)."""
    out: list[Relation] = []
    by_series: dict[tuple[str, str, str, str], list[Slot]] = {}
    for s in sorted(slots):  # sorted throughout: the same publication from the same data, run after run
        by_series.setdefault((s[0], s[1], s[2], s[4]), []).append(s)
    # a breakdown adds up to its headline (where it does in every period)
    for (ind, m, bd, pt), members in by_series.items():
        head = (ind, m, "all", "all", pt)
        if bd != "all" and head in slots and _adds_up([head], members, values):
            out.append((tuple(members), (head,)))
    # declared sums
    places = {(s[2], s[3], s[4]) for s in slots}
    for total, parts in model.sums:
        for bd, bv, pt in sorted(places):
            t = _slot(total, bd, bv, pt)
            ps = [_slot(p, bd, bv, pt) for p in parts]
            if any(p[2] != bd for p in ps) and bd != "all":
                continue  # a part given by breakdown value lines up with a headline total only
            if t in slots and all(p in slots for p in ps) and _adds_up([t], ps, values):
                out.append((tuple(ps), (t,)))
    # two band systems of one quantity
    for bands in model.bands:
        first, second = bands.breakdowns
        for ind, m, bd, pt in sorted(by_series):
            if bd != first or (ind, m, second, pt) not in by_series:
                continue
            for left, right in bands.equal:
                a = [(ind, m, first, v, pt) for v in left]
                b = [(ind, m, second, v, pt) for v in right]
                if all(s in slots for s in a + b) and _adds_up(a, b, values):
                    out.append((tuple(a), tuple(b)))
    # copies: two slots equal in every period (at least 3 periods, 3 of them not zero)
    sigs: dict[tuple[str, bytes], list[Slot]] = {}
    for s, v in values.items():
        if np.isnan(v).any() or (v > 0).sum() < 3:
            continue
        sigs.setdefault((s[4], np.round(v, 6).tobytes()), []).append(s)
    for members in sigs.values():
        for one, other in itertools.pairwise(sorted(members)):
            out.append(((one,), (other,)))
    return out


def _slot(figure: str, bd: str, bv: str, pt: str) -> Slot:
    code, measure, selector = parse_figure(figure)
    if selector is not None:
        return (code, measure, selector[0], selector[1], pt)
    return (code, measure, bd, bv, pt)


def _adds_up(left: Sequence[Slot], right: Sequence[Slot], values: dict[Slot, np.ndarray]) -> bool:
    """True when the two sides are equal in every period where all are present (and some are)."""
    stack_l = np.array([values[s] for s in left])
    stack_r = np.array([values[s] for s in right])
    present = ~np.isnan(stack_l).any(axis=0) & ~np.isnan(stack_r).any(axis=0)
    if present.sum() == 0:
        return False
    a = stack_l[:, present].sum(axis=0)
    b = stack_r[:, present].sum(axis=0)
    return bool(np.all(np.abs(a - b) <= TOLERANCE))


def _leaks(relations: list[Relation], held: set[Series], small: dict[Slot, bool],
           zero: dict[Slot, bool]) -> list[tuple[Slot, Relation]]:
    """Slots of withheld series holding small counts that the published slots determine, each with its relation.

    Slots a relation determines become known and determine others in turn.
    A slot determined through a copy is no leak (its small counts are
    ``c`` in the copy), nor is one with no small count. Returns the leaks of
    the first sweep that finds any (empty: none).
    """
    # a slot that is 0 in every period gives a small count next to it no room: count it as known
    known: set[Slot] = {s for rel in relations for s in rel[0] + rel[1] if zero.get(s, False)}
    unknown_in = [[s for s in parts + totals if _series(s) in held] for parts, totals in relations]
    changed = True
    while changed:
        changed = False
        leaks = []
        for rel, unknown in zip(relations, unknown_in, strict=True):
            left = [s for s in unknown if s not in known]
            if len(left) != 1:
                continue
            copy = len(rel[0]) == 1 and len(rel[1]) == 1
            if small.get(left[0], False) and not copy:
                leaks.append((left[0], rel))
                continue
            known.add(left[0])
            changed = True
        if leaks:
            return leaks
    return []


def _company(leaks: list[tuple[Slot, Relation]], held: set[Series], size: dict[Slot, float]) -> Series | None:
    """Another series of a relation that gives a leak away, to withhold with it.

    A part first, the smallest of any of the relations (it gives the small
    count the most room for the least published), then a total; never an
    annual headline figure.
    """
    def ok(s: Slot) -> bool:
        series = _series(s)
        return series not in held and not (series[2] == "year" and series[1] == "all")

    for side in (0, 1):
        pool = [s for _, rel in leaks for s in rel[side] if ok(s)]
        if pool:
            return _series(min(pool, key=lambda x: (size.get(x, np.inf), x)))
    return None
