"""The worker's journeys step as set work: a stretch of a batch's events between two merges is applied to plain
records of the instances it touches, read in a few queries (the instances its events name, the open ones of the
people whose events name none, and their entries), and written back in a few statements (new instances, entries,
the changed columns of the others).

The rules are those of the per-event path (consumer.take_event, which the API and console use for one save at
a time, through the ORM): which instance an event means, whose it may be, what each event of the family does,
the current step and completion. tests/journeys/test_batch_rules.py runs the same events through both and
compares. py-spy put an ORM object per instance and per entry, and the unit of work that flushes them, at most
of the worker's time on journey events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from seamline.core.pipeline import ResolvedEvent
from seamline.journeys import family, progress, repository, service
from seamline.journeys.definitions import JourneyDef
from seamline.journeys.models import JourneyInstance
from seamline.journeys.rows import BatchEntry, LiveRow

_CREATES = (family.STARTED, family.SAVED, family.STEP_COMPLETED)


@dataclass(slots=True, eq=False)
class Live:
    """One instance as the batch sees it, with its state (over the instances joined into it) once read."""

    id: int | None
    public_id: str
    journey: str
    profile_id: int
    status: str
    current_step: str | None
    last_activity_at: datetime
    joined_into: int | None
    # Not read for a stored instance (only written when they change): each timestamp read back costs a parse.
    step_since: datetime | None = None
    completed_at: datetime | None = None
    quiet_since: datetime | None = None
    begun: dict[str, Any] | None = None  # the columns only a new instance's insert sets
    changed: set[str] = field(default_factory=set)  # the columns to write back
    values: dict[str, Any] = field(default_factory=dict)  # field -> latest value
    value_at: dict[str, datetime] = field(default_factory=dict)  # field -> when its latest value was given
    done: dict[str, datetime] = field(default_factory=dict)  # step -> when it was first completed


@dataclass(frozen=True, slots=True)
class Job:
    """One event to apply: its name as read, what it says (a family event), the profile it now lives on, and its
    source's kind."""

    event: ResolvedEvent
    name: str
    message: family.JourneyMessage | None
    profile_id: int
    source_kind: str

    @classmethod
    def of(cls, event: ResolvedEvent, name: str, profile_id: int, source_kind: str) -> Job:
        message = family.read(event.payload, name) if name in family.FAMILY else None
        return cls(event, name, message, profile_id, source_kind)


class Stretch:
    """The instances a stretch of events touches, and what applying the events writes."""

    def __init__(self, session: Session, definitions: Mapping[str, JourneyDef]) -> None:
        self.session = session
        self.definitions = definitions
        self.by_id: dict[int, Live] = {}
        self.by_public_id: dict[str, Live | None] = {}
        self.open_of: dict[tuple[int, str], list[Live]] = {}  # (profile, journey) -> instances, oldest first
        self.new: list[Live] = []
        self.entries: list[tuple[Live, dict[str, Any]]] = []
        self.held: dict[int, dict[str, Any]] = {}

    def load(self, jobs: Sequence[Job]) -> None:
        """Read every instance the jobs may mean, and the state of each, in a few queries."""
        named = {j.message.instance_id for j in jobs if j.message is not None and j.message.instance_id is not None}
        self._keep(repository.live_rows_by_public_ids(self.session, sorted(named)))
        for public_id in named:
            self.by_public_id.setdefault(public_id, None)
        # A person's open instances are read only for the events that name none (by their id, the rest are found).
        wanted = {j.profile_id for j in jobs if j.message is None or j.message.instance_id is None}
        for row in self._keep(repository.live_rows_of_profiles(self.session, sorted(wanted), progress.RESUMABLE)):
            self.open_of.setdefault((row.profile_id, row.journey), []).append(row)
        for hops in range(100):  # joined instances are read through the ones they were joined into
            missing = sorted({r.joined_into for r in self.by_id.values() if r.joined_into} - set(self.by_id))
            if not missing or hops == 99:
                break
            self._keep(repository.live_rows_by_ids(self.session, missing))
        # The current step needs the steps done and only the values a step's condition reads (not every value).
        conditions = sorted({s.when.field for d in self.definitions.values() for s in d.steps if s.when is not None})
        keepers = [i for i, r in self.by_id.items() if r.joined_into is None]
        for entry in sorted(repository.batch_entry_rows(self.session, keepers, conditions), key=_in_order):
            row = self.by_id[entry.keeper_id]
            if entry.kind == "field" and entry.field is not None and entry.value_json is not None:
                row.values[entry.field], row.value_at[entry.field] = orjson.loads(entry.value_json), entry.at
            elif entry.kind == "step":
                row.done.setdefault(entry.step, entry.at)

    def _keep(self, rows: Sequence[LiveRow]) -> list[Live]:
        out = []
        for values in rows:
            row = self.by_id.get(values.id)
            if row is None:
                row = self.by_id[values.id] = Live(*values)
                self.by_public_id[row.public_id] = row
            out.append(row)
        return out

    def keeper_of(self, row: Live) -> Live:
        seen = 0
        while row.joined_into is not None and row.joined_into in self.by_id and seen < 100:
            row, seen = self.by_id[row.joined_into], seen + 1
        return row

    def find(self, definition: JourneyDef, profile_id: int, public_id: str | None) -> Live | None:
        """The instance an event means: by its public id, else the person's resumable instance of the journey."""
        if public_id is not None:
            found = self.by_public_id.get(public_id)
            return self.keeper_of(found) if found is not None else None
        if definition.multiple:
            return None
        mine = self.open_of.get((profile_id, definition.key), ())
        return next((r for r in mine if r.status in progress.RESUMABLE), None)

    def begin(self, definition: JourneyDef, profile_id: int, public_id: str, where: service.Where) -> Live:
        first = progress.current_step(definition, (), {})
        row = Live(
            None, public_id, definition.key, profile_id, progress.OPEN, first, where.at, None, step_since=where.at,
            begun={"origin_profile_id": profile_id, "started_at": where.at, "started_channel": where.channel,
                   "event_id": where.event_id},
        )  # fmt: skip
        self.new.append(row)
        self.by_public_id[public_id] = row
        self.open_of.setdefault((profile_id, definition.key), []).append(row)
        return row

    def apply(self, job: Job, ends: Mapping[str, list[tuple[str, str | None]]]) -> None:
        """What one event does to the journeys of its person (consumer.take_event's rules)."""
        event, name, profile_id = job.event, job.name, job.profile_id
        if name not in family.FAMILY:
            where = service.Where(job.source_kind, None, "system", None, event.id, event.occurred_at)
            for journey, step in ends[name]:
                definition = self.definitions[journey]
                found = self.find(definition, profile_id, None)
                if found is None:
                    continue
                if step is None:
                    _finish(found, event.occurred_at)
                else:
                    self.complete_step(definition, found, step, where)
                    _refresh(definition, found, event.occurred_at)
            return
        message = job.message
        if message is None or message.journey not in self.definitions:
            return
        definition = self.definitions[message.journey]
        quiet = name in (family.STALLED, family.ABANDONED)
        where = service.Where(
            channel=message.channel or job.source_kind,
            device=message.device,
            actor_kind="agent" if message.agent else ("system" if quiet else "customer"),
            actor=message.agent,
            event_id=event.id,
            at=event.occurred_at,
        )
        found = self.find(definition, profile_id, message.instance_id)
        if found is not None and found.profile_id != profile_id:
            return  # another person's instance id: one person's events never write into someone else's journey
        if found is None or (name == family.STARTED and definition.multiple and message.instance_id is None):
            if name not in _CREATES:
                return
            found = self.begin(definition, profile_id, message.instance_id or f"ev-{event.id}", where)
        if name in (family.SAVED, family.STEP_COMPLETED) and message.step is not None:
            self.save_fields(definition, found, message.step, message.fields, where)
            if name == family.STEP_COMPLETED:
                self.complete_step(definition, found, message.step, where)
        elif name == family.COMPLETED:
            _finish(found, event.occurred_at)
            return
        elif quiet:
            _go_quiet(found, progress.STALLED if name == family.STALLED else progress.ABANDONED, event.occurred_at)
            return
        _refresh(definition, found, event.occurred_at)

    def save_fields(
        self, definition: JourneyDef, row: Live, step: str, fields: Mapping[str, Any], where: service.Where
    ) -> None:
        step_def = definition.step(step)
        if step_def is None:
            return
        known = [(f, value) for name, value in fields.items() if (f := step_def.field_named(name)) is not None]
        held: Mapping[str, Any] = {}
        if any(f.trait for f, _ in known):
            if row.profile_id not in self.held:  # held before this batch: read once per person
                self.held[row.profile_id] = service.held_traits(self.session, row.profile_id)
            held = self.held[row.profile_id]
        for field_def, value in known:
            had = field_def.trait is not None and field_def.trait in held
            differs = had and not progress.same_value(value, held[field_def.trait or ""])
            text = orjson.dumps(value).decode()
            self._entry(row, where, step, "field", field_def.key, text, had, differs)
            earlier = row.value_at.get(field_def.key)
            if earlier is None or earlier <= where.at:
                row.values[field_def.key], row.value_at[field_def.key] = orjson.loads(text), where.at
        self._touch(row, where.at)

    def complete_step(self, definition: JourneyDef, row: Live, step: str, where: service.Where) -> None:
        if definition.step(step) is None:
            return
        self._entry(row, where, step, "step", None, None, False, False)
        first = row.done.get(step)
        if first is None or where.at < first:
            row.done[step] = where.at
        self._touch(row, where.at)

    def _touch(self, row: Live, at: datetime) -> None:
        row.last_activity_at = max(row.last_activity_at, at)
        row.changed.add("last_activity_at")
        if row.status == progress.STALLED or row.status == progress.ABANDONED:
            if row.status == progress.ABANDONED:  # resumable again: later events of the person find it
                mine = self.open_of.setdefault((row.profile_id, row.journey), [])
                if all(r is not row for r in mine):
                    mine.append(row)
                    mine.sort(key=lambda r: (r.id is None, r.id or 0))
            row.status, row.quiet_since = progress.OPEN, None
            row.changed.update(("status", "quiet_since"))

    def _entry(
        self, row: Live, where: service.Where, step: str, kind: str, name: str | None, text: str | None,
        had: bool, differs: bool,
    ) -> None:  # fmt: skip
        values = {
            "journey": row.journey, "step": step, "kind": kind, "field": name, "value_json": text,
            **where.columns(), "already_held": had, "disagreed": differs,
        }  # fmt: skip
        self.entries.append((row, values))

    def write(self) -> None:
        """New instances, then entries, then the changed instances (a statement for each set of columns changed,
        one or two in a batch): a few statements."""
        ids = repository.insert_instances(self.session, [_insert_row(r) for r in self.new])
        for row, new_id in zip(self.new, ids, strict=True):
            row.id = new_id
        repository.insert_entries(self.session, [{**values, "instance_id": row.id} for row, values in self.entries])
        changes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in self.by_id.values():
            if row.changed:
                columns = tuple(sorted(row.changed))
                changes.setdefault(columns, []).append({"b_id": row.id, **{c: getattr(row, c) for c in columns}})
        for columns, rows in changes.items():
            repository.update_live(self.session, columns, rows)
        # ORM copies of instances this unit of work holds (a merge read them) would be stale now.
        for instance in [o for o in self.session.identity_map.values() if isinstance(o, JourneyInstance)]:
            self.session.expire(instance)
        service.forget(self.session)


def _in_order(entry: BatchEntry) -> tuple[datetime, int]:
    """Entries in the order they were given (their time, then their id)."""
    return entry.at, entry.id


def _insert_row(row: Live) -> dict[str, Any]:
    return {
        **(row.begun or {}), "public_id": row.public_id, "journey": row.journey, "profile_id": row.profile_id,
        "status": row.status, "current_step": row.current_step, "step_since": row.step_since,
        "last_activity_at": row.last_activity_at, "completed_at": row.completed_at, "quiet_since": row.quiet_since,
    }  # fmt: skip


def _finish(row: Live, at: datetime) -> None:
    if row.status != progress.COMPLETED:
        row.status, row.completed_at, row.current_step = progress.COMPLETED, at, None
        row.changed.update(("status", "completed_at", "current_step"))


def _go_quiet(row: Live, status: str, at: datetime) -> None:
    if row.status in progress.RESUMABLE and row.last_activity_at <= at:
        row.status, row.quiet_since = status, at
        row.changed.update(("status", "quiet_since"))


def _refresh(definition: JourneyDef, row: Live, at: datetime) -> None:
    if row.status == progress.COMPLETED:
        return
    current = progress.current_step(definition, row.done, row.values)
    if current is None:
        _finish(row, at)
    elif current != row.current_step:
        row.current_step, row.step_since = current, at
        row.changed.update(("current_step", "step_since"))
