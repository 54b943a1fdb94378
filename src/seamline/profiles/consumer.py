"""Profiles' consumer of resolved events: each event's timeline entry, traits and holdings, moved on merges."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from seamline.core.pipeline import Consumer, ResolvedBatch
from seamline.profiles import facts, repository
from seamline.profiles.service import EventFacts, record_facts
from seamline.profiles.vocabulary import DEFAULT_VOCABULARY, Vocabulary


class FactsConsumer(Consumer):
    name = "profiles"

    def __init__(self, vocabulary: Vocabulary = DEFAULT_VOCABULARY) -> None:
        self.vocabulary = vocabulary  # traits are recorded under the canonical customer model's names

    def take(self, session: Session, batch: ResolvedBatch) -> None:
        # A profile born in this batch and merged in it never had rows of its own: its events' facts are written
        # to where it went, and its merge moves nothing.
        born = batch.born_and_merged()

        def home(profile_id: int) -> int:
            while profile_id in born:
                profile_id = born[profile_id]
            return profile_id

        record_facts(
            session,
            [
                EventFacts(
                    event_id=event.id,
                    profile_id=home(event.profile_id),
                    source_id=event.source_id,
                    type=str(event.payload.get("type")),
                    name=facts.event_name(event.payload),
                    channel=facts.channel_of(event.payload),
                    occurred_at=event.occurred_at,
                    traits=facts.trait_values(event.payload),
                    holdings=facts.holding_facts(event.payload),
                )
                for event in batch.events
            ],
            self.vocabulary,
        )
        for merge in batch.merges:
            if not merge.absorbed_is_new:
                repository.move_all(session, merge.absorbed, merge.survivor)

    def rederive(self, session: Session, profile_ids: Sequence[int]) -> None:
        repository.wipe(session, profile_ids)
