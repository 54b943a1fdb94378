"""A journey save that moves no identity is applied at once and left in the inbox for the worker, which resolves
the rest (the golden record learns the traits) and does not apply it twice; a save carrying an identifier goes
through the whole pipeline at once, so identity links the person before the answer."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.journeys.service import collection_counts
from seamline.profiles.service import golden_traits
from seamline.profiles.survivorship import SurvivorshipConfig
from tests.journeys.support import journey_key, load_demo_definitions, ok, start
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send


def _pending(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT payload FROM inbox_events WHERE processed_at IS NULL ORDER BY id"))
        return [str(r[0]) for r in rows]


def test_a_save_is_answered_at_once_and_resolved_by_the_worker_once(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    load_demo_definitions(engine)
    headers = journey_key(engine)
    _, web = make_source(engine, "web", "web")
    send(client, web, {"type": "identify", "userId": "u-eve", "traits": {"email": "eve@example.com"}})
    drain(engine, settings)
    instance = start(client, headers, "apply_for_mortgage", user_id="u-eve", channel="web")["instance_id"]
    about = {"first_name": "Eve", "last_name": "Ng"}
    url = f"/v1/journeys/{instance}/steps/about_you/draft"
    saved = ok(client.put(url, json={"fields": about, "channel": "web", "device": "laptop"}, headers=headers))
    given = {f["key"]: f["value"] for f in saved["steps"][0]["fields"]}
    assert (given["first_name"], given["last_name"]) == ("Eve", "Ng")
    [waiting] = _pending(engine)
    assert "Journey Step Saved" in waiting  # left for the worker: identity, the golden record, rules

    eve = profile_holding(engine, "user_id:u-eve")
    survivorship = SurvivorshipConfig()
    with unit_of_work(engine, write=False) as session:
        assert "first_name" not in {t.name for t in golden_traits(session, eve, {}, survivorship)}
    drain(engine, settings)
    with unit_of_work(engine, write=False) as session:
        learned = {t.name: t.value for t in golden_traits(session, eve, {}, survivorship)}
        counts = {(c.step, c.field): c.asked for c in collection_counts(session)}
    assert (learned["first_name"], learned["last_name"]) == ("Eve", "Ng")
    assert counts == {("about_you", "first_name"): 1, ("about_you", "last_name"): 1}  # not applied twice
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM journey_entries")).scalar() == 2
    read = ok(client.get(f"/v1/journeys/{instance}", headers=headers))
    assert {f["key"]: f["value"] for f in read["steps"][0]["fields"]}["first_name"] == "Eve"


def test_a_save_that_names_an_email_links_the_person_before_the_answer(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    load_demo_definitions(engine)
    headers = journey_key(engine)
    _, web = make_source(engine, "web", "web")
    send(client, web, {"type": "identify", "userId": "u-flo", "traits": {"email": "flo@example.com"}})
    drain(engine, settings)
    instance = start(client, headers, "apply_for_mortgage", anonymous_id="tablet-9", channel="mobile")["instance_id"]
    assert _pending(engine) == []
    url = f"/v1/journeys/{instance}/steps/about_you/draft"
    ok(client.put(url, json={"fields": {"email": "flo@example.com"}, "channel": "mobile"}, headers=headers))
    assert _pending(engine) == []  # resolved at once: identity may link the person
    assert profile_holding(engine, "anonymous_id:tablet-9") == profile_holding(engine, "user_id:u-flo")
