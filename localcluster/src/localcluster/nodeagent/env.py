"""A container's environment, resolved from its pod spec as the kubelet does.

Pure logic: ConfigMaps and Secrets come through lookup functions (name -> data, or
None when the object does not exist), so the rules are tested without a cluster.
Order and semantics follow the kubelet's makeEnvironmentVariables: `envFrom` first
(prefixed keys, invalid names skipped), then `env` in order, where a literal value may
reference earlier variables with `$(VAR)`; a missing non-optional object or key is a
`ContainerConfigError` (the container waits with CreateContainerConfigError).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from localcluster.nodeagent.expansion import expand

Lookup = Callable[[str], Mapping[str, str] | None]

_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['(.*)'\]$")
_INHERITED_BLOCKLIST = ("KUBECONFIG",)
_INHERITED_BLOCK_PREFIXES = ("KUBERNETES_SERVICE_", "KUBERNETES_PORT")


class ContainerConfigError(Exception):
    """The container cannot start yet: a referenced object or key is missing."""


@dataclass(frozen=True)
class EnvSources:
    """Where `valueFrom`/`envFrom` references are looked up, in the pod's namespace."""

    config_map: Lookup
    secret: Lookup
    pod_ip: str = "127.0.0.1"
    host_ip: str = "127.0.0.1"


def secret_data(secret: Mapping[str, Any]) -> dict[str, str]:
    """A Secret's `data`, base64-decoded (undecodable bytes kept via surrogateescape)."""
    return {
        key: base64.b64decode(value).decode("utf-8", errors="surrogateescape")
        for key, value in (secret.get("data") or {}).items()
    }


def config_map_data(config_map: Mapping[str, Any]) -> dict[str, str]:
    """A ConfigMap's `data` (the kubelet ignores `binaryData` for environment variables)."""
    return dict(config_map.get("data") or {})


def container_env(pod: Mapping[str, Any], container: Mapping[str, Any], sources: EnvSources) -> dict[str, str]:
    """The variables the pod spec defines for `container`, in definition order."""
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        env.update(_env_from(source, sources))
    for var in container.get("env") or []:
        value = _env_var_value(pod, var, env, sources)
        if value is not None:
            env[var["name"]] = value
    return env


def _env_from(source: Mapping[str, Any], sources: EnvSources) -> dict[str, str]:
    prefix = source.get("prefix") or ""
    if "configMapRef" in source:
        data = _object_data(source["configMapRef"], sources.config_map, "configmaps")
    elif "secretRef" in source:
        data = _object_data(source["secretRef"], sources.secret, "secrets")
    else:
        return {}
    return {prefix + key: value for key, value in (data or {}).items() if _ENV_NAME.match(prefix + key)}


def _object_data(ref: Mapping[str, Any], lookup: Lookup, plural: str) -> Mapping[str, str] | None:
    """The referenced object's data; None if it is missing and optional."""
    data = lookup(ref["name"])
    if data is None and not ref.get("optional"):
        raise ContainerConfigError(f'{plural} "{ref["name"]}" not found')
    return data


def _env_var_value(
    pod: Mapping[str, Any], var: Mapping[str, Any], defined: Mapping[str, str], sources: EnvSources
) -> str | None:
    """The value of one `env` entry; None when an optional reference is absent."""
    literal = var.get("value") or ""
    value_from = var.get("valueFrom")
    if literal or not value_from:
        return expand(literal, defined) if literal else ""
    if "fieldRef" in value_from:
        return field_ref_value(pod, value_from["fieldRef"]["fieldPath"], sources)
    if "configMapKeyRef" in value_from:
        return _key_ref(pod, value_from["configMapKeyRef"], sources.config_map, "ConfigMap")
    if "secretKeyRef" in value_from:
        return _key_ref(pod, value_from["secretKeyRef"], sources.secret, "Secret")
    raise ContainerConfigError(
        f'env var "{var["name"]}": only value, fieldRef, configMapKeyRef and secretKeyRef '
        "are supported by the node agent"
    )


def _key_ref(pod: Mapping[str, Any], ref: Mapping[str, Any], lookup: Lookup, kind: str) -> str | None:
    plural = "configmaps" if kind == "ConfigMap" else "secrets"
    data = _object_data(ref, lookup, plural)
    if data is None:
        return None
    if ref["key"] in data:
        return data[ref["key"]]
    if ref.get("optional"):
        return None
    namespace = pod["metadata"]["namespace"]
    raise ContainerConfigError(f"couldn't find key {ref['key']} in {kind} {namespace}/{ref['name']}")


def field_ref_value(pod: Mapping[str, Any], path: str, sources: EnvSources) -> str:
    """The downward-API value of `path` for this pod (podIP/hostIP from the node)."""
    metadata = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    simple: dict[str, str] = {
        "metadata.name": metadata.get("name", ""),
        "metadata.namespace": metadata.get("namespace", ""),
        "metadata.uid": metadata.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.podIP": sources.pod_ip,
        "status.podIPs": sources.pod_ip,
        "status.hostIP": sources.host_ip,
        "status.hostIPs": sources.host_ip,
    }
    if path in simple:
        return simple[path]
    if path in ("metadata.labels", "metadata.annotations"):
        return _format_map(metadata.get(path.split(".")[1]) or {})
    match = _SUBSCRIPT.match(path)
    if match:
        value: str = (metadata.get(match.group(1)) or {}).get(match.group(2), "")
        return value
    raise ContainerConfigError(f'unsupported fieldRef fieldPath "{path}"')


def _format_map(values: Mapping[str, str]) -> str:
    """Like the kubelet's fieldpath.FormatMap: sorted `key="value"` lines."""
    return "\n".join(f"{key}={json.dumps(values[key])}" for key in sorted(values))


def inherited_environment(agent_env: Mapping[str, str], python_bin_dir: str) -> dict[str, str]:
    """The agent's own environment as a pod process sees it.

    The project's virtualenv comes first on PATH; the agent's credentials and any
    in-cluster service variables are dropped, so a process only ever acts with the
    credentials the node gives its pod.
    """
    env = {
        key: value
        for key, value in agent_env.items()
        if key not in _INHERITED_BLOCKLIST and not key.startswith(_INHERITED_BLOCK_PREFIXES)
    }
    path = [entry for entry in env.get("PATH", "").split(":") if entry and entry != python_bin_dir]
    env["PATH"] = ":".join([python_bin_dir, *path])
    return env


def process_environment(
    inherited: Mapping[str, str],
    pod: Mapping[str, Any],
    declared: Mapping[str, str],
    kubeconfig: str | None,
) -> dict[str, str]:
    """The final environment of a container process: inherited < node-provided < pod-declared."""
    env = dict(inherited)
    env["HOSTNAME"] = (pod.get("spec") or {}).get("hostname") or pod["metadata"]["name"]
    if kubeconfig is not None:
        env["KUBECONFIG"] = kubeconfig
    env.update(declared)
    return env


def container_argv(container: Mapping[str, Any], declared: Mapping[str, str]) -> list[str]:
    """command + args with `$(VAR)` references expanded against the declared variables."""
    words = [*(container.get("command") or []), *(container.get("args") or [])]
    return [expand(word, declared) for word in words]
