"""Alembic revision scripts of the consent store."""
