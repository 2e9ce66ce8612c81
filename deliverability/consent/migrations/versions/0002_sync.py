"""Add the CRM sync's tables: mirror, links, reviews, outbox, cursors, logs.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["downgrade", "upgrade"]

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_KEY = sa.String(320)
_TIME = sa.DateTime(timezone=True)
_CRM_ID = sa.String(200)


def upgrade() -> None:
    """Create the sync tables."""
    _create_mirror()
    _create_queue_tables()
    _create_log_tables()


def _create_mirror() -> None:
    op.create_table(
        "sync_crm",
        sa.Column("crm_id", _CRM_ID, primary_key=True),
        sa.Column("contact_id", _ID),
        sa.Column("address_key", _KEY),
        sa.Column("name_key", sa.String(400)),
        sa.Column("phone_key", sa.String(40)),
        sa.Column("customer_key", sa.String(200)),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("seen_at", _TIME, nullable=False),
    )
    op.create_index("ix_sync_crm_contact", "sync_crm", ["contact_id"])
    op.create_index("ix_sync_crm_address", "sync_crm", ["address_key"])
    op.create_table(
        "sync_links",
        sa.Column("contact_id", _ID, primary_key=True),
        sa.Column("crm_id", _CRM_ID, nullable=False),
        sa.Column("linked_at", _TIME, nullable=False),
    )


def _create_queue_tables() -> None:
    op.create_table(
        "sync_reviews",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("contact_id", _ID),
        sa.Column("crm_id", _CRM_ID),
        sa.Column("field", sa.String(80)),
        sa.Column("reason", sa.String(80), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("resolved_at", _TIME),
        sa.Column("resolution", sa.String(200)),
        sa.Column("actor", sa.String(200)),
    )
    op.create_index(
        "ix_sync_reviews_open",
        "sync_reviews",
        ["status", "kind", "contact_id", "crm_id"],
    )
    op.create_table(
        "sync_outbox",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("crm_id", _CRM_ID),
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("purpose", sa.String(64)),
        sa.Column("occurred_at", _TIME, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_table(
        "sync_cursors",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("position", _ID, nullable=False),
    )


def _create_log_tables() -> None:
    op.create_table(
        "sync_form_fields",
        sa.Column("contact_id", _ID, primary_key=True),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
    )
    op.create_table(
        "sync_repermission",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("campaign", sa.String(200), nullable=False),
        sa.Column("actor", sa.String(200)),
        sa.Column("asked_at", _TIME, nullable=False),
        sa.Column("message_id", sa.String(200)),
    )
    op.create_index(
        "ix_sync_repermission_contact", "sync_repermission", ["contact_id", "purpose"]
    )


def downgrade() -> None:
    """Drop the sync tables."""
    for table in (
        "sync_repermission",
        "sync_form_fields",
        "sync_cursors",
        "sync_outbox",
        "sync_reviews",
        "sync_links",
        "sync_crm",
    ):
        op.drop_table(table)
