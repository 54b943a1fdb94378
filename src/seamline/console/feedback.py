"""The feedback page: CSAT, NPS and CES over a period, and the answers rolled up by touchpoint, agent, journey step,
communication type and survey, each beside the communication errors and cases of the same people (aggregates only,
never a person: `reports:view`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from seamline.console.auth import Ctx, requires
from seamline.console.pages import render
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.feedback.rollups import DIMENSIONS, overall, rollup, score_trend
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


@router.get("/reports/feedback", include_in_schema=False)
async def feedback_page(
    request: Request, user: Analyst, ctx: Ctx, days: Annotated[int, Query(ge=1, le=3660)] = 30
) -> Response:
    """The figures of the period, the weekly trend, and one rollup table per dimension."""
    until = utcnow()
    since = until - timedelta(days=days)
    with unit_of_work(ctx.engine, write=False) as session:
        figures = overall(session, since=since, until=until)
        trend = score_trend(session, since=since, until=until, bucket="week" if days > 31 else "day")
        tables = {d: rollup(session, by=d, since=since, until=until) for d in DIMENSIONS}
    return render(
        request, "feedback.html", user, figures=figures, trend=trend, tables=tables, titles=TITLES, days=days,
        periods=PERIODS,
    )  # fmt: skip
