"""The report's tables of counts: for the public, read only from the protected indicator table.

Before, a frame without a ``hidden`` column (counted from a processed table by the chapter itself) was
suppressed on the spot in :func:`publish_breakdown`, apart from the disclosure control of the indicator
table: the same count could be published as one string in the report and another in the data files.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from safeguarding.report.tables import publish_breakdown


def _counted_here() -> pd.DataFrame:
    """Counts a chapter made itself: no ``hidden`` column from the protected table."""
    return pd.DataFrame({"label": ["1 referral", "2 referrals", "3 or more referrals"], "count": [40.0, 9.0, 3.0]})


def test_a_public_table_not_read_from_the_protected_table_is_refused():
    public = SimpleNamespace(public=True)
    with pytest.raises(ValueError, match="breakdown_counts") as err:
        publish_breakdown(public, _counted_here(), label_title="Referrals", count_title="Children")
    assert "hidden" in str(err.value) and "Referrals" in str(err.value)
    # the board's table needs no protection
    board = SimpleNamespace(public=False, fmt_count=lambda c: f"{round(c):,}")
    table = publish_breakdown(board, _counted_here(), label_title="Referrals", count_title="Children",
                              with_percent=False)
    assert table["Children"].tolist() == ["40", "9", "3", "52"]


def test_the_total_row_can_say_what_it_counts():
    """Rows that overlap (actions on an allegation) do not add up to the total: its label says what it is."""
    raw = pd.DataFrame({"label": ["Suspension", "Dismissal"], "count": [21.0, 9.0], "hidden": [False, False]})
    raw.attrs.update(total=25.0, total_hidden=False)
    table = publish_breakdown(SimpleNamespace(public=True), raw, label_title="Action", count_title="Cases",
                              with_percent=False, total_label="Cases with at least one action")
    assert table.iloc[-1].tolist() == ["Cases with at least one action", "25"]
