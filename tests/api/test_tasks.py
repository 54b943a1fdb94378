"""The tasks API: make a task for a customer, read the queue and the customer's tasks, pick it up, complete it
with a follow-up; scopes decide who may, bad input is named by field, every read and change is audited."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from seamline.access.service import create_api_key
from seamline.audit.models import AuditEntry
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.triggers.world import World, rule_folder


def _headers(engine: Engine, name: str, *scopes: str) -> dict[str, str]:
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, name, list(scopes))
    return {"Authorization": f"Bearer {key}"}


def test_a_task_through_the_api_from_making_to_its_follow_up(
    client: TestClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    world = World(engine, settings, rule_folder(tmp_path, {}))
    world.customer("u-1")
    profile = world.profile("u-1")
    writer = _headers(engine, "crm", "tasks:read", "tasks:write")
    body = {"profile_id": profile, "title": "Call about the bereavement notice", "queue": "bereavement",
            "skills": ["bereavement"], "priority": "urgent", "case_id": 12}  # fmt: skip
    made = client.post("/v1/tasks", json=body, headers=writer)
    assert made.status_code == 201, made.text
    task = made.json()
    assert (task["queue"], task["status"], task["created_by"], task["case_id"]) == ("bereavement", "open", "crm", 12)
    assert [t["id"] for t in client.get("/v1/tasks?queue=bereavement", headers=writer).json()] == [task["id"]]
    assert client.get("/v1/tasks?queue=other", headers=writer).json() == []
    assert [t["id"] for t in client.get(f"/v1/profiles/{profile}/tasks", headers=writer).json()] == [task["id"]]

    picked = client.post(f"/v1/tasks/{task['id']}/pick-up", json={"agent": "alex"}, headers=writer)
    assert picked.json()["assignee"] == "alex"
    taken = client.post(f"/v1/tasks/{task['id']}/pick-up", json={"agent": "sam"}, headers=writer)
    assert taken.status_code == 409
    done = client.post(
        f"/v1/tasks/{task['id']}/complete",
        json={"agent": "alex", "outcome": "referred", "note": "Passed to the estates team",
              "follow_up": {"title": "Check the estates team called", "due_minutes": 480}},
        headers=writer,
    )  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json()["task"]["outcome"] == "referred"
    assert done.json()["follow_up"]["follow_up_of"] == task["id"]

    with unit_of_work(engine, write=False) as session:
        audited = session.scalars(select(AuditEntry).where(AuditEntry.subject_id == str(profile))).all()
    assert {(a.action, (a.detail or {}).get("action")) for a in audited} >= {
        ("change", "create"),
        ("change", "pick-up"),
        ("change", "complete"),
    }


def test_tasks_need_their_scopes_and_bad_input_is_named(client: TestClient, engine: Engine) -> None:
    reader = _headers(engine, "reader", "profiles:read")
    assert client.get("/v1/tasks", headers=reader).status_code == 403
    writer = _headers(engine, "crm", "tasks:write", "tasks:read")
    bad = client.post("/v1/tasks", json={"profile_id": 1, "title": "t"}, headers=writer)
    assert bad.status_code == 404
    wrong = client.get("/v1/tasks?status=later", headers=writer)
    assert wrong.status_code == 400
    assert [e["field"] for e in wrong.json()["error"]["errors"]] == ["status"]
