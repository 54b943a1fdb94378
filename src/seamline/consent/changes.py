"""The consent change feed as its readers see it: each new version of a choice, in canonical terms (kind, purpose,
channel, topic, product or document type, the value, where it came from), taken once per reader."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.consent import feed
from seamline.consent.policy import CONSENT
from seamline.core.clock import isoformat_z, utcnow

DEFAULT_LIMIT = 500


@dataclass(frozen=True, slots=True)
class ConsentChange:
    """One new version of a choice. `profile_id` is the profile that holds it now (it may since have been merged
    into another); None in `channel`, `topic` or `product` means every channel, topic or product."""

    choice_id: int
    profile_id: int
    kind: str
    purpose: str | None
    channel: str | None
    topic: str | None
    product: str | None
    document_type: str | None
    value: str
    surface: str
    source_id: int | None
    event_id: int | None
    legal_basis: str | None
    recorded_at: datetime
    effective_at: datetime
    expires_at: datetime | None

    @property
    def consented_purpose(self) -> str | None:
        """The purpose a consent change is about (None for a delivery preference)."""
        return self.purpose if self.kind == CONSENT else None

    def announced(self) -> dict[str, Any]:
        """What a receiving system is told (besides the profile): the choice, never who stated it or the evidence."""
        return {
            "choice_id": self.choice_id,
            "kind": self.kind,
            "purpose": self.purpose,
            "channel": self.channel,
            "topic": self.topic,
            "product": self.product,
            "document_type": self.document_type,
            "value": self.value,
            "legal_basis": self.legal_basis,
            "effective_at": isoformat_z(self.effective_at),
            "expires_at": isoformat_z(self.expires_at) if self.expires_at is not None else None,
            "source": {"surface": self.surface, "source_id": self.source_id, "event_id": self.event_id},
        }


def take_changes(session: Session, reader: str, *, limit: int = DEFAULT_LIMIT) -> list[ConsentChange]:
    """The changes recorded since this reader last took, oldest first, each once: the reader's cursor moves in the
    caller's transaction (a rollback gives them back; another process reading as `reader` waits for this one)."""
    now = utcnow()
    cursor = feed.lock_reader(session, reader, now)
    rows = feed.changes_after(session, cursor, limit)
    if not rows:
        return []
    last = rows[-1]
    feed.move_reader(session, reader, (int(last.txid or 0), int(last.seq)), now)
    feed.prune(session)
    return [ConsentChange(*row[2:]) for row in rows]
