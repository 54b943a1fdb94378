"""Batch reads of who a batch of profile ids are (the decision point's people): prepared statements on the driver
(see core.prepared), one of 900 slots per chunk of ids. The ORM's IN lists, rendered anew for every batch of 500,
cost more CPU than the database's own work on them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from sqlalchemy import select

from seamline.core.db import table_of
from seamline.core.prepared import Prepared, Reads, in_slots, slot_values
from seamline.identity.models import Profile

_SLOTS = 900  # ids a statement: under SQLite's limit of bound parameters
_PROFILES = table_of(Profile).c


class _State(NamedTuple):
    id: int
    merged_into_id: int | None
    erased: bool


class _Absorbed(NamedTuple):
    id: int
    merged_into_id: int


_STATES = Prepared(
    select(_PROFILES.id, _PROFILES.merged_into_id, _PROFILES.erased_at.is_not(None).label("erased")).where(
        in_slots(_PROFILES.id, _SLOTS)
    ),
    _State,
)
_ABSORBED = Prepared(
    select(_PROFILES.id, _PROFILES.merged_into_id).where(in_slots(_PROFILES.merged_into_id, _SLOTS)), _Absorbed
)


def _chunks(ids: Iterable[int]) -> list[list[int]]:
    ordered = sorted(set(ids))
    return [ordered[start : start + _SLOTS] for start in range(0, len(ordered), _SLOTS)]


def person_states(reads: Reads, profile_ids: Sequence[int]) -> list[tuple[int, int | None, bool]]:
    """(id, merged_into_id, is erased) of these profiles."""
    return [
        (int(pid), into, bool(erased))
        for chunk in _chunks(profile_ids)
        for pid, into, erased in _STATES.all(reads, **slot_values(chunk, _SLOTS))
    ]


def absorbed_by(reads: Reads, roots: Sequence[int]) -> list[tuple[int, int]]:
    """(profile, the root that absorbed it) of every profile merged into these."""
    return [
        (int(pid), int(root))
        for chunk in _chunks(roots)
        for pid, root in _ABSORBED.all(reads, **slot_values(chunk, _SLOTS))
    ]
