"""`tracker-operator`: run the kopf operator (all handlers in tracker.operator.handlers).

Several replicas may run: kopf peering (`--peering`, default `tracker`) keeps one
active. Namespaces to watch come from TRACKER_NAMESPACES (empty: cluster-wide), plus
the worker namespace, where the worker Jobs and pods it follows run.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import kopf

from tracker.operator import handlers  # noqa: F401 - registers the handlers
from tracker.operator.context import worker_namespace
from tracker.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tracker-operator", description=__doc__.splitlines()[0])
    parser.add_argument("--peering", default="tracker", help="kopf peering name (several replicas, one active)")
    parser.add_argument("--standalone", action="store_true", help="no peering: assume no other replica")
    parser.add_argument("--priority", type=int, default=0, help="peering priority of this replica")
    parser.add_argument("--liveness", default="http://0.0.0.0:8080/healthz", help="liveness endpoint URL")
    args = parser.parse_args(argv)
    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if logging.getLogger().level > logging.DEBUG:
        # One line per handled watch event (every heartbeat) and per probe is noise at scale.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    namespaces = sorted({*settings.namespaces, worker_namespace(settings)}) if settings.namespaces else []
    kopf.run(
        clusterwide=not namespaces,
        namespaces=namespaces,
        peering_name=None if args.standalone else args.peering,
        standalone=args.standalone,
        priority=args.priority,
        liveness_endpoint=args.liveness or None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
