"""Where DfE's and ONS's benchmark files are, what each must hold, and the fetch's errors and results."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from safeguarding.benchmarks import (
    MEASURES,
    TABLE_FILES,
)

# --------------------------------------------------------------------------- where the files are

#: EES content API (the service behind the Explore Education Statistics website).
EES_CONTENT_API = "https://content.explore-education-statistics.service.gov.uk/api"
#: EES website, for the addresses people open in a browser.
EES_SITE = "https://explore-education-statistics.service.gov.uk"
#: Publication slugs of the Children in need statistics, tried in order (renamed from the second for 2025).
PUBLICATION_SLUGS: tuple[str, ...] = ("children-in-need", "characteristics-of-children-in-need")
#: Latest-release look-ups, tried in order until one is found.
RELEASE_URLS: tuple[str, ...] = tuple(f"{EES_CONTENT_API}/publications/{s}/releases/latest"
                                      for s in PUBLICATION_SLUGS)
#: The release page a person opens to download the files by hand.
PUBLICATION_PAGE = f"{EES_SITE}/find-statistics/{PUBLICATION_SLUGS[0]}"
#: DfE's copy of the files in the repository the project's reference copy came from.
CSC_DATA_RAW = ("https://raw.githubusercontent.com/dfe-analytical-services/CSC_outcomes_and_enablers/main/"
                "data-raw/")

OGL_NAME = "Open Government Licence v3.0"
OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
ATTRIBUTION = (
    f"Contains public sector information licensed under the {OGL_NAME} ({OGL_URL}). "
    "Source: Department for Education, Children in need statistics (Explore Education Statistics) and "
    "children's services statistical neighbour model; Office for National Statistics, mid-year population "
    "estimates, as tabulated by the Department for Education."
)

PROVENANCE_JSON = "PROVENANCE.json"
PROVENANCE_README = "README.md"
#: First line of the README this command writes; a README.md without it is someone else's and is left alone.
README_MARKER = "<!-- written by `python pipeline.py benchmarks fetch`; re-run it rather than editing -->"

DEFAULT_TIMEOUT = 300.0  # seconds for one whole file
SOCKET_TIMEOUT = 30.0  # seconds for connecting and for each read
MAX_BYTES = 200 * 1024 * 1024  # a Children in need table is under 1 MB
MAX_JSON_BYTES = 20 * 1024 * 1024
CHUNK = 64 * 1024
USER_AGENT = "safeguarding-annual-review/0.1 (benchmarks fetch; Python urllib)"

#: Identifier columns that :class:`~safeguarding.benchmarks.BenchmarkSource` reads from every EES table.
EES_ID_COLUMNS: tuple[str, ...] = ("time_period", "geographic_level", "region_code", "region_name",
                                   "old_la_code", "new_la_code", "la_name")


def _measure_columns(table: str) -> dict[str, tuple[str, ...]]:
    """Column -> the indicators (:data:`~safeguarding.benchmarks.MEASURES`) that need it, for one DfE table."""
    need: dict[str, list[str]] = {}
    for m in MEASURES.values():
        if m.table != table:
            continue
        for col in (m.numerator, m.denominator, m.published):
            if col and col != "population":
                need.setdefault(col, []).append(m.indicator_id)
    return {c: tuple(dict.fromkeys(ids)) for c, ids in need.items()}


@dataclass(frozen=True)
class SourceFile:
    """One file the benchmarks folder needs: where it comes from, what it must hold and what it feeds.

    ``url`` is a direct address, or None when the file is found by name in the
    latest EES release (:data:`RELEASE_URLS`). ``mirror`` is DfE's copy in the
    ``CSC_outcomes_and_enablers`` repository, given in error messages as an
    alternative. ``reader`` names the check: ``ees`` (:func:`read_ees_csv`),
    ``population`` (:func:`read_population`) or ``neighbours``
    (:func:`read_statistical_neighbours`). ``columns`` must all be present;
    ``value_columns`` (a subset) must hold numbers; ``needed_by`` says which
    indicators need each column. ``confirmed`` says how sure we are of the
    address.
    """

    name: str
    table: str
    title: str
    feeds: str
    reader: str
    columns: tuple[str, ...]
    url: str | None
    mirror: str
    confirmed: str
    value_columns: tuple[str, ...] = ()
    needed_by: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        """The start of the file name, by which :func:`~safeguarding.benchmarks.find_table_file` finds it."""
        return TABLE_FILES[self.name]


def _ees_table(name: str, table: str, title: str, feeds: str, mirror_file: str, confirmed: str) -> SourceFile:
    needs = _measure_columns(name)
    return SourceFile(name=name, table=table, title=title, feeds=feeds, reader="ees",
                      columns=EES_ID_COLUMNS + tuple(needs), url=None, mirror=CSC_DATA_RAW + mirror_file,
                      confirmed=confirmed, value_columns=tuple(needs), needed_by=needs)


_IN_RELEASE = ("confirmed mechanism: found by name in the latest Children in need release through the EES content "
               "API (route from DfE's EES source code); not tried from here")

#: Every file ``benchmarks fetch`` downloads, in order. The one place addresses and expected columns live.
SOURCES: tuple[SourceFile, ...] = (
    _ees_table("c1", "C1", "Referrals and re-referrals within 12 months",
               "REFERRALS, REFERRAL_RATE, REREFERRALS_12M",
               "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv", _IN_RELEASE),
    _ees_table("d3", "D3", "Child protection plans started, and second or subsequent plans",
               "CPP_STARTED, CPP_SUBSEQUENT", "d3_cpps_subsequent_plan_2013_to_2025.csv", _IN_RELEASE),
    _ees_table("d5", "D5", "Child protection plans open at 31 March by length",
               "CPP_OPEN, CPP_OPEN_2YRS, CPP_RATE and the D5 length bands",
               "d5_cpps_at31march_by_duration_2013_to_2025.csv", _IN_RELEASE),
    _ees_table("b1", "B1", "Children in need episodes",
               "council names and codes by year (no indicator yet)", "b1_children_in_need_2013_to_2025.csv",
               _IN_RELEASE),
    SourceFile(name="ons", table="ONS", title="ONS mid-year population estimates, children aged 0 to 17",
               feeds="REFERRAL_RATE and CPP_RATE denominators; population_for",
               reader="population", columns=(*EES_ID_COLUMNS, "population_estimate"), url=None,
               mirror=CSC_DATA_RAW + "ons_mid-year_population_estimates_2012_to_2024.csv",
               confirmed=("best guess: looked for in the Children in need release (its EES layout suggests it is "
                          "published there); not confirmed"),
               value_columns=("population_estimate",),
               needed_by={"population_estimate": ("REFERRAL_RATE", "CPP_RATE")}),
    SourceFile(name="sn", table="SN", title="DfE children's services statistical neighbour model (wide)",
               feeds="statistical neighbours of every benchmarked indicator",
               reader="neighbours", columns=("old_la_code", "la_name", *(f"SN_{k}" for k in range(1, 11))),
               url=CSC_DATA_RAW + "sn_model_2025_wide.csv", mirror=CSC_DATA_RAW + "sn_model_2025_wide.csv",
               confirmed=("best guess: DfE's copy in dfe-analytical-services/CSC_outcomes_and_enablers (data-raw/, "
                          "branch main); DfE publishes the model in no EES release found")),
)

#: Names usable in ``benchmarks.sources`` and ``--source``: one per file, plus ``release`` (the release look-up).
SOURCE_NAMES: tuple[str, ...] = (*(s.name for s in SOURCES), "release")

_BY_NAME: dict[str, SourceFile] = {s.name: s for s in SOURCES}


# --------------------------------------------------------------------------- errors and results


class FetchError(RuntimeError):
    """A file could not be downloaded or failed its checks; the file already in the folder is unchanged."""


class OfflineError(FetchError):
    """The server could not be reached at all (no network, DNS failure, connection refused, timeout)."""


class HTTPStatusError(FetchError):
    """The server answered with an HTTP error status (``status``, e.g. 404)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Release:
    """The EES release the files were found in (``id`` is the release version id)."""

    url: str
    id: str
    title: str
    slug: str
    published: str
    publication: str
    publication_slug: str
    files: tuple[Mapping[str, object], ...]

    @property
    def page(self) -> str:
        """The release's page on the EES website."""
        return f"{EES_SITE}/find-statistics/{self.publication_slug}/{self.slug}".rstrip("/")

    def file_url(self, file_id: str) -> str:
        """Download address of one of the release's files (``{api}/releases/{id}/files/{fileId}``)."""
        root = self.url.split("/publications/", 1)[0]
        return f"{root}/releases/{urllib.parse.quote(self.id)}/files/{urllib.parse.quote(file_id)}"


@dataclass
class FetchedFile:
    """One file saved in the folder, with its provenance record."""

    name: str
    path: Path
    status: str  # "new" | "updated" | "unchanged"
    record: dict[str, object]


@dataclass
class FetchReport:
    """What :func:`fetch_benchmarks` did: files saved, files that failed (with why), the provenance file."""

    folder: Path
    fetched: list[FetchedFile] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    provenance: Path | None = None

    @property
    def ok(self) -> bool:
        """True when every requested file was saved."""
        return not self.failed
