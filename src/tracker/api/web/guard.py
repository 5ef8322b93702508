"""Who is looking at a page: the authenticator of the `/api/v1` routes, fed the
bearer token of the Authorization header or of the HttpOnly, SameSite=Strict cookie
the login form sets. A page asked for without a valid token sends the browser to the
login form. The token never appears in a URL."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import Depends, Request
from starlette.responses import Response

from tracker.api import paths
from tracker.api.auth import ANONYMOUS, User

COOKIE = "tracker_token"
COOKIE_MAX_AGE = 12 * 3600  # seconds; the authenticator is asked again on every request anyway


class LoginRequired(Exception):
    """No token, or a refused one: the answer is a redirect to the login form
    (which forgets a refused cookie)."""

    def __init__(self, *, forget_cookie: bool = False) -> None:
        super().__init__("sign in to see this page")
        self.forget_cookie = forget_cookie


def bearer_token(request: Request) -> tuple[str | None, bool]:
    """The request's token, and whether it came from the cookie."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip(), False
    cookie = request.cookies.get(COOKIE)
    return (cookie, True) if cookie else (None, False)


def page_user(request: Request) -> User:
    """The guard of every page: anonymous when authentication is off; otherwise the
    token's user, or LoginRequired. ReviewUnavailable (TokenReview down) propagates."""
    authenticator = request.app.state.authenticator
    if authenticator is None:
        request.state.user = ANONYMOUS
        return ANONYMOUS
    token, from_cookie = bearer_token(request)
    if token is None:
        raise LoginRequired()
    user: User | None = authenticator.authenticate(token)
    if user is None:
        raise LoginRequired(forget_cookie=from_cookie)
    request.state.user = user
    return user


PageUser = Annotated[User, Depends(page_user)]


def signed_in_as(request: Request) -> str | None:
    """The user name to show in the header, when authentication is on."""
    user = getattr(request.state, "user", None)
    return user.name if isinstance(user, User) and request.app.state.authenticator is not None else None


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site (an
    open redirect) nor the login form itself; the runs list otherwise."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return paths.PAGE_RUNS
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path in (paths.PAGE_LOGIN, paths.PAGE_LOGOUT):
        return paths.PAGE_RUNS
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return paths.PAGE_RUNS
    return target


def login_url(request: Request) -> str:
    """The login form, coming back to this page afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{paths.PAGE_LOGIN}?next={quote(safe_next(here), safe='/')}"


def remember_token(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE, token, max_age=COOKIE_MAX_AGE, path="/", secure=secure, httponly=True, samesite="strict"
    )


def forget_token(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")


def same_origin(request: Request) -> bool:
    """A form POST's Origin: none (not a browser, or an old one), or this site's host."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1].rstrip("/") == host


class FormTooLarge(Exception):
    """A form whose body is over its limit: refused before (or while) it is read."""


async def small_form(request: Request, max_bytes: int) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body of at most `max_bytes` (a larger
    declared length is refused unread, a larger body as soon as it is seen, with
    FormTooLarge): each field's first value."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FormTooLarge()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise FormTooLarge()
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=10)
    return {name: values[0] for name, values in fields.items()}
