"""The outbox handler of escalation notices (kind `error_notice`): plain email to the people the policy names, over
the same SMTP server as customer email. Staff notices carry no customer data, so no consent is asked.

The same handler, under another kind, sends other staff email (the scheduled reports' `report_email`, which adds
an HTML part): one way for Seamline to write to its own people."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from email.message import Message
from typing import Any

from sqlalchemy.orm import Session

from seamline.communications import email
from seamline.communications.config import EmailConfig
from seamline.errors.escalation import NOTICE_KIND
from seamline.outbox.service import DELIVERED, REFUSED, RETRY, Attempt, Entry


class NoticeHandler:
    """Escalation notices: compose, then SMTP; one kept-open connection per send thread."""

    is_concurrent = True

    def __init__(self, config: EmailConfig, kind: str = NOTICE_KIND) -> None:
        self.kind = kind
        self._config = config
        self._local = threading.local()
        self._transports: list[email.SmtpTransport] = []
        self._lock = threading.Lock()

    def _transport(self) -> email.SmtpTransport:
        transport: email.SmtpTransport | None = getattr(self._local, "transport", None)
        if transport is None:
            transport = self._local.transport = email.SmtpTransport(self._config)
            with self._lock:
                self._transports.append(transport)
        return transport

    def check(self, session: Session, entries: Sequence[Entry]) -> Mapping[int, Attempt | Any]:
        return {
            e.id: email.compose(
                self._config,
                delivery_id=e.delivery_id,
                to=str(e.payload["to"]),
                subject=str(e.payload["subject"]),
                text=str(e.payload["text"]),
                html=str(e.payload["html"]) if e.payload.get("html") else None,
                unsubscribe_url=None,
            )
            for e in entries
        }

    def send(self, entry: Entry, plan: Any) -> Attempt:
        assert isinstance(plan, Message)
        to = str(entry.payload["to"])
        sent = self._transport().send(plan, to)
        if sent.outcome == email.ACCEPTED:
            return Attempt(entry.id, DELIVERED, sent.detail, address=to)
        if sent.outcome == email.HARD_BOUNCE:
            return Attempt(entry.id, REFUSED, sent.detail, address=to)
        return Attempt(entry.id, RETRY, sent.detail, address=to)

    def record(self, session: Session, done: Sequence[tuple[Entry, Attempt]], statuses: Mapping[int, str]) -> None:
        return None  # the outbox row is the notice's record; the error's timeline says it was queued

    def close(self) -> None:
        with self._lock:
            for transport in self._transports:
                transport.close()
            self._transports.clear()
        self._local = threading.local()
