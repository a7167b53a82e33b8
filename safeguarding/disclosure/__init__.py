"""Disclosure control for everything the public sees, following the Department for Education's practice.

* a count in the policy's threshold range (DfE: from 1 to 5) is replaced by
  ``c`` (primary suppression: :mod:`.primary`);
* a true zero is shown as ``0``; a figure that is not available is ``:``; a
  figure that does not apply (a denominator of a count) is ``z``; ``x`` marks
  a figure withheld for another reason (:data:`MARKERS`);
* secondary suppression hides further cells so that no suppressed value can
  be worked out from the totals published with it (:mod:`.secondary`, against
  the relations :mod:`.relations` finds; partners chosen by :mod:`.costs`);
* a percentage or rate is suppressed when its numerator is suppressed (and a
  percentage also when its denominator is: :mod:`.render`).

What the public table covers at all is :mod:`.scope`. Every tuning constant
is in :class:`Policy` (:mod:`.policy`), set from the ``disclosure:`` section
of ``report.yml``. :func:`suppress_table` and :func:`suppress_indicator_table`
(:mod:`.tables`) put the parts together. Writing the published files safely
is :mod:`safeguarding.publish.writers`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from safeguarding.lazy import lazy_names

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.disclosure.costs import partner_costs
    from safeguarding.disclosure.policy import MARKERS, Policy
    from safeguarding.disclosure.relations import DEFAULT_BALANCES
    from safeguarding.disclosure.render import small_count_series
    from safeguarding.disclosure.tables import suppress_indicator_table, suppress_table

__all__ = [
    "DEFAULT_BALANCES",
    "MARKERS",
    "Policy",
    "partner_costs",
    "small_count_series",
    "suppress_indicator_table",
    "suppress_table",
]

#: where each name of ``__all__`` is defined: imported on first use (PEP 562), so that a chapter kernel that
#: needs only the policy (``safeguarding.disclosure.policy``) does not import the suppression machinery
_HOMES = {
    "DEFAULT_BALANCES": "relations", "MARKERS": "policy", "Policy": "policy", "partner_costs": "costs",
    "small_count_series": "render", "suppress_indicator_table": "tables", "suppress_table": "tables",
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES, __all__)
