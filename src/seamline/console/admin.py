"""The admin page: list, create, disable and enable console users, reset passwords, lift lock-outs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from seamline.console.auth import Ctx, Form, requires
from seamline.console.pages import HEADERS, render
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.users import service
from seamline.users.permissions import MANAGE_USERS, ROLES
from seamline.users.service import SignedIn

router = APIRouter(prefix="/console")
Admin = Annotated[SignedIn, Depends(requires(MANAGE_USERS))]
SAVED = {
    "created": "The user is created.",
    "disabled": "The user is disabled and signed out everywhere.",
    "enabled": "The user is enabled.",
    "password": "The password is set; the user's sessions have ended.",
    "unlocked": "The lock is lifted.",
}


def _back(saved: str) -> Response:
    return RedirectResponse(f"/console/users?saved={saved}", status_code=303, headers=HEADERS)


@router.get("/users", include_in_schema=False)
async def users(request: Request, admin: Admin, ctx: Ctx, saved: str = "") -> Response:
    now = utcnow()
    with unit_of_work(ctx.engine, write=False) as session:
        listed = [(u, service.lock_ends_at(session, u.username, now, ctx.config)) for u in service.list_users(session)]
    return render(request, "users.html", admin, users=listed, roles=ROLES, saved=SAVED.get(saved, ""))


@router.post("/users", include_in_schema=False)
async def create(admin: Admin, form: Form, ctx: Ctx) -> Response:
    with unit_of_work(ctx.engine) as session:
        service.create_user(
            session,
            form.get("username", "").strip(),
            form.get("role", ""),
            form.get("password", ""),
            display_name=form.get("display_name", "").strip() or None,
            actor=admin.user.principal,
            config=ctx.config,
        )
    return _back("created")


@router.post("/users/{username}/disable", include_in_schema=False)
async def disable(username: str, admin: Admin, _form: Form, ctx: Ctx) -> Response:
    with unit_of_work(ctx.engine) as session:
        service.disable_user(session, username, actor=admin.user.principal)
    return _back("disabled")


@router.post("/users/{username}/enable", include_in_schema=False)
async def enable(username: str, admin: Admin, _form: Form, ctx: Ctx) -> Response:
    with unit_of_work(ctx.engine) as session:
        service.enable_user(session, username, actor=admin.user.principal)
    return _back("enabled")


@router.post("/users/{username}/password", include_in_schema=False)
async def password(username: str, admin: Admin, form: Form, ctx: Ctx) -> Response:
    with unit_of_work(ctx.engine) as session:
        service.set_password(session, username, form.get("password", ""), actor=admin.user.principal, config=ctx.config)
    return _back("password")


@router.post("/users/{username}/unlock", include_in_schema=False)
async def unlock(username: str, admin: Admin, _form: Form, ctx: Ctx) -> Response:
    with unit_of_work(ctx.engine) as session:
        service.get_user(session, username)
        service.unlock(session, username, actor=admin.user.principal)
    return _back("unlocked")
