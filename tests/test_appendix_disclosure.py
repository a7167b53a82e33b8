"""The appendix's data-quality tables are counts about children: the public sees them rounded.

Before, a private fostering file of 4 rows was 'c' in Table 5.1 and '4 read, 4
accepted' in the appendix.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

from safeguarding.escape import unescape_markdown
from safeguarding.report.sections.appendix import data_quality, rounded_count


def _report() -> dict:
    return {"inputs": [
        {"table": "private_fostering", "rows_read": 4, "rows_accepted": 4, "rows_rejected": 0, "status": "built",
         "rejected_by_reason": {}},
        {"table": "referrals", "rows_read": 8551, "rows_accepted": 8548, "rows_rejected": 3, "status": "built",
         "rejected_by_reason": {"date_out_of_range": 3}},
    ], "reasons": {"date_out_of_range": "date out of range"}}


def _ctx(public: bool) -> SimpleNamespace:
    return SimpleNamespace(public=public, ingest_report=_report)


def _numbers(markdown: str) -> set[int]:
    return {int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", unescape_markdown(markdown))}


def test_public_data_quality_publishes_no_small_or_exact_row_count():
    md = data_quality(_ctx(public=True)).markdown
    numbers = _numbers(md)
    assert not numbers & {1, 2, 3, 4, 5}, f"a count from 1 to 5 is published: {sorted(numbers)}"
    assert not numbers & {8551, 8548}, "exact row counts let rejected = read - accepted be worked out"
    text = unescape_markdown(md)
    assert "fewer than 100" in text and "about 8,600" in text and "fewer than 10" in text


def test_board_data_quality_keeps_exact_counts():
    text = unescape_markdown(data_quality(_ctx(public=False)).markdown)
    assert "8,551" in text and "8,548" in text and "| 4 |" in text


def test_rounded_count():
    assert [rounded_count(n, 100) for n in (0, 4, 99, 100, 149, 151, 8551)] == [
        "0", "fewer than 100", "fewer than 100", "about 100", "about 100", "about 200", "about 8,600"]


def test_the_methods_appendix_states_the_policys_threshold_not_a_fixed_one():
    """Found reading the code: the appendix said "counts from 1 to 5" whatever threshold report.yml set, and told
    the board (who see every figure) that survey figures are withheld."""
    from safeguarding.disclosure.policy import Policy
    from safeguarding.report.sections.appendix import methods

    def ctx(public: bool, policy: Policy) -> SimpleNamespace:
        return SimpleNamespace(public=public, policy=policy, table=lambda _name: object(), publication=lambda: {})

    wider = methods(ctx(True, Policy(threshold=(1, 9)))).markdown
    assert "counts from 1 to 9 are shown as *c*" in wider and "a count from 1 to 9, or could be worked out" in wider
    assert "1 to 5" not in wider
    board = methods(ctx(False, Policy.unsuppressed())).markdown
    assert "withheld" not in board and "shown as *c*" not in board
