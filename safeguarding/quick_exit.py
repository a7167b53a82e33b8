"""Leaving a command's process without tearing down every module it imported.

A build imports about 2,500 modules (pandas, scipy, matplotlib, Jupyter's client);
once its work is done, Python's own shutdown spends about 0.25 s taking them
apart, one by one, before the process ends. :func:`install` registers an exit
handler first, so that it runs *last*, after every other one (logs flushed and
closed, temporary folders removed, worker processes joined): it flushes standard
output and error and ends the process there, with the status :func:`leave` was
given. A process that ends any other way (an exception, ``sys.exit`` elsewhere,
Ctrl-C) shuts down as usual.
"""

from __future__ import annotations

import atexit
import os
import sys
from typing import NoReturn

_status: list[int] = []


def _leave_now() -> None:
    if not _status:
        return  # not ended by leave(): Python's usual shutdown
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):  # closed or replaced: nothing of ours to flush
            pass
    os._exit(_status[-1])


def install() -> None:
    """Register the quick exit; call it before anything else registers an exit handler (it must run last)."""
    atexit.register(_leave_now)


def leave(status: int) -> NoReturn:
    """End the process with ``status``: every exit handler runs, then the process ends without its teardown."""
    _status.append(int(status))
    sys.exit(status)
