"""Alembic revisions of the index."""
