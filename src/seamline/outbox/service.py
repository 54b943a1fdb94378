"""Rules of the outbox: enqueue in the caller's transaction, claim due work, settle each attempt, dead letters.

Services only flush; the caller commits, so a message enqueued with a change leaves only if the change commits.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from seamline.core.clock import utcnow
from seamline.core.errors import Conflict, FieldError, InvalidInput, NotFound
from seamline.core.prepared import Reads
from seamline.core.views import view_of
from seamline.outbox import repository
from seamline.outbox.config import OutboxConfig
from seamline.outbox.models import OutboxMessage
from seamline.outbox.repository import DEAD, DISCARDED, FAILED, PENDING, SENT, SUPPRESSED
from seamline.outbox.retry import retry_delay

__all__ = ["DEAD", "DISCARDED", "FAILED", "PENDING", "SENT", "SUPPRESSED"]

# A payload marked `"secret": true` carries something that must not outlive its delivery (a live resume link):
# once the message is settled for good, only its subject stays, and a dead letter of it cannot be replayed.
SECRET_PAYLOAD = "secret"  # noqa: S105  # not a password: the payload key that marks it
DROPPED = "dropped"


@dataclass(frozen=True, slots=True)
class Entry:
    """An outbox row as dispatchers and operators see it."""

    id: int
    delivery_id: str
    kind: str
    target: str
    payload: Mapping[str, Any]
    profile_id: int | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    settled_at: datetime | None

    @classmethod
    def of(cls, row: OutboxMessage | Any) -> Entry:
        """From a stored row (an ORM object, or a Core row of every column, as claims return)."""
        return view_of(cls, row, payload=dict(row.payload))


def new_delivery_id() -> str:
    """A fresh stable delivery id (what the SMTP Message-ID and the `webhook-id` carry)."""
    return f"msg_{uuid.uuid4().hex}"


def enqueue(
    session: Session,
    kind: str,
    target: str,
    payload: Mapping[str, Any],
    *,
    profile_id: int | None = None,
    idempotency_key: str | None = None,
    delivery_id: str | None = None,
    not_before: datetime | None = None,
) -> tuple[Entry, bool]:
    """Add a message to leave after the caller commits; (entry, created). A known idempotency key returns the
    message it made before (created False) when the payload is the same, and raises Conflict when it is not."""
    if idempotency_key is not None:
        earlier = repository.by_idempotency_key(session, idempotency_key)
        if earlier is not None:
            if earlier.kind != kind or earlier.target != target:
                raise Conflict(f"idempotency key {idempotency_key!r} was used for another message")
            return Entry.of(earlier), False
    now = utcnow()
    row = repository.add(
        session,
        {
            "delivery_id": delivery_id or new_delivery_id(),
            "idempotency_key": idempotency_key,
            "kind": kind,
            "target": target,
            "payload": dict(payload),
            "profile_id": profile_id,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": not_before or now,
            "created_at": now,
        },
    )
    return Entry.of(row), True


def is_any_due(reads: Reads, kinds: Sequence[str]) -> bool:
    """Whether a claim would find anything: a read, so an idle dispatcher's polls never take SQLite's write lock
    (a prepared statement, cheap enough to ask many times a second; at most `repository.KIND_SLOTS` kinds)."""
    return repository.is_any_due(reads, kinds, utcnow())


@dataclass(frozen=True, slots=True)
class Claim:
    """Rows one dispatcher holds until `until`, under `token`."""

    token: str
    until: datetime
    entries: tuple[Entry, ...]


def claim(session: Session, kinds: Sequence[str], config: OutboxConfig, *, now: datetime | None = None) -> Claim:
    """Claim due messages of these kinds (the caller commits the claim before delivering)."""
    now = now or utcnow()
    token = uuid.uuid4().hex
    until = now + timedelta(seconds=config.lease_seconds)
    rows = repository.claim(session, kinds=kinds, limit=config.batch_size, now=now, token=token, lease_until=until)
    return Claim(token, until, tuple(Entry.of(r) for r in rows))


# How an attempt ended, as the dispatcher reports it.
DELIVERED = "delivered"  # handed over: the far side accepted it
RETRY = "retry"  # a transient failure: try again on the schedule
REFUSED = "refused"  # refused for good: no retry
SKIPPED = "skipped"  # not sent: consent or reachability said no at send time
DEFERRED = "deferred"  # not attempted (the target's circuit is open): put back without counting an attempt


@dataclass(frozen=True, slots=True)
class Attempt:
    """The end of one delivery attempt of one entry."""

    entry_id: int
    result: str
    detail: str = ""
    retry_at: datetime | None = None  # for DEFERRED: when to come back
    outcome: str | None = None  # the owning domain's word for it (accepted, bounced_hard…), for its log
    address: str | None = None  # where it went


def settle(
    session: Session, claim: Claim, attempts: Sequence[Attempt], config: OutboxConfig, rng: random.Random
) -> dict[int, str]:
    """Record how each attempt ended; returns each entry's new status (RETRY keeps it pending). Rows whose claim
    lapsed and were taken by another dispatcher are left to it."""
    now = utcnow()
    by_id = {e.id: e for e in claim.entries}
    changes: list[dict[str, Any]] = []
    statuses: dict[int, str] = {}
    for attempt in attempts:
        entry = by_id[attempt.entry_id]
        detail = attempt.detail[:1000] or None
        change: dict[str, Any]
        if attempt.result == DEFERRED:
            change = {"next_attempt_at": attempt.retry_at or now, "last_error": detail}
            status = PENDING
        elif attempt.result == RETRY:
            tries = entry.attempts + 1
            delay = retry_delay(tries, config.retry_schedule_seconds, config.jitter, rng)
            if delay is None:
                change, status = {"status": DEAD, "attempts": tries, "last_error": detail, "settled_at": now}, DEAD
            else:
                due = now + timedelta(seconds=delay)
                change, status = {"attempts": tries, "last_error": detail, "next_attempt_at": due}, PENDING
        else:
            status = {DELIVERED: SENT, REFUSED: FAILED, SKIPPED: SUPPRESSED}[attempt.result]
            change = {"status": status, "attempts": entry.attempts + 1, "last_error": detail, "settled_at": now}
            if attempt.result == SKIPPED:
                change["attempts"] = entry.attempts
        if status != PENDING and entry.payload.get(SECRET_PAYLOAD):
            change["payload"] = _without_content(entry.payload)
        changes.append({"id": entry.id, **change})
        statuses[entry.id] = status
    repository.settle(session, claim.token, changes)
    return statuses


def _without_content(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {"subject": payload.get("subject", ""), SECRET_PAYLOAD: True, DROPPED: True}


def entries(session: Session, status: str, *, kind: str | None = None, limit: int = 100) -> list[Entry]:
    """Entries in a status (dead letters: DEAD), newest first."""
    return [Entry.of(r) for r in repository.listed(session, status, limit, kind)]


def entry(session: Session, entry_id: int) -> Entry:
    row = repository.get(session, entry_id)
    if row is None:
        raise NotFound(f"no outbox message {entry_id}")
    return Entry.of(row)


def _of_dead(session: Session, ids: Sequence[int], values: Mapping[str, Any]) -> list[int]:
    if not ids:
        raise InvalidInput([FieldError("ids", "required", "name at least one dead letter")], "nothing to do")
    changed = repository.set_status(session, ids, DEAD, values)
    missing = sorted(set(ids) - set(changed))
    if missing:
        raise NotFound(f"not dead letters: {', '.join(str(i) for i in missing)}")
    return changed


def replay(session: Session, ids: Sequence[int]) -> list[int]:
    """Put dead letters back in line with a fresh schedule (same delivery id: the receiver can tell a repeat)."""
    dropped = [i for i in ids if (row := repository.get(session, i)) is not None and row.payload.get(DROPPED)]
    if dropped:
        reason = "its one-time content (a resume link) was dropped when it died: send a new one"
        problems = [FieldError("ids", "content_dropped", f"{i}: {reason}") for i in dropped]
        raise InvalidInput(problems, "nothing replayed")
    values = {"status": PENDING, "attempts": 0, "next_attempt_at": utcnow(), "settled_at": None, "claim_token": None}
    return _of_dead(session, ids, values)


def discard(session: Session, ids: Sequence[int]) -> list[int]:
    """Give up on dead letters for good; they stay listed as discarded."""
    return _of_dead(session, ids, {"status": DISCARDED, "settled_at": utcnow()})


def replay_target(session: Session, target: str, since: datetime) -> int:
    """Send again every settled message to a target made since a time: each as a new message (a new delivery id)
    with the same payload, after everything already waiting. Returns how many."""
    settled = repository.of_target(session, target, since, [SENT, FAILED, DEAD, DISCARDED, SUPPRESSED])
    for row in settled:
        enqueue(session, row.kind, row.target, row.payload, profile_id=row.profile_id)
    return len(settled)


def release_target(session: Session, target: str) -> None:
    """Make every message waiting for a target due now (it was paused, or its outage is over)."""
    repository.release_target(session, target, utcnow())


# How many entries are in each status.
counts = repository.counts


def lag_seconds(session: Session, *, now: datetime | None = None) -> dict[str, float]:
    """Per kind, how long the longest-waiting due message has waited for a dispatcher (0 for none waiting): the
    figure that says the dispatchers are behind, whichever process runs them."""
    now = now or utcnow()
    return {kind: max(0.0, (now - at).total_seconds()) for kind, at in repository.oldest_due(session, now).items()}


def erase_person(session: Session, profile_ids: Sequence[int]) -> int:
    """Erasure: delete every message about these profiles, sent or waiting (their content is personal)."""
    return repository.delete_of_profiles(session, profile_ids) if profile_ids else 0
