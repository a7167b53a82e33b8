"""Releases on a target: upload, read back, switch ``current``, keep the newest, roll back; compare for a dry run."""

from __future__ import annotations

import datetime as dt
import hashlib
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from safeguarding.deploy.errors import ChecksumError, PublishError
from safeguarding.deploy.site_files import manifest_text, parse_manifest, sha256_file
from safeguarding.deploy.targets import KEEP_DEFAULT, KEEP_MIN
from safeguarding.deploy.transport import Transport

MANIFEST_NAME = "MANIFEST.sha256"
RELEASES = "releases"
CURRENT = "current"
PARTIAL_SUFFIX = ".partial"
#: a release's folder name: UTC time of the publish and the start of its manifest's SHA-256
RELEASE_NAME = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{10}")


@dataclass
class Changes:
    """How a local site differs from the release ``current`` points at."""

    release: str | None
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def any(self) -> bool:
        """True when a file would be added, changed or removed."""
        return bool(self.added or self.changed or self.removed)


@dataclass
class Outcome:
    """What a publish or a rollback did."""

    release: str | None
    previous: str | None
    uploaded: int = 0
    removed_releases: list[str] = field(default_factory=list)
    unchanged: bool = False


def current_release(t: Transport) -> str | None:
    """The release ``current`` points at (its folder's name), or None.

    Raises :class:`PublishError` when ``current`` exists but is not a symbolic link (made by hand):
    it cannot be switched atomically, and must be moved aside first.
    """
    link = t.readlink(CURRENT)
    if link is None:
        if CURRENT in t.listdir(""):
            raise PublishError(f"{CURRENT} on the target is not a symbolic link (a folder or file put there by "
                               "other means); move it aside, point the web root at <target>/current, and publish "
                               "again")
        return None
    name = posixpath.basename(posixpath.normpath(link))
    return name if RELEASE_NAME.fullmatch(name) else None


def complete_releases(t: Transport) -> list[str]:
    """The complete releases on the target (folders named as releases, no ``.partial``), oldest first."""
    return sorted(n for n in t.listdir(RELEASES) if RELEASE_NAME.fullmatch(n))


def release_manifest(t: Transport, release: str) -> dict[str, str] | None:
    """A release's manifest, or None when it has none."""
    data = t.read_bytes(f"{RELEASES}/{release}/{MANIFEST_NAME}")
    return None if data is None else parse_manifest(data.decode("utf-8", "replace"))


def compare(local: dict[str, str], t: Transport) -> Changes:
    """What publishing ``local`` (path -> SHA-256) would add, change and remove in the current release."""
    release = current_release(t)
    remote = (release_manifest(t, release) if release else None) or {}
    return Changes(
        release=release,
        added=sorted(p for p in local if p not in remote),
        changed=sorted(p for p in local if p in remote and remote[p] != local[p]),
        removed=sorted(p for p in remote if p not in local),
    )


def _new_release_name(digest: str, existing: list[str], now: dt.datetime | None) -> str:
    """``YYYYMMDDTHHMMSSZ-<10 hex>``, later than every existing release (so they sort by age)."""
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    latest = max(existing, default="")
    while True:
        name = f"{moment:%Y%m%dT%H%M%SZ}-{digest[:10]}"
        if name[:16] > latest[:16]:
            return name
        moment += dt.timedelta(seconds=1)


def publish_files(t: Transport, files: dict[str, Path], *, keep: int = KEEP_DEFAULT,
                  echo: Callable[[str], None] = print, progress: Callable[[int, int, str], None] | None = None,
                  now: dt.datetime | None = None) -> Outcome:
    """Upload ``files`` (path in the release -> local file) as a new release and switch ``current`` to it.

    Order: remove ``.partial`` folders left by a cut-off upload; upload to ``releases/<id>.partial/``;
    read every file back and compare its SHA-256 (:class:`ChecksumError`, the partial folder removed and
    ``current`` untouched, on a difference); write ``MANIFEST.sha256``; rename to ``releases/<id>/``;
    switch ``current``; remove releases beyond the newest ``keep`` (never the one ``current`` pointed to
    before). A lost connection raises :class:`TransportError` with ``current`` untouched. Nothing is
    uploaded when the current release already holds exactly these files.
    """
    hashes = {rel: sha256_file(path) for rel, path in files.items()}
    text = manifest_text(hashes)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    previous = current_release(t)
    if previous is not None and release_manifest(t, previous) == hashes:
        return Outcome(release=previous, previous=previous, unchanged=True)
    t.makedirs(RELEASES)
    for name in t.listdir(RELEASES):
        if name.endswith(PARTIAL_SUFFIX):
            echo(f"removing {RELEASES}/{name}, left by an upload that did not finish")
            t.rmtree(f"{RELEASES}/{name}")
    existing = complete_releases(t)
    release = _new_release_name(digest, existing, now)
    partial = f"{RELEASES}/{release}{PARTIAL_SUFFIX}"
    echo(f"uploading {len(files)} files to {partial}/")
    t.makedirs(partial)
    made = {partial}
    total = len(files)
    for i, rel in enumerate(sorted(files), 1):
        parent = posixpath.dirname(f"{partial}/{rel}")
        if parent not in made:
            t.makedirs(parent)
            made.add(parent)
        t.put(files[rel], f"{partial}/{rel}")
        if progress is not None:
            progress(i, total, rel)
    bad = [rel for rel in sorted(files) if t.sha256(f"{partial}/{rel}") != hashes[rel]]
    if bad:
        t.rmtree(partial)
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise ChecksumError(f"{len(bad)} file(s) read back from the target differ from the local ones ({shown}); "
                            f"the upload was removed and current was not switched "
                            f"({'still ' + previous if previous else 'no release yet'}); publish again, and if "
                            "it happens again check the target's disk space")
    echo(f"read back and verified {total} files (SHA-256)")
    t.write_bytes(f"{partial}/{MANIFEST_NAME}", text.encode("utf-8"))
    if t.read_bytes(f"{partial}/{MANIFEST_NAME}") != text.encode("utf-8"):
        t.rmtree(partial)
        raise ChecksumError(f"{MANIFEST_NAME} read back from the target differs; current was not switched")
    t.rename(partial, f"{RELEASES}/{release}")
    t.switch_link(f"{RELEASES}/{release}", CURRENT)
    if current_release(t) != release:
        raise PublishError(f"{CURRENT} does not point at {RELEASES}/{release} after the switch")
    removed = prune(t, keep=keep, protect={release, *([previous] if previous else [])})
    return Outcome(release=release, previous=previous, uploaded=total, removed_releases=removed)


def prune(t: Transport, *, keep: int, protect: set[str]) -> list[str]:
    """Remove complete releases beyond the newest ``keep``, never one in ``protect``; return those removed."""
    releases = complete_releases(t)
    keep_names = set(releases[-max(keep, KEEP_MIN):]) | protect | ({current_release(t)} - {None})
    removed = []
    for name in releases:
        if name not in keep_names:
            t.rmtree(f"{RELEASES}/{name}")
            removed.append(name)
    return removed


def rollback(t: Transport) -> Outcome:
    """Switch ``current`` to the complete release before the one it points at; raise if there is none."""
    now = current_release(t)
    releases = complete_releases(t)
    if now is None:
        raise PublishError("nothing to roll back: the target has no current release")
    earlier = [r for r in releases if r < now]
    if not earlier:
        raise PublishError(f"nothing to roll back to: {now} is the oldest release on the target "
                           f"(releases: {', '.join(releases)})")
    before = earlier[-1]
    if release_manifest(t, before) is None:
        raise PublishError(f"the release before {now}, {before}, has no {MANIFEST_NAME}; not switching to it")
    t.switch_link(f"{RELEASES}/{before}", CURRENT)
    if current_release(t) != before:
        raise PublishError(f"{CURRENT} does not point at {RELEASES}/{before} after the switch")
    return Outcome(release=before, previous=now)
