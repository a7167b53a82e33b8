"""What is published: the files of the area's folder a target receives, board builds refused; SHA-256 manifests."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from safeguarding.deploy.errors import RefusedError
from safeguarding.hashing import file_sha256
from safeguarding.site import (
    BOARD_MARKING,  # noqa: F401  (re-exported by safeguarding.deploy)
    HTML_NAME,
    INDEX_NAME,
    SITEMAP_NAME,
    STATEMENT_NAME,
    YEAR_FOLDER,
    board_report_reason,
)

#: the files of the area's folder a public target receives beside the year folders
SITE_FILES: tuple[str, ...] = (INDEX_NAME, STATEMENT_NAME, SITEMAP_NAME)


@dataclass
class LocalSite:
    """The files to publish (path in the release -> local file) and what was left out, and why."""

    area_dir: Path
    files: dict[str, Path]
    left_out: list[str] = field(default_factory=list)




def _walk(folder: Path, prefix: str, files: dict[str, Path], left_out: list[str]) -> None:
    """Every regular, non-hidden file under ``folder`` (no symbolic links followed), keyed ``prefix/rel``."""
    for path in sorted(folder.iterdir()):
        rel = f"{prefix}/{path.name}"
        if path.name.startswith("."):
            continue
        if path.is_symlink():
            left_out.append(f"{rel} (a symbolic link)")
        elif path.is_dir():
            _walk(path, rel, files, left_out)
        elif path.is_file():
            files[rel] = path


def collect_site(area_dir: Path, *, audience: str) -> LocalSite:
    """What a target of ``audience`` receives from ``area_dir`` (``reports/<area>/``).

    Public: ``index.html``, ``accessibility.html``, ``sitemap.xml`` and every ``YYYY/`` folder; a
    ``<year>-board/`` folder or anything else is left out (and listed), and a ``YYYY/`` folder holding a
    board report raises :class:`RefusedError` naming the file. Board: every file of the area's folder.
    Hidden files and folders (staging folders, locks) and symbolic links are never published. Raises
    :class:`RefusedError` when nothing is built (no year folder, or no ``index.html``).
    """
    if not area_dir.is_dir():
        raise RefusedError(f"nothing to publish: {area_dir} does not exist; build the review first "
                           "(python pipeline.py build --config report.yml)")
    files: dict[str, Path] = {}
    left_out: list[str] = []
    years: list[str] = []
    refused: list[str] = []
    for path in sorted(area_dir.iterdir()):
        name = path.name
        if name.startswith("."):
            continue
        if path.is_symlink():
            left_out.append(f"{name} (a symbolic link)")
            continue
        if path.is_file():
            if audience == "board" or name in SITE_FILES:
                files[name] = path
            else:
                left_out.append(f"{name} (not a page of the site)")
            continue
        if not path.is_dir():
            continue
        is_year = YEAR_FOLDER.fullmatch(name) is not None
        if audience == "public":
            if not is_year:
                why = "a board build" if name.endswith("-board") else "not a year folder"
                left_out.append(f"{name}/ ({why}: never published to a public target)")
                continue
            reason = board_report_reason(path)
            if reason:
                refused.append(reason)
                continue
        if is_year and (path / HTML_NAME).is_file():
            years.append(name)
        _walk(path, name, files, left_out)
    if refused:
        raise RefusedError("a board (OFFICIAL-SENSITIVE) build cannot be published to a public target: "
                           + "; ".join(refused) + ". Move that folder out of " + str(area_dir)
                           + " (a board build belongs in <year>-board/: pipeline.py build --audience board), "
                           "or publish to a target that report.yml declares audience: board")
    if not years:
        raise RefusedError(f"nothing to publish: {area_dir} holds no built year (a YYYY/ folder with "
                           f"{HTML_NAME}); build the review first (python pipeline.py build --config report.yml)")
    if INDEX_NAME not in files:
        raise RefusedError(f"nothing to publish: {area_dir / INDEX_NAME} is missing; write it with "
                           "python pipeline.py site --config report.yml")
    return LocalSite(area_dir, files, left_out)


#: SHA-256 of a local file's bytes (the project's one :func:`~safeguarding.hashing.file_sha256`)
sha256_file = file_sha256


def manifest_text(hashes: dict[str, str]) -> str:
    """``MANIFEST.sha256``: one ``<sha256>  <path>`` line per file, sorted (``sha256sum -c`` reads it)."""
    return "".join(f"{hashes[p]}  {p}\n" for p in sorted(hashes))


def parse_manifest(text: str) -> dict[str, str]:
    """The path -> SHA-256 mapping of a ``MANIFEST.sha256`` (lines it cannot read are skipped)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line)
        if m:
            out[m.group(2)] = m.group(1)
    return out
