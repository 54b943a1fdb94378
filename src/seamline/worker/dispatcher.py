"""The dispatcher loop: claim due outbox messages, check and deliver them through their kind's handler, settle.

Runs as a thread of `seamline serve` or alone under `seamline dispatcher` (start several on PostgreSQL: claims
skip rows another dispatcher has locked). Three short transactions per round: claim (committed, so the lease
holds if this process dies), the send-time checks, and settling with the communications log. Nothing is sent
inside a transaction. A crash between sending and settling sends the message again after the lease, with the
same delivery id (Message-ID, webhook-id): a repeat the receiver can recognise, never a second distinct message.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from seamline.communications.contacts import people_of
from seamline.communications.delivery import ContactPolicy, EmailHandler, PaperHandler, UnsubscribeLink
from seamline.communications.in_app import InAppHandler
from seamline.communications.links import LinkTracker
from seamline.communications.mobile import ProviderHandler
from seamline.communications.service import PUSH_KIND, SMS_KIND
from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.held import HeldReader
from seamline.core.locks import held_locks
from seamline.core.prepared import read_snapshot
from seamline.destinations.delivery import WebhookHandler
from seamline.errors.delivery import NoticeHandler
from seamline.outbox.breaker import Breakers
from seamline.outbox.circuits import load_circuits, save_circuits
from seamline.outbox.config import OutboxConfig
from seamline.outbox.handlers import Handler
from seamline.outbox.service import DEFERRED, DELIVERED, REFUSED, RETRY, Attempt, Entry, claim, is_any_due, settle
from seamline.preferences.service import signing_secret
from seamline.reports.config import REPORT_KIND

log = logging.getLogger(__name__)
PERSON_LOCKS = 16  # the advisory lock space of a person's sends (issue 16's one fatigue budget)


class Dispatcher:
    """Delivers the outbox with a set of handlers, one per kind."""

    def __init__(
        self, engine: Engine, config: OutboxConfig, handlers: Sequence[Handler], *, lock_people: bool = False
    ) -> None:
        self._engine = engine
        self._lock_people = lock_people
        self._config = config
        self._handlers: dict[str, Handler] = {h.kind: h for h in handlers}
        self._kinds = list(self._handlers)
        self._breakers = Breakers(config.breaker_failures, config.breaker_cooldown_seconds)
        self._rng = random.Random()
        self._pool = ThreadPoolExecutor(config.send_threads, thread_name_prefix="seamline-send")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._is_behind = False  # the last claim took a full batch
        # The idle polls' reads, on a connection `run_forever` keeps: a poll through a session and the pool cost
        # ~1 ms of CPU, 20 ms a second inside `seamline serve` (and the API's requests waited for the GIL meanwhile).
        self._polls: HeldReader | None = None
        self.delivered = 0
        # Attempts by (kind, result) since start: what /metrics reports of the dispatcher in this process.
        self.attempts: Counter[tuple[str, str]] = Counter()

    def run_once(self) -> int:
        """One round: returns how many messages it settled (0 when nothing was due)."""
        if not self._is_behind:  # after a full batch more is surely due: no need to look before claiming
            with self._polls.snapshot() if self._polls is not None else read_snapshot(self._engine) as reads:
                if not is_any_due(reads, self._kinds):
                    return 0
        with unit_of_work(self._engine) as session:
            claimed = claim(session, list(self._handlers), self._config)
            targets = sorted({e.target for e in claimed.entries})
            known = load_circuits(session, self._breakers, targets, self._config, utcnow()) if targets else set()
        self._is_behind = len(claimed.entries) >= self._config.batch_size
        if not claimed.entries:
            return 0
        by_kind: dict[str, list[Entry]] = {}
        for entry in claimed.entries:
            by_kind.setdefault(entry.kind, []).append(entry)
        done: dict[str, list[tuple[Entry, Attempt]]] = {}
        people: list[int] = []
        if self._lock_people:
            with unit_of_work(self._engine, write=False) as session:
                people = people_of(session, [e.delivery_id for e in claimed.entries])
        # With a fatigue budget, each person's messages are checked, sent and settled by one dispatcher at a time:
        # another would count the budget before this one's sends are in the log, and both pass one over the cap.
        with held_locks(self._engine, PERSON_LOCKS, people):
            # Every kind's send-time checks in one session, before anything is sent: the contact policy counts what
            # it let through for one kind against the next (an email and an SMS to one person share one budget).
            with unit_of_work(self._engine, write=False) as session:
                plans = {kind: self._handlers[kind].check(session, entries) for kind, entries in by_kind.items()}
            for kind, entries in by_kind.items():
                done[kind] = self._deliver(self._handlers[kind], entries, plans[kind])
            with unit_of_work(self._engine) as session:
                attempts = [a for pairs in done.values() for _, a in pairs]
                statuses = settle(session, claimed, attempts, self._config, self._rng)
                save_circuits(session, self._breakers.take_round(), known, self._config, utcnow())
                for kind, pairs in done.items():
                    self._handlers[kind].record(session, pairs, statuses)
        self.delivered += sum(1 for a in attempts if a.result == DELIVERED)
        for kind, pairs in done.items():
            self.attempts.update((kind, attempt.result) for _, attempt in pairs)
        return len(attempts)

    def _deliver(
        self, handler: Handler, entries: Sequence[Entry], plans: Mapping[int, Attempt | Any]
    ) -> list[tuple[Entry, Attempt]]:
        ready: list[tuple[Entry, Any]] = []
        out: list[tuple[Entry, Attempt]] = []
        for entry in entries:
            plan = plans[entry.id]
            if isinstance(plan, Attempt):
                out.append((entry, plan))
            else:
                ready.append((entry, plan))
        if handler.is_concurrent and len(ready) > 1:
            out.extend(
                zip([e for e, _ in ready], self._pool.map(lambda p: self._attempt(handler, *p), ready), strict=True)
            )
        else:
            out.extend((entry, self._attempt(handler, entry, plan)) for entry, plan in ready)
        return out

    def _attempt(self, handler: Handler, entry: Entry, plan: Any) -> Attempt:
        now = time.time()
        if not self._breakers.allows(entry.target, now):
            reopens = self._breakers.reopens_at(entry.target) or now
            return Attempt(
                entry.id,
                DEFERRED,
                f"circuit open for {entry.target}: too many failures in a row",
                retry_at=datetime.fromtimestamp(reopens, UTC),
            )
        try:
            attempt = handler.send(entry, plan)
        except Exception as exc:  # a handler's bug must cost one retry, never the dispatcher
            log.exception("delivering outbox message %s failed", entry.id)
            attempt = Attempt(entry.id, RETRY, f"{type(exc).__name__}: {exc}")
        if attempt.result == RETRY:
            self._breakers.failed(entry.target, time.time())
        elif attempt.result in (DELIVERED, REFUSED):
            self._breakers.succeeded(entry.target)
        return attempt

    def drain(self, *, rounds: int = 1000) -> int:
        """Run rounds until nothing is due (messages waiting for a retry are not due); returns how many settled."""
        total = 0
        for _ in range(rounds):
            count = self.run_once()
            if count == 0:
                break
            total += count
        return total

    def run_forever(self) -> None:
        log.info("dispatcher started for %s", ", ".join(self._handlers))
        polls = self._polls = HeldReader(self._engine)
        try:
            self._loop()
        finally:
            self._polls = None
            polls.close()
        log.info("dispatcher stopped after %d deliveries", self.delivered)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                count = self.run_once()
            except OperationalError:
                # A lost connection or a lock timeout: claims not settled come back when their lease ends.
                log.exception("dispatcher round failed; retrying")
                count = 0
            except Exception:
                log.exception("dispatcher round failed unexpectedly; retrying")
                count = 0
            if count == 0:
                self._stop.wait(self._config.idle_seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="seamline-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for handler in self._handlers.values():
            handler.close()
        self._pool.shutdown(wait=False)

    def stop_soon(self) -> None:
        """Ask the loop to end after its current round (for signal handlers)."""
        self._stop.set()


def build_dispatcher(engine: Engine, settings: Settings, *, unsubscribe_url: UnsubscribeLink | None) -> Dispatcher:
    """A dispatcher for every kind Seamline delivers, configured from settings."""
    tracker = None
    if settings.email.track_links:
        tracker = LinkTracker(settings.email.public_url, signing_secret(settings), settings.email.track_opens)
    policy = ContactPolicy(settings.decisions, settings.survivorship)  # asked by every channel, next to consent
    handlers: list[Handler] = [
        EmailHandler(settings.email, settings.consent, unsubscribe_url, tracker, policy),
        PaperHandler(settings.data_dir / "print"),
        WebhookHandler(settings.consent, settings.outbox.webhook_timeout_seconds, settings.outbox.send_threads),
        NoticeHandler(settings.email),
        NoticeHandler(settings.email, REPORT_KIND),  # scheduled reports: staff email like the notices
        # Delivery callbacks come back to this server's public address (api/providers.py).
        ProviderHandler(SMS_KIND, settings.sms, settings.consent, settings.public_base_url, policy),
        ProviderHandler(PUSH_KIND, settings.push, settings.consent, settings.public_base_url, policy),
        InAppHandler(settings.consent, policy),
    ]
    budget = bool(settings.decisions.caps or settings.decisions.service_caps)
    return Dispatcher(engine, settings.outbox, handlers, lock_people=budget)
