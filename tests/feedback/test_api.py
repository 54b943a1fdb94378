"""The feedback API: keys and scopes, a survey sent and answered through it, bad batches refused by index and
field with nothing recorded, answers tracked as `Survey Answered` events by any SDK, and a person's answers in
their export and gone with their erasure."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from seamline.access.service import create_api_key
from seamline.audit.service import entries
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.privacy.service import erase_profile, export_profile, open_request
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send


def _key(engine: Engine, *scopes: str) -> dict[str, str]:
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, "crm-" + "-".join(scopes).replace(":", "."), list(scopes))
    return {"Authorization": f"Bearer {key}"}


def _people(client: TestClient, engine: Engine, settings: Settings) -> tuple[str, int, int]:
    _, write = make_source(engine, "website", "web")
    send(
        client,
        write,
        {"type": "identify", "userId": "u-ada", "traits": {"email": "ada@example.com", "first_name": "Ada"}},
        {"type": "identify", "userId": "u-bob", "traits": {"email": "bob@example.com", "first_name": "Bob"}},
    )
    drain(engine, settings)
    return write, profile_holding(engine, "user_id:u-ada"), profile_holding(engine, "user_id:u-bob")


def test_keys_need_the_feedback_scopes(client: TestClient, engine: Engine) -> None:
    body = {"answers": [{"survey": "csat_case", "score": 5, "profile_id": 1}]}
    assert client.post("/v1/feedback/answers", json=body).status_code == 401
    reader = _key(engine, "feedback:read")
    assert client.post("/v1/feedback/answers", json=body, headers=reader).status_code == 403
    assert client.get("/v1/feedback/rollups", headers=_key(engine, "profiles:read")).status_code == 403
    assert client.get("/v1/feedback/rollups", headers=reader).status_code == 200
    assert client.get("/v1/profiles/1/feedback", headers=_key(engine, "feedback:write")).status_code == 403


def test_a_survey_sent_and_answered_through_the_api(client: TestClient, engine: Engine, settings: Settings) -> None:
    _write, ada, _bob = _people(client, engine, settings)
    writer, reader = _key(engine, "feedback:write"), _key(engine, "feedback:read")
    sent = client.post(
        "/v1/feedback/invitations",
        headers=writer,
        json={"profile_id": ada, "survey": "csat_branch", "about": {"branch": "Leeds", "staff": "priya"}},
    )
    assert sent.status_code == 201, sent.text
    invitation = sent.json()
    assert invitation["sent"] is True
    assert (invitation["channel"], invitation["snapshot"]["agent"]) == ("email", "priya")  # no phone: email
    again = client.post("/v1/feedback/invitations", headers=writer, json={"profile_id": ada, "survey": "csat_case"})
    assert again.json()["sent"] is False
    assert again.json()["skipped"].startswith("cool-down")
    answered = client.post(
        "/v1/feedback/answers",
        headers=writer,
        json={
            "answers": [
                {
                    "survey": "csat_branch",
                    "score": 2,
                    "comment": "Queue too long",
                    "invitation_id": invitation["invitation_id"],
                },
            ]
        },
    )
    assert answered.status_code == 201, answered.text
    [answer] = answered.json()["answers"]
    assert (answer["via"], answer["snapshot"]["context"]["branch"], answer["task_id"] is not None) == (
        "api",
        "Leeds",
        True,
    )
    twice = client.post(
        "/v1/feedback/answers",
        headers=writer,
        json={
            "answers": [
                {"survey": "csat_branch", "score": 5, "invitation_id": invitation["invitation_id"]},
            ]
        },
    )
    assert twice.status_code == 409
    listed = client.get(f"/v1/profiles/{ada}/feedback", headers=reader)
    assert [a["id"] for a in listed.json()["answers"]] == [answer["id"]]
    rollups = client.get("/v1/feedback/rollups?by=agent", headers=reader).json()
    assert [(r["key"], r["answers"], r["unhappy"]) for r in rollups["rows"]] == [("priya", 1, 1)]
    trend = client.get("/v1/feedback/trend?bucket=week", headers=reader).json()
    assert [(p["kind"], p["answers"], p["score"]) for p in trend["points"]] == [("csat", 1, 0.0)]
    with unit_of_work(engine, write=False) as session:
        audited = entries(session, subject_type="profile", subject_id=ada, limit=20)
    assert {"survey_invitation", "survey_answer"} <= {k for e in audited for k in e.detail}
    assert any(e.action == "read" and e.detail.get("view") == "feedback" for e in audited)


def test_a_bad_batch_is_refused_by_index_and_field_and_records_nothing(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    _write, ada, _bob = _people(client, engine, settings)
    writer = _key(engine, "feedback:write")
    answers: list[dict[str, Any]] = [
        {"survey": "csat_case", "score": 5, "profile_id": ada},
        {"survey": "happiness", "score": 5, "profile_id": ada},
        {"survey": "nps_journey", "score": 11, "profile_id": ada},
        {"survey": "ces_message", "score": 3},
    ]
    refused = client.post("/v1/feedback/answers", headers=writer, json={"answers": answers})
    assert refused.status_code == 400
    problems = [(e["index"], e["field"], e["code"]) for e in refused.json()["error"]["errors"]]
    assert problems == [(1, "survey", "unknown"), (2, "score", "invalid"), (3, "profile_id", "required")]
    wrong_type = client.post(
        "/v1/feedback/answers",
        headers=writer,
        json={"answers": [{"survey": "csat_case", "score": "five", "profile_id": ada}]},
    )
    assert wrong_type.status_code == 400
    assert wrong_type.json()["error"]["errors"][0]["field"] == "answers.0.score"
    assert client.post("/v1/feedback/answers", headers=writer, json={"answers": []}).status_code == 400
    reader = _key(engine, "feedback:read")
    assert client.get("/v1/feedback/rollups?by=colour", headers=reader).status_code == 400
    assert client.get("/v1/feedback/trend?bucket=month", headers=reader).status_code == 400
    assert client.get("/v1/feedback/trend?days=0", headers=reader).status_code == 400
    assert client.get(f"/v1/profiles/{ada}/feedback?limit=100000", headers=reader).status_code == 400
    unknown = client.post("/v1/feedback/invitations", headers=writer, json={"profile_id": ada, "survey": "nope"})
    assert (unknown.status_code, unknown.json()["error"]["errors"][0]["field"]) == (400, "survey")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM survey_answers")).scalar() == 0


def test_an_answer_tracked_by_any_sdk_is_recorded_once_and_goes_with_erasure(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    write, ada, bob = _people(client, engine, settings)
    answered = {
        "type": "track",
        "userId": "u-ada",
        "event": "Survey Answered",
        "messageId": "sa-1",
        "properties": {"survey": "nps_journey", "score": 3, "comment": "Too many forms"},
    }
    send(
        client,
        write,
        answered,
        {"type": "track", "userId": "u-bob", "event": "Survey Answered", "properties": {"survey": "nps_journey"}},
        {"type": "track", "userId": "u-bob", "event": "Survey Answered", "properties": {"survey": "x", "score": 1}},
        {
            "type": "track",
            "userId": "u-bob",
            "event": "Survey Answered",
            "properties": {"survey": "ces_message", "score": 6.0},
        },
    )
    drain(engine, settings)
    send(client, write, answered)  # the same message again: deduplicated by the inbox, not answered twice
    drain(engine, settings)
    reader = _key(engine, "feedback:read")
    [ada_answer] = client.get(f"/v1/profiles/{ada}/feedback", headers=reader).json()["answers"]
    assert (ada_answer["via"], ada_answer["score"], ada_answer["task_id"] is not None) == ("event", 3, True)
    [bob_answer] = client.get(f"/v1/profiles/{bob}/feedback", headers=reader).json()["answers"]
    assert (bob_answer["survey"], bob_answer["score"]) == ("ces_message", 6)  # the two bad events left aside

    with unit_of_work(engine) as session:
        exported = export_profile(session, ada)
        request = open_request(session, "erasure", ada, requested_by="dpo")
        result = erase_profile(session, request.id).result
    assert [a["comment"] for a in exported["survey_answers"]] == ["Too many forms"]
    assert result is not None
    assert result["survey_rows_erased"] == 1
    with engine.connect() as conn:
        left = conn.execute(text("SELECT profile_id FROM survey_answers")).scalars().all()
    assert left == [bob]
