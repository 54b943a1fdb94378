"""Journeys' rules and transaction steps: running definitions, recording what an event says about an instance,
joining instances on a merge, and reading an instance as callers see it. Only flushes; the boundary commits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.orm import Session

from seamline.core.clock import isoformat_z
from seamline.core.errors import NotFound
from seamline.core.prepared import Reads
from seamline.identity.identifiers import Identifier
from seamline.identity.service import profile_holding, root_of
from seamline.journeys import progress, repository
from seamline.journeys.definitions import JourneyDef
from seamline.journeys.models import JourneyEntry, JourneyInstance
from seamline.profiles.service import golden_traits
from seamline.profiles.survivorship import SurvivorshipConfig

_SURVIVORSHIP = SurvivorshipConfig()
# Within one unit of work, each instance's state is read once and then kept current as entries are added, and
# instances are found by public id once: the worker's batch of journey events cost a flush and two queries per
# event before (8 ms each). Forgotten on a merge, a re-derivation, an erasure and on rollback. States are kept by
# the instance object (one per row in a session), so an instance begun in this unit of work needs no id yet.
_STATES = "journeys.states"
_BY_PUBLIC_ID = "journeys.by_public_id"


def _states(session: Session) -> dict[JourneyInstance, State]:
    found: dict[JourneyInstance, State] | None = session.info.get(_STATES)
    if found is None:
        found = session.info[_STATES] = {}
        if not event.contains(session, "after_soft_rollback", _forget_on_rollback):
            event.listen(session, "after_soft_rollback", _forget_on_rollback)
    return found


def _forget_on_rollback(session: Session, _previous: Any) -> None:
    forget(session)


def forget(session: Session) -> None:
    """Drop what this unit of work remembers of instances (after statements that move or delete them)."""
    session.info.pop(_STATES, None)
    session.info.pop(_BY_PUBLIC_ID, None)


def _by_public_id(session: Session, public_id: str) -> JourneyInstance | None:
    known: dict[str, JourneyInstance | None] = session.info.setdefault(_BY_PUBLIC_ID, {})
    if public_id in known:
        return known[public_id]
    _states(session)  # the rollback listener, so this cache goes with the states
    found = known[public_id] = repository.by_public_id(session, public_id)
    return found


def prefetch(session: Session, public_ids: Sequence[str]) -> None:
    """Find these instances (and which do not exist yet) in one query, for a batch of events that name them."""
    known: dict[str, JourneyInstance | None] = session.info.setdefault(_BY_PUBLIC_ID, {})
    wanted = sorted({p for p in public_ids if p not in known})
    if not wanted:
        return
    _states(session)
    found = {row.public_id: row for row in repository.by_public_ids(session, wanted)}
    for public_id in wanted:
        known[public_id] = found.get(public_id)
    # Their states too, in two queries for the batch rather than two for each instance.
    states = _states(session)
    keepers = {k.id: k for k in (keeper_of(session, row) for row in found.values()) if k not in states}
    if not keepers:
        return
    group = {k: k for k in keepers}
    group.update({row.id: int(row.joined_into or 0) for row in repository.joined_to(session, list(keepers))})
    by_keeper: dict[int, list[JourneyEntry]] = {k: [] for k in keepers}
    for entry in repository.entries(session, list(group)):
        by_keeper[group[entry.instance_id]].append(entry)
    for keeper_id, entries in by_keeper.items():
        states[keepers[keeper_id]] = fold(entries)


@dataclass(frozen=True, slots=True)
class Where:
    """Who did something in a journey, through what."""

    channel: str
    device: str | None
    actor_kind: str  # customer | agent | system
    actor: str | None
    event_id: int
    at: datetime

    def columns(self) -> dict[str, Any]:
        """An entry's columns of who, through what and when."""
        return {
            "channel": self.channel,
            "device": self.device,
            "actor_kind": self.actor_kind,
            "actor": self.actor,
            "event_id": self.event_id,
            "at": self.at,
        }


def keeper_of(session: Session, instance: JourneyInstance) -> JourneyInstance:
    """The instance whose state an instance is read through (itself, unless a merge joined it into another)."""
    seen = 0
    while instance.joined_into is not None and seen < 100:
        found = repository.get(session, instance.joined_into)
        if found is None:
            break
        instance, seen = found, seen + 1
    return instance


def find_instance(
    session: Session, definition: JourneyDef, profile_id: int, public_id: str | None
) -> JourneyInstance | None:
    """The instance an event means: by its public id, else the person's resumable instance of the journey."""
    if public_id is not None:
        found = _by_public_id(session, public_id)
        return keeper_of(session, found) if found is not None else None
    if definition.multiple:
        return None
    open_ones = repository.resumable(session, profile_id, definition.key, progress.RESUMABLE)
    return open_ones[0] if open_ones else None


def begin(session: Session, definition: JourneyDef, profile_id: int, public_id: str, where: Where) -> JourneyInstance:
    """A new instance of a journey for a profile, at its first step."""
    first = progress.current_step(definition, (), {})
    row = JourneyInstance(
        public_id=public_id,
        journey=definition.key,
        profile_id=profile_id,
        origin_profile_id=profile_id,
        status=progress.OPEN,
        current_step=first,
        step_since=where.at,
        started_at=where.at,
        started_channel=where.channel,
        last_activity_at=where.at,
        event_id=where.event_id,
    )
    # Not flushed here: a batch's new instances are inserted together at the next flush, each entry given to its
    # instance object until then (JourneyEntry.instance).
    session.add(row)
    session.info.setdefault(_BY_PUBLIC_ID, {})[public_id] = row
    _states(session)[row] = State({}, {}, {})
    return row


def held_traits(reads: Reads, profile_id: int) -> dict[str, Any]:
    """The golden record's value of each trait (the default survivorship rules)."""
    return {t.name: t.value for t in golden_traits(reads, profile_id, {}, _SURVIVORSHIP)}


def save_fields(
    session: Session,
    definition: JourneyDef,
    instance: JourneyInstance,
    step: str,
    fields: Mapping[str, Any],
    where: Where,
) -> None:
    """Record the fields given for a step (unknown ones are left out), each counted if the record held it."""
    if definition.step(step) is None:
        return
    held = held_traits(session, instance.profile_id) if asks_held(definition, step, fields) else {}
    for entry in field_entries(definition, instance, step, fields, where, held):
        _add_entry(session, instance, entry)
    touch(instance, where.at)


def asks_held(definition: JourneyDef, step: str, fields: Mapping[str, Any]) -> bool:
    """Whether recording these fields needs the golden record's values (a field given maps to a trait)."""
    step_def = definition.step(step)
    return step_def is not None and any((f := step_def.field_named(name)) and f.trait for name in fields)


def field_entries(
    definition: JourneyDef,
    instance: JourneyInstance,
    step: str,
    fields: Mapping[str, Any],
    where: Where,
    held: Mapping[str, Any],
) -> list[JourneyEntry]:
    """The entries that record the fields given for a step (unknown ones left out), each counted as already held
    when `held` (the golden record's values by trait) had it: not added to any session."""
    step_def = definition.step(step)
    if step_def is None:
        return []
    out = []
    for name, value in fields.items():
        field_def = step_def.field_named(name)
        if field_def is None:
            continue
        had = field_def.trait is not None and field_def.trait in held
        differs = had and not progress.same_value(value, held[field_def.trait or ""])
        out.append(
            JourneyEntry(
                **_of(instance),
                journey=definition.key,
                step=step,
                kind="field",
                field=field_def.key,
                value_json=orjson.dumps(value).decode(),
                **where.columns(),
                already_held=had,
                disagreed=differs,
            )
        )
    return out


def complete_step(session: Session, definition: JourneyDef, instance: JourneyInstance, step: str, where: Where) -> None:
    """Record a step as done, by whom and through what."""
    if definition.step(step) is None:
        return
    _add_entry(session, instance, step_entry(definition, instance, step, where))
    touch(instance, where.at)


def step_entry(definition: JourneyDef, instance: JourneyInstance, step: str, where: Where) -> JourneyEntry:
    """The entry that records a step as done (not added to any session)."""
    return JourneyEntry(
        **_of(instance),
        journey=definition.key,
        step=step,
        kind="step",
        field=None,
        value_json=None,
        **where.columns(),
        already_held=False,
        disagreed=False,
    )


def _of(instance: JourneyInstance) -> dict[str, Any]:
    """An entry's reference to its instance: the id, or the object itself while it has none (not flushed yet)."""
    return {"instance_id": instance.id} if instance.id is not None else {"instance": instance}


def _add_entry(session: Session, instance: JourneyInstance, entry: JourneyEntry) -> None:
    """Add an entry of an instance, and to the remembered state of it."""
    session.add(entry)
    state = _states(session).get(instance)
    if state is not None:
        remember(state, entry)


def remember(state: State, entry: JourneyEntry) -> None:
    """Add an entry to a state read before it, as state_of would read it afterwards (by time)."""
    if entry.kind == "field" and entry.field is not None and entry.value_json is not None:
        earlier = state.given.get(entry.field)
        if earlier is None or earlier[2].at <= entry.at:
            value = orjson.loads(entry.value_json)
            state.values[entry.field] = value
            state.given[entry.field] = (entry.step, value, entry)
    elif entry.kind == "step":
        first = state.done.get(entry.step)
        if first is None or entry.at < first.at:
            state.done[entry.step] = entry


def touch(instance: JourneyInstance, at: datetime) -> None:
    """Activity at `at`: a stalled or abandoned journey opens again."""
    instance.last_activity_at = max(instance.last_activity_at, at)
    if instance.status == progress.STALLED or instance.status == progress.ABANDONED:
        instance.status, instance.quiet_since = progress.OPEN, None


def finish(instance: JourneyInstance, at: datetime) -> None:
    """The whole journey is complete (counted once: a second completion changes nothing)."""
    if instance.status != progress.COMPLETED:
        instance.status, instance.completed_at, instance.current_step = progress.COMPLETED, at, None


def go_quiet(instance: JourneyInstance, status: str, at: datetime) -> None:
    """Stalled or abandoned, unless there was activity after `at` (a late notice) or it is finished."""
    if instance.status in progress.RESUMABLE and instance.last_activity_at <= at:
        instance.status, instance.quiet_since = status, at


@dataclass(frozen=True, slots=True)
class State:
    """An instance's state read over it and every instance joined into it."""

    values: dict[str, Any]  # field -> latest value
    given: dict[str, tuple[str, Any, JourneyEntry]]  # field -> (step, value, the entry that gave it)
    done: dict[str, JourneyEntry]  # step -> the entry that completed it


def state_of(session: Session, keeper: JourneyInstance) -> State:
    """An instance's state over its group (remembered for the unit of work once read)."""
    states = _states(session)
    found = states.get(keeper)
    if found is None:
        found = states[keeper] = _read_state(session, keeper)
    return found


def _read_state(session: Session, keeper: JourneyInstance) -> State:
    if keeper.id is None:  # begun in this unit of work, its state since forgotten: its entries are pending too
        session.flush()
    return fold(repository.group_entries(session, keeper.id))


def fold(entries: Sequence[JourneyEntry]) -> State:
    """The state over a group's entries."""
    values: dict[str, Any] = {}
    given: dict[str, tuple[str, Any, JourneyEntry]] = {}
    done: dict[str, JourneyEntry] = {}
    for entry in sorted(entries, key=lambda e: (e.at, e.id)):
        if entry.kind == "field" and entry.field is not None and entry.value_json is not None:
            value = orjson.loads(entry.value_json)
            values[entry.field] = value
            given[entry.field] = (entry.step, value, entry)
        elif entry.kind == "step":
            done.setdefault(entry.step, entry)
    return State(values, given, done)


def refresh(session: Session, definition: JourneyDef, keeper: JourneyInstance, at: datetime) -> None:
    """Recompute the current step (and completion) from what the instance's group holds."""
    if keeper.status == progress.COMPLETED:
        return
    advance(definition, keeper, state_of(session, keeper), at)


def advance(definition: JourneyDef, keeper: JourneyInstance, state: State, at: datetime) -> None:
    """Set the current step (and completion) from a state of the instance's group."""
    if keeper.status == progress.COMPLETED:
        return
    current = progress.current_step(definition, state.done, state.values)
    if current is None:
        finish(keeper, at)
        return
    if current != keeper.current_step:
        keeper.current_step, keeper.step_since = current, at


def follow_merge(session: Session, definitions: Mapping[str, JourneyDef], absorbed: int, survivor: int) -> None:
    """Everything of `absorbed` now belongs to `survivor`; two open instances of a journey become one."""
    forget(session)  # groups change: states are read again
    repository.move(session, absorbed, survivor)
    by_journey: dict[str, list[JourneyInstance]] = {}
    for instance in repository.open_of_profile(session, survivor):
        by_journey.setdefault(instance.journey, []).append(instance)
    for journey, instances in by_journey.items():
        definition = definitions.get(journey)
        if definition is None or definition.multiple or len(instances) < 2:
            continue
        instances.sort(key=lambda i: (i.started_at, i.id))
        keeper = instances[0]
        for other in instances[1:]:
            repository.rejoin(session, other.id, keeper.id)
            other.joined_into, other.status = keeper.id, progress.JOINED
            keeper.last_activity_at = max(keeper.last_activity_at, other.last_activity_at)
        forget(session)
        refresh(session, definition, keeper, keeper.last_activity_at)


def instance(session: Session, public_id: str) -> JourneyInstance:
    """An instance by its public id, read through the instance it was joined into; NotFound otherwise."""
    found = _by_public_id(session, public_id)  # remembered: a save found it here and again in the consumer
    if found is None:
        raise NotFound(f"no journey instance {public_id}")
    return keeper_of(session, found)


# A profile's open and stalled journeys, most recently active first.
open_journeys = repository.open_of_profile
# Every journey of a profile that is not joined into another.
journeys_of = repository.unjoined_of_profile


def open_journeys_of(reads: Reads, profile_ids: Sequence[int]) -> dict[int, dict[str, str | None]]:
    """For many profiles at once, each open or stalled journey's current step (the most recently active instance
    speaks for its journey); profiles with none are left out."""
    out: dict[int, dict[str, str | None]] = {}
    for profile_id, journey, step in repository.step_rows_of(reads, profile_ids, progress.RESUMABLE):
        out.setdefault(profile_id, {})[journey] = step  # least recently active first: the latest is kept
    return out


def iso(moment: datetime | None) -> str | None:
    return isoformat_z(moment) if moment is not None else None


collection_counts = repository.collection_counts  # (journey, step, field, asked, already held, disagreed)


def erase_person(session: Session, profile_ids: Sequence[int]) -> int:
    """Erasure: delete every value entered in the person's journeys (drafts included) and their resume tokens.

    The instances stay as bare progress (journey, step, times) with no personal data; returns entries deleted."""
    forget(session)
    instances = repository.instances_of_profiles(session, profile_ids)
    return repository.erase(session, [i.id for i in instances], [i.public_id for i in instances], profile_ids)


def export_person(session: Session, profile_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Everything entered in the person's journeys, for an access request."""
    out: list[dict[str, Any]] = []
    for row in repository.instances_of_profiles(session, profile_ids):
        out.append(
            {
                "instance_id": row.public_id,
                "journey": row.journey,
                "status": row.status,
                "current_step": row.current_step,
                "started_at": iso(row.started_at),
                "entries": [
                    {
                        "step": e.step,
                        "kind": e.kind,
                        "field": e.field,
                        "value": orjson.loads(e.value_json) if e.value_json is not None else None,
                        "channel": e.channel,
                        "at": iso(e.at),
                    }
                    for e in repository.entries(session, [row.id])
                ],
            }
        )
    return out


def instance_or_none(session: Session, public_id: str) -> JourneyInstance | None:
    found = repository.by_public_id(session, public_id)
    return keeper_of(session, found) if found is not None else None


def profile_of_event_person(session: Session, person: Mapping[str, str]) -> int | None:
    """The active profile a person named by userId/anonymousId lives in, if any."""
    for key, kind in (("userId", "user_id"), ("anonymousId", "anonymous_id")):
        if key in person:
            try:
                return root_of(session, profile_holding(session, Identifier(kind, person[key])))
            except NotFound:
                continue
    return None
