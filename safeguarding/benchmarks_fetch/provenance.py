"""Where each file came from: PROVENANCE.json and the folder's README."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict, TypeGuard

from safeguarding.atomic import write_text_atomic
from safeguarding.benchmarks_fetch.sources import (
    ATTRIBUTION,
    OGL_NAME,
    OGL_URL,
    PROVENANCE_JSON,
    PROVENANCE_README,
    README_MARKER,
    SOURCES,
    FetchedFile,
)

# --------------------------------------------------------------------------- provenance


class Provenance(TypedDict, total=False):
    """``PROVENANCE.json``: who wrote it and when, the licence, and one record per file (``files``, by source
    name: :attr:`FetchedFile.record`'s keys, such as ``file``, ``url``, ``release`` and ``sha256``)."""

    about: str
    updated: str
    licence: str
    licence_url: str
    attribution: str
    files: dict[str, dict[str, object]]


def _is_provenance(data: object) -> TypeGuard[Provenance]:
    """True for a mapping whose ``files`` is a mapping (the records are read as written)."""
    return isinstance(data, dict) and isinstance(data.get("files"), dict)


def read_provenance(folder: Path | str) -> Provenance:
    """The folder's ``PROVENANCE.json`` (an empty record when absent or unreadable)."""
    path = Path(folder) / PROVENANCE_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"files": {}}
    if not _is_provenance(data):
        return {"files": {}}
    return data


def write_provenance(folder: Path, fetched: Sequence[FetchedFile], now: dt.datetime) -> Path:
    """Merge ``fetched`` into ``PROVENANCE.json`` and rewrite ``README.md``; return the JSON's path.

    Records of files not fetched this time are kept. A ``README.md`` that this
    command did not write (no :data:`README_MARKER`) is left alone.
    """
    data = read_provenance(folder)
    files: dict[str, dict[str, object]] = dict(data["files"])
    for f in fetched:
        files[f.name] = f.record
    order = {s.name: i for i, s in enumerate(SOURCES)}
    files = dict(sorted(files.items(), key=lambda kv: order.get(kv[0], len(order))))
    out: Provenance = {
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


def provenance_readme(data: Provenance) -> str:
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
