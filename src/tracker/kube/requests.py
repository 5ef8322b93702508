"""Requesting a lifecycle job as the caller: the identity the API server authenticated
(a SelfSubjectReview, which is what the admission policy compares `requestedBy` with),
the manifest from `manifests.requested_job_resource`, and the create call. The CLI
(with the user's kubeconfig) and the page's Actions menu (with the user's bearer token)
both call `request_job`, so both are authorized and admitted exactly as `kubectl apply`."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from tracker.domain.records import JobRecord
from tracker.kube.client import Resource, current_identity, resource
from tracker.kube.convert import job_record
from tracker.kube.manifests import requested_job_resource
from tracker.kube.resources import GROUP, JOBS, VERSION


def request_job(
    api: client.ApiClient,
    *,
    namespace: str,
    run_ref: str,
    run_resource_name: str | None,
    operation: str,
    destination: str | None = None,
    dry_run: bool = False,
) -> Resource:
    """Create the OutputLifecycleJob as whoever `api` authenticates as; the created object.
    Raises the client's ApiException (401, 403, admission refusals, ...) as it comes."""
    user, groups = current_identity(api)
    manifest = requested_job_resource(
        namespace=namespace,
        run_ref=run_ref,
        run_resource_name=run_resource_name,
        operation=operation,
        requested_by=user,
        requested_by_groups=groups,
        destination=destination,
        dry_run=dry_run,
    )
    return resource(
        client.CustomObjectsApi(api).create_namespaced_custom_object(GROUP, VERSION, namespace, JOBS, manifest)
    )


def read_job(api: client.ApiClient, *, namespace: str, name: str) -> Resource:
    return resource(client.CustomObjectsApi(api).get_namespaced_custom_object(GROUP, VERSION, namespace, JOBS, name))


def requested_record(body: dict[str, Any]) -> JobRecord:
    """A job resource as a record, also before the operator gave it a status (its id is then its uid)."""
    status = {"jobId": body["metadata"].get("uid", ""), **(body.get("status") or {})}
    return job_record({**body, "status": status})
