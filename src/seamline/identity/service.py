"""Identity service: resolve a batch of events into the graph, look people up, unmerge, rebuild."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.cases.service import move_cases
from seamline.consent.config import ConsentConfig
from seamline.consent.service import move_choices, record_from_message
from seamline.consent.tracking import states_consent
from seamline.core.clock import utcnow
from seamline.core.errors import Conflict, NotFound
from seamline.core.prepared import Reads
from seamline.identity import card_reads, repository
from seamline.identity.graph import WorkingGraph
from seamline.identity.identifiers import Identifier, IdentifierExtractor, Refusal
from seamline.identity.models import IdentityConflict, Merge
from seamline.identity.resolution import Limits, resolve
from seamline.identity.rules import IdentityConfig
from seamline.profiles import facts as event_facts
from seamline.profiles.service import EventFacts, move_facts, record_facts
from seamline.profiles.vocabulary import Vocabulary, VocabularyConfig


@dataclass(frozen=True, slots=True)
class EventInput:
    """An inbox event as resolution needs it."""

    id: int
    source_id: int
    payload: Mapping[str, Any]
    received_at: datetime


class IdentityContext:
    """Built once per process from the configuration."""

    def __init__(
        self, config: IdentityConfig, consent: ConsentConfig | None = None, traits: VocabularyConfig | None = None
    ) -> None:
        self.vocabulary = Vocabulary(traits)  # the canonical customer model facts are recorded in
        phone_aliases = [alias for alias, target in (traits.aliases if traits else {}).items() if target == "phone"]
        self.config = config.with_phone_traits(phone_aliases) if phone_aliases else config
        self.consent = consent or ConsentConfig()
        self.extractor = IdentifierExtractor(self.config)
        self.limits = Limits(self.config.max_identifiers_per_profile, self.config.max_merges_per_profile)

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


MATCH_RULE = "match"
ErasedCheck = Callable[[Session, Sequence[Identifier]], set[Identifier]]
# What an event naming an erased person keeps while it is resolved (privacy's scrub keeps the same in the inbox).
_ERASED_EVENT_KEYS = ("type", "messageId", "timestamp", "receivedAt")


def resolve_events(
    session: Session,
    events: Sequence[EventInput],
    context: IdentityContext,
    *,
    reuse_profiles: Mapping[int, int] | None = None,
    is_erased: ErasedCheck | None = None,
) -> BatchOutcome:
    """Resolve events (in the order given) into the identity graph and record their facts on their profiles.

    `reuse_profiles` maps an event id to the profile id it created before; a replay passes it so that
    re-derived profiles keep their ids. `is_erased` names the identifiers of erased people: an event carrying
    any of them is resolved as an anonymous event with no facts, and its id is listed in `erased_events` for
    the caller to scrub from the inbox, so a late or replayed event cannot bring the person back.
    """
    outcome = BatchOutcome(events=len(events))
    if not events:
        return outcome
    extracted: list[tuple[list[Identifier], list[Refusal]]] = [context.extractor.extract(e.payload) for e in events]
    all_identifiers = list({i for idents, _ in extracted for i in idents})
    if is_erased is not None and (erased := is_erased(session, all_identifiers)):
        hit = [any(i in erased for i in idents) for idents, _ in extracted]
        if any(hit):
            outcome.erased_events = [e.id for e, h in zip(events, hit, strict=True) if h]
            events = [
                EventInput(
                    e.id, e.source_id, {k: e.payload[k] for k in _ERASED_EVENT_KEYS if k in e.payload}, e.received_at
                )
                if h
                else e
                for e, h in zip(events, hit, strict=True)
            ]
            extracted = [([], []) if h else x for x, h in zip(extracted, hit, strict=True)]
            all_identifiers = list({i for idents, _ in extracted for i in idents})
    # The batch reads and writes through the session's connection, past the ORM: whatever the caller changed
    # through the ORM must be in the database first.
    session.flush()
    graph = WorkingGraph.load(session, all_identifiers, context.rules, reuse_profiles)

    pending_facts: list[EventFacts] = []
    for event, (idents, refused) in zip(events, extracted, strict=True):
        at = event_facts.occurred_at(event.payload, event.received_at)
        resolution = resolve(idents, graph, context.rules, context.limits)
        profile_id = graph.apply(resolution, event.id, event.source_id, at)
        for refusal in refused:
            graph.refuse(event.id, profile_id, refusal.type, refusal.raw, refusal.reason, at)
        pending_facts.append(
            EventFacts(
                event_id=event.id,
                profile_id=profile_id,
                source_id=event.source_id,
                type=str(event.payload.get("type")),
                name=event_facts.event_name(event.payload),
                channel=event_facts.channel_of(event.payload),
                occurred_at=at,
                traits=event_facts.trait_values(event.payload),
                holdings=event_facts.holding_facts(event.payload),
            )
        )

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
    # Consent is recorded on the profile the event was made on (its origin), before the merges move it, so a
    # merged profile's choices always name where they were made.
    for event, f in zip(events, pending_facts, strict=True):
        if states_consent(event.payload):
            record_from_message(
                session,
                real_ids.get(f.profile_id, f.profile_id),
                event.payload,
                source_id=event.source_id,
                event_id=event.id,
                config=context.consent,
            )
    for f in pending_facts:
        f.profile_id = real(f.profile_id)
    record_facts(session, pending_facts, context.vocabulary)
    # An accepted match (record matching) travels as an event with context.match: its merges say so.
    matches = {e.id for e in events if _is_match(e.payload)}
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
        if not is_new:
            move_facts(session, absorbed, survivor)
        move_choices(session, absorbed, survivor)
        move_cases(session, absorbed, survivor)
    final = _final_profiles(graph, lambda pid: real_ids.get(pid, pid))
    outcome.assignments = {f.event_id: final.get(f.profile_id, f.profile_id) for f in pending_facts}
    outcome.profiles_created = len(graph.new_profiles)
    outcome.merges = len(graph.merges)
    outcome.conflicts = len(graph.conflicts)
    return outcome


def _is_match(payload: Mapping[str, Any]) -> bool:
    context = payload.get("context")
    if type(context) is not dict and not isinstance(context, Mapping):
        return False
    match = context.get("match")
    return match is not None and isinstance(match, Mapping)


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


def active_header(reads: Reads, profile_id: int) -> Any:
    """id, merged_into_id, created_at, updated_at of the active profile a profile id now lives in."""
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
    return header


def identifier_links(reads: Reads, profile_id: int) -> Sequence[Any]:
    """type, value, source_id, first_seen_at, last_seen_at of each identifier a profile holds."""
    return card_reads.link_rows(reads, profile_id)


def conflicts_for(session: Session, profile_id: int, limit: int = 100) -> Sequence[IdentityConflict]:
    """Evidence resolution refused for or against this profile, newest first."""
    return repository.conflicts_of(session, profile_id, limit)


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


def person_identity(session: Session, profile_id: int) -> PersonIdentity:
    """The person a profile id leads to, as erasure sees them."""
    members = profile_members(session, root_of(session, profile_id))
    pairs = repository.link_pairs(session, members)
    shared = repository.held_elsewhere(session, sorted({v for _t, v in pairs}), members)
    return PersonIdentity(members, pairs, shared, repository.conflict_event_ids(session, members))


def erase_identity(
    session: Session, profile_ids: Sequence[int], *, event_ids: Sequence[int], values: Sequence[str]
) -> dict[str, int]:
    """Erasure: delete the profiles' identifier links and refused evidence (about them, from their events or
    naming their values), and blank the values merges were made on (the merges stay, still undoable)."""
    return {
        "identifiers": repository.delete_links(session, profile_ids),
        "conflicts": repository.delete_conflicts(session, profile_ids, event_ids, values),
        "merge_evidence": repository.blank_merge_values(session, profile_ids),
    }


def identifier_values(
    session: Session, types: Sequence[str], profile_ids: Sequence[int] | None = None
) -> dict[int, dict[str, str]]:
    """Per profile, the most recently seen value of each of these identifier types (all profiles when None)."""
    out: dict[int, dict[str, str]] = {}
    for profile_id, type_, value in repository.latest_values(session, types, profile_ids):
        out.setdefault(profile_id, {})[type_] = value
    return out


def active_profiles(session: Session, profile_ids: Sequence[int] | None = None) -> list[int]:
    """Ids of profiles that are not merged into another (of these, or all)."""
    return repository.active_ids(session, profile_ids)


def graph_changes(session: Session, after_link: int, after_merge: int) -> tuple[int, int, set[int]]:
    """(link mark, merge mark, profiles touched): what changed in the graph since the given marks."""
    return repository.graph_changes(session, after_link, after_merge)


def identifiers_by_profile(session: Session, profile_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """(type, value) of every identifier each of these profiles holds."""
    return repository.identifiers_of(session, profile_ids)


def roots_of(session: Session, profile_ids: Sequence[int]) -> dict[int, int]:
    """The active profile each of these (possibly merged) profiles now lives in, in bulk."""
    out: dict[int, int] = {}
    pending = {pid: pid for pid in set(profile_ids)}
    for _ in range(64):  # merge pointers are kept flat; a few hops at most after replays
        if not pending:
            break
        rows = {row.id: row.merged_into_id for row in repository.profile_rows(session, sorted(set(pending.values())))}
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
