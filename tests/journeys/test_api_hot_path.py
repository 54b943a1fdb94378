"""The journey API's hot path: a save planned on the held read connection and committed by the save writer writes
exactly what the ORM's way writes (entries, the instance's progress, the event for the worker, the audit entry); a
save whose journey changed after it was read writes nothing and is made again the ORM's way; a resume is read on
the held connection and audited."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from seamline.audit.models import AuditEntry
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.core.prepared import read_snapshot
from seamline.journeys import actions, installed
from seamline.journeys.writer import SaveWriter
from seamline.pipeline.registry import Pipeline
from tests.journeys.support import complete, journey_key, load_demo_definitions, ok, start, steps_by_key
from tests.support.flows import drain, profile_holding

_ENTRIES = text(
    "SELECT step, kind, field, value_json, channel, device, actor_kind, actor, already_held, disagreed "
    "FROM journey_entries e JOIN journey_instances i ON i.id = e.instance_id WHERE i.public_id = :p ORDER BY e.id"
)


def _entries(engine: Engine, public_id: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(_ENTRIES, {"p": public_id})]


def _progress(engine: Engine, public_id: str) -> tuple[Any, ...]:
    with engine.connect() as conn:
        query = text("SELECT status, current_step FROM journey_instances WHERE public_id = :p")
        return tuple(conn.execute(query, {"p": public_id}).one())


def _events(engine: Engine, public_id: str) -> list[dict[str, Any]]:
    """The stored events of an instance's saves: name, step, fields, context and whether the entries name it."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, payload, (SELECT count(*) FROM journey_entries WHERE event_id = inbox_events.id) "
                "FROM inbox_events ORDER BY id"
            )
        ).all()
    out = []
    for event_id, payload, entries in rows:
        message = orjson.loads(payload)
        props = message.get("properties", {})
        if props.get("instance_id") == public_id and message.get("event") != "Journey Started":
            out.append(
                {"event": message["event"], "step": props.get("step"), "fields": props.get("fields"),
                 "context": message["context"], "entries": int(entries), "id": event_id}
            )  # fmt: skip
    return out


def test_a_save_through_the_api_writes_what_the_orms_way_writes(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    load_demo_definitions(engine)
    headers = journey_key(engine)
    fast = start(client, headers, "apply_for_mortgage", user_id="u-ann", channel="mobile")["instance_id"]
    slow = start(client, headers, "apply_for_mortgage", user_id="u-bob", channel="mobile")["instance_id"]
    about = {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"}
    for instance in (fast, slow):  # the first step through the whole pipeline (an email: identity may link)
        complete(client, headers, instance, "about_you", about, channel="mobile")
    saves = client.app.state.journeys.saves  # type: ignore[attr-defined]  # TestClient.app is typed as a bare ASGI app, without Starlette's state
    commits = saves.commits
    fields = {"property_value": 450000, "loan_amount": 300000}
    url = f"/v1/journeys/{fast}/steps/property/draft"
    answer = ok(client.put(url, json={"fields": fields, "channel": "web", "device": "laptop"}, headers=headers))
    assert saves.commits == commits + 1  # written by the save writer
    given = {f["key"]: f["value"] for f in steps_by_key(answer)["property"]["fields"]}
    assert given == {"property_value": 450000, "loan_amount": 300000, "term_years": None}
    assert steps_by_key(answer)["property"]["fields"][0]["given"]["device"] == "laptop"

    pipeline: Pipeline = client.app.state.profiles.identity  # type: ignore[attr-defined]  # TestClient.app is typed as a bare ASGI app, without Starlette's state
    with unit_of_work(engine) as session:  # the ORM's way, for the other customer
        actions.save(session, pipeline, slow, "property", fields, actions.Actor("web", "laptop"), complete=False)
    assert _entries(engine, fast) == _entries(engine, slow)
    assert _progress(engine, fast) == _progress(engine, slow) == ("open", "property")
    [fast_event], [slow_event] = _events(engine, fast)[1:], _events(engine, slow)[1:]
    assert fast_event["entries"] == 2  # the entries name the event: the worker does not apply it again
    assert {**fast_event, "id": 0} == {**slow_event, "id": 0}

    ann = profile_holding(engine, "user_id:u-ann")
    with unit_of_work(engine, write=False) as session:
        audited = session.scalars(select(AuditEntry).where(AuditEntry.subject_id == str(ann))).all()
    changes = [a.detail for a in audited if a.action == "change" and a.detail.get("step") == "property"]
    assert changes == [{"journey": "apply_for_mortgage", "instance": fast, "step": "property", "completed": False}]

    # Completing through the hot path moves the journey on; the worker then applies neither save again.
    done = complete(client, headers, fast, "property", {"term_years": 25}, channel="web")
    assert saves.commits == commits + 2
    assert (done["current_step"], steps_by_key(done)["property"]["status"]) == ("income", "completed")
    before = len(_entries(engine, fast))
    drain(engine, settings)
    assert len(_entries(engine, fast)) == before == 8  # about_you: 3 fields and the step; property: 3 and the step
    assert _progress(engine, fast) == ("open", "income")
    read = ok(client.get(f"/v1/journeys/{fast}", headers=headers))
    assert steps_by_key(read)["property"]["completed"]["channel"] == "web"


def test_a_save_whose_journey_changed_since_it_was_read_writes_nothing(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    load_demo_definitions(engine)
    headers = journey_key(engine)
    instance = start(client, headers, "apply_for_mortgage", user_id="u-cy", channel="web")["instance_id"]
    pipeline: Pipeline = client.app.state.profiles.identity  # type: ignore[attr-defined]  # TestClient.app is typed as a bare ASGI app, without Starlette's state
    sources = client.app.state.profiles.source_names.get()  # type: ignore[attr-defined]  # TestClient.app is typed as a bare ASGI app, without Starlette's state
    actor = actions.Actor("web", "phone")
    planned = []
    for amount in (1, 2):  # both planned on the same state, as two requests at the same moment would be
        with read_snapshot(engine) as reads:
            plan = actions.plan_save(
                reads, pipeline, installed.running_definitions(reads), instance, "about_you",
                {"first_name": f"Cy{amount}"}, actor, complete=False, person=None, known_sources=sources,
            )  # fmt: skip
        assert plan is not None
        planned.append(plan.write)
    writer = SaveWriter(engine)
    writer.start()
    try:

        async def both() -> None:
            for write in planned:
                await writer.submit(write)

        asyncio.run(both())
    finally:
        writer.stop()
    assert [w.is_stale for w in planned] == [False, True]
    assert [e[3] for e in _entries(engine, instance)] == ['"Cy1"']  # nothing of the stale one
    assert [e["fields"] for e in _events(engine, instance)] == [{"first_name": "Cy1"}]

    # Through the API, a save on a journey that moved on is still answered, the ORM's way if need be.
    url = f"/v1/journeys/{instance}/steps/about_you/draft"
    answer = ok(client.put(url, json={"fields": {"first_name": "Cyd"}, "channel": "web"}, headers=headers))
    assert {f["key"]: f["value"] for f in steps_by_key(answer)["about_you"]["fields"]}["first_name"] == "Cyd"


def test_bad_input_on_the_hot_path_is_refused_by_field_and_writes_nothing(client: TestClient, engine: Engine) -> None:
    load_demo_definitions(engine)
    headers = journey_key(engine)
    instance = start(client, headers, "apply_for_mortgage", user_id="u-dee", channel="web")["instance_id"]
    url = f"/v1/journeys/{instance}/steps/property/draft"
    refused = client.put(url, json={"fields": {"colour": "red"}, "channel": "web"}, headers=headers)
    assert refused.status_code == 400
    assert [e["field"] for e in refused.json()["error"]["errors"]] == ["fields.colour"]
    other = start(client, headers, "apply_for_mortgage", user_id="u-eli", channel="web")["instance_id"]
    body = {"fields": {"loan_amount": 1}, "channel": "web", "user_id": "u-eli"}
    refused = client.put(url, json=body, headers=headers)
    assert [e["field"] for e in refused.json()["error"]["errors"]] == ["user_id"]
    assert client.get(f"/v1/journeys/{instance}/steps/nope/prefill", headers=headers).status_code == 200
    missing = client.put("/v1/journeys/ji_nobody/steps/property/draft", json={"channel": "web"}, headers=headers)
    assert missing.status_code == 404
    assert _entries(engine, instance) == []
    assert _entries(engine, other) == []


def test_a_resume_lists_the_persons_open_journeys_and_is_audited(client: TestClient, engine: Engine) -> None:
    load_demo_definitions(engine)
    headers = journey_key(engine)
    instance = start(client, headers, "apply_for_mortgage", user_id="u-fay", channel="web")["instance_id"]
    ok(client.put(f"/v1/journeys/{instance}/steps/about_you/draft", json={"fields": {"first_name": "Fay"},
                  "channel": "web"}, headers=headers))  # fmt: skip
    found = ok(client.get("/v1/journeys", params={"user_id": "u-fay"}, headers=headers))["journeys"]
    assert [(j["instance_id"], j["current_step"]) for j in found] == [(instance, "about_you")]
    assert steps_by_key(found[0])["about_you"]["fields"][0]["value"] == "Fay"
    assert ok(client.get("/v1/journeys", params={"user_id": "u-nobody"}, headers=headers)) == {"journeys": []}
    fay = profile_holding(engine, "user_id:u-fay")
    with unit_of_work(engine, write=False) as session:
        audited = session.scalars(select(AuditEntry).where(AuditEntry.subject_id == str(fay))).all()
    assert [a.detail for a in audited if a.action == "read"] == [{"view": "journeys"}]
