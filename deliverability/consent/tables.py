"""The store's tables, as SQLAlchemy Core metadata.

The migrations in ``migrations/versions`` create exactly these tables; a test
compares the two. Times are stored in UTC.

``consents`` and the address fields of ``contacts`` are a projection of the
``events`` log, kept in the same transaction as the event that changes them,
so the gate can read one row per recipient instead of replaying history.
``consents.address_key`` repeats the contact's match key for the same reason:
the gate finds a recipient's consent with one probe of ``ix_consents_gate``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "consent_texts",
    "consents",
    "contacts",
    "events",
    "metadata",
    "purged",
    "settings",
    "suppressions",
    "throttle_hits",
    "tokens",
]

metadata = MetaData()

# SQLite makes only an INTEGER PRIMARY KEY an alias of the rowid.
_ID = BigInteger().with_variant(Integer(), "sqlite")
_KEY = String(320)
_PURPOSE = String(64)
_TIME = DateTime(timezone=True)
_HASH = String(64)

contacts = Table(
    "contacts",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("address", _KEY, nullable=False),
    Column("address_key", _KEY, nullable=False, unique=True),
    Column("created_at", _TIME, nullable=False),
    Column("address_confirmed_at", _TIME),
    Column("head_seq", Integer, nullable=False, server_default="0"),
    Column("head_hash", _HASH, nullable=False, server_default=""),
    # Ids never come back after a purge: sync cursors and CRM links rely on it.
    sqlite_autoincrement=True,
)

consents = Table(
    "consents",
    metadata,
    Column("contact_id", _ID, ForeignKey("contacts.id"), primary_key=True),
    Column("purpose", _PURPOSE, primary_key=True),
    Column("address_key", _KEY, nullable=False),
    Column("state", String(16), nullable=False),
    Column("legal_basis", String(32), nullable=False),
    Column("changed_at", _TIME, nullable=False),
    Column("confirmed_at", _TIME),
    Column("fresh_at", _TIME),
    Column("source", Text),
    # Covers the gate's lookup, one index probe per recipient.
    Index(
        "ix_consents_gate", "address_key", "purpose", "state", "fresh_at", "contact_id"
    ),
)

suppressions = Table(
    "suppressions",
    metadata,
    Column("address_key", _KEY, primary_key=True),
    Column("scope", _PURPOSE, primary_key=True),
    Column("reason", String(16), nullable=False),
    Column("created_at", _TIME, nullable=False),
    Column("source", String(32), nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("contact_id", _ID, ForeignKey("contacts.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("purpose", _PURPOSE),
    Column("occurred_at", _TIME, nullable=False),
    Column("source", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", _HASH, nullable=False),
    Column("hash", _HASH, nullable=False),
    UniqueConstraint("contact_id", "seq", name="uq_events_contact_seq"),
    sqlite_autoincrement=True,
)

tokens = Table(
    "tokens",
    metadata,
    Column("token_hash", _HASH, primary_key=True),
    Column("contact_id", _ID, ForeignKey("contacts.id"), nullable=False),
    Column("purpose", _PURPOSE, nullable=False),
    Column("action", String(16), nullable=False),
    Column("created_at", _TIME, nullable=False),
    Column("expires_at", _TIME, nullable=False),
    Column("used_at", _TIME),
    Index("ix_tokens_contact", "contact_id"),
)

throttle_hits = Table(
    "throttle_hits",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("bucket", _HASH, nullable=False),
    Column("at", _TIME, nullable=False),
    Index("ix_throttle_bucket_at", "bucket", "at"),
)

consent_texts = Table(
    "consent_texts",
    metadata,
    Column("purpose", _PURPOSE, primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("text", Text, nullable=False),
    Column("sha256", _HASH, nullable=False),
    Column("created_at", _TIME, nullable=False),
)

purged = Table(
    "purged",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("address_hash", _HASH, nullable=False),
    Column("purpose", _PURPOSE, nullable=False),
    Column("signed_up_at", _TIME, nullable=False),
    Column("purged_at", _TIME, nullable=False),
)

settings = Table(
    "settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
