"""What the tracking API accepts, on both databases, and the operations endpoints beside it."""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text

from seamline.app import create_app
from seamline.config import Settings
from seamline.ingestion.wire import partition_of
from tests.support.builders import make_source

MESSAGES: dict[str, dict[str, Any]] = {
    "identify": {"userId": "u-1", "traits": {"email": "ada@example.com"}},
    "track": {"userId": "u-1", "event": "Order Completed", "properties": {"total": 42.5}},
    "page": {"anonymousId": "a-1", "name": "Pricing"},
    "screen": {"userId": "u-1", "name": "Account Overview"},
    "group": {"userId": "u-1", "groupId": "acct-9"},
    "alias": {"userId": "u-1", "previousId": "a-1"},
}
SHORT = {"identify": "i", "track": "t", "page": "p", "screen": "s", "group": "g", "alias": "a"}


def _rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        result = conn.execute(
            text(
                "SELECT id, source_id, message_id, type, user_id, anonymous_id, partition, received_at, payload,"
                " processed_at FROM inbox_events ORDER BY id"
            )
        )
        return [dict(row._mapping) for row in result]


def _payloads(engine: Engine) -> list[dict[str, Any]]:
    return [orjson.loads(row["payload"]) for row in _rows(engine)]


def _ok(response: Any) -> None:
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}


# --- every type, every path ----------------------------------------------------------------------------------------


def test_every_type_is_stored_from_its_long_and_short_path(client: TestClient, engine: Engine, key: str) -> None:
    sent = []
    for event_type, message in MESSAGES.items():
        for path in (f"/v1/{event_type}", f"/v1/{SHORT[event_type]}"):
            body = {**message, "messageId": f"m-{path}"}
            _ok(client.post(path, json=body, auth=(key, "")))
            sent.append((event_type, body))
    rows = _rows(engine)
    assert len(rows) == len(sent) == 12
    for row, (event_type, body) in zip(rows, sent, strict=True):
        assert (row["message_id"], row["type"], row["processed_at"]) == (body["messageId"], event_type, None)
        assert (row["user_id"], row["anonymous_id"]) == (body.get("userId"), body.get("anonymousId"))
        assert row["partition"] == partition_of(body.get("anonymousId") or body["userId"])
        payload = orjson.loads(row["payload"])
        assert payload["type"] == event_type
        assert {k: payload[k] for k in body} == body


@pytest.mark.parametrize("path", ["/v1/batch", "/v1/b"])
def test_a_batch_of_every_type_is_stored_in_order(client: TestClient, engine: Engine, key: str, path: str) -> None:
    items = [{"type": t, **m, "messageId": f"m-{i}"} for i, (t, m) in enumerate(MESSAGES.items())]
    _ok(client.post(path, json={"batch": items}, auth=(key, "")))
    assert [(r["message_id"], r["type"]) for r in _rows(engine)] == [(f"m-{i}", t) for i, t in enumerate(MESSAGES)]


def test_the_largest_batch_is_stored_whole_and_in_order(client: TestClient, engine: Engine, key: str) -> None:
    items = [
        {"type": "track", "anonymousId": f"a-{i % 50}", "event": "Viewed", "messageId": f"m-{i}"} for i in range(2500)
    ]
    _ok(client.post("/v1/batch", json={"batch": items}, auth=(key, "")))
    assert [r["message_id"] for r in _rows(engine)] == [f"m-{i}" for i in range(2500)]


def test_an_event_of_nearly_32_kb_is_accepted(client: TestClient, engine: Engine, key: str) -> None:
    body = {"userId": "u-1", "event": "E", "properties": {"blob": "x" * (31 * 1024)}}
    _ok(client.post("/v1/track", json=body, auth=(key, "")))
    assert len(_rows(engine)) == 1


# --- how keys and bodies arrive --------------------------------------------------------------------------------------


def test_a_browser_body_as_text_plain_with_the_key_inside(client: TestClient, engine: Engine, key: str) -> None:
    body = orjson.dumps({**MESSAGES["page"], "writeKey": key})
    _ok(client.post("/v1/p", content=body, headers={"Content-Type": "text/plain;charset=UTF-8"}))
    [payload] = _payloads(engine)
    assert payload["name"] == "Pricing"
    assert "writeKey" not in payload
    assert key not in _rows(engine)[0]["payload"]


def test_a_batch_with_the_key_inside(client: TestClient, engine: Engine, key: str) -> None:
    body = {"writeKey": key, "batch": [{"type": "identify", "userId": "u-1"}]}
    _ok(client.post("/v1/b", content=orjson.dumps(body), headers={"Content-Type": "text/plain"}))
    assert [r["type"] for r in _rows(engine)] == ["identify"]


def test_the_key_in_an_x_write_key_header(client: TestClient, engine: Engine, key: str) -> None:
    _ok(client.post("/v1/track", json=MESSAGES["track"], headers={"X-Write-Key": key}))
    assert len(_rows(engine)) == 1


def test_the_header_key_decides_the_source_over_a_body_key(client: TestClient, engine: Engine) -> None:
    web, web_key = make_source(engine, "web")
    crm, crm_key = make_source(engine, "crm", "crm")
    _ok(client.post("/v1/track", json={**MESSAGES["track"], "writeKey": web_key}, auth=(crm_key, "")))
    assert [r["source_id"] for r in _rows(engine)] == [crm.id]
    assert web.id != crm.id


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress)],
)
def test_compressed_bodies(client: TestClient, engine: Engine, key: str, encoding: str, compress: Any) -> None:
    single = compress(orjson.dumps({**MESSAGES["track"], "messageId": "single"}))
    batch = compress(orjson.dumps({"batch": [{"type": "identify", "userId": "u-2", "messageId": "batched"}]}))
    _ok(client.post("/v1/track", content=single, headers={"Content-Encoding": encoding}, auth=(key, "")))
    _ok(client.post("/v1/batch", content=batch, headers={"Content-Encoding": encoding}, auth=(key, "")))
    assert [r["message_id"] for r in _rows(engine)] == ["single", "batched"]


def test_a_gzip_body_over_32_kb_inflated_is_fine_for_a_batch(client: TestClient, engine: Engine, key: str) -> None:
    items = [{"type": "track", "userId": "u", "event": "E", "properties": {"p": "x" * 1000}} for _ in range(200)]
    raw = orjson.dumps({"batch": items})
    assert len(raw) > 100_000
    _ok(client.post("/v1/batch", content=gzip.compress(raw), headers={"Content-Encoding": "gzip"}, auth=(key, "")))
    assert len(_rows(engine)) == 200


# --- idempotency ---------------------------------------------------------------------------------------------------


def test_a_retried_batch_is_stored_once(client: TestClient, engine: Engine, key: str) -> None:
    body = {"batch": [{"type": "track", "userId": "u", "event": "E", "messageId": f"m-{i}"} for i in range(5)]}
    for _ in range(3):
        _ok(client.post("/v1/batch", json=body, auth=(key, "")))
    assert [r["message_id"] for r in _rows(engine)] == [f"m-{i}" for i in range(5)]


def test_a_retry_overlapping_a_stored_batch_adds_only_the_new_messages(
    client: TestClient, engine: Engine, key: str
) -> None:
    def item(i: int) -> dict[str, Any]:
        return {"type": "track", "userId": "u", "event": f"E{i}", "messageId": f"m-{i}"}

    _ok(client.post("/v1/batch", json={"batch": [item(0), item(1)]}, auth=(key, "")))
    _ok(client.post("/v1/batch", json={"batch": [item(1), item(2), item(2)]}, auth=(key, "")))
    assert [r["message_id"] for r in _rows(engine)] == ["m-0", "m-1", "m-2"]


def test_the_same_message_id_from_two_sources_is_two_events(client: TestClient, engine: Engine) -> None:
    _web, web_key = make_source(engine, "web")
    _crm, crm_key = make_source(engine, "crm", "crm")
    for write_key in (web_key, crm_key, web_key):
        _ok(client.post("/v1/track", json={**MESSAGES["track"], "messageId": "shared"}, auth=(write_key, "")))
    assert len({r["source_id"] for r in _rows(engine)}) == 2
    assert len(_rows(engine)) == 2


def test_messages_without_an_id_are_each_stored(client: TestClient, engine: Engine, key: str) -> None:
    for _ in range(2):
        _ok(client.post("/v1/track", json=MESSAGES["track"], auth=(key, "")))
    first, second = _rows(engine)
    assert first["message_id"] != second["message_id"]


# --- what is stored ------------------------------------------------------------------------------------------------


def test_the_device_clock_is_corrected_in_the_stored_event(client: TestClient, engine: Engine, key: str) -> None:
    # The device's clock runs two hours behind; the event was made ten seconds before it was sent.
    device_now = datetime.now(UTC) - timedelta(hours=2)
    body = {
        **MESSAGES["track"],
        "originalTimestamp": (device_now - timedelta(seconds=10)).isoformat(),
        "sentAt": device_now.isoformat(),
    }
    before = datetime.now(UTC)
    _ok(client.post("/v1/track", json=body, auth=(key, "")))
    after = datetime.now(UTC)
    [row] = _rows(engine)
    payload = orjson.loads(row["payload"])
    received = datetime.fromisoformat(payload["receivedAt"])
    assert before - timedelta(milliseconds=1) <= received <= after
    assert _aware(row["received_at"]) - received < timedelta(milliseconds=1)
    skew = received - datetime.fromisoformat(payload["timestamp"])
    assert abs(skew - timedelta(seconds=10)) <= timedelta(milliseconds=2)
    assert datetime.fromisoformat(payload["originalTimestamp"]) - (device_now - timedelta(seconds=10)) < timedelta(
        milliseconds=1
    )


def _aware(value: Any) -> datetime:
    # SQLite hands back naive UTC datetimes (or text through a raw query); PostgreSQL aware ones.
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def test_a_client_cannot_choose_its_received_at(client: TestClient, engine: Engine, key: str) -> None:
    _ok(client.post("/v1/track", json={**MESSAGES["track"], "receivedAt": "2001-01-01T00:00:00Z"}, auth=(key, "")))
    [payload] = _payloads(engine)
    assert not payload["receivedAt"].startswith("2001")


def test_batch_context_and_integrations_are_merged_into_stored_items(
    client: TestClient, engine: Engine, key: str
) -> None:
    body = {
        "batch": [
            {"type": "identify", "userId": "u-1", "context": {"ip": "10.0.0.9"}},
            {"type": "track", "userId": "u-1", "event": "E", "integrations": {"Mixpanel": False}},
        ],
        "context": {"ip": "10.0.0.1", "library": {"name": "analytics-python", "version": "2.3.3"}},
        "integrations": {"All": True, "Mixpanel": True},
    }
    _ok(client.post("/v1/batch", json=body, auth=(key, "")))
    first, second = _payloads(engine)
    assert first["context"] == {"ip": "10.0.0.9", "library": {"name": "analytics-python", "version": "2.3.3"}}
    assert first["integrations"] == {"All": True, "Mixpanel": True}
    assert second["context"] == {"ip": "10.0.0.1", "library": {"name": "analytics-python", "version": "2.3.3"}}
    assert second["integrations"] == {"All": True, "Mixpanel": False}


# --- operations endpoints ------------------------------------------------------------------------------------------


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {
        "status": "ok",
        "worker": {
            "mode": "off",
            "alive": False,
            "pid": None,
            "restarts": 0,
            "processed": 0,
            "heartbeat_age_seconds": None,
            "last_exit_code": None,
        },
    }
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


def test_readyz_is_503_while_the_schema_is_behind(tmp_path: Path) -> None:
    empty = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", data_dir=tmp_path)
    with TestClient(create_app(empty), raise_server_exceptions=False) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "seamline db upgrade" in response.json()["reason"]


def _samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def test_metrics_count_accepted_and_refused_requests(settings: Settings, engine: Engine) -> None:
    _source, key = make_source(engine)
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
        before = _samples(client.get("/metrics").text)
        _ok(
            client.post(
                "/v1/batch",
                json={"batch": [{"type": "identify", "userId": f"u-{i}"} for i in range(3)]},
                auth=(key, ""),
            )
        )
        _ok(client.post("/v1/t", json=MESSAGES["track"], auth=(key, "")))
        assert client.post("/v1/t", json=MESSAGES["track"]).status_code == 401
        assert client.post("/v1/t", json={"userId": "u"}, auth=(key, "")).status_code == 400
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = _samples(response.text)
    assert ("seamline_events_accepted_total", (("source", "web"),)) not in before
    assert after[("seamline_events_accepted_total", (("source", "web"),))] == 4
    assert after[("seamline_events_rejected_total", (("reason", "unauthorized"), ("source", "unknown")))] == 1
    assert after[("seamline_events_rejected_total", (("reason", "invalid_input"), ("source", "web")))] == 1
    assert after[("seamline_request_duration_seconds_count", (("route", "track"),))] == 3
    assert after[("seamline_request_duration_seconds_count", (("route", "batch"),))] == 1
    assert before[("seamline_inbox_backlog", ())] == 0
    assert after[("seamline_inbox_backlog", ())] == 4


def test_metrics_need_the_bearer_token_when_one_is_set(settings: Settings) -> None:
    guarded = settings.model_copy(update={"metrics_token": "s3cret-token"})
    with TestClient(create_app(guarded), raise_server_exceptions=False, client=("127.0.0.1", 50000)) as client:
        assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 401


def test_metrics_are_not_served_to_other_hosts_without_a_token(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_docs_are_served_without_a_cdn(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert 'src="/static/swagger/swagger-ui-bundle.js"' in page.text
    assert 'href="/static/swagger/swagger-ui.css"' in page.text
    assert "//cdn" not in page.text
    assert "https://" not in page.text
    script = client.get("/static/swagger/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "SwaggerUIBundle" in script.text
    assert client.get("/static/swagger/swagger-ui.css").status_code == 200


def test_the_openapi_schema_lists_every_tracking_path(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for event_type, short in SHORT.items():
        assert "post" in paths[f"/v1/{event_type}"]
        assert "post" in paths[f"/v1/{short}"]
    assert "post" in paths["/v1/batch"]
    assert "get" in paths["/v1/projects/{write_key}/settings"]
