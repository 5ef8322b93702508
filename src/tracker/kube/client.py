"""Kubernetes API access: credentials as kubectl finds them, or in-cluster.

Also the two typing boundaries of the client: the custom-object calls return parsed JSON
typed `object` (`resource` checks it is an object), and the typed calls name only the
client's model classes for a body that may be a plain manifest dict (`as_body`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

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
    api: client.ApiClient = config.new_client_from_config(
        config_file=str(kubeconfig) if kubeconfig else None, context=context
    )
    return api


def api_client_for_token(base: client.ApiClient, token: str) -> client.ApiClient:
    """A client of the same API server as `base` (address, CA, TLS checks, proxy) that
    authenticates with the bearer `token` alone: none of `base`'s own credentials
    (client certificate, token, token refresh) come along."""
    source = base.configuration
    configuration = client.Configuration(host=source.host)
    configuration.ssl_ca_cert = source.ssl_ca_cert
    configuration.verify_ssl = source.verify_ssl
    configuration.assert_hostname = source.assert_hostname
    configuration.tls_server_name = getattr(source, "tls_server_name", None)
    configuration.proxy = source.proxy
    configuration.api_key = {"authorization": token}
    configuration.api_key_prefix = {"authorization": "Bearer"}
    return client.ApiClient(configuration)


def current_identity(api: client.ApiClient) -> tuple[str, tuple[str, ...]]:
    """The authenticated user name and groups (a SelfSubjectReview)."""
    review = client.AuthenticationV1Api(api).create_self_subject_review(
        client.V1SelfSubjectReview(api_version="authentication.k8s.io/v1", kind="SelfSubjectReview")
    )
    info = review.status.user_info if review.status is not None else None
    if info is None:
        raise RuntimeError("the API server answered a SelfSubjectReview without user info")
    return info.username or "", tuple(info.groups or ())


Resource = dict[str, Any]  # a Kubernetes object as the API's JSON


def resource(answer: object) -> Resource:
    """A custom-object call's answer (parsed JSON, typed `object` by the client) as an object."""
    if not isinstance(answer, dict):
        raise TypeError(f"expected a JSON object from the Kubernetes API, got {type(answer).__name__}")
    return answer


def as_body(manifest: Mapping[str, Any]) -> Any:
    """A manifest as the body of a typed call: the client sends a plain dict as it is,
    though its annotations name only its model classes."""
    return manifest


def own_namespace(path: Path = SERVICE_ACCOUNT_NAMESPACE) -> str | None:
    """The namespace of the pod this process runs in (its service account's), if any."""
    try:
        return path.read_text().strip() or None
    except OSError:
        return None
