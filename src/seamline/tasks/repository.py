"""Queries of the tasks domain."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from seamline.core.db import table_of
from seamline.tasks.models import Task

_T = table_of(Task)


def add(session: Session, row: Mapping[str, Any]) -> Task:
    task = Task(**row)
    session.add(task)
    session.flush()
    return task


def get(session: Session, task_id: int, *, lock: bool = False) -> Task | None:
    query = select(Task).where(Task.id == task_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def in_queue(
    session: Session, queues: Sequence[str] | None, statuses: Sequence[str], assignee: str | None, limit: int
) -> Sequence[Task]:
    query = select(Task).where(Task.status.in_(statuses))
    if queues is not None:
        query = query.where(Task.queue.in_(queues))
    if assignee is not None:
        query = query.where(Task.assignee == assignee)
    return session.scalars(query.order_by(Task.due_at, Task.id).limit(limit)).all()


def of_profiles(session: Session, profile_ids: Sequence[int], limit: int) -> Sequence[Task]:
    query = select(Task).where(Task.profile_id.in_(profile_ids)).order_by(Task.id.desc()).limit(limit)
    return session.scalars(query).all()


def move(session: Session, from_profile: int, into_profile: int) -> None:
    session.execute(update(_T).where(_T.c.profile_id == from_profile).values(profile_id=into_profile))


def restore(session: Session, profile_ids: Sequence[int]) -> None:
    session.execute(
        update(_T)
        .where(_T.c.origin_profile_id.in_(profile_ids), _T.c.profile_id != _T.c.origin_profile_id)
        .values(profile_id=_T.c.origin_profile_id)
    )


def erase(session: Session, profile_ids: Sequence[int]) -> int:
    doomed = (_T.c.profile_id.in_(profile_ids)) | (_T.c.origin_profile_id.in_(profile_ids))
    return int(session.execute(delete(_T).where(doomed)).rowcount)  # type: ignore[attr-defined]  # CursorResult
