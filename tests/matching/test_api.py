"""The matching API: scopes, real-time match over HTTP, the review queue, and bad input answered as JSON naming the
field, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.access.service import create_api_key
from seamline.audit.service import entries
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.matching.model import TrainedModel
from seamline.matching.service import run_batch
from tests.matching.people import HANDMADE, KATHERINE, KATHRYN, background
from tests.matching.silos import import_silos, matching_context
from tests.matching.test_batch import _profile


def _key(engine: Engine, name: str, *scopes: str) -> dict[str, str]:
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, name, list(scopes))
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def world(
    client: TestClient, engine: Engine, settings: Settings, trained_model: TrainedModel, tmp_path: Path
) -> dict[str, dict[str, str]]:
    import_silos(engine, settings, [*HANDMADE, *background()], tmp_path / "silos")
    ctx = matching_context(settings, trained_model)
    with unit_of_work(engine) as session:
        run_batch(session, ctx)
    return {
        "reader": _key(engine, "agent-console", "matching:read"),
        "writer": _key(engine, "review-desk", "matching:read", "matching:write"),
        "profiles": _key(engine, "crm", "profiles:read"),
    }


def test_matching_needs_a_key_with_the_scope(client: TestClient, world: dict[str, dict[str, str]]) -> None:
    body = {"record": {"first_name": "Bill", "last_name": "Hartwell"}}
    assert client.post("/v1/match", json=body).status_code == 401
    assert client.post("/v1/match", json=body, headers=world["profiles"]).status_code == 403
    assert client.get("/v1/matching/reviews", headers=world["profiles"]).status_code == 403
    decision = client.post("/v1/matching/reviews/1/decision", json={"decision": "accept"}, headers=world["reader"])
    assert decision.status_code == 403


def test_match_over_http_answers_candidates_with_reasons(
    client: TestClient, engine: Engine, world: dict[str, dict[str, str]]
) -> None:
    body = {"record": {"first_name": "Wiliam", "last_name": "Hartwel", "date_of_birth": "1970-03-14"}, "limit": 3}
    answer = client.post("/v1/match", json=body, headers=world["reader"])
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["model_version"] == 1
    assert len(data["candidates"]) <= 3
    best = data["candidates"][0]
    assert best["profile_id"] == _profile(engine, "CHK-T1", "checking")
    assert {f["field"] for f in best["fields"]} >= {"first_name", "last_name", "date_of_birth"}
    with unit_of_work(engine, write=False) as session:
        audited = [e for e in entries(session, limit=50) if e.subject_type == "match"]
    assert audited
    assert best["profile_id"] in audited[0].detail["candidates"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"record": {"first_nam": "Ada"}}, "record.first_nam"),
        ({"record": {"first_name": 42}}, "record.first_name"),
        ({"record": {"first_name": "Ada"}, "limit": 0}, "limit"),
        ({"record": {}}, "record"),
        ({}, "record"),
    ],
)
def test_bad_match_input_is_answered_naming_the_field(
    client: TestClient, world: dict[str, dict[str, str]], body: dict[str, object], field: str
) -> None:
    answer = client.post("/v1/match", json=body, headers=world["reader"])
    assert answer.status_code == 400
    assert field in [e["field"] for e in answer.json()["error"]["errors"]]


def test_review_queue_over_http(client: TestClient, engine: Engine, world: dict[str, dict[str, str]]) -> None:
    queue = client.get("/v1/matching/reviews", headers=world["reader"])
    assert queue.status_code == 200
    katherine = _profile(engine, KATHERINE.record_key, "checking")
    kathryn = _profile(engine, KATHRYN.record_key, "mortgage")
    pair = next(
        r for r in queue.json()["reviews"] if {r["left_profile_id"], r["right_profile_id"]} == {katherine, kathryn}
    )
    one = client.get(f"/v1/matching/reviews/{pair['id']}", headers=world["reader"]).json()
    assert [f["field"] for f in one["fields"]][:3] == ["first_name", "last_name", "date_of_birth"]
    bad = client.post(
        f"/v1/matching/reviews/{pair['id']}/decision", json={"decision": "maybe"}, headers=world["writer"]
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["errors"][0]["field"] == "decision"
    assert client.get("/v1/matching/reviews?status=nope", headers=world["reader"]).status_code == 400
    assert client.get("/v1/matching/reviews/999999", headers=world["reader"]).status_code == 404
    done = client.post(
        f"/v1/matching/reviews/{pair['id']}/decision",
        json={"decision": "accept", "note": "same person"},
        headers=world["writer"],
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "accepted"
    assert done.json()["decided_by"] == "review-desk"
    again = client.post(
        f"/v1/matching/reviews/{pair['id']}/decision", json={"decision": "reject"}, headers=world["writer"]
    )
    assert again.status_code == 409


def test_the_queue_pages_likeliest_first(client: TestClient, world: dict[str, dict[str, str]]) -> None:
    everything = client.get("/v1/matching/reviews?order=likeliest&limit=500", headers=world["reader"]).json()
    probabilities = [r["probability"] for r in everything["reviews"]]
    assert len(probabilities) >= 2
    assert probabilities == sorted(probabilities, reverse=True)
    paged, after = [], 0
    while True:
        page = client.get(f"/v1/matching/reviews?order=likeliest&limit=1&after={after}", headers=world["reader"])
        paged += [r["id"] for r in page.json()["reviews"]]
        if page.json()["next"] is None:
            break
        after = page.json()["next"]
    assert paged == [r["id"] for r in everything["reviews"]]
    bad = client.get("/v1/matching/reviews?order=newest", headers=world["reader"])
    assert bad.status_code == 400
    assert bad.json()["error"]["errors"][0]["field"] == "order"
