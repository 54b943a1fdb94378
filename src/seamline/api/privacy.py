"""The privacy API: open data-subject requests (access, erasure), list and read them, and complete them. Scope
identity:admin; every read and change is audited in the transaction that makes it.

An erasure's answer leaves only once no copy of the person is left behind it: after the commit the SQLite WAL is
checkpointed and truncated (the page images written before the erasure would otherwise linger there) and this
process's caches are emptied; other processes follow the change feed (see privacy/forgetting.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from seamline.api.deps import Ctx, requires_key
from seamline.api.openapi import errors
from seamline.audit.service import record
from seamline.core.db import erase_wal, unit_of_work
from seamline.core.forgetting import forget_personal_data
from seamline.core.ids import Id
from seamline.core.principal import Principal
from seamline.privacy.service import STATUSES, complete_access, erase_profile, get_request, list_requests, open_request

router = APIRouter(prefix="/v1/privacy", tags=["privacy"])

SCOPE = "identity:admin"


Admin = Annotated[Principal, Depends(requires_key(SCOPE))]


class RequestIn(BaseModel):
    kind: Literal["access", "erasure"]
    profile_id: Id = Field(examples=[42])


class RequestOut(BaseModel):
    id: int
    kind: str
    profile_id: int
    status: str
    requested_by: str
    created_at: str | None
    due_at: str | None
    completed_at: str | None
    result: dict[str, Any]


@router.post(
    "/requests",
    responses=errors(400, 401, 403, 404),
    status_code=201,
    response_model=RequestOut,
    summary="Open a data-subject request",
)
async def post_request(body: RequestIn, principal: Admin, ctx: Ctx) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        view = open_request(session, body.kind, body.profile_id, requested_by=principal.name)
        record(
            session, principal, "change", "profile", view.profile_id, {"privacy_request": view.id, "kind": view.kind}
        )
    return view.as_dict()


class RequestListOut(BaseModel):
    requests: list[RequestOut]


@router.get(
    "/requests",
    responses=errors(400, 401, 403),
    response_model=RequestListOut,
    summary="Data-subject requests, newest first",
)
async def get_list(
    principal: Admin,
    ctx: Ctx,
    status: Annotated[str | None, Query(description=f"Only requests of this status: {', '.join(STATUSES)}.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most requests to return.")] = 100,
) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        found = list_requests(session, status=status, limit=limit)
        record(session, principal, "read", "privacy_request", "list", {"status": status, "count": len(found)})
    return {"requests": [view.as_dict() for view in found]}


@router.get(
    "/requests/{request_id}",
    responses=errors(400, 401, 403, 404),
    response_model=RequestOut,
    summary="A data-subject request and its status",
)
async def get_one(request_id: Id, principal: Admin, ctx: Ctx) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        view = get_request(session, request_id)
        record(session, principal, "read", "privacy_request", view.id, {"profile_id": view.profile_id})
    return view.as_dict()


@router.post(
    "/requests/{request_id}/complete",
    responses=errors(400, 401, 403, 404, 409),
    summary="Complete a request: an access request answers with the export, an erasure erases the person",
)
async def post_complete(request_id: Id, principal: Admin, ctx: Ctx) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        view = get_request(session, request_id)
        if view.kind == "access":
            export = complete_access(session, request_id, survivorship=ctx.survivorship)
            record(
                session, principal, "read", "profile", view.profile_id, {"view": "access_export", "request": view.id}
            )
            return {"request": get_request(session, request_id).as_dict(), "export": export}
        done = erase_profile(session, request_id)
        record(session, principal, "change", "profile", view.profile_id, {"erased": True, "request": view.id})
    forget_personal_data()
    erase_wal(ctx.engine)
    return {"request": done.as_dict()}
