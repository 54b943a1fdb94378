"""Identity service: resolve a batch of events into the graph, look people up, answer erasure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.core.clock import isoformat_z, utcnow
from seamline.core.db import is_postgres
from seamline.core.errors import Conflict, Gone, NotFound
from seamline.core.pipeline import IdentifierAdded, MergeNotice, ResolvedBatch, ResolvedEvent, occurred_at
from seamline.core.prepared import Reads
from seamline.identity import card_reads, feed, repository
from seamline.identity.graph import WorkingGraph
from seamline.identity.graphcache import GraphCache
from seamline.identity.identifiers import Identifier, IdentifierExtractor, Refusal
from seamline.identity.matchevent import is_match, tolerated_values
from seamline.identity.models import Merge
from seamline.identity.resolution import Limits, resolve
from seamline.identity.rules import IdentityConfig


@dataclass(frozen=True, slots=True)
class EventInput:
    """An inbox event as resolution needs it."""

    id: int
    source_id: int
    payload: Mapping[str, Any]
    received_at: datetime


class IdentityContext:
    """Built once per process from the configuration."""

    def __init__(self, config: IdentityConfig, *, phone_traits: Sequence[str] = ()) -> None:
        # Traits a configuration names as phones (`handy`, `portable`) are read as phone identifiers too.
        self.config = config.with_phone_traits(list(phone_traits)) if phone_traits else config
        self.extractor = IdentifierExtractor(self.config)
        self.limits = Limits(self.config.max_identifiers_per_profile, self.config.max_merges_per_profile)
        # What this process's worker batches learnt of the graph (identity.graphcache): the worker confirms it.
        self.graph_cache = GraphCache()

    @property
    def rules(self) -> Mapping[str, Any]:
        return self.extractor.rules


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
Extracted = tuple[list[Identifier], list[Refusal]]


def read_identifiers(events: Sequence[EventInput], context: IdentityContext) -> list[Extracted]:
    """Each event's identifiers and refused values, in the order given."""
    return [context.extractor.extract(e.payload) for e in events]


def resolve_batch(
    session: Session,
    events: Sequence[EventInput],
    context: IdentityContext,
    *,
    extracted: Sequence[Extracted] | None = None,
    reuse_profiles: Mapping[int, int] | None = None,
) -> Resolved:
    """Resolve events (in the order given) into the identity graph: profiles, identifier links, conflicts, merges.

    Identity writes only its own tables; the resolved batch it returns is what the pipeline hands its consumers.
    `extracted` is `read_identifiers(events)` when the caller has it already. `reuse_profiles` maps an event id
    to the profile id it created before; a replay passes it so that re-derived profiles keep their ids.
    """
    outcome = BatchOutcome(events=len(events))
    if not events:
        return Resolved(ResolvedBatch((), ()), outcome)
    if extracted is None:
        extracted = read_identifiers(events, context)
    all_identifiers = list({i for idents, _ in extracted for i in idents})
    # The batch reads and writes through the session's connection, past the ORM: whatever the caller changed
    # through the ORM must be in the database first.
    session.flush()
    # On SQLite the worker's batches keep what they learnt of the graph (identity.graphcache); a replay does not.
    cache = context.graph_cache if reuse_profiles is None and not is_postgres(session) else None
    generation = cache.begin(feed.last_seq(session)) if cache is not None else 0
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
    if cache is not None:
        cache.stage(
            generation, feed.last_seq(session), *graph.final_state(all_identifiers, real_ids), graph.loaded_blocks
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


@dataclass(frozen=True, slots=True)
class FoundProfile:
    profile_id: int
    identifiers: tuple[str, ...]


def parse_identifier(text: str, context: IdentityContext) -> Identifier:
    """'type:value' normalized by its type's rule (ValueError when malformed, unknown or invalid)."""
    ident = Identifier.parse(text)
    if ident.type not in context.rules and not ident.type.startswith("ext:"):
        raise ValueError(f"unknown identifier type {ident.type!r}; known: {', '.join(sorted(context.rules))}")
    value = context.extractor.normalize(context.extractor.rule(ident.type), ident.value)
    if value is None:
        raise ValueError(f"{ident.value!r} is not a valid {ident.type}")
    return Identifier(ident.type, value)


def profile_holding(reads: Reads, ident: Identifier) -> int:
    """The active profile holding a normalized identifier; NotFound when nobody does."""
    profile_id = card_reads.find_profile(reads, ident)
    if profile_id is None:
        raise NotFound(f"no profile holds {ident}")
    return profile_id


def profiles_holding(reads: Reads, ident: Identifier, *, limit: int = 20) -> list[int]:
    """Every active profile holding a normalized identifier, most recent user first: one for a login, several
    for a household's shared phone."""
    return card_reads.holder_ids(reads, ident, limit)


def external_id_holders(reads: Reads, value: str, *, limit: int = 20) -> list[tuple[Identifier, int]]:
    """The profiles any product system knows by this customer number (an `ext:<system>` identifier), with the
    identifier that matched."""
    return [(Identifier(t, value), pid) for t, pid in card_reads.external_holders(reads, value.strip(), limit)]


def find_profile(session: Session, text: str, context: IdentityContext) -> FoundProfile:
    """The active profile holding an identifier given as text, with all its identifiers."""
    profile_id = profile_holding(session, parse_identifier(text, context))
    links = card_reads.link_rows(session, profile_id)
    return FoundProfile(profile_id, tuple(f"{link.type}:{link.value}" for link in links))


def merge_history(session: Session, profile_id: int) -> list[Merge]:
    """Every merge into or out of a profile and the profiles it absorbed, oldest first."""
    if repository.get_profile(session, profile_id) is None:
        raise NotFound(f"no profile {profile_id}")
    members = [profile_id, *repository.absorbed_into(session, profile_id)]
    return list(repository.merges_of(session, members))


def root_of(session: Session, profile_id: int) -> int:
    """The active profile a (possibly merged) profile now lives in."""
    return int(active_header(session, profile_id).id)


def active_header(reads: Reads, profile_id: int) -> card_reads.ProfileHeader:
    """id, merged_into_id, created_at, updated_at, erased_at, erasure_request_id of the active profile a profile id
    now lives in; Gone when that profile was erased (every reader of a profile comes through here)."""
    header = card_reads.profile_header(reads, profile_id)
    if header is None:
        raise NotFound(f"no profile {profile_id}")
    seen = {profile_id}
    while header.merged_into_id is not None:
        next_id = int(header.merged_into_id)
        if next_id in seen:
            raise Conflict(f"merge pointers loop at profile {next_id}")
        seen.add(next_id)
        header = card_reads.profile_header(reads, next_id)
        if header is None:
            raise NotFound(f"no profile {next_id}")
    if header.erased_at is not None:
        raise Gone(
            f"profile {profile_id} was erased on {isoformat_z(header.erased_at)} "
            f"by privacy request {header.erasure_request_id}"
        )
    return header


def identifier_links(reads: Reads, profile_id: int) -> list[card_reads.IdentifierRow]:
    """type, value, source_id, first_seen_at, last_seen_at of each identifier a profile holds."""
    return card_reads.link_rows(reads, profile_id)


# Evidence resolution refused for or against this profile, newest first.
conflicts_for = repository.conflicts_of


@dataclass(frozen=True, slots=True)
class PersonIdentity:
    """What erasure needs to know of a person's identity: their profiles and identifiers, and which are shared."""

    members: list[int]  # the active profile and every profile merged into it
    identifiers: list[tuple[str, str]]  # (type, value) the members hold
    shared: set[tuple[str, str]]  # of those, the ones a profile outside the person also holds (a household phone)
    refused_event_ids: list[int]  # events whose refused evidence names the members


def profile_members(session: Session, root: int) -> list[int]:
    """An active profile and every profile merged into it (merge pointers are kept flat)."""
    return [root, *repository.absorbed_into(session, root)]


def members_of(reads: Reads, root: int) -> list[int]:
    """profile_members as a hot read (a prepared statement, in a read snapshot or a session): the decision point
    reads it for every decision."""
    return [root, *card_reads.absorbed_ids(reads, root)]


def members_by_root(session: Session, roots: Sequence[int]) -> dict[int, list[int]]:
    """`profile_members` of many active profiles in one query: each root first, then what it absorbed by id."""
    out: dict[int, list[int]] = {root: [root] for root in roots}
    for profile_id, root, _event in sorted(repository.members_of(session, roots)):
        if profile_id != root and root in out:
            out[root].append(profile_id)
    return out


def person_identity(session: Session, profile_id: int) -> PersonIdentity:
    """The person a profile id leads to, as erasure sees them."""
    members = profile_members(session, root_of(session, profile_id))
    pairs = repository.link_pairs(session, members)
    shared = repository.held_elsewhere(session, sorted({v for _t, v in pairs}), members)
    return PersonIdentity(members, pairs, shared, repository.conflict_event_ids(session, members))


def erase_identity(
    session: Session, profile_ids: Sequence[int], *, event_ids: Sequence[int], values: Sequence[str], request_id: int
) -> dict[str, int]:
    """Erasure: delete the profiles' identifier links and refused evidence (about them, from their events or
    naming their values), blank the values merges were made on (the merges stay), mark the profiles erased by the
    request, and tell every process's in-memory views to drop them (the change feed)."""
    counts = {
        "identifiers": repository.delete_links(session, profile_ids),
        "conflicts": repository.delete_conflicts(session, profile_ids, event_ids, values),
        "merge_evidence": repository.blank_merge_values(session, profile_ids),
    }
    now = utcnow()
    feed.mark_erased(session, profile_ids, request_id, now)
    note_changes(session, "erasure", profile_ids)
    return counts


def identifier_values(
    session: Session, types: Sequence[str], profile_ids: Sequence[int] | None = None
) -> dict[int, dict[str, str]]:
    """Per profile, the most recently seen value of each of these identifier types (all profiles when None)."""
    out: dict[int, dict[str, str]] = {}
    for profile_id, type_, value in repository.latest_values(session, types, profile_ids):
        out.setdefault(profile_id, {})[type_] = value
    return out


# Ids of profiles that are not merged into another (of these, or all).
active_profiles = repository.active_ids


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """What the change feed says happened after a mark: profiles erased, profiles whose data changed otherwise,
    and whether a rebuild re-derived every profile."""

    mark: int
    erased: frozenset[int]
    changed: frozenset[int]
    is_rebuilt: bool


def note_changes(session: Session, kind: str, profile_ids: Sequence[int]) -> None:
    """Tell every process's in-memory views (the real-time match index) that these profiles changed: one row of the
    change feed, in the caller's transaction. `kind` says why (events, unmerge, rebuild, erasure)."""
    ids = sorted(set(profile_ids))
    if ids or kind == "rebuild":
        feed.add_change(session, kind, ids, utcnow())


def changes_mark(session: Session) -> int:
    """The change feed's mark now: read it before loading a full view, then follow `profile_changes` from it."""
    return feed.current_mark(session)


def profile_changes(session: Session, mark: int) -> ProfileChanges:
    """The changes after a mark, summed up, and the mark to ask from next time."""
    new_mark, rows = feed.changes_since(session, mark)
    erased = {pid for kind, ids in rows if kind == "erasure" for pid in ids}
    changed = {pid for kind, ids in rows if kind != "erasure" for pid in ids} - erased
    return ProfileChanges(new_mark, frozenset(erased), frozenset(changed), any(k == "rebuild" for k, _ in rows))


def erasures_since(session: Session, mark: int) -> tuple[int, set[int]]:
    """(new mark, profiles erased after a mark): the change feed read by a process that only forgets."""
    new_mark, rows = feed.changes_since(session, mark, "erasure")
    return new_mark, {pid for _kind, ids in rows for pid in ids}


def erased_profiles(session: Session, profile_ids: Sequence[int]) -> set[int]:
    """Which of these profiles were erased (a guard for views that may lag the change feed)."""
    return feed.erased_among(session, profile_ids)


# (type, value) of every identifier (or every one of these types) each of these profiles holds.
identifiers_by_profile = repository.identifiers_of


def person_keys(session: Session, profile_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """How an event names each of these profiles: ("user_id", its user id), else ("anonymous_id", an anonymous
    id); profiles holding neither are left out. The smallest value of a kind is taken, so the choice is stable."""
    held: dict[int, dict[str, str]] = {}
    for profile_id, kind, value in repository.links_of_types(session, profile_ids, ("user_id", "anonymous_id")):
        kinds = held.setdefault(profile_id, {})
        if kind not in kinds or value < kinds[kind]:
            kinds[kind] = value
    return {
        profile_id: ("user_id", kinds["user_id"]) if "user_id" in kinds else ("anonymous_id", kinds["anonymous_id"])
        for profile_id, kinds in held.items()
    }


def roots_of(session: Session, profile_ids: Sequence[int]) -> dict[int, int]:
    """The active profile each of these (possibly merged) profiles now lives in, in bulk."""
    out: dict[int, int] = {}
    pending = {pid: pid for pid in set(profile_ids)}
    for _ in range(64):  # merge pointers are kept flat; a few hops at most after replays
        if not pending:
            break
        # Plain (id, merged_into_id) rows, not ORM objects: a dispatcher asks for a batch at a time.
        rows = dict(repository.merge_pointers(session, sorted(set(pending.values()))))
        following: dict[int, int] = {}
        for pid, current in pending.items():
            parent = rows.get(current)
            if parent is None:
                out[pid] = current
            else:
                following[pid] = int(parent)
        pending = following
    out.update(pending)
    return out


@dataclass(frozen=True, slots=True)
class RecordHomes:
    """A page of active profiles that hold source records, with what tells how each record got there: every
    identifier they hold (with its source and the event that first brought it), their members (the profiles merged
    into them, with the event that created each) and the merges among those members that are not undone."""

    roots: list[int]
    links: list[tuple[int, str, str, int | None, int | None]]  # (root, type, value, source, first event)
    members: list[tuple[int, int, int | None]]  # (profile, root, creating event)
    merges: list[Merge]  # the live merges that absorbed a member, oldest first


def record_homes(session: Session, link_type: str, source_ids: Sequence[int], *, after: int, limit: int) -> RecordHomes:
    """The next page (profile ids above `after`) of active, unerased profiles holding a `link_type` identifier from
    these sources: a bulk read-back of where source records ended, one query per table."""
    roots = repository.roots_holding(session, link_type, source_ids, after, limit)
    if not roots:
        return RecordHomes([], [], [], [])
    members = repository.members_of(session, roots)
    merges = repository.live_merges_absorbing(session, [m[0] for m in members])
    return RecordHomes(roots, repository.links_with_origin(session, roots), members, merges)


# How many customers there are: profiles neither merged into another nor erased (coverage's denominator).
customer_count = repository.live_profiles
