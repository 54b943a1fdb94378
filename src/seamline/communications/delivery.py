"""The outbox handlers of the communications domain: email over SMTP and paper print batches.

At send time each message asks the one consent policy again (a choice made since it was queued is obeyed), and
every attempt lands in the communications log: accepted, bounced, deferred, suppressed with its reasons.
"""

from __future__ import annotations

import csv
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from seamline.communications import email
from seamline.communications.config import EmailConfig
from seamline.communications.links import LinkTracker
from seamline.communications.service import (
    ACCEPTED,
    BOUNCED_HARD,
    DEFERRED,
    EMAIL_KIND,
    FAILED,
    PAPER_KIND,
    PRINTED,
    SUPPRESSED,
    Happened,
    SendCheck,
    check_sends,
    record_outcomes,
)
from seamline.consent.config import ConsentConfig
from seamline.core.clock import utcnow
from seamline.decisions.checks import SendRequest, send_verdicts
from seamline.decisions.config import DecisionsConfig
from seamline.outbox.service import DEAD, DELIVERED, REFUSED, RETRY, SECRET_PAYLOAD, SKIPPED, Attempt, Entry
from seamline.outbox.service import DEFERRED as HELD
from seamline.profiles.survivorship import SurvivorshipConfig

UnsubscribeLink = Callable[[int], str]


@dataclass(frozen=True, slots=True)
class _EmailPlan:
    to: str
    message: Message


def _log_attempts(session: Session, done: Sequence[tuple[Entry, Attempt]], statuses: Mapping[int, str]) -> None:
    happened = []
    for entry, attempt in done:
        outcome = attempt.outcome
        if attempt.result == RETRY:
            outcome = FAILED if statuses.get(entry.id) == DEAD else DEFERRED
        if outcome is None:
            continue
        detail = attempt.detail
        if statuses.get(entry.id) == DEAD:
            detail = f"gave up after {entry.attempts + 1} attempts: {detail}"
        happened.append(Happened(entry.delivery_id, outcome, detail, "dispatcher", attempt.address))
    record_outcomes(session, happened)


@dataclass(frozen=True, slots=True)
class ContactPolicy:
    """The one contact policy every channel asks next to consent at send time: suppression by what the customer
    holds, the shared fatigue budget and quiet hours (docs/decisions.md)."""

    decisions: DecisionsConfig = field(default_factory=DecisionsConfig)
    survivorship: SurvivorshipConfig = field(default_factory=SurvivorshipConfig)
    clock: Callable[[], datetime] = utcnow


def screen(
    session: Session, entries: Sequence[Entry], channel: str, consent: ConsentConfig, policy: ContactPolicy
) -> tuple[dict[int, Attempt], dict[int, SendCheck]]:
    """Ask consent, reachability and the contact policy, now, for each message: (an attempt for each that does not
    go now — refused, suppressed with its reasons, or held until quiet hours end —, the check of each that goes)."""
    checks = check_sends(session, [e.delivery_id for e in entries], channel, consent)
    asked = [
        SendRequest(key, c.profile_id, c.priority, c.type, c.purpose, c.product)
        for key, c in checks.items()
        if c.is_allowed and c.profile_id is not None
    ]
    verdicts = send_verdicts(session, asked, policy.decisions, policy.survivorship, now=policy.clock())
    stopped: dict[int, Attempt] = {}
    going: dict[int, SendCheck] = {}
    for entry in entries:
        check = checks.get(entry.delivery_id)
        verdict = verdicts.get(entry.delivery_id)
        if check is None:
            stopped[entry.id] = Attempt(
                entry.id, REFUSED, "no communication in the log for this message", outcome=FAILED
            )
        elif verdict is not None and verdict.hold_until is not None:
            stopped[entry.id] = Attempt(
                entry.id, HELD, f"{verdict.rule}: {verdict.reason}", retry_at=verdict.hold_until,
                outcome=DEFERRED, address=check.address,
            )  # fmt: skip
        elif verdict is not None:
            stopped[entry.id] = Attempt(
                entry.id, SKIPPED, f"{verdict.rule}: {verdict.reason}", outcome=SUPPRESSED, address=check.address
            )
        elif not check.is_allowed or check.address is None:
            stopped[entry.id] = Attempt(
                entry.id, SKIPPED, "; ".join(check.reasons), outcome=SUPPRESSED, address=check.address
            )
        else:
            going[entry.id] = check
    return stopped, going


class EmailHandler:
    """Email: consent at send time, then the contact policy (suppression, fatigue budget, quiet hours), then SMTP."""

    kind = EMAIL_KIND
    is_concurrent = True  # one kept-open SMTP connection per send thread: round trips overlap

    def __init__(
        self,
        config: EmailConfig,
        consent: ConsentConfig,
        unsubscribe_url: UnsubscribeLink | None,
        tracker: LinkTracker | None = None,
        policy: ContactPolicy | None = None,
    ) -> None:
        self._config = config
        self._consent = consent
        self._policy = policy or ContactPolicy()  # suppression, fatigue budget and quiet hours, as every channel
        self._unsubscribe_url = unsubscribe_url
        self._tracker = tracker
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
        stopped, going = screen(session, entries, "email", self._consent, self._policy)
        out: dict[int, Attempt | Any] = dict(stopped)
        for entry in entries:
            check = going.get(entry.id)
            if check is None or check.address is None:
                continue
            link = None
            if check.is_marketing and self._unsubscribe_url is not None and check.profile_id is not None:
                link = self._unsubscribe_url(check.profile_id)
            payload = entry.payload
            text, html = str(payload.get("text", "")), payload.get("html")
            # Links through the signed redirect, so clicks and opens come back; never a secret's (a click logs it).
            if self._tracker is not None and not payload.get(SECRET_PAYLOAD):
                text = self._tracker.text(text, entry.delivery_id)
                html = self._tracker.html(html, entry.delivery_id) if html else html
            message = email.compose(
                self._config,
                delivery_id=entry.delivery_id,
                to=check.address,
                subject=str(payload.get("subject", "")),
                text=text,
                html=html,
                unsubscribe_url=link,
            )
            out[entry.id] = _EmailPlan(check.address, message)
        return out

    def send(self, entry: Entry, plan: Any) -> Attempt:
        assert isinstance(plan, _EmailPlan)
        sent = self._transport().send(plan.message, plan.to)
        if sent.outcome == email.ACCEPTED:
            return Attempt(entry.id, DELIVERED, sent.detail, outcome=ACCEPTED, address=plan.to)
        if sent.outcome == email.HARD_BOUNCE:
            return Attempt(entry.id, REFUSED, sent.detail, outcome=BOUNCED_HARD, address=plan.to)
        return Attempt(entry.id, RETRY, sent.detail, address=plan.to)

    def record(self, session: Session, done: Sequence[tuple[Entry, Attempt]], statuses: Mapping[int, str]) -> None:
        _log_attempts(session, done, statuses)

    def close(self) -> None:
        with self._lock:
            for transport in self._transports:
                transport.close()
            self._transports.clear()
        self._local = threading.local()


PRINT_COLUMNS = ("communication_id", "profile_id", "subject", "text")


class PaperHandler:
    """Paper: each dispatcher run appends its letters to one print batch file (CSV, one row per letter) in a folder
    the print vendor picks up from; the file is synced before the letters count as printed."""

    kind = PAPER_KIND
    is_concurrent = False

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def check(self, session: Session, entries: Sequence[Entry]) -> Mapping[int, Attempt | Any]:
        self._folder.mkdir(parents=True, exist_ok=True)
        batch = self._folder / f"print-{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.csv"
        return {e.id: batch for e in entries}

    def send(self, entry: Entry, plan: Any) -> Attempt:
        assert isinstance(plan, Path)
        is_new = not plan.exists()
        try:
            with plan.open("a", encoding="utf-8", newline="") as out:
                writer = csv.writer(out)
                if is_new:
                    writer.writerow(PRINT_COLUMNS)
                payload = entry.payload
                writer.writerow(
                    [entry.delivery_id, entry.profile_id, payload.get("subject", ""), payload.get("text", "")]
                )
                out.flush()
        except OSError as exc:
            return Attempt(entry.id, RETRY, f"could not write the print batch {plan}: {exc}")
        return Attempt(entry.id, DELIVERED, f"print batch {plan.name}", outcome=PRINTED)

    def record(self, session: Session, done: Sequence[tuple[Entry, Attempt]], statuses: Mapping[int, str]) -> None:
        _log_attempts(session, done, statuses)

    def close(self) -> None:
        return None
