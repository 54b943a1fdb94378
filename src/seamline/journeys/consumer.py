"""Journeys' consumer of resolved events: the `Journey …` tracking family (and the events definitions name as
completing a step or a journey) update instances; merges join instances, and an unmerge or rebuild re-derives them.

Merges are followed in the order the batch made them, interleaved with its events by event id, so an event that
comes after a merge in the batch finds the instance where the merge put it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from seamline.core.pipeline import Consumer, MergeNotice, ResolvedBatch, ResolvedEvent
from seamline.journeys import family, installed, progress, repository, service
from seamline.journeys.batch import Job, Stretch
from seamline.journeys.definitions import JourneyDef
from seamline.sources.service import list_sources

_CREATES = (family.STARTED, family.SAVED, family.STEP_COMPLETED)
_APPLIED_AT_ONCE = (family.SAVED, family.STEP_COMPLETED)


class JourneysConsumer(Consumer):
    name = "journeys"

    def take(self, session: Session, batch: ResolvedBatch) -> None:
        names = batch.track_names()
        if not names and not batch.merges:
            return
        definitions = installed.running_definitions(session)
        if not definitions:
            return
        ends = completing_events(definitions)
        # Only the events named in the family or by a definition (names as read: trimmed) are looked at.
        wanted = [raw for raw in names if (name := family.clean_name(raw)) in family.FAMILY or name in ends]
        relevant = [(e, str(family.event_name(e.payload))) for e in batch.tracked(wanted)]
        kinds = {s.id: s.kind for s in list_sources(session)} if relevant else {}
        # A journey save through the API or console was applied when it was made (actions.save): skip it here. Only
        # those are looked up: their message ids are the family's own (family.message).
        applied = repository.applied_events(
            session, [e.id for e, n in relevant if n in _APPLIED_AT_ONCE and family.is_own_message(e.payload)]
        )
        merges: list[MergeNotice] = list(batch.merges)
        moved: dict[int, int] = {}
        stretch: list[tuple[ResolvedEvent, str]] = []
        # The events between two merges are applied as one set (batch.py); a merge is followed in its place.
        for event, name in relevant:
            if merges and merges[0].event_id <= event.id:
                _apply(session, definitions, ends, stretch, moved, kinds)
                stretch = []
                while merges and merges[0].event_id <= event.id:
                    _follow(session, definitions, merges.pop(0), moved)
            if event.id not in applied:
                stretch.append((event, name))
        _apply(session, definitions, ends, stretch, moved, kinds)
        for merge in merges:
            _follow(session, definitions, merge, moved)

    def rederive(self, session: Session, profile_ids: Sequence[int]) -> None:
        # Every instance and entry came from events: the replay that follows derives them again, joins included.
        service.forget(session)
        repository.wipe(session, profile_ids)

    def retire(self, session: Session, homes: Mapping[int, int]) -> None:
        service.forget(session)
        for profile_id, home in homes.items():
            repository.move(session, profile_id, home)


def _apply(
    session: Session,
    definitions: Mapping[str, JourneyDef],
    ends: Mapping[str, list[tuple[str, str | None]]],
    events: Sequence[tuple[ResolvedEvent, str]],
    moved: Mapping[int, int],
    kinds: Mapping[int, str],
) -> None:
    if not events:
        return
    jobs = [Job.of(e, n, _home(moved, e.profile_id), kinds.get(e.source_id, "unknown")) for e, n in events]
    session.flush()  # the unit of work's pending journey rows (a merge's) before the stretch reads them as rows
    stretch = Stretch(session, definitions)
    stretch.load(jobs)
    for job in jobs:
        stretch.apply(job, ends)
    stretch.write()


def _follow(session: Session, definitions: Mapping[str, JourneyDef], merge: MergeNotice, moved: dict[int, int]) -> None:
    moved[merge.absorbed] = merge.survivor
    service.follow_merge(session, definitions, merge.absorbed, merge.survivor)
    session.flush()  # its changes made through the ORM, before the next stretch reads rows


def _home(moved: Mapping[int, int], profile_id: int) -> int:
    for _ in range(100):
        if profile_id not in moved:
            break
        profile_id = moved[profile_id]
    return profile_id


def completing_events(definitions: Mapping[str, JourneyDef]) -> dict[str, list[tuple[str, str | None]]]:
    """Event name -> (journey, step it completes, or None for the whole journey)."""
    out: dict[str, list[tuple[str, str | None]]] = {}
    for definition in definitions.values():
        if definition.completes_on:
            out.setdefault(definition.completes_on, []).append((definition.key, None))
        for step in definition.steps:
            if step.completes_on:
                out.setdefault(step.completes_on, []).append((definition.key, step.key))
    return out


def take_event(
    session: Session,
    definitions: Mapping[str, JourneyDef],
    ends: Mapping[str, list[tuple[str, str | None]]],
    event: ResolvedEvent,
    name: str,
    profile_id: int,
    source_kind: str,
) -> None:
    """What one resolved event does to the journeys of the profile it resolved to."""
    if name not in family.FAMILY:
        # An event a definition names: it completes a step, or the journey, of the person's open instance.
        where = service.Where(source_kind, None, "system", None, event.id, event.occurred_at)
        for journey, step in ends[name]:
            definition = definitions[journey]
            found = service.find_instance(session, definition, profile_id, None)
            if found is None:
                continue
            if step is None:
                service.finish(found, event.occurred_at)
            else:
                service.complete_step(session, definition, found, step, where)
                service.refresh(session, definition, found, event.occurred_at)
        return
    message = family.read(event.payload, name)
    if message is None or message.journey not in definitions:
        return  # a journey nobody defined: the event stays in the log; nothing to record
    definition = definitions[message.journey]
    agent = message.agent
    where = service.Where(
        channel=message.channel or source_kind,
        device=message.device,
        actor_kind="agent" if agent else ("system" if name in (family.STALLED, family.ABANDONED) else "customer"),
        actor=agent,
        event_id=event.id,
        at=event.occurred_at,
    )
    found = service.find_instance(session, definition, profile_id, message.instance_id)
    if found is not None and found.profile_id != profile_id:
        return  # another person's instance id: one person's events never write into someone else's journey
    if found is None or (name == family.STARTED and definition.multiple and message.instance_id is None):
        if name not in _CREATES:
            return
        public_id = message.instance_id or f"ev-{event.id}"
        found = service.begin(session, definition, profile_id, public_id, where)
    if name in (family.SAVED, family.STEP_COMPLETED) and message.step is not None:
        service.save_fields(session, definition, found, message.step, message.fields, where)
        if name == family.STEP_COMPLETED:
            service.complete_step(session, definition, found, message.step, where)
    elif name == family.COMPLETED:
        service.finish(found, event.occurred_at)
        return
    elif name == family.STALLED:
        service.go_quiet(found, progress.STALLED, event.occurred_at)
        return
    elif name == family.ABANDONED:
        service.go_quiet(found, progress.ABANDONED, event.occurred_at)
        return
    service.refresh(session, definition, found, event.occurred_at)
