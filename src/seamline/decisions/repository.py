"""Queries of the decisions domain."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import String, bindparam, delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from seamline.core.db import table_of
from seamline.core.prepared import Prepared, Reads, in_slots, slot_values
from seamline.decisions.models import ActionOutcome, ActionTally, Purchase

_P = table_of(Purchase)
_O = table_of(ActionOutcome)
_T = table_of(ActionTally)
_CHUNK = 900  # ids per IN list: under SQLite's limit of bound parameters


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def add_purchases(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add purchases; one already recorded for its event (a replay) is left as it is."""
    if rows:
        stmt = _insert(session)(_P).on_conflict_do_nothing(index_elements=["event_id", "product"])
        session.execute(stmt, list(rows))


def purchases_of(session: Session, profile_ids: Sequence[int], since: datetime) -> list[tuple[str, datetime]]:
    rows = session.execute(
        select(_P.c.product, _P.c.purchased_at).where(_P.c.profile_id.in_(profile_ids), _P.c.purchased_at >= since)
    )
    return [(r.product, r.purchased_at) for r in rows]


class OwnFact(NamedTuple):
    """A purchase (`kind` 'purchase': the product, when) or an action's last showing ('shown': the action, when)."""

    kind: str
    name: str
    at: datetime


class ProfileFact(NamedTuple):
    """A purchase (the product) or an action's last showing (the action) of one profile of a batch, and when."""

    profile_id: int
    name: str
    at: datetime


class TallyRow(NamedTuple):
    """An action's outcome counts in a segment."""

    action: str
    shown: int
    accepted: int
    ignored: int
    converted: int


# A person's own facts in the decisions domain, in one hot read: purchases since a time, and when each action was
# last shown or answered (for cool-downs).
_OWN_FACTS = Prepared(
    text(
        "SELECT 'purchase' AS kind, product AS name, purchased_at AS at FROM decision_purchases "
        "WHERE profile_id = :id AND purchased_at >= :since "
        "UNION ALL SELECT 'shown', action, max(occurred_at) FROM decision_outcomes WHERE profile_id = :id "
        "GROUP BY action"
    )
    .bindparams(bindparam("since", type_=_P.c.purchased_at.type))
    .columns(kind=String(), name=String(), at=_P.c.purchased_at.type),
    OwnFact,
)


def own_facts(reads: Reads, profile_id: int, since: datetime) -> tuple[list[tuple[str, datetime]], dict[str, datetime]]:
    """(purchases since a time as (product, when), action → when last shown or answered) of one profile."""
    purchases: list[tuple[str, datetime]] = []
    shown: dict[str, datetime] = {}
    for kind, name, at in _OWN_FACTS.all(reads, id=profile_id, since=since):
        if kind == "purchase":
            purchases.append((name, at))
        else:
            shown[name] = at
    return purchases, shown


# The same for a batch, prepared: the ORM's IN lists, rendered anew for every batch of 500 people, cost more CPU
# than the database's own work on them.
_BOUGHT_OF = Prepared(
    select(_P.c.profile_id, _P.c.product.label("name"), _P.c.purchased_at.label("at")).where(
        in_slots(_P.c.profile_id, _CHUNK), _P.c.purchased_at >= bindparam("since", type_=_P.c.purchased_at.type)
    ),
    ProfileFact,
)
_SHOWN_OF = Prepared(
    select(_O.c.profile_id, _O.c.action.label("name"), func.max(_O.c.occurred_at).label("at"))
    .where(in_slots(_O.c.profile_id, _CHUNK))
    .group_by(_O.c.profile_id, _O.c.action),
    ProfileFact,
)


def own_facts_of(
    reads: Reads, profile_ids: Sequence[int], since: datetime
) -> tuple[dict[int, list[tuple[str, datetime]]], dict[int, dict[str, datetime]]]:
    """`own_facts` of many profiles in two set queries: (purchases since a time, last showings) by profile."""
    purchases: dict[int, list[tuple[str, datetime]]] = {}
    shown: dict[int, dict[str, datetime]] = {}
    ids = sorted(set(profile_ids))
    for start in range(0, len(ids), _CHUNK):
        slots = slot_values(ids[start : start + _CHUNK], _CHUNK)
        for profile_id, product, at in _BOUGHT_OF.all(reads, since=since, **slots):
            purchases.setdefault(profile_id, []).append((product, at))
        for profile_id, action, at in _SHOWN_OF.all(reads, **slots):
            shown.setdefault(profile_id, {})[action] = at
    return purchases, shown


def seen_outcome_events(session: Session, event_ids: Sequence[int]) -> set[int]:
    if not event_ids:
        return set()
    return set(session.scalars(select(_O.c.event_id).where(_O.c.event_id.in_(event_ids))))


def add_outcomes(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        session.execute(_O.insert(), list(rows))


def bump_tallies(session: Session, counts: Mapping[tuple[str, str], Mapping[str, int]], now: datetime) -> None:
    """Add to each (action, segment) tally, in one statement per row, safe against concurrent writers."""
    for (action, segment), added in sorted(counts.items()):
        values = {"shown": 0, "accepted": 0, "ignored": 0, "converted": 0, **added}
        stmt = _insert(session)(_T).values(action=action, segment=segment, updated_at=now, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["action", "segment"],
            set_={k: getattr(_T.c, k) + v for k, v in values.items() if v} | {"updated_at": now},
        )
        session.execute(stmt)


_SEGMENT_TALLIES = Prepared(
    select(_T.c.action, _T.c.shown, _T.c.accepted, _T.c.ignored, _T.c.converted).where(
        _T.c.segment == bindparam("segment")
    ),
    TallyRow,
)


def segment_tallies(reads: Reads, segment: str) -> list[TallyRow]:
    """Every action with outcomes in a segment, with its counts (a hot read)."""
    return _SEGMENT_TALLIES.all(reads, segment=segment)


def tallies(session: Session, segment: str | None = None) -> list[ActionTally]:
    query = select(ActionTally).order_by(ActionTally.action, ActionTally.segment)
    if segment is not None:
        query = query.where(ActionTally.segment == segment)
    return list(session.scalars(query))


def outcomes_of(session: Session, profile_ids: Sequence[int], limit: int) -> list[ActionOutcome]:
    query = (
        select(ActionOutcome)
        .where(ActionOutcome.profile_id.in_(profile_ids))
        .order_by(ActionOutcome.occurred_at.desc(), ActionOutcome.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def forget_purchases(session: Session, profile_ids: Sequence[int]) -> None:
    session.execute(delete(_P).where(_P.c.profile_id.in_(profile_ids)))


def erase(session: Session, profile_ids: Sequence[int]) -> int:
    """Delete these profiles' purchases and outcomes (the tallies are counts, with no person in them)."""
    gone = 0
    for table in (_O, _P):
        result: Any = session.execute(delete(table).where(table.c.profile_id.in_(profile_ids)))
        gone += int(result.rowcount or 0)
    return gone
