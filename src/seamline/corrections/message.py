"""A correction as a tracking message: an `identify` that names the profile by one of its identifiers. Pure.

Every fact on a profile is derived from events, so a correction is an event too: a replay (unmerge, rebuild)
re-derives it with everything else, and its source, time and author show beside the value like any other.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from seamline.core.clock import isoformat_z
from seamline.core.errors import FieldError
from seamline.identity.identifiers import Identifier
from seamline.identity.rules import IdentifierRule

MAX_TRAITS = 50
MAX_VALUE_BYTES = 2048
MAX_REASON = 500
# Identifier types that systems own (a login, a browser, a device): a correction never sets them.
SYSTEM_OWNED = ("user_id", "anonymous_id", "device_id")


def trait_errors(traits: Mapping[str, Any]) -> list[FieldError]:
    """What is wrong with a set of corrected traits, by field."""
    if not traits:
        return [FieldError("traits", "required", "give at least one trait to correct")]
    if len(traits) > MAX_TRAITS:
        return [FieldError("traits", "too_many", f"correct at most {MAX_TRAITS} traits at once")]
    errors = []
    for name, value in traits.items():
        field = f"traits.{name}"
        if not name or len(name) > 200 or name != name.strip():
            errors.append(FieldError(field, "invalid", "a trait name has 1-200 characters without outer spaces"))
        elif value is None or (isinstance(value, str) and not value.strip()):
            errors.append(FieldError(field, "required", "a corrected value cannot be empty"))
        elif len(repr(value).encode()) > MAX_VALUE_BYTES:
            errors.append(FieldError(field, "too_large", f"a value has at most {MAX_VALUE_BYTES} bytes"))
    return errors


def anchor_placement(anchor: Identifier, rule: IdentifierRule, taken: Sequence[str]) -> dict[str, Any] | None:
    """Where in a message an identifier goes so the resolver reads it, avoiding paths the correction writes."""
    if anchor.type == "user_id":
        return {"userId": anchor.value}
    if anchor.type == "anonymous_id":
        return {"anonymousId": anchor.value}
    external = rule.external_id_type or (anchor.type[4:] if anchor.type.startswith("ext:") else None)
    if external:
        return {"context": {"externalIds": [{"id": anchor.value, "type": external, "encoding": "none"}]}}
    for path in rule.paths:
        if path in taken:
            continue
        placed: dict[str, Any] = {}
        node = placed
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = anchor.value
        return placed
    return None


def _merge(into: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def correction_message(
    traits: Mapping[str, Any],
    anchor: Mapping[str, Any],
    *,
    profile_id: int,
    actor: str,
    surface: str,
    reason: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The identify message that states the corrected traits of the profile the anchor names."""
    message: dict[str, Any] = {
        "type": "identify",
        "messageId": f"correction-{uuid.uuid4()}",
        "timestamp": isoformat_z(now),
        "traits": dict(traits),
        "context": {
            "channel": surface,
            "seamline": {"correction": True, "actor": actor, "surface": surface, "reason": reason},
        },
    }
    _merge(message, anchor)
    if "userId" not in message and "anonymousId" not in message:
        # The wire format needs one of the two; a stable one per profile adds one quiet identifier, once.
        message["anonymousId"] = f"seamline:profile:{profile_id}"
    return message
