"""`tracker get tasks RUN`: a run's task attempts from the read API, as a table
(wide: requested and used resources, hash, native id, work dir), JSON or YAML."""

from __future__ import annotations

from collections.abc import Sequence

import click

from tracker.cli import render
from tracker.cli.context import CliContext, read_api_error
from tracker.cli.errors import EXIT_USAGE, CliError
from tracker.domain.cost import human_size

PAGE = 1000
COLUMNS = ("TASK", "PROCESS", "TAG", "STATUS", "ATTEMPT", "EXIT", "DURATION")
WIDE = ("HASH", "NATIVE ID", "CPUS", "MEMORY", "%CPU", "PEAK RSS", "EXECUTOR", "WORK DIR")


def get_tasks(
    ctx: CliContext, run: str, output: str | None, *, process: str | None = None, status: Sequence[str] = ()
) -> None:
    from tracker.api.client import ApiError

    items, offset = [], 0
    try:
        while True:
            page = ctx.api_client.run_tasks(
                run, namespace=ctx.namespace, process=process, status=status, limit=PAGE, offset=offset
            )
            items.extend(page.items)
            offset += len(page.items)
            if not page.items or offset >= page.total:
                break
    except ApiError as error:
        raise read_api_error(error, f"cannot get the tasks of {run!r}") from error
    if output in ("json", "yaml"):
        document = {"runId": page.run_id, "items": [t.model_dump(mode="json") for t in items]}
        click.echo(render.to_json(document) if output == "json" else render.to_yaml(document), nl=False)
        return
    if output == "name":
        raise CliError("-o name is not available for tasks: use -o json", EXIT_USAGE)
    if not items:
        click.echo(f"No tasks found for run {run!r}.", err=True)
        return
    wide = output == "wide"
    rows = [[*COLUMNS, *(WIDE if wide else ())]]
    for t in items:
        row = [
            str(t.task_id),
            t.process or "",
            t.tag or "",
            t.status,
            str(t.attempt),
            "" if t.exit_code is None else str(t.exit_code),
            "" if t.duration_ms is None else render.human_duration(t.duration_ms / 1000),
        ]
        if wide:
            row += [
                t.hash or "",
                t.native_id or "",
                "" if t.cpus is None else str(t.cpus),
                "" if t.memory_bytes is None else human_size(t.memory_bytes),
                "" if t.pcpu is None else f"{t.pcpu:.1f}",
                "" if t.peak_rss is None else human_size(t.peak_rss),
                t.executor or "",
                t.work_dir or "",
            ]
        rows.append(row)
    click.echo(render.table(rows), nl=False)
