"""The sync between the CRM and the campaign manager's consent store.

:meth:`CrmSync.pull` brings CRM contacts in (CRM to campaign manager);
:meth:`CrmSync.push` sends confirmations, unsubscribes, bounces and
complaints out (campaign manager to CRM). Both work in batches, each one
transaction that also records how far the sync got, so a sync killed
half-way and run again neither loses nor doubles anything, and a second run
over unchanged data changes nothing.

Logs name contact ids, CRM ids and counts, never an address.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, delete, insert, select, update

from ..consent import tables as ct
from ..consent.addresses import AddressCheck, check_address
from ..consent.events import Event, to_utc
from ..consent.flow import DoubleOptIn, RequestContext
from ..consent.model import ConsentState, EventKind, LegalBasis, SuppressionReason
from ..consent.store import ConsentStore
from ..errors import DeliverabilityError
from . import tables as st
from .bulk import NewContact, plan_new_contact, write_new_contacts
from .config import SyncConfig
from .matching import MatchIndex, MatchOutcome, match_keys
from .records import CrmContact, CrmOptIn, CrmUpdate, RowProblem, UpdateKind
from .rules import Action, Decision, StoreConsent, decide_block, decide_opt_in

__all__ = ["CrmSink", "CrmSync", "SyncReport", "translate_event"]

log = logging.getLogger(__name__)

SOURCE = "sync"
"""The ``source`` of events the sync writes; the push never echoes them."""

_NEW_PREFIX = "new:"


class CrmSink(Protocol):
    """A destination of updates for the CRM: a file, a queue, a CRM's API.

    ``write`` must be idempotent by :attr:`CrmUpdate.id`: after a crash the
    sync hands over again the updates it could not record as delivered.
    """

    def write(self, updates: Sequence[CrmUpdate]) -> None:
        """Deliver ``updates`` (in ``id`` order) or raise."""


@dataclass
class SyncReport:
    """Counts of one pull or push, and the problems met (no personal data)."""

    direction: str
    read: int = 0
    unchanged: int = 0
    created: int = 0
    linked: int = 0
    changed: int = 0
    invalid: int = 0
    reviews: int = 0
    updates: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "direction": self.direction,
            "read": self.read,
            "unchanged": self.unchanged,
            "created": self.created,
            "linked": self.linked,
            "changed": self.changed,
            "invalid": self.invalid,
            "reviews": self.reviews,
            "updates": self.updates,
            "decisions": dict(sorted(self.decisions.items())),
            "problems": self.problems[:100],
        }


@dataclass
class _Mirror:
    crm_id: str
    contact_id: int | None
    address_key: str | None
    digest: str
    fields: dict[str, Any]


_SUPPRESSION_UPDATES = {
    SuppressionReason.HARD_BOUNCE.value: UpdateKind.BOUNCED,
    SuppressionReason.COMPLAINT.value: UpdateKind.COMPLAINED,
    SuppressionReason.UNSUBSCRIBE.value: UpdateKind.UNSUBSCRIBED,
    SuppressionReason.BLOCKLIST.value: UpdateKind.BLOCKED,
}


def translate_event(event: Event) -> str | None:
    """Return the update kind an event means for the CRM, or ``None``.

    Sign-ups and confirmation mails are not sent: a pending sign-up
    touches no CRM contact. Events the sync wrote itself are not echoed.
    """
    if event.source == SOURCE:
        return None
    if event.kind is EventKind.CONFIRMED:
        return UpdateKind.CONFIRMED
    if event.kind is EventKind.WITHDRAWN:
        return UpdateKind.UNSUBSCRIBED
    if event.kind is EventKind.SUPPRESSED:
        return _SUPPRESSION_UPDATES.get(str(event.payload.get("reason")))
    return None


class CrmSync:
    """Sync one CRM with one consent store.

    :param flow: sends the confirmation mail to a changed address that had
        a double opt-in; without it, the new address stays at ``none``.
    :param bulk: write contacts new to the store with multi-row statements
        (the default); ``False`` writes each through the store's methods.
    """

    def __init__(
        self,
        store: ConsentStore,
        config: SyncConfig | None = None,
        *,
        flow: DoubleOptIn | None = None,
        batch_size: int = 500,
        bulk: bool = True,
    ) -> None:
        self.store = store
        self.bulk = bulk
        self.config = config or SyncConfig()
        self.flow = flow
        self.batch_size = batch_size
        self._index: MatchIndex | None = None

    # -- CRM to campaign manager -------------------------------------------

    def pull(self, source: Iterable[CrmContact | RowProblem]) -> SyncReport:
        """Bring CRM contacts into the store, batch by batch."""
        report = SyncReport("pull")
        self._send_owed(report)  # mails a crashed run queued and did not send
        digests = self._digests()
        batch: list[CrmContact] = []
        for item in source:
            if isinstance(item, RowProblem):
                report.invalid += 1
                report.problems.append(f"row {item.position}: {item.message}")
                continue
            report.read += 1
            if digests.get(item.crm_id) == item.digest():
                report.unchanged += 1
                continue
            batch.append(item)
            if len(batch) >= self.batch_size:
                self._pull_batch(batch, report)
                batch = []
        if batch:
            self._pull_batch(batch, report)
        self._index = None
        log.info(
            "pull: %d read, %d unchanged, %d created, %d reviews",
            report.read,
            report.unchanged,
            report.created,
            report.reviews,
        )
        return report

    def _digests(self) -> dict[str, str]:
        with self.store.reading() as conn:
            rows = conn.execute(select(st.crm.c.crm_id, st.crm.c.digest)).all()
        return {row.crm_id: row.digest for row in rows}

    def _pull_batch(self, batch: list[CrmContact], report: SyncReport) -> None:
        reconfirm: list[tuple[AddressCheck, str]] = []
        with self.store.transaction() as conn:
            mirrors = _load_mirrors(conn, [c.crm_id for c in batch])
            if self.bulk:
                batch = self._pull_new(conn, batch, mirrors, report)
            for contact in batch:
                mirror = mirrors.get(contact.crm_id)
                saved = self._pull_one(conn, contact, mirror, report, reconfirm)
                if saved is not None:
                    mirrors[contact.crm_id] = saved
            # The mails owed are written with the change that owes them and
            # sent after the commit, so a crash in between leaves them queued.
            now = self.store.clock()
            rows = []
            for check, purpose in reconfirm:
                if self.config.reconfirm_version.get(purpose) is None:
                    report.decisions["new_address_not_reconfirmed"] += 1
                    continue
                rows.append(
                    {
                        "address": str(check.normalized),
                        "purpose": purpose,
                        "queued_at": now,
                    }
                )
            if rows:
                conn.execute(insert(st.reconfirm), rows)
        if rows:
            self._send_owed(report)

    def _send_owed(self, report: SyncReport) -> None:
        """Send the confirmation mails queued for changed addresses.

        A row is deleted once its mail was handed to the flow, or once the
        flow rejected it (reported, not tried again). A mailer that fails
        (an ``OSError``, such as a refused SMTP connection) leaves the row
        for the next pull, and so does a run without a flow.
        """
        with self.store.reading() as conn:
            queue = st.reconfirm.c
            owed = conn.execute(
                select(queue.id, queue.address, queue.purpose).order_by(queue.id)
            ).all()
        if owed and self.flow is None:
            report.decisions["new_address_mail_waiting"] += len(owed)
            return
        for row in owed:
            if self._reconfirm(check_address(row.address), row.purpose, report):
                with self.store.transaction() as conn:
                    conn.execute(
                        delete(st.reconfirm).where(st.reconfirm.c.id == row.id)
                    )

    def _pull_new(
        self,
        conn: Connection,
        batch: list[CrmContact],
        mirrors: dict[str, _Mirror],
        report: SyncReport,
    ) -> list[CrmContact]:
        """Write the contacts new to the store in bulk; return the rest."""
        checks = {c.crm_id: check_address(c.address) for c in batch}
        keys = [k.key for k in checks.values() if k.key is not None]
        taken = set(
            conn.scalars(
                select(ct.contacts.c.address_key).where(
                    ct.contacts.c.address_key.in_(keys)
                )
            )
        )
        plans: list[NewContact] = []
        rest: list[CrmContact] = []
        for contact in batch:
            check = checks[contact.crm_id]
            plan = None
            if contact.crm_id not in mirrors and check.key not in taken:
                if check.key is not None:
                    plan = plan_new_contact(contact, check, self.config)
            if plan is None:
                rest.append(contact)
                continue
            taken.add(check.key)
            mirrors[contact.crm_id] = _Mirror(contact.crm_id, None, None, "", {})
            plans.append(plan)
        write_new_contacts(conn, plans, self.store.clock())
        for plan in plans:
            report.created += 1
            report.decisions.update(plan.decisions)
        return rest

    def _pull_one(
        self,
        conn: Connection,
        contact: CrmContact,
        mirror: _Mirror | None,
        report: SyncReport,
        reconfirm: list[tuple[AddressCheck, str]],
    ) -> _Mirror | None:
        check = check_address(contact.address)
        if check.key is None:
            report.invalid += 1
            report.problems.append(f"CRM contact {contact.crm_id}: invalid address")
            return None
        digest = contact.digest()
        previous = mirror.fields if mirror else {}
        if mirror is None or not _linked(conn, mirror.contact_id):
            contact_id = self._first_transfer(conn, contact, check, report)
            key: str | None = check.key
        else:
            report.changed += 1
            contact_id, key = mirror.contact_id, mirror.address_key
            if mirror.address_key != check.key:
                contact_id, key = self._address_changed(
                    conn, contact, check, mirror, report, reconfirm
                )
                if key != check.key:
                    digest = ""
        if contact_id is None:
            saved = _Mirror(contact.crm_id, None, check.key, "", {})
        else:
            fields = self._apply_fields(conn, contact, contact_id, previous, report)
            saved = _Mirror(contact.crm_id, contact_id, key, digest, fields)
        _save_mirror(conn, saved, contact, self.store.clock())
        return saved

    def _first_transfer(
        self,
        conn: Connection,
        contact: CrmContact,
        check: AddressCheck,
        report: SyncReport,
    ) -> int | None:
        existing = conn.scalar(
            select(ct.contacts.c.id).where(ct.contacts.c.address_key == check.key)
        )
        if existing is None:
            # A contact new to the store: every purpose stays at "none".
            report.created += 1
            return self.store.ensure_contact(conn, check, SOURCE)
        others = conn.execute(
            select(st.crm.c.crm_id).where(
                st.crm.c.contact_id == existing, st.crm.c.crm_id != contact.crm_id
            )
        ).scalars()
        real = [o for o in others if not o.startswith(_NEW_PREFIX)]
        if real and _declined(conn, contact.crm_id):
            report.decisions["address_shared_link_declined"] += 1
            return None
        if real:
            details = {"candidates": sorted([*real, contact.crm_id])}
            if add_review(
                conn,
                self.store.clock(),
                "match",
                "address_shared_by_crm_contacts",
                details,
                contact_id=int(existing),
                crm_id=contact.crm_id,
            ):
                report.reviews += 1
            return None
        conn.execute(
            delete(st.crm).where(
                st.crm.c.contact_id == existing,
                st.crm.c.crm_id.startswith(_NEW_PREFIX),
            )
        )
        report.linked += 1
        return int(existing)

    def _address_changed(
        self,
        conn: Connection,
        contact: CrmContact,
        check: AddressCheck,
        mirror: _Mirror,
        report: SyncReport,
        reconfirm: list[tuple[AddressCheck, str]],
    ) -> tuple[int | None, str | None]:
        old_id = mirror.contact_id
        new_id = conn.scalar(
            select(ct.contacts.c.id).where(ct.contacts.c.address_key == check.key)
        )
        if new_id is not None:
            taken = conn.scalar(
                select(st.crm.c.crm_id).where(
                    st.crm.c.contact_id == new_id, st.crm.c.crm_id != contact.crm_id
                )
            )
            if taken is not None:
                if add_review(
                    conn,
                    self.store.clock(),
                    "conflict",
                    "address_taken",
                    {"other_crm_id": taken},
                    contact_id=old_id,
                    crm_id=contact.crm_id,
                    field="email",
                ):
                    report.reviews += 1
                return old_id, mirror.address_key
        else:
            new_id = self.store.ensure_contact(conn, check, SOURCE)
            report.created += 1
        report.decisions["address_changed"] += 1
        # A double opt-in belongs to the address confirmed, never to a new one.
        for purpose in self.config.purposes:
            if old_id is not None and _state(conn, old_id, purpose) is ConsentState.DOI:
                reconfirm.append((check, purpose))
        return int(new_id), check.key

    def _reconfirm(self, check: AddressCheck, purpose: str, report: SyncReport) -> bool:
        """Send one confirmation mail; return whether its queue row is done."""
        version = self.config.reconfirm_version.get(purpose)
        if self.flow is None or version is None:
            report.decisions["new_address_not_reconfirmed"] += 1
            return True
        try:
            self.flow.register(
                check, purpose, version, RequestContext(form="crm-address-change")
            )
        except DeliverabilityError as exc:
            # The error's message can contain the address, so only its type is kept.
            self._mail_problem(purpose, type(exc).__name__, report)
            return True
        except OSError as exc:
            self._mail_problem(
                purpose, f"{type(exc).__name__}, kept for the next pull", report
            )
            return False
        report.decisions["new_address_pending"] += 1
        return True

    @staticmethod
    def _mail_problem(purpose: str, name: str, report: SyncReport) -> None:
        log.warning("confirmation mail to a changed address failed: %s", name)
        report.problems.append(
            f"confirmation mail for {purpose} to a changed address failed: {name}"
        )

    def _apply_fields(
        self,
        conn: Connection,
        contact: CrmContact,
        contact_id: int,
        previous: Mapping[str, Any],
        report: SyncReport,
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for purpose in self.config.purposes:
            opt_in = contact.opt_ins.get(purpose, CrmOptIn())
            fields[purpose] = opt_in.as_list()
            if previous.get(purpose) != fields[purpose]:
                first = purpose not in previous
                self._apply_opt_in(
                    conn, contact, contact_id, purpose, opt_in, first, report
                )
        moment = contact.blocked_at
        blocked = [
            contact.blocked,
            None if moment is None else to_utc(moment).isoformat(),
        ]
        fields["blocked"] = blocked
        if previous.get("blocked") != blocked and contact.blocked is not None:
            self._apply_block(conn, contact, contact_id, report)
        return fields

    def _apply_opt_in(
        self,
        conn: Connection,
        contact: CrmContact,
        contact_id: int,
        purpose: str,
        opt_in: CrmOptIn,
        first: bool,
        report: SyncReport,
    ) -> None:
        view = _store_consent(conn, contact_id, purpose)
        try:
            wanted = self.config.state_of(opt_in.status)
        except ValueError:
            decision = Decision(Action.REVIEW, "unknown_status_value")
            wanted = None
        else:
            documented = bool(opt_in.source and opt_in.evidence)
            decision = decide_opt_in(
                wanted, opt_in.changed_at, documented, view, first=first
            )
        report.decisions[decision.reason] += 1
        if decision.action is Action.APPLY and wanted is not None:
            apply_crm_value(
                self.store, conn, contact_id, purpose, wanted, opt_in, contact.crm_id
            )
        elif decision.action is Action.REVIEW:
            details = {
                "crm_value": opt_in.as_list(),
                "store_state": view.state.value,
                "store_changed_at": _iso(view.changed_at),
                "store_confirmed_at": _iso(view.confirmed_at),
            }
            if add_review(
                conn,
                self.store.clock(),
                "conflict",
                decision.reason,
                details,
                contact_id=contact_id,
                crm_id=contact.crm_id,
                field=purpose,
            ):
                report.reviews += 1

    def _apply_block(
        self,
        conn: Connection,
        contact: CrmContact,
        contact_id: int,
        report: SyncReport,
    ) -> None:
        views = [_store_consent(conn, contact_id, p) for p in self.config.purposes]
        confirmed = [v for v in views if v.confirmed_at is not None]
        newest = max(confirmed, key=_confirmed_at, default=None)
        view = newest or StoreConsent(ConsentState.NONE, None, None)
        decision = decide_block(contact.blocked, contact.blocked_at, view)
        report.decisions[decision.reason] += 1
        if decision.action is Action.APPLY:
            suppress(self.store, conn, contact_id, SuppressionReason.BLOCKLIST)
        elif decision.action is Action.REVIEW:
            if add_review(
                conn,
                self.store.clock(),
                "conflict",
                decision.reason,
                {"crm_value": [contact.blocked, _iso(contact.blocked_at)]},
                contact_id=contact_id,
                crm_id=contact.crm_id,
                field="blocked",
            ):
                report.reviews += 1

    # -- campaign manager to CRM -------------------------------------------

    def push(self, sink: CrmSink) -> SyncReport:
        """Turn new events into updates, then deliver them to ``sink``."""
        report = SyncReport("push")
        while self._translate_batch(report):
            pass
        self._deliver(sink, report)
        self._index = None
        log.info(
            "push: %d updates delivered, %d reviews", report.updates, report.reviews
        )
        return report

    def _translate_batch(self, report: SyncReport) -> bool:
        with self.store.reading() as conn:
            start = get_cursor(conn, "events")
        events = self.store.events_since(start, limit=self.batch_size * 4)
        if not events:
            return False
        # The event cursor relies on ids becoming visible in id order. The
        # store runs write transactions one at a time (ConsentStore.transaction).
        with self.store.transaction() as conn:
            if get_cursor(conn, "events") != start:
                return True
            links = _links(conn, {e.contact_id for e in events})
            rows: list[dict[str, Any]] = []
            for event in events:
                report.read += 1
                rows.extend(self._translate(conn, event, links, report))
            if rows:
                conn.execute(insert(st.outbox), rows)
            set_cursor(conn, "events", events[-1].id or start)
        return True

    def _translate(
        self,
        conn: Connection,
        event: Event,
        links: dict[int, str],
        report: SyncReport,
    ) -> list[dict[str, Any]]:
        kind = translate_event(event)
        if kind is None:
            return []
        crm_id = links.get(event.contact_id)
        if crm_id is not None:
            if crm_id.startswith(_NEW_PREFIX):
                crm_id = None
            return [
                outbox_row(
                    kind,
                    crm_id,
                    event.contact_id,
                    event.purpose,
                    event.occurred_at,
                    {"event_id": event.id},
                )
            ]
        if kind != UpdateKind.CONFIRMED:
            return []
        rows = self._match_confirmed(conn, event.contact_id, event, report)
        if rows and rows[0]["crm_id"] is not None:
            links[event.contact_id] = rows[0]["crm_id"]
        elif rows:
            links[event.contact_id] = f"{_NEW_PREFIX}{event.contact_id}"
        return rows

    def _match_confirmed(
        self, conn: Connection, contact_id: int, event: Event, report: SyncReport
    ) -> list[dict[str, Any]]:
        if open_review(conn, "match", contact_id=contact_id) is not None:
            return []
        address_key = conn.scalar(
            select(ct.contacts.c.address_key).where(ct.contacts.c.id == contact_id)
        )
        form = form_fields(conn, contact_id)
        match = self.index(conn).match(str(address_key), match_keys(**form))
        if match.outcome == MatchOutcome.REVIEW:
            details = {
                "candidates": [c.to_dict() for c in match.candidates],
                "event_id": event.id,
            }
            if add_review(
                conn,
                self.store.clock(),
                "match",
                "ambiguous_match",
                details,
                contact_id=contact_id,
            ):
                report.reviews += 1
            return []
        report.decisions[f"match_{match.outcome}"] += 1
        return link_rows(self.store, conn, contact_id, match.crm_id, [event])

    def index(self, conn: Connection) -> MatchIndex:
        """Return the match index over the CRM mirror, built once per run."""
        if self._index is None:
            rows = conn.execute(
                select(
                    st.crm.c.crm_id,
                    st.crm.c.address_key,
                    st.crm.c.name_key,
                    st.crm.c.phone_key,
                    st.crm.c.customer_key,
                ).where(st.crm.c.crm_id.not_like(f"{_NEW_PREFIX}%"))
            ).all()
            self._index = MatchIndex.build(
                self.config.matching,
                ((r.crm_id, r.address_key, _keys_of(r)) for r in rows),
            )
        return self._index

    def _deliver(self, sink: CrmSink, report: SyncReport) -> None:
        while True:
            with self.store.reading() as conn:
                start = get_cursor(conn, "delivered")
                rows = conn.execute(
                    select(st.outbox)
                    .where(st.outbox.c.id > start)
                    .order_by(st.outbox.c.id)
                    .limit(self.batch_size * 4)
                ).all()
            if not rows:
                return
            updates = [_update(row._mapping) for row in rows]
            sink.write(updates)
            with self.store.transaction() as conn:
                set_cursor(conn, "delivered", updates[-1].id)
            report.updates += len(updates)


# -- helpers shared with the review queue and re-permission ----------------


def link_rows(
    store: ConsentStore,
    conn: Connection,
    contact_id: int,
    crm_id: str | None,
    events: Sequence[Event],
) -> list[dict[str, Any]]:
    """Link a contact to ``crm_id`` (``None``: a new CRM contact); return updates.

    The first update is ``link`` or ``create_contact``; the rest translate
    ``events``. The form fields kept for the match-up are deleted.
    """
    first = _first_row(conn, contact_id, crm_id, store.clock())
    conn.execute(
        delete(st.form_fields).where(st.form_fields.c.contact_id == contact_id)
    )
    rows = [first]
    for event in events:
        kind = translate_event(event)
        if kind is not None:
            rows.append(
                outbox_row(
                    kind,
                    crm_id,
                    contact_id,
                    event.purpose,
                    event.occurred_at,
                    {"event_id": event.id},
                )
            )
    return rows


def _first_row(
    conn: Connection, contact_id: int, crm_id: str | None, now: datetime
) -> dict[str, Any]:
    """Record the link or the placeholder of a new CRM contact; return its update."""
    address = conn.scalar(
        select(ct.contacts.c.address).where(ct.contacts.c.id == contact_id)
    )
    if crm_id is not None:
        conn.execute(
            insert(st.links).values(contact_id=contact_id, crm_id=crm_id, linked_at=now)
        )
        return outbox_row(
            UpdateKind.LINK, crm_id, contact_id, None, now, {"address": address}
        )
    conn.execute(
        insert(st.crm).values(
            crm_id=f"{_NEW_PREFIX}{contact_id}",
            contact_id=contact_id,
            digest="",
            fields="{}",
            seen_at=now,
        )
    )
    data = {"address": address, **form_fields(conn, contact_id)}
    return outbox_row(UpdateKind.CREATE_CONTACT, None, contact_id, None, now, data)


def outbox_row(
    kind: str,
    crm_id: str | None,
    contact_id: int,
    purpose: str | None,
    occurred_at: datetime,
    data: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the values of one ``sync_outbox`` row."""
    return {
        "kind": kind,
        "crm_id": crm_id,
        "contact_id": contact_id,
        "purpose": purpose,
        "occurred_at": occurred_at,
        "data": json.dumps(dict(data), sort_keys=True),
    }


def apply_crm_value(
    store: ConsentStore,
    conn: Connection,
    contact_id: int,
    purpose: str,
    wanted: ConsentState,
    opt_in: CrmOptIn,
    crm_id: str | None,
) -> ConsentState:
    """Apply a CRM consent value through the state machine.

    A claim becomes ``soi_documented`` with its source and evidence; a
    withdrawal or a cleared value becomes ``withdrawn``. Raises
    :class:`~deliverability.consent.model.IllegalTransition` when the state
    machine forbids it (a claim after a withdrawal needs a new sign-up).
    """
    moment = None if opt_in.changed_at is None else to_utc(opt_in.changed_at)
    payload: dict[str, Any] = {
        "crm_id": crm_id,
        "crm_changed_at": None if moment is None else moment.isoformat(),
    }
    if wanted is ConsentState.SOI_DOCUMENTED:
        payload.update(
            source=opt_in.source,
            evidence=opt_in.evidence,
            actor="crm",
            legal_basis=LegalBasis.CONSENT.value,
        )
        return store.apply(
            conn,
            contact_id,
            purpose,
            EventKind.SOI_RECORDED,
            source=SOURCE,
            payload=payload,
            legal_basis=LegalBasis.CONSENT,
        )
    return store.apply(
        conn, contact_id, purpose, EventKind.WITHDRAWN, source=SOURCE, payload=payload
    )


def _linked(conn: Connection, contact_id: int | None) -> bool:
    # The purge of an unconfirmed sign-up can delete a contact the CRM
    # mirror still points at; such a link counts as none.
    if contact_id is None:
        return False
    found = conn.scalar(select(ct.contacts.c.id).where(ct.contacts.c.id == contact_id))
    return found is not None


def suppress(
    store: ConsentStore,
    conn: Connection,
    contact_id: int,
    reason: SuppressionReason,
) -> None:
    """Suppress a contact's address for every purpose, inside ``conn``."""
    address = conn.scalar(
        select(ct.contacts.c.address).where(ct.contacts.c.id == contact_id)
    )
    if address is None:
        raise DeliverabilityError(f"contact {contact_id} does not exist")
    store.suppress_in(conn, str(address), reason, source=SOURCE)


def add_review(
    conn: Connection,
    now: datetime,
    kind: str,
    reason: str,
    details: Mapping[str, Any],
    *,
    contact_id: int | None = None,
    crm_id: str | None = None,
    field: str | None = None,
) -> bool:
    """Queue a review unless an open one exists for the same subject."""
    if (
        open_review(conn, kind, contact_id=contact_id, crm_id=crm_id, field=field)
        is not None
    ):
        return False
    conn.execute(
        insert(st.reviews).values(
            kind=kind,
            status="open",
            contact_id=contact_id,
            crm_id=crm_id,
            field=field,
            reason=reason,
            details=json.dumps(dict(details), sort_keys=True),
            created_at=now,
        )
    )
    log.info("review queued: %s (%s) for contact %s", kind, reason, contact_id)
    return True


def open_review(
    conn: Connection,
    kind: str,
    *,
    contact_id: int | None = None,
    crm_id: str | None = None,
    field: str | None = None,
) -> int | None:
    """Return the id of the open review of this kind and subject, or ``None``."""
    query = select(st.reviews.c.id).where(
        st.reviews.c.status == "open", st.reviews.c.kind == kind
    )
    for column, value in (
        ("contact_id", contact_id),
        ("crm_id", crm_id),
        ("field", field),
    ):
        if value is not None:
            query = query.where(st.reviews.c[column] == value)
    found = conn.scalar(query.limit(1))
    return None if found is None else int(found)


def form_fields(conn: Connection, contact_id: int) -> dict[str, str | None]:
    """Return the web-form fields kept for a contact's match-up."""
    text = conn.scalar(
        select(st.form_fields.c.fields).where(st.form_fields.c.contact_id == contact_id)
    )
    stored = json.loads(text) if text else {}
    names = ("first_name", "last_name", "company", "phone", "customer_number")
    return {name: stored.get(name) for name in names}


def get_cursor(conn: Connection, name: str) -> int:
    """Return the position of cursor ``name`` (0 when new)."""
    found = conn.scalar(select(st.cursors.c.position).where(st.cursors.c.name == name))
    return 0 if found is None else int(found)


def set_cursor(conn: Connection, name: str, position: int) -> None:
    """Move cursor ``name`` to ``position`` inside ``conn``'s transaction."""
    done = conn.execute(
        update(st.cursors).where(st.cursors.c.name == name).values(position=position)
    )
    if done.rowcount == 0:
        conn.execute(insert(st.cursors).values(name=name, position=position))


def _declined(conn: Connection, crm_id: str) -> bool:
    # A person chose another CRM contact for this address: do not ask again.
    found = conn.scalar(
        select(st.reviews.c.id).where(
            st.reviews.c.kind == "match",
            st.reviews.c.status == "resolved",
            st.reviews.c.crm_id == crm_id,
            st.reviews.c.resolution != crm_id,
        )
    )
    return found is not None


def _links(conn: Connection, contact_ids: set[int]) -> dict[int, str]:
    links: dict[int, str] = {}
    ids = sorted(contact_ids)
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(st.crm.c.contact_id, st.crm.c.crm_id).where(
                st.crm.c.contact_id.in_(ids[start : start + 500])
            )
        ).all()
        links.update({int(r.contact_id): r.crm_id for r in rows})
        extra = conn.execute(
            select(st.links.c.contact_id, st.links.c.crm_id).where(
                st.links.c.contact_id.in_(ids[start : start + 500])
            )
        ).all()
        links.update({int(r.contact_id): r.crm_id for r in extra})
    return links


def _load_mirrors(conn: Connection, crm_ids: list[str]) -> dict[str, _Mirror]:
    rows = conn.execute(select(st.crm).where(st.crm.c.crm_id.in_(crm_ids))).all()
    return {
        r.crm_id: _Mirror(
            r.crm_id,
            None if r.contact_id is None else int(r.contact_id),
            r.address_key,
            r.digest,
            json.loads(r.fields),
        )
        for r in rows
    }


def _save_mirror(
    conn: Connection, mirror: _Mirror, contact: CrmContact, now: datetime
) -> None:
    keys = match_keys(
        first_name=contact.first_name,
        last_name=contact.last_name,
        company=contact.company,
        phone=contact.phone,
        customer_number=contact.customer_number,
    )
    values = {
        "contact_id": mirror.contact_id,
        "address_key": mirror.address_key,
        "name_key": keys.get("name_company"),
        "phone_key": keys.get("phone"),
        "customer_key": keys.get("customer_number"),
        "digest": mirror.digest,
        "fields": json.dumps(mirror.fields, sort_keys=True),
        "seen_at": now,
    }
    done = conn.execute(
        update(st.crm).where(st.crm.c.crm_id == mirror.crm_id).values(**values)
    )
    if done.rowcount == 0:
        conn.execute(insert(st.crm).values(crm_id=mirror.crm_id, **values))


def _keys_of(row: Any) -> dict[str, str]:
    pairs = (
        ("name_company", row.name_key),
        ("phone", row.phone_key),
        ("customer_number", row.customer_key),
    )
    return {name: value for name, value in pairs if value}


def _state(conn: Connection, contact_id: int, purpose: str) -> ConsentState:
    return _store_consent(conn, contact_id, purpose).state


def _store_consent(conn: Connection, contact_id: int, purpose: str) -> StoreConsent:
    row = conn.execute(
        select(
            ct.consents.c.state, ct.consents.c.changed_at, ct.consents.c.confirmed_at
        ).where(
            ct.consents.c.contact_id == contact_id, ct.consents.c.purpose == purpose
        )
    ).first()
    if row is None:
        return StoreConsent(ConsentState.NONE, None, None)
    return StoreConsent(
        ConsentState(row.state),
        to_utc(row.changed_at),
        None if row.confirmed_at is None else to_utc(row.confirmed_at),
    )


def _confirmed_at(view: StoreConsent) -> datetime:
    assert view.confirmed_at is not None
    return view.confirmed_at


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else to_utc(moment).isoformat()


def _update(row: Mapping[Any, Any]) -> CrmUpdate:
    crm_id = row["crm_id"]
    return CrmUpdate(
        int(row["id"]),
        row["kind"],
        crm_id,
        int(row["contact_id"]),
        row["purpose"],
        to_utc(row["occurred_at"]),
        json.loads(row["data"]),
    )
