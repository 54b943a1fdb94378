"""Rules of the communications log: queue a communication with its outbox message, decide at send time, record
every outcome, read the log. Services only flush; the caller's unit of work commits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.communications import repository
from seamline.communications.models import Communication
from seamline.communications.reachability import ContactPoint, contact_points_of
from seamline.communications.templates import Catalog, render
from seamline.consent.config import ConsentConfig
from seamline.consent.policy import PAPER
from seamline.consent.service import ContactQuestion, delivery_preference_for, may_contact_profiles
from seamline.core.clock import utcnow
from seamline.core.errors import FieldError, InvalidInput, NotFound
from seamline.core.views import view_of
from seamline.identity.service import active_header, erased_profiles, profile_members, roots_of
from seamline.outbox.service import SECRET_PAYLOAD, enqueue, new_delivery_id

PLATFORM = "seamline"
EMAIL_KIND = "email"
PAPER_KIND = "paper"
SMS_KIND = "sms"
PUSH_KIND = "push"
IN_APP_KIND = "in_app"
# Each channel's outbox kind and target (the unit of the circuit breaker).
ROUTES = {
    "email": (EMAIL_KIND, "smtp"), "paper": (PAPER_KIND, "print"), "sms": (SMS_KIND, "sms"),
    "push": (PUSH_KIND, "push"), "in_app": (IN_APP_KIND, "inbox"),
}  # fmt: skip
QUEUED = "queued"
ACCEPTED = "accepted"
DELIVERED = "delivered"
DEFERRED = "deferred"
BOUNCED_HARD = "bounced_hard"
BOUNCED_SOFT = "bounced_soft"
OPENED = "opened"
CLICKED = "clicked"
COMPLAINED = "complained"
UNSUBSCRIBED = "unsubscribed"
SUPPRESSED = "suppressed"
FAILED = "failed"
PRINTED = "printed"
SENT = "sent"  # another platform says it sent it
READ = "read"  # the person read it in the app's inbox
OUTCOMES = (
    SENT, QUEUED, ACCEPTED, DELIVERED, DEFERRED, BOUNCED_HARD, BOUNCED_SOFT, OPENED, CLICKED, COMPLAINED, UNSUBSCRIBED,
    SUPPRESSED, FAILED, PRINTED, READ,
)  # fmt: skip
CLOSING = (BOUNCED_HARD, COMPLAINED)  # outcomes that make the contact point unreachable
EARLY = (QUEUED, SENT, ACCEPTED)  # outcomes that say a communication left, before anything came of it
LATER = (DELIVERED, BOUNCED_HARD, BOUNCED_SOFT, OPENED, CLICKED, COMPLAINED, UNSUBSCRIBED, READ)  # what came of it


@dataclass(frozen=True, slots=True)
class OutcomeView:
    outcome: str
    detail: str | None
    origin: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class CommunicationView:
    """One communication as the log shows it, with its outcome history (oldest first)."""

    id: int
    communication_id: str
    profile_id: int | None
    type: str
    template: str | None
    template_version: str | None
    batch: str | None
    campaign: str | None
    source_system: str | None
    platform: str
    channel: str
    purpose: str | None
    topic: str | None
    priority: str | None
    product: str | None
    address: str | None
    subject: str | None
    fields: Mapping[str, Any]
    status: str
    created_at: datetime
    sent_at: datetime | None
    outcomes: tuple[OutcomeView, ...] = ()

    @classmethod
    def of(cls, row: Communication, outcomes: Sequence[OutcomeView] = ()) -> CommunicationView:
        return view_of(cls, row, fields=dict(row.fields or {}), outcomes=tuple(outcomes))


def queue_message(
    session: Session,
    profile_id: int,
    template_name: str,
    data: Mapping[str, Any],
    *,
    catalog: Catalog,
    consent: ConsentConfig,
    source_system: str | None = None,
    batch: str | None = None,
    campaign: str | None = None,
    product: str | None = None,
    idempotency_key: str | None = None,
    preferences_url: str | None = None,
    channel: str | None = None,
) -> tuple[CommunicationView, bool]:
    """Render a template for a person and put it in the outbox, in the caller's transaction; (view, created).

    `channel` is one the template declares (by default email when it has it, else its first). A document template
    follows the person's delivery preference for the product (paper makes a print row, not an email). Consent is
    asked again when the message leaves; a choice made in between is obeyed.
    """
    profile = active_header(session, profile_id)
    template = catalog.get(template_name)
    communication_id = new_delivery_id()
    provided = {"preferences_url": preferences_url or "", "communication_id": communication_id}
    rendered = render(template, data, provided)
    if channel is None:
        channel = "email" if "email" in template.channels else template.channels[0]
    elif channel not in template.channels:
        declared = ", ".join(template.channels)
        error = FieldError("channel", "invalid", f"template {template.name!r} is sent by {declared}, not {channel!r}")
        raise InvalidInput([error], "the template does not declare this channel")
    if template.document_type is not None and channel in ("email", "paper"):
        delivery = delivery_preference_for(session, profile.id, template.document_type, product=product, config=consent)
        if delivery.value == PAPER and "paper" in template.channels:
            channel = "paper"
    kind, target = ROUTES[channel]
    payload: dict[str, Any] = {"subject": rendered.subject, "text": rendered.text, "html": rendered.html}
    if rendered.sms is not None:
        payload["sms"] = rendered.sms
    if rendered.in_app is not None:
        payload["in_app"] = rendered.in_app
    if rendered.has_secret:  # the body holds a live secret: the outbox drops it once the message is settled
        payload[SECRET_PAYLOAD] = True
    entry, created = enqueue(
        session,
        kind,
        target,
        payload,
        profile_id=profile.id,
        idempotency_key=idempotency_key,
        delivery_id=communication_id,
    )
    if not created:
        return view(session, entry.delivery_id), False
    now = utcnow()
    row = repository.add(
        session,
        {
            "communication_id": communication_id,
            "profile_id": profile.id,
            "type": template.type,
            "template": template.name,
            "template_version": template.version,
            "batch": batch,
            "campaign": campaign,
            "source_system": source_system,
            "platform": PLATFORM,
            "channel": channel,
            "purpose": template.purpose,
            "topic": template.topic,
            "priority": template.priority,
            "product": product,
            "subject": rendered.subject,
            "fields": dict(rendered.fields),
            "status": QUEUED,
            "created_at": now,
            "updated_at": now,
        },
    )
    repository.add_outcomes(
        session,
        [{"communication_row_id": row.id, "outcome": QUEUED, "detail": None, "origin": "seamline", "occurred_at": now}],
    )
    return CommunicationView.of(row), True


@dataclass(frozen=True, slots=True)
class ExternalCommunication:
    """A communication another platform sent, as its events or send log describe it."""

    communication_id: str
    profile_id: int | None
    type: str
    channel: str
    platform: str
    template: str | None = None
    template_version: str | None = None
    batch: str | None = None
    campaign: str | None = None
    source_system: str | None = None
    address: str | None = None
    subject: str | None = None
    fields: Mapping[str, Any] | None = None
    occurred_at: datetime | None = None


def log_external(session: Session, items: Sequence[ExternalCommunication]) -> int:
    """Add other platforms' communications to the log (ones already there are completed, never duplicated);
    returns how many were new."""
    known = repository.by_public_ids(session, [i.communication_id for i in items])
    now = utcnow()
    added = 0
    for item in items:
        row = known.get(item.communication_id)
        described = {
            "type": item.type, "template": item.template, "template_version": item.template_version,
            "batch": item.batch, "campaign": item.campaign, "source_system": item.source_system,
            "platform": item.platform, "channel": item.channel, "address": item.address, "subject": item.subject,
        }  # fmt: skip
        if row is None:
            known[item.communication_id] = repository.add(
                session,
                {
                    **described,
                    "communication_id": item.communication_id,
                    "profile_id": item.profile_id,
                    "fields": dict(item.fields or {}),
                    "status": SENT,
                    "created_at": item.occurred_at or now,
                    "updated_at": now,
                },
            )
            added += 1
        else:
            # A stub made by an outcome that arrived first learns what the send said.
            filled: dict[str, Any] = {
                k: v for k, v in described.items() if v is not None and k not in ("type", "platform", "channel")
            }
            if row.type == "unknown":
                filled.update(type=item.type, platform=item.platform, channel=item.channel)
            if item.fields:
                filled["fields"] = dict(item.fields)
            if filled:
                repository.set_status(session, row.id, filled)
    session.flush()
    return added


@dataclass(frozen=True, slots=True)
class SendCheck:
    """The answer at send time: go to `address`, or not, with the reasons in words."""

    is_allowed: bool
    address: str | None
    reasons: tuple[str, ...]
    profile_id: int | None = None
    is_marketing: bool = False
    priority: str | None = None  # what the contact policy asks next: the class, and the product marketed
    type: str = "service"
    purpose: str | None = None
    product: str | None = None


def check_sends(
    session: Session, communication_ids: Sequence[str], channel: str, consent: ConsentConfig
) -> dict[str, SendCheck]:
    """Ask the one consent policy, now, whether each queued communication may go, and where to. The whole batch
    is read in a handful of queries (who, where, what they chose), not a few per message: on PostgreSQL each round
    trip costs more than the policy's decision itself."""
    rows = repository.send_rows(session, communication_ids)
    people = [int(row.profile_id) for row in rows.values() if row.profile_id is not None]
    roots = roots_of(session, people)
    erased = erased_profiles(session, sorted(set(roots.values())))
    points = contact_points_of(session, sorted(set(roots.values()) - erased), channel)
    out: dict[str, SendCheck] = {}
    asked: list[tuple[str, Any, int, ContactPoint]] = []
    for public_id, row in rows.items():
        if row.profile_id is None:
            out[public_id] = SendCheck(False, None, ("no person to send to",))
            continue
        profile_id = roots.get(int(row.profile_id), int(row.profile_id))
        is_marketing = row.purpose == "marketing" or row.type == "marketing"
        point = points.get(profile_id)
        if point is None:
            out[public_id] = SendCheck(False, None, ("the person was erased",), profile_id, is_marketing)
            continue
        if not point.reach.reachable:
            out[public_id] = SendCheck(False, point.address, (point.reach.reason,), profile_id, is_marketing)
            continue
        if row.priority == "critical" or row.type == "regulatory":
            reason = f"{row.priority} {row.type} message: consent for {row.purpose} is not required"
            out[public_id] = SendCheck(
                True, point.address, (reason, point.reach.reason), profile_id, is_marketing,
                row.priority, row.type, row.purpose, row.product,
            )  # fmt: skip
            continue
        asked.append((public_id, row, profile_id, point))
    questions = [
        ContactQuestion(profile_id, row.purpose or "service", row.topic, row.product, point.reach)
        for _, row, profile_id, point in asked
    ]
    decisions = may_contact_profiles(session, questions, channel, config=consent)
    for (public_id, row, profile_id, point), decision in zip(asked, decisions, strict=True):
        out[public_id] = SendCheck(
            decision.allowed, point.address, decision.reasons, profile_id, row.purpose == "marketing" or
            row.type == "marketing", row.priority, row.type, row.purpose, row.product,
        )  # fmt: skip
    return out


@dataclass(frozen=True, slots=True)
class Happened:
    """An outcome to log for a communication (by its public id)."""

    communication_id: str
    outcome: str
    detail: str | None = None
    origin: str = "seamline"
    address: str | None = None
    occurred_at: datetime | None = None
    event_id: int | None = None


def record_outcomes(session: Session, happened: Sequence[Happened]) -> int:
    """Log outcomes; a hard bounce or complaint closes the contact point. Returns how many named a communication."""
    rows = repository.outcome_rows(session, [h.communication_id for h in happened])
    now = utcnow()
    outcomes = []
    changes: dict[int, dict[str, Any]] = {}
    for item in happened:
        row = rows.get(item.communication_id)
        if row is None:
            continue
        at = item.occurred_at or now
        outcomes.append(
            {
                "communication_row_id": row.id,
                "outcome": item.outcome,
                "detail": item.detail[:1000] if item.detail else None,
                "origin": item.origin,
                "occurred_at": at,
                "event_id": item.event_id,
            }
        )
        values = changes.setdefault(row.id, {"id": row.id, "updated_at": now})
        status, sent_at = values.get("status", row.status), values.get("sent_at", row.sent_at)
        if item.outcome not in EARLY or status not in LATER:
            values["status"] = item.outcome  # a late "sent" never hides a delivery or a bounce already known
        if item.address is not None:
            values["address"] = item.address
        if item.outcome in (ACCEPTED, PRINTED, SENT) and sent_at is None:
            values["sent_at"] = at
        address = item.address or row.address
        if item.outcome in CLOSING and address:
            repository.mark_unreachable(
                session,
                {
                    "channel": row.channel,
                    "address": address,
                    "profile_id": row.profile_id,
                    "reason": item.outcome,
                    "communication_row_id": row.id,
                    "recorded_at": at,
                },
            )
    repository.set_many(session, list(changes.values()))
    repository.add_outcomes(session, outcomes)
    return len(outcomes)


def _with_outcomes(session: Session, rows: Sequence[Communication]) -> list[CommunicationView]:
    history: dict[int, list[OutcomeView]] = {}
    for o in repository.outcomes_of(session, [r.id for r in rows]):
        history.setdefault(o.communication_row_id, []).append(OutcomeView(o.outcome, o.detail, o.origin, o.occurred_at))
    return [CommunicationView.of(r, history.get(r.id, [])) for r in rows]


def view(session: Session, communication_id: str) -> CommunicationView:
    """One communication by its public id; NotFound when none."""
    row = repository.by_public_id(session, communication_id)
    if row is None:
        raise NotFound(f"no communication {communication_id}")
    return _with_outcomes(session, [row])[0]


def communications_of(session: Session, profile_id: int, *, limit: int = 50) -> list[CommunicationView]:
    """A person's communications (every profile merged into them too), newest first."""
    root = int(active_header(session, profile_id).id)
    return _with_outcomes(session, repository.of_profiles(session, profile_members(session, root), limit))


def export_person(session: Session, profile_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Every communication of these profiles with its outcomes, for an access request's export."""
    rows = repository.of_profiles(session, profile_ids, 100_000)
    return [
        {
            **{k: v for k, v in asdict(c).items() if k not in ("id", "outcomes")},
            "created_at": c.created_at.isoformat(),
            "sent_at": c.sent_at.isoformat() if c.sent_at else None,
            "outcomes": [{**asdict(o), "occurred_at": o.occurred_at.isoformat()} for o in c.outcomes],
        }
        for c in _with_outcomes(session, rows)
    ]


def erase_person(session: Session, profile_ids: Sequence[int]) -> int:
    """Erasure: empty the personal content of these profiles' communications (address, subject, the data fields
    carried, outcome details) and forget their closed contact points; the fact that a communication was sent stays.
    Returns how many communications were emptied."""
    return repository.erase(session, profile_ids, utcnow()) if profile_ids else 0


@dataclass(frozen=True, slots=True)
class Run:
    """One run of a template: a batch of one template (and version), fed by one source system when known."""

    batch: str
    template: str
    template_version: str | None = None
    source_system: str | None = None


@dataclass(frozen=True, slots=True)
class RunMember:
    """One communication of a run: who received it, how, and how it stands."""

    row_id: int
    communication_id: str
    profile_id: int | None
    channel: str
    status: str


def run_size(session: Session, run: Run) -> int:
    """How many communications a run sent (from the log's index of runs)."""
    return repository.run_size(session, asdict(run))


def run_members(session: Session, run: Run, *, after_id: int = 0, limit: int = 100) -> list[RunMember]:
    """A page of a run's communications, in log order after `after_id` (the last row id of the page before)."""
    return [RunMember(*row) for row in repository.run_members(session, asdict(run), after_id=after_id, limit=limit)]


def described(session: Session, communication_ids: Sequence[str]) -> dict[str, CommunicationView]:
    """Communications by public id (without their outcome history); ids not in the log are left out."""
    return {k: CommunicationView.of(v) for k, v in repository.by_public_ids(session, communication_ids).items()}


# Where each of these communications stands now (queued, accepted, bounced…), by public id.
statuses_of = repository.statuses


def campaigns_of(session: Session, communication_ids: Sequence[str]) -> dict[str, str | None]:
    """The campaign each of these communications (by public id) belonged to."""
    return {k: row.campaign for k, row in repository.by_public_ids(session, communication_ids).items()}
