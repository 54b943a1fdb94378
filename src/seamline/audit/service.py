"""Rules for the audit log: what an entry holds, writing it in the caller's transaction or by group commit, and
reading it back newest first.

A change is audited with `record`, inside the transaction that makes the change, so both commit or neither does.
A read changes nothing, so a high-rate read API audits it with `record_async` through an `AuditWriter`: the entry
is durable before the answer leaves, without a transaction per request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.audit import repository
from seamline.audit.models import AuditEntry
from seamline.audit.repository import AuditRow
from seamline.core.clock import utcnow
from seamline.core.errors import FieldError, InvalidInput
from seamline.core.groupcommit import GroupCommitter
from seamline.core.prepared import DriverTransaction
from seamline.core.principal import Principal
from seamline.core.views import view_of

ACTIONS = ("read", "change")
MAX_ENTRIES = 1000
_SUBJECT_TYPE_LENGTH = 32
_SUBJECT_ID_LENGTH = 200
# The longest a group of read entries waits for the entries expected to follow it (see core.groupcommit): on a quiet
# machine every answer otherwise had a commit of its own, whose fixed cost was most of an audited read's extra CPU.
# 3 ms: at 1,000/s a group waits for the two entries due within it and closes when they came (~2 ms); below 500/s
# (gaps over 3/1.5 ms) nothing waits. Measured quiet, 1M profiles, 1,000/s (benchmarks/readpath.py, docs/benchmarks.md
# "sixth pass"): against 2 ms, 7-10 % less CPU per answer (lookup 351-357 -> 325-335 us) for p99 ~3 -> ~4 ms, under
# the 5 ms goal; with 1 ms the second entry came at the window's very end and half the groups closed without it.
GATHER_SECONDS = 0.003


@dataclass(frozen=True, slots=True)
class AuditEntryView:
    """One audit entry as callers outside the domain see it."""

    id: int
    at: datetime
    actor: str
    actor_kind: str
    surface: str
    action: str
    subject_type: str
    subject_id: str
    detail: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryView:
        """The view of a stored entry."""
        return view_of(cls, entry, detail=dict(entry.detail or {}))


def _insert_batches(transaction: DriverTransaction, batches: list[list[AuditRow]]) -> None:
    repository.insert_rows(transaction, [row for batch in batches for row in batch])


class AuditWriter(GroupCommitter[list[AuditRow], DriverTransaction]):
    """Appends audit entries by group commit: one transaction covers every entry queued while the last one synced.

    An item is a caller's batch of entries (one for `record_async`, a page's worth for `record_many_async`), so a
    batch always commits whole, in one transaction. Every entry is committed before its caller goes on; with
    `flush=False` (settings' `read_audit_fsync`) the commit does not wait for the disk, see `write_transaction`.
    While entries arrive often, a group waits up to `gather` seconds for those expected to follow (a lone entry
    does not wait)."""

    def __init__(
        self, engine: Engine, *, max_items: int = 10_000, flush: bool = True, gather: float = GATHER_SECONDS
    ) -> None:
        super().__init__(
            engine, _insert_batches, name="audit-writer", max_items=max_items, flush=flush, weigh=len, gather=gather
        )


def _row(
    principal: Principal, action: str, subject_type: str, subject_id: str | int, detail: dict[str, Any] | None
) -> AuditRow:
    # Bad arguments here are programming errors in the calling service, never a user's input.
    if action not in ACTIONS:
        raise ValueError(f"audit action must be one of {ACTIONS}, not {action!r}")
    subject = str(subject_id)
    if not subject_type or len(subject_type) > _SUBJECT_TYPE_LENGTH:
        raise ValueError(f"subject_type must have 1-{_SUBJECT_TYPE_LENGTH} characters, not {subject_type!r}")
    if not subject or len(subject) > _SUBJECT_ID_LENGTH:
        raise ValueError(f"subject_id must have 1-{_SUBJECT_ID_LENGTH} characters")
    try:
        # Encoding now catches what the database would refuse (PostgreSQL's JSON has no NaN) before the entry
        # joins a group, where it would fail everyone's commit; the encoded text is what is written, so later
        # changes to `detail` cannot reach it and the writer does not encode it again.
        encoded = json.dumps(detail or {}, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"audit detail is not JSON: {exc}") from exc
    return AuditRow(
        at=utcnow(),
        actor=principal.name,
        actor_kind=principal.kind,
        surface=principal.surface,
        action=action,
        subject_type=subject_type,
        subject_id=subject,
        detail=encoded,
    )


def record(
    session: Session | DriverTransaction,
    principal: Principal,
    action: str,
    subject_type: str,
    subject_id: str | int,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append an audit entry in the caller's transaction (a unit of work's, or a group committer's driver
    transaction): it commits, or rolls back, with the change it records."""
    repository.insert_rows(session, [_row(principal, action, subject_type, subject_id, detail)])


async def record_async(
    writer: AuditWriter,
    principal: Principal,
    action: str,
    subject_type: str,
    subject_id: str | int,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append an audit entry by group commit; returns once it is committed, raises if that commit failed."""
    await writer.submit([_row(principal, action, subject_type, subject_id, detail)])


async def record_many_async(
    writer: AuditWriter,
    principal: Principal,
    action: str,
    subject_type: str,
    subjects: Sequence[tuple[str | int, dict[str, Any] | None]],
) -> None:
    """Append one entry per (subject id, detail) by group commit, all in one transaction: a page that lists many
    people audits each of them at the cost of one queued item and one sync. Returns once they are committed."""
    rows = [_row(principal, action, subject_type, subject_id, detail) for subject_id, detail in subjects]
    if rows:
        await writer.submit(rows)


def entries(
    session: Session,
    *,
    subject_type: str | None = None,
    subject_id: str | int | None = None,
    actor: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AuditEntryView]:
    """Audit entries matching every given filter, newest first; page on with `before_id` = the last id seen."""
    errors: list[FieldError] = []
    if not 1 <= limit <= MAX_ENTRIES:
        errors.append(FieldError("limit", "invalid", f"limit must be between 1 and {MAX_ENTRIES}"))
    if subject_id is not None and subject_type is None:
        errors.append(FieldError("subject_id", "invalid", "a subject id needs its subject type, e.g. profile:123"))
    if errors:
        raise InvalidInput(errors, "the audit log query is not valid")
    rows = repository.find(
        session,
        subject_type=subject_type,
        subject_id=str(subject_id) if subject_id is not None else None,
        actor=actor,
        limit=limit,
        before_id=before_id,
    )
    return [AuditEntryView.of(row) for row in rows]


def scrub_details(
    session: Session,
    subject_type: str,
    subject_ids: Sequence[int | str],
    *,
    is_personal: Callable[[dict[str, Any]], bool],
    replacement: Mapping[str, Any],
) -> int:
    """Erasure: replace the detail of entries about these subjects where it names the person; the entries stay
    (who accessed what, when), so the log still proves what happened. Returns how many were replaced."""
    found = repository.details_of(session, subject_type, [str(s) for s in subject_ids])
    personal = [entry_id for entry_id, detail in found if is_personal(detail)]
    repository.replace_details(session, personal, dict(replacement))
    return len(personal)
