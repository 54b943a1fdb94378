"""The matching API: real-time match of one record against every profile, and the review queue of uncertain pairs.
Server keys with scopes matching:read / matching:write; every read and change of personal data is audited."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from seamline.api.deps import Ctx, requires_key
from seamline.api.openapi import errors
from seamline.audit.service import record, record_async
from seamline.core.db import unit_of_work
from seamline.core.ids import Id
from seamline.core.principal import Principal
from seamline.matching import findings as id_findings
from seamline.matching.readback import Audit, export_stream, import_sources, known_system
from seamline.matching.realtime import Matcher, match_record
from seamline.matching.service import decide_review, get_review, list_reviews

router = APIRouter(prefix="/v1", tags=["matching"])


# What the app keeps per process (app.state.matching): shared with the console's pages.
MatchingApi = Matcher


async def _matching(request: Request) -> MatchingApi:
    api: MatchingApi = request.app.state.matching
    return api


Reader = Annotated[Principal, Depends(requires_key("matching:read"))]
Writer = Annotated[Principal, Depends(requires_key("matching:write"))]
Matching = Annotated[MatchingApi, Depends(_matching)]


class MatchIn(BaseModel):
    record: dict[str, Any] = Field(
        description="first_name, last_name, date_of_birth (YYYY-MM-DD), street, city, postcode, phone, email, "
        "national_id: any of them, as text",
        examples=[{"first_name": "Jon", "last_name": "Smiht", "date_of_birth": "1980-04-02", "postcode": "94107"}],
    )
    limit: int | None = Field(default=None, description="How many candidates at most (1-100; default from config).")


class DecisionIn(BaseModel):
    decision: Literal["accept", "reject"]
    note: str | None = Field(default=None, max_length=1000)


@router.post(
    "/match",
    responses=errors(400, 401, 403, 409),
    summary="Candidate profiles for a record, best first, with per-field reasons",
)
async def post_match(body: MatchIn, principal: Reader, ctx: Ctx, matching: Matching) -> dict[str, Any]:
    with unit_of_work(ctx.engine, write=False) as session:
        found = match_record(session, matching.ctx, matching.index, body.record, limit=body.limit)
    model = matching.index.model
    await record_async(ctx.audit, principal, "read", "match", "realtime", {"candidates": [c.profile_id for c in found]})
    return {"model_version": model.version if model else None, "candidates": [c.as_dict() for c in found]}


@router.get(
    "/matching/reviews",
    responses=errors(400, 401, 403),
    summary="The review queue (or pairs in another status), oldest or likeliest first",
)
async def get_reviews(
    principal: Reader,
    ctx: Ctx,
    status: Annotated[str, Query(description="pending, accepted, rejected or merged")] = "pending",
    limit: Annotated[int, Query()] = 50,
    after: Annotated[Id, Query(description="Id of the last pair of the previous page")] = 0,
    order: Annotated[str, Query(description="oldest (first found first) or likeliest (highest probability)")] = (
        "oldest"
    ),
) -> dict[str, Any]:
    with unit_of_work(ctx.engine, write=False) as session:
        views = list_reviews(session, status=status, limit=limit, after_id=after, order=order)
    await record_async(ctx.audit, principal, "read", "match_pair", "list", {"ids": [v.id for v in views]})
    return {"reviews": [v.as_dict() for v in views], "next": views[-1].id if len(views) == limit else None}


@router.get(
    "/matching/reviews/{review_id}",
    responses=errors(400, 401, 403, 404),
    summary="One pair with its field-by-field comparison",
)
async def get_one(review_id: Id, principal: Reader, ctx: Ctx) -> dict[str, Any]:
    with unit_of_work(ctx.engine, write=False) as session:
        view = get_review(session, review_id)
    await record_async(ctx.audit, principal, "read", "match_pair", view.id, {})
    return view.as_dict()


@router.post(
    "/matching/reviews/{review_id}/decision",
    responses=errors(400, 401, 403, 404, 409),
    summary="Accept (merge) or reject (keep apart) a pair",
)
async def post_decision(
    review_id: Id, body: DecisionIn, principal: Writer, ctx: Ctx, matching: Matching
) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        view = decide_review(session, matching.ctx, review_id, body.decision, principal.name, body.note)
        for profile_id in (view.left_profile_id, view.right_profile_id):
            record(session, principal, "change", "profile", profile_id, {"match": view.id, "decision": body.decision})
    return view.as_dict()


_MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


@router.get(
    "/matching/export",
    responses=errors(400, 401, 403, 404),
    summary="Which active profile each imported source record ended in, with the evidence of every join (streamed)",
    response_class=StreamingResponse,
)
def get_export(
    principal: Reader,
    ctx: Ctx,
    matching: Matching,
    format: Annotated[Literal["csv", "jsonl"], Query(description="csv (evidence as a JSON column) or jsonl")] = "csv",
    system: Annotated[str | None, Query(description="Only the records of this import source")] = None,
) -> StreamingResponse:
    with unit_of_work(ctx.engine, write=False) as session:
        sources = import_sources(session, system)  # an unknown system is 404 before the stream starts
    stream = export_stream(ctx.engine, matching.ctx, sources, format, _audited(principal, "readback"))
    return StreamingResponse((text.encode() for text in stream), media_type=_MEDIA[format])


@router.get(
    "/matching/findings",
    responses=errors(400, 401, 403, 404),
    summary="Data-quality findings: matched records holding national ids that differ, with where each id is held",
    response_class=StreamingResponse,
)
def get_findings(
    principal: Reader,
    ctx: Ctx,
    format: Annotated[Literal["csv", "jsonl"], Query(description="csv (one line per id) or jsonl")] = "jsonl",
    system: Annotated[str | None, Query(description="Only findings with an id held by this import source")] = None,
) -> StreamingResponse:
    with unit_of_work(ctx.engine, write=False) as session:
        sources = import_sources(session)
    known_system(sources, system)  # an unknown system is 404 before the stream starts
    stream = id_findings.findings_stream(ctx.engine, sources, system, format, _audited(principal, "id-findings"))
    return StreamingResponse((text.encode() for text in stream), media_type=_MEDIA[format])


def _audited(principal: Principal, subject: str) -> Audit:
    """Each page's read recorded as the key's read of the profiles it names."""
    return lambda session, detail: record(session, principal, "read", "profile", subject, detail)
