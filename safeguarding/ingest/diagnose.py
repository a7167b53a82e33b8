"""When every row of an input is rejected: a file-level error with the likely cause and the setting to change.

A table whose every row fails validation is almost never a table of bad
records: the file was read the wrong way (text encoding, delimiter, header
row, column mapping, month-first dates, code lists). Building an empty table
from it would look like a success, so :func:`all_rejected_error` turns it into
a fatal :class:`IngestError` for that table. The rows stay counted (rows read
= accepted + rejected) and listed in ``ingest_rejected.csv``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from safeguarding.ingest.dates import month_first_column
from safeguarding.ingest.errors import IngestError
from safeguarding.ingest.readers import RawTable
from safeguarding.ingest.validate import REASONS
from safeguarding.schema import CODE_LISTS, Column

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.ingest.results import TableResult

#: Problem values looked at when looking for the cause.
SAMPLE = 200
_MOJIBAKE = ("Ã", "â€", "Â")


def _canonical(t: TableResult, header: str) -> str | None:
    """The canonical column whose source header is ``header`` (None for a header not in the mapping)."""
    for col in t.entity.columns:
        if col.name in t.conv and t.header(col.name) == header:
            return col.name
    return None


def _examples(values: pd.Series, n: int = 3) -> str:
    shown = [str(v)[:40] for v in pd.unique(values.astype(str)) if str(v).strip()][:n]
    return ", ".join(f"'{v}'" for v in shown)


def _month_first(values: pd.Series) -> str | None:
    """A layout such as ``%m/%d/%Y`` when day/month/year-shaped values only make sense month first.

    The same test the conversion applies (:func:`safeguarding.ingest.dates.month_first_column`),
    on a sample of the rejected values.
    """
    sample = pd.unique(values.astype(str).head(SAMPLE * 5))
    found = month_first_column(np.asarray(sample, dtype=object))
    return None if found is None else found.layout


def _encoding_cause(raw: RawTable, values: pd.Series) -> tuple[str, str] | None:
    """(cause, value for ``encoding``) when the headers or values show the text was decoded wrongly."""
    if raw.fmt != "csv":
        return None
    texts = [str(h) for h in raw.headers] + [str(v) for v in values.head(SAMPLE)]
    joined = "".join(texts)
    used = raw.encoding or "auto"
    if "\x00" in joined:
        return (f"the text encoding: the values hold NUL bytes, so the file is probably UTF-16 (Excel's 'Unicode "
                f"Text') but was read as {used}", "utf-16")
    if used == "cp1252" and any(m in joined for m in _MOJIBAKE):
        return (f"the text encoding: values such as 'Ã©' are UTF-8 text read as Windows-1252 ({used})", "utf-8")
    if "\ufffd" in joined:
        return (f"the text encoding: some bytes are not valid {used} text and were replaced by '\ufffd'",
                "cp1252" if used.startswith("utf-8") else "utf-8")
    return None


def _delimiter_cause(raw: RawTable, values: pd.Series) -> str | None:
    """A cause when the values look like whole records split on another delimiter."""
    if raw.fmt != "csv":
        return None
    sample = [str(v) for v in values.head(SAMPLE) if str(v)]
    for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
        if sample and sum(sep in v for v in sample) >= 0.8 * len(sample):
            return f"the delimiter: the values hold {name}, so the rows are probably separated by {name}, not commas"
    return None


def all_rejected_error(t: TableResult) -> IngestError | None:
    """A fatal error for a table whose every row read was rejected; None when any row was accepted.

    ``t`` is a :class:`safeguarding.ingest.results.TableResult` after its row
    checks. The message names the file, how many rows were rejected and for
    what (the commonest first reason and its column), the first such row, the
    likely cause and, in the fix, the setting to change.
    """
    if t.fatal is not None or t.raw is None or t.n_read == 0 or t.accepted().any():
        return None
    frame = t.problems.frame()
    first = frame.drop_duplicates("row", keep="first")
    top = first.groupby(["reason", "column"], sort=False).size().sort_values(ascending=False, kind="stable")
    (reason, header), count = top.index[0], int(top.iloc[0])
    at = first[(first["reason"] == reason) & (first["column"] == header)]
    all_values = frame.loc[(frame["reason"] == reason) & (frame["column"] == header), "value"]
    row = int(t.row_numbers[int(at["row"].iloc[0])])
    key = t.key
    canon = _canonical(t, str(header))
    col = t.entity.column(canon) if canon else None
    extract = t.spec.format is None
    where = str(t.raw.path) + (f" (sheet {t.raw.sheet!r})" if t.raw.sheet else "")
    n = t.n_read
    share = "Every row was" if count == n else f"{count} of the {n} rows were"
    # example values only for columns that hold neither identifiers, free text nor dates of birth
    show = col is not None and col.kind in ("code", "codes", "bool", "int", "date") and canon != "date_of_birth"
    shown = _examples(all_values.head(SAMPLE)) if show else ""
    example = f" (e.g. {shown})" if shown else ""
    head = (f"{where}: all {n} rows read were rejected, so the {t.name} table is not built (every row is listed in "
            f"ingest_rejected.csv; rows read {n} = accepted 0 + rejected {n}). {share} rejected "
            f"first for {REASONS.get(reason, reason)} in '{header}'{example}, starting at row {row}.")
    cause, fix, setting = _cause(t, t.raw, reason, str(header), canon, col, all_values, key, extract)
    if extract:
        enc = _encoding_cause(t.raw, all_values)
        delim = _delimiter_cause(t.raw, all_values) if enc is None else None
        if enc is not None:
            cause, setting = enc[0], f"{key}.encoding"
            fix = (f"set {key}.encoding: {enc[1]} in report.yml (or auto), or save the file again from Excel as "
                   "'CSV UTF-8'")
        elif delim is not None:
            cause, setting = delim, f"{key}.file"
            fix = "save the file again from Excel as 'CSV UTF-8 (Comma delimited)' and point the input at it"
    return IngestError(f"{head} Likely cause: {cause}.", table=t.name, file=str(t.raw.path), row=row,
                       column=str(header), key=setting, fix=fix)


def _cause(t: TableResult, raw: RawTable, reason: str, header: str, canon: str | None, col: Column | None,
           values: pd.Series, key: str, extract: bool) -> tuple[str, str, str]:
    """(cause, fix, setting) for the commonest first reason."""
    mapping = f"{key}.columns.{canon}" if canon else f"{key}.columns"
    check_map = (f"check that {mapping} names the right column and that {key}.header_row is the row holding the "
                 "column names" if extract else "check that the file is the export this input expects")
    if reason in ("unparseable_date", "impossible_date"):
        layout = _month_first(values)
        if layout is not None:
            return (f"the dates in '{header}' are written month first (US layout, month/day/year) and are read "
                    "day first",
                    f'set {key}.date_format: "{layout}" in report.yml if the whole column is month first, or export '
                    "the dates again as DD/MM/YYYY or YYYY-MM-DD", f"{key}.date_format")
        return (f"'{header}' holds no date in a layout the ingest reads: the column mapped may not be a date column, "
                "or the dates use another layout",
                f"{check_map}; if the dates use another layout, set {key}.date_format", f"{key}.date_format")
    if reason == "date_out_of_range":
        return ("every date is outside the plausible range: the wrong column, the wrong period, or a range too "
                "narrow for this extract",
                f"{check_map}; if the dates are genuine, widen ingest.min_date / ingest.max_date in report.yml",
                "ingest.min_date")
    if reason in ("blank_identifier", "missing_required"):
        return (f"'{header}' ({canon}) is blank in every row: the header row used (row {raw.header_row}) may not "
                f"be the real one, or {canon} is mapped to an empty column",
                f"set {key}.header_row to the row holding the column names, and map the right column under "
                f"{mapping}" if extract else "check that the file is the export this input expects",
                f"{key}.header_row" if extract else f"{key}.file")
    if reason == "unknown_code" and col is not None and col.codes:
        codes = ", ".join(CODE_LISTS[col.codes])
        return (f"none of the values in '{header}' is a known {canon} code: the source uses its own labels",
                f"map each source value to a code under {key}.codes.{canon} in report.yml (source value: CODE), one "
                f"of: {codes}; or {check_map}", f"{key}.codes.{canon}")
    if reason in ("invalid_bool", "invalid_number"):
        what = "yes/no values" if reason == "invalid_bool" else "whole numbers"
        return (f"'{header}' holds no {what}: it is probably not the {canon} column", check_map, mapping)
    if reason == "extra_fields":
        return ("every row has more values than there are headers: the delimiter (commas) inside values is not "
                "quoted, or the rows use another delimiter than the header",
                "export the CSV again from Excel (Save As 'CSV UTF-8'), which quotes values holding commas, or quote "
                "them in the source", f"{key}.file")
    if reason == "end_before_start":
        pair = next(((a, b) for a, b in t.entity.date_order if t.header(b) == header), None)
        names = f"{key}.columns.{pair[0]} and {key}.columns.{pair[1]}" if pair else f"{key}.columns"
        return ("in every row the end date is before the start date: the two date columns are probably swapped",
                f"check {names}" if extract else "check the start and end dates in the source", mapping)
    if reason == "unknown_plan":
        return ("no review names a plan of the cp_plans input: the two extracts may come from different systems or "
                "runs, or write plan ids differently",
                f"export cp_plans and cp_reviews together, and check {mapping}", mapping)
    if reason == "conference_before_enquiry":
        return ("every conference is dated before its section 47 enquiry: the dates or the enquiry links are "
                "probably mapped wrongly", f"{check_map}; check inputs.s47.columns.s47_start_date too", mapping)
    return (f"'{header}' is wrong in every row", check_map, mapping)

