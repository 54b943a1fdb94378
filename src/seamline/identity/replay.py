"""Re-deriving the graph from the event log: unmerge (a profile's events, with the merge blocked) and rebuild
(every event, after a rule change). Both run the same resolver as the live worker."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from seamline.cases.service import move_cases, restore_cases
from seamline.consent.service import restore_choices
from seamline.core.clock import utcnow
from seamline.core.errors import Conflict, NotFound
from seamline.identity import repository
from seamline.identity.service import EventInput, IdentityContext, note_changes, resolve_events, root_of
from seamline.ingestion.service import InboxItem, load_events, processed_events
from seamline.profiles.service import event_ids_of, profiles_of_events, wipe_facts


@dataclass(frozen=True, slots=True)
class UnmergeResult:
    merge_id: int
    profiles: tuple[int, ...]
    events_replayed: int


def _inputs(items: Sequence[InboxItem]) -> list[EventInput]:
    return [EventInput(i.id, i.source_id, i.payload, i.received_at) for i in items]


def unmerge(session: Session, merge_id: int, context: IdentityContext, *, actor: str, reason: str) -> UnmergeResult:
    """Undo a merge exactly: re-derive the merged profile's events with that merge blocked.

    Every fact is derived from events, so replaying the survivor's events — with the pair blocked and each
    profile reusing the id its first event gave it — restores both sides: identifiers, traits with their
    provenance, holdings and timelines. Later merges of the same profiles that did not depend on the undone
    one are re-derived as new merge records; the old ones are marked superseded.
    """
    merge = repository.get_merge(session, merge_id, lock=True)
    if merge is None:
        raise NotFound(f"no merge {merge_id}")
    if merge.undone_at is not None:
        raise Conflict(f"merge {merge_id} was already undone")
    now = utcnow()
    root = root_of(session, merge.profile_id)
    members = [root, *repository.absorbed_into(session, root)]
    rows = repository.profile_rows(session, members, lock=repository.is_postgres(session))
    reuse = {row.created_by_event_id: row.id for row in rows if row.created_by_event_id is not None}

    merge.undone_at, merge.undone_by, merge.undo_reason = now, actor[:200], reason[:500]
    repository.add_block(session, merge.profile_id, merge.merged_profile_id, merge.id, now)
    repository.supersede_merges(session, members, now, f"re-derived after unmerge of #{merge_id}")

    events = event_ids_of(session, root)
    repository.wipe_graph(session, members)
    wipe_facts(session, members)
    restore_choices(session, members)
    restore_cases(session, members)
    repository.detach_members(session, members, now)
    resolve_events(session, _inputs(load_events(session, events)), context, reuse_profiles=reuse)
    placed = profiles_of_events(session, [row.created_by_event_id for row in rows if row.created_by_event_id])
    homes = {row.id: placed.get(row.created_by_event_id or -1) for row in rows}
    repository.retire_unused(session, homes, now)
    for profile_id, home in homes.items():
        if home is not None and home != profile_id:
            move_cases(session, profile_id, home)  # a profile the replay did not recreate: its cases go where it went
    active = tuple(sorted({pid for pid in placed.values()}))
    note_changes(session, "unmerge", members)  # the replay named where events went; this names who was split
    return UnmergeResult(merge_id, active, len(events))


@dataclass(frozen=True, slots=True)
class RebuildReport:
    events: int
    profiles_before: int
    profiles_after: int
    merges_before: int
    merges_after: int
    events_moved: int
    changed_profiles: int


def rebuild(session: Session, context: IdentityContext, *, batch_size: int = 2000) -> RebuildReport:
    """Re-derive the whole graph from the event log, in arrival order, and report what changed.

    Runs inside the caller's transaction: a dry run rolls it back, an apply commits it. Profiles keep their ids
    where their first event still creates them; blocks written by unmerges stay in force.
    """
    before_counts = repository.counts(session)
    before: dict[int, int] = {}
    after_id = 0
    batches: list[list[InboxItem]] = []
    while True:
        items = processed_events(session, after_id=after_id, limit=batch_size)
        if not items:
            break
        batches.append(items)
        after_id = items[-1].id
    event_ids = [i.id for batch in batches for i in batch]
    before = profiles_of_events(session, event_ids)
    reuse = repository.creators(session)
    everyone = repository.all_profile_ids(session)
    now = utcnow()
    repository.supersede_merges(session, everyone, now, "re-derived by identity rebuild")
    repository.wipe_graph(session, everyone)
    wipe_facts(session, everyone)
    restore_choices(session, everyone)
    restore_cases(session, everyone)
    repository.detach_members(session, everyone, now)
    for batch in batches:
        resolve_events(session, _inputs(batch), context, reuse_profiles=reuse)
    after = profiles_of_events(session, event_ids)
    placed = profiles_of_events(session, list(reuse))
    repository.retire_unused(session, {pid: placed.get(event_id) for event_id, pid in reuse.items()}, now)
    note_changes(session, "rebuild", [])  # every profile may have changed: views reload everything
    after_counts = repository.counts(session)
    moved, changed = _compare(before, after)
    return RebuildReport(
        events=len(event_ids),
        profiles_before=before_counts["profiles"],
        profiles_after=after_counts["profiles"],
        merges_before=before_counts["merges"],
        merges_after=after_counts["merges"],
        events_moved=moved,
        changed_profiles=changed,
    )


def _compare(before: dict[int, int], after: dict[int, int]) -> tuple[int, int]:
    """Events whose company changed, and profiles whose event set changed (ids may differ; sets are compared)."""

    def clusters(assignment: dict[int, int]) -> dict[int, frozenset[int]]:
        groups: dict[int, set[int]] = {}
        for event_id, pid in assignment.items():
            groups.setdefault(pid, set()).add(event_id)
        return {pid: frozenset(events) for pid, events in groups.items()}

    old, new = clusters(before), clusters(after)
    old_sets = Counter(old.values())
    new_sets = Counter(new.values())
    changed = sum((new_sets - old_sets).values())
    event_cluster_before = {e: old[p] for e, p in before.items()}
    moved = sum(1 for e, p in after.items() if new[p] != event_cluster_before.get(e))
    return moved, changed
