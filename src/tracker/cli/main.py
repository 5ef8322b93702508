"""`tracker`: the kubectl-style command line of Workflow Tracker.

Global options work like kubectl's (`--kubeconfig`, `--context`, `-n`); index queries
go to the read API (`--api-url`, `--token`). Errors are one line on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from tracker.cli.context import CliContext
from tracker.cli.errors import EXIT_FAILURE
from tracker.cli.report import report


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
@click.option("--context", "kube_context", help="kubeconfig context to use")
@click.option("-n", "--namespace", help="namespace (default: the context's)")
@click.option("--api-url", envvar="TRACKER_API_URL", help="the read API's base URL")
@click.option("--token", envvar="TRACKER_TOKEN", help="bearer token for the read API")
@click.pass_context
def cli(click_ctx: click.Context, kubeconfig: str | None, kube_context: str | None, namespace: str | None,
        api_url: str | None, token: str | None) -> None:
    """Track workflow runs and manage their S3 outputs."""
    click_ctx.obj = CliContext(kubeconfig=kubeconfig, context=kube_context, namespace=namespace,
                               api_url=api_url, token=token)


cli.add_command(report)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="tracker", standalone_mode=True)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    except Exception as error:  # noqa: BLE001 - the last line of defence: never a traceback
        click.echo(f"tracker: unexpected error: {type(error).__name__}: {error}", err=True)
        return EXIT_FAILURE
    return 0


if __name__ == "__main__":
    sys.exit(main())
