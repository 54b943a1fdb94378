"""Queries of the journeys domain."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, delete, func, insert, or_, select, type_coerce, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from seamline.core.among import among_all
from seamline.core.bulk import BulkInsert
from seamline.core.db import UtcDateTime, picked_once, table_of
from seamline.core.prepared import DriverTransaction, Prepared, Reads, in_slots, slot_values
from seamline.journeys import progress
from seamline.journeys.models import JourneyDefinitionRow, JourneyEntry, JourneyInstance, JourneyToken
from seamline.journeys.rows import (
    BatchEntry,
    BoardCount,
    CollectionCount,
    DefinitionBody,
    DefinitionVersion,
    EntryRow,
    InstanceRow,
    LiveRow,
    MovedOn,
    OpenStep,
    QuietRow,
)


def add(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


def definitions(session: Session, keys: Sequence[str] | None = None) -> Sequence[JourneyDefinitionRow]:
    query = select(JourneyDefinitionRow).order_by(JourneyDefinitionRow.key)
    if keys is not None:
        query = query.where(JourneyDefinitionRow.key.in_(keys))
    return session.scalars(query).all()


def definition_versions(session: Session) -> list[tuple[str, int, datetime]]:
    """(key, revision, loaded at) of every loaded definition: what says whether a parsed copy is still current."""
    query = select(JourneyDefinitionRow.key, JourneyDefinitionRow.revision, JourneyDefinitionRow.loaded_at)
    return [(str(k), int(r), at) for k, r, at in session.execute(query)]


def replace_definition(session: Session, key: str, name: str, body: dict[str, Any], now: datetime) -> None:
    """Insert or overwrite one definition, counting its revisions."""
    row = session.get(JourneyDefinitionRow, key)
    if row is None:
        session.add(JourneyDefinitionRow(key=key, name=name, body=body, revision=1, loaded_at=now))
    elif row.body != body:
        row.name, row.body, row.revision, row.loaded_at = name, body, row.revision + 1, now
    session.flush()


def by_public_id(session: Session, public_id: str, *, lock: bool = False) -> JourneyInstance | None:
    query = select(JourneyInstance).where(JourneyInstance.public_id == public_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def by_public_ids(session: Session, public_ids: Sequence[str]) -> Sequence[JourneyInstance]:
    return session.scalars(select(JourneyInstance).where(JourneyInstance.public_id.in_(public_ids))).all()


def get(session: Session, instance_id: int) -> JourneyInstance | None:
    return session.get(JourneyInstance, instance_id)


def resumable(session: Session, profile_id: int, journey: str, statuses: Sequence[str]) -> Sequence[JourneyInstance]:
    """A profile's instances of a journey in these statuses, oldest first."""
    query = select(JourneyInstance).where(
        JourneyInstance.profile_id == profile_id,
        JourneyInstance.journey == journey,
        JourneyInstance.status.in_(statuses),
    )
    return session.scalars(query.order_by(JourneyInstance.id)).all()


def open_of_profile(session: Session, profile_id: int) -> Sequence[JourneyInstance]:
    """A profile's open and stalled journeys, most recently active first."""
    return _of_profile(session, profile_id, JourneyInstance.status.in_(progress.RESUMABLE))


def unjoined_of_profile(session: Session, profile_id: int) -> Sequence[JourneyInstance]:
    """Every journey of a profile that is not joined into another, most recently active first."""
    return _of_profile(session, profile_id, JourneyInstance.status != progress.JOINED)


def _of_profile(session: Session, profile_id: int, wanted: ColumnElement[bool]) -> Sequence[JourneyInstance]:
    query = select(JourneyInstance).where(JourneyInstance.profile_id == profile_id, wanted)
    return session.scalars(query.order_by(JourneyInstance.last_activity_at.desc(), JourneyInstance.id.desc())).all()


def joined_to(session: Session, keeper_ids: Sequence[int]) -> Sequence[JourneyInstance]:
    return session.scalars(select(JourneyInstance).where(JourneyInstance.joined_into.in_(keeper_ids))).all()


def group_entries(session: Session, keeper_id: int) -> Sequence[JourneyEntry]:
    """The entries of an instance and of every instance joined into it, in one query."""
    joined = select(JourneyInstance.id).where(JourneyInstance.joined_into == keeper_id)
    query = select(JourneyEntry).where((JourneyEntry.instance_id == keeper_id) | JourneyEntry.instance_id.in_(joined))
    return session.scalars(query.order_by(JourneyEntry.id)).all()


def entries(session: Session, instance_ids: Sequence[int]) -> Sequence[JourneyEntry]:
    query = select(JourneyEntry).where(JourneyEntry.instance_id.in_(instance_ids)).order_by(JourneyEntry.id)
    return session.scalars(query).all()


def move(session: Session, from_profile: int, into_profile: int) -> None:
    session.execute(
        update(JourneyInstance).where(JourneyInstance.profile_id == from_profile).values(profile_id=into_profile)
    )


def rejoin(session: Session, from_keeper: int, into_keeper: int) -> None:
    session.execute(
        update(JourneyInstance).where(JourneyInstance.joined_into == from_keeper).values(joined_into=into_keeper)
    )


def wipe(session: Session, origin_profiles: Sequence[int]) -> None:
    """Forget the instances begun on these profiles and their entries: a replay derives them again."""
    ids = select(JourneyInstance.id).where(JourneyInstance.origin_profile_id.in_(origin_profiles))
    session.execute(delete(JourneyEntry).where(JourneyEntry.instance_id.in_(ids)))
    session.execute(delete(JourneyInstance).where(JourneyInstance.origin_profile_id.in_(origin_profiles)))


def mark_quiet(
    session: Session, journey: str, from_status: str, before: datetime, status: str, at: datetime, limit: int
) -> list[QuietRow]:
    """Mark up to `limit` of a journey's instances in `from_status` with no activity since `before` as `status`,
    the longest quiet first, in one statement; returns (id, public id, profile, current step) of each, by id. On
    PostgreSQL rows another scan holds are skipped, never waited for, and the rows are picked once (under a plain
    `IN`, a pass with a limit of 1 was seen marking 2)."""
    table = table_of(JourneyInstance)
    # One status at a time: (journey, status, last_activity_at) is then one index range, in this order, and the
    # LIMIT stops the read (ordered by id, or over two statuses, every quiet row was read and sorted each pass).
    due = (
        select(table.c.id)
        .where(table.c.journey == journey, table.c.status == from_status, table.c.last_activity_at <= before)
        .order_by(table.c.last_activity_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    # The people are named by a read of their own: the same keys as correlated subqueries in RETURNING cost
    # SQLite twice that read (0.59 against 0.30 s of CPU for 50,000).
    marked = (
        update(table)
        .where(picked_once(session, table.c.id, due))
        .values(status=status, quiet_since=at)
        .returning(table.c.id, table.c.public_id, table.c.profile_id, table.c.current_step)
    )
    return sorted(QuietRow(*r) for r in session.connection().execute(marked))


def board(session: Session) -> list[BoardCount]:
    """(journey, status, current step, count) over every instance that is not joined into another."""
    query = (
        select(JourneyInstance.journey, JourneyInstance.status, JourneyInstance.current_step, func.count())
        .where(JourneyInstance.joined_into.is_(None))
        .group_by(JourneyInstance.journey, JourneyInstance.status, JourneyInstance.current_step)
    )
    return [BoardCount(*r) for r in session.execute(query).all()]


def listing(
    session: Session, journey: str | None, status: str | None, step: str | None, limit: int
) -> Sequence[JourneyInstance]:
    query = select(JourneyInstance).where(JourneyInstance.joined_into.is_(None))
    if journey is not None:
        query = query.where(JourneyInstance.journey == journey)
    if status is not None:
        query = query.where(JourneyInstance.status == status)
    if step is not None:
        query = query.where(JourneyInstance.current_step == step)
    return session.scalars(query.order_by(JourneyInstance.last_activity_at.desc()).limit(limit)).all()


def collection_counts(session: Session) -> list[CollectionCount]:
    """(journey, step, field, asked, already held, disagreed) over every field given."""
    query = (
        select(
            JourneyEntry.journey,
            JourneyEntry.step,
            JourneyEntry.field,
            func.count(),
            func.sum(case((JourneyEntry.already_held, 1), else_=0)),
            func.sum(case((JourneyEntry.disagreed, 1), else_=0)),
        )
        .where(JourneyEntry.kind == "field")
        .group_by(JourneyEntry.journey, JourneyEntry.step, JourneyEntry.field)
        .order_by(JourneyEntry.journey, JourneyEntry.step, JourneyEntry.field)
    )
    return [CollectionCount(j, s, f, int(a), int(h or 0), int(d or 0)) for j, s, f, a, h, d in session.execute(query)]


def instances_of_profiles(session: Session, profile_ids: Sequence[int]) -> Sequence[JourneyInstance]:
    query = select(JourneyInstance).where(
        JourneyInstance.profile_id.in_(profile_ids) | JourneyInstance.origin_profile_id.in_(profile_ids)
    )
    return session.scalars(query.order_by(JourneyInstance.id)).all()


def erase(session: Session, instance_ids: Sequence[int], public_ids: Sequence[str], profile_ids: Sequence[int]) -> int:
    """Delete what was entered in these instances and every resume token of them or of these profiles."""
    result: Any = session.execute(delete(JourneyEntry).where(JourneyEntry.instance_id.in_(instance_ids)))
    session.execute(
        delete(JourneyToken).where(
            JourneyToken.instance_public_id.in_(public_ids) | JourneyToken.profile_id.in_(profile_ids)
        )
    )
    return int(result.rowcount or 0)


def token_by_digest(session: Session, digest: str) -> JourneyToken | None:
    return session.scalars(select(JourneyToken).where(JourneyToken.digest == digest)).one_or_none()


def revoke_tokens(session: Session, public_id: str, now: datetime) -> int:
    result: Any = session.execute(
        update(JourneyToken)
        .where(JourneyToken.instance_public_id == public_id, JourneyToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)


def applied_events(session: Session, event_ids: Sequence[int]) -> set[int]:
    """Which of these events already recorded an entry (a save applied when it was made)."""
    if not event_ids:
        return set()
    query = select(JourneyEntry.event_id).where(JourneyEntry.event_id.in_(event_ids)).distinct()
    return {int(e) for e in session.scalars(query)}


def step_completions(
    session: Session, since: datetime | None, until: datetime | None
) -> Iterator[tuple[str, str, datetime, datetime]]:
    """(journey, step, completed at, since when it was current) for every step completed in the period: a step
    was current from the instance's previous completion, or from its start for the first."""
    previous = func.lag(JourneyEntry.at).over(
        partition_by=JourneyEntry.instance_id, order_by=(JourneyEntry.at, JourneyEntry.id)
    )
    inner = (
        select(
            JourneyEntry.journey,
            JourneyEntry.step,
            JourneyEntry.at,
            func.coalesce(previous, JourneyInstance.started_at).label("current_since"),
        )
        .join(JourneyInstance, JourneyInstance.id == JourneyEntry.instance_id)
        .where(JourneyEntry.kind == "step")
        .subquery()
    )
    query = select(inner.c.journey, inner.c.step, inner.c.at, type_coerce(inner.c.current_since, UtcDateTime()))
    if since is not None:
        query = query.where(inner.c.at >= since)
    if until is not None:
        query = query.where(inner.c.at < until)
    for journey, step, at, current_since in session.execute(query.execution_options(yield_per=10_000)):
        yield str(journey), str(step), at, current_since


# The journey API's hot path (journeys/direct.py): prepared statements run on the API's held read connection and
# on the save writer's driver transaction, past the ORM (its execution machinery was most of a save's CPU).
_I, _E, _D = table_of(JourneyInstance), table_of(JourneyEntry), table_of(JourneyDefinitionRow)
_INSTANCE_COLUMNS = list(_I.c)
_ENTRY_COLUMNS = list(_E.c)
_BY_PUBLIC_ID = Prepared(select(*_INSTANCE_COLUMNS).where(_I.c.public_id == bindparam("public_id")), InstanceRow)
_BY_ID = Prepared(select(*_INSTANCE_COLUMNS).where(_I.c.id == bindparam("id")), InstanceRow)
_RESUMABLE_OF = Prepared(
    select(*_INSTANCE_COLUMNS)
    .where(_I.c.profile_id == bindparam("profile_id"), in_slots(_I.c.status, 2))
    .order_by(_I.c.last_activity_at.desc(), _I.c.id.desc()),
    InstanceRow,
)
_GROUP = select(_I.c.id).where(_I.c.joined_into == bindparam("keeper")).scalar_subquery()
_GROUP_ENTRIES = Prepared(
    select(*_ENTRY_COLUMNS)
    .where(or_(_E.c.instance_id == bindparam("keeper"), _E.c.instance_id.in_(_GROUP)))
    .order_by(_E.c.id),
    EntryRow,
)
_VERSIONS = Prepared(select(_D.c.key, _D.c.revision, _D.c.loaded_at), DefinitionVersion)
_BODIES = Prepared(select(_D.c.key, _D.c.revision, _D.c.loaded_at, _D.c.body), DefinitionBody)
_LATER_ENTRY = (
    select(_E.c.id)
    .where(or_(_E.c.instance_id == bindparam("id"), _E.c.instance_id.in_(_GROUP)), _E.c.id > bindparam("seen_entry"))
    .exists()
)
# Moves an instance on only while it is as the save read it: same person, status and last activity, not joined
# into another, and no entry added to its group since (else the save is made again the ORM's way).
_MOVE_ON = Prepared(
    update(_I)
    .where(
        _I.c.id == bindparam("id"),
        _I.c.profile_id == bindparam("seen_profile"),
        _I.c.status == bindparam("seen_status"),
        _I.c.last_activity_at == bindparam("seen_activity"),
        _I.c.joined_into.is_(None),
        ~_LATER_ENTRY,
    )
    .values(
        status=bindparam("status"),
        current_step=bindparam("current_step"),
        step_since=bindparam("step_since"),
        last_activity_at=bindparam("last_activity_at"),
        completed_at=bindparam("completed_at"),
        quiet_since=bindparam("quiet_since"),
    )
    .returning(_I.c.id),
    MovedOn,
)
_ENTRY_VALUES = [c.key for c in _ENTRY_COLUMNS if c.key != "id"]
_ADD_ENTRIES = Prepared(insert(_E).values({name: bindparam(name) for name in _ENTRY_VALUES}))


def instance_row(reads: Reads, public_id: str) -> InstanceRow | None:
    """An instance's columns by public id (or None)."""
    return _BY_PUBLIC_ID.first(reads, public_id=public_id)


def instance_row_by_id(reads: Reads, instance_id: int) -> InstanceRow | None:
    return _BY_ID.first(reads, id=instance_id)


def resumable_rows(reads: Reads, profile_id: int, statuses: Sequence[str]) -> list[InstanceRow]:
    """A profile's instances in these (one or two) statuses, most recently active first."""
    return _RESUMABLE_OF.all(reads, profile_id=profile_id, **slot_values(statuses, 2))


_STEP_SLOTS = 900  # profiles a statement: under SQLite's limit of bound parameters
# The decision point's batch read: which journeys each of many people has open, and at which step.
_OPEN_STEPS_OF = Prepared(
    select(_I.c.profile_id, _I.c.journey, _I.c.current_step)
    .where(in_slots(_I.c.profile_id, _STEP_SLOTS), _I.c.status.in_([bindparam("status_0"), bindparam("status_1")]))
    .order_by(_I.c.profile_id, _I.c.last_activity_at, _I.c.id),
    OpenStep,
)


def step_rows_of(reads: Reads, profile_ids: Sequence[int], statuses: Sequence[str]) -> list[OpenStep]:
    """(profile, journey, current step) of these profiles' instances in these (one or two) statuses, by profile,
    least recently active first."""
    ids = sorted(set(profile_ids))
    chosen = {"status_0": statuses[0], "status_1": statuses[-1]}
    return [
        row
        for start in range(0, len(ids), _STEP_SLOTS)
        for row in _OPEN_STEPS_OF.all(reads, **chosen, **slot_values(ids[start : start + _STEP_SLOTS], _STEP_SLOTS))
    ]


def group_entry_rows(reads: Reads, keeper_id: int) -> list[EntryRow]:
    """The entries of an instance and of every instance joined into it, by id."""
    return _GROUP_ENTRIES.all(reads, keeper=keeper_id)


def definition_version_rows(reads: Reads) -> list[DefinitionVersion]:
    """(key, revision, loaded at) of every loaded definition."""
    return _VERSIONS.all(reads)


def definition_body_rows(reads: Reads) -> list[DefinitionBody]:
    """(key, revision, loaded at, body) of every loaded definition."""
    return _BODIES.all(reads)


def move_on(write: DriverTransaction, values: Mapping[str, Any]) -> bool:
    """Write an instance's new progress if it is still as it was read (see _MOVE_ON); whether it was."""
    return _MOVE_ON.first(write, keeper=values["id"], **values) is not None


def add_entry_rows(write: DriverTransaction, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert entries (their column values) in one driver call."""
    _ADD_ENTRIES.run_many(write, rows)


# The worker's batch path (journeys/batch.py): plain rows through Core, no ORM object per instance or entry; each
# set of ids or public ids is one parameter (among_all), not an IN list SQLAlchemy renders and binds value by value.
_LIVE_COLUMNS = LiveRow._fields


def live_rows_by_public_ids(session: Session, public_ids: Sequence[str]) -> list[LiveRow]:
    """The instances with these public ids, as LiveRows."""
    if not public_ids:
        return []
    table = table_of(JourneyInstance)
    query = select(*(table.c[c] for c in _LIVE_COLUMNS)).where(among_all(session, table.c.public_id, public_ids))
    return [LiveRow(*r) for r in session.connection().execute(query)]


def live_rows_by_ids(session: Session, ids: Sequence[int]) -> list[LiveRow]:
    """The instances with these ids, as LiveRows."""
    if not ids:
        return []
    table = table_of(JourneyInstance)
    query = select(*(table.c[c] for c in _LIVE_COLUMNS)).where(among_all(session, table.c.id, ids))
    return [LiveRow(*r) for r in session.connection().execute(query)]


def live_rows_of_profiles(session: Session, profile_ids: Sequence[int], statuses: Sequence[str]) -> list[LiveRow]:
    """These profiles' instances in these statuses, by id, as LiveRows."""
    if not profile_ids:
        return []
    table = table_of(JourneyInstance)
    query = (
        select(*(table.c[c] for c in _LIVE_COLUMNS))
        .where(among_all(session, table.c.profile_id, profile_ids), table.c.status.in_(statuses))
        .order_by(table.c.id)
    )
    return [LiveRow(*r) for r in session.connection().execute(query)]


def batch_entry_rows(session: Session, keeper_ids: Sequence[int], fields: Sequence[str]) -> list[BatchEntry]:
    """(keeper id, kind, step, field, value json, at, id) of the steps completed and of the values given for these
    fields, in these instances and in the instances joined into them."""
    if not keeper_ids:
        return []
    instances, entries = table_of(JourneyInstance), table_of(JourneyEntry)
    joined = select(instances.c.id, instances.c.joined_into).where(
        among_all(session, instances.c.joined_into, keeper_ids)
    )
    members = {int(k): int(k) for k in keeper_ids}
    members.update({int(i): int(k) for i, k in session.connection().execute(joined)})
    wanted = entries.c.kind == "step"
    if fields:
        wanted = wanted | entries.c.field.in_(fields)
    query = select(
        entries.c.instance_id, entries.c.kind, entries.c.step, entries.c.field, entries.c.value_json, entries.c.at,
        entries.c.id,
    ).where(among_all(session, entries.c.instance_id, list(members)), wanted)  # fmt: skip
    return [BatchEntry(members[int(r[0])], *r[1:]) for r in session.connection().execute(query)]


def insert_instances(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert new instances (each with its own public id) in one driver call; their ids, in the order given."""
    if not rows:
        return []
    connection = session.connection()
    _ADD_INSTANCES.run_mappings(connection, rows)
    # Read back by public id: RETURNING in the rows' order would be a statement per row on SQLite, and SQLAlchemy's
    # executemany with RETURNING processed every row's parameters in Python (a seventh of the consumer).
    table = table_of(JourneyInstance)
    query = select(table.c.public_id, table.c.id).where(
        among_all(session, table.c.public_id, [r["public_id"] for r in rows])
    )
    ids = {str(p): int(i) for p, i in connection.execute(query)}
    return [ids[r["public_id"]] for r in rows]


def insert_entries(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert entries in one driver call."""
    _ADD_BATCH_ENTRIES.run_mappings(session.connection(), rows)


def update_live(session: Session, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    """Write back these progress columns of instances (each row: `b_id` and the columns) in one driver call."""
    if not rows:
        return
    key = tuple(columns)
    statement = _UPDATES.get(key)
    if statement is None:
        table = table_of(JourneyInstance)
        statement = _UPDATES[key] = Prepared(
            update(table).where(table.c.id == bindparam("b_id")).values({c: bindparam(c) for c in columns})
        )
    statement.run_many(session, rows)


# The batch path's writes go to the driver as tuples (SQLAlchemy's executemany converted each row's parameters in
# Python: py-spy put that at half of the consumer's time on journey events), times converted once per value.
_ADD_INSTANCES = BulkInsert(
    _I,
    [c.key for c in _I.c if c.key not in ("id", "joined_into")],
    lambda _d: insert(_I),
)
_ADD_BATCH_ENTRIES = BulkInsert(_E, _ENTRY_VALUES, lambda _d: insert(_E))
_UPDATES: dict[tuple[str, ...], Prepared[Any]] = {}  # a statement per set of columns written back (a few in all)
