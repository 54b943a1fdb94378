"""The decision API's answers to bad input: each names the field, and a key needs the decisions scope."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.audit.service import entries
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.decisions.test_policy import _key
from tests.support.people import person


def test_bad_requests_name_the_field_and_the_scope_is_required(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    ada = person(client, engine, settings)
    headers = _key(engine, "decisions")

    def ask(body: dict[str, object], with_headers: dict[str, str] = headers) -> tuple[int, object]:
        answer = client.post("/v1/decisions", json=body, headers=with_headers)
        return answer.status_code, answer.json()

    web = {"channel": "web"}
    status, body = ask({"person": "user_id:u-ada", "context": {"channel": "fax"}})
    assert status == 400
    assert body["error"]["errors"][0]["field"] == "context.channel"  # type: ignore[index]
    status, body = ask({"person": "shoe:42", "context": web})
    assert (status, body["error"]["errors"][0]["field"]) == (400, "person")  # type: ignore[index]
    assert ask({"person": "user_id:u-nobody", "context": web})[0] == 404
    status, body = ask({"person": "user_id:u-ada", "context": web, "limit": 0})
    assert (status, body["error"]["errors"][0]["field"]) == (400, "limit")  # type: ignore[index]
    assert ask({"person": "user_id:u-ada", "context": web}, {})[0] == 401
    assert ask({"person": "user_id:u-ada", "context": web}, _key(engine, "profiles:read"))[0] == 403
    status, body = ask({"person": "user_id:u-ada", "context": web, "limit": 1})
    assert status == 200
    assert [a["action"] for a in body["actions"]] == ["nps_survey"]  # type: ignore[index]
    stopped = {n["action"]: n["rule"] for n in body["not_chosen"]}  # type: ignore[index]
    assert stopped["card_offer"] == "consent"  # no marketing consent asked for on the web
    assert stopped["fraud_check"] == "eligibility"
    with unit_of_work(engine, write=False) as session:
        audited = entries(session, subject_type="profile", subject_id=ada)
    assert [(e.action, e.detail) for e in audited if "decision" in e.detail] == [("read", {"decision": "web"})]
