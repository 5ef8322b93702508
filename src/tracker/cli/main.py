"""`tracker`: the kubectl-style command line of Workflow Tracker.

Global options work like kubectl's (`--kubeconfig`, `--context`, `-n`); index queries
go to the read API (`--api-url`, `--token`). Errors are one line on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from tracker.cli.context import CliContext, api_error
from tracker.cli.describe import describe
from tracker.cli.errors import EXIT_FAILURE, EXIT_USAGE, CliError
from tracker.cli.get import get
from tracker.cli.outputs import outputs
from tracker.cli.report import report
from tracker.cli.watch import watch

SHELLS = ("bash", "zsh", "fish")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
@click.option("--context", "kube_context", help="kubeconfig context to use")
@click.option("-n", "--namespace", help="namespace (default: the context's)")
@click.option("--api-url", envvar="TRACKER_API_URL", help="the read API's base URL")
@click.option("--token", envvar="TRACKER_TOKEN", help="bearer token for the read API")
@click.pass_context
def cli(
    click_ctx: click.Context,
    kubeconfig: str | None,
    kube_context: str | None,
    namespace: str | None,
    api_url: str | None,
    token: str | None,
) -> None:
    """Track workflow runs and manage their S3 outputs."""
    click_ctx.obj = CliContext(
        kubeconfig=kubeconfig, context=kube_context, namespace=namespace, api_url=api_url, token=token
    )


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL.

    \b
    bash: source <(tracker completion bash)
    zsh:  source <(tracker completion zsh)
    fish: tracker completion fish | source
    """
    from click.shell_completion import get_completion_class

    completer = get_completion_class(shell)
    if completer is None:  # pragma: no cover - click knows all three
        raise CliError(f"no completion for {shell}", EXIT_USAGE)
    click.echo(completer(cli, {}, "tracker", "_TRACKER_COMPLETE").source())


for command in (outputs, get, describe, report, watch, completion):
    cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="tracker", standalone_mode=False)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    except click.UsageError as error:  # one line, not click's usage block
        hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
        click.echo(f"tracker: {error.format_message()}{hint}", err=True)
        return EXIT_USAGE
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.Abort:
        click.echo("tracker: interrupted", err=True)
        return 130
    except (ApiException, HTTPError) as error:  # a Kubernetes call no command mapped
        api_error(error, "a Kubernetes request failed").show()
        return EXIT_FAILURE
    except Exception as error:
        click.echo(f"tracker: unexpected error: {type(error).__name__}: {error}", err=True)
        return EXIT_FAILURE
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
