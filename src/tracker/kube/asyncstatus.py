"""Status merge-patches over asyncio (aiohttp), for the operator's hot path.

Thousands of live runs are patched without a thread each: the kubernetes client is
blocking, and a thread pool caps how many patches are in flight at once (a slow API
server then delays every run queued behind). The credentials are the kubernetes
client's own (`client.Configuration`: server, CA, client certificate or bearer token,
refreshed as that client refreshes it). Errors are the kubernetes client's
`ApiException`, with the HTTP status, so callers treat a 404 or 409 as they always did.
"""

from __future__ import annotations

import json
import ssl
from typing import Any

import aiohttp
from kubernetes import client
from kubernetes.client.exceptions import ApiException

MAX_CONNECTIONS = 32
TIMEOUT_SECONDS = 30


class AsyncStatus:
    """Patches the status subresource of custom objects; one connection pool per loop."""

    def __init__(self, configuration: client.Configuration, field_manager: str = "tracker-operator") -> None:
        self._configuration = configuration
        self._field_manager = field_manager  # the writer managedFields name (not aiohttp's user agent)
        self._session: aiohttp.ClientSession | None = None

    def _ssl(self) -> ssl.SSLContext:
        c = self._configuration
        context = ssl.create_default_context(cafile=c.ssl_ca_cert) if c.ssl_ca_cert else ssl.create_default_context()
        if not c.verify_ssl:
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        if c.cert_file:
            context.load_cert_chain(c.cert_file, c.key_file)
        return context

    def _headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": "application/merge-patch+json",
            "Accept": "application/json",
            "User-Agent": self._field_manager,
        }
        token = self._configuration.get_api_key_with_prefix("BearerToken", alias="authorization")  # refreshed when due
        if token:
            headers["Authorization"] = token
        return headers

    async def patch(
        self, *, group: str, version: str, namespace: str, plural: str, name: str, body: dict[str, Any]
    ) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self._ssl(), limit=MAX_CONNECTIONS)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
            )
        url = f"{self._configuration.host}/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}/status"
        params = {"fieldManager": self._field_manager}
        async with self._session.patch(url, data=json.dumps(body), headers=self._headers(), params=params) as response:
            if response.status >= 300:
                raise ApiException(status=response.status, reason=f"{response.reason}: {await response.text()}")
            await response.read()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
