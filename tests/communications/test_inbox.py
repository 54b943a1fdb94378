"""The in-app inbox end to end: queued through the API, consent asked at send time, stored for the person when the
dispatcher settles it, read by the app's backend by any identifier with an inbox key, marked read (a `read`
outcome in the log), archived, exported and erased."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from seamline.access.service import create_api_key
from seamline.communications.service import view
from seamline.config import Settings
from seamline.consent.service import record_choice
from seamline.core.db import unit_of_work
from seamline.privacy.service import erase_profile, export_profile, open_request
from tests.communications.conftest import deliver
from tests.support.people import person

MESSAGE = {"first_name": "Ada", "topic": "Your new card", "message": "it is on its way <b>today</b>"}


def _key(engine: Engine, name: str, *scopes: str) -> dict[str, str]:
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, name, list(scopes))
    return {"Authorization": f"Bearer {key}"}


def _queue(client: TestClient, engine: Engine, profile_id: int, **extra: Any) -> str:
    writer = _key(engine, "crm", "profiles:write")
    body = {"template": "secure_message", "channel": "in_app", "data": MESSAGE, **extra}
    answer = client.post(f"/v1/profiles/{profile_id}/communications", json=body, headers=writer)
    assert answer.status_code == 202, answer.text
    assert answer.json()["channel"] == "in_app"
    return str(answer.json()["communication_id"])


def test_the_app_reads_its_customers_inbox_marks_a_message_read_and_archives_it(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    ada = person(client, engine, settings)
    grace = person(client, engine, settings, user_id="u-grace", email="grace@example.com")
    sent = _queue(client, engine, ada)
    reader, writer = _key(engine, "app", "inbox:read"), _key(engine, "app-write", "inbox:write")
    assert client.get("/v1/inbox", params={"identifier": "user_id:u-ada"}, headers=reader).json()["messages"] == []

    assert deliver(engine, settings) == 1

    inbox = client.get("/v1/inbox", params={"identifier": "email:Ada@Example.com"}, headers=reader)
    assert inbox.status_code == 200, inbox.text
    assert (inbox.json()["profile_id"], inbox.json()["unread"]) == (ada, 1)
    [message] = inbox.json()["messages"]
    assert (message["communication_id"], message["title"], message["read_at"]) == (sent, "Your new card", None)
    assert "it is on its way &lt;b&gt;today&lt;/b&gt;" in message["body"]  # the in_app body, autoescaped
    assert message["text"].startswith("Hello Ada, it is on its way <b>today</b>")
    with unit_of_work(engine, write=False) as session:
        logged = view(session, sent)
    assert (logged.status, logged.address) == ("delivered", "u-ada")

    others, hers = {"identifier": "user_id:u-grace"}, {"identifier": "user_id:u-ada"}
    assert client.post(f"/v1/inbox/{sent}/read", json=others, headers=writer).status_code == 404  # not Grace's
    assert client.post(f"/v1/inbox/{sent}/read", json=hers, headers=reader).status_code == 403  # a read-only key
    read = client.post(f"/v1/inbox/{sent}/read", json=hers, headers=writer)
    assert read.status_code == 200, read.text
    assert read.json()["read_at"] is not None
    client.post(f"/v1/inbox/{sent}/read", json=hers, headers=writer)  # again: no second outcome
    with unit_of_work(engine, write=False) as session:
        logged = view(session, sent)
    assert [o.outcome for o in logged.outcomes] == ["queued", "delivered", "read"]
    assert logged.status == "read"
    assert client.get("/v1/inbox", params={"identifier": "user_id:u-ada"}, headers=reader).json()["unread"] == 0

    archived = client.post(f"/v1/inbox/{sent}/archive", json=hers, headers=writer)
    assert archived.json()["archived_at"] is not None
    assert client.get("/v1/inbox", params={"identifier": "user_id:u-ada"}, headers=reader).json()["messages"] == []
    kept = client.get("/v1/inbox", params={"identifier": "user_id:u-ada", "include_archived": True}, headers=reader)
    assert [m["communication_id"] for m in kept.json()["messages"]] == [sent]
    with engine.connect() as conn:
        audited = conn.execute(
            text("SELECT action, count(*) FROM audit_log WHERE subject_id = :id GROUP BY action ORDER BY action"),
            {"id": str(ada)},
        ).all()
    assert {a for a, _ in audited} >= {"read", "change"}
    grace_inbox = client.get("/v1/inbox", params={"identifier": "user_id:u-grace"}, headers=reader).json()
    assert (grace_inbox["profile_id"], grace_inbox["messages"]) == (grace, [])


def test_inbox_bad_input_and_keys_without_the_scope_are_refused(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    person(client, engine, settings)
    reader = _key(engine, "app", "inbox:read")
    bad = client.get("/v1/inbox", params={"identifier": "nonsense"}, headers=reader)
    assert bad.status_code == 400
    assert [e["field"] for e in bad.json()["error"]["errors"]] == ["identifier"]
    assert client.get("/v1/inbox", params={"identifier": "user_id:nobody"}, headers=reader).status_code == 404
    profiles_key = _key(engine, "crm", "profiles:read")
    assert client.get("/v1/inbox", params={"identifier": "user_id:u-ada"}, headers=profiles_key).status_code == 403
    assert client.get("/v1/inbox", params={"identifier": "user_id:u-ada"}).status_code == 401


def test_an_opt_out_of_in_app_messages_made_after_queueing_keeps_the_inbox_empty(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    ada = person(client, engine, settings)
    sent = _queue(client, engine, ada)
    with unit_of_work(engine) as session:
        record_choice(
            session, ada, kind="consent", purpose="service", channel="in_app", value="denied", actor="test",
            surface="api", config=settings.consent,
        )  # fmt: skip
    deliver(engine, settings)
    reader = _key(engine, "app", "inbox:read")
    assert client.get("/v1/inbox", params={"identifier": "user_id:u-ada"}, headers=reader).json()["messages"] == []
    with unit_of_work(engine, write=False) as session:
        assert view(session, sent).status == "suppressed"


def test_a_template_without_the_channel_is_refused_naming_the_field(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    ada = person(client, engine, settings)
    writer = _key(engine, "crm", "profiles:write")
    body = {"template": "savings_offer", "channel": "in_app", "data": {"first_name": "Ada"}}
    answer = client.post(f"/v1/profiles/{ada}/communications", json=body, headers=writer)
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json()["error"]["errors"]] == ["channel"]


def test_an_access_export_holds_the_inbox_and_erasure_deletes_it(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    ada = person(client, engine, settings)
    sent = _queue(client, engine, ada)
    deliver(engine, settings)
    with unit_of_work(engine) as session:
        exported = export_profile(session, ada)
    assert [m["communication_id"] for m in exported["in_app_inbox"]] == [sent]

    with unit_of_work(engine) as session:
        request = open_request(session, "erasure", ada, requested_by="dpo")
        result = erase_profile(session, request.id).result
    assert result["in_app_messages_erased"] == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM in_app_messages")).scalar() == 0
