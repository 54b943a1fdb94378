"""The tasks API: work for a person routed to a queue (made by trigger rules or by a caller), read a queue or a
customer's tasks, pick one up, record its outcome and follow-up. Server keys with `tasks:read` / `tasks:write`;
every read and change is audited under the task's profile."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from seamline.api.deps import Ctx, requires_key
from seamline.api.openapi import errors
from seamline.audit.service import record, record_async
from seamline.cases.config import CasesConfig
from seamline.core.db import unit_of_work
from seamline.core.ids import Id
from seamline.core.principal import Principal
from seamline.identity.service import active_header, profile_members, root_of
from seamline.tasks.config import TasksConfig
from seamline.tasks.lifecycle import ACTIVE, OUTCOMES, STATUSES
from seamline.tasks.service import FollowUp, TaskInput, TaskView, complete, create_task, get_task, list_tasks, pick_up
from seamline.tasks.service import tasks_of as tasks_of_profiles

router = APIRouter(prefix="/v1", tags=["tasks"])
Reader = Annotated[Principal, Depends(requires_key("tasks:read"))]
Writer = Annotated[Principal, Depends(requires_key("tasks:write"))]


class TasksSetup:
    """Where tasks go and their clock, from the app's settings."""

    def __init__(self, config: TasksConfig, cases: CasesConfig) -> None:
        self.config, self.calendar = config, cases.calendar.calendar()


async def _setup(request: Request) -> TasksSetup:
    return TasksSetup(request.app.state.tasks, request.app.state.cases)


Setup = Annotated[TasksSetup, Depends(_setup)]


class TaskIn(BaseModel):
    profile_id: Id
    title: str = Field(max_length=300, examples=["Call about the stalled mortgage application"])
    queue: str | None = Field(default=None, description="Default: the configured queue.", examples=["mortgages"])
    skills: list[str] = Field(default_factory=list, max_length=20, examples=[["mortgages"]])
    priority: str = Field(default="normal", description=", ".join(("urgent", "high", "normal", "low")))
    detail: str = Field(default="", max_length=10_000)
    due_minutes: int | None = Field(default=None, description="Business minutes until due; default per priority.")
    journey_instance_id: str | None = Field(default=None, max_length=100)
    case_id: Id | None = None
    communication_ids: list[str] = Field(default_factory=list, max_length=50)


class PickUpIn(BaseModel):
    agent: str = Field(min_length=1, max_length=200, description="The person taking the task.", examples=["alex"])


class FollowUpIn(BaseModel):
    title: str = Field(max_length=300)
    due_minutes: int = Field(ge=1, le=100_000, description="Business minutes from now.")


class CompleteIn(BaseModel):
    agent: str = Field(min_length=1, max_length=200, examples=["alex"])
    outcome: str = Field(description=", ".join(OUTCOMES), examples=["resolved"])
    note: str = Field(default="", max_length=10_000)
    follow_up: FollowUpIn | None = None


class TaskOut(BaseModel):
    id: int
    profile_id: int
    title: str
    detail: str
    queue: str
    skills: list[str]
    priority: str
    status: str
    due_at: datetime
    is_overdue: bool
    created_at: datetime
    created_by: str
    rule: str | None
    journey_instance_id: str | None
    case_id: int | None
    communication_ids: list[str]
    context: dict[str, Any]
    assignee: str | None
    picked_up_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None
    outcome: str | None
    outcome_note: str | None
    follow_up_of: int | None


class CompletedOut(BaseModel):
    task: TaskOut
    follow_up: TaskOut | None


def _out(view: TaskView) -> TaskOut:
    return TaskOut.model_validate(view, from_attributes=True)


async def _audit_reads(ctx: Any, principal: Principal, views: list[TaskView], view_name: str) -> None:
    by_profile: dict[int, list[int]] = {}
    for view in views:
        by_profile.setdefault(view.profile_id, []).append(view.id)
    await asyncio.gather(
        *(record_async(ctx.audit, principal, "read", "profile", pid, {"view": view_name, "tasks": ids})
          for pid, ids in by_profile.items())
    )  # fmt: skip


@router.post("/tasks", responses=errors(400, 401, 403, 404, 410), response_model=TaskOut, status_code=201,
             summary="Make a task for a person: routed to a queue, due on the business-hours clock")  # fmt: skip
async def post_task(body: TaskIn, principal: Writer, ctx: Ctx, setup: Setup) -> TaskOut:
    with unit_of_work(ctx.engine) as session:
        profile = active_header(session, body.profile_id)
        spec = TaskInput(
            int(profile.id), body.title, body.queue, body.skills, body.priority, body.detail, body.due_minutes,
            journey_instance_id=body.journey_instance_id, case_id=body.case_id,
            communication_ids=body.communication_ids,
        )  # fmt: skip
        view = create_task(session, spec, config=setup.config, calendar=setup.calendar, created_by=principal.name)
        record(session, principal, "change", "profile", view.profile_id, {"task": view.id, "action": "create"})
    return _out(view)


@router.get("/tasks", responses=errors(400, 401, 403), response_model=list[TaskOut],
            summary="A work queue: tasks in these queues and statuses, soonest due first")  # fmt: skip
async def get_tasks(
    principal: Reader,
    ctx: Ctx,
    queue: Annotated[list[str] | None, Query(description="Any of these queues; all when absent")] = None,
    status: Annotated[
        list[str] | None, Query(description=", ".join(STATUSES) + "; default open and in-progress")
    ] = None,
    assignee: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[TaskOut]:
    with unit_of_work(ctx.engine, write=False) as session:
        views = list_tasks(session, queues=queue, statuses=status or ACTIVE, assignee=assignee, limit=limit)
    await _audit_reads(ctx, principal, views, "tasks")
    return [_out(v) for v in views]


@router.get("/tasks/{task_id}", responses=errors(400, 401, 403, 404), response_model=TaskOut, summary="One task")
async def get_one_task(task_id: Id, principal: Reader, ctx: Ctx) -> TaskOut:
    with unit_of_work(ctx.engine, write=False) as session:
        view = get_task(session, task_id)
    await _audit_reads(ctx, principal, [view], "task")
    return _out(view)


@router.get("/profiles/{profile_id}/tasks", responses=errors(400, 401, 403, 404, 410), response_model=list[TaskOut],
            summary="A customer's tasks (every profile merged into them), newest first")  # fmt: skip
async def get_profile_tasks(
    profile_id: Id, principal: Reader, ctx: Ctx, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[TaskOut]:
    with unit_of_work(ctx.engine, write=False) as session:
        profile = active_header(session, profile_id)
        views = tasks_of_profiles(session, profile_members(session, root_of(session, int(profile.id))), limit=limit)
    await record_async(ctx.audit, principal, "read", "profile", int(profile.id), {"view": "tasks"})
    return [_out(v) for v in views]


@router.post("/tasks/{task_id}/pick-up", responses=errors(400, 401, 403, 404, 409), response_model=TaskOut,
             summary="Take a task: it is yours, in progress (someone else's is refused with 409)")  # fmt: skip
async def post_pick_up(task_id: Id, body: PickUpIn, principal: Writer, ctx: Ctx) -> TaskOut:
    with unit_of_work(ctx.engine) as session:
        view = pick_up(session, task_id, actor=body.agent)
        detail = {"task": view.id, "action": "pick-up", "agent": body.agent}
        record(session, principal, "change", "profile", view.profile_id, detail)
    return _out(view)


@router.post("/tasks/{task_id}/complete", responses=errors(400, 401, 403, 404, 409), response_model=CompletedOut,
             summary="Record what came of a task, and its follow-up (a new task, linked)")  # fmt: skip
async def post_complete(task_id: Id, body: CompleteIn, principal: Writer, ctx: Ctx, setup: Setup) -> CompletedOut:
    follow = FollowUp(body.follow_up.title, body.follow_up.due_minutes) if body.follow_up else None
    with unit_of_work(ctx.engine) as session:
        view, made = complete(
            session, task_id, actor=body.agent, outcome=body.outcome, note=body.note, follow_up=follow,
            config=setup.config, calendar=setup.calendar,
        )  # fmt: skip
        detail = {
            "task": view.id,
            "action": "complete",
            "outcome": body.outcome,
            "follow_up": made.id if made else None,
        }
        record(session, principal, "change", "profile", view.profile_id, detail)
    return CompletedOut(task=_out(view), follow_up=_out(made) if made else None)
