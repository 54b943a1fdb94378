"""The feedback page: CSAT, NPS and CES over a period, and the answers rolled up by touchpoint, agent, journey step,
communication type and survey, each beside the communication errors and cases of the same people (aggregates only,
never a person: `reports:view`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from seamline.console.auth import Ctx, requires
from seamline.console.downloads import Format, download
from seamline.console.pages import render
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.feedback.rollups import DIMENSIONS, RollupRow, overall, rollup, score_trend
from seamline.users.permissions import VIEW_REPORTS
from seamline.users.service import SignedIn

router = APIRouter(prefix="/console")
Analyst = Annotated[SignedIn, Depends(requires(VIEW_REPORTS))]
PERIODS = (7, 30, 90, 365)
TITLES = {
    "touchpoint": "By touchpoint",
    "agent": "By agent",
    "journey_step": "By journey step",
    "communication_type": "By communication type",
    "survey": "By survey",
}


def _flat(row: RollupRow) -> dict[str, Any]:
    """A rollup row with its figure per kind as columns (csat, nps, ces), as a table downloads."""
    out = {k: v for k, v in row.as_dict().items() if k != "figures"}
    return out | {f.kind: f.score for f in row.figures}


@router.get("/reports/feedback", include_in_schema=False)
async def feedback_page(
    request: Request,
    user: Analyst,
    ctx: Ctx,
    days: Annotated[int, Query(ge=1, le=3660)] = 30,
    format: Format = None,
    table: Annotated[str, Query(pattern=f"^(trend|{'|'.join(DIMENSIONS)})$")] = "trend",
) -> Response:
    """The figures of the period, the weekly trend, and one rollup table per dimension (or one of them, as a file)."""
    until = utcnow()
    since = until - timedelta(days=days)
    with unit_of_work(ctx.engine, write=False) as session:
        figures = overall(session, since=since, until=until)
        trend = score_trend(session, since=since, until=until, bucket="week" if days > 31 else "day")
        tables = {d: rollup(session, by=d, since=since, until=until) for d in DIMENSIONS}
    if format:
        if table == "trend":
            return download("feedback-trend", [p.as_dict() for p in trend], format)
        return download(f"feedback-by-{table}", [_flat(r) for r in tables[table]], format)
    return render(
        request, "feedback.html", user, figures=figures, trend=trend, tables=tables, titles=TITLES, days=days,
        periods=PERIODS,
    )  # fmt: skip
