"""The issue's story: phone (anonymous) saves two steps → the laptop, signed in, resumes with the data → an agent
completes the income step → the web completes the journey; completed once, each step's channel recorded."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.assessment.service import Assessment
from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.core.clock import isoformat_z
from seamline.core.db import unit_of_work
from seamline.journeys import actions
from seamline.journeys.service import collection_counts, journeys_of
from seamline.pipeline.registry import Pipeline
from tests.journeys.support import complete, journey_key, load_demo_definitions, ok, start, steps_by_key
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send

ABOUT = {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"}
PROPERTY = {"property_value": 450000, "loan_amount": 300000}


def test_phone_laptop_agent_web(client: TestClient, engine: Engine, settings: Settings) -> None:
    load_demo_definitions(engine)
    headers = journey_key(engine)
    _, web = make_source(engine, "web", "web")
    # Ann is a customer: signed in on the web before, with her email on file.
    send(client, web, {"type": "identify", "userId": "u-ann", "traits": {"email": "ann@example.com"}})
    drain(engine, settings)

    # On the train, not signed in: the phone's app starts the application and completes two steps.
    phone = {"anonymous_id": "phone-1", "channel": "mobile", "device": "phone"}
    begun = start(client, headers, "apply_for_mortgage", **phone)
    instance = begun["instance_id"]
    assert begun["current_step"] == "about_you"
    complete(client, headers, instance, "about_you", ABOUT, channel="mobile", device="phone")
    after_two = complete(client, headers, instance, "property", PROPERTY, channel="mobile", device="phone")
    assert after_two["current_step"] == "income"

    # At home on the laptop, signed in: the backend asks for Ann's open journeys and finds the phone's, with data.
    send(client, web, {"type": "identify", "userId": "u-ann", "anonymousId": "laptop-1"})
    drain(engine, settings)
    found = ok(client.get("/v1/journeys", params={"user_id": "u-ann"}, headers=headers))["journeys"]
    assert [j["instance_id"] for j in found] == [instance]
    steps = steps_by_key(found[0])
    assert found[0]["current_step"] == "income"
    assert {f["key"]: f["value"] for f in steps["property"]["fields"]} == {**PROPERTY, "term_years": None}
    assert steps["about_you"]["completed"]["channel"] == "mobile"
    assert steps["about_you"]["completed"]["device"] == "phone"

    # She calls the bank: the agent completes the income step with her on the phone.
    with unit_of_work(engine) as session:
        actor = actions.Actor("call-center", agent="alex")
        pipeline = Pipeline(settings.identity, settings.consent, settings.traits)
        actions.save(
            session, pipeline, instance, "income", {"employer": "Acme", "annual_income": 90000}, actor, complete=True
        )

    # Back on the web, she uploads the documents and accepts the offer.
    complete(client, headers, instance, "income_documents", {"documents_uploaded": True}, channel="web")
    done = complete(client, headers, instance, "offer", {"offer_accepted": True}, channel="web", device="laptop")
    assert done["status"] == "completed"
    completed_at = done["completed_at"]
    by_step = {k: (s["completed"]["channel"], s["completed"]["by"]) for k, s in steps_by_key(done).items()}
    assert by_step == {
        "about_you": ("mobile", "customer"),
        "property": ("mobile", "customer"),
        "income": ("call-center", "agent"),
        "income_documents": ("web", "customer"),
        "offer": ("web", "customer"),
    }
    assert steps_by_key(done)["income"]["completed"]["agent"] == "alex"

    # An app that also announces the completion does not count it twice.
    props = {"journey": "apply_for_mortgage", "instance_id": instance}
    send(client, web, {"type": "track", "userId": "u-ann", "event": "Journey Completed", "properties": props})
    drain(engine, settings)
    ann = profile_holding(engine, "user_id:u-ann")
    with unit_of_work(engine, write=False) as session:
        mine = journeys_of(session, ann)
        assert [(j.public_id, j.status) for j in mine] == [(instance, "completed")]
        assert mine[0].completed_at is not None
        assert isoformat_z(mine[0].completed_at) == completed_at  # the second announcement changed nothing
        counts = {(c.step, c.field): c for c in collection_counts(session)}
    # Her email was on file already (and agreed); her names were not.
    assert (counts[("about_you", "email")].already_held, counts[("about_you", "email")].disagreed) == (1, 0)
    assert counts[("about_you", "first_name")].already_held == 0
    assert counts[("property", "loan_amount")].asked == 1
    # The communications assessment reports it as redundant collection (docs/assessment.md), from the same counters.
    reports = Assessment(engine, Catalog(settings.email.templates_dir), settings.assessment, collection_counts)
    asked_again = [r for r in reports.redundancy() if r.kind == "journey"]
    assert [(r.place, r.field, r.asked, r.already_held) for r in asked_again] == [
        ("the apply_for_mortgage journey at step about_you", "email", 1, 1)
    ]
