"""The golden record in one vocabulary: each silo's own field names recorded under the canonical model, the
source's name kept in provenance, human labels, and a structured address corrected whole (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.access.service import create_api_key
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send


def _bearer(engine: Engine) -> dict[str, str]:
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, "crm-sync", ["profiles:read", "profiles:write"])
    return {"Authorization": f"Bearer {key}"}


def _traits(client: TestClient, profile_id: int, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    answer = client.get(f"/v1/profiles/{profile_id}/traits", headers=headers)
    assert answer.status_code == 200, answer.text
    return {t["name"]: t for t in answer.json()}


def test_each_silo_speaks_its_own_names_and_the_golden_record_one_vocabulary(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    _, checking = make_source(engine, "core-banking", "core-system")
    _, crm = make_source(engine, "crm", "crm")
    send(
        client,
        checking,
        {
            "type": "identify",
            "userId": "u-ada",
            "traits": {
                "first_name": "Ada",
                "date_of_birth": "1815-12-10",
                "street": "12 St James's Square",
                "city": "London",
                "postcode": "SW1Y 4JH",
                "telephone": "+44 20 7946 0958",
            },
            "timestamp": "2026-03-01T10:00:00Z",
        },
    )
    send(
        client,
        crm,
        {
            "type": "identify",
            "userId": "u-ada",
            "traits": {
                "firstName": "Ada",
                "birthday": "1815-12-10",
                "address": {"street": "1 Dorset St", "city": "London", "postalCode": "W1U 4EG"},
                "phone": "+44 20 7946 0958",
            },
            "timestamp": "2026-03-02T10:00:00Z",
        },
    )
    drain(engine, settings)
    ada = profile_holding(engine, "user_id:u-ada")
    headers = _bearer(engine)
    traits = _traits(client, ada, headers)

    # No `telephone` beside `phone`, no `street` and `postcode` beside an address, no `date_of_birth` beside
    # `birthday`: one trait each, whichever names the silos used.
    assert set(traits) == {"first_name", "birthday", "address", "phone"}
    assert traits["address"]["value"] == {"street": "1 Dorset St", "city": "London", "postal_code": "W1U 4EG"}
    assert [a["value"] for a in traits["address"]["alternatives"]] == [
        {"street": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH"}
    ]
    # The source's own name stays in provenance; the label is for people.
    assert (traits["birthday"]["label"], traits["birthday"]["source_field"]) == ("Date of birth", None)
    assert traits["birthday"]["alternatives"][0]["source_field"] == "date_of_birth"
    assert traits["address"]["alternatives"][0]["source_field"] == "street, city, postcode"
    assert traits["first_name"]["source_field"] == "firstName"
    assert traits["phone"]["value"] == "+44 20 7946 0958"
    assert [(a["source"], a["source_field"]) for a in traits["phone"]["alternatives"]] == [
        ("core-banking", "telephone")
    ]
    profile = client.get(f"/v1/profiles/{ada}", headers=headers).json()
    assert set(profile["traits"]) == {"first_name", "birthday", "address", "phone"}


def test_an_address_is_corrected_whole(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, crm = make_source(engine, "crm", "crm")
    send(
        client,
        crm,
        {
            "type": "identify",
            "userId": "u-grace",
            "traits": {"street": "1 Navy Way", "city": "Arlington", "postcode": "22202", "state": "VA"},
            "timestamp": "2026-03-01T10:00:00Z",
        },
    )
    drain(engine, settings)
    grace = profile_holding(engine, "user_id:u-grace")
    headers = _bearer(engine)

    # A part alone would leave the old postcode beside a new street: refused, naming the field.
    part = client.post(f"/v1/profiles/{grace}/traits", json={"traits": {"street": "9 Elm St"}}, headers=headers)
    assert part.status_code == 400
    assert part.json()["error"]["errors"][0]["field"] == "traits.street"
    assert part.json()["error"]["errors"][0]["code"] == "address_part"

    moved = {"street": "9 Elm St", "city": "Boston", "postalCode": "02108"}
    done = client.post(f"/v1/profiles/{grace}/traits", json={"traits": {"address": moved}}, headers=headers)
    assert done.status_code == 201, done.text
    # The new address replaces the old one whole: no state left over from Arlington.
    assert _traits(client, grace, headers)["address"]["value"] == {
        "street": "9 Elm St",
        "city": "Boston",
        "postal_code": "02108",
    }
