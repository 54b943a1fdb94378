"""The rows of the journeys' prepared reads (see core.prepared): each a named tuple whose fields are its statement's
columns, in order, so the snapshot reads and the definitions cache get typed values rather than `Any`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple


class InstanceRow(NamedTuple):
    """Every column of journey_instances, in the table's order."""

    id: int
    public_id: str
    journey: str
    profile_id: int
    origin_profile_id: int
    status: str
    current_step: str | None
    step_since: datetime
    started_at: datetime
    started_channel: str
    last_activity_at: datetime
    completed_at: datetime | None
    quiet_since: datetime | None
    joined_into: int | None
    event_id: int


class EntryRow(NamedTuple):
    """Every column of journey_entries, in the table's order."""

    id: int
    instance_id: int
    journey: str
    step: str
    kind: str
    field: str | None
    value_json: str | None
    channel: str
    device: str | None
    actor_kind: str
    actor: str | None
    event_id: int
    at: datetime
    already_held: bool
    disagreed: bool


class DefinitionVersion(NamedTuple):
    key: str
    revision: int
    loaded_at: datetime


class DefinitionBody(NamedTuple):
    key: str
    revision: int
    loaded_at: datetime
    body: dict[str, Any]  # the definition as JSON (definitions.from_json reads it)


class OpenStep(NamedTuple):
    """An instance's person, journey and current step."""

    profile_id: int
    journey: str
    current_step: str | None


class MovedOn(NamedTuple):
    id: int


# The worker's batch reads (journeys/batch.py) and the scans' and summaries' plain reads.


class LiveRow(NamedTuple):
    """What the worker's batch reads of an instance (repository._LIVE_COLUMNS, in order)."""

    id: int
    public_id: str
    journey: str
    profile_id: int
    status: str
    current_step: str | None
    last_activity_at: datetime
    joined_into: int | None


class BatchEntry(NamedTuple):
    """A step completed or a value given, under the instance it counts for (its own, or the one it was joined
    into)."""

    keeper_id: int
    kind: str
    step: str
    field: str | None
    value_json: str | None
    at: datetime
    id: int


class QuietRow(NamedTuple):
    """An instance a stall scan has just marked."""

    id: int
    public_id: str
    profile_id: int
    current_step: str | None


class BoardCount(NamedTuple):
    """How many instances of a journey are in one status at one step."""

    journey: str
    status: str
    current_step: str | None
    instances: int


class CollectionCount(NamedTuple):
    """Redundant collection of one field of one step: how often it was given, how often the record already held
    a value for it, and how often the value given disagreed with the one held."""

    journey: str
    step: str
    field: str
    asked: int
    already_held: int
    disagreed: int
