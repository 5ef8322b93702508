"""CLI errors: one line on stderr and a documented exit code, never a traceback."""

from __future__ import annotations

import click

EXIT_FAILURE = 1  # the command failed: not found, forbidden, job failed, server error
EXIT_USAGE = 2  # bad arguments (click's own usage errors use it too)
EXIT_TIMEOUT = 124  # --wait gave up (as timeout(1) does)


class CliError(click.ClickException):
    """Printed as `tracker: <message>` with its exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click reads it from the instance; typed as a ClassVar

    def show(self, file: object = None) -> None:
        click.echo(f"tracker: {self.format_message()}", err=True)
