"""What an agent does in the console, as API calls for other systems: corrections with provenance, identifier
updates, and finding customers by name or product number. Server keys with scopes; the same services."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from seamline.api.deps import Ctx, Reader, Writer
from seamline.api.matching import Matching
from seamline.api.openapi import errors
from seamline.audit.service import record_async
from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, InvalidInput
from seamline.core.ids import Id
from seamline.corrections.service import correct_profile
from seamline.matching.lookup import find_by_name
from seamline.profiles.service import display_names, profiles_holding_product

router = APIRouter(prefix="/v1", tags=["corrections"])


class CorrectionIn(BaseModel):
    traits: dict[str, Any] = Field(description="Trait name → corrected value", examples=[{"last_name": "Smith"}])
    reason: str | None = Field(default=None, max_length=500, description="Why, in words: kept with the change")
    source: str | None = Field(
        default=None, description="The source whose records this correction comes from; default: `console`"
    )


class IdentifiersIn(BaseModel):
    identifiers: dict[str, str] = Field(
        description="Identifier type → value; types the profile's traits carry (email, phone, crm_id…)",
        examples=[{"email": "ada@example.com"}],
    )
    reason: str | None = Field(default=None, max_length=500)
    source: str | None = None


class CorrectionOut(BaseModel):
    profile_id: int
    event_id: int
    source: str
    traits: dict[str, Any]


class MatchOut(BaseModel):
    profile_id: int
    name: str | None
    score: float = Field(description="0-100: the match probability (matcher), or how alike the names are (plain)")
    matched: list[str] = Field(description="matcher: each name field's level; plain: the names the profile holds")
    method: Literal["matcher", "plain", "product"] = Field(
        description="matcher when a model is trained and it found the name, else plain; product for ?product="
    )


@router.get(
    "/profiles/search",
    responses=errors(400, 401, 403),
    response_model=list[MatchOut],
    summary="Find customers by a name (typos tolerated: the matcher when a model is trained) or a product's number",
)
async def search(
    principal: Reader,
    ctx: Ctx,
    name: Annotated[str | None, Query(max_length=200)] = None,
    product: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    *,
    matcher: Matching,
) -> list[MatchOut]:
    if bool(name) == bool(product):
        raise InvalidInput([FieldError("name", "required", "give exactly one of name or product")])
    with unit_of_work(ctx.engine, write=False) as session:
        if name:
            hits = find_by_name(session, matcher, name, limit=limit)
            shown = display_names(session, [h.profile_id for h in hits])
            out = [
                MatchOut(
                    profile_id=h.profile_id,
                    name=shown.get(h.profile_id),
                    score=h.score,
                    matched=list(h.matched),
                    method=h.method,
                )
                for h in hits
            ]
        else:
            ids = profiles_holding_product(session, str(product), limit=limit)
            shown = display_names(session, ids)
            out = [
                MatchOut(profile_id=p, name=shown.get(p), score=100.0, matched=[str(product)], method="product")
                for p in ids
            ]
    await asyncio.gather(
        *(record_async(ctx.audit, principal, "read", "profile", m.profile_id, {"view": "search"}) for m in out)
    )
    return out


@router.post(
    "/profiles/{profile_id}/traits",
    responses=errors(400, 401, 403, 404, 409),
    response_model=CorrectionOut,
    status_code=201,
    summary="Correct traits: recorded as an event of the named source (default console), shown at once",
)
async def post_traits(profile_id: Id, body: CorrectionIn, principal: Writer, ctx: Ctx) -> CorrectionOut:
    with unit_of_work(ctx.engine) as session:
        done = correct_profile(
            session,
            profile_id,
            body.traits,
            actor=principal,
            context=ctx.identity,
            reason=body.reason,
            source=body.source,
        )
    return CorrectionOut(profile_id=done.profile_id, event_id=done.event_id, source=done.source, traits=done.traits)


@router.post(
    "/profiles/{profile_id}/identifiers",
    responses=errors(400, 401, 403, 404, 409),
    response_model=CorrectionOut,
    status_code=201,
    summary="Add or update contact identifiers (email, phone, crm_id…); never merges two customers",
)
async def post_identifiers(profile_id: Id, body: IdentifiersIn, principal: Writer, ctx: Ctx) -> CorrectionOut:
    traits: dict[str, Any] = {}
    errors = []
    for index, (kind, value) in enumerate(body.identifiers.items()):
        rule = ctx.identity.extractor.rules.get(kind)
        path = next((p for p in rule.paths if p.startswith("traits.") and p.count(".") == 1), None) if rule else None
        if path is None:
            errors.append(
                FieldError("identifiers", "not_settable", f"{kind!r} is not an identifier traits carry", index)
            )
        else:
            traits[path.removeprefix("traits.")] = value
    if errors or not traits:
        raise InvalidInput(errors or [FieldError("identifiers", "required", "give at least one identifier")])
    with unit_of_work(ctx.engine) as session:
        done = correct_profile(
            session, profile_id, traits, actor=principal, context=ctx.identity, reason=body.reason, source=body.source
        )
    return CorrectionOut(profile_id=done.profile_id, event_id=done.event_id, source=done.source, traits=done.traits)
