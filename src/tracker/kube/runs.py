"""Finding a WorkflowRun by the name users know it by: its run name or its run id."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from tracker.kube.client import Resource, resource
from tracker.kube.resources import GROUP, RUNS, VERSION


class AmbiguousRunName(LookupError):
    """Two runs in different namespaces share a run name and no namespace was given."""


def find_run(api: client.ApiClient, *, ref: str, namespace: str | None) -> dict[str, Any] | None:
    """The WorkflowRun whose spec.runName or status.id is `ref`, in `namespace` (or any)."""
    custom = client.CustomObjectsApi(api)
    selector = f"spec.runName={ref}"

    def listing(**kwargs: Any) -> list[Resource]:
        if namespace:
            found = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, RUNS, **kwargs)
        else:
            found = custom.list_cluster_custom_object(GROUP, VERSION, RUNS, **kwargs)
        items: list[Resource] = resource(found)["items"]
        return items

    matches = listing(field_selector=selector) if _selectable(ref) else []
    if not matches:
        matches = [r for r in listing() if (r.get("status") or {}).get("id") == ref]
    if len(matches) > 1:
        places = ", ".join(sorted(m["metadata"]["namespace"] for m in matches))
        raise AmbiguousRunName(f"run name {ref!r} exists in several namespaces ({places}): name one with -n")
    return matches[0] if matches else None


def _selectable(value: str) -> bool:
    """Field-selector values cannot hold selector syntax characters."""
    return not any(c in value for c in ",=!\\")
