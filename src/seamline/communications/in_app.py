"""The `in_app` channel's outbox handler: consent, suppression and the fatigue budget asked at send time like every
channel, then the message is stored in the person's inbox (inbox.py) in the settling transaction itself: the inbox
row and the outbox's "sent" commit together, so a message is in the inbox once or not at all."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import escape
from sqlalchemy.orm import Session

from seamline.communications import inbox_repository, repository
from seamline.communications.delivery import ContactPolicy, _log_attempts, screen
from seamline.communications.service import DELIVERED, IN_APP_KIND
from seamline.consent.config import ConsentConfig
from seamline.core.clock import utcnow
from seamline.outbox.service import DELIVERED as HANDED_OVER
from seamline.outbox.service import SENT, Attempt, Entry


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
