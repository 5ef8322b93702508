"""`tracker-api [--host 127.0.0.1] [--port 8000]`: serve the read API with uvicorn.

Settings are read once (TRACKER_* variables); the index schema is migrated before
the server starts, so several replicas may start together (migrations serialize).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import uvicorn

from tracker.api.app import create_app
from tracker.settings import Settings
from tracker.store import make_engine, migrate, session_factory

KEEP_ALIVE_SECONDS = 75  # longer than a runner's gap between calls (Nextflow: a heartbeat a minute at least)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tracker-api", description="Serve the Workflow Tracker read API.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 in a pod)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    args = parser.parse_args(argv)
    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    engine = make_engine(settings.database_url)
    migrate(engine)
    app = create_app(settings, session_factory(engine, readonly=True), write_sessions=session_factory(engine))
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=settings.log_level.lower(),
        server_header=False,
        # Runners reuse idle connections: uvicorn's default of 5 s closes them so often
        # that a client sometimes sends on one just as it is closed, and sees an error.
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
