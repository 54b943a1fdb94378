"""The journey API, for a company's backends (server keys with `journeys:read` / `journeys:write`): start a
journey for a person, read it, save a step's fields as a draft, complete a step, resume (a person's open
journeys), prefill (what the golden record already knows), and issue or revoke resume tokens. The `/resume`
routes take a resume token (header `X-Resume-Token`) instead of a server key: the token opens one journey of one
person, and never the golden record's values. A browser's public write key opens none of these routes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.access.service import require_scope
from seamline.api.deps import Ctx, ProfilesContext, requires_key
from seamline.api.openapi import errors
from seamline.api.schemas.cases import CaseOut
from seamline.audit.service import record, record_async
from seamline.cases.config import CasesConfig
from seamline.cases.service import get_case
from seamline.cases.sla import BusinessCalendar
from seamline.communications.service import queue_message
from seamline.communications.templates import Catalog
from seamline.core.clock import isoformat_z, utcnow
from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, InvalidInput, Unauthorized
from seamline.core.principal import Principal
from seamline.core.responses import JSONResponse
from seamline.identity.service import root_of
from seamline.journeys import actions, installed, service, snapshots, tokens
from seamline.journeys.config import JourneysConfig
from seamline.journeys.definitions import DefinitionsInvalid, JourneyDef
from seamline.journeys.models import JourneyInstance
from seamline.journeys.takeover import take_over
from seamline.journeys.views import prefill, view_of
from seamline.journeys.writer import SaveWriter

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/journeys", tags=["journeys"])
Reader = Annotated[Principal, Depends(requires_key("journeys:read"))]
Writer = Annotated[Principal, Depends(requires_key("journeys:write"))]
TOKEN_HOLDER = Principal(name="resume token", kind="customer", scopes=frozenset(), surface="web")


@dataclass
class JourneysApi:
    """What the journey API needs beyond the profile context, built once by the app."""

    config: JourneysConfig
    calendar: BusinessCalendar
    secret: str
    # Saves through the API's hot path (journeys/writer.py), started and stopped by the app; None: every save
    # goes the ORM's way in a unit of work.
    saves: SaveWriter | None = None


def load_configured_definitions(engine: Engine, config: JourneysConfig) -> list[str]:
    """At start: load the configured definitions folder; a bad file is logged and the running ones stay."""
    if config.definitions_dir is None:
        return []
    try:
        with unit_of_work(engine) as session:
            return installed.load_definitions(session, config.definitions_dir, utcnow())
    except DefinitionsInvalid as bad:
        log.error("journey definitions not loaded; the running ones stay: %s", bad)
        return []


async def _api(request: Request) -> JourneysApi:
    found: JourneysApi = request.app.state.journeys
    return found


Api = Annotated[JourneysApi, Depends(_api)]


async def _resume_token(x_resume_token: Annotated[str, Header(description="A resume token (jrt_…).")] = "") -> str:
    # A dependency, so a request without a token is refused before its body is read.
    if not x_resume_token.startswith(tokens.PREFIX):
        raise Unauthorized(tokens.NOT_VALID)
    return x_resume_token


ResumeToken = Annotated[str, Depends(_resume_token)]


class Person(BaseModel):
    user_id: str | None = Field(default=None, max_length=200, description="The signed-in customer's user id.")
    anonymous_id: str | None = Field(default=None, max_length=200, description="The device's anonymous id.")

    def person(self) -> dict[str, str]:
        out = {}
        if self.user_id:
            out["userId"] = self.user_id
        if self.anonymous_id:
            out["anonymousId"] = self.anonymous_id
        return out


class Where(BaseModel):
    channel: str = Field(min_length=1, max_length=32, description="web, mobile, call-center, branch, …")
    device: str | None = Field(default=None, max_length=100, description="phone, laptop, tablet, …")


class StartIn(Person, Where):
    journey: str = Field(min_length=1, max_length=64)

    @model_validator(mode="after")
    def _someone(self) -> StartIn:
        if not self.person():
            raise ValueError("name the customer: user_id or anonymous_id")
        return self


class FieldsIn(Person, Where):
    fields: dict[str, Any] = Field(default_factory=dict, description="The step's fields: field key -> value.")


class TokenIn(BaseModel):
    hours: int | None = Field(default=None, description="How long the token lives (default from the config).")


class LinkIn(TokenIn):
    channel: Literal["email", "sms"] = Field(default="email", description="How the link is sent.")


class HandoffIn(BaseModel):
    """How the case is opened when the journey has none yet (a journey with an open case answers that one)."""

    queue: str | None = Field(default=None, description="Default: the configured default queue.")
    priority: str = Field(default="normal", description="urgent, high, normal or low")
    assignee: str | None = Field(default=None, description="A console user name; none: the queue picks it up.")
    channel: str = Field(default="api", description="The channel the matter came in on (as for a case).")


RESUME_TEMPLATE = "journey_resume_link"


def _view(
    session: Session, row: JourneyInstance, api: JourneysApi, definitions: Mapping[str, JourneyDef] | None = None
) -> dict[str, Any]:
    found = definitions if definitions is not None else installed.running_definitions(session)
    return view_of(session, row, found).as_dict(api.calendar, utcnow())


def _answer(content: dict[str, Any]) -> Response:
    # Serialized directly: the views are built from trusted rows as JSON-ready values, and FastAPI's encoder
    # walked every nested value of them again (a tenth of a resume's CPU).
    return JSONResponse(content)


def _audited(session: Session, who: Principal, kind: str, row: JourneyInstance, **detail: Any) -> None:
    record(session, who, kind, "profile", row.profile_id, {"journey": row.journey, "instance": row.public_id, **detail})


@router.get("/resume", responses=errors(401), summary="Read the journey a resume token opens")
async def resume_by_token(api: Api, ctx: Ctx, x_resume_token: ResumeToken) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        row = tokens.redeem(session, x_resume_token, secret=api.secret, now=utcnow())
        _audited(session, TOKEN_HOLDER, "read", row, via="resume token")
        return _view(session, row, api)


async def _save_by_token(
    api: JourneysApi, ctx: ProfilesContext, token: str, step: str, body: FieldsIn, *, complete: bool
) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        row = tokens.redeem(session, token, secret=api.secret, now=utcnow())
        actor = actions.Actor(body.channel, body.device)
        # The token holder writes as the journey's person, never as someone they name.
        row = actions.save(session, ctx.identity, row.public_id, step, body.fields, actor, complete=complete)
        _audited(session, TOKEN_HOLDER, "change", row, step=step, completed=complete)
        return _view(session, row, api)


@router.put("/resume/steps/{step}/draft", responses=errors(400, 401), summary="Save a draft with a resume token")
async def draft_by_token(step: str, body: FieldsIn, api: Api, ctx: Ctx, x_resume_token: ResumeToken) -> dict[str, Any]:
    return await _save_by_token(api, ctx, x_resume_token, step, body, complete=False)


@router.post("/resume/steps/{step}/complete", responses=errors(400, 401), summary="Complete a step with a resume token")
async def complete_by_token(
    step: str, body: FieldsIn, api: Api, ctx: Ctx, x_resume_token: ResumeToken
) -> dict[str, Any]:
    return await _save_by_token(api, ctx, x_resume_token, step, body, complete=True)


@router.post("", status_code=201, responses=errors(400, 401, 403), summary="Start a journey for a customer")
async def start(body: StartIn, principal: Writer, api: Api, ctx: Ctx) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        actor = actions.Actor(body.channel, body.device)
        row = actions.start(session, ctx.identity, body.journey, body.person(), actor)
        _audited(session, principal, "change", row, action="start")
        return _view(session, row, api)


@router.get("", responses=errors(400, 401, 403), summary="Resume: a signed-in customer's open journeys")
async def resume(principal: Reader, api: Api, ctx: Ctx, user_id: str = "", anonymous_id: str = "") -> Response:
    person = Person(user_id=user_id or None, anonymous_id=anonymous_id or None).person()
    # A read on the held read connection with prepared statements; its audit entry by group commit (as a profile
    # lookup): no write transaction of its own.
    with ctx.reads.snapshot() as reads:
        profile = snapshots.person_profile(reads, person) if person else None
        rows = snapshots.open_journeys(reads, profile) if profile is not None else []
        definitions = installed.running_definitions(reads)
        views = [snapshots.view(reads, r, definitions) for r in rows]
    if profile is not None:
        await record_async(ctx.audit, principal, "read", "profile", profile, {"view": "journeys"})
    now = utcnow()
    return _answer({"journeys": [v.as_dict(api.calendar, now) for v in views]})


@router.get("/{instance_id}", responses=errors(401, 403, 404), summary="Read a journey instance")
async def read(instance_id: str, principal: Reader, api: Api, ctx: Ctx) -> Response:
    # As a resume: on the held read connection, the audit entry by group commit.
    with ctx.reads.snapshot() as reads:
        row = snapshots.keeper(reads, instance_id)
        view = snapshots.view(reads, row, installed.running_definitions(reads))
    detail = {"journey": row.journey, "instance": row.public_id}
    await record_async(ctx.audit, principal, "read", "profile", row.profile_id, detail)
    return _answer(view.as_dict(api.calendar, utcnow()))


@router.get(
    "/{instance_id}/steps/{step}/prefill",
    responses=errors(401, 403, 404),
    summary="Which fields of a step are already known (value, source, age)",
)
async def read_prefill(instance_id: str, step: str, principal: Reader, ctx: Ctx) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        row = service.instance(session, instance_id)
        view = view_of(session, row, installed.running_definitions(session))
        fields = prefill(
            session, view, step, survivorship=ctx.survivorship, source_names=ctx.source_names.get(), now=utcnow()
        )
        _audited(session, principal, "read", row, view="prefill", step=step)
        return {"instance_id": row.public_id, "step": step, "fields": fields}


async def _save(
    instance_id: str, step: str, body: FieldsIn, principal: Principal, api: JourneysApi, ctx: ProfilesContext, *,
    complete: bool,
) -> Response:  # fmt: skip
    actor = actions.Actor(body.channel, body.device)
    if api.saves is not None:
        # The hot path: planned on the held read connection, written by the save writer's group commit with its
        # audit entry; the answer leaves once both are committed. A save that would move identity, or whose
        # instance changed meanwhile, is made the ORM's way below.
        with ctx.reads.snapshot() as reads:
            planned = actions.plan_save(
                reads, ctx.identity, installed.running_definitions(reads), instance_id, step, body.fields, actor,
                complete=complete, person=body.person(), known_sources=ctx.source_names.get(),
            )  # fmt: skip
        if planned is not None:
            row = planned.instance
            detail = {"journey": row.journey, "instance": row.public_id, "step": step, "completed": complete}
            planned.write.also = partial(record, principal=principal, action="change", subject_type="profile",
                                         subject_id=row.profile_id, detail=detail)  # fmt: skip
            await api.saves.submit(planned.write)
            if not planned.write.is_stale:
                return _answer(planned.view.as_dict(api.calendar, utcnow()))
    with unit_of_work(ctx.engine) as session:
        row = actions.save(
            session, ctx.identity, instance_id, step, body.fields, actor, complete=complete, person=body.person(),
            known_sources=ctx.source_names.get(),
        )  # fmt: skip
        _audited(session, principal, "change", row, step=step, completed=complete)
        return _answer(_view(session, row, api))


@router.put("/{instance_id}/steps/{step}/draft", responses=errors(400, 401, 403, 404), summary="Save a draft")
async def draft(instance_id: str, step: str, body: FieldsIn, principal: Writer, api: Api, ctx: Ctx) -> Response:
    return await _save(instance_id, step, body, principal, api, ctx, complete=False)


@router.post("/{instance_id}/steps/{step}/complete", responses=errors(400, 401, 403, 404), summary="Complete a step")
async def complete(instance_id: str, step: str, body: FieldsIn, principal: Writer, api: Api, ctx: Ctx) -> Response:
    return await _save(instance_id, step, body, principal, api, ctx, complete=True)


@router.post(
    "/{instance_id}/resume-tokens", status_code=201, responses=errors(400, 401, 403, 404), summary="Issue a token"
)
async def issue_token(instance_id: str, body: TokenIn, principal: Writer, api: Api, ctx: Ctx) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        now: datetime = utcnow()
        issued = tokens.issue(
            session,
            instance_id,
            hours=body.hours or api.config.resume_token_hours,
            secret=api.secret,
            issued_by=principal.name,
            now=now,
        )
        _audited(session, principal, "change", service.instance(session, instance_id), action="issue token")
        return {"token": issued.token, "instance_id": issued.instance_id, "expires_at": isoformat_z(issued.expires_at)}


async def _templates(request: Request) -> Catalog:
    found: Catalog = request.app.state.templates
    return found


@router.post(
    "/{instance_id}/resume-link", status_code=202, responses=errors(400, 401, 403, 404), summary="Send a resume link"
)
async def send_resume_link(
    instance_id: str,
    body: LinkIn,
    principal: Writer,
    api: Api,
    ctx: Ctx,
    templates: Annotated[Catalog, Depends(_templates)],
) -> dict[str, Any]:
    """Issue a resume token and send it to the customer as a link, by email or SMS, through the outbox. The answer
    never holds the token, and nothing but its digest is kept once the message has left (docs/journeys.md)."""
    if api.config.resume_url is None or "{token}" not in api.config.resume_url:
        problem = "set [journeys] resume_url to the page that continues a journey, with {token} in it"
        raise InvalidInput([FieldError("channel", "not_configured", problem)], "no resume link can be sent")
    with unit_of_work(ctx.engine) as session:
        now: datetime = utcnow()
        row = service.instance(session, instance_id)
        definition = installed.running_definitions(session).get(row.journey)
        step = definition.step(row.current_step or "") if definition else None
        issued = tokens.issue(
            session, instance_id, hours=body.hours or api.config.resume_token_hours, secret=api.secret,
            issued_by=principal.name, now=now,
        )  # fmt: skip
        data = {
            "journey_name": definition.name if definition else row.journey,
            "step_name": step.name if step else (row.current_step or ""),
            "resume_url": api.config.resume_url.replace("{token}", issued.token),
            "expires_at": f"{issued.expires_at:%Y-%m-%d %H:%M} UTC",
        }
        sent, _created = queue_message(
            session, row.profile_id, RESUME_TEMPLATE, data, catalog=templates, consent=ctx.identity.consent,
            source_system="journeys", channel=body.channel,
        )  # fmt: skip
        _audited(session, principal, "change", row, action="send resume link", communication=sent.communication_id)
        return {
            "instance_id": row.public_id,
            "communication_id": sent.communication_id,
            "channel": sent.channel,
            "status": sent.status,
            "expires_at": isoformat_z(issued.expires_at),
        }


async def _cases(request: Request) -> CasesConfig:
    found: CasesConfig = request.app.state.cases
    return found


@router.post(
    "/{instance_id}/handoff",
    status_code=201,
    response_model=CaseOut,
    responses={
        200: {"model": CaseOut, "description": "The journey already had an open case: that case, unchanged."},
        **errors(400, 401, 403, 404),
    },
    summary="Take a journey over as a case",
)
async def handoff(
    instance_id: str,
    principal: Writer,
    ctx: Ctx,
    cases: Annotated[CasesConfig, Depends(_cases)],
    response: Response,
    body: HandoffIn | None = None,
) -> dict[str, Any]:
    """Open a case that hands the journey over (needs `journeys:write` and `cases:write`): it records the journey
    and the step it is at, and its handoff summary starts with what the customer already gave, through what, and
    what is left. Idempotent: while the journey's case is open, pending the customer or escalated, a second call
    answers that case (200) and opens nothing."""
    require_scope(principal, "cases:write")
    wanted = body or HandoffIn()
    with unit_of_work(ctx.engine) as session:
        row = service.instance(session, instance_id)
        taken = take_over(
            session, cases, row, profile_id=root_of(session, row.profile_id), channel=wanted.channel,
            actor=principal.name, surface="api", assignee=wanted.assignee, queue=wanted.queue,
            priority=wanted.priority,
        )  # fmt: skip
        action = "open" if taken.is_new else "read"
        detail = {"case": taken.case_id, "action": action, "via": "journey handoff"}
        _audited(session, principal, "change" if taken.is_new else "read", row, **detail)
        if not taken.is_new:
            response.status_code = 200
        return get_case(session, cases, taken.case_id).as_dict()


@router.delete("/{instance_id}/resume-tokens", responses=errors(401, 403, 404), summary="Revoke its tokens")
async def revoke_tokens(instance_id: str, principal: Writer, ctx: Ctx) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        revoked = tokens.revoke(session, instance_id, utcnow())
        _audited(session, principal, "change", service.instance(session, instance_id), action="revoke tokens")
        return {"revoked": revoked}
