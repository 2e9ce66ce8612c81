"""The evidence export: everything that proves (or fails to prove) a consent.

One contact's export holds the contact, its consent per purpose, its
suppressions, every event with its hash, the consent texts the sign-ups
referred to, the result of checking the hash chain, and findings on gaps in
the evidence. It comes as JSON and as an HTML page a person can print.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, exists, select

from ..findings import Finding, Severity, rule
from . import tables as t
from .events import Event, canonical_time
from .mail import templates
from .model import ConsentState, EventKind
from .store import ConsentStore, utc_now

__all__ = [
    "EVIDENCE_INCOMPLETE",
    "FAST_CONFIRMATION",
    "export_contact",
    "render_html",
    "unconfirmed_doi",
]

EVIDENCE_INCOMPLETE = rule(
    "consent.evidence_incomplete",
    "consent",
    Severity.ERROR,
    "Double opt-in without the full chain of evidence",
    fix=(
        "Do not mail this contact for the purpose until a new sign-up is "
        "confirmed; the sign-up request, the confirmation mail and the click "
        "must all be on record."
    ),
    reference="BGH, judgment of 10 February 2011, I ZR 164/09",
)

FAST_CONFIRMATION = rule(
    "consent.fast_confirmation",
    "consent",
    Severity.WARNING,
    "Confirmation came seconds after the mail was sent",
    fix=(
        "Check the user agent of the confirmation: a link scanner may have "
        "pressed the button. Ask the person to confirm again if in doubt."
    ),
)

_DOI_STEPS = (
    EventKind.SIGNUP_REQUESTED,
    EventKind.CONFIRMATION_SENT,
    EventKind.CONFIRMED,
)


def export_contact(store: ConsentStore, contact_id: int) -> dict[str, Any]:
    """Return the evidence bundle of one contact as JSON-ready data."""
    contact = store.contact(contact_id)
    events = store.events(contact_id)
    consents = store.consents(contact_id)
    chain = store.verify(contact_id)
    findings = chain + _evidence_findings(contact_id, events, consents)
    return {
        "generated_at": canonical_time(utc_now()),
        "contact": {
            "id": contact.id,
            "address": contact.address,
            "created_at": canonical_time(contact.created_at),
            "address_confirmed_at": None
            if contact.address_confirmed_at is None
            else canonical_time(contact.address_confirmed_at),
        },
        "consents": [view.to_dict() for view in consents],
        "suppressions": store.suppressions(contact.address),
        "events": [event.to_dict() for event in events],
        "consent_texts": _consent_texts(store, events),
        "chain_intact": not chain,
        "findings": [finding.to_dict() for finding in findings],
    }


def _consent_texts(
    store: ConsentStore, events: Iterable[Event]
) -> list[dict[str, Any]]:
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for event in events:
        version = event.payload.get("consent_text_version")
        if (
            event.kind is not EventKind.SIGNUP_REQUESTED
            or not event.purpose
            or not version
        ):
            continue
        stored = store.consent_text(event.purpose, str(version))
        seen[(event.purpose, str(version))] = {
            "purpose": event.purpose,
            "version": version,
            "text": None if stored is None else stored[0],
            "sha256": None if stored is None else stored[1],
        }
    return list(seen.values())


def _evidence_findings(
    contact_id: int, events: list[Event], consents: Iterable[Any]
) -> list[Finding]:
    findings: list[Finding] = []
    for view in consents:
        if view.state is not ConsentState.DOI:
            continue
        kinds = [e.kind for e in events if e.purpose == view.purpose]
        missing = [step.value for step in _DOI_STEPS if step not in kinds]
        if missing:
            findings.append(
                EVIDENCE_INCOMPLETE.finding(
                    f"Contact {contact_id} has a double opt-in for {view.purpose} "
                    f"but no {', '.join(missing)} event.",
                    location=f"contact {contact_id}, purpose {view.purpose}",
                )
            )
    for event in events:
        if event.kind is EventKind.CONFIRMED and event.payload.get("fast"):
            findings.append(
                FAST_CONFIRMATION.finding(
                    f"Contact {contact_id} confirmed {event.purpose} "
                    f"{event.payload.get('delay_seconds')} s after the mail was sent.",
                    evidence=str(event.payload.get("user_agent")),
                    location=f"contact {contact_id}, event {event.seq}",
                )
            )
    return findings


def unconfirmed_doi(store: ConsentStore) -> list[Finding]:
    """Find every double opt-in in the store that no ``confirmed`` event backs.

    The hash chains cannot show a ``consents`` row changed behind the
    store's back; this check can, for the one state that admits mail.
    """
    confirmed = exists().where(
        and_(
            t.events.c.contact_id == t.consents.c.contact_id,
            t.events.c.purpose == t.consents.c.purpose,
            t.events.c.kind == EventKind.CONFIRMED.value,
        )
    )
    query = (
        select(t.consents.c.contact_id, t.consents.c.purpose)
        .where(t.consents.c.state == ConsentState.DOI.value, ~confirmed)
        .order_by(t.consents.c.contact_id, t.consents.c.purpose)
    )
    with store.reading() as conn:
        rows = conn.execute(query).all()
    return [
        EVIDENCE_INCOMPLETE.finding(
            f"Contact {row.contact_id} has a double opt-in for {row.purpose} "
            "but no confirmed event.",
            location=f"contact {row.contact_id}, purpose {row.purpose}",
        )
        for row in rows
    ]


def render_html(bundle: dict[str, Any]) -> str:
    """Render an export bundle as a self-contained, printable HTML page."""
    return templates.get_template("evidence.html.j2").render(bundle=bundle)
