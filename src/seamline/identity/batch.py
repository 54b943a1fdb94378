"""Resolving a batch of events into the identity graph: plan it in memory (reads only), then write the plan.

The worker plans a batch before it takes SQLite's write lock and writes it under the lock, after checking that
the change feed's mark is still the one the plan read (every change of the graph moves it): see
pipeline.service and worker.runner. Every other caller plans and writes in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.core.clock import utcnow
from seamline.core.db import is_postgres
from seamline.core.pipeline import IdentifierAdded, MergeNotice, ResolvedBatch, ResolvedEvent, occurred_at
from seamline.identity import feed, repository
from seamline.identity.graph import WorkingGraph
from seamline.identity.identifiers import Identifier
from seamline.identity.matchevent import is_match, tolerated_values
from seamline.identity.resolution import resolve
from seamline.identity.service import EventInput, Extracted, IdentityContext, note_changes, read_identifiers


@dataclass(slots=True)
class BatchOutcome:
    events: int = 0
    profiles_created: int = 0
    merges: int = 0
    conflicts: int = 0
    assignments: dict[int, int] = field(default_factory=dict)
    erased_events: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Resolved:
    """A batch resolved into the graph: what the consumers take, and the figures of the outcome."""

    batch: ResolvedBatch
    outcome: BatchOutcome


MATCH_RULE = "match"


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """A batch resolved in memory against the graph as it stood at the change feed's `mark`: nothing written yet."""

    events: Sequence[EventInput]
    graph: WorkingGraph
    placed: list[tuple[int, datetime]]  # each event's profile (temporary ids for new ones) and time
    all_identifiers: list[Identifier]
    mark: int  # the feed's mark the graph was read at (0 when it was not read: PostgreSQL, a replay)
    generation: int  # the graph cache's batch, or 0 without it
    is_cached: bool


def plan_batch(
    session: Session,
    events: Sequence[EventInput],
    context: IdentityContext,
    *,
    extracted: Sequence[Extracted] | None = None,
    reuse_profiles: Mapping[int, int] | None = None,
) -> BatchPlan:
    """Resolve events (in the order given) against the identity graph in memory, reading only the batch's part of
    it: profiles, identifier links, conflicts and merges are planned, nothing is written (`write_plan` writes them).

    `extracted` is `read_identifiers(events)` when the caller has it already. `reuse_profiles` maps an event id to
    the profile id it created before; a replay passes it so that re-derived profiles keep their ids."""
    if extracted is None:
        extracted = read_identifiers(events, context)
    all_identifiers = list({i for idents, _ in extracted for i in idents})
    # The batch reads and writes through the session's connection, past the ORM: whatever the caller changed
    # through the ORM must be in the database first.
    session.flush()
    # On SQLite the worker's batches keep what they learnt of the graph (identity.graphcache); a replay does not.
    cache = context.graph_cache if reuse_profiles is None and not is_postgres(session) else None
    mark = feed.last_seq(session) if cache is not None else 0
    generation = cache.begin(mark) if cache is not None else 0
    graph = WorkingGraph.load(session, all_identifiers, context.rules, reuse_profiles, cache)

    placed: list[tuple[int, datetime]] = []
    for event, (idents, refused) in zip(events, extracted, strict=True):
        at = occurred_at(event.payload, event.received_at)
        resolution = resolve(
            idents, graph, context.rules, context.limits, tolerated_values(event.payload, context.rules)
        )
        profile_id = graph.apply(resolution, event.id, event.source_id, at)
        for refusal in refused:
            graph.refuse(event.id, profile_id, refusal.type, refusal.raw, refusal.reason, at)
        placed.append((profile_id, at))
    return BatchPlan(events, graph, placed, all_identifiers, mark, generation, cache is not None)


def write_plan(session: Session, plan: BatchPlan, context: IdentityContext) -> Resolved:
    """Write a planned batch into the graph, in the caller's transaction (the one that planned it, or a later one
    in which `is_plan_current`). Identity writes only its own tables; the resolved batch it returns is what the
    pipeline hands its consumers."""
    events, graph, placed, all_identifiers = plan.events, plan.graph, plan.placed, plan.all_identifiers
    outcome = BatchOutcome(events=len(events))
    now = utcnow()
    real_ids = _create_profiles(session, graph, now)
    # A profile born in this batch and merged in it never had rows of its own: write them to where it went.
    born_and_merged = {m.absorbed: m.survivor for m in graph.merges if m.absorbed < 0}

    def real(pid: int) -> int:
        while pid in born_and_merged:
            pid = born_and_merged[pid]
        return real_ids.get(pid, pid)

    links: dict[tuple[str, str, int], dict[str, Any]] = {}
    for row in graph.links:
        relabeled = {**row, "profile_id": real(row["profile_id"])}
        links.setdefault((row["value"], row["type"], relabeled["profile_id"]), relabeled)
    repository.add_links(session, list(links.values()))
    repository.touch_links(
        session,
        [{"type": t, "value": v, "profile_id": real(p), "last_seen_at": at} for (t, v, p), at in graph.touches.items()],
    )
    repository.add_conflicts(
        session,
        [
            {
                **row,
                "profile_id": real(row["profile_id"]),
                "other_profile_id": real(row["other_profile_id"]) if row["other_profile_id"] is not None else None,
            }
            for row in graph.conflicts
        ],
    )
    # An accepted match (record matching) travels as an event with context.match: its merges say so.
    matches = {e.id for e in events if is_match(e.payload)}
    notices: list[MergeNotice] = []
    for merge in graph.merges:
        survivor, absorbed = real_ids.get(merge.survivor, merge.survivor), real_ids.get(merge.absorbed, merge.absorbed)
        is_new = merge.absorbed < 0
        repository.merge_profiles(
            session,
            survivor,
            absorbed,
            {
                "profile_id": survivor,
                "merged_profile_id": absorbed,
                "event_id": merge.event_id,
                "identifier_type": merge.identifier.type if merge.identifier else None,
                "identifier_value": merge.identifier.value if merge.identifier else None,
                "rule": MATCH_RULE if merge.event_id in matches else merge.rule,
                "created_at": merge.at,
            },
            now,
            move_links=not is_new,
        )
        notices.append(MergeNotice(survivor, absorbed, merge.event_id, is_new))
    resolved = [
        ResolvedEvent(e.id, e.source_id, e.payload, e.received_at, at, real_ids.get(pid, pid))
        for e, (pid, at) in zip(events, placed, strict=True)
    ]
    final = _final_profiles(graph, lambda pid: real_ids.get(pid, pid))
    homes = [real(pid) for pid, _at in placed]
    outcome.assignments = {e.id: final.get(home, home) for e, home in zip(events, homes, strict=True)}
    merged = [real_ids.get(pid, pid) for m in graph.merges for pid in (m.survivor, m.absorbed)]
    note_changes(session, "events", [*outcome.assignments.values(), *merged])
    if plan.is_cached:
        context.graph_cache.stage(
            plan.generation, feed.last_seq(session), *graph.final_state(all_identifiers, real_ids), graph.loaded_blocks
        )
    outcome.profiles_created = len(graph.new_profiles)
    outcome.merges = len(graph.merges)
    outcome.conflicts = len(graph.conflicts)
    added = [
        IdentifierAdded(
            final.get(row["profile_id"], row["profile_id"]), row["type"], row["value"], row["first_event_id"]
        )
        for row in links.values()
    ]
    return Resolved(ResolvedBatch(resolved, notices, identifiers_added=added), outcome)


def _create_profiles(session: Session, graph: WorkingGraph, now: datetime) -> dict[int, int]:
    """Insert the batch's new profiles (and reactivate replayed ones); maps temporary ids to real ones."""
    real_ids: dict[int, int] = {}
    fresh: list[tuple[int, dict[str, Any]]] = []
    for profile_id, event_id, _at in graph.new_profiles:
        if profile_id > 0:
            repository.reactivate(session, profile_id, now)
        else:
            fresh.append(
                (profile_id, {"created_at": now, "updated_at": now, "created_by_event_id": event_id, "merge_count": 0})
            )
    for (temp, _row), new_id in zip(fresh, repository.create_profiles(session, [r for _, r in fresh]), strict=True):
        real_ids[temp] = new_id
    return real_ids


def _final_profiles(graph: WorkingGraph, real: Any) -> dict[int, int]:
    """Where each profile of the batch ended up after the batch's merges."""
    forward: dict[int, int] = {}
    for merge in graph.merges:
        forward[real(merge.absorbed)] = real(merge.survivor)
    out: dict[int, int] = {}
    for pid in forward:
        target = pid
        while target in forward:
            target = forward[target]
        out[pid] = target
    return out


def is_plan_current(session: Session, plan: BatchPlan) -> bool:
    """Whether a plan made in an earlier transaction may be written in this one (SQLite, under the write lock): it
    was read through the graph cache and the change feed's mark has not moved since, so nothing changed the graph."""
    return plan.is_cached and feed.last_seq(session) == plan.mark
