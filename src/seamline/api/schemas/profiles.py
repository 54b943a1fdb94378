"""Wire shapes of the profile API (pydantic), apart from the tables they are read from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class IdentifierOut(BaseModel):
    type: str
    value: str
    source: str | None
    first_seen_at: datetime
    last_seen_at: datetime


class ProfileOut(BaseModel):
    id: int = Field(description="The active profile.")
    requested_id: int = Field(description="The id asked for; differs from `id` when that profile was merged.")
    created_at: datetime
    updated_at: datetime
    identifiers: list[IdentifierOut]
    traits: dict[str, Any] = Field(description="The golden record: each trait's winning value.")
    holdings: int
    events: int


class CandidateOut(BaseModel):
    value: Any
    source: str
    source_field: str | None = Field(default=None, description="The source's own name for it, when renamed.")
    first_seen_at: datetime
    last_seen_at: datetime
    times_seen: int


class TraitOut(BaseModel):
    name: str = Field(description="The canonical customer model's name (see docs/identity.md).")
    label: str = Field(description="Its human label, e.g. 'Date of birth'.")
    value: Any
    rule: str
    reason: str
    source: str
    source_field: str | None = Field(
        default=None, description="The name the winning value's source gave it (e.g. 'telephone'), when renamed."
    )
    last_seen_at: datetime
    alternatives: list[CandidateOut]


class HoldingOut(BaseModel):
    type: str
    external_id: str
    status: str
    source: str
    opened_at: datetime | None
    closed_at: datetime | None
    attributes: dict[str, Any]
    updated_at: datetime


class TimelineEntryOut(BaseModel):
    event_id: int
    type: str
    name: str | None
    channel: str | None
    source: str
    occurred_at: datetime
    message: dict[str, Any]


class TimelineOut(BaseModel):
    profile_id: int
    entries: list[TimelineEntryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null at the end.")


class MergeOut(BaseModel):
    id: int
    profile_id: int
    merged_profile_id: int
    rule: str
    evidence: str | None
    event_id: int | None
    created_at: datetime
    undone_at: datetime | None
    undone_by: str | None
    undo_reason: str | None


class ConflictOut(BaseModel):
    event_id: int | None
    profile_id: int | None
    other_profile_id: int | None
    identifier: str
    reason: str
    created_at: datetime


class MergeHistoryOut(BaseModel):
    profile_id: int
    merges: list[MergeOut]
    conflicts: list[ConflictOut]


class UnmergeIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="Why the merge was wrong.")


class UnmergeOut(BaseModel):
    merge_id: int
    profiles: list[int]
    events_replayed: int
