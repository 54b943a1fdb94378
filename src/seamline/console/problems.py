"""The problem page (its incidents, blast radius and timeline; close, split, notify everyone else) and the errors
reports (aggregates only: by harm, template, source system, channel; clocks against policy)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from seamline.audit.service import record_many_async
from seamline.communications.templates import Catalog
from seamline.console import charts
from seamline.console.auth import Ctx, Form, requires
from seamline.console.communications import CHART_CSP
from seamline.console.downloads import Format, download
from seamline.console.errors_queue import Policies
from seamline.console.pages import HEADERS, render
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, InvalidInput, NotFound
from seamline.core.ids import Id
from seamline.errors.problems import (
    blast_radius,
    close_problem,
    notify_recipients,
    problem_timeline,
    problem_view,
    split,
)
from seamline.errors.reports import DIMENSIONS, clock_report, counts, over_time
from seamline.errors.service import error_queue
from seamline.users.permissions import SUPERVISE_CASES, VIEW_CASES, VIEW_REPORTS, may
from seamline.users.service import SignedIn

router = APIRouter(prefix="/console")
Viewer = Annotated[SignedIn, Depends(requires(VIEW_CASES))]
Supervisor = Annotated[SignedIn, Depends(requires(SUPERVISE_CASES))]
Analyst = Annotated[SignedIn, Depends(requires(VIEW_REPORTS))]
WEEKS_CHARTED = 12
SAVED = {
    "close": "The problem is closed with its root cause and corrective action.",
    "split": "The errors are split off into a problem of their own.",
    "notify": "Correction notices are queued for everyone else the run reached.",
}


@router.get("/problems/{problem_id}", include_in_schema=False)
async def problem_page(
    request: Request, problem_id: Id, user: Viewer, ctx: Ctx, after: Id = 0, saved: str = "", notified: str = ""
) -> Response:
    """A problem: its incidents, its blast radius (counted, a page listed, with what was done for each) and its
    timeline."""
    with unit_of_work(ctx.engine, write=False) as session:
        problem = problem_view(session, problem_id)
        incidents = error_queue(session, is_open=True, problem_id=problem_id, limit=200)
        incidents += error_queue(session, is_open=False, problem_id=problem_id, limit=200)
        radius = blast_radius(session, problem_id, after_id=max(after, 0), limit=100)
        steps = problem_timeline(session, problem_id)
    people = sorted({r.member.profile_id for r in radius.recipients if r.member.profile_id is not None})
    detail = {"view": "console_problem", "problem": problem_id}
    # One batch for the page's people (one transaction), not one sync per person.
    await record_many_async(ctx.audit, user.user.principal, "read", "profile", [(pid, detail) for pid in people])
    return render(
        request,
        "problem.html",
        user,
        problem=problem,
        incidents=sorted(incidents, key=lambda e: e.id),
        radius=radius,
        timeline=steps,
        may_supervise=may(user.user.role, SUPERVISE_CASES),
        saved=SAVED.get(saved),
        notified=notified,
    )


@router.post("/problems/{problem_id}/{action}", include_in_schema=False)
async def post_problem(
    request: Request, problem_id: Id, action: str, user: Supervisor, form: Form, ctx: Ctx, store: Policies
) -> Response:
    """close (root cause and corrective action), split (the errors named), notify (everyone else the run reached)."""
    principal = user.user.principal
    query = f"saved={action}"
    with unit_of_work(ctx.engine) as session:
        if action == "close":
            close_problem(
                session, problem_id, root_cause=form.get("root_cause", ""),
                corrective_action=form.get("corrective_action", ""), actor=principal,
            )  # fmt: skip
        elif action == "split":
            ids = [int(v) for v in form.get("error_ids", "").replace(",", " ").split() if v.isdigit()]
            if not ids:
                raise InvalidInput([FieldError("error_ids", "required", "name the errors to split off")])
            problem_id = split(session, problem_id, ids, actor=principal).id
        elif action == "notify":
            catalog: Catalog = request.app.state.templates
            notified, skipped = notify_recipients(
                session, problem_id, catalog=catalog, consent=ctx.identity.consent,
                template=store.current().notice_template, actor=principal,
            )  # fmt: skip
            query += f"&notified={notified}+notified,+{skipped}+skipped"
        else:
            raise NotFound(f"no action {action!r} on a problem")
    return RedirectResponse(f"/console/problems/{problem_id}?{query}", status_code=303, headers=HEADERS)


def _weekly_rows(weekly: dict[str, Any]) -> list[dict[str, Any]]:
    """The weekly series as one row per week: errors by severity, and the shares within the policy's clocks."""
    return [
        {"week": week, **{s: counts[i] for s, counts in weekly["by_severity"].items()},
         "acknowledged_in_time": weekly["acknowledged_in_time"][i], "resolved_in_time": weekly["resolved_in_time"][i]}
        for i, week in enumerate(weekly["weeks"])
    ]  # fmt: skip


@router.get("/error-reports", include_in_schema=False)
async def reports(
    request: Request,
    user: Analyst,
    ctx: Ctx,
    days: Annotated[int, Query(ge=1, le=3650)] = 30,
    format: Format = None,
    table: Annotated[str, Query(pattern=f"^(clocks|weekly|{'|'.join(DIMENSIONS)})$")] = "clocks",
) -> Response:
    """Errors by harm, template, source system and channel, and time to acknowledge and resolve against policy (or
    one of those tables, as a file)."""
    days = min(max(days, 1), 366)
    since = utcnow() - timedelta(days=days)
    with unit_of_work(ctx.engine, write=False) as session:
        tables = {d: counts(session, d, since) for d in DIMENSIONS}
        clocks = clock_report(session, since)
        weekly = over_time(session, weeks=WEEKS_CHARTED).series()
    if format:
        if table == "clocks":
            return download("errors-clocks", [asdict(c) for c in clocks], format)
        if table == "weekly":
            return download("errors-weekly", _weekly_rows(weekly), format)
        return download(f"errors-by-{table}", [{table: k, "errors": n} for k, n in tables[table]], format)
    figures = {
        "by-severity": charts.bars(
            weekly["weeks"], weekly["by_severity"], title="Errors reported per week, by severity", stacked=True
        ),
        "in-time": charts.lines(
            weekly["weeks"],
            {
                "acknowledged within policy": weekly["acknowledged_in_time"],
                "resolved within policy": weekly["resolved_in_time"],
            },
            title="Share acknowledged and resolved within the policy's clocks, by week reported",
            percent=True,
        ),
    }
    page = render(request, "error_reports.html", user, tables=tables, clocks=clocks, days=days, figures=figures)
    page.headers["Content-Security-Policy"] = CHART_CSP  # the charts' script, served by Seamline itself
    return page
