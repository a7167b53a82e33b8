"""The fetch: every file downloaded, checked and put in place whole, or the folder left as it was."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from safeguarding.atomic import atomic_path
from safeguarding.benchmarks_fetch.checking import _acceptable_name, _derived_name, _label, check_file
from safeguarding.benchmarks_fetch.download import _download
from safeguarding.benchmarks_fetch.provenance import write_provenance
from safeguarding.benchmarks_fetch.release import _release_file, resolve_release
from safeguarding.benchmarks_fetch.sources import (
    _BY_NAME,
    CSC_DATA_RAW,
    DEFAULT_TIMEOUT,
    OGL_NAME,
    PROVENANCE_JSON,
    PUBLICATION_PAGE,
    RELEASE_URLS,
    SOURCE_NAMES,
    SOURCES,
    FetchedFile,
    FetchError,
    FetchReport,
    OfflineError,
    Release,
    SourceFile,
)
from safeguarding.hashing import file_sha256

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
    record: dict[str, object] = {
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
