"""The profile API end to end: events in through the tracking API, the worker, then reads with server keys."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.access.service import create_api_key
from seamline.audit.service import entries
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send


def _key(engine: Engine, name: str, *scopes: str) -> dict[str, str]:
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, name, list(scopes))
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def world(client: TestClient, engine: Engine, settings: Settings) -> dict[str, object]:
    _, web = make_source(engine, "web", "web")
    _, crm = make_source(engine, "crm", "crm")
    _, cards = make_source(engine, "cards-system", "core-system")
    send(
        client,
        web,
        {"type": "page", "anonymousId": "a-1", "name": "Cards", "timestamp": "2026-03-01T10:00:00Z"},
        {
            "type": "identify",
            "anonymousId": "a-1",
            "userId": "u-ada",
            "traits": {"email": "Ada@Example.com", "name": "Ada Lovelace"},
            "timestamp": "2026-03-01T10:01:00Z",
        },
        {"type": "page", "anonymousId": "a-2", "name": "Mortgages", "timestamp": "2026-03-02T09:00:00Z"},
        {
            "type": "track",
            "anonymousId": "a-2",
            "userId": "u-ada",
            "event": "Signed In",
            "timestamp": "2026-03-02T09:01:00Z",
        },
    )
    send(
        client,
        crm,
        {"type": "identify", "userId": "u-ada", "traits": {"name": "Ada King"}, "timestamp": "2026-03-03T08:00:00Z"},
    )
    send(
        client,
        cards,
        {
            "type": "track",
            "userId": "u-ada",
            "event": "Account Opened",
            "properties": {"account_id": "CC-9", "account_type": "credit_card"},
            "timestamp": "2026-03-04T08:00:00Z",
        },
    )
    drain(engine, settings)
    return {"ada": profile_holding(engine, "user_id:u-ada"), "read": _key(engine, "reader", "profiles:read")}


def test_lookup_by_any_identifier_gives_the_golden_record_and_is_audited(
    client: TestClient, engine: Engine, world: dict[str, object]
) -> None:
    response = client.get("/v1/profiles/lookup", params={"identifier": "email: ADA@example.com"}, headers=world["read"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == world["ada"]
    assert body["traits"] == {"email": "Ada@Example.com", "name": "Ada King"}  # the CRM's is the most recent
    assert {(i["type"], i["value"]) for i in body["identifiers"]} >= {
        ("email", "ada@example.com"),
        ("user_id", "u-ada"),
    }
    assert (body["holdings"], body["events"]) == (1, 6)
    with unit_of_work(engine, write=False) as session:
        audited = entries(session, subject_type="profile", subject_id=str(world["ada"]))
    assert [(e.actor, e.action, e.detail.get("view")) for e in audited] == [("reader", "read", "lookup")]


def test_traits_say_why_a_value_won_and_what_else_was_said(client: TestClient, world: dict[str, object]) -> None:
    response = client.get(f"/v1/profiles/{world['ada']}/traits", headers=world["read"])
    assert response.status_code == 200, response.text
    name = next(t for t in response.json() if t["name"] == "name")
    assert (name["value"], name["source"], name["rule"]) == ("Ada King", "crm", "most_recent")
    assert "most recent" in name["reason"]
    assert [(a["value"], a["source"]) for a in name["alternatives"]] == [("Ada Lovelace", "web")]


def test_holdings_timeline_pages_and_filters(client: TestClient, world: dict[str, object]) -> None:
    holdings = client.get(f"/v1/profiles/{world['ada']}/holdings", headers=world["read"]).json()
    assert [(h["type"], h["external_id"], h["status"], h["source"]) for h in holdings] == [
        ("credit_card", "CC-9", "open", "cards-system")
    ]
    first = client.get(f"/v1/profiles/{world['ada']}/timeline", params={"limit": 4}, headers=world["read"]).json()
    assert [e["name"] for e in first["entries"]] == ["Account Opened", None, "Signed In", "Mortgages"]
    assert first["entries"][0]["message"]["properties"]["account_id"] == "CC-9"
    rest = client.get(
        f"/v1/profiles/{world['ada']}/timeline",
        params={"limit": 4, "cursor": first["next_cursor"]},
        headers=world["read"],
    ).json()
    assert [e["type"] for e in rest["entries"]] == ["identify", "page"]
    assert rest["next_cursor"] is None
    pages = client.get(
        f"/v1/profiles/{world['ada']}/timeline", params={"type": "page", "source": "web"}, headers=world["read"]
    ).json()
    assert [e["name"] for e in pages["entries"]] == ["Mortgages", "Cards"]
    unknown = client.get(f"/v1/profiles/{world['ada']}/timeline", params={"source": "fax"}, headers=world["read"])
    assert unknown.status_code == 400
    assert unknown.json()["error"]["errors"][0]["field"] == "source"


def test_merge_history_and_unmerge_need_the_write_scope(
    client: TestClient, engine: Engine, world: dict[str, object]
) -> None:
    history = client.get(f"/v1/profiles/{world['ada']}/merges", headers=world["read"]).json()
    merge = next(m for m in history["merges"] if m["rule"] == "anonymous_stitch")
    assert merge["evidence"] == "anonymous_id:a-2"

    refused = client.post(f"/v1/merges/{merge['id']}/unmerge", json={"reason": "shared"}, headers=world["read"])
    assert refused.status_code == 403
    writer = _key(engine, "supervisor", "profiles:write")
    done = client.post(f"/v1/merges/{merge['id']}/unmerge", json={"reason": "shared laptop"}, headers=writer)
    assert done.status_code == 200, done.text
    assert sorted(done.json()["profiles"]) == sorted([world["ada"], merge["merged_profile_id"]])
    again = client.post(f"/v1/merges/{merge['id']}/unmerge", json={"reason": "x"}, headers=writer)
    assert again.status_code == 409
    with unit_of_work(engine, write=False) as session:
        changes = [e for e in entries(session, subject_type="profile") if e.action == "change"]
    assert {e.subject_id for e in changes} == {str(world["ada"]), str(merge["merged_profile_id"])}


def test_a_merged_profile_id_answers_with_the_profile_it_lives_in(client: TestClient, world: dict[str, object]) -> None:
    history = client.get(f"/v1/profiles/{world['ada']}/merges", headers=world["read"]).json()
    absorbed = history["merges"][0]["merged_profile_id"]
    body = client.get(f"/v1/profiles/{absorbed}", headers=world["read"]).json()
    assert (body["id"], body["requested_id"]) == (world["ada"], absorbed)


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer sk_nope"}, 401), ({"Authorization": "Basic eDo="}, 401)],
)
def test_every_profile_route_needs_a_server_key(
    client: TestClient, world: dict[str, object], headers: dict[str, str], status: int
) -> None:
    for path in (
        "/v1/profiles/lookup?identifier=user_id:u-ada",
        f"/v1/profiles/{world['ada']}",
        f"/v1/profiles/{world['ada']}/timeline",
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == status
        assert response.json()["error"]["code"] == "unauthorized"


def test_bad_lookups_are_clear(client: TestClient, world: dict[str, object]) -> None:
    missing = client.get(
        "/v1/profiles/lookup", params={"identifier": "email:nobody@example.com"}, headers=world["read"]
    )
    assert missing.status_code == 404
    malformed = client.get("/v1/profiles/lookup", params={"identifier": "shoe:9"}, headers=world["read"])
    assert malformed.status_code == 400
    assert malformed.json()["error"]["errors"][0]["field"] == "identifier"
    absent = client.get("/v1/profiles/999999", headers=world["read"])
    assert absent.status_code == 404
