"""A thin JSON client over the official `kubernetes` ApiClient: dicts in, dicts out.

The node agent works on API objects in their wire form (camelCase dicts), so its pure
builders and the API calls speak the same language. Errors are the client's own
`ApiException` (with `.status`); watches stream decoded events line by line.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
REQUEST_TIMEOUT = 30.0


def status_of(error: BaseException) -> int | None:
    """The HTTP status of an API error, None for anything else."""
    return error.status if isinstance(error, ApiException) else None


def describe_error(error: BaseException) -> str:
    """One line for logs and pod messages: the API's own message, or the exception."""
    status = status_of(error)
    if status is None:
        return f"{type(error).__name__}: {error}"
    body = getattr(error, "body", None) or ""
    try:
        message = json.loads(body).get("message") or body
    except (ValueError, AttributeError):
        message = body or getattr(error, "reason", "")
    return f"{message} (HTTP {status})"


class Kube:
    """JSON requests against one apiserver with one identity."""

    def __init__(self, api_client: client.ApiClient) -> None:
        self.api_client = api_client
        self._watch_responses: set[Any] = set()
        self._lock = threading.Lock()

    @classmethod
    def from_kubeconfig(cls, path: Path) -> Kube:
        configuration = client.Configuration()
        config.load_kube_config(config_file=str(path), client_configuration=configuration)
        configuration.connection_pool_maxsize = 32
        return cls(client.ApiClient(configuration))

    @property
    def server(self) -> str:
        return str(self.api_client.configuration.host)

    def ca_pem(self) -> bytes:
        """The CA bundle this client trusts for the apiserver."""
        ca_file = self.api_client.configuration.ssl_ca_cert
        return Path(ca_file).read_bytes() if ca_file else b""

    def get(self, path: str, **query: str) -> dict[str, Any]:
        return self.request("GET", path, query=query)

    def create(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("POST", path, body=body)

    def patch(self, path: str, body: Mapping[str, Any], content_type: str = MERGE_PATCH) -> dict[str, Any]:
        return self.request("PATCH", path, body=body, content_type=content_type)

    def delete(self, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self.request("DELETE", path, body=body)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        content_type: str = "application/json",
        timeout: float = REQUEST_TIMEOUT,
    ) -> dict[str, Any]:
        response = self._send(method, path, query, body, content_type, timeout)
        data = response.read()
        if not 200 <= response.status <= 299:
            raise ApiException(http_resp=response)
        return json.loads(data) if data else {}

    def watch(self, path: str, query: Mapping[str, str], timeout: float) -> Iterator[dict[str, Any]]:
        """Decoded watch events until the server ends the watch or `stop_watches()`."""
        params = {**query, "watch": "true", "timeoutSeconds": str(int(timeout))}
        response = self._send("GET", path, params, None, "application/json", (10.0, timeout + 30))
        if not 200 <= response.status <= 299:
            response.read()
            raise ApiException(http_resp=response)
        raw = response.response
        with self._lock:
            self._watch_responses.add(raw)
        try:
            yield from _json_lines(raw)
        finally:
            with self._lock:
                self._watch_responses.discard(raw)
            raw.release_conn()

    def stop_watches(self) -> None:
        """Unblock every watch in progress (they end as if the server closed them)."""
        with self._lock:
            responses = list(self._watch_responses)
        for raw in responses:
            with contextlib.suppress(Exception):
                raw.shutdown()

    def _send(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
        content_type: str,
        timeout: float | tuple[float, float],
    ) -> Any:
        headers = {"Accept": "application/json", "Content-Type": content_type}
        _, url, headers, serialized, _ = self.api_client.param_serialize(
            method=method,
            resource_path=path,
            query_params=list((query or {}).items()),
            header_params=headers,
            body=dict(body) if body is not None else None,
            auth_settings=["BearerToken"],
        )
        return self.api_client.call_api(method, url, header_params=headers, body=serialized, _request_timeout=timeout)


def _json_lines(raw: Any) -> Iterator[dict[str, Any]]:
    buffer = b""
    for chunk in raw.stream(amt=None, decode_content=False):
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                yield json.loads(line)


def pod_path(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/pods/{name}"
