"""The working graph of one batch: the part of the identity graph a batch touches, loaded once, changed in
memory event by event, and written back in bulk.

Writing back keeps the order that matters: profiles are created first, then every row is written under the
profile its event was resolved to at that moment, and then merges are applied in the order they happened,
each moving the absorbed profile's rows to the survivor. That is equivalent to applying each event in turn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.core.db import is_postgres
from seamline.identity import repository
from seamline.identity.graphcache import NO_HOLDER, GraphCache
from seamline.identity.identifiers import Identifier
from seamline.identity.locking import lock_identifiers
from seamline.identity.resolution import ProfileShape, Resolution
from seamline.identity.rules import IdentifierRule


class StaleGraph(Exception):
    """A profile this batch loaded was merged by another worker meanwhile; the batch must be retried."""


@dataclass(slots=True)
class _PendingMerge:
    survivor: int
    absorbed: int
    event_id: int
    identifier: Identifier | None
    rule: str
    at: datetime


@dataclass(slots=True)
class WorkingGraph:
    """Implements resolution's GraphView over a batch's slice of the graph, and records what changes."""

    rules: Mapping[str, IdentifierRule]
    reuse: Mapping[int, int] = field(default_factory=dict)
    blocks: set[tuple[int, int]] = field(default_factory=set)
    loaded_blocks: set[tuple[int, int]] = field(default_factory=set)  # as the database holds them (no relabeling)
    # Identifiers whose holders came from a cache, and those whose holders the batch changed: a cache needs back
    # only what it did not lend or what changed.
    lent: set[Identifier] = field(default_factory=set)
    changed: set[Identifier] = field(default_factory=set)
    _holders: dict[Identifier, list[int]] = field(default_factory=dict)
    _shapes: dict[int, ProfileShape] = field(default_factory=dict)
    _next_temp: int = -1
    # (id, event id, at): a negative id is a profile to create; a positive one a replayed profile to reactivate.
    new_profiles: list[tuple[int, int, datetime]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    touches: dict[tuple[str, str, int], datetime] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    merges: list[_PendingMerge] = field(default_factory=list)

    @classmethod
    def load(
        cls,
        session: Session,
        identifiers: Sequence[Identifier],
        rules: Mapping[str, IdentifierRule],
        reuse: Mapping[int, int] | None = None,
        cache: GraphCache | None = None,
    ) -> WorkingGraph:
        """Load the holders of these identifiers and the shapes of their profiles (locking them on PostgreSQL).

        `reuse` maps an event id to the id of the profile it created before a replay wiped it. `cache`, when the
        caller began a batch on it, gives what the worker's earlier batches left; only the rest is read.
        """
        graph = cls(rules, reuse or {})
        postgres = is_postgres(session)
        if postgres:
            lock_identifiers(session, identifiers)
        lent = cache.lend(identifiers) if cache is not None else None
        if lent is not None and lent.holders:
            for ident, holder in lent.holders.items():
                if holder != NO_HOLDER:
                    graph._holders[ident] = [holder]
            graph.lent = set(lent.holders)
            identifiers = [i for i in identifiers if i not in lent.holders]
        found = repository.holders(session, identifiers)
        for ident, holders in found.items():
            # Most identifiers have one holder: nothing to order (sorting each cost ~2% of the worker's CPU).
            ordered = holders if len(holders) == 1 else sorted(holders, key=lambda h: (h[1], h[0]), reverse=True)
            graph._holders[ident] = [pid for pid, _seen in ordered]
        lent_shapes = lent.shapes if lent is not None else {}
        profile_ids = sorted({pid for holders in graph._holders.values() for pid in holders} - lent_shapes.keys())
        states = repository.profile_states(session, profile_ids, lock=postgres)
        if any(merged_into is not None for _pid, merged_into, _count in states) or len(states) != len(profile_ids):
            raise StaleGraph("a loaded profile was merged meanwhile")
        graph._shapes.update(lent_shapes)
        for pid, _merged_into, merge_count in states:
            graph._shapes[pid] = ProfileShape(pid, {}, merge_count)
        for pid, pairs in repository.identifiers_of(session, profile_ids).items():
            shape = graph._shapes[pid]
            for type_, value in pairs:
                shape.identifiers.setdefault(type_, set()).add(value)
        graph.loaded_blocks = repository.blocks_among(session, [*profile_ids, *graph.reuse.values()])
        graph.blocks = graph.loaded_blocks | lent.blocks if lent is not None else set(graph.loaded_blocks)
        return graph

    def final_state(
        self, identifiers: Sequence[Identifier], real: Mapping[int, int]
    ) -> tuple[dict[Identifier, list[int]], dict[int, ProfileShape], dict[int, int]]:
        """After the batch, under real profile ids: the holders of these identifiers, the shapes of the live
        profiles the batch knew, and the profiles its merges absorbed with the survivor each ended in (what a
        GraphCache keeps)."""
        lent, changed = self.lent, self.changed
        holders = {
            i: [real.get(pid, pid) for pid in self._holders.get(i, ())]
            for i in identifiers
            if i not in lent or i in changed
        }
        shapes: dict[int, ProfileShape] = {}
        for pid, shape in self._shapes.items():
            shape.id = real.get(pid, pid)
            shapes[shape.id] = shape
        forward = {real.get(m.absorbed, m.absorbed): real.get(m.survivor, m.survivor) for m in self.merges}
        gone: dict[int, int] = {}
        for absorbed, survivor in forward.items():
            while survivor in forward:
                survivor = forward[survivor]
            gone[absorbed] = survivor
        return holders, shapes, gone

    # --- GraphView -------------------------------------------------------------------------------------------
    def holders(self, identifier: Identifier) -> Sequence[int]:
        return self._holders.get(identifier, ())

    def shape(self, profile_id: int) -> ProfileShape:
        return self._shapes[profile_id]

    def is_blocked(self, a: int, b: int) -> bool:
        return (min(a, b), max(a, b)) in self.blocks

    # --- changes ---------------------------------------------------------------------------------------------
    def new_profile(self, event_id: int, at: datetime) -> int:
        profile_id = self.reuse.get(event_id)
        if profile_id is None:
            profile_id = self._next_temp
            self._next_temp -= 1
        self._shapes[profile_id] = ProfileShape(profile_id)
        self.new_profiles.append((profile_id, event_id, at))
        return profile_id

    def apply(self, resolution: Resolution, event_id: int, source_id: int, at: datetime) -> int:
        """Apply one event's resolution; returns the profile the event now belongs to."""
        target = resolution.profile_id if resolution.profile_id is not None else self.new_profile(event_id, at)
        for absorbed, ident, rule in resolution.merges:
            self._merge(target, absorbed, event_id, ident, rule, at)
        shape = self._shapes[target]
        for ident in resolution.attach:
            holders = self._holders.setdefault(ident, [])
            if target not in holders:
                holders.insert(0, target)
                self.changed.add(ident)
                shape.identifiers.setdefault(ident.type, set()).add(ident.value)
                self.links.append(
                    {
                        "profile_id": target,
                        "type": ident.type,
                        "value": ident.value,
                        "source_id": source_id,
                        "first_event_id": event_id,
                        "first_seen_at": at,
                        "last_seen_at": at,
                    }
                )
        for ident in resolution.touch:
            users = self._holders.get(ident)
            if users and len(users) > 1 and users[0] != target and target in users:
                # Who used a shared device last decides where its anonymous events go.
                users.remove(target)
                users.insert(0, target)
                self.changed.add(ident)
                self.touches[(ident.type, ident.value, target)] = at
        for conflict in resolution.conflicts:
            self.conflicts.append(
                {
                    "event_id": event_id,
                    "profile_id": target,
                    "other_profile_id": conflict.other_profile,
                    "identifier_type": conflict.identifier.type,
                    "identifier_value": conflict.identifier.value,
                    "reason": conflict.reason,
                    "created_at": at,
                }
            )
        for ident in resolution.shared_devices:
            self.conflicts.append(
                {
                    "event_id": event_id,
                    "profile_id": target,
                    "other_profile_id": next((h for h in self._holders.get(ident, ()) if h != target), None),
                    "identifier_type": ident.type,
                    "identifier_value": ident.value,
                    "reason": "shared_device",
                    "created_at": at,
                }
            )
        return target

    def refuse(self, event_id: int, profile_id: int, type_: str, raw: str, reason: str, at: datetime) -> None:
        """Record a value that was not used as an identifier (a placeholder, an invalid email…)."""
        self.conflicts.append(
            {
                "event_id": event_id,
                "profile_id": profile_id,
                "other_profile_id": None,
                "identifier_type": type_,
                "identifier_value": raw,
                "reason": reason,
                "created_at": at,
            }
        )

    def _merge(
        self, survivor: int, absorbed: int, event_id: int, ident: Identifier | None, rule: str, at: datetime
    ) -> None:
        gone = self._shapes.pop(absorbed)
        kept = self._shapes[survivor]
        for type_, values in gone.identifiers.items():
            kept.identifiers.setdefault(type_, set()).update(values)
            for value in values:
                ident = Identifier(type_, value)
                known = self._holders.get(ident)
                if known is not None:
                    self.changed.add(ident)
                    position = known.index(absorbed)
                    if survivor in known:
                        known.pop(position)
                    else:
                        known[position] = survivor
        kept.merges += gone.merges + 1
        # Whatever the absorbed profile must not merge with, the survivor must not either.
        relabel = {absorbed: survivor}
        self.blocks = {
            (min(relabel.get(a, a), relabel.get(b, b)), max(relabel.get(a, a), relabel.get(b, b)))
            for a, b in self.blocks
        }
        self.merges.append(_PendingMerge(survivor, absorbed, event_id, ident, rule, at))
