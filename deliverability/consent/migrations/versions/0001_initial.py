"""Create the consent store: contacts, consents, suppressions, events, tokens.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["downgrade", "upgrade"]

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_KEY = sa.String(320)
_PURPOSE = sa.String(64)
_TIME = sa.DateTime(timezone=True)
_HASH = sa.String(64)

_SQLITE_APPEND_ONLY = """
CREATE TRIGGER events_append_only BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END
"""

_POSTGRES_APPEND_ONLY = [
    """
    CREATE FUNCTION events_append_only() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'events are append-only'; END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER events_append_only BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only()
    """,
]


def upgrade() -> None:
    """Create every table of the first version."""
    _create_contacts()
    _create_log_tables()
    _create_support_tables()
    _forbid_event_updates()


def _create_contacts() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("address", _KEY, nullable=False),
        sa.Column("address_key", _KEY, nullable=False, unique=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("address_confirmed_at", _TIME),
        sa.Column("head_seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("head_hash", _HASH, nullable=False, server_default=""),
        # SQLite would otherwise reuse the ids of deleted (purged) rows, and
        # the sync's cursors and CRM links rely on ids never coming back.
        sqlite_autoincrement=True,
    )
    op.create_table(
        "consents",
        sa.Column("contact_id", _ID, sa.ForeignKey("contacts.id"), primary_key=True),
        sa.Column("purpose", _PURPOSE, primary_key=True),
        sa.Column("address_key", _KEY, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("legal_basis", sa.String(32), nullable=False),
        sa.Column("changed_at", _TIME, nullable=False),
        sa.Column("confirmed_at", _TIME),
        sa.Column("fresh_at", _TIME),
        sa.Column("source", sa.Text),
    )
    op.create_index(
        "ix_consents_gate",
        "consents",
        ["address_key", "purpose", "state", "fresh_at", "contact_id"],
    )
    op.create_table(
        "suppressions",
        sa.Column("address_key", _KEY, primary_key=True),
        sa.Column("scope", _PURPOSE, primary_key=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
    )


def _create_log_tables() -> None:
    op.create_table(
        "events",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("contact_id", _ID, sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("purpose", _PURPOSE),
        sa.Column("occurred_at", _TIME, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", _HASH, nullable=False),
        sa.Column("hash", _HASH, nullable=False),
        sa.UniqueConstraint("contact_id", "seq", name="uq_events_contact_seq"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "tokens",
        sa.Column("token_hash", _HASH, primary_key=True),
        sa.Column("contact_id", _ID, sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("purpose", _PURPOSE, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("used_at", _TIME),
    )
    op.create_index("ix_tokens_contact", "tokens", ["contact_id"])


def _create_support_tables() -> None:
    op.create_table(
        "throttle_hits",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("bucket", _HASH, nullable=False),
        sa.Column("at", _TIME, nullable=False),
    )
    op.create_index("ix_throttle_bucket_at", "throttle_hits", ["bucket", "at"])
    op.create_table(
        "consent_texts",
        sa.Column("purpose", _PURPOSE, primary_key=True),
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("sha256", _HASH, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
    )
    op.create_table(
        "purged",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("address_hash", _HASH, nullable=False),
        sa.Column("purpose", _PURPOSE, nullable=False),
        sa.Column("signed_up_at", _TIME, nullable=False),
        sa.Column("purged_at", _TIME, nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def _forbid_event_updates() -> None:
    # Rows of the event log may be deleted (purge, erasure) but never changed.
    if op.get_bind().dialect.name == "postgresql":
        for statement in _POSTGRES_APPEND_ONLY:
            op.execute(statement)
    else:
        op.execute(_SQLITE_APPEND_ONLY)


def downgrade() -> None:
    """Drop every table of the first version."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_append_only ON events")
        op.execute("DROP FUNCTION IF EXISTS events_append_only()")
    for table in (
        "settings",
        "purged",
        "consent_texts",
        "throttle_hits",
        "tokens",
        "events",
        "suppressions",
        "consents",
        "contacts",
    ):
        op.drop_table(table)
