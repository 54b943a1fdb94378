"""Every way the tracking API refuses a request, on both databases: the status, the JSON error, and no row."""

from __future__ import annotations

import base64
import gzip
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text

from seamline.app import create_app
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.sources.service import revoke_source, rotate_key
from tests.ingestion.refusals import TRACK, Problem, count_events, refused
from tests.support.builders import make_source

# --- authentication ------------------------------------------------------------------------------------------------


def test_a_request_without_a_key_is_unauthorized(client: TestClient, engine: Engine, key: str) -> None:
    for path in ("/v1/track", "/v1/t", "/v1/batch", "/v1/b"):
        body = TRACK if "b" not in path else {"batch": [{"type": "track", **TRACK}]}
        response = client.post(path, json=body)
        refused(response, 401, "unauthorized", [], case=path)
        assert response.headers["www-authenticate"] == 'Basic realm="seamline"'
    assert count_events(engine) == 0


def test_an_unknown_key_is_unauthorized_however_it_is_sent(client: TestClient, engine: Engine, key: str) -> None:
    unknown = key[:-4] + "zzzz"
    for how, response in (
        ("basic", client.post("/v1/track", json=TRACK, auth=(unknown, ""))),
        ("header", client.post("/v1/track", json=TRACK, headers={"X-Write-Key": unknown})),
        ("body", client.post("/v1/track", json={**TRACK, "writeKey": unknown})),
    ):
        error = refused(response, 401, "unauthorized", [], case=how)
        assert "unknown" in error["message"]
    assert count_events(engine) == 0


def test_a_revoked_key_is_unauthorized(client: TestClient, engine: Engine, key: str) -> None:
    assert client.post("/v1/track", json=TRACK, auth=(key, "")).status_code == 200
    with unit_of_work(engine) as session:
        revoke_source(session, "web")
    error = refused(client.post("/v1/track", json={**TRACK, "event": "Again"}, auth=(key, "")), 401, "unauthorized")
    assert "revoked" in error["message"]
    assert count_events(engine) == 1


def test_a_rotated_key_stops_working_at_once(client: TestClient, engine: Engine, key: str) -> None:
    with unit_of_work(engine) as session:
        _source, new_key = rotate_key(session, "web")
    refused(client.post("/v1/track", json=TRACK, auth=(key, "")), 401, "unauthorized")
    assert count_events(engine) == 0
    assert client.post("/v1/track", json=TRACK, auth=(new_key, "")).status_code == 200
    assert count_events(engine) == 1


def test_a_malformed_basic_header_is_unauthorized_even_with_a_good_body_key(
    client: TestClient, engine: Engine, key: str
) -> None:
    for authorization in (
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"\xff\xfe:").decode(),  # not UTF-8
        "Basic dXNlcg",  # padding missing
    ):
        response = client.post("/v1/track", json={**TRACK, "writeKey": key}, headers={"Authorization": authorization})
        error = refused(response, 401, "unauthorized", [], case=authorization)
        assert "Basic" in error["message"]
    assert count_events(engine) == 0


def test_basic_credentials_with_an_empty_user_are_no_key(client: TestClient, engine: Engine, key: str) -> None:
    refused(client.post("/v1/track", json=TRACK, auth=("", key)), 401, "unauthorized")
    assert count_events(engine) == 0


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
        refused(client.post(path, json=body, auth=(key, "")), 400, "invalid_input", problems, case=(path, body))
    assert count_events(engine) == 0


def test_one_bad_item_among_good_ones_stores_nothing(client: TestClient, engine: Engine, key: str) -> None:
    items: list[dict[str, Any]] = [{"type": "track", "userId": f"u-{i}", "event": "Viewed"} for i in range(10)]
    items[7] = {"type": "group", "userId": "u-7"}
    refused(
        client.post("/v1/batch", json={"batch": items}, auth=(key, "")),
        400,
        "invalid_input",
        [(7, "groupId", "required")],
    )
    assert count_events(engine) == 0


def test_every_bad_item_of_a_batch_is_reported_by_index(client: TestClient, engine: Engine, key: str) -> None:
    items: list[Any] = [
        {"type": "identify", "userId": "u-0"},
        {"type": "bogus", "userId": "u-1"},
        17,
        {"type": "alias", "userId": "u-3"},
        {"type": "track", "event": "E", "context": []},
    ]
    refused(
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
    assert count_events(engine) == 0


def test_batch_level_problems_answer_400(client: TestClient, engine: Engine, key: str) -> None:
    cases: list[tuple[dict[str, Any], list[Problem]]] = [
        ({}, [(None, "batch", "required")]),
        ({"batch": "nope"}, [(None, "batch", "required")]),
        ({"batch": []}, [(None, "batch", "empty")]),
        ({"batch": [{"type": "identify", "userId": "u"}], "context": 3}, [(None, "context", "not_an_object")]),
        ({"batch": [{"type": "identify", "userId": "u"}], "sentAt": "later"}, [(None, "sentAt", "invalid_time")]),
    ]
    for body, problems in cases:
        refused(client.post("/v1/batch", json=body, auth=(key, "")), 400, "invalid_input", problems, case=body)
    assert count_events(engine) == 0


# --- bodies --------------------------------------------------------------------------------------------------------


def test_an_empty_body_is_400(client: TestClient, engine: Engine, key: str) -> None:
    for path, raw in (("/v1/track", b""), ("/v1/batch", b""), ("/v1/t", b"  \r\n")):
        response = client.post(path, content=raw, auth=(key, ""))
        refused(response, 400, "invalid_input", [(None, "body", "required")], case=path)
    assert count_events(engine) == 0


def test_a_body_that_is_not_json_is_400(client: TestClient, engine: Engine, key: str) -> None:
    for raw in (b"{", b"userId=u-1&event=x", b'{"userId": "u-1",}', b"\xff\xfe"):
        response = client.post("/v1/track", content=raw, headers={"Content-Type": "text/plain"}, auth=(key, ""))
        refused(response, 400, "invalid_input", [(None, "body", "invalid_json")], case=raw)
    assert count_events(engine) == 0


def test_json_that_is_not_an_object_is_400(client: TestClient, engine: Engine, key: str) -> None:
    for path in ("/v1/identify", "/v1/b"):
        for value in ([], [{"userId": "u-1"}], "text", 42, None):
            response = client.post(path, content=orjson.dumps(value), auth=(key, ""))
            refused(response, 400, "invalid_input", [(None, "body", "not_an_object")], case=(path, value))
    assert count_events(engine) == 0


def test_an_unsupported_content_encoding_is_400(client: TestClient, engine: Engine, key: str) -> None:
    response = client.post("/v1/track", json=TRACK, headers={"Content-Encoding": "br"}, auth=(key, ""))
    refused(response, 400, "invalid_input", [(None, "Content-Encoding", "unsupported")])
    assert count_events(engine) == 0


def test_corrupt_gzip_is_400(client: TestClient, engine: Engine, key: str) -> None:
    for case, raw in (
        ("plain JSON declared gzip", b'{"userId": "u-1", "event": "E"}'),
        ("truncated gzip", gzip.compress(orjson.dumps(TRACK))[:-10]),
    ):
        response = client.post("/v1/track", content=raw, headers={"Content-Encoding": "gzip"}, auth=(key, ""))
        refused(response, 400, "invalid_input", [(None, "body", "invalid_encoding")], case=case)
    assert count_events(engine) == 0


def test_a_gzip_bomb_is_413(client: TestClient, engine: Engine, key: str) -> None:
    bomb = gzip.compress(b'{"batch": [' + b" " * 30_000_000 + b"]}", compresslevel=9)
    response = client.post("/v1/batch", content=bomb, headers={"Content-Encoding": "gzip"}, auth=(key, ""))
    refused(response, 413, "too_large", [(None, "body", "too_large")])
    assert count_events(engine) == 0


# --- limits --------------------------------------------------------------------------------------------------------


def test_a_batch_of_more_than_2500_events_is_413(client: TestClient, engine: Engine, key: str) -> None:
    items = [{"type": "track", "userId": "u", "event": "E"}] * 2501
    refused(
        client.post("/v1/batch", json={"batch": items}, auth=(key, "")), 413, "too_large", [(None, "batch", "too_many")]
    )
    assert count_events(engine) == 0


def test_a_batch_body_over_500_kb_is_413(client: TestClient, engine: Engine, key: str) -> None:
    items = [{"type": "track", "userId": "u", "event": "E", "properties": {"p": "x" * 20_000}} for _ in range(26)]
    body = orjson.dumps({"batch": items})
    assert len(body) > 500 * 1024
    response = client.post("/v1/batch", content=body, auth=(key, ""))
    refused(response, 413, "too_large", [(None, "body", "too_large")])
    assert count_events(engine) == 0


def test_a_single_body_over_32_kb_is_413(client: TestClient, engine: Engine, key: str) -> None:
    body = {**TRACK, "properties": {"blob": "x" * (33 * 1024)}}
    refused(client.post("/v1/track", json=body, auth=(key, "")), 413, "too_large", [(None, "body", "too_large")])
    assert count_events(engine) == 0


def test_a_chunked_body_over_the_limit_is_413_without_a_content_length(
    client: TestClient, engine: Engine, key: str
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"userId": "u-1", "event": "E", "properties": {"blob": "'
        for _ in range(40):
            yield b"x" * 1024
        yield b'"}}'

    response = client.post("/v1/track", content=chunks(), auth=(key, ""))
    refused(response, 413, "too_large", [(None, "body", "too_large")])
    assert count_events(engine) == 0


def test_an_event_over_32_kb_in_a_batch_is_413_naming_its_index(client: TestClient, engine: Engine, key: str) -> None:
    items: list[dict[str, Any]] = [{"type": "identify", "userId": f"u-{i}"} for i in range(3)]
    items[2]["traits"] = {"bio": "y" * (33 * 1024)}
    refused(client.post("/v1/batch", json={"batch": items}, auth=(key, "")), 413, "too_large", [(2, "", "too_large")])
    assert count_events(engine) == 0


# --- rate limits ---------------------------------------------------------------------------------------------------


def test_a_source_over_its_rate_limit_gets_429_with_retry_headers(client: TestClient, engine: Engine) -> None:
    # Half a request per second gives a bucket of one: the first is allowed, the next has to wait two seconds.
    _source, slow_key = make_source(engine, "slow", "server", rate_limit_per_second=0.5)
    _other, other_key = make_source(engine, "other", "server")
    assert client.post("/v1/track", json=TRACK, auth=(slow_key, "")).status_code == 200
    before = time.time()
    response = client.post("/v1/track", json={**TRACK, "messageId": "m-2"}, auth=(slow_key, ""))
    refused(response, 429, "rate_limited", [])
    assert response.headers["retry-after"] == "2"
    assert before <= int(response.headers["x-ratelimit-reset"]) <= before + 3
    assert count_events(engine) == 1
    # The limit is per source: another source is not held back.
    for i in range(5):
        assert client.post("/v1/track", json={**TRACK, "messageId": f"o-{i}"}, auth=(other_key, "")).status_code == 200
    assert count_events(engine) == 6


def test_the_global_rate_limit_applies_to_sources_without_their_own(settings: Settings, engine: Engine) -> None:
    _source, key = make_source(engine)
    limited = settings.model_copy(update={"rate_limit_per_second": 0.5, "rate_limit_burst": 2})
    with TestClient(create_app(limited), raise_server_exceptions=False) as client:
        statuses = [
            client.post("/v1/t", json={**TRACK, "messageId": f"m-{i}"}, auth=(key, "")).status_code for i in range(3)
        ]
    assert statuses == [200, 200, 429]
    assert count_events(engine) == 2


# --- routes and methods --------------------------------------------------------------------------------------------


def test_an_unknown_tracking_path_is_a_json_404(client: TestClient, engine: Engine, key: str) -> None:
    make_source(engine, "shop", origins=["https://shop.example"])
    refused(client.post("/v1/teleport", json=TRACK, auth=(key, "")), 404, "http_error")
    refused(client.options("/v1/teleport", headers={"Origin": "https://shop.example"}), 404, "http_error")
    assert count_events(engine) == 0


def test_a_tracking_path_answers_post_only(client: TestClient, key: str) -> None:
    refused(client.get("/v1/track", auth=(key, "")), 405, "http_error")


# --- values the database cannot hold -------------------------------------------------------------------------------


def test_a_nul_character_in_a_stored_column_is_400_on_every_database(
    client: TestClient, engine: Engine, key: str
) -> None:
    # Bug (wire.py / repository.py): PostgreSQL text cannot hold NUL, so on PostgreSQL the inbox commit fails and
    # the request gets a 500 (and so does every other request in the same group commit); SQLite stores it.
    for field in ("userId", "anonymousId", "messageId"):
        body = {"userId": "u-1", "anonymousId": "a-1", "event": "E", field: "bad\x00id"}
        error = refused(client.post("/v1/track", json=body, auth=(key, "")), 400, "invalid_input", case=field)
        assert [(e["index"], e["field"]) for e in error["errors"]] == [(None, field)]
    assert count_events(engine) == 0


def test_a_time_outside_the_calendar_in_utc_is_400(client: TestClient, engine: Engine, key: str) -> None:
    # Bug (wire.py): converting 0001-01-01T00:00+01:00 to UTC raises OverflowError, answered with a 500.
    body = {**TRACK, "originalTimestamp": "0001-01-01T00:00:00+01:00"}
    refused(
        client.post("/v1/track", json=body, auth=(key, "")),
        400,
        "invalid_input",
        [(None, "originalTimestamp", "invalid_time")],
    )
    assert count_events(engine) == 0


def test_a_body_nested_deeper_than_can_be_stored_isrefused(client: TestClient, engine: Engine, key: str) -> None:
    # Bug (wire.py): orjson reads 1024 levels of nesting but writes at most 254, so re-encoding raises a 500.
    raw = b'{"userId": "u-1", "event": "E", "properties": ' + b'{"a":' * 300 + b"1" + b"}" * 300 + b"}"
    response = client.post("/v1/track", content=raw, auth=(key, ""))
    assert response.status_code in (400, 413), response.text
    assert response.json()["error"]["errors"]
    assert count_events(engine) == 0


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
