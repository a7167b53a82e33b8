"""``python pipeline.py check --config report.yml``: what stops, or spoils, a build, before building.

For every configured input the check reads the file with the ingest's own
readers (:func:`safeguarding.ingest.readers.read_input`, or the national
format readers for ``format: cin_census`` / ``annex_a``), maps the headers as
the ingest does (:func:`safeguarding.ingest.mapping.map_columns`) and looks
only at the headers, the number of non-blank values per column and the
distinct values of the coded columns. Nothing is pseudonymised, converted or
written. It lists, grouped by input:

* **blocking**: a file that cannot be read, a required canonical column that
  is not mapped (with the closest unmapped header, by :mod:`difflib`), a
  configured header that is not in the file, a configured code that is not a
  valid code; and aggregate returns that cannot be read;
* **values not recognised**: every distinct value of a coded column that
  neither the built-in aliases nor the configured ``codes`` recognise, with
  its row count and the closest canonical code (the ingest would reject those
  rows);
* **headers not mapped** (informational): every source header the ingest does
  not read, with its number of non-blank values, and the columns dropped as
  personal or free text.

Each fix is given as a ``report.yml`` snippet to paste under
``inputs.<table>.columns`` or ``inputs.<table>.codes.<column>``.

Privacy: the output holds only headers, coded values and counts, never a
child identifier or a date of birth. A header that looks like a value (an
identifier or a date, as when ``header_row`` points at a data row) is not
shown; neither is a "coded" value that looks like an identifier or a date,
or that also occurs in an identifier or date column of the same file, nor
the values of a coded column that holds too many distinct values to be one
(a column mapped to the wrong header).

Exit status: 0 when nothing blocks a build, 1 when something does (``--strict``:
also when values are not recognised), 2 for a configuration error.

The package: :mod:`~safeguarding.check.findings` (what is found and how it is kept), :mod:`~safeguarding.check.inputs`
(each input), :mod:`~safeguarding.check.aggregates` (the returns), :mod:`~safeguarding.check.printed` (the report)
and :mod:`~safeguarding.check.cli` (the command).
"""

from __future__ import annotations

from safeguarding.check.aggregates import check_aggregates
from safeguarding.check.cli import add_arguments, run
from safeguarding.check.findings import INDENT, AggregateCheck, CheckResult, Finding, InputCheck, looks_like_value
from safeguarding.check.inputs import (
    GUESS_CUTOFF,
    HEADER_CUTOFF,
    MAX_VALUES_LISTED,
    WHOLLY_UNKNOWN_LISTED,
    check_input,
    check_inputs,
    closest_code,
    closest_header,
)
from safeguarding.check.printed import format_report

__all__ = [
    "GUESS_CUTOFF",
    "HEADER_CUTOFF",
    "INDENT",
    "MAX_VALUES_LISTED",
    "WHOLLY_UNKNOWN_LISTED",
    "AggregateCheck",
    "CheckResult",
    "Finding",
    "InputCheck",
    "add_arguments",
    "check_aggregates",
    "check_input",
    "check_inputs",
    "closest_code",
    "closest_header",
    "format_report",
    "looks_like_value",
    "run",
]
