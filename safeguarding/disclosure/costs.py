"""What hiding each cell of the indicator table costs the publication, to steer the choice of partners.

Secondary suppression hides the cheapest published cell that protects a
suppressed one (:mod:`safeguarding.disclosure.secondary.partners`).
:func:`partner_costs` prices cells so that breakdowns by month go first and
the reporting year's headline figures last; :func:`_share_costs` makes cells
tied by an equality (the same count published twice) as dear as the dearest
of them.

Costs only steer the choice: they never weaken the protection, which is
checked again after every choice. This module hides nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from safeguarding.disclosure.policy import Policy
from safeguarding.disclosure.secondary.system import _System


def partner_costs(cells: pd.DataFrame, policy: Policy | None = None) -> np.ndarray:
    """How much the publication loses when each cell is hidden as a secondary partner (integers, per row).

    ``cells`` has ``period_type``, ``period_end`` and ``breakdown`` columns.
    Breakdown cells cost least (months, then quarters, then years:
    ``policy.period_cost``); headline cells cost ``policy.headline_cost``
    more, and the latest year's figures (headline and breakdowns)
    ``policy.latest_year_cost`` more again. The partner search hides the
    cheapest cell that protects a suppressed one, so the year's key figures
    are hidden only when nothing cheaper would do.
    """
    policy = policy if policy is not None else Policy()
    ptype = cells["period_type"].astype(str)
    cost = ptype.map(dict(policy.period_cost)).fillna(1).astype(int).to_numpy()
    headline = cells["breakdown"].astype(str).eq("all").to_numpy()
    end = pd.to_datetime(cells["period_end"])
    years = end[ptype.eq("year").to_numpy()]
    latest = years.max() if len(years) else None
    cost = cost + policy.headline_cost * headline
    if latest is not None:  # the year's tables, headline and breakdowns, are what the report is about
        cost = cost + policy.latest_year_cost * (ptype.eq("year").to_numpy() & (end == latest).to_numpy())
    return cost


def _share_costs(system: _System) -> None:
    """Give cells tied by an equality (the same count published twice) the highest cost among them.

    Hiding one of them hides the others too, so each is as costly as the most
    costly of the figures it stands for, and protected if any of them is
    (:attr:`_System.protected`).
    """
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    pairs = [c[0] for c, eq in zip(system.constraints, system.equalities(), strict=True) if eq]
    if not pairs:
        return
    p = np.array(pairs, dtype=int)
    n = len(system.values)
    graph = sparse.csr_matrix((np.ones(len(p)), (p[:, 0], p[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    top = np.zeros(labels.max() + 1, dtype=int)
    np.maximum.at(top, labels, system.cost)
    system.cost = top[labels]
    guarded = np.zeros(labels.max() + 1, dtype=bool)
    np.logical_or.at(guarded, labels, system.protected)
    system.protected = guarded[labels]
