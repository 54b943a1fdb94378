"""On SQLite the worker reads and resolves a batch before it takes the write lock, and writes it under the lock only
while the change feed's mark is still the one the plan read: a plan gone stale is run again under the lock and
resolves as a plain worker would; events someone else processed meanwhile roll the batch back; nothing is applied
twice and nothing is left waiting."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine, text

from seamline.config import Settings
from seamline.core.db import WRITE_INTENT, unit_of_work
from seamline.identity.service import note_changes
from seamline.pipeline.service import PreparedEvents
from seamline.worker.runner import Worker
from tests.support.streams import STREAM_BATCH, STREAM_EVENTS, resolved_graph

StreamDatabase = Callable[[str], tuple[Engine, Settings]]


class GraphChangedMeanwhile(Worker):
    """A worker whose every plan goes stale: between its read and its write, another transaction changes the graph
    (as a correction, an import or an erasure would), so the change feed's mark moves."""

    def _prepare(self, batch_size: int) -> PreparedEvents:
        prepared = super()._prepare(batch_size)
        with unit_of_work(self._engine) as session:
            note_changes(session, "events", [1])
        return prepared


def test_a_plan_gone_stale_is_run_again_under_the_lock_to_the_same_graph(stream_database: StreamDatabase) -> None:
    engine, settings = stream_database("planned")
    planned = Worker(engine, settings)
    assert planned.drain() == STREAM_EVENTS
    assert planned.replanned == 0
    expected = resolved_graph(engine)

    engine, settings = stream_database("stale")
    stale = GraphChangedMeanwhile(engine, settings)
    assert stale.drain() == STREAM_EVENTS
    assert stale.replanned == STREAM_EVENTS // STREAM_BATCH  # every batch: its plan was dropped, not written
    graph = resolved_graph(engine)
    assert graph["waiting"] == 0
    assert graph["merges"] > 0
    assert graph == expected


class TakenMeanwhile(Worker):
    """A worker whose first batch's first event is marked processed by someone else between its read and its write,
    without the graph changing (the feed's mark stays)."""

    taken: int | None = None

    def _prepare(self, batch_size: int) -> PreparedEvents:
        prepared = super()._prepare(batch_size)
        if self.taken is None and prepared.items:
            self.taken = prepared.items[0].id
            with self._engine.execution_options(**{WRITE_INTENT: True}).connect() as conn, conn.begin():
                conn.execute(
                    text("UPDATE inbox_events SET processed_at = CURRENT_TIMESTAMP WHERE id = :id"), {"id": self.taken}
                )
        return prepared


def test_events_processed_by_someone_else_meanwhile_roll_the_batch_back(stream_database: StreamDatabase) -> None:
    engine, settings = stream_database("taken")
    worker = TakenMeanwhile(engine, settings)
    assert worker.drain() == STREAM_EVENTS - 1
    assert worker.replanned == 0  # the mark did not move: the batch was written, found the event gone, rolled back
    with engine.connect() as conn:
        applied = conn.execute(text("SELECT event_id, count(*) FROM profile_events GROUP BY event_id")).all()
        waiting = conn.execute(text("SELECT count(*) FROM inbox_events WHERE processed_at IS NULL")).scalar()
    assert worker.taken is not None
    assert worker.taken not in {event_id for event_id, _ in applied}  # nothing of the rolled-back batch stayed
    assert {count for _, count in applied} == {1}  # every other event applied once
    assert len(applied) == STREAM_EVENTS - 1
    assert waiting == 0


def test_a_worker_with_nothing_to_do_waits_for_no_writer(stream_database: StreamDatabase) -> None:
    engine, settings = stream_database("idle")
    worker = Worker(engine, settings)
    worker.drain()
    done = threading.Event()
    with engine.execution_options(**{WRITE_INTENT: True}).connect() as writer, writer.begin():
        writer.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: this connection holds the write lock until the block ends
        thread = threading.Thread(target=lambda: (worker.run_once(), done.set()))
        thread.start()
        thread.join(10)
        assert done.is_set()  # it read an empty inbox and returned without asking for the write lock
