"""Indexes for the lookup and search plans (`tracker.store.urlplans`): output URLs
case-folded (`lower(url)`, ASCII only on both engines), alone and per run, so that
text starting with `s3://` is found by a b-tree range and a run's rows by one seek;
and the few rows with `s3://` after their first character (a URL inside a key), the
only rows such text can match other than at the start.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Written exactly as the queries write them: both planners match a partial index's
# predicate against the query's text.
INNER_SCHEME = {
    "sqlite": "instr(lower(substr(url, 2)), 's3://') > 0",
    "postgresql": "strpos(lower(substr(url, 2)), 's3://') > 0",
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_index("ix_outputs_lower_url", "outputs", [sa.text("lower(url)"), "run_id"])
    op.create_index("ix_outputs_run_id_lower_url", "outputs", ["run_id", sa.text("lower(url)")])
    inner = sa.text(INNER_SCHEME.get(dialect, INNER_SCHEME["sqlite"]))
    op.create_index("ix_outputs_inner_scheme", "outputs", ["run_id"], sqlite_where=inner, postgresql_where=inner)


def downgrade() -> None:
    op.drop_index("ix_outputs_inner_scheme", "outputs")
    op.drop_index("ix_outputs_run_id_lower_url", "outputs")
    op.drop_index("ix_outputs_lower_url", "outputs")
