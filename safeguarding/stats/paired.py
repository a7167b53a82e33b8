"""Paired yes/no answers: the exact McNemar test and an interval for the change in the proportion saying yes.

Each child answers the same question twice (before and after the work). The
four cells of the paired table are

=================  ===============  ===============
..                 after: yes       after: no
=================  ===============  ===============
before: yes        ``a``            ``b`` (yes→no)
before: no         ``c`` (no→yes)   ``d``
=================  ===============  ===============

Only the discordant pairs ``b`` and ``c`` carry information about change.

* :func:`mcnemar_exact`: the exact (conditional) McNemar test, a two-sided
  binomial test of ``c`` out of ``b + c`` with probability 1/2 (McNemar 1947;
  Fagerland, Lydersen and Laake 2013, BMC Medical Research Methodology 13:91).
  The two-sided p-value is twice the smaller tail, capped at 1; with p = 1/2
  the binomial is symmetric, so this equals ``scipy.stats.binomtest`` and
  ``statsmodels``' ``mcnemar(exact=True)``.
* :func:`paired_difference_interval`: Newcombe's hybrid score interval for
  the difference of paired proportions, "method 10" of Newcombe R.G. (1998),
  Improved confidence intervals for the difference between binomial
  proportions based on paired data, Statistics in Medicine 17:2635-2650: the
  Wilson score limits of the two proportions combined "square and add", with
  the correlation of the pairs estimated by the phi coefficient (corrected
  towards zero by n/2 when ``ad > bc``, as in the paper). Fagerland, Lydersen
  and Laake, Statistical Analysis of Contingency Tables (2017), chapter 8,
  call it the Newcombe square-and-add interval and work it for Cavo et al.
  (2012): table ``[[59, 6], [16, 80]]``, estimate -0.0621, 95% CI -0.1186 to
  -0.0046 (the test suite checks this).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from safeguarding.stats.intervals import wilson_interval

__all__ = ["PairedComparison", "mcnemar_exact", "paired_comparison", "paired_difference_interval"]


def _check_cells(*cells: int) -> None:
    for x in cells:
        if isinstance(x, bool) or not float(x).is_integer() or x < 0:
            raise ValueError(f"paired table cells must be whole numbers of 0 or more, not {x!r}")


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pairs ``b`` (yes→no) and ``c`` (no→yes).

    ``min(1, 2 * P(X <= min(b, c)))`` for ``X ~ Binomial(b + c, 1/2)``; 1.0
    when there is no discordant pair (nothing changed, nothing to test).
    """
    _check_cells(b, c)
    n = int(b) + int(c)
    if n == 0:
        return 1.0
    return float(min(1.0, 2.0 * stats.binom.cdf(min(int(b), int(c)), n, 0.5)))


def paired_difference_interval(a: int, b: int, c: int, d: int, confidence: float = 0.95) -> tuple[float, float]:
    """Newcombe's (1998) method 10 interval for ``p1 - p2``, where ``p1 = (a + b) / n`` and ``p2 = (a + c) / n``.

    ``a``..``d`` are the paired table's cells in the module's layout (first
    time point in rows, second in columns, yes first). For the change from
    before to after (``p_after - p_before``) pass the table transposed, i.e.
    ``(a, c, b, d)``, or use :func:`paired_comparison`. Returns (lower,
    upper) as proportions (-1 to 1); NaN for an empty table.

    With ``l1, u1`` and ``l2, u2`` the Wilson score limits of ``p1`` and ``p2``
    and ``phi`` the corrected phi coefficient (``ad - bc`` less ``n/2`` when
    positive, floored at 0; as it is when negative; 0 when a margin is 0)::

        lower = D - sqrt((p1 - l1)^2 - 2 phi (p1 - l1)(u2 - p2) + (u2 - p2)^2)
        upper = D + sqrt((p2 - l2)^2 - 2 phi (p2 - l2)(u1 - p1) + (u1 - p1)^2)
    """
    _check_cells(a, b, c, d)
    a, b, c, d = int(a), int(b), int(c), int(d)
    n = a + b + c + d
    if n == 0:
        return (math.nan, math.nan)
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = (float(v) for v in wilson_interval(a + b, n, confidence))
    l2, u2 = (float(v) for v in wilson_interval(a + c, n, confidence))
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    phi = 0.0
    if margins > 0:
        cross = a * d - b * c
        corrected = max(cross - n / 2, 0.0) if cross > 0 else float(cross)
        phi = corrected / math.sqrt(margins)
    diff = p1 - p2
    lower = diff - math.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    upper = diff + math.sqrt(max((p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2, 0.0))
    return (max(-1.0, lower), min(1.0, upper))


@dataclass(frozen=True)
class PairedComparison:
    """One question's paired answers: the table, the change and the test.

    ``yes_before = a + b`` and ``yes_after = a + c`` of ``n`` children with an
    answer both times; ``change = (yes_after - yes_before) / n`` with its
    Newcombe interval (``change_lower``, ``change_upper``) and the exact
    McNemar ``p_value``.
    """

    a: int
    b: int
    c: int
    d: int
    change: float
    change_lower: float
    change_upper: float
    p_value: float

    @property
    def n(self) -> int:
        """Children with a yes/no answer at both time points."""
        return self.a + self.b + self.c + self.d

    @property
    def yes_before(self) -> int:
        """Of them, those who said yes the first time."""
        return self.a + self.b

    @property
    def yes_after(self) -> int:
        """Of them, those who said yes the second time."""
        return self.a + self.c


def paired_comparison(a: int, b: int, c: int, d: int, confidence: float = 0.95) -> PairedComparison:
    """Compare the proportion saying yes after with before, from the paired table ``a``, ``b``, ``c``, ``d``.

    ``a`` yes both times, ``b`` yes→no, ``c`` no→yes, ``d`` no both times.
    The change is after minus before (positive: more children said yes at the
    end), with Newcombe's method 10 interval, and the exact McNemar p-value.
    """
    _check_cells(a, b, c, d)
    n = int(a) + int(b) + int(c) + int(d)
    lo, hi = paired_difference_interval(a, c, b, d, confidence)  # first time point = after
    change = (int(c) - int(b)) / n if n else math.nan
    return PairedComparison(int(a), int(b), int(c), int(d), change, lo, hi, mcnemar_exact(b, c))
