"""What an agent does, as API calls: corrections, identifier updates and search, with server keys and scopes."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.access.service import create_api_key
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.console.people import ada_and_grace


def bearer(engine: Engine, *scopes: str) -> dict[str, str]:
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, "crm-sync", list(scopes))
    return {"Authorization": f"Bearer {key}"}


def test_corrections_identifiers_and_search(client: TestClient, engine: Engine, settings: Settings) -> None:
    ada, grace = ada_and_grace(client, engine, settings)
    headers = bearer(engine, "profiles:read", "profiles:write")
    found = client.get("/v1/profiles/search", params={"name": "Ada Lovelase"}, headers=headers)
    assert found.status_code == 200
    assert found.json()[0]["profile_id"] == ada
    by_product = client.get("/v1/profiles/search", params={"product": "ACC-778899"}, headers=headers)
    assert [m["profile_id"] for m in by_product.json()] == [ada]
    assert client.get("/v1/profiles/search", headers=headers).status_code == 400

    done = client.post(
        f"/v1/profiles/{ada}/traits",
        json={"traits": {"lastName": "Lovelace-King"}, "reason": "marriage certificate seen", "source": "crm"},
        headers=headers,
    )
    assert done.status_code == 201, done.text
    assert done.json()["source"] == "crm"
    traits = {t["name"]: t for t in client.get(f"/v1/profiles/{ada}/traits", headers=headers).json()}
    assert traits["last_name"]["value"] == "Lovelace-King"
    assert traits["last_name"]["source"] == "crm"

    added = client.post(
        f"/v1/profiles/{ada}/identifiers", json={"identifiers": {"phone": "+44 20 7946 0958"}}, headers=headers
    )
    assert added.status_code == 201, added.text
    assert added.json()["source"] == "console"
    looked_up = client.get("/v1/profiles/lookup", params={"identifier": "phone:+442079460958"}, headers=headers)
    assert looked_up.json()["id"] == ada

    refused = client.post(
        f"/v1/profiles/{ada}/identifiers",
        json={"identifiers": {"email": "grace@example.com", "user_id": "u-9"}},
        headers=headers,
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["errors"][0]["field"] == "identifiers"
    taken = client.post(
        f"/v1/profiles/{ada}/identifiers", json={"identifiers": {"email": "grace@example.com"}}, headers=headers
    )
    assert taken.status_code == 400
    assert taken.json()["error"]["errors"][0]["code"] == "held_by_another_profile"
    # Refused means unchanged: the email still points at Grace, and Ada got no user id from the refused batch.
    holder = client.get("/v1/profiles/lookup", params={"identifier": "email:grace@example.com"}, headers=headers)
    assert holder.json()["id"] == grace != ada
    assert client.get("/v1/profiles/lookup", params={"identifier": "user_id:u-9"}, headers=headers).status_code == 404


def test_corrections_need_the_write_scope(client: TestClient, engine: Engine, settings: Settings) -> None:
    ada, _grace = ada_and_grace(client, engine, settings)
    reader = bearer(engine, "profiles:read")
    answer = client.post(f"/v1/profiles/{ada}/traits", json={"traits": {"lastName": "X"}}, headers=reader)
    assert answer.status_code == 403
    assert client.post(f"/v1/profiles/{ada}/traits", json={"traits": {"lastName": "X"}}).status_code == 401
