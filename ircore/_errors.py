"""Every exception ircore raises on purpose."""

from __future__ import annotations


class IrcoreError(Exception):
    """Base class of ircore's errors."""


class SchemaError(IrcoreError):
    """A frame does not match its documented columns and dtypes."""


class InvalidRange(IrcoreError, ValueError):
    """An npm range or OSV event list that cannot be evaluated; never treated as "no match"."""


class InvalidVersion(IrcoreError, ValueError):
    """A version string that is not SemVer (npm's loose rules are not applied to advisories)."""


class InputError(IrcoreError):
    """An input file could not be read; carries the problem kind for the ``problems`` frame."""

    def __init__(self, kind: str, message: str, *, evidence: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.evidence = evidence


class ConfigError(IrcoreError):
    """An incident spec or sources file is missing, malformed or asks for something unsupported."""


class SourceError(IrcoreError):
    """A live source could not be read.

    Attributes
    ----------
    source : str
        The source's name, as in the ``problems`` frame (``github``, ``stepsecurity``, ...).
    url : str
        The URL asked for, without credentials (user info and secret query parameters removed).
    status : int or None
        The last HTTP status received; None when no answer came (timeout, connection).
    kind : str
        ``http`` (an error status), ``timeout``, ``connection`` (refused, reset, closed before
        answering), ``rate-limited``, ``truncated`` (body shorter than announced, or JSON cut
        short), ``invalid-json``, ``pagination`` (a page said "more" without saying where),
        ``auth`` (the token's environment variable is not set) or ``offline`` (not in the cache).
    """

    def __init__(
        self, message: str, *, source: str, url: str, kind: str, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.url = url
        self.kind = kind
        self.status = status
