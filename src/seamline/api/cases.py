"""The cases API: open cases, add to their thread from any channel, route inbound messages by customer
identifier, keep the handoff summary, and move cases along (status, priority, assignment, escalation).
Server keys with `cases:read` / `cases:write` (and `cases:supervise` to move an escalated case on); every read and
change of a case is audited under its profile."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from seamline.api.deps import Ctx, ProfilesContext, requires_key
from seamline.api.openapi import errors
from seamline.api.schemas.cases import (
    AssignIn,
    CaseIn,
    CaseOut,
    CasePageOut,
    EntryIn,
    EntryOut,
    EscalateIn,
    HandoffIn,
    HandoffOut,
    InboundIn,
    InboundOut,
    PickUpIn,
    PriorityIn,
    ReasonIn,
    StatusIn,
)
from seamline.audit.service import record, record_async
from seamline.cases.config import CasesConfig
from seamline.cases.service import (
    add_entry,
    get_case,
    handoff_history,
    list_cases,
    open_case,
    receive_message,
    update_handoff,
)
from seamline.cases.thread import EntryInput
from seamline.cases.views import CaseView
from seamline.cases.workflow import assign, change_priority, change_status, escalate, pick_up
from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, InvalidInput, NotFound
from seamline.core.ids import Id
from seamline.core.principal import Principal
from seamline.identity.service import find_profile, root_of

router = APIRouter(prefix="/v1/cases", tags=["cases"])


async def _config(request: Request) -> CasesConfig:
    config: CasesConfig = request.app.state.cases
    return config


SUPERVISE = "cases:supervise"  # settling an escalation (moving an escalated case on), as a console supervisor does
Reader = Annotated[Principal, Depends(requires_key("cases:read"))]
Writer = Annotated[Principal, Depends(requires_key("cases:write"))]
Config = Annotated[CasesConfig, Depends(_config)]


def _root(session: Session, profile_id: int) -> int:
    try:
        return root_of(session, profile_id)
    except NotFound:
        raise InvalidInput([FieldError("profile_id", "not_found", f"no profile {profile_id}")]) from None


def _entry(body: EntryIn) -> EntryInput:
    return EntryInput(body.channel, body.direction, body.body, body.author.kind, body.author.name)


def _changed(session: Session, principal: Principal, view: CaseView, action: str, **detail: Any) -> dict[str, Any]:
    """Audit a change of a case in its transaction, and answer with the case."""
    record(session, principal, "change", "profile", view.profile_id, {"case": view.id, "action": action, **detail})
    return view.as_dict()


@router.post(
    "",
    responses=errors(400, 401, 403, 404),
    status_code=201,
    response_model=CaseOut,
    summary="Open a case for a customer",
)
async def post_case(body: CaseIn, principal: Writer, ctx: Ctx, config: Config) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        view = open_case(
            session,
            config,
            profile_id=_root(session, body.profile_id),
            origin_profile_id=body.profile_id,
            subject=body.subject,
            channel=body.channel,
            priority=body.priority,
            queue=body.queue,
            first_entry=_entry(body.entry) if body.entry else None,
            actor=principal.name,
            surface="api",
        )
        return _changed(session, principal, view, "open")


@router.get(
    "",
    responses=errors(400, 401, 403),
    response_model=CasePageOut,
    summary="List cases: queues, my cases, escalated or overdue ones",
)
async def get_cases(
    principal: Reader,
    ctx: Ctx,
    config: Config,
    queue: str | None = None,
    status: Annotated[list[str] | None, Query(description="Any of these statuses")] = None,
    assignee: Annotated[str | None, Query(description="A console user name; empty for unassigned cases")] = None,
    profile_id: Annotated[Id | None, Query(description="The customer's cases, merged profiles' included")] = None,
    escalated: bool | None = None,
    overdue: Annotated[bool | None, Query(description="An SLA clock that still matters is past due")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[Id | None, Query(description="`next_before` of the previous page")] = None,
) -> dict[str, Any]:
    with unit_of_work(ctx.engine, write=False) as session:
        page = list_cases(
            session,
            config,
            queue=queue,
            statuses=status,
            assignee=assignee,
            profile_id=_root(session, profile_id) if profile_id is not None else None,
            is_escalated=escalated,
            is_overdue=overdue,
            limit=limit,
            before=before,
        )
    by_profile: dict[int, list[int]] = {}
    for view in page.cases:
        by_profile.setdefault(view.profile_id, []).append(view.id)
    await asyncio.gather(
        *(
            record_async(ctx.audit, principal, "read", "profile", pid, {"view": "cases", "cases": ids})
            for pid, ids in by_profile.items()
        )
    )
    return {"cases": [v.as_dict(with_thread=False) for v in page.cases], "next_before": page.next_before}


@router.post(
    "/inbound",
    responses=errors(400, 401, 403),
    response_model=InboundOut,
    summary="A customer's message from a channel: joins their open case in the queue, or opens one",
)
async def post_inbound(body: InboundIn, principal: Writer, ctx: Ctx, config: Config) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        try:
            found = find_profile(session, body.customer, ctx.identity)
        except ValueError as exc:
            raise InvalidInput([FieldError("customer", "invalid", str(exc))]) from None
        except NotFound:
            raise InvalidInput([FieldError("customer", "not_found", "no profile holds this identifier")]) from None
        routed = receive_message(
            session,
            config,
            profile_id=found.profile_id,
            channel=body.channel,
            body=body.body,
            author_name=body.author_name or body.customer,
            subject=body.subject,
            queue=body.queue,
            priority=body.priority,
            identifier=body.customer,
            actor=principal.name,
            surface="api",
        )
        case = _changed(session, principal, routed.case, "inbound", entry=routed.entry.id)
    return {"is_new_case": routed.is_new, "case": case, "entry": routed.entry.as_dict()}


@router.get(
    "/{case_id}",
    responses=errors(400, 401, 403, 404),
    response_model=CaseOut,
    summary="A case: current handoff first, SLA state, whole thread",
)
async def get_one(case_id: Id, principal: Reader, ctx: Ctx, config: Config) -> dict[str, Any]:
    with unit_of_work(ctx.engine, write=False) as session:
        view = get_case(session, config, case_id)
    await record_async(ctx.audit, principal, "read", "profile", view.profile_id, {"view": "case", "case": view.id})
    return view.as_dict()


@router.post(
    "/{case_id}/entries",
    responses=errors(400, 401, 403, 404, 409),
    status_code=201,
    response_model=EntryOut,
    summary="Add a message or note",
)
async def post_entry(case_id: Id, body: EntryIn, principal: Writer, ctx: Ctx, config: Config) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        entry = add_entry(session, config, case_id, _entry(body), actor=principal.name, surface="api")
        view = get_case(session, config, case_id)
        _changed(session, principal, view, "entry", entry=entry.id)
    return entry.as_dict()


@router.put(
    "/{case_id}/handoff",
    responses=errors(400, 401, 403, 404, 409),
    response_model=HandoffOut,
    summary="Write a new version of the handoff summary",
)
async def put_handoff(case_id: Id, body: HandoffIn, principal: Writer, ctx: Ctx, config: Config) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        handoff = update_handoff(
            session,
            case_id,
            verified=body.verified,
            customer_said=body.customer_said,
            tried=body.tried,
            next_step=body.next_step,
            actor=principal.name,
            surface="api",
        )
        _changed(session, principal, get_case(session, config, case_id), "handoff", version=handoff.version)
    return handoff.as_dict()


@router.get(
    "/{case_id}/handoff/versions",
    responses=errors(400, 401, 403, 404),
    response_model=list[HandoffOut],
    summary="Every handoff version",
)
async def get_handoffs(case_id: Id, principal: Reader, ctx: Ctx, config: Config) -> list[dict[str, Any]]:
    with unit_of_work(ctx.engine, write=False) as session:
        versions = handoff_history(session, case_id)
        profile_id = get_case(session, config, case_id).profile_id
    await record_async(ctx.audit, principal, "read", "profile", profile_id, {"view": "handoffs", "case": case_id})
    return [v.as_dict() for v in versions]


@router.post(
    "/{case_id}/status",
    responses=errors(400, 401, 403, 404, 409),
    response_model=CaseOut,
    summary="Change the status (not to escalated)",
)
async def post_status(case_id: Id, body: StatusIn, principal: Writer, ctx: Ctx, config: Config) -> dict[str, Any]:
    return _status(case_id, body.status, body.reason, principal, ctx, config)


@router.post(
    "/{case_id}/resolve", responses=errors(400, 401, 403, 404, 409), response_model=CaseOut, summary="Resolve a case"
)
async def post_resolve(case_id: Id, body: ReasonIn, principal: Writer, ctx: Ctx, config: Config) -> dict[str, Any]:
    return _status(case_id, "resolved", body.reason, principal, ctx, config)


@router.post(
    "/{case_id}/close",
    responses=errors(400, 401, 403, 404, 409),
    response_model=CaseOut,
    summary="Close a resolved case (final)",
)
async def post_close(case_id: Id, body: ReasonIn, principal: Writer, ctx: Ctx, config: Config) -> dict[str, Any]:
    return _status(case_id, "closed", body.reason, principal, ctx, config)


@router.post(
    "/{case_id}/reopen",
    responses=errors(400, 401, 403, 404, 409),
    response_model=CaseOut,
    summary="Reopen a resolved case",
)
async def post_reopen(case_id: Id, body: ReasonIn, principal: Writer, ctx: Ctx, config: Config) -> dict[str, Any]:
    return _status(case_id, "open", body.reason, principal, ctx, config)


def _status(
    case_id: int, status: str, reason: str | None, principal: Principal, ctx: ProfilesContext, config: CasesConfig
) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        view = change_status(
            session,
            config,
            case_id,
            status,
            reason=reason,
            may_supervise=principal.may(SUPERVISE),
            actor=principal.name,
            surface="api",
        )
        return _changed(session, principal, view, "status", status=status)


@router.post(
    "/{case_id}/priority",
    responses=errors(400, 401, 403, 404, 409),
    response_model=CaseOut,
    summary="Change the priority; the SLA follows",
)
async def post_priority(case_id: Id, body: PriorityIn, principal: Writer, ctx: Ctx, config: Config) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        view = change_priority(
            session, config, case_id, body.priority, reason=body.reason, actor=principal.name, surface="api"
        )
        return _changed(session, principal, view, "priority", priority=body.priority)


@router.post(
    "/{case_id}/assign",
    responses=errors(400, 401, 403, 404, 409),
    response_model=CaseOut,
    summary="Assign to an agent (or nobody), optionally move",
)
async def post_assign(case_id: Id, body: AssignIn, principal: Writer, ctx: Ctx, config: Config) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        view = assign(session, config, case_id, body.assignee, queue=body.queue, actor=principal.name, surface="api")
        return _changed(session, principal, view, "assign", assignee=body.assignee)


@router.post(
    "/{case_id}/pick-up",
    responses=errors(400, 401, 403, 404, 409),
    response_model=CaseOut,
    summary="An agent takes an unassigned case",
)
async def post_pick_up(case_id: Id, body: PickUpIn, principal: Writer, ctx: Ctx, config: Config) -> dict[str, Any]:
    if not body.agent.strip() or len(body.agent) > 200:
        raise InvalidInput([FieldError("agent", "invalid", "an agent's user name: 1-200 characters")])
    with unit_of_work(ctx.engine) as session:
        view = pick_up(session, config, case_id, actor=body.agent, surface="api")
        return _changed(session, principal, view, "pick_up", assignee=body.agent)


@router.post(
    "/{case_id}/escalate",
    responses=errors(400, 401, 403, 404, 409),
    response_model=CaseOut,
    summary="Escalate to the supervisors' queue (reason required)",
)
async def post_escalate(case_id: Id, body: EscalateIn, principal: Writer, ctx: Ctx, config: Config) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        view = escalate(
            session, config, case_id, reason=body.reason, queue=body.queue, actor=principal.name, surface="api"
        )
        return _changed(session, principal, view, "escalate", queue=view.queue)
