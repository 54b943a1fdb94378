"""The shell: login, logout and the home page by role."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from seamline.console.auth import (
    COOKIE_PATH,
    CSRF_FIELD,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    CsrfRejected,
    Ctx,
    Form,
    User,
    clear_session_cookie,
    is_login_token,
    new_login_token,
    optional_user,
    safe_next,
    set_login_cookie,
    set_session_cookie,
)
from seamline.console.pages import HEADERS, render
from seamline.core.db import unit_of_work
from seamline.users.service import LOGIN_REFUSED, SignedIn, log_in, log_out

router = APIRouter(prefix="/console")


def client_ip(request: Request) -> str | None:
    host = request.client.host if request.client else None
    try:
        return str(ipaddress.ip_address(host)) if host else None
    except ValueError:
        return None


@router.get("", include_in_schema=False)
async def home(request: Request, user: User) -> Response:
    return render(request, "home.html", user, query="")


def _login_page(
    request: Request,
    ctx: Ctx,
    *,
    next_path: str,
    refused: str = "",
    username: str = "",
    signed_out: bool = False,
    status: int = 200,
) -> Response:
    token = new_login_token()
    page = render(
        request,
        "login.html",
        None,
        status=status,
        refused=refused,
        username=username,
        next=next_path,
        signed_out=signed_out,
        login_token=token,
    )
    set_login_cookie(page, request, token, ctx.config)
    return page


@router.get("/login", include_in_schema=False)
async def login_form(
    request: Request,
    ctx: Ctx,
    found: Annotated[SignedIn | None, Depends(optional_user)],
    next: str = "/console",
    signed_out: bool = False,
) -> Response:
    if found is not None:
        return RedirectResponse(safe_next(next), status_code=303, headers=HEADERS)
    return _login_page(request, ctx, next_path=safe_next(next), signed_out=signed_out)


@router.post("/login", include_in_schema=False)
async def login(request: Request, ctx: Ctx) -> Response:
    form = await request.form(max_fields=10)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if not is_login_token(request, fields.get(CSRF_FIELD, "")):
        raise CsrfRejected()
    username, password = fields.get("username", ""), fields.get("password", "")
    next_path = safe_next(fields.get("next"))
    with unit_of_work(ctx.engine) as session:  # commits a refusal's attempt too: the lock-out counts it
        result = log_in(
            session,
            username,
            password,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent"),
            config=ctx.config,
        )
    if result.is_refused or result.token is None:
        return _login_page(
            request, ctx, next_path=next_path, refused=LOGIN_REFUSED, username=username[:100], status=401
        )
    response = RedirectResponse(next_path, status_code=303, headers=HEADERS)
    set_session_cookie(response, request, result.token, ctx.config)
    response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
    return response


@router.post("/logout", include_in_schema=False)
async def logout(request: Request, ctx: Ctx, _form: Form) -> Response:
    with unit_of_work(ctx.engine) as session:
        log_out(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/console/login?signed_out=1", status_code=303, headers=HEADERS)
    clear_session_cookie(response, request, ctx.config)
    return response
