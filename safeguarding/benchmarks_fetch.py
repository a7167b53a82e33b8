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

import argparse
import contextlib
import csv
import datetime as dt
import errno
import hashlib
import http.client
import io
import json
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from safeguarding.atomic import atomic_path, write_text_atomic
from safeguarding.benchmarks import (
    LOCAL_AUTHORITY,
    MEASURES,
    NATIONAL,
    TABLE_FILES,
    BenchmarkError,
    read_ees_csv,
    read_population,
    read_statistical_neighbours,
)
from safeguarding.hashing import file_sha256

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
    files: tuple[Mapping[str, Any], ...]

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
    record: dict[str, Any]


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


# --------------------------------------------------------------------------- HTTP


def _offline_reason(exc: BaseException) -> str | None:
    """Why the server could not be reached, when ``exc`` means no connection at all; else None."""
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        inner = exc.reason
        if isinstance(inner, BaseException):
            return _offline_reason(inner)
        return f"{inner}" if inner else "no connection"
    if isinstance(exc, http.client.RemoteDisconnected):
        return None  # the server answered the connection, then closed it: not offline
    if isinstance(exc, socket.gaierror):
        return f"the name could not be looked up (DNS failure: {exc.strerror or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(exc, TimeoutError):
        return "the connection timed out"
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN):
        return f"the network is unreachable ({exc.strerror or exc})"
    return None


def _open(url: str, timeout: float) -> http.client.HTTPResponse:
    """Open ``url`` (http or https only) with a socket timeout; raise :class:`OfflineError` or :class:`FetchError`."""
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(f"{url}: not a web address (it must start with https:// or http://)")
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    try:
        return urllib.request.urlopen(req, timeout=timeout)  # scheme checked above: http(s) only
    except urllib.error.HTTPError as exc:
        exc.close()
        raise HTTPStatusError(f"{url}: the server answered {exc.code} {exc.reason}", exc.code) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = _offline_reason(exc)
        if reason is not None:
            raise OfflineError(f"cannot reach {url}: {reason}") from exc
        raise FetchError(f"{url}: the download failed ({exc})") from exc


@dataclass(frozen=True)
class _Download:
    bytes: int
    sha256: str
    header_name: str | None
    final_url: str


def _content_disposition_name(headers: Message) -> str | None:
    if headers.get("Content-Disposition") is None:
        return None
    name = headers.get_filename()
    return Path(name).name if name else None


def _download(url: str, dest: Path, timeout: float, max_bytes: int = MAX_BYTES) -> _Download:
    """Stream ``url`` into ``dest``; fail unless the whole body arrived within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    resp = _open(url, min(timeout, SOCKET_TIMEOUT))
    with resp:
        length_text = resp.headers.get("Content-Length")
        length = int(length_text) if length_text and length_text.strip().isdigit() else None
        if length is not None and length > max_bytes:
            raise FetchError(f"{url}: the file is {length:,} bytes, more than the {max_bytes:,} allowed; "
                             "it is not one of DfE's benchmark tables")
        digest = hashlib.sha256()
        size = 0
        with open(dest, "wb") as fh:
            for chunk in _chunks(resp, url, deadline, timeout, "download"):
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"{url}: more than {max_bytes:,} bytes; stopped (not a benchmark table)")
                digest.update(chunk)
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        if length is not None and size < length:
            raise FetchError(f"{url}: the download is incomplete: the connection closed after {size:,} of "
                             f"{length:,} bytes")
        return _Download(size, digest.hexdigest(), _content_disposition_name(resp.headers), resp.geturl())


def _chunks(resp: Any, url: str, deadline: float, timeout: float, what: str) -> Iterator[bytes]:
    """The body of ``resp`` in chunks, one socket read each, so the overall deadline is checked often.

    Raises :class:`FetchError` when the deadline passes or the connection breaks, naming ``what``
    ('download', 'answer') and the bytes received.
    """
    got = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchError(f"{url}: the {what} took longer than {timeout:g} seconds and was stopped after "
                             f"{got:,} bytes (use --timeout to allow longer)")
        try:
            chunk = resp.read1(CHUNK)
        except (http.client.IncompleteRead, OSError, http.client.HTTPException) as exc:
            raise FetchError(f"{url}: the {what} was cut off after {got:,} bytes ({exc})") from exc
        if not chunk:
            return
        got += len(chunk)
        yield chunk


def _get_json(url: str, timeout: float) -> Any:
    """GET a JSON document (bounded in time and size)."""
    deadline = time.monotonic() + timeout
    resp = _open(url, min(timeout, SOCKET_TIMEOUT))
    with resp:
        buf = io.BytesIO()
        for chunk in _chunks(resp, url, deadline, timeout, "answer"):
            buf.write(chunk)
            if buf.tell() > MAX_JSON_BYTES:
                raise FetchError(f"{url}: the answer is larger than {MAX_JSON_BYTES:,} bytes")
    try:
        return json.loads(buf.getvalue().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FetchError(f"{url}: the answer is not JSON ({exc}); the release could not be looked up") from exc


# --------------------------------------------------------------------------- the release


def resolve_release(urls: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> Release:
    """Look up the latest release through the EES content API, trying each address in turn.

    An address answering 404 (a renamed publication) moves on to the next;
    :class:`OfflineError` and any other failure stop at once.
    """
    errors: list[str] = []
    for url in urls:
        try:
            data = _get_json(url, timeout)
        except HTTPStatusError as exc:
            if exc.status != 404:
                raise
            errors.append(str(exc))
            continue
        if not isinstance(data, dict) or not data.get("id") or not isinstance(data.get("downloadFiles"), list):
            raise FetchError(f"{url}: the answer is not an EES release (no 'id' or 'downloadFiles'); the EES "
                             "content API may have changed; download the files by hand (docs/benchmarks.md)")
        publication = data.get("publication")
        pub = publication if isinstance(publication, dict) else {}
        slug_match = re.search(r"/publications/([^/]+)/releases/", url)
        return Release(
            url=url, id=str(data["id"]), title=str(data.get("title") or data.get("yearTitle") or ""),
            slug=str(data.get("slug") or ""), published=str(data.get("published") or ""),
            publication=str(pub.get("title") or "Children in need"),
            publication_slug=str(pub.get("slug") or (slug_match.group(1) if slug_match else PUBLICATION_SLUGS[0])),
            files=tuple(f for f in data["downloadFiles"] if isinstance(f, dict)),
        )
    raise FetchError("the Children in need release was not found: " + "; ".join(errors))


def _release_file(release: Release, source: SourceFile) -> tuple[str, str]:
    """(download address, file name) of the release's data file for ``source``."""
    pattern = re.compile(rf"{re.escape(source.prefix)}(_\d{{4}}(_to_\d{{4}})?)?\.csv", re.IGNORECASE)
    hits = [f for f in release.files if pattern.fullmatch(str(f.get("fileName", ""))) and f.get("id")]
    if not hits:
        names = sorted(str(f.get("fileName", "")) for f in release.files if str(f.get("fileName", "")))
        raise FetchError(
            f"no file named {source.prefix}*.csv in the release '{release.title}' ({release.page}); its files are: "
            f"{', '.join(names) or 'none'}. Download it by hand, or give its address with --source "
            f"{source.name}=URL (DfE's copy: {source.mirror})")
    best = max(hits, key=lambda f: (_last_year(str(f["fileName"])), str(f["fileName"])))
    return release.file_url(str(best["id"])), str(best["fileName"])


def _last_year(name: str) -> int:
    return max((int(y) for y in re.findall(r"(?<!\d)(\d{4})(?!\d)", name)), default=0)


# --------------------------------------------------------------------------- checking a file


def _label(source: SourceFile, name: str, url: str) -> str:
    return f"{name or source.prefix + '*.csv'} ({source.table}, downloaded from {url})"


def check_file(source: SourceFile, path: Path, label: str | None = None, file_name: str | None = None,
               ) -> dict[str, Any]:
    """Check a downloaded file as the report will read it; return ``rows`` and ``time_periods``.

    Every column in ``source.columns`` must be present (the message names the
    file, the column and the indicators that need it), each value column must
    hold numbers, and the file must pass the project's own reader
    (``read_ees_csv``, ``read_population`` or ``read_statistical_neighbours``),
    which rejects cells that are neither numbers nor DfE markers and incomplete
    neighbour lists. Messages start with ``label`` (default: the path). For the
    neighbour model, ``time_periods`` is the model year in ``file_name``, if any.
    Raises :class:`FetchError`.
    """
    label = label or str(path)

    def fail(msg: str) -> FetchError:
        return FetchError(f"{label}: {msg}")

    head = path.read_bytes()[:512].lstrip(b"\xef\xbb\xbf \r\n\t").lower()
    if head.startswith((b"<!doctype", b"<html", b"<?xml", b"{", b"[")):
        raise fail("this is a web page or JSON, not a CSV data file; the address may be wrong or the server "
                   "may be showing an error page")
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            header = [c.strip() for c in next(csv.reader(fh), [])]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise fail(f"cannot be read as a UTF-8 CSV file ({exc})") from exc
    missing = [c for c in source.columns if c not in header]
    if missing:
        why = "; ".join(f"'{c}'" + (f" (needed for {', '.join(source.needed_by[c])})" if c in source.needed_by
                                     else "") for c in missing)
        raise fail(f"missing column(s) {why}. DfE may have renamed or dropped them in this release: the file was "
                   "not saved, and the file already in the folder is unchanged")
    try:
        if source.reader == "neighbours":
            sn = read_statistical_neighbours(path)
            year = _last_year(file_name or "")
            return {"rows": int(sn["la_code"].nunique()), "time_periods": f"model {year}" if year else ""}
        df = read_ees_csv(path)
        if source.reader == "population":
            read_population(path)
    except BenchmarkError as exc:
        raise fail(str(exc).replace(str(path), "the file")) from exc
    except (ValueError, OSError, UnicodeDecodeError) as exc:  # pandas parser errors are ValueErrors
        raise fail(f"cannot be read as a CSV data file ({exc})") from exc
    not_numbers = [c for c in source.value_columns if c not in df.attrs.get("value_columns", [])]
    if not_numbers:
        raise fail(f"column(s) {', '.join(repr(c) for c in not_numbers)} hold no numbers")
    levels = set(df["geographic_level"].dropna())
    want = {LOCAL_AUTHORITY} | ({NATIONAL} if source.reader == "ees" else set())
    if not want <= levels:
        raise fail(f"no '{' or '.join(sorted(want - levels))}' rows; the file is incomplete")
    years = sorted(int(y) for y in df["time_period"].unique())
    span = f"{years[0]} to {years[-1]}" if len(years) > 1 else str(years[0])
    return {"rows": len(df), "time_periods": span}


# --------------------------------------------------------------------------- naming


def _acceptable_name(source: SourceFile, name: str | None) -> str | None:
    """``name`` when it is a plain file name the loader will find for ``source``, else None."""
    if not name:
        return None
    name = Path(urllib.parse.unquote(name)).name
    if re.fullmatch(rf"{re.escape(source.prefix)}[A-Za-z0-9_.\-]*\.csv", name) and not name.startswith("."):
        return name
    return None


def _derived_name(source: SourceFile, summary: Mapping[str, Any], today: dt.date) -> str:
    """A file name for a download whose address gives none, built so ``find_table_file`` prefers the newest."""
    if source.reader == "neighbours":
        return f"sn_model_{today.year}_wide.csv"
    span = str(summary.get("time_periods", "")).replace(" ", "_")
    return f"{source.prefix}_{span}.csv" if span else f"{source.prefix}_{today.year}.csv"


# --------------------------------------------------------------------------- the fetch


def manual_steps(folder: Path, names: Iterable[str] | None = None) -> str:
    """How to download the files by hand and where to put them (for the offline message and the docs)."""
    chosen = [_BY_NAME[n] for n in (names or _BY_NAME) if n in _BY_NAME]
    ees = [s for s in chosen if s.url is None]
    direct = [s for s in chosen if s.url is not None]
    lines = ["To download the files by hand:"]
    step = 1
    if ees:
        lines.append(f"  {step}. Open {PUBLICATION_PAGE} in a browser, choose 'Download all data (ZIP)' and unzip it.")
        lines.append(f"     From its data/ folder copy the files whose names start with "
                     f"{', '.join(s.prefix for s in ees)} into {folder} (keep the names).")
        step += 1
    for s in direct:
        lines.append(f"  {step}. Download {s.url} into {folder}.")
        step += 1
    lines.append(f"  DfE's copies of every file are also at {CSC_DATA_RAW}<file name>.")
    lines.append("The next `python pipeline.py build` reads them. Files copied by hand are not recorded in "
                 f"{PROVENANCE_JSON}: note where and when you got them, or run `python pipeline.py benchmarks "
                 "fetch` again when the machine is online (see docs/benchmarks.md).")
    return "\n".join(lines)


def offline_message(exc: OfflineError, folder: Path, names: Iterable[str] | None, kept: int) -> str:
    """The whole offline message: the address, that the machine seems offline, and the manual route."""
    done = (f"The {kept} file(s) downloaded before the connection failed were kept and recorded; nothing else "
            f"in {folder} was changed." if kept else f"Nothing in {folder} was changed.")
    return (f"{exc}.\nThis machine seems to be offline (or a firewall or proxy blocks the connection). {done}\n"
            f"{manual_steps(folder, names)}")


def fetch_benchmarks(folder: Path | str, *, overrides: Mapping[str, str] | None = None,  # noqa: C901
                     only: Iterable[str] | None = None, timeout: float = DEFAULT_TIMEOUT,
                     echo: Callable[[str], None] = print, now: dt.datetime | None = None) -> FetchReport:
    """Download every file of :data:`SOURCES` (or those named in ``only``) into ``folder``.

    ``overrides`` maps :data:`SOURCE_NAMES` to addresses: a file's name to a
    direct download address, ``release`` to the release look-up. Each file is
    downloaded to a temporary file, checked (:func:`check_file`) and renamed
    into place; a file that fails is reported in the result's ``failed`` and
    the file already in the folder is left as it was. ``PROVENANCE.json`` and
    ``README.md`` are rewritten for the files saved. Raises
    :class:`OfflineError` (after recording any file already saved) when a
    server cannot be reached at all, and :class:`FetchError` for a bad
    argument.
    """
    folder = Path(folder)
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(SOURCE_NAMES))
    if unknown:
        raise FetchError(f"unknown benchmark source(s) {', '.join(unknown)}; valid: {', '.join(SOURCE_NAMES)}")
    names = list(dict.fromkeys(only)) if only else [s.name for s in SOURCES]
    bad = [n for n in names if n not in _BY_NAME]
    if bad:
        raise FetchError(f"unknown benchmark file(s) {', '.join(bad)}; valid: {', '.join(_BY_NAME)}")
    if timeout <= 0:
        raise FetchError("--timeout must be a positive number of seconds")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(f"cannot create the benchmarks folder {folder}: {exc.strerror or exc}") from exc
    now = now or dt.datetime.now(dt.UTC)
    report = FetchReport(folder=folder)
    release: Release | None = None
    release_error: str | None = None
    try:
        for name in names:
            source = _BY_NAME[name]
            try:
                if name in overrides:
                    url, file_name, rel = overrides[name], None, None
                elif source.url is not None:
                    url, file_name, rel = source.url, None, None
                else:
                    if release is None and release_error is None:
                        try:
                            release = resolve_release([overrides["release"]] if "release" in overrides
                                                      else RELEASE_URLS, timeout)
                            echo(f"release: {release.publication}, {release.title} ({release.page})")
                        except OfflineError:
                            raise
                        except FetchError as exc:
                            release_error = str(exc)
                    if release is None:
                        raise FetchError(f"{release_error}. Download {source.prefix}*.csv by hand, or give its "
                                         f"address with --source {name}=URL (DfE's copy: {source.mirror})")
                    url, file_name = _release_file(release, source)
                    rel = release
                report.fetched.append(_fetch_one(source, url, file_name, rel, folder, timeout, now, echo))
            except OfflineError:
                raise
            except FetchError as exc:
                report.failed[name] = str(exc)
                echo(f"{name}: not saved; the file already in the folder, if any, is unchanged")
    except OfflineError as exc:
        raise OfflineError(offline_message(exc, folder, names, len(report.fetched))) from exc
    finally:
        if report.fetched:
            try:
                report.provenance = write_provenance(folder, report.fetched, now)
            except OSError as exc:  # WriteError: the previous provenance files are unchanged
                raise FetchError(f"the files were saved, but their provenance was not recorded: {exc}") from exc
    return report


def _fetch_one(source: SourceFile, url: str, file_name: str | None, release: Release | None, folder: Path,
               timeout: float, now: dt.datetime, echo: Callable[[str], None]) -> FetchedFile:
    """Download one file to a temporary file, check it, then rename it into place."""
    echo(f"{source.name}: downloading {url}")
    part = folder / f".{source.name}.download-{uuid.uuid4().hex[:8]}.part"
    try:
        got = _download(url, part, timeout)
        name = (_acceptable_name(source, file_name) or _acceptable_name(source, urllib.parse.urlsplit(url).path)
                or _acceptable_name(source, got.header_name))
        summary = check_file(source, part, _label(source, name or "", url), name)
        name = name or _derived_name(source, summary, now.date())
        target = folder / name
        previous = file_sha256(target) if target.is_file() else None
        with atomic_path(target) as tmp:
            os.replace(part, tmp)
    except OSError as exc:
        raise FetchError(f"{source.name}: cannot save the download in {folder}: {exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            part.unlink()
    status = "new" if previous is None else ("unchanged" if previous == got.sha256 else "updated")
    record: dict[str, Any] = {
        "file": name, "table": source.table, "title": source.title, "feeds": source.feeds, "url": url,
        "final_url": got.final_url if got.final_url != url else None,
        "sha256": got.sha256, "bytes": got.bytes,
        "downloaded": now.isoformat(timespec="seconds"), "download_date": now.date().isoformat(),
        "time_periods": summary["time_periods"], "rows": summary["rows"],
        "columns_checked": list(source.columns),
        "publication": release.publication if release else None,
        "release": release.title if release else None,
        "release_slug": release.slug if release else None,
        "release_published": release.published if release else None,
        "release_page": release.page if release else None,
        "release_version_id": release.id if release else None,
        "licence": OGL_NAME,
    }
    echo(f"{source.name}: {status}: {name} ({got.bytes:,} bytes, {summary['time_periods']}, sha256 {got.sha256})")
    return FetchedFile(source.name, target, status, {k: v for k, v in record.items() if v is not None})


# --------------------------------------------------------------------------- provenance


def read_provenance(folder: Path | str) -> dict[str, Any]:
    """The folder's ``PROVENANCE.json`` (an empty record when absent or unreadable)."""
    path = Path(folder) / PROVENANCE_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"files": {}}
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        return {"files": {}}
    return data


def write_provenance(folder: Path, fetched: Sequence[FetchedFile], now: dt.datetime) -> Path:
    """Merge ``fetched`` into ``PROVENANCE.json`` and rewrite ``README.md``; return the JSON's path.

    Records of files not fetched this time are kept. A ``README.md`` that this
    command did not write (no :data:`README_MARKER`) is left alone.
    """
    data = read_provenance(folder)
    files: dict[str, Any] = dict(data["files"])
    for f in fetched:
        files[f.name] = f.record
    order = {s.name: i for i, s in enumerate(SOURCES)}
    files = dict(sorted(files.items(), key=lambda kv: order.get(kv[0], len(order))))
    out = {
        "about": "Files downloaded by `python pipeline.py benchmarks fetch` (safeguarding annual review). "
                 "One record per benchmark file: address, release, time periods, download date and SHA-256.",
        "updated": now.isoformat(timespec="seconds"),
        "licence": OGL_NAME, "licence_url": OGL_URL, "attribution": ATTRIBUTION,
        "files": files,
    }
    path = folder / PROVENANCE_JSON
    write_text_atomic(path, json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    readme = folder / PROVENANCE_README
    existing = readme.read_text(encoding="utf-8", errors="replace") if readme.is_file() else ""
    if not existing or existing.startswith(README_MARKER):
        write_text_atomic(readme, provenance_readme(out))
    return path


def provenance_readme(data: Mapping[str, Any]) -> str:
    """The human-readable ``README.md`` for a provenance record."""
    lines = [README_MARKER, "", "# Benchmark files: DfE and ONS published statistics", "",
             "Downloaded by `python pipeline.py benchmarks fetch`, which checks every file's columns before "
             "saving it. The report reads these files (see docs/benchmarks.md in the project). "
             f"Machine-readable record: `{PROVENANCE_JSON}`. Last updated {data.get('updated', '')}.", "",
             "| file | table | release | time periods | downloaded | source address | SHA-256 |",
             "|---|---|---|---|---|---|---|"]
    for rec in data.get("files", {}).values():
        release = rec.get("release") or "address given by the user"
        if rec.get("release_page"):
            release = f"{rec.get('publication', '')}, {release} ({rec['release_page']})"
        lines.append(f"| `{rec.get('file', '')}` | {rec.get('table', '')} | {release} | "
                     f"{rec.get('time_periods', '')} | {rec.get('download_date', '')} | <{rec.get('url', '')}> | "
                     f"`{rec.get('sha256', '')}` |")
    lines += ["", "What each file feeds:", ""]
    lines += [f"- `{rec.get('file', '')}`: {rec.get('feeds', '')}" for rec in data.get("files", {}).values()]
    lines += ["", "## Licence", "", ATTRIBUTION, "",
              "Values `c` (suppressed), `x`, `z`, `:` and `u` are as published; DfE rounds national and regional "
              "totals to the nearest 10.", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``benchmarks fetch`` and its options."""
    sub = parser.add_subparsers(dest="benchmarks_action", metavar="ACTION", required=True)
    p = sub.add_parser(
        "fetch", help="download DfE's current benchmark files, check them and record provenance",
        description="Download the current DfE Children in need tables (C1, D3, D5, B1), the ONS population file "
                    "and DfE's statistical neighbour model into the benchmarks folder. Each file's columns are "
                    "checked before it replaces the one there; PROVENANCE.json and README.md record its address, "
                    "release, download date and SHA-256. See docs/benchmarks.md.")
    p.add_argument("--config", default="report.yml",
                   help="configuration file (default: report.yml); its benchmarks.folder is the destination")
    p.add_argument("--folder", default=None,
                   help="download into this folder instead of benchmarks.folder (relative to the current folder)")
    p.add_argument("--source", action="append", default=[], metavar="NAME=URL",
                   help=f"replace an address; NAME is one of {', '.join(SOURCE_NAMES)} (repeatable)")
    p.add_argument("--only", action="append", default=None, metavar="NAME",
                   help=f"fetch only this file ({', '.join(_BY_NAME)}); repeatable")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help=f"seconds allowed for each file (default {DEFAULT_TIMEOUT:g})")


def _parse_sources(items: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, url = item.partition("=")
        if not sep or not name.strip() or not url.strip():
            raise FetchError(f"--source {item!r}: write it as NAME=URL, e.g. --source c1=https://...")
        out[name.strip()] = url.strip()
    return out


def run(args: argparse.Namespace) -> int:
    """Run ``benchmarks fetch``; return 0 when every file was saved, 1 otherwise (offline included)."""
    from safeguarding.config import ConfigError, load_config

    overrides: dict[str, str] = {}
    folder: Path | None = Path(args.folder) if args.folder else None
    try:
        if folder is None or Path(args.config).exists():
            cfg = load_config(args.config)
            section = cfg.section("benchmarks")
            overrides.update({str(k): str(v) for k, v in (section.get("sources") or {}).items()})
            if folder is None:
                if not section.get("folder"):
                    raise FetchError(f"{args.config}: benchmarks.folder is not set; set it (the folder the report "
                                     "reads the DfE files from) or pass --folder DIR")
                folder = cfg.resolve(section["folder"])
        overrides.update(_parse_sources(args.source))
        assert folder is not None
        report = fetch_benchmarks(folder, overrides=overrides, only=args.only, timeout=args.timeout,
                                  echo=print)
    except (ConfigError, FetchError) as exc:  # OfflineError included: its message says what to do
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if report.provenance:
        print(f"provenance: {report.provenance}")
    for name, msg in report.failed.items():
        print(f"error: {name}: {msg}", file=sys.stderr)
    if report.failed:
        print(f"error: {len(report.failed)} of {len(report.failed) + len(report.fetched)} file(s) failed; the files "
              f"already in {report.folder} for them are unchanged", file=sys.stderr)
        return 1
    return 0

