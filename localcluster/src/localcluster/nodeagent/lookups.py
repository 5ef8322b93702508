"""ConfigMap and Secret lookups for environment resolution, through the API.

As the node's own identity, reads succeed only for objects a pod bound to this node
references (the Node authorizer); a 404 means "missing" (honouring `optional`), any
other failure becomes a `ContainerConfigError` and the start is retried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from localcluster.nodeagent.env import (
    ContainerConfigError,
    EnvSources,
    Lookup,
    config_map_data,
    secret_data,
)
from localcluster.nodeagent.kube import Kube, describe_error, status_of


def env_sources(kube: Kube, pod: Mapping[str, Any]) -> EnvSources:
    """Lookups in the pod's namespace, each object fetched at most once per resolution."""
    namespace = pod["metadata"]["namespace"]
    return EnvSources(
        config_map=_cached(kube, namespace, "configmaps", config_map_data),
        secret=_cached(kube, namespace, "secrets", secret_data),
    )


def _cached(kube: Kube, namespace: str, plural: str, decode: Callable[[Mapping[str, Any]], dict[str, str]]) -> Lookup:
    cache: dict[str, dict[str, str] | None] = {}

    def lookup(name: str) -> dict[str, str] | None:
        if name not in cache:
            cache[name] = _fetch(kube, namespace, plural, name, decode)
        return cache[name]

    return lookup


def _fetch(
    kube: Kube,
    namespace: str,
    plural: str,
    name: str,
    decode: Callable[[Mapping[str, Any]], dict[str, str]],
) -> dict[str, str] | None:
    try:
        return decode(kube.get(f"/api/v1/namespaces/{namespace}/{plural}/{name}"))
    except Exception as error:
        if status_of(error) == 404:
            return None
        kind = "configMap" if plural == "configmaps" else "secret"
        reason = describe_error(error)
        raise ContainerConfigError(f"couldn't get {kind} {namespace}/{name}: {reason}") from error
