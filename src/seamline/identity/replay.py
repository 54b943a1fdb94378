"""The graph's side of a replay (unmerge, rebuild): what is re-derived, clearing it, and retiring what the replay
did not recreate. The pipeline (seamline.pipeline.replay) runs the events again between these steps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from seamline.core.clock import utcnow
from seamline.core.db import is_postgres
from seamline.core.errors import Conflict, NotFound
from seamline.identity import replay_rows, repository
from seamline.identity.service import note_changes, root_of


@dataclass(frozen=True, slots=True)
class Replay:
    """Profiles about to be re-derived from their events, and the profile each creating event made before."""

    members: list[int]
    reuse: dict[int, int]  # creating event id -> the profile id it keeps
    now: datetime


def open_unmerge(session: Session, merge_id: int, *, actor: str, reason: str) -> tuple[Replay, int]:
    """Mark a merge undone and block the pair; returns the replay of its person's profiles and their root."""
    merge = repository.get_merge(session, merge_id, lock=True)
    if merge is None:
        raise NotFound(f"no merge {merge_id}")
    if merge.undone_at is not None:
        raise Conflict(f"merge {merge_id} was already undone")
    now = utcnow()
    root = root_of(session, merge.profile_id)
    members = [root, *repository.absorbed_into(session, root)]
    rows = repository.profile_rows(session, members, lock=is_postgres(session))
    reuse = {row.created_by_event_id: row.id for row in rows if row.created_by_event_id is not None}

    merge.undone_at, merge.undone_by, merge.undo_reason = now, actor[:200], reason[:500]
    repository.add_block(session, merge.profile_id, merge.merged_profile_id, merge.id, now)
    repository.supersede_merges(session, members, now, f"re-derived after unmerge of #{merge_id}")
    note_changes(session, "unmerge", members)  # the replay names where events went; this names who was split
    return Replay(members, reuse, now), root


def open_rebuild(session: Session) -> Replay:
    """Supersede every merge: the whole graph is about to be re-derived (blocks written by unmerges stay)."""
    reuse = replay_rows.creators(session)
    everyone = replay_rows.all_profile_ids(session)
    now = utcnow()
    repository.supersede_merges(session, everyone, now, "re-derived by identity rebuild")
    note_changes(session, "rebuild", [])  # every profile may have changed: views reload everything
    return Replay(everyone, reuse, now)


def clear_graph(session: Session, replay: Replay) -> None:
    """Drop the members' identifiers and conflicts and make them inactive placeholders the replay may reuse."""
    replay_rows.wipe_graph(session, replay.members)
    replay_rows.detach_members(session, replay.members, replay.now)


def close_replay(session: Session, replay: Replay, placed: Mapping[int, int]) -> dict[int, int]:
    """Point each profile the replay did not recreate at the profile its first event went to (`placed`: event id
    -> profile id after the replay); returns those profiles and their homes."""
    homes = {
        pid: placed[event_id]
        for event_id, pid in replay.reuse.items()
        if event_id in placed and placed[event_id] != pid
    }
    replay_rows.retire_unused(session, dict(homes), replay.now)
    return homes


def graph_counts(session: Session) -> dict[str, int]:
    """Active profiles, identifiers, live merges and conflicts in the graph."""
    return repository.counts(session)
