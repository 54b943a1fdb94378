"""The communications API: queue a templated message for a person (with an idempotency key), read a person's
communications and one communication with its outcome history. Every read and change is audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field

from seamline.api.deps import Ctx, Reader, Writer
from seamline.api.openapi import errors
from seamline.audit.service import record, record_async
from seamline.communications.service import CommunicationView, communications_of, queue_message, view
from seamline.communications.templates import Catalog
from seamline.core.db import unit_of_work
from seamline.core.ids import Id
from seamline.identity.service import active_header

router = APIRouter(prefix="/v1", tags=["communications"])


async def _catalog(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.templates
    return catalog


Templates = Annotated[Catalog, Depends(_catalog)]


class MessageIn(BaseModel):
    template: str = Field(examples=["statement_ready"])
    data: dict[str, Any] = Field(default_factory=dict, description="The values of the fields the template declares")
    product: str | None = Field(default=None, description="The holding it is about (delivery preference per product)")
    batch: str | None = None
    campaign: str | None = None
    source_system: str | None = Field(default=None, description="The system whose data fed it", examples=["cards"])
    channel: str | None = Field(
        default=None, description="One the template declares (email, sms, push, paper, in_app); default email"
    )


class OutcomeOut(BaseModel):
    outcome: str
    detail: str | None
    origin: str
    occurred_at: datetime


class CommunicationOut(BaseModel):
    communication_id: str
    profile_id: int | None
    type: str
    template: str | None
    template_version: str | None
    batch: str | None
    campaign: str | None
    source_system: str | None
    platform: str
    channel: str
    purpose: str | None
    topic: str | None
    priority: str | None
    product: str | None
    address: str | None
    subject: str | None
    fields: dict[str, Any]
    status: str
    created_at: datetime
    sent_at: datetime | None
    outcomes: list[OutcomeOut]


def _out(item: CommunicationView) -> CommunicationOut:
    # The wire shape is the view's fields under the same names (the view's row id stays inside).
    return CommunicationOut.model_validate(item, from_attributes=True)


@router.post(
    "/profiles/{profile_id}/communications",
    responses=errors(400, 401, 403, 404, 409, 410),
    response_model=CommunicationOut,
    status_code=202,
    summary="Queue a templated message; it leaves through the outbox, consent asked again when it is sent",
)
async def post_communication(
    profile_id: Id,
    body: MessageIn,
    principal: Writer,
    ctx: Ctx,
    templates: Templates,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> CommunicationOut:
    with unit_of_work(ctx.engine) as session:
        item, created = queue_message(
            session,
            profile_id,
            body.template,
            body.data,
            catalog=templates,
            consent=ctx.identity.consent,
            source_system=body.source_system,
            batch=body.batch,
            campaign=body.campaign,
            product=body.product,
            channel=body.channel,
            idempotency_key=f"api:{idempotency_key}" if idempotency_key else None,
        )
        if created:
            detail = {"communication": item.communication_id, "template": body.template}
            record(session, principal, "change", "profile", item.profile_id or profile_id, detail)
    return _out(item)


@router.get(
    "/profiles/{profile_id}/communications",
    responses=errors(400, 401, 403, 404, 410),
    response_model=list[CommunicationOut],
    summary="A person's communications, ours and other systems', newest first",
)
async def get_communications(
    profile_id: Id,
    principal: Reader,
    ctx: Ctx,
    limit: Annotated[int, Query(ge=1, le=500, description="Most communications to return.")] = 50,
) -> list[CommunicationOut]:
    with unit_of_work(ctx.engine, write=False) as session:
        profile = active_header(session, profile_id)
        found = [_out(c) for c in communications_of(session, profile.id, limit=limit)]
    await record_async(ctx.audit, principal, "read", "profile", profile.id, {"view": "communications"})
    return found


@router.get(
    "/communications/{communication_id}",
    responses=errors(401, 403, 404),
    response_model=CommunicationOut,
    summary="One communication and its outcome history",
)
async def get_communication(communication_id: str, principal: Reader, ctx: Ctx) -> CommunicationOut:
    with unit_of_work(ctx.engine, write=False) as session:
        item = view(session, communication_id)
    if item.profile_id is not None:
        await record_async(ctx.audit, principal, "read", "profile", item.profile_id, {"view": "communication"})
    return _out(item)
