"""A destination as readers see it, and the list of them: the read that listings make (the CLI's, the API's), in a
module of its own so that `seamline destinations list` imports neither the consent service nor the outbox the
service's writes reach (~0.1 s of its start)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from seamline.core.views import view_of
from seamline.destinations import repository
from seamline.destinations.models import Destination

# What a destination may subscribe to besides events (`event.*`, `event.<Event Name>`).
PROFILE_CHANGES = (
    "profile.trait_changed",
    "profile.identifier_added",
    "profile.merged",
    "profile.unmerged",
    "profile.consent_changed",
    "profile.erased",
)


@dataclass(frozen=True, slots=True)
class DestinationView:
    id: int
    name: str
    url: str
    purpose: str
    subscriptions: tuple[str, ...]
    status: str
    created_at: datetime

    @property
    def target(self) -> str:
        """The outbox target (and circuit breaker) of this destination."""
        return target_of(self.name)

    @classmethod
    def of(cls, row: Destination) -> DestinationView:
        return view_of(cls, row, subscriptions=tuple(row.subscriptions))


def target_of(name: str) -> str:
    return f"destination:{name}"


def list_destinations(session: Session) -> list[DestinationView]:
    return [DestinationView.of(r) for r in repository.listed(session)]
