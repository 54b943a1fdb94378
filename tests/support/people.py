"""People made through the real path (tracking API, worker) for tests of what reaches them."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.config import Settings
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send


def person(
    client: TestClient, engine: Engine, settings: Settings, *, user_id: str = "u-ada", email: str = "ada@example.com"
) -> int:
    """A profile holding a user id and an email address, made through the tracking API and the worker."""
    _, key = make_source(engine, f"web-{user_id}", "web")
    send(client, key, {"type": "identify", "userId": user_id, "traits": {"email": email, "first_name": "Ada"}})
    drain(engine, settings)
    return profile_holding(engine, f"user_id:{user_id}")
