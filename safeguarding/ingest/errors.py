"""The one exception type the ingest raises for bad input it cannot use."""

from __future__ import annotations


class IngestError(Exception):
    """A fatal problem with one input table: its message names the file, where, and the fix.

    ``table`` is the entity name, ``key`` the configuration key to set (for
    example ``inputs.referrals.columns.referral_date``) when there is one.
    """

    def __init__(self, message: str, *, table: str | None = None, file: str | None = None,
                 row: int | None = None, column: str | None = None, key: str | None = None,
                 fix: str | None = None) -> None:
        self.table = table
        self.file = file
        self.row = row
        self.column = column
        self.key = key
        self.fix = fix
        self.reason = message
        parts = [message]
        if fix:
            parts.append(f"Fix: {fix}")
        super().__init__(" ".join(parts))

    def __reduce__(self) -> tuple:
        """Pickle with every field (tables may be read in worker processes)."""
        return (_rebuild, (self.reason, {"table": self.table, "file": self.file, "row": self.row,
                                         "column": self.column, "key": self.key, "fix": self.fix}))


def _rebuild(message: str, fields: dict) -> IngestError:
    return IngestError(message, **fields)
