"""The reports area: the index of every report a role may open with the saved reports, the CX overview dashboard,
the one export of every table (CSV and JSON), and saving and scheduling reports. Aggregates only: no person is
shown, so nothing here is audited but changes to schedules (which send figures out by email).

Charts are drawn as on the communications pages (console/charts.py, plotly.js served by Seamline): these pages
allow scripts from this server; every other page keeps "no script at all".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from seamline.console import charts
from seamline.console.auth import Ctx, Form, requires
from seamline.console.communications import CHART_CSP
from seamline.console.pages import HEADERS, render
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, InvalidInput, NotFound
from seamline.core.ids import Id
from seamline.reports import service
from seamline.reports.catalog import ReportEntry, entry
from seamline.reports.dashboards import Dashboards
from seamline.reports.export import FORMATS, MEDIA, encoded
from seamline.reports.filters import FILTER_PARAMS, FILTERS, SPLITS, BadFilter, Filters, filters_of
from seamline.users.permissions import VIEW_REPORTS, may
from seamline.users.service import SignedIn

router = APIRouter(prefix="/console/reports")
Reporter = Annotated[SignedIn, Depends(requires(VIEW_REPORTS))]
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


async def _dashboards(request: Request) -> Dashboards:
    found: Dashboards = request.app.state.dashboards
    return found


Computer = Annotated[Dashboards, Depends(_dashboards)]


def _filters(request: Request) -> Filters:
    dashboards: Dashboards = request.app.state.dashboards
    try:
        return filters_of({k: request.query_params.get(k) for k in FILTER_PARAMS}, dashboards.segments)
    except BadFilter as e:
        raise InvalidInput([FieldError(e.field, "invalid", str(e))], "bad filter") from None


def _opened(user: SignedIn, key: str) -> ReportEntry:
    found = entry(key)
    if found is None or not may(user.user.role, found.permission):
        raise NotFound(f"report {key!r} not found")  # a report the role may not open is not there for it
    return found


def _back(saved: str) -> Response:
    return RedirectResponse(f"/console/reports?saved={saved}", status_code=303, headers=HEADERS)


@router.get("", include_in_schema=False)
async def index(request: Request, user: Reporter, ctx: Ctx, saved: str = "") -> Response:
    with unit_of_work(ctx.engine, write=False) as session:
        rows = service.saved_reports(session, user.user)
    return render(
        request, "reports.html", user, reports=service.visible_reports(user.user.role), saved_reports=rows,
        done=saved, weekdays=WEEKDAYS,
    )  # fmt: skip


@router.get("/overview", include_in_schema=False)
async def overview(request: Request, user: Reporter, dashboards: Computer) -> Response:
    found = _opened(user, "overview")
    filters = _filters(request)
    dashboard = await run_in_threadpool(dashboards.compute, found, filters, user.user.role)
    figures = {t.key: charts.figure_of(t.chart) for t in dashboard.tiles if t.chart is not None}
    page = render(
        request, "reports_overview.html", user, dashboard=dashboard, filters=filters, figures=figures,
        all_filters=FILTERS, splits=SPLITS, segments=dashboards.segments, selected_segment=filters.segment,
    )  # fmt: skip
    page.headers["Content-Security-Policy"] = CHART_CSP
    return page


@router.get("/export/{report}/{tile}/{table}", include_in_schema=False)
async def export(
    request: Request, report: str, tile: str, table: str, user: Reporter, dashboards: Computer, format: str = "csv"
) -> Response:
    found = _opened(user, report)
    if format not in FORMATS:
        raise InvalidInput([FieldError("format", "invalid", "csv or json")], "bad format")
    filters = _filters(request)
    dashboard = await run_in_threadpool(dashboards.compute, found, filters, user.user.role)
    rows = dashboard.table(tile, table)
    if rows is None:
        raise NotFound(f"no table {tile}/{table} in {report}")
    disposition = f'attachment; filename="{report}-{tile}-{table}.{format}"'
    return Response(
        encoded(rows, format), media_type=MEDIA[format], headers={**HEADERS, "Content-Disposition": disposition}
    )


@router.post("/saved", include_in_schema=False)
async def save(user: Reporter, form: Form, ctx: Ctx, dashboards: Computer) -> Response:
    try:
        filters = filters_of(form, dashboards.segments)
    except BadFilter as e:
        raise InvalidInput([FieldError(e.field, "invalid", str(e))], "bad filter") from None
    with unit_of_work(ctx.engine) as session:
        service.save_report(
            session, user.user, form.get("name", ""), form.get("report", ""), filters,
            shared=form.get("shared") == "yes", now=utcnow(), params=form,
        )  # fmt: skip
    return _back("saved")


@router.get("/saved/{saved_id}", include_in_schema=False)
async def open_saved(saved_id: Id, user: Reporter, ctx: Ctx) -> Response:
    with unit_of_work(ctx.engine, write=False) as session:
        found = service.saved_report(session, user.user, saved_id)
    return RedirectResponse(found.link, status_code=303, headers=HEADERS)


@router.post("/saved/{saved_id}/delete", include_in_schema=False)
async def delete_saved(saved_id: Id, user: Reporter, _form: Form, ctx: Ctx) -> Response:
    with unit_of_work(ctx.engine) as session:
        service.delete_saved_report(session, user.user, saved_id)
    return _back("deleted")


def _number(form: dict[str, str], name: str) -> int | None:
    value = form.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 2:
        raise InvalidInput([FieldError(name, "invalid", f"{name} must be a small whole number")], "bad schedule")
    return int(value)


@router.post("/saved/{saved_id}/schedules", include_in_schema=False)
async def schedule(saved_id: Id, user: Reporter, form: Form, ctx: Ctx, dashboards: Computer) -> Response:
    recipients = [a for a in form.get("recipients", "").replace(",", "\n").splitlines() if a.strip()]
    hour = _number(form, "hour")
    with unit_of_work(ctx.engine) as session:
        service.schedule_report(
            session, user.user, saved_id, recipients, form.get("cadence", ""), 7 if hour is None else hour,
            _number(form, "weekday"), now=utcnow(), max_recipients=dashboards.config.max_recipients,
        )  # fmt: skip
    return _back("scheduled")


@router.post("/schedules/{schedule_id}/delete", include_in_schema=False)
async def delete_schedule(schedule_id: Id, user: Reporter, _form: Form, ctx: Ctx) -> Response:
    with unit_of_work(ctx.engine) as session:
        service.delete_schedule(session, user.user, schedule_id)
    return _back("unscheduled")
