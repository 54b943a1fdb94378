"""Identity service: read identifiers, look people up, answer erasure (a batch's resolution: identity.batch)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.core.clock import isoformat_z, utcnow
from seamline.core.errors import Conflict, Gone, NotFound
from seamline.core.prepared import Reads
from seamline.identity import card_reads, feed, people, repository
from seamline.identity.graphcache import GraphCache
from seamline.identity.identifiers import Identifier, IdentifierExtractor, Refusal
from seamline.identity.models import Merge
from seamline.identity.resolution import Limits
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


Extracted = tuple[list[Identifier], list[Refusal]]


def read_identifiers(events: Sequence[EventInput], context: IdentityContext) -> list[Extracted]:
    """Each event's identifiers and refused values, in the order given."""
    return [context.extractor.extract(e.payload) for e in events]


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


# (the live person each asked profile belongs to, each live person's profiles) of a batch (identity/people.py).
people_of = people.people_of


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
# (profile, type, value, source, first event) of every identifier these profiles hold.
links_with_origin = repository.links_with_origin


def person_keys(session: Session, profile_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """How an event names each of these profiles: ("user_id", its user id), else ("anonymous_id", an anonymous
    id); profiles holding neither are left out. The smallest value of a kind is taken, so the choice is stable."""
    best: dict[int, tuple[str, str]] = {}
    for profile_id, kind, value in repository.links_of_types(session, profile_ids, ("user_id", "anonymous_id")):
        found = best.get(profile_id)
        if found is None or (kind == found[0] and value < found[1]) or (kind == "user_id" and found[0] != kind):
            best[profile_id] = (kind, value)
    return best


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
