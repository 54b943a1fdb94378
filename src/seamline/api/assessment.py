"""The communications assessment over HTTP: one route per report, for a server key with `reports:read`.
Aggregates only (no person), so reads are not audited. `?format=csv` gives the inventory as CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel

from seamline.api.deps import requires_key
from seamline.api.openapi import errors
from seamline.api.segments import segment_members
from seamline.assessment.bottlenecks import Break, JourneyStep, PathLatency
from seamline.assessment.effectiveness import EffectivenessRow
from seamline.assessment.export import csv_text
from seamline.assessment.inventory import InventoryRow
from seamline.assessment.redundancy import Redundancy
from seamline.assessment.scope import Scope, scope_of
from seamline.assessment.service import Assessment
from seamline.core.principal import Principal

router = APIRouter(prefix="/v1/assessment", tags=["assessment"])
Analyst = Annotated[Principal, Depends(requires_key("reports:read"))]
ERRORS = errors(400, 401, 403)


async def _assessment(request: Request) -> Assessment:
    found: Assessment = request.app.state.assessment
    return found


Reports = Annotated[Assessment, Depends(_assessment)]


def _scope(
    since: Annotated[date | None, Query(description="First day (UTC), included")] = None,
    until: Annotated[date | None, Query(description="Last day (UTC), included")] = None,
    product: Annotated[str | None, Query(max_length=200)] = None,
    type: Annotated[str | None, Query(max_length=32, description="statement, notice, marketing…")] = None,
    source_system: Annotated[str | None, Query(max_length=100)] = None,
    platform: Annotated[str | None, Query(max_length=100)] = None,
    communication: Annotated[str | None, Query(max_length=100)] = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
) -> Scope:
    focus = {"source_system": source_system, "platform": platform, "communication": communication, "channel": channel}
    return scope_of(since, until, product, type, focus)


Scoped = Annotated[Scope, Depends(_scope)]


@router.get("/inventory", response_model=list[InventoryRow], responses=ERRORS)
async def inventory(
    _key: Analyst, reports: Reports, scope: Scoped, format: Literal["json", "csv"] = "json"
) -> list[InventoryRow] | Response:
    """Every communication, one row each; `flags` says `undeclared` (in the log, no template) or `never_sent`."""
    rows = await run_in_threadpool(reports.inventory, scope)
    if format == "csv":
        return Response(csv_text([r.as_record() for r in rows]), media_type="text/csv; charset=utf-8")
    return rows


class FlowNodeOut(BaseModel):
    index: int
    stage: Literal["source_system", "platform", "communication", "channel"]
    name: str
    volume: int


class FlowEdgeOut(BaseModel):
    source_stage: str
    source: str
    target_stage: str
    target: str
    volume: int
    failed: int
    failure_share: float


class FlowMapOut(BaseModel):
    total: int
    nodes: list[FlowNodeOut]
    edges: list[FlowEdgeOut]


@router.get("/flow-map", response_model=FlowMapOut, responses=ERRORS)
async def flow_map(_key: Analyst, reports: Reports, scope: Scoped) -> FlowMapOut:
    """Data sources → platforms → communications → channels, with volumes and failures on every edge."""
    flow = await run_in_threadpool(reports.flow_map, scope)
    return FlowMapOut.model_validate(flow.as_data())


SegmentSplit = Annotated[
    str | None,
    Query(
        max_length=64,
        description="`product`: a row per product too; a customer segment (segments.yaml): a row for its members "
        "and one for everyone else",
    ),
]


@router.get("/effectiveness", response_model=list[EffectivenessRow], responses=ERRORS)
async def effectiveness(
    request: Request, _key: Analyst, reports: Reports, scope: Scoped, segment: SegmentSplit = None
) -> list[EffectivenessRow]:
    """Per channel x communication (x product, or x a customer segment's members and everyone else): delivery,
    engagement, conversion, complaints, cost, contacts after."""
    if segment is None or segment == "product":
        return await run_in_threadpool(lambda: reports.effectiveness(scope, segment=segment))
    name, members = await run_in_threadpool(segment_members, request, segment)  # a 400 naming `segment`
    return await run_in_threadpool(lambda: reports.effectiveness(scope, segment=name, members=members))


class BottlenecksOut(BaseModel):
    breaks: list[Break]
    paths: list[PathLatency]
    steps: list[JourneyStep]  # journeys' steps, slowest first (whole picture or a period only)


@router.get("/bottlenecks", response_model=BottlenecksOut, responses=ERRORS)
async def bottlenecks(_key: Analyst, reports: Reports, scope: Scoped) -> BottlenecksOut:
    """Breaks, worst first, latency (p50/p95, seconds) per path, and journey steps' times (p50/p95, seconds from
    the step becoming current to its completion) with the instances waiting or stopped at each, slowest first."""
    found = await run_in_threadpool(reports.bottlenecks, scope)
    return BottlenecksOut(breaks=list(found.breaks), paths=list(found.paths), steps=list(found.steps))


@router.get("/redundancy", response_model=list[Redundancy], responses=errors(401, 403))
async def redundancy(_key: Analyst, reports: Reports) -> list[Redundancy]:
    """Places collecting a field people had already given elsewhere, most effort wasted first."""
    return await run_in_threadpool(reports.redundancy)
