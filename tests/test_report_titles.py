"""Chart titles that state a finding must not reveal a withheld group (public audience)."""

from __future__ import annotations

import pandas as pd

from safeguarding.escape import unescape_markdown
from safeguarding.report.text import largest_share_title


def _raw(counts: dict[str, float], hidden: set[str] = frozenset()) -> pd.DataFrame:
    return pd.DataFrame({"label": list(counts), "count": list(counts.values()),
                         "hidden": [k in hidden for k in counts]})


def test_board_title_gives_the_largest_group_and_its_share():
    raw = _raw({"Neglect": 45, "Emotional abuse": 40, "Physical abuse": 3, "Sexual abuse": 12})
    assert largest_share_title(raw, "of children on a plan") == \
        "Neglect is the largest group: 45% of children on a plan"


def test_public_title_with_nothing_withheld_is_unchanged():
    raw = _raw({"Neglect": 45, "Emotional abuse": 43, "Sexual abuse": 12})
    assert largest_share_title(raw, "of children on a plan", public=True) == \
        "Neglect is the largest group: 45% of children on a plan"


def test_public_title_never_names_or_sizes_a_group_hidden_by_secondary_suppression():
    # the largest group is withheld to protect a small one: the title must not name it or give any share
    raw = _raw({"Neglect": 45, "Emotional abuse": 40, "Physical abuse": 3, "Sexual abuse": 12},
               hidden={"Neglect", "Physical abuse"})
    title = largest_share_title(raw, "of children on a plan", public=True)
    assert title == "Emotional abuse is the largest of the groups shown"
    assert "Neglect" not in title and "%" not in title


def test_public_title_gives_no_share_when_a_small_count_is_present():
    # a count of 1 to 5 is withheld even if not flagged: a share of the whole would bound it
    raw = _raw({"Schools": 50, "Police": 45, "Housing": 2})
    title = largest_share_title(raw, "of referrals", public=True)
    assert title == "Schools is the largest of the groups shown"


def test_public_title_when_every_group_is_withheld_is_neutral():
    raw = _raw({"Schools": 3, "Police": 2})
    assert largest_share_title(raw, "of referrals", public=True) == "Referrals by group"


def test_sector_title_claims_only_the_sectors_shown_when_some_are_withheld():
    from safeguarding.report.figures import _finding

    table = pd.DataFrame({"Education": [10, 12, 9], "Health": [8, 13, 7], "All other sectors": [30, 1, 2]})
    assert _finding(table, "quarter", "allegations") == "Education was the largest sector in 2 of 3 quarters"
    assert _finding(table, "quarter", "allegations", shown_only=True) == \
        "Education was the largest of the sectors shown in 2 of 3 quarters"
    # one named sector against the rest: its range of shares of the period totals (10/40, 12/13, 9/11)
    one = table.drop(columns="Health")
    assert _finding(one, "quarter", "allegations", shown_only=True) == \
        "Education made up 25% to 92% of allegations each quarter"


def test_a_bar_chart_with_fewer_than_two_groups_left_is_a_sentence_instead():
    """Before, the public report drew an empty chart when every group was withheld."""
    from types import SimpleNamespace

    from safeguarding.report.figures import category_bar

    ctx = SimpleNamespace(public=True)
    none_left = category_bar(ctx, _raw({"Education": 39, "Health": 14}, hidden={"Education", "Health"}),
                             title="t", label="t", what="allegations referred")
    assert "fig-alt" not in none_left
    assert "not charted: every group's figure is withheld" in unescape_markdown(none_left)
    one_left = category_bar(ctx, _raw({"Education": 39, "Health": 14, "Police": 3}, hidden={"Health"}),
                            title="t", label="t", what="allegations referred")
    assert "fig-alt" not in one_left and "every group's figure but one is withheld" in unescape_markdown(one_left)
