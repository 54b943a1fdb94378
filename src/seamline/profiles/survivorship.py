"""Survivorship: which candidate value of a trait the golden record shows, and why. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

RuleName = Literal["most_recent", "source_priority", "first_seen", "most_frequent"]


class SurvivorshipConfig(BaseModel):
    """Per-trait rules (`[profiles.survivorship]` in the config file); unnamed traits use the default."""

    default: RuleName = "most_recent"
    traits: dict[str, RuleName] = Field(default_factory=dict)
    source_ranking: list[str] = Field(
        default_factory=list, description="Most trusted source first, for the source_priority rule."
    )


@dataclass(frozen=True, slots=True)
class Candidate:
    value_json: str
    source: str
    first_seen_at: datetime
    last_seen_at: datetime
    times_seen: int
    last_event_id: int
    source_field: str | None = None  # the name the source gave the trait, when the canonical model renamed it


@dataclass(frozen=True, slots=True)
class Decision:
    winner: Candidate
    rule: RuleName
    reason: str
    alternatives: tuple[Candidate, ...]


def _rank(ranking: Mapping[str, int], source: str) -> int:
    return ranking.get(source, len(ranking))


def choose(name: str, candidates: Sequence[Candidate], config: SurvivorshipConfig) -> Decision:
    """The winning candidate of one trait by its rule; ties fall to the most recent, then the latest event."""
    if not candidates:
        raise ValueError("no candidates")
    rule: RuleName = config.traits.get(name, config.default)
    if rule == "source_priority":
        ranking = {s: i for i, s in enumerate(config.source_ranking)}
        winner = min(
            candidates, key=lambda c: (_rank(ranking, c.source), -c.last_seen_at.timestamp(), -c.last_event_id)
        )
        reason = f"from {winner.source}, ranked {_rank(ranking, winner.source) + 1} of the trusted sources"
    elif rule == "first_seen":
        winner = min(candidates, key=lambda c: (c.first_seen_at, c.last_event_id))
        reason = f"first seen {winner.first_seen_at.isoformat()} (from {winner.source})"
    elif rule == "most_frequent":
        winner = max(candidates, key=lambda c: (c.times_seen, c.last_seen_at, c.last_event_id))
        reason = f"seen {winner.times_seen} times (from {winner.source})"
    else:
        winner = max(candidates, key=lambda c: (c.last_seen_at, c.last_event_id))
        reason = f"most recent, {winner.last_seen_at.isoformat()} (from {winner.source})"
    return Decision(winner, rule, reason, tuple(c for c in candidates if c is not winner))
