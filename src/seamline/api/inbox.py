"""The in-app inbox API, for the company's app or website backend (server keys with `inbox:read` / `inbox:write`):
list a signed-in customer's inbox by any identifier, mark a message read, archive it. Every read and change is
audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from seamline.api.deps import Ctx, ProfilesContext, requires_key
from seamline.api.openapi import errors
from seamline.audit.service import record, record_async
from seamline.communications.inbox import InboxMessage, archive, inbox_of, mark_read
from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, InvalidInput
from seamline.core.principal import Principal
from seamline.identity.service import parse_identifier, profile_holding

router = APIRouter(prefix="/v1/inbox", tags=["inbox"])
InboxReader = Annotated[Principal, Depends(requires_key("inbox:read"))]
InboxWriter = Annotated[Principal, Depends(requires_key("inbox:write"))]
IDENTIFIER_DOC = "The signed-in customer: type:value, e.g. user_id:u-123"


class InboxMessageOut(BaseModel):
    communication_id: str
    type: str
    template: str | None
    title: str
    text: str = Field(description="Plain text")
    body: str = Field(description="HTML-safe: the template's in_app body (autoescaped), or the text escaped")
    created_at: datetime
    read_at: datetime | None
    archived_at: datetime | None


class InboxOut(BaseModel):
    profile_id: int
    unread: int = Field(description="Unread messages not archived")
    messages: list[InboxMessageOut]


class CustomerIn(BaseModel):
    identifier: str = Field(description=IDENTIFIER_DOC, examples=["user_id:u-123"])


def _person(session: Session, ctx: ProfilesContext, identifier: str) -> int:
    try:
        ident = parse_identifier(identifier, ctx.identity)
    except ValueError as exc:
        raise InvalidInput([FieldError("identifier", "invalid", str(exc))]) from None
    return profile_holding(session, ident)


def _out(item: InboxMessage) -> InboxMessageOut:
    return InboxMessageOut.model_validate(item, from_attributes=True)


@router.get(
    "",
    responses=errors(400, 401, 403, 404),
    response_model=InboxOut,
    summary="A customer's in-app inbox, newest first",
)
async def get_inbox(
    principal: InboxReader,
    ctx: Ctx,
    identifier: Annotated[str, Query(description=IDENTIFIER_DOC, examples=["user_id:u-123"])],
    include_archived: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> InboxOut:
    with unit_of_work(ctx.engine, write=False) as session:
        inbox = inbox_of(session, _person(session, ctx, identifier), include_archived=include_archived, limit=limit)
    await record_async(ctx.audit, principal, "read", "profile", inbox.profile_id, {"view": "inbox"})
    return InboxOut(profile_id=inbox.profile_id, unread=inbox.unread, messages=[_out(m) for m in inbox.messages])


@router.post(
    "/{communication_id}/read",
    responses=errors(400, 401, 403, 404),
    response_model=InboxMessageOut,
    summary="Mark a message of the customer's inbox read (a `read` outcome in the communications log)",
)
async def post_read(communication_id: str, body: CustomerIn, principal: InboxWriter, ctx: Ctx) -> InboxMessageOut:
    with unit_of_work(ctx.engine) as session:
        profile_id = _person(session, ctx, body.identifier)
        item = mark_read(session, profile_id, communication_id)
        detail = {"inbox": "read", "communication": communication_id}
        record(session, principal, "change", "profile", profile_id, detail)
    return _out(item)


@router.post(
    "/{communication_id}/archive",
    responses=errors(400, 401, 403, 404),
    response_model=InboxMessageOut,
    summary="Archive a message of the customer's inbox (listed again with include_archived)",
)
async def post_archive(communication_id: str, body: CustomerIn, principal: InboxWriter, ctx: Ctx) -> InboxMessageOut:
    with unit_of_work(ctx.engine) as session:
        profile_id = _person(session, ctx, body.identifier)
        item = archive(session, profile_id, communication_id)
        detail = {"inbox": "archive", "communication": communication_id}
        record(session, principal, "change", "profile", profile_id, detail)
    return _out(item)
