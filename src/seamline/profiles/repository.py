"""Queries of the profiles domain: append facts, move them on merge, wipe them for a replay, read them."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from seamline.core.bulk import BulkInsert
from seamline.core.db import table_of
from seamline.core.prepared import Prepared, Reads, in_slots, slot_values
from seamline.profiles.models import VALUE_HEAD, VALUE_TAIL, Holding, ProfileEvent, TraitValue


def _upsert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _events_upsert(dialect: str) -> Any:
    stmt = _upsert(dialect)(table_of(ProfileEvent))
    return stmt.on_conflict_do_update(index_elements=["event_id"], set_={"profile_id": stmt.excluded.profile_id})


def _traits_upsert(dialect: str) -> Any:
    stmt = _upsert(dialect)(table_of(TraitValue))
    return stmt.on_conflict_do_update(
        index_elements=["profile_id", "name", "source_id", "value_hash"],
        set_={
            "times_seen": table_of(TraitValue).c.times_seen + stmt.excluded.times_seen,
            "last_seen_at": stmt.excluded.last_seen_at,
            "last_event_id": stmt.excluded.last_event_id,
            "source_field": stmt.excluded.source_field,
        },
    )


def _holdings_upsert(dialect: str) -> Any:
    stmt = _upsert(dialect)(table_of(Holding))
    return stmt.on_conflict_do_update(
        index_elements=["profile_id", "source_id", "type", "external_id"],
        set_={
            "status": stmt.excluded.status,
            "closed_at": stmt.excluded.closed_at,
            "attributes": stmt.excluded.attributes,
            "last_event_id": stmt.excluded.last_event_id,
            "updated_at": stmt.excluded.updated_at,
        },
    )


# The worker writes a timeline row per event, and trait and holding rows per batch: plain rows to the driver.
_ADD_EVENTS = BulkInsert(
    table_of(ProfileEvent),
    ["event_id", "profile_id", "source_id", "type", "name", "channel", "occurred_at"],
    _events_upsert,
)
# A trait candidate's stored columns, as the worker appends them and as a merge moves them.
_TRAIT_COLUMNS = (
    "profile_id",
    "name",
    "value_json",
    "value_hash",
    "source_id",
    "first_event_id",
    "last_event_id",
    "first_seen_at",
    "last_seen_at",
    "times_seen",
    "source_field",
)
_UPSERT_TRAITS = BulkInsert(
    table_of(TraitValue),
    _TRAIT_COLUMNS,
    _traits_upsert,
)
_UPSERT_HOLDINGS = BulkInsert(
    table_of(Holding),
    [
        "profile_id",
        "source_id",
        "type",
        "external_id",
        "status",
        "opened_at",
        "closed_at",
        "attributes",
        "first_event_id",
        "last_event_id",
        "updated_at",
    ],
    _holdings_upsert,
)


# Moving facts on merge: statements built once per dialect, run on the session's connection (built per call
# through the ORM, each cost more than SQLite's work for it, and a merge runs five).
@functools.cache
def _moves(dialect: str) -> tuple[Any, ...]:
    least, greatest = (func.min, func.max) if dialect == "sqlite" else (func.least, func.greatest)
    events, traits, holdings = table_of(ProfileEvent), table_of(TraitValue), table_of(Holding)
    t, h = traits.c, holdings.c
    move_traits = _upsert(dialect)(traits).from_select(
        list(_TRAIT_COLUMNS),
        select(
            bindparam("into", type_=BigInteger()),
            t.name,
            t.value_json,
            t.value_hash,
            t.source_id,
            t.first_event_id,
            t.last_event_id,
            t.first_seen_at,
            t.last_seen_at,
            t.times_seen,
            t.source_field,
        ).where(t.profile_id == bindparam("from_"), literal(True)),
    )
    kept = select(h.source_id, h.type, h.external_id).where(h.profile_id == bindparam("into")).subquery()
    return (
        update(events).where(events.c.profile_id == bindparam("from_")).values(profile_id=bindparam("into")),
        move_traits.on_conflict_do_update(
            index_elements=["profile_id", "name", "source_id", "value_hash"],
            set_={
                "times_seen": t.times_seen + move_traits.excluded.times_seen,
                "first_seen_at": least(t.first_seen_at, move_traits.excluded.first_seen_at),
                "last_seen_at": greatest(t.last_seen_at, move_traits.excluded.last_seen_at),
            },
        ),
        delete(traits).where(t.profile_id == bindparam("from_")),
        delete(holdings).where(
            h.profile_id == bindparam("from_"),
            select(literal(1))
            .where(
                and_(
                    kept.c.source_id == h.source_id,
                    kept.c.type == h.type,
                    kept.c.external_id == h.external_id,
                )
            )
            .exists(),
        ),
        update(holdings).where(h.profile_id == bindparam("from_")).values(profile_id=bindparam("into")),
    )


def add_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    _ADD_EVENTS.run_mappings(session.connection(), rows)


def upsert_traits(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Add candidate values; a value seen again from the same source widens its dates and count."""
    _UPSERT_TRAITS.run_mappings(session.connection(), rows)


def upsert_holdings(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Add or update holdings; the latest event sets the status."""
    _UPSERT_HOLDINGS.run_mappings(session.connection(), rows)


def move_all(session: Session, from_profile: int, into_profile: int) -> None:
    """Give every fact of one profile to another, combining duplicate candidates."""
    conn = session.connection()
    pair = {"from_": from_profile, "into": into_profile}
    for statement in _moves(conn.dialect.name):
        conn.execute(statement, pair)


def wipe(session: Session, profile_ids: Sequence[int]) -> None:
    """Remove every fact of these profiles (before a replay re-derives them from the events)."""
    for model in (ProfileEvent, TraitValue, Holding):
        session.execute(delete(table_of(model)).where(model.profile_id.in_(profile_ids)))


def event_ids(session: Session, profile_id: int) -> list[int]:
    return list(
        session.scalars(
            select(ProfileEvent.event_id).where(ProfileEvent.profile_id == profile_id).order_by(ProfileEvent.event_id)
        )
    )


def profile_of_events(session: Session, event_ids: Sequence[int]) -> dict[int, int]:
    rows = session.execute(
        select(ProfileEvent.event_id, ProfileEvent.profile_id).where(ProfileEvent.event_id.in_(event_ids))
    ).all()
    return {e: p for e, p in rows}


class TraitRow(NamedTuple):
    """What survivorship needs of each stored candidate value of a trait."""

    name: str
    value_json: str
    source_id: int
    first_seen_at: datetime
    last_seen_at: datetime
    times_seen: int
    last_event_id: int
    source_field: str | None


class TraitValueRow(NamedTuple):
    name: str
    value_json: str


class _Counts(NamedTuple):
    holdings: int
    events: int


class HoldingKind(NamedTuple):
    type: str
    status: str
    attributes: dict[str, object] | None


# What survivorship needs of each stored candidate value of a trait.
_CANDIDATE_COLUMNS = (
    TraitValue.name,
    TraitValue.value_json,
    TraitValue.source_id,
    TraitValue.first_seen_at,
    TraitValue.last_seen_at,
    TraitValue.times_seen,
    TraitValue.last_event_id,
    TraitValue.source_field,
)
_TRAITS = Prepared(
    text(
        "SELECT name, value_json, source_id, first_seen_at, last_seen_at, times_seen, last_event_id, source_field "
        "FROM profile_traits WHERE profile_id = :id ORDER BY name, id"
    ).columns(*_CANDIDATE_COLUMNS),
    TraitRow,
)
_TRAIT_VALUES = Prepared(
    text("SELECT name, value_json FROM profile_traits WHERE profile_id = :id").columns(
        TraitValue.name, TraitValue.value_json
    ),
    TraitValueRow,
)
_COUNTS = Prepared(
    text(
        "SELECT (SELECT count(*) FROM holdings WHERE profile_id = :id) AS holdings, "
        "(SELECT count(*) FROM profile_events WHERE profile_id = :id) AS events"
    ).columns(holdings=Integer(), events=Integer()),
    _Counts,
)


def traits(reads: Reads, profile_id: int) -> list[TraitRow]:
    """Every candidate value of every trait of a profile (a prepared statement: this is a hot read)."""
    return _TRAITS.all(reads, id=profile_id)


def trait_values(reads: Reads, profile_id: int) -> list[TraitValueRow]:
    """name, value_json of every candidate value of every trait of a profile (a hot read with nothing to convert)."""
    return _TRAIT_VALUES.all(reads, id=profile_id)


def fact_counts(reads: Reads, profile_id: int) -> tuple[int, int]:
    """How many holdings and timeline events a profile has."""
    row = _COUNTS.first(reads, id=profile_id)
    return (int(row.holdings), int(row.events)) if row is not None else (0, 0)  # counts have their one row


_H = table_of(Holding).c
_HOLDING_KINDS = Prepared(
    select(_H.type, _H.status, _H.attributes).where(_H.profile_id == bindparam("id")), HoldingKind
)


def holding_kinds(reads: Reads, profile_id: int) -> list[HoldingKind]:
    """type, status, attributes of each holding of a profile (a prepared statement: the decision point's hot read)."""
    return _HOLDING_KINDS.all(reads, id=profile_id)


# The decision point's batch reads, prepared: the ORM's IN lists, rendered anew for every batch of 500 people, cost
# more CPU than the database's own work on them. The attributes come as their JSON text: a holding's are decoded
# only when they name a product type (most do not).
_SLOTS = 900  # ids a statement: under SQLite's limit of bound parameters, with the trait names' slots beside them


class HoldingKindOf(NamedTuple):
    profile_id: int
    type: str
    status: str
    attributes: str | None  # the JSON text


_HOLDING_KINDS_OF = Prepared(
    select(_H.profile_id, _H.type, _H.status, cast(_H.attributes, Text).label("attributes")).where(
        in_slots(_H.profile_id, _SLOTS)
    ),
    HoldingKindOf,
)


def holding_kinds_of(reads: Reads, profile_ids: Sequence[int]) -> list[HoldingKindOf]:
    """profile_id, type, status, attributes as JSON text of each holding of many profiles (the decision point's
    batch read)."""
    ids = sorted(set(profile_ids))
    return [
        row
        for start in range(0, len(ids), _SLOTS)
        for row in _HOLDING_KINDS_OF.all(reads, **slot_values(ids[start : start + _SLOTS], _SLOTS))
    ]


def holdings(session: Session, profile_id: int) -> Sequence[Holding]:
    return session.scalars(
        select(Holding).where(Holding.profile_id == profile_id).order_by(Holding.type, Holding.external_id)
    ).all()


def timeline_query(
    profile_id: int,
    *,
    before: tuple[datetime, int] | None,
    source_ids: Sequence[int] | None,
    channels: Sequence[str] | None,
    types: Sequence[str] | None,
) -> Select[Any]:
    query = select(ProfileEvent).where(ProfileEvent.profile_id == profile_id)
    if before is not None:
        at, event_id = before
        query = query.where(
            or_(
                ProfileEvent.occurred_at < at,
                and_(ProfileEvent.occurred_at == at, ProfileEvent.event_id < event_id),
            )
        )
    if source_ids:
        query = query.where(ProfileEvent.source_id.in_(source_ids))
    if channels:
        query = query.where(ProfileEvent.channel.in_(channels))
    if types:
        query = query.where(ProfileEvent.type.in_(types))
    return query.order_by(ProfileEvent.occurred_at.desc(), ProfileEvent.event_id.desc())


def timeline(session: Session, query: Select[Any], limit: int) -> Sequence[ProfileEvent]:
    return session.scalars(query.limit(limit)).all()


def name_candidates(
    session: Session, trait_names: Sequence[str], heads: Sequence[str], tails: Sequence[str], limit: int
) -> list[int]:
    """Profiles with a name trait whose value starts or ends with one of the keys (the two expression indexes)."""
    if not heads and not tails:
        return []
    # The interpolated parts are the index expressions, constants of this package; every value is a parameter.
    sql = (
        f"SELECT profile_id FROM profile_traits WHERE name IN :names AND {VALUE_HEAD} IN :heads "  # noqa: S608  # constants interpolated, values bound
        f"UNION SELECT profile_id FROM profile_traits WHERE name IN :names AND {VALUE_TAIL} IN :tails "
        "LIMIT :limit"
    )
    statement = text(sql).bindparams(
        bindparam("names", expanding=True), bindparam("heads", expanding=True), bindparam("tails", expanding=True)
    )
    params = {"names": list(trait_names), "heads": list(heads) or [""], "tails": list(tails) or [""], "limit": limit}
    return [int(r[0]) for r in session.execute(statement, params)]


def name_values(session: Session, profile_ids: Sequence[int], trait_names: Sequence[str]) -> Sequence[Any]:
    """profile_id, name, value_json, last_seen_at of the name traits of these profiles."""
    if not profile_ids:
        return []
    return session.execute(
        select(TraitValue.profile_id, TraitValue.name, TraitValue.value_json, TraitValue.last_seen_at).where(
            TraitValue.profile_id.in_(list(profile_ids)), TraitValue.name.in_(list(trait_names))
        )
    ).all()


def profiles_with_holding(session: Session, external_id: str, limit: int) -> list[int]:
    rows = session.execute(
        select(Holding.profile_id).where(Holding.external_id == external_id).distinct().limit(limit)
    ).all()
    return [int(r[0]) for r in rows]


def holdings_numbered(session: Session, external_id: str, limit: int) -> list[tuple[int, str]]:
    """(profile, product type) of the holdings with this number."""
    rows = session.execute(
        select(Holding.profile_id, Holding.type).where(Holding.external_id == external_id).distinct().limit(limit)
    ).all()
    return [(int(r[0]), str(r[1])) for r in rows]


def timeline_facets(session: Session, profile_id: int) -> Sequence[Any]:
    return session.execute(
        select(ProfileEvent.channel, ProfileEvent.source_id, ProfileEvent.type)
        .where(ProfileEvent.profile_id == profile_id)
        .distinct()
    ).all()


def event_ids_of_profiles(session: Session, profile_ids: Sequence[int]) -> list[int]:
    """Events on these profiles' timelines."""
    return list(session.scalars(select(ProfileEvent.event_id).where(ProfileEvent.profile_id.in_(profile_ids))))


def trait_values_json(session: Session, profile_ids: Sequence[int]) -> list[str]:
    return list(session.scalars(select(TraitValue.value_json).where(TraitValue.profile_id.in_(profile_ids))))


def erase(session: Session, profile_ids: Sequence[int]) -> dict[str, int]:
    """Delete the profiles' timeline index, traits and holdings; rows deleted per kind."""
    counts: dict[str, int] = {}
    for name, model in (("events", ProfileEvent), ("traits", TraitValue), ("holdings", Holding)):
        result: Any = session.execute(delete(table_of(model)).where(model.profile_id.in_(profile_ids)))
        counts[name] = int(result.rowcount or 0)
    return counts


def profiles_with_traits(session: Session, names: Sequence[str], after: int, limit: int) -> list[int]:
    """The first `limit` profiles after `after` (by id) holding any of these traits: a keyset page of a segment."""
    query = (
        select(TraitValue.profile_id)
        .where(TraitValue.name.in_(list(names)), TraitValue.profile_id > after)
        .group_by(TraitValue.profile_id)
        .order_by(TraitValue.profile_id)
        .limit(limit)
    )
    return [int(p) for p in session.execute(query).scalars()]


_NAME_SLOTS = 16


class NamedValue(NamedTuple):
    profile_id: int
    name: str
    value_json: str


_NAMED_VALUES_OF = Prepared(
    select(table_of(TraitValue).c.profile_id, table_of(TraitValue).c.name, table_of(TraitValue).c.value_json).where(
        in_slots(table_of(TraitValue).c.profile_id, _SLOTS),
        table_of(TraitValue).c.name.in_([bindparam(f"name_{n}") for n in range(_NAME_SLOTS)]),
    ),
    NamedValue,
)


def trait_values_of(reads: Reads, names: Sequence[str], profile_ids: Sequence[int]) -> list[NamedValue]:
    """profile_id, name, value_json of every candidate value of these traits of these profiles (no timestamps to
    convert: most traits have one candidate, and its value is the winner)."""
    ids, wanted = sorted(set(profile_ids)), sorted(set(names))
    out: list[NamedValue] = []
    for first in range(0, len(wanted), _NAME_SLOTS):
        some = wanted[first : first + _NAME_SLOTS]
        named = {f"name_{n}": some[min(n, len(some) - 1)] for n in range(_NAME_SLOTS)}  # padded with the last
        for start in range(0, len(ids), _SLOTS):
            out += _NAMED_VALUES_OF.all(reads, **slot_values(ids[start : start + _SLOTS], _SLOTS), **named)
    return out


def trait_candidates(session: Session, names: Sequence[str], profile_ids: Sequence[int] | None) -> list[Any]:
    """profile_id, name, value_json, source_id, first/last_seen_at, times_seen, last_event_id, source_field."""
    query = select(TraitValue.profile_id, *_CANDIDATE_COLUMNS).where(TraitValue.name.in_(list(names)))
    if profile_ids is None:
        return list(session.execute(query))
    out: list[Any] = []
    ids = list(profile_ids)
    for start in range(0, len(ids), 900):
        out.extend(session.execute(query.where(TraitValue.profile_id.in_(ids[start : start + 900]))))
    return out
