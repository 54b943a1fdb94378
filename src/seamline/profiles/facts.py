"""What an event says about a person: trait values and holdings. Pure: a message in, facts out."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeGuard

import orjson

# Conventional track events that open, change or close a product holding:
# event name → (holding type, property holding the external id, status)
HOLDING_EVENTS: dict[str, tuple[str, str, str]] = {
    "Account Opened": ("account", "account_id", "open"),
    "Account Closed": ("account", "account_id", "closed"),
    "Card Issued": ("card", "card_id", "issued"),
    "Card Activated": ("card", "card_id", "active"),
    "Card Cancelled": ("card", "card_id", "cancelled"),
    "Loan Approved": ("loan", "loan_id", "approved"),
    "Mortgage Funded": ("mortgage", "loan_id", "active"),
    "Order Completed": ("order", "order_id", "completed"),
    "Order Refunded": ("order", "order_id", "refunded"),
    "Subscription Started": ("subscription", "subscription_id", "active"),
    "Subscription Cancelled": ("subscription", "subscription_id", "cancelled"),
}
CLOSED_STATUSES = frozenset({"closed", "cancelled", "refunded"})


@dataclass(frozen=True, slots=True)
class HoldingFact:
    type: str
    external_id: str
    status: str
    attributes: dict[str, Any]
    opened_at: datetime | None = None  # when the product system says it was opened; else the first event's time


def _opened_at(attributes: Mapping[str, Any]) -> datetime | None:
    """The opening date a product record states (`opened_at` or `opened`, ISO 8601), as a UTC time."""
    value = attributes.get("opened_at") or attributes.get("opened")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def encode_value(value: Any) -> tuple[str, str]:
    """A trait value as canonical JSON, and a short digest to key it by."""
    text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    return text, hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def _is_mapping(value: object) -> TypeGuard[Mapping[str, Any]]:
    # Parsed JSON is made of dicts: the exact-type test spares the ABC check on the worker's per-event path.
    return type(value) is dict or isinstance(value, Mapping)


def trait_values(message: Mapping[str, Any]) -> dict[str, Any]:
    """Traits an event states: identify's traits, or the context.traits any event may carry."""
    traits = message.get("traits") if message.get("type") == "identify" else None
    if not _is_mapping(traits):
        context = message.get("context")
        traits = context.get("traits") if _is_mapping(context) else None
    if not _is_mapping(traits):
        return {}
    return {str(k)[:200]: v for k, v in traits.items() if v is not None}


def holding_facts(message: Mapping[str, Any]) -> list[HoldingFact]:
    """Holdings an event reports: `group` calls (the group is the account) and conventional track events."""
    kind = message.get("type")
    if kind == "group":
        group_id = message.get("groupId")
        traits = message.get("traits") if isinstance(message.get("traits"), Mapping) else {}
        assert isinstance(traits, Mapping)
        holding_type = traits.get("holding_type") or traits.get("account_type") or traits.get("type") or "account"
        status = traits.get("status") or "active"
        return [
            HoldingFact(str(holding_type)[:64], str(group_id)[:200], str(status)[:32], dict(traits), _opened_at(traits))
        ]
    if kind == "track":
        spec = HOLDING_EVENTS.get(str(message.get("event")))
        props = message.get("properties")
        if spec is None or not isinstance(props, Mapping):
            return []
        holding_type, id_property, status = spec
        external_id = props.get(id_property)
        if external_id is None:
            return []
        refined = props.get("account_type") or props.get("product_type") or holding_type
        return [HoldingFact(str(refined)[:64], str(external_id)[:200], status, dict(props), _opened_at(props))]
    return []


def event_name(message: Mapping[str, Any]) -> str | None:
    name = message.get("event") if message.get("type") == "track" else message.get("name")
    return str(name)[:200] if name is not None else None


def channel_of(message: Mapping[str, Any]) -> str | None:
    """The channel an event came through, as the SDK states it (context.channel), else by library."""
    context = message.get("context")
    if not _is_mapping(context):
        return None
    channel = context.get("channel")
    if isinstance(channel, str):
        return channel[:32]
    library = context.get("library")
    name = library.get("name", "") if _is_mapping(library) else ""
    if not isinstance(name, str):  # the tracking API stores context as sent: a number here stopped the worker
        return None
    if "ios" in name or "android" in name or "react-native" in name:
        return "mobile"
    if "analytics.js" in name or "analytics-next" in name:
        return "web"
    return "server" if name else None
