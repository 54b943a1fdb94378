"""The communications API: queue with an idempotency key, read the log, and the policy's answer after a bounce."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.access.service import create_api_key
from seamline.communications.config import EmailConfig
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.preferences.service import unsubscribe_link
from seamline.worker.dispatcher import build_dispatcher
from tests.support.people import person
from tests.support.smtp import smtp_server


def _headers(engine: Engine, *scopes: str) -> dict[str, str]:
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, "crm", list(scopes))
    return {"Authorization": f"Bearer {key}"}


def test_queue_with_an_idempotency_key_read_the_log_and_see_a_bounce_in_the_policy(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    ada = person(client, engine, settings)
    headers = _headers(engine, "profiles:read", "profiles:write")
    body = {"template": "account_notice", "data": {"first_name": "Ada", "change": "x"}, "source_system": "core"}
    first = client.post(f"/v1/profiles/{ada}/communications", json=body, headers={**headers, "Idempotency-Key": "k1"})
    again = client.post(f"/v1/profiles/{ada}/communications", json=body, headers={**headers, "Idempotency-Key": "k1"})
    assert first.status_code == 202, first.text
    assert again.status_code == 202
    assert again.json()["communication_id"] == first.json()["communication_id"]
    assert first.json()["status"] == "queued"

    missing = client.post(
        f"/v1/profiles/{ada}/communications", json={**body, "data": {"first_name": "Ada"}}, headers=headers
    )
    assert missing.status_code == 400
    assert missing.json()["error"]["errors"][0]["field"] == "data.change"
    unknown = client.post(f"/v1/profiles/{ada}/communications", json={**body, "template": "nope"}, headers=headers)
    assert unknown.status_code == 404

    with smtp_server() as (mailbox, port):
        mailbox.refused.add("ada@example.com")
        sending = settings.model_copy(update={"email": EmailConfig(smtp_port=port)})
        runner = build_dispatcher(engine, sending, unsubscribe_url=unsubscribe_link(sending))
        runner.drain()
        runner.stop()

    listed = client.get(f"/v1/profiles/{ada}/communications", headers=headers)
    assert listed.status_code == 200
    [item] = listed.json()
    assert item["status"] == "bounced_hard"
    assert [o["outcome"] for o in item["outcomes"]] == ["queued", "bounced_hard"]
    one = client.get(f"/v1/communications/{item['communication_id']}", headers=headers)
    assert one.json()["source_system"] == "core"
    assert client.get("/v1/communications/nope", headers=headers).status_code == 404
    assert client.get(f"/v1/profiles/{ada}/communications").status_code == 401

    decision = client.get(
        f"/v1/profiles/{ada}/may-contact", params={"purpose": "service", "channel": "email"}, headers=headers
    ).json()
    assert decision["allowed"] is False
    assert any("unreachable (bounced_hard)" in r for r in decision["reasons"])
