"""``python pipeline.py benchmarks fetch``: download DfE's benchmark files, check them and record where they came from.

The files that :mod:`safeguarding.benchmarks` reads (DfE *Children in need*
tables C1, D3, D5 and B1, the ONS population of children aged 0 to 17 as DfE
tabulates it, and DfE's statistical neighbour model) are downloaded into the
benchmarks folder (``benchmarks.folder`` in ``report.yml``, or ``--folder``).
:data:`SOURCES` is the one list of what is fetched: each file's name, where it
comes from, the columns it must have and which benchmarks it feeds.

Each file is downloaded to a temporary file in the folder, checked with the
same readers the report uses (:func:`~safeguarding.benchmarks.read_ees_csv`,
:func:`~safeguarding.benchmarks.read_population`,
:func:`~safeguarding.benchmarks.read_statistical_neighbours`) and for every
column a benchmark :class:`~safeguarding.benchmarks.Measure` needs, and only
then renamed into place (:func:`safeguarding.atomic.atomic_path`). A failed,
partial or wrong download never replaces a good file. ``PROVENANCE.json`` and
a ``README.md`` in the folder record, for every file, the address it was
downloaded from, the release, the time periods it covers, the download date
and its SHA-256, with the Open Government Licence v3.0 attribution.

Where the files come from, and how sure we are (checked without internet
access, from the sources named; see ``docs/benchmarks.md``):

* **Children in need tables (C1, D3, D5, B1) - confirmed mechanism.** The
  latest release is looked up with the Explore Education Statistics (EES)
  content API, ``GET {api}/publications/{slug}/releases/latest`` (route and
  JSON fields ``id``, ``title``, ``slug``, ``published``, ``downloadFiles[]``
  with ``id`` and ``fileName`` as defined in DfE's EES source code,
  ``ReleaseController`` and ``ReleaseViewModel``), and each data file is
  downloaded from ``GET {api}/releases/{releaseVersionId}/files/{fileId}``
  (``ReleaseFileController``). ``{api}`` is
  ``https://content.explore-education-statistics.service.gov.uk/api``, which
  DfE's own Local Authority Interactive Tool code downloads releases from.
  The publication slug is ``children-in-need`` (DfE's 2025 dashboard code links
  ``/find-statistics/children-in-need/2025``); the older slug
  ``characteristics-of-children-in-need`` is tried when the first is not found.
  None of these addresses could be tried from here.
* **ONS population (``ons_mid-year_population_estimates``) - best guess.**
  Looked for in the same release; its EES layout suggests it is published
  there, but that is not confirmed. If it is not found, the error gives the
  mirror address to pass with ``--source ons=URL``.
* **Statistical neighbour model (``sn_model_2025_wide.csv``) - best guess.**
  DfE publishes it in no EES release found; the address used is the copy in
  DfE's ``dfe-analytical-services/CSC_outcomes_and_enablers`` repository
  (``data-raw/``, branch ``main``), where the project's copy came from.

Every address can be replaced, in ``report.yml`` (``benchmarks.sources``, keyed
by :data:`SOURCE_NAMES`: a file's name, or ``release`` for the release look-up)
or on the command line (``--source NAME=URL``); a replaced file address is
downloaded as it is, without the release look-up.

HTTP uses only the standard library (:mod:`urllib`). Every request has a
socket timeout and every download an overall deadline (``--timeout``) and a
size limit, so the command always ends.
"""

from __future__ import annotations

from safeguarding.benchmarks_fetch.checking import check_file
from safeguarding.benchmarks_fetch.cli import add_arguments, run
from safeguarding.benchmarks_fetch.fetch import fetch_benchmarks, manual_steps, offline_message
from safeguarding.benchmarks_fetch.provenance import provenance_readme, read_provenance, write_provenance
from safeguarding.benchmarks_fetch.release import resolve_release
from safeguarding.benchmarks_fetch.sources import (
    _BY_NAME,
    ATTRIBUTION,
    CHUNK,
    CSC_DATA_RAW,
    DEFAULT_TIMEOUT,
    EES_CONTENT_API,
    EES_ID_COLUMNS,
    EES_SITE,
    MAX_BYTES,
    MAX_JSON_BYTES,
    OGL_NAME,
    OGL_URL,
    PROVENANCE_JSON,
    PROVENANCE_README,
    PUBLICATION_PAGE,
    PUBLICATION_SLUGS,
    README_MARKER,
    RELEASE_URLS,
    SOCKET_TIMEOUT,
    SOURCE_NAMES,
    SOURCES,
    USER_AGENT,
    FetchedFile,
    FetchError,
    FetchReport,
    HTTPStatusError,
    OfflineError,
    Release,
    SourceFile,
)

__all__ = [
    "ATTRIBUTION",
    "CHUNK",
    "CSC_DATA_RAW",
    "DEFAULT_TIMEOUT",
    "EES_CONTENT_API",
    "EES_ID_COLUMNS",
    "EES_SITE",
    "MAX_BYTES",
    "MAX_JSON_BYTES",
    "OGL_NAME",
    "OGL_URL",
    "PROVENANCE_JSON",
    "PROVENANCE_README",
    "PUBLICATION_PAGE",
    "PUBLICATION_SLUGS",
    "README_MARKER",
    "RELEASE_URLS",
    "SOCKET_TIMEOUT",
    "SOURCES",
    "SOURCE_NAMES",
    "USER_AGENT",
    "_BY_NAME",
    "FetchError",
    "FetchReport",
    "FetchedFile",
    "HTTPStatusError",
    "OfflineError",
    "Release",
    "SourceFile",
    "add_arguments",
    "check_file",
    "fetch_benchmarks",
    "manual_steps",
    "offline_message",
    "provenance_readme",
    "read_provenance",
    "resolve_release",
    "run",
    "write_provenance",
]
