"""What the event pipeline hands its consumers: resolved events, merge notices, and the consumer interface.

Identity resolves a batch of inbox events into the graph; then each registered consumer (profiles' facts, consent,
cases, and every capability that reacts to events) takes the resolved batch in the same transaction. The types
live here, below every domain, so that a domain's `consumer.py` implements the interface without importing
identity or the pipeline that composes them. See docs/pipeline.md.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class ResolvedEvent:
    """One event of the batch and the profile identity resolved it onto.

    `profile_id` is where the event was made, before the batch's merges (a merge later in the batch may move
    that profile's facts elsewhere: the batch's `merges` say where, in order). An event naming an erased person
    arrives reduced to its type, ids and times.
    """

    id: int
    source_id: int
    payload: Mapping[str, Any]
    received_at: datetime
    occurred_at: datetime
    profile_id: int


@dataclass(frozen=True, slots=True)
class MergeNotice:
    """One merge the batch made, in the order it made them: everything of `absorbed` now belongs to `survivor`."""

    survivor: int
    absorbed: int
    event_id: int
    # The absorbed profile was created by this batch: no rows of a consumer can be on it yet unless that consumer
    # wrote them for this batch's events.
    absorbed_is_new: bool


@dataclass(frozen=True, slots=True)
class IdentifierAdded:
    """An identifier the batch linked to a profile for the first time (the profile as the batch left it)."""

    profile_id: int
    type: str
    value: str
    event_id: int


@dataclass(frozen=True, slots=True)
class ResolvedBatch:
    """A batch after identity: its events in arrival order and the merges they caused, in order."""

    events: Sequence[ResolvedEvent]
    merges: Sequence[MergeNotice]
    # A replay (unmerge, rebuild) runs events that were taken before: consumers re-derive state from them, but one
    # that announces events to the outside (destinations) must not announce them twice.
    is_replay: bool = False
    identifiers_added: Sequence[IdentifierAdded] = ()
    # Where each track event name occurs in `events` (filled on the first `tracked` call): most consumers care about
    # a few names, and each scanning every event of every batch cost the worker more than their own work did.
    _positions: dict[str, list[int]] = field(default_factory=dict, compare=False, repr=False)

    def tracked(self, names: Collection[str]) -> list[ResolvedEvent]:
        """The batch's track events named one of `names` (exactly as sent), in batch order."""
        positions = self._indexed()
        found = [positions[name] for name in names if name in positions]
        if not found:
            return []
        events = self.events
        if len(found) == 1:
            return [events[i] for i in found[0]]
        return [events[i] for i in sorted(i for indexes in found for i in indexes)]

    def track_names(self) -> list[str]:
        """The distinct names of the batch's track events (exactly as sent)."""
        return [name for name in self._indexed() if name]

    def _indexed(self) -> dict[str, list[int]]:
        positions = self._positions
        if not positions:
            positions[""] = []  # indexed (an event with no name is never asked for)
            for index, event in enumerate(self.events):
                payload = event.payload
                if payload.get("type") == "track":
                    name = payload.get("event")
                    if isinstance(name, str) and name:
                        positions.setdefault(name, []).append(index)
        return positions

    def born_and_merged(self) -> dict[int, int]:
        """Profiles created in this batch and merged in it, to where they went (one hop)."""
        return {m.absorbed: m.survivor for m in self.merges if m.absorbed_is_new}


class Consumer(Protocol):
    """A part that reacts to resolved events. Every method runs in the pipeline's transaction and only flushes.

    Subclass it to inherit the no-op defaults of the notices a consumer does not care about; `take` is the one
    every consumer implements.
    """

    name: str

    def take(self, session: Session, batch: ResolvedBatch) -> None:
        """Record what the batch's events say, then follow its merges (in `batch.merges` order)."""
        ...

    def rederive(self, session: Session, profile_ids: Sequence[int]) -> None:
        """These profiles are about to be re-derived from their events (an unmerge, a rebuild): forget what the
        events gave them, or put back what merges moved, so that the replay that follows derives it again."""
        return None

    def retire(self, session: Session, homes: Mapping[int, int]) -> None:
        """After a replay: profiles it did not recreate (keys), each with the profile its events now live on."""
        return None


def occurred_at(message: Mapping[str, Any], fallback: datetime) -> datetime:
    """The event's corrected timestamp (the inbox always writes one)."""
    value = message.get("timestamp")
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return fallback
    return fallback
