"""The decisions domain's consumer of resolved events: purchases (so nothing just bought is marketed) and the
`Offer *` tracking family, by which any channel reports what became of an action.

| event | properties | recorded as |
| --- | --- | --- |
| `Order Completed`, `Product Purchased` | `product_type`, `product` or `category` (or in `products[]`) | a purchase |
| `Offer Shown` | `action` (required), `channel` | `shown` |
| `Offer Accepted` | `action`, `channel` | `accepted` |
| `Offer Ignored` | `action`, `channel` | `ignored` |
| `Offer Converted` | `action`, `channel` | `converted` |

The communications log teaches too: a communication whose `campaign` is an action's name counts as that action
`shown` when it is sent (`Communication Sent`) and `accepted` when it is clicked (`Communication Clicked`).

Rows stay on the profile the event was made on; readers gather a person's merged profiles. A replay finds each
event already recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from seamline.communications.service import campaigns_of
from seamline.core.pipeline import Consumer, ResolvedBatch
from seamline.decisions import repository
from seamline.decisions.propensity import ACCEPTED, CONVERTED, IGNORED, SHOWN
from seamline.decisions.service import OutcomeInput, Setup, record_outcomes

log = logging.getLogger(__name__)

OFFER_EVENTS = {
    "Offer Shown": SHOWN,
    "Offer Accepted": ACCEPTED,
    "Offer Ignored": IGNORED,
    "Offer Converted": CONVERTED,
}
LOG_EVENTS = {"Communication Sent": SHOWN, "Communication Clicked": ACCEPTED}


def products_bought(props: Mapping[str, Any]) -> list[str]:
    """The products a purchase event names (the order's own, or each of its line items')."""
    found = []
    for item in [props, *[p for p in props.get("products") or [] if isinstance(p, Mapping)]]:
        for key in ("product_type", "product", "category"):
            value = item.get(key)
            if isinstance(value, str) and value:
                found.append(value[:100])
                break
    return sorted(set(found))


class DecisionsConsumer(Consumer):
    """Registered in the event pipeline: purchases and offer outcomes."""

    name = "decisions"

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.purchase_events = frozenset(setup.config.purchase_events)
        self.taken = self.purchase_events | frozenset(OFFER_EVENTS)  # the events it records from

    def take(self, session: Session, batch: ResolvedBatch) -> None:
        purchases: list[dict[str, Any]] = []
        outcomes = []
        for event in batch.tracked(self.taken):
            payload = event.payload
            name = payload.get("event")
            props = payload.get("properties")
            props = props if isinstance(props, Mapping) else {}
            if name in self.purchase_events:
                purchases.extend(
                    {"profile_id": event.profile_id, "event_id": event.id, "product": p,
                     "purchased_at": event.occurred_at}
                    for p in products_bought(props)
                )  # fmt: skip
            elif name in OFFER_EVENTS:
                action = props.get("action")
                if not isinstance(action, str) or action not in self.setup.catalog.by_name:
                    log.warning("offer event %s: properties.action names no action in the catalog", event.id)
                    continue
                channel = props.get("channel")
                outcomes.append(
                    OutcomeInput(
                        event.profile_id, action, OFFER_EVENTS[str(name)], str(channel)[:32] if channel else None,
                        "event", None, event.occurred_at, event.id,
                    )
                )  # fmt: skip
        outcomes.extend(self._from_the_log(session, batch))
        repository.add_purchases(session, purchases)
        if outcomes:
            record_outcomes(session, outcomes, self.setup)

    def _from_the_log(self, session: Session, batch: ResolvedBatch) -> list[OutcomeInput]:
        found = []
        for event in batch.tracked(LOG_EVENTS):
            payload = event.payload
            props = payload.get("properties")
            if isinstance(props, Mapping) and props.get("communication_id"):
                found.append((event, str(payload["event"]), str(props["communication_id"]), props))
        if not found:
            return []
        # A click names only its communication: its campaign is in the log (written by the consumer before this).
        campaigns = campaigns_of(session, [cid for _, _, cid, _ in found])
        out = []
        for event, name, cid, props in found:
            campaign = props.get("campaign") if name == "Communication Sent" else campaigns.get(cid)
            if isinstance(campaign, str) and campaign in self.setup.catalog.by_name:
                channel = str(props.get("channel") or "email")[:32]
                out.append(
                    OutcomeInput(event.profile_id, campaign, LOG_EVENTS[name], channel, "event", None,
                                 event.occurred_at, event.id)
                )  # fmt: skip
        return out
