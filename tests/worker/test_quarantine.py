"""A failing event neither stops the worker nor loses its batch: retried, then quarantined with its reason, while its
person's later events wait behind it; an operator replays or discards it from the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from seamline.cli import app
from seamline.config import Settings
from seamline.core.pipeline import Consumer, ResolvedBatch
from seamline.observability.metrics import Metrics
from seamline.pipeline.registry import Pipeline
from seamline.worker.runner import QUARANTINE_AFTER, Worker
from tests.support.builders import make_source


class Poisoned(Consumer):
    """A consumer that cannot take events marked `properties.poison` while `failing` is set (a bug, then its fix)."""

    name = "poisoned"

    def __init__(self) -> None:
        self.failing = True

    def take(self, session: Session, batch: ResolvedBatch) -> None:
        for event in batch.events:
            if self.failing and event.payload.get("properties", {}).get("poison"):
                raise ValueError(f"cannot take event {event.id}")


def _pipeline(settings: Settings, consumer: Consumer) -> Pipeline:
    pipeline = Pipeline(settings.identity, settings.consent)
    pipeline.consumers = (*pipeline.consumers, consumer)
    return pipeline


def _send(client: TestClient, engine: Engine) -> dict[str, int]:
    """Ann's three events (the middle one poisoned) and Bo's two; returns event ids by message id."""
    _source, key = make_source(engine)
    items: list[dict[str, Any]] = [
        {"type": "track", "messageId": "ann-1", "userId": "ann", "event": "One"},
        {"type": "track", "messageId": "ann-2", "userId": "ann", "event": "Two", "properties": {"poison": True}},
        {"type": "track", "messageId": "bo-1", "userId": "bo", "event": "One"},
        {"type": "track", "messageId": "ann-3", "userId": "ann", "event": "Three"},
        {"type": "track", "messageId": "bo-2", "userId": "bo", "event": "Two"},
    ]
    response = client.post("/v1/batch", json={"batch": items}, auth=(key, ""))
    assert response.status_code == 200, response.text
    with engine.connect() as conn:
        return {r.message_id: r.id for r in conn.execute(text("SELECT id, message_id FROM inbox_events"))}


def _pending(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT id FROM inbox_events WHERE processed_at IS NULL")).scalars())


def _timeline(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT event_id FROM profile_events ORDER BY event_id")).scalars())


def _cli(database_url: str, tmp_path: Path, *args: str) -> Result:
    env = {"SEAMLINE_DATABASE_URL": database_url, "SEAMLINE_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    return CliRunner().invoke(app, ["events", "quarantine", *args], env=env)


def test_a_failing_event_is_quarantined_its_person_waits_and_a_replay_runs_them_in_order(
    client: TestClient, engine: Engine, settings: Settings, database_url: str, tmp_path: Path
) -> None:
    ids = _send(client, engine)
    poisoned = Poisoned()
    metrics = Metrics()
    worker = Worker(engine, settings, metrics, pipeline=_pipeline(settings, poisoned))

    assert worker.drain() == 4  # three processed, one set aside (Ann's third waits)
    assert worker.processed == 3
    assert _pending(engine) == {ids["ann-2"], ids["ann-3"]}  # Ann's third waits behind her second
    assert _timeline(engine) == sorted([ids["ann-1"], ids["bo-1"], ids["bo-2"]])
    # The batch once, then the poisoned event alone each time until it is quarantined.
    assert metrics.registry.get_sample_value("seamline_event_failures_total") == 1 + QUARANTINE_AFTER

    listed = _cli(database_url, tmp_path, "list")
    assert listed.exit_code == 0, listed.output
    [row] = [line for line in listed.stdout.splitlines() if f" {ids['ann-2']} " in line]
    assert f"ValueError: cannot take event {ids['ann-2']}" in row
    cells = [c.strip() for c in row.strip().strip("│").split("│")]
    assert (cells[2], cells[3], cells[5]) == ("track", str(QUARANTINE_AFTER), "1")

    assert worker.drain() == 0  # nothing more to do while the event is set aside
    poisoned.failing = False  # the fix is deployed
    replayed = _cli(database_url, tmp_path, "replay", str(ids["ann-2"]))
    assert replayed.exit_code == 0, replayed.output
    assert f"released 1 event(s) to the worker: {ids['ann-2']}" in replayed.stdout
    assert worker.drain() == 2
    assert _pending(engine) == set()
    assert _timeline(engine) == sorted(ids.values())
    assert _cli(database_url, tmp_path, "list").stdout.strip() == "no event is quarantined"


def test_a_discarded_event_is_left_unprocessed_and_its_person_goes_on(
    client: TestClient, engine: Engine, settings: Settings, database_url: str, tmp_path: Path
) -> None:
    ids = _send(client, engine)
    worker = Worker(engine, settings, pipeline=_pipeline(settings, Poisoned()))
    worker.drain()
    discarded = _cli(database_url, tmp_path, "discard", str(ids["ann-2"]))
    assert discarded.exit_code == 0, discarded.output
    assert worker.drain() == 1
    assert _pending(engine) == set()
    assert ids["ann-2"] not in _timeline(engine)
    assert ids["ann-3"] in _timeline(engine)


def test_the_quarantine_commands_refuse_unknown_or_missing_events(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    unknown = _cli(database_url, tmp_path, "replay", "999")
    assert unknown.exit_code == 1
    assert "not in the quarantine: 999" in unknown.stderr
    assert _cli(database_url, tmp_path, "replay").exit_code == 2
    assert _cli(database_url, tmp_path, "discard").exit_code == 2
