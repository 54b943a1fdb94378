"""Re-deriving the graph from the event log: unmerge (a profile's events, with the merge blocked) and rebuild
(every event, after a rule change). Both run the events through the same pipeline as the live worker."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy.orm import Session

from seamline.destinations.service import UNMERGED, publish
from seamline.identity import replay as graph
from seamline.ingestion.service import InboxItem, load_events, processed_events
from seamline.pipeline.registry import Pipeline
from seamline.pipeline.service import process_events
from seamline.profiles.service import event_ids_of, profiles_of_events


@dataclass(frozen=True, slots=True)
class UnmergeResult:
    merge_id: int
    profiles: tuple[int, ...]
    events_replayed: int


def _rederive(session: Session, pipeline: Pipeline, replay: graph.Replay) -> None:
    graph.clear_graph(session, replay)
    for consumer in pipeline.consumers:
        consumer.rederive(session, replay.members)


def _retire(session: Session, pipeline: Pipeline, replay: graph.Replay) -> dict[int, int]:
    """Close the replay; returns where each creating event's profile now is."""
    placed = profiles_of_events(session, list(replay.reuse))
    homes = graph.close_replay(session, replay, placed)
    if homes:
        for consumer in pipeline.consumers:
            consumer.retire(session, homes)
    return placed


def unmerge(session: Session, merge_id: int, pipeline: Pipeline, *, actor: str, reason: str) -> UnmergeResult:
    """Undo a merge exactly: re-derive the merged profile's events with that merge blocked.

    Every fact is derived from events, so replaying the survivor's events — with the pair blocked and each
    profile reusing the id its first event gave it — restores both sides: identifiers, traits with their
    provenance, holdings and timelines. Later merges of the same profiles that did not depend on the undone
    one are re-derived as new merge records; the old ones are marked superseded.
    """
    replay, root = graph.open_unmerge(session, merge_id, actor=actor, reason=reason)
    events = event_ids_of(session, root)
    _rederive(session, pipeline, replay)
    process_events(session, load_events(session, events), pipeline, reuse_profiles=replay.reuse)
    placed = _retire(session, pipeline, replay)
    profiles = tuple(sorted(set(placed.values())))
    # Receivers that were told of the merge hear of its undoing, once per profile it left behind.
    for profile_id in profiles:
        data = {"merge_id": merge_id, "profile_ids": list(profiles)}
        publish(session, UNMERGED, profile_id, data, consent=pipeline.consent)
    return UnmergeResult(merge_id, profiles, len(events))


@dataclass(frozen=True, slots=True)
class RebuildReport:
    events: int
    profiles_before: int
    profiles_after: int
    merges_before: int
    merges_after: int
    events_moved: int
    changed_profiles: int


def rebuild(session: Session, pipeline: Pipeline, *, batch_size: int = 2000) -> RebuildReport:
    """Re-derive the whole graph from the event log, in arrival order, and report what changed.

    Runs inside the caller's transaction: a dry run rolls it back, an apply commits it. Profiles keep their ids
    where their first event still creates them; blocks written by unmerges stay in force.
    """
    before_counts = graph.graph_counts(session)
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
    replay = graph.open_rebuild(session)
    _rederive(session, pipeline, replay)
    for batch in batches:
        process_events(session, batch, pipeline, reuse_profiles=replay.reuse)
    after = profiles_of_events(session, event_ids)
    _retire(session, pipeline, replay)
    after_counts = graph.graph_counts(session)
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
