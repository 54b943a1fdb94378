"""Reads of the store for journey analytics: tracking events (with the device their context names), journey
instances and steps, the communications log, cases and identifier links, as Arrow tables from a watermark on.

Read-only, and only what the reports count: ids, names, channels, devices, sources and times. No trait, address,
subject or entered value leaves the store. Times are epoch seconds computed by the database (no timestamp parsed
in Python), and the device is read from the stored message's `context.device.type` by the database's own JSON
functions, so a 5M-event read never decodes a payload in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import ColumnElement, String, cast, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from seamline.cases.models import Case
from seamline.communications.models import Communication
from seamline.core import arrow
from seamline.identity.models import IdentifierLink, Merge, Profile
from seamline.ingestion.models import InboxEvent
from seamline.journeys.models import JourneyEntry, JourneyInstance
from seamline.profiles.models import ProfileEvent
from seamline.sources.models import Source


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _json_text(session: Session, column: Any, *path: str) -> ColumnElement[str]:
    """One value of a stored JSON message, as text, extracted by the database."""
    if _is_sqlite(session):
        return cast(func.json_extract(column, "$." + ".".join(path)), String)
    return func.jsonb_extract_path_text(cast(column, JSONB), *path)


EVENTS = arrow.schema(
    [("id", pa.int64()), ("profile_id", pa.int64()), ("source_id", pa.int64()), ("type", pa.string()),
     ("name", pa.string()), ("channel", pa.string()), ("device", pa.string()), ("t", pa.float64())]
)  # fmt: skip


def events(session: Session, *, after_id: int = 0) -> pa.Table:
    """Tracking events on profiles' timelines above `after_id`, with the device their context names."""
    e, i = ProfileEvent, InboxEvent
    device = func.substr(_json_text(session, i.payload, "context", "device", "type"), 1, 64)
    query = (
        select(
            e.event_id,
            e.profile_id,
            e.source_id,
            e.type,
            e.name,
            e.channel,
            device,
            arrow.epoch(session, e.occurred_at),
        )
        .join(i, i.id == e.event_id, isouter=True)
        .where(e.event_id > after_id)
        .order_by(e.event_id)
    )
    return arrow.table(session, query, EVENTS)


def events_with_property(session: Session, name: str, key: str, value: str) -> list[int]:
    """Ids of events named `name` whose `properties.<key>`, read as text, equals `value`."""
    e, i = ProfileEvent, InboxEvent
    query = (
        select(e.event_id)
        .join(i, i.id == e.event_id)
        .where(e.name == name, _json_text(session, i.payload, "properties", key) == value)
    )
    return [int(v) for v in session.scalars(query)]


INSTANCES = arrow.schema(
    [("id", pa.int64()), ("profile_id", pa.int64()), ("journey", pa.string()), ("status", pa.string()),
     ("started_channel", pa.string()), ("started_at", pa.float64()), ("completed_at", pa.float64()),
     ("last_activity_at", pa.float64())]
)  # fmt: skip


def instances(session: Session) -> pa.Table:
    """Every journey instance that is not joined into another (a joined one's state is read over the kept one)."""
    j = JourneyInstance
    query = select(
        j.id, j.profile_id, j.journey, j.status, j.started_channel, arrow.epoch(session, j.started_at),
        arrow.epoch(session, j.completed_at), arrow.epoch(session, j.last_activity_at),
    ).where(j.joined_into.is_(None))  # fmt: skip
    return arrow.table(session, query.order_by(j.id), INSTANCES)


STEPS = arrow.schema(
    [("id", pa.int64()), ("instance_id", pa.int64()), ("journey", pa.string()), ("step", pa.string()),
     ("channel", pa.string()), ("device", pa.string()), ("event_id", pa.int64()), ("t", pa.float64())]
)  # fmt: skip


def steps(session: Session, *, after_id: int = 0) -> pa.Table:
    """Journey steps completed (kind `step`), above `after_id`: who did which step through which channel and device."""
    s = JourneyEntry
    query = select(
        s.id, s.instance_id, s.journey, s.step, s.channel, func.substr(s.device, 1, 64), s.event_id,
        arrow.epoch(session, s.at),
    ).where(s.kind == "step", s.id > after_id)  # fmt: skip
    return arrow.table(session, query.order_by(s.id), STEPS)


COMMUNICATIONS = arrow.schema(
    [("id", pa.int64()), ("profile_id", pa.int64()), ("type", pa.string()), ("template", pa.string()),
     ("channel", pa.string()), ("t", pa.float64())]
)  # fmt: skip


def communications(session: Session, *, after_id: int = 0) -> pa.Table:
    """Communications of the log (ours and other systems') above `after_id`, when they went out."""
    c = Communication
    at = arrow.epoch(session, func.coalesce(c.sent_at, c.created_at))
    query = select(c.id, c.profile_id, c.type, c.template, c.channel, at).where(
        c.id > after_id, c.profile_id.is_not(None)
    )
    return arrow.table(session, query.order_by(c.id), COMMUNICATIONS)


CASES = arrow.schema(
    [("id", pa.int64()), ("profile_id", pa.int64()), ("channel", pa.string()), ("queue", pa.string()),
     ("t", pa.float64())]
)  # fmt: skip


def cases(session: Session, *, after_id: int = 0) -> pa.Table:
    """Cases opened (who, through which channel and queue, when), above `after_id`; erased ones are left out."""
    query = select(Case.id, Case.profile_id, Case.channel, Case.queue, arrow.epoch(session, Case.opened_at)).where(
        Case.id > after_id, Case.erased_at.is_(None)
    )
    return arrow.table(session, query.order_by(Case.id), CASES)


LINKS = arrow.schema([("id", pa.int64()), ("event_id", pa.int64())])


def identifier_links(session: Session, *, after_id: int = 0) -> pa.Table:
    """The event that first linked each identifier: an event that added an identifier identified someone."""
    i = IdentifierLink
    query = select(i.id, i.first_event_id).where(i.id > after_id, i.first_event_id.is_not(None))
    return arrow.table(session, query.order_by(i.id), LINKS)


def merges_after(session: Session, after_id: int) -> list[tuple[int, int, int]]:
    """Merges above `after_id` still in force, in order: (id, survivor, absorbed)."""
    m = Merge
    query = select(m.id, m.profile_id, m.merged_profile_id).where(m.id > after_id, m.undone_at.is_(None))
    return [(int(a), int(b), int(c)) for a, b, c in session.execute(query.order_by(m.id))]


@dataclass(frozen=True, slots=True)
class Shape:
    """What says whether the copy can catch up by appending, or must be read again whole."""

    event_count: int
    merges: int  # the highest merge id
    undone: int  # merges undone so far
    erased: int  # profiles erased so far


def shape(session: Session) -> Shape:
    """The store's shape now (four aggregate reads, each answered from an index or a small table)."""
    events_count = session.scalar(select(func.count()).select_from(ProfileEvent)) or 0
    merges = session.scalar(select(func.max(Merge.id))) or 0
    undone = session.scalar(select(func.count()).select_from(Merge).where(Merge.undone_at.is_not(None))) or 0
    erased = session.scalar(select(func.count()).select_from(Profile).where(Profile.erased_at.is_not(None))) or 0
    return Shape(int(events_count), int(merges), int(undone), int(erased))


def source_names(session: Session) -> dict[int, str]:
    """Every source's name by id."""
    return {int(i): str(n) for i, n in session.execute(select(Source.id, Source.name))}
