"""The Segment wire format: decode a request body, validate it, and normalize each message for the inbox.

Pure: values in, values out. The whole request is validated before anything is returned, so a request is
accepted or rejected as a whole, with every item's errors reported by index.
"""

from __future__ import annotations

import re
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
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
    errors: list[FieldError] = []
    envelope = _normalize(body, None, event_type, _Request(received_at, limits, None, None, None), errors)
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
    batch_sent_at = _message_time(body, "sentAt", None, errors)
    _raise_for(errors)

    request = _Request(
        received_at,
        limits,
        shared.get("context"),
        shared.get("integrations"),
        batch_sent_at,
    )
    envelopes: list[Envelope] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append(FieldError("", "not_an_object", "each batch item must be an object", index))
            continue
        envelope = _normalize(item, index, None, request, errors)
        if envelope is not None:
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


class _Time:
    """A parsed time and, once known, its Segment spelling (what `isoformat_z` writes)."""

    __slots__ = ("moment", "text")

    def __init__(self, moment: datetime, text: str | None) -> None:
        self.moment = moment
        self.text = text

    def spelled(self) -> str:
        # Formatted on first use only, where the output is built: a time that cannot be written in UTC
        # fails there, after validation, as it always has.
        if self.text is None:
            self.text = isoformat_z(self.moment)
        return self.text


class _Request:
    """What every message of one request shares, with the shared times formatted once, not once per message."""

    __slots__ = ("batch_context", "batch_integrations", "batch_sent_at", "limits", "received_at", "received_text")

    def __init__(
        self,
        received_at: datetime,
        limits: Limits,
        batch_context: dict[str, Any] | None,
        batch_integrations: dict[str, Any] | None,
        batch_sent_at: _Time | None,
    ) -> None:
        self.received_at = received_at
        self.received_text = isoformat_z(received_at)
        self.limits = limits
        self.batch_context = batch_context
        self.batch_integrations = batch_integrations
        self.batch_sent_at = batch_sent_at


# How `isoformat_z` writes a UTC time. A client that already wrote a valid time this way (SDKs do) gets its own
# text back, which is exactly what formatting the parsed value would give, without the cost of formatting it.
_SPELLED_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", re.ASCII)


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
            if moment.tzinfo is not None and _fits_in_utc(moment):
                return moment
    errors.append(FieldError(name, "invalid_time", f"{name} must be an ISO 8601 time with a UTC offset", index))
    return None


def _fits_in_utc(moment: datetime) -> bool:
    """Whether the time can be written in UTC (year 1 with a positive offset, or 9999 with a negative, cannot)."""
    if 1 < moment.year < 9999:
        return True
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return False
    return True


def _message_time(item: Mapping[str, Any], name: str, index: int | None, errors: list[FieldError]) -> _Time | None:
    moment = _optional_time(item, name, index, errors)
    if moment is None:
        return None
    value = item[name]
    return _Time(moment, value if _SPELLED_UTC.fullmatch(value) else None)


def _normalize(
    item: dict[str, Any],
    index: int | None,
    path_type: str | None,
    request: _Request,
    errors: list[FieldError],
) -> Envelope | None:
    """The item as stored, or None after adding its problems to `errors` (shared by a whole request)."""
    had_errors = len(errors)
    event_type = path_type or item.get("type")
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        errors.append(FieldError("type", "invalid", f"type must be one of {', '.join(sorted(EVENT_TYPES))}", index))
        return None

    # Most ids are plain strings: skip the call for them (this runs for every event).
    user_id = item.get("userId")
    user_id = (user_id or None) if type(user_id) is str else _identity(user_id)
    anonymous_id = item.get("anonymousId")
    anonymous_id = (anonymous_id or None) if type(anonymous_id) is str else _identity(anonymous_id)
    if user_id is None and anonymous_id is None:
        errors.append(FieldError("userId", "required", "userId or anonymousId is required", index))
    for name, value in (("userId", user_id), ("anonymousId", anonymous_id)):
        if value is not None and "\x00" in value:
            # PostgreSQL text cannot hold NUL, and on SQLite it would silently truncate lookups: refuse it.
            errors.append(FieldError(name, "invalid", f"{name} must not contain NUL characters", index))
    if user_id is not None and len(user_id) > 255:
        errors.append(FieldError("userId", "too_long", "userId is longer than 255 characters", index))
    if anonymous_id is not None and len(anonymous_id) > 255:
        errors.append(FieldError("anonymousId", "too_long", "anonymousId is longer than 255 characters", index))

    required = REQUIRED_FIELDS.get(event_type)
    if required is not None and _identity(item.get(required)) is None:
        errors.append(FieldError(required, "required", f"{event_type} needs {required}", index))

    limits = request.limits
    message_id = item.get("messageId")
    if message_id is None:
        message_id = str(uuid.uuid4())
    elif not isinstance(message_id, str) or not message_id:
        errors.append(FieldError("messageId", "invalid", "messageId must be a non-empty string", index))
    elif "\x00" in message_id:
        errors.append(FieldError("messageId", "invalid", "messageId must not contain NUL characters", index))
    elif len(message_id) > limits.max_message_id_length:
        errors.append(
            FieldError("messageId", "too_long", f"messageId is over {limits.max_message_id_length} characters", index)
        )

    for name in OBJECT_FIELDS:
        value = item.get(name)
        if value is not None and not isinstance(value, dict):
            errors.append(FieldError(name, "not_an_object", f"{name} must be an object", index))

    original = _message_time(item, "originalTimestamp", index, errors) or _message_time(
        item, "timestamp", index, errors
    )
    sent_at = _message_time(item, "sentAt", index, errors) or request.batch_sent_at
    if len(errors) > had_errors:
        return None

    received_at = request.received_at
    out = dict(item)
    out.pop("writeKey", None)
    out["type"] = event_type
    out["messageId"] = message_id
    out["receivedAt"] = request.received_text
    if original is None:
        out["timestamp"] = request.received_text
    elif sent_at is not None:
        # Correct for the device's clock: the delay between the call and the send is kept, the clock's error
        # is not (timestamp = receivedAt - (sentAt - originalTimestamp)).
        try:
            timestamp = received_at - (sent_at.moment - original.moment)
        except OverflowError:
            errors.append(
                FieldError("sentAt", "invalid_time", "sentAt and the message's time are further apart than time", index)
            )
            return None
        out["originalTimestamp"] = original.spelled()
        out["timestamp"] = isoformat_z(timestamp)
    else:
        out["originalTimestamp"] = out["timestamp"] = original.spelled()
    if sent_at is not None:
        out["sentAt"] = sent_at.spelled()
    if request.batch_context:
        out["context"] = {**request.batch_context, **(item.get("context") or {})}
    if request.batch_integrations:
        out["integrations"] = {**request.batch_integrations, **(item.get("integrations") or {})}

    try:
        payload = orjson.dumps(out)
    except TypeError:  # orjson refuses more than 254 levels of nesting (its reader accepts 1,024)
        errors.append(FieldError("", "too_deep", "message nests deeper than 254 levels", index))
        return None
    if len(payload) > limits.max_event_bytes:
        errors.append(
            FieldError("", "too_large", f"message is {len(payload)} bytes; at most {limits.max_event_bytes}", index)
        )
        return None
    person_key = anonymous_id if anonymous_id is not None else user_id
    assert person_key is not None
    return Envelope(message_id, event_type, user_id, anonymous_id, partition_of(person_key), payload)
