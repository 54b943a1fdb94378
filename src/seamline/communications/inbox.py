"""The in-app inbox: messages an app or website reads for its signed-in customer through the API.

The `in_app` channel's outbox handler asks consent at send time like every channel, and stores the message in
the person's inbox in the settling transaction itself: the inbox row and the outbox's "sent" commit together, so
a message is in the inbox once or not at all. Reading it is a `read` outcome in the communications log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import escape
from sqlalchemy.orm import Session

from seamline.communications import inbox_repository, repository
from seamline.communications.delivery import ContactPolicy, _log_attempts, screen
from seamline.communications.models import InAppMessage
from seamline.communications.service import (
    DELIVERED,
    IN_APP_KIND,
    READ,
    Happened,
    record_outcomes,
)
from seamline.consent.config import ConsentConfig
from seamline.core.clock import utcnow
from seamline.core.errors import NotFound
from seamline.identity.service import active_header, profile_members
from seamline.outbox.service import DELIVERED as HANDED_OVER
from seamline.outbox.service import SENT, Attempt, Entry


@dataclass(frozen=True, slots=True)
class InboxMessage:
    """One message of a person's inbox."""

    communication_id: str
    profile_id: int
    type: str
    template: str | None
    title: str
    text: str
    body: str
    created_at: datetime
    read_at: datetime | None
    archived_at: datetime | None

    @classmethod
    def of(cls, row: InAppMessage) -> InboxMessage:
        return cls(
            row.communication_id, row.profile_id, row.type, row.template, row.title, row.text, row.body,
            row.created_at, row.read_at, row.archived_at,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Inbox:
    """A person's inbox: how many are unread, and the messages, newest first."""

    profile_id: int
    unread: int
    messages: tuple[InboxMessage, ...]


def inbox_of(session: Session, profile_id: int, *, include_archived: bool = False, limit: int = 50) -> Inbox:
    """The inbox of a person (every profile merged into them too)."""
    root = int(active_header(session, profile_id).id)
    members = profile_members(session, root)
    rows = inbox_repository.of_profiles(session, members, include_archived=include_archived, limit=limit)
    return Inbox(root, inbox_repository.unread_count(session, members), tuple(InboxMessage.of(r) for r in rows))


def _owned(session: Session, profile_id: int, communication_id: str) -> InAppMessage:
    root = int(active_header(session, profile_id).id)
    row = inbox_repository.by_public_id(session, communication_id)
    if row is None or row.profile_id not in set(profile_members(session, root)):
        raise NotFound(f"no message {communication_id} in this person's inbox")
    return row


def mark_read(session: Session, profile_id: int, communication_id: str) -> InboxMessage:
    """Mark a message of this person's inbox read; the first time, a `read` outcome goes to the log."""
    row = _owned(session, profile_id, communication_id)
    if row.read_at is None:
        now = utcnow()
        inbox_repository.set_values(session, row.id, {"read_at": now})
        record_outcomes(session, [Happened(communication_id, READ, None, "api", occurred_at=now)])
        session.refresh(row)
    return InboxMessage.of(row)


def archive(session: Session, profile_id: int, communication_id: str) -> InboxMessage:
    """Move a message of this person's inbox out of the default listing (kept, with `include_archived`)."""
    row = _owned(session, profile_id, communication_id)
    if row.archived_at is None:
        inbox_repository.set_values(session, row.id, {"archived_at": utcnow()})
        session.refresh(row)
    return InboxMessage.of(row)


def export_person(session: Session, profile_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Every inbox message of these profiles, for an access request's export."""
    rows = inbox_repository.of_profiles(session, profile_ids, include_archived=True, limit=100_000)
    return [
        {
            "communication_id": r.communication_id, "title": r.title, "text": r.text,
            "created_at": r.created_at.isoformat(), "read_at": r.read_at.isoformat() if r.read_at else None,
            "archived_at": r.archived_at.isoformat() if r.archived_at else None,
        }
        for r in rows
    ]  # fmt: skip


def erase_person(session: Session, profile_ids: Sequence[int]) -> int:
    """Erasure: delete these profiles' inbox messages; returns how many."""
    return inbox_repository.delete_of_profiles(session, profile_ids) if profile_ids else 0


class InAppHandler:
    """In-app: consent at send time, then the message is stored in the person's inbox as the send settles."""

    kind = IN_APP_KIND
    is_concurrent = False  # nothing leaves the process: the inbox row is written when the attempt is settled

    def __init__(self, consent: ConsentConfig, policy: ContactPolicy | None = None) -> None:
        self._consent = consent
        self._policy = policy or ContactPolicy()  # suppression, fatigue budget and quiet hours, as for email

    def check(self, session: Session, entries: Sequence[Entry]) -> Mapping[int, Attempt | Any]:
        stopped, going = screen(session, entries, "in_app", self._consent, self._policy)
        out: dict[int, Attempt | Any] = dict(stopped)
        for entry in entries:
            check = going.get(entry.id)
            if check is not None and check.address is not None:
                out[entry.id] = check.address
        return out

    def send(self, entry: Entry, plan: Any) -> Attempt:
        return Attempt(entry.id, HANDED_OVER, "stored in the in-app inbox", outcome=DELIVERED, address=str(plan))

    def record(self, session: Session, done: Sequence[tuple[Entry, Attempt]], statuses: Mapping[int, str]) -> None:
        stored = [e for e, a in done if a.result == HANDED_OVER and statuses.get(e.id) == SENT]
        logged = repository.by_public_ids(session, [e.delivery_id for e in stored])
        now = utcnow()
        rows = []
        for entry in stored:
            row = logged.get(entry.delivery_id)
            if row is None or entry.profile_id is None:
                continue
            payload = entry.payload
            text = str(payload.get("text") or "")
            rows.append(
                {
                    "communication_id": entry.delivery_id,
                    "profile_id": entry.profile_id,
                    "type": row.type,
                    "template": row.template,
                    "title": str(payload.get("subject") or ""),
                    "text": text,
                    "body": str(payload.get("in_app") or escape(text)),
                    "created_at": now,
                }
            )
        inbox_repository.add_new(session, rows)
        _log_attempts(session, done, statuses)

    def close(self) -> None:
        return None
