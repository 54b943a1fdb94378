"""Instances and their states read on a read snapshot (the API's held read connection) with prepared statements,
past the ORM's execution machinery: the journey API's saves and resumes read this way. Rows come back as detached
`JourneyInstance` / `JourneyEntry` objects (in no session), so the same rules and views take them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from sqlalchemy.orm import instrumentation

from seamline.core.errors import NotFound
from seamline.core.prepared import Reads
from seamline.identity.identifiers import Identifier
from seamline.identity.service import active_header, identifier_links, profile_holding
from seamline.journeys import progress, repository, service
from seamline.journeys.definitions import JourneyDef
from seamline.journeys.models import JourneyEntry, JourneyInstance
from seamline.journeys.rows import EntryRow, InstanceRow
from seamline.journeys.views import InstanceView

_MOST_JOINS = 100
_KINDS = (("userId", "user_id"), ("anonymousId", "anonymous_id"))
M = TypeVar("M", JourneyInstance, JourneyEntry)


def _detached(model: type[M], row: InstanceRow | EntryRow) -> M:
    """A detached object holding a row's columns, made as the ORM's loading makes one (no constructor, the values
    put in its state directly): the constructor's instrumented sets cost 60 µs an object, this 4 µs."""
    made: M = instrumentation.manager_of_class(model).new_instance()
    made.__dict__.update(row._asdict())
    return made


def keeper(reads: Reads, public_id: str) -> JourneyInstance:
    """An instance by public id, read through the instance it was joined into; NotFound otherwise."""
    row = repository.instance_row(reads, public_id)
    if row is None:
        raise NotFound(f"no journey instance {public_id}")
    for _ in range(_MOST_JOINS):
        if row.joined_into is None:
            break
        found = repository.instance_row_by_id(reads, int(row.joined_into))
        if found is None:
            break
        row = found
    return _detached(JourneyInstance, row)


def state(reads: Reads, instance: JourneyInstance) -> tuple[service.State, int]:
    """The state of an instance's group, and the id of its group's latest entry (0 without any)."""
    entries = [_detached(JourneyEntry, row) for row in repository.group_entry_rows(reads, instance.id)]
    return service.fold(entries), max((e.id for e in entries), default=0)


def open_journeys(reads: Reads, profile_id: int) -> list[JourneyInstance]:
    """A profile's open and stalled journeys, most recently active first."""
    return [_detached(JourneyInstance, row) for row in repository.resumable_rows(reads, profile_id, progress.RESUMABLE)]


def view(reads: Reads, row: JourneyInstance, definitions: Mapping[str, JourneyDef]) -> InstanceView:
    """How callers see an instance that is its own keeper (an open one: nothing is joined into a joined one)."""
    definition = definitions.get(row.journey)
    if definition is None:
        raise NotFound(f"the journey {row.journey!r} is no longer defined")
    return InstanceView(row, definition, state(reads, row)[0])


def root(reads: Reads, profile_id: int) -> int:
    """The active profile a (possibly merged) profile now lives in."""
    return int(active_header(reads, profile_id).id)


def person_profile(reads: Reads, person: Mapping[str, str]) -> int | None:
    """The active profile a person named by userId/anonymousId lives in, if any."""
    for key, kind in _KINDS:
        if key in person:
            try:
                return root(reads, profile_holding(reads, Identifier(kind, person[key])))
            except NotFound:
                continue
    return None


def person_of(reads: Reads, profile_id: int) -> dict[str, str] | None:
    """How an event names the profile: its user id, else an anonymous id, the smallest of a kind (as
    identity.service.person_keys chooses)."""
    held: dict[str, str] = {}
    for link in identifier_links(reads, profile_id):
        kind, value = str(link.type), str(link.value)
        if kind in ("user_id", "anonymous_id") and (kind not in held or value < held[kind]):
            held[kind] = value
    for key, kind in _KINDS:
        if kind in held:
            return {key: held[kind]}
    return None
