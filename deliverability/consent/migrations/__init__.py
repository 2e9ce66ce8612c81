"""Alembic migrations of the consent store (run by ``ConsentStore.migrate``)."""

__all__: list[str] = []
