"""The fast path of a pull: CRM contacts new to the store, a batch at a time.

A first transfer is the bulk of an initial sync, and going through the
store one statement at a time costs about a dozen statements per contact.
Here a batch of new contacts is written with a few multi-row statements:
the contacts, their hash-chained events, the consent projection, the
suppressions and the CRM mirror. The events, chains and projection are the
same that the store's own methods write, and a test compares both paths.
A contact that needs a review takes the ordinary path instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from ..consent import tables as ct
from ..consent.addresses import AddressCheck
from ..consent.events import GENESIS, canonical_payload, event_hash, to_utc
from ..consent.model import ConsentState, EventKind, LegalBasis, SuppressionReason
from . import tables as st
from .config import SyncConfig
from .matching import match_keys
from .records import CrmContact, CrmOptIn
from .rules import Action, Decision, StoreConsent, decide_block, decide_opt_in

__all__ = ["NewContact", "plan_new_contact", "write_new_contacts"]

SOURCE = "sync"
_NONE = StoreConsent(ConsentState.NONE, None, None)


@dataclass
class NewContact:
    """A CRM contact new to the store, with what its first transfer writes."""

    contact: CrmContact
    check: AddressCheck
    events: list[tuple[EventKind, str | None, dict[str, Any]]] = field(
        default_factory=list
    )
    consents: dict[str, tuple[ConsentState, LegalBasis, str | None]] = field(
        default_factory=dict
    )
    blocked: bool = False
    fields: dict[str, Any] = field(default_factory=dict)
    decisions: list[str] = field(default_factory=list)


def plan_new_contact(
    contact: CrmContact, check: AddressCheck, config: SyncConfig
) -> NewContact | None:
    """Plan the first transfer of a contact; ``None`` when it needs a review."""
    plan = NewContact(contact, check)
    plan.events.append((EventKind.CONTACT_CREATED, None, {"address": check.normalized}))
    for purpose in config.purposes:
        opt_in = contact.opt_ins.get(purpose, CrmOptIn())
        plan.fields[purpose] = opt_in.as_list()
        try:
            wanted = config.state_of(opt_in.status)
        except ValueError:
            return None
        documented = bool(opt_in.source and opt_in.evidence)
        decision = decide_opt_in(
            wanted, opt_in.changed_at, documented, _NONE, first=True
        )
        if not _plan_opt_in(plan, purpose, wanted, opt_in, decision):
            return None
    blocked_at = contact.blocked_at
    plan.fields["blocked"] = [
        contact.blocked,
        None if blocked_at is None else to_utc(blocked_at).isoformat(),
    ]
    if contact.blocked is not None:
        decision = decide_block(contact.blocked, blocked_at, _NONE)
        plan.decisions.append(decision.reason)
        if decision.action is Action.APPLY:
            plan.blocked = True
            reason = {"reason": SuppressionReason.BLOCKLIST.value}
            plan.events.append((EventKind.SUPPRESSED, None, reason))
    return plan


def _plan_opt_in(
    plan: NewContact,
    purpose: str,
    wanted: ConsentState | None,
    opt_in: CrmOptIn,
    decision: Decision,
) -> bool:
    plan.decisions.append(decision.reason)
    if decision.action is Action.REVIEW:
        return False
    if decision.action is Action.KEEP or wanted is None:
        return True
    moment = None if opt_in.changed_at is None else to_utc(opt_in.changed_at)
    payload: dict[str, Any] = {
        "crm_id": plan.contact.crm_id,
        "crm_changed_at": None if moment is None else moment.isoformat(),
    }
    if wanted is ConsentState.SOI_DOCUMENTED:
        payload.update(
            source=opt_in.source,
            evidence=opt_in.evidence,
            actor="crm",
            legal_basis=LegalBasis.CONSENT.value,
        )
        plan.events.append((EventKind.SOI_RECORDED, purpose, payload))
        plan.consents[purpose] = (wanted, LegalBasis.CONSENT, opt_in.source)
    else:
        plan.events.append((EventKind.WITHDRAWN, purpose, payload))
        plan.consents[purpose] = (ConsentState.WITHDRAWN, LegalBasis.NONE, None)
    return True


def write_new_contacts(
    conn: Connection, plans: Sequence[NewContact], now: datetime
) -> dict[str, int]:
    """Write planned first transfers; return the contact id per CRM id.

    The caller makes sure that no address key exists in the store and that
    keys and CRM ids are unique within ``plans``.
    """
    if not plans:
        return {}
    rows = conn.execute(
        insert(ct.contacts).returning(
            ct.contacts.c.id, ct.contacts.c.address_key, sort_by_parameter_order=True
        ),
        [
            {
                "address": p.check.normalized,
                "address_key": p.check.key,
                "created_at": now,
            }
            for p in plans
        ],
    ).all()
    ids = [int(r.id) for r in rows]
    events, heads = _chains(plans, ids, now)
    conn.execute(insert(ct.events), events)
    conn.execute(
        update(ct.contacts)
        .where(ct.contacts.c.id == bindparam("contact"))
        .values(head_seq=bindparam("seq"), head_hash=bindparam("digest")),
        heads,
    )
    _write_consents(conn, plans, ids, now)
    _write_suppressions(conn, plans, now)
    _write_mirrors(conn, plans, ids, now)
    return {p.contact.crm_id: i for p, i in zip(plans, ids, strict=True)}


def _chains(
    plans: Sequence[NewContact], ids: Sequence[int], now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    heads: list[dict[str, Any]] = []
    for plan, contact_id in zip(plans, ids, strict=True):
        prev = GENESIS
        for seq, (kind, purpose, payload) in enumerate(plan.events, start=1):
            text = canonical_payload(payload)
            digest = event_hash(
                prev,
                contact_id=contact_id,
                seq=seq,
                kind=kind.value,
                purpose=purpose,
                occurred_at=now,
                source=SOURCE,
                payload_text=text,
            )
            events.append(
                {
                    "contact_id": contact_id,
                    "seq": seq,
                    "kind": kind.value,
                    "purpose": purpose,
                    "occurred_at": now,
                    "source": SOURCE,
                    "payload": text,
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            prev = digest
        heads.append({"contact": contact_id, "seq": len(plan.events), "digest": prev})
    return events, heads


def _write_consents(
    conn: Connection, plans: Sequence[NewContact], ids: Sequence[int], now: datetime
) -> None:
    rows = [
        {
            "contact_id": contact_id,
            "purpose": purpose,
            "address_key": plan.check.key,
            "state": state.value,
            "legal_basis": basis.value,
            "changed_at": now,
            "confirmed_at": None,
            "fresh_at": None,
            "source": source,
        }
        for plan, contact_id in zip(plans, ids, strict=True)
        for purpose, (state, basis, source) in plan.consents.items()
    ]
    if rows:
        conn.execute(insert(ct.consents), rows)


def _write_suppressions(
    conn: Connection, plans: Sequence[NewContact], now: datetime
) -> None:
    keys = [p.check.key for p in plans if p.blocked]
    if not keys:
        return
    existing = set(
        conn.scalars(
            select(ct.suppressions.c.address_key).where(
                ct.suppressions.c.address_key.in_(keys),
                ct.suppressions.c.scope == "*",
            )
        )
    )
    rows = [
        {
            "address_key": key,
            "scope": "*",
            "reason": SuppressionReason.BLOCKLIST.value,
            "created_at": now,
            "source": SOURCE,
        }
        for key in keys
        if key not in existing
    ]
    if rows:
        conn.execute(insert(ct.suppressions), rows)


def _write_mirrors(
    conn: Connection, plans: Sequence[NewContact], ids: Sequence[int], now: datetime
) -> None:
    rows = []
    for plan, contact_id in zip(plans, ids, strict=True):
        c = plan.contact
        keys = match_keys(
            first_name=c.first_name,
            last_name=c.last_name,
            company=c.company,
            phone=c.phone,
            customer_number=c.customer_number,
        )
        rows.append(
            {
                "crm_id": c.crm_id,
                "contact_id": contact_id,
                "address_key": plan.check.key,
                "name_key": keys.get("name_company"),
                "phone_key": keys.get("phone"),
                "customer_key": keys.get("customer_number"),
                "digest": c.digest(),
                "fields": json.dumps(plan.fields, sort_keys=True),
                "seen_at": now,
            }
        )
    conn.execute(insert(st.crm), rows)
