"""The consent API: record a choice, read the ledger and effective preferences, and ask the one policy whether
a contact is allowed (with its reasons). Every read and change is audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from seamline.api.answers import json_response
from seamline.api.deps import Ctx, Reader, Writer, checked_read, read_access
from seamline.api.openapi import errors
from seamline.audit.service import record, record_async
from seamline.communications.reachability import reachability
from seamline.consent.policy import Choice, ContactDecision
from seamline.consent.service import (
    delivery_preference_for,
    history,
    may_contact_profile,
    record_choice,
)
from seamline.core.db import unit_of_work
from seamline.core.ids import Id
from seamline.identity.service import active_header

router = APIRouter(prefix="/v1", tags=["consent"])


class ChoiceIn(BaseModel):
    kind: Literal["consent", "delivery"] = "consent"
    purpose: str | None = Field(default=None, examples=["marketing"])
    channel: str | None = Field(default=None, description="None: every channel", examples=["email"])
    topic: str | None = Field(default=None, description="None: every topic")
    product: str | None = Field(default=None, description="A holding's external id; None: customer-wide")
    value: str = Field(description="granted|denied, or for delivery paper|electronic", examples=["denied"])
    document_type: str | None = Field(default=None, examples=["statements"])
    evidence: dict[str, Any] = Field(default_factory=dict, description="text shown, document version, recording…")
    legal_basis: str | None = None
    effective_at: datetime | None = None
    expires_at: datetime | None = None


class ChoiceOut(BaseModel):
    id: int
    origin_profile_id: int
    kind: str
    purpose: str | None
    channel: str | None
    topic: str | None
    product: str | None
    value: str
    document_type: str | None
    recorded_at: datetime
    effective_at: datetime
    expires_at: datetime | None
    actor: str
    surface: str
    source_id: int | None
    event_id: int | None
    evidence: dict[str, Any]
    legal_basis: str | None


class DecisionOut(BaseModel):
    profile_id: int
    allowed: bool | None = None
    value: str | None = None
    conflict: bool
    reasons: list[str]
    deciding: list[ChoiceOut]


def _out(choice: Choice) -> ChoiceOut:
    return ChoiceOut(
        id=choice.id,
        origin_profile_id=choice.origin_profile_id,
        kind=choice.kind,
        purpose=choice.purpose,
        channel=choice.channel,
        topic=choice.topic,
        product=choice.product,
        value=choice.value,
        document_type=choice.document_type,
        recorded_at=choice.recorded_at,
        effective_at=choice.effective_at,
        expires_at=choice.expires_at,
        actor=choice.actor,
        surface=choice.surface,
        source_id=choice.source_id,
        event_id=choice.event_id,
        evidence=dict(choice.evidence),
        legal_basis=choice.legal_basis,
    )


@router.get(
    "/profiles/{profile_id}/consent",
    responses=errors(400, 401, 403, 404),
    response_model=list[ChoiceOut],
    summary="The consent ledger, newest first",
)
async def get_consent(profile_id: Id, principal: Reader, ctx: Ctx) -> list[ChoiceOut]:
    with unit_of_work(ctx.engine, write=False) as session:
        profile = active_header(session, profile_id)
        out = [_out(c) for c in history(session, profile.id)]
    await record_async(ctx.audit, principal, "read", "profile", profile.id, {"view": "consent"})
    return out


@router.post(
    "/profiles/{profile_id}/consent",
    responses=errors(400, 401, 403, 404),
    response_model=ChoiceOut,
    status_code=201,
    summary="Record a choice: a new version, never an overwrite",
)
async def post_consent(profile_id: Id, body: ChoiceIn, principal: Writer, ctx: Ctx) -> ChoiceOut:
    with unit_of_work(ctx.engine) as session:
        profile = active_header(session, profile_id)
        choice = record_choice(
            session,
            profile.id,
            kind=body.kind,
            purpose=body.purpose,
            channel=body.channel,
            topic=body.topic,
            product=body.product,
            value=body.value,
            document_type=body.document_type,
            actor=principal.name,
            surface="api",
            evidence=body.evidence,
            legal_basis=body.legal_basis,
            effective_at=body.effective_at,
            expires_at=body.expires_at,
            config=ctx.identity.consent,
        )
        record(session, principal, "change", "profile", profile.id, {"consent": choice.id})
    return _out(choice)


def _choice_values(choice: Choice) -> dict[str, Any]:
    """A choice as `ChoiceOut` would serialize it."""
    return {
        "id": choice.id,
        "origin_profile_id": choice.origin_profile_id,
        "kind": choice.kind,
        "purpose": choice.purpose,
        "channel": choice.channel,
        "topic": choice.topic,
        "product": choice.product,
        "value": choice.value,
        "document_type": choice.document_type,
        "recorded_at": choice.recorded_at,
        "effective_at": choice.effective_at,
        "expires_at": choice.expires_at,
        "actor": choice.actor,
        "surface": choice.surface,
        "source_id": choice.source_id,
        "event_id": choice.event_id,
        "evidence": dict(choice.evidence),
        "legal_basis": choice.legal_basis,
    }


def _decision_values(profile_id: int, decision: ContactDecision) -> dict[str, Any]:
    """The decision as `DecisionOut` would serialize it: built from trusted rows just now, it needs no model."""
    return {
        "profile_id": profile_id,
        "allowed": decision.allowed,
        "value": None,
        "conflict": decision.conflict,
        "reasons": list(decision.reasons),
        "deciding": [_choice_values(c) for c in decision.deciding],
    }


@checked_read(
    router,
    "/profiles/{profile_id}/may-contact",
    responses=errors(400, 401, 403, 404),
    response_model=DecisionOut,
    summary="The one policy: may this person be contacted for this purpose on this channel, and why",
)
async def get_may_contact(
    request: Request,
    profile_id: Id,
    purpose: Annotated[str, Query(examples=["marketing"])],
    channel: Annotated[str, Query(examples=["email"])],
    topic: str | None = None,
    product: str | None = None,
) -> Response:
    access = read_access(request)
    ctx = access.ctx
    with ctx.reads.snapshot() as reads:
        profile = active_header(reads, profile_id)
        reach = reachability(reads, profile.id, [channel])
        decision = may_contact_profile(
            reads,
            profile.id,
            purpose,
            channel,
            topic=topic,
            product=product,
            reachability=reach,
            config=ctx.identity.consent,
        )
    await record_async(ctx.audit, access.principal, "read", "profile", profile.id, {"view": "may_contact"})
    return json_response(_decision_values(profile.id, decision))


@router.get(
    "/profiles/{profile_id}/delivery-preference",
    responses=errors(400, 401, 403, 404),
    response_model=DecisionOut,
    summary="Paper or electronic for a document type (and product), and why",
)
async def get_delivery_preference(
    profile_id: Id,
    principal: Reader,
    ctx: Ctx,
    document_type: Annotated[str, Query(examples=["statements"])],
    product: str | None = None,
) -> DecisionOut:
    with unit_of_work(ctx.engine, write=False) as session:
        profile = active_header(session, profile_id)
        decision = delivery_preference_for(
            session, profile.id, document_type, product=product, config=ctx.identity.consent
        )
    await record_async(ctx.audit, principal, "read", "profile", profile.id, {"view": "delivery_preference"})
    return DecisionOut(
        profile_id=profile.id,
        value=decision.value,
        conflict=decision.conflict,
        reasons=list(decision.reasons),
        deciding=[_out(c) for c in decision.deciding],
    )
