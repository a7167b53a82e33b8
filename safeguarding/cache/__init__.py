"""Incremental builds: each stage of ``pipeline.py build`` is skipped when its inputs are unchanged.

A stage's **key** is the SHA-256 of a canonical JSON document naming everything
the stage's outputs depend on: the stage, the code version (:func:`code_version`:
the package's own files and the versions of the packages that shape the
outputs), the part of ``report.yml`` the stage reads, the content hashes of its
input files (raw inputs, editorial and reference files, the chapter's notebook,
the outputs of the stages before it) and its parameters (year, audience,
renderer). File modification times are never used: touching a file changes
nothing, and editing it back to what it was is a cache hit again.

A **cache entry** is a folder ``build/cache/<area>-<year>/[<audience>/]<stage>/``
holding the stage's output files (``files/``) and ``manifest.json``, written
last, which gives the key and every file's size and SHA-256. An entry is built
in a temporary folder beside it and renamed into place only when complete, so
an interrupted or failed build never leaves an entry that is trusted later.
Before an entry is used, every file is checked against the manifest; a missing
manifest, a missing, truncated or altered file, or a manifest that cannot be
read marks the entry **corrupt**: the build says so and runs the stage again.
Outputs are copied into place only after they were checked.

``pipeline.py build --force`` runs every stage (and refreshes the cache);
deleting ``build/cache/`` clears it.

The package: :mod:`~safeguarding.cache.keys` (what a key is made of), :mod:`~safeguarding.cache.store` (the
entries on disk) and :mod:`~safeguarding.cache.incremental` (the build's stages through the cache).
"""

from __future__ import annotations

from safeguarding.cache.incremental import NOT_READ, RAW_SECTIONS, Incremental, _dated_today, splice_markdown
from safeguarding.cache.keys import (
    CODE_SUFFIXES,
    VOLATILE_JSON_KEYS,
    canonical_json,
    code_version,
    config_files,
    config_subset,
    content_digest,
    notebook_code_digest,
    stage_key,
    tree_digest,
)
from safeguarding.cache.store import FORMAT, MANIFEST, Entry, Lookup, StageCache, restore
from safeguarding.hashing import file_sha256

__all__ = [
    "CODE_SUFFIXES",
    "FORMAT",
    "MANIFEST",
    "NOT_READ",
    "RAW_SECTIONS",
    "VOLATILE_JSON_KEYS",
    "Entry",
    "Incremental",
    "Lookup",
    "StageCache",
    "_dated_today",
    "canonical_json",
    "code_version",
    "config_files",
    "config_subset",
    "content_digest",
    "file_sha256",
    "notebook_code_digest",
    "restore",
    "splice_markdown",
    "stage_key",
    "tree_digest",
]
