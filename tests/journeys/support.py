"""What the journeys tests share: the demo definitions loaded, a server key, and calls to the journey API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

import seamline.demo
from seamline.access.service import create_api_key
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.journeys.installed import load_definitions

DEMO_DEFINITIONS = Path(seamline.demo.__file__).parent / "journey_definitions"


def load_demo_definitions(engine: Engine) -> list[str]:
    with unit_of_work(engine) as session:
        return load_definitions(session, DEMO_DEFINITIONS, utcnow())


def journey_key(engine: Engine, scopes: tuple[str, ...] = ("journeys:read", "journeys:write")) -> dict[str, str]:
    """Headers carrying a new server key with these scopes."""
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, "backend-" + "-".join(s.replace(":", "-") for s in scopes), list(scopes))
    return {"Authorization": f"Bearer {key}"}


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def start(client: TestClient, headers: dict[str, str], journey: str, **body: Any) -> dict[str, Any]:
    return ok(client.post("/v1/journeys", json={"journey": journey, **body}, headers=headers), 201)


def complete(
    client: TestClient, headers: dict[str, str], instance: str, step: str, fields: dict[str, Any], **where: Any
) -> dict[str, Any]:
    url = f"/v1/journeys/{instance}/steps/{step}/complete"
    return ok(client.post(url, json={"fields": fields, **where}, headers=headers))


def steps_by_key(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in view["steps"]}
