"""Queries of the audit domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import JSON, Dialect, bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from seamline.audit.models import AuditEntry
from seamline.core.db import table_of
from seamline.core.prepared import DriverTransaction, Prepared


class AuditRow(TypedDict):
    """The values of one audit entry, as written."""

    at: datetime
    actor: str
    actor_kind: str
    surface: str
    action: str
    subject_type: str
    subject_id: str
    detail: str  # the detail encoded as JSON, once, by the service that checked it


class _EncodedJson(TypeDecorator[str]):
    """A JSON column's value handed over already encoded: written as it is (cast to JSON on PostgreSQL)."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None


_COLUMNS = ("at", "actor", "actor_kind", "surface", "action", "subject_type", "subject_id")
# Every API read appends one entry: a prepared insert on the driver, its values converted by the columns' types.
_INSERT = Prepared(
    insert(table_of(AuditEntry))
    .inline()
    .values({**{name: bindparam(name) for name in _COLUMNS}, "detail": bindparam("detail", type_=_EncodedJson())})
)


def insert_rows(bind: Session | DriverTransaction, rows: Sequence[AuditRow]) -> None:
    """Append entries in one driver call, in a unit of work's session or (the group committer's) driver transaction."""
    _INSERT.run_many(bind, rows)


def find(
    session: Session,
    *,
    subject_type: str | None,
    subject_id: str | None,
    actor: str | None,
    limit: int,
    before_id: int | None,
) -> Sequence[AuditEntry]:
    """Entries matching every given filter, newest first."""
    query = select(AuditEntry)
    if subject_type is not None:
        query = query.where(AuditEntry.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == subject_id)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)).all()


def details_of(session: Session, subject_type: str, subject_ids: Sequence[str]) -> list[tuple[int, dict[str, Any]]]:
    """(id, detail) of every entry about these subjects."""
    rows = session.execute(
        select(AuditEntry.id, AuditEntry.detail).where(
            AuditEntry.subject_type == subject_type, AuditEntry.subject_id.in_(subject_ids)
        )
    ).all()
    return [(int(r[0]), dict(r[1] or {})) for r in rows]


def replace_details(session: Session, entry_ids: Sequence[int], detail: dict[str, Any]) -> None:
    table = table_of(AuditEntry)
    for start in range(0, len(entry_ids), 900):
        chunk = entry_ids[start : start + 900]
        session.execute(update(table).where(table.c.id.in_(chunk)).values(detail=detail))
