"""Choices stated in tracking messages: our own consent and delivery events, and Segment's consent object. Pure.

A choice made from a product's app or page is customer-wide: only an explicit `properties.product` scopes it.
Bad payloads come back as errors, never as exceptions, so one bad event never fails the worker's batch.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from seamline.consent.choices import MAX_ACTOR, MAX_SURFACE, ChoiceInput, stated_basis, validate_choice
from seamline.consent.config import ConsentConfig
from seamline.consent.policy import CONSENT, DELIVERY, DENIED, GRANTED
from seamline.core.errors import FieldError

CONSENT_EVENT = "Consent Updated"
DELIVERY_EVENT = "Delivery Preference Updated"
SEGMENT_CONSENT_EVENT = "Segment Consent Preference Updated"
EVIDENCE_PROPERTIES = ("text_shown", "document_version", "recording_reference")


class ParsedConsent(NamedTuple):
    """The valid choices a message states, and the problems with the ones it could not state."""

    choices: list[ChoiceInput]
    errors: list[FieldError]


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _name(value: object) -> object:
    """A configured name as people write it: 'Product News' and 'in-app' become product_news and in_app."""
    if isinstance(value, str):
        return value.strip().lower().replace("-", "_").replace(" ", "_") or None
    return value


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _ip(value: object) -> str | None:
    # An SDK's malformed context.ip is dropped from the evidence rather than costing the person their choice.
    try:
        return str(ipaddress.ip_address(value)) if isinstance(value, str) else None
    except ValueError:
        return None


class _Common(NamedTuple):
    actor: str
    surface: str
    evidence: dict[str, Any]
    effective_at: datetime | None


def _common(message: Mapping[str, Any], props: Mapping[str, Any]) -> _Common:
    """Who, where, when and the evidence, as the message states them."""
    context = _mapping(message.get("context"))
    person = message.get("userId") or message.get("anonymousId")
    actor = props.get("actor")
    if not isinstance(actor, str) or not actor.strip():
        actor = f"{'user' if message.get('userId') else 'anonymous'}:{person}" if person else "unknown"
    surface = props.get("surface")
    if not isinstance(surface, str) or not surface.strip():
        channel = context.get("channel")
        library = _mapping(context.get("library")).get("name")
        surface = channel if isinstance(channel, str) and channel else library if isinstance(library, str) else None
    evidence: dict[str, Any] = dict(_mapping(props.get("evidence")))
    evidence.update({name: props[name] for name in EVIDENCE_PROPERTIES if props.get(name) is not None})
    stated = {
        "message_id": message.get("messageId"),
        "ip": _ip(context.get("ip")),
        "user_agent": context.get("userAgent"),
        "page_url": _mapping(context.get("page")).get("url"),
    }
    evidence.update({k: v for k, v in stated.items() if v is not None and k not in evidence})
    return _Common(actor[:MAX_ACTOR], (surface or "tracking")[:MAX_SURFACE], evidence, _time(message.get("timestamp")))


def _product(value: object, errors: list[FieldError]) -> str | None:
    """The product a choice is scoped to: an explicit id (text or number), else None — customer-wide."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        errors.append(FieldError("properties.product", "invalid", "product must be a product id (text or number)"))
        return None
    return str(value).strip()


def _consent_value(props: Mapping[str, Any]) -> object:
    if "value" in props:
        return _name(props["value"])
    granted = props.get("granted")
    if isinstance(granted, bool):
        return GRANTED if granted else DENIED
    return granted


def _prefixed(errors: list[FieldError], prefix: str) -> list[FieldError]:
    return [FieldError(f"{prefix}{e.field}", e.code, e.message, e.index) for e in errors]


def _add(out: ParsedConsent, choice: ChoiceInput, config: ConsentConfig, prefix: str, extra: list[FieldError]) -> None:
    errors = extra + _prefixed(validate_choice(choice, config), prefix)
    if errors:
        out.errors.extend(errors)
    else:
        out.choices.append(choice)


def _stated_value(value: object, name: str) -> tuple[str, list[FieldError]]:
    if value is None:
        return "", [FieldError(name, "required", f"{name} is required")]
    if not isinstance(value, str):
        return "", [FieldError(name, "invalid", f"{name} must be a string")]
    return value, []


def _own_event(out: ParsedConsent, message: Mapping[str, Any], config: ConsentConfig, common: _Common) -> None:
    props = _mapping(message.get("properties"))
    event = message.get("event")
    expires_at = _time(props.get("expires_at"))
    extra: list[FieldError] = []
    if props.get("expires_at") is not None and expires_at is None:
        extra.append(FieldError("properties.expires_at", "invalid", "expires_at must be an ISO 8601 time"))
    legal_basis = props.get("legal_basis")
    shared: dict[str, Any] = {
        "actor": common.actor,
        "surface": common.surface,
        "product": _product(props.get("product"), extra),
        "evidence": common.evidence,
        "legal_basis": _name(legal_basis) if isinstance(legal_basis, str) else None,
        "effective_at": common.effective_at,
        "expires_at": expires_at,
    }
    if event == DELIVERY_EVENT:
        value, problems = _stated_value(_name(props.get("value")), "properties.value")
        document_type = _name(props.get("document_type"))
        choice = ChoiceInput(
            kind=DELIVERY,
            value=value,
            document_type=document_type if isinstance(document_type, str) else None,
            **shared,
        )
        if document_type is not None and not isinstance(document_type, str):
            problems.append(FieldError("properties.document_type", "invalid", "document_type must be a string"))
        _add(out, choice, config, "properties.", extra + problems)
        return
    value, problems = _stated_value(_consent_value(props), "properties.value")
    purpose, topic = _name(props.get("purpose")), _name(props.get("topic"))
    for name, stated in (("purpose", purpose), ("topic", topic)):
        if stated is not None and not isinstance(stated, str):
            problems.append(FieldError(f"properties.{name}", "invalid", f"{name} must be a string"))
    channels = props.get("channels", props.get("channel"))
    stated_channels = channels if isinstance(channels, list) and channels else [channels]
    for channel in stated_channels:
        channel = _name(channel)
        errors = list(problems)
        if channel is not None and not isinstance(channel, str):
            errors.append(FieldError("properties.channel", "invalid", "channel must be a string or a list of them"))
        choice = ChoiceInput(
            kind=CONSENT,
            value=value,
            purpose=purpose if isinstance(purpose, str) else None,
            channel=channel if isinstance(channel, str) else None,
            topic=topic if isinstance(topic, str) else None,
            **shared,
        )
        _add(out, choice, config, "properties.", extra + errors)


def _segment(out: ParsedConsent, message: Mapping[str, Any], config: ConsentConfig, common: _Common) -> None:
    preferences = _mapping(_mapping(_mapping(message.get("context")).get("consent")).get("categoryPreferences"))
    # Segment's event says the person chose; any other event carrying the object restates what they chose.
    is_restatement = not (message.get("type") == "track" and message.get("event") == SEGMENT_CONSENT_EVENT)
    for category, granted in preferences.items():
        purpose = config.segment_categories.get(str(category))
        if purpose is None:
            continue  # a category of cookies or data sharing that is not a purpose Seamline decides
        field = f"context.consent.categoryPreferences.{category}"
        if not isinstance(granted, bool):
            out.errors.append(FieldError(field, "invalid", f"{category} must be true or false"))
            continue
        choice = ChoiceInput(
            kind=CONSENT,
            value=GRANTED if granted else DENIED,
            actor=common.actor,
            surface=common.surface,
            purpose=purpose,
            evidence={**common.evidence, "segment_category": str(category)},
            legal_basis=stated_basis(config),
            effective_at=common.effective_at,
            is_restatement=is_restatement,
        )
        _add(out, choice, config, f"{field}.", [])


def consent_from_message(message: Mapping[str, Any], *, config: ConsentConfig) -> ParsedConsent:
    """The consent and delivery choices a tracking message states, and the problems with any it states badly."""
    out = ParsedConsent([], [])
    if not isinstance(message, Mapping):
        return out
    props = _mapping(message.get("properties"))
    common = _common(message, props)
    if message.get("type") == "track" and message.get("event") in (CONSENT_EVENT, DELIVERY_EVENT):
        _own_event(out, message, config, common)
    _segment(out, message, config, common)
    return out


_CONSENT_EVENTS = frozenset({CONSENT_EVENT, DELIVERY_EVENT, SEGMENT_CONSENT_EVENT})


def states_consent(message: Mapping[str, Any]) -> bool:
    """Cheap test whether a message may carry consent, so ordinary events skip parsing."""
    if message.get("type") == "track" and message.get("event") in (
        CONSENT_EVENT,
        DELIVERY_EVENT,
        SEGMENT_CONSENT_EVENT,
    ):
        return True
    context = message.get("context")
    return (type(context) is dict or isinstance(context, Mapping)) and "consent" in context
