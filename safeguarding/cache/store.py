"""Cache entries: one folder per stage with its files and ``manifest.json`` (written last), checked file by
file before use (:class:`StageCache`, :class:`Lookup`, :class:`Entry`, :func:`restore`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TypedDict

from safeguarding.hashing import file_sha256

#: bumped when the layout of an entry changes (older entries are then simply misses)
FORMAT = 1
MANIFEST = "manifest.json"


class EntryMeta(TypedDict, total=False):
    """What a stage keeps in its entry's manifest beside the files (each stage sets its own keys)."""

    outputs: list[str]  # ingest: the processed tables written, in order
    failed: dict[str, str]  # ingest: the tables that could not be built, with the message
    stats: dict[str, object]  # disclosure: what disclosure control counted
    source_sha256: str  # a chapter: the SHA-256 of the notebook it was executed from
    html: str  # publish: the file names of the HTML and PDF, the renderer's warnings and the renderer used
    pdf: str
    warnings: list[str]
    renderer: str | None
    order: list[str]  # data: the data files, in the order they were written


@dataclasses.dataclass
class Entry:
    """A checked cache entry: its folder, key, files (``{name: path in the entry}``) and ``meta``."""

    folder: Path
    key: str
    files: dict[str, Path]
    meta: EntryMeta


@dataclasses.dataclass
class Lookup:
    """The answer of :meth:`StageCache.lookup`: an entry to use, or why the stage must run."""

    entry: Entry | None
    reason: str  # "hit", "forced", "no entry", "inputs changed", or "corrupt: ..."

    @property
    def corrupt(self) -> bool:
        """True when an entry with the right key (or an unreadable one) failed its check."""
        return self.reason.startswith("corrupt")


class StageCache:
    """The cache entries of one build, under ``root`` (``build/cache/<area>-<year>``).

    ``force`` makes every :meth:`lookup` a miss (the stages run and :meth:`store` refreshes the entries).
    """

    def __init__(self, root: Path, *, force: bool = False, logger: logging.Logger | None = None) -> None:
        self.root = Path(root)
        self.force = force
        self.logger = logger or logging.getLogger(__name__)

    def folder(self, stage_id: str) -> Path:
        """The entry folder of ``stage_id`` (e.g. ``ingest``, ``public/chapters/03-referrals``)."""
        return self.root.joinpath(*stage_id.split("/"))

    def lookup(self, stage_id: str, key: str) -> Lookup:
        """Find and check the entry of ``stage_id`` for ``key``; see the module docstring."""
        if self.force:
            return Lookup(None, "forced")
        folder = self.folder(stage_id)
        manifest_path = folder / MANIFEST
        if not folder.is_dir():
            return Lookup(None, "no entry")
        if not manifest_path.is_file():
            return Lookup(None, "corrupt: its manifest is missing")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            stored_key = manifest["key"]
            listed = manifest["files"]
            meta: EntryMeta = manifest.get("meta") or EntryMeta()  # as this module wrote it (JSON: not checked)
            if manifest.get("format") != FORMAT or not isinstance(listed, dict):
                raise ValueError("unknown format")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            return Lookup(None, f"corrupt: its manifest cannot be read ({type(exc).__name__})")
        if stored_key != key:
            return Lookup(None, "inputs changed")
        files: dict[str, Path] = {}
        try:
            for name, info in sorted(listed.items()):
                path = folder / "files" / name
                if not _inside(path, folder / "files"):
                    return Lookup(None, f"corrupt: the manifest names a file outside the entry ({name})")
                if not path.is_file():
                    return Lookup(None, f"corrupt: {name} is missing")
                size = path.stat().st_size
                if size != info["bytes"]:
                    return Lookup(None, f"corrupt: {name} has {size:,} bytes, the manifest says {info['bytes']:,}")
                if file_sha256(path) != info["sha256"]:
                    return Lookup(None, f"corrupt: {name} does not match its SHA-256 in the manifest")
                files[name] = path
        except (OSError, KeyError, TypeError) as exc:
            return Lookup(None, f"corrupt: {type(exc).__name__}: {exc}")
        return Lookup(Entry(folder, key, files, meta), "hit")

    def store(self, stage_id: str, key: str, files: Mapping[str, Path], *, meta: EntryMeta | None = None,
              components: Mapping[str, object] | None = None) -> Entry:
        """Save ``files`` (``{name in the entry: path now}``) as the entry of ``stage_id`` for ``key``.

        The entry is written in a temporary folder, the manifest last, and renamed into place; the
        previous entry is removed only after that. ``components`` (what the key was made of) are kept
        in the manifest to explain a rerun.
        """
        folder = self.folder(stage_id)
        folder.parent.mkdir(parents=True, exist_ok=True)
        for stale in folder.parent.glob(f".{folder.name}.*-*"):  # left by an interrupted build: never trusted
            shutil.rmtree(stale, ignore_errors=True)
        tmp = folder.parent / f".{folder.name}.tmp-{uuid.uuid4().hex[:8]}"
        try:
            listed: dict[str, dict[str, int | str]] = {}
            for name, src in sorted(files.items()):
                dest = tmp / "files" / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)
                listed[name] = {"bytes": dest.stat().st_size, "sha256": file_sha256(dest)}
            manifest = {
                "format": FORMAT, "stage": stage_id, "key": key, "files": listed, "meta": dict(meta or {}),
                "components": dict(components or {}),
                "stored": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            }
            tmp.mkdir(parents=True, exist_ok=True)
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, default=str), encoding="utf-8")
            old = folder.parent / f".{folder.name}.old-{uuid.uuid4().hex[:8]}"
            if folder.exists():
                folder.rename(old)
            tmp.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return Entry(folder, key, {name: folder / "files" / name for name in listed}, EntryMeta(**(meta or {})))


def restore(entry: Entry, targets: Mapping[str, Path]) -> list[Path]:
    """Copy the entry's files to ``targets`` (``{name in the entry: destination}``), each atomically."""
    from safeguarding.atomic import atomic_path

    out = []
    for name, dest in targets.items():
        with atomic_path(dest) as tmp:
            shutil.copyfile(entry.files[name], tmp)
        out.append(dest)
    return out


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False
