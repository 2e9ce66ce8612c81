"""Consent: double opt-in with evidence, and a gate for confirmed recipients.

The pieces:

* :mod:`.model`: the state machine of consent per purpose, suppression
  reasons and the gate's exclusion reasons.
* :class:`ConsentStore`: contacts, consents, suppressions and the
  hash-chained event log, in SQLite or PostgreSQL.
* :class:`DoubleOptIn`: sign-up, confirmation mail, confirm, unsubscribe,
  throttles and the purge of unconfirmed sign-ups.
* :func:`gate` and :func:`run_gate`: the default-deny target-group gate.
* :func:`export_contact`: the per-contact evidence bundle, JSON or HTML.
* :func:`create_app`: the confirm and unsubscribe pages (ASGI).
"""

from __future__ import annotations

from .addresses import AddressCheck, check_address, check_deliverability, match_key
from .config import ConsentConfig
from .errors import (
    AddressError,
    ConsentError,
    ContactNotFound,
    ThrottledError,
    TokenError,
    TokenProblem,
)
from .events import Event, verify_chain
from .export import export_contact, render_html, unconfirmed_doi
from .flow import DoubleOptIn, RequestContext, SignupResult, SignupStatus
from .gate import GateDecision, GatePolicy, GateSummary, gate, read_group_csv, run_gate
from .mail import Mailer, OutboxMailer
from .model import (
    ConsentState,
    EventKind,
    ExclusionReason,
    IllegalTransition,
    LegalBasis,
    SuppressionReason,
    next_state,
)
from .store import DEFAULT_URL, ConsentStore, ConsentView, Contact
from .web import create_app

__all__ = [
    "DEFAULT_URL",
    "AddressCheck",
    "AddressError",
    "ConsentConfig",
    "ConsentError",
    "ConsentState",
    "ConsentStore",
    "ConsentView",
    "Contact",
    "ContactNotFound",
    "DoubleOptIn",
    "Event",
    "EventKind",
    "ExclusionReason",
    "GateDecision",
    "GatePolicy",
    "GateSummary",
    "IllegalTransition",
    "LegalBasis",
    "Mailer",
    "OutboxMailer",
    "RequestContext",
    "SignupResult",
    "SignupStatus",
    "SuppressionReason",
    "ThrottledError",
    "TokenError",
    "TokenProblem",
    "check_address",
    "check_deliverability",
    "create_app",
    "export_contact",
    "gate",
    "match_key",
    "next_state",
    "read_group_csv",
    "render_html",
    "run_gate",
    "unconfirmed_doi",
    "verify_chain",
]
