"""The Segment wire format: decode a request body, validate it, and normalize each message for the inbox.

Pure: values in, values out. The whole request is validated before anything is returned, so a request is
accepted or rejected as a whole, with every item's errors reported by index.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from seamline.core.clock import isoformat_z
from seamline.core.errors import FieldError, InvalidInput, TooLarge

EVENT_TYPES = frozenset({"identify", "track", "page", "screen", "group", "alias"})
SHORT_PATHS = {"i": "identify", "t": "track", "p": "page", "s": "screen", "g": "group", "a": "alias"}
REQUIRED_FIELDS = {"track": "event", "alias": "previousId", "group": "groupId"}
OBJECT_FIELDS = ("traits", "properties", "context", "integrations")
TIME_FIELDS = ("timestamp", "originalTimestamp", "sentAt")
PARTITIONS = 64


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits of the Segment HTTP API."""

    max_event_bytes: int = 32 * 1024
    max_batch_bytes: int = 500 * 1024
    max_batch_events: int = 2500
    max_message_id_length: int = 100


@dataclass(frozen=True, slots=True)
class Envelope:
    """One validated, normalized message, ready to append to the inbox."""

    message_id: str
    type: str
    user_id: str | None
    anonymous_id: str | None
    partition: int
    payload: bytes


def partition_of(person_key: str) -> int:
    """The inbox partition of a person key: stable across processes, so one person's events stay ordered."""
    return zlib.crc32(person_key.encode("utf-8")) % PARTITIONS


def decode_body(raw: bytes, content_encoding: str | None, max_bytes: int) -> Any:
    """JSON from a request body, gzip-inflated if asked; browsers send it as text/plain, which is fine."""
    if len(raw) > max_bytes:
        raise TooLarge([FieldError("body", "too_large", f"body is over {max_bytes} bytes")])
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        raw = _inflate(raw, encoding, max_bytes)
    elif encoding not in ("", "identity"):
        raise InvalidInput(
            [FieldError("Content-Encoding", "unsupported", f"unsupported content encoding {encoding!r}")]
        )
    if not raw.strip():
        raise InvalidInput([FieldError("body", "required", "the request body is empty")])
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput([FieldError("body", "invalid_json", f"body is not valid JSON: {exc}")]) from None


def _inflate(raw: bytes, encoding: str, max_bytes: int) -> bytes:
    # A bounded inflate: a small gzip bomb must not become a large allocation.
    wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(raw, max_bytes + 1)
    except zlib.error as exc:
        raise InvalidInput([FieldError("body", "invalid_encoding", f"body is not valid {encoding}: {exc}")]) from None
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise TooLarge([FieldError("body", "too_large", f"inflated body is over {max_bytes} bytes")])
    if not inflater.eof:
        raise InvalidInput([FieldError("body", "invalid_encoding", f"body is truncated {encoding}")])
    return out


def body_write_key(body: Any) -> str | None:
    """The `writeKey` a browser SDK puts in the body, if any."""
    if isinstance(body, dict):
        key = body.get("writeKey")
        if isinstance(key, str) and key:
            return key
    return None


def parse_single(body: Any, event_type: str, received_at: datetime, limits: Limits) -> list[Envelope]:
    """One message sent to /v1/{type}."""
    if not isinstance(body, dict):
        raise InvalidInput([FieldError("body", "not_an_object", "the body must be a JSON object")])
    envelope, errors = _normalize(body, None, event_type, received_at, limits, None, None, None)
    _raise_for(errors)
    assert envelope is not None
    return [envelope]


def parse_batch(body: Any, received_at: datetime, limits: Limits) -> list[Envelope]:
    """A /v1/batch request: every item valid, or the whole request refused."""
    if not isinstance(body, dict):
        raise InvalidInput([FieldError("body", "not_an_object", "the body must be a JSON object")])
    items = body.get("batch")
    if not isinstance(items, list):
        raise InvalidInput([FieldError("batch", "required", "batch must be a list of messages")])
    if not items:
        raise InvalidInput([FieldError("batch", "empty", "batch holds no messages")])
    if len(items) > limits.max_batch_events:
        raise TooLarge(
            [
                FieldError(
                    "batch",
                    "too_many",
                    f"batch holds {len(items)} messages; at most {limits.max_batch_events}",
                )
            ]
        )
    shared: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name in ("context", "integrations"):
        value = body.get(name)
        if value is not None and not isinstance(value, dict):
            errors.append(FieldError(name, "not_an_object", f"batch {name} must be an object"))
        elif value:
            shared[name] = value
    batch_sent_at = _optional_time(body, "sentAt", None, errors)
    _raise_for(errors)

    envelopes: list[Envelope] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append(FieldError("", "not_an_object", "each batch item must be an object", index))
            continue
        envelope, item_errors = _normalize(
            item,
            index,
            None,
            received_at,
            limits,
            shared.get("context"),
            shared.get("integrations"),
            batch_sent_at,
        )
        if item_errors:
            errors.extend(item_errors)
        elif envelope is not None:
            envelopes.append(envelope)
    _raise_for(errors)
    return envelopes


def _raise_for(errors: list[FieldError]) -> None:
    if not errors:
        return
    if any(e.code == "too_large" for e in errors):
        raise TooLarge([e for e in errors if e.code == "too_large"], "a message is over the size limit")
    raise InvalidInput(errors, f"{len(errors)} problem(s) in the request; nothing was stored")


def _identity(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value or None
    return None


def _optional_time(item: Mapping[str, Any], name: str, index: int | None, errors: list[FieldError]) -> datetime | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return moment
    errors.append(FieldError(name, "invalid_time", f"{name} must be an ISO 8601 time with a UTC offset", index))
    return None


def _normalize(
    item: dict[str, Any],
    index: int | None,
    path_type: str | None,
    received_at: datetime,
    limits: Limits,
    batch_context: dict[str, Any] | None,
    batch_integrations: dict[str, Any] | None,
    batch_sent_at: datetime | None,
) -> tuple[Envelope | None, list[FieldError]]:
    errors: list[FieldError] = []
    event_type = path_type or item.get("type")
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        errors.append(FieldError("type", "invalid", f"type must be one of {', '.join(sorted(EVENT_TYPES))}", index))
        return None, errors

    user_id = _identity(item.get("userId"))
    anonymous_id = _identity(item.get("anonymousId"))
    if user_id is None and anonymous_id is None:
        errors.append(FieldError("userId", "required", "userId or anonymousId is required", index))
    for name, value in (("userId", user_id), ("anonymousId", anonymous_id)):
        if value is not None and len(value) > 255:
            errors.append(FieldError(name, "too_long", f"{name} is longer than 255 characters", index))

    required = REQUIRED_FIELDS.get(event_type)
    if required is not None and _identity(item.get(required)) is None:
        errors.append(FieldError(required, "required", f"{event_type} needs {required}", index))

    message_id = item.get("messageId")
    if message_id is None:
        message_id = str(uuid.uuid4())
    elif not isinstance(message_id, str) or not message_id:
        errors.append(FieldError("messageId", "invalid", "messageId must be a non-empty string", index))
    elif len(message_id) > limits.max_message_id_length:
        errors.append(
            FieldError("messageId", "too_long", f"messageId is over {limits.max_message_id_length} characters", index)
        )

    for name in OBJECT_FIELDS:
        value = item.get(name)
        if value is not None and not isinstance(value, dict):
            errors.append(FieldError(name, "not_an_object", f"{name} must be an object", index))

    original = _optional_time(item, "originalTimestamp", index, errors) or _optional_time(
        item, "timestamp", index, errors
    )
    sent_at = _optional_time(item, "sentAt", index, errors) or batch_sent_at
    if errors:
        return None, errors

    out = dict(item)
    out.pop("writeKey", None)
    out["type"] = event_type
    out["messageId"] = message_id
    out["receivedAt"] = isoformat_z(received_at)
    if original is None:
        timestamp = received_at
    elif sent_at is not None:
        # Correct for the device's clock: the delay between the call and the send is kept, the clock's error
        # is not (timestamp = receivedAt - (sentAt - originalTimestamp)).
        timestamp = received_at - (sent_at - original)
        out["originalTimestamp"] = isoformat_z(original)
    else:
        timestamp = original
        out["originalTimestamp"] = isoformat_z(original)
    out["timestamp"] = isoformat_z(timestamp)
    if sent_at is not None:
        out["sentAt"] = isoformat_z(sent_at)
    if batch_context:
        out["context"] = {**batch_context, **(item.get("context") or {})}
    if batch_integrations:
        out["integrations"] = {**batch_integrations, **(item.get("integrations") or {})}

    payload = orjson.dumps(out)
    if len(payload) > limits.max_event_bytes:
        return None, [
            FieldError("", "too_large", f"message is {len(payload)} bytes; at most {limits.max_event_bytes}", index)
        ]
    person_key = anonymous_id if anonymous_id is not None else user_id
    assert person_key is not None
    return Envelope(message_id, event_type, user_id, anonymous_id, partition_of(person_key), payload), []
