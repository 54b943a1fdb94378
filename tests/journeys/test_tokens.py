"""Resume tokens open only their own journey, refuse after expiry or revocation, cannot be guessed or altered,
and no write key or key without the journey scopes reads a draft."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.errors import Unauthorized
from seamline.journeys import tokens
from tests.journeys.support import journey_key, load_demo_definitions, ok, start, steps_by_key
from tests.support.builders import make_source
from tests.support.flows import drain, send


def _draft(client: TestClient, headers: dict[str, str], instance: str, fields: dict[str, object]) -> None:
    url = f"/v1/journeys/{instance}/steps/about_you/draft"
    ok(client.put(url, json={"fields": fields, "channel": "web"}, headers=headers))


def test_a_resume_token_opens_its_own_journey_only_until_it_expires_or_is_revoked(
    client: TestClient, engine: Engine
) -> None:
    load_demo_definitions(engine)
    headers = journey_key(engine)
    mine = start(client, headers, "open_checking_account", anonymous_id="visitor-1", channel="web")["instance_id"]
    theirs = start(client, headers, "open_checking_account", anonymous_id="visitor-2", channel="web")["instance_id"]
    _draft(client, headers, mine, {"first_name": "Mia"})
    _draft(client, headers, theirs, {"first_name": "Theo"})
    issued = ok(client.post(f"/v1/journeys/{mine}/resume-tokens", json={"hours": 2}, headers=headers), 201)
    token = issued["token"]

    opened = ok(client.get("/v1/journeys/resume", headers={"X-Resume-Token": token}))
    assert opened["instance_id"] == mine
    assert steps_by_key(opened)["about_you"]["fields"][0]["value"] == "Mia"
    # The holder saves field by field, as the journey's own person.
    url = "/v1/journeys/resume/steps/about_you/draft"
    saved = ok(
        client.put(url, json={"fields": {"last_name": "Ng"}, "channel": "mobile"}, headers={"X-Resume-Token": token})
    )
    assert {f["key"]: f["value"] for f in steps_by_key(saved)["about_you"]["fields"]}["last_name"] == "Ng"

    # Guessing, altering or forging fails, and says no more than "not valid".
    body, _, signature = token.partition(".")
    altered = body[:-1] + ("A" if body[-1] != "A" else "B") + "." + signature
    for bad in ("", "jrt_guess", tokens.PREFIX + "x" * 32 + ".sig", altered, token + "x"):
        response = client.get("/v1/journeys/resume", headers={"X-Resume-Token": bad})
        assert response.status_code == 401, bad
        assert "Theo" not in response.text

    # Expiry, with the clock moved on.
    with unit_of_work(engine, write=False) as session:
        assert tokens.redeem(session, token, secret=client.app.state.journeys.secret, now=utcnow()).public_id == mine
        with pytest.raises(Unauthorized, match="expired"):
            tokens.redeem(session, token, secret=client.app.state.journeys.secret, now=utcnow() + timedelta(hours=3))

    # Revocation.
    assert ok(client.delete(f"/v1/journeys/{mine}/resume-tokens", headers=headers)) == {"revoked": 1}
    assert client.get("/v1/journeys/resume", headers={"X-Resume-Token": token}).status_code == 401


def test_no_write_key_or_unscoped_key_reads_a_draft(client: TestClient, engine: Engine) -> None:
    load_demo_definitions(engine)
    headers = journey_key(engine)
    instance = start(client, headers, "open_checking_account", anonymous_id="visitor-3", channel="web")["instance_id"]
    _draft(client, headers, instance, {"first_name": "Zoe"})
    _, write_key = make_source(engine, "web", "web")
    for attempt in (
        client.get(f"/v1/journeys/{instance}", headers={"Authorization": f"Bearer {write_key}"}),
        client.get(f"/v1/journeys/{instance}", auth=(write_key, "")),
        client.get("/v1/journeys/resume", headers={"X-Resume-Token": write_key}),
        client.get("/v1/journeys", params={"anonymous_id": "visitor-3"}, auth=(write_key, "")),
    ):
        assert attempt.status_code == 401
        assert "Zoe" not in attempt.text
    cases_only = journey_key(engine, ("cases:read",))
    assert client.get(f"/v1/journeys/{instance}", headers=cases_only).status_code == 403
    read_only = journey_key(engine, ("journeys:read",))
    refused = client.put(
        f"/v1/journeys/{instance}/steps/about_you/draft", json={"fields": {}, "channel": "web"}, headers=read_only
    )
    assert refused.status_code == 403


def test_bad_input_names_the_field_and_changes_nothing(client: TestClient, engine: Engine) -> None:
    load_demo_definitions(engine)
    headers = journey_key(engine)
    instance = start(client, headers, "open_checking_account", anonymous_id="visitor-4", channel="web")["instance_id"]
    url = f"/v1/journeys/{instance}/steps/about_you/complete"
    refused = client.post(url, json={"fields": {"first_name": "Al", "shoe_size": 9}, "channel": "web"}, headers=headers)
    assert refused.status_code == 400
    fields = sorted(e["field"] for e in refused.json()["error"]["errors"])
    assert fields == ["fields.email", "fields.last_name", "fields.shoe_size"]
    after = ok(client.get(f"/v1/journeys/{instance}", headers=headers))
    assert steps_by_key(after)["about_you"]["fields"][0]["value"] is None
    unknown = client.post("/v1/journeys", json={"journey": "nope", "user_id": "u", "channel": "web"}, headers=headers)
    assert unknown.status_code == 400
    assert unknown.json()["error"]["errors"][0]["field"] == "journey"


def test_an_event_naming_someone_elses_instance_changes_nothing(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    load_demo_definitions(engine)
    headers = journey_key(engine)
    theirs = start(client, headers, "go_paperless", user_id="u-victim", channel="web")["instance_id"]
    _, web = make_source(engine, "web", "web")
    props = {"journey": "go_paperless", "step": "confirm_email", "instance_id": theirs, "email": "evil@example.com"}
    send(client, web, {"type": "track", "userId": "u-mallory", "event": "Journey Step Completed", "properties": props})
    drain(engine, settings)
    after = ok(client.get(f"/v1/journeys/{theirs}", headers=headers))
    assert after["current_step"] == "confirm_email"
    assert steps_by_key(after)["confirm_email"]["fields"][0]["value"] is None
    # Through the API, naming another customer is refused by field.
    url = f"/v1/journeys/{theirs}/steps/confirm_email/draft"
    body = {"fields": {"email": "evil@example.com"}, "channel": "web", "user_id": "u-mallory"}
    refused = client.put(url, json=body, headers=headers)
    assert refused.status_code == 400
    assert refused.json()["error"]["errors"][0]["field"] == "user_id"
