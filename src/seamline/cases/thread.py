"""Steps every change of a case shares: checking who acts, loading the case locked, appending to its thread,
and keeping its SLA due times current. The services in service.py and workflow.py are made of these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.cases import repository
from seamline.cases.config import CasesConfig
from seamline.cases.lifecycle import (
    AUTHOR_KINDS,
    CHANNELS,
    DIRECTIONS,
    choice_error,
)
from seamline.cases.models import Case, CaseEntry
from seamline.cases.sla import clock, running_periods
from seamline.cases.views import SlaView
from seamline.core.errors import Conflict, FieldError, InvalidInput, NotFound
from seamline.core.principal import SURFACES

MAX_BODY = 20_000
MAX_NAME = 200
MAX_SUBJECT = 300


class TransitionRefused(Conflict):
    """A change the case's status does not allow; `errors` names the field, as invalid input does."""

    def __init__(self, error: FieldError) -> None:
        super().__init__(error.message)
        self.errors = [error]


@dataclass(frozen=True, slots=True)
class EntryInput:
    """A message or note to add to a case's thread."""

    channel: str
    direction: str
    body: str
    author_kind: str
    author_name: str
    detail: dict[str, Any] = field(default_factory=dict)

    def errors(self, prefix: str = "") -> list[FieldError]:
        """What is wrong with this entry, each naming its field (under `prefix`)."""
        found = [
            choice_error(f"{prefix}channel", self.channel, CHANNELS),
            choice_error(f"{prefix}direction", self.direction, DIRECTIONS),
            choice_error(f"{prefix}author.kind", self.author_kind, AUTHOR_KINDS),
        ]
        errors = [e for e in found if e is not None]
        if not self.body.strip():
            errors.append(FieldError(f"{prefix}body", "required", "the body is empty"))
        elif len(self.body) > MAX_BODY:
            errors.append(FieldError(f"{prefix}body", "too_long", f"at most {MAX_BODY} characters"))
        if not self.author_name.strip() or len(self.author_name) > MAX_NAME:
            errors.append(FieldError(f"{prefix}author.name", "invalid", f"1-{MAX_NAME} characters"))
        if not errors:
            # Who may speak in which direction: customers write in, agents and the system write out or note.
            if self.direction == "inbound" and self.author_kind != "customer":
                errors.append(FieldError(f"{prefix}author.kind", "invalid", "an inbound message is the customer's"))
            if self.direction != "inbound" and self.author_kind == "customer":
                errors.append(FieldError(f"{prefix}direction", "invalid", "a customer's message is inbound"))
        return errors

    @property
    def kind(self) -> str:
        return "note" if self.direction == "internal" else "message"


def check_actor(actor: str, surface: str) -> None:
    """Programming errors of a calling edge, not a user's input."""
    if not actor or len(actor) > MAX_NAME:
        raise ValueError(f"actor must have 1-{MAX_NAME} characters")
    if surface not in SURFACES:
        raise ValueError(f"surface must be one of {SURFACES}, not {surface!r}")


def text_error(field: str, value: str | None, limit: int, *, is_required: bool = True) -> FieldError | None:
    """Why a free text is not acceptable, or None."""
    if value is None or not value.strip():
        return FieldError(field, "required", f"{field} is required") if is_required else None
    if len(value) > limit:
        return FieldError(field, "too_long", f"{field} has at most {limit} characters")
    return None


def name_error(field: str, value: str) -> FieldError | None:
    """Why a console user name (an assignee) is not acceptable, or None."""
    if not value.strip() or len(value) > MAX_NAME or value != value.strip():
        return FieldError(field, "invalid", f"an agent's user name: 1-{MAX_NAME} characters")
    return None


def raise_if(errors: list[FieldError | None], message: str) -> None:
    found = [e for e in errors if e is not None]
    if found:
        raise InvalidInput(found, message)


def locked(session: Session, case_id: int) -> Case:
    """The case, locked for update (PostgreSQL) until the transaction ends; NotFound when there is none."""
    case = repository.get(session, case_id, lock=True)
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case


def append(
    session: Session,
    case: Case,
    *,
    kind: str,
    channel: str,
    direction: str,
    author_kind: str,
    author_name: str,
    body: str,
    surface: str,
    now: datetime,
    status: str | None = None,
    detail: dict[str, Any] | None = None,
) -> CaseEntry:
    """Add an entry to the case's thread; `status` when the case entered a status with it."""
    case.updated_at = now
    entry: CaseEntry = repository.add(
        session,
        CaseEntry(
            case_id=case.id,
            kind=kind,
            channel=channel,
            direction=direction,
            author_kind=author_kind,
            author_name=author_name[:MAX_NAME],
            body=body,
            status=status,
            detail=detail or {},
            surface=surface,
            created_at=now,
        ),
    )
    return entry


def record_event(
    session: Session,
    case: Case,
    body: str,
    *,
    actor: str,
    surface: str,
    now: datetime,
    status: str | None = None,
    detail: dict[str, Any] | None = None,
    author_kind: str = "agent",
) -> CaseEntry:
    """Record on the thread that something happened to the case, and who did it."""
    return append(
        session,
        case,
        kind="event",
        channel=surface,  # a change comes in through a surface, not a customer channel
        direction="internal",
        author_kind=author_kind,
        author_name=actor,
        body=body,
        surface=surface,
        now=now,
        status=status,
        detail=detail,
    )


def sla_of(session: Session, config: CasesConfig, case: Case, now: datetime) -> SlaView:
    """Both clocks of a case at `now`."""
    first_target, resolution_target = config.sla_targets()[case.priority]
    periods = running_periods(repository.timeline_of(session, case.id))
    is_paused = case.status == "pending-customer"
    resolved = case.resolved_at if case.status in ("resolved", "closed") else None
    return SlaView(
        first_response=clock(first_target, periods, now, met_at=case.first_response_at, is_paused=is_paused),
        resolution=clock(resolution_target, periods, now, met_at=resolved, is_paused=is_paused),
    )


def refresh_due(session: Session, config: CasesConfig, case: Case, now: datetime) -> SlaView:
    """Recompute the clocks after a change and keep their due times on the row, for the overdue filter."""
    session.flush()
    sla = sla_of(session, config, case, now)
    case.first_response_due_at = sla.first_response.due_at
    case.resolution_due_at = sla.resolution.due_at
    return sla
