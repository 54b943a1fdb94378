"""The outbox admin page: counts per state, dead letters (replay, discard) and destinations (pause, resume)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from seamline.audit.service import record
from seamline.console.auth import Ctx, Form, requires
from seamline.console.pages import HEADERS, render
from seamline.core.db import unit_of_work
from seamline.core.errors import NotFound
from seamline.core.ids import Id
from seamline.destinations.service import list_destinations, set_paused
from seamline.outbox.service import DEAD, counts, discard, entries, replay
from seamline.users.permissions import MANAGE_OUTBOX
from seamline.users.service import SignedIn

router = APIRouter(prefix="/console")
Operator = Annotated[SignedIn, Depends(requires(MANAGE_OUTBOX))]
SAVED = {
    "replayed": "The message is back in line.",
    "discarded": "The message is discarded.",
    "paused": "The destination is paused; its webhooks wait.",
    "resumed": "The destination is resumed; what waited goes now.",
}
SHOWN = 100


def _back(saved: str) -> Response:
    return RedirectResponse(f"/console/outbox?saved={saved}", status_code=303, headers=HEADERS)


@router.get("/outbox", include_in_schema=False)
async def outbox(request: Request, user: Operator, ctx: Ctx, saved: str = "") -> Response:
    with unit_of_work(ctx.engine, write=False) as session:
        found = counts(session)
        dead = entries(session, DEAD, limit=SHOWN)
        destinations = list_destinations(session)
    return render(
        request, "outbox.html", user, counts=found, dead=dead, destinations=destinations, saved=SAVED.get(saved, "")
    )


@router.post("/outbox/{entry_id}/replay", include_in_schema=False)
async def post_replay(entry_id: Id, user: Operator, _form: Form, ctx: Ctx) -> Response:
    with unit_of_work(ctx.engine) as session:
        replay(session, [entry_id])
        record(session, user.user.principal, "change", "outbox", entry_id, {"replayed": True})
    return _back("replayed")


@router.post("/outbox/{entry_id}/discard", include_in_schema=False)
async def post_discard(entry_id: Id, user: Operator, _form: Form, ctx: Ctx) -> Response:
    with unit_of_work(ctx.engine) as session:
        discard(session, [entry_id])
        record(session, user.user.principal, "change", "outbox", entry_id, {"discarded": True})
    return _back("discarded")


@router.post("/destinations/{name}/{action}", include_in_schema=False)
async def post_destination(name: str, action: str, user: Operator, _form: Form, ctx: Ctx) -> Response:
    if action not in ("pause", "resume"):
        raise NotFound(f"no action {action!r} on destinations")
    is_paused = action == "pause"
    with unit_of_work(ctx.engine) as session:
        set_paused(session, name, is_paused=is_paused)
        record(session, user.user.principal, "change", "destination", name, {"status": action})
    return _back("paused" if is_paused else "resumed")
