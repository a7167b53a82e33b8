"""Checks between tables: rows of one table checked against another table ingested before it.

Each check is run by :func:`safeguarding.ingest.core.run_ingest` as soon as
the table it can reject rows of (or warn about) is ingested, so the table it
reads must come before it in ``schema.ENTITIES``. Rejections are recorded as
that table's problems (and so in ``ingest_rejected.csv``), warnings in its
report entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from safeguarding.ingest.results import TableResult


def _check_conferences(tables: dict[str, TableResult]) -> None:
    """Conferences held before their section 47 enquiry started are rejected."""
    icpc, s47 = tables.get("icpc"), tables.get("s47")
    if icpc is not None and icpc.fatal is None and "s47_id" in icpc.data:
        linked = ~pd.isna(icpc.data["s47_id"])
        if s47 is None or s47.fatal is not None:
            if linked.any():
                icpc.warnings.append("conference dates were not checked against S47 start dates: "
                                     "the s47 input is not configured or failed")
        else:
            ids, starts = s47.data["s47_id"], s47.data["s47_start_date"]
            usable = np.nonzero(~pd.isna(ids) & ~np.isnat(starts))[0]
            enquiries = pd.Index(ids[usable], dtype=object)
            usable = usable[~enquiries.duplicated(keep="first")]  # the first row of each enquiry counts
            pos = pd.Index(ids[usable], dtype=object).get_indexer(icpc.data["s47_id"])
            found = pos >= 0
            start = np.full(len(pos), np.datetime64("NaT"), dtype="datetime64[D]")
            start[found] = starts[usable[pos[found]]]
            when = icpc.data["icpc_date"]
            bad = np.nonzero(~np.isnat(start) & ~np.isnat(when) & (when < start))[0]
            if bad.size:
                srows = s47.row_numbers[usable[pos[bad]]]
                msgs = np.array([f"conference on {when[i]} is before its section 47 enquiry started on {start[i]} "
                                 f"(s47 input row {int(r)})" for i, r in zip(bad, srows, strict=True)], dtype=object)
                icpc.problems.add(bad, "conference_before_enquiry", icpc.header("icpc_date"),
                                  np.array([str(when[i]) for i in bad], dtype=object), msgs,
                                  "check the conference date and the enquiry it is linked to "
                                  f"('{icpc.header('s47_id')}'); correct whichever is wrong")
            unknown = int((linked & ~found).sum())
            if unknown:
                icpc.warnings.append(f"{unknown} conference(s) name an s47 enquiry that is not in the s47 input "
                                     "(kept; not checked against an enquiry start date)")


def _check_reviews(tables: dict[str, TableResult]) -> None:
    """Reviews of a plan that is not in the cp_plans input are rejected."""
    plans, reviews = tables.get("cp_plans"), tables.get("cp_reviews")
    if reviews is not None and reviews.fatal is None and reviews.n_read:
        if plans is None or plans.fatal is not None:
            reviews.warnings.append("review plan ids were not checked: the cp_plans input is not configured or failed")
        else:
            pid = plans.data["plan_id"]
            known = set(pid[~pd.isna(pid)])
            ok_plans = set(pid[plans.accepted() & ~pd.isna(pid)])
            rid = reviews.data["plan_id"]
            present = ~pd.isna(rid)
            rid_s = pd.Series(rid, dtype=object)
            unknown = present & ~rid_s.isin(known).to_numpy()
            rows = np.nonzero(unknown)[0]
            reviews.problems.add(rows, "unknown_plan", reviews.header("plan_id"), rid[rows],
                                 "this plan_id matches no plan in the cp_plans input",
                                 "check the plan reference; every review must belong to a plan in the cp_plans "
                                 "input (value shown pseudonymised)")
            orphan = int((present & ~unknown & ~rid_s.isin(ok_plans).to_numpy()).sum())
            if orphan:
                reviews.warnings.append(f"{orphan} review(s) belong to a plan whose row was rejected (reviews kept)")


def _check_same_day_referrals(tables: dict[str, TableResult]) -> None:
    """Referrals of one child on one day are counted but warned about."""
    refs = tables.get("referrals")
    if refs is not None and refs.fatal is None and refs.n_read:
        acc = refs.accepted()
        frame = pd.DataFrame({"c": refs.conv["child_id"].value_ids()[acc],
                              "d": refs.data["referral_date"][acc].astype("int64")})
        sizes = frame.groupby(["c", "d"], sort=False).size()
        multi = sizes[sizes > 1]
        if len(multi):
            refs.warnings.append(
                f"{int(multi.sum())} referrals share a child and a referral date with another referral "
                f"({len(multi)} child-days); counted as the source says, but they may be one referral "
                "recorded more than once")


#: Checks between tables, keyed by the table they can reject rows of or warn about. Each is run as soon
#: as that table is ingested, so the other table it reads must come before it in ENTITIES.
CROSS_CHECKS: dict[str, Callable[[dict[str, TableResult]], None]] = {
    "referrals": _check_same_day_referrals, "icpc": _check_conferences, "cp_reviews": _check_reviews,
}
