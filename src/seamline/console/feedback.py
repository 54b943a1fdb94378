"""The feedback page: CSAT, NPS and CES over a period, and the answers rolled up by touchpoint, agent, journey step,
communication type and survey, each beside the communication errors and cases of the same people (aggregates only,
never a person: `reports:view`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from seamline.console.auth import Ctx, requires
from seamline.console.downloads import Format, download
from seamline.console.pages import render
from seamline.console.segments import chosen_segment
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.feedback.rollups import DIMENSIONS, QuestionRow, RollupRow, by_question, overall, rollup, score_trend
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


def _question_record(row: QuestionRow) -> dict[str, Any]:
    """A question's row with its spread as one column per score (s0 … s10), as a table downloads."""
    out = {k: v for k, v in row.as_dict().items() if k != "histogram"}
    return out | {f"s{score}": n for score, n in row.histogram}


@router.get("/reports/feedback", include_in_schema=False)
async def feedback_page(
    request: Request,
    user: Analyst,
    ctx: Ctx,
    days: Annotated[int, Query(ge=1, le=3660)] = 30,
    segment: Annotated[str | None, Query(max_length=64, description="a customer segment: its answers only")] = None,
    format: Format = None,
    table: Annotated[str, Query(pattern=f"^(trend|question|{'|'.join(DIMENSIONS)})$")] = "trend",
) -> Response:
    """The figures of the period, the weekly trend, and one rollup table per dimension (or one of them, as a file)."""
    until = utcnow()
    since = until - timedelta(days=days)
    chosen = await run_in_threadpool(chosen_segment, request, segment)
    people = chosen.members
    with unit_of_work(ctx.engine, write=False) as session:
        figures = overall(session, since=since, until=until, people=people)
        trend = score_trend(session, since=since, until=until, bucket="week" if days > 31 else "day", people=people)
        tables = {d: rollup(session, by=d, since=since, until=until, people=people) for d in DIMENSIONS}
        questions = by_question(session, since=since, until=until, people=people)
    if format:
        if table == "trend":
            return download("feedback-trend", [p.as_dict() for p in trend], format)
        if table == "question":
            return download("feedback-by-question", [_question_record(q) for q in questions], format)
        return download(f"feedback-by-{table}", [_flat(r) for r in tables[table]], format)
    return render(
        request, "feedback.html", user, figures=figures, trend=trend, tables=tables, titles=TITLES, days=days,
        periods=PERIODS, questions=questions, segments=chosen.choices, selected_segment=chosen.key,
        query={"days": days, **({"segment": chosen.key} if chosen.key else {})},
    )  # fmt: skip
