"""Initial schema: runs, run executions, processes, outputs, lifecycle jobs, and the
substring-search index over output URLs (FTS5 trigram on SQLite, pg_trgm on PostgreSQL).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
URL = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
NAME = sa.String(253)
ID = sa.String(36)

# SQLite: an external-content FTS5 index of outputs.url, kept in step by triggers.
# detail=none keeps it small and fast to build; queries AND the trigrams of the text
# and re-check every candidate with LIKE, so the result is exact.
SQLITE_FTS = [
    (
        "CREATE VIRTUAL TABLE outputs_fts USING fts5(url, content='outputs', content_rowid='id',"
        " tokenize='trigram case_sensitive 0', detail=none, columnsize=0)"
    ),
    (
        "CREATE TRIGGER outputs_fts_insert AFTER INSERT ON outputs BEGIN"
        " INSERT INTO outputs_fts(rowid, url) VALUES (new.id, new.url); END"
    ),
    (
        "CREATE TRIGGER outputs_fts_delete AFTER DELETE ON outputs BEGIN"
        " INSERT INTO outputs_fts(outputs_fts, rowid, url) VALUES ('delete', old.id, old.url); END"
    ),
    (
        "CREATE TRIGGER outputs_fts_update AFTER UPDATE OF url ON outputs BEGIN"
        " INSERT INTO outputs_fts(outputs_fts, rowid, url) VALUES ('delete', old.id, old.url);"
        " INSERT INTO outputs_fts(rowid, url) VALUES (new.id, new.url); END"
    ),
]


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", ID, primary_key=True),
        sa.Column("namespace", NAME, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("run_name", sa.Text, nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("cluster", sa.String(255)),
        sa.Column("engine", sa.String(32)),
        sa.Column("repository", sa.Text),
        sa.Column("revision", sa.Text),
        sa.Column("commit_hash", sa.String(128)),
        sa.Column("work_dir", URL),
        sa.Column("output_dir", URL),
        sa.Column("session_id", sa.String(128)),
        sa.Column("command_line", sa.Text),
        sa.Column("params", JSON, nullable=False),
        sa.Column("config_text", sa.Text),
        sa.Column("labels", JSON, nullable=False),
        sa.Column("phase", sa.String(32)),
        sa.Column("state", sa.String(32)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS),
        sa.Column("completed_at", TS),
        sa.Column("last_heartbeat_at", TS),
        sa.Column("error_message", sa.Text),
        sa.Column("peak_concurrency", sa.Integer),
        sa.Column("cost", sa.Float),
        sa.Column("conditions", JSON, nullable=False),
        sa.Column("outputs_count", sa.BigInteger, nullable=False),
        sa.Column("outputs_bytes", sa.BigInteger, nullable=False),
        sa.Column("outputs_indexed_at", TS),
        sa.Column("outputs_deleted_at", TS),
        sa.Column("outputs_deleted_by", sa.String(255)),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("namespace", "run_name", name="uq_runs_namespace_run_name"),
    )
    op.create_index("ix_runs_namespace_name", "runs", ["namespace", "name"])
    for column in ("created_at", "state", "owner", "cluster"):
        op.create_index(f"ix_runs_{column}", "runs", [column])

    op.create_table(
        "run_executions",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("run_id", ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("session_id", sa.String(128)),
        sa.Column("phase", sa.String(32)),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("completed_at", TS),
        sa.Column("error_message", sa.Text),
        sa.Column("cost", sa.Float),
        sa.Column("recorded_at", TS, nullable=False),
        sa.UniqueConstraint("run_id", "started_at", name="uq_run_executions_run_started"),
    )

    counts = ("succeeded", "failed", "aborted", "running", "cached", "retried", "submitted", "pending")
    op.create_table(
        "processes",
        sa.Column("run_id", ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        *(sa.Column(count, sa.Integer, nullable=False) for count in counts),
    )

    op.create_table(
        "outputs",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("run_id", ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("url", URL, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("last_modified", TS),
        sa.Column("etag", sa.Text),
        sa.Column("storage_class", sa.String(64)),
        sa.Column("seen_at", TS),
        sa.Column("deleted_at", TS),
        sa.UniqueConstraint("run_id", "url", name="uq_outputs_run_url"),
    )
    op.create_index("ix_outputs_url", "outputs", ["url"])

    op.create_table(
        "lifecycle_jobs",
        sa.Column("id", ID, primary_key=True),
        sa.Column("namespace", NAME, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("run", sa.Text, nullable=False),
        sa.Column("run_id", ID),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("destination", URL),
        sa.Column("requested_by", sa.String(255), nullable=False),
        sa.Column("requested_by_groups", JSON, nullable=False),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(128)),
        sa.Column("message", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS),
        sa.Column("completed_at", TS),
        sa.Column("kubernetes_job", NAME),
        *(
            sa.Column(counter, sa.BigInteger, nullable=False)
            for counter in (
                "objects_deleted",
                "bytes_deleted",
                "objects_copied",
                "bytes_copied",
                "rows_rewritten",
                "objects_indexed",
            )
        ),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_lifecycle_jobs_run_id_created_at", "lifecycle_jobs", ["run_id", "created_at"])
    op.create_index("ix_lifecycle_jobs_created_at", "lifecycle_jobs", ["created_at"])
    op.create_index("ix_lifecycle_jobs_phase", "lifecycle_jobs", ["phase"])

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_outputs_url_trgm", "outputs", ["url"], postgresql_using="gin", postgresql_ops={"url": "gin_trgm_ops"}
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS outputs_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS outputs_fts")
    for table in ("lifecycle_jobs", "outputs", "processes", "run_executions", "runs"):
        op.drop_table(table)
