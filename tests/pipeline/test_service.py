"""The event pipeline: identity resolves a batch, then every registered consumer takes it, in order, in the
caller's transaction; a new consumer sees the events with their profiles and the batch's merges."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.core.pipeline import Consumer, ResolvedBatch
from seamline.ingestion.service import append_processed
from seamline.pipeline.registry import Pipeline
from seamline.pipeline.service import process_events
from tests.support.builders import make_source


class Recorder(Consumer):
    """A consumer registered after the others: what it is handed, and what the others had written by then."""

    name = "recorder"

    def __init__(self) -> None:
        self.batches: list[ResolvedBatch] = []
        self.timeline_seen: list[Sequence[int]] = []

    def take(self, session: Session, batch: ResolvedBatch) -> None:
        self.batches.append(batch)
        rows = session.execute(text("SELECT event_id FROM profile_events ORDER BY event_id")).scalars()
        self.timeline_seen.append(list(rows))


def test_the_consumers_are_the_registered_ones_in_their_stated_order(settings: Settings) -> None:
    assert [c.name for c in Pipeline(settings.identity, settings.consent).consumers] == [
        "consent",
        "journeys",
        "profiles",
        "cases",
        "communications",
        "destinations",
        "decisions",
        "feedback",
        "triggers",
    ]


def test_a_consumer_takes_the_resolved_batch_with_its_merges_after_the_consumers_before_it(
    engine: Engine, settings: Settings
) -> None:
    source, _key = make_source(engine)
    pipeline = Pipeline(settings.identity, settings.consent)
    recorder = Recorder()
    pipeline.consumers = (*pipeline.consumers, recorder)
    messages = [
        {"type": "page", "messageId": "m-1", "anonymousId": "a-9", "name": "Home"},
        {"type": "identify", "messageId": "m-2", "userId": "u-9", "traits": {"email": "nine@example.com"}},
        {"type": "track", "messageId": "m-3", "userId": "u-9", "anonymousId": "a-9", "event": "Signed In"},
    ]
    with unit_of_work(engine) as session:
        items = append_processed(session, source.id, messages)
        outcome = process_events(session, items, pipeline)

    [batch] = recorder.batches
    first, second, third = batch.events
    assert [e.id for e in batch.events] == [i.id for i in items]
    assert first.profile_id != second.profile_id  # two people until the third event joins them
    [merge] = batch.merges
    assert merge.absorbed_is_new  # both profiles were born in this batch
    assert {merge.survivor, merge.absorbed} == {first.profile_id, second.profile_id}
    assert merge.event_id == third.id
    assert set(outcome.assignments.values()) == {merge.survivor}
    # The profiles consumer ran before the recorder, in the same transaction, and wrote all three events to
    # where the anonymous profile went.
    assert recorder.timeline_seen == [[i.id for i in items]]
    with engine.connect() as conn:
        homes = set(conn.execute(text("SELECT profile_id FROM profile_events")).scalars())
    assert homes == {merge.survivor}
