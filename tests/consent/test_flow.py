"""Consent through the real path: tracking events, the worker, a wrong merge and its unmerge."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.config import Settings
from seamline.consent.policy import Reachability
from seamline.consent.service import history, may_contact_profile
from seamline.core.db import unit_of_work
from seamline.identity.service import merge_history
from seamline.pipeline.registry import Pipeline
from seamline.pipeline.replay import unmerge
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send

EMAIL_OK = {"email": Reachability(reachable=True, reason="address on file")}


def test_a_merge_never_grants_and_an_unmerge_gives_each_side_its_own_choices(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    _, web = make_source(engine, "web", "web")
    send(
        client,
        web,
        {"type": "identify", "userId": "u-ada", "traits": {"email": "ada@example.com"}},
        {
            "type": "track",
            "userId": "u-ada",
            "event": "Consent Updated",
            "properties": {"purpose": "marketing", "channel": "email", "value": "denied"},
        },
        {
            "type": "track",
            "anonymousId": "bob-phone",
            "event": "Consent Updated",
            "properties": {"purpose": "marketing", "channel": "email", "granted": True},
        },
    )
    drain(engine, settings)
    ada, bob = profile_holding(engine, "user_id:u-ada"), profile_holding(engine, "anonymous_id:bob-phone")
    config = settings.consent
    with unit_of_work(engine, write=False) as session:
        assert may_contact_profile(session, bob, "marketing", "email", reachability=EMAIL_OK, config=config).allowed
        bob_history = [(c.id, c.value) for c in history(session, bob)]

    # A bad integration joins Bob's device to Ada: Bob's grant must not let anyone email Ada offers.
    send(client, web, {"type": "page", "userId": "u-ada", "anonymousId": "bob-phone", "name": "Home"})
    drain(engine, settings)
    with unit_of_work(engine, write=False) as session:
        decision = may_contact_profile(session, ada, "marketing", "email", reachability=EMAIL_OK, config=config)
        assert not decision.allowed
        assert decision.conflict
        merge = merge_history(session, ada)[-1]

    with unit_of_work(engine) as session:
        unmerge(session, merge.id, Pipeline(settings.identity, config), actor="test", reason="wrong device")
    with unit_of_work(engine, write=False) as session:
        assert [(c.id, c.value) for c in history(session, bob)] == bob_history
        assert may_contact_profile(session, bob, "marketing", "email", reachability=EMAIL_OK, config=config).allowed
        ada_now = may_contact_profile(session, ada, "marketing", "email", reachability=EMAIL_OK, config=config)
        assert not ada_now.allowed
        assert not ada_now.conflict
