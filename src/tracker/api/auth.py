"""Who is calling: bearer tokens checked against static tokens from settings
(`token`) or by a TokenReview against the Kubernetes API server (`kubernetes`),
whose positive answers are cached briefly. `none` turns authentication off."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from tracker.settings import ApiSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ()


ANONYMOUS = User("anonymous")


class ReviewUnavailable(Exception):
    """The token could not be checked (the API server did not answer)."""


class Authenticator(Protocol):
    def authenticate(self, token: str) -> User | None:
        """The token's user, or None when the token is refused."""


class StaticTokens:
    """Tokens from settings (`TRACKER_API__TOKENS='{"token": "user"}'`)."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self._tokens = [(token.encode(), user) for token, user in tokens.items() if token]

    def authenticate(self, token: str) -> User | None:
        given, found = token.encode("utf-8", "surrogatepass"), None
        for candidate, user in self._tokens:  # compare with every one, in constant time
            if hmac.compare_digest(given, candidate):
                found = user
        return User(found) if found is not None else None


class TokenReviewer:
    """Asks the API server (`authentication.k8s.io/v1` TokenReview) who a token is.
    Accepted tokens are remembered for `ttl` seconds (by hash, never in clear);
    refusals are not, so a newly minted token works at once."""

    def __init__(
        self,
        api: Any,
        *,
        ttl: float = 60.0,
        max_entries: int = 1024,
        audiences: list[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api, self._ttl, self._max, self._audiences, self._clock = api, ttl, max_entries, audiences, clock
        self._cache: OrderedDict[bytes, tuple[float, User]] = OrderedDict()
        self._lock = threading.Lock()

    def authenticate(self, token: str) -> User | None:
        key = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached[0] > now:
                return cached[1]
            self._cache.pop(key, None)
        user = self._review(token)
        if user is not None:
            with self._lock:
                self._cache[key] = (now + self._ttl, user)
                while len(self._cache) > self._max:
                    self._cache.popitem(last=False)
        return user

    def _review(self, token: str) -> User | None:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        body = client.V1TokenReview(spec=client.V1TokenReviewSpec(token=token, audiences=self._audiences))
        try:
            review = client.AuthenticationV1Api(self._api).create_token_review(body)
        except (ApiException, HTTPError, OSError) as error:
            log.error("TokenReview failed: %s", getattr(error, "reason", error))
            raise ReviewUnavailable("cannot check the token with the Kubernetes API server") from error
        status = review.status
        if status is None or not status.authenticated or status.user is None or not status.user.username:
            return None
        return User(status.user.username, tuple(status.user.groups or ()))


def make_authenticator(settings: ApiSettings, kube_api: Any | None = None) -> Authenticator | None:
    """The authenticator for `settings.auth_mode`; None when authentication is off."""
    if settings.auth_mode == "none":
        log.warning("authentication is off (TRACKER_API__AUTH_MODE=none): for a local demo only")
        return None
    if settings.auth_mode == "token":
        if not settings.tokens:
            log.warning("auth_mode=token but no tokens are configured: every request will be refused")
        return StaticTokens(settings.tokens)
    if kube_api is None:
        from tracker.kube.client import load_api_client

        kube_api = load_api_client()
    return TokenReviewer(kube_api)
