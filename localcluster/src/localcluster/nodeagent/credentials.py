"""A pod's service-account credentials: a bound token in a kubeconfig file.

Like the kubelet's projected `kube-api-access` volume, the node requests a token for
the pod's service account through the TokenRequest API, bound to the pod (so it dies
with it), and refreshes it at 80% of its lifetime. The process finds it through
KUBECONFIG; whether a pod gets one follows automountServiceAccountToken, as resolved
by the ServiceAccount admission plugin into the pod's projected token volume.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from localcluster.kubeconfig import write_kubeconfig
from localcluster.nodeagent.kube import Kube

TOKEN_SECONDS = 3600
REFRESH_FRACTION = 0.8


def token_projection(pod: Mapping[str, Any]) -> dict[str, Any] | None:
    """The pod's projected serviceAccountToken source (the admission plugin adds one)."""
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        for source in (volume.get("projected") or {}).get("sources") or []:
            if "serviceAccountToken" in source:
                return dict(source["serviceAccountToken"])
    return None


def wants_service_account_token(pod: Mapping[str, Any]) -> bool:
    """False when automounting is off for the pod or, via admission, its service account."""
    explicit = (pod.get("spec") or {}).get("automountServiceAccountToken")
    if explicit is False:
        return False
    return explicit is True or token_projection(pod) is not None


def service_account_name(pod: Mapping[str, Any]) -> str:
    return (pod.get("spec") or {}).get("serviceAccountName") or "default"


def token_request(pod: Mapping[str, Any], seconds: int = TOKEN_SECONDS) -> dict[str, Any]:
    """A TokenRequest bound to `pod`, for the audience its token volume asks for."""
    metadata = pod["metadata"]
    spec: dict[str, Any] = {
        "expirationSeconds": seconds,
        "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": metadata["name"], "uid": metadata["uid"]},
    }
    audience = (token_projection(pod) or {}).get("audience")
    if audience:
        spec["audiences"] = [audience]
    return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}


class PodCredentials:
    """Keeps one pod's kubeconfig holding a fresh bound service-account token."""

    def __init__(self, kube: Kube, pod: Mapping[str, Any], path: Path) -> None:
        self._kube = kube
        self._pod = pod
        self.path = path
        self._refresh_at = 0.0

    def ensure(self) -> None:
        """Request a token if there is none or it is due for refresh (raises on API errors)."""
        if time.monotonic() < self._refresh_at:
            return
        metadata = self._pod["metadata"]
        namespace, account = metadata["namespace"], service_account_name(self._pod)
        response = self._kube.create(
            f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token", token_request(self._pod)
        )
        self._write(response["status"]["token"], namespace, account)
        self._refresh_at = time.monotonic() + REFRESH_FRACTION * TOKEN_SECONDS

    def _write(self, token: str, namespace: str, account: str) -> None:
        staging = self.path.with_name(self.path.name + ".tmp")
        write_kubeconfig(
            staging,
            server=self._kube.server,
            ca_pem=self._kube.ca_pem(),
            user=f"system:serviceaccount:{namespace}:{account}",
            token=token,
            namespace=namespace,
        )
        os.replace(staging, self.path)
