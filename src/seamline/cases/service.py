"""Cases: open one, add to its thread from any channel, route inbound messages, keep the handoff summary, read
and list cases, and follow the person through merges, unmerges and data-subject requests.

Status, priority, assignment and escalation are in workflow.py. Every function takes the acting person's name
and the surface they came through (the console passes its user, the API its key); services only flush.
Profiles are given as the active profile id the caller resolved (identity sits above cases); `origin_profile_id`
is the id the case was asked to be opened on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.cases import repository
from seamline.cases.config import CasesConfig
from seamline.cases.lifecycle import ACTIVE, CHANNELS, PRIORITIES, STATUSES, choice_error, queue_error
from seamline.cases.models import Case, CaseEntry, CaseHandoff
from seamline.cases.repository import CaseFilter
from seamline.cases.thread import (
    MAX_SUBJECT,
    EntryInput,
    TransitionRefused,
    append,
    check_actor,
    locked,
    name_error,
    raise_if,
    record_event,
    refresh_due,
    sla_of,
    text_error,
)
from seamline.cases.views import CaseView, EntryView, HandoffView
from seamline.core.clock import utcnow
from seamline.core.errors import FieldError, NotFound
from seamline.core.prepared import Reads

MAX_HANDOFF = 4_000
MAX_PAGE = 200
ERASED = "[erased]"


def open_case(
    session: Session,
    config: CasesConfig,
    *,
    profile_id: int,
    subject: str,
    channel: str,
    actor: str,
    surface: str,
    priority: str = "normal",
    queue: str | None = None,
    origin_profile_id: int | None = None,
    first_entry: EntryInput | None = None,
    assignee: str | None = None,
    journey: tuple[str, str | None] | None = None,
    now: datetime | None = None,
) -> CaseView:
    """Open a case for a customer, optionally with the first message or note of its thread, and optionally
    assigned to someone (the console gives an agent the case they open unless they send it to a queue).
    `journey` is (instance id, step) when the case hands over a journey."""
    check_actor(actor, surface)
    queue = queue or config.default_queue
    errors = [
        text_error("subject", subject, MAX_SUBJECT),
        choice_error("priority", priority, PRIORITIES),
        queue_error(queue),
        choice_error("channel", channel, CHANNELS),
        name_error("assignee", assignee) if assignee is not None else None,
    ]
    if first_entry is not None:
        errors.extend(first_entry.errors("entry."))
    raise_if(errors, "the case was not opened")
    now = now or utcnow()
    case: Case = repository.add(
        session,
        Case(
            profile_id=profile_id,
            origin_profile_id=origin_profile_id if origin_profile_id is not None else profile_id,
            subject=subject.strip(),
            priority=priority,
            status="open",
            queue=queue,
            channel=channel,
            opened_by=actor[:200],
            assignee=assignee,
            opened_at=now,
            updated_at=now,
            journey_instance_id=journey[0][:64] if journey else None,
            journey_step=journey[1][:64] if journey and journey[1] else None,
        ),
    )
    body = f"opened in {queue} ({priority})" + (f", assigned to {assignee}" if assignee else "")
    detail = {"assignee": [None, assignee]} if assignee else None
    record_event(session, case, body, actor=actor, surface=surface, now=now, status="open", detail=detail)
    if first_entry is not None:
        _add(session, case, first_entry, surface=surface, now=now)
    refresh_due(session, config, case, now)
    return _view(session, config, case, now)


def add_entry(
    session: Session,
    config: CasesConfig,
    case_id: int,
    entry: EntryInput,
    *,
    actor: str,
    surface: str,
    now: datetime | None = None,
) -> EntryView:
    """Add a message or note to a case's thread.

    An agent's first outbound message stops the first-response clock. A customer writing to a case that waits
    on them (pending-customer) or was resolved opens it again; a closed case takes nothing more.
    """
    check_actor(actor, surface)
    raise_if(list(entry.errors()), "the entry was not added")
    case = locked(session, case_id)
    now = now or utcnow()
    added = _add(session, case, entry, surface=surface, now=now)
    refresh_due(session, config, case, now)
    return EntryView.of(added)


def _add(session: Session, case: Case, entry: EntryInput, *, surface: str, now: datetime) -> Any:
    if case.status == "closed":
        raise TransitionRefused(FieldError("status", "closed", f"case {case.id} is closed; open a new case"))
    added = append(
        session,
        case,
        kind=entry.kind,
        channel=entry.channel,
        direction=entry.direction,
        author_kind=entry.author_kind,
        author_name=entry.author_name,
        body=entry.body,
        surface=surface,
        now=now,
        detail=entry.detail,
    )
    if entry.direction == "outbound" and entry.author_kind == "agent" and case.first_response_at is None:
        case.first_response_at = now
    if entry.direction == "inbound" and case.status in ("pending-customer", "resolved"):
        was = case.status
        case.status, case.resolved_at = "open", None
        record_event(
            session,
            case,
            f"{was} → open: the customer wrote",
            actor="seamline",
            author_kind="system",
            surface=surface,
            now=now,
            status="open",
            detail={"from": was, "to": "open", "entry": added.id},
        )
    return added


@dataclass(frozen=True, slots=True)
class Routed:
    """Where an inbound message went: the case (new or existing) and the entry it became."""

    case: CaseView
    entry: EntryView
    is_new: bool


def receive_message(
    session: Session,
    config: CasesConfig,
    *,
    profile_id: int,
    channel: str,
    body: str,
    author_name: str,
    actor: str,
    surface: str,
    queue: str | None = None,
    subject: str | None = None,
    priority: str = "normal",
    identifier: str | None = None,
    now: datetime | None = None,
) -> Routed:
    """Route a customer's message from a channel: append it to their case in that queue, or open a new one.

    The case it joins is the customer's most recently updated case in the queue (or escalated out of it) that
    is open, pending-customer, escalated or resolved — a reply to a resolved case reopens it, as in Zendesk.
    A closed case is final, so a message after closure opens a new case.
    """
    check_actor(actor, surface)
    queue = queue or config.default_queue
    detail = {"identifier": identifier} if identifier else {}
    entry = EntryInput(channel, "inbound", body, "customer", author_name, detail)
    errors: list[FieldError | None] = [queue_error(queue), choice_error("priority", priority, PRIORITIES)]
    errors.extend(entry.errors())
    if subject is not None:
        errors.append(text_error("subject", subject, MAX_SUBJECT))
    raise_if(errors, "the message was not accepted")
    now = now or utcnow()
    case = repository.routable_case(session, profile_id, queue, (*ACTIVE, "resolved"))
    if case is not None:
        added = _add(session, case, entry, surface=surface, now=now)
        refresh_due(session, config, case, now)
        return Routed(_view(session, config, case, now), EntryView.of(added), is_new=False)
    title = subject.strip() if subject else _subject_from(body)
    opened = open_case(
        session,
        config,
        profile_id=profile_id,
        subject=title,
        channel=channel,
        actor=actor,
        surface=surface,
        priority=priority,
        queue=queue,
        first_entry=entry,
        now=now,
    )
    return Routed(opened, next(e for e in opened.entries if e.kind == "message"), is_new=True)


def _subject_from(body: str) -> str:
    line = " ".join(body.split())
    return line if len(line) <= 80 else line[:79] + "…"


def update_handoff(
    session: Session,
    case_id: int,
    *,
    verified: str,
    customer_said: str,
    tried: str,
    actor: str,
    surface: str,
    next_step: str = "",
    now: datetime | None = None,
) -> HandoffView:
    """Write a new version of the handoff summary: what was verified, what the customer said, what was tried."""
    check_actor(actor, surface)
    texts = {"verified": verified, "customer_said": customer_said, "tried": tried, "next_step": next_step}
    errors = [text_error(name, value, MAX_HANDOFF, is_required=False) for name, value in texts.items()]
    if not any(v.strip() for v in texts.values()):
        errors.append(FieldError("handoff", "required", "write at least one of verified, customer_said, tried"))
    raise_if(errors, "the handoff summary was not saved")
    case = locked(session, case_id)
    now = now or utcnow()
    version = repository.latest_version(session, case.id) + 1
    row: CaseHandoff = repository.add(
        session,
        CaseHandoff(
            case_id=case.id,
            version=version,
            **{k: v.strip() for k, v in texts.items()},
            author=actor[:200],
            surface=surface,
            created_at=now,
        ),
    )
    record_event(
        session, case, f"handoff summary version {version}", actor=actor, surface=surface, now=now,
        detail={"handoff_version": version},
    )  # fmt: skip
    return HandoffView.of(row)


def handoff_history(session: Session, case_id: int) -> list[HandoffView]:
    """Every version of a case's handoff summary, newest first."""
    if repository.get(session, case_id) is None:
        raise NotFound(f"no case {case_id}")
    return [HandoffView.of(row) for row in repository.handoffs_of(session, case_id)]


def journey_cases(session: Session, instance_ids: Sequence[str]) -> dict[str, int]:
    """The case that hands over each of these journey instances while someone still owes the customer something
    (open, pending-customer, escalated), by instance id: a journey has one such case at a time."""
    found: dict[str, int] = {}
    for start in range(0, len(instance_ids), 1000):  # bounded IN lists
        found.update(repository.journey_cases(session, instance_ids[start : start + 1000], ACTIVE))
    return found


def get_case(session: Session, config: CasesConfig, case_id: int, *, now: datetime | None = None) -> CaseView:
    """A case with its current handoff first, its whole thread and its SLA clocks."""
    case = repository.get(session, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    return _view(session, config, case, now or utcnow())


def _view(session: Session, config: CasesConfig, case: Case, now: datetime) -> CaseView:
    session.flush()
    handoff = repository.current_handoffs(session, [case.id]).get(case.id)
    return CaseView.of(
        case,
        sla_of(session, config, case, now),
        HandoffView.of(handoff) if handoff else None,
        tuple(EntryView.of(e) for e in repository.entries_of(session, case.id)),
    )


@dataclass(frozen=True, slots=True)
class CasePage:
    cases: list[CaseView]
    next_before: int | None  # pass as `before` for the next page; None at the end


# How many of an active profile's cases are still being worked (a hot read: the decision point asks it).
active_cases_count = repository.active_count


def active_cases_counts(reads: Reads, profile_ids: Sequence[int]) -> dict[int, int]:
    """`active_cases_count` of many active profiles in one read (a batch of decisions asks it)."""
    counts = repository.active_counts(reads, profile_ids)
    return {profile_id: counts.get(profile_id, 0) for profile_id in profile_ids}


def list_cases(
    session: Session,
    config: CasesConfig,
    *,
    queue: str | None = None,
    statuses: Sequence[str] | None = None,
    assignee: str | None = None,
    profile_id: int | None = None,
    is_escalated: bool | None = None,
    is_overdue: bool | None = None,
    limit: int = 50,
    before: int | None = None,
    now: datetime | None = None,
) -> CasePage:
    """Cases matching every filter given, newest first, with their SLA state and current handoff (no thread).

    `assignee=""` lists unassigned cases; `profile_id` must be the active profile (its merged profiles' cases
    live on it).
    """
    errors: list[FieldError | None] = [choice_error("status", s, STATUSES, i) for i, s in enumerate(statuses or ())]
    if not 1 <= limit <= MAX_PAGE:
        errors.append(FieldError("limit", "invalid", f"limit must be between 1 and {MAX_PAGE}"))
    if queue is not None:
        errors.append(queue_error(queue))
    raise_if(errors, "the case query is not valid")
    now = now or utcnow()
    rows = repository.find(
        session,
        CaseFilter(queue, statuses, assignee, profile_id, is_escalated, is_overdue, before),
        now,
        limit + 1,
    )
    page = list(rows[:limit])
    handoffs = repository.current_handoffs(session, [c.id for c in page])
    views = [
        CaseView.of(c, sla_of(session, config, c, now), HandoffView.of(h) if (h := handoffs.get(c.id)) else None)
        for c in page
    ]
    return CasePage(views, page[-1].id if len(rows) > limit else None)


def export_cases(session: Session, profile_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Every case of these profiles with its whole thread and every handoff version, JSON-ready (access requests).

    SLA clocks are left out: they are the company's service measure, not data about the person.
    """
    config, now = CasesConfig(), utcnow()
    out: list[dict[str, Any]] = []
    for case in repository.cases_of_profiles(session, profile_ids):
        view = _view(session, config, case, now).as_dict()
        del view["sla"]
        view["handoff_versions"] = [h.as_dict() for h in handoff_history(session, case.id)]
        out.append(view)
    return out


def erase_cases(session: Session, profile_ids: Sequence[int]) -> int:
    """Erasure: replace every free text of these profiles' cases — subjects, message and note bodies, the
    customer's name as author, escalation reasons, handoff summaries — keeping the cases' shape (times,
    statuses, queues, agents) for service reporting. Returns how many cases were erased."""
    session.flush()
    ids = [c.id for c in repository.cases_of_profiles(session, profile_ids)]
    repository.erase(session, ids, ERASED, utcnow())
    for row in list(session.identity_map.values()):
        if isinstance(row, Case | CaseEntry | CaseHandoff):
            session.expire(row)  # the bulk update bypassed them
    return len(ids)


@dataclass(frozen=True, slots=True)
class CaseChange:
    """One change of a case as other parts react to it: `change` is the status it entered (open, escalated,
    resolved…), or `priority` or `assigned`."""

    entry_id: int
    case_id: int
    profile_id: int
    change: str
    priority: str
    queue: str
    channel: str
    at: datetime


def case_changes_after(session: Session, after_id: int, *, limit: int = 500) -> list[CaseChange]:
    """Changes of cases recorded after an entry id (a reader's cursor), oldest first."""
    out = []
    for row in repository.events_after(session, after_id, limit):
        detail = row.detail or {}
        change = row.status or ("assigned" if "assignee" in detail else "priority" if "to" in detail else "changed")
        out.append(CaseChange(row.id, row.case_id, row.profile_id, change, row.priority, row.queue, row.channel,
                              row.created_at))  # fmt: skip
    return out


# The entry id of the latest change: where a new reader starts.
last_case_change = repository.last_entry_id
