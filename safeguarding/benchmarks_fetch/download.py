"""Downloading over HTTPS: timeouts, size limits, proxies and offline machines told apart."""

from __future__ import annotations

import errno
import hashlib
import http.client
import io
import json
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

from safeguarding.benchmarks_fetch.sources import (
    CHUNK,
    MAX_BYTES,
    MAX_JSON_BYTES,
    SOCKET_TIMEOUT,
    USER_AGENT,
    FetchError,
    HTTPStatusError,
    OfflineError,
)

# --------------------------------------------------------------------------- HTTP


def _offline_reason(exc: BaseException) -> str | None:
    """Why the server could not be reached, when ``exc`` means no connection at all; else None."""
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        inner = exc.reason
        if isinstance(inner, BaseException):
            return _offline_reason(inner)
        return f"{inner}" if inner else "no connection"
    if isinstance(exc, http.client.RemoteDisconnected):
        return None  # the server answered the connection, then closed it: not offline
    if isinstance(exc, socket.gaierror):
        return f"the name could not be looked up (DNS failure: {exc.strerror or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(exc, TimeoutError):
        return "the connection timed out"
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN):
        return f"the network is unreachable ({exc.strerror or exc})"
    return None


def _open(url: str, timeout: float) -> http.client.HTTPResponse:
    """Open ``url`` (http or https only) with a socket timeout; raise :class:`OfflineError` or :class:`FetchError`."""
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(f"{url}: not a web address (it must start with https:// or http://)")
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    try:
        return urllib.request.urlopen(req, timeout=timeout)  # scheme checked above: http(s) only
    except urllib.error.HTTPError as exc:
        exc.close()
        raise HTTPStatusError(f"{url}: the server answered {exc.code} {exc.reason}", exc.code) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = _offline_reason(exc)
        if reason is not None:
            raise OfflineError(f"cannot reach {url}: {reason}") from exc
        raise FetchError(f"{url}: the download failed ({exc})") from exc


@dataclass(frozen=True)
class _Download:
    bytes: int
    sha256: str
    header_name: str | None
    final_url: str


def _content_disposition_name(headers: Message) -> str | None:
    if headers.get("Content-Disposition") is None:
        return None
    name = headers.get_filename()
    return Path(name).name if name else None


def _download(url: str, dest: Path, timeout: float, max_bytes: int = MAX_BYTES) -> _Download:
    """Stream ``url`` into ``dest``; fail unless the whole body arrived within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    resp = _open(url, min(timeout, SOCKET_TIMEOUT))
    with resp:
        length_text = resp.headers.get("Content-Length")
        length = int(length_text) if length_text and length_text.strip().isdigit() else None
        if length is not None and length > max_bytes:
            raise FetchError(f"{url}: the file is {length:,} bytes, more than the {max_bytes:,} allowed; "
                             "it is not one of DfE's benchmark tables")
        digest = hashlib.sha256()
        size = 0
        with open(dest, "wb") as fh:
            for chunk in _chunks(resp, url, deadline, timeout, "download"):
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"{url}: more than {max_bytes:,} bytes; stopped (not a benchmark table)")
                digest.update(chunk)
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        if length is not None and size < length:
            raise FetchError(f"{url}: the download is incomplete: the connection closed after {size:,} of "
                             f"{length:,} bytes")
        return _Download(size, digest.hexdigest(), _content_disposition_name(resp.headers), resp.geturl())


def _chunks(resp: Any, url: str, deadline: float, timeout: float, what: str) -> Iterator[bytes]:
    """The body of ``resp`` in chunks, one socket read each, so the overall deadline is checked often.

    Raises :class:`FetchError` when the deadline passes or the connection breaks, naming ``what``
    ('download', 'answer') and the bytes received.
    """
    got = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchError(f"{url}: the {what} took longer than {timeout:g} seconds and was stopped after "
                             f"{got:,} bytes (use --timeout to allow longer)")
        try:
            chunk = resp.read1(CHUNK)
        except (http.client.IncompleteRead, OSError, http.client.HTTPException) as exc:
            raise FetchError(f"{url}: the {what} was cut off after {got:,} bytes ({exc})") from exc
        if not chunk:
            return
        got += len(chunk)
        yield chunk


def _get_json(url: str, timeout: float) -> Any:
    """GET a JSON document (bounded in time and size)."""
    deadline = time.monotonic() + timeout
    resp = _open(url, min(timeout, SOCKET_TIMEOUT))
    with resp:
        buf = io.BytesIO()
        for chunk in _chunks(resp, url, deadline, timeout, "answer"):
            buf.write(chunk)
            if buf.tell() > MAX_JSON_BYTES:
                raise FetchError(f"{url}: the answer is larger than {MAX_JSON_BYTES:,} bytes")
    try:
        return json.loads(buf.getvalue().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FetchError(f"{url}: the answer is not JSON ({exc}); the release could not be looked up") from exc
