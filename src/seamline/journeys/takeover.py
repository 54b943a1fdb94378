"""Taking a journey over as a case: one code path for the console's *Take over as a case*, the API's
`POST /v1/journeys/{id}/handoff` and the stall scan's own cases (a definition's `on_stall: case`).

The case records the journey (`journey_instance_id`) and the step it was at, and its handoff summary starts with
what the journey already knows (handoff.py). A journey has one case at a time: while its case is open, pending
the customer or escalated, taking it over again answers that case instead of opening another. Only flushes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from seamline.cases.config import CasesConfig
from seamline.cases.lifecycle import CHANNELS
from seamline.cases.service import journey_cases, open_case, update_handoff
from seamline.core.clock import utcnow
from seamline.journeys import installed, repository, service
from seamline.journeys.definitions import JourneyDef
from seamline.journeys.handoff import handoff_of
from seamline.journeys.models import JourneyInstance
from seamline.journeys.views import view_of

SYSTEM_ACTOR = "seamline"  # the stall scan's cases are opened by Seamline itself, on no one's desk
SYSTEM_SURFACE = "cli"  # the worker is an operator's process, not a request


@dataclass(frozen=True, slots=True)
class Takeover:
    """The journey's case, and whether this takeover opened it (False: it already had one)."""

    case_id: int
    is_new: bool


def take_over(
    session: Session,
    config: CasesConfig,
    row: JourneyInstance,
    *,
    profile_id: int,
    channel: str,
    actor: str,
    surface: str,
    origin_profile_id: int | None = None,
    assignee: str | None = None,
    queue: str | None = None,
    priority: str = "normal",
    now: datetime | None = None,
) -> Takeover:
    """The journey's active case, or a new one on `profile_id` (the active profile) with the journey's handoff."""
    # The instance's row lock makes two takeovers of one journey at once open one case (PostgreSQL; on SQLite the
    # transaction's write lock does it).
    repository.by_public_id(session, row.public_id, lock=True)
    existing = journey_cases(session, [row.public_id]).get(row.public_id)
    if existing is not None:
        return Takeover(existing, is_new=False)
    return Takeover(
        _open(
            session, config, row, installed.running_definitions(session), profile_id=profile_id, channel=channel,
            actor=actor, surface=surface, origin_profile_id=origin_profile_id, assignee=assignee, queue=queue,
            priority=priority, now=now or utcnow(),
        ),
        is_new=True,
    )  # fmt: skip


def _open(
    session: Session,
    config: CasesConfig,
    row: JourneyInstance,
    definitions: dict[str, JourneyDef],
    *,
    profile_id: int,
    channel: str,
    actor: str,
    surface: str,
    origin_profile_id: int | None,
    assignee: str | None,
    queue: str | None,
    priority: str,
    now: datetime,
) -> int:
    taken = handoff_of(view_of(session, row, definitions))
    case = open_case(
        session, config, profile_id=profile_id, origin_profile_id=origin_profile_id, subject=taken.subject,
        channel=channel, assignee=assignee, queue=queue, priority=priority, journey=(row.public_id, taken.step),
        actor=actor, surface=surface, now=now,
    )  # fmt: skip
    update_handoff(
        session, case.id, verified="", customer_said=taken.customer_said, tried=taken.tried,
        next_step=taken.next_step, actor=actor, surface=surface, now=now,
    )  # fmt: skip
    return case.id


def open_stall_cases(
    session: Session, config: CasesConfig, definition: JourneyDef, public_ids: Sequence[str], now: datetime
) -> int:
    """The stall scan's cases: one for each of these just-stalled instances of a definition with `on_stall: case`
    that has no active case yet, in the definition's queue and priority, on no one's desk; returns how many."""
    wanted = definition.stall_case
    if wanted is None or not public_ids:
        return 0
    service.prefetch(session, public_ids)  # the instances and their states in two queries, not two per case
    has_case = journey_cases(session, public_ids)
    definitions = {definition.key: definition}
    opened = 0
    for public_id in public_ids:
        row = service.find_instance(session, definition, 0, public_id)
        if public_id in has_case or row is None:
            continue
        channel = row.started_channel if row.started_channel in CHANNELS else "web"
        _open(
            session, config, row, definitions, profile_id=row.profile_id, channel=channel, actor=SYSTEM_ACTOR,
            surface=SYSTEM_SURFACE, origin_profile_id=None, assignee=None, queue=wanted.queue,
            priority=wanted.priority, now=now,
        )  # fmt: skip
        opened += 1
    return opened
