"""Escalation by policy: who is told when an error is reported, when a clock is missed and before a regulatory
deadline passes. Notices go through the outbox (kind `error_notice`), so they leave only if the change commits,
and carry no personal data: the error's number, severity, clocks and a link, never what the letter said."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from seamline.core.clock import isoformat_z
from seamline.errors import repository
from seamline.errors.config import PolicyStore
from seamline.errors.models import CommError
from seamline.errors.policy import Policy
from seamline.outbox.service import enqueue

NOTICE_KIND = "error_notice"
SYSTEM = "system:errors"
CHECK_BATCH = 500  # errors one run_due transaction checks at most


def notify(session: Session, error: CommError, addresses: Sequence[str], reason: str, text: str, now: datetime) -> int:
    """Put one notice per address in the outbox (once per error, reason and address); returns how many."""
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
    if addresses:
        event = {"error_id": error.id, "kind": "notified", "actor": SYSTEM, "occurred_at": now}
        repository.add_events(session, [{**event, "detail": {"reason": reason, "to": list(addresses)}}])
    return len(addresses)


def notify_level(session: Session, policy: Policy, error: CommError, reason: str, now: datetime) -> int:
    """Tell the error's current escalation level (the last level stays told when the levels run out)."""
    levels = policy.severities[error.severity].escalation
    level = levels[min(error.escalation_level, len(levels) - 1)]
    return notify(session, error, level.notify, reason, f"{level.name}: {reason}.", now)


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
