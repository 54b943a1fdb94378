"""The journey API's save writer: saves planned on a read snapshot are written by group commit (the core's
GroupCommitter, as the inbox and the audit log are), so one transaction and one sync cover every save that queued
meanwhile, and each answer leaves only after its save has committed (nothing acknowledged is lost).

A save is written only if its instance is still as the save read it (same person, status and last activity, not
joined, no entry added to its group since); otherwise nothing of it is written, it is marked stale, and the caller
makes it again the ORM's way, in a unit of work. What else must commit with a save (the caller's audit entry of it)
is written in the same transaction, only when the save is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from seamline.core.groupcommit import GroupCommitter
from seamline.core.prepared import DriverTransaction
from seamline.ingestion.service import append_checked
from seamline.ingestion.wire import Envelope
from seamline.journeys import repository

# As the audit log's read entries: once saves come often, a group waits up to 1 ms for more to share its commit.
GATHER_SECONDS = 0.001


@dataclass(slots=True)
class PlannedSave:
    """One save's writes: its event for the worker, the instance's new progress (with what it was when read), and
    its entries (their event id is the appended event's)."""

    source_id: int
    received_at: datetime
    envelope: Envelope
    progress: dict[str, Any]
    entries: list[dict[str, Any]]
    also: Callable[[DriverTransaction], None] | None = None
    event_id: int = 0  # set when written
    is_stale: bool = field(default=False)  # the instance changed since it was read: nothing was written


def _write(transaction: DriverTransaction, saves: list[PlannedSave]) -> None:
    rows: list[dict[str, Any]] = []
    for save in saves:  # a retry (the group failed) writes them again one by one: each starts afresh
        save.event_id, save.is_stale = 0, False
        if not repository.move_on(transaction, save.progress):
            save.is_stale = True
            continue
        save.event_id = append_checked(transaction, save.source_id, save.received_at, save.envelope)
        rows.extend({**entry, "event_id": save.event_id} for entry in save.entries)
        if save.also is not None:
            save.also(transaction)
    repository.add_entry_rows(transaction, rows)


class SaveWriter(GroupCommitter[PlannedSave, DriverTransaction]):
    """Writes planned journey saves by group commit; `submit` returns once its save is committed (or found stale)."""

    def __init__(self, engine: Engine, *, max_items: int = 1000, gather: float = GATHER_SECONDS) -> None:
        super().__init__(engine, _write, name="journey-saves", max_items=max_items, gather=gather)
