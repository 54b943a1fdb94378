"""What a trigger step does: send a template through the outbox, make a task, call a destination, or send a survey.
Each runs in the caller's transaction; a step that cannot be done raises a domain error, which the caller records
on the step."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from seamline.cases.sla import BusinessCalendar
from seamline.communications.contacts import channel_of, channels_that_reach
from seamline.communications.service import queue_message
from seamline.communications.templates import Catalog
from seamline.consent.config import ConsentConfig
from seamline.consent.service import may_process_profile
from seamline.core.clock import isoformat_z
from seamline.core.errors import NotFound
from seamline.destinations.service import WEBHOOK_KIND, list_destinations
from seamline.feedback.service import FeedbackSetup, invite
from seamline.journeys.service import open_journeys
from seamline.outbox.service import enqueue
from seamline.profiles.service import golden_values, golden_values_page
from seamline.profiles.survivorship import SurvivorshipConfig
from seamline.sources.service import list_sources
from seamline.tasks.config import TasksConfig
from seamline.tasks.service import TaskInput, create_task
from seamline.triggers import repository
from seamline.triggers.rules import LAST_USED

CONTEXT_COMMUNICATIONS = 5  # the communications triggers sent the person, shown with a task they make


@dataclass(frozen=True, slots=True)
class Actions:
    """What steps need from the rest of Seamline: templates, the consent rules, where tasks go and their clock."""

    catalog: Catalog
    consent: ConsentConfig
    tasks: TasksConfig
    calendar: BusinessCalendar
    survivorship: SurvivorshipConfig
    feedback: FeedbackSetup | None = None  # the surveys a `survey` step sends; None: such steps fail
    _sources: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def source_names(self, session: Session) -> Mapping[int, str]:
        """Source ids and names (the golden record's rules name sources), read at most once a minute."""
        now = time.monotonic()
        if self._sources.get("until", 0.0) < now:
            self._sources.update(names={s.id: s.name for s in list_sources(session)}, until=now + 60.0)
        names: Mapping[int, str] = self._sources["names"]
        return names

    @property
    def zone(self) -> ZoneInfo:
        """The zone of send windows that name none: the business calendar's."""
        return self.calendar.zone


@dataclass(frozen=True, slots=True)
class Work:
    """One step to do now."""

    step: str  # firing id and step number: the idempotency key of what the step makes
    rule: str
    profile_id: int
    action: str
    target: str
    data: Mapping[str, Any]
    fired_with: Mapping[str, Any]  # {"event": name, "properties": {...}} of the event that fired the rule


def read_traits(session: Session, profile_id: int, names: Collection[str], actions: Actions) -> dict[str, Any]:
    """The golden values of these traits of a person (read only when a matched rule needs them)."""
    if not names:
        return {}
    found = golden_values(session, sorted(names), actions.source_names(session), actions.survivorship, [profile_id])
    return found.get(profile_id, {})


def segment_page(
    session: Session, rule_traits: Collection[str], names: Collection[str], actions: Actions, *, after: int, limit: int
) -> tuple[list[int], dict[int, dict[str, Any]]]:
    """A keyset page of a rule's segment: the first `limit` profiles after the id `after` holding any of the traits
    its conditions name, with the golden values of `names` (merged profiles' traits live on the survivor, erased
    ones' are gone)."""
    return golden_values_page(
        session, sorted(rule_traits), sorted(names), actions.source_names(session), actions.survivorship,
        after=after, limit=limit,
    )  # fmt: skip


def read_journeys(session: Session, profile_id: int) -> dict[str, str | None]:
    """A person's open (or stalled) journeys and the step each is at; the most recently active instance speaks."""
    return {i.journey: i.current_step for i in reversed(open_journeys(session, profile_id))}


def _channel(session: Session, work: Work, asked: str, actions: Actions) -> str | None:
    """The channel a send step goes by: the one asked (`last_used`: the channel of the event or communication that
    fired the rule) when the template has it and it reaches the person with consent, else the template's first
    channel that does; None (the template's default, refused at send time) when none does."""
    template = actions.catalog.get(work.target)
    if asked == LAST_USED:
        properties = work.fired_with.get("properties") or {}
        asked = str(properties.get("channel") or "")
        if not asked and properties.get("communication_id"):
            asked = channel_of(session, str(properties["communication_id"])) or ""
    order = [asked] if asked in template.channels else []
    order += [c for c in template.channels if c != asked]
    reaching = channels_that_reach(session, work.profile_id, order, template.purpose, actions.consent)
    return reaching[0] if reaching else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def perform(session: Session, work: Work, actions: Actions, now: datetime) -> str:
    """Do one step; what it made (a communication id, `task:ID`, a webhook's delivery id) or why it did nothing."""
    key = f"trigger-step:{work.step}"  # a step done twice (a retried transaction) makes one message
    if work.action == "send":
        asked = work.fired_with.get("channel")
        view, _ = queue_message(
            session, work.profile_id, work.target, work.data, catalog=actions.catalog, consent=actions.consent,
            batch=f"trigger:{work.rule}"[:100], campaign=work.rule, idempotency_key=key,
            channel=None if asked is None else _channel(session, work, str(asked), actions),
        )  # fmt: skip
        return view.communication_id
    properties = work.fired_with.get("properties") or {}
    if work.action == "survey":
        if actions.feedback is None:
            raise NotFound("no surveys are configured")
        about = dict(work.data)
        channel = about.pop("channel", None)
        invited = invite(
            session, actions.feedback, work.profile_id, work.target, about={**properties, **about}, now=now,
            channel=channel if isinstance(channel, str) and channel else None, key=key,
        )  # fmt: skip
        if invited.invitation is None:
            return f"not sent: {invited.skipped}"
        return invited.invitation.communication_id or f"survey:{invited.invitation.id}"
    if work.action == "task":
        data = work.data
        spec = TaskInput(
            profile_id=work.profile_id,
            title=str(data.get("title", "")),
            queue=work.target or None,
            skills=[str(s) for s in data.get("skills", [])],
            priority=str(data.get("priority", "normal")),
            detail=str(data.get("detail", "")),
            due_minutes=_int(data.get("due_minutes")),
            rule=work.rule,
            journey_instance_id=str(properties["instance_id"]) if properties.get("instance_id") else None,
            case_id=_int(properties.get("case_id")),
            communication_ids=repository.sent_by_triggers(session, work.profile_id, CONTEXT_COMMUNICATIONS),
            context=dict(work.fired_with),
        )
        made = create_task(session, spec, config=actions.tasks, calendar=actions.calendar,
                           created_by=f"rule:{work.rule}", now=now)  # fmt: skip
        return f"task:{made.id}"
    destination = next((d for d in list_destinations(session) if d.name == work.target), None)
    if destination is None:
        raise NotFound(f"no destination {work.target!r}")
    decision = may_process_profile(session, work.profile_id, destination.purpose, config=actions.consent)
    if not decision.allowed:
        return f"not sent: no consent to {destination.purpose}"
    body = {
        "type": "trigger.fired",
        "timestamp": isoformat_z(now),
        "data": {"profile_id": work.profile_id, "rule": work.rule, **work.fired_with, "data": dict(work.data)},
    }
    entry, _ = enqueue(
        session, WEBHOOK_KIND, destination.target, {"destination_id": destination.id, "body": body},
        profile_id=work.profile_id, idempotency_key=key,
    )  # fmt: skip
    return str(entry.delivery_id)
