"""What the journey API and the console do to a journey: each is a `Journey …` event of the family, appended to
the inbox and resolved at once through the same pipeline the worker runs (as corrections are), so a change made
through the API, the console or an SDK is one code path, and an unmerge or rebuild re-derives it exactly.

Rules checked here, before the event is written (bad input changes nothing): the step exists and applies, the
fields are the step's, completing needs the step's required fields, an agent completes only steps that allow it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.orm import Session

from seamline.core.clock import utcnow
from seamline.core.errors import FieldError, InvalidInput, NotFound
from seamline.core.pipeline import ResolvedEvent, occurred_at
from seamline.core.prepared import Reads
from seamline.identity.identifiers import Identifier
from seamline.identity.service import person_keys, root_of
from seamline.ingestion.service import append_processed, append_unprocessed
from seamline.ingestion.wire import Limits, parse_batch
from seamline.journeys import family, installed, progress, service, snapshots
from seamline.journeys.consumer import completing_events, take_event
from seamline.journeys.definitions import JourneyDef, StepDef
from seamline.journeys.models import JourneyEntry, JourneyInstance
from seamline.journeys.views import InstanceView
from seamline.journeys.writer import PlannedSave
from seamline.pipeline.registry import Pipeline
from seamline.pipeline.service import process_events
from seamline.sources.service import create_source, list_sources

API_SOURCE, API_KIND = "journeys-api", "server"
CONSOLE_SOURCE, CONSOLE_KIND = "console", "call-center"
MAX_VALUE_CHARS = 2000
_KINDS = {"userId": "user_id", "anonymousId": "anonymous_id"}
_TYPES = {kind: key for key, kind in _KINDS.items()}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who writes: through which channel and device, and the agent's name when an agent does it."""

    channel: str
    device: str | None = None
    agent: str | None = None

    @property
    def source(self) -> tuple[str, str]:
        return (CONSOLE_SOURCE, CONSOLE_KIND) if self.agent else (API_SOURCE, API_KIND)


def _source_id(session: Session, name: str, kind: str, known: Mapping[int, str] | None = None) -> int:
    # `known`: the API's cached names of sources by id (a source is never deleted, so a cached id stays good);
    # reading every source per save was 5% of its CPU.
    cached = next((i for i, n in known.items() if n == name), None) if known else None
    if cached is not None:
        return cached
    found = next((s for s in list_sources(session) if s.name == name), None)
    if found is not None:
        return found.id
    source, _key = create_source(session, name, kind)  # nothing sends as it: its write key is not kept
    return source.id


def _write(session: Session, pipeline: Pipeline, actor: Actor, message: dict[str, Any]) -> None:
    [item] = append_processed(session, _source_id(session, *actor.source), [message])
    process_events(session, [item], pipeline)


def _definition(definitions: Mapping[str, JourneyDef], journey: str) -> JourneyDef:
    found = definitions.get(journey)
    if found is None:
        known = ", ".join(sorted(definitions)) or "none loaded"
        raise InvalidInput([FieldError("journey", "unknown", f"no journey {journey!r}; known: {known}")])
    return found


def start(
    session: Session, pipeline: Pipeline, journey: str, person: Mapping[str, str], actor: Actor
) -> JourneyInstance:
    """Start a journey for a person (userId and/or anonymousId), or return their open instance of it."""
    definitions = installed.running_definitions(session)
    _definition(definitions, journey)
    public_id = family.new_instance_id()
    message = family.message(
        family.STARTED, person, journey=journey, instance_id=public_id, channel=actor.channel, device=actor.device
    )
    _write(session, pipeline, actor, message)
    found = service.instance_or_none(session, public_id)
    if found is None:  # the person already had an open instance of a one-at-a-time journey: that one
        profile = service.profile_of_event_person(session, person)
        open_ones = [i for i in service.open_journeys(session, profile) if i.journey == journey] if profile else []
        if not open_ones:
            raise NotFound("the journey could not be started")
        return open_ones[0]
    return found


def _step(definition: JourneyDef, step: str) -> StepDef:
    found = definition.step(step)
    if found is None:
        steps = ", ".join(s.key for s in definition.steps)
        raise InvalidInput([FieldError("step", "unknown", f"no step {step!r} in {definition.key}; steps: {steps}")])
    return found


def save_errors(
    instance: JourneyInstance,
    step_def: StepDef,
    fields: Mapping[str, Any],
    state: service.State,
    actor: Actor,
    *,
    complete: bool,
) -> list[FieldError]:
    """What is wrong with saving these fields of a step of an instance in this state (nothing: an empty list); a
    journey that is not open is refused at once."""
    if instance.status not in progress.RESUMABLE:
        raise InvalidInput([FieldError("instance_id", "not_open", f"the journey is {instance.status}")])
    step = step_def.key
    errors = [
        FieldError(f"fields.{name}", "unknown", f"step {step!r} does not collect {name!r}")
        for name in progress.unknown_fields(step_def, list(fields))
    ]
    errors += [
        FieldError(f"fields.{name}", "too_long", f"a value has at most {MAX_VALUE_CHARS} characters")
        for name, value in fields.items()
        if len(str(value)) > MAX_VALUE_CHARS
    ]
    values = {**state.values, **fields}
    if not progress.applies(step_def, values):
        errors.append(FieldError("step", "does_not_apply", f"step {step!r} does not apply to this journey"))
    if complete:
        errors += [
            FieldError(f"fields.{name}", "required", f"{name!r} is required to complete {step!r}")
            for name in progress.missing_fields(step_def, values)
        ]
        if actor.agent and not step_def.agent:
            errors.append(FieldError("step", "not_for_agents", f"step {step!r} may not be completed by an agent"))
    return errors


def save(
    session: Session,
    pipeline: Pipeline,
    public_id: str,
    step: str,
    fields: Mapping[str, Any],
    actor: Actor,
    *,
    complete: bool,
    person: Mapping[str, str] | None = None,
    known_sources: Mapping[int, str] | None = None,
) -> JourneyInstance:
    """Save fields of a step (a draft, field by field), or complete the step with them. `known_sources`: source
    names by id the caller already holds (the API's cache), to find its own source without a query."""
    definitions = installed.running_definitions(session)
    instance = service.instance(session, public_id)
    definition = _definition(definitions, instance.journey)
    step_def = _step(definition, step)
    state = service.state_of(session, instance)
    errors = save_errors(instance, step_def, fields, state, actor, complete=complete)
    named = service.profile_of_event_person(session, person) if person else None
    if named is not None and named != root_of(session, instance.profile_id):
        errors.append(FieldError("user_id", "another_customer", f"journey {public_id} belongs to another customer"))
    if errors:
        raise InvalidInput(errors, "nothing was saved")
    # Written as the journey's own person, so the event lands on the instance's profile.
    who = _person(session, instance.profile_id)
    if not who:
        raise NotFound(f"the customer of journey {public_id} has no user or anonymous id to write as")
    name, message = step_message(definition, instance.public_id, step_def, fields, who, actor, complete=complete)
    if moves_no_identity(pipeline, message, who):
        _apply_at_once(session, definitions, actor, message, name, instance.profile_id, known_sources)
        return instance
    _write(session, pipeline, actor, message)
    return service.instance(session, instance.public_id)


def step_message(
    definition: JourneyDef,
    public_id: str,
    step_def: StepDef,
    fields: Mapping[str, Any],
    who: Mapping[str, str],
    actor: Actor,
    *,
    complete: bool,
) -> tuple[str, dict[str, Any]]:
    """The family event (its name, the message) that saves these fields of a step, or completes it."""
    traits = {f.trait: fields[f.key] for f in step_def.fields if f.trait and f.key in fields}
    name = family.STEP_COMPLETED if complete else family.SAVED
    message = family.message(
        name,
        who,
        journey=definition.key,
        instance_id=public_id,
        step=step_def.key,
        fields=fields,
        traits=traits,
        channel=actor.channel,
        device=actor.device,
        agent=actor.agent,
    )
    return name, message


def _person(session: Session, profile_id: int) -> dict[str, str] | None:
    """How an event names the profile: its user id, else an anonymous id (as the stall scan names people)."""
    found = person_keys(session, [profile_id]).get(profile_id)
    return {_TYPES[found[0]]: found[1]} if found else None


def moves_no_identity(pipeline: Pipeline, message: Mapping[str, Any], who: Mapping[str, str]) -> bool:
    """Whether identity would learn nothing from this message: it names only the person it is written as (no
    email, phone or other identifier among its traits, none refused)."""
    found, refused = pipeline.extractor.extract(message)
    own = {Identifier(_KINDS[key], value) for key, value in who.items()}
    return not refused and set(found) <= own


def _apply_at_once(
    session: Session,
    definitions: Mapping[str, JourneyDef],
    actor: Actor,
    message: dict[str, Any],
    name: str,
    profile_id: int,
    known_sources: Mapping[int, str] | None,
) -> None:
    """A save that moves no identity: the event is appended for the worker, which resolves the rest of the pipeline
    (the golden record's traits, rules) as for any event, and the journeys consumer applies it now, to the profile
    the journey lives on, so the answer shows it. The worker's journeys consumer skips it (applied_events)."""
    source_id = _source_id(session, *actor.source, known_sources)
    [item] = append_unprocessed(session, source_id, [message])
    event = ResolvedEvent(
        item.id, source_id, item.payload, item.received_at, occurred_at(item.payload, item.received_at), profile_id
    )
    ends = completing_events(definitions)
    take_event(session, definitions, ends, event, name, profile_id, actor.source[1])


@dataclass(frozen=True, slots=True)
class Planned:
    """A save planned on a read snapshot: its writes (for the save writer) and the answer once they commit."""

    write: PlannedSave
    instance: JourneyInstance  # as it is once the save is written (detached)
    view: InstanceView


def plan_save(
    reads: Reads,
    pipeline: Pipeline,
    definitions: Mapping[str, JourneyDef],
    public_id: str,
    step: str,
    fields: Mapping[str, Any],
    actor: Actor,
    *,
    complete: bool,
    person: Mapping[str, str] | None,
    known_sources: Mapping[int, str],
) -> Planned | None:
    """`save` for the journey API's hot path, on a read snapshot: the same checks (bad input raises as there), the
    same event and the same entries, computed as `save` and the journeys consumer do, left for the save writer to
    commit. None when the save must go the ORM's way (`save`): it would move identity, or its source is new."""
    source_name = actor.source[0]
    source = next((i for i, n in known_sources.items() if n == source_name), None)
    if source is None:
        return None
    instance = snapshots.keeper(reads, public_id)
    definition = _definition(definitions, instance.journey)
    step_def = _step(definition, step)
    state, latest_entry = snapshots.state(reads, instance)
    errors = save_errors(instance, step_def, fields, state, actor, complete=complete)
    named = snapshots.person_profile(reads, person) if person else None
    if named is not None and named != snapshots.root(reads, instance.profile_id):
        errors.append(FieldError("user_id", "another_customer", f"journey {public_id} belongs to another customer"))
    if errors:
        raise InvalidInput(errors, "nothing was saved")
    who = snapshots.person_of(reads, instance.profile_id)
    if not who:
        return None  # the ORM's way says why
    name, message = step_message(definition, instance.public_id, step_def, fields, who, actor, complete=complete)
    if not moves_no_identity(pipeline, message, who):
        return None
    received_at = utcnow()
    [envelope] = parse_batch({"batch": [message]}, received_at, Limits())
    stored = family.read(orjson.loads(envelope.payload), name)
    if stored is None:
        return None
    # As the journeys consumer applies the event (consumer.take_event) once it is stored.
    where = service.Where(
        channel=stored.channel or actor.source[1],
        device=stored.device,
        actor_kind="agent" if stored.agent else "customer",
        actor=stored.agent,
        event_id=0,  # the event's id, once the writer has appended it
        at=occurred_at(orjson.loads(envelope.payload), received_at),
    )
    seen = {
        "id": instance.id,
        "seen_profile": instance.profile_id,
        "seen_status": instance.status,
        "seen_activity": instance.last_activity_at,
        "seen_entry": latest_entry,
    }
    held = service.held_traits(reads, instance.profile_id) if service.asks_held(definition, step, stored.fields) else {}
    entries = service.field_entries(definition, instance, step, stored.fields, where, held)
    service.touch(instance, where.at)
    if complete:
        entries.append(service.step_entry(definition, instance, step, where))
        service.touch(instance, where.at)
    for entry in entries:
        service.remember(state, entry)
    service.advance(definition, instance, state, where.at)
    progress_values = {
        **seen,
        **{key: getattr(instance, key) for key in _PROGRESS},
    }
    write = PlannedSave(source, received_at, envelope, progress_values, [_values(e) for e in entries])
    return Planned(write, instance, InstanceView(instance, definition, state))


_PROGRESS = ("status", "current_step", "step_since", "last_activity_at", "completed_at", "quiet_since")
_ENTRY_COLUMNS = tuple(c.key for c in JourneyEntry.__table__.c if c.key != "id")


def _values(entry: JourneyEntry) -> dict[str, Any]:
    return {key: getattr(entry, key) for key in _ENTRY_COLUMNS}
