"""Queries of the in-app inbox."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from seamline.communications.models import InAppMessage
from seamline.core.db import table_of

_M = table_of(InAppMessage)


def add_new(session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
    """Add messages not stored yet (a settle repeated after a lapsed lease adds nothing); returns how many."""
    if not rows:
        return 0
    known = set(
        session.scalars(
            select(_M.c.communication_id).where(_M.c.communication_id.in_([r["communication_id"] for r in rows]))
        )
    )
    fresh = [dict(r) for r in rows if r["communication_id"] not in known]
    if fresh:
        session.execute(_M.insert(), fresh)
    return len(fresh)


def of_profiles(
    session: Session, profile_ids: Sequence[int], *, include_archived: bool, limit: int
) -> list[InAppMessage]:
    query = select(InAppMessage).where(InAppMessage.profile_id.in_(profile_ids))
    if not include_archived:
        query = query.where(InAppMessage.archived_at.is_(None))
    query = query.order_by(InAppMessage.created_at.desc(), InAppMessage.id.desc()).limit(limit)
    return list(session.scalars(query))


def unread_count(session: Session, profile_ids: Sequence[int]) -> int:
    query = select(func.count()).where(
        _M.c.profile_id.in_(profile_ids), _M.c.read_at.is_(None), _M.c.archived_at.is_(None)
    )
    return int(session.execute(query).scalar_one())


def by_public_id(session: Session, communication_id: str) -> InAppMessage | None:
    return session.scalars(select(InAppMessage).where(InAppMessage.communication_id == communication_id)).first()


def set_values(session: Session, row_id: int, values: Mapping[str, Any]) -> None:
    session.execute(update(_M).where(_M.c.id == row_id).values(**values))


def delete_of_profiles(session: Session, profile_ids: Sequence[int]) -> int:
    result = session.execute(delete(_M).where(_M.c.profile_id.in_(profile_ids)))
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of a DELETE
