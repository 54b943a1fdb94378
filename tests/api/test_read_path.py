"""The audited read path: each of the hot reads (lookup, profile card, consent check) has its audit entry committed
and visible to any other connection by the time its answer arrives, and answers the same after the held read
connection has been used by the requests before it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from seamline.access.service import create_api_key, revoke_api_key
from seamline.api import routing
from seamline.api.consent import DecisionOut
from seamline.api.schemas.profiles import ProfileOut
from seamline.app import create_app
from seamline.config import Settings
from seamline.consent.config import ConsentConfig
from seamline.consent.service import record_choice
from seamline.core.db import unit_of_work
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send


@pytest.fixture
def ada(client: TestClient, engine: Engine, settings: Settings) -> tuple[int, dict[str, str]]:
    _, web = make_source(engine, "web", "web")
    identify = {"type": "identify", "userId": "u-ada", "traits": {"email": "ada@example.com"}}
    send(client, web, {**identify, "timestamp": "2026-03-01T10:00:00Z"})
    drain(engine, settings)
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, "reader", ["profiles:read"])
    return profile_holding(engine, "user_id:u-ada"), {"Authorization": f"Bearer {key}"}


def _views(settings: Settings, profile_id: int) -> list[str]:
    # A connection of its own, outside the app's engine and pool: what any other reader of the log sees.
    other = create_engine(settings.database_url)
    try:
        with other.connect() as conn:
            rows = conn.execute(
                text("SELECT detail FROM audit_log WHERE subject_type = 'profile' AND subject_id = :id ORDER BY id"),
                {"id": str(profile_id)},
            ).all()
    finally:
        other.dispose()
    views = []
    for (detail,) in rows:
        value = detail if isinstance(detail, dict) else json.loads(detail)  # SQLite gives the text
        views.append(str(value.get("view")))
    return views


def test_each_hot_read_is_audited_before_its_answer_arrives(
    client: TestClient, settings: Settings, ada: tuple[int, dict[str, str]]
) -> None:
    profile_id, headers = ada
    reads = [
        ("/v1/profiles/lookup?identifier=email:ada@example.com", "lookup"),
        (f"/v1/profiles/{profile_id}", "summary"),
        (f"/v1/profiles/{profile_id}/may-contact?purpose=marketing&channel=email", "may_contact"),
    ]
    expected: list[str] = []
    for _round in range(2):  # the second round runs on the read connection the first ones left held
        for path, view in reads:
            response = client.get(path, headers=headers)
            assert response.status_code == 200, response.text
            assert response.json()["id" if view != "may_contact" else "profile_id"] == profile_id
            expected.append(view)
            assert _views(settings, profile_id) == expected


def test_the_hot_reads_answer_exactly_what_their_response_models_would_write(
    client: TestClient, engine: Engine, ada: tuple[int, dict[str, str]]
) -> None:
    # The hot reads serialize plain values (api/answers.py): the bytes must be those of the declared model.
    profile_id, headers = ada
    with unit_of_work(engine) as session:
        record_choice(session, profile_id, kind="consent", purpose="marketing", channel="email", value="granted",
                      actor="agent", surface="console", evidence={"text": "Yes, tell me", "version": 3},
                      config=ConsentConfig())  # fmt: skip
    card = client.get(f"/v1/profiles/{profile_id}", headers=headers)
    lookup = client.get("/v1/profiles/lookup?identifier=email:ada@example.com", headers=headers)
    check = client.get(f"/v1/profiles/{profile_id}/may-contact?purpose=marketing&channel=email", headers=headers)
    for response, model in ((card, ProfileOut), (lookup, ProfileOut), (check, DecisionOut)):
        assert response.status_code == 200, response.text
        assert response.content == model.model_validate_json(response.content).model_dump_json().encode()
    assert card.json()["traits"]["email"] == "ada@example.com"
    assert card.json()["created_at"].endswith("Z")
    deciding = check.json()["deciding"]
    assert [c["evidence"] for c in deciding] == [{"text": "Yes, tell me", "version": 3}]
    assert check.json()["allowed"] is True


def test_the_hot_reads_check_the_key_before_the_query(
    client: TestClient, engine: Engine, ada: tuple[int, dict[str, str]]
) -> None:
    # The key is checked by the route itself (api/deps.py `checked_read`), still before the parameters are read.
    profile_id, headers = ada
    with unit_of_work(engine) as session:
        _view, writer_only = create_api_key(session, "writer", ["profiles:write"])
    paths = ["/v1/profiles/lookup", f"/v1/profiles/{profile_id}", f"/v1/profiles/{profile_id}/may-contact"]
    for path in paths:  # no key, and a query missing what the route requires
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers={"Authorization": "Bearer sk_unknown"}).status_code == 401, path
        assert client.get(path, headers={"Authorization": f"Bearer {writer_only}"}).status_code == 403, path
    missing = client.get(f"/v1/profiles/{profile_id}/may-contact?purpose=marketing", headers=headers)
    assert missing.status_code == 400
    assert "channel" in missing.text


def test_the_hot_reads_parameters_are_read_as_fastapi_reads_them(
    client: TestClient, ada: tuple[int, dict[str, str]]
) -> None:
    # Valid parameters are read without FastAPI's solver (api/params.py); every refusal is still FastAPI's own.
    profile_id, headers = ada
    check = f"/v1/profiles/{profile_id}/may-contact"
    with_topic = client.get(f"{check}?purpose=marketing&channel=email&topic=offers", headers=headers)
    assert with_topic.status_code == 200, with_topic.text
    padded = client.get(f"/v1/profiles/00{profile_id}", headers=headers)  # pydantic reads "007" as 7
    assert padded.status_code == 200
    assert padded.json()["id"] == profile_id
    refusals = [
        (f"{check}?channel=email", "purpose", "missing"),
        ("/v1/profiles/abc/may-contact?purpose=marketing&channel=email", "profile_id", "int_parsing"),
        ("/v1/profiles/1.5", "profile_id", "int_parsing"),
        ("/v1/profiles/lookup", "identifier", "missing"),
    ]
    for path, field, code in refusals:
        response = client.get(path, headers=headers)
        assert response.status_code == 400, path
        assert [(e["field"], e["code"]) for e in response.json()["error"]["errors"]] == [(field, code)], path


def test_the_route_index_runs_the_hot_reads_directly_and_nothing_else(
    client: TestClient, ada: tuple[int, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # api/routing.py runs a checked read itself once FastAPI's matching would pick it; any other route, another
    # method, or parameters that are not plain and valid go through FastAPI's routing as before.
    profile_id, headers = ada
    direct: list[tuple[str, bool]] = []
    real = routing._read_directly

    async def spy(candidates: Any, path: str, scope: Any, receive: Any, send: Any) -> bool:
        answered = await real(candidates, path, scope, receive, send)
        direct.append((path, answered))
        return answered

    monkeypatch.setattr(routing, "_read_directly", spy)
    card = client.get(f"/v1/profiles/{profile_id}", headers=headers)
    assert card.status_code == 200
    assert card.json()["id"] == profile_id
    assert direct == [(f"/v1/profiles/{profile_id}", True)]
    direct.clear()
    search = client.get("/v1/profiles/search?name=Ada", headers=headers)  # corrections' route, before the card's
    assert search.status_code == 200, search.text
    assert "requested_id" not in search.text
    assert direct == [("/v1/profiles/search", False)]
    direct.clear()
    assert client.delete(f"/v1/profiles/{profile_id}/may-contact", headers=headers).status_code == 405
    assert client.get(f"/v1/profiles/{profile_id}/may-contact?channel=email", headers=headers).status_code == 400
    assert [answered for _path, answered in direct] == [False, False]
    # A read's own refusal leaves the direct read as an exception, answered by the app's handlers as before.
    missing = client.get("/v1/profiles/999999", headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    unknown = client.get("/v1/profiles/lookup?identifier=email:nobody@example.com", headers=headers)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")


def test_a_revoked_key_is_refused_by_every_hot_read(
    engine: Engine, settings: Settings, ada: tuple[int, dict[str, str]]
) -> None:
    # The direct reads check the key as every route does (access.service.ApiKeyCache: digests only, never the key
    # itself; a revocation reaches each process within api_key_cache_seconds, here 0: at once).
    profile_id, headers = ada
    paths = [
        "/v1/profiles/lookup?identifier=email:ada@example.com",
        f"/v1/profiles/{profile_id}",
        f"/v1/profiles/{profile_id}/may-contact?purpose=marketing&channel=email",
    ]
    uncached = settings.model_copy(update={"api_key_cache_seconds": 0.0})
    with TestClient(create_app(uncached), raise_server_exceptions=False) as client:
        assert [client.get(path, headers=headers).status_code for path in paths] == [200, 200, 200]
        with unit_of_work(engine) as session:
            revoke_api_key(session, "reader")
        for path in paths:
            refused = client.get(path, headers=headers)
            assert refused.status_code == 401, path
            assert "revoked" in refused.json()["error"]["message"], path
    assert _views(settings, profile_id) == ["lookup", "summary", "may_contact"]  # nothing read unaudited


def test_an_erased_person_is_not_served_by_any_hot_read(
    client: TestClient, engine: Engine, settings: Settings, ada: tuple[int, dict[str, str]]
) -> None:
    profile_id, headers = ada
    with unit_of_work(engine) as session:
        _view, admin = create_api_key(session, "privacy-officer", ["identity:admin"])
    officer = {"Authorization": f"Bearer {admin}"}
    opened = client.post("/v1/privacy/requests", json={"kind": "erasure", "profile_id": profile_id}, headers=officer)
    assert client.post(f"/v1/privacy/requests/{opened.json()['id']}/complete", headers=officer).status_code == 200
    lookup = client.get("/v1/profiles/lookup?identifier=email:ada@example.com", headers=headers)
    assert lookup.status_code == 404  # the identifier went with the person
    check = f"/v1/profiles/{profile_id}/may-contact?purpose=marketing&channel=email"
    for path in (f"/v1/profiles/{profile_id}", check):
        gone = client.get(path, headers=headers)
        assert gone.status_code == 410, path
        assert gone.json()["error"]["code"] == "gone"
        assert "ada" not in gone.text.lower()
    assert [view for view in _views(settings, profile_id) if view in ("lookup", "summary", "may_contact")] == []
