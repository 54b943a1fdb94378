"""Identity resolution in the shape of real journeys, through the tracking API and the real worker."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.identity.repository import merges_of
from seamline.pipeline.registry import Pipeline
from seamline.pipeline.replay import unmerge
from seamline.profiles.service import event_ids_of
from tests.support.builders import make_source
from tests.support.flows import (
    active_profiles,
    conflicts,
    drain,
    identifiers_by_profile,
    profile_holding,
    send,
    snapshot,
)


def test_one_person_across_phone_laptop_call_center_and_crm(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    _, web = make_source(engine, "web", "web")
    _, calls = make_source(engine, "call-center", "call-center")
    _, crm = make_source(engine, "crm", "crm")
    send(client, web, {"type": "page", "anonymousId": "phone-1", "name": "Mortgages"})
    send(
        client,
        web,
        {
            "type": "identify",
            "anonymousId": "phone-1",
            "userId": "u-ada",
            "traits": {"email": " Ada@Example.COM ", "phone": "+1 415 555 0132", "name": "Ada Lovelace"},
        },
    )
    send(client, web, {"type": "page", "anonymousId": "laptop-7", "name": "Rates"})
    send(client, web, {"type": "track", "anonymousId": "laptop-7", "userId": "u-ada", "event": "Signed In"})
    send(client, calls, {"type": "identify", "anonymousId": "call-991", "traits": {"phone": "(415) 555-0132"}})
    send(
        client,
        crm,
        {
            "type": "identify",
            "anonymousId": "crm-export",
            "traits": {"email": "ada@example.com", "name": "Ada King"},
            "context": {"externalIds": [{"id": "C-77", "type": "crm_id", "collection": "users", "encoding": "none"}]},
        },
    )
    assert drain(engine, settings) == 6

    ada = profile_holding(engine, "user_id:u-ada")
    assert active_profiles(engine) == [ada]
    held = identifiers_by_profile(engine)[ada]
    assert {
        "user_id:u-ada",
        "email:ada@example.com",
        "phone:+14155550132",
        "anonymous_id:phone-1",
        "anonymous_id:laptop-7",
        "anonymous_id:call-991",
        "crm_id:C-77",
        "anonymous_id:crm-export",
    } == held
    assert profile_holding(engine, "phone:+14155550132") == ada
    assert profile_holding(engine, "crm_id:C-77") == ada
    assert conflicts(engine) == []


def test_shared_family_tablet_with_two_logins_stays_two_people(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    _, web = make_source(engine, "web", "web")
    send(client, web, {"type": "identify", "anonymousId": "tablet", "userId": "mum", "traits": {"name": "Mum"}})
    send(client, web, {"type": "page", "anonymousId": "tablet", "name": "Savings"})
    send(client, web, {"type": "identify", "anonymousId": "tablet", "userId": "kid", "traits": {"name": "Kid"}})
    send(client, web, {"type": "page", "anonymousId": "tablet", "name": "Games"})
    drain(engine, settings)

    mum, kid = profile_holding(engine, "user_id:mum"), profile_holding(engine, "user_id:kid")
    assert mum != kid
    assert sorted(active_profiles(engine)) == sorted([mum, kid])
    held = identifiers_by_profile(engine)
    assert "anonymous_id:tablet" in held[mum]
    assert "anonymous_id:tablet" in held[kid]
    assert ("anonymous_id", "tablet", "shared_device") in conflicts(engine)
    # Anonymous events on the tablet go to whoever used it last: the kid.
    assert profile_holding(engine, "anonymous_id:tablet") == kid


def test_placeholder_email_from_a_bad_integration_merges_nobody(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    _, crm = make_source(engine, "crm", "crm")
    for user in ("u-1", "u-2", "u-3"):
        send(client, crm, {"type": "identify", "userId": user, "traits": {"email": "test@test.com", "phone": "0"}})
    drain(engine, settings)

    assert len(active_profiles(engine)) == 3
    assert all("email:test@test.com" not in ids for ids in identifiers_by_profile(engine).values())
    refused = [c for c in conflicts(engine) if c[2] == "blocked_value"]
    assert len(refused) == 6  # an email and a phone placeholder for each of the three


def test_two_user_ids_are_never_merged_and_the_conflict_is_recorded(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    _, web = make_source(engine, "web", "web")
    send(client, web, {"type": "identify", "userId": "u-1", "traits": {"email": "family@example.com"}})
    send(client, web, {"type": "identify", "userId": "u-2", "traits": {"email": "family@example.com"}})
    drain(engine, settings)

    first, second = profile_holding(engine, "user_id:u-1"), profile_holding(engine, "user_id:u-2")
    assert first != second
    assert profile_holding(engine, "email:family@example.com") == first
    assert ("email", "family@example.com", "limit:user_id") in conflicts(engine)


def test_anonymous_sessions_on_two_devices_are_stitched_at_login(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    _, web = make_source(engine, "web", "web")
    _, app = make_source(engine, "ios-app", "mobile")
    send(client, web, {"type": "page", "anonymousId": "browser-1", "name": "Home"})
    send(client, app, {"type": "screen", "anonymousId": "app-1", "name": "Home", "context": {"device": {"id": "D1"}}})
    send(client, web, {"type": "identify", "anonymousId": "browser-1", "userId": "u-9"})
    send(client, app, {"type": "identify", "anonymousId": "app-1", "userId": "u-9"})
    drain(engine, settings)

    person = profile_holding(engine, "user_id:u-9")
    assert active_profiles(engine) == [person]
    assert {"anonymous_id:browser-1", "anonymous_id:app-1", "device_id:D1"} <= identifiers_by_profile(engine)[person]


def test_a_wrong_merge_is_undone_exactly(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, web = make_source(engine, "web", "web")
    _, cards = make_source(engine, "cards-system", "core-system")
    send(
        client,
        web,
        {"type": "page", "anonymousId": "ada-laptop", "name": "Cards"},
        {
            "type": "identify",
            "anonymousId": "ada-laptop",
            "userId": "u-ada",
            "traits": {"name": "Ada", "email": "ada@example.com"},
        },
        {"type": "page", "anonymousId": "bob-phone", "name": "Shop"},
        {"type": "identify", "anonymousId": "bob-phone", "traits": {"name": "Bob", "city": "Leeds"}},
        {
            "type": "track",
            "anonymousId": "bob-phone",
            "event": "Order Completed",
            "properties": {"order_id": "o-1", "total": 12},
        },
    )
    send(
        client,
        cards,
        {
            "type": "track",
            "userId": "u-ada",
            "event": "Account Opened",
            "properties": {"account_id": "CC-1", "account_type": "credit_card"},
        },
    )
    drain(engine, settings)
    ada, bob = profile_holding(engine, "user_id:u-ada"), profile_holding(engine, "anonymous_id:bob-phone")
    before = snapshot(engine, [ada, bob])

    # A bad integration sends Ada's user id with Bob's device id: Bob's anonymous profile is stitched into Ada's.
    send(client, web, {"type": "track", "anonymousId": "bob-phone", "userId": "u-ada", "event": "Signed In"})
    drain(engine, settings)
    assert active_profiles(engine) == [ada]
    with unit_of_work(engine) as session:
        merge = merges_of(session, [ada])[-1]
        assert (merge.merged_profile_id, merge.rule, merge.identifier_value) == (bob, "anonymous_stitch", "bob-phone")
        result = unmerge(
            session, merge.id, Pipeline(settings.identity, settings.consent), actor="test", reason="wrong device"
        )
    assert set(result.profiles) == {ada, bob}

    after = snapshot(engine, [ada, bob])
    assert after[bob] == before[bob]
    wrong_event = max(after[ada]["events"])
    assert after[ada] == {**before[ada], "events": sorted([*before[ada]["events"], wrong_event])}
    assert ("anonymous_id", "bob-phone", "blocked:unmerged_before") in conflicts(engine)

    # Later evidence of the same kind is re-evaluated with the merge blocked.
    send(client, web, {"type": "track", "anonymousId": "bob-phone", "userId": "u-ada", "event": "Signed In"})
    send(client, web, {"type": "page", "anonymousId": "bob-phone", "name": "Shop again"})
    drain(engine, settings)
    assert sorted(active_profiles(engine)) == sorted([ada, bob])
    assert profile_holding(engine, "anonymous_id:bob-phone") == bob
    with unit_of_work(engine) as session:
        assert len(event_ids_of(session, bob)) == len(before[bob]["events"]) + 1
