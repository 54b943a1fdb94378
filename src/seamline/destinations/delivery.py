"""The outbox handler of destinations: signed webhooks over HTTP/1.1 kept-alive connections (core/webpost.py,
thread-safe: the dispatcher's send threads share it).

At send time: a paused destination defers (nothing is lost, nothing counted), a person whose consent to the
destination's purpose was withdrawn since is skipped. Any 2xx is delivered; 410 Gone is refused for good;
anything else, a timeout or a refused connection is retried on the schedule.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy.orm import Session

from seamline.consent.config import ConsentConfig
from seamline.consent.service import may_process_profiles
from seamline.core.clock import utcnow
from seamline.core.webpost import Poster
from seamline.destinations import repository
from seamline.destinations.models import Destination
from seamline.destinations.service import ERASED, PAUSED, WEBHOOK_KIND
from seamline.destinations.signing import headers
from seamline.identity.service import erased_profiles, roots_of
from seamline.outbox.service import DEFERRED, DELIVERED, REFUSED, RETRY, SKIPPED, Attempt, Entry

PAUSED_RECHECK_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class _Call:
    url: str
    secret: str
    body: bytes


class WebhookHandler:
    """Webhooks to destinations, several at once from the dispatcher's threads."""

    kind = WEBHOOK_KIND
    is_concurrent = True

    def __init__(self, consent: ConsentConfig, timeout_seconds: float, connections: int) -> None:
        self._consent = consent
        self._http = Poster(connect_timeout=min(timeout_seconds, 5.0), read_timeout=timeout_seconds, keep=connections)

    def check(self, session: Session, entries: Sequence[Entry]) -> Mapping[int, Attempt | Any]:
        ids = sorted({int(e.payload.get("destination_id", 0)) for e in entries})
        destinations = repository.by_ids(session, ids)
        out: dict[int, Attempt | Any] = {}
        asked: list[tuple[Entry, Destination]] = []
        for entry in entries:
            destination = destinations.get(int(entry.payload.get("destination_id", 0)))
            body = entry.payload.get("body") or {}
            if destination is None:
                out[entry.id] = Attempt(entry.id, REFUSED, "the destination no longer exists")
            elif destination.status == PAUSED:
                later = utcnow() + timedelta(seconds=PAUSED_RECHECK_SECONDS)
                out[entry.id] = Attempt(entry.id, DEFERRED, "destination paused", retry_at=later)
            elif body.get("type") != ERASED and not entry.payload.get("is_notice") and entry.profile_id is not None:
                asked.append((entry, destination))
            else:
                out[entry.id] = _Call(destination.url, destination.secret, orjson.dumps(body))
        allowed = self._may(session, asked)
        for entry, destination in asked:
            if allowed[entry.id]:
                out[entry.id] = _Call(
                    destination.url, destination.secret, orjson.dumps(entry.payload.get("body") or {})
                )
            else:
                reason = f"no consent to {destination.purpose} at send time"
                out[entry.id] = Attempt(entry.id, SKIPPED, reason)
        return out

    def _may(self, session: Session, asked: Sequence[tuple[Entry, Destination]]) -> dict[int, bool]:
        """Whether each person still consents to the destination's purpose, now: the whole batch in a few reads."""
        if not asked:
            return {}
        roots = roots_of(session, [int(e.profile_id or 0) for e, _ in asked])
        erased = erased_profiles(session, sorted(set(roots.values())))
        people = [roots.get(int(e.profile_id or 0), int(e.profile_id or 0)) for e, _ in asked]
        questions = [(person, d.purpose) for person, (_, d) in zip(people, asked, strict=True)]
        decisions = may_process_profiles(session, questions, config=self._consent)
        return {
            entry.id: decision.allowed and person not in erased
            for (entry, _), person, decision in zip(asked, people, decisions, strict=True)
        }

    def send(self, entry: Entry, plan: Any) -> Attempt:
        assert isinstance(plan, _Call)
        signed = headers(plan.secret, entry.delivery_id, int(time.time()), plan.body)
        try:
            status = self._http.post(plan.url, plan.body, signed)
        except OSError as exc:  # refused, reset, timed out, not HTTP: tried again on the schedule
            return Attempt(entry.id, RETRY, f"{type(exc).__name__}: {exc}")
        if 200 <= status < 300:
            return Attempt(entry.id, DELIVERED, f"HTTP {status}")
        if status == 410:
            return Attempt(entry.id, REFUSED, "HTTP 410 Gone: the receiver no longer wants these")
        return Attempt(entry.id, RETRY, f"HTTP {status}")

    def record(self, session: Session, done: Sequence[tuple[Entry, Attempt]], statuses: Mapping[int, str]) -> None:
        return None  # webhooks are not communications to a person: the outbox row is their record

    def close(self) -> None:
        self._http.close()
