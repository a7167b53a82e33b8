"""The rules of the ``disclosure`` section (the keys and ranges of
:class:`safeguarding.disclosure.policy.Policy`), and the public audience's secondary suppression."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from safeguarding.config_schema.checker import _Checker, describe


def _disclosure(c: _Checker, value: Any) -> None:
    """``disclosure``: the tuning of disclosure control, keys and ranges as ``disclosure.policy`` declares them."""
    if value is None:
        return
    # only when the section is present (imports the disclosure package, and with it pandas)
    from safeguarding.disclosure.policy import (
        PERIOD_TYPES,
        POLICY_KEYS,
        PUBLISHED_PERIOD_TYPES,
        WHOLE_NUMBER_SETTINGS,
        Policy,
    )

    before = len(c.problems)
    section = c.mapping(value, "disclosure", "disclosure: {threshold: [1, 5]}", POLICY_KEYS)
    if section is None:
        return
    if section.get("threshold") is not None:
        _threshold(c, section["threshold"], "disclosure.threshold")
    flag = section.get("secondary")
    if flag is not None and not isinstance(flag, bool):
        c.add("disclosure.secondary", f"must be true or false, not {describe(flag)}")
    for name, (lo, what) in WHOLE_NUMBER_SETTINGS.items():
        if section.get(name) is not None:
            c.whole(section[name], f"disclosure.{name}", lo, what)
    costs = c.mapping(section.get("period_cost"), "disclosure.period_cost",
                      "one 'period type: cost' line per period type, e.g. {month: 0, year: 2}", PERIOD_TYPES,
                      what="period type")
    for ptype, cost in (costs or {}).items():
        if ptype in PERIOD_TYPES and cost is not None:
            c.whole(cost, f"disclosure.period_cost.{ptype}", 0, "cost of hiding a cell of that period type")
    span = c.mapping(section.get("published_span"), "disclosure.published_span",
                     "one 'period type: [headline months, breakdown months]' line, e.g. {month: [36, 12]}",
                     PUBLISHED_PERIOD_TYPES, what="period type that may be published")
    for ptype, months in (span or {}).items():
        ok = isinstance(months, list) and len(months) == 2 and all(
            isinstance(m, int) and not isinstance(m, bool) and m >= 0 for m in months)
        if ptype in PUBLISHED_PERIOD_TYPES and months is not None and not ok:
            c.add(f"disclosure.published_span.{ptype}", "must be two whole numbers of months back from the year "
                  f"end, [headline, breakdowns], e.g. [36, 12], not {describe(months)}")
    share = section.get("sparse_share")
    if share is not None and c.number(share, "disclosure.sparse_share", "a share of a breakdown's counts") is not None \
            and not 0 <= share <= 1:
        c.add("disclosure.sparse_share", f"must be from 0 to 1 (a share of a breakdown's counts), not {share!r}")
    if len(c.problems) == before:  # whatever the policy itself refuses is refused here too
        try:
            Policy.from_mapping(section)
        except ValueError as exc:
            c.add("disclosure", str(exc).removeprefix("disclosure."))


def _threshold(c: _Checker, value: Any, key: str) -> None:
    """Two whole numbers ``[lo, hi]``, ``1 <= lo <= hi``: the counts hidden as ``c``."""
    whole = isinstance(value, list) and len(value) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value)
    if not whole:
        shown = value if isinstance(value, list) else describe(value)
        c.add(key, f"must be two whole numbers [lowest, highest], the counts hidden as c, e.g. [1, 5], not {shown}")
    elif value[0] < 1:
        c.add(key, f"must start at 1 or more, not {value[0]}: a true zero is published as 0, never hidden "
                   "(e.g. [1, 5])")
    elif value[0] > value[1]:
        c.add(key, f"the lowest count {value[0]} is above the highest {value[1]}; write them lowest first, "
                   "e.g. [1, 5]")


def _public_keeps_secondary(c: _Checker, raw: Mapping[Any, Any], audience: Any) -> None:
    """``disclosure.secondary: false`` leaves the public report's small counts recoverable from its totals."""
    section = raw.get("disclosure")
    if not isinstance(section, dict) or section.get("secondary") is not False:
        return
    effective = audience if audience is not None else raw.get("audience")
    if effective is None or effective == "public":
        c.add("disclosure.secondary", "cannot be false for the public audience: without secondary suppression a "
                                      "hidden count could be worked out from the totals published with it; remove "
                                      "the line (the board audience is never suppressed)")
