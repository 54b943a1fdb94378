"""The forms that change a case: open one from the customer page, add a note or a reply, write the handoff
summary, change status and priority, pick up, reassign, escalate.

Each calls the same cases service function the API route does, with the console user's name as the actor and
the console as the surface, and audits the change in its transaction. A refused move (a closed case, someone
else's case) is a 409 page saying why; bad input a 400 page naming the field; nothing changes in either case.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from seamline.audit.service import record
from seamline.cases.service import add_entry, get_case, open_case, update_handoff
from seamline.cases.thread import EntryInput
from seamline.cases.views import CaseView
from seamline.cases.workflow import assign, change_priority, change_status, escalate, pick_up
from seamline.console.auth import Ctx, Form, requires
from seamline.console.cases import Config
from seamline.console.pages import HEADERS
from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, Forbidden, InvalidInput, NotFound
from seamline.core.ids import Id
from seamline.identity.service import active_header
from seamline.users.permissions import SUPERVISE_CASES, VIEW_CASES, WORK_CASES, may
from seamline.users.service import SignedIn, get_user

router = APIRouter(prefix="/console")
Worker = Annotated[SignedIn, Depends(requires(WORK_CASES))]
Supervisor = Annotated[SignedIn, Depends(requires(SUPERVISE_CASES))]
SURFACE = "console"


def _back(case_id: int, saved: str) -> Response:
    return RedirectResponse(f"/console/cases/{case_id}?saved={saved}", status_code=303, headers=HEADERS)


def _audited(session: Session, user: SignedIn, view: CaseView, action: str, **detail: Any) -> Response:
    """Audit a change of a case in its transaction, as the API does, and go back to the case."""
    detail = {"case": view.id, "action": action, **detail}
    record(session, user.user.principal, "change", "profile", view.profile_id, detail)
    return _back(
        view.id,
        {"open": "opened", "pick_up": "picked", "assign": "assigned", "escalate": "escalated"}.get(action, action),
    )


@router.post("/customers/{profile_id}/cases", include_in_schema=False)
async def post_open(profile_id: Id, user: Worker, form: Form, ctx: Ctx, config: Config) -> Response:
    """Open a case for the customer on the line, with what they said as its first note. It is the agent's own
    case unless they send it to a queue, so a case someone opened is never nobody's."""
    name = user.user.username
    note = form.get("note", "")
    channel = form.get("channel", "phone")
    queue = form.get("queue", "").strip() or None
    with unit_of_work(ctx.engine) as session:
        profile = active_header(session, profile_id)
        view = open_case(
            session,
            config,
            profile_id=int(profile.id),
            origin_profile_id=profile_id,
            subject=form.get("subject", ""),
            channel=channel,
            priority=form.get("priority", "normal"),
            queue=queue,
            assignee=name if queue is None else None,
            first_entry=EntryInput(SURFACE, "internal", note, "agent", name) if note.strip() else None,
            actor=name,
            surface=SURFACE,
        )
        return _audited(session, user, view, "open")


@router.post("/cases/{case_id}/entries", include_in_schema=False)
async def post_entry(case_id: Id, user: Worker, form: Form, ctx: Ctx, config: Config) -> Response:
    """A note for colleagues (internal), or a reply the agent gave the customer on a channel (outbound)."""
    kind = form.get("kind", "note")
    if kind not in ("note", "reply"):
        raise InvalidInput([FieldError("kind", "invalid", "kind is note or reply")])
    channel = form.get("channel", "") if kind == "reply" else SURFACE
    direction = "outbound" if kind == "reply" else "internal"
    entry = EntryInput(channel, direction, form.get("body", ""), "agent", user.user.username)
    with unit_of_work(ctx.engine) as session:
        added = add_entry(session, config, case_id, entry, actor=user.user.username, surface=SURFACE)
        return _audited(session, user, get_case(session, config, case_id), "entry", entry=added.id)


@router.post("/cases/{case_id}/handoff", include_in_schema=False)
async def post_handoff(case_id: Id, user: Worker, form: Form, ctx: Ctx, config: Config) -> Response:
    """A new version of the handoff summary; the earlier ones stay readable."""
    with unit_of_work(ctx.engine) as session:
        written = update_handoff(
            session,
            case_id,
            verified=form.get("verified", ""),
            customer_said=form.get("customer_said", ""),
            tried=form.get("tried", ""),
            next_step=form.get("next_step", ""),
            actor=user.user.username,
            surface=SURFACE,
        )
        return _audited(session, user, get_case(session, config, case_id), "handoff", version=written.version)


@router.post("/cases/{case_id}/status", include_in_schema=False)
async def post_status(case_id: Id, user: Worker, form: Form, ctx: Ctx, config: Config) -> Response:
    """Pending customer, resolve, reopen, close: as the state machine allows from where the case is; an escalated
    case is moved on (its escalation settled) by a supervisor only."""
    status = form.get("status", "")
    if not status:
        raise InvalidInput([FieldError("status", "required", "choose a status")])
    with unit_of_work(ctx.engine) as session:
        view = change_status(
            session,
            config,
            case_id,
            status,
            reason=form.get("reason") or None,
            may_supervise=may(user.user.role, SUPERVISE_CASES),
            actor=user.user.username,
            surface=SURFACE,
        )
        return _audited(session, user, view, "status", status=status)


@router.post("/cases/{case_id}/priority", include_in_schema=False)
async def post_priority(case_id: Id, user: Worker, form: Form, ctx: Ctx, config: Config) -> Response:
    priority = form.get("priority", "")
    with unit_of_work(ctx.engine) as session:
        view = change_priority(
            session,
            config,
            case_id,
            priority,
            reason=form.get("reason") or None,
            actor=user.user.username,
            surface=SURFACE,
        )
        return _audited(session, user, view, "priority", priority=priority)


@router.post("/cases/{case_id}/pick-up", include_in_schema=False)
async def post_pick_up(case_id: Id, user: Worker, _form: Form, ctx: Ctx, config: Config) -> Response:
    """Take an unassigned case. An escalated one waits for a supervisor: picking it up is theirs."""
    with unit_of_work(ctx.engine) as session:
        if get_case(session, config, case_id).status == "escalated" and not may(user.user.role, SUPERVISE_CASES):
            raise Forbidden("an escalated case is picked up by a supervisor")
        view = pick_up(session, config, case_id, actor=user.user.username, surface=SURFACE)
        return _audited(session, user, view, "pick_up", assignee=user.user.username)


@router.post("/cases/{case_id}/assign", include_in_schema=False)
async def post_assign(case_id: Id, user: Supervisor, form: Form, ctx: Ctx, config: Config) -> Response:
    """A supervisor gives a case to a colleague who works cases (or to nobody), optionally moving its queue."""
    assignee = form.get("assignee", "").strip() or None
    queue = form.get("queue", "").strip() or None
    with unit_of_work(ctx.engine) as session:
        if assignee is not None:
            try:
                colleague = get_user(session, assignee)
            except NotFound:
                colleague = None
            if colleague is None or colleague.is_disabled or not may(colleague.role, VIEW_CASES):
                problem = f"{assignee!r} is not a colleague who works cases"
                raise InvalidInput([FieldError("assignee", "invalid", problem)])
        view = assign(session, config, case_id, assignee, queue=queue, actor=user.user.username, surface=SURFACE)
        return _audited(session, user, view, "assign", assignee=assignee)


@router.post("/cases/{case_id}/escalate", include_in_schema=False)
async def post_escalate(case_id: Id, user: Worker, form: Form, ctx: Ctx, config: Config) -> Response:
    """To the supervisors' queue, unassigned, with the reason on the case (required)."""
    with unit_of_work(ctx.engine) as session:
        view = escalate(
            session,
            config,
            case_id,
            reason=form.get("reason", ""),
            queue=form.get("queue", "").strip() or None,
            actor=user.user.username,
            surface=SURFACE,
        )
        return _audited(session, user, view, "escalate", queue=view.queue)
