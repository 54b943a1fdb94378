"""A resolved batch's index of its track events by name: what consumers take instead of scanning every event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from seamline.core.pipeline import ResolvedBatch, ResolvedEvent

_AT = datetime(2026, 12, 6, tzinfo=UTC)


def _event(event_id: int, payload: dict[str, Any]) -> ResolvedEvent:
    return ResolvedEvent(event_id, 1, payload, _AT, _AT, 100 + event_id)


def _batch() -> ResolvedBatch:
    return ResolvedBatch(
        [
            _event(1, {"type": "track", "event": "Order Completed"}),
            _event(2, {"type": "page", "name": "Order Completed"}),  # a page, not a track
            _event(3, {"type": "track", "event": "Offer Shown"}),
            _event(4, {"type": "identify", "traits": {}}),
            _event(5, {"type": "track", "event": "Order Completed"}),
            _event(6, {"type": "track", "event": 7}),  # a name that is not text is never asked for
            _event(7, {"type": "track"}),
            _event(8, {"type": "track", "event": " Offer Shown"}),  # exactly as sent
        ],
        [],
    )


def test_tracked_events_by_name_in_batch_order() -> None:
    batch = _batch()
    assert [e.id for e in batch.tracked(["Order Completed"])] == [1, 5]
    assert [e.id for e in batch.tracked(("Offer Shown", "Order Completed"))] == [1, 3, 5]
    assert [e.id for e in batch.tracked({"Offer Shown": 1, " Offer Shown": 2})] == [3, 8]
    assert batch.tracked(["Survey Answered"]) == []
    assert batch.tracked([]) == []
    assert sorted(batch.track_names()) == [" Offer Shown", "Offer Shown", "Order Completed"]


def test_a_batch_without_tracks_has_no_names() -> None:
    batch = ResolvedBatch([_event(1, {"type": "identify"})], [])
    assert batch.track_names() == []
    assert batch.tracked(["Order Completed"]) == []
    assert ResolvedBatch([], []).track_names() == []
