"""`tracker watch sprocket OUT_DIR`: report a Sprocket output directory's runs to the
tracker's trace receiver, as a long-running command or a pod's sidecar.

Exit codes: 0 stopped (SIGTERM, Ctrl-C) or `--once` done; 1 the database is missing,
corrupt or of a schema this tracker does not read, the state file is unreadable, or
the tracker refused a report (bad token, no rights in the namespace); 2 bad
arguments. A tracker out of reach, a database busy past its timeout or an output
upload that failed is retried on the next poll (one line on stderr each time),
losing nothing.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import click

from tracker.cli.errors import EXIT_USAGE, CliError
from tracker.domain.s3url import InvalidS3Url, S3Url, parse_prefix
from tracker.domain.sprocket import SprocketRowError
from tracker.reporters.client import TraceClient, TraceError
from tracker.reporters.publish import default_client, s3_upload
from tracker.reporters.sprocket import STATE_NAME, TRANSIENT, SprocketWatcher, WatchState
from tracker.reporters.sprocketdb import SprocketDbError


@click.group()
def watch() -> None:
    """Follow a workflow engine's records and report its runs."""


@watch.command()
@click.argument("out_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--url", envvar="TOWER_API_ENDPOINT", required=True, help="the trace receiver, e.g. http://HOST:8000/tower"
)
@click.option("--token", envvar="TOWER_ACCESS_TOKEN", required=True, help="a token the tracker accepts")
@click.option("--workspace", envvar="TOWER_WORKSPACE_ID", help="a workspace id (selects the namespace)")
@click.option("--publish-to", help="upload each succeeded run's output files under s3://BUCKET/PREFIX/<run>/")
@click.option(
    "--logs-to",
    help="upload the run's log and each attempt's stdout/stderr under s3://BUCKET/PREFIX/<run>/ (its work dir)",
)
@click.option(
    "--interval", type=click.FloatRange(0.1, 3600), default=5.0, show_default=True, help="seconds between polls"
)
@click.option(
    "--state", "state_file", type=click.Path(path_type=Path), help=f"what was reported (default OUT_DIR/{STATE_NAME})"
)
@click.option("--once", is_flag=True, help="poll once and exit")
def sprocket(
    out_dir: Path,
    url: str,
    token: str,
    workspace: str | None,
    publish_to: str | None,
    logs_to: str | None,
    interval: float,
    state_file: Path | None,
    once: bool,
) -> None:
    """Report the runs of Sprocket's OUT_DIR/sprocket.db (read-only) to the tracker."""
    target, logs_target = _prefix(publish_to, "--publish-to"), _prefix(logs_to, "--logs-to")
    stopping = threading.Event()
    client = TraceClient(url, token, workspace_id=workspace, retry_for=30, stopping=stopping)
    try:
        watcher = SprocketWatcher(
            out_dir,
            client,
            WatchState.load(state_file or out_dir / STATE_NAME),
            publish_to=target,
            logs_to=logs_target,
            upload=s3_upload(default_client) if target or logs_target else None,
        )
        if once:
            watcher.poll()
            return
        _stop_on_signals(stopping)
        watcher.watch(interval=interval, stopping=stopping, on_transient=_warn)
    except TRANSIENT as error:
        raise CliError(f"{error} (try again)") from error
    except (SprocketDbError, SprocketRowError, TraceError) as error:
        raise CliError(str(error)) from error
    finally:
        client.close()


def _prefix(value: str | None, option: str) -> S3Url | None:
    if value is None:
        return None
    try:
        return parse_prefix(value, field=option)
    except InvalidS3Url as error:
        raise CliError(f"{option}: {error}", EXIT_USAGE) from error


def _warn(message: str) -> None:
    click.echo(f"tracker: {message}; retrying", err=True)


def _stop_on_signals(stopping: threading.Event) -> None:
    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
