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
