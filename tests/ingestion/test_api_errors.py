"""Every way the tracking API refuses a request, on both databases: the status, the JSON error, and no row."""

from __future__ import annotations

import base64
import gzip
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text

from seamline.app import create_app
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.sources.service import revoke_source, rotate_key
from tests.support.builders import make_source

Problem = tuple[int | None, str, str]  # (index, field, code) of one item of error.errors

TRACK = {"userId": "u-1", "event": "Signed Up"}


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM inbox_events")).scalar_one())


def _refused(
    response: httpx2.Response, status: int, code: str, problems: list[Problem] | None = None, case: object = ""
) -> dict[str, Any]:
    """Check an error answer: its status, JSON content type, code and, when given, each (index, field, code)."""
    assert response.status_code == status, (case, response.text)
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, (case, error)
    assert isinstance(error["message"], str)
    assert error["message"]
    if problems is not None:
        assert [(e["index"], e["field"], e["code"]) for e in error["errors"]] == problems, (case, error)
    return error


@pytest.fixture
def key(engine: Engine) -> str:
    _source, write_key = make_source(engine)
    return write_key


# --- authentication ------------------------------------------------------------------------------------------------


def test_a_request_without_a_key_is_unauthorized(client: TestClient, engine: Engine, key: str) -> None:
    for path in ("/v1/track", "/v1/t", "/v1/batch", "/v1/b"):
        body = TRACK if "b" not in path else {"batch": [{"type": "track", **TRACK}]}
        response = client.post(path, json=body)
        _refused(response, 401, "unauthorized", [], case=path)
        assert response.headers["www-authenticate"] == 'Basic realm="seamline"'
    assert _count(engine) == 0


def test_an_unknown_key_is_unauthorized_however_it_is_sent(client: TestClient, engine: Engine, key: str) -> None:
    unknown = key[:-4] + "zzzz"
    for how, response in (
        ("basic", client.post("/v1/track", json=TRACK, auth=(unknown, ""))),
        ("header", client.post("/v1/track", json=TRACK, headers={"X-Write-Key": unknown})),
        ("body", client.post("/v1/track", json={**TRACK, "writeKey": unknown})),
    ):
        error = _refused(response, 401, "unauthorized", [], case=how)
        assert "unknown" in error["message"]
    assert _count(engine) == 0


def test_a_revoked_key_is_unauthorized(client: TestClient, engine: Engine, key: str) -> None:
    assert client.post("/v1/track", json=TRACK, auth=(key, "")).status_code == 200
    with unit_of_work(engine) as session:
        revoke_source(session, "web")
    error = _refused(client.post("/v1/track", json={**TRACK, "event": "Again"}, auth=(key, "")), 401, "unauthorized")
    assert "revoked" in error["message"]
    assert _count(engine) == 1


def test_a_rotated_key_stops_working_at_once(client: TestClient, engine: Engine, key: str) -> None:
    with unit_of_work(engine) as session:
        _source, new_key = rotate_key(session, "web")
    _refused(client.post("/v1/track", json=TRACK, auth=(key, "")), 401, "unauthorized")
    assert _count(engine) == 0
    assert client.post("/v1/track", json=TRACK, auth=(new_key, "")).status_code == 200
    assert _count(engine) == 1


def test_a_malformed_basic_header_is_unauthorized_even_with_a_good_body_key(
    client: TestClient, engine: Engine, key: str
) -> None:
    for authorization in (
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"\xff\xfe:").decode(),  # not UTF-8
        "Basic dXNlcg",  # padding missing
    ):
        response = client.post("/v1/track", json={**TRACK, "writeKey": key}, headers={"Authorization": authorization})
        error = _refused(response, 401, "unauthorized", [], case=authorization)
        assert "Basic" in error["message"]
    assert _count(engine) == 0


def test_basic_credentials_with_an_empty_user_are_no_key(client: TestClient, engine: Engine, key: str) -> None:
    _refused(client.post("/v1/track", json=TRACK, auth=("", key)), 401, "unauthorized")
    assert _count(engine) == 0


# --- validation ----------------------------------------------------------------------------------------------------


def test_each_validation_rule_answers_400_naming_the_field(client: TestClient, engine: Engine, key: str) -> None:
    cases: list[tuple[str, dict[str, Any], list[Problem]]] = [
        ("/v1/identify", {"traits": {"email": "a@example.com"}}, [(None, "userId", "required")]),
        ("/v1/t", {"userId": "u-1"}, [(None, "event", "required")]),
        ("/v1/alias", {"userId": "u-1"}, [(None, "previousId", "required")]),
        ("/v1/g", {"userId": "u-1", "groupId": ""}, [(None, "groupId", "required")]),
        ("/v1/page", {"userId": "u-1", "messageId": "m" * 101}, [(None, "messageId", "too_long")]),
        ("/v1/screen", {"userId": "u" * 256}, [(None, "userId", "too_long")]),
        ("/v1/p", {"anonymousId": "a-1", "properties": "x"}, [(None, "properties", "not_an_object")]),
        ("/v1/i", {"userId": "u-1", "timestamp": "2024-05-01 12:00"}, [(None, "timestamp", "invalid_time")]),
        ("/v1/s", {"userId": "u-1", "messageId": 7}, [(None, "messageId", "invalid")]),
    ]
    for path, body, problems in cases:
        _refused(client.post(path, json=body, auth=(key, "")), 400, "invalid_input", problems, case=(path, body))
    assert _count(engine) == 0


def test_one_bad_item_among_good_ones_stores_nothing(client: TestClient, engine: Engine, key: str) -> None:
    items: list[dict[str, Any]] = [{"type": "track", "userId": f"u-{i}", "event": "Viewed"} for i in range(10)]
    items[7] = {"type": "group", "userId": "u-7"}
    _refused(
        client.post("/v1/batch", json={"batch": items}, auth=(key, "")),
        400,
        "invalid_input",
        [(7, "groupId", "required")],
    )
    assert _count(engine) == 0


def test_every_bad_item_of_a_batch_is_reported_by_index(client: TestClient, engine: Engine, key: str) -> None:
    items: list[Any] = [
        {"type": "identify", "userId": "u-0"},
        {"type": "bogus", "userId": "u-1"},
        17,
        {"type": "alias", "userId": "u-3"},
        {"type": "track", "event": "E", "context": []},
    ]
    _refused(
        client.post("/v1/b", json={"batch": items}, auth=(key, "")),
        400,
        "invalid_input",
        [
            (1, "type", "invalid"),
            (2, "", "not_an_object"),
            (3, "previousId", "required"),
            (4, "userId", "required"),
            (4, "context", "not_an_object"),
        ],
    )
    assert _count(engine) == 0


def test_batch_level_problems_answer_400(client: TestClient, engine: Engine, key: str) -> None:
    cases: list[tuple[dict[str, Any], list[Problem]]] = [
        ({}, [(None, "batch", "required")]),
        ({"batch": "nope"}, [(None, "batch", "required")]),
        ({"batch": []}, [(None, "batch", "empty")]),
        ({"batch": [{"type": "identify", "userId": "u"}], "context": 3}, [(None, "context", "not_an_object")]),
        ({"batch": [{"type": "identify", "userId": "u"}], "sentAt": "later"}, [(None, "sentAt", "invalid_time")]),
    ]
    for body, problems in cases:
        _refused(client.post("/v1/batch", json=body, auth=(key, "")), 400, "invalid_input", problems, case=body)
    assert _count(engine) == 0


# --- bodies --------------------------------------------------------------------------------------------------------


def test_an_empty_body_is_400(client: TestClient, engine: Engine, key: str) -> None:
    for path, raw in (("/v1/track", b""), ("/v1/batch", b""), ("/v1/t", b"  \r\n")):
        response = client.post(path, content=raw, auth=(key, ""))
        _refused(response, 400, "invalid_input", [(None, "body", "required")], case=path)
    assert _count(engine) == 0


def test_a_body_that_is_not_json_is_400(client: TestClient, engine: Engine, key: str) -> None:
    for raw in (b"{", b"userId=u-1&event=x", b'{"userId": "u-1",}', b"\xff\xfe"):
        response = client.post("/v1/track", content=raw, headers={"Content-Type": "text/plain"}, auth=(key, ""))
        _refused(response, 400, "invalid_input", [(None, "body", "invalid_json")], case=raw)
    assert _count(engine) == 0


def test_json_that_is_not_an_object_is_400(client: TestClient, engine: Engine, key: str) -> None:
    for path in ("/v1/identify", "/v1/b"):
        for value in ([], [{"userId": "u-1"}], "text", 42, None):
            response = client.post(path, content=orjson.dumps(value), auth=(key, ""))
            _refused(response, 400, "invalid_input", [(None, "body", "not_an_object")], case=(path, value))
    assert _count(engine) == 0


def test_an_unsupported_content_encoding_is_400(client: TestClient, engine: Engine, key: str) -> None:
    response = client.post("/v1/track", json=TRACK, headers={"Content-Encoding": "br"}, auth=(key, ""))
    _refused(response, 400, "invalid_input", [(None, "Content-Encoding", "unsupported")])
    assert _count(engine) == 0


def test_corrupt_gzip_is_400(client: TestClient, engine: Engine, key: str) -> None:
    for case, raw in (
        ("plain JSON declared gzip", b'{"userId": "u-1", "event": "E"}'),
        ("truncated gzip", gzip.compress(orjson.dumps(TRACK))[:-10]),
    ):
        response = client.post("/v1/track", content=raw, headers={"Content-Encoding": "gzip"}, auth=(key, ""))
        _refused(response, 400, "invalid_input", [(None, "body", "invalid_encoding")], case=case)
    assert _count(engine) == 0


def test_a_gzip_bomb_is_413(client: TestClient, engine: Engine, key: str) -> None:
    bomb = gzip.compress(b'{"batch": [' + b" " * 30_000_000 + b"]}", compresslevel=9)
    response = client.post("/v1/batch", content=bomb, headers={"Content-Encoding": "gzip"}, auth=(key, ""))
    _refused(response, 413, "too_large", [(None, "body", "too_large")])
    assert _count(engine) == 0


# --- limits --------------------------------------------------------------------------------------------------------


def test_a_batch_of_more_than_2500_events_is_413(client: TestClient, engine: Engine, key: str) -> None:
    items = [{"type": "track", "userId": "u", "event": "E"}] * 2501
    _refused(
        client.post("/v1/batch", json={"batch": items}, auth=(key, "")), 413, "too_large", [(None, "batch", "too_many")]
    )
    assert _count(engine) == 0


def test_a_batch_body_over_500_kb_is_413(client: TestClient, engine: Engine, key: str) -> None:
    items = [{"type": "track", "userId": "u", "event": "E", "properties": {"p": "x" * 20_000}} for _ in range(26)]
    body = orjson.dumps({"batch": items})
    assert len(body) > 500 * 1024
    response = client.post("/v1/batch", content=body, auth=(key, ""))
    _refused(response, 413, "too_large", [(None, "body", "too_large")])
    assert _count(engine) == 0


def test_a_single_body_over_32_kb_is_413(client: TestClient, engine: Engine, key: str) -> None:
    body = {**TRACK, "properties": {"blob": "x" * (33 * 1024)}}
    _refused(client.post("/v1/track", json=body, auth=(key, "")), 413, "too_large", [(None, "body", "too_large")])
    assert _count(engine) == 0


def test_a_chunked_body_over_the_limit_is_413_without_a_content_length(
    client: TestClient, engine: Engine, key: str
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"userId": "u-1", "event": "E", "properties": {"blob": "'
        for _ in range(40):
            yield b"x" * 1024
        yield b'"}}'

    response = client.post("/v1/track", content=chunks(), auth=(key, ""))
    _refused(response, 413, "too_large", [(None, "body", "too_large")])
    assert _count(engine) == 0


def test_an_event_over_32_kb_in_a_batch_is_413_naming_its_index(client: TestClient, engine: Engine, key: str) -> None:
    items: list[dict[str, Any]] = [{"type": "identify", "userId": f"u-{i}"} for i in range(3)]
    items[2]["traits"] = {"bio": "y" * (33 * 1024)}
    _refused(client.post("/v1/batch", json={"batch": items}, auth=(key, "")), 413, "too_large", [(2, "", "too_large")])
    assert _count(engine) == 0


# --- rate limits ---------------------------------------------------------------------------------------------------


def test_a_source_over_its_rate_limit_gets_429_with_retry_headers(client: TestClient, engine: Engine) -> None:
    # Half a request per second gives a bucket of one: the first is allowed, the next has to wait two seconds.
    _source, slow_key = make_source(engine, "slow", "server", rate_limit_per_second=0.5)
    _other, other_key = make_source(engine, "other", "server")
    assert client.post("/v1/track", json=TRACK, auth=(slow_key, "")).status_code == 200
    before = time.time()
    response = client.post("/v1/track", json={**TRACK, "messageId": "m-2"}, auth=(slow_key, ""))
    _refused(response, 429, "rate_limited", [])
    assert response.headers["retry-after"] == "2"
    assert before <= int(response.headers["x-ratelimit-reset"]) <= before + 3
    assert _count(engine) == 1
    # The limit is per source: another source is not held back.
    for i in range(5):
        assert client.post("/v1/track", json={**TRACK, "messageId": f"o-{i}"}, auth=(other_key, "")).status_code == 200
    assert _count(engine) == 6


def test_the_global_rate_limit_applies_to_sources_without_their_own(settings: Settings, engine: Engine) -> None:
    _source, key = make_source(engine)
    limited = settings.model_copy(update={"rate_limit_per_second": 0.5, "rate_limit_burst": 2})
    with TestClient(create_app(limited), raise_server_exceptions=False) as client:
        statuses = [
            client.post("/v1/t", json={**TRACK, "messageId": f"m-{i}"}, auth=(key, "")).status_code for i in range(3)
        ]
    assert statuses == [200, 200, 429]
    assert _count(engine) == 2


# --- origins and CORS ----------------------------------------------------------------------------------------------


def test_a_browser_origin_not_allowed_for_the_source_is_403(client: TestClient, engine: Engine) -> None:
    _source, key = make_source(engine, origins=["https://shop.example"])
    response = client.post("/v1/t", json=TRACK, auth=(key, ""), headers={"Origin": "https://evil.example"})
    error = _refused(response, 403, "forbidden", [])
    assert "https://evil.example" in error["message"]
    assert "access-control-allow-origin" not in response.headers
    assert _count(engine) == 0


def test_a_source_without_origins_refuses_browsers(client: TestClient, engine: Engine) -> None:
    _source, key = make_source(engine, "backend", "server")
    response = client.post("/v1/t", json=TRACK, auth=(key, ""), headers={"Origin": "https://shop.example"})
    _refused(response, 403, "forbidden")
    assert _count(engine) == 0


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
    assert _count(engine) == 1


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
    _refused(response, 403, "forbidden")
    assert "access-control-allow-origin" not in response.headers


def test_a_revoked_source_no_longer_opens_its_origin_to_preflights(client: TestClient, engine: Engine) -> None:
    make_source(engine, origins=["https://shop.example"])
    headers = {"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}
    assert client.options("/v1/t", headers=headers).status_code == 204
    with unit_of_work(engine) as session:
        revoke_source(session, "web")
    _refused(client.options("/v1/t", headers=headers), 403, "forbidden")


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
    _refused(client.get(f"/v1/projects/{key}x/settings"), 404, "not_found", [])


def test_settings_for_a_revoked_key_are_404(client: TestClient, engine: Engine, key: str) -> None:
    with unit_of_work(engine) as session:
        revoke_source(session, "web")
    _refused(client.get(f"/v1/projects/{key}/settings"), 404, "not_found")


def test_settings_are_readable_by_a_page_at_an_allowed_origin(client: TestClient, engine: Engine) -> None:
    # analytics.js fetches its settings from the page, cross-origin: without CORS headers the browser hides them.
    _source, key = make_source(engine, "shop", origins=["https://shop.example"])
    response = client.get(f"/v1/projects/{key}/settings", headers={"Origin": "https://shop.example"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://shop.example"
    assert response.headers["vary"] == "Origin"


# --- routes and methods --------------------------------------------------------------------------------------------


def test_an_unknown_tracking_path_is_a_json_404(client: TestClient, engine: Engine, key: str) -> None:
    make_source(engine, "shop", origins=["https://shop.example"])
    _refused(client.post("/v1/teleport", json=TRACK, auth=(key, "")), 404, "http_error")
    _refused(client.options("/v1/teleport", headers={"Origin": "https://shop.example"}), 404, "http_error")
    assert _count(engine) == 0


def test_a_tracking_path_answers_post_only(client: TestClient, key: str) -> None:
    _refused(client.get("/v1/track", auth=(key, "")), 405, "http_error")


# --- values the database cannot hold -------------------------------------------------------------------------------


def test_a_nul_character_in_a_stored_column_is_400_on_every_database(
    client: TestClient, engine: Engine, key: str
) -> None:
    # Bug (wire.py / repository.py): PostgreSQL text cannot hold NUL, so on PostgreSQL the inbox commit fails and
    # the request gets a 500 (and so does every other request in the same group commit); SQLite stores it.
    for field in ("userId", "anonymousId", "messageId"):
        body = {"userId": "u-1", "anonymousId": "a-1", "event": "E", field: "bad\x00id"}
        error = _refused(client.post("/v1/track", json=body, auth=(key, "")), 400, "invalid_input", case=field)
        assert [(e["index"], e["field"]) for e in error["errors"]] == [(None, field)]
    assert _count(engine) == 0


def test_a_time_outside_the_calendar_in_utc_is_400(client: TestClient, engine: Engine, key: str) -> None:
    # Bug (wire.py): converting 0001-01-01T00:00+01:00 to UTC raises OverflowError, answered with a 500.
    body = {**TRACK, "originalTimestamp": "0001-01-01T00:00:00+01:00"}
    _refused(
        client.post("/v1/track", json=body, auth=(key, "")),
        400,
        "invalid_input",
        [(None, "originalTimestamp", "invalid_time")],
    )
    assert _count(engine) == 0


def test_a_body_nested_deeper_than_can_be_stored_is_refused(client: TestClient, engine: Engine, key: str) -> None:
    # Bug (wire.py): orjson reads 1024 levels of nesting but writes at most 254, so re-encoding raises a 500.
    raw = b'{"userId": "u-1", "event": "E", "properties": ' + b'{"a":' * 300 + b"1" + b"}" * 300 + b"}"
    response = client.post("/v1/track", content=raw, auth=(key, ""))
    assert response.status_code in (400, 413), response.text
    assert response.json()["error"]["errors"]
    assert _count(engine) == 0


@pytest.mark.postgres_only
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_request_the_database_refuses_does_not_fail_the_requests_committed_with_it(
    client: TestClient, engine: Engine, key: str
) -> None:
    # Bug (inbox.py): requests queued while a commit runs are written in one transaction; when the database refuses
    # one of them (today: a NUL in userId), every request of the group is answered 500, valid ones included.
    with engine.connect() as blocker, ThreadPoolExecutor(3) as pool:
        blocker.execute(text("LOCK TABLE inbox_events IN SHARE MODE"))
        first = pool.submit(client.post, "/v1/track", json={**TRACK, "messageId": "first"}, auth=(key, ""))
        _wait_for_blocked_insert(blocker)
        poison = pool.submit(
            client.post, "/v1/track", json={**TRACK, "userId": "u\x00", "messageId": "p"}, auth=(key, "")
        )
        valid = pool.submit(client.post, "/v1/track", json={**TRACK, "messageId": "valid"}, auth=(key, ""))
        time.sleep(0.5)  # both queue behind the blocked commit, so the writer takes them as one group
        blocker.rollback()
        assert first.result().status_code == 200
        assert valid.result().status_code == 200, valid.result().text
        assert poison.result().status_code == 400
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT message_id FROM inbox_events ORDER BY id")).scalars().all()
    assert stored == ["first", "valid"]


def _wait_for_blocked_insert(conn: Connection) -> None:
    deadline = time.monotonic() + 10
    query = text("SELECT count(*) FROM pg_locks WHERE relation = 'inbox_events'::regclass AND NOT granted")
    while conn.execute(query).scalar_one() == 0:
        assert time.monotonic() < deadline, "the inbox writer never reached the locked table"
        time.sleep(0.01)
