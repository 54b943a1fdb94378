"""Prefill says which fields the record already knows (value, source, age) so the form asks only the rest;
an access request exports a person's journeys; erasure removes their drafts and tokens."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.privacy.service import complete_access, erase_profile, open_request
from tests.journeys.support import journey_key, load_demo_definitions, ok, start
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send


def test_prefill_then_erasure(client: TestClient, engine: Engine, settings: Settings) -> None:
    load_demo_definitions(engine)
    headers = journey_key(engine)
    _, crm = make_source(engine, "crm", "crm")
    send(client, crm, {"type": "identify", "userId": "u-bo", "traits": {"email": "bo@example.com", "first_name": "Bo"}})
    drain(engine, settings)
    instance = start(client, headers, "open_checking_account", user_id="u-bo", channel="web")["instance_id"]
    url = f"/v1/journeys/{instance}/steps/about_you/draft"
    ok(client.put(url, json={"fields": {"last_name": "Berg"}, "channel": "web", "device": "laptop"}, headers=headers))

    prefill = ok(client.get(f"/v1/journeys/{instance}/steps/about_you/prefill", headers=headers))["fields"]
    by_key = {f["key"]: f for f in prefill}
    assert (by_key["email"]["value"], by_key["email"]["from"], by_key["email"]["source"]) == (
        "bo@example.com",
        "profile",
        "crm",
    )
    assert by_key["email"]["age_days"] >= 0
    assert (by_key["first_name"]["value"], by_key["first_name"]["source"]) == ("Bo", "crm")
    assert (by_key["last_name"]["value"], by_key["last_name"]["from"]) == ("Berg", "journey")
    assert by_key["phone"] == {"key": "phone", "trait": "phone", "required": False, "known": False}

    bo = profile_holding(engine, "user_id:u-bo")
    with unit_of_work(engine) as session:
        access = open_request(session, "access", bo, requested_by="dpo")
        exported = complete_access(session, access.id)
    [journey] = exported["journeys"]
    assert journey["instance_id"] == instance
    assert [(e["field"], e["value"], e["channel"]) for e in journey["entries"]] == [("last_name", "Berg", "web")]
    with unit_of_work(engine) as session:
        erasure = open_request(session, "erasure", bo, requested_by="dpo")
        result = erase_profile(session, erasure.id).result
    assert result["journey_entries_erased"] == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM journey_entries")).scalar() == 0
        kept = conn.execute(text("SELECT value_json FROM journey_entries WHERE value_json LIKE '%Berg%'")).all()
    assert kept == []
