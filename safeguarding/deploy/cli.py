"""``pipeline.py publish``: its options, the publish itself (:func:`publish`), its messages and exit statuses."""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from safeguarding.deploy.errors import ConnectError, PublishError, RefusedError, TargetError, TransportError
from safeguarding.deploy.releases import Changes, Outcome, compare, publish_files, rollback
from safeguarding.deploy.site_files import collect_site, sha256_file
from safeguarding.deploy.targets import AUDIENCES, Target, resolve_target
from safeguarding.deploy.transport import Transport, open_transport

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.config import Config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pipeline.py publish``."""
    parser.add_argument("--config", default="report.yml", help="configuration file (default: report.yml)")
    parser.add_argument("--to", required=True, metavar="TARGET",
                        help="a target named in report.yml (publish.targets), a folder or file:///path, or "
                             "sftp://user@host[:port]/path; a target not named in report.yml is public")
    parser.add_argument("--audience", choices=AUDIENCES,
                        help="public (default: report.yml's audience): the index, the statement, the sitemap and "
                             "the YYYY/ folders; board: the whole area's folder, <year>-board/ too (only to a "
                             "target report.yml declares audience: board)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--dry-run", action="store_true",
                      help="list the files that would be added, changed and removed; write nothing")
    what.add_argument("--rollback", action="store_true",
                      help="switch the target's current release back to the one before it")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait up to SECONDS for a build using the same folders to finish (default: stop)")


def _say_changes(changes: Changes, echo: Callable[[str], None]) -> None:
    echo(f"current release: {changes.release or 'none yet'}")
    for label, paths in (("add", changes.added), ("change", changes.changed), ("remove", changes.removed)):
        for p in paths:
            echo(f"  {label:<6} {p}")
    echo(f"{len(changes.added)} to add, {len(changes.changed)} to change, {len(changes.removed)} to remove"
         + ("" if changes.any else ": nothing would change"))


def publish(cfg: Config, target: Target, *, audience: str | None = None, dry_run: bool = False,
            echo: Callable[[str], None] = print, progress: Callable[[int, int, str], None] | None = None,
            transport: Transport | None = None) -> Outcome | Changes:
    """Publish the area's site of ``cfg`` to ``target`` (or, with ``dry_run``, say what would change).

    ``audience`` (default: ``cfg.audience``) chooses what is published (:func:`collect_site`); a board
    publish to a public target raises :class:`RefusedError` before anything is sent. ``transport``
    replaces the connection :func:`open_transport` would make (tests).
    """
    what = audience or cfg.audience
    if what == "board" and target.audience != "board":
        raise RefusedError(f"a board (OFFICIAL-SENSITIVE) build cannot be published to {target.label}: it is a "
                           "public target; declare the board's target in report.yml with audience: board "
                           "(publish: {targets: {board: {url: ..., audience: board}}}), or publish --audience "
                           "public")
    area_dir = cfg.reports_dir / cfg.area_slug
    if target.kind == "folder":
        root = Path(target.path).resolve()
        if root.is_relative_to(area_dir.resolve()) or area_dir.resolve().is_relative_to(root):
            raise TargetError(f"the target folder {target.path} overlaps the area's folder {area_dir}; "
                              "publish to a folder outside it")
    site = collect_site(area_dir, audience="board" if target.audience == "board" and what == "board" else "public")
    for note in site.left_out:
        echo(f"left out: {note}")
    t = transport if transport is not None else open_transport(target)
    try:
        if dry_run:
            changes = compare({rel: sha256_file(p) for rel, p in site.files.items()}, t)
            _say_changes(changes, echo)
            return changes
        return publish_files(t, site.files, keep=target.keep, echo=echo, progress=progress)
    finally:
        if transport is None:
            t.close()


def run(args: argparse.Namespace, echo: Callable[[str], None] = print) -> int:
    """Run ``pipeline.py publish``: publish, dry-run or roll back; exit status (0 done, 1 failed, 2 refused)."""
    from safeguarding.config import ConfigError, load_config
    from safeguarding.lock import LockedError, build_lock

    try:
        cfg = load_config(args.config, audience=getattr(args, "audience", None))
        target = resolve_target(args.to, cfg)
    except (ConfigError, TargetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.rollback:
            t = open_transport(target)
            try:
                outcome = rollback(t)
            finally:
                t.close()
            echo(f"Rolled back {target.label}: current is now {outcome.release} (was {outcome.previous})")
            return 0
        with build_lock([cfg.reports_dir], wait=args.wait):
            result = publish(cfg, target, audience=getattr(args, "audience", None), dry_run=args.dry_run, echo=echo)
    except (RefusedError, TargetError, ConnectError, LockedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TransportError as exc:
        print(f"error: the connection to {target.label} was lost or failed part-way: {exc}. The target's current "
              "release is unchanged; readers see the site as it was. Publish again: the unfinished upload is removed "
              "first.", file=sys.stderr)
        return 1
    except PublishError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            print(f"error: the target is full ({exc}); current is unchanged", file=sys.stderr)
        else:
            print(f"error: {exc}; the target's current release is unchanged", file=sys.stderr)
        return 1
    if isinstance(result, Changes):
        return 0
    if result.unchanged:
        echo(f"{target.label}: nothing changed since release {result.release}; nothing uploaded")
        return 0
    echo(f"Published {result.uploaded} files to {target.label}: current is now {result.release}"
         + (f" (was {result.previous}; publish --rollback switches back)" if result.previous else ""))
    if result.removed_releases:
        echo(f"removed old releases: {', '.join(result.removed_releases)}")
    return 0
