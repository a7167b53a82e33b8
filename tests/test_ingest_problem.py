"""The one problem record (safeguarding.ingest.problem.Problem) and IngestError carrying it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import pickle

import numpy as np
import pytest

from safeguarding.ingest.errors import IngestError
from safeguarding.ingest.problem import OPTIONAL_FIELDS, REPORT_FIELDS, Problem, show_value


def test_problem_is_frozen_and_checks_its_severity_and_dropped():
    p = Problem("r.csv row 3, Apr: 'tbc' is not a number", "type the count", file="r.csv", row=3, column="Apr",
                value="tbc", reason="not a number", dropped=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.row = 4  # type: ignore[misc]
    with pytest.raises(ValueError, match="severity"):
        Problem("x", severity="fatal")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dropped"):
        Problem("x", dropped=-1)
    assert p.is_error and not p.replace(severity="warning").is_error
    assert p.replace(row=9).row == 9 and p.row == 3


def test_problem_report_dict_keeps_the_report_fields_in_order_and_reads_back():
    p = Problem("m", "f", file="a.xlsx", row=2, column="YTD", value=42, reason="ytd mismatch", severity="warning")
    d = p.to_dict()
    assert tuple(d) == REPORT_FIELDS  # what ingest_report.json held before: no new keys for these problems
    assert d["dropped"] == 0 and d["severity"] == "warning"
    json.dumps(d)
    keyed = p.replace(key="aggregates[0].ytd_column", table="referrals")
    assert tuple(keyed.to_dict()) == REPORT_FIELDS + OPTIONAL_FIELDS
    assert Problem.from_dict({**keyed.to_dict(), "extra": 1}) == keyed


def test_problem_text_appends_the_fix():
    assert Problem("r.csv: file not found.", "put it there").text() == "r.csv: file not found. Fix: put it there"
    assert Problem("no fix here").text() == "no fix here"


@pytest.mark.parametrize(("value", "shown"), [
    (None, None), (True, "True"), (3, 3), (2.5, 2.5), (float("nan"), "nan"), (np.int64(7), 7),
    (np.float64(1.5), 1.5), (dt.date(2024, 4, 1), "2024-04-01"), ("x" * 300, "x" * 197 + "..."),
])
def test_show_value_gives_plain_json_values(value, shown):
    assert show_value(value) == shown


def test_ingest_error_holds_a_problem_and_pickles_with_it():
    exc = IngestError("x.csv: there is no sheet called 'Nope'.", file="x.csv", key="aggregates[1].sheet",
                      fix="set aggregates[1].sheet to one of the sheet names", code="sheet not found", row=None,
                      table="referrals", column=None)
    assert str(exc) == "x.csv: there is no sheet called 'Nope'. Fix: set aggregates[1].sheet to one of the sheet names"
    assert exc.problem == Problem("x.csv: there is no sheet called 'Nope'.",
                                  "set aggregates[1].sheet to one of the sheet names", file="x.csv",
                                  reason="sheet not found", table="referrals", key="aggregates[1].sheet")
    assert (exc.reason, exc.code, exc.key, exc.table, exc.file) == (
        "x.csv: there is no sheet called 'Nope'.", "sheet not found", "aggregates[1].sheet", "referrals", "x.csv")
    back = pickle.loads(pickle.dumps(exc))
    assert back.problem == exc.problem and str(back) == str(exc)
    assert IngestError("m").fix is None and IngestError("m").code == "unreadable file"
