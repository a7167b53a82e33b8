"""Benchmarks from DfE and ONS published statistics: England, region, statistical neighbours, all councils.

The analyst downloads the children in need tables from Explore Education
Statistics (EES) into one folder (see ``docs/benchmarks.md``) and names it in
``report.yml``::

    area:
      la_code: "873"          # 3-digit DfE code or 9-character ONS code
    benchmarks:
      folder: data/reference/dfe

:class:`BenchmarkSource` then gives, for one of our indicator codes, a council
and a year, the council's own published figure, England, its region, its ten
statistical neighbours (each, their mean, median and pooled figure) and every
council for a funnel plot.

Conventions (all documented in ``docs/benchmarks.md``):

* ``time_period`` is the year ending 31 March (2025 = 2024-25), as in the
  rest of the project. Six-digit periods (``202425``) become 2025.
* Markers in numeric cells (``c`` suppressed, ``x`` withheld, ``z`` not
  applicable, ``:`` not available, ``u`` low reliability, ``low``, ``k``,
  blank) become NaN in the numeric column; the symbol is kept in a companion
  ``<column>_marker`` column (``<NA>`` where a number was published).
* A council is identified by its 3-digit DfE code (``old_la_code``), which has
  stayed the same when ONS re-coded Buckinghamshire (2020), North Yorkshire and
  Somerset (2023). A 9-character code (old or new, e.g. ``E10000023`` or
  ``E06000065`` for North Yorkshire) is translated to it. Councils that did
  not exist in a year (Northamptonshire's successors before 2022, Cumberland
  and Westmorland and Furness before 2024, Cumbria after 2023, the pre-2020
  Dorset councils) have no row for that year: the loader returns NaN with a
  note and never splices a predecessor's figures into a successor's series.
* Rates per 10,000 use the ONS mid-year estimate of children aged 0-17 for
  the mid-year inside the reporting year: DfE year ``Y`` uses the ONS
  ``time_period`` ``Y - 1`` (mid-2024 for 2024-25), as DfE's own dashboard
  code does. England and regional totals are rounded by DfE to the nearest
  10, so their rates carry that rounding.

The package: :mod:`~safeguarding.benchmarks.readers` (reading the files), :mod:`~safeguarding.benchmarks.tables`
(what feeds what) and :mod:`~safeguarding.benchmarks.source` (the comparisons).
"""

from __future__ import annotations

from safeguarding.benchmarks.readers import (
    ID_COLUMNS,
    MARKERS,
    BenchmarkError,
    read_ees_csv,
    read_statistical_neighbours,
    tidy,
)
from safeguarding.benchmarks.source import (
    LOCAL_AUTHORITY,
    LONDON_CODE,
    NATIONAL,
    NOT_CONFIGURED,
    REGIONAL,
    BenchmarkSource,
)
from safeguarding.benchmarks.tables import (
    ALL_COUNCILS_COLUMNS,
    D5_BAND_MEASURES,
    D5_BANDS,
    MEASURES,
    TABLE_FILES,
    Measure,
    find_table_file,
)
from safeguarding.population import council_population, read_population

__all__ = [
    "ALL_COUNCILS_COLUMNS",
    "D5_BANDS",
    "D5_BAND_MEASURES",
    "ID_COLUMNS",
    "LOCAL_AUTHORITY",
    "LONDON_CODE",
    "MARKERS",
    "MEASURES",
    "NATIONAL",
    "NOT_CONFIGURED",
    "REGIONAL",
    "TABLE_FILES",
    "BenchmarkError",
    "BenchmarkSource",
    "Measure",
    "council_population",
    "find_table_file",
    "read_ees_csv",
    "read_population",
    "read_statistical_neighbours",
    "tidy",
]
