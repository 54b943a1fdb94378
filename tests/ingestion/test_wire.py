"""The Segment wire format without a database: decoding, validation, normalization, partitions."""

from __future__ import annotations

import gzip
import uuid
import zlib
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from seamline.core.errors import FieldError, InvalidInput, TooLarge
from seamline.ingestion.wire import (
    PARTITIONS,
    Envelope,
    Limits,
    body_write_key,
    decode_body,
    parse_batch,
    parse_single,
    partition_of,
)

RECEIVED = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
LIMITS = Limits()


def _payload(envelope: Envelope) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(envelope.payload)
    return loaded


def _errors(exc: InvalidInput | TooLarge) -> list[tuple[int | None, str, str]]:
    return [(e.index, e.field, e.code) for e in exc.errors]


def _single(body: Any, event_type: str = "track") -> dict[str, Any]:
    return _payload(parse_single(body, event_type, RECEIVED, LIMITS)[0])


# --- decode_body ---------------------------------------------------------------------------------------------------


def test_plain_json_is_decoded_whatever_the_whitespace() -> None:
    assert decode_body(b' \n{"userId": "u-1"}\n', None, 1000) == {"userId": "u-1"}
    assert decode_body(b'{"a": 1}', "identity", 1000) == {"a": 1}


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "GZIP", " gzip "])
def test_gzip_bodies_are_inflated(encoding: str) -> None:
    raw = gzip.compress(b'{"userId": "u-1"}')
    assert decode_body(raw, encoding, 1000) == {"userId": "u-1"}


def test_deflate_bodies_are_inflated() -> None:
    assert decode_body(zlib.compress(b'{"a": [1, 2]}'), "deflate", 1000) == {"a": [1, 2]}


def test_an_inflated_body_of_exactly_the_limit_is_accepted() -> None:
    body = b'{"a": "' + b"x" * 91 + b'"}'
    assert len(body) == 100
    assert decode_body(gzip.compress(body), "gzip", 100) == {"a": "x" * 91}


def test_a_gzip_bomb_is_too_large_without_being_inflated_whole() -> None:
    bomb = gzip.compress(b" " * 20_000_000, compresslevel=9)
    assert len(bomb) < 50_000
    with pytest.raises(TooLarge) as caught:
        decode_body(bomb, "gzip", 500 * 1024)
    assert _errors(caught.value) == [(None, "body", "too_large")]


def test_an_inflated_body_one_byte_over_the_limit_is_too_large() -> None:
    with pytest.raises(TooLarge):
        decode_body(gzip.compress(b"{" + b" " * 99 + b"}"), "gzip", 100)


def test_a_raw_body_over_the_limit_is_too_large() -> None:
    with pytest.raises(TooLarge) as caught:
        decode_body(b"{}" + b" " * 100, None, 100)
    assert _errors(caught.value) == [(None, "body", "too_large")]


@pytest.mark.parametrize(
    "raw",
    [b"not gzip at all", gzip.compress(b'{"userId": "u-1"}')[:-12], b"\x1f\x8b\x08\x00garbage"],
    ids=["not-gzip", "truncated", "bad-header"],
)
def test_corrupt_gzip_is_invalid_encoding(raw: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_body(raw, "gzip", 1000)
    assert _errors(caught.value) == [(None, "body", "invalid_encoding")]


@pytest.mark.parametrize("encoding", ["br", "compress", "zstd"])
def test_unsupported_content_encodings_are_named(encoding: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_body(b"{}", encoding, 1000)
    assert _errors(caught.value) == [(None, "Content-Encoding", "unsupported")]


@pytest.mark.parametrize("raw", [b"", b"   \n\t"])
def test_an_empty_body_is_required(raw: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_body(raw, None, 1000)
    assert _errors(caught.value) == [(None, "body", "required")]


@pytest.mark.parametrize("raw", [b"{", b"userId=u-1", b"{'a': 1}", b"\xff\xfe{}", b"NaN"])
def test_malformed_json_is_invalid_json(raw: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_body(raw, None, 1000)
    assert _errors(caught.value) == [(None, "body", "invalid_json")]


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"writeKey": "wk_abc"}, "wk_abc"),
        ({"writeKey": ""}, None),
        ({"writeKey": 12}, None),
        ({"batch": []}, None),
        (["wk_abc"], None),
        ("wk_abc", None),
    ],
)
def test_write_key_in_the_body(body: Any, key: str | None) -> None:
    assert body_write_key(body) == key


# --- validation of one message ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [[], "track", 3, None, True])
def test_a_single_message_must_be_an_object(body: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_single(body, "track", RECEIVED, LIMITS)
    assert _errors(caught.value) == [(None, "body", "not_an_object")]


@pytest.mark.parametrize("ids", [{}, {"userId": None}, {"userId": ""}, {"anonymousId": True}, {"userId": {"a": 1}}])
def test_user_id_or_anonymous_id_is_required(ids: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_single({**ids, "event": "E"}, "track", RECEIVED, LIMITS)
    assert _errors(caught.value) == [(None, "userId", "required")]


@pytest.mark.parametrize(("event_type", "field"), [("track", "event"), ("alias", "previousId"), ("group", "groupId")])
def test_each_type_requires_its_field(event_type: str, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_single({"userId": "u-1"}, event_type, RECEIVED, LIMITS)
    assert _errors(caught.value) == [(None, field, "required")]
    assert _single({"userId": "u-1", field: "x"}, event_type)["type"] == event_type


@pytest.mark.parametrize("event_type", ["identify", "page", "screen"])
def test_types_without_a_required_field_need_only_an_id(event_type: str) -> None:
    assert _single({"anonymousId": "a-1"}, event_type)["type"] == event_type


def test_numeric_ids_are_accepted_as_text() -> None:
    envelope = parse_single({"userId": 1001, "event": "E"}, "track", RECEIVED, LIMITS)[0]
    assert envelope.user_id == "1001"


def test_every_problem_of_a_message_is_reported_at_once() -> None:
    body = {"event": "E", "messageId": "", "traits": [1], "context": "web", "timestamp": "yesterday"}
    with pytest.raises(InvalidInput) as caught:
        parse_single(body, "track", RECEIVED, LIMITS)
    assert sorted(_errors(caught.value), key=str) == sorted(
        [
            (None, "userId", "required"),
            (None, "messageId", "invalid"),
            (None, "traits", "not_an_object"),
            (None, "context", "not_an_object"),
            (None, "timestamp", "invalid_time"),
        ],
        key=str,
    )


def test_message_id_of_the_longest_length_is_kept() -> None:
    assert _single({"userId": "u", "event": "E", "messageId": "m" * 100})["messageId"] == "m" * 100


def test_message_id_over_the_limit_is_too_long() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_single({"userId": "u", "event": "E", "messageId": "m" * 101}, "track", RECEIVED, LIMITS)
    assert _errors(caught.value) == [(None, "messageId", "too_long")]


@pytest.mark.parametrize("message_id", [17, ["m"], {"id": "m"}, True])
def test_message_id_must_be_a_string(message_id: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_single({"userId": "u", "event": "E", "messageId": message_id}, "track", RECEIVED, LIMITS)
    assert _errors(caught.value) == [(None, "messageId", "invalid")]


def test_a_missing_message_id_is_generated_fresh_each_time() -> None:
    first = parse_single({"userId": "u", "event": "E"}, "track", RECEIVED, LIMITS)[0]
    second = parse_single({"userId": "u", "event": "E"}, "track", RECEIVED, LIMITS)[0]
    assert first.message_id != second.message_id
    assert str(uuid.UUID(first.message_id)) == first.message_id
    assert _payload(first)["messageId"] == first.message_id


@pytest.mark.parametrize("field", ["userId", "anonymousId"])
def test_ids_over_255_characters_are_too_long(field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_single({field: "x" * 256, "event": "E"}, "track", RECEIVED, LIMITS)
    assert _errors(caught.value) == [(None, field, "too_long")]
    assert _single({field: "x" * 255, "event": "E"})[field] == "x" * 255


@pytest.mark.parametrize("field", ["timestamp", "originalTimestamp", "sentAt"])
@pytest.mark.parametrize("value", ["2024-05-01T12:00:00", "not a time", 1714564800, ""])
def test_times_must_be_iso_8601_with_an_offset(field: str, value: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_single({"userId": "u", "event": "E", field: value}, "track", RECEIVED, LIMITS)
    assert _errors(caught.value) == [(None, field, "invalid_time")]


@pytest.mark.parametrize(
    "times",
    [
        {"originalTimestamp": "0001-01-01T00:00:00+01:00"},
        {"timestamp": "9999-12-31T23:59:59-01:00"},
        {"sentAt": "0001-01-01T00:30:00+01:00"},
        {"originalTimestamp": "9999-12-01T00:00:00Z", "sentAt": "0001-01-02T00:00:00Z"},
        {"originalTimestamp": "0001-01-02T00:00:00Z", "sentAt": "9999-12-01T00:00:00Z"},
    ],
    ids=["before-year-1-in-utc", "after-year-9999-in-utc", "sent-before-year-1", "skew-overflow", "skew-underflow"],
)
def test_times_outside_the_representable_range_are_invalid_not_a_crash(times: dict[str, str]) -> None:
    # Bug in wire.py: these parse as aware datetimes, then converting to UTC or correcting the skew leaves
    # datetime's range and raises OverflowError, which the API answers with a 500.
    with pytest.raises(InvalidInput) as caught:
        parse_single({"userId": "u", "event": "E", **times}, "track", RECEIVED, LIMITS)
    assert {e.field for e in caught.value.errors} <= {"timestamp", "originalTimestamp", "sentAt"}
    assert {e.code for e in caught.value.errors} == {"invalid_time"}


def test_a_message_nested_deeper_than_the_encoder_allows_is_refused_not_a_crash() -> None:
    # Bug in wire.py: orjson.loads accepts 1024 levels of nesting but orjson.dumps refuses more than 254
    # (TypeError "Recursion limit reached"), so such a body passes validation and crashes when re-encoded.
    body = orjson.loads(b'{"userId": "u", "event": "E", "properties": ' + _deep(300) + b"}")
    with pytest.raises((InvalidInput, TooLarge)) as caught:
        parse_single(body, "track", RECEIVED, LIMITS)
    assert isinstance(caught.value, InvalidInput | TooLarge)
    assert caught.value.errors


def _deep(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


@pytest.mark.parametrize("field", ["traits", "properties", "context", "integrations"])
def test_object_fields_must_be_objects(field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_single({"userId": "u", "event": "E", field: "x"}, "track", RECEIVED, LIMITS)
    assert _errors(caught.value) == [(None, field, "not_an_object")]


def test_the_path_decides_the_type_of_a_single_message() -> None:
    assert _single({"userId": "u", "type": "identify", "event": "E"}, "track")["type"] == "track"


def test_a_message_over_the_event_limit_is_too_large() -> None:
    body = {"userId": "u", "event": "E", "properties": {"blob": "x" * (32 * 1024)}}
    with pytest.raises(TooLarge) as caught:
        parse_single(body, "track", RECEIVED, LIMITS)
    assert _errors(caught.value) == [(None, "", "too_large")]


def test_the_write_key_never_reaches_the_stored_payload() -> None:
    payload = _single({"userId": "u", "event": "E", "writeKey": "wk_secret"})
    assert "writeKey" not in payload
    assert (
        b"wk_secret"
        not in parse_single({"userId": "u", "writeKey": "wk_secret"}, "identify", RECEIVED, LIMITS)[0].payload
    )


# --- times ---------------------------------------------------------------------------------------------------------


def test_without_times_the_timestamp_is_the_server_receipt() -> None:
    payload = _single({"userId": "u", "event": "E"})
    assert payload["receivedAt"] == "2024-05-01T12:00:00.000Z"
    assert payload["timestamp"] == "2024-05-01T12:00:00.000Z"
    assert "originalTimestamp" not in payload
    assert "sentAt" not in payload


def test_the_device_clock_error_is_corrected_and_the_original_kept() -> None:
    # The device's clock is an hour behind; the call happened 5 s before the send.
    payload = _single(
        {
            "userId": "u",
            "event": "E",
            "originalTimestamp": "2024-05-01T11:00:00.000Z",
            "sentAt": "2024-05-01T11:00:05.000Z",
        }
    )
    assert payload["timestamp"] == "2024-05-01T11:59:55.000Z"
    assert payload["originalTimestamp"] == "2024-05-01T11:00:00.000Z"
    assert payload["sentAt"] == "2024-05-01T11:00:05.000Z"
    assert payload["receivedAt"] == "2024-05-01T12:00:00.000Z"


def test_the_correction_works_across_offsets_and_with_timestamp_as_the_original() -> None:
    # The device says 14:59:58 at +03:00 (11:59:58Z) and sent 1.5 s later at 12:00:30Z by its own clock.
    payload = _single(
        {
            "userId": "u",
            "event": "E",
            "timestamp": "2024-05-01T14:59:58.500+03:00",
            "sentAt": "2024-05-01T12:00:00.000Z",
        }
    )
    assert payload["timestamp"] == "2024-05-01T11:59:58.500Z"
    assert payload["originalTimestamp"] == "2024-05-01T11:59:58.500Z"


def test_without_sent_at_the_device_timestamp_is_trusted() -> None:
    payload = _single({"userId": "u", "event": "E", "timestamp": "2024-04-30T08:00:00+02:00"})
    assert payload["timestamp"] == "2024-04-30T06:00:00.000Z"
    assert payload["originalTimestamp"] == "2024-04-30T06:00:00.000Z"


def test_original_timestamp_wins_over_timestamp() -> None:
    payload = _single(
        {
            "userId": "u",
            "event": "E",
            "originalTimestamp": "2024-05-01T10:00:00Z",
            "timestamp": "2020-01-01T00:00:00Z",
            "sentAt": "2024-05-01T10:00:10Z",
        }
    )
    assert payload["timestamp"] == "2024-05-01T11:59:50.000Z"


# --- batches -------------------------------------------------------------------------------------------------------


def _batch(*items: Any, **shared: Any) -> list[Envelope]:
    return parse_batch({"batch": list(items), **shared}, RECEIVED, LIMITS)


@pytest.mark.parametrize("body", [[], "x", None])
def test_a_batch_body_must_be_an_object(body: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_batch(body, RECEIVED, LIMITS)
    assert _errors(caught.value) == [(None, "body", "not_an_object")]


@pytest.mark.parametrize(("body", "code"), [({}, "required"), ({"batch": {}}, "required"), ({"batch": []}, "empty")])
def test_a_batch_needs_a_list_of_messages(body: dict[str, Any], code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_batch(body, RECEIVED, LIMITS)
    assert _errors(caught.value) == [(None, "batch", code)]


def test_a_batch_of_the_most_events_is_accepted_and_one_more_is_too_many() -> None:
    item = {"type": "track", "userId": "u", "event": "E"}
    assert len(_batch(*[item] * 2500)) == 2500
    with pytest.raises(TooLarge) as caught:
        _batch(*[item] * 2501)
    assert _errors(caught.value) == [(None, "batch", "too_many")]


def test_item_errors_name_their_index_and_field_and_nothing_is_returned() -> None:
    good = {"type": "track", "userId": "u", "event": "E"}
    with pytest.raises(InvalidInput) as caught:
        _batch(
            good,
            {"type": "track", "userId": "u"},
            good,
            "not a message",
            {"type": "teleport", "userId": "u"},
            {"type": "alias", "anonymousId": "a", "messageId": "m" * 101},
        )
    assert _errors(caught.value) == [
        (1, "event", "required"),
        (3, "", "not_an_object"),
        (4, "type", "invalid"),
        (5, "previousId", "required"),
        (5, "messageId", "too_long"),
    ]


def test_batch_items_need_a_type() -> None:
    with pytest.raises(InvalidInput) as caught:
        _batch({"userId": "u", "event": "E"})
    assert _errors(caught.value) == [(0, "type", "invalid")]


def test_an_item_over_the_event_limit_makes_the_batch_too_large_naming_the_item() -> None:
    good = {"type": "identify", "userId": "u"}
    big = {"type": "track", "userId": "u", "event": "E", "properties": {"blob": "x" * (32 * 1024)}}
    with pytest.raises(TooLarge) as caught:
        _batch(good, big, {"type": "track", "userId": "u"})
    # Size errors are reported alone: the client must split the batch before other fixes matter.
    assert _errors(caught.value) == [(1, "", "too_large")]


@pytest.mark.parametrize("field", ["context", "integrations"])
def test_batch_level_objects_must_be_objects(field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        _batch({"type": "identify", "userId": "u"}, **{field: ["x"]})
    assert _errors(caught.value) == [(None, field, "not_an_object")]


def test_batch_level_sent_at_must_be_a_time() -> None:
    with pytest.raises(InvalidInput) as caught:
        _batch({"type": "identify", "userId": "u"}, sentAt="soon")
    assert _errors(caught.value) == [(None, "sentAt", "invalid_time")]


def test_batch_context_and_integrations_merge_into_each_item_the_item_winning() -> None:
    envelopes = _batch(
        {"type": "identify", "userId": "u", "context": {"ip": "10.0.0.2", "page": {"path": "/a"}}},
        {"type": "identify", "userId": "v", "integrations": {"All": True}},
        context={"ip": "10.0.0.1", "library": {"name": "analytics-python", "version": "2.3"}},
        integrations={"All": False, "Mixpanel": True},
    )
    first, second = (_payload(e) for e in envelopes)
    assert first["context"] == {
        "ip": "10.0.0.2",
        "page": {"path": "/a"},
        "library": {"name": "analytics-python", "version": "2.3"},
    }
    assert first["integrations"] == {"All": False, "Mixpanel": True}
    assert second["context"] == {"ip": "10.0.0.1", "library": {"name": "analytics-python", "version": "2.3"}}
    assert second["integrations"] == {"All": True, "Mixpanel": True}


def test_batch_sent_at_corrects_items_without_their_own() -> None:
    first, second = (
        _payload(e)
        for e in _batch(
            {"type": "identify", "userId": "u", "timestamp": "2024-05-01T10:00:00Z"},
            {
                "type": "identify",
                "userId": "u",
                "timestamp": "2024-05-01T10:00:00Z",
                "sentAt": "2024-05-01T10:00:02Z",
            },
            sentAt="2024-05-01T10:00:30Z",
        )
    )
    assert first["timestamp"] == "2024-05-01T11:59:30.000Z"
    assert first["sentAt"] == "2024-05-01T10:00:30.000Z"
    assert second["timestamp"] == "2024-05-01T11:59:58.000Z"


def test_batch_items_keep_their_order_and_lose_the_write_key() -> None:
    envelopes = _batch(
        *[{"type": "track", "userId": "u", "event": f"E{i}", "writeKey": "wk_secret"} for i in range(5)],
        writeKey="wk_secret",
    )
    assert [_payload(e)["event"] for e in envelopes] == [f"E{i}" for i in range(5)]
    assert all(b"wk_secret" not in e.payload for e in envelopes)


# --- partitions ----------------------------------------------------------------------------------------------------


def test_partitions_are_stable_across_versions_and_processes() -> None:
    # Fixed values: changing the function would split a person's queued events across two partitions.
    assert [partition_of(key) for key in ("a-77", "u-1001", "")] == [50, 57, 0]


def test_partitions_cover_the_range() -> None:
    seen = {partition_of(f"person-{i}") for i in range(5000)}
    assert seen == set(range(PARTITIONS))


def test_the_anonymous_id_decides_the_partition_when_present() -> None:
    with_both = parse_single({"userId": "u-1001", "anonymousId": "a-77"}, "identify", RECEIVED, LIMITS)[0]
    user_only = parse_single({"userId": "u-1001"}, "identify", RECEIVED, LIMITS)[0]
    assert (with_both.partition, user_only.partition) == (partition_of("a-77"), partition_of("u-1001"))
    assert (with_both.user_id, with_both.anonymous_id) == ("u-1001", "a-77")


def test_field_errors_serialize_with_index_and_field() -> None:
    assert FieldError("event", "required", "track needs event", 3).as_dict() == {
        "index": 3,
        "field": "event",
        "code": "required",
        "message": "track needs event",
    }
