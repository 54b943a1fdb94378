"""The stall scan: journeys with no activity for their definition's `stall_after` become stalled, and after
`abandon_after` abandoned; each change is announced as a `Journey Stalled` / `Journey Abandoned` event in the
inbox (from the internal `seamline` source), so rules act on it like on any event and a replay re-derives it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.identity.service import identifier_links
from seamline.ingestion.service import append_messages
from seamline.ingestion.wire import Limits
from seamline.journeys import family, progress, repository, service
from seamline.sources.service import create_source, list_sources

INTERNAL_SOURCE = "seamline"
INTERNAL_KIND = "server"
BATCH = 5000
_PERSON_KEYS = {"user_id": "userId", "anonymous_id": "anonymousId"}


def internal_source(session: Session) -> int:
    """The reserved source Seamline's own events come from (made on first use; its write key is not kept)."""
    found = next((s for s in list_sources(session) if s.name == INTERNAL_SOURCE), None)
    if found is not None:
        return found.id
    source, _key = create_source(session, INTERNAL_SOURCE, INTERNAL_KIND)
    return source.id


def _person(session: Session, profile_id: int) -> dict[str, str] | None:
    """How an event names the profile: its user id, else an anonymous id."""
    links = {link.type: link.value for link in identifier_links(session, profile_id) if link.type in _PERSON_KEYS}
    for kind in ("user_id", "anonymous_id"):
        if kind in links:
            return {_PERSON_KEYS[kind]: str(links[kind])}
    return None


def scan(session: Session, now: datetime, *, limit: int = BATCH) -> int:
    """Mark quiet journeys stalled or abandoned and announce each; returns how many changed."""
    changed = 0
    messages: list[dict[str, Any]] = []
    for definition in service.running_definitions(session).values():
        steps: Sequence[tuple[str, Sequence[str], datetime, str]] = (
            (progress.ABANDONED, progress.RESUMABLE, now - definition.abandon_after, family.ABANDONED),
            (progress.STALLED, (progress.OPEN,), now - definition.stall_after, family.STALLED),
        )
        for status, before, cutoff, event in steps:
            rows = repository.quiet(session, definition.key, before, cutoff, limit)
            if not rows:
                continue
            repository.set_status(session, [r[0] for r in rows], status, now)
            changed += len(rows)
            for _id, public_id, profile_id, step in rows:
                person = _person(session, profile_id)
                if person is None:
                    continue
                messages.append(
                    family.message(
                        event, person, journey=definition.key, instance_id=public_id, step=step, channel="seamline"
                    )
                )
    if messages:
        append_messages(session.connection(), internal_source(session), now, messages, Limits())
    return changed
