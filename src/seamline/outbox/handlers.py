"""What a dispatcher needs of each kind of delivery (email, webhook…): the domains that own a kind implement it,
the dispatcher runs them. Checks run in a transaction at send time; sending runs in none."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy.orm import Session

from seamline.outbox.service import Attempt, Entry


class Handler(Protocol):
    """One kind of delivery."""

    kind: str
    is_concurrent: bool  # True: the dispatcher may send several at once from threads (stateless HTTP calls)

    def check(self, session: Session, entries: Sequence[Entry]) -> Mapping[int, Attempt | Any]:
        """At send time, per entry: an Attempt that ends it without sending (suppressed, refused), or the plan
        `send` takes (the composed message, the address it goes to)."""
        ...

    def send(self, entry: Entry, plan: Any) -> Attempt:
        """Deliver one entry; never raises for a delivery failure (it returns RETRY or REFUSED)."""
        ...

    def record(self, session: Session, done: Sequence[tuple[Entry, Attempt]], statuses: Mapping[int, str]) -> None:
        """Write the owning domain's account of these attempts (the communications log), in the settling
        transaction."""
        ...

    def close(self) -> None:
        """Let go of connections."""
        ...
