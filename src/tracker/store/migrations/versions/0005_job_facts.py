"""Lifecycle jobs record the prefix they acted on and the counters every status carries:
rows marked deleted, and what a dry run would delete or move.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

URL = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
COUNTERS = ("rows_marked_deleted", "objects_to_delete", "bytes_to_delete", "objects_to_move", "bytes_to_move")


def upgrade() -> None:
    with op.batch_alter_table("lifecycle_jobs") as table:
        table.add_column(sa.Column("source", URL))
        for counter in COUNTERS:
            table.add_column(sa.Column(counter, sa.BigInteger, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("lifecycle_jobs") as table:
        for counter in reversed(COUNTERS):
            table.drop_column(counter)
        table.drop_column("source")
