"""The demo's decision history: what the bank's web site and app showed registered customers from the action
catalog and what they answered (`Offer *` events), and cards bought in the web shop (`Product Purchased`), so the
propensity model has a state to inspect and the card offer is suppressed for recent buyers."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from seamline.core.clock import isoformat_z
from seamline.synthetic.people import Person

DEMO_SEED = 16
# (action, share of registered customers shown it, share of those who accepted)
SHOWN = (("paperless_nudge", 0.4, 0.35), ("savings_offer", 0.25, 0.08), ("nps_survey", 0.2, 0.5))
CARD_BUYERS = 0.03


def _event(rng: random.Random, user_id: str, event: str, properties: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {
        "type": "track", "event": event, "userId": user_id, "properties": properties,
        "messageId": str(uuid.UUID(int=rng.getrandbits(128))), "timestamp": isoformat_z(at),
    }  # fmt: skip


def decision_traffic(people: list[Person], now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """Offer outcomes and card purchases of the last two weeks, oldest first, with their source."""
    rng = random.Random(DEMO_SEED)
    out: list[tuple[datetime, str, dict[str, Any]]] = []
    for person in people:
        if person.user_id is None:
            continue
        for action, shown, accepted in SHOWN:
            if rng.random() >= shown:
                continue
            at = now - timedelta(days=rng.uniform(0.5, 14))
            channel = rng.choice(["web", "in_app"])
            source = "web" if channel == "web" else "ios-app"
            out.append(
                (at, source, _event(rng, person.user_id, "Offer Shown", {"action": action, "channel": channel}, at))
            )
            answer = "Offer Accepted" if rng.random() < accepted else "Offer Ignored"
            later = at + timedelta(seconds=rng.randint(5, 90))
            out.append(
                (later, source, _event(rng, person.user_id, answer, {"action": action, "channel": channel}, later))
            )
        if rng.random() < CARD_BUYERS:
            at = now - timedelta(days=rng.uniform(1, 30))
            props = {"order_id": f"WS-{rng.randint(100000, 999999)}", "product_type": "credit_card", "revenue": 0}
            out.append((at, "web-shop", _event(rng, person.user_id, "Product Purchased", props, at)))
    out.sort(key=lambda item: item[0])
    return [(source, message) for _, source, message in out]
