"""Queries of the sources domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from seamline.sources.models import Source


def get_by_name(session: Session, name: str) -> Source | None:
    return session.scalars(select(Source).where(Source.name == name)).one_or_none()


def get_by_key_hash(session: Session, key_hash: str) -> Source | None:
    return session.scalars(select(Source).where(Source.write_key_hash == key_hash)).one_or_none()


def list_all(session: Session) -> Sequence[Source]:
    return session.scalars(select(Source).order_by(Source.name)).all()


def add(session: Session, source: Source) -> Source:
    session.add(source)
    session.flush()
    return source


def active_origins(session: Session) -> list[list[str]]:
    rows = session.scalars(select(Source.allowed_origins).where(Source.revoked_at.is_(None))).all()
    return [list(row) for row in rows]
