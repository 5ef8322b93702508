"""`tracker get runs|jobs [NAME]`: WorkflowRuns and OutputLifecycleJobs as `kubectl
get` shows them (the CRDs' printer columns), in the namespace or across all (-A),
filtered by label (-l), as a table, wide, JSON, YAML or names; -w keeps printing
rows as the objects change until Ctrl-C. `tracker get tasks RUN` lists a run's task
attempts from the read API (`tracker.cli.tasks`). Archived runs (their resource
removed, `tracker.cli.archived`) come from the read API: `get runs NAME` finds one
when no WorkflowRun has that name, and `get runs --archived` lists them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import click
from click.shell_completion import CompletionItem
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from tracker.cli import render
from tracker.cli.archived import find_archived, is_archived, list_archived
from tracker.cli.context import CliContext, api_error, pass_context
from tracker.cli.errors import EXIT_USAGE, CliError
from tracker.cli.tasks import get_tasks
from tracker.kube.client import resource
from tracker.kube.resources import GROUP, JOB_KIND, JOBS, RUN_KIND, RUNS, VERSION
from tracker.kube.runs import AmbiguousRunName, find_run

Body = dict[str, Any]
RESOURCES = {
    **dict.fromkeys(("runs", "run", "wfr", "workflowrun", "workflowruns"), (RUNS, RUN_KIND)),
    **dict.fromkeys(("jobs", "job", "olj", "outputlifecyclejob", "outputlifecyclejobs"), (JOBS, JOB_KIND)),
}
TASKS = ("tasks", "task")


class Getter:
    """Listing, naming and watching one resource kind in a namespace (None: all)."""

    def __init__(self, ctx: CliContext, plural: str, namespace: str | None) -> None:
        self.ctx, self.plural, self.namespace = ctx, plural, namespace
        self.custom = client.CustomObjectsApi(ctx.api)

    def list(self, **kwargs: Any) -> Body:
        if self.namespace:
            return resource(
                self.custom.list_namespaced_custom_object(GROUP, VERSION, self.namespace, self.plural, **kwargs)
            )
        return resource(self.custom.list_cluster_custom_object(GROUP, VERSION, self.plural, **kwargs))

    def by_name(self, name: str) -> Body | None:
        """The object named `name`; for runs also by run name or id, for jobs by job id."""
        if self.namespace:
            try:
                return resource(
                    self.custom.get_namespaced_custom_object(GROUP, VERSION, self.namespace, self.plural, name)
                )
            except ApiException as error:
                if error.status != 404:
                    raise
        if self.plural == RUNS:
            try:
                found = find_run(self.ctx.api, ref=name, namespace=self.namespace)
            except AmbiguousRunName as error:
                raise CliError(str(error)) from error
            return found if found is not None else find_archived(self.ctx, name, self.namespace)
        items = self.list()["items"]
        return next(
            (
                j
                for j in items
                if name in (j["metadata"]["name"], j["metadata"].get("uid"), (j.get("status") or {}).get("jobId"))
            ),
            None,
        )

    def events(self, selector: dict[str, str], resource_version: str) -> Iterator[tuple[str, Body]]:
        """Watch events from `resource_version` on; re-lists when the version expired."""
        stream: Callable[..., Any] = (
            self.custom.list_namespaced_custom_object if self.namespace else self.custom.list_cluster_custom_object
        )
        args = (GROUP, VERSION, self.namespace, self.plural) if self.namespace else (GROUP, VERSION, self.plural)
        while True:
            watcher = watch.Watch()
            try:
                for event in watcher.stream(
                    stream,
                    *args,
                    resource_version=resource_version,
                    allow_watch_bookmarks=False,
                    timeout_seconds=300,
                    **selector,
                ):
                    if event["type"] == "ERROR":
                        raise ApiException(status=(event["raw_object"] or {}).get("code", 500))
                    obj = event["object"]
                    resource_version = obj["metadata"]["resourceVersion"]
                    yield event["type"], obj
            except ApiException as error:
                if error.status != 410:
                    raise
                resource_version = self.list(**selector)["metadata"]["resourceVersion"]


def complete_names(click_ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Shell completion: run names (or, for `get jobs`, job names) in the namespace;
    nothing at all when the cluster cannot be asked."""
    root = click_ctx.find_root().params
    resource = str(click_ctx.params.get("resource") or "runs").lower()
    plural = RESOURCES.get(resource, (RUNS, RUN_KIND))[0]
    try:
        ctx = CliContext(
            kubeconfig=root.get("kubeconfig"), context=root.get("kube_context"), namespace=root.get("namespace")
        )
        items = Getter(ctx, plural, ctx.effective_namespace).list(_request_timeout=5)["items"]
    except Exception:
        return []
    names = {(i.get("spec") or {}).get("runName") if plural == RUNS else i["metadata"]["name"] for i in items}
    return [CompletionItem(n) for n in sorted(n for n in names if n and n.startswith(incomplete))]


@click.command("get")
@click.argument(
    "resource", metavar="runs|jobs|tasks", type=click.Choice(sorted([*RESOURCES, *TASKS]), case_sensitive=False)
)
@click.argument("name", required=False, shell_complete=complete_names)
@click.option("-o", "--output", type=click.Choice(render.OUTPUT_FORMATS), help="output format")
@click.option("-l", "--selector", help="label selector, e.g. -l team=genomics")
@click.option("-A", "--all-namespaces", is_flag=True, help="every namespace")
@click.option("-w", "--watch", "watch_", is_flag=True, help="after listing, print changes until Ctrl-C")
@click.option("--archived", is_flag=True, help="archived runs (from the read API) instead of the live ones")
@pass_context
def get(
    ctx: CliContext,
    resource: str,
    name: str | None,
    output: str | None,
    selector: str | None,
    all_namespaces: bool,
    watch_: bool,
    archived: bool,
) -> None:
    """List runs or lifecycle jobs (NAME: the resource name, run name or id), or the
    task attempts of run NAME (`get tasks RUN`). An archived run is found by name or
    id too; --archived lists the archived runs."""
    if resource.lower() in TASKS:
        if not name or selector or all_namespaces or watch_:
            raise CliError("usage: tracker get tasks RUN [-o wide|json|yaml] (no -l, -A or -w)", EXIT_USAGE)
        get_tasks(ctx, name, output)
        return
    plural, kind = RESOURCES[resource.lower()]
    if name and selector:
        raise CliError("give a NAME or a --selector, not both", EXIT_USAGE)
    namespace = None if all_namespaces else ctx.effective_namespace
    if archived:
        if plural != RUNS or watch_:
            raise CliError("--archived lists runs, and cannot be watched (-w)", EXIT_USAGE)
        _get_archived(ctx, name, namespace, output, selector)
        return
    getter = Getter(ctx, plural, namespace)
    doing = f"cannot get {plural}"
    try:
        if name:
            found = getter.by_name(name)
            if found is None:
                where = "any namespace" if namespace is None else f"namespace {namespace!r}"
                raise CliError(f"{kind} {name!r} not found in {where}")
            if is_archived(found):
                if watch_:
                    raise CliError(f"run {name!r} is archived: it no longer changes (no -w)", EXIT_USAGE)
                click.echo(render.render([found], kind, output, single=True, with_namespace=all_namespaces), nl=False)
                return
            objs, version = [found], found["metadata"]["resourceVersion"]
            watch_selector = {"field_selector": f"metadata.name={found['metadata']['name']}"}
            getter.namespace = found["metadata"]["namespace"]
        else:
            listed = getter.list(**({"label_selector": selector} if selector else {}))
            objs, version = listed["items"], listed["metadata"]["resourceVersion"]
            watch_selector = {"label_selector": selector} if selector else {}
        objs.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        with_namespace = all_namespaces
        if objs:
            click.echo(render.render(objs, kind, output, single=bool(name), with_namespace=with_namespace), nl=False)
        elif not watch_ and output not in ("json", "yaml"):
            click.echo(f"No resources found in {namespace} namespace." if namespace else "No resources found", err=True)
        elif not watch_:
            click.echo(render.render([], kind, output), nl=False)
        if watch_:
            printer = render.Table(render.table_rows(objs, kind, wide=output == "wide", with_namespace=with_namespace))
            _watch(getter, kind, output, watch_selector, version, printer, with_namespace=with_namespace)
    except (ApiException, HTTPError) as error:
        raise api_error(error, doing) from error


def _get_archived(
    ctx: CliContext, name: str | None, namespace: str | None, output: str | None, selector: str | None
) -> None:
    if not ctx.api_url:
        raise CliError("archived runs live in the index: pass --api-url or set TRACKER_API_URL")
    if name:
        found = find_archived(ctx, name, namespace)
        if found is None:
            where = "any namespace" if namespace is None else f"namespace {namespace!r}"
            raise CliError(f"archived run {name!r} not found in {where}")
        objs = [found]
    else:
        objs = list_archived(ctx, namespace, selector)
    with_namespace = namespace is None
    if objs or output in ("json", "yaml"):
        click.echo(render.render(objs, RUN_KIND, output, single=bool(name), with_namespace=with_namespace), nl=False)
    else:
        click.echo(
            f"No archived runs found in {namespace} namespace." if namespace else "No archived runs found", err=True
        )


def _watch(
    getter: Getter,
    kind: str,
    output: str | None,
    selector: dict[str, str],
    version: str,
    printer: render.Table,
    *,
    with_namespace: bool,
) -> None:
    """Print each change as kubectl get -w does; Ctrl-C ends it (exit 0)."""
    try:
        for _, obj in getter.events(selector, version):
            obj.setdefault("kind", kind)
            if output in ("json", "yaml"):
                text = (
                    render.to_json(render.printable(obj))
                    if output == "json"
                    else "---\n" + render.to_yaml(render.printable(obj))
                )
            elif output == "name":
                text = render.name(obj) + "\n"
            else:
                row = render.row(obj, wide=output == "wide", with_namespace=with_namespace)
                header = (
                    []
                    if printer.widths
                    else [render.headers(kind, wide=output == "wide", with_namespace=with_namespace)]
                )
                text = printer.format([*header, row])
            click.echo(text, nl=False)
    except KeyboardInterrupt:
        return
