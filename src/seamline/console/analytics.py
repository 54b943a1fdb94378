"""Journey analytics in the reports area: funnels (with cross-channel completion and repeated identification
beside them) and the paths people took after dropping off, for roles that view reports. The numbers are
aggregates; the people behind a number are listed only for roles that may also view customers, each id audited.

Charts are plotly.js figures from console/charts.py drawn by /console/static/charts.js; these pages allow scripts
from this server, like the communications area.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from seamline.analytics.export import cross_channel_records, funnel_records, identification_records, path_records
from seamline.analytics.service import MAX_WINDOW_HOURS, Analytics, Funnel, FunnelQuery, Period, audit_people
from seamline.analytics.steps import BREAKDOWNS, MAX_STEPS
from seamline.console import charts
from seamline.console.auth import requires
from seamline.console.communications import CHART_CSP
from seamline.console.downloads import Format, download
from seamline.console.pages import render
from seamline.console.segments import chosen_segment
from seamline.core.db import unit_of_work
from seamline.core.errors import Forbidden, InvalidInput
from seamline.users.permissions import VIEW_CUSTOMERS, VIEW_REPORTS, may
from seamline.users.service import SignedIn

router = APIRouter(prefix="/console/reports")
Viewer = Annotated[SignedIn, Depends(requires(VIEW_REPORTS))]


async def _may_see_people(user: Viewer) -> SignedIn:
    if not may(user.user.role, VIEW_CUSTOMERS):
        raise Forbidden("the people behind a number are personal data: your role shows the numbers only")
    return user


PeopleViewer = Annotated[SignedIn, Depends(_may_see_people)]
EXAMPLE = ("Application Started", "Documents Uploaded", "Application Submitted", "Offer Accepted")
TABS = (
    ("funnels", "/console/reports/funnels", "Funnels"),
    ("paths", "/console/reports/paths", "Paths after a drop-off"),
)


async def _analytics(request: Request) -> Analytics:
    found: Analytics = request.app.state.analytics
    return found


Reports = Annotated[Analytics, Depends(_analytics)]


def _form(
    request: Request,
    steps: Annotated[str | None, Query(max_length=4000, description="One step per line")] = None,
    since: Annotated[date | None, Query()] = None,
    until: Annotated[date | None, Query()] = None,
    window_hours: Annotated[int, Query(ge=1, le=MAX_WINDOW_HOURS)] = 720,
    breakdown: Annotated[str | None, Query(max_length=16)] = None,
    segment: Annotated[str | None, Query(max_length=64, description="a customer segment: who may enter")] = None,
) -> FunnelQuery:
    lines = [line.strip() for line in (steps or "\n".join(EXAMPLE)).splitlines() if line.strip()]
    chosen = chosen_segment(request, segment)  # a sync dependency: FastAPI runs it in its thread pool
    return FunnelQuery(tuple(lines), Period(since, until), window_hours, breakdown or None, chosen.key, chosen.members)


Asked = Annotated[FunnelQuery, Depends(_form)]


def _page(request: Request, template: str, user: SignedIn, tab: str, query: FunnelQuery, **values: Any) -> Response:
    form = {
        "steps": "\n".join(query.steps),
        "since": query.period.since.isoformat() if query.period.since else "",
        "until": query.period.until.isoformat() if query.period.until else "",
        "window_hours": query.window_hours,
        "breakdown": query.breakdown or "",
        "segment": query.segment or "",
    }
    values.setdefault("problems", [])
    segments = chosen_segment(request, None).choices
    page = render(request, template, user, tabs=TABS, tab=tab, form=form, breakdowns=BREAKDOWNS, segments=segments,
                  selected_segment=query.segment, **values)  # fmt: skip
    page.headers["Content-Security-Policy"] = CHART_CSP
    return page


def _funnel_figure(funnel: Funnel) -> charts.Figure:
    series: dict[str, list[int]] = {"everyone": [f.reached for f in funnel.overall]}
    if funnel.breakdown:
        series = {}
        for f in funnel.figures:
            if f.group is not None:
                series.setdefault(f.group, []).append(f.reached)
        series = dict(list(series.items())[:8])
    return charts.funnel(list(funnel.steps), series, title="People reaching each step")


@router.get("/funnels", include_in_schema=False)
async def funnels_page(
    request: Request,
    user: Viewer,
    reports: Reports,
    query: Asked,
    format: Format = None,
    table: Annotated[str, Query(pattern="^(funnel|cross_channel|repeated_identification)$")] = "funnel",
) -> Response:
    try:
        funnel = await run_in_threadpool(reports.funnel, query)
    except InvalidInput as bad:
        if format:
            raise
        return _page(request, "reports_funnels.html", user, "funnels", query, problems=bad.errors, funnel=None,
                     status=400)  # fmt: skip
    cross = await run_in_threadpool(reports.cross_channel, query.period)
    identified = await run_in_threadpool(reports.repeated_identification, query.period)
    if format:
        tables = {"funnel": lambda: funnel_records(funnel), "cross_channel": lambda: cross_channel_records(cross),
                  "repeated_identification": lambda: identification_records(identified)}  # fmt: skip
        return download(table, tables[table](), format)
    return _page(
        request, "reports_funnels.html", user, "funnels", query, funnel=funnel, figure=_funnel_figure(funnel),
        cross=cross, identified=identified, may_list=may(user.user.role, VIEW_CUSTOMERS), problems=[],
    )  # fmt: skip


@router.get("/funnels/people", include_in_schema=False)
async def people_page(
    request: Request,
    user: PeopleViewer,
    reports: Reports,
    query: Asked,
    step: Annotated[int, Query(ge=1, le=MAX_STEPS)],
    outcome: Annotated[str, Query(max_length=16)] = "reached",
    group: Annotated[str | None, Query(max_length=200)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    found = await run_in_threadpool(
        lambda: reports.people(query, step=step, outcome=outcome, group=group, limit=100, offset=offset)
    )
    with unit_of_work(reports.engine) as session:
        audit_people(session, user.user.principal, query, found)
    return _page(request, "reports_people.html", user, "funnels", query, people=found)


@router.get("/paths", include_in_schema=False)
async def paths_page(
    request: Request,
    user: Viewer,
    reports: Reports,
    query: Asked,
    step: Annotated[int, Query(ge=1, le=MAX_STEPS)] = 1,
    depth: Annotated[int, Query(ge=1, le=10)] = 3,
    format: Format = None,
) -> Response:
    try:
        view = await run_in_threadpool(lambda: reports.paths(query, at=step, depth=depth, top=15))
    except InvalidInput as bad:
        if format:
            raise
        return _page(request, "reports_paths.html", user, "paths", query, problems=bad.errors, step=step,
                     depth=depth, view=None, status=400)  # fmt: skip
    if format:
        return download("paths", path_records(view), format)
    shown = list(reversed(view.paths))  # plotly draws horizontal bars bottom-up: the commonest path on top
    figure = charts.bars(
        [p.text for p in shown], {"people": [p.people for p in shown]}, title="What people did next", horizontal=True
    )
    return _page(request, "reports_paths.html", user, "paths", query, view=view, figure=figure, step=step,
                 depth=depth, problems=[])  # fmt: skip
