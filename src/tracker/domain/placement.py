"""Where a runner's reports land: the namespace a trace caller's identity selects,
and the WorkflowRun object name derived from a run name.

A Kubernetes service account reports into its own namespace; `workspaceId` (Nextflow
`tower.workspaceId`) selects a configured namespace instead; anyone else gets the
configured default. Whether the caller may create runs there is asked separately.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
_NOT_DNS = re.compile(r"[^a-z0-9-]+")
MAX_NAME = 63  # a label value: the name also appears in Job labels


class PlacementError(ValueError):
    """No namespace can be chosen; the message says what to configure."""


def service_account_namespace(user: str) -> str | None:
    """`lab` for `system:serviceaccount:lab:alice`, None for other users."""
    if not user.startswith(SERVICE_ACCOUNT_PREFIX):
        return None
    namespace, _, name = user[len(SERVICE_ACCOUNT_PREFIX) :].partition(":")
    return namespace if namespace and name else None


def namespace_for(user: str, *, workspace_id: str | None, workspaces: Mapping[str, str], default: str | None) -> str:
    if workspace_id:
        if workspace_id not in workspaces:
            raise PlacementError(
                f"workspace {workspace_id!r} is not configured on this server "
                "(TRACKER_TOWER__WORKSPACES maps workspace ids to namespaces)"
            )
        return workspaces[workspace_id]
    namespace = service_account_namespace(user) or default
    if not namespace:
        raise PlacementError(
            f"no namespace for user {user!r}: use a service account token, a workspaceId, "
            "or configure TRACKER_TOWER__DEFAULT_NAMESPACE"
        )
    return namespace


def object_name(run_name: str) -> str:
    """A DNS-1123 label for the run's object: the run name lower-cased, other
    characters as `-`, and a short hash when anything was changed or cut, so two
    run names never share an object name."""
    cleaned = _NOT_DNS.sub("-", run_name.lower()).strip("-") or "run"
    if cleaned == run_name and len(cleaned) <= MAX_NAME:
        return cleaned
    digest = hashlib.sha256(run_name.encode()).hexdigest()[:8]
    return f"{cleaned[: MAX_NAME - 9].rstrip('-')}-{digest}"
