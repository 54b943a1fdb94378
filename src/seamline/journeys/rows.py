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
