"""Notes on runs, and the earlier texts of edited notes.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notes",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("edited_at", TS),
    )
    op.create_index("ix_notes_run_id_created_at", "notes", ["run_id", "created_at"])
    op.create_table(
        "note_revisions",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("note_id", BIG_ID, sa.ForeignKey("notes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("written_at", TS, nullable=False),
    )
    op.create_index("ix_note_revisions_note_id", "note_revisions", ["note_id"])


def downgrade() -> None:
    op.drop_table("note_revisions")
    op.drop_table("notes")
