"""Triggers' consumer of resolved events: the rules are evaluated on each batch (never a replay's), and a person's
tasks, counted events and waiting steps follow their merges, unmerges and replays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from seamline.core.pipeline import Consumer, ResolvedBatch
from seamline.tasks.service import follow_merge as move_tasks
from seamline.tasks.service import restore_origins
from seamline.triggers.service import TriggerEngine, follow_merge


class TriggersConsumer(Consumer):
    name = "triggers"

    def __init__(self, engine: TriggerEngine | None) -> None:
        self.engine = engine  # None: no rules configured (tasks still follow merges)

    def take(self, session: Session, batch: ResolvedBatch) -> None:
        touched: set[int] = set()
        if self.engine is not None:
            self.engine.take(session, batch)
            touched = self.engine.touched
        # Whether or not this pipeline evaluates rules (corrections and matching run one that does not), a person's
        # tasks, counted events and waiting steps follow the batch's merges. A profile born in this batch holds none
        # unless the rules just wrote some (most merges are of such profiles: a visitor who signs in).
        for merge in batch.merges:
            if merge.absorbed_is_new and merge.absorbed not in touched:
                continue
            move_tasks(session, merge.absorbed, merge.survivor)
            follow_merge(session, merge.absorbed, merge.survivor)

    def rederive(self, session: Session, profile_ids: Sequence[int]) -> None:
        restore_origins(session, profile_ids)

    def retire(self, session: Session, homes: Mapping[int, int]) -> None:
        for profile_id, home in homes.items():
            move_tasks(session, profile_id, home)
            follow_merge(session, profile_id, home)

    def run_due(self, session: Session, now: datetime) -> int:
        """The waiting steps due by `now` (the worker calls this between batches); how many were taken."""
        return self.engine.run_due(session, now) if self.engine is not None else 0
