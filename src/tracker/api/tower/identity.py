"""Who a trace call comes from, and whether they may report into a namespace.

Nextflow sends a token with two dots (a JWT, such as a Kubernetes service-account
token) as `Authorization: Bearer <t>` and anything else as Basic auth of
`@token:<t>`; both are checked by the API's authenticator (static tokens or
TokenReview), or by the receiver's own when `tower.auth_mode` names one. Rights are
asked of the API server with a SubjectAccessReview when tokens are checked by
Kubernetes; with static tokens the configured placement is trusted (an administrator
issued the tokens and the namespace mapping).
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any, Protocol

from fastapi import HTTPException, Request

from tracker.api.auth import ReviewUnavailable, User
from tracker.kube.resources import GROUP, RUNS

log = logging.getLogger(__name__)
CHALLENGE = {"WWW-Authenticate": 'Bearer, Basic realm="tower"'}


def bearer_or_basic_token(authorization: str | None) -> str | None:
    """The token of `Bearer <t>` or of Basic `@token:<t>` (any user name), else None."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _, colon, token = decoded.partition(":")
        return token if colon and token else None
    return None


def trace_user(request: Request) -> User:
    """The guard of every trace route. The receiver never runs unauthenticated."""
    authenticator = request.app.state.tower_authenticator
    if authenticator is None:
        raise HTTPException(
            401,
            "this server runs without authentication (TRACKER_API__AUTH_MODE=none), so it accepts no trace "
            "reports: use auth mode token or kubernetes (or TRACKER_TOWER__AUTH_MODE for the receiver alone)",
            headers=CHALLENGE,
        )
    token = bearer_or_basic_token(request.headers.get("authorization"))
    if token is None:
        raise HTTPException(
            401, "missing access token: set TOWER_ACCESS_TOKEN (sent as Bearer or Basic @token:)", headers=CHALLENGE
        )
    try:
        user: User | None = authenticator.authenticate(token)
    except ReviewUnavailable as error:
        raise HTTPException(503, str(error)) from error
    if user is None:
        raise HTTPException(401, "invalid access token (TOWER_ACCESS_TOKEN)", headers=CHALLENGE)
    request.state.user = user
    return user


class RunPermissions(Protocol):
    def may_create_runs(self, user: User, namespace: str) -> bool: ...


class ConfiguredPlacement:
    """Static tokens: the namespace the settings select is the one allowed."""

    def may_create_runs(self, user: User, namespace: str) -> bool:
        return True


class AccessReview:
    """Asks the API server whether the user may create WorkflowRuns in the namespace."""

    def __init__(self, api: Any) -> None:
        self._api = api

    def may_create_runs(self, user: User, namespace: str) -> bool:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        review = client.V1SubjectAccessReview(
            spec=client.V1SubjectAccessReviewSpec(
                user=user.name,
                groups=list(user.groups),
                resource_attributes=client.V1ResourceAttributes(
                    namespace=namespace, verb="create", group=GROUP, resource=RUNS
                ),
            )
        )
        try:
            answer = client.AuthorizationV1Api(self._api).create_subject_access_review(review)
        except (ApiException, HTTPError, OSError) as error:
            log.error("SubjectAccessReview failed: %s", getattr(error, "reason", error))
            raise ReviewUnavailable("cannot check permissions with the Kubernetes API server") from error
        return bool(answer.status and answer.status.allowed)
