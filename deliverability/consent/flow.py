"""The double opt-in flow: sign-up, confirmation mail, confirm, unsubscribe, purge.

A sign-up creates a pending record and sends the confirmation mail. Only
:meth:`DoubleOptIn.confirm`, given a valid confirmation token, produces a
double opt-in; no other call, import or command can.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, column, delete, func, select
from sqlalchemy import table as lightweight_table

from ..dns import Resolver
from ..errors import InputError
from . import tables as t
from .addresses import AddressCheck, validate_for_signup
from .config import ConsentConfig
from .errors import ThrottledError
from .events import Event, to_utc
from .mail import Mailer, render_confirmation
from .model import TRANSITIONS, ConsentState, EventKind, LegalBasis, check_purpose
from .store import ConsentStore
from .tokens import TokenAction, consume_token, issue_token

__all__ = ["DoubleOptIn", "RequestContext", "SignupResult", "SignupStatus"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RequestContext:
    """The origin of a request, as recorded in the evidence log."""

    ip: str | None = None
    user_agent: str | None = None
    form: str | None = None
    """The URL or name of the sign-up form."""


class SignupStatus:
    """The outcomes of a sign-up (plain strings, for JSON)."""

    MAIL_SENT = "mail_sent"
    ALREADY_CONFIRMED = "already_confirmed"
    SUPPRESSED = "suppressed"


@dataclass(frozen=True, slots=True)
class SignupResult:
    """The outcome of a sign-up."""

    contact_id: int | None
    status: str
    """One of the :class:`SignupStatus` values."""
    notes: tuple[str, ...] = ()
    """Remarks on a valid but unusual address."""
    message_id: str | None = None


class DoubleOptIn:
    """Runs the double opt-in flow against one store and one mailer.

    :param resolver: checks that the address's domain accepts mail; ``None``
        checks syntax only.
    """

    def __init__(
        self,
        store: ConsentStore,
        mailer: Mailer,
        *,
        config: ConsentConfig | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.store = store
        self.mailer = mailer
        self.config = config or ConsentConfig()
        self.resolver = resolver

    # -- sign-up -----------------------------------------------------------

    async def check_address(self, address: str) -> AddressCheck:
        """Check ``address`` for a sign-up; raise ``AddressError`` if invalid."""
        return await validate_for_signup(address, self.resolver)

    async def sign_up(
        self, address: str, purpose: str, consent_version: str, context: RequestContext
    ) -> SignupResult:
        """Check the address, then :meth:`register` the sign-up."""
        check = await self.check_address(address)
        return self.register(check, purpose, consent_version, context)

    def register(
        self,
        check: AddressCheck,
        purpose: str,
        consent_version: str,
        context: RequestContext,
    ) -> SignupResult:
        """Record a sign-up for a checked address and send the confirmation mail.

        A repeated sign-up while one is pending sends a new mail (and voids
        the old link) once the resend cool-down has passed. Raises
        :class:`ThrottledError` when the address or the IP made too many
        requests, and ``InputError`` for an unknown consent text.
        """
        check_purpose(purpose)
        text = self.store.consent_text(purpose, consent_version)
        if text is None:
            raise InputError(
                f"no consent text {purpose}/{consent_version} is stored; "
                "add it first (deliverability consent add-text)"
            )
        now = self.store.clock()
        key = self.store.hash_key()
        with self.store.transaction() as conn:
            self._throttle_request(conn, key, check, context, now)
            if _suppressed(conn, str(check.key), purpose):
                return SignupResult(None, SignupStatus.SUPPRESSED, check.notes)
            contact_id = self.store.ensure_contact(conn, check, "web")
            state = _state(conn, contact_id, purpose)
            if state is ConsentState.DOI:
                return SignupResult(
                    contact_id, SignupStatus.ALREADY_CONFIRMED, check.notes
                )
            if state is ConsentState.PENDING:
                self._check_cooldown(conn, contact_id, purpose, now)
            payload = self._signup_payload(check, consent_version, text[1], context)
            self.store.apply(
                conn,
                contact_id,
                purpose,
                EventKind.SIGNUP_REQUESTED,
                source="web",
                payload=payload,
                legal_basis=LegalBasis.CONSENT,
            )
            message_id = self._send(
                conn, contact_id, purpose, str(check.normalized), now
            )
        log.info(
            "sign-up of contact %d for %s: confirmation mail sent", contact_id, purpose
        )
        return SignupResult(contact_id, SignupStatus.MAIL_SENT, check.notes, message_id)

    def _signup_payload(
        self, check: AddressCheck, version: str, text_hash: str, context: RequestContext
    ) -> dict[str, Any]:
        return {
            "address": check.normalized,
            "ip": context.ip if self.config.record_ip else None,
            "user_agent": context.user_agent,
            "form": context.form,
            "consent_text_version": version,
            "consent_text_sha256": text_hash,
        }

    def _throttle_request(
        self,
        conn: Connection,
        key: bytes,
        check: AddressCheck,
        context: RequestContext,
        now: datetime,
    ) -> None:
        cfg = self.config
        if context.ip:
            _throttle(
                conn,
                _bucket(key, "ip", context.ip),
                cfg.max_signups_per_ip,
                cfg.ip_window,
                now,
                "IP address",
            )
        _throttle(
            conn,
            _bucket(key, "address", str(check.key)),
            cfg.max_signups_per_address,
            cfg.address_window,
            now,
            "address",
        )

    def _check_cooldown(
        self, conn: Connection, contact_id: int, purpose: str, now: datetime
    ) -> None:
        last = _last_event_time(conn, contact_id, purpose, EventKind.CONFIRMATION_SENT)
        if last is not None and now - last < self.config.resend_cooldown:
            wait = self.config.resend_cooldown - (now - last)
            raise ThrottledError("address", max(1, int(wait.total_seconds())))

    def _send(
        self,
        conn: Connection,
        contact_id: int,
        purpose: str,
        address: str,
        now: datetime,
    ) -> str:
        # A new link voids the older ones: one pending confirmation per purpose.
        conn.execute(
            delete(t.tokens).where(
                t.tokens.c.contact_id == contact_id,
                t.tokens.c.purpose == purpose,
                t.tokens.c.action == TokenAction.CONFIRM.value,
            )
        )
        cfg = self.config
        confirm = issue_token(
            conn,
            contact_id=contact_id,
            purpose=purpose,
            action=TokenAction.CONFIRM,
            now=now,
            ttl=cfg.confirm_token_ttl,
        )
        cancel = issue_token(
            conn,
            contact_id=contact_id,
            purpose=purpose,
            action=TokenAction.UNSUBSCRIBE,
            now=now,
            ttl=cfg.unsubscribe_token_ttl,
        )
        mail = render_confirmation(
            sender=cfg.sender,
            to=address,
            purpose=purpose,
            confirm_url=f"{cfg.base_url}/confirm/{confirm}",
            cancel_url=f"{cfg.base_url}/unsubscribe/{cancel}",
            expires=now + cfg.confirm_token_ttl,
            pending_days=cfg.pending_ttl.days,
        )
        self.store.apply(
            conn,
            contact_id,
            purpose,
            EventKind.CONFIRMATION_SENT,
            source="web",
            payload={
                "message_id": mail.message_id,
                "sha256": mail.sha256,
                "template": mail.template_version,
                "text": mail.redacted_text,
                "expires_at": (now + cfg.confirm_token_ttl).isoformat(),
            },
        )
        # Sent inside the transaction: if sending fails, no "sent" event remains.
        self.mailer.send(mail.message)
        return mail.message_id

    # -- confirm and unsubscribe -------------------------------------------

    def confirm(self, token: str, context: RequestContext) -> int:
        """Confirm a sign-up with its token; return the contact id.

        Raises :class:`~deliverability.consent.errors.TokenError` for a
        forged, expired or used token and
        :class:`~deliverability.consent.model.IllegalTransition` when the
        sign-up was cancelled in the meantime (nothing changes then).
        """
        now = self.store.clock()
        with self.store.transaction() as conn:
            grant = consume_token(
                conn, token, TokenAction.CONFIRM, now=now, single_use=True
            )
            sent = _last_event_time(
                conn, grant.contact_id, grant.purpose, EventKind.CONFIRMATION_SENT
            )
            delay = None if sent is None else (now - sent).total_seconds()
            payload = {
                "ip": context.ip if self.config.record_ip else None,
                "user_agent": context.user_agent,
                "token": grant.reference,
                "delay_seconds": delay,
                "fast": delay is not None
                and delay < self.config.fast_confirmation.total_seconds(),
            }
            self.store.confirm(conn, grant, payload)
        log.info("contact %d confirmed %s", grant.contact_id, grant.purpose)
        return grant.contact_id

    def unsubscribe(
        self, token: str, context: RequestContext, *, one_click: bool
    ) -> int:
        """Withdraw the consent a token's purpose stands for; return the contact id.

        Unsubscribe tokens can be used again (a second click changes
        nothing), so a forwarded mail's link keeps working until it expires.
        """
        now = self.store.clock()
        with self.store.transaction() as conn:
            grant = consume_token(
                conn, token, TokenAction.UNSUBSCRIBE, now=now, single_use=False
            )
            payload = {
                "ip": context.ip if self.config.record_ip else None,
                "user_agent": context.user_agent,
                "token": grant.reference,
                "method": "one_click" if one_click else "link",
            }
            self.store.apply(
                conn,
                grant.contact_id,
                grant.purpose,
                EventKind.WITHDRAWN,
                source="web",
                payload=payload,
            )
        log.info("contact %d unsubscribed from %s", grant.contact_id, grant.purpose)
        return grant.contact_id

    def unsubscribe_headers(self, address: str, purpose: str) -> dict[str, str]:
        """Return RFC 8058 one-click unsubscribe headers for a campaign mail.

        Sign both headers with DKIM: RFC 8058, section 3.1 requires it.
        """
        contact = self.store.require_contact(address)
        with self.store.transaction() as conn:
            token = issue_token(
                conn,
                contact_id=contact.id,
                purpose=check_purpose(purpose),
                action=TokenAction.UNSUBSCRIBE,
                now=self.store.clock(),
                ttl=self.config.unsubscribe_token_ttl,
            )
        return {
            "List-Unsubscribe": f"<{self.config.base_url}/unsubscribe/{token}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }

    # -- purge -------------------------------------------------------------

    def purge_pending(self, *, older_than: timedelta | None = None) -> int:
        """Delete sign-ups left unconfirmed for longer than ``older_than``.

        A contact whose only consents are such sign-ups, and that a web
        sign-up created, is deleted with its events and tokens. The
        ``purged`` table keeps a keyed hash of its address and the times. A
        contact with other consents keeps them, and a contact that an
        import, the API, the CLI or the CRM sync created, or that the sync
        linked to a CRM contact, stays. For both, the stale sign-up is moved
        back to ``none`` by an ``expired`` event. A
        sign-up that began from ``soi_documented`` (a re-permission mail)
        expires too, and the documented single opt-in is then recorded
        again from the original event, so the contact and its evidence stay.
        A sign-up that began from ``withdrawn`` keeps its withdrawal the same
        way. Returns the number of sign-ups purged.
        """
        now = self.store.clock()
        ttl = self.config.pending_ttl if older_than is None else older_than
        cutoff = now - ttl
        key = self.store.hash_key()
        with self.store.transaction() as conn:
            rows = conn.execute(
                select(
                    t.consents.c.contact_id,
                    t.consents.c.purpose,
                    t.consents.c.changed_at,
                ).where(
                    t.consents.c.state == ConsentState.PENDING.value,
                    t.consents.c.changed_at < cutoff,
                )
            ).all()
            for row in rows:
                self._purge_one(
                    conn, row.contact_id, row.purpose, to_utc(row.changed_at), key, now
                )
            conn.execute(delete(t.throttle_hits).where(t.throttle_hits.c.at < cutoff))
        log.info("purged %d unconfirmed sign-ups", len(rows))
        return len(rows)

    def _purge_one(
        self,
        conn: Connection,
        contact_id: int,
        purpose: str,
        since: datetime,
        key: bytes,
        now: datetime,
    ) -> None:
        others = conn.scalar(
            select(func.count())
            .select_from(t.consents)
            .where(
                t.consents.c.contact_id == contact_id,
                t.consents.c.purpose != purpose,
                t.consents.c.state != ConsentState.NONE.value,
            )
        )
        address_key = conn.scalar(
            select(t.contacts.c.address_key).where(t.contacts.c.id == contact_id)
        )
        conn.execute(
            t.purged.insert().values(
                address_hash=_bucket(key, "purged", str(address_key)),
                purpose=purpose,
                signed_up_at=since,
                purged_at=now,
            )
        )
        documented = _single_opt_in_before_signup(conn, contact_id, purpose)
        if others or documented is not None or _kept(conn, contact_id):
            conn.execute(
                delete(t.tokens).where(
                    t.tokens.c.contact_id == contact_id, t.tokens.c.purpose == purpose
                )
            )
            self.store.apply(
                conn, contact_id, purpose, EventKind.EXPIRED, source="purge", payload={}
            )
            if documented is not None:
                self._restore_single_opt_in(conn, contact_id, purpose, documented)
            return
        for table in (t.tokens, t.consents, t.events):
            conn.execute(delete(table).where(table.c.contact_id == contact_id))
        conn.execute(delete(t.contacts).where(t.contacts.c.id == contact_id))
        log.debug("contact %d deleted by purge", contact_id)

    def _restore_single_opt_in(
        self, conn: Connection, contact_id: int, purpose: str, original: Event
    ) -> None:
        # An unanswered re-permission mail must not cost the documented
        # single opt-in, so record it again with a reference to the original.
        # A withdrawal is kept the same way, so that a forged sign-up left
        # unconfirmed cannot erase the record of an unsubscribe.
        payload = {**original.payload, "restored_from_event": original.id}
        basis = LegalBasis(str(payload.get("legal_basis", LegalBasis.CONSENT.value)))
        self.store.apply(
            conn,
            contact_id,
            purpose,
            original.kind,
            source="purge",
            payload=payload,
            legal_basis=basis,
        )


# The CRM sync's tables, named here without importing the sync package,
# which builds on this one.
_SYNC_CRM = lightweight_table("sync_crm", column("contact_id"))
_SYNC_LINKS = lightweight_table("sync_links", column("contact_id"))


def _kept(conn: Connection, contact_id: int) -> bool:
    """Return whether a contact must outlive the purge of its sign-ups: one
    created by an import, the API, the CLI or the CRM sync, or one the
    sync has linked to a CRM contact."""
    created_by = conn.scalar(
        select(t.events.c.source)
        .where(
            t.events.c.contact_id == contact_id,
            t.events.c.kind == EventKind.CONTACT_CREATED.value,
        )
        .limit(1)
    )
    if created_by is not None and created_by != "web":
        return True
    for linked in (_SYNC_CRM, _SYNC_LINKS):
        ids = linked.c.contact_id
        if conn.scalar(select(ids).where(ids == contact_id).limit(1)) is not None:
            return True
    return False


_RESTORED = (ConsentState.SOI_DOCUMENTED, ConsentState.WITHDRAWN)
"""States an unconfirmed sign-up must not erase: a documented single opt-in
and a withdrawal stay on record when the sign-up is purged."""


def _single_opt_in_before_signup(
    conn: Connection, contact_id: int, purpose: str
) -> Event | None:
    """Return the SOI or withdrawal in force when the pending sign-up began.

    Replays the purpose's events through the state machine; kinds that do
    not change the consent state (a suppression) are skipped.
    """
    rows = conn.execute(
        select(t.events)
        .where(t.events.c.contact_id == contact_id, t.events.c.purpose == purpose)
        .order_by(t.events.c.seq)
    ).all()
    state, latest, before = ConsentState.NONE, None, None
    for row in rows:
        kind = EventKind(row.kind)
        if (state, kind) not in TRANSITIONS:
            continue
        if kind is EventKind.SIGNUP_REQUESTED and state is not ConsentState.PENDING:
            before = latest if state in _RESTORED else None
        if kind in (EventKind.SOI_RECORDED, EventKind.WITHDRAWN):
            latest = row
        state = TRANSITIONS[(state, kind)]
    if before is None or state is not ConsentState.PENDING:
        return None
    return Event(
        contact_id,
        before.seq,
        EventKind(before.kind),
        before.purpose,
        to_utc(before.occurred_at),
        before.source,
        json.loads(before.payload),
        before.prev_hash,
        before.hash,
        int(before.id),
    )


def _bucket(key: bytes, kind: str, value: str) -> str:
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _throttle(
    conn: Connection,
    bucket: str,
    limit: int,
    window: timedelta,
    now: datetime,
    scope: str,
) -> None:
    since = now - window
    hits = (
        conn.execute(
            select(t.throttle_hits.c.at)
            .where(
                t.throttle_hits.c.bucket == bucket,
                t.throttle_hits.c.at > since,
            )
            .order_by(t.throttle_hits.c.at)
        )
        .scalars()
        .all()
    )
    if len(hits) >= limit:
        retry = to_utc(hits[0]) + window - now
        raise ThrottledError(scope, max(1, int(retry.total_seconds())))
    conn.execute(t.throttle_hits.insert().values(bucket=bucket, at=now))


def _suppressed(conn: Connection, key: str, purpose: str) -> bool:
    found = conn.scalar(
        select(t.suppressions.c.reason)
        .where(
            t.suppressions.c.address_key == key,
            t.suppressions.c.scope.in_(["*", purpose]),
        )
        .limit(1)
    )
    return found is not None


def _state(conn: Connection, contact_id: int, purpose: str) -> ConsentState:
    found = conn.scalar(
        select(t.consents.c.state).where(
            t.consents.c.contact_id == contact_id, t.consents.c.purpose == purpose
        )
    )
    return ConsentState.NONE if found is None else ConsentState(found)


def _last_event_time(
    conn: Connection, contact_id: int, purpose: str, kind: EventKind
) -> datetime | None:
    found = conn.scalar(
        select(func.max(t.events.c.occurred_at)).where(
            t.events.c.contact_id == contact_id,
            t.events.c.purpose == purpose,
            t.events.c.kind == kind.value,
        )
    )
    return None if found is None else to_utc(found)
