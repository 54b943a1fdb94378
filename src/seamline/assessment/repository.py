"""Reads of the store for the assessment: columns of the communications log, its outcomes, the outbox, cases,
tracked goal events and trait provenance, in Arrow record batches, from a watermark on.

Read-only, and only the columns the reports count: no address, subject, field value or trait value leaves the
store (a trait's value is read as its hash). Times are read as epoch seconds, computed by the database, so a
10M-row read never parses a timestamp in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pyarrow as pa
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from seamline.cases.models import Case
from seamline.communications.models import Communication, CommunicationOutcome
from seamline.core import arrow
from seamline.core.among import among
from seamline.core.db import table_of
from seamline.outbox.models import OutboxMessage
from seamline.profiles.models import ProfileEvent, TraitValue
from seamline.sources.models import Source

COMMUNICATIONS = arrow.schema(
    [
        ("id", pa.int64()), ("communication_id", pa.string()), ("profile_id", pa.int64()), ("type", pa.string()),
        ("template", pa.string()), ("template_version", pa.string()), ("batch", pa.string()),
        ("source_system", pa.string()), ("platform", pa.string()), ("channel", pa.string()),
        ("product", pa.string()), ("status", pa.string()), ("created_at", pa.float64()),
        ("sent_at", pa.float64()), ("updated_at", pa.float64()),
    ]
)  # fmt: skip


def communications(session: Session, *, after_id: int = 0, changed_since: float | None = None) -> pa.Table:
    """Communications with an id above `after_id`, or (when given) any updated at `changed_since` or later."""
    c = Communication
    query = select(
        c.id, c.communication_id, c.profile_id, c.type, c.template, c.template_version, c.batch, c.source_system,
        c.platform, c.channel, c.product, c.status, arrow.epoch(session, c.created_at), arrow.epoch(session, c.sent_at),
        arrow.epoch(session, c.updated_at),
    ).order_by(c.id)  # fmt: skip
    if changed_since is None:
        query = query.where(c.id > after_id)
    else:  # on the column itself, so its index answers (ix_communications_updated)
        query = query.where(c.updated_at >= datetime.fromtimestamp(changed_since, UTC))
    return arrow.table(session, query, COMMUNICATIONS)


OUTCOMES = arrow.schema(
    [("id", pa.int64()), ("row_id", pa.int64()), ("outcome", pa.string()), ("detail", pa.string()),
     ("occurred_at", pa.float64())]
)  # fmt: skip


def _held_reason() -> ColumnElement[str]:
    """An outcome's detail when it is a suppression (why a message was held, the one detail a report shows), else
    empty: a bounce's or a failure's detail may quote an address, and the copy reads no personal content."""
    o = CommunicationOutcome
    return case((o.outcome == "suppressed", func.coalesce(func.substr(o.detail, 1, 200), "")), else_="")


def outcomes(session: Session, *, after_id: int = 0) -> pa.Table:
    """Outcomes (append-only) above `after_id`; a detail only for suppressions (why a message was held)."""
    o = CommunicationOutcome
    query = select(
        o.id, o.communication_row_id, o.outcome, _held_reason(), arrow.epoch(session, o.occurred_at)
    ).where(o.id > after_id).order_by(o.id)  # fmt: skip
    return arrow.table(session, query, OUTCOMES)


HELD_REASONS = arrow.schema([("id", pa.int64()), ("detail", pa.string())])


def held_reasons(session: Session, row_ids: Sequence[int]) -> pa.Table:
    """The suppressions of these communications with their details as they stand now: an erasure empties the
    details of outcomes the copy has already read, and only the communication's `updated_at` says so."""
    o = CommunicationOutcome
    tables = [
        arrow.table(session, select(o.id, _held_reason()).where(o.outcome == "suppressed", where), HELD_REASONS)
        for where in among(session, table_of(o).c.communication_row_id, row_ids)
    ]
    return pa.concat_tables(tables) if tables else HELD_REASONS.empty_table()


CASES = arrow.schema(
    [("id", pa.int64()), ("profile_id", pa.int64()), ("channel", pa.string()), ("opened_at", pa.float64())]
)


def cases(session: Session, *, after_id: int = 0) -> pa.Table:
    """Cases opened (who, through which channel, when): the "contacts after" a message."""
    query = select(Case.id, Case.profile_id, Case.channel, arrow.epoch(session, Case.opened_at)).where(
        Case.id > after_id
    )
    return arrow.table(session, query.order_by(Case.id), CASES)


EVENTS = arrow.schema(
    [("id", pa.int64()), ("profile_id", pa.int64()), ("name", pa.string()), ("occurred_at", pa.float64())]
)


def goal_events(session: Session, names: Sequence[str], *, after_id: int = 0) -> pa.Table:
    """Tracked events named as some template's goal, above `after_id`."""
    if not names:
        return EVENTS.empty_table()
    e = ProfileEvent
    query = select(e.event_id, e.profile_id, e.name, arrow.epoch(session, e.occurred_at)).where(
        e.event_id > after_id, e.type == "track", e.name.in_(sorted(set(names)))
    )
    return arrow.table(session, query.order_by(e.event_id), EVENTS)


TRAITS = arrow.schema(
    [("id", pa.int64()), ("profile_id", pa.int64()), ("name", pa.string()), ("source_id", pa.int64()),
     ("value_hash", pa.string()), ("first_seen_at", pa.float64())]
)  # fmt: skip


def traits(session: Session, *, after_id: int = 0) -> pa.Table:
    """Trait provenance: who set which canonical field for whom, first when, and a hash of the value."""
    t = TraitValue
    query = select(t.id, t.profile_id, t.name, t.source_id, t.value_hash, arrow.epoch(session, t.first_seen_at)).where(
        t.id > after_id
    )
    return arrow.table(session, query.order_by(t.id), TRAITS)


def trait_count(session: Session) -> int:
    """How many trait candidates the store holds (fewer than the copy holds: some were erased)."""
    return int(session.scalar(select(func.count()).select_from(TraitValue)) or 0)


def source_names(session: Session) -> dict[int, str]:
    """Every source's name by id."""
    return {int(i): str(n) for i, n in session.execute(select(Source.id, Source.name))}


OUTBOX = arrow.schema(
    [("delivery_id", pa.string()), ("kind", pa.string()), ("target", pa.string()), ("status", pa.string()),
     ("attempts", pa.int64()), ("created_at", pa.float64()),
     # the communication a message carried, as facts name its path (null for other messages):
     ("type", pa.string()), ("product", pa.string()), ("source_system", pa.string()), ("platform", pa.string()),
     ("communication", pa.string()), ("channel", pa.string()), ("sent_at", pa.float64())]
)  # fmt: skip


def outbox_open(session: Session) -> pa.Table:
    """Outbox messages not yet delivered (pending or dead): the queues and the dead letters, read whole (small),
    each with the path of the communication it carries, found here through the log's unique public id — in the
    copy it would be a join of the few dead letters against every message's id (~0.75 s of CPU at 10M)."""
    m, c = OutboxMessage, Communication
    query = (
        select(
            m.delivery_id, m.kind, m.target, m.status, m.attempts, arrow.epoch(session, m.created_at), c.type,
            c.product, func.coalesce(c.source_system, "(unknown source)"), c.platform,
            func.coalesce(c.template, "(" + c.type + ")"), c.channel,
            arrow.epoch(session, func.coalesce(c.sent_at, c.created_at)),
        )
        .outerjoin(c, c.communication_id == m.delivery_id)
        .where(m.status.in_(("pending", "dead")))
    )  # fmt: skip
    return arrow.table(session, query, OUTBOX)
