"""Queries of the privacy domain: its own tables only (requests and tombstones).

Erasure reaches other domains' rows through their services (`erase_facts`, `erase_identity`, `scrub_choices`,
`scrub_events`, `scrub_details`), never their tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from seamline.core.db import table_of
from seamline.privacy.models import ErasedIdentifier, PrivacyRequest

CHUNK = 900  # under SQLite's bound-parameter limit


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def add_request(session: Session, row: dict[str, Any]) -> PrivacyRequest:
    request = PrivacyRequest(**row)
    session.add(request)
    session.flush()
    return request


def get_request(session: Session, request_id: int, *, lock: bool = False) -> PrivacyRequest | None:
    query = select(PrivacyRequest).where(PrivacyRequest.id == request_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def list_requests(session: Session, *, status: str | None, limit: int) -> Sequence[PrivacyRequest]:
    query = select(PrivacyRequest)
    if status is not None:
        query = query.where(PrivacyRequest.status == status)
    return session.scalars(query.order_by(PrivacyRequest.id.desc()).limit(limit)).all()


def add_tombstones(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert tombstones; one already there (an earlier erasure of the same value) is kept as it is."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table_of(ErasedIdentifier)).on_conflict_do_nothing(index_elements=["type", "value_hash"])
    session.execute(stmt, list(rows))


# Run for every worker batch, by type: the (type, value_hash) unique index then finds each hash (by the hash
# alone every chunk scanned the whole table).
_TOMBSTONED = select(table_of(ErasedIdentifier).c.value_hash).where(
    table_of(ErasedIdentifier).c.type == bindparam("type"),
    table_of(ErasedIdentifier).c.value_hash.in_(bindparam("hashes", expanding=True)),
)


# One probe of the (type, value_hash) index per type: whether any tombstone of that type exists at all.
_ANY_OF_TYPE = (
    select(table_of(ErasedIdentifier).c.type).where(table_of(ErasedIdentifier).c.type == bindparam("type")).limit(1)
)


def tombstoned_types(session: Session, types: Iterable[str]) -> set[str]:
    """Which of these identifier types have any tombstone."""
    conn = session.connection()
    return {t for t in sorted(set(types)) if conn.execute(_ANY_OF_TYPE, {"type": t}).first() is not None}


def tombstoned(session: Session, hashes_by_type: Mapping[str, Sequence[str]]) -> set[str]:
    """Which of these identifier hashes, given per identifier type, are tombstoned."""
    out: set[str] = set()
    conn = session.connection()
    for type_, hashes in sorted(hashes_by_type.items()):
        for chunk in _chunks(sorted(hashes)):
            out.update(conn.execute(_TOMBSTONED, {"type": type_, "hashes": list(chunk)}).scalars().all())
    return out
