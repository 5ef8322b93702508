"""Task attempts keep the machine type their runner reports (the compute price model
can price by it).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("machine_type", sa.String(64)))


def downgrade() -> None:
    op.drop_column("tasks", "machine_type")
