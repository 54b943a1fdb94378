"""Queries of a graph replay (an unmerge re-deriving its members, or the whole graph rebuilt): the members'
links and conflicts wiped, the profiles made placeholders to be reused, and those not reused pointed home."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from seamline.core.db import table_of
from seamline.identity.models import IdentifierLink, IdentityConflict, Profile
from seamline.identity.repository import chunks


def wipe_graph(session: Session, profile_ids: Sequence[int]) -> None:
    for chunk in chunks(list(profile_ids)):
        session.execute(delete(table_of(IdentifierLink)).where(IdentifierLink.profile_id.in_(chunk)))
        session.execute(delete(table_of(IdentityConflict)).where(IdentityConflict.profile_id.in_(chunk)))


def detach_members(session: Session, profile_ids: Sequence[int], now: datetime) -> None:
    """Make profiles inactive placeholders until a replay reuses them (merged into nothing yet)."""
    for chunk in chunks(list(profile_ids)):
        session.execute(
            update(table_of(Profile))
            .where(Profile.id.in_(chunk))
            .values(merge_count=0, merged_into_id=None, updated_at=now)
        )


def retire_unused(session: Session, placed: dict[int, int | None], now: datetime) -> None:
    """A profile a replay did not recreate points at the profile its first event went to."""
    for profile_id, home in placed.items():
        if home is not None and home != profile_id:
            session.execute(
                update(table_of(Profile))
                .where(Profile.id == profile_id, Profile.merged_into_id.is_(None))
                .values(merged_into_id=home, updated_at=now)
            )


def creators(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(Profile.created_by_event_id, Profile.id).where(Profile.created_by_event_id.is_not(None))
    ).all()
    return {event_id: pid for event_id, pid in rows if event_id is not None}


def all_profile_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Profile.id).order_by(Profile.id)))
