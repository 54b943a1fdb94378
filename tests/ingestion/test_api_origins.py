"""The tracking API and browsers: which origins a source opens (CORS, preflights) and the settings analytics.js
reads, on both databases."""

from __future__ import annotations

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.app import create_app
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.sources.service import revoke_source
from tests.ingestion.refusals import TRACK, count_events, refused
from tests.support.builders import make_source

# --- origins and CORS ----------------------------------------------------------------------------------------------


def test_a_browser_origin_not_allowed_for_the_source_is_403(client: TestClient, engine: Engine) -> None:
    _source, key = make_source(engine, origins=["https://shop.example"])
    response = client.post("/v1/t", json=TRACK, auth=(key, ""), headers={"Origin": "https://evil.example"})
    error = refused(response, 403, "forbidden", [])
    assert "https://evil.example" in error["message"]
    assert "access-control-allow-origin" not in response.headers
    assert count_events(engine) == 0


def test_a_source_without_origins_refuses_browsers(client: TestClient, engine: Engine) -> None:
    _source, key = make_source(engine, "backend", "server")
    response = client.post("/v1/t", json=TRACK, auth=(key, ""), headers={"Origin": "https://shop.example"})
    refused(response, 403, "forbidden")
    assert count_events(engine) == 0


def test_an_allowed_origin_is_answered_with_cors_headers(client: TestClient, engine: Engine) -> None:
    _source, key = make_source(engine, origins=["https://shop.example", "https://www.shop.example"])
    response = client.post(
        "/v1/t",
        content=orjson.dumps({**TRACK, "writeKey": key}),
        headers={"Origin": "https://www.shop.example", "Content-Type": "text/plain"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "https://www.shop.example"
    assert response.headers["vary"] == "Origin"
    assert count_events(engine) == 1


def test_a_wildcard_source_accepts_any_origin(client: TestClient, engine: Engine) -> None:
    _source, key = make_source(engine, origins=["*"])
    response = client.post("/v1/t", json=TRACK, auth=(key, ""), headers={"Origin": "https://anywhere.example"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://anywhere.example"


def test_a_preflight_is_answered_for_an_origin_some_source_allows(client: TestClient, engine: Engine) -> None:
    make_source(engine, "web", origins=["https://shop.example"])
    make_source(engine, "blog", origins=["https://blog.example"])
    for path in ("/v1/batch", "/v1/t", "/v1/identify", "/v1/projects/wk_any/settings"):
        response = client.options(
            path,
            headers={
                "Origin": "https://blog.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, authorization",
            },
        )
        assert response.status_code == 204, path
        assert response.headers["access-control-allow-origin"] == "https://blog.example"
        assert "POST" in response.headers["access-control-allow-methods"]
        allowed_headers = response.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed_headers
        assert "content-type" in allowed_headers
        assert response.headers["vary"] == "Origin"


def test_a_preflight_from_an_unknown_origin_is_403(client: TestClient, engine: Engine) -> None:
    make_source(engine, origins=["https://shop.example"])
    response = client.options(
        "/v1/t", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    refused(response, 403, "forbidden")
    assert "access-control-allow-origin" not in response.headers


def test_a_revoked_source_no_longer_opens_its_origin_to_preflights(client: TestClient, engine: Engine) -> None:
    make_source(engine, origins=["https://shop.example"])
    headers = {"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}
    assert client.options("/v1/t", headers=headers).status_code == 204
    with unit_of_work(engine) as session:
        revoke_source(session, "web")
    refused(client.options("/v1/t", headers=headers), 403, "forbidden")


# --- the settings endpoint -----------------------------------------------------------------------------------------


def test_settings_answer_what_analytics_next_needs(client: TestClient, key: str) -> None:
    response = client.get(f"/v1/projects/{key}/settings")
    assert response.status_code == 200
    body = response.json()
    # No public URL configured: the address serve listens on.
    assert body["integrations"]["Segment.io"] == {"apiKey": key, "apiHost": "127.0.0.1:8000/v1", "protocol": "http"}
    assert body["analyticsNextEnabled"] is True
    assert body["plan"]["track"]["__default"]["enabled"] is True


def test_settings_name_the_public_url_never_the_requests_host(settings: Settings, key: str) -> None:
    public = settings.model_copy(update={"public_url": "https://cdp.example.com/seamline"})
    with TestClient(create_app(public), raise_server_exceptions=False) as client:
        for host in ("evil.example", "cdp.example.com:9999", "127.0.0.1"):
            response = client.get(f"/v1/projects/{key}/settings", headers={"Host": host})
            assert response.status_code == 200
            assert response.json()["integrations"]["Segment.io"] == {
                "apiKey": key,
                "apiHost": "cdp.example.com/seamline/v1",
                "protocol": "https",
            }


def test_settings_for_an_unknown_key_are_404(client: TestClient, key: str) -> None:
    refused(client.get(f"/v1/projects/{key}x/settings"), 404, "not_found", [])


def test_settings_for_a_revoked_key_are_404(client: TestClient, engine: Engine, key: str) -> None:
    with unit_of_work(engine) as session:
        revoke_source(session, "web")
    refused(client.get(f"/v1/projects/{key}/settings"), 404, "not_found")


def test_settings_are_readable_by_a_page_at_an_allowed_origin(client: TestClient, engine: Engine) -> None:
    # analytics.js fetches its settings from the page, cross-origin: without CORS headers the browser hides them.
    _source, key = make_source(engine, "shop", origins=["https://shop.example"])
    response = client.get(f"/v1/projects/{key}/settings", headers={"Origin": "https://shop.example"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://shop.example"
    assert response.headers["vary"] == "Origin"
