"""``pipeline.py publish``: put the area's site on a web server, switched in only once it is whole.

What is published is the area's folder ``reports/<area>/`` as a whole (the index, the
accessibility statement, the sitemap and every year), because the index links every year.
A target is a folder (a mounted web share: a path or ``file://`` URL) or an SFTP server
(``sftp://user@host[:port]/path``), given on the command line or named in ``report.yml``
(``publish: {targets: {website: {url: ..., audience: public}}}``). On the target::

    <root>/releases/<version id>/...              one complete copy of the site per release
    <root>/releases/<version id>/MANIFEST.sha256  every file's SHA-256 (``sha256sum -c`` format)
    <root>/current -> releases/<version id>       what readers see: the web root points here

A release is uploaded to ``releases/<id>.partial/``, every file is read back and its SHA-256
compared with the local file, and only then is the folder renamed to ``releases/<id>/`` and
``current`` switched to it in one rename (a new symbolic link renamed over the old one), so a
reader sees the old site or the new one, never half of one. An upload cut off half-way leaves
``current`` as it was; the next publish removes the ``.partial`` folder. The release ``current``
pointed to before is kept, with the newest others up to ``keep`` (default 3), and
``--rollback`` switches ``current`` back to the release before it. ``--dry-run`` lists the files
the publish would add, change and remove, writing nothing.

A public target (every target unless ``report.yml`` declares it ``audience: board``) never
receives a board build: the ``<year>-board/`` folders are left out, and a year folder holding a
board report (its ``review.json`` says ``audience: board`` or its page carries the
OFFICIAL-SENSITIVE marking) stops the publish. Credentials come from an SSH agent or a key file
named by ``SAFEGUARDING_SFTP_KEY`` (passphrase in ``SAFEGUARDING_SFTP_PASSPHRASE``), never from
``report.yml``; the server's host key must already be in ``known_hosts``.

The package, one job a module: :mod:`~safeguarding.deploy.targets` (addresses and ``report.yml``'s
targets), :mod:`~safeguarding.deploy.site_files` (what is published, board builds refused, SHA-256
manifests), :mod:`~safeguarding.deploy.transport` (what the engine needs of a target),
:mod:`~safeguarding.deploy.folder` and :mod:`~safeguarding.deploy.sftp` (the two targets),
:mod:`~safeguarding.deploy.credentials` (SSH keys and host keys), :mod:`~safeguarding.deploy.releases`
(upload, read back, switch, prune, roll back), :mod:`~safeguarding.deploy.cli` (the command) and
:mod:`~safeguarding.deploy.errors`. Every public name is re-exported here.
"""

from __future__ import annotations

from safeguarding.deploy.cli import add_arguments, publish, run
from safeguarding.deploy.credentials import ENV_KEY, ENV_KNOWN_HOSTS, ENV_PASSPHRASE, ENV_USER, known_hosts_file
from safeguarding.deploy.errors import (
    ChecksumError,
    ConnectError,
    PublishError,
    RefusedError,
    TargetError,
    TransportError,
)
from safeguarding.deploy.folder import FolderTransport
from safeguarding.deploy.releases import (
    CURRENT,
    MANIFEST_NAME,
    PARTIAL_SUFFIX,
    RELEASE_NAME,
    RELEASES,
    Changes,
    Outcome,
    compare,
    complete_releases,
    current_release,
    prune,
    publish_files,
    release_manifest,
    rollback,
)
from safeguarding.deploy.sftp import CONNECT_TIMEOUT, SFTPTransport
from safeguarding.deploy.site_files import (
    BOARD_MARKING,
    SITE_FILES,
    LocalSite,
    collect_site,
    manifest_text,
    parse_manifest,
    sha256_file,
)
from safeguarding.deploy.targets import (
    AUDIENCES,
    KEEP_DEFAULT,
    KEEP_MIN,
    PUBLISH_KEYS,
    TARGET_KEYS,
    Target,
    configured_targets,
    parse_target,
    resolve_target,
)
from safeguarding.deploy.transport import Transport, open_transport

__all__ = [
    "AUDIENCES",
    "BOARD_MARKING",
    "CONNECT_TIMEOUT",
    "CURRENT",
    "ENV_KEY",
    "ENV_KNOWN_HOSTS",
    "ENV_PASSPHRASE",
    "ENV_USER",
    "KEEP_DEFAULT",
    "KEEP_MIN",
    "MANIFEST_NAME",
    "PARTIAL_SUFFIX",
    "PUBLISH_KEYS",
    "RELEASES",
    "RELEASE_NAME",
    "SITE_FILES",
    "TARGET_KEYS",
    "Changes",
    "ChecksumError",
    "ConnectError",
    "FolderTransport",
    "LocalSite",
    "Outcome",
    "PublishError",
    "RefusedError",
    "SFTPTransport",
    "Target",
    "TargetError",
    "Transport",
    "TransportError",
    "add_arguments",
    "collect_site",
    "compare",
    "complete_releases",
    "configured_targets",
    "current_release",
    "known_hosts_file",
    "manifest_text",
    "open_transport",
    "parse_manifest",
    "parse_target",
    "prune",
    "publish",
    "publish_files",
    "release_manifest",
    "resolve_target",
    "rollback",
    "run",
    "sha256_file",
]
