"""A timeline event said in words for an agent ("Viewed the page Pricing", "Order Completed: total 42.5"). Pure.

Customer events are what a person did on a channel (track, page, screen). System events record what systems
told us about them (identify: details; group: a product; alias: an id joined): the page shows their result in the
golden record, holdings and merge history, so the timeline hides them unless asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from seamline.console.labels import trait_label
from seamline.console.masking import is_national_id, mask

CUSTOMER_EVENTS = ("track", "page", "screen")
SYSTEM_EVENTS = ("identify", "group", "alias")
SHOWN_PROPERTIES = 3
LONGEST_VALUE = 60


def is_system_event(event_type: str) -> bool:
    """Whether an event records what a system said rather than what the person did."""
    return event_type in SYSTEM_EVENTS


def _scalar(name: str, value: Any) -> str | None:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, str) and value.strip():
        text = mask(value) if is_national_id(name) else value.strip()
        return text if len(text) <= LONGEST_VALUE else text[: LONGEST_VALUE - 1] + "…"
    return None


def _details(values: Mapping[str, Any]) -> str:
    parts = []
    for name, value in values.items():
        text = _scalar(name, value)
        if text is not None:
            parts.append(f"{trait_label(name).lower()} {text}")
        if len(parts) == SHOWN_PROPERTIES:
            break
    more = len([v for v in values.values() if v not in (None, "")]) - len(parts)
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")


def _dict(message: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = message.get(key)
    return value if isinstance(value, dict) else {}


def describe(event_type: str, name: str | None, message: Mapping[str, Any]) -> str:
    """One sentence for a timeline event."""
    properties = _dict(message, "properties")
    if event_type == "track":
        details = _details(properties)
        return f"{name or 'An event'}" + (f": {details}" if details else "")
    if event_type in ("page", "screen"):
        title = name or properties.get("title") or properties.get("path") or properties.get("url")
        what = "the page" if event_type == "page" else "the app screen"
        return f"Viewed {what} {title}" if isinstance(title, str) and title else f"Viewed {what[4:]}"
    if event_type == "identify":
        traits = _dict(message, "traits")
        names = [trait_label(k).lower() for k in traits][: SHOWN_PROPERTIES + 2]
        return "Details received: " + ", ".join(names) if names else "Identified"
    if event_type == "group":
        group = message.get("groupId")
        details = _details(_dict(message, "traits"))
        return f"Product {group}" + (f": {details}" if details else "") if group else "Product details received"
    if event_type == "alias":
        return "Another id joined this customer's"
    return event_type.capitalize()
