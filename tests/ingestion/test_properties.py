"""Properties of the tracking API: whatever arrives, no 5xx, and a refused request writes nothing."""

from __future__ import annotations

import base64
import gzip
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from tests.support.builders import make_source

TYPES = ["identify", "track", "page", "screen", "group", "alias"]
PATHS = [f"/v1/{p}" for p in (*TYPES, "i", "t", "p", "s", "g", "a", "batch", "b")]
FIELDS = [
    "type",
    "userId",
    "anonymousId",
    "messageId",
    "event",
    "previousId",
    "groupId",
    "name",
    "traits",
    "properties",
    "context",
    "integrations",
    "timestamp",
    "originalTimestamp",
    "sentAt",
    "writeKey",
    "receivedAt",
]
VALID: dict[str, Any] = {
    "type": "track",
    "userId": "u-1",
    "anonymousId": "a-1",
    "event": "Viewed",
    "previousId": "a-0",
    "groupId": "g-1",
    "properties": {"n": 1},
}
PROPERTY_SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
offsets = st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)))
times = st.datetimes(timezones=offsets | st.none()).map(lambda d: d.isoformat())
tricky_strings = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "x" * 101,
        "x" * 256,
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "2024-05-01T12:00:00Z",
        "2024-05-01T12:00:00",
        "2024-13-01T00:00:00Z",
        "track",
        "alias",
        "__proto__",
        "\u202e",
        "🦄" * 30,
    ]
)
field_values = json_values | tricky_strings | times | st.text(max_size=300)


@st.composite
def messages(draw: st.DrawFn) -> Any:
    """A valid message, then some fields set to anything and some removed; now and then not a message at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    message = dict(VALID)
    message["type"] = draw(st.sampled_from(TYPES))
    message.update(draw(st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), field_values, max_size=4)))
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
        message.pop(name, None)
    return message


@st.composite
def structured_bodies(draw: st.DrawFn) -> Any:
    """A single message, or a batch of them with batch-level fields set to anything."""
    if draw(st.booleans()):
        return draw(messages())
    body: dict[str, Any] = {"batch": draw(st.lists(messages(), min_size=0, max_size=6))}
    body.update(
        draw(st.dictionaries(st.sampled_from(["context", "integrations", "sentAt", "batch"]), field_values, max_size=2))
    )
    return body


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM inbox_events")).scalar_one())


def _check(client: TestClient, engine: Engine, path: str, raw: bytes, headers: dict[str, str]) -> int:
    """Send one request; no 5xx, a JSON error when refused, and no row unless accepted. Returns the status."""
    before = _count(engine)
    response = client.post(path, content=raw, headers=headers)
    after = _count(engine)
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code == 200:
        assert after >= before
    else:
        error = response.json()["error"]
        assert isinstance(error["code"], str)
        assert isinstance(error["errors"], list)
        assert after == before, f"{response.status_code} but {after - before} row(s) written"
    return response.status_code


@pytest.fixture
def key(engine: Engine) -> str:
    """One source per test; the examples of a property share the test's database."""
    _source, write_key = make_source(engine, "fuzz", "server")
    return write_key


def _basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


# Each property runs inside its test, so that the test can also check the examples reached the answers they were
# meant to reach: a property that only ever saw 401s would prove nothing.


def test_random_bytes_never_fail_the_server_nor_write(client: TestClient, engine: Engine, key: str) -> None:
    statuses: Counter[int] = Counter()

    @PROPERTY_SETTINGS
    @given(
        path=st.sampled_from(PATHS),
        raw=st.binary(max_size=300),
        encoding=st.sampled_from([None, "gzip", "deflate", "identity", "br", "gzip, br"]),
        content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"]),
    )
    def prop(path: str, raw: bytes, encoding: str | None, content_type: str) -> None:
        headers = {**_basic(key), "Content-Type": content_type}
        if encoding is not None:
            headers["Content-Encoding"] = encoding
        statuses[_check(client, engine, path, raw, headers)] += 1

    prop()
    assert statuses[400] > 0, statuses


def test_random_json_never_fails_the_server_nor_writes(client: TestClient, engine: Engine, key: str) -> None:
    statuses: Counter[int] = Counter()

    @PROPERTY_SETTINGS
    @given(
        path=st.sampled_from(PATHS),
        body=json_values,
        auth=st.sampled_from(["basic", "body", "header", "junk", "none"]),
    )
    def prop(path: str, body: Any, auth: str) -> None:
        headers: dict[str, str] = {"Content-Type": "application/json"}
        if auth == "basic":
            headers.update(_basic(key))
        elif auth == "header":
            headers["X-Write-Key"] = key
        elif auth == "junk":
            headers["Authorization"] = "Basic " + key
        elif auth == "body" and isinstance(body, dict):
            body = {**body, "writeKey": key}
        statuses[_check(client, engine, path, orjson.dumps(body), headers)] += 1

    prop()
    assert statuses[400] > 0, statuses
    assert statuses[401] > 0, statuses


def test_mutated_messages_and_batches_never_fail_the_server_nor_write_when_refused(
    client: TestClient, engine: Engine, key: str
) -> None:
    statuses: Counter[int] = Counter()

    @PROPERTY_SETTINGS
    @given(path=st.sampled_from(PATHS), body=structured_bodies(), compress=st.booleans())
    # Found by these properties; kept so that they are tried on every run.
    @example(path="/v1/track", body={**VALID, "userId": "a\x00b"}, compress=False)
    @example(path="/v1/batch", body={"batch": [{**VALID, "messageId": "\x00"}]}, compress=False)
    @example(path="/v1/t", body={**VALID, "originalTimestamp": "0001-01-01T00:00:00+01:00"}, compress=False)
    @example(
        path="/v1/track",
        body={**VALID, "timestamp": "9999-12-01T00:00:00+00:00", "sentAt": "0001-01-02T00:00:00+00:00"},
        compress=True,
    )
    # Nested deeper than orjson writes (it reads up to 1,024 levels): sent as bytes, since it cannot be dumped.
    @example(
        path="/v1/i", body=orjson.dumps(VALID)[:-1] + b',"traits":' + b'{"a":' * 300 + b"1" + b"}" * 301, compress=False
    )
    def prop(path: str, body: Any, compress: bool) -> None:
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        headers = {**_basic(key), "Content-Type": "text/plain"}
        if compress:
            raw = gzip.compress(raw)
            headers["Content-Encoding"] = "gzip"
        statuses[_check(client, engine, path, raw, headers)] += 1

    prop()
    assert statuses[200] > 0, statuses
    assert statuses[400] > 0, statuses


def test_the_strategies_reach_accepted_requests(client: TestClient, engine: Engine, key: str) -> None:
    # A guard for the properties above: the valid base message is accepted, so the mutations start from success.
    for path in ("/v1/track", "/v1/batch"):
        body = VALID if path == "/v1/track" else {"batch": [VALID], "sentAt": datetime.now(UTC).isoformat()}
        assert client.post(path, content=orjson.dumps(body), headers=_basic(key)).status_code == 200
    assert _count(engine) == 2
