"""The destinations API: register a webhook receiver, list, pause, resume and replay (scope destinations:admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from seamline.api.deps import Ctx, ProfilesContext, requires_key
from seamline.api.openapi import errors
from seamline.audit.service import record
from seamline.core.db import unit_of_work
from seamline.core.principal import Principal
from seamline.destinations.service import (
    DestinationView,
    create_destination,
    list_destinations,
    replay_since,
    set_paused,
)

router = APIRouter(prefix="/v1/destinations", tags=["destinations"])
Admin = Annotated[Principal, Depends(requires_key("destinations:admin"))]


class DestinationIn(BaseModel):
    name: str = Field(examples=["crm"])
    url: str = Field(examples=["https://crm.example/hooks"])
    purpose: str = Field(description="The consent purpose the receiver uses the data for", examples=["analytics"])
    subscriptions: list[str] = Field(examples=[["profile.trait_changed", "profile.erased", "event.Order Completed"]])


class DestinationOut(BaseModel):
    name: str
    url: str
    purpose: str
    subscriptions: list[str]
    status: str
    created_at: datetime
    secret: str | None = Field(default=None, description="The signing secret: shown once, when created")


class ReplayIn(BaseModel):
    since: datetime


class ReplayOut(BaseModel):
    queued: int


def _out(view: DestinationView, secret: str | None = None) -> DestinationOut:
    return DestinationOut(
        name=view.name,
        url=view.url,
        purpose=view.purpose,
        subscriptions=list(view.subscriptions),
        status=view.status,
        created_at=view.created_at,
        secret=secret,
    )


@router.post(
    "",
    responses=errors(400, 401, 403, 409),
    response_model=DestinationOut,
    status_code=201,
    summary="Register a destination",
)
async def post_destination(body: DestinationIn, principal: Admin, ctx: Ctx) -> DestinationOut:
    with unit_of_work(ctx.engine) as session:
        view, secret = create_destination(
            session,
            body.name,
            body.url,
            purpose=body.purpose,
            subscriptions=body.subscriptions,
            consent=ctx.identity.consent,
        )
        record(session, principal, "change", "destination", view.name, {"created": view.url})
    return _out(view, secret)


@router.get("", responses=errors(401, 403), response_model=list[DestinationOut], summary="Every destination")
async def get_destinations(principal: Admin, ctx: Ctx) -> list[DestinationOut]:
    with unit_of_work(ctx.engine, write=False) as session:
        return [_out(v) for v in list_destinations(session)]


@router.post(
    "/{name}/pause",
    responses=errors(401, 403, 404),
    response_model=DestinationOut,
    summary="Hold deliveries (nothing is dropped)",
)
async def post_pause(name: str, principal: Admin, ctx: Ctx) -> DestinationOut:
    return _set_paused(name, True, principal, ctx)


@router.post(
    "/{name}/resume",
    responses=errors(401, 403, 404),
    response_model=DestinationOut,
    summary="Deliver again, what waited first",
)
async def post_resume(name: str, principal: Admin, ctx: Ctx) -> DestinationOut:
    return _set_paused(name, False, principal, ctx)


def _set_paused(name: str, is_paused: bool, principal: Principal, ctx: ProfilesContext) -> DestinationOut:
    with unit_of_work(ctx.engine) as session:
        view = set_paused(session, name, is_paused=is_paused)
        record(session, principal, "change", "destination", name, {"status": "paused" if is_paused else "active"})
    return _out(view)


@router.post(
    "/{name}/replay",
    responses=errors(400, 401, 403, 404),
    response_model=ReplayOut,
    summary="Send again everything settled since a time",
)
async def post_replay(name: str, body: ReplayIn, principal: Admin, ctx: Ctx) -> ReplayOut:
    with unit_of_work(ctx.engine) as session:
        queued = replay_since(session, name, body.since)
        record(session, principal, "change", "destination", name, {"replayed_since": body.since.isoformat()})
    return ReplayOut(queued=queued)
