"""Status patches that must not lose a concurrent writer's changes.

Conditions are one list shared by the operator and the worker, so a writer reads the
object, computes its patch from what it read, and patches with that resourceVersion; a
409 Conflict means someone else wrote first, and the patch is recomputed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tracker.kube.client import resource
from tracker.kube.resources import GROUP, VERSION

StatusPatch = dict[str, Any]
MAX_CONFLICTS = 20


def patch_status(
    api: client.ApiClient,
    *,
    plural: str,
    namespace: str,
    name: str,
    compute: Callable[[dict[str, Any]], StatusPatch | None],
) -> dict[str, Any]:
    """Apply `compute(current_object)` to the object's status; returns the patched object."""
    custom = client.CustomObjectsApi(api)
    for _ in range(MAX_CONFLICTS):
        current = resource(custom.get_namespaced_custom_object(GROUP, VERSION, namespace, plural, name))
        patch = compute(current)
        if not patch:
            return current
        body = {"metadata": {"resourceVersion": current["metadata"]["resourceVersion"]}, "status": patch}
        try:
            return resource(custom.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, plural, name, body))
        except ApiException as error:
            if error.status != 409:
                raise
    raise RuntimeError(f"{plural}/{namespace}/{name}: status kept changing under {MAX_CONFLICTS} attempts")
