"""The in-app inbox: messages an app or website reads for its signed-in customer through the API.

The `in_app` channel's outbox handler (in_app.py) stores each message here as its send settles. Reading a message
is a `read` outcome in the communications log. This module does not import the handler's send-time checks (the
contact policy, and through it the decision point and numpy), so erasure and the inbox API do not load them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.communications import inbox_repository
from seamline.communications.models import InAppMessage
from seamline.communications.service import READ, Happened, record_outcomes
from seamline.core.clock import utcnow
from seamline.core.errors import NotFound
from seamline.core.views import view_of
from seamline.identity.service import active_header, profile_members


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
        return view_of(cls, row)


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
