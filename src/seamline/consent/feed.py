"""Queries of the consent change feed: every new version of a choice is named in `consent_changes` by the
transaction that records it, and each reader (destinations' announcer) takes what it has not taken yet, exactly once.

Whatever records a choice — the API, the preference page and its one-click unsubscribe, the console, the worker's
consent consumer (tracked events and imports) — goes through `consent.service`, which appends the row; a replay
(unmerge, rebuild) records no new version, so it adds nothing to the feed.

The cursor must never pass a row that commits later. On SQLite writers take turns (and the reader holds the write
lock), so rows commit in `seq` order and the cursor is the last seq taken. On PostgreSQL a row with a lower seq may
commit after a higher one, so each row carries its writing transaction's id, and a reader takes only rows of
transactions below the horizon `pg_snapshot_xmin` (every transaction there has ended: its rows are final), in
(txid, seq) order after its cursor. A row of a transaction still running waits for the next read; none is read
twice, none skipped. The reader's row is locked while it reads, and its cursor moves in the reader's own
transaction, so two readers of one name never take the same change and a rolled-back read gives them back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Text, and_, cast, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from seamline.consent.models import ConsentChange, ConsentChoice, ConsentFeedReader
from seamline.core.db import is_postgres, table_of

_CHANGES = table_of(ConsentChange)
_READERS = table_of(ConsentFeedReader)
_CHOICES = table_of(ConsentChoice)
# What a reader is given of each change: the version's subject, value and where it came from (never its actor
# or evidence, which are personal and stay in the ledger).
CHANGE_COLUMNS = (
    _CHOICES.c.id,
    _CHOICES.c.profile_id,
    _CHOICES.c.kind,
    _CHOICES.c.purpose,
    _CHOICES.c.channel,
    _CHOICES.c.topic,
    _CHOICES.c.product,
    _CHOICES.c.document_type,
    _CHOICES.c.value,
    _CHOICES.c.surface,
    _CHOICES.c.source_id,
    _CHOICES.c.event_id,
    _CHOICES.c.legal_basis,
    _CHOICES.c.recorded_at,
    _CHOICES.c.effective_at,
    _CHOICES.c.expires_at,
)


def add_change(session: Session, choice_id: int, now: datetime) -> None:
    """Name a new version in the feed, in the caller's transaction."""
    values: dict[str, Any] = {"choice_id": choice_id, "created_at": now}
    if is_postgres(session):
        values["txid"] = cast(cast(func.pg_current_xact_id(), Text), BigInteger)
    session.execute(insert(_CHANGES).values(**values))


def lock_reader(session: Session, name: str, now: datetime) -> tuple[int, int]:
    """The reader's cursor (txid, seq), its row locked until the caller's transaction ends (made at the start of
    the feed the first time)."""
    dialect_insert = pg_insert if is_postgres(session) else sqlite_insert
    first = {"name": name, "txid": 0, "seq": 0, "updated_at": now}
    session.execute(dialect_insert(_READERS).values(first).on_conflict_do_nothing(index_elements=["name"]))
    query = select(_READERS.c.txid, _READERS.c.seq).where(_READERS.c.name == name).with_for_update()
    row = session.execute(query).one()
    return int(row.txid), int(row.seq)


def changes_after(session: Session, cursor: tuple[int, int], limit: int) -> list[Any]:
    """Up to `limit` final changes after the cursor, oldest first: rows of (txid, seq, *CHANGE_COLUMNS)."""
    query = select(_CHANGES.c.txid, _CHANGES.c.seq, *CHANGE_COLUMNS).join(
        _CHOICES, _CHOICES.c.id == _CHANGES.c.choice_id
    )
    txid, seq = cursor
    if is_postgres(session):
        horizon = func.pg_snapshot_xmin(func.pg_current_snapshot())
        below = int(session.execute(select(cast(cast(horizon, Text), BigInteger))).scalar_one())
        query = query.where(
            _CHANGES.c.txid < below, tuple_(_CHANGES.c.txid, _CHANGES.c.seq) > tuple_(txid, seq)
        ).order_by(_CHANGES.c.txid, _CHANGES.c.seq)
    else:
        query = query.where(_CHANGES.c.seq > seq).order_by(_CHANGES.c.seq)
    return list(session.execute(query.limit(limit)).all())


def move_reader(session: Session, name: str, cursor: tuple[int, int], now: datetime) -> None:
    session.execute(
        update(_READERS).where(_READERS.c.name == name).values(txid=cursor[0], seq=cursor[1], updated_at=now)
    )


def prune(session: Session) -> int:
    """Delete the changes every reader has taken; how many."""
    cursors: Sequence[Any] = session.execute(select(_READERS.c.txid, _READERS.c.seq)).all()
    if not cursors:
        return 0
    if is_postgres(session):
        passed = [
            or_(_CHANGES.c.txid < c.txid, and_(_CHANGES.c.txid == c.txid, _CHANGES.c.seq <= c.seq)) for c in cursors
        ]
    else:
        passed = [_CHANGES.c.seq <= min(int(c.seq) for c in cursors)]
    result: Any = session.execute(delete(_CHANGES).where(*passed))
    return int(result.rowcount or 0)
