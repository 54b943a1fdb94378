"""Find a customer by a phone from any trait, by any product system's customer number (in the console and the
lookup API), with what tells namesakes apart and the field that matched (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.access.service import create_api_key
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.console.conftest import SignIn
from tests.identity.test_phone_traits import silo_record
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send

_ROW = re.compile(
    r'<tr>\s*<td><a href="/console/customers/(\d+)"><bdi>([^<]*)</bdi></a></td>\s*'
    r'<td class="details">([^<]*)</td>\s*<td>([^<]*)</td>'
)


def _rows(html: str) -> dict[int, tuple[str, str, str]]:
    """Each listed customer: (name, what tells them apart, the field that matched)."""
    return {int(pid): (name, details, reason) for pid, name, details, reason in _ROW.findall(html)}


def _namesakes(console: TestClient, engine: Engine, settings: Settings) -> tuple[int, int]:
    """Two John Smiths with one landline, one in checking and one in cards."""
    _, checking = make_source(engine, "core-banking", "import")
    _, cards = make_source(engine, "cards-system", "import")
    send(
        console,
        checking,
        silo_record(
            "checking",
            "CHK-C000000001",
            {
                "first_name": "John",
                "last_name": "Smith",
                "date_of_birth": "1961-04-02",
                "street": "4 Elm St",
                "city": "Springfield",
                "postcode": "62701",
                "telephone": "(217) 555-0142",
            },
        ),
    )
    send(
        console,
        cards,
        silo_record(
            "cards",
            "CRD-0000000002",
            {
                "first_name": "John",
                "last_name": "Smith",
                "date_of_birth": "1990-11-30",
                "street": "4 Elm St",
                "city": "Springfield",
                "postcode": "62701",
                "mobile": "217 555 0142",
            },
        ),
    )
    drain(engine, settings)
    return (
        profile_holding(engine, "ext:checking_customer:CHK-C000000001"),
        profile_holding(engine, "ext:cards_customer:CRD-0000000002"),
    )


def test_results_tell_namesakes_apart_and_name_the_matching_field(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    father, son = _namesakes(console, engine, settings)
    sign_in("agent")

    by_phone = _rows(console.get("/console/find", params={"q": "(217) 555-0142"}).text)
    assert by_phone == {
        father: ("John Smith", "born 1961-04-02 · 62701 · Springfield", "phone +12175550142"),
        son: ("John Smith", "born 1990-11-30 · 62701 · Springfield", "phone +12175550142"),
    }
    # A product system's customer number, bare or typed, finds its customer and says whose number it is.
    bare = _rows(console.get("/console/find", params={"q": "CRD-0000000002"}).text)
    assert bare == {
        son: ("John Smith", "born 1990-11-30 · 62701 · Springfield", "cards_customer number CRD-0000000002")
    }
    typed = _rows(console.get("/console/find", params={"q": "ext:checking_customer:CHK-C000000001"}).text)
    assert list(typed) == [father]
    assert typed[father][2] == "checking_customer number CHK-C000000001"
    names = _rows(console.get("/console/find", params={"q": "John Smith"}).text)
    assert {pid: row[1] for pid, row in names.items()} == {
        father: "born 1961-04-02 · 62701 · Springfield",
        son: "born 1990-11-30 · 62701 · Springfield",
    }


def test_the_lookup_api_answers_for_a_product_systems_customer_number(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    _father, son = _namesakes(client, engine, settings)
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, "crm-sync", ["profiles:read"])
    headers = {"Authorization": f"Bearer {key}"}
    found = client.get(
        "/v1/profiles/lookup", params={"identifier": "ext:cards_customer:CRD-0000000002"}, headers=headers
    )
    assert found.status_code == 200, found.text
    assert found.json()["id"] == son
    assert {"type": "ext:cards_customer", "value": "CRD-0000000002"}.items() <= next(
        i for i in found.json()["identifiers"] if i["type"].startswith("ext:")
    ).items()
    missing = client.get("/v1/profiles/lookup", params={"identifier": "ext:cards_customer:CRD-9"}, headers=headers)
    assert missing.status_code == 404
    malformed = client.get("/v1/profiles/lookup", params={"identifier": "ext:cards_customer"}, headers=headers)
    assert malformed.status_code == 400
    assert malformed.json()["error"]["errors"][0]["field"] == "identifier"
