"""The consent store: contacts, consent per purpose, suppressions and the event log.

SQLite by default (a file, no set-up) or PostgreSQL by URL, through
SQLAlchemy 2 Core. :meth:`ConsentStore.migrate` runs the Alembic migrations.
Every change happens in one transaction that appends its event, moves the
projection in ``consents`` and advances the contact's chain head, so a crash
leaves either all of it or none.

Nothing here logs an address, an IP or a token: logs name contact ids.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ..errors import InputError
from ..findings import Finding
from . import tables as t
from .addresses import AddressCheck, check_address
from .errors import AddressError, ContactNotFound
from .events import GENESIS, Event, canonical_payload, event_hash, to_utc, verify_chain
from .model import (
    ConsentState,
    EventKind,
    LegalBasis,
    SuppressionReason,
    check_purpose,
    next_state,
)
from .tokens import TokenAction, TokenGrant

__all__ = ["Contact", "ConsentStore", "ConsentView", "DEFAULT_URL", "utc_now"]

log = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///consent.sqlite3"
"""The store used when no URL is given: a SQLite file in the current folder."""

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def utc_now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact as stored."""

    id: int
    address: str
    address_key: str
    created_at: datetime
    address_confirmed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ConsentView:
    """The consent of one contact for one purpose."""

    purpose: str
    state: ConsentState
    legal_basis: LegalBasis
    changed_at: datetime | None
    confirmed_at: datetime | None
    source: str | None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "purpose": self.purpose,
            "state": self.state.value,
            "legal_basis": self.legal_basis.value,
            "changed_at": _iso(self.changed_at),
            "confirmed_at": _iso(self.confirmed_at),
            "source": self.source,
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else to_utc(moment).isoformat()


class ConsentStore:
    """Access to one consent database.

    :param url: a SQLAlchemy URL such as ``sqlite:///consent.sqlite3`` or
        ``postgresql+psycopg://user@/db?host=/run/postgresql``.
    :param clock: returns the current time; tests pass a fixed clock.
    """

    def __init__(
        self, url: str = DEFAULT_URL, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.url = url
        self.clock = clock
        self.engine = _create_engine(url)
        self._serialize_writes = self.engine.dialect.name == "postgresql"
        self._hash_key: bytes | None = None

    def migrate(self) -> None:
        """Create or upgrade the tables to the newest migration."""
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        log.info("consent store migrated")

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Open a write transaction; commit on success, roll back on error.

        Write transactions run one at a time, as on SQLite (``BEGIN
        IMMEDIATE``). On PostgreSQL each one first takes a transaction-level
        advisory lock, held until it commits. Event ids then become visible
        in id order, which lets readers such as the CRM sync resume from
        the last id they saw without skipping an event committed late.
        """
        with self.engine.begin() as conn:
            if self._serialize_writes:
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_WRITE_LOCK})")
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """Open a read-only transaction that does not block writers."""
        with self.engine.connect().execution_options(read_only=True) as conn:
            with conn.begin():
                yield conn

    # -- settings ----------------------------------------------------------

    def hash_key(self) -> bytes:
        """Return the store's secret key for keyed hashes, creating it once.

        Call it outside a write transaction: it may open one of its own.
        """
        if self._hash_key is not None:
            return self._hash_key
        with self.transaction() as conn:
            found = conn.scalar(
                select(t.settings.c.value).where(t.settings.c.name == "hash_key")
            )
            if found is None:
                found = secrets.token_hex(32)
                conn.execute(t.settings.insert().values(name="hash_key", value=found))
        self._hash_key = bytes.fromhex(found)
        return self._hash_key

    # -- consent texts -----------------------------------------------------

    def add_consent_text(self, purpose: str, version: str, text: str) -> str:
        """Store the consent text shown on a form; return its SHA-256.

        A version, once stored, cannot change: storing different text under an
        existing version raises :class:`~deliverability.errors.InputError`.
        """
        check_purpose(purpose)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        with self.transaction() as conn:
            stored = self._consent_text_hash(conn, purpose, version)
            if stored is None:
                conn.execute(
                    t.consent_texts.insert().values(
                        purpose=purpose,
                        version=version,
                        text=text,
                        sha256=digest,
                        created_at=self.clock(),
                    )
                )
            elif stored != digest:
                raise InputError(
                    f"consent text {purpose}/{version} exists with other wording; "
                    "store the new wording under a new version"
                )
        return digest

    def consent_text(self, purpose: str, version: str) -> tuple[str, str] | None:
        """Return ``(text, sha256)`` of a stored consent text, or ``None``."""
        with self.reading() as conn:
            row = conn.execute(
                select(t.consent_texts.c.text, t.consent_texts.c.sha256).where(
                    t.consent_texts.c.purpose == purpose,
                    t.consent_texts.c.version == version,
                )
            ).first()
        return None if row is None else (row.text, row.sha256)

    @staticmethod
    def _consent_text_hash(conn: Connection, purpose: str, version: str) -> str | None:
        return conn.scalar(
            select(t.consent_texts.c.sha256).where(
                t.consent_texts.c.purpose == purpose,
                t.consent_texts.c.version == version,
            )
        )

    # -- contacts ----------------------------------------------------------

    def find_contact(self, address: str) -> Contact | None:
        """Return the contact whose match key equals that of ``address``."""
        key = check_address(address).key
        if key is None:
            return None
        with self.reading() as conn:
            row = conn.execute(
                select(t.contacts).where(t.contacts.c.address_key == key)
            ).first()
        return None if row is None else _contact(row._mapping)

    def contact(self, contact_id: int) -> Contact:
        """Return the contact with ``contact_id``; raise :class:`ContactNotFound`."""
        with self.reading() as conn:
            row = conn.execute(
                select(t.contacts).where(t.contacts.c.id == contact_id)
            ).first()
        if row is None:
            raise ContactNotFound(f"no contact with id {contact_id}")
        return _contact(row._mapping)

    def require_contact(self, address: str) -> Contact:
        """Return the contact for ``address``; raise :class:`ContactNotFound`."""
        found = self.find_contact(address)
        if found is None:
            raise ContactNotFound("no contact with that address")
        return found

    def ensure_contact(self, conn: Connection, check: AddressCheck, source: str) -> int:
        """Return the id of the contact for a valid ``check``, creating it if new."""
        if check.key is None or check.normalized is None:
            raise AddressError(check.given, check.reason or "invalid")
        found = conn.scalar(
            select(t.contacts.c.id).where(t.contacts.c.address_key == check.key)
        )
        if found is not None:
            return int(found)
        contact_id = int(
            conn.execute(
                t.contacts.insert()
                .values(
                    address=check.normalized,
                    address_key=check.key,
                    created_at=self.clock(),
                )
                .returning(t.contacts.c.id)
            ).scalar_one()
        )
        self.append(
            conn,
            contact_id,
            EventKind.CONTACT_CREATED,
            None,
            source,
            {"address": check.normalized},
        )
        log.debug("contact %d created", contact_id)
        return contact_id

    # -- events ------------------------------------------------------------

    def append(
        self,
        conn: Connection,
        contact_id: int,
        kind: EventKind,
        purpose: str | None,
        source: str,
        payload: Mapping[str, Any],
    ) -> Event:
        """Append an event to the contact's chain inside ``conn``'s transaction.

        The contact row is locked first, so concurrent writers of one contact
        take turns and the chain stays linear.
        """
        head = conn.execute(
            select(t.contacts.c.head_seq, t.contacts.c.head_hash)
            .where(t.contacts.c.id == contact_id)
            .with_for_update()
        ).one()
        seq, prev = head.head_seq + 1, head.head_hash or GENESIS
        occurred_at = self.clock()
        text = canonical_payload(payload)
        digest = event_hash(
            prev,
            contact_id=contact_id,
            seq=seq,
            kind=kind.value,
            purpose=purpose,
            occurred_at=occurred_at,
            source=source,
            payload_text=text,
        )
        event_id = conn.execute(
            t.events.insert()
            .values(
                contact_id=contact_id,
                seq=seq,
                kind=kind.value,
                purpose=purpose,
                occurred_at=occurred_at,
                source=source,
                payload=text,
                prev_hash=prev,
                hash=digest,
            )
            .returning(t.events.c.id)
        ).scalar_one()
        conn.execute(
            t.contacts.update()
            .where(t.contacts.c.id == contact_id)
            .values(
                head_seq=seq,
                head_hash=digest,
            )
        )
        return Event(
            contact_id,
            seq,
            kind,
            purpose,
            occurred_at,
            source,
            dict(payload),
            prev,
            digest,
            int(event_id),
        )

    def events(self, contact_id: int, conn: Connection | None = None) -> list[Event]:
        """Return the contact's events in chain order.

        Pass ``conn`` to read inside an open write transaction. A second
        pooled connection could wait for the pool, while the writers that
        hold the pool's connections wait for this transaction's lock.
        """
        query = (
            select(t.events)
            .where(t.events.c.contact_id == contact_id)
            .order_by(t.events.c.seq)
        )
        if conn is not None:
            return [_event(row._mapping) for row in conn.execute(query).all()]
        with self.reading() as reader:
            rows = reader.execute(query).all()
        return [_event(row._mapping) for row in rows]

    def events_since(self, after_id: int = 0, *, limit: int = 1000) -> list[Event]:
        """Return up to ``limit`` events of all contacts with ``id > after_id``.

        Event ids only grow, so a reader that keeps the last id it saw can
        resume from there.
        """
        with self.reading() as conn:
            rows = conn.execute(
                select(t.events)
                .where(t.events.c.id > after_id)
                .order_by(t.events.c.id)
                .limit(limit)
            ).all()
        return [_event(row._mapping) for row in rows]

    def verify(self, contact_id: int | None = None) -> list[Finding]:
        """Check the hash chains of one contact or of all; return the breaks."""
        findings: list[Finding] = []
        with self.reading() as conn:
            query = select(
                t.contacts.c.id, t.contacts.c.head_seq, t.contacts.c.head_hash
            )
            if contact_id is not None:
                query = query.where(t.contacts.c.id == contact_id)
            for head in conn.execute(query.order_by(t.contacts.c.id)).all():
                rows = conn.execute(
                    select(t.events)
                    .where(t.events.c.contact_id == head.id)
                    .order_by(t.events.c.seq)
                ).all()
                findings.extend(
                    verify_chain(
                        head.id,
                        (r._mapping for r in rows),
                        (head.head_seq, head.head_hash),
                    )
                )
        return findings

    # -- consent -----------------------------------------------------------

    def consents(self, contact_id: int) -> list[ConsentView]:
        """Return the consent of a contact for every purpose it has a record of."""
        with self.reading() as conn:
            rows = conn.execute(
                select(t.consents)
                .where(t.consents.c.contact_id == contact_id)
                .order_by(t.consents.c.purpose)
            ).all()
        return [_consent(row._mapping) for row in rows]

    def consent(self, address: str, purpose: str) -> ConsentView:
        """Return the consent of ``address`` for ``purpose``; unknown is ``none``."""
        contact = self.find_contact(address)
        if contact is not None:
            for view in self.consents(contact.id):
                if view.purpose == purpose:
                    return view
        return ConsentView(
            purpose, ConsentState.NONE, LegalBasis.NONE, None, None, None
        )

    def apply(
        self,
        conn: Connection,
        contact_id: int,
        purpose: str,
        kind: EventKind,
        *,
        source: str,
        payload: Mapping[str, Any],
        legal_basis: LegalBasis | None = None,
    ) -> ConsentState:
        """Move the consent of a contact for ``purpose`` by one event.

        Raises :class:`~deliverability.consent.model.IllegalTransition` before
        anything is written when the state machine forbids the event. A
        ``confirmed`` event is refused here: only :meth:`confirm` makes one,
        from a consumed confirmation token.
        """
        if kind is EventKind.CONFIRMED:
            raise ValueError("a confirmation needs a confirmation token; see confirm()")
        return self._apply(
            conn,
            contact_id,
            purpose,
            kind,
            source=source,
            payload=payload,
            legal_basis=legal_basis,
        )

    def confirm(
        self, conn: Connection, grant: TokenGrant, payload: Mapping[str, Any]
    ) -> ConsentState:
        """Record the confirmation a consumed confirmation token grants.

        Moves the purpose to ``doi`` and marks the contact's current address
        as confirmed, in ``conn``'s transaction.
        """
        if not isinstance(grant, TokenGrant) or grant.action is not TokenAction.CONFIRM:
            raise ValueError("confirm() needs the grant of a confirmation token")
        state = self._apply(
            conn,
            grant.contact_id,
            grant.purpose,
            EventKind.CONFIRMED,
            source="web",
            payload=payload,
        )
        conn.execute(
            t.contacts.update()
            .where(t.contacts.c.id == grant.contact_id)
            .values(address_confirmed_at=self.clock())
        )
        return state

    def _apply(
        self,
        conn: Connection,
        contact_id: int,
        purpose: str,
        kind: EventKind,
        *,
        source: str,
        payload: Mapping[str, Any],
        legal_basis: LegalBasis | None = None,
    ) -> ConsentState:
        row = conn.execute(
            select(t.consents).where(
                t.consents.c.contact_id == contact_id, t.consents.c.purpose == purpose
            )
        ).first()
        current = ConsentState(row.state) if row else ConsentState.NONE
        target = next_state(current, kind)
        event = self.append(conn, contact_id, kind, purpose, source, payload)
        values = _projection(target, kind, event, legal_basis, row)
        if row is None:
            key = conn.scalar(
                select(t.contacts.c.address_key).where(t.contacts.c.id == contact_id)
            )
            conn.execute(
                t.consents.insert().values(
                    contact_id=contact_id, purpose=purpose, address_key=key, **values
                )
            )
        else:
            conn.execute(
                t.consents.update()
                .where(
                    t.consents.c.contact_id == contact_id,
                    t.consents.c.purpose == purpose,
                )
                .values(**values)
            )
        log.info(
            "contact %d purpose %s: %s -> %s", contact_id, purpose, current, target
        )
        return target

    def record_soi(
        self,
        address: str,
        purpose: str,
        *,
        source: str,
        evidence: str,
        legal_basis: LegalBasis = LegalBasis.CONSENT,
        actor: str | None = None,
    ) -> ConsentState:
        """Record a documented single opt-in (a trade fair card, a phone call).

        ``source`` describes where the consent was given and ``evidence``
        refers to the proof (a file name, a ticket). Both are required: a
        claim without them is not documented. The result is
        ``soi_documented``, never ``doi``.
        """
        check_purpose(purpose)
        if not source.strip() or not evidence.strip():
            raise InputError("a single opt-in needs a source and an evidence reference")
        check = _valid(address)
        payload = {
            "source": source,
            "evidence": evidence,
            "actor": actor,
            "legal_basis": legal_basis.value,
        }
        with self.transaction() as conn:
            contact_id = self.ensure_contact(conn, check, "api")
            return self.apply(
                conn,
                contact_id,
                purpose,
                EventKind.SOI_RECORDED,
                source="api",
                payload=payload,
                legal_basis=legal_basis,
            )

    def withdraw(
        self,
        address: str,
        purpose: str,
        *,
        source: str = "api",
        details: Mapping[str, Any] | None = None,
    ) -> ConsentState:
        """Record that the person withdrew consent for ``purpose``."""
        check_purpose(purpose)
        contact = self.require_contact(address)
        with self.transaction() as conn:
            return self.apply(
                conn,
                contact.id,
                purpose,
                EventKind.WITHDRAWN,
                source=source,
                payload=dict(details or {}),
            )

    def record_engagement(self, address: str, purpose: str, *, what: str) -> None:
        """Record an engagement (an open, a click) that keeps a DOI fresh."""
        contact = self.require_contact(address)
        with self.transaction() as conn:
            self.apply(
                conn,
                contact.id,
                purpose,
                EventKind.ENGAGED,
                source="api",
                payload={"what": what},
            )

    # -- suppression -------------------------------------------------------

    def suppress(
        self,
        address: str,
        reason: SuppressionReason,
        *,
        purpose: str | None = None,
        source: str = "api",
    ) -> None:
        """Suppress ``address`` for ``purpose``, or for every purpose if ``None``.

        An address that is not a contact is suppressed all the same, so a
        blocklist can be loaded before the addresses ever sign up.
        """
        scope = "*" if purpose is None else check_purpose(purpose)
        check = _valid(address)
        with self.transaction() as conn:
            self._suppress(conn, check, reason, scope, source)

    def suppress_in(
        self,
        conn: Connection,
        address: str,
        reason: SuppressionReason,
        *,
        purpose: str | None = None,
        source: str = "api",
    ) -> None:
        """Suppress ``address`` like :meth:`suppress`, inside ``conn``'s transaction."""
        scope = "*" if purpose is None else check_purpose(purpose)
        self._suppress(conn, _valid(address), reason, scope, source)

    def _suppress(
        self,
        conn: Connection,
        check: AddressCheck,
        reason: SuppressionReason,
        scope: str,
        source: str,
    ) -> None:
        key = check.key
        exists = conn.scalar(
            select(t.suppressions.c.reason).where(
                t.suppressions.c.address_key == key, t.suppressions.c.scope == scope
            )
        )
        if exists is None:
            conn.execute(
                t.suppressions.insert().values(
                    address_key=key,
                    scope=scope,
                    reason=reason.value,
                    created_at=self.clock(),
                    source=source,
                )
            )
        contact_id = conn.scalar(
            select(t.contacts.c.id).where(t.contacts.c.address_key == key)
        )
        if contact_id is not None:
            self.append(
                conn,
                int(contact_id),
                EventKind.SUPPRESSED,
                None if scope == "*" else scope,
                source,
                {"reason": reason.value},
            )

    def suppressions(self, address: str) -> list[dict[str, Any]]:
        """Return the suppressions of ``address`` as JSON-ready dicts."""
        key = _valid(address).key
        with self.reading() as conn:
            rows = conn.execute(
                select(t.suppressions)
                .where(t.suppressions.c.address_key == key)
                .order_by(t.suppressions.c.scope)
            ).all()
        return [
            {
                "scope": r.scope,
                "reason": r.reason,
                "source": r.source,
                "created_at": _iso(r.created_at),
            }
            for r in rows
        ]

    # -- import ------------------------------------------------------------

    def import_contacts(
        self, addresses: Iterable[str], *, source: str = "import"
    ) -> int:
        """Add contacts, all with consent ``none``; return how many were new.

        The import is one transaction: an invalid address or any error part
        way through leaves the store as it was. No import sets a consent
        state; use :meth:`record_soi` for documented single opt-ins.
        """
        added = 0
        with self.transaction() as conn:
            for line, address in enumerate(addresses, start=1):
                check = check_address(address)
                if not check.valid:
                    raise AddressError(address, f"{check.reason} (item {line})")
                before = conn.scalar(
                    select(t.contacts.c.id).where(t.contacts.c.address_key == check.key)
                )
                if before is None:
                    self.ensure_contact(conn, check, source)
                    added += 1
        log.info("import added %d contacts", added)
        return added


def _valid(address: str) -> AddressCheck:
    check = check_address(address)
    if not check.valid:
        raise AddressError(address, check.reason or "invalid")
    return check


def _projection(
    target: ConsentState,
    kind: EventKind,
    event: Event,
    legal_basis: LegalBasis | None,
    row: Any,
) -> dict[str, Any]:
    values: dict[str, Any] = {"state": target.value, "changed_at": event.occurred_at}
    if legal_basis is not None:
        values["legal_basis"] = legal_basis.value
    elif row is None:
        values["legal_basis"] = LegalBasis.NONE.value
    if kind is EventKind.CONFIRMED:
        values.update(
            confirmed_at=event.occurred_at,
            fresh_at=event.occurred_at,
            legal_basis=LegalBasis.CONSENT.value,
        )
    elif kind is EventKind.ENGAGED:
        values["fresh_at"] = event.occurred_at
    elif target is not ConsentState.DOI:
        values.update(confirmed_at=None, fresh_at=None)
    if kind is EventKind.SOI_RECORDED:
        values["source"] = str(event.payload.get("source"))
    return values


def _contact(row: Mapping[Any, Any]) -> Contact:
    confirmed = row["address_confirmed_at"]
    return Contact(
        int(row["id"]),
        row["address"],
        row["address_key"],
        to_utc(row["created_at"]),
        None if confirmed is None else to_utc(confirmed),
    )


def _consent(row: Mapping[Any, Any]) -> ConsentView:
    return ConsentView(
        row["purpose"],
        ConsentState(row["state"]),
        LegalBasis(row["legal_basis"]),
        to_utc(row["changed_at"]),
        None if row["confirmed_at"] is None else to_utc(row["confirmed_at"]),
        row["source"],
    )


def _event(row: Mapping[Any, Any]) -> Event:
    return Event(
        int(row["contact_id"]),
        row["seq"],
        EventKind(row["kind"]),
        row["purpose"],
        to_utc(row["occurred_at"]),
        row["source"],
        json.loads(row["payload"]),
        row["prev_hash"],
        row["hash"],
        int(row["id"]),
    )


_WRITE_LOCK = int.from_bytes(
    hashlib.sha256(b"deliverability consent store writes").digest()[:8],
    "big",
    signed=True,
)
"""The PostgreSQL advisory lock key that write transactions take."""


def _create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(
            f"invalid store URL {url!r}: use sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB"
        ) from None
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    engine = create_engine(parsed, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A 32 MiB page cache (the default is 2 MiB) keeps the upper levels of
    # the indexes the gate probes in memory.
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # Writers take the write lock at BEGIN, so two writers queue on the busy
    # timeout instead of one failing when it upgrades a read lock.
    if conn.get_execution_options().get("read_only"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
