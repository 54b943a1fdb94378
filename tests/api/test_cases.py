"""The cases API end to end: a customer from real events, server keys with scopes, audit, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from seamline.access.service import create_api_key
from seamline.audit.service import entries
from seamline.cases.models import Case, CaseEntry
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send


def _key(engine: Engine, name: str, *scopes: str) -> dict[str, str]:
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, name, list(scopes))
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def ann(client: TestClient, engine: Engine, settings: Settings) -> int:
    _, web = make_source(engine, "web", "web")
    send(client, web, {"type": "identify", "userId": "u-ann", "traits": {"email": "Ann@Example.com"}})
    drain(engine, settings)
    return profile_holding(engine, "user_id:u-ann")


def _counts(engine: Engine) -> tuple[int, int]:
    with unit_of_work(engine, write=False) as session:
        return (
            int(session.scalar(select(func.count()).select_from(Case)) or 0),
            int(session.scalar(select(func.count()).select_from(CaseEntry)) or 0),
        )


def test_a_case_through_the_api_from_opening_to_closing(client: TestClient, engine: Engine, ann: int) -> None:
    writer = _key(engine, "chat-bridge", "cases:read", "cases:write")
    created = client.post(
        "/v1/cases",
        headers=writer,
        json={
            "profile_id": ann,
            "subject": "Card declined abroad",
            "channel": "phone",
            "priority": "high",
            "entry": {
                "channel": "phone",
                "direction": "internal",
                "body": "Customer is in Lisbon",
                "author": {"kind": "agent", "name": "maria"},
            },
        },
    )
    assert created.status_code == 201, created.text
    case: dict[str, Any] = created.json()
    cid = case["id"]
    assert (case["status"], case["queue"], case["opened_by"]) == ("open", "support", "chat-bridge")
    assert case["sla"]["resolution"]["target_minutes"] == 480

    inbound = client.post(
        "/v1/cases/inbound",
        headers=writer,
        json={"customer": "email: ANN@example.com ", "channel": "email", "body": "Still declined"},
    )
    assert inbound.status_code == 200, inbound.text
    assert (inbound.json()["is_new_case"], inbound.json()["case"]["id"]) == (False, cid)

    reply = {"channel": "chat", "direction": "outbound", "body": "Fixed", "author": {"kind": "agent", "name": "li"}}
    assert client.post(f"/v1/cases/{cid}/entries", headers=writer, json=reply).status_code == 201
    handoff = {"verified": "Date of birth", "customer_said": "Declined at a hotel", "tried": "Travel flag reset"}
    assert client.put(f"/v1/cases/{cid}/handoff", headers=writer, json=handoff).json()["version"] == 1
    assert client.post(f"/v1/cases/{cid}/pick-up", headers=writer, json={"agent": "li"}).json()["assignee"] == "li"
    escalated = client.post(f"/v1/cases/{cid}/escalate", headers=writer, json={"reason": "Fraud suspected"}).json()
    assert (escalated["status"], escalated["queue"], escalated["escalation"]["reason"]) == (
        "escalated",
        "supervisors",
        "Fraud suspected",
    )
    assert client.post(f"/v1/cases/{cid}/priority", headers=writer, json={"priority": "urgent"}).status_code == 200
    assert client.post(f"/v1/cases/{cid}/assign", headers=writer, json={"assignee": "sam"}).json()["assignee"] == "sam"
    # Settling an escalation is a supervisor's: the bridge's key may not, a key with cases:supervise may.
    refused = client.post(f"/v1/cases/{cid}/resolve", headers=writer, json={})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    supervisor = _key(engine, "team-leads", "cases:read", "cases:write", "cases:supervise")
    settled = client.post(f"/v1/cases/{cid}/resolve", headers=supervisor, json={}).json()
    assert (settled["status"], settled["queue"], settled["assignee"], settled["escalation"]) == (
        "resolved",
        "support",
        "sam",
        None,
    )
    assert client.post(f"/v1/cases/{cid}/reopen", headers=writer, json={"reason": "again"}).json()["status"] == "open"
    assert client.post(f"/v1/cases/{cid}/status", headers=writer, json={"status": "resolved"}).status_code == 200
    assert client.post(f"/v1/cases/{cid}/close", headers=writer, json={}).json()["status"] == "closed"

    whole = client.get(f"/v1/cases/{cid}", headers=writer).json()
    assert list(whole)[:2] == ["id", "handoff"]
    assert whole["handoff"]["tried"] == "Travel flag reset"
    assert [e["kind"] for e in whole["entries"]].count("message") == 2
    assert whole["entries"][-1]["body"] == "resolved → closed"
    listed = client.get("/v1/cases", headers=writer, params={"profile_id": ann, "status": ["closed"]}).json()
    assert [c["id"] for c in listed["cases"]] == [cid]
    assert "entries" not in listed["cases"][0] or listed["cases"][0]["entries"] is None
    versions = client.get(f"/v1/cases/{cid}/handoff/versions", headers=writer).json()
    assert [v["version"] for v in versions] == [1]

    with unit_of_work(engine, write=False) as session:
        audited = entries(session, subject_type="profile", subject_id=ann, limit=100)
    actions = [(e.action, e.detail.get("action") or e.detail.get("view")) for e in reversed(audited)]
    assert actions[:3] == [("change", "open"), ("change", "inbound"), ("change", "entry")]
    assert ("read", "case") in actions
    assert ("read", "cases") in actions
    assert {e.actor for e in audited} == {"chat-bridge", "team-leads"}
    assert all(e.surface == "api" for e in audited)


def test_keys_need_the_cases_scopes(client: TestClient, engine: Engine, ann: int) -> None:
    reader = _key(engine, "reporting", "cases:read")
    profiles = _key(engine, "crm-sync", "profiles:read", "profiles:write")
    body = {"profile_id": ann, "subject": "Hello", "channel": "chat"}
    assert client.post("/v1/cases", json=body).status_code == 401
    assert client.post("/v1/cases", headers={"Authorization": "Bearer sk_nope"}, json=body).status_code == 401
    assert client.post("/v1/cases", headers=reader, json=body).status_code == 403
    assert client.get("/v1/cases", headers=profiles).status_code == 403
    assert client.get("/v1/cases", headers=reader).status_code == 200


def test_bad_input_names_the_field_and_changes_nothing(client: TestClient, engine: Engine, ann: int) -> None:
    writer = _key(engine, "chat-bridge", "cases:read", "cases:write")

    def refused(method: str, url: str, body: dict[str, Any], status: int = 400) -> list[tuple[str | None, Any]]:
        before = _counts(engine)
        response = client.request(method, url, headers=writer, json=body)
        assert response.status_code == status, response.text
        assert _counts(engine) == before
        return [(e["field"], e["index"]) for e in response.json()["error"]["errors"]]

    bad = {
        "profile_id": ann,
        "subject": " ",
        "channel": "pigeon",
        "priority": "asap",
        "entry": {"channel": "chat", "direction": "sideways", "body": "x", "author": {"kind": "bot", "name": "x"}},
    }
    assert refused("POST", "/v1/cases", bad) == [
        ("subject", None),
        ("priority", None),
        ("channel", None),
        ("entry.direction", None),
        ("entry.author.kind", None),
    ]
    assert refused("POST", "/v1/cases", {"profile_id": 999_999, "subject": "x", "channel": "chat"}) == [
        ("profile_id", None)
    ]
    assert refused("POST", "/v1/cases", {"subject": "x"}) == [("profile_id", None), ("channel", None)]
    assert refused(
        "POST", "/v1/cases/inbound", {"customer": "email:nobody@example.com", "channel": "email", "body": "hi"}
    ) == [("customer", None)]
    assert refused("POST", "/v1/cases/inbound", {"customer": "shoe:9", "channel": "email", "body": "hi"}) == [
        ("customer", None)
    ]
    assert refused("GET", "/v1/cases?status=open&status=asleep", {}) == [("status", 1)]

    cid = client.post("/v1/cases", headers=writer, json={"profile_id": ann, "subject": "x", "channel": "chat"}).json()[
        "id"
    ]
    assert refused("POST", f"/v1/cases/{cid}/escalate", {"reason": ""}) == [("reason", None)]
    assert refused("POST", f"/v1/cases/{cid}/close", {}, status=409) == [("status", None)]
    assert refused("POST", f"/v1/cases/{cid}/status", {"status": "escalated"}) == [("status", None)]
    assert refused("PUT", f"/v1/cases/{cid}/handoff", {}) == [("handoff", None)]
    assert refused("POST", "/v1/cases/999999/resolve", {}, status=404) == []
