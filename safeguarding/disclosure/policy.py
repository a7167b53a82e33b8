"""The disclosure policy: every tuning constant of disclosure control, in one frozen object.

:class:`Policy` holds what is suppressed (``threshold``: the inclusive range
of counts hidden as ``c``; ``secondary``: whether suppressed cells are
protected from the published totals), how the secondary suppression chooses
and checks its partners (costs and work limits), and what the public table
publishes at all (``published_span``, ``sparse_share``). The ``disclosure:``
section of ``report.yml`` sets any of them (:meth:`Policy.from_mapping`);
every key is optional and defaults to the value below, the Department for
Education's practice.

Also here: :data:`MARKERS` (the symbols of the published tables),
:data:`TOLERANCE` (when figures "add up"), :data:`INTERVAL_NUDGE` (how the
protection-interval check asks its programmes), and the ranges the settings may
take, which :mod:`safeguarding.config_schema` checks ``report.yml`` against.

This module applies nothing: it does not suppress, search for relations or
read files (see :mod:`safeguarding.disclosure` for the parts that do).
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any, overload

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from safeguarding.markers import NOT_APPLICABLE, NOT_AVAILABLE, NOT_PUBLISHED, WITHHELD

#: how far apart two figures may be and still "add up" (counts are whole numbers; this absorbs float noise)
TOLERANCE = 1e-6

#: weight of the other open small counts when the protection-interval check maximises one of them
#: (:func:`~safeguarding.disclosure.secondary.intervals._one_by_one`): a nudge that makes each programme's
#: table raise more of them at once (witnesses), without changing any answer
INTERVAL_NUDGE = 0.01

#: open small counts from which a group's protection-interval check first raises them all at once, in one
#: programme (:func:`~safeguarding.disclosure.secondary.intervals._all_at_once`), before it asks each alone:
#: on a large group that one table is a witness for most of them; on a small one it costs more than it saves.
#: Changes no answer, only the programmes solved
INTERVAL_TOGETHER = 60

#: period types of the indicator table
PERIOD_TYPES: tuple[str, ...] = ("month", "quarter", "rolling12", "year")
#: period types that may be published (rolling 12-month figures never are: see ``scope.publication_scope``)
PUBLISHED_PERIOD_TYPES: tuple[str, ...] = ("year", "quarter", "month")

_PERIOD_COST: dict[str, int] = {"month": 0, "quarter": 1, "rolling12": 1, "year": 2}
_PUBLISHED_SPAN: dict[str, tuple[int, int]] = {"year": (10 * 12, 10 * 12), "quarter": (3 * 12, 3 * 12),
                                               "month": (3 * 12, 12)}

#: the detail that yields first, when a protected headline figure would otherwise be hidden
_YIELD_ORDER: tuple[str, ...] = ("month breakdown", "month headline", "quarter breakdown", "quarter headline",
                                 "year breakdown")
#: the levels a table has, as ``yield_order`` names them
LEVELS: tuple[str, ...] = ("month breakdown", "month headline", "quarter breakdown", "quarter headline",
                           "year breakdown")

#: whole-number settings: the smallest value allowed, and what the setting is (for messages)
WHOLE_NUMBER_SETTINGS: dict[str, tuple[int, str]] = {
    "headline_cost": (0, "added to the cost of hiding a headline figure as a partner"),
    "latest_year_cost": (0, "added to the cost of hiding a figure of the latest year as a partner"),
    "expensive": (0, "cost from which a partner is taken only if no cheaper cell lies near"),
    "max_cheaper_tries": (0, "times a cell is given a cheaper, farther partner instead of an expensive one"),
    "cheaper_depth": (1, "rings of relations searched for a cheaper partner"),
    "max_exact": (1, "largest group of linked suppressed cells given the full check"),
    "max_local_lps": (0, "cells per group and pass given a linear programme on the columns near them"),
    "max_single_lps": (0, "cells per group and pass given linear programmes on the whole group"),
    "max_blame": (1, "pinned cells per group and pass whose published sources are traced"),
    "max_far_tries": (1, "passes a cell near a protected figure gets partners before it is reported stuck"),
    "reach_split": (1, "small counts asked times relation entries from which a group's protection intervals are "
                       "checked in two parts"),
    "protect_years": (0, "years, counting the reporting year, whose annual headline figures are protected"),
}


def _frozen(mapping: Mapping[str, Any]) -> MappingProxyType:
    return MappingProxyType(dict(mapping))


def _is_whole(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


@dataclass(frozen=True)
class Policy:
    """Every tuning constant of disclosure control (frozen; build a changed copy with ``dataclasses.replace``).

    Attributes:
        threshold: inclusive range ``(lo, hi)`` of counts suppressed as ``c``
            (DfE: 1 to 5), or None for no primary suppression.
        secondary: protect suppressed cells from the totals published with them.
        period_cost: cost of hiding a cell as a secondary partner, by period type
            (a period type not listed costs 1).
        headline_cost: added to the cost of a headline (``breakdown == "all"``) cell.
        latest_year_cost: added for the figures of the latest year in the table.
        expensive: a partner costing this much or more (a headline figure) is
            taken only if no cheaper cell lies near.
        max_cheaper_tries: times a pinned cell is given a cheaper, farther
            partner before an expensive near one is accepted.
        cheaper_depth: rings of relations out from a pinned cell searched for a
            cheaper partner.
        max_exact: largest group of linked suppressed cells given the full
            check; a larger group gets only the single-relation rules and is
            reported as unverified.
        max_local_lps: cells per group and pass given a linear programme on the
            columns near them (bounds rule).
        max_single_lps: cells per group and pass given linear programmes on the
            whole group (bounds rule, last resort). While a group has no more
            undecided cells than this, the cells shown do not depend on the
            solver's path (at most 23 are met on the benchmark, 40 on the demo).
        max_blame: pinned cells per group and pass whose published sources are
            traced (the rest wait for the next pass).
        max_far_tries: passes in which a pinned cell linked to a protected
            figure is given partners (near or far) before it is reported
            stuck (detail is withheld for it instead).
        reach_split: a group whose protection intervals ask more than this
            (small counts asked times the entries of its relations) is
            asked in two parts, which two processes can check at once; the
            answers are the same either way, only the time differs.
        published_span: how far back each period type is published, in months
            before the year end: ``(headline, breakdowns)``; a period type not
            listed is not published.
        sparse_share: a breakdown by month or quarter is withheld when more
            than this share of its counts are in the threshold range.
        protect_years: how many years, counting the reporting year, have their
            annual headline figures protected (2: the reporting year and the
            year before). A protected figure (a count above the threshold) is
            never hidden as a partner while withholding detail would do
            instead (:mod:`safeguarding.disclosure.publication`).
        yield_order: the detail withheld, level by level in this order, when
            protecting a small count would otherwise cost a protected figure:
            each ``"<period type> <headline|breakdown>"``; annual headline
            figures never yield.
    """

    threshold: tuple[int, int] | None = (1, 5)
    secondary: bool = True
    period_cost: Mapping[str, int] = field(default_factory=lambda: _frozen(_PERIOD_COST), hash=False)
    headline_cost: int = 3
    latest_year_cost: int = 3
    expensive: int = 3
    max_cheaper_tries: int = 3
    cheaper_depth: int = 3
    max_exact: int = 5_000
    max_local_lps: int = 200
    max_single_lps: int = 100
    max_blame: int = 512
    max_far_tries: int = 3
    reach_split: int = 5_000_000
    published_span: Mapping[str, tuple[int, int]] = field(default_factory=lambda: _frozen(_PUBLISHED_SPAN),
                                                          hash=False)
    sparse_share: float = 0.5
    protect_years: int = 2
    yield_order: tuple[str, ...] = _YIELD_ORDER

    def __post_init__(self) -> None:  # noqa: C901
        threshold = self.threshold
        if threshold is not None:
            if not isinstance(threshold, (list, tuple)) or len(threshold) != 2:
                raise ValueError(f"threshold: must be two whole numbers [lo, hi], not {threshold!r}")
            lo, hi = tuple(threshold)
            if not (_is_whole(lo) and _is_whole(hi)) or not 1 <= lo <= hi:
                raise ValueError(f"threshold: must be two whole numbers [lo, hi] with 1 <= lo <= hi, not {lo!r}, "
                                 f"{hi!r}")
            object.__setattr__(self, "threshold", (int(lo), int(hi)))
        if not isinstance(self.secondary, bool):
            raise ValueError(f"secondary: must be true or false, not {self.secondary!r}")
        for name, (lo, what) in WHOLE_NUMBER_SETTINGS.items():
            value = getattr(self, name)
            if not _is_whole(value) or value < lo:
                raise ValueError(f"{name}: must be a whole number from {lo} ({what}), not {value!r}")
        if not isinstance(self.period_cost, Mapping):
            raise ValueError(f"period_cost: must map period types to costs, not {self.period_cost!r}")
        for ptype, cost in self.period_cost.items():
            if not isinstance(ptype, str) or not _is_whole(cost) or cost < 0:
                raise ValueError(f"period_cost.{ptype}: must be a whole number from 0, not {cost!r}")
        object.__setattr__(self, "period_cost", _frozen({k: int(v) for k, v in self.period_cost.items()}))
        if not isinstance(self.published_span, Mapping):
            raise ValueError(f"published_span: must map period types to [headline, breakdowns] months, "
                             f"not {self.published_span!r}")
        span = {}
        for ptype, months in self.published_span.items():
            if ptype not in PUBLISHED_PERIOD_TYPES:
                raise ValueError(f"published_span.{ptype}: not a period type that may be published; valid: "
                                 f"{', '.join(PUBLISHED_PERIOD_TYPES)}")
            ok = isinstance(months, (list, tuple)) and len(months) == 2 and all(_is_whole(m) and m >= 0
                                                                                for m in months)
            if not ok:
                raise ValueError(f"published_span.{ptype}: must be two whole numbers of months from 0, "
                                 f"[headline, breakdowns], not {months!r}")
            span[ptype] = (int(months[0]), int(months[1]))
        object.__setattr__(self, "published_span", _frozen(span))
        order = self.yield_order
        if isinstance(order, str) or not isinstance(order, (list, tuple)):
            raise ValueError(f"yield_order: must be a list of levels such as 'month breakdown', not {order!r}")
        for level in order:
            if level not in LEVELS:
                near = difflib.get_close_matches(str(level), LEVELS, n=1, cutoff=0.6)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise ValueError(f"yield_order: {level!r} is not a level that may yield{hint}; valid: "
                                 f"{', '.join(LEVELS)} (annual headline figures never yield)")
        object.__setattr__(self, "yield_order", tuple(order))
        share = self.sparse_share
        if not isinstance(share, numbers.Real) or isinstance(share, bool) or not 0 <= share <= 1:
            raise ValueError(f"sparse_share: must be a number from 0 to 1, not {share!r}")

    def __reduce__(self):  # the mappings are read-only views, which cannot be pickled as they are
        return (_rebuild, (self.to_mapping(),))

    # ------------------------------------------------------------------ building
    @classmethod
    def from_mapping(cls, section: Mapping[str, object] | None) -> Policy:
        """A policy from the ``disclosure:`` section of ``report.yml`` (None or empty: the defaults).

        Every key is optional; a key left out or left empty keeps its default
        (so ``threshold:`` with no value never turns suppression off). ``threshold``
        is a list of two whole numbers; ``period_cost`` and ``published_span``
        name only the period types they change (the others keep their
        defaults). Raises ``ValueError`` naming the key for an unknown key or
        a value of the wrong type or range.
        """
        if section is None:
            return cls()
        if not isinstance(section, Mapping):
            raise ValueError(f"disclosure: must be a mapping of settings, not {section!r}")
        unknown = [k for k in section if k not in POLICY_KEYS]
        if unknown:
            name = unknown[0]
            near = difflib.get_close_matches(str(name), POLICY_KEYS, n=1, cutoff=0.6)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ValueError(f"disclosure.{name}: unknown setting{hint}; valid: {', '.join(POLICY_KEYS)}")
        # values as report.yml holds them, of any type: the dataclass checks each (``__post_init__``)
        kwargs: dict[str, Any] = {k: v for k, v in section.items() if v is not None}  # empty: the default
        for name, default in (("period_cost", _PERIOD_COST), ("published_span", _PUBLISHED_SPAN)):
            given = kwargs.get(name)
            if isinstance(given, Mapping):
                kwargs[name] = {**default, **{k: v for k, v in given.items() if v is not None}}
        try:
            return cls(**kwargs)
        except ValueError as exc:
            raise ValueError(f"disclosure.{exc}") from None

    @classmethod
    def unsuppressed(cls) -> Policy:
        """The board audience's policy: nothing is suppressed (no primary, no secondary suppression)."""
        return cls(threshold=None, secondary=False)

    def to_mapping(self) -> dict[str, object]:
        """The policy as plain values (lists and dicts), as the ``disclosure:`` section would hold them."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "threshold":
                value = None if value is None else list(value)
            elif f.name == "published_span":
                value = {k: list(v) for k, v in value.items()}
            elif isinstance(value, Mapping):
                value = dict(value)
            elif f.name == "yield_order":
                value = list(value)
            out[f.name] = value
        return out

    # ------------------------------------------------------------------ using
    @overload
    def small(self, values: float) -> bool: ...

    @overload
    def small(self, values: NDArray[np.generic] | Sequence[float]) -> NDArray[np.bool_] | bool: ...  # 0-d: bool

    @overload
    def small(self, values: pd.Series) -> pd.Series: ...

    def small(self, values: float | NDArray[np.generic] | Sequence[float] | pd.Series
              ) -> bool | NDArray[np.bool_] | pd.Series:
        """True where a value is a count in the threshold range (missing values and text: False).

        A ``pandas.Series`` gives a boolean Series on the same index, a single
        number a ``bool``, anything else (lists, arrays) a boolean array. With
        no threshold (:meth:`unsuppressed`) nothing is small.
        """
        if isinstance(values, pd.Series):
            if self.threshold is None:
                return pd.Series(False, index=values.index)
            v = pd.to_numeric(values, errors="coerce")
            lo, hi = self.threshold
            return (v >= lo) & (v <= hi)
        arr = np.asarray(values, dtype=float)
        if self.threshold is None:
            mask = np.zeros(arr.shape, dtype=bool)
        else:
            lo, hi = self.threshold
            with np.errstate(invalid="ignore"):
                mask = (arr >= lo) & (arr <= hi)
        return bool(mask) if mask.ndim == 0 else mask

    @property
    def threshold_text(self) -> str:
        """The threshold for a sentence: ``"from 1 to 5"`` (``"of 3"`` for a single value, ``"none"`` if unset)."""
        if self.threshold is None:
            return "none"
        lo, hi = self.threshold
        return f"of {lo}" if lo == hi else f"from {lo} to {hi}"

    def markers(self) -> dict[str, str]:
        """The markers of the published tables and what each means under this policy."""
        counts = f"a count {self.threshold_text}, or " if self.threshold is not None else ""
        return {
            WITHHELD: f"Suppressed to protect confidentiality: {counts}a figure from which one could be "
                 "worked out (secondary suppression).",
            NOT_APPLICABLE: "Not applicable (for example the denominator of a count).",
            NOT_PUBLISHED: "Not published in this row: detail (a month, a quarter or a breakdown) withheld whole so "
                 "that the year's figures can be published safely, or a figure outside the periods published. The "
                 "same count may be published in another row (a stock at a month end is also the quarter's and "
                 "the year's figure at that end; plans ended are also the denominator of plans ended after 2 "
                 "years or more); a c is c wherever its count appears.",
            NOT_AVAILABLE: "Not available (no data for this period).",
            "0": "A true zero: nothing happened.",
        }


#: the keys of the ``disclosure:`` section of ``report.yml``, in the order of :class:`Policy`
POLICY_KEYS: tuple[str, ...] = tuple(f.name for f in fields(Policy))

#: markers used in published tables and what they mean (the default policy's wording)
MARKERS: dict[str, str] = Policy().markers()


def _rebuild(mapping: dict[str, Any]) -> Policy:
    """A policy from :meth:`Policy.to_mapping` (for pickling)."""
    return Policy(**mapping)


def resolve(policy: Policy | None = None, *, threshold: tuple[int, int] | None = None,
            secondary: bool | None = None) -> Policy:
    """``policy`` (default :class:`Policy`) with the older ``threshold=`` / ``secondary=`` arguments applied.

    A ``threshold`` whose low end is above its high end (``(0, -1)``, as the
    board audience used to pass) means no primary suppression.
    """
    out = policy if policy is not None else Policy()
    changes: dict[str, Any] = {}
    if threshold is not None:
        lo, hi = threshold
        changes["threshold"] = None if lo > hi else (lo, hi)
    if secondary is not None:
        changes["secondary"] = secondary
    return replace(out, **changes) if changes else out
