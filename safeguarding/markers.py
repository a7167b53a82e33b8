"""The markers a published table, sentence or chart shows in place of a figure: the one place they are written.

They follow the GSS and DfE conventions for official statistics. What each means under a given disclosure
policy (its threshold in words) is :meth:`safeguarding.disclosure.policy.Policy.markers`; every published
file explains them (``data/README.txt``, the workbook's notes sheet, the appendix).
"""

from __future__ import annotations

#: withheld to protect privacy: a small count, or a figure from which one could be worked out
WITHHELD = "c"
#: not published: detail withheld so that the year's figures can be published, or outside the periods published
NOT_PUBLISHED = "x"
#: not applicable (for example the denominator of a count)
NOT_APPLICABLE = "z"
#: not available: no data for this period
NOT_AVAILABLE = ":"
#: the markers that stand for a figure which exists but is not shown
HIDDEN: frozenset[str] = frozenset({WITHHELD, NOT_PUBLISHED})
#: the markers that stand for no figure shown, whatever the reason
NO_FIGURE: frozenset[str] = frozenset({WITHHELD, NOT_PUBLISHED, NOT_APPLICABLE, NOT_AVAILABLE})
