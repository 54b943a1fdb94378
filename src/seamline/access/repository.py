"""Queries of the access domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from seamline.access.models import ApiKey


def get_by_name(session: Session, name: str) -> ApiKey | None:
    """The API key with this name, revoked or not."""
    return session.scalars(select(ApiKey).where(ApiKey.name == name)).one_or_none()


def get_by_key_hash(session: Session, key_hash: str) -> ApiKey | None:
    """The API key stored under this digest."""
    return session.scalars(select(ApiKey).where(ApiKey.key_hash == key_hash)).one_or_none()


def list_all(session: Session) -> Sequence[ApiKey]:
    """Every API key, by name."""
    return session.scalars(select(ApiKey).order_by(ApiKey.name)).all()


def add(session: Session, api_key: ApiKey) -> ApiKey:
    """Insert a new API key."""
    session.add(api_key)
    session.flush()
    return api_key


def stamp_last_used(session: Session, api_key: ApiKey, at: datetime) -> None:
    """Record when the key was last used."""
    api_key.last_used_at = at
    session.flush()
