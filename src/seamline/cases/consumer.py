"""Cases' consumer of resolved events: a case follows its customer's merges, unmerges and replays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from seamline.cases import repository
from seamline.core.pipeline import Consumer, ResolvedBatch


class CasesConsumer(Consumer):
    name = "cases"

    def take(self, session: Session, batch: ResolvedBatch) -> None:
        # Where each case was opened stays; the profile it lives on follows the merge.
        for merge in batch.merges:
            repository.move(session, merge.absorbed, merge.survivor)

    def rederive(self, session: Session, profile_ids: Sequence[int]) -> None:
        repository.restore(session, profile_ids)

    def retire(self, session: Session, homes: Mapping[int, int]) -> None:
        # A profile the replay did not recreate: its cases go where its events went.
        for profile_id, home in homes.items():
            repository.move(session, profile_id, home)
