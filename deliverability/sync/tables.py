"""The sync's own tables, kept in the consent store's database.

The consent store's migration ``0002`` creates them, so a store must be
migrated (:meth:`~deliverability.consent.ConsentStore.migrate`) before a
sync runs; a test compares the migration with these definitions.

* ``sync_crm``: a mirror of each CRM contact as last seen (its digest, its
  match keys, the last value of each consent field) and its link to a
  contact of the consent store.
* ``sync_links``: contacts linked to a CRM contact by the match-up (a
  web-form address that the CRM contact does not carry itself).
* ``sync_reviews``: the review queue of ambiguous matches and conflicts.
* ``sync_outbox``: updates for the CRM, numbered; delivered in order.
* ``sync_cursors``: how far the event log was read and the outbox delivered.
* ``sync_form_fields``: the fields a web form sent besides the address, kept
  for the match-up and deleted once the sign-up is linked or purged.
* ``sync_repermission``: who was asked to confirm, when, by whom.
* ``sync_reconfirm``: confirmation mails owed to changed addresses, written
  with the change and deleted once sent, so a crash between the two loses
  no mail (migration ``0003``).

No foreign keys point at ``contacts``: the purge of unconfirmed sign-ups
deletes contacts, and the sync treats a missing contact as gone.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "crm",
    "cursors",
    "form_fields",
    "links",
    "metadata",
    "outbox",
    "reconfirm",
    "repermission",
    "reviews",
]

metadata = MetaData()

_ID = BigInteger().with_variant(Integer(), "sqlite")
_KEY = String(320)
_TIME = DateTime(timezone=True)

crm = Table(
    "sync_crm",
    metadata,
    Column("crm_id", String(200), primary_key=True),
    Column("contact_id", _ID),
    Column("address_key", _KEY),
    Column("name_key", String(400)),
    Column("phone_key", String(40)),
    Column("customer_key", String(200)),
    Column("digest", String(64), nullable=False),
    Column("fields", Text, nullable=False),
    Column("seen_at", _TIME, nullable=False),
    Index("ix_sync_crm_contact", "contact_id"),
    Index("ix_sync_crm_address", "address_key"),
)

links = Table(
    "sync_links",
    metadata,
    Column("contact_id", _ID, primary_key=True),
    Column("crm_id", String(200), nullable=False),
    Column("linked_at", _TIME, nullable=False),
)

reviews = Table(
    "sync_reviews",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("contact_id", _ID),
    Column("crm_id", String(200)),
    Column("field", String(80)),
    Column("reason", String(80), nullable=False),
    Column("details", Text, nullable=False),
    Column("created_at", _TIME, nullable=False),
    Column("resolved_at", _TIME),
    Column("resolution", String(200)),
    Column("actor", String(200)),
    Index("ix_sync_reviews_open", "status", "kind", "contact_id", "crm_id"),
)

outbox = Table(
    "sync_outbox",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("crm_id", String(200)),
    Column("contact_id", _ID, nullable=False),
    Column("purpose", String(64)),
    Column("occurred_at", _TIME, nullable=False),
    Column("data", Text, nullable=False),
)

cursors = Table(
    "sync_cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", _ID, nullable=False),
)

form_fields = Table(
    "sync_form_fields",
    metadata,
    Column("contact_id", _ID, primary_key=True),
    Column("fields", Text, nullable=False),
    Column("created_at", _TIME, nullable=False),
)

repermission = Table(
    "sync_repermission",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("contact_id", _ID, nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("campaign", String(200), nullable=False),
    Column("actor", String(200)),
    Column("asked_at", _TIME, nullable=False),
    Column("message_id", String(200)),
    Index("ix_sync_repermission_contact", "contact_id", "purpose"),
)

reconfirm = Table(
    "sync_reconfirm",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("address", String(320), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("queued_at", _TIME, nullable=False),
)
