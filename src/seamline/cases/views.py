"""What callers outside the domain see of a case: frozen views with JSON-ready forms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from seamline.cases.models import Case, CaseEntry, CaseHandoff
from seamline.cases.sla import Clock
from seamline.core.clock import isoformat_z
from seamline.core.views import view_of


def _iso(moment: datetime | None) -> str | None:
    return isoformat_z(moment) if moment is not None else None


@dataclass(frozen=True, slots=True)
class EntryView:
    id: int
    kind: str
    channel: str
    direction: str
    author_kind: str
    author_name: str
    body: str
    status: str | None
    detail: dict[str, Any]
    surface: str
    created_at: datetime

    @classmethod
    def of(cls, row: CaseEntry) -> EntryView:
        return view_of(cls, row, detail=dict(row.detail or {}))

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "channel": self.channel,
            "direction": self.direction,
            "author": {"kind": self.author_kind, "name": self.author_name},
            "body": self.body,
            "status": self.status,
            "detail": self.detail,
            "surface": self.surface,
            "created_at": _iso(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class HandoffView:
    version: int
    verified: str
    customer_said: str
    tried: str
    next_step: str
    author: str
    surface: str
    created_at: datetime

    @classmethod
    def of(cls, row: CaseHandoff) -> HandoffView:
        return view_of(cls, row)

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "verified": self.verified,
            "customer_said": self.customer_said,
            "tried": self.tried,
            "next_step": self.next_step,
            "author": self.author,
            "surface": self.surface,
            "created_at": _iso(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class SlaView:
    first_response: Clock
    resolution: Clock

    @property
    def is_overdue(self) -> bool:
        """Whether a clock that still matters has passed its due time."""
        return any(c.is_breached and c.state in ("running", "paused") for c in (self.first_response, self.resolution))

    def as_dict(self) -> dict[str, Any]:
        return {
            "first_response": self.first_response.as_dict(),
            "resolution": self.resolution.as_dict(),
            "is_overdue": self.is_overdue,
        }


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case with its SLA state; `entries` and `handoff` are filled when the whole case was asked for."""

    id: int
    profile_id: int
    origin_profile_id: int
    subject: str
    priority: str
    status: str
    queue: str
    channel: str
    opened_by: str
    assignee: str | None
    opened_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    escalated_at: datetime | None
    escalated_by: str | None
    escalation_reason: str | None
    escalated_from_queue: str | None
    sla: SlaView
    handoff: HandoffView | None = None
    entries: tuple[EntryView, ...] = ()
    journey_instance_id: str | None = None  # the journey the case hands over, and the step it was at
    journey_step: str | None = None

    @classmethod
    def of(
        cls, row: Case, sla: SlaView, handoff: HandoffView | None = None, entries: tuple[EntryView, ...] = ()
    ) -> CaseView:
        return view_of(cls, row, sla=sla, handoff=handoff, entries=entries)

    def as_dict(self, *, with_thread: bool = True) -> dict[str, Any]:
        """JSON-ready form; the handoff comes first, as the next agent should read it."""
        out: dict[str, Any] = {
            "id": self.id,
            "handoff": self.handoff.as_dict() if self.handoff else None,
            "profile_id": self.profile_id,
            "origin_profile_id": self.origin_profile_id,
            "subject": self.subject,
            "priority": self.priority,
            "status": self.status,
            "queue": self.queue,
            "channel": self.channel,
            "opened_by": self.opened_by,
            "assignee": self.assignee,
            "opened_at": _iso(self.opened_at),
            "updated_at": _iso(self.updated_at),
            "first_response_at": _iso(self.first_response_at),
            "resolved_at": _iso(self.resolved_at),
            "closed_at": _iso(self.closed_at),
            "escalation": {
                "at": _iso(self.escalated_at),
                "by": self.escalated_by,
                "reason": self.escalation_reason,
                "from_queue": self.escalated_from_queue,
            }
            if self.escalated_at
            else None,
            "sla": self.sla.as_dict(),
            "journey": {"instance_id": self.journey_instance_id, "step": self.journey_step}
            if self.journey_instance_id
            else None,
        }
        if with_thread:
            out["entries"] = [e.as_dict() for e in self.entries]
        return out
