"""The reports area's dashboards over HTTP, for a server key with `reports:read` (as the assessment's API): a
dashboard's tiles with their tables, and any one table as CSV or JSON. Aggregates only (no person), so reads are
not audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel

from seamline.api.deps import requires_key
from seamline.api.openapi import errors
from seamline.core.errors import FieldError, InvalidInput, NotFound
from seamline.core.principal import Principal
from seamline.reports.catalog import ReportEntry, entry
from seamline.reports.dashboards import SERVER_KEY, Dashboard, Dashboards
from seamline.reports.export import MEDIA, encoded
from seamline.reports.filters import BadFilter, Filters, filters_of
from seamline.reports.tiles import Tile

router = APIRouter(prefix="/v1/reports", tags=["reports"])
Analyst = Annotated[Principal, Depends(requires_key("reports:read"))]
ERRORS = errors(400, 401, 403, 404)


async def _dashboards(request: Request) -> Dashboards:
    found: Dashboards = request.app.state.dashboards
    return found


Computer = Annotated[Dashboards, Depends(_dashboards)]


def _filters(
    request: Request,
    since: Annotated[str | None, Query(max_length=10, description="First day (UTC, YYYY-MM-DD), included")] = None,
    until: Annotated[str | None, Query(max_length=10, description="Last day (UTC), included")] = None,
    product: Annotated[str | None, Query(max_length=200)] = None,
    channel: Annotated[str | None, Query(max_length=32, description="email, sms, paper…")] = None,
    segment: Annotated[
        str | None, Query(max_length=64, description="a customer segment (segments.yaml): its members' figures only")
    ] = None,
    split: Annotated[Literal["product"] | None, Query(description="figures per product, where a tile can")] = None,
) -> Filters:
    dashboards: Dashboards = request.app.state.dashboards
    values = {"since": since, "until": until, "product": product, "channel": channel, "segment": segment}
    try:
        return filters_of({**values, "split": split}, dashboards.segments)
    except BadFilter as e:
        raise InvalidInput([FieldError(e.field, "invalid", str(e))], "bad filter") from None


Filtered = Annotated[Filters, Depends(_filters)]


class TableOut(BaseModel):
    key: str
    title: str
    columns: list[str]
    rows: list[dict[str, Any]]


class TileOut(BaseModel):
    key: str
    title: str
    available: bool  # False: the part that fills it is not installed
    note: str
    figures: dict[str, str]
    filters: list[str]  # the filters this tile applies
    tables: list[TableOut]


class DashboardOut(BaseModel):
    report: str
    title: str
    filters: dict[str, str]
    computed_at: datetime
    tiles: list[TileOut]


def _tile(tile: Tile) -> TileOut:
    return TileOut(
        key=tile.key, title=tile.title, available=tile.available, note=tile.note, figures=dict(tile.figures),
        filters=sorted(tile.supports),
        tables=[TableOut(key=t.key, title=t.title, columns=list(t.columns), rows=t.records()) for t in tile.tables],
    )  # fmt: skip


def _dashboard_entry(report: str) -> ReportEntry:
    found = entry(report)
    if found is None or not found.is_dashboard:
        raise NotFound(f"no dashboard {report!r}")
    return found


async def _compute(dashboards: Dashboards, report: str, filters: Filters) -> Dashboard:
    found = _dashboard_entry(report)
    return await run_in_threadpool(dashboards.compute, found, filters, SERVER_KEY)


@router.get("/{report}", response_model=DashboardOut, responses=ERRORS)
async def dashboard(report: str, _key: Analyst, dashboards: Computer, filters: Filtered) -> DashboardOut:
    """A dashboard (`overview`): every tile with its headline figures and tables, for these filters."""
    found = await _compute(dashboards, report, filters)
    return DashboardOut(
        report=found.entry.key, title=found.entry.title, filters=filters.as_query(), computed_at=found.computed_at,
        tiles=[_tile(t) for t in found.tiles],
    )  # fmt: skip


@router.get("/{report}/{tile}/{table}", responses=ERRORS)
async def table(
    report: str, tile: str, table: str, _key: Analyst, dashboards: Computer, filters: Filtered,
    format: Literal["json", "csv"] = "json",
) -> Response:  # fmt: skip
    """One table of a dashboard as JSON (a list of records) or CSV: the console's export."""
    found = (await _compute(dashboards, report, filters)).table(tile, table)
    if found is None:
        raise NotFound(f"no table {tile}/{table} in {report}")
    return Response(encoded(found, format), media_type=MEDIA[format])
