"""The privacy API and CLI: scopes, request lifecycle, export and erasure, each audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from seamline.access.service import create_api_key
from seamline.audit.service import entries
from seamline.cli import app
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.privacy.people import raw_mentions, world


def _key(engine: Engine, name: str, *scopes: str) -> dict[str, str]:
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, name, list(scopes))
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def people(client: TestClient, engine: Engine, settings: Settings) -> dict[str, Any]:
    return {
        **world(client, engine, settings),
        "admin": _key(engine, "dpo-desk", "identity:admin"),
        "read": _key(engine, "reader", "profiles:read"),
    }


def test_only_identity_admin_keys_may_use_the_privacy_api(client: TestClient, people: dict[str, Any]) -> None:
    body = {"kind": "access", "profile_id": people["ada"]}
    assert client.post("/v1/privacy/requests", json=body).status_code == 401
    assert client.post("/v1/privacy/requests", json=body, headers=people["read"]).status_code == 403
    created = client.post("/v1/privacy/requests", json=body, headers=people["admin"])
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    assert client.get(f"/v1/privacy/requests/{request_id}", headers=people["read"]).status_code == 403
    assert client.post(f"/v1/privacy/requests/{request_id}/complete", headers=people["read"]).status_code == 403
    assert (
        client.post("/v1/privacy/requests", json={**body, "kind": "forget"}, headers=people["admin"]).status_code == 400
    )


def test_access_request_through_the_api_returns_the_export_and_is_audited(
    client: TestClient, engine: Engine, people: dict[str, Any]
) -> None:
    created = client.post(
        "/v1/privacy/requests", json={"kind": "access", "profile_id": people["ada"]}, headers=people["admin"]
    ).json()
    assert created["status"] == "open"
    due = datetime.fromisoformat(created["due_at"]) - datetime.fromisoformat(created["created_at"])
    assert due == timedelta(days=30)
    got = client.get(f"/v1/privacy/requests/{created['id']}", headers=people["admin"])
    assert got.status_code == 200
    assert got.json()["kind"] == "access"
    done = client.post(f"/v1/privacy/requests/{created['id']}/complete", headers=people["admin"])
    assert done.status_code == 200, done.text
    assert done.json()["request"]["status"] == "done"
    assert len(done.json()["export"]["events"]) == 6
    again = client.post(f"/v1/privacy/requests/{created['id']}/complete", headers=people["admin"])
    assert again.status_code == 200  # a done access request is exported again, and stays done as it was
    assert again.json()["request"] == done.json()["request"]
    assert len(again.json()["export"]["events"]) == 6
    with unit_of_work(engine, write=False) as session:
        audited = entries(session, subject_type="profile", subject_id=people["ada"])
    assert [(e.action, e.detail.get("view")) for e in audited][:3] == [
        ("read", "access_export"),
        ("read", "access_export"),
        ("change", None),
    ]


def test_erasure_through_the_api(client: TestClient, engine: Engine, people: dict[str, Any]) -> None:
    created = client.post(
        "/v1/privacy/requests", json={"kind": "erasure", "profile_id": people["ada"]}, headers=people["admin"]
    ).json()
    done = client.post(f"/v1/privacy/requests/{created['id']}/complete", headers=people["admin"])
    assert done.status_code == 200, done.text
    assert done.json()["request"]["result"]["tombstones"] == 4
    assert raw_mentions(engine) == []
    assert client.get("/v1/profiles/lookup?identifier=user_id:u-lovelace", headers=people["read"]).status_code == 404


def test_the_cli_opens_completes_and_lists_requests(
    client: TestClient,
    engine: Engine,
    settings: Settings,
    people: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SEAMLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SEAMLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    opened = runner.invoke(app, ["privacy", "request", "access", str(people["ada"])])
    assert opened.exit_code == 0, opened.output
    assert opened.output.startswith("request 1: access of profile")
    out = tmp_path / "export.json"
    completed = runner.invoke(app, ["privacy", "complete", "1", "--output", str(out)])
    assert completed.exit_code == 0, completed.output
    assert orjson.loads(out.read_bytes())["profile_id"] == people["ada"]
    erased = runner.invoke(app, ["privacy", "request", "erase", str(people["ada"])])
    assert erased.exit_code == 0, erased.output
    assert runner.invoke(app, ["privacy", "complete", "2"]).exit_code == 0
    listed = runner.invoke(app, ["privacy", "list", "--json"])
    assert [(r["id"], r["kind"], r["status"]) for r in map(orjson.loads, listed.output.splitlines())] == [
        (2, "erasure", "done"),
        (1, "access", "done"),
    ]
    assert raw_mentions(engine) == []
    assert runner.invoke(app, ["privacy", "complete", "2"]).exit_code == 1  # already done


def test_an_erased_profile_answers_410_naming_the_erasure(client: TestClient, people: dict[str, Any]) -> None:
    ada = people["ada"]
    assert client.get(f"/v1/profiles/{ada}", headers=people["read"]).status_code == 200
    created = client.post(
        "/v1/privacy/requests", json={"kind": "erasure", "profile_id": ada}, headers=people["admin"]
    ).json()
    assert client.post(f"/v1/privacy/requests/{created['id']}/complete", headers=people["admin"]).status_code == 200
    for path in (f"/v1/profiles/{ada}", f"/v1/profiles/{ada}/traits", f"/v1/profiles/{ada}/timeline"):
        gone = client.get(path, headers=people["read"])
        assert gone.status_code == 410, (path, gone.text)
        assert gone.json()["error"]["code"] == "gone"
        assert f"privacy request {created['id']}" in gone.json()["error"]["message"]
    # A second request about the same person is refused the same way, and Grace is served as before.
    again = client.post("/v1/privacy/requests", json={"kind": "erasure", "profile_id": ada}, headers=people["admin"])
    assert again.status_code == 410
    assert client.get(f"/v1/profiles/{people['grace']}", headers=people["read"]).status_code == 200


def test_requests_are_listed_through_the_api_newest_first_and_audited(
    client: TestClient, engine: Engine, people: dict[str, Any]
) -> None:
    def open_one(kind: str, profile_id: int) -> int:
        body = {"kind": kind, "profile_id": profile_id}
        made = client.post("/v1/privacy/requests", json=body, headers=people["admin"])
        return int(made.json()["id"])

    access, erasure = open_one("access", people["grace"]), open_one("erasure", people["ada"])
    assert client.post(f"/v1/privacy/requests/{erasure}/complete", headers=people["admin"]).status_code == 200
    listed = client.get("/v1/privacy/requests", headers=people["admin"])
    assert listed.status_code == 200, listed.text
    assert [(r["id"], r["kind"], r["status"]) for r in listed.json()["requests"]] == [
        (erasure, "erasure", "done"),
        (access, "access", "open"),
    ]
    opened = client.get("/v1/privacy/requests?status=open&limit=5", headers=people["admin"]).json()["requests"]
    assert [r["id"] for r in opened] == [access]
    bad = client.get("/v1/privacy/requests?status=pending", headers=people["admin"])
    assert bad.status_code == 400
    assert bad.json()["error"]["errors"][0]["field"] == "status"
    assert client.get("/v1/privacy/requests", headers=people["read"]).status_code == 403
    with unit_of_work(engine, write=False) as session:
        audited = entries(session, subject_type="privacy_request", subject_id="list")
    assert [e.detail for e in audited][:1] == [{"status": "open", "count": 1}]


def test_an_export_that_cannot_be_written_leaves_the_request_open_and_a_done_one_exports_again(
    client: TestClient,
    engine: Engine,
    settings: Settings,
    people: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SEAMLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SEAMLINE_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(app, ["privacy", "request", "access", str(people["ada"])]).exit_code == 0
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be", encoding="utf-8")
    for unwritable in (blocker / "export.json", tmp_path / "missing" / "export.json", tmp_path):
        failed = runner.invoke(app, ["privacy", "complete", "1", "--output", str(unwritable)])
        assert failed.exit_code == 2, failed.output
        assert "cannot write the export" in failed.output
        assert "the request was not completed" in failed.output
        listed = orjson.loads(runner.invoke(app, ["privacy", "list", "--json"]).output)
        assert (listed["status"], listed["completed_at"]) == ("open", None)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")) == []
    with unit_of_work(engine, write=False) as session:
        reads = [e for e in entries(session, subject_type="profile", subject_id=people["ada"]) if e.action == "read"]
    assert reads == []  # nothing was exported, so nothing was read

    out = tmp_path / "export.json"
    assert runner.invoke(app, ["privacy", "complete", "1", "--output", str(out)]).exit_code == 0
    first = orjson.loads(out.read_bytes())
    done = orjson.loads(runner.invoke(app, ["privacy", "list", "--json"]).output)
    assert done["status"] == "done"
    out.unlink()  # the copy is lost: export it again
    again = runner.invoke(app, ["privacy", "complete", "1", "--output", str(out)])
    assert again.exit_code == 0, again.output
    assert orjson.loads(out.read_bytes())["events"] == first["events"]
    assert orjson.loads(runner.invoke(app, ["privacy", "list", "--json"]).output) == done
