"""Who is signed in: the session cookie, the role's permissions, and the CSRF check of every form post.

Cookie: `HttpOnly` (no script reads it), `SameSite=Lax` (other sites' forms do not carry it on a POST), path
`/console`, and `Secure` by `ConsoleConfig.secure_cookies`. Every POST form carries the session's synchronizer
token; the login form, before any session, carries a token that must equal a cookie set with the form.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, Response

from seamline.console.context import ConsoleContext, console_context
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.errors import Forbidden, Unauthorized
from seamline.users.config import ConsoleConfig
from seamline.users.permissions import may
from seamline.users.service import SignedIn, note_activity, session_for

SESSION_COOKIE = "seamline_console"
LOGIN_COOKIE = "seamline_console_login"
COOKIE_PATH = "/console"
CSRF_FIELD = "csrf_token"
MAX_FORM_FIELDS = 200


class LoginRequired(Unauthorized):
    """No live session: the page sends the browser to the login form, and back afterwards."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign in to continue")
        self.next_path = next_path


class CsrfRejected(Forbidden):
    """A form post without this session's token: maybe forged by another site, maybe an old tab."""

    def __init__(self) -> None:
        super().__init__("the form was not accepted: it is out of date or did not come from the console")


def _is_loopback_host(host: str) -> bool:
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_secure_cookie(request: Request, config: ConsoleConfig) -> bool:
    """Whether the session cookie gets `Secure`: always, never, or (auto) unless plain http to a loopback host."""
    if config.secure_cookies != "auto":
        return config.secure_cookies == "always"
    return request.url.scheme == "https" or not _is_loopback_host(request.url.hostname or "")


def set_session_cookie(response: Response, request: Request, token: str, config: ConsoleConfig) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(config.session_absolute_hours * 3600),
        path=COOKIE_PATH,
        secure=is_secure_cookie(request, config),
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, request: Request, config: ConsoleConfig) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path=COOKIE_PATH, secure=is_secure_cookie(request, config), httponly=True, samesite="lax"
    )


def new_login_token() -> str:
    """A token for the login form, before any session exists."""
    return secrets.token_urlsafe(24)


def set_login_cookie(response: Response, request: Request, token: str, config: ConsoleConfig) -> None:
    """The login form's token as a short-lived cookie too: a login forged by another site lacks the cookie."""
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        path=COOKIE_PATH,
        secure=is_secure_cookie(request, config),
        httponly=True,
        samesite="strict",
    )


def is_login_token(request: Request, given: str) -> bool:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    return bool(expected) and secrets.compare_digest(expected.encode(), given.encode())


def safe_next(path: str | None) -> str:
    """Where to go after login: only a console path of this site (never //other.host or a scheme)."""
    if path and path.startswith("/console") and not path.startswith("//") and "\\" not in path:
        return path
    return "/console"


def _here(request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return request.url.path + query


async def optional_user(request: Request, ctx: Annotated[ConsoleContext, Depends(console_context)]) -> SignedIn | None:
    """The signed-in user, or None; restarts the session's idle clock (at most once a minute)."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    with unit_of_work(ctx.engine, write=False) as session:
        signed_in = session_for(session, token, config=ctx.config)
    if signed_in is not None and signed_in.needs_touch(utcnow()):
        with unit_of_work(ctx.engine) as session:
            note_activity(session, signed_in)
    return signed_in


async def current_user(request: Request, found: Annotated[SignedIn | None, Depends(optional_user)]) -> SignedIn:
    """The signed-in user; LoginRequired sends the browser to the login form."""
    if found is None:
        raise LoginRequired(_here(request))
    return found


def requires(permission: str) -> Callable[[SignedIn], Awaitable[SignedIn]]:
    """A dependency: the signed-in user, when their role holds `permission`; Forbidden otherwise."""
    may("agent", permission)  # fails at import for a misspelt permission

    async def check(user: Annotated[SignedIn, Depends(current_user)]) -> SignedIn:
        if not may(user.user.role, permission):
            raise Forbidden(f"the {user.user.role} role does not allow this ({permission})")
        return user

    return check


async def posted_form(request: Request, user: Annotated[SignedIn, Depends(current_user)]) -> dict[str, str]:
    """The posted form's fields, once its CSRF token is this session's; CsrfRejected otherwise."""
    form = await request.form(max_fields=MAX_FORM_FIELDS)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if not user.is_csrf_token(fields.pop(CSRF_FIELD, "")):
        raise CsrfRejected()
    return fields


def login_path(next_path: str) -> str:
    return f"/console/login?next={quote(next_path, safe='/')}"


User = Annotated[SignedIn, Depends(current_user)]
Form = Annotated[dict[str, str], Depends(posted_form)]
Ctx = Annotated[ConsoleContext, Depends(console_context)]
