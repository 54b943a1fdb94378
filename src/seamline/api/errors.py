"""The communication-errors API: report wrong communications (from a case, or in bulk from another system), read
the queue and one error with its clocks and next steps, acknowledge, resolve, settle a regulatory clock, fix a
simple error through a correction or correct the value and re-send the communication; problems with their blast
radius, closing, linking, splitting and notices to everyone else a run reached. Server keys with `errors:read` /
`errors:write`; reads of a person's report are audited here, changes in the services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from seamline.api.deps import Ctx
from seamline.api.deps import requires_key as key_with
from seamline.api.openapi import errors as answers
from seamline.api.schemas.errors import (
    BlastRadiusOut,
    CloseIn,
    DecisionIn,
    ErrorBatchIn,
    ErrorIdsIn,
    ErrorIn,
    ErrorListOut,
    ErrorOut,
    FixIn,
    NoteIn,
    NotifiedOut,
    ProblemOut,
    ResendIn,
)
from seamline.audit.service import record_many_async
from seamline.communications.templates import Catalog
from seamline.core.db import unit_of_work
from seamline.core.errors import Forbidden
from seamline.core.ids import MAX_ID, Id
from seamline.core.principal import Principal
from seamline.errors.fixing import fix_at_contact
from seamline.errors.policystore import PolicyStore
from seamline.errors.problems import (
    BlastRadius,
    blast_radius,
    close_problem,
    link,
    notify_recipients,
    problem_view,
    split,
)
from seamline.errors.resending import correct_and_resend
from seamline.errors.service import (
    Report,
    acknowledge,
    error_queue,
    report_errors,
    resolve,
    settle_regulatory,
    view,
)
from seamline.errors.views import ErrorView, next_steps

router = APIRouter(tags=["communication errors"])
Reader = Annotated[Principal, Depends(key_with("errors:read"))]
Writer = Annotated[Principal, Depends(key_with("errors:write"))]


async def _policies(request: Request) -> PolicyStore:
    store: PolicyStore = request.app.state.errors_policy
    return store


Policies = Annotated[PolicyStore, Depends(_policies)]


def _out(store: PolicyStore, error: ErrorView) -> dict[str, Any]:
    return {**error.as_dict(), "next_steps": next_steps(store.current(), error)}


def _report(body: ErrorIn) -> Report:
    return Report(
        body.communication_ids, body.field, body.shown, body.expected, body.description, body.harm,
        body.customers_affected, body.is_vulnerable, body.profile_id, body.case_id, body.external_ref,
    )  # fmt: skip


@router.post(
    "/v1/communication-errors",
    responses=answers(400, 401, 403),
    status_code=201,
    response_model=ErrorOut,
    summary="Report a wrong communication",
)
async def post_error(body: ErrorIn, principal: Writer, ctx: Ctx, store: Policies) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        [made] = report_errors(session, store.current(), [_report(body)], actor=principal, intake="api")
    return _out(store, made)


@router.post(
    "/v1/communication-errors/batch",
    responses=answers(400, 401, 403),
    status_code=201,
    response_model=ErrorListOut,
    summary="Report wrong communications from another system, all or none",
)
async def post_errors(body: ErrorBatchIn, principal: Writer, ctx: Ctx, store: Policies) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        made = report_errors(
            session, store.current(), [_report(e) for e in body.errors], actor=principal, intake="external"
        )
    return {"errors": [_out(store, e) for e in made]}


async def _audit_read(ctx: Ctx, principal: Principal, found: list[ErrorView], view_name: str) -> None:
    """One read entry per report about a customer, all in one batch (one transaction) before the answer leaves."""
    subjects = [(e.profile_id, {"view": view_name, "comm_error": e.id}) for e in found if e.profile_id is not None]
    await record_many_async(ctx.audit, principal, "read", "profile", subjects)


@router.get(
    "/v1/communication-errors",
    responses=answers(400, 401, 403),
    response_model=ErrorListOut,
    summary="The errors queue: most severe first, then the soonest deadline",
)
async def get_errors(
    principal: Reader,
    ctx: Ctx,
    store: Policies,
    severity: str | None = None,
    harm: str | None = None,
    closed: bool = False,
    profile_id: Annotated[Id | None, Query()] = None,
    problem_id: Annotated[Id | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> dict[str, Any]:
    with unit_of_work(ctx.engine, write=False) as session:
        found = error_queue(
            session, is_open=not closed, severity=severity, harm=harm, profile_id=profile_id, problem_id=problem_id,
            limit=limit, offset=offset,
        )  # fmt: skip
    await _audit_read(ctx, principal, found, "api_comm_errors")
    return {"errors": [_out(store, e) for e in found]}


@router.get(
    "/v1/communication-errors/{error_id}",
    responses=answers(401, 403, 404),
    response_model=ErrorOut,
    summary="One error: harm, severity and why, clocks and what happens next",
)
async def get_error(error_id: Id, principal: Reader, ctx: Ctx, store: Policies) -> dict[str, Any]:
    with unit_of_work(ctx.engine, write=False) as session:
        found = view(session, error_id)
    await _audit_read(ctx, principal, [found], "api_comm_error")
    return _out(store, found)


@router.post(
    "/v1/communication-errors/{error_id}/acknowledge",
    responses=answers(401, 403, 404, 409),
    response_model=ErrorOut,
    summary="Acknowledge an error (its acknowledgement clock stops)",
)
async def post_acknowledge(error_id: Id, principal: Writer, ctx: Ctx, store: Policies) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        return _out(store, acknowledge(session, error_id, actor=principal))


@router.post(
    "/v1/communication-errors/{error_id}/resolve",
    responses=answers(400, 401, 403, 404, 409),
    response_model=ErrorOut,
    summary="Resolve an error with what was done",
)
async def post_resolve(error_id: Id, body: NoteIn, principal: Writer, ctx: Ctx, store: Policies) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        return _out(store, resolve(session, error_id, body.note, actor=principal))


@router.post(
    "/v1/communication-errors/{error_id}/regulatory",
    responses=answers(400, 401, 403, 404, 409),
    response_model=ErrorOut,
    summary="Record the regulatory decision (the authority was told, or it is not reportable)",
)
async def post_regulatory(
    error_id: Id, body: DecisionIn, principal: Writer, ctx: Ctx, store: Policies
) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        return _out(store, settle_regulatory(session, error_id, body.decision, actor=principal))


@router.post(
    "/v1/communication-errors/{error_id}/fix",
    responses=answers(400, 401, 403, 404, 409),
    response_model=ErrorOut,
    summary="Fix a simple error at first contact through a correction and close it (also needs profiles:write)",
)
async def post_fix(error_id: Id, body: FixIn, principal: Writer, ctx: Ctx, store: Policies) -> dict[str, Any]:
    if "profiles:write" not in principal.scopes:
        raise Forbidden("fixing an error corrects the customer's record: the key also needs profiles:write")
    with unit_of_work(ctx.engine) as session:
        fixed = fix_at_contact(
            session, store.current(), error_id, body.traits, actor=principal, pipeline=ctx.identity, reason=body.reason
        )
    return _out(store, fixed)


@router.post(
    "/v1/communication-errors/{error_id}/resend",
    responses=answers(400, 401, 403, 404, 409),
    response_model=ErrorOut,
    summary="Correct the wrong value on the record and re-send the communication with it (also needs profiles:write)",
)
async def post_resend(
    request: Request, error_id: Id, body: ResendIn, principal: Writer, ctx: Ctx, store: Policies
) -> dict[str, Any]:
    if "profiles:write" not in principal.scopes:
        raise Forbidden("re-sending corrects the customer's record: the key also needs profiles:write")
    catalog: Catalog = request.app.state.templates
    with unit_of_work(ctx.engine) as session:
        sent = correct_and_resend(
            session, store.current(), error_id, body.value, actor=principal, pipeline=ctx.identity, catalog=catalog,
            consent=ctx.identity.consent, trait=body.trait,
        )  # fmt: skip
    return _out(store, sent)


@router.get(
    "/v1/communication-problems/{problem_id}",
    responses=answers(401, 403, 404),
    response_model=ProblemOut,
    summary="A problem: errors sharing one root cause",
)
async def get_problem(problem_id: Id, principal: Reader, ctx: Ctx) -> dict[str, Any]:
    with unit_of_work(ctx.engine, write=False) as session:
        return problem_view(session, problem_id).as_dict()


def _radius(found: BlastRadius) -> dict[str, Any]:
    return {
        "total": found.total,
        "reported": found.reported,
        "others": found.others,
        "runs": [
            {"batch": r.batch, "template": r.template, "template_version": r.template_version,
             "source_system": r.source_system}
            for r in found.runs
        ],
        "recipients": [
            {
                "communication_id": r.member.communication_id, "profile_id": r.member.profile_id,
                "channel": r.member.channel, "is_reported": r.is_reported, "action": r.action,
                "notice_communication_id": r.notice_id, "notice_status": r.notice_status,
            }
            for r in found.recipients
        ],
        "next_after": found.next_after,
    }  # fmt: skip


@router.get(
    "/v1/communication-problems/{problem_id}/blast-radius",
    responses=answers(401, 403, 404),
    response_model=BlastRadiusOut,
    summary="Everyone else the problem's runs reached: counted, listed, with what was done for each",
)
async def get_blast_radius(
    problem_id: Id,
    principal: Reader,
    ctx: Ctx,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,  # a row id: beyond any id a row can have is refused
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    with unit_of_work(ctx.engine, write=False) as session:
        found = blast_radius(session, problem_id, after_id=after, limit=limit)
    people = sorted({r.member.profile_id for r in found.recipients if r.member.profile_id is not None})
    detail = {"view": "api_blast_radius", "problem": problem_id}
    await record_many_async(ctx.audit, principal, "read", "profile", [(pid, detail) for pid in people])
    return _radius(found)


@router.post(
    "/v1/communication-problems/{problem_id}/close",
    responses=answers(400, 401, 403, 404, 409),
    response_model=ProblemOut,
    summary="Close a problem with its root cause and corrective action",
)
async def post_close(problem_id: Id, body: CloseIn, principal: Writer, ctx: Ctx) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        closed = close_problem(
            session, problem_id, root_cause=body.root_cause, corrective_action=body.corrective_action, actor=principal
        )
    return closed.as_dict()


@router.post(
    "/v1/communication-problems/{problem_id}/link",
    responses=answers(400, 401, 403, 404),
    response_model=ProblemOut,
    summary="Link errors to this problem (a person's judgement of a shared cause)",
)
async def post_link(problem_id: Id, body: ErrorIdsIn, principal: Writer, ctx: Ctx) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        return link(session, problem_id, body.error_ids, actor=principal).as_dict()


@router.post(
    "/v1/communication-problems/{problem_id}/split",
    responses=answers(400, 401, 403, 404),
    response_model=ProblemOut,
    summary="Split errors off into a problem of their own; answers the new problem",
)
async def post_split(problem_id: Id, body: ErrorIdsIn, principal: Writer, ctx: Ctx) -> dict[str, Any]:
    with unit_of_work(ctx.engine) as session:
        return split(session, problem_id, body.error_ids, actor=principal).as_dict()


@router.post(
    "/v1/communication-problems/{problem_id}/notify",
    responses=answers(400, 401, 403, 404, 409),
    response_model=NotifiedOut,
    summary="Send everyone else the runs reached a correction notice through the outbox",
)
async def post_notify(problem_id: Id, request: Request, principal: Writer, ctx: Ctx, store: Policies) -> dict[str, int]:
    catalog: Catalog = request.app.state.templates
    with unit_of_work(ctx.engine) as session:
        notified, skipped = notify_recipients(
            session, problem_id, catalog=catalog, consent=ctx.identity.consent,
            template=store.current().notice_template, actor=principal,
        )  # fmt: skip
    return {"notified": notified, "skipped": skipped}
