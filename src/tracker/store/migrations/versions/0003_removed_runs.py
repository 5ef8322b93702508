"""Runs whose resource was deleted: `runs.removed_at`, and run names unique only among
live runs, so a WorkflowRun re-created under a deleted run's name is a new run while
the old one stays in the index.

On SQLite dropping the old unique constraint rebuilds the `runs` table (a batch
migration); `tracker.store.engine.migrate` turns foreign keys off around it, so the
rebuild cascades to no child row.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LIVE = sa.text("removed_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("removed_at", sa.DateTime(timezone=True)))
        batch.drop_constraint("uq_runs_namespace_run_name", type_="unique")
    op.create_index("ix_runs_run_name", "runs", ["run_name"])
    op.create_index(
        "uq_runs_live_namespace_run_name",
        "runs",
        ["namespace", "run_name"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )


def downgrade() -> None:
    op.drop_index("uq_runs_live_namespace_run_name", "runs")
    op.drop_index("ix_runs_run_name", "runs")
    with op.batch_alter_table("runs") as batch:
        batch.create_unique_constraint("uq_runs_namespace_run_name", ["namespace", "run_name"])
        batch.drop_column("removed_at")
