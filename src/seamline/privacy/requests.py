"""Data-subject requests as records: what one is, one by id, the list. Apart from the service, which exports and
erases through every domain that holds personal data (and so imports them all): `seamline privacy list` and the
API's listing read requests without loading those domains."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.core.clock import isoformat_z
from seamline.core.errors import FieldError, InvalidInput, NotFound
from seamline.core.views import view_of
from seamline.privacy import repository
from seamline.privacy.models import PrivacyRequest

STATUSES = ("open", "done", "refused")


@dataclass(frozen=True, slots=True)
class RequestView:
    """A data-subject request as callers outside the domain see it."""

    id: int
    kind: str
    profile_id: int
    status: str
    requested_by: str
    created_at: datetime
    due_at: datetime
    completed_at: datetime | None
    result: dict[str, Any]

    @classmethod
    def of(cls, row: PrivacyRequest) -> RequestView:
        """The view of a stored request."""
        return view_of(cls, row, result=dict(row.result or {}))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, for the API and the CLI."""
        return {
            "id": self.id,
            "kind": self.kind,
            "profile_id": self.profile_id,
            "status": self.status,
            "requested_by": self.requested_by,
            "created_at": isoformat_z(self.created_at),
            "due_at": isoformat_z(self.due_at),
            "completed_at": isoformat_z(self.completed_at) if self.completed_at is not None else None,
            "result": self.result,
        }


def get_request(session: Session, request_id: int) -> RequestView:
    """One request; NotFound when there is none."""
    return RequestView.of(stored_request(session, request_id))


def list_requests(session: Session, *, status: str | None = None, limit: int = 100) -> list[RequestView]:
    """Requests newest first, optionally of one status."""
    if status is not None and status not in STATUSES:
        raise InvalidInput([FieldError("status", "invalid", f"status must be one of {', '.join(STATUSES)}")])
    return [RequestView.of(r) for r in repository.list_requests(session, status=status, limit=limit)]


def stored_request(session: Session, request_id: int, *, lock: bool = False) -> PrivacyRequest:
    """A request's row (locked for an update when `lock`); NotFound when there is none."""
    row = repository.get_request(session, request_id, lock=lock)
    if row is None:
        raise NotFound(f"no privacy request {request_id}")
    return row
