"""Alembic environment: runs the migrations on the connection the store passes.

The store calls Alembic with ``config.attributes["connection"]`` set, so no
URL or ini file is read here.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from deliverability.consent.tables import metadata
from deliverability.sync.tables import metadata as sync_metadata

__all__: list[str] = []

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run the consent migrations through ConsentStore.migrate(), "
        "which passes the database connection"
    )
context.configure(
    connection=connection,
    target_metadata=[metadata, sync_metadata],
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
