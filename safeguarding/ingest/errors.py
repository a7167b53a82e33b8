"""The one exception type the ingest raises for bad input it cannot use."""

from __future__ import annotations

from safeguarding.ingest.problem import Problem


class IngestError(Exception):
    """A fatal problem with one input: its message names the file, where, and the fix.

    ``table`` is the entity name, ``key`` the configuration key to set (for
    example ``inputs.referrals.columns.referral_date``) when there is one,
    ``code`` a short reason (``missing file``, ``sheet not found`` ...). All of
    it is held as one :class:`~safeguarding.ingest.problem.Problem`
    (:attr:`problem`, severity ``error``), which partners' returns report as
    it is.
    """

    def __init__(self, message: str, *, table: str | None = None, file: str | None = None,
                 row: int | None = None, column: str | None = None, key: str | None = None,
                 fix: str | None = None, code: str = "unreadable file") -> None:
        self.problem = Problem(message, fix or "", file=file, row=row, column=column, reason=code,
                               severity="error", table=table, key=key)
        super().__init__(self.problem.text())

    @property
    def table(self) -> str | None:
        """The entity the input feeds."""
        return self.problem.table

    @property
    def file(self) -> str | None:
        """The file, when one is to blame."""
        return self.problem.file

    @property
    def row(self) -> int | None:
        """The 1-based row (or line), when one is to blame."""
        return self.problem.row

    @property
    def column(self) -> str | None:
        """The column, when one is to blame."""
        return self.problem.column

    @property
    def key(self) -> str | None:
        """The configuration key to set."""
        return self.problem.key

    @property
    def fix(self) -> str | None:
        """What to do (None when nothing was said)."""
        return self.problem.fix or None

    @property
    def reason(self) -> str:
        """The message without the fix (as given to the constructor)."""
        return self.problem.message

    @property
    def code(self) -> str:
        """The short reason (``missing file``, ``header not found`` ...)."""
        return self.problem.reason

    def __reduce__(self) -> tuple:
        """Pickle with every field (tables may be read in worker processes)."""
        p = self.problem
        return (_rebuild, (p.message, {"table": p.table, "file": p.file, "row": p.row, "column": p.column,
                                       "key": p.key, "fix": p.fix or None, "code": p.reason}))


def _rebuild(message: str, fields: dict) -> IngestError:
    return IngestError(message, **fields)
