"""Bulk import of other platforms' send logs into the communications log: all rows or none, problems by row.

Columns: `communication_id`, `customer` (an identifier such as `email:ada@example.com`), `type`, `platform`,
`channel` (required); `template`, `template_version`, `batch`, `campaign`, `source_system`, `address`, `subject`,
`sent_at` (ISO 8601), `outcome` (default `sent`; any outcome of the log). A communication already in the log is
not added again, so a log imported twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from seamline.communications import repository
from seamline.communications.service import (
    OUTCOMES,
    SENT,
    ExternalCommunication,
    Happened,
    log_external,
    record_outcomes,
)
from seamline.core.errors import FieldError, InvalidInput, NotFound
from seamline.identity.service import IdentityContext, find_profile

REQUIRED = ("communication_id", "customer", "type", "platform", "channel")


@dataclass(frozen=True, slots=True)
class SendLogReport:
    rows: int
    added: int  # communications new to the log
    known: int  # already there: left as they are


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def import_send_log(session: Session, rows: Sequence[Mapping[str, str]], identity: IdentityContext) -> SendLogReport:
    """Add every row's communication to the log, or none: raises InvalidInput naming each bad row and column."""
    errors: list[FieldError] = []
    items: list[tuple[ExternalCommunication, str]] = []
    for index, row in enumerate(rows):
        value = {k: (v or "").strip() for k, v in row.items() if k}
        missing = [c for c in REQUIRED if not value.get(c)]
        errors.extend(FieldError(c, "required", f"{c} is required", index) for c in missing)
        if missing:
            continue
        outcome = value.get("outcome") or SENT
        if outcome not in OUTCOMES:
            errors.append(FieldError("outcome", "invalid", f"one of {', '.join(OUTCOMES)}", index))
            continue
        try:
            sent_at = _moment(value["sent_at"]) if value.get("sent_at") else None
        except ValueError:
            errors.append(FieldError("sent_at", "invalid", "an ISO 8601 time", index))
            continue
        try:
            profile_id = find_profile(session, value["customer"], identity).profile_id
        except (ValueError, NotFound) as exc:
            errors.append(FieldError("customer", "unknown", str(exc) or "nobody holds this identifier", index))
            continue
        item = ExternalCommunication(
            communication_id=value["communication_id"][:100],
            profile_id=profile_id,
            type=value["type"][:32],
            channel=value["channel"][:32],
            platform=value["platform"][:100],
            template=value.get("template") or None,
            template_version=value.get("template_version") or None,
            batch=value.get("batch") or None,
            campaign=value.get("campaign") or None,
            source_system=value.get("source_system") or None,
            address=value.get("address") or None,
            subject=value.get("subject") or None,
            occurred_at=sent_at,
        )
        items.append((item, outcome))
    if errors:
        raise InvalidInput(errors, "the send log is not valid: nothing was imported")
    known = repository.by_public_ids(session, [i.communication_id for i, _ in items])
    fresh = [(i, o) for i, o in items if i.communication_id not in known]
    added = log_external(session, [i for i, _ in fresh])
    record_outcomes(
        session, [Happened(i.communication_id, o, None, "import", i.address, i.occurred_at) for i, o in fresh]
    )
    return SendLogReport(len(rows), added, len(items) - len(fresh))
