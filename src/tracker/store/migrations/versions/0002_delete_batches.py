"""The worker's journal of DeleteObjects batches (exact counters across restarts).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delete_batches",
        sa.Column("job_id", sa.String(36), primary_key=True),
        sa.Column("batch_no", sa.Integer, primary_key=True),
        sa.Column("bucket", sa.String(63), nullable=False),
        sa.Column("targets", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("settled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("objects", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("bytes", sa.BigInteger, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("delete_batches")
