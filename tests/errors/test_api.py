"""The communication-errors API: scopes, a report from a case, errors by field and index, the queue, a problem's
blast radius, and the fix at first contact through a correction."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.access.service import create_api_key
from seamline.audit.service import entries
from seamline.communications.service import ExternalCommunication, log_external
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.errors.builders import log_run
from tests.support.people import person


def key(engine: Engine, *scopes: str) -> dict[str, str]:
    with unit_of_work(engine) as session:
        _view, secret = create_api_key(session, "key-" + "-".join(s.replace(":", "-") for s in scopes), list(scopes))
    return {"Authorization": f"Bearer {secret}"}


def test_reports_need_the_errors_scopes(client: TestClient, engine: Engine) -> None:
    body = {"communication_ids": ["x"], "field": "balance"}
    assert client.post("/v1/communication-errors", json=body).status_code == 401
    reader = key(engine, "errors:read")
    assert client.post("/v1/communication-errors", json=body, headers=reader).status_code == 403
    assert client.get("/v1/communication-errors", headers=key(engine, "cases:read")).status_code == 403


def test_a_report_from_a_case_answers_its_severity_clocks_and_next_steps(client: TestClient, engine: Engine) -> None:
    ids = log_run(engine, "nov", 12)
    writer, reader = key(engine, "errors:write"), key(engine, "errors:read")
    body = {"communication_ids": [ids[2]], "field": "recipient", "shown": "someone else's statement", "case_id": 9}
    made = client.post("/v1/communication-errors", json=body, headers=writer)
    assert made.status_code == 201, made.text
    error = made.json()
    assert (error["harm"], error["severity"], error["owner_team"], error["case_id"]) == (
        "privacy", "critical", "compliance", 9
    )  # fmt: skip
    assert error["regulatory_due_at"] is not None
    assert any("GDPR Art. 33" in step for step in error["next_steps"])
    listed = client.get("/v1/communication-errors", params={"severity": "critical"}, headers=reader).json()
    assert [e["id"] for e in listed["errors"]] == [error["id"]]
    with unit_of_work(engine, write=False) as session:
        audited = entries(session, subject_type="profile", subject_id=error["profile_id"])
    assert {a.action for a in audited} >= {"read", "change"}


def test_bad_batches_are_refused_by_field_and_index(client: TestClient, engine: Engine) -> None:
    ids = log_run(engine, "nov", 2)
    body = {
        "errors": [
            {"communication_ids": [ids[0]], "field": "balance"},
            {"communication_ids": ["missing"], "field": "balance"},
            {"communication_ids": [ids[1]], "field": "colour"},
        ]
    }
    refused = client.post("/v1/communication-errors/batch", json=body, headers=key(engine, "errors:write"))
    assert refused.status_code == 400
    found = {(e["index"], e["field"], e["code"]) for e in refused.json()["error"]["errors"]}
    assert found == {(1, "communication_ids", "not_found"), (2, "harm", "required")}
    listed = client.get("/v1/communication-errors", headers=key(engine, "errors:read")).json()
    assert listed["errors"] == []


def test_a_problem_lists_its_blast_radius_and_closes_with_a_cause(client: TestClient, engine: Engine) -> None:
    ids = log_run(engine, "nov", 30)
    writer, reader = key(engine, "errors:write"), key(engine, "errors:read")
    body = {"errors": [{"communication_ids": [ids[i]], "field": "balance"} for i in (1, 2, 3)]}
    made = client.post("/v1/communication-errors/batch", json=body, headers=writer).json()["errors"]
    problem_id = made[-1]["problem_id"]
    assert problem_id is not None
    radius = client.get(f"/v1/communication-problems/{problem_id}/blast-radius", headers=reader).json()
    assert (radius["total"], radius["reported"], radius["others"]) == (30, 3, 27)
    assert sum(r["is_reported"] for r in radius["recipients"]) == 3
    refused = client.post(
        f"/v1/communication-problems/{problem_id}/close",
        json={"root_cause": "", "corrective_action": "x"},
        headers=writer,
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["errors"][0]["field"] == "root_cause"
    closed = client.post(
        f"/v1/communication-problems/{problem_id}/close",
        json={"root_cause": "pence read as pounds", "corrective_action": "mapping fixed, batch re-sent"},
        headers=writer,
    )
    assert closed.json()["status"] == "closed"


def test_an_agent_fixes_a_misspelt_name_through_the_api(client: TestClient, engine: Engine, settings: Settings) -> None:
    ada = person(client, engine, settings)
    with unit_of_work(engine) as session:
        log_external(session, [ExternalCommunication("l-1", ada, "notice", "paper", "print-house")])
    writer = key(engine, "errors:write")
    made = client.post(
        "/v1/communication-errors", json={"communication_ids": ["l-1", "l-1"], "field": "first_name"}, headers=writer
    ).json()
    assert made["communication_ids"] == ["l-1"]
    fixing = {"traits": {"first_name": "Ada"}}
    assert client.post(f"/v1/communication-errors/{made['id']}/fix", json=fixing, headers=writer).status_code == 403
    writer = key(engine, "errors:write", "profiles:write")
    fixed = client.post(
        f"/v1/communication-errors/{made['id']}/fix", json={"traits": {"first_name": "Ada"}}, headers=writer
    )
    assert fixed.status_code == 200, fixed.text
    assert (fixed.json()["status"], fixed.json()["correction_event_id"] is not None) == ("fixed", True)
    again = client.post(
        f"/v1/communication-errors/{made['id']}/fix", json={"traits": {"first_name": "A"}}, headers=writer
    )
    assert again.status_code == 409


def test_a_wrong_balance_is_corrected_and_re_sent_through_the_api(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    ada = person(client, engine, settings)
    fields = {"first_name": "Ada", "product_name": "Current account", "balance": "£12.40"}
    with unit_of_work(engine) as session:
        log_external(
            session,
            [
                ExternalCommunication(
                    "s-9", ada, "statement", "email", "core", template="statement_ready", fields=fields
                )
            ],
        )
    reporter = key(engine, "errors:write")
    made = client.post(
        "/v1/communication-errors", json={"communication_ids": ["s-9"], "field": "balance"}, headers=reporter
    ).json()
    path = f"/v1/communication-errors/{made['id']}/resend"
    assert client.post(path, json={"value": "£1,240.00"}, headers=reporter).status_code == 403
    writer = key(engine, "errors:write", "profiles:write")
    assert client.post(path, json={"value": ""}, headers=writer).status_code in (400, 422)
    sent = client.post(path, json={"value": "£1,240.00"}, headers=writer)
    assert sent.status_code == 200, sent.text
    assert (sent.json()["status"], sent.json()["resent_communication_id"].startswith("msg_")) == ("resolved", True)
    assert client.post(path, json={"value": "£1,240.00"}, headers=writer).status_code == 409
