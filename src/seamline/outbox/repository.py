"""Queries of the outbox. Claims take row locks on PostgreSQL (SKIP LOCKED, so dispatchers on many machines
never wait for each other) and a lease on both databases (a dispatcher killed mid-run frees its rows)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ARRAY, JSON, Text, bindparam, case, cast, delete, func, or_, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from seamline.core.db import is_postgres, picked_once, table_of
from seamline.core.prepared import Prepared, Reads, slot_values
from seamline.outbox.models import OutboxCircuit, OutboxMessage

PENDING = "pending"
SENT = "sent"
FAILED = "failed"  # refused for good by the far side (an unknown mailbox): not retried, not a dead letter
SUPPRESSED = "suppressed"  # consent or reachability said no at the moment of sending
DEAD = "dead"
DISCARDED = "discarded"

_T = table_of(OutboxMessage)


def _upsert_of(session: Session) -> Any:
    """The dialect's INSERT … ON CONFLICT: PostgreSQL's is imported only there (its dialect package costs a
    command-line start on SQLite ~20 ms; the generic ARRAY below renders as its own on PostgreSQL)."""
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert

        return insert
    return sqlite_insert


def add(session: Session, row: Mapping[str, Any]) -> OutboxMessage:
    message = OutboxMessage(**row)
    session.add(message)
    session.flush()
    return message


def by_idempotency_key(session: Session, key: str) -> OutboxMessage | None:
    return session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).first()


def get(session: Session, message_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, message_id)


def _due(kinds: Sequence[str], now: datetime) -> Any:
    return (
        _T.c.status == PENDING,
        _T.c.kind.in_(kinds),
        _T.c.next_attempt_at <= now,
        or_(_T.c.claimed_until.is_(None), _T.c.claimed_until < now),
    )


class _Id(NamedTuple):
    id: int


KIND_SLOTS = 16  # the most kinds one dispatcher may deliver (it has 8)
# An idle dispatcher asks this 20 times a second: prepared on the driver, it costs ~30 µs where a session's query
# cost ~1 ms of CPU (and held the GIL from the API's requests that long).
_ANY_DUE = Prepared(
    text(
        f"SELECT id FROM outbox_messages WHERE status = '{PENDING}' "  # noqa: S608  # constants and placeholders only
        f"AND kind IN ({', '.join(f':in_{n}' for n in range(KIND_SLOTS))}) AND next_attempt_at <= :now "
        "AND (claimed_until IS NULL OR claimed_until < :now) LIMIT 1"
    )
    .bindparams(bindparam("now", type_=_T.c.next_attempt_at.type))
    .columns(_T.c.id),
    _Id,
)


def is_any_due(reads: Reads, kinds: Sequence[str], now: datetime) -> bool:
    return _ANY_DUE.first(reads, now=now, **slot_values(kinds, KIND_SLOTS)) is not None


def claim(
    session: Session, *, kinds: Sequence[str], limit: int, now: datetime, token: str, lease_until: datetime
) -> list[Any]:
    """Take up to `limit` due rows of these kinds for this dispatcher, oldest due first (rows by id)."""
    due = (
        select(_T.c.id)
        .where(*_due(kinds, now))
        .order_by(_T.c.next_attempt_at, _T.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # ignored by SQLite, whose writers take turns (BEGIN IMMEDIATE)
    )
    # One statement, one round trip: the rows are locked, leased and returned together (Core rows, not ORM
    # objects: a dispatcher only reads them); the due rows are picked once (seen, under a plain `IN`, as one
    # dispatcher taking all four rows of a batch of two).
    taken = (
        update(_T)
        .where(picked_once(session, _T.c.id, due))
        .values(claim_token=token, claimed_until=lease_until)
        .returning(*_T.c)
    )
    return sorted(session.execute(taken).all(), key=lambda row: int(row.id))


def settle(session: Session, token: str, changes: Sequence[Mapping[str, Any]]) -> int:
    """Apply each change (`id` and new values) to a row this claim still holds; returns how many held."""
    # Rows that change the same columns go in one executemany: a batch settles in a few driver calls.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        columns = tuple(sorted(k for k in change if k != "id"))
        groups.setdefault(columns, []).append({f"v_{k}": v for k, v in change.items()})
    held = 0
    on_postgres = is_postgres(session)
    for columns, rows in groups.items():
        if on_postgres and len(rows) > 1:
            held += _settle_from_arrays(session, token, columns, rows)
            continue
        statement = (
            update(_T)
            .where(_T.c.id == bindparam("v_id"), _T.c.claim_token == token, _T.c.status == PENDING)
            .values({**{c: bindparam(f"v_{c}") for c in columns}, "claim_token": None, "claimed_until": None})
        )
        result = session.connection().execute(statement, rows)
        held += result.rowcount
    return held


def _settle_from_arrays(
    session: Session, token: str, columns: tuple[str, ...], rows: Sequence[Mapping[str, Any]]
) -> int:
    """PostgreSQL: one `UPDATE … FROM unnest(arrays)` for rows changing the same columns, instead of a statement
    per row: one parameter per column whatever the batch size, so the statement is compiled once and the driver
    sends a few arrays (even pipelined, a statement per row costs a parse and an execution each)."""
    # The driver cannot adapt a list of mappings: a JSON column (a payload whose secret content is dropped) travels
    # as text and is read back as JSON in the SET.
    is_json = {name: isinstance(_T.c[name].type, JSON) for name in ("id", *columns)}
    # A value every row shares (a round's status, time and answer) is one parameter, not an array: the driver
    # adapts arrays element by element in Python, and most of a round's settle is the same few values.
    first = rows[0]
    shared = {c for c in columns if not is_json[c] and all(row[f"v_{c}"] == first[f"v_{c}"] for row in rows)}
    names = ("id", *(c for c in columns if c not in shared))
    arrays = [
        cast(
            bindparam(f"a_{name}", [_as_text(row[f"v_{name}"]) if is_json[name] else row[f"v_{name}"] for row in rows]),
            ARRAY(Text() if is_json[name] else _T.c[name].type),
        )
        for name in names
    ]
    given = func.unnest(*arrays).table_valued(*names).render_derived(name="v")
    values: dict[str, Any] = {
        c: bindparam(f"s_{c}", first[f"v_{c}"], type_=_T.c[c].type) if c in shared
        else cast(given.c[c], _T.c[c].type) if is_json[c] else given.c[c]
        for c in columns
    }  # fmt: skip
    statement = (
        update(_T)
        .where(_T.c.id == given.c.id, _T.c.claim_token == token, _T.c.status == PENDING)
        .values({**values, "claim_token": None, "claimed_until": None})
    )
    result: Any = session.connection().execute(statement)
    return int(result.rowcount)


def _as_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def listed(session: Session, status: str, limit: int, kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.status == status)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit)))


def set_status(session: Session, ids: Sequence[int], from_status: str, values: Mapping[str, Any]) -> list[int]:
    """Change rows in `from_status`; returns the ids that were."""
    found = list(session.execute(select(_T.c.id).where(_T.c.id.in_(ids), _T.c.status == from_status)).scalars())
    if found:
        session.execute(update(_T).where(_T.c.id.in_(found)).values(**values))
    return found


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(_T.c.status, func.count()).group_by(_T.c.status)).all()
    return {str(status): int(n) for status, n in rows}


def oldest_due(session: Session, now: datetime) -> dict[str, datetime]:
    """Per kind, when the longest-waiting due pending message became due."""
    query = (
        select(_T.c.kind, func.min(_T.c.next_attempt_at))
        .where(_T.c.status == PENDING, _T.c.next_attempt_at <= now)
        .group_by(_T.c.kind)
    )
    return {str(kind): at for kind, at in session.execute(query).all()}


def delete_of_profiles(session: Session, profile_ids: Sequence[int]) -> int:
    result = session.execute(delete(_T).where(_T.c.profile_id.in_(profile_ids)))
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of a DELETE


def of_target(session: Session, target: str, since: datetime, statuses: Sequence[str]) -> list[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.target == target, OutboxMessage.created_at >= since, OutboxMessage.status.in_(statuses))
        .order_by(OutboxMessage.id)
    )
    return list(session.scalars(query))


def release_target(session: Session, target: str, now: datetime) -> None:
    """Make a target's waiting rows due now (a resumed destination)."""
    session.execute(update(_T).where(_T.c.target == target, _T.c.status == PENDING).values(next_attempt_at=now))


_CIRCUITS = table_of(OutboxCircuit)


def circuits(session: Session, targets: Sequence[str]) -> list[Any]:
    """The shared circuits of these targets that are not closed (target, failures, open_until, trial_until)."""
    if not targets:
        return []
    query = select(_CIRCUITS.c.target, _CIRCUITS.c.failures, _CIRCUITS.c.open_until, _CIRCUITS.c.trial_until)
    return list(session.execute(query.where(_CIRCUITS.c.target.in_(sorted(set(targets))))).all())


def take_trial(session: Session, target: str, now: datetime, until: datetime) -> bool:
    """Win the one trial of a half-open circuit (nobody else holds it, or their lease ran out)."""
    result: Any = session.execute(
        update(_CIRCUITS)
        .where(
            _CIRCUITS.c.target == target,
            _CIRCUITS.c.open_until <= now,
            or_(_CIRCUITS.c.trial_until.is_(None), _CIRCUITS.c.trial_until < now),
        )
        .values(trial_until=until, updated_at=now)
    )
    return int(result.rowcount or 0) == 1


def add_failures(
    session: Session, target: str, failures: int, threshold: int, open_until: datetime, now: datetime
) -> None:
    """Count failures in a row against a target (whoever else counts too); at `threshold` the circuit opens."""
    insert = _upsert_of(session)
    first = insert(_CIRCUITS).values(
        target=target,
        failures=failures,
        open_until=open_until if failures >= threshold else None,
        trial_until=None,
        updated_at=now,
    )
    total = _CIRCUITS.c.failures + first.excluded.failures
    session.execute(
        first.on_conflict_do_update(
            index_elements=["target"],
            set_={
                "failures": total,
                "open_until": case((total >= threshold, open_until), else_=_CIRCUITS.c.open_until),
                "trial_until": None,
                "updated_at": now,
            },
        )
    )


def reset_circuit(session: Session, target: str, failures: int, open_until: datetime | None, now: datetime) -> None:
    """After a success: the circuit holds only the failures since (none: closed, the row goes)."""
    if failures == 0:
        session.execute(delete(_CIRCUITS).where(_CIRCUITS.c.target == target))
        return
    insert = _upsert_of(session)
    values = {"failures": failures, "open_until": open_until, "trial_until": None, "updated_at": now}
    session.execute(
        insert(_CIRCUITS).values(target=target, **values).on_conflict_do_update(index_elements=["target"], set_=values)
    )
