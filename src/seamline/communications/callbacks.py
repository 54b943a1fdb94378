"""Recording what SMS and push providers report back: a provider that repeats a callback (Twilio retries one it
thinks was lost; a webhook sender retries on a timeout) adds nothing the second time."""

from __future__ import annotations

from sqlalchemy.orm import Session

from seamline.communications import repository
from seamline.communications.service import Happened, record_outcomes

ORIGIN = "callback"


def record_callback(session: Session, communication_id: str, outcome: str, detail: str | None) -> bool:
    """Log a provider's report about one of our communications; False when it names none, or repeats a report
    already logged."""
    row = repository.by_public_id(session, communication_id)
    if row is None:
        return False
    if any(o.outcome == outcome and o.origin == ORIGIN for o in repository.outcomes_of(session, [row.id])):
        return False
    return record_outcomes(session, [Happened(communication_id, outcome, detail, ORIGIN)]) > 0
