"""The destinations API: register (secret shown once), list, pause, resume, replay; a key of the right scope."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.access.service import create_api_key
from seamline.core.db import unit_of_work


def _headers(engine: Engine, name: str, *scopes: str) -> dict[str, str]:
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, name, list(scopes))
    return {"Authorization": f"Bearer {key}"}


def test_register_pause_resume_and_replay_a_destination(client: TestClient, engine: Engine) -> None:
    admin = _headers(engine, "ops", "destinations:admin")
    body = {"name": "crm", "url": "https://crm.example/hooks", "purpose": "analytics",
            "subscriptions": ["profile.erased", "event.Order Completed"]}  # fmt: skip
    created = client.post("/v1/destinations", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["secret"].startswith("whsec_")
    assert client.post("/v1/destinations", json=body, headers=admin).status_code == 409
    listed = client.get("/v1/destinations", headers=admin).json()
    assert [(d["name"], d["status"], d["secret"]) for d in listed] == [("crm", "active", None)]
    assert client.post("/v1/destinations/crm/pause", headers=admin).json()["status"] == "paused"
    assert client.post("/v1/destinations/crm/resume", headers=admin).json()["status"] == "active"
    replayed = client.post("/v1/destinations/crm/replay", json={"since": "2026-01-01T00:00:00Z"}, headers=admin)
    assert replayed.json() == {"queued": 0}
    bad = client.post("/v1/destinations", json={**body, "name": "x", "purpose": "spying"}, headers=admin)
    assert bad.status_code == 400
    assert [e["field"] for e in bad.json()["error"]["errors"]] == ["purpose"]
    assert client.post("/v1/destinations/nope/pause", headers=admin).status_code == 404
    reader = _headers(engine, "reader", "profiles:read")
    assert client.get("/v1/destinations", headers=reader).status_code == 403
