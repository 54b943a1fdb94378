"""The trigger engine: evaluates the loaded rules on each resolved batch (in its transaction), does the steps that
are due at once, keeps the others for `run_due`, and cancels waiting steps when an exit event arrives. Services
only flush; the batch's or the job's transaction commits."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event as sqlalchemy_events
from sqlalchemy.orm import Session

from seamline.cases.service import case_changes_after, last_case_change
from seamline.core.clock import isoformat_z, utcnow
from seamline.core.errors import SeamlineError
from seamline.core.jobs import claim_due, ensure_job
from seamline.core.pipeline import ResolvedBatch, ResolvedEvent
from seamline.core.views import view_of
from seamline.profiles.facts import holding_facts
from seamline.triggers import repository
from seamline.triggers.actions import Actions, Work, perform, read_journeys, read_traits, segment_page
from seamline.triggers.book import RuleBook
from seamline.triggers.matching import (
    Occurrence,
    RuleIndex,
    all_hold,
    exit_matches,
    in_window,
    journey_holds,
    lookup,
    occurrence_key,
    render,
)
from seamline.triggers.models import TriggerStep
from seamline.triggers.rules import Rule, duration

MAX_RESULT = 500
CASES_FEED = "cases"
REMEMBERED = 200_000  # committed firings kept in memory (a few tens of MB at most)


@dataclass(frozen=True, slots=True)
class StepView:
    """One step a rule asked for, as the console and the CLI show it."""

    id: int
    rule: str
    profile_id: int
    action: str
    target: str
    due_at: datetime
    status: str
    result: str | None

    @classmethod
    def of(cls, row: TriggerStep) -> StepView:
        return view_of(cls, row)


def occurrences(payload: Mapping[str, Any], index: RuleIndex) -> Iterator[Occurrence]:
    """What in an event may start a rule: the tracked event, the traits an identify sets, the holdings reported."""
    kind = payload.get("type")
    if kind == "track":
        name = payload.get("event")
        props = payload.get("properties")
        if isinstance(name, str) and name in index.events:
            yield Occurrence("event", name, props if isinstance(props, Mapping) else {})
    elif kind == "identify" and index.has_traits:
        traits = payload.get("traits")
        if isinstance(traits, Mapping):
            for name, value in traits.items():
                yield Occurrence("trait", str(name), {"trait": name, "value": value})
    if index.has_holdings and kind in ("group", "track"):
        for fact in holding_facts(payload):
            props = {**fact.attributes, "type": fact.type, "id": fact.external_id, "status": fact.status}
            yield Occurrence("holding", fact.type, props)


class TriggerEngine:
    """The rules in force and what their steps need; `take` runs on each batch, `run_due` on the worker's idle turns."""

    def __init__(
        self,
        book: RuleBook,
        actions: Actions,
        *,
        clock: Callable[[], datetime] = utcnow,
        due_batch: int = 200,
        segment_page: int = 1000,
    ) -> None:
        self.book, self.actions, self.clock, self.due_batch = book, actions, clock, due_batch
        self.segment_page = segment_page  # people of a scheduled rule's segment looked at per transaction
        # Firings known to be committed: a once-per-person rule on a frequent event then costs no statement after
        # its first firing. Only what a committed transaction wrote is remembered (a rolled-back batch that fired
        # must fire again when it is retried); bounded, oldest forgotten first.
        self._fired: OrderedDict[tuple[str, int, str], None] = OrderedDict()
        self._seen: list[tuple[str, int, str]] = []
        self.touched: set[int] = set()  # profiles this batch counted an event of or fired a rule for

    def take(self, session: Session, batch: ResolvedBatch) -> int:
        """Evaluate the rules on a batch's events (never a replay's: they fired the first time); how many fired."""
        fired = 0
        if not batch.is_replay:
            self.book.refresh()
            index = self.book.index
            if len(index):
                now = self.clock()
                self._seen, self.touched = [], set()
                for event in batch.events:
                    fired += self._event(session, index, event, now)
                if self._seen:
                    seen = self._seen
                    sqlalchemy_events.listen(session, "after_commit", lambda _s: self._remember(seen), once=True)
        return fired

    def _event(self, session: Session, index: RuleIndex, event: ResolvedEvent, now: datetime) -> int:
        payload = event.payload
        if payload.get("type") == "track" and (ending := index.ending(str(payload.get("event")))):
            props = payload.get("properties")
            self._exit(session, ending, event.profile_id, props if isinstance(props, Mapping) else {}, now)
        fired = 0
        for occurrence in occurrences(payload, index):
            for rule in index.starting(occurrence):
                fired += self._consider(session, rule, occurrence, event, now)
        return fired

    def _exit(self, session: Session, ending: Sequence[Any], profile_id: int, props: Mapping[str, Any],
              now: datetime) -> None:  # fmt: skip
        for rule, exit_ in ending:
            for step in repository.pending_of(session, rule.name, profile_id):
                if exit_matches(exit_, props, (step.fired_with or {}).get("properties") or {}):
                    step.status, step.settled_at = repository.CANCELLED, now
                    step.result = f"exit: {exit_.event}"[:MAX_RESULT]
        session.flush()

    def _consider(
        self,
        session: Session,
        rule: Rule,
        occurrence: Occurrence,
        event: ResolvedEvent,
        now: datetime,
        known: Mapping[str, Any] | None = None,
    ) -> int:
        props = occurrence.properties
        if not all_hold(rule.where, lookup(props, {})):
            return 0
        profile_id, at = event.profile_id, event.occurred_at
        # The golden record is read only for a rule that needs it: before the firing when a condition asks about
        # it, after the firing (so only once per occurrence) when only the steps' data name a trait. A segment's
        # page has read every trait the rule names already (`known`).
        names = rule.trait_names
        if known is not None:
            traits: Mapping[str, Any] = known
        else:
            traits = read_traits(session, profile_id, names, self.actions) if rule.traits else {}
        if not all_hold(rule.traits, lookup(props, traits)):
            return 0
        if rule.journey is not None and not journey_holds(rule.journey, read_journeys(session, profile_id)):
            return 0
        if rule.count is not None:
            self.touched.add(profile_id)
            grouping = str(props.get(rule.count.by, ""))[:200] if rule.count.by else ""
            repository.add_hit(session, {"rule": rule.name, "profile_id": profile_id, "grouping": grouping,
                                         "event_id": event.id, "occurred_at": at})  # fmt: skip
            since = at - rule.count.within if rule.count.within is not None else None
            if repository.count_hits(session, rule.name, profile_id, grouping, since) < rule.count.at_least:
                return 0
        once = (rule.name, profile_id, occurrence_key(rule, lookup(props, traits), at))
        if once in self._fired:
            return 0
        firing = repository.fire(session, rule.name, profile_id, once[2], event.id, now)
        self._seen.append(once)
        self.touched.add(profile_id)
        if firing is None:
            return 0  # fired before for this person and occurrence: here, after a retry, or in another worker
        if names and not rule.traits and known is None:
            traits = read_traits(session, profile_id, names, self.actions)
        read = lookup(props, traits)
        fired_with = {"event": occurrence.subject, "kind": occurrence.kind, "properties": dict(props)}
        for number, step in enumerate(rule.steps):
            due = in_window(at + step.delay, step.window, self.actions.zone)
            step_fired = fired_with if step.channel is None else {**fired_with, "channel": step.channel}
            row: dict[str, Any] = {
                "firing_id": firing, "rule": rule.name, "profile_id": profile_id, "step": number,
                "action": step.action, "target": step.target, "data": render(dict(step.data), read),
                "fired_with": step_fired, "due_at": due, "status": repository.PENDING,
            }  # fmt: skip
            if due <= now:  # done now, and recorded as done: one statement for the step
                work = Work(f"{firing}:{number}", rule.name, profile_id, step.action, step.target, row["data"],
                            step_fired)  # fmt: skip
                row["status"], row["result"] = self._attempt(session, work, now)
                row["settled_at"] = now
            repository.add_step(session, row)
        return 1

    def _remember(self, keys: Sequence[tuple[str, int, str]]) -> None:
        for key in keys:
            self._fired[key] = None
        while len(self._fired) > REMEMBERED:
            self._fired.popitem(last=False)

    def _attempt(self, session: Session, work: Work, now: datetime) -> tuple[str, str]:
        """Do one step in a savepoint: (status, result). A step that cannot be done is recorded as failed with its
        reason, and the batch goes on."""
        try:
            with session.begin_nested():
                result = perform(session, work, self.actions, now)
        except SeamlineError as exc:
            return repository.FAILED, f"{type(exc).__name__}: {exc.message}"[:MAX_RESULT]
        return repository.DONE, result[:MAX_RESULT]

    def run_due(self, session: Session, now: datetime) -> int:
        """Do the waiting steps due by `now` (claimed with row locks, so workers never do one twice); how many.
        A step of a rule no longer loaded is cancelled: removing the file stops what it had scheduled."""
        taken = self._case_changes(session, now) if self.book.index.has_cases else 0
        rows = repository.claim_due(session, now, self.due_batch)
        loaded = {r.name for r in self.book.index.rules}
        for row in rows:
            if row.rule not in loaded:
                row.status, row.result, row.settled_at = repository.CANCELLED, "rule removed", now
                continue
            work = Work(f"{row.firing_id}:{row.step}", row.rule, row.profile_id, row.action, row.target,
                        row.data or {}, row.fired_with or {})  # fmt: skip
            row.status, row.result = self._attempt(session, work, now)
            row.settled_at = now
        session.flush()
        return taken + len(rows)

    def run_schedules(self, session: Session, now: datetime) -> int:
        """Take one page of each rule on a schedule that is running or due: a due rule starts a run over the people
        whose golden record meets its conditions, and each call goes one keyset page (`segment_page` people, by
        profile id) further, so a large segment is many short transactions; how many people it fired for.

        A rule's due time is a row of the worker's job table (`trigger:RULE`), claimed with a row lock, so one worker
        starts each run; a run's position is a cursor row (`schedule:RULE`, in `trigger_cursors`) moved in the
        transaction of the page it ends, so a crash loses only the page in flight, which the next call takes again.
        Every page of a run fires with the time the run started, so the firing keys of `once`/`once_every` are the
        same however often a page is taken: nobody is told twice."""
        return sum(self._schedule_page(session, rule, now) for rule in self.book.index.schedules)

    def _schedule_page(self, session: Session, rule: Rule, now: datetime) -> int:
        job, cursor_name = schedule_job(rule.name), schedule_cursor(rule.name)
        cursor = repository.locked_cursor(session, cursor_name)
        row = None
        if cursor is not None:  # a run under way: its next page, at the time it started
            started, after = repository.run_started(session, job) or now, cursor.position
        else:
            ensure_job(session, job, now)  # a new rule runs at once, then every period
            row = claim_due(session, job, now)
            if row is None:
                return 0
            row.last_run_at = now
            row.next_run_at = now + (duration(rule.subject) or timedelta(days=1))
            started, after = now, 0
        segment = {c.path[7:] for c in rule.traits}
        page, found = segment_page(
            session, segment, rule.trait_names | segment, self.actions, after=after, limit=self.segment_page
        )
        occurrence = Occurrence("schedule", rule.subject, {"scheduled_at": isoformat_z(started)})
        count = 0
        for profile_id in page:
            traits = found.get(profile_id, {})
            if all_hold(rule.traits, lookup({}, traits)):
                event = ResolvedEvent(0, 0, {}, started, started, profile_id)
                count += self._consider(session, rule, occurrence, event, now, traits)
        if row is not None:
            row.last_count = count  # the run's count so far: each later page adds its own
        else:
            repository.add_run_count(session, job, count)
        if len(page) < self.segment_page:  # the segment's end: the run is over
            if cursor is not None:
                session.delete(cursor)
        elif cursor is not None:
            cursor.position = page[-1]
        else:
            repository.start_cursor(session, cursor_name, page[-1])
        session.flush()
        return count

    def _case_changes(self, session: Session, now: datetime) -> int:
        """Evaluate the case rules on the cases' changes since the cursor (a new cursor starts at the latest: the
        rules act on what happens from now on, not on history); how many changes were read."""
        cursor = repository.locked_cursor(session, CASES_FEED)
        if cursor is None:
            repository.start_cursor(session, CASES_FEED, last_case_change(session))
            return 0
        changes = case_changes_after(session, cursor.position, limit=self.due_batch)
        index = self.book.index
        for change in changes:
            props = {"case_id": change.case_id, "change": change.change, "priority": change.priority,
                     "queue": change.queue, "channel": change.channel}  # fmt: skip
            occurrence = Occurrence("case", change.change, props)
            event = ResolvedEvent(change.entry_id, 0, {}, change.at, change.at, change.profile_id)
            for rule in index.starting(occurrence):
                self._consider(session, rule, occurrence, event, now)
        if changes:
            cursor.position = changes[-1].entry_id
            session.flush()
        return len(changes)


def schedule_job(rule: str) -> str:
    """The worker job row that holds a scheduled rule's next due time (the row's name is at most 64 long)."""
    name = f"trigger:{rule}"
    return name if len(name) <= 64 else f"trigger:{hashlib.blake2b(rule.encode(), digest_size=16).hexdigest()}"


def schedule_cursor(rule: str) -> str:
    """The cursor row of a scheduled rule's run under way (a cursor's name is at most 50 long)."""
    name = f"schedule:{rule}"
    return name if len(name) <= 50 else f"schedule:{hashlib.blake2b(rule.encode(), digest_size=16).hexdigest()}"


def steps_of(session: Session, profile_ids: Sequence[int], *, limit: int = 50) -> list[StepView]:
    """What the triggers did or will do for a person, newest first."""
    return [StepView.of(r) for r in repository.steps_of(session, profile_ids, limit)] if profile_ids else []


def follow_merge(session: Session, absorbed: int, survivor: int) -> None:
    """A merge: the absorbed profile's counted events and waiting steps now belong to the survivor."""
    repository.move(session, absorbed, survivor)


def erase_person(session: Session, profile_ids: Sequence[int]) -> int:
    """Erasure: forget these profiles' firings, counted events and steps (their data holds event properties)."""
    return repository.erase(session, profile_ids) if profile_ids else 0
