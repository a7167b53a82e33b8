"""The exceptions of ``pipeline.py publish``: every one a :class:`PublishError`."""

from __future__ import annotations


class PublishError(RuntimeError):
    """The site was not published (or rolled back); the target's ``current`` is as it was."""


class TargetError(PublishError):
    """A target is written wrongly (an unknown scheme, a password in the address, ...)."""


class RefusedError(PublishError):
    """The publish is refused before anything is sent: a board build for a public target, nothing built."""


class ConnectError(PublishError):
    """The target could not be reached or refused us (host key, credentials); nothing was sent."""


class TransportError(PublishError):
    """The connection to the target was lost, or an operation on it failed, part-way."""


class ChecksumError(PublishError):
    """Files read back from the target differ from the local ones; ``current`` was not switched."""
