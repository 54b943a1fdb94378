"""The inbox writer: appends accepted requests with group commit, and answers each only after its commit.

Requests hand their validated envelopes to one writer thread per process (the core's GroupCommitter). The thread
takes everything that queued while the previous commit was syncing, up to a number of events, and writes it in one
transaction, so one fsync covers many requests: durability per acknowledged event without a sync per request. A
request the database refuses fails alone: its group is committed again request by request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine

from seamline.core.db import WRITE_INTENT
from seamline.core.groupcommit import GroupCommitter
from seamline.ingestion import repository
from seamline.ingestion.wire import Envelope


@dataclass(frozen=True, slots=True)
class Request:
    """One accepted request's events, as the inbox stores them."""

    source_id: int
    received_at: datetime
    envelopes: Sequence[Envelope]


def _write(conn: Connection, requests: list[Request]) -> None:
    repository.append_events(conn, [(r.source_id, r.received_at, r.envelopes) for r in requests])


def _events(request: Request) -> int:
    return max(len(request.envelopes), 1)


class InboxWriter(GroupCommitter[Request, Connection]):
    """Group-committing appender to the inbox; `append` returns once the events are committed."""

    def __init__(self, engine: Engine, *, max_group_events: int = 20_000) -> None:
        # A SQLAlchemy connection marked as a writer: on SQLite it takes the engine's write turn and begins
        # IMMEDIATE, like every other writer of this process.
        writer = engine.execution_options(**{WRITE_INTENT: True})
        super().__init__(
            engine, _write, name="inbox-writer", max_items=max_group_events, begin=writer.begin, weigh=_events
        )

    async def append(self, source_id: int, received_at: datetime, envelopes: Sequence[Envelope]) -> None:
        """Queue one request's envelopes and wait for their commit; raises if the commit failed."""
        await self.submit(Request(source_id, received_at, envelopes))
