"""Partners' aggregate returns: monthly counts, read through the common reader, checked and made tidy.

Partners who never send child-level records (the LADO, the private fostering
officer, the police) send a table of counts. Two layouts are accepted, each
named by an entry of ``aggregates:`` in ``report.yml``:

``layout: tidy``
    A CSV (or XLSX) with the columns ``indicator_id, period_start, period_type,
    breakdown, breakdown_value, numerator, denominator``. ``breakdown`` and
    ``breakdown_value`` default to ``all``; ``denominator`` is blank for counts.
    Source column names can be mapped with ``columns: {indicator_id: "Measure"}``.

``layout: wide``
    The shape partners actually send: one row per measure or breakdown, one
    column per month (``Apr`` .. ``Mar`` of ``financial_year``, also written
    ``April``, ``Apr-24``, ``Apr 2024``, an Excel date, or ``YYYY-MM``), an
    optional year-to-date column, and title rows above the header. Row labels
    are mapped to indicator codes with ``rows:``.

Keys of one entry (``aggregates[i]``): ``file`` (looked up in ``paths.raw``,
then beside ``report.yml``), ``layout`` (``tidy`` | ``wide``; default ``wide``
when ``rows`` is given), ``sheet`` (XLSX sheet name or 1-based number; default
the first), ``header_row`` (1-based; default found automatically),
``financial_year`` (default the report ``year``), ``label_column`` (heading,
1-based number or letter; default the first column), ``ytd_column`` (heading;
default any of ``YTD``, ``Year to date``, ``Total``; ``none`` to switch off),
``rows`` (``{"Row label": ID}`` or ``{"Row label": {indicator: ID, breakdown:
sector, breakdown_value: education}}``; without ``rows`` only labels that are
themselves indicator codes are read), ``columns`` (tidy: canonical name ->
source heading), ``proportions`` (tidy: indicator codes whose numerator may not
exceed the denominator), ``stock_flow``, ``encoding``, ``delimiter``.

Every entry is read independently: a missing, empty or unreadable file is an
error *for that return* and the others still load. Nothing is lost silently.
Files are read by :func:`safeguarding.ingest.readers.read_grid`, the layer
every other input goes through: the same encodings (UTF-8 with or without a
mark, Windows-1252, UTF-16/32), delimiters (commas, semicolons, tabs, bars:
found from the header), sheets (by name or number; else the first visible one)
and header search. For the wide layout, the *data cells* are the month cells
of every non-blank row below the header; for the tidy layout, the non-blank
rows below the header. Each data cell (row) either becomes one tidy row or is
counted in the ``dropped`` field of exactly one problem, so that::

    cells in = rows out + sum(problem.dropped for problem in problems)

The per-return figures are attached to the returned frame as
``frame.attrs["accounting"]`` (a list of :class:`~.collect.Accounting`:
``file``, ``layout``, ``cells_in``, ``rows_out``, ``cells_dropped``,
``errors``, ``warnings``).

Checks made (reported by row and month, never accepted silently):

* a year-to-date column must equal the sum of its months; when it does not,
  the months are still used and the year-to-date figure is not;
* stock and flow (``stock_flow: [{open: ID, new: ID, closed: ID, opening: N}]``):
  open at the end of each month must equal the previous month's open plus new
  minus closed.

Each problem is a :class:`~safeguarding.ingest.problem.Problem` (``file, row,
column, value, reason, message, fix, severity``, ``'error'`` or ``'warning'``,
and ``dropped``: how many data cells it accounts for as not loaded; 0 for
checks and warnings on loaded values). ``row`` is the 1-based spreadsheet row
(CSV record) number, or None for a problem with the whole file.

Modules: :mod:`.returns` (reading each entry, the public functions),
:mod:`.wide` and :mod:`.tidy` (the layouts), :mod:`.stock_flow`,
:mod:`.cells` (numbers, months, dates in cells), :mod:`.collect` (the problems,
figures and accounting of one return).
"""

from __future__ import annotations

from safeguarding.ingest.partners.cells import MISSING_MARKERS, PERIOD_TYPES
from safeguarding.ingest.partners.collect import OUTPUT_COLUMNS, Accounting
from safeguarding.ingest.partners.returns import (
    SPEC_KEYS,
    accounting_holds,
    load_aggregates,
    read_aggregate_return,
    run_aggregates,
    write_aggregates,
)
from safeguarding.ingest.partners.tidy import TIDY_OPTIONAL, TIDY_REQUIRED

__all__ = [
    "MISSING_MARKERS",
    "OUTPUT_COLUMNS",
    "PERIOD_TYPES",
    "SPEC_KEYS",
    "TIDY_OPTIONAL",
    "TIDY_REQUIRED",
    "Accounting",
    "accounting_holds",
    "load_aggregates",
    "read_aggregate_return",
    "run_aggregates",
    "write_aggregates",
]
