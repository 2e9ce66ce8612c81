"""Alembic revision scripts of the consent store."""

__all__: list[str] = []
