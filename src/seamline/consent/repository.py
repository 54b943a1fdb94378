"""Queries of the consent domain: append choices, read a profile's ledger, move it on merge and back on unmerge."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from seamline.consent.models import ConsentChoice
from seamline.core.among import among
from seamline.core.db import table_of
from seamline.core.prepared import Prepared, Reads, in_slots, slot_values

# The columns that say what a choice is about and where it applies: versions of one choice share them.
SUBJECT_COLUMNS = ("kind", "purpose", "channel", "topic", "product", "document_type")


def add(session: Session, row: dict[str, Any]) -> ConsentChoice:
    """Append one choice and give it its id."""
    choice = ConsentChoice(**row)
    session.add(choice)
    session.flush()
    return choice


def _same_subject(subject: dict[str, str | None]) -> list[ColumnElement[bool]]:
    columns = table_of(ConsentChoice).c
    return [columns[name].is_(None) if value is None else columns[name] == value for name, value in subject.items()]


def from_event(session: Session, event_id: int, subject: dict[str, str | None]) -> ConsentChoice | None:
    """The choice an event already recorded about this subject and scope, if it did (a replayed event)."""
    query = select(ConsentChoice).where(ConsentChoice.event_id == event_id, *_same_subject(subject))
    return session.scalars(query.order_by(ConsentChoice.id).limit(1)).first()


def latest_own(session: Session, profile_id: int, subject: dict[str, str | None]) -> ConsentChoice | None:
    """The last recorded version of one choice made on this profile (not merged in from another)."""
    query = select(ConsentChoice).where(
        ConsentChoice.profile_id == profile_id, ConsentChoice.origin_profile_id == profile_id, *_same_subject(subject)
    )
    return session.scalars(query.order_by(ConsentChoice.id.desc()).limit(1)).first()


def of_profile(
    session: Session,
    profile_id: int,
    *,
    kind: str | None = None,
    purpose: str | None = None,
    document_type: str | None = None,
) -> Sequence[ConsentChoice]:
    """A profile's choices (optionally of one kind, purpose or document type), newest recorded first."""
    query = select(ConsentChoice).where(ConsentChoice.profile_id == profile_id)
    if kind is not None:
        query = query.where(ConsentChoice.kind == kind)
    if purpose is not None:
        query = query.where(ConsentChoice.purpose == purpose)
    if document_type is not None:
        query = query.where(ConsentChoice.document_type == document_type)
    return session.scalars(query.order_by(ConsentChoice.id.desc())).all()


class ChoiceRow(NamedTuple):
    """A stored choice as the policy's `Choice` has it (the same fields in the same order), read by attribute."""

    id: int
    origin_profile_id: int
    kind: str
    purpose: str | None
    channel: str | None
    topic: str | None
    product: str | None
    value: str
    document_type: str | None
    recorded_at: datetime
    effective_at: datetime
    expires_at: datetime | None
    actor: str
    surface: str
    source_id: int | None
    event_id: int | None
    evidence: dict[str, Any] | None
    legal_basis: str | None


# The columns of a policy Choice, in its field order, and one statement built once over the Core table (not the
# ORM entity, whose statements go through the ORM's compile and result setup): the may-contact route runs it on
# every request, and building the query plus loading ORM objects was a third of the route's time.
_TABLE = table_of(ConsentChoice)
CHOICE_COLUMNS = tuple(_TABLE.c[name] for name in ChoiceRow._fields)
_FOR_PURPOSE = Prepared(
    select(*CHOICE_COLUMNS)
    .where(
        _TABLE.c.profile_id == bindparam("profile_id"),
        _TABLE.c.kind == bindparam("kind"),
        _TABLE.c.purpose == bindparam("purpose"),
    )
    .order_by(_TABLE.c.id.desc()),
    ChoiceRow,
)


_OF_KIND = Prepared(
    select(*CHOICE_COLUMNS)
    .where(_TABLE.c.profile_id == bindparam("profile_id"), _TABLE.c.kind == bindparam("kind"))
    .order_by(_TABLE.c.id.desc()),
    ChoiceRow,
)


def rows_of_kind(reads: Reads, profile_id: int, kind: str) -> list[ChoiceRow]:
    """A profile's choices of one kind, every purpose, newest recorded first."""
    return _OF_KIND.all(reads, profile_id=profile_id, kind=kind)


def rows_for_purpose(reads: Reads, profile_id: int, kind: str, purpose: str) -> list[ChoiceRow]:
    """A profile's choices of one kind and purpose, newest recorded first."""
    return _FOR_PURPOSE.all(reads, profile_id=profile_id, kind=kind, purpose=purpose)


class InForceRow(NamedTuple):
    """What the policy's winner needs of a choice (no evidence, actor or surface: a batch of decisions reads
    thousands). A plain named tuple: reading a SQLAlchemy row by attribute costs ~5x a named tuple's, and the
    policy reads ten."""

    id: int
    origin_profile_id: int
    kind: str
    purpose: str | None
    channel: str | None
    topic: str | None
    product: str | None
    value: str
    effective_at: datetime
    expires_at: datetime | None


IN_FORCE_COLUMNS = tuple(_TABLE.c[name] for name in InForceRow._fields)


_IN_FORCE = Prepared(
    select(*IN_FORCE_COLUMNS).where(_TABLE.c.profile_id == bindparam("profile_id"), _TABLE.c.kind == bindparam("kind")),
    InForceRow,
)


def in_force_rows(reads: Reads, profile_id: int, kind: str) -> list[InForceRow]:
    """A profile's choices of one kind, in one hot read (no evidence to decode: the decision API asks it for every
    answer)."""
    return _IN_FORCE.all(reads, profile_id=profile_id, kind=kind)


_SLOTS = 900  # ids a statement: under SQLite's limit of bound parameters


# Prepared: the ORM's IN list, rendered anew for every batch of 500 people, cost more CPU than the read itself.
class _InForceOf(NamedTuple):
    """The profile a choice is filed under, then InForceRow's fields."""

    profile_id: int
    id: int
    origin_profile_id: int
    kind: str
    purpose: str | None
    channel: str | None
    topic: str | None
    product: str | None
    value: str
    effective_at: datetime
    expires_at: datetime | None


_IN_FORCE_OF = Prepared(
    select(_TABLE.c.profile_id, *IN_FORCE_COLUMNS).where(
        in_slots(_TABLE.c.profile_id, _SLOTS), _TABLE.c.kind == bindparam("kind")
    ),
    _InForceOf,
)


def in_force_rows_of(reads: Reads, profile_ids: Sequence[int], kind: str) -> dict[int, list[InForceRow]]:
    """Many profiles' choices of one kind, by profile (read by attribute)."""
    out: dict[int, list[InForceRow]] = {}
    make = InForceRow._make
    ids = sorted(set(profile_ids))
    for start in range(0, len(ids), _SLOTS):
        for row in _IN_FORCE_OF.all(reads, kind=kind, **slot_values(ids[start : start + _SLOTS], _SLOTS)):
            out.setdefault(row.profile_id, []).append(make(row[1:]))
    return out


def rows_for_purposes(
    session: Session, profile_ids: Sequence[int], kind: str, purposes: Sequence[str]
) -> dict[tuple[int, str], list[ChoiceRow]]:
    """Per (profile, purpose), the profiles' choices of one kind, newest recorded first: one query for a dispatcher's
    whole batch instead of one per message."""
    out: dict[tuple[int, str], list[ChoiceRow]] = {}
    make = ChoiceRow._make
    for where in among(session, _TABLE.c.profile_id, profile_ids):
        query = (
            select(_TABLE.c.profile_id, *CHOICE_COLUMNS)
            .where(where, _TABLE.c.kind == kind, _TABLE.c.purpose.in_(sorted(set(purposes))))
            .order_by(_TABLE.c.id.desc())
        )
        for row in session.execute(query):
            out.setdefault((int(row[0]), str(row.purpose)), []).append(make(row[1:]))
    return out


# Built once and run on the connection: the worker runs it for every merge.
_MOVE = (
    update(table_of(ConsentChoice))
    .where(table_of(ConsentChoice).c.profile_id == bindparam("from_"))
    .values(profile_id=bindparam("into"))
)


def move(session: Session, from_profile: int, into_profile: int) -> None:
    """Give every choice one profile holds to another; where each was made stays as it was."""
    session.connection().execute(_MOVE, {"from_": from_profile, "into": into_profile})


def restore(session: Session, profile_ids: Sequence[int]) -> None:
    """Return every choice made on one of these profiles to the profile it was made on."""
    table = table_of(ConsentChoice)
    session.execute(
        update(table)
        .where(table.c.origin_profile_id.in_(profile_ids), table.c.profile_id != table.c.origin_profile_id)
        .values(profile_id=table.c.origin_profile_id)
    )


def scrub(session: Session, profile_ids: Sequence[int], actor: str, evidence: dict[str, Any]) -> int:
    """Overwrite who stated and the evidence of every choice held by or made on these profiles."""
    table = table_of(ConsentChoice)
    result: Any = session.execute(
        update(table)
        .where(or_(table.c.profile_id.in_(profile_ids), table.c.origin_profile_id.in_(profile_ids)))
        .values(actor=actor, evidence=evidence)
    )
    return int(result.rowcount or 0)


def coverage(session: Session, now: datetime) -> list[tuple[str, str | None, str | None, str | None, str, int]]:
    """(kind, purpose, channel, document_type, value, profiles): each profile's newest customer-wide choice per
    subject in effect now (a product's or topic's own choice is not coverage of the customer), counted."""
    c = _TABLE.c
    subject = (c.profile_id, c.kind, c.purpose, c.channel, c.document_type)
    newest = (
        select(
            *subject[1:], c.value, c.expires_at,
            func.row_number().over(partition_by=subject, order_by=(c.effective_at.desc(), c.id.desc())).label("n"),
        )
        .where(c.product.is_(None), c.topic.is_(None), c.effective_at <= now)
        .subquery()
    )  # fmt: skip
    n = newest.c
    query = (
        select(n.kind, n.purpose, n.channel, n.document_type, n.value, func.count())
        .where(n.n == 1, or_(n.expires_at.is_(None), n.expires_at > now))
        .group_by(n.kind, n.purpose, n.channel, n.document_type, n.value)
    )
    return [(r[0], r[1], r[2], r[3], r[4], int(r[5])) for r in session.execute(query).all()]
