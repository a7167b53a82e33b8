"""One typed record for every problem the ingest reports: :class:`Problem`.

Child-level tables, census files, Annex A workbooks and partners' aggregate
returns all describe what went wrong the same way: the file, the spreadsheet
row (or CSV record, or XML line) and column, the value found there, a short
reason, a message naming all of these, the fix, and how serious it is.

* A whole-file failure is an :class:`~safeguarding.ingest.errors.IngestError`
  raised by the readers; its :attr:`~safeguarding.ingest.errors.IngestError.problem`
  is the record (severity ``error``, ``row`` set when one row is to blame).
* A partner's return collects its problems as a list of records (see
  :mod:`safeguarding.ingest.partners`); ``dropped`` says how many of the
  return's data cells (rows, for the tidy layout) the problem accounts for as
  not loaded, so that cells in = rows out + the sum of ``dropped``.
* The child-level validator stores its problems column by column for speed
  (:class:`~safeguarding.ingest.validate.Problems`, one entry per row, column
  and reason, each an error that rejects its row); the same fields, in the
  same sense, are written to ``ingest_rejected.csv``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass
from typing import Literal, NotRequired, TypedDict, Unpack

import numpy as np

Severity = Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning")

#: Fields every problem of a partner's return has in ``ingest_report.json`` (``aggregates.issues``), in order.
REPORT_FIELDS: tuple[str, ...] = ("file", "row", "column", "value", "reason", "message", "fix", "severity",
                                  "dropped")
#: Optional fields, added to a report entry only when set.
OPTIONAL_FIELDS: tuple[str, ...] = ("table", "key")


class ProblemEntry(TypedDict):
    """A problem as ``ingest_report.json`` holds it (:meth:`Problem.to_dict`).

    :data:`REPORT_FIELDS` always, in order, then :data:`OPTIONAL_FIELDS` when set.
    """

    file: str | None
    row: int | None
    column: str | None
    value: str | int | float | None
    reason: str
    message: str
    fix: str
    severity: Severity
    dropped: int
    table: NotRequired[str]
    key: NotRequired[str]


class ProblemChanges(TypedDict, total=False):
    """Fields of a :class:`Problem` to change (:meth:`Problem.replace`)."""

    message: str
    fix: str
    file: str | None
    row: int | None
    column: str | None
    value: str | int | float | None
    reason: str
    severity: Severity
    dropped: int
    table: str | None
    key: str | None


def show_value(value: object) -> str | int | float | None:
    """A cell value as a problem holds it: plain text, int, float or None, safe for JSON; long text cut to 200."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        return value
    if isinstance(value, (np.integer, np.floating)):
        return show_value(value.item())
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with an input: where it is, what was found, why it matters and how to fix it.

    ``message`` names the file, row and column itself, so it reads alone (in
    the Markdown report, on the command line); the other fields say the same
    in a form a program can use.
    """

    #: What is wrong, naming the file, row and column.
    message: str
    #: What to do about it: a change to the file, or the ``report.yml`` key to set and how.
    fix: str = ""
    #: The file as configured (or its path), None when no file is involved (a bad setting).
    file: str | None = None
    #: The 1-based spreadsheet row, CSV record or XML line; None for the whole file.
    row: int | None = None
    #: The column heading as in the source (or the month heading of a wide return); None when none applies.
    column: str | None = None
    #: The value found (see :func:`show_value`), None when none.
    value: str | int | float | None = None
    #: A short reason (``missing file``, ``not a number``, ``unparseable_date`` ...), for counting and filtering.
    reason: str = ""
    #: ``error`` (the row, cell or file is not loaded) or ``warning`` (loaded, or nothing to load, but check it).
    severity: Severity = "error"
    #: How many data cells (or rows) this problem accounts for as not loaded.
    dropped: int = 0
    #: The table (entity) the input feeds, when there is one.
    table: str | None = None
    #: The configuration key to change, e.g. ``inputs.referrals.header_row`` or ``aggregates[0].sheet``.
    key: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")
        if self.dropped < 0:
            raise ValueError(f"dropped must be 0 or more, not {self.dropped}")

    @property
    def is_error(self) -> bool:
        """True for an error (something not loaded), False for a warning."""
        return self.severity == "error"

    def text(self) -> str:
        """The message followed by ``Fix: ...`` (how an error is shown on its own)."""
        return f"{self.message} Fix: {self.fix}" if self.fix else self.message

    def to_dict(self) -> ProblemEntry:
        """The record as plain JSON: :data:`REPORT_FIELDS` always, :data:`OPTIONAL_FIELDS` when set."""
        row = None if self.row is None else int(self.row)  # a numpy integer is written as a plain one
        out: ProblemEntry = {"file": self.file, "row": row, "column": self.column, "value": self.value,
                             "reason": self.reason, "message": self.message, "fix": self.fix,
                             "severity": self.severity, "dropped": int(self.dropped)}
        if self.table is not None:
            out["table"] = self.table
        if self.key is not None:
            out["key"] = self.key
        return out

    @classmethod
    def from_dict(cls, data: ProblemEntry) -> Problem:
        """The record :meth:`to_dict` wrote (unknown keys are ignored; a field left out takes its default)."""
        return cls(data["message"], data.get("fix", ""), file=data.get("file"), row=data.get("row"),
                   column=data.get("column"), value=data.get("value"), reason=data.get("reason", ""),
                   severity=data.get("severity", "error"), dropped=data.get("dropped", 0), table=data.get("table"),
                   key=data.get("key"))

    def replace(self, **changes: Unpack[ProblemChanges]) -> Problem:
        """A copy with some fields changed."""
        return Problem(**{**asdict(self), **changes})
