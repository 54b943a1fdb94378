"""The decision API's answers to bad input: each names the field, and a key needs the decisions scope."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.api.decisions import DecisionOut
from seamline.audit.service import entries
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.decisions.service import Setup
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
    assert body["error"]["errors"][0]["field"] == "context.channel"  # type: ignore[index]  # the parsed JSON body is typed as object
    status, body = ask({"person": "shoe:42", "context": web})
    assert (status, body["error"]["errors"][0]["field"]) == (400, "person")  # type: ignore[index]  # the parsed JSON body is typed as object
    assert ask({"person": "user_id:u-nobody", "context": web})[0] == 404
    status, body = ask({"person": "user_id:u-ada", "context": web, "limit": 0})
    assert (status, body["error"]["errors"][0]["field"]) == (400, "limit")  # type: ignore[index]  # the parsed JSON body is typed as object
    assert ask({"person": "user_id:u-ada", "context": web}, {})[0] == 401
    assert ask({"person": "user_id:u-ada", "context": web}, _key(engine, "profiles:read"))[0] == 403
    status, body = ask({"person": "user_id:u-ada", "context": web, "limit": 1, "explain": True})
    assert status == 200
    assert [a["action"] for a in body["actions"]] == ["nps_survey"]  # type: ignore[index]  # the parsed JSON body is typed as object
    stopped = {n["action"]: n["rule"] for n in body["not_chosen"]}  # type: ignore[index]  # the parsed JSON body is typed as object
    assert stopped["card_offer"] == "consent"  # no marketing consent asked for on the web
    assert stopped["fraud_check"] == "eligibility"
    with unit_of_work(engine, write=False) as session:
        audited = entries(session, subject_type="profile", subject_id=ada)
    assert [(e.action, e.detail) for e in audited if "decision" in e.detail] == [("read", {"decision": "web"})]


def test_the_answer_leaves_the_explanation_behind_explain_and_is_the_documented_model_byte_for_byte(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    person(client, engine, settings)
    headers = _key(engine, "decisions")
    asked = {"person": "user_id:u-ada", "context": {"channel": "web"}}
    catalog = Setup.default(settings.consent).catalog
    for explain in (False, True):
        answer = client.post("/v1/decisions", json={**asked, "explain": explain}, headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        model = DecisionOut.model_validate(body)
        # orjson's bytes from plain values are pydantic's own rendering of the documented model.
        assert answer.content == model.model_dump_json(exclude_unset=True).encode()
        chosen = [a["action"] for a in body["actions"]]
        assert chosen
        assert all(a["reasons"] for a in body["actions"])
        if explain:  # every other action of the catalog, once, with the rule that stopped it
            stopped = [n["action"] for n in body["not_chosen"]]
            assert sorted(chosen + stopped) == sorted(a.name for a in catalog.actions)
            assert all(n["stage"] and n["rule"] and n["reason"] for n in body["not_chosen"])
        else:
            assert "not_chosen" not in body
