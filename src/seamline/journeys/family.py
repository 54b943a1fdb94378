"""The tracking event family that feeds journeys, read from and written as Segment `track` messages. Pure.

Any Segment/RudderStack SDK sends them (`analytics.track("Journey Step Completed", {...})`); the journey API and
the console write the same messages, so every way in is one code path. Properties: `journey`, `step`,
`instance_id` (optional: without it, the person's open instance of the journey), and the step's fields — either
as properties of their own or under `fields`. `context.channel` and `context.device` say where it happened;
`context.agent` (the console) says an agent did it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

STARTED = "Journey Started"
SAVED = "Journey Step Saved"  # a draft: fields saved without completing the step
STEP_COMPLETED = "Journey Step Completed"
COMPLETED = "Journey Completed"
STALLED = "Journey Stalled"
ABANDONED = "Journey Abandoned"
FAMILY = (STARTED, SAVED, STEP_COMPLETED, COMPLETED, STALLED, ABANDONED)
_RESERVED = frozenset({"journey", "step", "instance_id", "fields", "reason"})
MAX_TEXT = 200
_OWN_PREFIX = "journey-"


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ was a quarter of reading one in the worker
class JourneyMessage:
    """What one event says about a journey."""

    name: str
    journey: str
    step: str | None
    instance_id: str | None
    fields: dict[str, Any] = field(default_factory=dict)
    channel: str | None = None
    device: str | None = None
    agent: str | None = None


def _is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    # A decoded payload holds dicts: the exact type check first (the ABC check is slow, and runs per field).
    return type(value) is dict or (value is not None and isinstance(value, Mapping))


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    stripped = value.strip()
    return stripped[:MAX_TEXT] if stripped else None


def event_name(payload: Mapping[str, Any]) -> str | None:
    """The name of a track event."""
    if payload.get("type") != "track":
        return None
    return _text(payload.get("event"))


def clean_name(raw: str) -> str | None:
    """A track event's name as sent, as `event_name` reads it."""
    return _text(raw)


def read(payload: Mapping[str, Any], name: str) -> JourneyMessage | None:
    """A family event as a journey message; None when it names no journey."""
    props = payload.get("properties")
    props = props if _is_mapping(props) else {}
    journey = _text(props.get("journey"))
    if journey is None:
        return None
    given = props.get("fields")
    fields = dict(given) if _is_mapping(given) else {k: v for k, v in props.items() if k not in _RESERVED}
    context = payload.get("context")
    context = context if _is_mapping(context) else {}
    device = context.get("device")
    agent = context.get("agent")
    # Positional: the worker reads thousands a batch, and keyword arguments cost a third of the constructor.
    return JourneyMessage(
        name,
        journey,
        _text(props.get("step")),
        _text(props.get("instance_id")),
        fields,
        _text(context.get("channel")) or _text(payload.get("channel")),
        _text(device.get("type") or device.get("model")) if device is not None and _is_mapping(device) else None,
        _text(agent.get("name")) if agent is not None and _is_mapping(agent) else None,
    )


def instance_id_of(payload: Mapping[str, Any]) -> str | None:
    """The instance id a family event names, if any."""
    props = payload.get("properties")
    return _text(props.get("instance_id")) if isinstance(props, Mapping) else None


def is_own_message(payload: Mapping[str, Any]) -> bool:
    """Whether a message may be one the journey API or console wrote (`message` gives them this id prefix)."""
    message_id = payload.get("messageId")
    return isinstance(message_id, str) and message_id.startswith(_OWN_PREFIX)


def new_instance_id() -> str:
    """A public instance id: random, so it names an instance without telling anything about it."""
    return "ji_" + uuid.uuid4().hex


def message(
    name: str,
    person: Mapping[str, str],
    *,
    journey: str,
    instance_id: str,
    step: str | None = None,
    fields: Mapping[str, Any] | None = None,
    traits: Mapping[str, Any] | None = None,
    channel: str,
    device: str | None = None,
    agent: str | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    """A family event as the journey API and console write it (a random message id unless given). `person` is
    `userId` and/or `anonymousId`; fields that map to traits of the golden record go in `context.traits` too, so
    the record learns them."""
    props: dict[str, Any] = {"journey": journey, "instance_id": instance_id}
    if step is not None:
        props["step"] = step
    if fields:
        props["fields"] = dict(fields)
    context: dict[str, Any] = {"channel": channel}
    if device:
        context["device"] = {"type": device}
    if agent:
        context["agent"] = {"name": agent}
    if traits:
        context["traits"] = dict(traits)
    return {
        "type": "track",
        "event": name,
        "messageId": _OWN_PREFIX + (message_id or uuid.uuid4().hex),
        **person,
        "properties": props,
        "context": context,
    }


_OWN_CONTEXT = {"channel": "seamline"}  # shared by every announcement: the inbox only serializes it


def announcement(
    name: str, person: Mapping[str, str], journey: str, instance_id: str, step: str | None, message_id: str
) -> dict[str, Any]:
    """A `Journey Stalled` / `Journey Abandoned` as Seamline's own scan announces it: `message`'s shape with the
    channel `seamline`, built without its options (the scan builds 200,000 at a time)."""
    props = {"journey": journey, "instance_id": instance_id}
    if step is not None:
        props["step"] = step
    return {
        "type": "track", "event": name, "messageId": _OWN_PREFIX + message_id, **person, "properties": props,
        "context": _OWN_CONTEXT,
    }  # fmt: skip
