"""The shortest path through the tracking API on both databases."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.support.builders import make_source


def test_track_is_stored_once_per_message_id(client: TestClient, engine: Engine) -> None:
    _source, key = make_source(engine)
    body = {"userId": "u-1", "event": "Signed Up", "messageId": "m-1"}
    for _ in range(2):
        response = client.post("/v1/track", json=body, auth=(key, ""))
        assert response.status_code == 200, response.text
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT message_id, type, user_id FROM inbox_events")).all()
    assert [tuple(r) for r in rows] == [("m-1", "track", "u-1")]
