"""The consent model: three separate axes per address, and their state machine.

* **Address confirmation**: whether the owner of the address has proved it
  (by clicking a confirmation link). It is bound to the exact address.
* **Consent per purpose** (a list or a kind of mail): ``none``, ``pending``,
  ``soi_documented``, ``doi`` or ``withdrawn``, each with a legal basis.
* **Suppression**: hard bounce, complaint, blocklist or unsubscribe, global or
  per purpose. A suppression blocks mail whatever the consent state is.

Anything unknown is not mailable. Every change of consent is the result of an
event, and :func:`next_state` is the only place that decides where an event
leads. A double opt-in is reachable only through a ``confirmed`` event, which
only a valid confirmation token produces.
"""

from __future__ import annotations

import enum
import re

from .errors import ConsentError

__all__ = [
    "ConsentState",
    "EventKind",
    "ExclusionReason",
    "IllegalTransition",
    "LegalBasis",
    "SuppressionReason",
    "TRANSITIONS",
    "check_purpose",
    "next_state",
]


class ConsentState(enum.StrEnum):
    """The state of consent for one address and one purpose."""

    NONE = "none"
    """Nothing is known; the default for every contact and every import."""
    PENDING = "pending"
    """A sign-up awaits its confirmation click."""
    SOI_DOCUMENTED = "soi_documented"
    """A single opt-in is claimed with a recorded source; not enough to mail."""
    DOI = "doi"
    """Confirmed double opt-in, the result of a confirmation event."""
    WITHDRAWN = "withdrawn"
    """The person withdrew consent or unsubscribed."""


class LegalBasis(enum.StrEnum):
    """The legal ground recorded with a consent state."""

    NONE = "none"
    CONSENT = "consent"
    """Express consent (GDPR Art. 6(1)(a), UWG section 7(2) no. 2)."""
    EXISTING_CUSTOMER = "existing_customer"
    """The existing-customer exception (UWG section 7(3), CASL implied consent)."""
    CONTRACT = "contract"
    LEGITIMATE_INTEREST = "legitimate_interest"


class SuppressionReason(enum.StrEnum):
    """The reason an address must not be mailed, whatever its consent state."""

    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"
    BLOCKLIST = "blocklist"
    UNSUBSCRIBE = "unsubscribe"


class ExclusionReason(enum.StrEnum):
    """The reason the gate left a recipient out. The values are a stable contract."""

    NO_CONSENT = "no_consent"
    PENDING = "pending"
    WITHDRAWN = "withdrawn"
    SUPPRESSED = "suppressed"
    STALE = "stale"
    INVALID_ADDRESS = "invalid_address"
    DUPLICATE = "duplicate"


class EventKind(enum.StrEnum):
    """The kinds of entries in the append-only event log."""

    CONTACT_CREATED = "contact_created"
    SIGNUP_REQUESTED = "signup_requested"
    CONFIRMATION_SENT = "confirmation_sent"
    CONFIRMED = "confirmed"
    SOI_RECORDED = "soi_recorded"
    WITHDRAWN = "withdrawn"
    SUPPRESSED = "suppressed"
    ENGAGED = "engaged"
    EXPIRED = "expired"


class IllegalTransition(ConsentError):
    """An event that the state machine does not allow in the current state."""

    def __init__(self, state: ConsentState, event: EventKind) -> None:
        self.state = state
        self.event = event
        super().__init__(
            f"event {event.value!r} is not allowed in state {state.value!r}"
        )


_S = ConsentState
_E = EventKind

#: (state, event) -> next state. A pair that is missing is illegal.
TRANSITIONS: dict[tuple[ConsentState, EventKind], ConsentState] = {
    (_S.NONE, _E.SIGNUP_REQUESTED): _S.PENDING,
    (_S.SOI_DOCUMENTED, _E.SIGNUP_REQUESTED): _S.PENDING,
    (_S.WITHDRAWN, _E.SIGNUP_REQUESTED): _S.PENDING,
    (_S.PENDING, _E.SIGNUP_REQUESTED): _S.PENDING,
    (_S.PENDING, _E.CONFIRMATION_SENT): _S.PENDING,
    (_S.PENDING, _E.CONFIRMED): _S.DOI,
    (_S.PENDING, _E.EXPIRED): _S.NONE,
    (_S.PENDING, _E.WITHDRAWN): _S.WITHDRAWN,
    (_S.NONE, _E.SOI_RECORDED): _S.SOI_DOCUMENTED,
    (_S.SOI_DOCUMENTED, _E.SOI_RECORDED): _S.SOI_DOCUMENTED,
    (_S.SOI_DOCUMENTED, _E.WITHDRAWN): _S.WITHDRAWN,
    (_S.DOI, _E.WITHDRAWN): _S.WITHDRAWN,
    (_S.NONE, _E.WITHDRAWN): _S.WITHDRAWN,
    (_S.WITHDRAWN, _E.WITHDRAWN): _S.WITHDRAWN,
    (_S.DOI, _E.ENGAGED): _S.DOI,
}

_PURPOSE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


def next_state(state: ConsentState, event: EventKind) -> ConsentState:
    """Return the state ``event`` leads to; raise :class:`IllegalTransition`."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(state, event) from None


def check_purpose(purpose: str) -> str:
    """Return ``purpose`` if it is a valid purpose name, else raise ``ValueError``.

    A purpose name is 1 to 64 characters of lower-case letters, digits, ``_``,
    ``.`` and ``-``, starting with a letter or digit.
    """
    if not _PURPOSE.fullmatch(purpose):
        raise ValueError(
            f"invalid purpose name {purpose!r}: use 1 to 64 lower-case letters, "
            "digits, '_', '.' or '-'"
        )
    return purpose
