"""Tracked links and the open pixel over HTTP: `GET /t/c/{token}` logs the click and redirects to the address the
email held; `GET /t/o/{token}.gif` logs the open and answers a transparent pixel.

The signature in the token is the credential (a customer's mail client carries no key). An altered or forged token
answers 404 and logs nothing, so the redirect can never send anyone to an address we did not write. A valid token of
a communication no longer in the log (erased) still redirects: the customer asked for the page, not for us.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import cache

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from seamline.api.deps import Ctx
from seamline.communications.links import CLICK_PATH, OPEN_PATH, read_click, read_open
from seamline.communications.service import CLICKED, OPENED, Happened, record_outcomes
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.preferences.service import signing_secret

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")  # a 1 by 1 transparent GIF
NO_STORE = {"Cache-Control": "no-store, private", "Referrer-Policy": "no-referrer"}


def _log(ctx: Ctx, happened: Happened) -> None:
    with unit_of_work(ctx.engine) as session:
        record_outcomes(session, [happened])


def build_router(settings: Settings) -> APIRouter:
    """The routes, with the signing secret read (or made) on first use rather than when the app is built."""
    router = APIRouter()
    secret: Callable[[], str] = cache(lambda: signing_secret(settings))

    @router.get(CLICK_PATH + "{token}", include_in_schema=False)
    async def click(token: str, request: Request, ctx: Ctx) -> Response:
        communication_id, url = read_click(token, secret())
        agent = request.headers.get("user-agent", "")[:200]
        _log(ctx, Happened(communication_id, CLICKED, f"{url} ({agent})" if agent else url, origin="link"))
        return RedirectResponse(url, status_code=302, headers=NO_STORE)

    @router.get(OPEN_PATH + "{token}", include_in_schema=False)
    async def opened(token: str, ctx: Ctx) -> Response:
        _log(ctx, Happened(read_open(token, secret()), OPENED, origin="pixel"))
        return Response(PIXEL, media_type="image/gif", headers=NO_STORE)

    return router
