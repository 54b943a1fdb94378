"""`POST /v1/decisions` read the plain way (api/decision_wire.py) answers byte for byte what FastAPI's own reading
answers: for merged, erased, consent-withheld and card-holding people, and for every bad request."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.api import decisions as decisions_api
from seamline.api.decision_wire import Asked, plain_asked
from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.decisions import service
from seamline.identity.feed import mark_erased
from tests.decisions.test_policy import _grant_marketing, _key, _track
from tests.support.builders import make_source
from tests.support.flows import drain, send
from tests.support.people import person

PLAIN = "application/json"
FASTAPI = "application/vnd.seamline+json"  # FastAPI reads a +json body as JSON; the plain path leaves it to FastAPI


@pytest.fixture(autouse=True)
def _same_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    # Thompson sampling draws at random: every decision draws the same numbers here, so two answers can be compared.
    monkeypatch.setattr(service, "default_rng", lambda: np.random.default_rng(16))


def _both(client: TestClient, headers: dict[str, str], body: Any) -> tuple[int, bytes]:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    plain, fastapi = (
        client.post("/v1/decisions", content=raw, headers={**headers, "Content-Type": kind})
        for kind in (PLAIN, FASTAPI)
    )
    assert (plain.status_code, plain.content) == (fastapi.status_code, fastapi.content), body
    assert plain.headers["content-type"] == fastapi.headers["content-type"]
    return plain.status_code, plain.content


def test_people_get_the_same_answer_both_ways(
    client: TestClient, engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_plainly: list[Asked] = []

    def counted(raw: bytes) -> Asked | None:
        asked = plain_asked(raw)
        if asked is not None:
            read_plainly.append(asked)
        return asked

    monkeypatch.setattr(decisions_api, "plain_asked", counted)
    _, key = make_source(engine, "web-anon", "web")
    send(client, key, {"type": "track", "anonymousId": "anon-1", "event": "Page Viewed"})
    drain(engine, settings)
    ada = person(client, engine, settings)  # no marketing consent: offers are withheld
    send(client, key, {"type": "identify", "userId": "u-ada", "anonymousId": "anon-1", "traits": {"segment": "vip"}})
    drain(engine, settings)
    bo = person(client, engine, settings, user_id="u-bo", email="bo@example.com")
    _grant_marketing(engine, settings, bo)
    _track(client, engine, settings, "u-bo", ("Card Issued", {"card_id": "C-77"}))  # holds the card
    cy = person(client, engine, settings, user_id="u-cy", email="cy@example.com")
    with unit_of_work(engine) as session:
        mark_erased(session, [cy], 1, utcnow())
    headers = _key(engine, "decisions")

    for who in ("user_id:u-ada", "anonymous_id:anon-1", "email:bo@example.com"):
        for context in ({"channel": "web"}, {"channel": "email"}, {"channel": "call_center", "placement": "x"}):
            for extra in ({}, {"explain": True}, {"limit": 1}, {"limit": 50, "explain": True}):
                status, _ = _both(client, headers, {"person": who, "context": context, **extra})
                assert status == 200
    status, merged = _both(client, headers, {"person": "anonymous_id:anon-1", "context": {"channel": "web"}})
    assert f'"profile_id":{ada}'.encode() in merged  # the person, not the visitor
    assert b'"segment":"vip"' in merged
    _, held = _both(client, headers, {"person": "user_id:u-bo", "context": {"channel": "email"}, "explain": True})
    assert b'"rule":"holds_product"' in held
    _, withheld = _both(client, headers, {"person": "user_id:u-ada", "context": {"channel": "email"}, "explain": True})
    assert b'"rule":"consent"' in withheld
    assert _both(client, headers, {"person": "user_id:u-cy", "context": {"channel": "web"}})[0] == 410
    assert bo != ada
    assert len(read_plainly) == 3 * 3 * 4 + 4  # every plain request above went the plain way


BAD: list[Any] = [
    {"person": "user_id:u-ada", "context": {"channel": "fax"}},
    {"person": "shoe:42", "context": {"channel": "web"}},
    {"person": "email:not-an-address", "context": {"channel": "web"}},
    {"person": "user_id:u-nobody", "context": {"channel": "web"}},
    {"person": "user_id:u-ada", "context": {"channel": "web"}, "limit": 0},
    {"person": "user_id:u-ada", "context": {"channel": "web"}, "limit": "many"},
    {"person": "user_id:u-ada", "context": {"channel": "web"}, "explain": "perhaps"},
    {"person": "p" * 401, "context": {"channel": "web"}},
    {"person": "user_id:u-ada", "context": {"channel": "w" * 33}},
    {"person": "user_id:u-ada"},
    {"context": {"channel": "web"}},
    [],
    b"{not json",
    b"",
]


def test_bad_requests_get_the_same_answer_both_ways(client: TestClient, engine: Engine, settings: Settings) -> None:
    person(client, engine, settings)
    headers = _key(engine, "decisions")
    for body in BAD:
        status, answer = _both(client, headers, body)
        assert 400 <= status < 500, (body, answer)
    # A value pydantic coerces is read its way, and answered.
    status, _ = _both(client, headers, {"person": "user_id:u-ada", "context": {"channel": "web"}, "limit": "2"})
    assert status == 200


def test_the_key_is_checked_before_the_body_is_read(client: TestClient, engine: Engine, settings: Settings) -> None:
    person(client, engine, settings)
    for headers, expected in (({}, 401), (_key(engine, "profiles:read"), 403)):
        for body in (b"{not json", b'{"person": 1}', b'{"person": "user_id:u-ada", "context": {"channel": "web"}}'):
            answer = client.post("/v1/decisions", content=body, headers={**headers, "Content-Type": PLAIN})
            assert answer.status_code == expected, body
            assert "error" in answer.json()
