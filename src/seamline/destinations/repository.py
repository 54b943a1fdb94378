"""Queries of destinations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from seamline.destinations.models import Destination


def add(session: Session, row: Mapping[str, Any]) -> Destination:
    destination = Destination(**row)
    session.add(destination)
    session.flush()
    return destination


def by_name(session: Session, name: str) -> Destination | None:
    return session.scalars(select(Destination).where(Destination.name == name)).first()


def by_ids(session: Session, ids: list[int]) -> dict[int, Destination]:
    if not ids:
        return {}
    return {d.id: d for d in session.scalars(select(Destination).where(Destination.id.in_(ids)))}


def listed(session: Session, *, status: str | None = None) -> list[Destination]:
    query = select(Destination).order_by(Destination.name)
    if status is not None:
        query = query.where(Destination.status == status)
    return list(session.scalars(query))
