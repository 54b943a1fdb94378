"""Queries of the identity graph."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, delete, exists, func, insert, or_, select, text, type_coerce, update
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from seamline.core.among import among, among_all
from seamline.core.bulk import BulkInsert
from seamline.core.db import is_postgres, table_of
from seamline.core.prepared import Prepared, in_slots, slot_values
from seamline.identity.identifiers import Identifier
from seamline.identity.models import IdentifierLink, IdentityConflict, Merge, MergeBlock, Profile

CHUNK = 900  # stays under every SQLite build's bound-parameter limit


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# The worker's statements are built once over the Core tables and run on the session's connection: built per call
# through the ORM, each cost ~130 µs of Python against ~10 µs for SQLite's own work (a merge ran a dozen).
_PROFILES_T, _LINKS_T = table_of(Profile), table_of(IdentifierLink)
_BLOCKS_T, _MERGES_T = table_of(MergeBlock), table_of(Merge)


# Prepared (the batch's biggest reads). last_seen_at only orders holders: as the driver returns it, sorting as times.
class _Holder(NamedTuple):
    type: str
    value: str
    profile_id: int
    last_seen_at: str | datetime


class _Link(NamedTuple):
    profile_id: int
    type: str
    value: str


class _State(NamedTuple):
    id: int
    merged_into_id: int | None
    merge_count: int


class _Block(NamedTuple):
    profile_a: int
    profile_b: int


_HOLDERS = Prepared(
    select(
        _LINKS_T.c.type,
        _LINKS_T.c.value,
        _LINKS_T.c.profile_id,
        type_coerce(_LINKS_T.c.last_seen_at, NullType()).label("last_seen_at"),
    ).where(in_slots(_LINKS_T.c.value, CHUNK)),
    _Holder,
)
_LINKS_OF = Prepared(
    select(_LINKS_T.c.profile_id, _LINKS_T.c.type, _LINKS_T.c.value).where(in_slots(_LINKS_T.c.profile_id, CHUNK)),
    _Link,
)
_STATES = (
    select(_PROFILES_T.c.id, _PROFILES_T.c.merged_into_id, _PROFILES_T.c.merge_count)
    .where(in_slots(_PROFILES_T.c.id, CHUNK))
    .order_by(_PROFILES_T.c.id)
)
_STATES_READ, _STATES_LOCKED = Prepared(_STATES, _State), Prepared(_STATES.with_for_update(), _State)
_BLOCKS = Prepared(
    select(_BLOCKS_T.c.profile_a, _BLOCKS_T.c.profile_b).where(
        or_(in_slots(_BLOCKS_T.c.profile_a, CHUNK), in_slots(_BLOCKS_T.c.profile_b, CHUNK))
    ),
    _Block,
)
_LAST_PROFILE_ID = select(func.coalesce(func.max(_PROFILES_T.c.id), 0))
_REACTIVATE = (
    update(_PROFILES_T)
    .where(_PROFILES_T.c.id == bindparam("pid"))
    .values(merged_into_id=None, merge_count=0, updated_at=bindparam("now"))
)
_TOUCH = (
    update(_LINKS_T)
    .where(
        _LINKS_T.c.value == bindparam("v"),
        _LINKS_T.c.type == bindparam("t"),
        _LINKS_T.c.profile_id == bindparam("pid"),
    )
    .values(last_seen_at=bindparam("at"))
)
_MINE = _LINKS_T.alias("mine")
_DROP_HELD_LINKS = delete(_LINKS_T).where(
    _LINKS_T.c.profile_id == bindparam("absorbed"),
    exists().where(
        and_(
            _MINE.c.profile_id == bindparam("survivor"),
            _MINE.c.value == _LINKS_T.c.value,
            _MINE.c.type == _LINKS_T.c.type,
        )
    ),
)
_MOVE_LINKS = (
    update(_LINKS_T).where(_LINKS_T.c.profile_id == bindparam("absorbed")).values(profile_id=bindparam("survivor"))
)
_MERGE_COUNT = select(_PROFILES_T.c.merge_count).where(_PROFILES_T.c.id == bindparam("absorbed"))
_REPOINT = (
    update(_PROFILES_T)
    .where(_PROFILES_T.c.merged_into_id == bindparam("absorbed"))
    .values(merged_into_id=bindparam("survivor"))
)
_ABSORB = (
    update(_PROFILES_T)
    .where(_PROFILES_T.c.id == bindparam("absorbed"))
    .values(merged_into_id=bindparam("survivor"), updated_at=bindparam("now"))
)
_GROW = (
    update(_PROFILES_T)
    .where(_PROFILES_T.c.id == bindparam("survivor"))
    .values(merge_count=_PROFILES_T.c.merge_count + bindparam("added"), updated_at=bindparam("now"))
)
_ADD_MERGE = insert(_MERGES_T).returning(_MERGES_T.c.id)
_ADD_PROFILES = BulkInsert(
    _PROFILES_T,
    ["id", "created_at", "updated_at", "created_by_event_id", "merge_count"],
    lambda _d: insert(_PROFILES_T),
)
_ADD_LINKS = BulkInsert(
    _LINKS_T,
    ["profile_id", "type", "value", "source_id", "first_event_id", "first_seen_at", "last_seen_at"],
    lambda _d: insert(_LINKS_T),
)
_ADD_CONFLICTS = BulkInsert(
    table_of(IdentityConflict),
    ["event_id", "profile_id", "other_profile_id", "identifier_type", "identifier_value", "reason", "created_at"],
    lambda _d: insert(table_of(IdentityConflict)),
)


def holders(session: Session, identifiers: Sequence[Identifier]) -> dict[Identifier, list[tuple[int, str | datetime]]]:
    """Every active holder of each identifier with when it last used it (a value that sorts as the time does)."""
    wanted = set(identifiers)
    out: dict[Identifier, list[tuple[int, str | datetime]]] = {}
    values = sorted({i.value for i in identifiers})
    for chunk in chunks(values):
        for type_, value, profile_id, last_seen in _HOLDERS.all(session, **slot_values(chunk, CHUNK)):
            ident = Identifier(type_, value)
            if ident in wanted:
                out.setdefault(ident, []).append((profile_id, last_seen))
    return out


def identifiers_of(
    session: Session, profile_ids: Sequence[int], types: Sequence[str] | None = None
) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list[tuple[str, str]]] = {}
    for chunk in chunks(list(profile_ids)):
        found = _LINKS_OF.all(session, **slot_values(chunk, CHUNK))
        for profile_id, type_, value in found if types is None else (r for r in found if r[1] in types):
            out.setdefault(profile_id, []).append((type_, value))
    return out


def links_of_types(session: Session, profile_ids: Sequence[int], types: Sequence[str]) -> list[tuple[int, str, str]]:
    """(profile, type, value) of the identifiers of these types these profiles hold, in bulk: one query whatever
    their number, and only those rows leave the database, as plain tuples (the stall scan names 25,000 people at
    a time this way)."""
    if not profile_ids:
        return []
    where = among_all(session, _LINKS_T.c.profile_id, profile_ids)
    query = select(_LINKS_T.c.profile_id, _LINKS_T.c.type, _LINKS_T.c.value).where(where, _LINKS_T.c.type.in_(types))
    return [(p, t, v) for p, t, v in session.connection().execute(query)]


def profile_rows(session: Session, profile_ids: Sequence[int], *, lock: bool = False) -> list[Profile]:
    out: list[Profile] = []
    for chunk in chunks(sorted(profile_ids)):
        query = select(Profile).where(Profile.id.in_(chunk)).order_by(Profile.id)
        if lock:
            query = query.with_for_update()
        out.extend(session.scalars(query).all())
    return out


def merge_pointers(session: Session, profile_ids: Sequence[int]) -> list[tuple[int, int | None]]:
    """(id, merged_into_id) of these profiles: plain rows in one query on PostgreSQL whatever their number (a
    dispatcher's batch resolves its people with it)."""
    out: list[tuple[int, int | None]] = []
    for where in among(session, _PROFILES_T.c.id, profile_ids):
        out.extend((int(pid), into) for pid, into in session.execute(
            select(_PROFILES_T.c.id, _PROFILES_T.c.merged_into_id).where(where)
        ))  # fmt: skip
    return out


def profile_states(
    session: Session, profile_ids: Sequence[int], *, lock: bool = False
) -> list[tuple[int, int | None, int]]:
    """(id, merged_into_id, merge_count) of these profiles, by id; locked FOR UPDATE when asked (PostgreSQL)."""
    out: list[tuple[int, int | None, int]] = []
    for chunk in chunks(sorted(profile_ids)):
        rows = (_STATES_LOCKED if lock else _STATES_READ).all(session, **slot_values(chunk, CHUNK))
        out.extend((pid, into, count) for pid, into, count in rows)
    return out


def blocks_among(session: Session, profile_ids: Sequence[int]) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    for chunk in chunks(list(profile_ids)):
        out.update((a, b) for a, b in _BLOCKS.all(session, **slot_values(chunk, CHUNK)))
    return out


def create_profiles(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert profiles with ids allocated up front (one statement for the batch); their ids in order.

    RETURNING with row order forces one INSERT per row on SQLite; allocating first keeps it one executemany.
    On SQLite the transaction holds the write lock, so max(id) cannot move underneath.
    """
    if not rows:
        return []
    conn = session.connection()
    if is_postgres(session):
        ids = list(
            conn.execute(
                text("SELECT nextval(pg_get_serial_sequence('profiles', 'id')) FROM generate_series(1, :n)"),
                {"n": len(rows)},
            ).scalars()
        )
    else:
        start = conn.execute(_LAST_PROFILE_ID).scalar() or 0
        ids = list(range(start + 1, start + 1 + len(rows)))
    _ADD_PROFILES.run_mappings(conn, [{**row, "id": pid} for row, pid in zip(rows, ids, strict=True)])
    return ids


def reactivate(session: Session, profile_id: int, now: datetime) -> None:
    session.connection().execute(_REACTIVATE, {"pid": profile_id, "now": now})


def add_links(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    _ADD_LINKS.run_mappings(session.connection(), rows)


def touch_links(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Record that a profile used a (shared) identifier again."""
    if rows:
        session.connection().execute(
            _TOUCH, [{"v": r["value"], "t": r["type"], "pid": r["profile_id"], "at": r["last_seen_at"]} for r in rows]
        )


def add_conflicts(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    _ADD_CONFLICTS.run_mappings(session.connection(), rows)


def merge_profiles(
    session: Session, survivor: int, absorbed: int, record: dict[str, Any], now: datetime, *, move_links: bool = True
) -> int:
    """Fold one profile into another in the graph, and record the merge. Returns the merge id.

    `move_links=False` is for a profile created in the same batch, whose links were written to the survivor.
    """
    conn = session.connection()
    pair = {"absorbed": absorbed, "survivor": survivor}
    if move_links:
        conn.execute(_DROP_HELD_LINKS, pair)
        conn.execute(_MOVE_LINKS, pair)
    absorbed_merges = conn.execute(_MERGE_COUNT, pair).scalar() or 0
    conn.execute(_REPOINT, pair)
    conn.execute(_ABSORB, {**pair, "now": now})
    conn.execute(_GROW, {"survivor": survivor, "added": absorbed_merges + 1, "now": now})
    return add_merge_record(session, record)


def add_merge_record(session: Session, record: dict[str, Any]) -> int:
    return int(session.connection().execute(_ADD_MERGE, record).scalar_one())


def get_profile(session: Session, profile_id: int) -> Profile | None:
    return session.get(Profile, profile_id)


def merges_of(session: Session, profile_ids: Sequence[int]) -> Sequence[Merge]:
    return session.scalars(
        select(Merge)
        .where(or_(Merge.profile_id.in_(profile_ids), Merge.merged_profile_id.in_(profile_ids)))
        .order_by(Merge.id)
    ).all()


def get_merge(session: Session, merge_id: int, *, lock: bool = False) -> Merge | None:
    query = select(Merge).where(Merge.id == merge_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def absorbed_into(session: Session, root: int) -> list[int]:
    """Every profile whose merge chain ends at `root` (pointers are kept flat by merge_profiles)."""
    return list(session.scalars(select(Profile.id).where(Profile.merged_into_id == root).order_by(Profile.id)))


def conflicts_of(session: Session, profile_id: int, limit: int = 100) -> Sequence[IdentityConflict]:
    return session.scalars(
        select(IdentityConflict)
        .where(or_(IdentityConflict.profile_id == profile_id, IdentityConflict.other_profile_id == profile_id))
        .order_by(IdentityConflict.id.desc())
        .limit(limit)
    ).all()


def supersede_merges(session: Session, profile_ids: Sequence[int], now: datetime, reason: str) -> None:
    session.execute(
        update(table_of(Merge))
        .where(
            Merge.undone_at.is_(None), or_(Merge.profile_id.in_(profile_ids), Merge.merged_profile_id.in_(profile_ids))
        )
        .values(undone_at=now, undone_by="replay", undo_reason=reason)
    )


def add_block(session: Session, a: int, b: int, merge_id: int | None, now: datetime) -> None:
    low, high = sorted((a, b))
    if session.get(MergeBlock, (low, high)) is None:
        session.add(MergeBlock(profile_a=low, profile_b=high, merge_id=merge_id, created_at=now))
        session.flush()


def live_profiles(session: Session) -> int:
    live = (Profile.merged_into_id.is_(None), Profile.erased_at.is_(None))
    query = select(func.count()).select_from(Profile).where(*live)
    return session.scalar(query) or 0


def counts(session: Session) -> dict[str, int]:
    return {
        "profiles": session.scalar(select(func.count()).select_from(Profile).where(Profile.merged_into_id.is_(None)))
        or 0,
        "identifiers": session.scalar(select(func.count()).select_from(IdentifierLink)) or 0,
        "merges": session.scalar(select(func.count()).select_from(Merge).where(Merge.undone_at.is_(None))) or 0,
        "conflicts": session.scalar(select(func.count()).select_from(IdentityConflict)) or 0,
    }


def link_pairs(session: Session, profile_ids: Sequence[int]) -> list[tuple[str, str]]:
    """(type, value) of every identifier these profiles hold."""
    rows = session.execute(
        select(IdentifierLink.type, IdentifierLink.value).where(IdentifierLink.profile_id.in_(profile_ids))
    ).all()
    return sorted({(r[0], r[1]) for r in rows})


def held_elsewhere(session: Session, values: Sequence[str], profile_ids: Sequence[int]) -> set[tuple[str, str]]:
    """(type, value) of these values that a profile outside `profile_ids` also holds."""
    out: set[tuple[str, str]] = set()
    for chunk in chunks(values):
        rows = session.execute(
            select(IdentifierLink.type, IdentifierLink.value).where(
                IdentifierLink.value.in_(chunk), IdentifierLink.profile_id.not_in(profile_ids)
            )
        ).all()
        out.update((r[0], r[1]) for r in rows)
    return out


def conflict_event_ids(session: Session, profile_ids: Sequence[int]) -> list[int]:
    """Events whose refused evidence names these profiles."""
    table = table_of(IdentityConflict)
    found = session.scalars(
        select(table.c.event_id).where(
            table.c.event_id.is_not(None),
            or_(table.c.profile_id.in_(profile_ids), table.c.other_profile_id.in_(profile_ids)),
        )
    )
    return sorted({int(e) for e in found if e is not None})


def delete_links(session: Session, profile_ids: Sequence[int]) -> int:
    result: Any = session.execute(delete(table_of(IdentifierLink)).where(IdentifierLink.profile_id.in_(profile_ids)))
    return int(result.rowcount or 0)


def delete_conflicts(
    session: Session, profile_ids: Sequence[int], event_ids: Sequence[int], values: Sequence[str]
) -> int:
    """Delete refused evidence about these profiles, from these events, or naming these values."""
    table = table_of(IdentityConflict)
    conditions = [table.c.profile_id.in_(profile_ids), table.c.other_profile_id.in_(profile_ids)]
    result: Any = session.execute(delete(table).where(or_(*conditions)))
    total = int(result.rowcount or 0)
    for column, items in ((table.c.event_id, event_ids), (table.c.identifier_value, values)):
        for chunk in chunks(items):
            result = session.execute(delete(table).where(column.in_(chunk)))
            total += int(result.rowcount or 0)
    return total


def blank_merge_values(session: Session, profile_ids: Sequence[int]) -> int:
    """Blank the identifier value merges of these profiles were made on; the merges themselves stay."""
    table = table_of(Merge)
    result: Any = session.execute(
        update(table)
        .where(or_(table.c.profile_id.in_(profile_ids), table.c.merged_profile_id.in_(profile_ids)))
        .where(table.c.identifier_value.is_not(None))
        .values(identifier_value=None)
    )
    return int(result.rowcount or 0)


def latest_values(
    session: Session, types: Sequence[str], profile_ids: Sequence[int] | None
) -> list[tuple[int, str, str]]:
    """(profile, type, value) of these identifier types, oldest seen first (so the last one per type is newest)."""
    query = select(IdentifierLink.profile_id, IdentifierLink.type, IdentifierLink.value).where(
        IdentifierLink.type.in_(list(types))
    )
    order = (IdentifierLink.last_seen_at, IdentifierLink.id)
    if profile_ids is None:
        return [(r[0], r[1], r[2]) for r in session.execute(query.order_by(*order))]
    out: list[tuple[int, str, str]] = []
    for where in among(session, _LINKS_T.c.profile_id, profile_ids):
        out.extend((r[0], r[1], r[2]) for r in session.execute(query.where(where).order_by(*order)))
    return out


def active_ids(session: Session, profile_ids: Sequence[int] | None = None) -> list[int]:
    """Profiles not merged into another (of these, or all)."""
    query = select(Profile.id).where(Profile.merged_into_id.is_(None))
    if profile_ids is None:
        return list(session.scalars(query.order_by(Profile.id)))
    out: list[int] = []
    for chunk in chunks(list(profile_ids)):
        out.extend(session.scalars(query.where(Profile.id.in_(chunk))))
    return out


def roots_holding(session: Session, link_type: str, source_ids: Sequence[int], after: int, limit: int) -> list[int]:
    """Active, unerased profiles after `after` holding an identifier of this type from one of these sources, in id
    order (a keyset page)."""
    query = (
        select(IdentifierLink.profile_id)
        .join(Profile, Profile.id == IdentifierLink.profile_id)
        .where(
            IdentifierLink.type == link_type,
            IdentifierLink.source_id.in_(list(source_ids)),
            IdentifierLink.profile_id > after,
            Profile.merged_into_id.is_(None),
            Profile.erased_at.is_(None),
        )
        .group_by(IdentifierLink.profile_id)
        .order_by(IdentifierLink.profile_id)
        .limit(limit)
    )
    return [int(pid) for pid in session.scalars(query)]


def links_with_origin(
    session: Session, profile_ids: Sequence[int]
) -> list[tuple[int, str, str, int | None, int | None]]:
    """(profile, type, value, source, first event) of every identifier these profiles hold."""
    query = select(
        IdentifierLink.profile_id,
        IdentifierLink.type,
        IdentifierLink.value,
        IdentifierLink.source_id,
        IdentifierLink.first_event_id,
    )
    out: list[tuple[int, str, str, int | None, int | None]] = []
    for chunk in chunks(list(profile_ids)):
        rows = session.execute(query.where(IdentifierLink.profile_id.in_(chunk)).order_by(IdentifierLink.id))
        out.extend((r[0], r[1], r[2], r[3], r[4]) for r in rows)
    return out


def members_of(session: Session, roots: Sequence[int]) -> list[tuple[int, int, int | None]]:
    """(profile, its root, the event that created it) of these active profiles and every profile merged into them."""
    query = select(Profile.id, Profile.merged_into_id, Profile.created_by_event_id)
    out: list[tuple[int, int, int | None]] = []
    for chunk in chunks(list(roots)):
        rows = session.execute(query.where(or_(Profile.id.in_(chunk), Profile.merged_into_id.in_(chunk))))
        out.extend((r[0], r[1] if r[1] is not None else r[0], r[2]) for r in rows)
    return out


def live_merges_absorbing(session: Session, profile_ids: Sequence[int]) -> list[Merge]:
    """The merges, not undone, that absorbed one of these profiles, oldest first."""
    out: list[Merge] = []
    for chunk in chunks(list(profile_ids)):
        query = select(Merge).where(Merge.merged_profile_id.in_(chunk), Merge.undone_at.is_(None))
        out.extend(session.scalars(query))
    return sorted(out, key=lambda m: m.id)
