"""The stall scan: journeys with no activity for their definition's `stall_after` become stalled, and after
`abandon_after` abandoned; each change is announced as a `Journey Stalled` / `Journey Abandoned` event in the
inbox (from the internal `seamline` source), so rules act on it like on any event and a replay re-derives it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.cases.config import CasesConfig
from seamline.identity.service import person_keys
from seamline.ingestion.service import append_own
from seamline.ingestion.wire import Limits
from seamline.journeys import family, installed, progress, repository
from seamline.journeys.takeover import open_stall_cases
from seamline.sources.service import create_source, list_sources

INTERNAL_SOURCE = "seamline"
INTERNAL_KIND = "server"
BATCH = 25_000
_KEY_NAMES = {"user_id": "userId", "anonymous_id": "anonymousId"}  # how an event names a person
# One run's transaction holds the rows it changes (on SQLite, the write lock): more quiet journeys than this wait
# for the next run.
MAX_CHANGES = 50_000


def internal_source(session: Session) -> int:
    """The reserved source Seamline's own events come from (made on first use; its write key is not kept)."""
    found = next((s for s in list_sources(session) if s.name == INTERNAL_SOURCE), None)
    if found is not None:
        return found.id
    source, _key = create_source(session, INTERNAL_SOURCE, INTERNAL_KIND)
    return source.id


@dataclass(frozen=True, slots=True)
class StallScan:
    """The worker's stall-scan job: the scan, with the cases' settings for the cases a stall opens."""

    cases: CasesConfig

    def __call__(self, session: Session, now: datetime) -> int:
        return scan(session, now, cases=self.cases)


def scan(
    session: Session,
    now: datetime,
    *,
    limit: int = BATCH,
    max_changes: int = MAX_CHANGES,
    cases: CasesConfig | None = None,
) -> int:
    """Mark quiet journeys stalled or abandoned and announce each; returns how many changed. With `cases`, a
    journey whose definition says `on_stall: case` opens a case as it stalls (takeover.py)."""
    changed = 0
    while True:
        found = _scan_once(session, now, limit, cases)
        changed += found
        if found == 0 or changed >= max_changes:
            return changed


def _scan_once(session: Session, now: datetime, limit: int, cases: CasesConfig | None) -> int:
    # Each (journey, status) is one set-based UPDATE … RETURNING, and the announcements one bulk insert of messages
    # of one checked shape: validating and appending them one by one took 40% of a scan of 50,000.
    changed = 0
    messages: list[dict[str, Any]] = []
    # An announcement's id says what and when: one scan's is never appended twice, and no random id is drawn.
    stamp = f"{now:%Y%m%dT%H%M%S.%f}"
    for definition in installed.running_definitions(session).values():
        abandon, stall = now - definition.abandon_after, now - definition.stall_after
        steps: Sequence[tuple[str, str, datetime, str]] = (
            *((progress.ABANDONED, before, abandon, family.ABANDONED) for before in progress.RESUMABLE),
            (progress.STALLED, progress.OPEN, stall, family.STALLED),
        )
        for status, before, cutoff, event in steps:
            rows = repository.mark_quiet(session, definition.key, before, cutoff, status, now, limit)
            if not rows:
                continue
            changed += len(rows)
            if status == progress.STALLED and cases is not None and definition.stall_case is not None:
                open_stall_cases(session, cases, definition, [r.public_id for r in rows], now)
            # An event names its person by user id, else by an anonymous id (profiles with neither are not named).
            named = person_keys(session, [r.profile_id for r in rows])
            messages.extend(
                family.announcement(
                    event,
                    {_KEY_NAMES[key[0]]: key[1]},
                    definition.key,
                    public_id,
                    step,
                    f"{status}-{public_id}-{stamp}",
                )
                for _id, public_id, profile_id, step in rows
                if (key := named.get(profile_id)) is not None
            )
    if messages:
        append_own(session.connection(), internal_source(session), now, messages, Limits())
    return changed
