"""Journeys in the console: the customer page's open journeys (current step, what was given and where, the SLA
clock of a step waiting on the bank), an agent completing a step they are allowed to with the customer on the
line (recorded as done by the agent through the call center), and the journeys board for supervisors and analysts:
open, stalled and abandoned instances by definition and step; supervisors also list them, each opening its
customer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from seamline.audit.service import record, record_async
from seamline.cases.sla import BusinessCalendar
from seamline.console.auth import Ctx, Form, requires
from seamline.console.cases import Config
from seamline.console.pages import HEADERS, render
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.errors import NotFound
from seamline.core.ids import Id
from seamline.identity.service import active_header, root_of
from seamline.journeys import actions, installed, service
from seamline.journeys.board import board, listing
from seamline.journeys.progress import STATUSES
from seamline.journeys.takeover import take_over
from seamline.journeys.views import view_of
from seamline.users.permissions import VIEW_CUSTOMERS, VIEW_JOURNEYS, WORK_JOURNEYS, may
from seamline.users.service import SignedIn

router = APIRouter(prefix="/console")
Worker = Annotated[SignedIn, Depends(requires(WORK_JOURNEYS))]
Watcher = Annotated[SignedIn, Depends(requires(VIEW_JOURNEYS))]
CALL_CENTER = "call-center"
SURFACE = "console"
LISTED = 100


def _calendar(request: Request) -> BusinessCalendar:
    calendar: BusinessCalendar = request.app.state.journeys.calendar
    return calendar


def open_journeys_of(session: Session, request: Request, profile_id: int) -> list[dict[str, Any]]:
    """The customer page's open journeys, as dicts the template reads (most recently active first)."""
    definitions = installed.running_definitions(session)
    now = utcnow()
    out = []
    for row in service.open_journeys(session, profile_id):
        if row.journey in definitions:
            out.append(view_of(session, row, definitions).as_dict(_calendar(request), now))
    return out


@router.post("/customers/{profile_id}/journeys/{instance_id}/steps/{step}", include_in_schema=False)
async def post_step(profile_id: Id, instance_id: str, step: str, user: Worker, form: Form, ctx: Ctx) -> Response:
    """Complete a step for the customer on the line: the same action the journey API runs, as the agent."""
    fields = {k.removeprefix("field."): v.strip() for k, v in form.items() if k.startswith("field.") and v.strip()}
    with unit_of_work(ctx.engine) as session:
        profile = active_header(session, profile_id)
        actor = actions.Actor(CALL_CENTER, agent=user.user.username)
        row = actions.save(session, ctx.identity, instance_id, step, fields, actor, complete=True)
        detail = {"journey": row.journey, "instance": row.public_id, "step": step, "completed": True}
        record(session, user.user.principal, "change", "profile", int(profile.id), detail)
    return RedirectResponse(f"/console/customers/{int(profile.id)}?saved=journey", status_code=303, headers=HEADERS)


@router.post("/customers/{profile_id}/journeys/{instance_id}/case", include_in_schema=False)
async def post_case(profile_id: Id, instance_id: str, user: Worker, ctx: Ctx, config: Config) -> Response:
    """Take the journey over as a case: the case records the journey and its step, and its handoff summary starts
    with what the customer already gave and what is left, so whoever picks it up asks nothing again."""
    name = user.user.username
    with unit_of_work(ctx.engine) as session:
        profile = active_header(session, profile_id)
        row = service.instance(session, instance_id)
        if root_of(session, row.profile_id) != int(profile.id):
            raise NotFound(f"customer {profile_id} has no journey {instance_id}")
        taken = take_over(
            session, config, row, profile_id=int(profile.id), origin_profile_id=profile_id, channel="phone",
            assignee=name, actor=name, surface=SURFACE,
        )  # fmt: skip
        action = "open" if taken.is_new else "read"  # a journey with an open case: that case, not a second one
        detail = {"case": taken.case_id, "action": action, "journey": row.journey, "instance": row.public_id}
        record(session, user.user.principal, "change" if taken.is_new else "read", "profile", int(profile.id), detail)
    saved = "opened" if taken.is_new else "journey_case"
    return RedirectResponse(f"/console/cases/{taken.case_id}?saved={saved}", status_code=303, headers=HEADERS)


@router.get("/journeys", include_in_schema=False)
async def journeys_board(
    request: Request, user: Watcher, ctx: Ctx, journey: str = "", status: str = "", step: str = ""
) -> Response:
    """Counts by definition, step and status; a supervisor also sees the instances behind a count."""
    shows_people = may(user.user.role, VIEW_CUSTOMERS)
    wanted = {"journey": journey[:64] or None, "status": status if status in STATUSES else None}
    with unit_of_work(ctx.engine, write=False) as session:
        rows = board(session)
        people = (
            listing(session, wanted["journey"], wanted["status"], step[:64] or None, LISTED)
            if shows_people and (journey or status)
            else []
        )
    if people:
        await record_async(
            ctx.audit, user.user.principal, "read", "profile", people[0].profile_id, {"view": "journeys board"}
        )
        for row in people[1:]:
            await record_async(
                ctx.audit, user.user.principal, "read", "profile", row.profile_id, {"view": "journeys board"}
            )
    return render(
        request,
        "journeys.html",
        user,
        rows=rows,
        people=people,
        filters={"journey": journey, "status": status, "step": step},
    )
