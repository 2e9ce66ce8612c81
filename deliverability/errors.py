"""Exceptions raised by the library.

The tree::

    DeliverabilityError
    ├── InputError              bad input from the user; the CLI exits with 2
    │   ├── InvalidDomainError  a domain name that cannot be audited
    │   └── ZoneFileError       a zone file that cannot be read or parsed
    └── IncompleteError         work that could not finish (DNS unreachable);
                                the CLI exits with 3

Findings are never raised: checks return them as values.
"""

from __future__ import annotations

__all__ = [
    "DeliverabilityError",
    "IncompleteError",
    "InputError",
    "InvalidDomainError",
    "ZoneFileError",
]


class DeliverabilityError(Exception):
    """Root of every exception this package raises on purpose."""

    exit_status = 1


class InputError(DeliverabilityError):
    """The input is unusable; the message names the value and the fix."""

    exit_status = 2


class InvalidDomainError(InputError):
    """A domain name is malformed, too long, or not a valid IDN."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"invalid domain name {name!r}: {reason}")


class ZoneFileError(InputError):
    """A zone file is missing, unreadable or not valid RFC 1035 master-file text."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot load zone file {path}: {reason}")


class IncompleteError(DeliverabilityError):
    """The work could not complete, for example because DNS timed out."""

    exit_status = 3
