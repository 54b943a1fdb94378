"""What erasure keeps and what it matches. Pure: values in, values out."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

# Of an erased event only what says that something happened, and when, survives; `messageId` stays so the
# inbox still refuses a replay of the same message as a duplicate.
KEPT_KEYS = ("type", "messageId", "timestamp", "receivedAt")
ERASED_MARK = {"erased": True}
MIN_MENTION = 3  # shorter strings ("ok", "1") would match nearly any text without saying anything about a person


def identifier_hash(identifier_type: str, value: str) -> str:
    """SHA-256 of a normalized identifier as 'type:value', in hex (see ErasedIdentifier for why it is unsalted)."""
    return hashlib.sha256(f"{identifier_type}:{value}".encode()).hexdigest()


def scrubbed_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The minimal message an erased event keeps."""
    return {**{k: payload[k] for k in KEPT_KEYS if k in payload}, **ERASED_MARK}


def personal_strings(identifier_values: Iterable[str], trait_values_json: Iterable[str]) -> set[str]:
    """Lower-cased text that identifies the person: identifier values and every string inside their traits."""
    found = {v.lower() for v in identifier_values}
    for value_json in trait_values_json:
        found.update(s.lower() for s in _strings(orjson.loads(value_json)))
    return {s for s in (f.strip() for f in found) if len(s) >= MIN_MENTION}


def mentions(value: Any, personal: set[str]) -> bool:
    """Whether a JSON-like value contains any of the personal strings (case-insensitive), keys included."""
    text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode().lower()
    return any(p in text for p in personal)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
