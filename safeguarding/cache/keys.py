"""What a stage's key is made of: canonical JSON, content hashes of files and folders, the code version,
a notebook's code without its Markdown, and the part of ``report.yml`` a stage reads."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from safeguarding.cache.store import FORMAT
from safeguarding.hashing import file_sha256, sha256_bytes

if TYPE_CHECKING:
    from safeguarding.config import Config

#: suffixes of the package's own files that are part of the code version
CODE_SUFFIXES = frozenset({".py", ".yml", ".yaml", ".json", ".csv", ".typ", ".html", ".css", ".lua", ".qmd",
                           ".md", ".txt", ".tex", ".j2"})

#: fields (at any depth) of a JSON output that change on every run without changing what any later stage
#: reads: the ingest report's time stamp, durations and key-file note (no chapter or data file shows them)
VOLATILE_JSON_KEYS: dict[str, tuple[str, ...]] = {
    "ingest_report.json": ("generated", "seconds", "pseudonymisation"),
}


def content_digest(path: Path) -> str:
    """A file's SHA-256 for a later stage's key, leaving out :data:`VOLATILE_JSON_KEYS` (never mtimes)."""
    drop = VOLATILE_JSON_KEYS.get(path.name)
    if drop:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return file_sha256(path)
        return sha256_bytes(canonical_json(_without(data, frozenset(drop))).encode("utf-8"))
    return file_sha256(path)


def _without(value: object, keys: frozenset[str]) -> object:
    """``value`` with the mapping keys ``keys`` removed at every depth."""
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_without(v, keys) for v in value]
    return value


def canonical_json(value: object) -> str:
    """``value`` as JSON with sorted keys and no spaces (dates, paths and the like as strings: any value will do)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def tree_digest(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``folder`` (hidden files and caches left out)."""
    out: dict[str, str] = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts) or not p.is_file():
            continue
        out[rel.as_posix()] = file_sha256(p)
    return out


def code_version(versions: Mapping[str, str]) -> str:
    """The code version: a hash of the package's own source and data files and of ``versions``.

    ``versions`` are the installed versions of the packages that shape the
    outputs (:func:`safeguarding.build.package_versions`). The skeleton project
    (``_project``: links to the notebooks and ``_quarto.yml``) is left out; those
    are hashed as the stages' inputs. Computed once per build (about 10 ms).
    """
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if rel.parts[0] == "_project" or "__pycache__" in rel.parts or p.suffix not in CODE_SUFFIXES:
            continue
        if p.is_file():
            h.update(rel.as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    h.update(canonical_json(dict(versions)).encode())
    return h.hexdigest()


def notebook_code_digest(text: bytes) -> str:
    """SHA-256 of what executing a notebook depends on: everything but its Markdown cells' text.

    A Markdown cell is kept as a placeholder (its type and metadata), so the cells keep their places;
    its text and attachments are left out, as are the stored outputs, execution counts and cell ids of
    code cells (they are replaced when the notebook runs).
    """
    nb = json.loads(text)
    cells = []
    for cell in nb.get("cells") or []:
        if cell.get("cell_type") == "markdown":
            cells.append({"cell_type": "markdown", "metadata": cell.get("metadata") or {}})
        else:
            cells.append({k: v for k, v in cell.items() if k not in ("outputs", "execution_count", "id")})
    view = {"nbformat": nb.get("nbformat"), "metadata": nb.get("metadata") or {}, "cells": cells}
    return sha256_bytes(canonical_json(view).encode("utf-8"))


def stage_key(stage: str, components: Mapping[str, object]) -> str:
    """The key of ``stage``: SHA-256 of the canonical JSON of its name and ``components``."""
    return sha256_bytes(canonical_json({"format": FORMAT, "stage": stage, **components}).encode("utf-8"))


def config_files(cfg: Config, value: object, skip: Iterable[str] = (), memo: dict[Path, str] | None = None,
                 ) -> dict[str, str]:
    """Content hashes of every existing file or folder that a string in ``value`` (a config subset) names.

    Folders are hashed file by file (:func:`tree_digest`). Strings that are not
    paths (column names, encodings) name nothing and are ignored; so are the
    project folder itself and any folder holding it, and the top-level keys in
    ``skip`` when ``value`` is a mapping. ``memo`` keeps the hashes for the next call of the same build.
    """
    root = Path(cfg.root).resolve()
    out: dict[str, str] = {}
    seen = memo if memo is not None else {}

    def walk(v: object) -> None:
        if isinstance(v, Mapping):
            for item in v.values():
                walk(item)
        elif isinstance(v, list | tuple):
            for item in v:
                walk(item)
        elif isinstance(v, str) and v.strip() not in ("", ".", "..") and len(v) < 1024 and "\n" not in v:
            with contextlib.suppress(OSError, ValueError):
                p = cfg.resolve(v).resolve()
                if str(p) in out or root.is_relative_to(p):
                    return
                if p not in seen and p.is_file():
                    seen[p] = file_sha256(p)
                elif p not in seen and p.is_dir():
                    seen[p] = sha256_bytes(canonical_json(tree_digest(p)).encode())
                if p in seen:
                    out[str(p)] = seen[p]

    skip = set(skip)
    if isinstance(value, Mapping):
        for k, item in value.items():
            if k not in skip:
                walk(item)
    else:
        walk(value)
    return dict(sorted(out.items()))


def config_subset(raw: Mapping[str, object], leave_out: Iterable[str]) -> dict[str, object]:
    """``report.yml`` without the top-level sections in ``leave_out`` (those a stage never reads)."""
    drop = set(leave_out)
    return {k: v for k, v in raw.items() if k not in drop}
