"""The preference page over HTTP, and the server-side call that issues its links.

`GET /preferences/{token}` shows the form, `POST` records what changed and redirects back (post/redirect/get),
so the page needs no JavaScript and a reload never posts twice. The link is the person's only credential: errors
become plain pages, never JSON or a trace, and every read and change is audited as the customer themself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from seamline.api.deps import Ctx, Writer
from seamline.api.openapi import errors
from seamline.audit.service import record, record_async
from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.errors import InvalidInput, NotFound, SeamlineError, Unauthorized
from seamline.core.ids import Id
from seamline.core.principal import Principal
from seamline.preferences.links import EXPIRED, form_nonce, is_fresh_nonce, link_expiry, verify_link
from seamline.preferences.page import render_error, render_page
from seamline.preferences.service import (
    DEFAULT_LINK_DAYS,
    MAX_LINK_DAYS,
    SURFACE,
    issue_link,
    load_page,
    save_page,
    signing_secret,
    unsubscribe,
)

MAX_FORM_FIELDS = 20_000  # one radio group per purpose, channel and product: more than Starlette's default 1000
# The token is in the address: no cache may keep the page, no other site may learn the address from a Referer,
# and no other site may frame the page to trick a click (styles are inline; there is no script at all).
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


class LinkOut(BaseModel):
    profile_id: int
    url: str
    expires_at: datetime


def _customer(profile_id: int) -> Principal:
    return Principal(name=f"profile:{profile_id}", kind="customer", scopes=frozenset(), surface=SURFACE)


def _ip(request: Request) -> str | None:
    """The client's address, when the server knows one (a test transport or a Unix socket gives none)."""
    host = request.client.host if request.client else None
    try:
        return str(ipaddress.ip_address(host)) if host else None
    except ValueError:
        return None


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)


def _error_page(exc: SeamlineError) -> HTMLResponse:
    if isinstance(exc, Unauthorized | NotFound):
        expired = exc.message == EXPIRED
        return _html(
            render_error(
                "This link has expired" if expired else "This link does not work",
                "Links to your preferences work for a limited time, and only exactly as we sent them."
                if expired
                else "The link may be incomplete, or it was changed on the way.",
                "Ask us for a new link, or sign in to your account to change your preferences there.",
            ),
            401,
        )
    if isinstance(exc, InvalidInput):
        return _html(
            render_error(
                "Your choices could not be saved",
                "The form that was sent does not match this page.",
                "Open your link again and make your choices once more.",
            ),
            400,
        )
    raise exc


def build_router(settings: Settings) -> APIRouter:
    """The routes, with the signing secret read (or made) on first use rather than when the app is built."""
    router = APIRouter()
    secret: Callable[[], str] = cache(lambda: signing_secret(settings))

    @router.post(
        "/v1/profiles/{profile_id}/preference-link",
        responses=errors(400, 401, 403, 404),
        response_model=LinkOut,
        status_code=201,
        tags=["consent"],
        summary="A signed, expiring link to the person's own preference page",
    )
    async def post_preference_link(
        profile_id: Id,
        principal: Writer,
        ctx: Ctx,
        days: Annotated[int, Query(ge=1, le=MAX_LINK_DAYS)] = DEFAULT_LINK_DAYS,
    ) -> LinkOut:
        with unit_of_work(ctx.engine) as session:
            link = issue_link(session, profile_id, days=days, secret=secret(), now=utcnow())
            detail = {"preference_link_expires_at": link.expires_at.isoformat()}
            record(session, principal, "change", "profile", link.profile_id, detail)
        return LinkOut(profile_id=link.profile_id, url=link.path, expires_at=link.expires_at)

    @router.get("/preferences/{token}", response_class=HTMLResponse, include_in_schema=False)
    async def get_preferences(token: str, ctx: Ctx, saved: bool = False) -> HTMLResponse:
        now = utcnow()
        try:
            profile_id = verify_link(token, secret(), now)
            with unit_of_work(ctx.engine, write=False) as session:
                page = load_page(
                    session, profile_id, config=ctx.identity.consent, survivorship=ctx.survivorship, now=now
                )
        except SeamlineError as exc:
            return _error_page(exc)
        await record_async(
            ctx.audit, _customer(page.profile_id), "read", "profile", page.profile_id, {"view": "preferences"}
        )
        body = render_page(
            page,
            action=f"/preferences/{token}",
            nonce=form_nonce(token, now, secret()),
            saved=saved,
            expires_at=link_expiry(token),
        )
        return _html(body)

    @router.post("/preferences/{token}", include_in_schema=False)
    async def post_preferences(token: str, request: Request, ctx: Ctx) -> Response:
        now = utcnow()
        try:
            profile_id = verify_link(token, secret(), now)
        except SeamlineError as exc:
            return _error_page(exc)
        form = await request.form(max_fields=MAX_FORM_FIELDS)
        submitted = {k: v for k, v in form.items() if isinstance(v, str)}
        # Forged posts: the page is reached by link, not by a cookie, so a browser adds no credential another site
        # could ride on; what a cross-site form can do is post to a link it has learned. The nonce is an HMAC of the
        # token and the time the page was rendered, so a post is only accepted within an hour of a page this
        # server rendered for this very link: a stolen link still needs a fresh render, and a recorded or
        # prepared submission goes stale.
        if not is_fresh_nonce(submitted.pop("nonce", ""), token, secret(), now):
            return _html(
                render_error(
                    "Your choices were not saved",
                    "The page was open for more than an hour, or the form did not come from this page.",
                    "Open your link again and make your choices once more.",
                ),
                403,
            )
        context = {"ip": _ip(request), "user_agent": request.headers.get("user-agent", "")[:500]}
        try:
            with unit_of_work(ctx.engine) as session:
                page = load_page(
                    session, profile_id, config=ctx.identity.consent, survivorship=ctx.survivorship, now=now
                )
                recorded = save_page(session, page, submitted, context=context, config=ctx.identity.consent)
                if recorded:
                    detail = {"consent": [c.id for c in recorded], "view": "preferences"}
                    record(session, _customer(page.profile_id), "change", "profile", page.profile_id, detail)
        except SeamlineError as exc:
            return _error_page(exc)
        return RedirectResponse(f"/preferences/{token}?saved=1", status_code=303, headers=PAGE_HEADERS)

    @router.post("/preferences/{token}/unsubscribe", include_in_schema=False)
    async def post_unsubscribe(token: str, request: Request, ctx: Ctx) -> Response:
        """RFC 8058 one-click unsubscribe: a mail client POSTs `List-Unsubscribe=One-Click` to the address in a
        marketing email's List-Unsubscribe header; marketing by email is then denied, customer-wide."""
        try:
            profile_id = verify_link(token, secret(), utcnow())
            form = await request.form()
            if form.get("List-Unsubscribe") != "One-Click":
                raise InvalidInput([], "a one-click unsubscribe posts List-Unsubscribe=One-Click")
            with unit_of_work(ctx.engine) as session:
                choice = unsubscribe(session, profile_id, config=ctx.identity.consent)
                record(session, _customer(choice.origin_profile_id), "change", "profile", choice.origin_profile_id,
                       {"consent": [choice.id], "view": "one-click unsubscribe"})  # fmt: skip
        except SeamlineError as exc:
            return _error_page(exc)
        return _html(render_error("You are unsubscribed", "We will send you no more marketing email.", ""))

    return router
