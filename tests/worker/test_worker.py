"""The worker drains the inbox: each event once, each person's events in arrival order, progress recorded.

Order is observed on the SQL itself: every statement that marks inbox events processed is recorded with the ids it
names, in the order the worker handled them, and kept only when its transaction commits. A worker holds the lock of
a partition (PostgreSQL) or of the whole database (SQLite) from its claim until that commit, and the commit is
recorded before it is sent, so the log's order is the order in which each person's events were processed.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import defaultdict
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, event, text

from seamline.config import Settings
from seamline.core import collector
from seamline.worker.runner import Worker
from tests.support.builders import make_source


class ProcessingLog:
    """Event ids marked processed by each committed transaction, in commit order."""

    def __init__(self, engine: Engine) -> None:
        self.batches: list[list[int]] = []
        self._lock = threading.Lock()
        event.listen(engine, "after_cursor_execute", self._on_execute)
        event.listen(engine, "commit", self._on_commit)
        event.listen(engine, "rollback", self._on_rollback)

    def _on_execute(self, conn: Connection, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if " ".join(statement.split()).upper().startswith("UPDATE INBOX_EVENTS SET PROCESSED_AT"):
            values = parameters.values() if isinstance(parameters, dict) else parameters
            flat = [x for v in values for x in (v if isinstance(v, list | tuple) else (v,))]
            ids = [v for v in flat if isinstance(v, int) and not isinstance(v, bool)]
            conn.info.setdefault("seamline_marked", []).append(ids)

    def _on_commit(self, conn: Connection) -> None:
        marked = conn.info.pop("seamline_marked", [])
        with self._lock:
            self.batches.extend(marked)

    def _on_rollback(self, conn: Connection) -> None:
        conn.info.pop("seamline_marked", None)

    @property
    def ids(self) -> list[int]:
        return [i for batch in self.batches for i in batch]


def _events(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, source_id, type, coalesce(anonymous_id, user_id) AS person, partition, processed_at"
                " FROM inbox_events ORDER BY id"
            )
        )
        return [dict(row._mapping) for row in rows]


def _progress(engine: Engine) -> dict[tuple[int, str], tuple[int, int]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT source_id, type, processed, last_event_id FROM inbox_progress")).all()
    return {(r.source_id, r.type): (r.processed, r.last_event_id) for r in rows}


def _send(client: TestClient, key: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 2000):
        response = client.post("/v1/batch", json={"batch": items[start : start + 2000]}, auth=(key, ""))
        assert response.status_code == 200, response.text


def _assert_each_person_in_order(log: ProcessingLog, events: list[dict[str, Any]]) -> None:
    person_of = {e["id"]: e["person"] for e in events}
    seen: dict[str, list[int]] = defaultdict(list)
    for event_id in log.ids:
        seen[person_of[event_id]].append(event_id)
    expected: dict[str, list[int]] = defaultdict(list)
    for e in events:
        expected[e["person"]].append(e["id"])
    assert seen == expected


def _item(i: int, person: str, event_type: str = "track") -> dict[str, Any]:
    ids = {"anonymousId": person} if person.startswith("a-") else {"userId": person}
    extra = {"track": {"event": f"Step {i}"}, "page": {"name": f"Page {i}"}, "identify": {}}[event_type]
    return {"type": event_type, "messageId": f"m-{i}", **ids, **extra}


def test_the_worker_processes_each_event_once_in_arrival_order_with_progress(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    web, web_key = make_source(engine, "web")
    crm, crm_key = make_source(engine, "crm", "crm")
    people = ["a-1", "u-2", "a-3", "u-4", "a-5"]
    types = ["track", "page", "identify"]
    _send(client, web_key, [_item(i, people[i % 5], types[i % 3]) for i in range(30)])
    _send(client, crm_key, [_item(100 + i, people[i % 3], "identify") for i in range(7)])
    events = _events(engine)
    assert len(events) == 37
    assert all(e["processed_at"] is None for e in events)

    log = ProcessingLog(engine)
    worker = Worker(engine, settings.model_copy(update={"worker_batch_size": 4, "worker_partitions_per_claim": 2}))
    assert worker.drain() == 37
    assert worker.processed == 37

    assert sorted(log.ids) == [e["id"] for e in events]
    assert all(len(batch) <= 4 for batch in log.batches)
    _assert_each_person_in_order(log, events)
    if engine.dialect.name == "sqlite":
        # One writer at a time over the whole inbox: arrival order across people too.
        assert log.ids == [e["id"] for e in events]
    assert all(e["processed_at"] is not None for e in _events(engine))

    expected: dict[tuple[int, str], tuple[int, int]] = {}
    for e in events:
        count, _last = expected.get((e["source_id"], e["type"]), (0, 0))
        expected[(e["source_id"], e["type"])] = (count + 1, e["id"])
    assert _progress(engine) == expected
    assert {source for source, _type in expected} == {web.id, crm.id}


def test_processed_events_are_not_processed_again_and_new_ones_are(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    source, key = make_source(engine)
    worker = Worker(engine, settings)
    _send(client, key, [_item(i, "a-1") for i in range(3)])
    assert worker.drain() == 3
    assert worker.drain() == 0
    assert _progress(engine) == {(source.id, "track"): (3, 3)}

    log = ProcessingLog(engine)
    _send(client, key, [_item(i, "a-1") for i in range(3, 5)])
    assert Worker(engine, settings).drain() == 2
    assert log.ids == [4, 5]
    assert _progress(engine) == {(source.id, "track"): (5, 5)}


def test_a_lone_worker_finds_pending_events_in_one_batch(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    # Bug (ingestion/repository.py claim_partitions, PostgreSQL): a worker claims the least recently claimed
    # partitions whether or not they hold pending events, so a batch can come back empty while others wait;
    # `run_forever` then sleeps `worker_idle_seconds` before trying the next partitions.
    _source, key = make_source(engine)
    _send(client, key, [_item(i, "a-77") for i in range(3)])
    assert {e["partition"] for e in _events(engine)} == {50}
    assert Worker(engine, settings).run_once() == 3


def test_drain_processes_every_partition(client: TestClient, engine: Engine, settings: Settings) -> None:
    _source, key = make_source(engine)
    _send(client, key, [_item(i, f"a-{i}") for i in range(200)])
    assert len({e["partition"] for e in _events(engine)}) == 64
    shape = settings.model_copy(update={"worker_batch_size": 7, "worker_partitions_per_claim": 3})
    assert Worker(engine, shape).drain() == 200
    assert all(e["processed_at"] is not None for e in _events(engine))


def test_an_empty_inbox_processes_nothing(engine: Engine, settings: Settings) -> None:
    log = ProcessingLog(engine)
    assert Worker(engine, settings).run_once() == 0
    assert log.batches == []
    assert _progress(engine) == {}


@pytest.mark.postgres_only
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_workers_process_each_event_once_and_each_person_in_order(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    source, key = make_source(engine, "cards", "core-system")
    people = [f"a-{p}" if p % 2 else f"u-{p}" for p in range(200)]
    # Interleaved people, so every partition holds many people and every person many events.
    _send(client, key, [_item(i, people[(i * 7) % len(people)]) for i in range(4000)])
    events = _events(engine)
    assert len(events) == 4000

    log = ProcessingLog(engine)
    shape = settings.model_copy(
        update={"worker_batch_size": 25, "worker_partitions_per_claim": 4, "worker_idle_seconds": 0.01}
    )
    workers = [Worker(engine, shape) for _ in range(4)]
    for worker in workers:
        worker.start()
    try:
        deadline = time.monotonic() + 90
        while sum(w.processed for w in workers) < 4000 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        for worker in workers:
            worker.stop()

    assert sum(w.processed for w in workers) == 4000
    assert sorted(log.ids) == [e["id"] for e in events], "an event was processed twice or not at all"
    _assert_each_person_in_order(log, events)
    busy = [w.processed for w in workers if w.processed > 0]
    assert len(busy) >= 2, f"the workers did not share the inbox: {[w.processed for w in workers]}"
    assert all(e["processed_at"] is not None for e in _events(engine))
    assert _progress(engine) == {(source.id, "track"): (4000, events[-1]["id"])}


def test_the_collector_is_held_off_only_while_batches_run() -> None:
    assert gc.isenabled()
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():  # another worker thread's batch
            assert not gc.isenabled()
        assert not gc.isenabled(), "the first batch is still running"
    assert gc.isenabled()


def test_a_collector_the_process_turned_off_stays_off() -> None:
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_batch_gives_the_collector_back(client: TestClient, engine: Engine, settings: Settings) -> None:
    _source, key = make_source(engine, "cards", "core-system")
    _send(client, key, [_item(i, "a-1") for i in range(3)])
    assert Worker(engine, settings).run_once() == 3
    assert gc.isenabled()


def test_a_batch_takes_up_to_5000_events_on_sqlite_and_1000_on_postgresql(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    _source, key = make_source(engine, "cards", "core-system")
    _send(client, key, [_item(i, "a-1") for i in range(1200)])  # one person: one partition
    assert settings.worker_batch_size is None
    expected = 1200 if engine.dialect.name == "sqlite" else 1000
    assert Worker(engine, settings).run_once() == expected
