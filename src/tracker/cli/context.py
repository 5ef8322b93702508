"""The CLI's global options and the clients built from them (lazily, once)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click
from kubernetes import config as kube_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3.exceptions import HTTPError

from tracker.cli.errors import EXIT_USAGE, CliError
from tracker.kube.client import load_api_client

if TYPE_CHECKING:
    from tracker.api.client import ApiClient, ApiError


@dataclass
class CliContext:
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    api_url: str | None = None
    token: str | None = None
    _api: Any = field(default=None, repr=False)
    _api_client: Any = field(default=None, repr=False)

    @property
    def api(self) -> Any:
        if self._api is None:
            try:
                self._api = load_api_client(self.kubeconfig, self.context)
            except (ConfigException, OSError) as error:
                raise CliError(f"cannot load Kubernetes credentials: {error}") from error
        return self._api

    @property
    def api_client(self) -> ApiClient:
        """The read API's client (`--api-url`/`TRACKER_API_URL`, `--token`/`TRACKER_TOKEN`)."""
        if self._api_client is None:
            if not self.api_url:
                raise CliError("no read API configured: pass --api-url or set TRACKER_API_URL")
            if not self.api_url.startswith(("http://", "https://")):
                raise CliError(f"--api-url must be an http:// or https:// URL, not {self.api_url!r}", EXIT_USAGE)
            from tracker.api.client import ApiClient  # httpx and pydantic: only when used

            self._api_client = ApiClient(self.api_url, token=self.token)
        return self._api_client  # type: ignore[no-any-return]

    @property
    def effective_namespace(self) -> str:
        """-n, else the kubeconfig context's namespace, else `default` (as kubectl does)."""
        if self.namespace:
            return self.namespace
        try:
            _, active = kube_config.list_kube_config_contexts(config_file=self.kubeconfig)
            if self.context:
                contexts, _ = kube_config.list_kube_config_contexts(config_file=self.kubeconfig)
                active = next((c for c in contexts if c["name"] == self.context), active)
            return (active.get("context") or {}).get("namespace") or "default"
        except (ConfigException, OSError, TypeError):
            return "default"


pass_context = click.make_pass_decorator(CliContext)


def api_error(error: ApiException | HTTPError, doing: str) -> CliError:
    """A one-line message for a failed Kubernetes API call."""
    if isinstance(error, ApiException):
        if error.status == 401:
            return CliError(f"{doing}: not authenticated (check --kubeconfig / --context)")
        if error.status == 403:
            return CliError(f"{doing}: forbidden: {_reason(error)}")
        if error.status == 404:
            return CliError(f"{doing}: not found")
        return CliError(f"{doing}: the Kubernetes API answered {error.status}: {_reason(error)}")
    return CliError(f"{doing}: cannot reach the Kubernetes API: {error}")


def _reason(error: ApiException) -> str:
    import json

    try:
        return str(json.loads(error.body or "{}").get("message") or error.reason)
    except ValueError:
        return str(error.reason)


def read_api_error(error: ApiError, doing: str) -> CliError:
    """A one-line message for a failed read-API call."""
    if error.status == 0:
        return CliError(str(error))
    if error.status == 404:
        return CliError(f"{doing}: {error}")
    return CliError(f"{doing}: the read API answered {error.status}: {error}")
