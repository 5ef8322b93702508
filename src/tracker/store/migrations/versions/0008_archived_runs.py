"""Archived runs: `runs.archived_at`, set when the operator's archiver removed the run's
resource because it finished long enough ago (a run a user deleted has `removed_at`
only), and an index of the live runs by completion time, which the archiver's
candidate query walks.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LIVE = sa.text("removed_at IS NULL")


def upgrade() -> None:
    op.add_column("runs", sa.Column("archived_at", sa.DateTime(timezone=True)))
    op.create_index("ix_runs_archived_at", "runs", ["archived_at"])
    op.create_index("ix_runs_live_completed_at", "runs", ["completed_at"], sqlite_where=LIVE, postgresql_where=LIVE)


def downgrade() -> None:
    op.drop_index("ix_runs_live_completed_at", "runs")
    op.drop_index("ix_runs_archived_at", "runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("archived_at")
