"""One worker batch that begins several people's journeys and saves into them: the new instances are inserted
together (not flushed one by one), and every entry lands on its own person's instance."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.journeys import service
from tests.journeys.support import load_demo_definitions
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send


def _story(person: str) -> list[dict[str, Any]]:
    journey = {"journey": "go_paperless", "instance_id": f"ji_batch_{person}"}
    return [
        {"type": "track", "userId": person, "event": "Journey Started", "properties": journey},
        {"type": "track", "userId": person, "event": "Product Viewed", "properties": {"product": "card"}},
        {"type": "track", "userId": person, "event": "Journey Step Saved",
         "properties": {**journey, "step": "confirm", "paper_off": True}},
        {"type": "track", "userId": person, "event": " Journey Step Completed ",  # a name as read: trimmed
         "properties": {**journey, "step": "confirm_email", "email": f"{person}@example.com"}},
    ]  # fmt: skip


def test_a_batch_begins_and_fills_many_journeys(client: TestClient, engine: Engine, settings: Settings) -> None:
    load_demo_definitions(engine)
    _, web = make_source(engine, "web", "web")
    people = ["u-bea", "u-cy", "u-dee"]
    stories = [_story(p) for p in people]
    # Interleaved, as a busy inbox holds them: each person's events in order, the people mixed.
    send(client, web, *[event for step in zip(*stories, strict=True) for event in step])
    assert drain(engine, settings) == 12

    with unit_of_work(engine, write=False) as session:
        for person in people:
            profile_id = profile_holding(engine, f"user_id:{person}")
            [row] = service.journeys_of(session, profile_id)
            state = service.state_of(session, row)  # read from the stored entries in this new unit of work
            assert (row.public_id, row.status, row.current_step) == (f"ji_batch_{person}", "open", "confirm")
            assert state.values == {"paper_off": True, "email": f"{person}@example.com"}
            assert list(state.done) == ["confirm_email"]
            assert {entry.instance_id for entry in [*state.done.values()]} == {row.id}
