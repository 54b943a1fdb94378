"""The decision API: the next best actions for a person in a context (with the actions not chosen and the rule that
stopped each), the outcomes that teach the propensity model, and the model's state. Every read is audited."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from seamline.api.decision_wire import Asked, is_json, is_small, plain_asked
from seamline.api.deps import Ctx, ProfilesContext
from seamline.api.deps import requires_key as _requires_key
from seamline.api.openapi import errors
from seamline.audit.service import record, record_async
from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, InvalidInput, NotFound
from seamline.core.principal import Principal
from seamline.core.responses import JSONResponse
from seamline.decisions.arbitration import Situation
from seamline.decisions.service import Decided, OutcomeInput, Setup, decide, model_state, record_outcomes
from seamline.destinations.audiences import export_audience
from seamline.identity.service import find_profile, parse_identifier, profile_holding

router = APIRouter(prefix="/v1", tags=["decisions"])
_authenticate = _requires_key("decisions")
Decider = Annotated[Principal, Depends(_authenticate)]


async def _setup(request: Request) -> Setup:
    setup: Setup = request.app.state.decisions
    return setup


Decisions = Annotated[Setup, Depends(_setup)]


class ContextIn(BaseModel):
    channel: str = Field(examples=["web"], max_length=32)
    placement: str | None = Field(default=None, max_length=100, examples=["home_banner"])
    journey: str | None = Field(default=None, max_length=100)
    case: str | None = Field(default=None, max_length=100)


class DecisionIn(BaseModel):
    person: str = Field(description="Any identifier of the person: `email:…`, `user_id:…`, `phone:…`, `ext:…`",
                        examples=["email:ada@example.com"], max_length=400)  # fmt: skip
    context: ContextIn
    limit: int | None = Field(default=None, ge=1, le=50)
    explain: bool = Field(
        default=False,
        description="Also answer `not_chosen`: every action not chosen, with the stage and rule that stopped it",
    )


class ChosenOut(BaseModel):
    action: str
    kind: str
    title: str
    priority: str
    product: str | None
    score: float
    propensity: float
    reasons: list[str]


class NotChosenOut(BaseModel):
    action: str
    stage: str
    rule: str
    reason: str
    hold_until: datetime | None


class DecisionOut(BaseModel):
    profile_id: int
    segment: str
    timezone: str
    actions: list[ChosenOut]
    not_chosen: list[NotChosenOut] | None = Field(
        default=None, description="Only when the request asks `explain`: every other action of the catalog"
    )


def _find(session: Any, text: str, ctx: Any, field: str) -> int:
    try:
        return int(find_profile(session, text, ctx.identity).profile_id)
    except ValueError as exc:
        raise InvalidInput([FieldError(field, "invalid", str(exc))], "the person is not valid") from None
    except NotFound:
        raise NotFound(f"no profile holds {text}") from None


def _answer(decided: Decided, explain: bool) -> JSONResponse:
    d = decided.decision
    # Rendered straight to JSON in the shape of DecisionOut (the documented model): validating ~200 not-chosen
    # entries through pydantic cost more than deciding.
    answer: dict[str, Any] = {
        "profile_id": decided.profile_id,
        "segment": decided.segment,
        "timezone": decided.timezone,
        "actions": [
            {"action": r.action.name, "kind": r.action.kind, "title": r.action.title, "priority": r.action.priority,
             "product": r.action.product, "score": round(r.score, 6), "propensity": round(r.propensity, 6),
             "reasons": list(r.reasons)}
            for r in d.ranked
        ],
    }  # fmt: skip
    # The words for every action not chosen (~200 on a real catalog) only when asked: they were most of an answer's
    # bytes and as much CPU as the decision, and a channel showing the top actions never reads them.
    if explain:
        answer["not_chosen"] = [
            {"action": s.action.name, "stage": s.stage, "rule": s.rule, "reason": s.reason, "hold_until": s.hold_until}
            for s in d.stopped
        ]
    return JSONResponse(answer)


async def _decided(asked: Asked, principal: Principal, ctx: ProfilesContext, setup: Setup) -> JSONResponse:
    """The answer to a decision request, however it was read (FastAPI's way or `plain_asked`)."""
    situation = Situation(asked.channel, asked.placement, asked.journey, asked.case)
    try:
        ident = parse_identifier(asked.person, ctx.identity)
    except ValueError as exc:
        raise InvalidInput([FieldError("person", "invalid", str(exc))], "the person is not valid") from None
    # A read: no write transaction (on SQLite it would queue behind every writer), on the connection the process
    # keeps for hot reads, as the profile lookup's; the audit entry goes by group commit and is committed before
    # the answer leaves.
    with ctx.reads.snapshot() as reads:
        decided = decide(reads, profile_holding(reads, ident), situation, setup, engine=ctx.engine, limit=asked.limit)
    await record_async(ctx.audit, principal, "read", "profile", decided.profile_id, {"decision": asked.channel})
    return _answer(decided, asked.explain)


class _PlainDecision(APIRoute):
    """`POST /v1/decisions` read without FastAPI's dependency solver and body model when the request is plainly
    valid (api/decision_wire.py): the key is checked first, as the `Decider` dependency would be (a request without
    a good key is 401/403 whatever its body), then a plain JSON body is read straight into `Asked`. Anything else
    (another content type, a body that is not plainly valid) is handed to FastAPI's own handler, which reads and
    judges it as it always did — the same 4xx JSON, the same field names."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def plain(request: Request) -> Response:
            principal = await _authenticate(request)
            headers = request.headers
            if is_json(headers.get("content-type")) and is_small(headers.get("content-length")):
                asked = plain_asked(await request.body())  # kept on the request: FastAPI's handler reads it again
                if asked is not None:
                    state = request.app.state
                    return await _decided(asked, principal, state.profiles, state.decisions)
            return await handler(request)

        return plain


async def post_decision(body: DecisionIn, principal: Decider, ctx: Ctx, setup: Decisions) -> JSONResponse:
    # No docstring: FastAPI would publish it as the operation's description.
    c = body.context
    asked = Asked(body.person, c.channel, c.placement, c.journey, c.case, body.limit, body.explain)
    return await _decided(asked, principal, ctx, setup)


router.add_api_route(
    "/decisions",
    post_decision,
    methods=["POST"],
    responses=errors(400, 401, 403, 404, 410),
    response_model=DecisionOut,
    summary="The next best actions for a person in a context (with `explain`, why every other action was not chosen)",
    route_class_override=_PlainDecision,
)


class OutcomeIn(BaseModel):
    person: str = Field(max_length=400, examples=["email:ada@example.com"])
    action: str = Field(max_length=100, examples=["card_offer"])
    outcome: str = Field(examples=["accepted"], description="shown, accepted, ignored or converted")
    channel: str | None = Field(default=None, max_length=32)
    occurred_at: datetime | None = None


class OutcomesIn(BaseModel):
    outcomes: list[OutcomeIn] = Field(min_length=1, max_length=1000)


class OutcomesOut(BaseModel):
    recorded: int


@router.post(
    "/decisions/outcomes",
    responses=errors(400, 401, 403, 404),
    response_model=OutcomesOut,
    summary="What became of actions (shown, accepted, ignored, converted): the propensity model learns from them",
)
async def post_outcomes(body: OutcomesIn, principal: Decider, ctx: Ctx, setup: Decisions) -> OutcomesOut:
    with unit_of_work(ctx.engine) as session:
        items = [
            OutcomeInput(_find(session, o.person, ctx, f"outcomes[{i}].person"), o.action, o.outcome, o.channel,
                         "api", principal.name, o.occurred_at)
            for i, o in enumerate(body.outcomes)
        ]  # fmt: skip
        try:
            recorded = record_outcomes(session, items, setup)
        except InvalidInput as exc:
            fields = [FieldError(f"outcomes[{e.index}].{e.field}", e.code, e.message, e.index) for e in exc.errors]
            raise InvalidInput(fields, exc.message) from None
        for item in items:
            record(session, principal, "change", "profile", item.profile_id, {"action_outcome": item.outcome})
    return OutcomesOut(recorded=recorded)


class ModelRowOut(BaseModel):
    action: str
    segment: str
    shown: int
    accepted: int
    ignored: int
    converted: int
    alpha: float
    beta: float
    mean: float


@router.get(
    "/decisions/model",
    responses=errors(401, 403),
    response_model=list[ModelRowOut],
    summary="The propensity model's state: each action's Beta-Bernoulli counts per segment",
)
async def get_model(
    principal: Decider, ctx: Ctx, setup: Decisions, segment: Annotated[str | None, Query(max_length=64)] = None
) -> list[ModelRowOut]:
    with unit_of_work(ctx.engine, write=False) as session:
        rows = model_state(session, setup.catalog, segment)
    return [ModelRowOut.model_validate(r, from_attributes=True) for r in rows]


class AudienceIn(BaseModel):
    audience: str = Field(max_length=100, examples=["card-spring-campaign"])
    product: str | None = Field(default=None, max_length=100, description="The product the audience is marketed",
                                examples=["credit_card"])  # fmt: skip
    members: list[str] = Field(min_length=1, max_length=10_000, description="Identifiers of the people")


class LeftOutOut(BaseModel):
    profile_id: int
    rule: str
    reason: str


class AudienceOut(BaseModel):
    destination: str
    audience: str
    product: str | None
    exported: list[int]
    left_out: list[LeftOutOut]
    delivery_id: str | None


@router.post(
    "/destinations/{name}/audiences",
    responses=errors(400, 401, 403, 404),
    response_model=AudienceOut,
    status_code=202,
    summary="Send an audience to a destination, minus who holds or just bought the product, or did not consent",
)
async def post_audience(
    name: str, body: AudienceIn, principal: Annotated[Principal, Depends(_requires_key("destinations:admin"))],
    ctx: Ctx, setup: Decisions,
) -> AudienceOut:  # fmt: skip
    with unit_of_work(ctx.engine) as session:
        members = [_find(session, m, ctx, f"members[{i}]") for i, m in enumerate(body.members)]
        done = export_audience(
            session, name, body.audience, members, product=body.product, consent=setup.consent,
            decisions=setup.config,
        )  # fmt: skip
        for profile_id in done.exported:
            record(session, principal, "read", "profile", profile_id, {"audience": body.audience, "to": name})
    return AudienceOut.model_validate(
        {**{k: getattr(done, k) for k in ("destination", "audience", "product", "exported", "delivery_id")},
         "left_out": [LeftOutOut(profile_id=x.profile_id, rule=x.rule, reason=x.reason) for x in done.left_out]}
    )  # fmt: skip
