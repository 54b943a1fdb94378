"""The inbox writer: appends accepted requests with group commit, and answers each only after its commit.

Requests hand their validated envelopes to one writer thread per process. The thread takes everything that
queued while the previous commit was syncing and writes it in one transaction, so one fsync covers many
requests: durability per acknowledged event without a sync per request. The sqlite3 and psycopg drivers
release the GIL while they wait on the disk, so parsing of the next requests goes on meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from seamline.core.db import WRITE_INTENT
from seamline.ingestion import repository
from seamline.ingestion.wire import Envelope

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Pending:
    source_id: int
    received_at: datetime
    envelopes: Sequence[Envelope]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None] = field(repr=False)


_STOP = object()


class InboxWriter:
    """Group-committing appender to the inbox; `append` returns once the events are committed."""

    def __init__(self, engine: Engine, *, max_group_events: int = 20_000) -> None:
        self._engine = engine.execution_options(**{WRITE_INTENT: True})
        self._max_group_events = max_group_events
        self._queue: queue.SimpleQueue[_Pending | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.commits = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="seamline-inbox-writer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Finish what is queued, then stop."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None

    async def append(self, source_id: int, received_at: datetime, envelopes: Sequence[Envelope]) -> None:
        """Queue one request's envelopes and wait for their commit; raises if the commit failed."""
        if self._thread is None:
            raise RuntimeError("the inbox writer is not running")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._queue.put(_Pending(source_id, received_at, envelopes, loop, future))
        await future

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            assert isinstance(first, _Pending)
            group = [first]
            size = len(first.envelopes)
            while size < self._max_group_events:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                assert isinstance(item, _Pending)
                group.append(item)
                size += len(item.envelopes)
            self._commit(group)

    def _commit(self, group: list[_Pending]) -> None:
        try:
            self._write(group)
        except Exception:
            if len(group) == 1:
                log.exception("inbox commit failed for one request")
                self._answer(group, sys.exc_info()[1])
                return
            # One request the database refuses must not fail the others that happened to share its commit:
            # write each on its own, so only the bad one hears of the failure.
            log.warning("inbox group commit of %d requests failed; committing them one by one", len(group))
            for pending in group:
                self._commit([pending])
            return
        self._answer(group, None)

    def _write(self, group: list[_Pending]) -> None:
        with self._engine.begin() as conn:
            repository.append_events(conn, [(p.source_id, p.received_at, p.envelopes) for p in group])
        self.commits += 1

    @staticmethod
    def _answer(group: list[_Pending], error: BaseException | None) -> None:
        for pending in group:  # every waiting request must hear the outcome, none may hang
            pending.loop.call_soon_threadsafe(_settle, pending.future, error)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():  # the client went away and the request was cancelled
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
