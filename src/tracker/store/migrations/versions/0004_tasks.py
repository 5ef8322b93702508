"""Task attempts (one row per attempt) and the trace receiver's workflow ids.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
URL = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
TS = sa.DateTime(timezone=True)
NAME = sa.String(253)
ID = sa.String(36)


def upgrade() -> None:
    op.create_table(
        "trace_workflows",
        sa.Column("workflow_id", sa.String(16), primary_key=True),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("namespace", NAME, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("session_id", sa.String(128)),
        sa.Column("reported", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_trace_workflows_namespace_session", "trace_workflows", ["namespace", "session_id"])
    op.create_table(
        "tasks",
        sa.Column("run_id", ID, primary_key=True),
        sa.Column("execution", sa.String(16), primary_key=True),
        sa.Column("task_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("process", sa.Text),
        sa.Column("tag", sa.Text),
        sa.Column("hash", sa.String(64)),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("native_id", sa.Text),
        sa.Column("submitted_at", TS),
        sa.Column("started_at", TS),
        sa.Column("completed_at", TS),
        sa.Column("duration_ms", sa.BigInteger),
        sa.Column("realtime_ms", sa.BigInteger),
        sa.Column("cpus", sa.Integer),
        sa.Column("memory_bytes", sa.BigInteger),
        sa.Column("time_ms", sa.BigInteger),
        sa.Column("pcpu", sa.Float),
        sa.Column("peak_rss", sa.BigInteger),
        sa.Column("read_bytes", sa.BigInteger),
        sa.Column("write_bytes", sa.BigInteger),
        sa.Column("exit_code", sa.BigInteger),
        sa.Column("error_action", sa.String(16)),
        sa.Column("work_dir", URL),
        sa.Column("executor", sa.String(64)),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_tasks_run_id_process", "tasks", ["run_id", "process"])
    op.create_index("ix_tasks_run_id_status", "tasks", ["run_id", "status"])


def downgrade() -> None:
    op.drop_table("tasks")
    op.drop_table("trace_workflows")
