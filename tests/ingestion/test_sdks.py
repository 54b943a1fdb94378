"""Real SDKs, unchanged, against a live Seamline server on both databases: what they send is what is stored.

Each test starts a real uvicorn server, points an SDK's host at it, and compares the rows of inbox_events with
the requests the SDK actually made (read back from its own HTTP session, or printed by the Node script).
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import rudderstack.analytics.client as rudder_client
import rudderstack.analytics.request as rudder_request
import segment.analytics.client as segment_client
import segment.analytics.request as segment_request
from sqlalchemy import Engine, text

from seamline.app import create_app
from seamline.config import Settings
from tests.support.builders import make_source
from tests.support.server import live_server

NODE_DIR = Path(__file__).resolve().parents[1] / "sdk" / "node"
NODE_SDK = NODE_DIR / "node_modules" / "@segment" / "analytics-node"
INSTALL_HINT = "run `npm ci --prefix tests/sdk/node` from the repository root first"
TIME_FIELDS = ("timestamp", "originalTimestamp", "sentAt", "receivedAt")
# On loopback a message is sent within this long of being made; a larger gap means a time was mangled.
MAX_SEND_DELAY = timedelta(seconds=30)


@dataclass
class Exchange:
    """One HTTP request an SDK made and the answer it got."""

    status: int
    answer: Any  # the decoded answer; None where it was not observed (the Node SDK does not expose it)
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Stored:
    """One row of inbox_events."""

    source_id: int
    type: str
    user_id: str | None
    anonymous_id: str | None
    received_at: datetime
    payload: dict[str, Any]


@dataclass
class Recorder:
    """What went over the wire, and what the SDK reported through its on_error callback."""

    exchanges: list[Exchange] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)

    def on_error(self, error: Exception, _batch: list[dict[str, Any]]) -> None:
        self.errors.append(error)


def _decoded(request: requests.PreparedRequest) -> dict[str, Any]:
    raw = request.body
    assert raw is not None
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if request.headers.get("Content-Encoding") == "gzip":
        data = gzip.decompress(data)
    body: dict[str, Any] = json.loads(data)
    return body


@contextmanager
def wire_tap(session: requests.Session) -> Iterator[Recorder]:
    """Record every request made through an SDK's HTTP session (a response hook: the requests still go out)."""
    recorder = Recorder()

    def record(response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        try:
            answer = response.json()
        except ValueError:  # keep the SDK's own handling of a non-JSON answer unchanged
            answer = response.text
        request = response.request
        recorder.exchanges.append(Exchange(response.status_code, answer, dict(request.headers), _decoded(request)))

    session.hooks["response"].append(record)
    try:
        yield recorder
    finally:
        session.hooks["response"].remove(record)
        session.close()  # drop the pooled keep-alive connection to a server that is going away


def _z(moment: datetime) -> str:
    """A time as the Segment spec writes it: UTC, milliseconds, Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    assert moment.tzinfo is not None, f"{value!r} has no UTC offset"
    return moment


def _stored(engine: Engine) -> dict[str, Stored]:
    query = text(
        "SELECT message_id, source_id, type, user_id, anonymous_id, received_at, payload, processed_at "
        "FROM inbox_events ORDER BY id"
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    stored: dict[str, Stored] = {}
    for row in rows:
        assert row.processed_at is None  # no worker runs in these tests
        received_at = row.received_at
        if isinstance(received_at, str):  # SQLite hands back text on some drivers
            received_at = datetime.fromisoformat(received_at)
        if received_at.tzinfo is None:  # SQLite keeps the UTC wall time without its offset
            received_at = received_at.replace(tzinfo=UTC)
        stored[row.message_id] = Stored(
            row.source_id, row.type, row.user_id, row.anonymous_id, received_at, json.loads(row.payload)
        )
    return stored


def assert_stored_as_sent(engine: Engine, source_id: int, exchanges: list[Exchange]) -> dict[str, Stored]:
    """Every message the SDK sent is stored once, field for field, with its times normalized and corrected."""
    assert exchanges, "the SDK made no request"
    for exchange in exchanges:
        assert exchange.status == 200, exchange
        assert exchange.answer in (None, {"success": True}), exchange
    sent = {
        message["messageId"]: (message, exchange.body) for exchange in exchanges for message in exchange.body["batch"]
    }
    stored = _stored(engine)
    assert sorted(stored) == sorted(sent)

    for message_id, (message, body) in sent.items():
        row = stored[message_id]
        assert row.source_id == source_id
        assert (row.type, row.user_id, row.anonymous_id) == (
            message["type"],
            message.get("userId"),
            message.get("anonymousId"),
        )
        payload = row.payload
        assert "writeKey" not in payload, "the write key must never be stored"
        for name, value in message.items():
            if name not in TIME_FIELDS:
                assert payload[name] == value, f"{message['type']}.{name} was not stored as sent"

        # Times: the device's call time and send time are kept; `timestamp` is corrected for the device's clock
        # (receivedAt - (sentAt - originalTimestamp)), as the Segment spec says.
        original = _moment(message.get("originalTimestamp") or message["timestamp"])
        sent_at = _moment(message.get("sentAt") or body["sentAt"])
        assert payload["receivedAt"] == _z(row.received_at)
        assert payload["originalTimestamp"] == _z(original)
        assert payload["sentAt"] == _z(sent_at)
        assert payload["timestamp"] == _z(row.received_at - (sent_at - original))
        assert timedelta(0) <= sent_at - original < MAX_SEND_DELAY, message
    return stored


def _by_type(stored: dict[str, Stored]) -> dict[str, Stored]:
    by_type = {row.type: row for row in stored.values()}
    assert len(by_type) == len(stored), "expected one message of each type"
    return by_type


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    with live_server(create_app(settings)) as url:
        yield url


def _segment(host: str, key: str, recorder: Recorder, **options: Any) -> segment_client.Client:
    """analytics-python as a backend would configure it, but failing fast: one retry, short timeouts."""
    return segment_client.Client(
        write_key=key,
        host=host,
        on_error=recorder.on_error,
        max_retries=1,
        max_total_backoff_duration=5,
        max_rate_limit_duration=5,
        timeout=5,
        upload_interval=0.05,
        **options,
    )


def _rudder(host: str, key: str, recorder: Recorder, **options: Any) -> rudder_client.Client:
    """rudder-sdk-python with its defaults (gzip on), but failing fast: one retry, short timeouts."""
    return rudder_client.Client(
        write_key=key,
        host=host,
        on_error=recorder.on_error,
        max_retries=1,
        timeout=5,
        upload_interval=0.05,
        **options,
    )


def _send_one_of_each(client: segment_client.Client | rudder_client.Client) -> list[dict[str, Any]]:
    """identify, track, page, screen, group and alias, as a backend sends them; returns the SDK's messages."""
    results = [
        client.identify("user-1", {"email": "ada@example.com", "name": "Ada Lovelace"}, anonymous_id="anon-1"),
        client.track("user-1", "Order Completed", {"orderId": "o-17", "total": 42.5, "items": [{"sku": "s-1"}]}),
        client.page(anonymous_id="anon-1", category="Docs", name="Pricing", properties={"url": "https://x.test/p"}),
        client.screen("user-1", name="Account Overview", properties={"tab": "billing"}),
        client.group("user-1", "acct-9", {"plan": "premium", "seats": 12}),
        client.alias("anon-1", "user-1"),
    ]
    client.shutdown()  # flush the queue, then stop the consumer thread
    assert all(ok for ok, _message in results)
    return [message for _ok, message in results]


def _assert_one_of_each(by_type: dict[str, Stored], sdk_messages: list[dict[str, Any]]) -> None:
    """The calls of `_send_one_of_each` arrived with their ids, names, properties and SDK-made messageIds."""
    assert sorted(by_type) == ["alias", "group", "identify", "page", "screen", "track"]
    assert {row.payload["messageId"] for row in by_type.values()} == {m["messageId"] for m in sdk_messages}
    identify, track, page = by_type["identify"], by_type["track"], by_type["page"]
    assert (identify.user_id, identify.anonymous_id) == ("user-1", "anon-1")
    assert track.payload["event"] == "Order Completed"
    assert track.payload["properties"] == {"orderId": "o-17", "total": 42.5, "items": [{"sku": "s-1"}]}
    assert (page.user_id, page.anonymous_id) == (None, "anon-1")
    assert (page.payload["name"], page.payload["category"]) == ("Pricing", "Docs")
    assert page.payload["properties"] == {"url": "https://x.test/p"}
    assert by_type["screen"].payload["name"] == "Account Overview"
    assert by_type["group"].payload["groupId"] == "acct-9"
    assert by_type["group"].payload["traits"] == {"plan": "premium", "seats": 12}
    assert (by_type["alias"].payload["previousId"], by_type["alias"].user_id) == ("anon-1", "user-1")


def test_segment_python_sdk_is_stored_as_sent(server: str, engine: Engine) -> None:
    source, key = make_source(engine, "python-backend", "server")
    with wire_tap(segment_request._session) as wire:
        sdk_messages = _send_one_of_each(_segment(server, key, wire, upload_size=4))

    assert wire.errors == []
    assert len(wire.exchanges) >= 2, "upload_size=4 must split six calls over several batches"
    for exchange in wire.exchanges:
        assert exchange.headers["Authorization"].startswith("Basic ")
        assert exchange.body["writeKey"] == key  # analytics-python sends the key both ways
    stored = assert_stored_as_sent(engine, source.id, wire.exchanges)
    by_type = _by_type(stored)
    _assert_one_of_each(by_type, sdk_messages)
    assert by_type["identify"].payload["traits"] == {"email": "ada@example.com", "name": "Ada Lovelace"}
    assert by_type["track"].payload["context"]["library"]["name"] == "analytics-python"


def test_rudderstack_python_sdk_gzipped_is_stored_as_sent(server: str, engine: Engine) -> None:
    source, key = make_source(engine, "rudder-backend", "server")
    with wire_tap(rudder_request._session) as wire:
        client = _rudder(server, key, wire)
        assert client.gzip is True, "rudder-sdk-python gzips by default; this test is about that path"
        sdk_messages = _send_one_of_each(client)

    assert wire.errors == []
    for exchange in wire.exchanges:
        assert exchange.headers["Content-Encoding"] == "gzip"
        assert exchange.headers["Authorization"].startswith("Basic ")
        assert "writeKey" not in exchange.body  # so the Basic credentials alone authenticated it
    stored = assert_stored_as_sent(engine, source.id, wire.exchanges)
    by_type = _by_type(stored)
    _assert_one_of_each(by_type, sdk_messages)
    # rudder-sdk-python moves identify traits into context.traits and marks each message's channel.
    identify = by_type["identify"].payload
    assert identify["context"]["traits"] == {"email": "ada@example.com", "name": "Ada Lovelace"}
    assert "traits" not in identify
    assert {row.payload["channel"] for row in by_type.values()} == {"server"}
    assert by_type["track"].payload["integrations"] == {"All": True}


class _FastClock(datetime):
    """A device clock three hours ahead."""

    SKEW = timedelta(hours=3)

    @classmethod
    def now(cls, tz: Any = None) -> _FastClock:
        return super().now(tz) + cls.SKEW


@pytest.mark.parametrize("sdk", ["segment", "rudderstack"])
def test_sdk_on_a_wrong_clock_gets_a_corrected_timestamp(
    sdk: str, server: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, key = make_source(engine, f"{sdk}-skewed", "server")
    # The SDK reads the device clock for each message's time and each request's sentAt; both run three hours
    # fast, as on a badly set machine. Seamline's own clock is untouched.
    client_module, request_module = (
        (segment_client, segment_request) if sdk == "segment" else (rudder_client, rudder_request)
    )
    monkeypatch.setattr(client_module, "datetime", _FastClock)
    monkeypatch.setattr(request_module, "datetime", _FastClock)
    with wire_tap(request_module._session) as wire:
        make = _segment if sdk == "segment" else _rudder
        client = make(server, key, wire)
        _ok, message = client.track("user-1", "Clock Checked", {"n": 1})
        client.shutdown()

    assert wire.errors == []
    stored = assert_stored_as_sent(engine, source.id, wire.exchanges)
    row = stored[message["messageId"]]
    original = _moment(row.payload["originalTimestamp"])
    corrected = _moment(row.payload["timestamp"])
    assert original - row.received_at > _FastClock.SKEW - MAX_SEND_DELAY, "the device's own time is kept"
    assert timedelta(0) <= row.received_at - corrected < MAX_SEND_DELAY, "timestamp is on the server's clock"


@pytest.mark.parametrize("sdk", ["segment", "rudderstack"])
def test_batch_retried_by_the_sdk_is_stored_once(sdk: str, server: str, engine: Engine) -> None:
    """A retry after a lost answer sends the same batch again; the first delivery is kept, nothing doubles."""
    source, key = make_source(engine, f"{sdk}-retry", "server")
    recorder = Recorder()
    make = _segment if sdk == "segment" else _rudder
    client = make(server, key, recorder, send=False)  # builds messages exactly as it would send them
    batch = [client.identify("user-1", {"plan": "pro"})[1], client.track("user-1", "Retried", {"n": 1})[1]]

    with wire_tap(segment_request._session if sdk == "segment" else rudder_request._session) as wire:
        # The SDK's own request function, called as its consumer calls it on the first try and on a retry.
        if sdk == "segment":
            segment_request.post(key, server, timeout=5, batch=batch)
            time.sleep(0.01)  # a later sentAt, so the test can tell the deliveries apart
            segment_request.post(key, server, timeout=5, batch=batch, retry_count=1)
        else:
            rudder_request.post(key, server, timeout=5, batch=batch)
            time.sleep(0.01)
            rudder_request.post(key, server, timeout=5, batch=batch)

    assert recorder.errors == []
    assert len(wire.exchanges) == 2
    first, retry = wire.exchanges
    assert (retry.status, retry.answer) == (200, {"success": True}), (
        "a duplicate is acknowledged, or the SDK retries on"
    )
    assert first.body["batch"] == retry.body["batch"]
    assert first.body["sentAt"] != retry.body["sentAt"]
    if sdk == "segment":
        assert retry.headers["X-Retry-Count"] == "1"
    stored = assert_stored_as_sent(engine, source.id, [first])
    assert len(stored) == 2
    assert {row.payload["sentAt"] for row in stored.values()} == {_z(_moment(first.body["sentAt"]))}


@pytest.mark.parametrize("sdk", ["segment", "rudderstack"])
def test_sdk_with_a_wrong_write_key_fails_fast_and_stores_nothing(sdk: str, server: str, engine: Engine) -> None:
    make_source(engine, f"{sdk}-real", "server")
    started = time.monotonic()
    with wire_tap(segment_request._session if sdk == "segment" else rudder_request._session) as wire:
        client = (_segment if sdk == "segment" else _rudder)(server, "not-a-write-key", wire)
        client.track("user-1", "Never Stored")
        client.shutdown()

    assert time.monotonic() - started < 10, "a 401 is final: the SDK must not back off and retry it"
    assert len(wire.errors) == 1
    error = wire.errors[0]
    # An SDK that cannot read the error answer takes the 401 for a network failure and retries it, with its
    # default ten backed-off retries (up to ~17 minutes) per batch, holding up everything queued behind it.
    api_error = segment_request.APIError if sdk == "segment" else rudder_request.APIError
    assert isinstance(error, api_error), f"the SDK could not read Seamline's error answer: {error!r}"
    assert error.status == 401
    assert [exchange.status for exchange in wire.exchanges] == [401], "a 401 is final: it must not be retried"
    assert _stored(engine) == {}


NODE_EXPECTED = {
    "identify": {
        "userId": "node-user-1",
        "anonymousId": "node-anon-1",
        "traits": {"email": "grace@example.com", "name": "Grace Hopper", "plan": "pro"},
    },
    "track": {
        "userId": "node-user-1",
        "event": "Order Completed",
        "properties": {"orderId": "o-42", "total": 99.5, "items": [{"sku": "sku-1", "qty": 2}]},
    },
    "page": {
        "anonymousId": "node-anon-1",
        "category": "Docs",
        "name": "Pricing",
        "properties": {"url": "https://shop.example/pricing", "category": "Docs"},  # the SDK copies category in
    },
    "screen": {"userId": "node-user-1", "name": "Account Overview", "properties": {"tab": "billing"}},
    "group": {"userId": "node-user-1", "groupId": "acct-9", "traits": {"plan": "enterprise", "seats": 40}},
    "alias": {"userId": "node-user-1", "previousId": "node-anon-1"},
}


def _run_node_sdk(host: str, key: str) -> list[Exchange]:
    """Run tests/sdk/node/send.mjs; returns the requests it made, as it printed them."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH; the @segment/analytics-node test needs Node.js 20 or later")
    if not NODE_SDK.is_dir():
        pytest.fail(f"{NODE_SDK.relative_to(NODE_DIR.parents[2])} is missing: {INSTALL_HINT}")
    pinned = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]["@segment/analytics-node"]
    installed = json.loads((NODE_SDK / "package.json").read_text())["version"]
    assert installed == pinned, f"node_modules holds {installed}, package.json pins {pinned}: {INSTALL_HINT}"

    result = subprocess.run(
        [node, "send.mjs", host, key], cwd=NODE_DIR, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"send.mjs exited {result.returncode}:\n{result.stderr}\n{result.stdout}"
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return [Exchange(line["status"], None, {}, line["request"]) for line in lines]


def test_segment_node_sdk_is_stored_as_sent(server: str, engine: Engine) -> None:
    source, key = make_source(engine, "node-backend", "server")
    exchanges = _run_node_sdk(server, key)

    assert len(exchanges) >= 3, "flushAt: 2 must split six calls over several batches"
    stored = assert_stored_as_sent(engine, source.id, exchanges)
    by_type = _by_type(stored)
    assert sorted(by_type) == sorted(NODE_EXPECTED)
    for event_type, expected in NODE_EXPECTED.items():
        payload = by_type[event_type].payload
        assert {name: payload.get(name) for name in expected} == expected, event_type
        assert payload["messageId"].startswith("node-next-"), "the messageId is the one the SDK made"
        assert payload["context"]["library"]["name"] == "@segment/analytics-node"
