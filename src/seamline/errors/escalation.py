"""Escalation by policy: who is told when an error is reported, when a clock is missed and before a regulatory
deadline passes. Notices go through the outbox (kind `error_notice` to people, the destinations' webhooks to
systems), so they leave only if the change commits, and carry no personal data: the error's number, severity,
clocks and a link, never what the letter said."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from seamline.core.clock import isoformat_z
from seamline.destinations.service import WEBHOOK_KIND, list_destinations
from seamline.errors import repository
from seamline.errors.models import CommError
from seamline.errors.policy import Policy
from seamline.errors.policystore import PolicyStore
from seamline.outbox.service import enqueue

NOTICE_KIND = "error_notice"
WEBHOOK_TYPE = "comm_error.escalated"  # the type of the webhook a destination named by an escalation level gets
SYSTEM = "system:errors"
CHECK_BATCH = 500  # errors one run_due transaction checks at most


def notify(
    session: Session,
    error: CommError,
    addresses: Sequence[str],
    reason: str,
    text: str,
    now: datetime,
    destinations: Sequence[str] = (),
) -> int:
    """Put one notice per address, and one webhook per named destination, in the outbox (once per error, reason
    and receiver); returns how many."""
    subject = f"[{error.severity}] communication error #{error.id}: {reason}"
    body = (
        f"{text}\n\nError #{error.id}: {error.harm.replace('_', ' ')} harm, {error.severity} "
        f"({error.severity_reason}). Owner: {error.owner_team}. "
        f"Acknowledge by {isoformat_z(error.acknowledge_due_at)}, "
        f"resolve by {isoformat_z(error.resolve_due_at)}.\nConsole: /console/errors/{error.id}\n"
    )
    for address in addresses:
        enqueue(
            session,
            NOTICE_KIND,
            address,
            {"to": address, "subject": subject, "text": body, "error_id": error.id, "reason": reason},
            idempotency_key=f"comm_error:{error.id}:{reason}:{address}",
            not_before=now,
        )
    hooked, missing = _webhooks(session, error, destinations, reason, text, now) if destinations else ([], [])
    if addresses or destinations:
        detail: dict[str, object] = {"reason": reason, "to": [*addresses, *(f"destination {d}" for d in hooked)]}
        if missing:
            detail["missing_destinations"] = missing
        event = {"error_id": error.id, "kind": "notified", "actor": SYSTEM, "occurred_at": now, "detail": detail}
        repository.add_events(session, [event])
    return len(addresses) + len(hooked)


def _webhooks(
    session: Session, error: CommError, names: Sequence[str], reason: str, text: str, now: datetime
) -> tuple[list[str], list[str]]:
    """A signed webhook to each named destination, through the destinations' outbox kind; (sent, missing names).
    It carries the error's number, severity, clocks and link, never a person (so no consent is asked): a
    destination the policy names but nobody registered is noted on the timeline, not a failed clock check."""
    registered = {d.name: d for d in list_destinations(session)}
    sent, missing = [], []
    for name in dict.fromkeys(names):
        destination = registered.get(name)
        if destination is None:
            missing.append(name)
            continue
        data = {
            "error_id": error.id, "reason": reason, "text": text, "severity": error.severity, "harm": error.harm,
            "owner": error.owner_team, "escalation_level": error.escalation_level,
            "acknowledge_due_at": isoformat_z(error.acknowledge_due_at),
            "resolve_due_at": isoformat_z(error.resolve_due_at),
            "regulatory_due_at": isoformat_z(error.regulatory_due_at) if error.regulatory_due_at else None,
            "console_path": f"/console/errors/{error.id}",
        }  # fmt: skip
        enqueue(
            session,
            WEBHOOK_KIND,
            destination.target,
            {
                "destination_id": destination.id,
                "body": {"type": WEBHOOK_TYPE, "timestamp": isoformat_z(now), "data": data},
            },
            idempotency_key=f"comm_error:{error.id}:{reason}:destination:{name}",
            not_before=now,
        )
        sent.append(name)
    return sent, missing


def notify_level(session: Session, policy: Policy, error: CommError, reason: str, now: datetime) -> int:
    """Tell the error's current escalation level (the last level stays told when the levels run out)."""
    levels = policy.severities[error.severity].escalation
    level = levels[min(error.escalation_level, len(levels) - 1)]
    return notify(session, error, level.notify, reason, f"{level.name}: {reason}.", now, level.destinations)


def notify_regulatory(session: Session, policy: Policy, error: CommError, reason: str, now: datetime) -> int:
    if error.regulatory_clock is None or error.regulatory_due_at is None:
        return 0
    clock = policy.regulatory_clocks.get(error.regulatory_clock)
    if clock is None:
        return 0
    text = f"{clock.name}: due {isoformat_z(error.regulatory_due_at)}. {reason}."
    return notify(session, error, clock.notify, f"regulatory {reason}", text, now)


def next_check(error: CommError) -> datetime | None:
    """The next moment a clock of this error needs looking at (None: nothing left to watch)."""
    moments = []
    if error.is_open and error.acknowledged_at is None and not error.acknowledge_missed:
        moments.append(error.acknowledge_due_at)
    if error.is_open and error.resolved_at is None and not error.resolve_missed:
        moments.append(error.resolve_due_at)
    if error.regulatory_done_at is None and error.regulatory_warn_at is not None and not error.regulatory_warned:
        moments.append(error.regulatory_warn_at)
    return min(moments, default=None)


def _escalate(session: Session, policy: Policy, error: CommError, clock: str, now: datetime) -> int:
    error.escalation_level += 1
    repository.add_events(
        session,
        [
            {
                "error_id": error.id,
                "kind": "escalated",
                "actor": SYSTEM,
                "detail": {"missed": clock, "level": error.escalation_level},
                "occurred_at": now,
            }
        ],
    )
    return notify_level(session, policy, error, f"{clock} clock missed", now)


def check(session: Session, policy: Policy, error: CommError, now: datetime) -> int:
    """Act on every clock of one error that has run out; returns how many notices it sent."""
    sent = 0
    if (
        error.is_open
        and error.acknowledged_at is None
        and not error.acknowledge_missed
        and now >= error.acknowledge_due_at
    ):
        error.acknowledge_missed = True
        sent += _escalate(session, policy, error, "acknowledgement", now)
    if error.is_open and error.resolved_at is None and not error.resolve_missed and now >= error.resolve_due_at:
        error.resolve_missed = True
        sent += _escalate(session, policy, error, "resolution", now)
    warn_at = error.regulatory_warn_at
    if error.regulatory_done_at is None and warn_at is not None and not error.regulatory_warned and now >= warn_at:
        error.regulatory_warned = True
        sent += notify_regulatory(session, policy, error, "deadline approaching", now)
    error.next_check_at = next_check(error)
    error.updated_at = now
    return sent


def run_due(session: Session, now: datetime, policy: Policy | PolicyStore | None = None) -> int:
    """The worker's periodic clock check: escalate every error whose acknowledgement or resolution clock ran out,
    warn before regulatory deadlines; returns how many notices were queued. The caller commits."""
    running = policy.current() if isinstance(policy, PolicyStore) else policy
    running = running or PolicyStore().current()
    sent = 0
    for error in repository.due(session, now, CHECK_BATCH):
        if error.severity in running.severities:
            sent += check(session, running, error, now)
        else:  # a severity the current policy no longer has: stop watching it rather than fail every run
            error.next_check_at = None
    session.flush()
    return sent
