"""Secondary suppression: hide further cells so that no suppressed cell can be worked out from the rest.

Every publishable count is a cell and every exact additive relation between
published cells a linear constraint (:mod:`.system`). :func:`protect`
(:mod:`.driver`) repeats three rules until nothing changes: the line rule
(a relation with one hidden cell gives it away), the linear-algebra rule (a
cell determined by several relations together, found in exact arithmetic by
:mod:`.exact`) and the bounds rule (a reader knows a ``c`` is at least 1; a
cell pinned to a range narrower than 1 is as good as published:
:mod:`.bounds`). Each cell a reader could recover gets a partner
(:mod:`.partners`).

Limitations (documented, deliberate): only relations that hold *exactly* in
the data are used; the complement ``denominator - numerator`` of a
percentage is not treated as a published cell; relations with figures
published elsewhere cannot be seen here.
"""

from safeguarding.disclosure.secondary.driver import SecondaryReport, protect
from safeguarding.disclosure.secondary.system import _System

__all__ = ["SecondaryReport", "_System", "protect"]
