"""Rules of tasks: make one (routed, due on the business clock, with its context), list a queue or a customer's,
pick one up, record its outcome and follow-up, follow the customer's merges, erase. Services only flush; the
caller's unit of work commits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.cases.sla import BusinessCalendar
from seamline.core.clock import utcnow
from seamline.core.errors import Conflict, FieldError, InvalidInput, NotFound
from seamline.core.views import view_of
from seamline.tasks import repository
from seamline.tasks.config import TasksConfig
from seamline.tasks.lifecycle import ACTIVE, DONE, IN_PROGRESS, OPEN, OUTCOMES, STATUSES, due_at, routing_errors
from seamline.tasks.models import Task

MAX_TITLE, MAX_TEXT = 300, 10_000


@dataclass(frozen=True, slots=True)
class TaskInput:
    """What a new task says: who it is about, what to do, where it goes, and its context."""

    profile_id: int
    title: str
    queue: str | None = None
    skills: Sequence[str] = ()
    priority: str = "normal"
    detail: str = ""
    due_minutes: int | None = None  # business minutes; None: the priority's default
    rule: str | None = None
    journey_instance_id: str | None = None
    case_id: int | None = None
    communication_ids: Sequence[str] = ()
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TaskView:
    id: int
    profile_id: int
    title: str
    detail: str
    queue: str
    skills: tuple[str, ...]
    priority: str
    status: str
    due_at: datetime
    is_overdue: bool
    created_at: datetime
    created_by: str
    rule: str | None
    journey_instance_id: str | None
    case_id: int | None
    communication_ids: tuple[str, ...]
    context: Mapping[str, Any]
    assignee: str | None
    picked_up_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None
    outcome: str | None
    outcome_note: str | None
    follow_up_of: int | None

    @classmethod
    def of(cls, row: Task, now: datetime) -> TaskView:
        return view_of(
            cls, row, skills=tuple(row.skills or ()), is_overdue=row.status in ACTIVE and row.due_at < now,
            communication_ids=tuple(row.communication_ids or ()), context=dict(row.context or {}),
        )  # fmt: skip


def _text_errors(title: str, detail: str) -> list[FieldError]:
    errors = []
    if not title.strip() or len(title) > MAX_TITLE:
        errors.append(FieldError("title", "invalid", f"a title is 1-{MAX_TITLE} characters"))
    if len(detail) > MAX_TEXT:
        errors.append(FieldError("detail", "too_long", f"at most {MAX_TEXT} characters"))
    return errors


def create_task(
    session: Session,
    spec: TaskInput,
    *,
    config: TasksConfig,
    calendar: BusinessCalendar,
    created_by: str,
    now: datetime | None = None,
    follow_up_of: int | None = None,
) -> TaskView:
    """Make a task in its queue, due `due_minutes` of business time from now (the priority's default if none)."""
    now = now or utcnow()
    queue = spec.queue or config.default_queue
    errors = [*routing_errors(queue, spec.skills, spec.priority), *_text_errors(spec.title, spec.detail)]
    if spec.due_minutes is not None and not 1 <= spec.due_minutes <= 100_000:
        errors.append(FieldError("due_minutes", "invalid", "due_minutes is 1-100000 business minutes"))
    if errors:
        raise InvalidInput(errors, "the task was not made")
    minutes = spec.due_minutes if spec.due_minutes is not None else config.minutes_for(spec.priority)
    row = repository.add(
        session,
        {
            "profile_id": spec.profile_id,
            "origin_profile_id": spec.profile_id,
            "title": spec.title.strip(),
            "detail": spec.detail,
            "queue": queue,
            "skills": sorted(set(spec.skills)),
            "priority": spec.priority,
            "status": OPEN,
            "due_at": due_at(calendar, now, minutes),
            "created_at": now,
            "created_by": created_by,
            "rule": spec.rule,
            "journey_instance_id": spec.journey_instance_id,
            "case_id": spec.case_id,
            "communication_ids": list(spec.communication_ids),
            "context": dict(spec.context),
            "follow_up_of": follow_up_of,
        },
    )
    return TaskView.of(row, now)


def _locked(session: Session, task_id: int) -> Task:
    row = repository.get(session, task_id, lock=True)
    if row is None:
        raise NotFound(f"no task {task_id}")
    return row


def get_task(session: Session, task_id: int, *, now: datetime | None = None) -> TaskView:
    row = repository.get(session, task_id)
    if row is None:
        raise NotFound(f"no task {task_id}")
    return TaskView.of(row, now or utcnow())


def list_tasks(
    session: Session,
    *,
    queues: Sequence[str] | None = None,
    statuses: Sequence[str] = ACTIVE,
    assignee: str | None = None,
    limit: int = 100,
    now: datetime | None = None,
) -> list[TaskView]:
    """A work queue: tasks in these queues and statuses, soonest due first."""
    bad = [FieldError("status", "invalid", f"status is one of {', '.join(STATUSES)}", i) for i, s in
           enumerate(statuses) if s not in STATUSES]  # fmt: skip
    if bad:
        raise InvalidInput(bad)
    now = now or utcnow()
    return [TaskView.of(r, now) for r in repository.in_queue(session, queues, statuses, assignee, limit)]


def tasks_of(session: Session, profile_ids: Sequence[int], *, limit: int = 50) -> list[TaskView]:
    """A customer's tasks (every profile of the person), newest first."""
    now = utcnow()
    return [TaskView.of(r, now) for r in repository.of_profiles(session, profile_ids, limit)]


def pick_up(session: Session, task_id: int, *, actor: str, now: datetime | None = None) -> TaskView:
    """The acting person takes an open task (or one already theirs); someone else's is refused."""
    now = now or utcnow()
    row = _locked(session, task_id)
    if row.status == DONE:
        raise Conflict(f"task {task_id} is done")
    if row.assignee is not None and row.assignee != actor:
        raise Conflict(f"task {task_id} is being worked by {row.assignee}")
    if row.assignee is None:
        row.assignee, row.status, row.picked_up_at = actor, IN_PROGRESS, now
        session.flush()
    return TaskView.of(row, now)


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A follow-up to make when a task is completed: what, and in how many business minutes."""

    title: str
    due_minutes: int


def complete(
    session: Session,
    task_id: int,
    *,
    actor: str,
    outcome: str,
    note: str = "",
    follow_up: FollowUp | None = None,
    config: TasksConfig,
    calendar: BusinessCalendar,
    now: datetime | None = None,
) -> tuple[TaskView, TaskView | None]:
    """Record what came of a task (and who did it); a follow-up becomes a new task in the same queue, linked."""
    now = now or utcnow()
    errors = []
    if outcome not in OUTCOMES:
        errors.append(FieldError("outcome", "invalid", f"outcome is one of {', '.join(OUTCOMES)}"))
    if len(note) > MAX_TEXT:
        errors.append(FieldError("note", "too_long", f"at most {MAX_TEXT} characters"))
    if errors:
        raise InvalidInput(errors, "the task was not completed")
    row = _locked(session, task_id)
    if row.status == DONE:
        raise Conflict(f"task {task_id} is already done")
    if row.assignee is not None and row.assignee != actor:
        raise Conflict(f"task {task_id} is being worked by {row.assignee}")
    row.status, row.completed_at, row.completed_by = DONE, now, actor
    row.assignee = row.assignee or actor
    row.picked_up_at = row.picked_up_at or now
    row.outcome, row.outcome_note = outcome, note
    session.flush()
    made = None
    if follow_up is not None:
        spec = TaskInput(
            row.profile_id, follow_up.title, row.queue, row.skills, row.priority, due_minutes=follow_up.due_minutes,
            rule=row.rule, journey_instance_id=row.journey_instance_id, case_id=row.case_id,
            communication_ids=row.communication_ids, context=row.context,
        )  # fmt: skip
        made = create_task(session, spec, config=config, calendar=calendar, created_by=actor, now=now,
                           follow_up_of=row.id)  # fmt: skip
    return TaskView.of(row, now), made


def export_person(session: Session, profile_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Every task about these profiles, for an access request's export (times in ISO 8601)."""
    now = utcnow()
    rows = repository.of_profiles(session, profile_ids, 100_000) if profile_ids else []
    return [
        {k: (v.isoformat() if isinstance(v, datetime) else list(v) if isinstance(v, tuple) else v)
         for k, v in asdict(TaskView.of(r, now)).items()}
        for r in rows
    ]  # fmt: skip


def follow_merge(session: Session, absorbed: int, survivor: int) -> None:
    """A merge: the absorbed profile's tasks now belong to the survivor."""
    repository.move(session, absorbed, survivor)


def restore_origins(session: Session, profile_ids: Sequence[int]) -> None:
    """Before an unmerge's replay: each task goes back to the profile it was made for."""
    repository.restore(session, profile_ids)


def erase_person(session: Session, profile_ids: Sequence[int]) -> int:
    """Erasure: delete these profiles' tasks (their titles, notes and context are about the person)."""
    return repository.erase(session, profile_ids) if profile_ids else 0
