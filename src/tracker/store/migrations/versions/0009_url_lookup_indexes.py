"""Indexes for the lookup and search plans (`tracker.store.urlmatch`): the URL index
carries the run id (`ix_outputs_url` on `(url, run_id)`), so that the runs under a URL
range are read from the index alone; and a partial index of the few rows with `s3://`
after their first character (a URL inside a key), the only rows that text starting
with `s3://` can match other than at their start.

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
    op.drop_index("ix_outputs_url", "outputs")
    op.create_index("ix_outputs_url", "outputs", ["url", "run_id"])
    inner = sa.text(INNER_SCHEME.get(dialect, INNER_SCHEME["sqlite"]))
    op.create_index("ix_outputs_inner_scheme", "outputs", ["run_id"], sqlite_where=inner, postgresql_where=inner)


def downgrade() -> None:
    op.drop_index("ix_outputs_inner_scheme", "outputs")
    op.drop_index("ix_outputs_url", "outputs")
    op.create_index("ix_outputs_url", "outputs", ["url"])
