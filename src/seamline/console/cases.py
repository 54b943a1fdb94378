"""The case pages: the queues (filters, my cases, overdue, the supervisors' escalated queue) and one case with
its handoff summary first, its SLA clocks and its whole thread. The forms that change a case are in
case_actions.py; both call the cases services the API calls."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from seamline.audit.service import AuditWriter, record_async
from seamline.cases.config import CasesConfig
from seamline.cases.lifecycle import ACTIVE, CHANNELS, PRIORITIES, STATUSES, TRANSITIONS, moves_from
from seamline.cases.service import get_case, handoff_history, list_cases
from seamline.cases.sla import Clock
from seamline.cases.views import CaseView, SlaView
from seamline.console.auth import Ctx, requires
from seamline.console.pages import render
from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, Forbidden, InvalidInput
from seamline.core.ids import Id, parse_id
from seamline.core.principal import Principal
from seamline.identity.service import root_of
from seamline.journeys import installed as journey_installed
from seamline.journeys import service as journey_service
from seamline.profiles.service import display_names
from seamline.users.permissions import SUPERVISE_CASES, VIEW_CASES, may
from seamline.users.service import SignedIn, list_users

router = APIRouter(prefix="/console")
PAGE_SIZE = 25
CaseViewer = Annotated[SignedIn, Depends(requires(VIEW_CASES))]
SAVED = {
    "opened": "The case is opened.",
    "entry": "Added to the thread.",
    "handoff": "The handoff summary is saved as a new version.",
    "status": "The status is changed.",
    "priority": "The priority is changed; the SLA clocks follow it.",
    "picked": "The case is yours.",
    "assigned": "The case is reassigned.",
    "escalated": "The case is escalated to the supervisors' queue.",
    "journey_case": "The journey already has this case: here it is, rather than a second one.",
}
# What each status is called on a button or in a list, in the agent's words.
STATUS_ACTIONS = {
    "open": "Open (working on it)",
    "pending-customer": "Pending customer (waiting for their answer; clocks pause)",
    "resolved": "Resolve",
    "closed": "Close (final)",
}
# Channels an agent replies on; "console" and "api" are surfaces, not ways of reaching a customer.
REPLY_CHANNELS = tuple(c for c in CHANNELS if c not in ("console", "api"))
# The statuses the queues show unless asked otherwise: someone still owes the customer something.
ACTIVE_FILTER = "active"


async def cases_config(request: Request) -> CasesConfig:
    """The `[cases]` settings the app was made with (async: a plain-def dependency would run in a thread)."""
    config: CasesConfig = request.app.state.cases
    return config


Config = Annotated[CasesConfig, Depends(cases_config)]


def _span(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


@dataclass(frozen=True, slots=True)
class ClockLine:
    """One SLA clock as the page says it: its name, due time, and in words how it stands."""

    name: str
    clock: Clock
    text: str
    css: str


def clock_line(name: str, clock: Clock) -> ClockLine:
    """How an SLA clock stands, in words (time left and late are business time)."""
    if clock.state == "met":
        late = f", {_span(clock.remaining_seconds)} late" if clock.is_breached else ""
        return ClockLine(name, clock, f"met{late}", "late" if clock.is_breached else "met")
    if clock.state == "stopped":
        return ClockLine(name, clock, "stopped: the case is resolved or closed", "stopped")
    if clock.is_breached:
        text = f"overdue by {_span(clock.remaining_seconds)}"
        return ClockLine(name, clock, text + (" (paused)" if clock.state == "paused" else ""), "overdue")
    if clock.state == "paused":
        return ClockLine(name, clock, f"paused while pending customer: {_span(clock.remaining_seconds)} left", "paused")
    return ClockLine(name, clock, f"{_span(clock.remaining_seconds)} left", "running")


def clock_lines(sla: SlaView) -> tuple[ClockLine, ClockLine]:
    return clock_line("First response", sla.first_response), clock_line("Resolution", sla.resolution)


async def audit_listed(audit: AuditWriter, principal: Principal, cases: list[CaseView], view: str) -> None:
    """One read entry per customer whose cases a list shows, all committed before the page leaves."""
    by_profile: dict[int, list[int]] = {}
    for case in cases:
        by_profile.setdefault(case.profile_id, []).append(case.id)
    await asyncio.gather(
        *(
            record_async(audit, principal, "read", "profile", pid, {"view": view, "cases": ids})
            for pid, ids in by_profile.items()
        )
    )


@router.get("/cases", include_in_schema=False)
async def queues(
    request: Request,
    user: CaseViewer,
    ctx: Ctx,
    config: Config,
    queue: str = "",
    status: str = ACTIVE_FILTER,
    assignee: str = "",
    overdue: str = "",
    escalated: str = "",
    profile: str = "",
    before: str = "",
) -> Response:
    """The queues: every filter is a query parameter, so each view is a link (my cases, overdue, escalated)."""
    is_escalated = escalated == "1"
    if is_escalated and not may(user.user.role, SUPERVISE_CASES):
        raise Forbidden("the escalated queue is the supervisors'")
    if status not in (ACTIVE_FILTER, "", *STATUSES):
        raise InvalidInput([FieldError("status", "invalid", f"status must be one of {', '.join(STATUSES)}")])
    if assignee not in ("", "me", "none"):
        raise InvalidInput([FieldError("assignee", "invalid", "assignee is me, none, or empty for anyone")])
    filters = {
        "queue": queue.strip()[:64],
        "status": status,
        "assignee": assignee,
        "overdue": "1" if overdue == "1" else "",
        "escalated": "1" if is_escalated else "",
        "profile": profile.strip()[:20],
    }
    with unit_of_work(ctx.engine, write=False) as session:
        profile_id = parse_id("profile", filters["profile"])
        page = list_cases(
            session,
            config,
            queue=filters["queue"] or None,
            statuses=ACTIVE if status == ACTIVE_FILTER else ([status] if status else None),
            assignee={"me": user.user.username, "none": "", "": None}[assignee],
            profile_id=root_of(session, profile_id) if profile_id is not None else None,
            is_escalated=True if is_escalated else None,
            is_overdue=True if filters["overdue"] else None,
            limit=PAGE_SIZE,
            before=parse_id("before", before),
        )
        # Agents work queues by who the customer is: one query names every row's customer.
        customers = display_names(session, sorted({c.profile_id for c in page.cases}))
    await audit_listed(ctx.audit, user.user.principal, page.cases, "console_cases")
    query = {k: v for k, v in filters.items() if v}
    next_page = f"/console/cases?{urlencode({**query, 'before': page.next_before})}" if page.next_before else None
    return render(
        request,
        "cases.html",
        user,
        cases=[(c, clock_lines(c.sla)) for c in page.cases],
        customers=customers,
        filters=filters,
        is_filtered=bool(query.keys() - {"status"}) or status != ACTIVE_FILTER,
        statuses=STATUSES,
        queues=sorted({config.default_queue, config.supervisor_queue}),
        next_page=next_page,
        is_first_page=not before,
    )


@router.get("/cases/{case_id}", include_in_schema=False)
async def case_page(
    request: Request, case_id: Id, user: CaseViewer, ctx: Ctx, config: Config, saved: str = ""
) -> Response:
    """One case: the handoff summary first, then where the case stands and its clocks, then the whole thread."""
    with unit_of_work(ctx.engine, write=False) as session:
        case = get_case(session, config, case_id)
        versions = handoff_history(session, case_id)
        workers = [u.username for u in list_users(session) if not u.is_disabled and may(u.role, VIEW_CASES)]
        customer = display_names(session, [case.profile_id]).get(case.profile_id)
        journey = _journey_of(session, case)
    await record_async(
        ctx.audit, user.user.principal, "read", "profile", case.profile_id, {"view": "console_case", "case": case.id}
    )
    moves = moves_from(case.status, may_supervise=may(user.user.role, SUPERVISE_CASES))
    return render(
        request,
        "case.html",
        user,
        case=case,
        customer=customer,
        earlier_versions=versions[1:],
        clocks=clock_lines(case.sla),
        moves=[(s, STATUS_ACTIONS[s]) for s in moves],
        may_escalate="escalated" in TRANSITIONS[case.status],
        priorities=PRIORITIES,
        reply_channels=REPLY_CHANNELS,
        workers=workers,
        supervisor_queue=config.supervisor_queue,
        saved=SAVED.get(saved, ""),
        journey=journey,
    )


def _journey_of(session: Session, case: CaseView) -> dict[str, Any] | None:
    """The journey a case hands over, as the case page shows it: where it stands now and the step it was at."""
    if case.journey_instance_id is None:
        return None
    found = journey_service.instance_or_none(session, case.journey_instance_id)
    definition = journey_installed.running_definitions(session).get(found.journey) if found else None
    if found is None or definition is None:
        return {"instance_id": case.journey_instance_id, "name": None}

    def named(step: str | None) -> str | None:
        known = definition.step(step) if step else None
        return known.name if known else step

    return {
        "instance_id": found.public_id,
        "name": definition.name,
        "status": found.status,
        "current": named(found.current_step),
        "at_handoff": named(case.journey_step),
        "last_activity_at": found.last_activity_at,
    }
