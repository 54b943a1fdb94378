"""Queries of the triggers domain. Due steps are claimed with row locks (SKIP LOCKED on PostgreSQL, so workers on
many machines never wait for one another; SQLite's writers take turns)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from seamline.core.db import table_of
from seamline.core.jobs import ScheduledJob
from seamline.triggers.models import TriggerCursor, TriggerFiring, TriggerHit, TriggerStep

PENDING, DONE, CANCELLED, FAILED = "pending", "done", "cancelled", "failed"

_F = table_of(TriggerFiring)
_H = table_of(TriggerHit)
_S = table_of(TriggerStep)


def fire(session: Session, rule: str, profile_id: int, key: str, event_id: int | None, at: datetime) -> int | None:
    """Record a firing; its id, or None when this rule already fired for this person and key (here, or in a
    transaction that committed first: the unique key makes the second writer wait, then find it)."""
    values = {"rule": rule, "profile_id": profile_id, "key": key, "event_id": event_id, "fired_at": at}
    dialect = session.get_bind().dialect.name
    conflict = ["rule", "profile_id", "key"]
    if dialect == "postgresql":
        statement = pg_insert(_F).values(values).on_conflict_do_nothing(index_elements=conflict).returning(_F.c.id)
    else:
        statement = sqlite_insert(_F).values(values).on_conflict_do_nothing(index_elements=conflict).returning(_F.c.id)
    found = session.execute(statement).scalar()
    return int(found) if found is not None else None


def add_hit(session: Session, row: Mapping[str, Any]) -> None:
    session.execute(insert(_H).values(dict(row)))


def count_hits(session: Session, rule: str, profile_id: int, grouping: str, since: datetime | None) -> int:
    query = select(func.count()).where(_H.c.rule == rule, _H.c.profile_id == profile_id, _H.c.grouping == grouping)
    if since is not None:
        query = query.where(_H.c.occurred_at > since)
    return int(session.execute(query).scalar_one())


def add_step(session: Session, row: Mapping[str, Any]) -> None:
    session.execute(insert(_S).values(dict(row)))


def pending_of(session: Session, rule: str, profile_id: int) -> Sequence[TriggerStep]:
    query = select(TriggerStep).where(
        TriggerStep.rule == rule, TriggerStep.profile_id == profile_id, TriggerStep.status == PENDING
    )
    return session.scalars(query).all()


def claim_due(session: Session, now: datetime, limit: int) -> Sequence[TriggerStep]:
    """Due steps, soonest first, locked for this transaction (rows another worker holds are skipped)."""
    query = (
        select(TriggerStep)
        .where(TriggerStep.status == PENDING, TriggerStep.due_at <= now)
        .order_by(TriggerStep.due_at, TriggerStep.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # ignored by SQLite, whose writers take turns (BEGIN IMMEDIATE)
    )
    return session.scalars(query).all()


def sent_by_triggers(session: Session, profile_id: int, limit: int) -> list[str]:
    """The communications triggers sent this person, newest first (a task's context)."""
    query = (
        select(_S.c.result)
        .where(_S.c.profile_id == profile_id, _S.c.action == "send", _S.c.status == DONE)
        .order_by(_S.c.id.desc())
        .limit(limit)
    )
    return [str(r) for r in session.execute(query).scalars() if r]


def steps_of(session: Session, profile_ids: Sequence[int], limit: int) -> Sequence[TriggerStep]:
    query = select(TriggerStep).where(TriggerStep.profile_id.in_(profile_ids)).order_by(TriggerStep.id.desc())
    return session.scalars(query.limit(limit)).all()


def move(session: Session, from_profile: int, into_profile: int) -> None:
    """A merge: counted events and waiting steps follow the person (firings stay: their key is unique)."""
    session.execute(update(_H).where(_H.c.profile_id == from_profile).values(profile_id=into_profile))
    session.execute(
        update(_S).where(_S.c.profile_id == from_profile, _S.c.status == PENDING).values(profile_id=into_profile)
    )


def erase(session: Session, profile_ids: Sequence[int]) -> int:
    removed = 0
    for table in (_S, _H, _F):
        result = session.execute(delete(table).where(table.c.profile_id.in_(profile_ids)))
        removed += int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of a DELETE
    return removed


def locked_cursor(session: Session, name: str) -> TriggerCursor | None:
    """A feed's cursor, locked for this transaction (another worker reading the feed waits, then goes on from
    where this one stopped)."""
    return session.scalars(select(TriggerCursor).where(TriggerCursor.name == name).with_for_update()).first()


def start_cursor(session: Session, name: str, position: int) -> None:
    dialect = session.get_bind().dialect.name
    values = {"name": name, "position": position}
    if dialect == "postgresql":
        session.execute(pg_insert(TriggerCursor).values(values).on_conflict_do_nothing(index_elements=["name"]))
    else:
        session.execute(sqlite_insert(TriggerCursor).values(values).on_conflict_do_nothing(index_elements=["name"]))


def run_started(session: Session, job: str) -> datetime | None:
    """When a scheduled rule's run under way started: its job row's last run."""
    return session.execute(select(ScheduledJob.last_run_at).where(ScheduledJob.name == job)).scalar_one_or_none()


def add_run_count(session: Session, job: str, count: int) -> None:
    """Add a page's firings to its run's count (the job row's `last_count`)."""
    if count:
        session.execute(
            update(ScheduledJob).where(ScheduledJob.name == job).values(last_count=ScheduledJob.last_count + count)
        )
