"""Queries of the cases domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from seamline.cases.lifecycle import ACTIVE
from seamline.cases.models import Case, CaseEntry, CaseHandoff
from seamline.core.db import table_of
from seamline.core.prepared import Prepared, Reads, in_slots, slot_values


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """What a listing asks for; None means any."""

    queue: str | None = None
    statuses: Sequence[str] | None = None
    assignee: str | None = None
    profile_id: int | None = None
    is_escalated: bool | None = None
    is_overdue: bool | None = None
    before_id: int | None = None


def add(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


def get(session: Session, case_id: int, *, lock: bool = False) -> Case | None:
    query = select(Case).where(Case.id == case_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def entries_of(session: Session, case_id: int) -> Sequence[CaseEntry]:
    return session.scalars(select(CaseEntry).where(CaseEntry.case_id == case_id).order_by(CaseEntry.id)).all()


def timeline_of(session: Session, case_id: int) -> list[tuple[datetime, str]]:
    """(time, status entered) of each status change of a case, oldest first."""
    rows = session.execute(
        select(CaseEntry.created_at, CaseEntry.status)
        .where(CaseEntry.case_id == case_id, CaseEntry.status.is_not(None))
        .order_by(CaseEntry.id)
    ).all()
    return [(r[0], str(r[1])) for r in rows]


def last_entering(session: Session, case_id: int, status: str) -> CaseEntry | None:
    """The latest entry with which the case entered `status`."""
    query = (
        select(CaseEntry)
        .where(CaseEntry.case_id == case_id, CaseEntry.status == status)
        .order_by(CaseEntry.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def handoffs_of(session: Session, case_id: int) -> Sequence[CaseHandoff]:
    """Every version, newest first."""
    return session.scalars(
        select(CaseHandoff).where(CaseHandoff.case_id == case_id).order_by(CaseHandoff.version.desc())
    ).all()


def current_handoffs(session: Session, case_ids: Sequence[int]) -> dict[int, CaseHandoff]:
    if not case_ids:
        return {}
    latest = (
        select(CaseHandoff.case_id, func.max(CaseHandoff.version).label("version"))
        .where(CaseHandoff.case_id.in_(case_ids))
        .group_by(CaseHandoff.case_id)
        .subquery()
    )
    rows = session.scalars(
        select(CaseHandoff).join(
            latest, and_(CaseHandoff.case_id == latest.c.case_id, CaseHandoff.version == latest.c.version)
        )
    ).all()
    return {row.case_id: row for row in rows}


def latest_version(session: Session, case_id: int) -> int:
    found = session.scalar(select(func.max(CaseHandoff.version)).where(CaseHandoff.case_id == case_id))
    return int(found or 0)


def routable_case(session: Session, profile_id: int, queue: str, statuses: Sequence[str]) -> Case | None:
    """The most recently updated case of a profile in a queue (or escalated out of it) in one of `statuses`."""
    query = (
        select(Case)
        .where(
            Case.profile_id == profile_id,
            Case.status.in_(statuses),
            or_(Case.queue == queue, Case.escalated_from_queue == queue),
        )
        .order_by(Case.updated_at.desc(), Case.id.desc())
        .limit(1)
        .with_for_update()
    )
    return session.scalars(query).first()


def journey_cases(session: Session, instance_ids: Sequence[str], statuses: Sequence[str]) -> dict[str, int]:
    """The latest case in `statuses` of each of these journey instances (public ids), by instance."""
    query = (
        select(Case.journey_instance_id, func.max(Case.id))
        .where(Case.journey_instance_id.in_(instance_ids), Case.status.in_(statuses))
        .group_by(Case.journey_instance_id)
    )
    return {str(instance): int(case_id) for instance, case_id in session.execute(query)}


def _filtered(query: Select[Any], f: CaseFilter, now: datetime) -> Select[Any]:
    if f.queue is not None:
        query = query.where(Case.queue == f.queue)
    if f.statuses:
        query = query.where(Case.status.in_(f.statuses))
    if f.assignee is not None:
        query = query.where(Case.assignee == f.assignee) if f.assignee else query.where(Case.assignee.is_(None))
    if f.profile_id is not None:
        query = query.where(Case.profile_id == f.profile_id)
    if f.is_escalated is not None:
        query = query.where((Case.status == "escalated") if f.is_escalated else (Case.status != "escalated"))
    if f.is_overdue is not None:
        overdue = and_(
            Case.status.in_(ACTIVE),
            or_(
                and_(Case.first_response_at.is_(None), Case.first_response_due_at <= now),
                Case.resolution_due_at <= now,
            ),
        )
        query = query.where(overdue if f.is_overdue else ~overdue)
    if f.before_id is not None:
        query = query.where(Case.id < f.before_id)
    return query


def find(session: Session, f: CaseFilter, now: datetime, limit: int) -> Sequence[Case]:
    """Cases matching the filter, newest first."""
    return session.scalars(_filtered(select(Case), f, now).order_by(Case.id.desc()).limit(limit)).all()


class _Count(NamedTuple):
    n: int


_ACTIVE_COUNT = Prepared(
    select(func.count().label("n")).where(
        table_of(Case).c.profile_id == bindparam("id"),
        or_(*(table_of(Case).c.status == bindparam(f"s{i}") for i in range(len(ACTIVE)))),
    ),
    _Count,
)


def active_count(reads: Reads, profile_id: int) -> int:
    """How many cases of a profile are active (open, waiting on the customer, escalated), in one hot read."""
    row = _ACTIVE_COUNT.first(reads, id=profile_id, **{f"s{i}": s for i, s in enumerate(ACTIVE)})
    return int(row.n) if row is not None else 0  # a count has its one row


_SLOTS = 900  # ids a statement: under SQLite's limit of bound parameters


# Prepared: the ORM's IN list, rendered anew for every batch of 500 people, cost more CPU than the read itself.
class _ProfileCount(NamedTuple):
    profile_id: int
    n: int


_ACTIVE_COUNTS = Prepared(
    select(table_of(Case).c.profile_id, func.count().label("n"))
    .where(
        in_slots(table_of(Case).c.profile_id, _SLOTS),
        table_of(Case).c.status.in_([bindparam(f"status_{n}") for n in range(len(ACTIVE))]),
    )
    .group_by(table_of(Case).c.profile_id),
    _ProfileCount,
)


def active_counts(reads: Reads, profile_ids: Sequence[int]) -> dict[int, int]:
    """`active_count` of many profiles in one query per chunk of ids (profiles with none are left out)."""
    ids = sorted(set(profile_ids))
    statuses = {f"status_{n}": status for n, status in enumerate(sorted(ACTIVE))}
    return {
        row.profile_id: row.n
        for start in range(0, len(ids), _SLOTS)
        for row in _ACTIVE_COUNTS.all(reads, **statuses, **slot_values(ids[start : start + _SLOTS], _SLOTS))
    }


def cases_of_profiles(session: Session, profile_ids: Sequence[int]) -> Sequence[Case]:
    return session.scalars(select(Case).where(Case.profile_id.in_(profile_ids)).order_by(Case.id)).all()


# Built once and run on the connection: the worker runs it for every merge.
_MOVE = (
    update(table_of(Case)).where(table_of(Case).c.profile_id == bindparam("from_")).values(profile_id=bindparam("into"))
)


def move(session: Session, from_profile: int, into_profile: int) -> None:
    session.connection().execute(_MOVE, {"from_": from_profile, "into": into_profile})


def restore(session: Session, profile_ids: Sequence[int]) -> None:
    table = table_of(Case)
    session.execute(
        update(table)
        .where(table.c.origin_profile_id.in_(profile_ids), table.c.profile_id != table.c.origin_profile_id)
        .values(profile_id=table.c.origin_profile_id)
    )


def erase(session: Session, case_ids: Sequence[int], mark: str, now: datetime) -> None:
    """Replace every free text of these cases (subject, bodies, customer names, reasons, handoffs) with `mark`."""
    if not case_ids:
        return
    session.execute(update(table_of(Case)).where(Case.id.in_(case_ids)).values(subject=mark, erased_at=now))
    session.execute(
        update(table_of(Case))
        .where(Case.id.in_(case_ids), Case.escalation_reason.is_not(None))
        .values(escalation_reason=mark)
    )
    session.execute(update(table_of(CaseEntry)).where(CaseEntry.case_id.in_(case_ids)).values(body=mark, detail={}))
    session.execute(
        update(table_of(CaseEntry))
        .where(CaseEntry.case_id.in_(case_ids), CaseEntry.author_kind == "customer")
        .values(author_name=mark)
    )
    session.execute(
        update(table_of(CaseHandoff))
        .where(CaseHandoff.case_id.in_(case_ids))
        .values(verified=mark, customer_said=mark, tried=mark, next_step=mark)
    )


def events_after(session: Session, after_id: int, limit: int) -> Sequence[Any]:
    """Changes recorded on case threads after an entry id, oldest first, with their case's profile and routing."""
    query = (
        select(
            CaseEntry.id,
            CaseEntry.case_id,
            CaseEntry.status,
            CaseEntry.detail,
            CaseEntry.created_at,
            Case.profile_id,
            Case.priority,
            Case.queue,
            Case.channel,
        )
        .join(Case, Case.id == CaseEntry.case_id)
        .where(CaseEntry.kind == "event", CaseEntry.id > after_id)
        .order_by(CaseEntry.id)
        .limit(limit)
    )
    return session.execute(query).all()


def last_entry_id(session: Session) -> int:
    return int(session.execute(select(func.coalesce(func.max(CaseEntry.id), 0))).scalar_one())
