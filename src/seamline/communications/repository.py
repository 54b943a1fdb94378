"""Queries of the communications log."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from seamline.communications.models import Communication, CommunicationOutcome, UnreachableContact
from seamline.core.among import among
from seamline.core.db import table_of
from seamline.core.prepared import Prepared, Reads

_C = table_of(Communication)
_O = table_of(CommunicationOutcome)
_U = table_of(UnreachableContact)


def add(session: Session, row: Mapping[str, Any]) -> Communication:
    communication = Communication(**row)
    session.add(communication)
    session.flush()
    return communication


def by_public_id(session: Session, communication_id: str) -> Communication | None:
    return session.scalars(select(Communication).where(Communication.communication_id == communication_id)).first()


def by_ids(session: Session, ids: Sequence[int]) -> dict[int, Communication]:
    if not ids:
        return {}
    return {c.id: c for c in session.scalars(select(Communication).where(Communication.id.in_(ids)))}


def add_outcomes(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        session.execute(_O.insert(), list(rows))


def set_status(session: Session, row_id: int, values: Mapping[str, Any]) -> None:
    session.execute(update(_C).where(_C.c.id == row_id).values(**values))


def set_many(session: Session, changes: Sequence[Mapping[str, Any]]) -> None:
    """Apply each change (`id` and new values); rows changing the same columns go in one executemany."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        columns = tuple(sorted(k for k in change if k != "id"))
        groups.setdefault(columns, []).append({f"v_{k}": v for k, v in change.items()})
    for columns, rows in groups.items():
        statement = update(_C).where(_C.c.id == bindparam("v_id")).values({c: bindparam(f"v_{c}") for c in columns})
        session.connection().execute(statement, rows)


def of_profiles(session: Session, profile_ids: Sequence[int], limit: int) -> list[Communication]:
    query = (
        select(Communication)
        .where(Communication.profile_id.in_(profile_ids))
        .order_by(Communication.created_at.desc(), Communication.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def outcomes_of(session: Session, row_ids: Sequence[int]) -> list[CommunicationOutcome]:
    if not row_ids:
        return []
    query = (
        select(CommunicationOutcome)
        .where(CommunicationOutcome.communication_row_id.in_(row_ids))
        .order_by(CommunicationOutcome.id)
    )
    return list(session.scalars(query))


def unreachable(session: Session, channel: str, addresses: Sequence[str]) -> dict[str, str]:
    if not addresses:
        return {}
    rows = session.execute(
        select(_U.c.address, _U.c.reason).where(_U.c.channel == channel, _U.c.address.in_(addresses))
    )
    return {str(a): str(r) for a, r in rows}


def mark_unreachable(session: Session, row: Mapping[str, Any]) -> bool:
    """Add a contact point to the unreachable list; False when it was there already."""
    found = session.execute(
        select(_U.c.id).where(_U.c.channel == row["channel"], _U.c.address == row["address"])
    ).first()
    if found is not None:
        return False
    session.execute(_U.insert().values(**row))
    return True


def erase(session: Session, profile_ids: Sequence[int], now: datetime) -> int:
    """Empty the personal columns of these profiles' communications; returns how many."""
    result = session.execute(
        update(_C).where(_C.c.profile_id.in_(profile_ids)).values(address=None, subject=None, fields={}, updated_at=now)
    )
    ids = list(session.execute(select(_C.c.id).where(_C.c.profile_id.in_(profile_ids))).scalars())
    if ids:
        session.execute(update(_O).where(_O.c.communication_row_id.in_(ids)).values(detail=None))
    session.execute(delete(_U).where(_U.c.profile_id.in_(profile_ids)))
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE


def by_public_ids(session: Session, communication_ids: Sequence[str]) -> dict[str, Communication]:
    if not communication_ids:
        return {}
    query = select(Communication).where(Communication.communication_id.in_(list(set(communication_ids))))
    return {c.communication_id: c for c in session.scalars(query)}


# What a send-time check reads of each communication: Core rows of these columns, not ORM objects (a dispatcher's
# batch of 200 loaded as objects cost more CPU than the rest of its check).
_SEND_COLUMNS = (_C.c.communication_id, _C.c.profile_id, _C.c.type, _C.c.purpose, _C.c.topic, _C.c.priority,
                 _C.c.product)  # fmt: skip


def send_rows(session: Session, communication_ids: Sequence[str]) -> dict[str, Any]:
    """Per public id, the row a send-time check needs (communication_id, profile_id, type, purpose, topic,
    priority, product)."""
    out: dict[str, Any] = {}
    for where in among(session, _C.c.communication_id, communication_ids):
        out.update((str(row.communication_id), row) for row in session.execute(select(*_SEND_COLUMNS).where(where)))
    return out


_OUTCOME_COLUMNS = (_C.c.communication_id, _C.c.id, _C.c.status, _C.c.sent_at, _C.c.address, _C.c.channel,
                    _C.c.profile_id)  # fmt: skip


def outcome_rows(session: Session, communication_ids: Sequence[str]) -> dict[str, Any]:
    """Per public id, what logging an outcome reads (communication_id, id, status, sent_at, address, channel,
    profile_id): plain rows for a dispatcher's whole round."""
    out: dict[str, Any] = {}
    for where in among(session, _C.c.communication_id, communication_ids):
        query = select(*_OUTCOME_COLUMNS).where(where)
        out.update((str(row.communication_id), row) for row in session.execute(query))
    return out


def seen_events(session: Session, event_ids: Sequence[int]) -> set[int]:
    """Which of these tracking events have already been logged (a replay after an unmerge sends them again)."""
    if not event_ids:
        return set()
    rows = session.execute(select(_O.c.event_id).where(_O.c.event_id.in_(list(event_ids))))
    return {int(r[0]) for r in rows}


def _run_filter(run: Mapping[str, str | None]) -> list[ColumnElement[bool]]:
    """A run: one batch of one template version; the source system too when it is known."""
    where = [_C.c.batch == run["batch"], _C.c.template == run["template"]]
    for column in ("template_version", "source_system"):
        if run.get(column) is not None:
            where.append(_C.c[column] == run[column])
    return where


def run_size(session: Session, run: Mapping[str, str | None]) -> int:
    return int(session.execute(select(func.count()).select_from(_C).where(*_run_filter(run))).scalar_one())


def run_members(
    session: Session, run: Mapping[str, str | None], *, after_id: int, limit: int
) -> list[tuple[int, str, int | None, str, str]]:
    """(row id, public id, profile id, channel, status) of a run's communications after `after_id`, by id."""
    query = (
        select(_C.c.id, _C.c.communication_id, _C.c.profile_id, _C.c.channel, _C.c.status)
        .where(*_run_filter(run), _C.c.id > after_id)
        .order_by(_C.c.id)
        .limit(limit)
    )
    return [(int(a), str(b), c, str(d), str(e)) for a, b, c, d, e in session.execute(query)]


def statuses(session: Session, communication_ids: Sequence[str]) -> dict[str, str]:
    if not communication_ids:
        return {}
    query = select(_C.c.communication_id, _C.c.status).where(_C.c.communication_id.in_(list(set(communication_ids))))
    return {str(a): str(b) for a, b in session.execute(query)}


class SentRow(NamedTuple):
    at: datetime
    priority: str | None
    type: str
    purpose: str | None


@functools.lru_cache(maxsize=4)
def _sent_since_one(excluded: int) -> Prepared[SentRow]:
    when = func.coalesce(_C.c.sent_at, _C.c.created_at)
    return Prepared(
        select(when.label("at"), _C.c.priority, _C.c.type, _C.c.purpose).where(
            _C.c.profile_id == bindparam("id"),
            when >= bindparam("since", type_=_C.c.created_at.type),
            *(_C.c.status != bindparam(f"s{i}") for i in range(excluded)),
        ),
        SentRow,
    )


def sent_since_one(
    reads: Reads, profile_id: int, since: datetime, not_statuses: Sequence[str]
) -> list[tuple[datetime, str | None, str, str | None]]:
    """sent_since for one profile as a hot read (a prepared statement: the decision point asks it every time)."""
    statuses = {f"s{i}": s for i, s in enumerate(not_statuses)}
    rows = _sent_since_one(len(not_statuses)).all(reads, id=profile_id, since=since, **statuses)
    return [(r.at, r.priority, r.type, r.purpose) for r in rows]


def sent_since(
    session: Session, profile_ids: Sequence[int], since: datetime, not_statuses: Sequence[str]
) -> list[tuple[datetime, str | None, str, str | None]]:
    """(when, priority, type, purpose) of these profiles' communications since a time, but those in `not_statuses`."""
    when = func.coalesce(_C.c.sent_at, _C.c.created_at)
    rows = session.execute(
        select(when, _C.c.priority, _C.c.type, _C.c.purpose).where(
            _C.c.profile_id.in_(profile_ids), when >= since, _C.c.status.not_in(not_statuses)
        )
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def sent_since_by_profile(
    session: Session, profile_ids: Sequence[int], since: datetime, not_statuses: Sequence[str]
) -> list[tuple[int, datetime, str | None, str, str | None]]:
    """`sent_since` of many profiles at once, each row with its profile: (profile, when, priority, type, purpose)."""
    when = func.coalesce(_C.c.sent_at, _C.c.created_at)
    out: list[tuple[int, datetime, str | None, str, str | None]] = []
    ids = sorted(set(profile_ids))
    for start in range(0, len(ids), 900):  # under SQLite's bound-parameter limit
        rows = session.execute(
            select(_C.c.profile_id, when, _C.c.priority, _C.c.type, _C.c.purpose).where(
                _C.c.profile_id.in_(ids[start : start + 900]), when >= since, _C.c.status.not_in(not_statuses)
            )
        )
        out.extend((int(r[0]), r[1], r[2], r[3], r[4]) for r in rows)
    return out
