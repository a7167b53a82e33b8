"""A published table's order tells nothing about its withheld figures.

Before, the allegations-by-sector, referrals-by-source, referrals-by-team and
actions tables were sorted by the true counts before suppression, so the
position of a 'c' row told the reader roughly how large it was.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pandas as pd

from safeguarding.report.tables import publish_breakdown

LABELS = ["Education", "Health", "Police", "Social care", "Voluntary", "Faith"]


def _raw(counts: dict[str, float], hidden: set[str]) -> pd.DataFrame:
    raw = pd.DataFrame({"label": list(counts), "count": [float(v) for v in counts.values()],
                        "hidden": [k in hidden for k in counts]})
    raw.attrs.update(total=float(sum(counts.values())), total_hidden=False)
    return raw


def test_the_published_table_depends_only_on_the_published_figures():
    public = SimpleNamespace(public=True)
    shown = {"Education": 40, "Health": 12, "Police": 25, "Social care": 9}
    hidden = {"Voluntary", "Faith"}
    tables = set()
    for v, f in itertools.product((1, 3, 5, 14), (2, 4, 30)):  # any true values behind the 'c's
        counts = {**shown, "Voluntary": v, "Faith": f}
        total = sum(counts.values())
        raw = _raw(counts, hidden)
        raw.attrs["total"] = float(total)
        table = publish_breakdown(public, raw, label_title="Sector", with_percent=False, sort=True)
        tables.add(tuple(map(tuple, table.drop(index=table.index[-1]).to_numpy())))  # the total differs, rightly
    assert len(tables) == 1, f"the order or content moved with the withheld values: {tables}"
    (rows,) = tables
    assert [r[0] for r in rows] == ["Education", "Police", "Health", "Social care", "Voluntary", "Faith"]
    assert [r[1] for r in rows][-2:] == ["c", "c"]


def test_the_board_sees_every_row_largest_first():
    board = SimpleNamespace(public=False, fmt_count=lambda c: f"{round(c):,}")
    raw = _raw({"Education": 40, "Health": 3, "Police": 25}, set())
    table = publish_breakdown(board, raw, label_title="Sector", with_percent=False, sort=True)
    assert table["Sector"].tolist() == ["Education", "Police", "Health", "Total"]
