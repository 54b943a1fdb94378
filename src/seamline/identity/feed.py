"""Queries of the profile change feed and the erasure mark (a repository of its own: the graph's is long enough).

Every transaction that changes what profiles hold appends one `profile_changes` row naming them: the event pipeline
(worker batches, corrections, imports, replays), an unmerge, a rebuild, an erasure. A process's in-memory view (the
real-time match index) asks for "the changes since my mark" before it answers, so a change made by any process
reaches every process's view.

A mark must never skip a row that commits later. On SQLite writers take turns, so rows commit in `seq` order and
the mark is the last seq read. On PostgreSQL a row with a lower seq may commit after a reader read a higher one, so
each row carries the id of the transaction that wrote it, and the mark is the oldest transaction still running
when the reader looked (`pg_snapshot_xmin`): every transaction below it had ended, so its rows were visible then;
reading `txid >= mark` next time sees the rest (a row may be read twice, which changes nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Text, cast, func, insert, select, update
from sqlalchemy.orm import Session

from seamline.core.among import among
from seamline.core.db import is_postgres, table_of
from seamline.core.prepared import Prepared
from seamline.identity.models import Profile, ProfileChange

CHUNK = 900  # under SQLite's bound-parameter limit
_CHANGES = table_of(ProfileChange)
_PROFILES = table_of(Profile)


def _xmin(session: Session) -> int:
    xmin = func.pg_snapshot_xmin(func.pg_current_snapshot())
    return int(session.execute(select(cast(cast(xmin, Text), BigInteger))).scalar_one())


def add_change(session: Session, kind: str, profile_ids: Sequence[int], now: datetime) -> None:
    """Append one row naming these profiles, in the caller's transaction."""
    values: dict[str, Any] = {"kind": kind, "profile_ids": list(profile_ids), "created_at": now}
    if is_postgres(session):
        values["txid"] = cast(cast(func.pg_current_xact_id(), Text), BigInteger)
    session.execute(insert(_CHANGES).values(**values))


def current_mark(session: Session) -> int:
    """A mark that every change committed so far is at or below (read before a full load of what it covers)."""
    if is_postgres(session):
        return _xmin(session)
    return int(session.execute(select(func.coalesce(func.max(_CHANGES.c.seq), 0))).scalar_one())


def changes_since(session: Session, mark: int, kind: str | None = None) -> tuple[int, list[tuple[str, list[int]]]]:
    """(new mark, (kind, profile ids) of each change after `mark`, oldest first; only of `kind` when given)."""
    query = select(_CHANGES.c.seq, _CHANGES.c.kind, _CHANGES.c.profile_ids)
    if kind is not None:
        query = query.where(_CHANGES.c.kind == kind)
    if is_postgres(session):
        new_mark = _xmin(session)  # first: any transaction below it has ended, so the read below sees its rows
        rows = session.execute(query.where(_CHANGES.c.txid >= mark).order_by(_CHANGES.c.seq)).all()
        return new_mark, [(r.kind, [int(p) for p in r.profile_ids]) for r in rows]
    if kind is not None:
        new_mark = current_mark(session)  # rows of other kinds move the mark too
        query = query.where(_CHANGES.c.seq <= new_mark)
    rows = session.execute(query.where(_CHANGES.c.seq > mark).order_by(_CHANGES.c.seq)).all()
    if kind is None:
        new_mark = rows[-1].seq if rows else mark
    return new_mark, [(r.kind, [int(p) for p in r.profile_ids]) for r in rows]


def mark_erased(session: Session, profile_ids: Sequence[int], request_id: int, now: datetime) -> None:
    """Stamp profiles as erased by a data-subject request."""
    for start in range(0, len(profile_ids), CHUNK):
        session.execute(
            update(_PROFILES)
            .where(_PROFILES.c.id.in_(list(profile_ids[start : start + CHUNK])))
            .values(erased_at=now, erasure_request_id=request_id)
        )


def erased_among(session: Session, profile_ids: Sequence[int]) -> set[int]:
    """Which of these profiles are erased."""
    out: set[int] = set()
    for where in among(session, _PROFILES.c.id, profile_ids):
        query = select(_PROFILES.c.id).where(where, _PROFILES.c.erased_at.is_not(None))
        out.update(int(pid) for pid in session.scalars(query))
    return out


class _Seq(NamedTuple):
    seq: int | None


_LAST_SEQ = Prepared(select(func.max(_CHANGES.c.seq).label("seq")), _Seq)


def last_seq(session: Session) -> int:
    """SQLite's mark (`current_mark` there) as a prepared read: the worker reads it twice a batch."""
    row = _LAST_SEQ.first(session)
    return int(row.seq or 0) if row is not None else 0
