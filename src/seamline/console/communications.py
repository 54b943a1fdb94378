"""The communications area: the assessment's inventory, flow map, effectiveness, bottlenecks and redundant
collection, for analysts and communications owners. Aggregates only: no person is shown, so nothing is audited.

Charts are plotly.js figures built in console/charts.py, drawn by /console/static/charts.js with the plotly.js
file the `plotly` package installed (served below, never from a CDN). These pages therefore allow scripts from
this server (and the inline styles plotly sets on its SVG); every other console page keeps "no script at all".
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response

from seamline.assessment.export import REPORTS, csv_text, report_records
from seamline.assessment.scope import STAGE_LABELS, STAGES, Scope, scope_of
from seamline.assessment.service import Assessment
from seamline.console import charts
from seamline.console.auth import current_user, requires
from seamline.console.pages import HEADERS, render
from seamline.core.db import unit_of_work
from seamline.core.errors import Forbidden
from seamline.reports.dashboards import Dashboards
from seamline.users.permissions import ASSESS_COMMUNICATIONS, VIEW_REPORTS, may
from seamline.users.service import SignedIn

router = APIRouter(prefix="/console")
Assessor = Annotated[SignedIn, Depends(requires(ASSESS_COMMUNICATIONS))]
CHART_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
TABS = (
    ("inventory", "/console/communications", "Inventory"),
    ("flow", "/console/communications/flow", "Flow map"),
    ("effectiveness", "/console/communications/effectiveness", "Effectiveness"),
    ("bottlenecks", "/console/communications/bottlenecks", "Bottlenecks"),
    ("redundancy", "/console/communications/redundancy", "Redundant collection"),
)


async def _assessment(request: Request) -> Assessment:
    found: Assessment = request.app.state.assessment
    return found


Reports = Annotated[Assessment, Depends(_assessment)]


def _scope(
    since: Annotated[date | None, Query()] = None,
    until: Annotated[date | None, Query()] = None,
    product: Annotated[str | None, Query(max_length=200)] = None,
    type: Annotated[str | None, Query(max_length=32)] = None,
    source_system: Annotated[str | None, Query(max_length=100)] = None,
    platform: Annotated[str | None, Query(max_length=100)] = None,
    communication: Annotated[str | None, Query(max_length=100)] = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
) -> Scope:
    focus = {"source_system": source_system, "platform": platform, "communication": communication, "channel": channel}
    return scope_of(since, until, product, type, focus)


Scoped = Annotated[Scope, Depends(_scope)]


def _page(request: Request, template: str, user: SignedIn, tab: str, scope: Scope, **values: Any) -> Response:
    page = render(request, template, user, tabs=TABS, tab=tab, scope=scope, stage_labels=STAGE_LABELS, **values)
    page.headers["Content-Security-Policy"] = CHART_CSP
    return page


async def _draws_charts(user: Annotated[SignedIn, Depends(current_user)]) -> SignedIn:
    """The user, when some page their role opens draws charts: the assessment's, or the reports (errors' too)."""
    if not (may(user.user.role, ASSESS_COMMUNICATIONS) or may(user.user.role, VIEW_REPORTS)):
        raise Forbidden(f"the {user.user.role} role opens no page that draws charts")
    return user


@router.get("/charts/plotly.min.js", include_in_schema=False)
async def plotly_js(_user: Annotated[SignedIn, Depends(_draws_charts)]) -> FileResponse:
    """plotly.js as the installed `plotly` package ships it (its version pinned by the package's)."""
    return FileResponse(
        charts.PLOTLY_JS, media_type="text/javascript", headers={"Cache-Control": "private, max-age=86400"}
    )


@router.get("/communications", include_in_schema=False)
async def inventory_page(request: Request, user: Assessor, reports: Reports, scope: Scoped) -> Response:
    rows = await run_in_threadpool(reports.inventory, scope)
    return _page(request, "communications_inventory.html", user, "inventory", scope, rows=rows)


@router.get("/communications/flow", include_in_schema=False)
async def flow_page(request: Request, user: Assessor, reports: Reports, scope: Scoped) -> Response:
    flow = await run_in_threadpool(reports.flow_map, scope)
    figure = charts.sankey(flow)
    return _page(request, "communications_flow.html", user, "flow", scope, flow=flow, figure=figure, stages=STAGES)


def _segments(request: Request) -> dict[str, str]:
    """The customer segments of the segments file (key → title), as the reports' filter offers them."""
    dashboards: Dashboards | None = getattr(request.app.state, "dashboards", None)
    return dashboards.segments if dashboards is not None else {}


def _split(request: Request, segment: str | None) -> tuple[str | None, frozenset[int] | None]:
    """Effectiveness's split: by product, or by a customer segment's members (read now) against everyone else;
    none for an unknown segment (a link saved before the segment was removed)."""
    if segment == "product":
        return segment, None
    dashboards: Dashboards | None = getattr(request.app.state, "dashboards", None)
    if segment is None or dashboards is None or dashboards.audience is None or segment not in dashboards.segments:
        return None, None
    with unit_of_work(dashboards.engine, write=False) as session:
        return segment, dashboards.audience.members(session, segment)


@router.get("/communications/effectiveness", include_in_schema=False)
async def effectiveness_page(
    request: Request, user: Assessor, reports: Reports, scope: Scoped, segment: Annotated[str | None, Query()] = None
) -> Response:
    segment, members = await run_in_threadpool(_split, request, segment)
    rows = await run_in_threadpool(lambda: reports.effectiveness(scope, segment=segment, members=members))
    names = [f"{r.communication} · {r.channel}" + (f" · {r.segment}" if r.segment else "") for r in rows[:20]]
    figure = charts.bars(
        names,
        {
            "delivered": [r.delivery_rate for r in rows[:20]],
            "opened": [r.open_rate for r in rows[:20]],
            "converted": [r.conversion_rate for r in rows[:20]],
            "contacted us after": [r.contacts_after_rate for r in rows[:20]],
        },
        title="Effectiveness by communication and channel",
        percent=True,
    )
    days = reports.config.contacts_after_days
    return _page(
        request, "communications_effectiveness.html", user, "effectiveness", scope, rows=rows, figure=figure,
        segment=segment, segments=_segments(request), days=days,
    )  # fmt: skip


@router.get("/communications/bottlenecks", include_in_schema=False)
async def bottlenecks_page(request: Request, user: Assessor, reports: Reports, scope: Scoped) -> Response:
    found = await run_in_threadpool(reports.bottlenecks, scope)
    slow = sorted(found.paths, key=lambda p: -(p.delivery_p95_seconds or 0))[:15]
    figure = charts.bars(
        [p.path for p in slow],
        {
            "send p95 (h)": [(p.send_p95_seconds or 0) / 3600 for p in slow],
            "delivery p95 (h)": [(p.delivery_p95_seconds or 0) / 3600 for p in slow],
        },
        title="Slowest paths: hours to send and to deliver (p95)",
        horizontal=True,
    )
    slowest = [s for s in found.steps if s.p95_seconds is not None][:15]
    steps_figure = charts.bars(
        [f"{s.journey} → {s.step}" for s in slowest],
        {
            "p50 (h)": [(s.p50_seconds or 0) / 3600 for s in slowest],
            "p95 (h)": [(s.p95_seconds or 0) / 3600 for s in slowest],
        },
        title="Slowest journey steps: hours from the step becoming current to its completion",
        horizontal=True,
    )
    return _page(
        request, "communications_bottlenecks.html", user, "bottlenecks", scope,
        found=found, figure=figure, steps_figure=steps_figure,
    )  # fmt: skip


@router.get("/communications/redundancy", include_in_schema=False)
async def redundancy_page(request: Request, user: Assessor, reports: Reports, scope: Scoped) -> Response:
    rows = await run_in_threadpool(reports.redundancy)
    top = rows[:15]
    figure = charts.bars(
        [f"{r.place} · {r.field}" for r in top],
        {"already held": [r.already_held for r in top], "disagreed": [r.disagreed for r in top]},
        title="Asked again for what people had already given",
        horizontal=True,
    )
    return _page(request, "communications_redundancy.html", user, "redundancy", scope, rows=rows, figure=figure)


@router.get("/communications/export/{report}", include_in_schema=False)
async def export(
    request: Request,
    report: str,
    _user: Assessor,
    reports: Reports,
    scope: Scoped,
    format: Annotated[str, Query()] = "csv",
    segment: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    if report not in REPORTS or format not in ("csv", "json"):
        return Response("Unknown report or format.", status_code=404, headers=HEADERS, media_type="text/plain")
    if report == "flow" and format == "json":
        body: bytes | str = orjson.dumps((await run_in_threadpool(reports.flow_map, scope)).as_data())
    else:
        split, members = await run_in_threadpool(_split, request, segment if report == "effectiveness" else None)
        records = await run_in_threadpool(
            lambda: report_records(reports, report, scope, segment=split, members=members)
        )
        body = orjson.dumps(records) if format == "json" else csv_text(records)
    media = "application/json" if format == "json" else "text/csv; charset=utf-8"
    disposition = f'attachment; filename="{report}.{format}"'
    return Response(body, media_type=media, headers={**HEADERS, "Content-Disposition": disposition})
