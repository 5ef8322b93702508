"""Kubernetes API access: credentials as kubectl finds them, or in-cluster."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def load_api_client(kubeconfig: Path | str | None = None, context: str | None = None) -> client.ApiClient:
    """In-cluster credentials inside a pod (unless a kubeconfig is named), else the
    kubeconfig (`--kubeconfig`, `$KUBECONFIG`, `~/.kube/config`) and its context."""
    if kubeconfig is None and context is None:
        try:
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)
            return client.ApiClient(configuration)
        except ConfigException:
            pass
    return config.new_client_from_config(config_file=str(kubeconfig) if kubeconfig else None, context=context)


def current_identity(api: client.ApiClient) -> tuple[str, tuple[str, ...]]:
    """The authenticated user name and groups (a SelfSubjectReview)."""
    review = client.AuthenticationV1Api(api).create_self_subject_review(
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    )
    info = review.status.user_info
    return info.username, tuple(info.groups or ())


def own_namespace(path: Path = SERVICE_ACCOUNT_NAMESPACE) -> str | None:
    """The namespace of the pod this process runs in (its service account's), if any."""
    try:
        return path.read_text().strip() or None
    except OSError:
        return None
