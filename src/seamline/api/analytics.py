"""Journey analytics over HTTP, for a server key with `analytics:read`: funnels, detours (paths), cross-channel
completion and repeated identification, as JSON or (`?format=csv`) CSV. Aggregates are not audited; the people
behind a funnel's number are personal data, so that route also needs `profiles:read` and every id it lists is
audited as a read of that profile.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from seamline.analytics.export import (
    cross_channel_records,
    csv_text,
    funnel_records,
    identification_records,
    path_records,
)
from seamline.analytics.service import MAX_PEOPLE, MAX_WINDOW_HOURS, Analytics, FunnelQuery, Period, audit_people
from seamline.analytics.steps import MAX_STEPS
from seamline.api.deps import requires_key
from seamline.api.openapi import errors
from seamline.api.segments import Segmented
from seamline.core.db import unit_of_work
from seamline.core.errors import Forbidden
from seamline.core.principal import Principal

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])
Analyst = Annotated[Principal, Depends(requires_key("analytics:read"))]
ERRORS = errors(400, 401, 403)


async def _may_see_people(principal: Analyst) -> Principal:
    if not principal.may("profiles:read"):
        raise Forbidden("the people behind a number are personal data: the key also needs profiles:read")
    return principal


PeopleReader = Annotated[Principal, Depends(_may_see_people)]
Format = Literal["json", "csv"]
STEP_HELP = "A step: an event name, NAME[property=value], or journey:KEY.STEP (repeat for each step, in order)"


async def _analytics(request: Request) -> Analytics:
    found: Analytics = request.app.state.analytics
    return found


Reports = Annotated[Analytics, Depends(_analytics)]


def _period(
    since: Annotated[date | None, Query(description="First day (UTC) people entered, included")] = None,
    until: Annotated[date | None, Query(description="Last day (UTC), included")] = None,
) -> Period:
    return Period(since, until)


Periodic = Annotated[Period, Depends(_period)]


def _funnel(
    period: Periodic,
    steps: Annotated[list[str], Query(description=STEP_HELP)],
    segmented: Segmented,
    window_hours: Annotated[int, Query(ge=1, le=MAX_WINDOW_HOURS, description="Conversion window from step 1")] = 720,
    breakdown: Literal["channel", "device", "source"] | None = None,
) -> FunnelQuery:
    segment, people = segmented  # only the segment's members enter
    return FunnelQuery(tuple(s[:300] for s in steps), period, window_hours, breakdown, segment, people)


Asked = Annotated[FunnelQuery, Depends(_funnel)]


def _answer(data: Any, records: list[dict[str, Any]], format: Format) -> Any:
    if format == "csv":
        return Response(csv_text(records), media_type="text/csv; charset=utf-8")
    return data


@router.get("/funnels", responses=ERRORS)
async def funnels(_key: Analyst, reports: Reports, query: Asked, format: Format = "json") -> Any:
    """Per step (and breakdown group): reached, conversion, drop-off, median and p90 seconds from the step before."""
    funnel = await run_in_threadpool(reports.funnel, query)
    data = {
        "steps": list(funnel.steps),
        "window_hours": funnel.window_hours,
        "breakdown": funnel.breakdown,
        "figures": funnel_records(funnel),
    }
    return _answer(data, funnel_records(funnel), format)


@router.get("/funnels/people", responses=errors(400, 401, 403))
async def funnel_people(
    principal: PeopleReader,
    reports: Reports,
    query: Asked,
    step: Annotated[int, Query(ge=1, le=MAX_STEPS, description="The step (1-based)")],
    outcome: Literal["reached", "dropped"] = "reached",
    group: Annotated[str | None, Query(max_length=200, description="The breakdown's group")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PEOPLE)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """The profile ids behind one number (also needs `profiles:read`; every id listed is audited as read)."""
    found = await run_in_threadpool(
        lambda: reports.people(query, step=step, outcome=outcome, group=group, limit=limit, offset=offset)
    )
    with unit_of_work(reports.engine) as session:
        audit_people(session, principal, query, found)
    return asdict(found)


@router.get("/paths", responses=ERRORS)
async def paths(
    _key: Analyst,
    reports: Reports,
    query: Asked,
    step: Annotated[int, Query(ge=1, le=MAX_STEPS, description="Paths of who dropped off at this step")] = 1,
    depth: Annotated[int, Query(ge=1, le=10, description="Touches per path")] = 3,
    horizon_hours: Annotated[int | None, Query(ge=1, le=MAX_WINDOW_HOURS)] = None,
    top: Annotated[int, Query(ge=1, le=100)] = 20,
    format: Format = "json",
) -> Any:
    """What people did next after dropping off at a step: the commonest paths of events, journey steps,
    communications and cases, with how many took each."""
    view = await run_in_threadpool(
        lambda: reports.paths(query, at=step, depth=depth, horizon_hours=horizon_hours, top=top)
    )
    data = {
        "step": view.step, "label": view.label, "who": view.who, "people": view.people, "depth": view.depth,
        "horizon_seconds": view.horizon_seconds,
        "paths": [{"path": list(p.path), "people": p.people, "share": p.share} for p in view.paths],
        "first_touches": [{"touch": t, "people": n} for t, n in view.first_touches],
    }  # fmt: skip
    return _answer(data, path_records(view), format)


@router.get("/repeated-identification", responses=ERRORS)
async def repeated_identification(_key: Analyst, reports: Reports, period: Periodic, format: Format = "json") -> Any:
    """How often people identified again within a day and within a journey, and across how many channels."""
    found = await run_in_threadpool(reports.repeated_identification, period)
    return _answer(asdict(found), identification_records(found), format)


@router.get("/cross-channel", responses=ERRORS)
async def cross_channel(_key: Analyst, reports: Reports, period: Periodic, format: Format = "json") -> Any:
    """Journeys completed on another channel or device than they began on, or at the branch."""
    found = await run_in_threadpool(reports.cross_channel, period)
    return _answer(asdict(found), cross_channel_records(found), format)
