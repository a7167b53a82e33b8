"""``pipeline.py preview``: serve the review on 127.0.0.1 and rebuild it whenever a source is saved.

The preview builds once (:func:`safeguarding.build.build`, the same build as
``pipeline.py build``), serves the area's reports folder (``reports/<area>/``)
on ``http://127.0.0.1:PORT/`` and then watches what the review is made from:
``report.yml``, the project's ``_quarto.yml``, the chapter notebooks' folder,
the editorial folder and the configured input files. When one of them is saved
with different content, it rebuilds; a change saved during a build is picked up
by one more build after it.

Every HTML page it serves carries a small inline script (added to the response
only, never to the file on disk) that asks ``/__preview/status`` twice a second
and reloads the page when a build has finished, showing "Rebuilding…" while one
runs. When a build fails, every page shows a panel naming the stage, the
message (which says how to put it right) and the run's log, above the last good
review, until a build succeeds.

Only files under the area's folder are served (no ``..``, no hidden files, no
symbolic link out of it), only to requests addressed to ``127.0.0.1`` or
``localhost`` (a web page elsewhere cannot reach it through a rebound DNS name).
The build runs in the main thread, so Ctrl-C stops it, its kernels and the
server as ``pipeline.py build`` would.

The package: :mod:`~safeguarding.preview.watcher` (what changed), :mod:`~safeguarding.preview.state` (what the page
asks about), :mod:`~safeguarding.preview.page` (what is added to a served page), :mod:`~safeguarding.preview.server`
(serving), :mod:`~safeguarding.preview.rebuild` (building again on a change) and :mod:`~safeguarding.preview.cli`
(the command).
"""

from __future__ import annotations

from safeguarding.preview.cli import add_arguments, run
from safeguarding.preview.page import allow_nonce, error_panel, inject, placeholder_page, preview_script
from safeguarding.preview.rebuild import LOCKED_RETRY_SECONDS, POLL_SECONDS, SETTLE_SECONDS, Preview, StopPreview
from safeguarding.preview.server import HOST, PreviewHandler, PreviewServer, resolve_request, start_server
from safeguarding.preview.state import STATUS_PATH, PreviewState, Status
from safeguarding.preview.watcher import Watcher, watched_sources

__all__ = [
    "HOST",
    "LOCKED_RETRY_SECONDS",
    "POLL_SECONDS",
    "SETTLE_SECONDS",
    "STATUS_PATH",
    "Preview",
    "PreviewHandler",
    "PreviewServer",
    "PreviewState",
    "Status",
    "StopPreview",
    "Watcher",
    "add_arguments",
    "allow_nonce",
    "error_panel",
    "inject",
    "placeholder_page",
    "preview_script",
    "resolve_request",
    "run",
    "start_server",
    "watched_sources",
]
