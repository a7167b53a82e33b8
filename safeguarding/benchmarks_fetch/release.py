"""The latest Children in need release, found through the Explore Education Statistics content API."""

from __future__ import annotations

import re
from collections.abc import Sequence

from safeguarding.benchmarks_fetch.download import _get_json
from safeguarding.benchmarks_fetch.sources import (
    DEFAULT_TIMEOUT,
    PUBLICATION_SLUGS,
    FetchError,
    HTTPStatusError,
    Release,
    SourceFile,
)

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
