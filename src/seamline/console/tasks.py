"""The tasks pages: the work queue (tasks soonest due first, by queue, mine or unassigned), and the forms that pick
a task up and record its outcome and follow-up. Tasks are worked by the people who work cases (the roles that
view and work cases); each list is audited per customer it shows, each change in its transaction."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from seamline.audit.service import record, record_async
from seamline.console.auth import Ctx, Form, requires
from seamline.console.cases import Config
from seamline.console.pages import HEADERS, render
from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, InvalidInput
from seamline.core.ids import Id
from seamline.profiles.service import display_names
from seamline.tasks.config import TasksConfig
from seamline.tasks.lifecycle import ACTIVE, DONE, OUTCOMES
from seamline.tasks.service import FollowUp, complete, list_tasks, pick_up
from seamline.users.permissions import VIEW_CASES, WORK_CASES
from seamline.users.service import SignedIn

router = APIRouter(prefix="/console")
Viewer = Annotated[SignedIn, Depends(requires(VIEW_CASES))]
Worker = Annotated[SignedIn, Depends(requires(WORK_CASES))]
SAVED = {"picked": "The task is yours.", "done": "The outcome is recorded.", "follow": "Done; the follow-up is made."}
SHOWN = 100


async def tasks_config(request: Request) -> TasksConfig:
    config: TasksConfig = request.app.state.tasks
    return config


Tasks = Annotated[TasksConfig, Depends(tasks_config)]


@router.get("/tasks", include_in_schema=False)
async def tasks_page(
    request: Request, user: Viewer, ctx: Ctx, queue: str = "", view: str = "", saved: str = ""
) -> Response:
    """The work queue: active tasks soonest due first (`view=mine`, `view=done` for the recently completed)."""
    queues = [queue[:64]] if queue else None
    statuses = (DONE,) if view == "done" else ACTIVE
    assignee = user.user.username if view == "mine" else None
    with unit_of_work(ctx.engine, write=False) as session:
        found = list_tasks(session, queues=queues, statuses=statuses, assignee=assignee, limit=SHOWN)
        names = display_names(session, sorted({t.profile_id for t in found}))
    by_profile: dict[int, list[int]] = {}
    for task in found:
        by_profile.setdefault(task.profile_id, []).append(task.id)
    await asyncio.gather(
        *(record_async(ctx.audit, user.user.principal, "read", "profile", pid, {"view": "tasks", "tasks": ids})
          for pid, ids in by_profile.items())
    )  # fmt: skip
    return render(
        request, "tasks.html", user, tasks=found, customers=names, filters={"queue": queue[:64], "view": view},
        outcomes=OUTCOMES, saved=SAVED.get(saved, ""),
    )  # fmt: skip


def _back(form: dict[str, str], saved: str) -> Response:
    # Back where the form was: the customer's page or the queue (never an outside address).
    back = form.get("back", "")
    target = back if back.startswith("/console/customers/") and back[19:].isdigit() else "/console/tasks"
    return RedirectResponse(f"{target}?saved={saved}", status_code=303, headers=HEADERS)


@router.post("/tasks/{task_id}/pick-up", include_in_schema=False)
async def post_pick_up(task_id: Id, user: Worker, form: Form, ctx: Ctx) -> Response:
    with unit_of_work(ctx.engine) as session:
        view = pick_up(session, task_id, actor=user.user.username)
        detail = {"task": view.id, "action": "pick-up"}
        record(session, user.user.principal, "change", "profile", view.profile_id, detail)
    return _back(form, "task-picked" if form.get("back") else "picked")


@router.post("/tasks/{task_id}/complete", include_in_schema=False)
async def post_complete(task_id: Id, user: Worker, form: Form, ctx: Ctx, config: Tasks, cases: Config) -> Response:
    title = form.get("follow_up", "").strip()
    follow = None
    if title:
        hours = form.get("follow_up_hours", "8").strip()
        if not hours.isdigit() or not 1 <= int(hours) <= 1000:
            raise InvalidInput([FieldError("follow_up_hours", "invalid", "business hours, 1-1000")])
        follow = FollowUp(title, int(hours) * 60)
    with unit_of_work(ctx.engine) as session:
        view, made = complete(
            session, task_id, actor=user.user.username, outcome=form.get("outcome", ""), note=form.get("note", ""),
            follow_up=follow, config=config, calendar=cases.calendar.calendar(),
        )  # fmt: skip
        detail = {
            "task": view.id,
            "action": "complete",
            "outcome": view.outcome,
            "follow_up": made.id if made else None,
        }
        record(session, user.user.principal, "change", "profile", view.profile_id, detail)
    if form.get("back"):
        return _back(form, "task-done")
    return _back(form, "follow" if made else "done")
