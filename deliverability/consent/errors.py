"""Exceptions of the consent store and the double opt-in flow.

The tree::

    DeliverabilityError
    └── ConsentError                 a consent operation could not be done
        ├── IllegalTransition        the state machine forbids the event
        ├── TokenError               a token is unknown, expired, used or
        │                            for another purpose
        ├── ThrottledError           too many requests for an address or IP
        └── ContactNotFound          no contact with that address or id
    InputError
    └── AddressError                 an address is invalid or undeliverable
"""

from __future__ import annotations

import enum

from ..errors import DeliverabilityError, InputError

__all__ = [
    "AddressError",
    "ConsentError",
    "ContactNotFound",
    "ThrottledError",
    "TokenError",
    "TokenProblem",
]


class ConsentError(DeliverabilityError):
    """Root of the consent errors; the CLI exits with 1."""


class TokenProblem(enum.StrEnum):
    """The reason a token was rejected."""

    UNKNOWN = "unknown"
    """No such token: forged, mistyped or purged."""
    EXPIRED = "expired"
    USED = "used"
    WRONG_ACTION = "wrong_action"
    """A token made for another action, e.g. an unsubscribe token used to confirm."""


class TokenError(ConsentError):
    """A token cannot be used; ``problem`` is the reason."""

    def __init__(self, problem: TokenProblem) -> None:
        self.problem = problem
        super().__init__(
            f"the token cannot be used: {problem.value}; {_TOKEN_FIX[problem]}"
        )


_TOKEN_FIX = {
    TokenProblem.UNKNOWN: "copy the whole token from the link in the mail",
    TokenProblem.EXPIRED: "sign up again to get a new link",
    TokenProblem.USED: "the link has done its work, nothing is left to do",
    TokenProblem.WRONG_ACTION: (
        "use the confirm link to confirm and the unsubscribe link to unsubscribe"
    ),
}


class ThrottledError(ConsentError):
    """Too many requests in a time window; ``retry_after`` is in seconds."""

    def __init__(self, scope: str, retry_after: int) -> None:
        self.scope = scope
        self.retry_after = retry_after
        super().__init__(
            f"too many requests for this {scope}; try again in {retry_after} s"
        )


class ContactNotFound(ConsentError):
    """No contact matches the address or id given; the CLI exits with 2."""

    exit_status = 2


class AddressError(InputError):
    """An address is invalid, reserved or has no mail server."""

    def __init__(self, address: str, reason: str) -> None:
        self.address = address
        self.reason = reason
        super().__init__(f"invalid address {address!r}: {reason}")
