"""Alembic environment of the index.

`tracker.store.engine.migrate()` passes an open connection in
`config.attributes["connection"]`. From the command line
(`alembic -c src/tracker/store/alembic.ini upgrade head`) the database URL comes
from `-x url=...` or the `TRACKER_DATABASE_URL` environment variable.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from tracker.store.engine import make_engine
from tracker.store.migrations import include_object
from tracker.store.models import Base

config = context.config


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("TRACKER_DATABASE_URL")
    if not url:
        raise SystemExit("give the database URL: alembic -x url=... or TRACKER_DATABASE_URL")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            run(conn)
            conn.commit()
    finally:
        engine.dispose()
