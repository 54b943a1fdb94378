"""Consent's consumer of resolved events: choices a message states, recorded where it was made, moved on merges."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from seamline.consent import repository
from seamline.consent.config import ConsentConfig
from seamline.consent.service import record_from_message
from seamline.consent.tracking import states_consent
from seamline.core.pipeline import Consumer, ResolvedBatch


class ConsentConsumer(Consumer):
    name = "consent"

    def __init__(self, config: ConsentConfig) -> None:
        self._config = config

    def take(self, session: Session, batch: ResolvedBatch) -> None:
        # Recorded on the profile the event was made on (its origin) before the merges move it, so a merged
        # profile's choices always name where they were made.
        for event in batch.events:
            if states_consent(event.payload):
                record_from_message(
                    session,
                    event.profile_id,
                    event.payload,
                    source_id=event.source_id,
                    event_id=event.id,
                    config=self._config,
                )
        for merge in batch.merges:
            repository.move(session, merge.absorbed, merge.survivor)

    def rederive(self, session: Session, profile_ids: Sequence[int]) -> None:
        # Every choice made on one of these profiles goes back to it; the replay's merges move them again.
        repository.restore(session, profile_ids)
