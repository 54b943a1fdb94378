"""What a new choice must say, and the checks every way in (API, console, tracking) shares. Pure."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from seamline.consent.config import ConsentConfig
from seamline.consent.policy import CONSENT, CONSENT_VALUES, DELIVERY, DELIVERY_VALUES, KINDS
from seamline.core.errors import FieldError

MAX_PRODUCT = 200
MAX_ACTOR = 200
MAX_SURFACE = 64
MAX_EVIDENCE_BYTES = 16 * 1024
# A choice the person states themself (on a banner, to an agent on the phone) rests on their consent: GDPR art.
# 6(1)(a), the configured basis named "consent".
STATED_BASIS = "consent"


def stated_basis(config: ConsentConfig) -> str | None:
    """The legal basis of a choice the person states themself, when the configuration has it."""
    return STATED_BASIS if STATED_BASIS in config.legal_bases else None


@dataclass(frozen=True, slots=True)
class ChoiceInput:
    """A choice to record, before it has an id, a profile or a time of recording."""

    kind: str
    value: str
    actor: str
    surface: str
    purpose: str | None = None
    channel: str | None = None
    topic: str | None = None
    product: str | None = None
    document_type: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict, hash=False)
    legal_basis: str | None = None
    effective_at: datetime | None = None
    expires_at: datetime | None = None
    is_restatement: bool = False  # stated again in passing (Segment's consent on any event), not a fresh choice


def _one_of(name: str, value: str | None, allowed: list[str] | tuple[str, ...], *, required: bool) -> FieldError | None:
    if value is None:
        return FieldError(name, "required", f"{name} is required") if required else None
    if value not in allowed:
        return FieldError(name, "invalid", f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return None


def _absent(name: str, value: object, kind: str) -> FieldError | None:
    return None if value is None else FieldError(name, "not_allowed", f"a {kind} choice has no {name}")


def _text(name: str, value: object, limit: int, *, required: bool) -> FieldError | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        return FieldError(name, "required", f"{name} must be a non-empty string")
    if len(value) > limit:
        return FieldError(name, "too_long", f"{name} is longer than {limit} characters")
    return None


def _time(name: str, value: datetime | None) -> FieldError | None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        return FieldError(name, "invalid", f"{name} must carry a time zone")
    return None


def _evidence(evidence: object) -> list[FieldError]:
    if not isinstance(evidence, Mapping):
        return [FieldError("evidence", "invalid", "evidence must be an object")]
    try:
        size = len(json.dumps(dict(evidence), allow_nan=False))
    except (TypeError, ValueError):
        return [FieldError("evidence", "invalid", "evidence must be JSON (no NaN, no binary values)")]
    errors = []
    if size > MAX_EVIDENCE_BYTES:
        errors.append(FieldError("evidence", "too_large", f"evidence is over {MAX_EVIDENCE_BYTES} bytes as JSON"))
    ip = evidence.get("ip")
    if ip is not None:
        try:
            ipaddress.ip_address(str(ip))
        except ValueError:
            errors.append(FieldError("evidence.ip", "invalid", f"{ip!r} is not an IP address"))
    return errors


def validate_choice(choice: ChoiceInput, config: ConsentConfig, *, index: int | None = None) -> list[FieldError]:
    """Every problem with a choice, each naming its field; empty when it may be recorded."""
    checks: list[FieldError | None] = [_one_of("kind", choice.kind, KINDS, required=True)]
    if choice.kind == CONSENT:
        checks += [
            _one_of("purpose", choice.purpose, config.purposes, required=True),
            _one_of("channel", choice.channel, config.channels, required=False),
            _one_of("topic", choice.topic, config.topics, required=False),
            _one_of("value", choice.value, CONSENT_VALUES, required=True),
            _absent("document_type", choice.document_type, CONSENT),
        ]
    elif choice.kind == DELIVERY:
        checks += [
            _one_of("document_type", choice.document_type, config.document_types, required=True),
            _one_of("value", choice.value, DELIVERY_VALUES, required=True),
            _absent("purpose", choice.purpose, DELIVERY),
            _absent("channel", choice.channel, DELIVERY),
            _absent("topic", choice.topic, DELIVERY),
        ]
    checks += [
        _text("product", choice.product, MAX_PRODUCT, required=False),
        _text("actor", choice.actor, MAX_ACTOR, required=True),
        _text("surface", choice.surface, MAX_SURFACE, required=True),
        _one_of("legal_basis", choice.legal_basis, config.legal_bases, required=False),
        _time("effective_at", choice.effective_at),
        _time("expires_at", choice.expires_at),
    ]
    errors = [error for error in checks if error is not None]
    errors += _evidence(choice.evidence)
    starts, ends = choice.effective_at, choice.expires_at
    if not errors and starts is not None and ends is not None and ends <= starts:
        errors.append(FieldError("expires_at", "invalid", "expires_at must be after effective_at"))
    if index is None:
        return errors
    return [FieldError(e.field, e.code, e.message, index) for e in errors]
